#include "tests/text_render.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "tests/testdata.h"

namespace vitrine::testdata {
namespace {

cv::Mat Grey(cv::Size size) { return cv::Mat(size, CV_8UC3, cv::Scalar(128, 128, 128)); }

TEST(TextRenderTest, MaskIsExactlyThePixelsThatChanged) {
  const cv::Mat photo = SamplePhoto("fruits.jpg", {400, 300});
  const cv::Mat before = photo.clone();
  const RenderedText r = RenderText(photo, {.text = "厂家直销 SALE", .pixel_height = 32});
  EXPECT_EQ(cv::norm(photo, before, cv::NORM_INF), 0);  // the input is untouched
  cv::Mat diff;
  cv::absdiff(r.bgr, photo, diff);
  cv::transform(diff, diff, cv::Matx13f(1, 1, 1));
  EXPECT_EQ(cv::countNonZero((diff > 0) != r.mask), 0);
  EXPECT_GT(cv::countNonZero(r.text_mask), 32 * 32);
  // Glyphs are part of the graphic, and the mask stays near them.
  EXPECT_EQ(cv::countNonZero(r.text_mask & ~r.mask), 0);
  const cv::Rect ink = cv::boundingRect(r.mask);
  EXPECT_LT(ink.height, 48);
  EXPECT_NEAR(ink.x + ink.width / 2.0, 200, 3);
}

TEST(TextRenderTest, OpacityBlendsTheGlyphColour) {
  const RenderedText r =
      RenderText(Grey({200, 100}),
                 {.text = "包邮", .pixel_height = 60, .color = {255, 255, 255}, .opacity = 0.4});
  // Fully covered glyph pixels: 128 + 0.4 · (255 − 128) = 178.8.
  cv::Mat core;
  cv::erode(r.text_mask, core, cv::getStructuringElement(cv::MORPH_RECT, {3, 3}));
  ASSERT_GT(cv::countNonZero(core), 50);
  double lo = 0, hi = 0;
  cv::Mat channel;
  cv::extractChannel(r.bgr, channel, 0);
  cv::minMaxLoc(channel, &lo, &hi, nullptr, nullptr, core);
  EXPECT_NEAR(hi, 179, 1);
  cv::minMaxLoc(r.alpha, nullptr, &hi);
  EXPECT_NEAR(hi, 0.4, 1e-3);
}

TEST(TextRenderTest, OutlineShadowAndBannerBelongToTheGraphic) {
  const TextStyle plain{.text = "¥99", .pixel_height = 40};
  const int glyphs = cv::countNonZero(RenderText(Grey({240, 120}), plain).mask);

  TextStyle outlined = plain;
  outlined.outline_width = 3;
  const RenderedText o = RenderText(Grey({240, 120}), outlined);
  EXPECT_GT(cv::countNonZero(o.text_mask), glyphs * 1.3);

  TextStyle shadowed = plain;
  shadowed.shadow_offset = {4, 4};
  shadowed.shadow_blur = 2;
  shadowed.shadow_opacity = 0.8;
  const RenderedText s = RenderText(Grey({240, 120}), shadowed);
  EXPECT_GT(cv::countNonZero(s.mask), glyphs * 1.3);
  EXPECT_GT(cv::boundingRect(s.mask).br().y, cv::boundingRect(s.text_mask).br().y + 3);

  TextStyle banner = plain;
  banner.banner = true;
  banner.banner_color = {0, 0, 200};
  const RenderedText b = RenderText(Grey({240, 120}), banner);
  const cv::Rect box = cv::boundingRect(b.mask);
  // The whole rounded rectangle changed, not only the glyphs; its middle row is filled solid.
  EXPECT_GT(box.width, cv::boundingRect(b.text_mask).width + 20);
  EXPECT_EQ(
      cv::countNonZero(b.mask.row(box.y + box.height / 2).colRange(box.x + 2, box.br().x - 2)),
      box.width - 4);
}

TEST(TextRenderTest, RotationAndTiling) {
  const RenderedText r = RenderText(
      Grey({300, 300}), {.text = "SALE 50% OFF", .pixel_height = 30, .rotation_deg = 90});
  const cv::Rect ink = cv::boundingRect(r.text_mask);
  EXPECT_GT(ink.height, 3 * ink.width);

  const RenderedText tiled = RenderText(Grey({400, 300}), {.text = "包邮",
                                                           .pixel_height = 24,
                                                           .color = {255, 255, 255},
                                                           .rotation_deg = 30,
                                                           .opacity = 0.5,
                                                           .tile = true});
  // Copies everywhere: every quarter of the image holds glyphs.
  for (int qy = 0; qy < 2; ++qy) {
    for (int qx = 0; qx < 2; ++qx) {
      EXPECT_GT(cv::countNonZero(tiled.text_mask(cv::Rect(qx * 200, qy * 150, 200, 150))), 100);
    }
  }
}

}  // namespace
}  // namespace vitrine::testdata
