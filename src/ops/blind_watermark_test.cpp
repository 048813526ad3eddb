#include "ops/blind_watermark.h"

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

// The demo catalogue's shop watermark: a light grey shop name tiled at 25°.
TextStyle FaintShopWatermark(double opacity, int pixel_height) {
  TextStyle style;
  style.text = "优品旗舰店";
  style.pixel_height = pixel_height;
  style.color = cv::Scalar(200, 200, 200);
  style.opacity = opacity;
  style.rotation_deg = 25;
  style.tile = true;
  return style;
}

// Largest per-channel difference of two CV_8UC3 images, per pixel (CV_8UC1).
cv::Mat MaxChannelDiff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff, planes[3];
  cv::absdiff(a, b, diff);
  cv::split(diff, planes);
  return cv::max(cv::max(planes[0], planes[1]), planes[2]);
}

// Share of the watermark's pixels (those it changed by at least 6 levels) that `out` still
// differs from `clean` by at least half as much as the watermark did.
double ShareLeft(const cv::Mat& clean, const cv::Mat& marked, const cv::Mat& out) {
  const cv::Mat drawn = MaxChannelDiff(marked, clean), left = MaxChannelDiff(out, clean);
  int pixels = 0, kept = 0;
  for (int y = 0; y < clean.rows; ++y) {
    for (int x = 0; x < clean.cols; ++x) {
      const int d = drawn.at<uchar>(y, x);
      if (d < 6) continue;
      ++pixels;
      kept += 2 * left.at<uchar>(y, x) >= d;
    }
  }
  return pixels ? static_cast<double>(kept) / pixels : 0;
}

class BlindWatermarkTest : public ::testing::Test {
 protected:
  static Image Run(const cv::Mat& bgr, RemoveTextReport* report) {
    Image input;
    input.bgr = bgr;
    Result<Image> out = RemoveText(input, {}, models::TestRuntime(), report);
    EXPECT_TRUE(out.ok()) << out.status().message();
    return out.ok() ? *out : input;
  }
};

TEST_F(BlindWatermarkTest, FaintTiledWatermarkTheDetectorMissesIsRemoved) {
  // A product in the middle of a white backdrop under a light grey shop name at 0.25–0.35: too
  // faint for the detector (no region at any copy), so only the blind search can find it.
  for (double opacity : {0.25, 0.35}) {
    const testdata::Composite photo =
        testdata::ProductOnColour({360, 270}, 0.55, cv::Vec3b(255, 255, 255), 3);
    const RenderedText marked = RenderText(photo.bgr, FaintShopWatermark(opacity, 18));
    RemoveTextReport report;
    const Image out = Run(marked.bgr, &report);
    const double left = ShareLeft(photo.bgr, marked.bgr, out.bgr);
    cv::Mat outside;
    cv::bitwise_not(marked.mask, outside);
    const double kept = MaskedPsnr(out.bgr, photo.bgr, outside);
    const double inside = MaskedPsnr(out.bgr, photo.bgr, marked.mask);
    std::printf("opacity %.2f: %d copies at %.2f, left %.1f%%, PSNR in %.1f dB, outside %.1f dB\n",
                opacity, report.watermark_copies, report.watermark_opacity, 100 * left, inside,
                kept);
    EXPECT_GE(report.watermark_copies, kMinCopies) << "opacity " << opacity;
    EXPECT_LE(left, 0.05) << "opacity " << opacity;
    EXPECT_GE(kept, 40) << "opacity " << opacity;
  }
}

// Regular product patterns with no watermark: the lattice they make is no watermark's.
std::vector<std::pair<const char*, cv::Mat>> RepeatedProducts() {
  std::vector<std::pair<const char*, cv::Mat>> out;
  // A grid of identical objects (a pack of jars: a dark outline, a label band, a tilted stripe).
  cv::Mat grid(270, 360, CV_8UC3, cv::Scalar(255, 255, 255));
  for (int row = 0; row < 3; ++row) {
    for (int col = 0; col < 4; ++col) {
      const cv::Point c(50 + col * 87, 45 + row * 90);
      cv::ellipse(grid, c, {32, 38}, 0, 0, 360, cv::Scalar(60, 120, 200), cv::FILLED, cv::LINE_AA);
      cv::ellipse(grid, c, {32, 38}, 0, 0, 360, cv::Scalar(30, 40, 60), 2, cv::LINE_AA);
      cv::rectangle(grid, cv::Rect(c.x - 24, c.y - 8, 48, 16), cv::Scalar(240, 240, 240),
                    cv::FILLED);
      cv::line(grid, c + cv::Point(-20, 6), c + cv::Point(20, -6), cv::Scalar(40, 40, 160), 2,
               cv::LINE_AA);
    }
  }
  out.push_back({"grid of jars", grid});
  // Diagonal stripes (a tie's fabric) and a check of thin lines (a shirt's), with weave noise.
  cv::Mat stripes(270, 360, CV_8UC3), check(270, 360, CV_8UC3);
  cv::RNG rng(7);
  for (int y = 0; y < 270; ++y) {
    for (int x = 0; x < 360; ++x) {
      const int noise = rng.uniform(-6, 7);
      const bool stripe = ((x + y) / 9) % 3 == 0;
      stripes.at<cv::Vec3b>(y, x) =
          stripe ? cv::Vec3b(cv::saturate_cast<uchar>(40 + noise), 40, 150)
                 : cv::Vec3b(200, cv::saturate_cast<uchar>(200 + noise), 210);
      const bool line = x % 24 < 2 || y % 24 < 2;
      const bool band = (x / 12) % 2 == (y / 12) % 2;
      const uchar v = cv::saturate_cast<uchar>((line ? 60 : band ? 190 : 230) + noise);
      check.at<cv::Vec3b>(y, x) = cv::Vec3b(v, v, cv::saturate_cast<uchar>(v + 20));
    }
  }
  out.push_back({"diagonal stripes", stripes});
  out.push_back({"check", check});
  return out;
}

TEST_F(BlindWatermarkTest, RegularProductPatternsAreNoWatermark) {
  for (const auto& [name, photo] : RepeatedProducts()) {
    EXPECT_FALSE(FindBlindTiledWatermark(photo).has_value()) << name;
    RemoveTextReport report;
    const Image out = Run(photo, &report);
    EXPECT_EQ(report.watermark_copies, 0) << name;
    EXPECT_EQ(cv::countNonZero(MaxChannelDiff(out.bgr, photo)), 0) << name << " changed";
  }
}

}  // namespace
}  // namespace vitrine::ops
