#include "ops/text_scope.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "models/test_runtime.h"
#include "ops/inpaint.h"
#include "ops/remove_text.h"
#include "tests/testdata.h"
#include "tests/text_render.h"

namespace vitrine::ops {
namespace {

using testdata::RenderedText;
using testdata::RenderText;
using testdata::TextStyle;

const cv::Size kSize(560, 420);

const models::TextDetector& Detector() {
  Result<const models::TextDetector*> detector = models::TestRuntime().text_detector();
  EXPECT_TRUE(detector.ok()) << detector.status().message();
  return **detector;
}

// The detected regions of `bgr` that cover pixels of `mask`.
std::vector<models::TextRegion> RegionsOn(const cv::Mat& bgr, const cv::Mat& mask) {
  Result<std::vector<models::TextRegion>> regions = Detector().Detect(bgr);
  EXPECT_TRUE(regions.ok());
  std::vector<models::TextRegion> out;
  for (const models::TextRegion& region : *regions) {
    if (cv::countNonZero(models::RegionMask(bgr.size(), {region}) & mask) > 0) {
      out.push_back(region);
    }
  }
  return out;
}

// What the recogniser reads in the regions of `bgr` over `mask`, one line each.
std::string ReadOn(const cv::Mat& bgr, const cv::Mat& mask) {
  Result<const models::TextRecognizer*> recognizer = models::TestRuntime().text_recognizer();
  EXPECT_TRUE(recognizer.ok());
  std::string text;
  for (const models::TextRegion& region : RegionsOn(bgr, mask)) {
    Result<models::RecognizedText> read = (*recognizer)->Recognize(bgr, region);
    if (read.ok()) text += read->text + "\n";
  }
  return text;
}

// The demo's orange: a red caption with a white outline and a white price on a red banner, both
// drawn across the middle of the product, as a supplier adds them.
RenderedText DemoOverlays(const testdata::Composite& scene, RenderedText* caption_out) {
  const cv::Rect product = cv::boundingRect(scene.alpha > 128);
  const cv::Point2f centre = (product.tl() + product.br()) / 2;
  TextStyle caption;
  caption.text = "包邮 正品";
  caption.bold = true;
  caption.pixel_height = 34;
  caption.color = {0, 0, 230};
  caption.outline_width = 3;
  caption.outline_color = {255, 255, 255};
  caption.center = {centre.x, centre.y - 40};
  *caption_out = RenderText(scene.bgr, caption);
  TextStyle banner;
  banner.text = "¥59";
  banner.bold = true;
  banner.pixel_height = 34;
  banner.color = {255, 255, 255};
  banner.banner = true;
  banner.banner_color = {30, 30, 220};
  banner.center = {centre.x, centre.y + 45};
  return RenderText(caption_out->bgr, banner);
}

TEST(TextScopeTest, OverlayDrawnOverTheProductIsRemovedUnderOverlayScope) {
  const testdata::Composite scene = testdata::MakeComposite(kSize, testdata::Backdrop::kFlat, 12);
  RenderedText caption;
  const RenderedText both = DemoOverlays(scene, &caption);
  // Both graphics lie on the product, so the old rule (text on the product is product text)
  // kept them.
  cv::Mat on_product = caption.mask | both.mask;
  ASSERT_EQ(cv::countNonZero(on_product & (scene.alpha < 128)), 0);

  RemoveTextReport report;
  Result<Image> out = RemoveText(Image{both.bgr}, {}, models::TestRuntime(), &report);
  ASSERT_TRUE(out.ok()) << out.status().message();
  int drawn = 0;
  for (const TextFinding& f : report.regions) {
    SCOPED_TRACE(f.text + ": " + f.why);
    models::TextRegion region;
    region.polygon = f.polygon;
    if (cv::countNonZero(models::RegionMask(kSize, {region}) & on_product) == 0) continue;
    EXPECT_TRUE(f.overlay);
    EXPECT_TRUE(f.removed);
    drawn += f.why.rfind("drawn over the product", 0) == 0;
  }
  EXPECT_GE(drawn, 2) << "the caption and the price are decided by the drawn-over cues";
  // Caption, outline, banner and its text are gone: nothing there reads as them any more (the
  // orange's texture gives the detector some signal of its own, so the test reads what is left).
  const std::string left = ReadOn(out->bgr, on_product);
  EXPECT_EQ(left.find("包邮"), std::string::npos) << left;
  EXPECT_EQ(left.find("59"), std::string::npos) << left;
  // The product around them is untouched.
  cv::Mat outside;
  cv::bitwise_not(on_product, outside);
  EXPECT_GE(MaskedPsnr(out->bgr, scene.bgr, outside), 40.0);
  // The banner box went whole: no patch of its red is left.
  cv::Mat red;
  cv::inRange(out->bgr, cv::Scalar(0, 0, 180), cv::Scalar(70, 70, 255), red);
  EXPECT_LT(cv::countNonZero(red & both.mask), 20);

  // QA's "text left" measure sees the overlay before and nothing after.
  const auto area = OverlayTextArea(models::TestRuntime());
  Result<double> area_before = area(both.bgr, cv::Mat());
  Result<double> area_after = area(out->bgr, cv::Mat());
  ASSERT_TRUE(area_before.ok() && area_after.ok());
  EXPECT_GT(*area_before, 0.005);
  EXPECT_EQ(*area_after, 0.0);
}

TEST(TextScopeTest, CuesTellDrawnGraphicsFromPhotographedPrint) {
  const testdata::Composite scene = testdata::MakeComposite(kSize, testdata::Backdrop::kFlat, 14);
  RenderedText caption;
  const RenderedText both = DemoOverlays(scene, &caption);
  for (const models::TextRegion& region : RegionsOn(both.bgr, both.text_mask)) {
    const OverlayCues cues = MeasureOverlayCues(both.bgr, region);
    SCOPED_TRACE(cues.Describe());
    EXPECT_GE(cues.score, kDrawnOverScore);
    EXPECT_TRUE(cues.outline || cues.banner);
    EXPECT_TRUE(cues.flat);
  }

  // The same words printed on the product and photographed: shaded with the product's light and
  // softened by the lens.
  TextStyle print;
  print.text = "有机茶 ORGANIC";
  print.pixel_height = 30;
  print.color = {40, 40, 150};
  const cv::Rect product = cv::boundingRect(scene.alpha > 128);
  print.center = (product.tl() + product.br()) / 2;
  const RenderedText flat_print = RenderText(scene.bgr, print);
  cv::Mat photographed;
  cv::GaussianBlur(flat_print.bgr, photographed, cv::Size(), 1.0);
  photographed.convertTo(photographed, CV_32FC3);
  cv::Mat light(kSize, CV_32FC1);
  for (int y = 0; y < kSize.height; ++y) {
    for (int x = 0; x < kSize.width; ++x) light.at<float>(y, x) = 0.8f + 0.4f * x / kSize.width;
  }
  cv::Mat light3;
  cv::merge(std::vector<cv::Mat>{light, light, light}, light3);
  photographed = photographed.mul(light3);
  cv::RNG rng(3);
  cv::Mat noise(kSize, CV_32FC3);
  rng.fill(noise, cv::RNG::NORMAL, 0, 3);
  photographed += noise;
  photographed.convertTo(photographed, CV_8UC3);
  const std::vector<models::TextRegion> printed = RegionsOn(photographed, flat_print.text_mask);
  ASSERT_FALSE(printed.empty());
  for (const models::TextRegion& region : printed) {
    const OverlayCues cues = MeasureOverlayCues(photographed, region);
    SCOPED_TRACE(cues.Describe());
    EXPECT_LT(cues.score, kDrawnOverScore);
    EXPECT_FALSE(cues.banner);
    EXPECT_FALSE(cues.outline);
  }
}

TEST(TextScopeTest, BannerRunningOffTheEdgeIsRemovedWhole) {
  const testdata::Composite scene =
      testdata::MakeComposite(kSize, testdata::Backdrop::kGradient, 16);
  // A bar across the lower third, from mid-image to past the right edge, over the product and
  // the backdrop, with a price on it.
  cv::Mat bar = scene.bgr.clone();
  const cv::Rect box(200, 300, kSize.width - 200, 64);
  cv::rectangle(bar, box, cv::Scalar(40, 40, 200), cv::FILLED, cv::LINE_AA);
  TextStyle price;
  price.text = "今日下单 188元";
  price.bold = true;
  price.pixel_height = 38;
  price.color = {255, 255, 255};
  price.center = {box.x + box.width / 2.0f, box.y + box.height / 2.0f};
  const RenderedText rendered = RenderText(bar, price);
  cv::Mat graphic(kSize, CV_8UC1, cv::Scalar(0));
  graphic(box).setTo(255);
  graphic |= rendered.mask;

  RemoveTextReport report;
  Result<Image> out = RemoveText(Image{rendered.bgr}, {}, models::TestRuntime(), &report);
  ASSERT_TRUE(out.ok()) << out.status().message();
  bool removed = false;
  for (const TextFinding& f : report.regions) removed |= f.removed;
  ASSERT_TRUE(removed);
  // None of the bar is left: its red is gone everywhere, up to the image's edge.
  cv::Mat red;
  cv::inRange(out->bgr, cv::Scalar(0, 0, 150), cv::Scalar(90, 90, 255), red);
  EXPECT_LT(cv::countNonZero(red & graphic), box.area() / 100)
      << "pixels of the bar left (of " << box.area() << ")";
  const std::string left = ReadOn(out->bgr, graphic);
  EXPECT_EQ(left.find("188"), std::string::npos) << left;
}

TEST(TextScopeTest, CleanProductPhotosHaveNoOverlayText) {
  const auto area = OverlayTextArea(models::TestRuntime());
  int seed = 20;
  for (testdata::Backdrop backdrop : {testdata::Backdrop::kFlat, testdata::Backdrop::kGradient,
                                      testdata::Backdrop::kBlurredRoom}) {
    for (int i = 0; i < 2; ++i) {
      const testdata::Composite scene = testdata::MakeComposite(kSize, backdrop, seed++);
      Result<double> overlay = area(scene.bgr, cv::Mat());
      ASSERT_TRUE(overlay.ok()) << overlay.status().message();
      EXPECT_EQ(*overlay, 0.0) << "seed " << seed - 1;
    }
  }
}

}  // namespace
}  // namespace vitrine::ops
