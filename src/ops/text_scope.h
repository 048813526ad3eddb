// Text scope: which detected text regions were added on top of a photo (overlay: promotion
// captions, prices, banners, watermarks) and which are printed on the product (a can's label).
// RemoveText() under TextScope::kOverlay removes only the former; OverlayTextArea() (QA's "text
// left" measure) counts only the former.
//
// Also the region geometry that text removal shares with it (line height, windows, masks) and the
// banner finder (the flat-coloured box behind a price), which is both a cue and part of what
// removal takes.
//
// Thread-safe: every function is pure (no state, inputs never modified). No errors: a region that
// cannot be measured (empty, off the image) gets the documented fallback.
#pragma once

#include <opencv2/core.hpp>
#include <vector>

#include "models/text_detector.h"
#include "ops/remove_text.h"

namespace vitrine::ops {

// Decides, per region, whether it is overlay text. `product` is the segmenter's product mask of
// `bgr` (CV_8UC1, 255 = product, any size: regions are scaled to it; empty = unknown, then
// everything that reads counts as overlay). `findings` is resized to one per region, in order;
// with `recognised`, their text and confidence must already hold what the recognizer read, and a
// region that reads as nothing is not text (kept). Fills polygon, score, overlay and why. Pure.
void ClassifyText(const cv::Mat& bgr, const cv::Mat& product,
                  const std::vector<models::TextRegion>& regions, bool recognised,
                  std::vector<TextFinding>* findings);

// Line height of a region: the short side of its rectangle (at least 1).
double LineHeight(const models::TextRegion& region);

// `region` with every point mapped to (x · sx − off.x, y · sy − off.y).
models::TextRegion Scaled(const models::TextRegion& region, double sx, double sy, cv::Point2f off);

// The region's pixels inside `roi` (a CV_8UC1 mask of roi's size), grown by `grow` px.
cv::Mat RegionMaskIn(cv::Rect roi, const models::TextRegion& region, int grow);

// Bounding box of the region grown by `margin`, clipped to `size` (empty when off the image).
cv::Rect Window(const models::TextRegion& region, double margin, cv::Size size);

// The flat-coloured box behind a text line (a red rounded rectangle behind a price), as a CV_8UC1
// mask of `roi`'s size (roi: a window of `bgr`, CV_8UC3, around the region), or an empty Mat when
// the text sits on something else.
cv::Mat BannerMask(const cv::Mat& bgr, const models::TextRegion& region, cv::Rect roi);

}  // namespace vitrine::ops
