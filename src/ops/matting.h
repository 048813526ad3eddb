// Alpha refinement and foreground colour estimation: the edge work behind `cutout`.
//
// All functions are pure (inputs untouched, new buffers returned) and thread-safe.
#pragma once

#include <opencv2/core.hpp>

namespace vitrine::ops {

// `size` scaled down (never up) so that its longer side is at most `long_side`.
cv::Size FitLongSide(cv::Size size, int long_side);

// Smooth fill of a colour image from the pixels where `weight` > 0 into everywhere else, by
// pyramid push-pull (normalised convolution across scales). `bgr` CV_8UC3 or CV_32FC3, `weight`
// CV_32FC1 in [0, 1], same size. Returns the type of `bgr`. Where no pixel has weight, returns
// mid grey (128). A level trusts its own estimate over the coarser one by min(1, gain * weight):
// a large gain keeps sparse known values (a thin ring around a hole) at full strength inwards.
cv::Mat PushPullFill(const cv::Mat& bgr, const cv::Mat& weight, float gain = 4.0f);

// Box of the subject in a matte (CV_8UC1): the rows and columns holding at least two clearly
// non-background pixels (alpha > 24), so a stray speck does not widen it. Empty if none.
cv::Rect SubjectBox(const cv::Mat& alpha);

// A matte (CV_8UC1) without its stray pieces: what a segmenter picks up besides the subject (a
// remnant of removed text, a mortar joint, a reflection) as opposed to the parts of a product
// made of several pieces (a pair of shoes, a set of bottles, a lid beside its jar).
// A piece is a connected component of the opaque pixels (alpha >= 128). It is stray when it is
// small, under `min_share` of the largest piece's area, and far, farther than `reach` (a share of
// the image diagonal) from every piece that is not small; its soft surround (the connected
// pixels with alpha >= 16 that reach no kept piece) goes with it. A shattered matte is left as it
// is, for QA to reject: when the stray pieces add up to more than `max_area` of the kept pieces'
// area (the segmenter did not find the subject), and in any case its mid-sized pieces.
struct StrayOptions {
  double min_share = 0.02;
  double reach = 0.02;
  double max_area = 0.02;
};
struct StrayPieces {
  cv::Mat alpha;                // the matte without them
  int removed = 0;              // stray pieces removed
  double removed_area = 0;      // the stray pieces' opaque area over the kept pieces'
  bool left_shattered = false;  // over max_area: nothing was removed
};
StrayPieces DropStrayPieces(const cv::Mat& alpha, const StrayOptions& options = {});

struct RefineOptions {
  int radius = 2;           // window radius at the net's resolution, in pixels
  double eps = 1e-3;        // regularisation, in (0..1 colour units)^2: larger = smoother matte
  double band_low = 0.01;   // the filter's result is used where the coarse matte is unsure:
  double band_high = 0.99;  // between these values, widened by `radius` pixels
};

// Joint upsampling of a low-resolution foreground probability with a colour guided filter (the
// "fast guided filter" of He and Sun, 2015): at the net's resolution, fits alpha as a locally
// linear function of colour, then applies the upsampled coefficients to the guide's own pixels,
// so edges land where the full-resolution photo has them. Confident regions keep the plain
// upsampled value, so texture inside a product cannot punch holes in it.
// `prob` CV_32FC1 at the net's resolution; `net_view` CV_8UC3 of the same size (the photo as the
// net saw it); `guide` CV_8UC3 at the output size. Returns CV_32FC1 in [0, 1] of guide's size.
cv::Mat RefineAlpha(const cv::Mat& prob, const cv::Mat& net_view, const cv::Mat& guide,
                    const RefineOptions& options = {});

// Colour decontamination: estimates the foreground colour F of every pixel so that edges carry no
// fringe of the old background (I = aF + (1-a)B). `bgr` CV_8UC3 and `alpha` CV_8UC1 at full
// resolution; the background and inner-foreground estimates are made at a working size of at most
// `work_side` px on the long side. Returns CV_8UC3: F where alpha > 0, a smooth fill elsewhere.
cv::Mat EstimateForeground(const cv::Mat& bgr, const cv::Mat& alpha, int work_side = 1024);

}  // namespace vitrine::ops
