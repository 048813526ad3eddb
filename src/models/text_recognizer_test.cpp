#include "models/text_recognizer.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <thread>

#include "core/text.h"
#include "models/test_runtime.h"
#include "tests/testdata.h"
#include "tests/text_render.h"

namespace vitrine::models {
namespace {

using testdata::RenderedText;
using testdata::RenderText;
using testdata::TextStyle;

class TextRecognizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<const TextDetector*> detector = TestRuntime().text_detector();
    ASSERT_TRUE(detector.ok()) << detector.status().ToString();
    Result<const TextRecognizer*> recognizer = TestRuntime().text_recognizer();
    ASSERT_TRUE(recognizer.ok()) << recognizer.status().ToString();
    detector_ = *detector;
    recognizer_ = *recognizer;
  }

  // Detects the text of `image` and reads the region covering most of `text_mask`.
  static RecognizedText ReadMain(const cv::Mat& image, const cv::Mat& text_mask) {
    Result<std::vector<TextRegion>> regions = detector_->Detect(image);
    EXPECT_TRUE(regions.ok()) << regions.status().ToString();
    if (!regions.ok() || regions->empty()) return {};
    const TextRegion* best = nullptr;
    int best_overlap = -1;
    for (const TextRegion& region : *regions) {
      const int overlap = cv::countNonZero(RegionMask(image.size(), {region}) & text_mask);
      if (overlap > best_overlap) best_overlap = overlap, best = &region;
    }
    Result<RecognizedText> text = recognizer_->Recognize(image, *best);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? *text : RecognizedText{};
  }

  static const TextDetector* detector_;
  static const TextRecognizer* recognizer_;
};
const TextDetector* TextRecognizerTest::detector_ = nullptr;
const TextRecognizer* TextRecognizerTest::recognizer_ = nullptr;

TEST_F(TextRecognizerTest, DictionaryMatchesTheModel) {
  EXPECT_EQ(recognizer_->dictionary_size(), 6623u);
}

TEST_F(TextRecognizerTest, ReadsRenderedPromotionText) {
  struct Case {
    std::string text;
    int height;
    cv::Scalar color;
    double rotation;
    bool banner;
  };
  const std::vector<Case> cases = {
      {"包邮", 40, {0, 0, 220}, 0, false},      {"包邮", 24, {255, 255, 255}, 0, true},
      {"SALE", 36, {20, 20, 20}, 0, false},     {"SALE", 30, {255, 255, 255}, 12, true},
      {"厂家直销", 44, {0, 0, 200}, -8, false}, {"¥99", 48, {0, 0, 230}, 0, false},
  };
  for (const char* photo : {"fruits.jpg", "orange.jpg"}) {
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(photo) + ": " + c.text + " at " + std::to_string(c.height) + " px");
      TextStyle s;
      s.text = c.text;
      s.pixel_height = c.height;
      s.color = c.color;
      s.rotation_deg = c.rotation;
      s.banner = c.banner;
      s.outline_width = c.banner ? 0 : 2;
      s.outline_color = {255, 255, 255};
      const RenderedText rendered = RenderText(testdata::SamplePhoto(photo, {480, 360}), s);
      const RecognizedText read = ReadMain(rendered.bgr, rendered.text_mask);
      EXPECT_LE(EditDistance(read.text, c.text), 1u) << "read \"" << read.text << "\"";
      EXPECT_GT(read.confidence, 0.5f);
    }
  }
}

TEST_F(TextRecognizerTest, ReadsVerticalLinesTopToBottom) {
  TextStyle s;
  s.text = "SALE 50% OFF";
  s.pixel_height = 32;
  s.color = {0, 0, 0};
  s.rotation_deg = -90;  // clockwise: reads downwards
  const RenderedText rendered = RenderText(testdata::SamplePhoto("orange.jpg", {360, 480}), s);
  const RecognizedText read = ReadMain(rendered.bgr, rendered.text_mask);
  EXPECT_LE(EditDistance(read.text, "SALE 50% OFF"), 1u) << "read \"" << read.text << "\"";
}

TEST_F(TextRecognizerTest, ReadsLinesLongerThanTheNetInput) {
  // About 1000 px at the net's 48 px height: three pieces, cut between characters.
  const std::string line = "厂家直销全场包邮限时特价买一送一正品保证";
  cv::Mat canvas(64, 1400, CV_8UC3, cv::Scalar(245, 245, 245));
  TextStyle s;
  s.text = line;
  s.pixel_height = 48;
  s.color = {0, 0, 0};
  const RenderedText rendered = RenderText(canvas, s);
  const cv::Rect ink = cv::boundingRect(rendered.text_mask);
  const cv::Rect with_margin =
      cv::Rect(ink.x - 8, ink.y - 8, ink.width + 16, ink.height + 16) & cv::Rect({}, canvas.size());
  Result<RecognizedText> read = recognizer_->RecognizeLine(rendered.bgr(with_margin));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_LE(EditDistance(read->text, line), 2u) << "read \"" << read->text << "\"";
}

TEST_F(TextRecognizerTest, BlankGreyAndTinyInputsReadNothingAndDoNotFail) {
  Result<RecognizedText> blank =
      recognizer_->RecognizeLine(cv::Mat(48, 200, CV_8UC3, cv::Scalar::all(255)));
  ASSERT_TRUE(blank.ok());
  EXPECT_EQ(blank->text, "");
  EXPECT_EQ(blank->confidence, 0.0f);

  TextStyle s;
  s.text = "SALE";
  s.pixel_height = 40;
  s.color = {0, 0, 0};
  const RenderedText rendered = RenderText(cv::Mat(60, 160, CV_8UC3, cv::Scalar::all(255)), s);
  cv::Mat grey;
  cv::cvtColor(rendered.bgr, grey, cv::COLOR_BGR2GRAY);
  Result<RecognizedText> read = recognizer_->RecognizeLine(grey);
  ASSERT_TRUE(read.ok());
  EXPECT_LE(EditDistance(read->text, "SALE"), 1u) << "read \"" << read->text << "\"";

  for (const cv::Size& size : {cv::Size(1, 1), cv::Size(32, 32), cv::Size(600, 4)}) {
    EXPECT_TRUE(recognizer_->RecognizeLine(testdata::SamplePhoto("fruits.jpg", size)).ok());
  }
  TextRegion degenerate;
  degenerate.box = cv::RotatedRect({5, 5}, {0, 0}, 0);
  Result<RecognizedText> none =
      recognizer_->Recognize(testdata::SamplePhoto("fruits.jpg", {32, 32}), degenerate);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->text, "");
  EXPECT_EQ(recognizer_->RecognizeLine(cv::Mat()).status().code(), Code::kInvalidArgument);
}

TEST_F(TextRecognizerTest, ThreadsReadingAtOnceGetWhatOneThreadGets) {
  std::vector<cv::Mat> lines;
  for (const char* text : {"包邮", "SALE 50% OFF", "厂家直销", "¥99"}) {
    const RenderedText r = RenderText(cv::Mat(64, 400, CV_8UC3, cv::Scalar::all(250)),
                                      {.text = text, .pixel_height = 40, .color = {0, 0, 0}});
    lines.push_back(r.bgr(cv::boundingRect(r.text_mask) + cv::Size(8, 8) - cv::Point(4, 4)));
  }
  std::vector<std::string> expected;
  for (const cv::Mat& line : lines) {
    Result<RecognizedText> read = recognizer_->RecognizeLine(line);
    ASSERT_TRUE(read.ok());
    expected.push_back(read->text);
  }
  std::vector<std::string> got(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Result<RecognizedText> read = recognizer_->RecognizeLine(lines[t % lines.size()]);
      if (read.ok()) got[t] = read->text;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(got[t], expected[t % lines.size()]) << "thread " << t;
  EXPECT_EQ(expected[0], "包邮");
}

TEST(CtcTest, CollapsesRepeatsAndDropsBlanks) {
  // "a a _ a b b _ _ b" reads "a a b b" (a blank separates a doubled symbol).
  EXPECT_EQ(CtcKeptSteps({1, 1, 0, 1, 2, 2, 0, 0, 2}), (std::vector<int>{0, 3, 4, 8}));
  EXPECT_TRUE(CtcKeptSteps({0, 0, 0}).empty());
}

}  // namespace
}  // namespace vitrine::models
