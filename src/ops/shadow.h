// Shadows under a placed product: a contact shadow (where it touches the floor) and a cast shadow
// (its silhouette projected on the floor away from the light). Used by `stage`.
//
// A shadow is a darkness map that multiplies the background: background * (1 - darkness). It
// never paints outside ShadowLayer::bound, a rectangle derived from the product's box, the light
// direction and the blur (so a white canvas stays pure white everywhere else). Darkness is kept in
// 1/255 steps, so anything below half a grey level is exactly 0: a shadow has no faint grey tail.
//
// Pure functions; inputs are never modified; thread-safe.
#pragma once

#include <opencv2/core.hpp>

namespace vitrine::ops {

enum class ShadowKind { kNone, kContact, kDrop };

struct ShadowOptions {
  ShadowKind kind = ShadowKind::kContact;
  double opacity = 0.4;   // darkness where the product meets the floor, 0..1
  double softness = 0.5;  // 0 = crisp, 1 = very soft; blur grows with the product's width
  // Where the light comes from, in degrees in the image plane: 0 = from the right, 90 = from the
  // top (above and behind the product), 180 = from the left. The cast shadow falls the opposite
  // way: with 120 (upper left, the studio habit) it falls to the front right.
  double light_angle = 120;
  // How much a length on the floor is foreshortened in the image (0.05..1): small for a camera
  // looking along the floor, 1 for a camera looking straight down. Sets how far the cast shadow
  // and the contact footprint reach toward the camera.
  double floor_squash = 0.3;
};

struct ShadowLayer {
  cv::Rect bound;    // canvas rectangle the shadow may touch (may be empty)
  cv::Mat darkness;  // CV_8UC1 of bound's size: darkness x 255, at most opacity x 255
};

// `alpha`: the product's matte (CV_8UC1, any resolution) spanning exactly its bounding box;
// `product_box`: where that box lands on a canvas of `canvas` size (it may reach past the
// canvas). The product stands on the floor at the box's bottom edge. Returns an empty layer for
// ShadowKind::kNone, an empty box, or opacity 0.
ShadowLayer MakeShadow(const cv::Mat& alpha, cv::Rect product_box, cv::Size canvas,
                       const ShadowOptions& options);

// The rectangle MakeShadow may paint for this box on a canvas of `canvas` size.
cv::Rect ShadowBound(cv::Rect product_box, cv::Size canvas, const ShadowOptions& options);

// Multiplies `bgr` (CV_8UC3, owned by the caller, the canvas being built) by (1 - darkness)
// inside the layer's bound.
void DarkenWithShadow(const ShadowLayer& layer, cv::Mat& bgr);

}  // namespace vitrine::ops
