#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ops/op.h"
#include "tests/testdata.h"

namespace vitrine::ops {
namespace {

namespace fs = std::filesystem;

// A cutout: a product of `size` (solid `colour` with an anti-aliased, slightly soft edge) in the
// middle of a larger transparent image whose hidden pixels hold `hidden` (what a careless cutout
// leaves under alpha 0).
Image MakeCutout(cv::Size size, cv::Scalar colour, cv::Scalar hidden = cv::Scalar(0, 255, 0)) {
  Image image;
  image.name = "product";
  const cv::Size canvas(size.width + 40, size.height + 60);
  image.bgr = cv::Mat(canvas, CV_8UC3, hidden);
  image.alpha = cv::Mat::zeros(canvas, CV_8UC1);
  const cv::Rect body(20, 30, size.width, size.height);
  cv::rectangle(image.alpha, body, cv::Scalar(255), cv::FILLED, cv::LINE_AA);
  cv::GaussianBlur(image.alpha, image.alpha, cv::Size(), 0.8);
  image.bgr.setTo(colour, image.alpha > 0);
  return image;
}

// Bounding box of the pixels whose summed channel difference from `background` (a colour or an
// image) exceeds `tolerance`.
cv::Rect Changed(const cv::Mat& bgr, cv::InputArray background, int tolerance) {
  cv::Mat diff;
  cv::absdiff(bgr, background, diff);
  cv::Mat grey;
  diff.convertTo(diff, CV_32FC3);
  cv::transform(diff, grey, cv::Matx13f(1, 1, 1));
  return cv::boundingRect(grey > tolerance);
}

class StageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vitrine_stage_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result<Image> Stage(const Image& input, const nlohmann::json& params) {
    warnings_.clear();
    OpContext context;
    context.warnings = &warnings_;
    return Registry::Global().Run("stage", input, params, context);
  }

  bool Warned(const std::string& word) const {
    for (const std::string& w : warnings_) {
      if (w.find(word) != std::string::npos) return true;
    }
    return false;
  }

  // A scene: a grey wall over a brown floor meeting at row 300, with a sidecar when given.
  std::string WriteScene(const nlohmann::json& sidecar) {
    cv::Mat scene(400, 600, CV_8UC3, cv::Scalar(200, 205, 210));
    scene.rowRange(300, 400).setTo(cv::Scalar(60, 90, 120));
    const std::string path = (dir_ / "room.png").string();
    cv::imwrite(path, scene);
    if (!sidecar.is_null()) std::ofstream((dir_ / "room.json").string()) << sidecar.dump();
    return path;
  }

  fs::path dir_;
  std::vector<std::string> warnings_;
};

TEST_F(StageTest, AProductItsPhotoCutsBleedsOffTheCanvasWhereItWasCut) {
  const Image whole = MakeCutout({120, 200}, cv::Scalar(40, 40, 200));
  const cv::Scalar white(255, 255, 255);
  const nlohmann::json params = {
      {"width", 300}, {"height", 300}, {"background", "white"}, {"shadow", "none"}};
  // The photo ends 100 px into the product: it is cut at the bottom.
  Image bottom = whole;
  bottom.bgr = whole.bgr.rowRange(0, 130).clone();
  bottom.alpha = whole.alpha.rowRange(0, 130).clone();
  Result<Image> out = Stage(bottom, params);
  ASSERT_TRUE(out.ok()) << out.status().message();
  cv::Rect product = Changed(out->bgr, white, 60);
  EXPECT_EQ(product.br().y, 300) << "the cut edge must lie on the canvas's bottom edge";
  EXPECT_GE(product.y, 9) << "the top keeps its margin";
  EXPECT_NEAR(product.x + product.width / 2.0, 150, 2);
  EXPECT_TRUE(
      Warned("source photo cuts the product at the bottom: supply an uncut photo for a main "
             "image"));

  // Cut on the left and the right: it spans the canvas's width, centred up and down.
  Image sides = whole;
  sides.bgr = whole.bgr.colRange(50, 110).clone();
  sides.alpha = whole.alpha.colRange(50, 110).clone();
  out = Stage(sides, params);
  ASSERT_TRUE(out.ok()) << out.status().message();
  product = Changed(out->bgr, white, 60);
  EXPECT_EQ(product.x, 0);
  EXPECT_EQ(product.br().x, 300);
  EXPECT_TRUE(Warned("cuts the product at the left and right"));

  // The whole product keeps its margins, without a warning.
  out = Stage(whole, params);
  ASSERT_TRUE(out.ok());
  product = Changed(out->bgr, white, 60);
  EXPECT_GE(product.y, 9);
  EXPECT_LE(product.br().y, 291);
  EXPECT_FALSE(Warned("cuts the product"));
}

TEST_F(StageTest, WhiteCanvasProductCentredAtTheFillRatioBorderPureWhite) {
  const Image cutout = MakeCutout({300, 150}, cv::Scalar(30, 40, 160));
  const cv::Mat before = cutout.bgr.clone();
  Result<Image> out = Stage(cutout, {{"width", 400}, {"height", 400}, {"shadow", "none"}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->bgr.size(), cv::Size(400, 400));
  EXPECT_FALSE(out->has_alpha());
  // The product's box as its opaque part (alpha > 10%) shows it.
  const cv::Rect product = Changed(out->bgr, cv::Scalar::all(255), 50);
  EXPECT_NEAR(product.width, 0.85 * 400, 3);
  EXPECT_NEAR(product.height, 0.85 * 400 / 2, 3);
  EXPECT_NEAR(product.x + product.width / 2.0, 200, 1.5);
  EXPECT_NEAR(product.y + product.height / 2.0, 200, 1.5);
  // Everything outside the product's box (and its 1-2 px soft edge) is exactly 255.
  cv::Mat outside = cv::Mat::ones(400, 400, CV_8UC1);
  outside(cv::Rect(product.x - 3, product.y - 3, product.width + 6, product.height + 6)).setTo(0);
  cv::Mat not_white;
  cv::inRange(out->bgr, cv::Scalar::all(255), cv::Scalar::all(255), not_white);
  EXPECT_EQ(cv::countNonZero(outside & (not_white == 0)), 0);
  EXPECT_EQ(cv::norm(cutout.bgr, before, cv::NORM_INF), 0) << "the op modified its input";
}

TEST_F(StageTest, MarginsWinOverFillAndAlignmentIsHonoured) {
  const Image cutout = MakeCutout({100, 200}, cv::Scalar(200, 60, 20));
  Result<Image> out = Stage(cutout, {{"width", 300},
                                     {"height", 400},
                                     {"fill", 1.0},
                                     {"margin_y", 0.1},
                                     {"align", "bottom"},
                                     {"shadow", "none"}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const cv::Rect product = Changed(out->bgr, cv::Scalar::all(255), 50);
  EXPECT_NEAR(product.height, 0.8 * 400, 3);
  EXPECT_NEAR(400 - product.br().y, 0.1 * 400, 2);
}

TEST_F(StageTest, EdgesShowNoFringeOfHiddenColoursWhenShrunkOrEnlarged) {
  // Green hides under alpha 0: premultiplied resampling must not let it bleed into the edge.
  const Image cutout = MakeCutout({120, 80}, cv::Scalar(20, 20, 200));
  for (int side : {100, 260}) {
    Result<Image> out = Stage(cutout, {{"width", side}, {"height", side}, {"shadow", "none"}});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    // Over white, every pixel is a mix of the red product and white: blue equals green.
    double worst = 0;
    for (int y = 0; y < side; ++y) {
      for (int x = 0; x < side; ++x) {
        const cv::Vec3b p = out->bgr.at<cv::Vec3b>(y, x);
        worst = std::max(worst, std::abs(static_cast<double>(p[1]) - p[0]));
      }
    }
    EXPECT_LE(worst, 3) << "green fringe at canvas side " << side;
  }
}

TEST_F(StageTest, ContactShadowSitsUnderTheProductAndNoneKeepsWhite) {
  const Image cutout = MakeCutout({160, 200}, cv::Scalar(120, 120, 120));
  Result<Image> with = Stage(cutout, {{"width", 400}, {"height", 400}, {"shadow_opacity", 0.5}});
  Result<Image> without = Stage(cutout, {{"width", 400}, {"height", 400}, {"shadow", "none"}});
  ASSERT_TRUE(with.ok() && without.ok());
  const cv::Rect product = Changed(without->bgr, cv::Scalar::all(255), 50);
  // The shadow: where the two differ.
  const cv::Rect shaded = Changed(with->bgr, without->bgr, 0);
  ASSERT_GT(shaded.area(), 0) << "no shadow drawn";
  EXPECT_GE(shaded.y, product.br().y - 0.25 * product.height - 1) << "shadow climbs the product";
  EXPECT_LE(shaded.br().y, product.br().y + 0.2 * product.height) << "shadow runs far below";
  // Just under the product's foot the floor is visibly darker.
  const cv::Vec3b foot = with->bgr.at<cv::Vec3b>(product.br().y + 1, product.x + product.width / 2);
  EXPECT_LT(foot[0], 235);
  // Corners stay pure white in both.
  EXPECT_EQ(with->bgr.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(with->bgr.at<cv::Vec3b>(399, 399), cv::Vec3b(255, 255, 255));
}

TEST_F(StageTest, GradientsRunBetweenTheTwoColours) {
  const Image cutout = MakeCutout({60, 60}, cv::Scalar(0, 0, 0));
  Result<Image> v = Stage(cutout, {{"width", 200},
                                   {"height", 300},
                                   {"fill", 0.2},
                                   {"gradient", "vertical"},
                                   {"background", "#ffffff"},
                                   {"background2", "#404040"},
                                   {"shadow", "none"}});
  ASSERT_TRUE(v.ok());
  EXPECT_NEAR(cv::mean(v->bgr.row(0))[0], 255, 1.5);
  EXPECT_NEAR(cv::mean(v->bgr.row(299))[0], 64, 1.5);
  EXPECT_NEAR(cv::mean(v->bgr.row(150).colRange(0, 20))[0], (255 + 64) / 2.0, 2);
  Result<Image> r = Stage(cutout, {{"width", 200},
                                   {"height", 200},
                                   {"fill", 0.2},
                                   {"gradient", "radial"},
                                   {"background2", "#404040"},
                                   {"shadow", "none"}});
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->bgr.at<cv::Vec3b>(90, 60)[0], r->bgr.at<cv::Vec3b>(5, 5)[0] + 60);
}

TEST_F(StageTest, TransparentBackgroundKeepsAlphaAndTheShadow) {
  const Image cutout = MakeCutout({100, 100}, cv::Scalar(10, 200, 10));
  Result<Image> out =
      Stage(cutout, {{"width", 200}, {"height", 200}, {"background", "transparent"}});
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(out->has_alpha());
  EXPECT_EQ(out->alpha.at<uchar>(100, 100), 255);
  EXPECT_EQ(out->alpha.at<uchar>(2, 2), 0);
  const int below = static_cast<int>(100 + 0.85 * 200 / 2 + 2);
  EXPECT_GT(out->alpha.at<uchar>(below, 100), 20) << "the contact shadow is kept as alpha";
  EXPECT_EQ(out->bgr.at<cv::Vec3b>(100, 100), cv::Vec3b(10, 200, 10));
}

TEST_F(StageTest, SceneAnchorAndScaleGiveTheRealSize) {
  // 4 px per cm where the floor meets the wall; a 50 x 25 cm product must be 200 x 100 px.
  const std::string scene =
      WriteScene({{"floor_y", 300}, {"anchor", {300, 300}}, {"px_per_cm", 4.0}, {"light", 150}});
  const Image cutout = MakeCutout({100, 50}, cv::Scalar(20, 20, 220));
  Result<Image> out = Stage(
      cutout, {{"scene", scene}, {"size_cm", "50,25"}, {"shadow", "none"}, {"harmonize", 0.0}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->bgr.size(), cv::Size(600, 400));
  cv::Mat red;
  cv::inRange(out->bgr, cv::Scalar(0, 0, 150), cv::Scalar(180, 180, 255), red);
  const cv::Rect product = cv::boundingRect(red);
  EXPECT_NEAR(product.width, 200, 3);
  EXPECT_NEAR(product.height, 100, 3);
  EXPECT_NEAR(product.br().y, 300, 2) << "stands on the floor line";
  EXPECT_NEAR(product.x + product.width / 2.0, 300, 2);
  EXPECT_TRUE(warnings_.empty()) << ::testing::PrintToString(warnings_);
}

TEST_F(StageTest, PerspectiveScalesWithTheFloorRowAndTheCanvasScalesTheScene) {
  // Measured 4 px/cm at row 250; 0.01 px/cm more per row down; the polygon's centre is row 350.
  const std::string scene =
      WriteScene({{"anchor", {300, 250}},
                  {"px_per_cm", 4.0},
                  {"perspective", 0.01},
                  {"polygon", {{100, 320}, {500, 320}, {500, 380}, {100, 380}}}});
  const Image cutout = MakeCutout({100, 50}, cv::Scalar(20, 20, 220));
  Result<Image> out = Stage(cutout, {{"scene", scene},
                                     {"size_cm", "40,20"},
                                     {"shadow", "none"},
                                     {"harmonize", 0.0},
                                     {"width", 300},
                                     {"height", 200}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->bgr.size(), cv::Size(300, 200));
  cv::Mat red;
  cv::inRange(out->bgr, cv::Scalar(0, 0, 150), cv::Scalar(180, 180, 255), red);
  const cv::Rect product = cv::boundingRect(red);
  // 5 px/cm at row 350 of the scene, halved by the canvas: 40 cm = 100 px.
  EXPECT_NEAR(product.width, 100, 3);
  EXPECT_NEAR(product.br().y, 175, 2);
}

TEST_F(StageTest, SceneWithoutSidecarIsPlacedLowAndSaysHowToFixIt) {
  const std::string scene = WriteScene(nullptr);
  Result<Image> out = Stage(MakeCutout({80, 80}, cv::Scalar(20, 20, 220)), {{"scene", scene}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(Warned("sidecar")) << ::testing::PrintToString(warnings_);
  EXPECT_TRUE(Warned("docs/staging.md"));
  cv::Mat red;
  cv::inRange(out->bgr, cv::Scalar(0, 0, 150), cv::Scalar(90, 90, 255), red);
  EXPECT_NEAR(cv::boundingRect(red).br().y, 0.85 * 400, 3);
}

TEST_F(StageTest, BadInputsSayWhatToDo) {
  Image opaque = MakeCutout({50, 50}, cv::Scalar(1, 2, 3));
  opaque.alpha.release();
  Result<Image> no_alpha = Stage(opaque, {});
  ASSERT_FALSE(no_alpha.ok());
  EXPECT_EQ(no_alpha.status().code(), Code::kInvalidArgument);
  EXPECT_NE(no_alpha.status().message().find("vitrine cutout"), std::string::npos);

  const Image cutout = MakeCutout({50, 50}, cv::Scalar(1, 2, 3));
  Result<Image> bad_size = Stage(cutout, {{"size_cm", "fifty"}});
  ASSERT_FALSE(bad_size.ok());
  EXPECT_NE(bad_size.status().message().find("\"W,H\""), std::string::npos);

  const std::string scene = WriteScene(nullptr);
  std::ofstream((dir_ / "room.json").string()) << "{\"floor_y\": ";
  Result<Image> bad_json = Stage(cutout, {{"scene", scene}});
  ASSERT_FALSE(bad_json.ok());
  EXPECT_NE(bad_json.status().message().find("docs/staging.md"), std::string::npos);

  std::ofstream((dir_ / "room.json").string()) << "{\"px_per_cm\": 3}";
  Result<Image> no_floor = Stage(cutout, {{"scene", scene}});
  ASSERT_FALSE(no_floor.ok());
  EXPECT_NE(no_floor.status().message().find("floor_y"), std::string::npos);

  std::ofstream((dir_ / "room.json").string()) << "{\"floor_y\": 300, \"px_per_cn\": 3}";
  Result<Image> typo = Stage(cutout, {{"scene", scene}});
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("px_per_cn"), std::string::npos);

  Result<Image> missing = Stage(cutout, {{"scene", (dir_ / "nope.jpg").string()}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.jpg"), std::string::npos);
}

TEST_F(StageTest, WarnsWhenAProductIsEnlargedTooMuch) {
  Result<Image> out =
      Stage(MakeCutout({40, 40}, cv::Scalar(9, 9, 9)), {{"width", 400}, {"height", 400}});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(Warned("enlarged")) << ::testing::PrintToString(warnings_);

  const std::string scene = WriteScene({{"floor_y", 300}});
  ASSERT_TRUE(Stage(MakeCutout({200, 200}, cv::Scalar(9, 9, 9)),
                    {{"scene", scene}, {"width", 1500}, {"height", 1500}})
                  .ok());
  EXPECT_TRUE(Warned("scene was enlarged")) << ::testing::PrintToString(warnings_);
}

TEST_F(StageTest, SizeOnAPlainBackgroundIsIgnoredWithAWarning) {
  Result<Image> out = Stage(MakeCutout({100, 100}, cv::Scalar(9, 9, 9)),
                            {{"width", 200}, {"height", 200}, {"size_cm", "30,30"}});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(Warned("size_cm is ignored")) << ::testing::PrintToString(warnings_);
}

// A tabletop seen from the front: a blue wall over a wooden top whose back edge is row 300.
std::string WriteTabletop(const fs::path& dir, const nlohmann::json& polygon) {
  cv::Mat scene(400, 600, CV_8UC3, cv::Scalar(200, 160, 120));
  scene.rowRange(300, 400).setTo(cv::Scalar(90, 150, 200));
  const std::string path = (dir / "table.png").string();
  cv::imwrite(path, scene);
  std::ofstream((dir / "table.json").string()) << nlohmann::json{
      {"polygon", polygon},
      {"anchor", {300, 340}},
      {"px_per_cm", 4.0},
      {"floor_squash", 0.3}}.dump();
  return path;
}

// The product's box (its red pixels) in a staged image.
cv::Rect RedBox(const cv::Mat& bgr) {
  cv::Mat red;
  cv::inRange(bgr, cv::Scalar(0, 0, 150), cv::Scalar(110, 110, 255), red);
  return cv::boundingRect(red);
}

TEST_F(StageTest, ATallProductOnAShallowTabletopStandsOnItOrIsRefusedAtItsRealSize) {
  const std::string table = WriteTabletop(dir_, {{0, 300}, {599, 300}, {599, 399}, {0, 399}});
  const Image bottle = MakeCutout({60, 240}, cv::Scalar(20, 20, 220));
  // 25 x 100 cm at 4 px/cm is 400 px tall: more than the 400 px frame holds above the top.
  Result<Image> real = Stage(bottle, {{"scene", table}, {"size_cm", "25,100"}});
  ASSERT_FALSE(real.ok());
  EXPECT_EQ(real.status().code(), Code::kInvalidArgument);
  EXPECT_NE(real.status().message().find("does not fit"), std::string::npos)
      << real.status().message();
  EXPECT_NE(real.status().message().find("leave out size_cm"), std::string::npos);
  EXPECT_NE(real.status().message().find("25x100 cm"), std::string::npos);

  // A size that fits is kept, standing on the top in front of its back edge.
  Result<Image> fits = Stage(
      bottle, {{"scene", table}, {"size_cm", "15,60"}, {"shadow", "none"}, {"harmonize", 0.0}});
  ASSERT_TRUE(fits.ok()) << fits.status().ToString();
  cv::Rect box = RedBox(fits->bgr);
  EXPECT_NEAR(box.height, 240, 5) << "60 cm at 4 px/cm";
  EXPECT_GT(box.br().y, 300 + 0.5 * 60 * 0.3) << "its footprint is in front of the back edge";
  EXPECT_LE(box.br().y, 400 - 0.03 * 400 + 1);
  EXPECT_GE(box.y, 0);

  // Without a size it is scaled to what the top holds: base on it, top inside the frame.
  Result<Image> free = Stage(bottle, {{"scene", table}, {"shadow", "none"}, {"harmonize", 0.0}});
  ASSERT_TRUE(free.ok()) << free.status().ToString();
  box = RedBox(free->bgr);
  EXPECT_GT(box.br().y, 300) << "stands on the top, not floating above its back edge";
  EXPECT_LE(box.br().y, 400 - 0.03 * 400 + 1);
  EXPECT_GE(box.y, 0.03 * 400 - 1) << "the product's top stays in the frame";
  EXPECT_GT(box.height, 150) << "as large as the top allows";
}

TEST_F(StageTest, AWideProductStaysInsideANarrowSurface) {
  // A narrow shelf whose front is wider than its back; the product is wider than the shelf.
  const nlohmann::json shelf = {{250, 300}, {350, 300}, {370, 399}, {230, 399}};
  const std::string table = WriteTabletop(dir_, shelf);
  const Image wide = MakeCutout({240, 60}, cv::Scalar(20, 20, 220));
  // min_share 0: the canvas shows the whole scene, so canvas and scene pixels are the same.
  Result<Image> out =
      Stage(wide, {{"scene", table}, {"shadow", "none"}, {"harmonize", 0.0}, {"min_share", 0.0}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const cv::Rect box = RedBox(out->bgr);
  const double base = box.br().y;
  // The shelf's columns on the base's row.
  const double t = (base - 300) / 99.0, lo = 250 - 20 * t, hi = 350 + 20 * t;
  EXPECT_GE(box.x, lo - 2);
  EXPECT_LE(box.br().x, hi + 2);
  EXPECT_GT(base, 300);
  EXPECT_TRUE(Stage(wide, {{"scene", table}, {"size_cm", "60,15"}})
                  .status()
                  .message()
                  .find("does not fit") != std::string::npos)
      << "60 cm is 240 px: wider than the shelf";
}

TEST_F(StageTest, ARealSizeProductInALargeRoomTakesTheDocumentedShareAtTheRoomsScale) {
  // A room 1200 x 800 px at 2 px/cm: a blue sofa 120 x 80 cm (240 x 160 px) stands on row 600
  // beside the free floor where the product goes.
  cv::Mat room(800, 1200, CV_8UC3, cv::Scalar(200, 205, 210));
  room.rowRange(560, 800).setTo(cv::Scalar(70, 100, 130));
  cv::rectangle(room, cv::Rect(650, 440, 240, 160), cv::Scalar(200, 60, 20), cv::FILLED);
  cv::imwrite((dir_ / "room.png").string(), room);
  std::ofstream((dir_ / "room.json").string()) << nlohmann::json{
      {"polygon", {{480, 580}, {720, 580}, {720, 620}, {480, 620}}},
      {"px_per_cm", 2.0}}.dump();
  const std::string scene = (dir_ / "room.png").string();
  const Image cutout = MakeCutout({80, 100}, cv::Scalar(20, 20, 220));
  // 40 x 50 cm: 80 x 100 px, 12% of the frame's height; the view closes in to reach 30%.
  Result<Image> out = Stage(
      cutout, {{"scene", scene}, {"size_cm", "40,50"}, {"shadow", "none"}, {"harmonize", 0.0}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->bgr.size(), room.size());
  const cv::Rect product = RedBox(out->bgr);
  const double share = std::max(product.width / 1200.0, product.height / 800.0);
  EXPECT_GE(share, 0.3 - 0.01) << "the product takes at least min_share (30%) of the frame";
  EXPECT_LE(share, 0.3 + 0.02);
  // The sofa was enlarged with it: 80 cm of sofa to 50 cm of product, as in the room.
  cv::Mat blue;
  cv::inRange(out->bgr, cv::Scalar(150, 30, 0), cv::Scalar(255, 100, 60), blue);
  const cv::Rect sofa = cv::boundingRect(blue);
  ASSERT_GT(sofa.area(), 0) << "the sofa is in view";
  EXPECT_NEAR(static_cast<double>(sofa.height) / product.height, 80.0 / 50.0, 0.05);
  EXPECT_NEAR(sofa.br().y, product.br().y, 0.02 * 800) << "both stand on the same floor row";
  EXPECT_TRUE(Warned("enlarged")) << "the softer scene is said";

  // min_share 0 shows the whole room with the product at its real 100 px.
  Result<Image> whole = Stage(cutout, {{"scene", scene},
                                       {"size_cm", "40,50"},
                                       {"min_share", 0.0},
                                       {"shadow", "none"},
                                       {"harmonize", 0.0}});
  ASSERT_TRUE(whole.ok());
  EXPECT_NEAR(RedBox(whole->bgr).height, 100, 3);

  // A 5 cm product would need the room enlarged 24x: refused, saying what to do.
  Result<Image> tiny = Stage(cutout, {{"scene", scene}, {"size_cm", "4,5"}});
  ASSERT_FALSE(tiny.ok());
  EXPECT_NE(tiny.status().message().find("closer scene"), std::string::npos)
      << tiny.status().message();
  EXPECT_NE(tiny.status().message().find("min_share"), std::string::npos);
}

TEST_F(StageTest, LevelTurnsAProductPhotographedTiltedToRestOnItsBase) {
  // A long flat product (a shoe's sole) photographed 20 degrees off level.
  Image tilted;
  tilted.bgr = cv::Mat(300, 300, CV_8UC3, cv::Scalar(0, 255, 0));
  tilted.alpha = cv::Mat::zeros(300, 300, CV_8UC1);
  const cv::RotatedRect sole({150, 150}, {220, 60}, -20);
  cv::Point2f corners[4];
  sole.points(corners);
  std::vector<cv::Point> polygon(corners, corners + 4);
  cv::fillConvexPoly(tilted.alpha, polygon, cv::Scalar(255), cv::LINE_AA);
  tilted.bgr.setTo(cv::Scalar(20, 20, 220), tilted.alpha > 0);
  const std::string table = WriteTabletop(dir_, {{0, 300}, {599, 300}, {599, 399}, {0, 399}});
  // The lowest product row in the left and right quarters of its box.
  auto bottoms = [](const cv::Mat& bgr) {
    const cv::Rect box = RedBox(bgr);
    cv::Mat red;
    cv::inRange(bgr, cv::Scalar(0, 0, 150), cv::Scalar(110, 110, 255), red);
    auto lowest = [&](int x0, int x1) {
      const cv::Rect part = cv::boundingRect(red.colRange(x0, x1));
      return part.br().y;
    };
    return std::pair{lowest(box.x, box.x + box.width / 4),
                     lowest(box.br().x - box.width / 4, box.br().x)};
  };
  nlohmann::json params = {
      {"scene", table}, {"shadow", "none"}, {"harmonize", 0.0}, {"min_share", 0.0}};
  Result<Image> as_shot = Stage(tilted, params);
  ASSERT_TRUE(as_shot.ok()) << as_shot.status().ToString();
  const auto [left0, right0] = bottoms(as_shot->bgr);
  EXPECT_GT(std::abs(left0 - right0), 20) << "as photographed, one end is in the air";
  params["level"] = true;
  Result<Image> level = Stage(tilted, params);
  ASSERT_TRUE(level.ok()) << level.status().ToString();
  const auto [left, right] = bottoms(level->bgr);
  EXPECT_LE(std::abs(left - right), 2) << "levelled, both ends rest on the table";
  EXPECT_TRUE(Warned("turned 20 degrees")) << ::testing::PrintToString(warnings_);
  // The product keeps its colour and no hidden green reaches its edge.
  const cv::Rect box = RedBox(level->bgr);
  EXPECT_EQ(cv::countNonZero(cv::Mat(level->bgr(box) == cv::Scalar(0, 255, 0)).reshape(1) > 0), 0);
}

}  // namespace
}  // namespace vitrine::ops
