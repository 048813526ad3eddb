// Alpha refinement and foreground colour estimation: the edge work behind `cutout`.
//
// All functions are pure (inputs untouched, new buffers returned) and thread-safe.
#pragma once

#include <opencv2/core.hpp>
#include <optional>

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

// What a segmenter's probability map holds besides the product, removed before the matte is
// refined (so the refinement re-fits the edges where they now are):
//  - thin appendages: a part much thinner than the product's body (what a morphological
//    opening at `neck_scale` of the body's inscribed radius removes, protruding at least twice
//    that radius), joined to it by a narrow neck or lying apart, that the net is not sure enough
//    of: its confidence (the probability a quarter of its pixels reach) must be at least
//    `unsure`, rising to `certain` as the share of its pixels in the background's colours rises
//    from half to 90%: a wall's mortar joint above a shoe, plant stems beside a bag. A real thin
//    part (a handle, a strap, a spout) is near-certain or in the product's colours, so it stays.
//  - background holes: regions enclosed by the product where the net is unsure (probability
//    under `enclosed_high`, mean under `hole_mean`) and the colours are the background's: the
//    backdrop seen through a handle loop. Their inside is cleared; a rim of a few pixels along
//    the product keeps the net's soft edge for the refinement.
//  - haze: faint probability farther than a neck radius from every solid pixel (>= 0.5) and
//    joined there to what was cut (the faint rest of a wall's joints) fades out by two radii.
// Colours are judged by two histograms of the net view: the confident product (probability
// >= 0.95, in the body) against the confident background (<= 0.05); a region has the
// background's colours when over half its pixels are likelier background.
struct CleanupOptions {
  double neck_scale = 0.15;
  double unsure = 0.8;
  double certain = 0.985;
  double enclosed_high = 0.75;
  double hole_mean = 0.6;
};
struct ProbabilityCleanup {
  cv::Mat prob;        // the cleaned probability
  int appendages = 0;  // thin appendages removed
  int holes = 0;       // background holes opened
  double removed = 0;  // probability mass removed, over what was left
};
// `prob` CV_32FC1 in [0, 1]; `net_view` CV_8UC3 of the same size (the photo as the net saw it);
// `protect` empty or CV_8UC1 of the same size: pixels never cut or faded (what a second reading
// found, see MergeFramedReading).
ProbabilityCleanup CleanProbability(const cv::Mat& prob, const cv::Mat& net_view,
                                    const CleanupOptions& options = {},
                                    const cv::Mat& protect = cv::Mat());

// ISNet, a salient-object model, tends to drop a part of the product that the photo's frame
// cuts (the tail fin of a fish running off the border) while it finds the rest; with a margin of
// backdrop around the photo it finds that part too. FramedReadingBackdrop() says when to read the
// photo again with such a margin, and in which colour: on a plain backdrop (in a band along the
// frame, `band` of the shorter side wide, at least `plain_share` of the pixels within
// `plain_distance` of the median colour of the outermost pixels, qa::BorderColour), when at least
// `min_run` of the band is something else that the net left out (probability under 0.5). Returns
// that border colour, or nothing.
struct FrameOptions {
  double band = 0.03;
  double min_run = 0.02;
  double plain_share = 0.6;
  double plain_distance = 30;
  double near = 0.015;     // MergeFramedReading: how close a part at the frame must come
  double max_added = 0.5;  // MergeFramedReading: the most it adds, over the product's area
};
// `prob` CV_32FC1 in [0, 1]; `net_view` CV_8UC3 of the same size.
std::optional<cv::Scalar> FramedReadingBackdrop(const cv::Mat& prob, const cv::Mat& net_view,
                                                const FrameOptions& options = {});

// The reading of the photo with a margin (`framed`, cropped back to the photo and resized to
// `prob`'s size) merged into `prob`: the new parts (solid, >= 0.5, in `framed` only) that reach
// the frame's band and come within `near` (a share of the diagonal) of the product of `prob`
// (a tail fin running off the border, joined to the body or read just apart from it) take the
// larger of the two probabilities, with their soft edge. Nothing else changes: what the first
// reading found is kept as it was. Returns `prob` unchanged when the new parts would add more
// than `max_added` of the product's area (the second reading found another subject).
cv::Mat MergeFramedReading(const cv::Mat& prob, const cv::Mat& framed,
                           const FrameOptions& options = {});

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
