// Harmonization: a gentle match of a product's light to the scene it is placed in (white
// balance and exposure), with a guaranteed bound on how far the product's colours move.
//
// The correction is one gain per channel in linear light, estimated from the scene around the
// placement vs the product, then scaled back until the product's colour change (CIEDE2000 between
// the product before and after, over its opaque pixels) is within the bounds: by default mean
// ΔE ≤ 3 and max ΔE ≤ 6 (docs/staging.md). The alpha (the shape) is never touched: the function
// returns colours only.
//
// Pure; inputs never modified; thread-safe.
#pragma once

#include <opencv2/core.hpp>

namespace vitrine::ops {

struct HarmonizeOptions {
  double strength = 0.5;        // 0 = unchanged, 1 = the full (still bounded) correction
  double max_mean_delta_e = 3;  // bound on the mean ΔE2000 over the product's opaque pixels
  double max_delta_e = 6;       // bound on any one opaque pixel's ΔE2000
};

struct HarmonizeReport {
  cv::Vec3d gains{1, 1, 1};  // applied per-channel gains in linear light (B, G, R)
  double mean_delta_e = 0;   // estimated over the product's colours
  double max_delta_e = 0;
};

// `product_bgr` CV_8UC3 with `product_alpha` CV_8UC1 (same size; pixels with alpha ≥ 128 count as
// the product); `scene_bgr` CV_8UC3: the part of the scene around where the product stands.
// Returns the product's recoloured pixels (CV_8UC3, product's size).
cv::Mat Harmonize(const cv::Mat& product_bgr, const cv::Mat& product_alpha,
                  const cv::Mat& scene_bgr, const HarmonizeOptions& options,
                  HarmonizeReport* report = nullptr);

}  // namespace vitrine::ops
