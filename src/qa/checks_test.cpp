#include "qa/checks.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "models/runtime.h"
#include "qa/candidate_testdata.h"
#include "tests/testdata.h"

namespace vitrine::qa {
namespace {

Check Find(const std::vector<Check>& checks, const std::string& id) {
  for (const Check& c : checks) {
    if (c.id == id) return c;
  }
  ADD_FAILURE() << "no check " << id;
  return Check{};
}

cv::Mat Disc(cv::Size size, cv::Point centre, int radius) {
  cv::Mat alpha = cv::Mat::zeros(size, CV_8UC1);
  cv::circle(alpha, centre, radius, 255, -1, cv::LINE_AA);
  return alpha;
}

TEST(CutoutSanity, ACleanProductPassesEveryCheck) {
  std::vector<Check> checks = CutoutSanity(Disc({200, 200}, {100, 100}, 60), QaConfig{});
  ASSERT_EQ(checks.size(), 4u);
  for (const Check& c : checks) EXPECT_TRUE(c.passed) << c.id << ": " << c.reason;
  EXPECT_NEAR(Find(checks, "cutout.coverage").value, CV_PI * 60 * 60 / (200 * 200), 0.01);
}

TEST(CutoutSanity, APairOfPartsIsNotFragmentsButCrumbsAre) {
  cv::Mat pair = Disc({300, 200}, {80, 100}, 50) | Disc({300, 200}, {220, 100}, 45);
  EXPECT_TRUE(Find(CutoutSanity(pair, QaConfig{}), "cutout.fragments").passed);

  cv::Mat crumbs = Disc({300, 200}, {150, 100}, 60);
  for (int i = 0; i < 6; ++i) cv::circle(crumbs, {30 + 45 * i, 20}, 6, 255, -1);
  const Check c = Find(CutoutSanity(crumbs, QaConfig{}), "cutout.fragments");
  EXPECT_FALSE(c.passed);
  EXPECT_TRUE(c.hard);
  EXPECT_NE(c.reason.find("6 stray fragment"), std::string::npos) << c.reason;
}

// A set of alike pieces, as the segmenter sees a bag of candies: twelve candies (two of them
// touching, the largest piece), one candy the segmenter was unsure of (alpha 100 but for a
// small opaque patch) and one cut by the photo's bottom edge.
cv::Mat Candies() {
  cv::Mat alpha = cv::Mat::zeros(300, 400, CV_8UC1);
  for (int i = 0; i < 10; ++i) {
    cv::circle(alpha, {40 + 70 * (i % 5), 50 + 90 * (i / 5)}, 22, 255, -1, cv::LINE_AA);
  }
  cv::circle(alpha, {300, 240}, 22, 255, -1, cv::LINE_AA);
  cv::circle(alpha, {342, 240}, 22, 255, -1, cv::LINE_AA);
  cv::circle(alpha, {80, 250}, 22, 100, -1, cv::LINE_AA);
  cv::circle(alpha, {88, 244}, 7, 200, -1, cv::LINE_AA);
  cv::circle(alpha, {200, 292}, 22, 255, -1, cv::LINE_AA);
  return alpha;
}

TEST(CutoutSanity, AlikePiecesAndAPieceTheSegmenterWasUnsureOfAreNotFragments) {
  const Check c = Find(CutoutSanity(Candies(), QaConfig{}), "cutout.fragments");
  EXPECT_TRUE(c.passed) << c.reason;
  EXPECT_EQ(c.value, 0) << c.reason;
  // The same opaque patch as a crumb of its own (nothing joins it to a piece-sized object) is a
  // fragment.
  cv::Mat crumb = Candies();
  cv::circle(crumb, {80, 250}, 22, 0, -1);
  cv::circle(crumb, {88, 244}, 7, 200, -1, cv::LINE_AA);
  cv::circle(crumb, {120, 200}, 7, 200, -1, cv::LINE_AA);
  cv::circle(crumb, {260, 200}, 7, 200, -1, cv::LINE_AA);
  EXPECT_FALSE(Find(CutoutSanity(crumb, QaConfig{}), "cutout.fragments").passed);
}

TEST(CutoutSanity, TheRimsOfATranslucentGlassAreNotFragments) {
  // Two glasses: a faint body (alpha 90) whose rims and highlights are opaque arcs and bars,
  // which fall apart at alpha 128.
  cv::Mat alpha = cv::Mat::zeros(240, 320, CV_8UC1);
  for (int x : {90, 230}) {
    cv::rectangle(alpha, cv::Rect(x - 50, 40, 100, 170), 90, -1);
    cv::ellipse(alpha, {x, 40}, {50, 10}, 0, 0, 360, 230, 3);
    for (int dx : {-46, 46}) cv::line(alpha, {x + dx, 60}, {x + dx, 200}, 230, 3);
    cv::line(alpha, {x - 20, 80}, {x - 20, 110}, 230, 2);  // a highlight
  }
  const Check c = Find(CutoutSanity(alpha, QaConfig{}), "cutout.fragments");
  EXPECT_TRUE(c.passed) << c.reason;
}

TEST(CutoutSanity, AStrayJoinedToTheProductByAFaintNeckIsAFragment) {
  // A mortar joint the cutout kept above a shoe: opaque, small, joined by haze (alpha 60).
  cv::Mat alpha = Disc({300, 300}, {150, 190}, 90);
  cv::line(alpha, {150, 100}, {150, 40}, 60, 5);
  cv::rectangle(alpha, cv::Rect(120, 20, 60, 22), 255, -1);
  const Check c = Find(CutoutSanity(alpha, QaConfig{}), "cutout.fragments");
  EXPECT_FALSE(c.passed) << c.reason;
  EXPECT_NE(c.reason.find("1 stray fragment"), std::string::npos) << c.reason;
}

TEST(CutoutSanity, AProductBleedingOffTheSideItsPhotoCutPassesTheFrameCheck) {
  cv::Mat alpha = Disc({200, 200}, {100, 190}, 60);  // runs off the bottom
  FrameSides bottom;
  bottom.bottom = true;
  EXPECT_TRUE(Find(CutoutSanity(alpha, QaConfig{}, bottom), "cutout.frame_cut").passed);
  // Bleeding off the bottom does not excuse touching the left border.
  cv::Mat corner = Disc({200, 200}, {10, 190}, 60);
  const Check c = Find(CutoutSanity(corner, QaConfig{}, bottom), "cutout.frame_cut");
  EXPECT_FALSE(c.passed);
  EXPECT_NE(c.reason.find("left"), std::string::npos) << c.reason;
}

TEST(SourceFrameCut, ACutProductIsNoMainImageAndBleedsOffTheCanvasWhereItWasCut) {
  // The photo cuts the product at the bottom: 60% of the bottom border is product.
  cv::Mat source = cv::Mat::zeros(200, 200, CV_8UC1);
  cv::rectangle(source, cv::Rect(40, 50, 120, 150), 255, -1);
  EXPECT_TRUE(CutSides(source, 0.05).bottom);
  EXPECT_EQ(CutSides(source, 0.05).Names(), "bottom");
  const cv::Size canvas(400, 400);
  const cv::Rect bleeding(100, 160, 200, 240), floating(100, 80, 200, 240);
  const std::string advice =
      "source photo cuts the product at the bottom: supply an uncut photo for a main image";

  Result<Check> main = SourceFrameCut(source, bleeding, canvas, true, QaConfig{});
  ASSERT_TRUE(main.ok()) << main.status().message();
  EXPECT_FALSE(main->passed);
  EXPECT_TRUE(main->hard);
  EXPECT_NE(main->reason.find(advice), std::string::npos) << main->reason;

  Result<Check> bleeds = SourceFrameCut(source, bleeding, canvas, false, QaConfig{});
  ASSERT_TRUE(bleeds.ok());
  EXPECT_TRUE(bleeds->passed) << bleeds->reason;
  EXPECT_NE(bleeds->reason.find(advice), std::string::npos) << bleeds->reason;

  Result<Check> mid = SourceFrameCut(source, floating, canvas, false, QaConfig{});
  ASSERT_TRUE(mid.ok());
  EXPECT_FALSE(mid->passed);
  EXPECT_NE(mid->reason.find("cut at its bottom in mid-canvas"), std::string::npos) << mid->reason;

  // A photo that shows the whole product is fine either way, and so is one framed so tightly
  // that the product touches the border (11% of it) but curves away from it.
  const cv::Mat whole = Disc({200, 200}, {100, 100}, 60);
  const cv::Mat touching = Disc({200, 200}, {100, 140}, 60);
  EXPECT_GT(CutSides(touching, 0.05).bottom_share, 0.1);
  EXPECT_FALSE(CutSides(touching, 0.05).any());
  for (const cv::Mat& alpha : {whole, touching}) {
    for (bool main_image : {true, false}) {
      Result<Check> c = SourceFrameCut(alpha, floating, canvas, main_image, QaConfig{});
      ASSERT_TRUE(c.ok());
      EXPECT_TRUE(c->passed) << c->reason;
      EXPECT_NE(c->reason.find("shows the whole product"), std::string::npos) << c->reason;
    }
  }
}

TEST(CutoutSanity, HolesInsideTheProductAreMeasuredButOnlySoft) {
  cv::Mat ring = Disc({200, 200}, {100, 100}, 80);
  cv::circle(ring, {100, 100}, 40, 0, -1);
  const Check c = Find(CutoutSanity(ring, QaConfig{}), "cutout.holes");
  EXPECT_NEAR(c.value, 0.25, 0.02);  // (40/80)^2
  EXPECT_FALSE(c.passed);
  EXPECT_FALSE(c.hard);
  // A notch open to the outside is not a hole.
  cv::Mat notch = Disc({200, 200}, {100, 100}, 80);
  cv::rectangle(notch, cv::Rect(90, 0, 20, 100), 0, -1);
  EXPECT_EQ(Find(CutoutSanity(notch, QaConfig{}), "cutout.holes").value, 0);
}

TEST(CutoutSanity, ASubjectCutByTheFrameFailsNamingTheBorder) {
  cv::Mat alpha = Disc({200, 200}, {100, 190}, 60);  // runs off the bottom
  const Check c = Find(CutoutSanity(alpha, QaConfig{}), "cutout.frame_cut");
  EXPECT_FALSE(c.passed);
  EXPECT_TRUE(c.hard);
  EXPECT_GT(c.value, 0.5);
  EXPECT_NE(c.reason.find("bottom"), std::string::npos) << c.reason;
  // Clear of the border by two pixels.
  EXPECT_TRUE(
      Find(CutoutSanity(Disc({200, 200}, {100, 137}, 60), QaConfig{}), "cutout.frame_cut").passed);
}

TEST(CutoutSanity, CoverageRejectsEmptyAndFullFrames) {
  const Check empty =
      Find(CutoutSanity(cv::Mat::zeros(50, 50, CV_8UC1), QaConfig{}), "cutout.coverage");
  EXPECT_FALSE(empty.passed);
  EXPECT_NE(empty.reason.find("too small"), std::string::npos);
  const Check full =
      Find(CutoutSanity(cv::Mat(50, 50, CV_8UC1, cv::Scalar(255)), QaConfig{}), "cutout.coverage");
  EXPECT_FALSE(full.passed);
  EXPECT_EQ(full.limit, QaConfig{}.max_coverage);
  EXPECT_FALSE(CutoutSanity(cv::Mat(), QaConfig{})[0].passed);
}

TEST(SourceAgreement, AHalfMissingCutoutFailsAndSaysPartIsMissing) {
  auto source = testdata::MakeSource(1);
  Result<Check> good = SourceAgreement(source.alpha, source.segmenter_mask, QaConfig{});
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(good->passed);
  Result<Check> half =
      SourceAgreement(testdata::DropHalf(source.alpha), source.segmenter_mask, QaConfig{});
  ASSERT_TRUE(half.ok());
  EXPECT_FALSE(half->passed);
  EXPECT_NEAR(half->value, 0.5, 0.05);
  EXPECT_NE(half->reason.find("missing"), std::string::npos) << half->reason;
  EXPECT_FALSE(SourceAgreement(source.alpha, cv::Mat::zeros(10, 10, CV_8UC1), QaConfig{}).ok());
}

TEST(SourceAgreement, WithTheRealSegmenterAcceptsTheTrueCutoutAndRejectsHalfOfIt) {
  static Config config = *LoadConfig();
  static models::Runtime runtime(config);
  Result<const models::Segmenter*> segmenter = runtime.segmenter();
  ASSERT_TRUE(segmenter.ok()) << segmenter.status().ToString();
  auto photo =
      vitrine::testdata::MakeComposite({320, 400}, vitrine::testdata::Backdrop::kGradient, 9);
  Result<cv::Mat> mask = SegmenterMask(**segmenter, photo.bgr);
  ASSERT_TRUE(mask.ok()) << mask.status().ToString();
  ASSERT_EQ(mask->size(), photo.bgr.size());
  Result<Check> whole = SourceAgreement(photo.alpha, *mask, QaConfig{});
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(whole->passed) << whole->reason;
  std::printf("real segmenter vs true alpha: %s\n", whole->reason.c_str());
  Result<Check> half = SourceAgreement(testdata::DropHalf(photo.alpha), *mask, QaConfig{});
  ASSERT_TRUE(half.ok());
  EXPECT_FALSE(half->passed) << half->reason;
}

TEST(PlaceProduct, PutsTheProductBoxIntoThePlacementAndClipsAtTheCanvas) {
  auto source = testdata::MakeSource(2);
  Result<PlacedProduct> placed =
      PlaceProduct(source.bgr, source.alpha, {150, 40, 200, 240}, {300, 300});
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(cv::boundingRect(placed->alpha > 0), cv::Rect(150, 40, 150, 240));
  // A quarter of the placement is past the right edge: that much of the product is cut off.
  EXPECT_GT(placed->outside_share, 0.15);
  EXPECT_LT(placed->outside_share, 0.35);
  Check cut = OutsideFrame(*placed, QaConfig{});
  EXPECT_FALSE(cut.passed);
  EXPECT_TRUE(cut.hard);
  EXPECT_NE(cut.reason.find("outside the candidate"), std::string::npos) << cut.reason;
  Result<PlacedProduct> inside =
      PlaceProduct(source.bgr, source.alpha, {20, 40, 200, 240}, {300, 300});
  ASSERT_TRUE(inside.ok());
  EXPECT_EQ(inside->outside_share, 0);
  EXPECT_TRUE(OutsideFrame(*inside, QaConfig{}).passed);
  Result<PlacedProduct> outside =
      PlaceProduct(source.bgr, source.alpha, {400, 40, 100, 100}, {300, 300});
  EXPECT_EQ(outside.status().code(), Code::kInvalidArgument);
  EXPECT_NE(outside.status().message().find("outside"), std::string::npos);
}

TEST(Sharpness, ABlurredProductFailsAndAFaithfulOnePasses) {
  auto source = testdata::MakeSource(3);
  cv::Rect placement = testdata::FitPlacement(source.alpha, {360, 360}, 0.8, 3);
  auto staged =
      testdata::Stage(source.bgr, source.alpha, {360, 360}, placement, testdata::Canvas::kWhite, 3);
  Result<Check> sharp = Sharpness(source.bgr, source.alpha, staged.bgr, placement, QaConfig{});
  ASSERT_TRUE(sharp.ok()) << sharp.status().ToString();
  EXPECT_TRUE(sharp->passed) << sharp->reason;
  EXPECT_GT(sharp->value, 0.8);
  cv::Mat blurred;
  cv::GaussianBlur(staged.bgr, blurred, cv::Size(), 3);
  Result<Check> blur = Sharpness(source.bgr, source.alpha, blurred, placement, QaConfig{});
  ASSERT_TRUE(blur.ok());
  EXPECT_FALSE(blur->passed);
  EXPECT_LT(blur->value, 0.2);
  EXPECT_NE(blur->reason.find("blurred"), std::string::npos);
}

TEST(ColourFidelity, MeasuresTheShiftOfTheProductOnly) {
  auto source = testdata::MakeSource(4);
  cv::Rect placement = testdata::FitPlacement(source.alpha, {300, 300}, 0.6, 4);
  auto staged = testdata::Stage(source.bgr, source.alpha, {300, 300}, placement,
                                testdata::Canvas::kStudioColour, 4);
  auto same = ColourFidelity(source.bgr, source.alpha, staged.bgr, placement, QaConfig{});
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_LT((*same)[0].value, 1.5);
  EXPECT_TRUE((*same)[0].passed && (*same)[1].passed);

  cv::Mat shifted = testdata::ShiftProductColour(staged, {15, 0, 0});
  auto moved = ColourFidelity(source.bgr, source.alpha, shifted, placement, QaConfig{});
  ASSERT_TRUE(moved.ok());
  EXPECT_GT((*moved)[0].value, 8);
  EXPECT_FALSE((*moved)[0].passed);
  EXPECT_NE((*moved)[0].reason.find("colour shifted"), std::string::npos);
}

TEST(ColourFidelity, ToleratesAPlacementOffByAFewPixelsButNotAColourShift) {
  // A stage op may round its placement differently: 3 px off, or 3 px larger.
  auto source = testdata::MakeSource(1);  // the fruits texture: misregistration shows most
  cv::Rect placement = testdata::FitPlacement(source.alpha, {400, 400}, 0.75, 1);
  auto staged =
      testdata::Stage(source.bgr, source.alpha, {400, 400}, placement, testdata::Canvas::kWhite, 1);
  for (cv::Rect reported : {placement + cv::Point(3, -2), placement + cv::Size(3, 3)}) {
    auto off = ColourFidelity(source.bgr, source.alpha, staged.bgr, reported, QaConfig{});
    ASSERT_TRUE(off.ok());
    EXPECT_LT((*off)[0].value, 1.5) << (*off)[0].reason;
    EXPECT_TRUE((*off)[0].passed && (*off)[1].passed) << (*off)[1].reason;
    auto sharp = Sharpness(source.bgr, source.alpha, staged.bgr, reported, QaConfig{});
    ASSERT_TRUE(sharp.ok());
    EXPECT_TRUE(sharp->passed) << sharp->reason;
    cv::Mat shifted = testdata::ShiftProductColour(staged, {0, 15, 0});
    auto moved = ColourFidelity(source.bgr, source.alpha, shifted, reported, QaConfig{});
    ASSERT_TRUE(moved.ok());
    EXPECT_FALSE((*moved)[0].passed);
  }
}

TEST(Brisque, ScoresBlurredAndNoisyPhotosWorseThanTheOriginal) {
  auto brisque = Brisque::Load();
  ASSERT_TRUE(brisque.ok()) << brisque.status().ToString();
  cv::Mat photo = vitrine::testdata::SamplePhoto("butterfly.jpg");
  cv::Mat blurred, noisy, noise(photo.size(), CV_16SC3);
  cv::GaussianBlur(photo, blurred, cv::Size(), 4);
  cv::randn(noise, 0, 25);
  photo.convertTo(noisy, CV_16SC3);
  noisy += noise;
  noisy.convertTo(noisy, CV_8UC3);
  Result<double> original = (*brisque)->Score(photo, 512);
  Result<double> worse_blur = (*brisque)->Score(blurred, 512);
  Result<double> worse_noise = (*brisque)->Score(noisy, 512);
  ASSERT_TRUE(original.ok() && worse_blur.ok() && worse_noise.ok());
  std::printf("BRISQUE original %.1f, blurred %.1f, noisy %.1f\n", *original, *worse_blur,
              *worse_noise);
  EXPECT_GT(*worse_blur, *original + 10);
  EXPECT_GT(*worse_noise, *original + 10);
  EXPECT_TRUE(QualityCheck(*original, QaConfig{}).passed);
}

TEST(Brisque, MissingModelFilesSayHowToInstallThem) {
  auto brisque = Brisque::Load("/nonexistent");
  ASSERT_FALSE(brisque.ok());
  EXPECT_EQ(brisque.status().code(), Code::kUnavailable);
  EXPECT_NE(brisque.status().message().find("install opencv-data: make setup"), std::string::npos);
}

TEST(TextLeft, UsesTheDetectorsShareAndPassesItsErrorsOn) {
  cv::Mat clean(200, 200, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::Mat captioned = testdata::AddCaption(clean, "SALE 50%");
  TextCoverageFn fake = [](const cv::Mat& bgr) -> Result<double> {
    return testdata::MagentaShare(bgr);
  };
  Result<Check> none = TextLeft(fake, clean, QaConfig{});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->passed);
  Result<Check> left = TextLeft(fake, captioned, QaConfig{});
  ASSERT_TRUE(left.ok());
  EXPECT_FALSE(left->passed);
  EXPECT_TRUE(left->hard);
  TextCoverageFn broken = [](const cv::Mat&) -> Result<double> {
    return ModelFailure("detector not loaded");
  };
  EXPECT_EQ(TextLeft(broken, clean, QaConfig{}).status().code(), Code::kModelFailure);
}

TEST(Compliance, FailedRulesBecomeHardChecks) {
  std::vector<Check> rules = Compliance(
      {Check{"white_background", 0.93, 0.98, false, false, "background is not pure white"},
       Check{"compliance.min_side", 1600, 1000, true, false, "1600 px"}});
  EXPECT_EQ(rules[0].id, "compliance.white_background");
  EXPECT_TRUE(rules[0].hard);
  EXPECT_EQ(rules[1].id, "compliance.min_side");
}

TEST(PerceptualHash, IsStableUnderRecompressionAndTellsImagesApart) {
  cv::Mat photo = vitrine::testdata::SamplePhoto("fruits.jpg");
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", photo, jpeg, {cv::IMWRITE_JPEG_QUALITY, 60});
  cv::Mat recompressed = cv::imdecode(jpeg, cv::IMREAD_COLOR), smaller;
  cv::resize(recompressed, smaller, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
  EXPECT_LE(HashDistance(PerceptualHash(photo), PerceptualHash(smaller)), 4);
  EXPECT_EQ(HashDistance(PerceptualHash(photo), PerceptualHash(cv::Mat())), 64);
  EXPECT_GT(HashDistance(PerceptualHash(photo),
                         PerceptualHash(vitrine::testdata::SamplePhoto("baboon.jpg"))),
            16);
}

TEST(QaConfig, RecipeOverridesAreValidatedByName) {
  Result<QaConfig> config = QaConfig::FromJson({{"max_colour_mean", 4}});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->max_colour_mean, 4);
  EXPECT_EQ(config->min_sharpness_ratio, QaConfig{}.min_sharpness_ratio);
  EXPECT_EQ(QaConfig::FromJson(nlohmann::json()).value().ToJson(), QaConfig{}.ToJson());
  auto unknown = QaConfig::FromJson({{"max_colour", 4}});
  EXPECT_NE(unknown.status().message().find("unknown qa setting \"max_colour\""),
            std::string::npos);
  auto range = QaConfig::FromJson({{"min_coverage", 2}});
  EXPECT_NE(range.status().message().find("qa.min_coverage"), std::string::npos);
  auto type = QaConfig::FromJson({{"max_brisque", "high"}});
  EXPECT_NE(type.status().message().find("must be a number"), std::string::npos);
}

}  // namespace
}  // namespace vitrine::qa
