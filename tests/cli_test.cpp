// End-to-end tests of the `vitrine` command line, run as a user would run it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/testdata.h"
#include "tests/text_render.h"

namespace vitrine {
namespace {
namespace fs = std::filesystem;

struct CommandRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

CommandRun Vitrine(const std::string& args, const std::string& env = "") {
  std::string command = env + " " VITRINE_BINARY " " + args + " 2>&1";
  CommandRun run;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) run.output.append(buffer, n);
  int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vitrine_cli_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  static void WriteBytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  }

  fs::path dir_;
};

// A PNG whose header claims 60000x60000 pixels (no pixel data follows).
std::string HugePngHeader() {
  std::vector<uchar> png;
  cv::imencode(".png", cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)), png);
  // IHDR: length at 8, type at 12, width/height at 16..23, CRC over type+data at 29..32.
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) png[at + i] = static_cast<uchar>(v >> (24 - 8 * i));
  };
  put32(16, 60000);
  put32(20, 60000);
  put32(29, static_cast<uint32_t>(crc32(0, png.data() + 12, 17)));
  return std::string(png.begin(), png.end());
}

TEST_F(CliTest, BatchWritesGoodImagesAndReportsEachBadOne) {
  testdata::Composite a = testdata::MakeComposite({720, 540}, testdata::Backdrop::kGradient, 11);
  testdata::Composite b = testdata::MakeComposite({500, 640}, testdata::Backdrop::kFlat, 12);
  cv::imwrite(Path("in/a.jpg"), a.bgr, {cv::IMWRITE_JPEG_QUALITY, 95});
  cv::imwrite(Path("in/b.png"), b.bgr);
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", a.bgr, jpeg);
  WriteBytes(Path("in/truncated.jpg"), std::string(jpeg.begin(), jpeg.begin() + jpeg.size() / 2));
  WriteBytes(Path("in/huge.png"), HugePngHeader());
  WriteBytes(Path("in/scan.tif"), std::string("II*\0\x08\0\0\0\0\0", 10));

  CommandRun run =
      Vitrine("cutout --output-dir " + Path("out") + " " + Path("in") + " " + Path("missing.jpg"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("truncated"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("3600.0 MP"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("VITRINE_MAX_PIXELS"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("TIFF is not supported"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("missing.jpg: no such file or folder"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("cut out 2 of 6 images"), std::string::npos) << run.output;

  // The good ones are written, full size, with a matte that matches the truth.
  for (auto [name, truth] : {std::pair{"a", a.alpha}, std::pair{"b", b.alpha}}) {
    cv::Mat out = cv::imread(Path(std::string("out/") + name + ".png"), cv::IMREAD_UNCHANGED);
    ASSERT_EQ(out.type(), CV_8UC4) << name;
    ASSERT_EQ(out.size(), truth.size()) << name;
    cv::Mat alpha;
    cv::extractChannel(out, alpha, 3);
    EXPECT_GE(testdata::Iou(alpha, truth), 0.95) << name;
  }
  // Nothing half-written or stray in the output folder.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(Path("out"))) {
    ++files;
    EXPECT_EQ(entry.path().extension(), ".png") << entry.path();
  }
  EXPECT_EQ(files, 2);
}

TEST_F(CliTest, WhiteJpegCroppedToTheSubject) {
  testdata::Composite c = testdata::MakeComposite({800, 600}, testdata::Backdrop::kBlurredRoom, 5);
  cv::imwrite(Path("in/room.jpg"), c.bgr, {cv::IMWRITE_JPEG_QUALITY, 95});
  CommandRun run = Vitrine("cutout --background white --format jpg --crop --margin 0 -o " +
                           Path("out") + " " + Path("in/room.jpg"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  cv::Mat out = cv::imread(Path("out/room.jpg"), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(out.type(), CV_8UC3);
  cv::Rect truth = cv::boundingRect(c.alpha > 128);
  EXPECT_NEAR(out.cols, truth.width, 10);
  EXPECT_NEAR(out.rows, truth.height, 10);
}

TEST_F(CliTest, MaskOnlyWritesOneGreyChannel) {
  testdata::Composite c = testdata::MakeComposite({640, 480}, testdata::Backdrop::kFlat, 8);
  cv::imwrite(Path("in/m.png"), c.bgr);
  CommandRun run = Vitrine("cutout --mask-only -o " + Path("out") + " " + Path("in/m.png"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  cv::Mat mask = cv::imread(Path("out/m.png"), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(mask.type(), CV_8UC1);
  EXPECT_GE(testdata::Iou(mask, c.alpha), 0.95);
}

TEST_F(CliTest, BadOptionsAndMissingModelsSayWhatToDo) {
  CommandRun bad_colour = Vitrine("cutout --background '#12' " + Path("in"));
  EXPECT_NE(bad_colour.exit_code, 0);
  EXPECT_NE(bad_colour.output.find("not a colour"), std::string::npos) << bad_colour.output;

  CommandRun bad_format = Vitrine("cutout --format tiff " + Path("in"));
  EXPECT_NE(bad_format.exit_code, 0);
  EXPECT_NE(bad_format.output.find("tiff"), std::string::npos) << bad_format.output;

  cv::imwrite(Path("in/x.png"), cv::Mat(64, 64, CV_8UC3, cv::Scalar(9, 9, 9)));
  CommandRun no_models = Vitrine("cutout -o " + Path("out") + " " + Path("in"),
                                 "VITRINE_CACHE_DIR=" + Path("empty-cache"));
  EXPECT_NE(no_models.exit_code, 0);
  EXPECT_NE(no_models.output.find("vitrine models prepare"), std::string::npos) << no_models.output;
}

// The product's box in a staged image: pixels clearly off white.
cv::Rect OffWhiteBox(const cv::Mat& bgr) {
  cv::Mat off;
  cv::inRange(bgr, cv::Scalar::all(0), cv::Scalar::all(230), off);
  return cv::boundingRect(off);
}

TEST_F(CliTest, StageTurnsARawPhotoIntoACentredWhiteImage) {
  testdata::Composite c = testdata::MakeComposite({480, 360}, testdata::Backdrop::kGradient, 21);
  cv::imwrite(Path("in/photo.jpg"), c.bgr, {cv::IMWRITE_JPEG_QUALITY, 95});
  CommandRun run = Vitrine("stage --canvas 400x400 --fill 0.8 --shadow none -o " + Path("out") +
                           " " + Path("in/photo.jpg"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("staged 1 of 1 images"), std::string::npos) << run.output;
  cv::Mat out = cv::imread(Path("out/photo.png"), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(out.type(), CV_8UC3);
  ASSERT_EQ(out.size(), cv::Size(400, 400));
  // The product's limiting side fills 80% of the canvas, centred.
  const cv::Rect truth = cv::boundingRect(c.alpha > 128);
  const cv::Rect product = OffWhiteBox(out);
  const double scale = 0.8 * 400 / std::max(truth.width, truth.height);
  EXPECT_NEAR(product.width, truth.width * scale, 10);
  EXPECT_NEAR(product.height, truth.height * scale, 10);
  EXPECT_NEAR(product.x + product.width / 2.0, 200, 5);
  EXPECT_NEAR(product.y + product.height / 2.0, 200, 5);
  // The border is pure white.
  cv::Mat border = cv::Mat::ones(400, 400, CV_8UC1) * 255;
  border(cv::Rect(20, 20, 360, 360)).setTo(0);
  cv::Mat white;
  cv::inRange(out, cv::Scalar::all(255), cv::Scalar::all(255), white);
  EXPECT_EQ(cv::countNonZero(border & ~white), 0);
}

TEST_F(CliTest, StageColorsWritesOneRecolouredImagePerColour) {
  testdata::Composite c = testdata::MakeComposite({400, 300}, testdata::Backdrop::kFlat, 22);
  cv::imwrite(Path("in/item.png"), c.bgr);
  CommandRun run = Vitrine("stage --canvas 300x300 --colors '#aa0000, navy' --format jpg -o " +
                           Path("out") + " " + Path("in/item.png"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  cv::Mat red = cv::imread(Path("out/item_aa0000.jpg"));
  cv::Mat navy = cv::imread(Path("out/item_navy.jpg"));
  ASSERT_FALSE(red.empty()) << run.output;
  ASSERT_FALSE(navy.empty()) << run.output;
  const cv::Rect box = OffWhiteBox(red);
  ASSERT_GT(box.area(), 100 * 100);
  const cv::Rect middle(box.x + box.width / 3, box.y + box.height / 3, box.width / 3,
                        box.height / 3);
  const cv::Scalar r = cv::mean(red(middle)), n = cv::mean(navy(middle));
  EXPECT_GT(r[2], r[0] + 40) << "red product expected, got BGR " << r;
  EXPECT_GT(n[0], n[2] + 20) << "navy product expected, got BGR " << n;
  CommandRun bad = Vitrine("stage --colors 'red,#12' " + Path("in"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("not a colour"), std::string::npos) << bad.output;
}

TEST_F(CliTest, StageCutoutInASceneAtItsRealSize) {
  // A room: wall over floor at row 300; 4 px per cm there. A cutout (PNG with alpha) of a red box.
  cv::Mat scene(400, 600, CV_8UC3, cv::Scalar(200, 205, 210));
  scene.rowRange(300, 400).setTo(cv::Scalar(60, 90, 120));
  cv::imwrite(Path("room.png"), scene);
  std::ofstream(Path("room.json")) << R"({"floor_y": 300, "px_per_cm": 4, "light": 150})";
  cv::Mat cutout(160, 200, CV_8UC4, cv::Scalar(0, 0, 0, 0));
  cv::rectangle(cutout, cv::Rect(20, 30, 150, 100), cv::Scalar(20, 20, 220, 255), cv::FILLED);
  cv::imwrite(Path("in/box.png"), cutout);
  CommandRun run = Vitrine("stage --scene " + Path("room.png") + " --size-cm 60,40 -o " +
                           Path("out") + " " + Path("in/box.png"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.find("warning"), std::string::npos) << run.output;
  cv::Mat out = cv::imread(Path("out/box.png"), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(out.type(), CV_8UC3);
  ASSERT_EQ(out.size(), scene.size());
  cv::Mat red;
  cv::inRange(out, cv::Scalar(0, 0, 150), cv::Scalar(120, 120, 255), red);
  const cv::Rect box = cv::boundingRect(red);
  EXPECT_NEAR(box.width, 240, 4) << "60 cm at 4 px/cm";
  EXPECT_NEAR(box.height, 160, 4);
  EXPECT_NEAR(box.br().y, 300, 3) << "stands on the floor";

  // Without the sidecar it still works, and says how to do better.
  fs::remove(Path("room.json"));
  CommandRun plain = Vitrine("stage --scene " + Path("room.png") + " -o " + Path("out2") + " " +
                             Path("in/box.png"));
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_NE(plain.output.find("warning: box: scene"), std::string::npos) << plain.output;
  EXPECT_NE(plain.output.find("docs/staging.md"), std::string::npos) << plain.output;
}

TEST_F(CliTest, OpsJsonListsEverySchema) {
  CommandRun run = Vitrine("ops --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json ops = nlohmann::json::parse(run.output);
  auto cutout =
      std::find_if(ops.begin(), ops.end(), [](auto& op) { return op["name"] == "cutout"; });
  ASSERT_NE(cutout, ops.end());
  EXPECT_EQ((*cutout)["models"], nlohmann::json::array({"isnet"}));
  EXPECT_FALSE((*cutout)["fields"].empty());
}

TEST_F(CliTest, RecipesAreBuiltIntoTheBinary) {
  // A copy of the binary elsewhere still has its recipes: they are compiled in.
  fs::copy_file(VITRINE_BINARY, Path("vitrine"));
  std::string command = Path("vitrine") + " recipes --json 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  ASSERT_EQ(pclose(pipe), 0) << output;
  nlohmann::json recipes = nlohmann::json::parse(output);
  std::vector<std::string> names;
  for (const auto& r : recipes) names.push_back(r["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"localize", "variants", "white-main"}));
  EXPECT_EQ(recipes[0]["candidates"], 8);
  EXPECT_EQ(recipes[0]["variants"].size(), 2u) << "background (with its shadow), composition";
}

TEST_F(CliTest, RecipesChecksAUserRecipeFile) {
  WriteBytes(Path("good.json"),
             R"({"name": "mine", "steps": [{"op": "cutout", "params": {"crop": true}}]})");
  CommandRun good = Vitrine("recipes " + Path("good.json"));
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_NE(good.output.find("1. cutout"), std::string::npos) << good.output;

  WriteBytes(Path("bad.json"),
             R"({"name": "mine", "steps": [{"op": "cutout", "params": {"margin": 3}}]})");
  CommandRun bad = Vitrine("recipes " + Path("bad.json"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("recipe \"mine\": steps[0] (cutout): field \"margin\": 3 is above "
                            "the maximum 1"),
            std::string::npos)
      << bad.output;

  WriteBytes(Path("broken.json"), "{\"name\": \"mine\",\n \"steps\": [}");
  CommandRun broken = Vitrine("recipes " + Path("broken.json"));
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_NE(broken.output.find("line 2"), std::string::npos) << broken.output;

  CommandRun unknown = Vitrine("recipes localise");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("built-in recipes: localize, variants, white-main"),
            std::string::npos)
      << unknown.output;
}

TEST_F(CliTest, RecipesPreviewsTheCandidatesOfAManifest) {
  cv::imwrite(Path("in/a.png"), cv::Mat(32, 32, CV_8UC3, cv::Scalar(9, 9, 9)));
  WriteBytes(Path("two.json"), R"({"name": "two", "steps": [{"op": "cutout"}],
    "variants": {"margin": [{"label": "tight", "step": "cutout", "params": {"margin": 0.02}},
                            {"label": "loose", "step": "cutout", "params": {"margin": 0.2}}]}})");
  WriteBytes(Path("m.csv"), "sku,images\nA1,in/a.png\nB2,in/missing.png\n");
  CommandRun run = Vitrine("recipes " + Path("two.json") + " --manifest " + Path("m.csv"));
  EXPECT_EQ(run.exit_code, 2) << "a skipped row is worth a non-zero exit before a night's run";
  EXPECT_NE(run.output.find("A1: 2 candidates"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("margin=tight"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("line 3: sku 'B2': images: 'in/missing.png' is not a file"),
            std::string::npos)
      << run.output;

  WriteBytes(Path("m.csv"), "sku,images\nA1,in/a.png\n");
  run = Vitrine("recipes --json " + Path("two.json") + " --manifest " + Path("m.csv"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json preview = nlohmann::json::parse(run.output);
  ASSERT_EQ(preview["skus"][0]["candidates"].size(), 2u);
  EXPECT_EQ(preview["skus"][0]["candidates"][1]["steps"][0]["params"]["margin"], 0.2);
}

TEST_F(CliTest, CheckFailsARawPhotoForBackgroundAndFill) {
  cv::Mat photo;  // fruit on a cluttered table: a typical supplier photo
  cv::resize(testdata::SamplePhoto("fruits.jpg"), photo, {1200, 960}, 0, 0, cv::INTER_CUBIC);
  cv::imwrite(Path("in/fruits.jpg"), photo, {cv::IMWRITE_JPEG_QUALITY, 90});

  CommandRun run = Vitrine("check --preset amazon " + Path("in/fruits.jpg"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("FAIL " + Path("in/fruits.jpg")), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("background_border: background is not pure #FFFFFF"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("  fill: "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("limit 85.0% to 98.0%"), std::string::npos) << run.output;
  // Rules that passed are not printed; the size is fine.
  EXPECT_EQ(run.output.find("dimensions:"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("0 of 1 images pass"), std::string::npos) << run.output;

  CommandRun json = Vitrine("check --preset amazon --json " + Path("in/fruits.jpg"));
  EXPECT_EQ(json.exit_code, 1) << json.output;
  nlohmann::json reports = nlohmann::json::parse(json.output);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_FALSE(reports[0]["passed"].get<bool>());
  std::map<std::string, std::string> outcome;
  for (const auto& rule : reports[0]["rules"]) outcome[rule["id"]] = rule["outcome"];
  EXPECT_EQ(outcome["dimensions"], "passed");
  EXPECT_EQ(outcome["format"], "passed");
  EXPECT_EQ(outcome["background_border"], "failed");
  EXPECT_EQ(outcome["background_pure"], "failed");
  EXPECT_EQ(outcome["fill"], "failed");
  EXPECT_EQ(outcome["overlay_text"], "passed");  // no text on the fruit
}

TEST_F(CliTest, CheckCountsUnreadableFilesAsFailures) {
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", cv::Mat(200, 200, CV_8UC3, cv::Scalar(255, 255, 255)), jpeg);
  WriteBytes(Path("in/cut.jpg"), std::string(jpeg.begin(), jpeg.begin() + jpeg.size() / 2));
  CommandRun run = Vitrine("check --preset ebay " + Path("in/cut.jpg") + " " + Path("gone.png"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("truncated"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("gone.png: no such file or folder"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("0 of 2 images pass"), std::string::npos) << run.output;
}

TEST_F(CliTest, BadPresetUsageExitsTwo) {
  cv::imwrite(Path("in/x.png"), cv::Mat(64, 64, CV_8UC3, cv::Scalar(9, 9, 9)));
  CommandRun unknown = Vitrine("check --preset amazonn " + Path("in/x.png"));
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("unknown preset 'amazonn'; choose one of amazon"),
            std::string::npos)
      << unknown.output;
  WriteBytes(Path("mine.json"), R"({"amazon": {"fill": {"min": 2}}})");
  CommandRun bad_file =
      Vitrine("check --preset amazon --presets-file " + Path("mine.json") + " " + Path("in/x.png"));
  EXPECT_EQ(bad_file.exit_code, 2);
  EXPECT_NE(bad_file.output.find("preset 'amazon': field 'fill.min'"), std::string::npos)
      << bad_file.output;
  EXPECT_EQ(Vitrine("check --preset amazon --no-such-flag x").exit_code, 2);
  CommandRun webp = Vitrine("export --preset amazon --format webp " + Path("in"));
  EXPECT_EQ(webp.exit_code, 2);
  EXPECT_NE(webp.output.find("does not accept webp; use jpeg, png"), std::string::npos)
      << webp.output;
}

TEST_F(CliTest, PresetsListsEveryMarketplaceAndUserPresets) {
  CommandRun run = Vitrine("presets");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* name :
       {"amazon", "shopify", "etsy", "ebay", "noon", "mercadolibre", "temu", "generic-square"}) {
    EXPECT_NE(run.output.find(std::string(name) + " "), std::string::npos) << name;
  }
  EXPECT_NE(run.output.find("background #FFFFFF pure; fill 90% (85-98%)"), std::string::npos)
      << run.output;
  WriteBytes(Path("mine.json"), R"({"my-shop": {"canvas": [1000, 1000], "background": "#EEEEEE",
      "fill": {"target": 0.8}, "formats": ["webp"]}})");
  CommandRun json = Vitrine("presets --json", "VITRINE_PRESETS=" + Path("mine.json"));
  ASSERT_EQ(json.exit_code, 0) << json.output;
  nlohmann::json all = nlohmann::json::parse(json.output);
  EXPECT_EQ(all.size(), 9u);
  EXPECT_EQ(all.front()["name"], "amazon");  // sorted by name
  auto mine = std::find_if(all.begin(), all.end(), [](auto& p) { return p["name"] == "my-shop"; });
  ASSERT_NE(mine, all.end());
  EXPECT_EQ((*mine)["formats"], nlohmann::json::array({"webp"}));
}

// A supplier photo cut out, exported for Amazon, and the file passes `vitrine check`.
TEST_F(CliTest, CutoutThenExportPassesTheAmazonCheck) {
  testdata::Composite c = testdata::MakeComposite({640, 480}, testdata::Backdrop::kGradient, 21);
  cv::imwrite(Path("in/raw.jpg"), c.bgr, {cv::IMWRITE_JPEG_QUALITY, 95});
  CommandRun raw = Vitrine("check --preset amazon " + Path("in/raw.jpg"));
  EXPECT_EQ(raw.exit_code, 1) << raw.output;

  CommandRun cut = Vitrine("cutout --background white --crop --margin 0.04 -o " + Path("cut") +
                           " " + Path("in/raw.jpg"));
  ASSERT_EQ(cut.exit_code, 0) << cut.output;
  CommandRun exported = Vitrine("export --preset amazon -o " + Path("out") + " " + Path("cut"));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  EXPECT_NE(exported.output.find("exported 1 of 1 images"), std::string::npos) << exported.output;
  cv::Mat out = cv::imread(Path("out/raw.jpg"), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(out.type(), CV_8UC3);
  EXPECT_EQ(out.size(), cv::Size(2000, 2000));

  CommandRun check = Vitrine("check --preset amazon --json " + Path("out/raw.jpg"));
  EXPECT_EQ(check.exit_code, 0) << check.output;
  // An independent reading of Amazon's rules: white corners, the product spans >= 85%.
  for (cv::Point corner : {cv::Point(0, 0), cv::Point(1999, 0), cv::Point(0, 1999)}) {
    EXPECT_EQ(out.at<cv::Vec3b>(corner), cv::Vec3b(255, 255, 255));
  }
  cv::Mat grey;
  cv::cvtColor(out, grey, cv::COLOR_BGR2GRAY);
  cv::Rect box = cv::boundingRect(grey < 200);
  EXPECT_GE(std::max(box.width, box.height), 0.85 * 2000) << box;

  // A product on a grey backdrop is refused, not written.
  fs::create_directories(Path("cut2"));
  testdata::Composite studio = testdata::ProductOnColour({600, 600}, 0.9, {200, 200, 200}, 22);
  cv::imwrite(Path("cut2/raw.png"), studio.bgr);
  CommandRun refused = Vitrine("export --preset amazon -o " + Path("out2") + " " + Path("cut2"));
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("fails the amazon preset: background_plain"), std::string::npos)
      << refused.output;
  EXPECT_FALSE(fs::exists(Path("out2/raw.jpg")));
}

// A raw supplier photo goes straight to a compliant main image with `stage --preset`; the result
// passes `vitrine check` and an independent reading of each marketplace's published rules.
TEST_F(CliTest, StageWithAPresetMakesACompliantMainImage) {
  testdata::Composite c = testdata::MakeComposite({640, 480}, testdata::Backdrop::kGradient, 23);
  cv::imwrite(Path("in/raw.jpg"), c.bgr, {cv::IMWRITE_JPEG_QUALITY, 95});
  struct Rules {
    const char* preset;
    cv::Size size;
    double min_fill, max_fill;  // the product's span along its limiting axis
    double margin_x, margin_y;  // least left/right and top/bottom margin, share of the side
    bool pure_white;            // the whole background at RGB 255 (Shopify allows any)
  };
  // Amazon: pure white, 85-98% fill; Noon: 1100x1500, 60-90% fill, 5% side and 10% top/bottom
  // margins; Shopify: 2048 square. (docs/presets.md cites the published rules.)
  for (const Rules& rules : {Rules{"amazon", {2000, 2000}, 0.85, 0.98, 0, 0, true},
                             Rules{"noon", {1100, 1500}, 0.6, 0.9, 0.05, 0.10, true},
                             Rules{"shopify", {2048, 2048}, 0.6, 0.98, 0, 0, false}}) {
    const std::string out = Path(std::string("staged_") + rules.preset);
    CommandRun run = Vitrine(std::string("stage --preset ") + rules.preset + " -o " + out + " " +
                             Path("in/raw.jpg"));
    ASSERT_EQ(run.exit_code, 0) << rules.preset << run.output;
    std::string file;
    for (const auto& entry : fs::directory_iterator(out)) file = entry.path().string();
    ASSERT_FALSE(file.empty()) << rules.preset;
    CommandRun check = Vitrine(std::string("check --preset ") + rules.preset + " " + file);
    EXPECT_EQ(check.exit_code, 0) << rules.preset << check.output;

    cv::Mat image = cv::imread(file, cv::IMREAD_UNCHANGED);
    ASSERT_EQ(image.type(), CV_8UC3) << rules.preset;
    EXPECT_EQ(image.size(), rules.size) << rules.preset;
    // Fill and margins from the product's box (pixels clearly off white).
    cv::Mat grey;
    cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
    const cv::Rect box = cv::boundingRect(grey < 235);
    const double fill = std::max(double(box.width) / image.cols, double(box.height) / image.rows);
    EXPECT_GE(fill, rules.min_fill) << rules.preset << " " << box;
    EXPECT_LE(fill, rules.max_fill) << rules.preset << " " << box;
    EXPECT_GE(box.x, rules.margin_x * image.cols - 1) << rules.preset << " " << box;
    EXPECT_GE(image.cols - box.br().x, rules.margin_x * image.cols - 1) << rules.preset << box;
    EXPECT_GE(box.y, rules.margin_y * image.rows - 1) << rules.preset << " " << box;
    EXPECT_GE(image.rows - box.br().y, rules.margin_y * image.rows - 1) << rules.preset << box;
    // Pure white at the border, all the way round, where the marketplace requires it.
    if (!rules.pure_white) continue;
    cv::Mat border_ok;
    cv::inRange(image, cv::Scalar(255, 255, 255), cv::Scalar(255, 255, 255), border_ok);
    EXPECT_EQ(cv::countNonZero(border_ok.row(0)), image.cols) << rules.preset;
    EXPECT_EQ(cv::countNonZero(border_ok.row(image.rows - 1)), image.cols) << rules.preset;
    EXPECT_EQ(cv::countNonZero(border_ok.col(0)), image.rows) << rules.preset;
    EXPECT_EQ(cv::countNonZero(border_ok.col(image.cols - 1)), image.rows) << rules.preset;
  }
}

TEST_F(CliTest, APaleCutoutGetsAMainImageThatItsOwnCheckPasses) {
  // A white bowl cut out: body a few levels off white, a highlight one level off, soft rim.
  cv::Mat bgra(400, 460, CV_8UC4, cv::Scalar(247, 249, 250, 0));
  cv::Mat alpha(bgra.size(), CV_8UC1, cv::Scalar(0));
  cv::ellipse(alpha, {230, 200}, {200, 170}, 0, 0, 360, 255, -1, cv::LINE_AA);
  cv::GaussianBlur(alpha, alpha, {0, 0}, 1.5);
  cv::ellipse(bgra, {200, 150}, {80, 50}, 0, 0, 360, cv::Scalar(254, 255, 254, 255), -1);
  cv::insertChannel(alpha, bgra, 3);
  cv::imwrite(Path("in/bowl.png"), bgra);
  for (const char* preset : {"amazon", "noon"}) {
    const std::string out = Path(std::string("pale_") + preset);
    CommandRun run =
        Vitrine(std::string("stage --preset ") + preset + " -o " + out + " " + Path("in/bowl.png"));
    ASSERT_EQ(run.exit_code, 0) << preset << run.output;
    const std::string file = out + "/bowl.jpg";
    CommandRun check = Vitrine(std::string("check --preset ") + preset + " " + file);
    EXPECT_EQ(check.exit_code, 0) << preset << check.output;
    // Independently: pure white all round, and the bowl (pixels off white) within the fill range.
    const cv::Mat image = cv::imread(file);
    ASSERT_FALSE(image.empty()) << preset;
    cv::Mat white;
    cv::inRange(image, cv::Scalar::all(255), cv::Scalar::all(255), white);
    EXPECT_EQ(cv::countNonZero(white.row(0)) + cv::countNonZero(white.row(image.rows - 1)),
              2 * image.cols)
        << preset;
    EXPECT_EQ(cv::countNonZero(white.col(0)) + cv::countNonZero(white.col(image.cols - 1)),
              2 * image.rows)
        << preset;
    const cv::Rect box = cv::boundingRect(~white);
    const double fill = std::max(double(box.width) / image.cols, double(box.height) / image.rows);
    EXPECT_GE(fill, std::string(preset) == "amazon" ? 0.85 : 0.6) << preset << box;
    EXPECT_LE(fill, std::string(preset) == "amazon" ? 0.98 : 0.9) << preset << box;
  }
}

TEST_F(CliTest, RemoveTextCleansPhotosAndReportsWhatItFound) {
  testdata::TextStyle style;
  style.text = "厂家直销 包邮";
  style.pixel_height = 36;
  style.center = {200, 36};
  const testdata::Composite scene =
      testdata::MakeComposite({480, 360}, testdata::Backdrop::kFlat, 6);
  cv::imwrite(Path("in/promo.png"), testdata::RenderText(scene.bgr, style).bgr);
  cv::imwrite(Path("in/clean.png"), scene.bgr);

  // A raw photo with promotion text fails the check for text; the cleaned one does not.
  CommandRun check = Vitrine("check --preset amazon " + Path("in/promo.png"));
  EXPECT_NE(check.output.find("overlay_text: overlay text"), std::string::npos) << check.output;

  CommandRun run = Vitrine("remove-text -o " + Path("out") + " --report " + Path("report.json") +
                           " " + Path("in") + " " + Path("missing.png"));
  EXPECT_EQ(run.exit_code, 1) << run.output;  // the missing file
  EXPECT_NE(run.output.find("cleaned 2 of 3 images"), std::string::npos) << run.output;
  const cv::Mat clean_out = cv::imread(Path("out/clean.png"));
  ASSERT_FALSE(clean_out.empty());
  EXPECT_EQ(cv::norm(clean_out, scene.bgr, cv::NORM_INF), 0) << "an image without text changed";
  ASSERT_FALSE(cv::imread(Path("out/promo.png")).empty());

  std::ifstream in(Path("report.json"));
  const nlohmann::json report = nlohmann::json::parse(in);
  ASSERT_EQ(report.size(), 2u);
  const nlohmann::json& promo = report[1];
  EXPECT_EQ(promo["file"], Path("in/promo.png"));
  ASSERT_FALSE(promo["regions"].empty());
  const nlohmann::json& region = promo["regions"][0];
  EXPECT_EQ(region["kind"], "overlay");
  EXPECT_NE(region["text"].get<std::string>().find("直销"), std::string::npos) << region.dump();
  EXPECT_GE(region["polygon"].size(), 4u);
  EXPECT_GT(region["confidence"].get<double>(), 0.5);
  EXPECT_GE(promo["removed"].get<int>(), 1);
  EXPECT_TRUE(promo["residual"]["regions"].empty());
  EXPECT_LE(promo["residual"]["share"].get<double>(), 0.05);
  for (const char* step : {"detect", "recognise", "classify", "inpaint", "verify"}) {
    EXPECT_GE(promo["timings"][step].get<double>(), 0.0) << step;
  }
  // With one image at a time the process's CPU time is the image's: the report gives it per step.
  CommandRun one = Vitrine("remove-text --jobs 1 -o " + Path("out1") + " --report " +
                           Path("report1.json") + " " + Path("in/promo.png"));
  EXPECT_EQ(one.exit_code, 0) << one.output;
  std::ifstream in1(Path("report1.json"));
  const nlohmann::json report1 = nlohmann::json::parse(in1);
  ASSERT_EQ(report1.size(), 1u);
  double cpu = 0;
  for (const char* step : {"detect", "recognise", "classify", "inpaint", "verify"}) {
    cpu += report1[0]["cpu_timings"][step].get<double>();
  }
  EXPECT_GT(cpu, 0.0) << report1[0].dump();
  // The outlined caption goes whether or not it lies on the product, so no ISNet mask was needed,
  // and the report says why it would go either way.
  EXPECT_EQ(promo["product_mask"], "none") << promo.dump();
  EXPECT_NE(region["why"].get<std::string>().find("if not on the product"), std::string::npos)
      << region.dump();

  CommandRun bad_scope = Vitrine("remove-text --scope some " + Path("in"));
  EXPECT_EQ(bad_scope.exit_code, 2) << bad_scope.output;
  EXPECT_NE(bad_scope.output.find("--scope"), std::string::npos) << bad_scope.output;
}

TEST_F(CliTest, EveryCommandHasHelp) {
  for (const char* command :
       {"", "cutout", "models", "ops", "config", "check", "presets", "export", "stage", "recipes",
        "run", "remove-text", "serve", "worker", "keys", "keys create", "keys revoke"}) {
    CommandRun run = Vitrine(std::string(command) + " --help");
    EXPECT_EQ(run.exit_code, 0) << command;
    EXPECT_NE(run.output.find("Usage"), std::string::npos) << command << run.output;
  }
}

}  // namespace
}  // namespace vitrine
