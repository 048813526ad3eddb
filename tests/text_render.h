// Promotion text, watermarks and banners drawn onto photos, with the exact mask of what changed:
// test data for text detection, text removal and QA.
//
// Glyphs come from Noto Sans CJK (Debian fonts-noto-cjk; the .ttc's first face, which covers
// Chinese and Latin) through OpenCV's FreeType module. The graphic is built as layers of
// coverage (banner, outline, glyphs, each anti-aliased), composed with "over", rotated as a
// whole, given a drop shadow, made translucent by `opacity`, and blended onto a copy of the
// image; with `tile` it is repeated over the whole image like a watermark.
//
// Thread-safe: each call uses its own FreeType instance. Aborts the test binary with a message
// naming the package if the font is missing.
#pragma once

#include <opencv2/core.hpp>
#include <string>

namespace vitrine::testdata {

struct TextStyle {
  std::string text = "厂家直销";  // UTF-8; one line
  bool bold = false;
  int pixel_height = 40;        // FreeType em height in pixels
  cv::Scalar color{0, 0, 255};  // BGR
  cv::Point2f center{-1, -1};   // of the graphic, pixels; (-1, -1): the image centre
  double rotation_deg = 0;      // counter-clockwise, as seen
  double opacity = 1;           // of the whole graphic, in (0, 1]
  int outline_width = 0;        // pixels around the glyphs; 0: none
  cv::Scalar outline_color{255, 255, 255};
  cv::Point shadow_offset{0, 0};  // pixels; (0, 0) and shadow_opacity 0: no shadow
  double shadow_blur = 0;         // Gaussian sigma, pixels
  double shadow_opacity = 0;      // in [0, 1]
  cv::Scalar shadow_color{0, 0, 0};
  bool banner = false;  // a rounded rectangle behind the text
  cv::Scalar banner_color{0, 0, 220};
  int banner_padding = -1;    // pixels around the text; -1: a third of pixel_height
  int banner_radius = -1;     // corner radius; -1: half the banner's height
  bool tile = false;          // repeat over the whole image (center is one copy)
  cv::Size tile_gap{-1, -1};  // space between copies; (-1, -1): the graphic's size
};

struct RenderedText {
  cv::Mat bgr;        // CV_8UC3: the input with the graphic drawn on
  cv::Mat mask;       // CV_8UC1 255 where any pixel value changed (glyphs, outline, shadow, banner)
  cv::Mat text_mask;  // CV_8UC1 255 where glyphs or outline cover at least half a pixel
  cv::Mat alpha;      // CV_32FC1 the graphic's coverage × opacity, in [0, 1]
};

// Draws `style` onto a copy of `bgr` (CV_8UC3; not modified).
RenderedText RenderText(const cv::Mat& bgr, const TextStyle& style);

// The glyph pixels of `rendered` a viewer can see on `clean` (the image it was drawn on): those of
// text_mask that the graphic changed by at least `min_change` levels in some channel. A
// translucent glyph over a background of nearly its own colour is not there to see.
cv::Mat VisibleTextMask(const cv::Mat& clean, const RenderedText& rendered, int min_change = 32);

// A listing of the demo catalogue (`make demo`'s make_catalogue): `photo` with the overlays a
// Chinese supplier adds - a translucent tiled shop watermark, a red outlined caption along the
// top, a price banner at the bottom and a tilted yellow 包邮 with a drop shadow, sized to the
// photo. `i`, the SKU's place in the catalogue, varies the caption, placements and colours.
struct SupplierListing {
  cv::Mat bgr;        // CV_8UC3: `photo` with the overlays, not yet JPEG-encoded
  cv::Mat shipping;   // CV_8UC1: the 包邮's pixels (glyphs and shadow) off the banner
  cv::Mat watermark;  // CV_8UC1: the tiled watermark's glyphs (text_mask), every copy
  cv::Mat others;     // CV_8UC1: the pixels the caption, banner and 包邮 changed
};
SupplierListing AddSupplierOverlays(const cv::Mat& photo, int i, const std::string& price);

// Path of Noto Sans CJK Regular or Bold (aborts if missing).
std::string CjkFontPath(bool bold);

}  // namespace vitrine::testdata
