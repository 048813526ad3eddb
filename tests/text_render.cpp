#include "tests/text_render.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <opencv2/freetype.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace vitrine::testdata {
namespace {

// A graphic before placement: premultiplied colour, its coverage, and the glyph coverage.
struct Layer {
  cv::Mat color;  // CV_32FC3, premultiplied by alpha
  cv::Mat alpha;  // CV_32FC1
  cv::Mat text;   // CV_32FC1, glyphs and outline
};

// A premultiplied `color` with coverage `alpha` composed over `dst_color`/`dst_alpha`, in place
// ("over"; all views of the same size).
void OverPremultiplied(const cv::Mat& color, const cv::Mat& alpha, cv::Mat dst_color,
                       cv::Mat dst_alpha) {
  cv::Mat inverse = 1.0 - alpha, inverse3;
  cv::merge(std::vector<cv::Mat>{inverse, inverse, inverse}, inverse3);
  cv::Mat(color + dst_color.mul(inverse3)).copyTo(dst_color);
  cv::Mat(alpha + dst_alpha.mul(inverse)).copyTo(dst_alpha);
}

// Coverage `a` of a flat `color` over `layer`, in place.
void Over(Layer* layer, const cv::Mat& a, const cv::Scalar& color) {
  cv::Mat a3;
  cv::merge(std::vector<cv::Mat>{a, a, a}, a3);
  OverPremultiplied(a3.mul(cv::Scalar(color[0], color[1], color[2])), a, layer->color,
                    layer->alpha);
}

// Anti-aliased filled rounded rectangle as float coverage, drawn at 4x and averaged down.
cv::Mat RoundedRectCoverage(cv::Size size, cv::Rect2f rect, float radius) {
  constexpr int kSuper = 4;
  cv::Mat big(size * kSuper, CV_8UC1, cv::Scalar(0));
  const int r = static_cast<int>(std::lround(radius * kSuper));
  const cv::Rect box(static_cast<int>(std::lround(rect.x * kSuper)),
                     static_cast<int>(std::lround(rect.y * kSuper)),
                     static_cast<int>(std::lround(rect.width * kSuper)),
                     static_cast<int>(std::lround(rect.height * kSuper)));
  cv::rectangle(big, cv::Rect(box.x + r, box.y, box.width - 2 * r, box.height), 255, cv::FILLED);
  cv::rectangle(big, cv::Rect(box.x, box.y + r, box.width, box.height - 2 * r), 255, cv::FILLED);
  for (int cx : {box.x + r, box.x + box.width - r}) {
    for (int cy : {box.y + r, box.y + box.height - r})
      cv::circle(big, {cx, cy}, r, 255, cv::FILLED);
  }
  cv::Mat small;
  cv::resize(big, small, size, 0, 0, cv::INTER_AREA);
  small.convertTo(small, CV_32FC1, 1.0 / 255.0);
  return small;
}

// The unrotated graphic: banner, outline and glyphs, with room around for rotation and shadow.
Layer DrawGraphic(const TextStyle& style) {
  cv::Ptr<cv::freetype::FreeType2> ft = cv::freetype::createFreeType2();
  ft->loadFontData(CjkFontPath(style.bold), 0);
  int baseline = 0;
  const cv::Size text_size = ft->getTextSize(style.text, style.pixel_height, -1, &baseline);
  const int padding = style.banner_padding >= 0 ? style.banner_padding : style.pixel_height / 3;
  const int margin = padding + style.outline_width + style.pixel_height / 2 + 4;
  const cv::Size canvas(text_size.width + 2 * margin, text_size.height + baseline + 2 * margin);

  cv::Mat drawn(canvas, CV_8UC3, cv::Scalar::all(0));
  ft->putText(drawn, style.text, {margin, margin + text_size.height}, style.pixel_height,
              cv::Scalar::all(255), -1, cv::LINE_AA, true);
  cv::Mat glyphs;
  cv::extractChannel(drawn, glyphs, 0);
  const cv::Rect ink = cv::boundingRect(glyphs);
  glyphs.convertTo(glyphs, CV_32FC1, 1.0 / 255.0);

  Layer layer{cv::Mat(canvas, CV_32FC3, cv::Scalar::all(0)), cv::Mat(canvas, CV_32FC1, 0.0f),
              glyphs.clone()};
  if (style.banner && !ink.empty()) {
    const cv::Rect2f box(ink.x - padding - style.outline_width,
                         ink.y - padding - style.outline_width,
                         ink.width + 2 * (padding + style.outline_width),
                         ink.height + 2 * (padding + style.outline_width));
    const float radius =
        style.banner_radius >= 0 ? static_cast<float>(style.banner_radius) : box.height / 4;
    Over(&layer, RoundedRectCoverage(canvas, box, std::min(radius, box.height / 2)),
         style.banner_color);
  }
  if (style.outline_width > 0) {
    const int k = 2 * style.outline_width + 1;
    cv::Mat outline;
    cv::dilate(glyphs, outline, cv::getStructuringElement(cv::MORPH_ELLIPSE, {k, k}));
    Over(&layer, outline, style.outline_color);
    layer.text = outline;
  }
  Over(&layer, glyphs, style.color);
  return layer;
}

// Rotates `layer` about its centre by `degrees` (counter-clockwise), growing it to fit.
Layer Rotate(const Layer& layer, double degrees) {
  if (degrees == 0) return layer;
  const cv::Point2f center(layer.alpha.cols / 2.0f, layer.alpha.rows / 2.0f);
  cv::Mat m = cv::getRotationMatrix2D(center, degrees, 1.0);
  const cv::Rect2f bounds =
      cv::RotatedRect(center, layer.alpha.size(), static_cast<float>(-degrees)).boundingRect2f();
  m.at<double>(0, 2) += bounds.width / 2.0 - center.x;
  m.at<double>(1, 2) += bounds.height / 2.0 - center.y;
  const cv::Size size(static_cast<int>(std::ceil(bounds.width)),
                      static_cast<int>(std::ceil(bounds.height)));
  Layer out;
  cv::warpAffine(layer.color, out.color, m, size, cv::INTER_LINEAR);
  cv::warpAffine(layer.alpha, out.alpha, m, size, cv::INTER_LINEAR);
  cv::warpAffine(layer.text, out.text, m, size, cv::INTER_LINEAR);
  return out;
}

// Puts a blurred, shifted copy of the graphic's coverage beneath it, growing it to fit.
Layer AddShadow(const Layer& layer, const TextStyle& style) {
  if (style.shadow_opacity <= 0) return layer;
  const int spread = static_cast<int>(std::ceil(3 * style.shadow_blur));
  const int mx = std::abs(style.shadow_offset.x) + spread + 1;
  const int my = std::abs(style.shadow_offset.y) + spread + 1;
  Layer grown;
  cv::copyMakeBorder(layer.color, grown.color, my, my, mx, mx, cv::BORDER_CONSTANT, 0);
  cv::copyMakeBorder(layer.alpha, grown.alpha, my, my, mx, mx, cv::BORDER_CONSTANT, 0);
  cv::copyMakeBorder(layer.text, grown.text, my, my, mx, mx, cv::BORDER_CONSTANT, 0);
  cv::Mat shift =
      (cv::Mat_<double>(2, 3) << 1, 0, style.shadow_offset.x, 0, 1, style.shadow_offset.y);
  cv::Mat shadow;
  cv::warpAffine(grown.alpha, shadow, shift, grown.alpha.size(), cv::INTER_LINEAR);
  if (style.shadow_blur > 0) cv::GaussianBlur(shadow, shadow, cv::Size(), style.shadow_blur);
  shadow *= style.shadow_opacity;
  // The shadow goes beneath: graphic over shadow.
  Layer base{cv::Mat(grown.alpha.size(), CV_32FC3, cv::Scalar::all(0)),
             cv::Mat(grown.alpha.size(), CV_32FC1, 0.0f), grown.text};
  Over(&base, shadow, style.shadow_color);
  OverPremultiplied(grown.color, grown.alpha, base.color, base.alpha);
  return base;
}

// Composes `stamp` centred at `center` over the image-sized `canvas` (clipped at the borders).
void Stamp(const Layer& stamp, cv::Point2f center, Layer* canvas) {
  const cv::Point origin(static_cast<int>(std::lround(center.x - stamp.alpha.cols / 2.0)),
                         static_cast<int>(std::lround(center.y - stamp.alpha.rows / 2.0)));
  const cv::Rect placed(origin, stamp.alpha.size());
  const cv::Rect clipped = placed & cv::Rect(cv::Point(), canvas->alpha.size());
  if (clipped.empty()) return;
  const cv::Rect src = clipped - origin;
  OverPremultiplied(stamp.color(src), stamp.alpha(src), canvas->color(clipped),
                    canvas->alpha(clipped));
  cv::Mat text = canvas->text(clipped);
  cv::max(text, stamp.text(src), text);
}

}  // namespace

std::string CjkFontPath(bool bold) {
  const std::string path = std::string("/usr/share/fonts/opentype/noto/NotoSansCJK-") +
                           (bold ? "Bold" : "Regular") + ".ttc";
  if (!std::ifstream(path)) {
    std::fprintf(stderr, "missing %s: run scripts/setup (it installs fonts-noto-cjk)\n",
                 path.c_str());
    std::abort();
  }
  return path;
}

RenderedText RenderText(const cv::Mat& bgr, const TextStyle& style) {
  CV_Assert(bgr.type() == CV_8UC3 && !bgr.empty());
  CV_Assert(style.opacity > 0 && style.opacity <= 1 && style.pixel_height > 0);
  Layer stamp = AddShadow(Rotate(DrawGraphic(style), style.rotation_deg), style);
  stamp.color *= style.opacity;
  stamp.alpha *= style.opacity;

  Layer canvas{cv::Mat(bgr.size(), CV_32FC3, cv::Scalar::all(0)),
               cv::Mat(bgr.size(), CV_32FC1, 0.0f), cv::Mat(bgr.size(), CV_32FC1, 0.0f)};
  const cv::Point2f center = style.center.x < 0 && style.center.y < 0
                                 ? cv::Point2f(bgr.cols / 2.0f, bgr.rows / 2.0f)
                                 : style.center;
  if (!style.tile) {
    Stamp(stamp, center, &canvas);
  } else {
    const cv::Rect ink = cv::boundingRect(stamp.alpha > 0);
    const cv::Size gap = style.tile_gap.width < 0 ? ink.size() : style.tile_gap;
    const float step_x = static_cast<float>(std::max(1, ink.width + gap.width));
    const float step_y = static_cast<float>(std::max(1, ink.height + gap.height));
    const float first_x = center.x - std::ceil((center.x + ink.width) / step_x) * step_x;
    const float first_y = center.y - std::ceil((center.y + ink.height) / step_y) * step_y;
    for (float y = first_y; y < bgr.rows + ink.height; y += step_y) {
      for (float x = first_x; x < bgr.cols + ink.width; x += step_x) Stamp(stamp, {x, y}, &canvas);
    }
  }

  RenderedText out;
  cv::Mat image;
  bgr.convertTo(image, CV_32FC3);
  OverPremultiplied(canvas.color, canvas.alpha, image, cv::Mat(bgr.size(), CV_32FC1, 0.0f));
  image.convertTo(out.bgr, CV_8UC3);
  cv::Mat diff;
  cv::absdiff(out.bgr, bgr, diff);
  cv::transform(diff, diff, cv::Matx13f(1, 1, 1));
  out.mask = diff > 0;
  out.text_mask = canvas.text >= 0.5f;
  out.alpha = canvas.alpha;
  return out;
}

cv::Mat VisibleTextMask(const cv::Mat& clean, const RenderedText& rendered, int min_change) {
  cv::Mat diff;
  cv::absdiff(rendered.bgr, clean, diff);
  cv::Mat planes[3];
  cv::split(diff, planes);
  const cv::Mat strongest = cv::max(cv::max(planes[0], planes[1]), planes[2]);
  return rendered.text_mask & (strongest >= min_change);
}

SupplierListing AddSupplierOverlays(const cv::Mat& photo, int i, const std::string& price) {
  const float w = static_cast<float>(photo.cols), h = static_cast<float>(photo.rows);
  const int unit = std::max(14, std::min(photo.cols, photo.rows) / 12);
  TextStyle watermark;
  watermark.text = "优品旗舰店";
  watermark.pixel_height = unit;
  watermark.color = cv::Scalar(200, 200, 200);
  watermark.opacity = 0.35;
  watermark.rotation_deg = 25;
  watermark.tile = true;
  const RenderedText tiled = RenderText(photo, watermark);
  cv::Mat out = tiled.bgr;

  TextStyle caption;
  caption.text = i % 2 ? "厂家直销" : "工厂直供 品质保证";
  caption.bold = true;
  caption.pixel_height = unit;
  caption.color = cv::Scalar(0, 0, 230);
  caption.outline_width = std::max(2, unit / 10);
  caption.outline_color = cv::Scalar(255, 255, 255);
  caption.center = {w * 0.5f, unit * 0.9f};
  const RenderedText captioned = RenderText(out, caption);
  out = captioned.bgr;

  TextStyle banner;
  banner.text = price;
  banner.bold = true;
  banner.pixel_height = unit;
  banner.color = cv::Scalar(255, 255, 255);
  banner.banner = true;
  banner.banner_color = i % 2 ? cv::Scalar(30, 30, 220) : cv::Scalar(0, 120, 255);
  banner.center = {w * (i % 2 ? 0.78f : 0.22f), h - unit * 1.2f};
  const RenderedText priced = RenderText(out, banner);

  TextStyle shipping;
  shipping.text = "包邮";
  shipping.bold = true;
  shipping.pixel_height = unit;
  shipping.color = cv::Scalar(0, 200, 255);
  shipping.shadow_offset = {unit / 12 + 1, unit / 12 + 1};
  shipping.shadow_blur = 2;
  shipping.shadow_opacity = 0.6;
  shipping.center = {w * (i % 2 ? 0.15f : 0.85f), h * 0.3f};
  shipping.rotation_deg = 12;
  const RenderedText all = RenderText(priced.bgr, shipping);
  return {all.bgr, all.mask & ~priced.mask, tiled.text_mask,
          captioned.mask | priced.mask | all.mask};
}

}  // namespace vitrine::testdata
