// Test data for the QA tests and bench: source cutouts with a known alpha (tests/testdata.h
// composites), staged candidates made from them the way the stage op does (product resampled into
// a placement on a canvas, with a soft shadow), and the defects QA must catch, made on purpose.
// Deterministic for a given seed. Test-only: not part of vitrine_qa.
#pragma once

#include <opencv2/core.hpp>

namespace vitrine::qa::testdata {

struct Source {
  cv::Mat bgr;             // the supplier photo
  cv::Mat alpha;           // the cutout's alpha (here the exact one)
  cv::Mat segmenter_mask;  // what the segmenter sees as product (here the exact alpha)
};
// A photo of a product-like object on a flat, gradient or blurred-room backdrop.
Source MakeSource(int seed, cv::Size size = {320, 384});

enum class Canvas { kWhite, kLightGrey, kStudioColour, kGradient, kScene };

struct Staged {
  cv::Mat bgr;         // the candidate
  cv::Mat alpha;       // the product's alpha in the candidate frame
  cv::Rect placement;  // where the alpha's bounding box landed
};

// The product (bounding box of alpha > 0) resampled into `placement` (may reach past the canvas)
// over a canvas of `size`, with a soft contact shadow.
Staged Stage(const cv::Mat& bgr, const cv::Mat& alpha, cv::Size size, cv::Rect placement,
             Canvas canvas, int seed);

// A placement whose long side is `fill` of the canvas's short side, inside the canvas with a
// margin, shifted deterministically by `seed`.
cv::Rect FitPlacement(const cv::Mat& alpha, cv::Size canvas, double fill, int seed);

// --- Defects.
// The alpha with the right half of the product removed.
cv::Mat DropHalf(const cv::Mat& alpha);
// The alpha with `count` crumbs of backdrop (discs) scattered just outside the product.
cv::Mat AddCrumbs(const cv::Mat& alpha, int count, int radius, int seed);
// The product pixels (alpha > 0) of `staged` shifted by `shift` in CIELAB (L, a, b).
cv::Mat ShiftProductColour(const Staged& staged, cv::Vec3f shift);
// `bgr` with a caption in pure magenta (the fake text detector finds that colour).
cv::Mat AddCaption(const cv::Mat& bgr, const char* text);
// Fake text detector: share of the image within 2 px of pure-magenta pixels.
double MagentaShare(const cv::Mat& bgr);

}  // namespace vitrine::qa::testdata
