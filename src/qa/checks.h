// Checks of one staged candidate image: each measures one thing and never edits an image.
//
// A Check carries the measured value, the limit it was held to, whether it passed, whether a
// failure rejects the candidate (hard) or only lowers its score (soft), and a reason a reviewer
// understands ("product colour shifted: mean ΔE2000 10.7 (limit 4.5)"). score.h combines them.
//
// Conventions: images are 8-bit BGR (CV_8UC3), alphas and masks CV_8UC1 of the same size as their
// image (255 = product). `placement` is the rectangle of the candidate where the bounding box of
// the source alpha's non-zero pixels landed (reported by the stage op); it may reach past the
// candidate's borders. Functions returning Result fail with InvalidArgument when inputs are
// malformed (empty, wrong type, mismatched sizes, no product pixels to compare) and say which.
// Everything here is thread-safe: pure functions, and Brisque is safe to share (see below).
// Nothing here keeps a reference to its arguments.
#pragma once

#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "models/segmenter.h"
#include "qa/qa_config.h"

namespace vitrine::qa {

struct Check {
  std::string id;    // stable, e.g. "cutout.coverage", "colour.mean", "compliance.<rule>"
  double value = 0;  // what was measured
  double limit = 0;  // what it was held to
  bool passed = true;
  bool hard = false;   // a failed hard check rejects the candidate
  std::string reason;  // one line for a reviewer; says what is wrong when !passed
};

// --- Cutout sanity, from the product's alpha in the candidate frame.

// The borders of its frame that cut the product: where product pixels (alpha >= 128) cover more
// than `min_contact` of the border's length (all of them, not the longest run: a chair cut through
// its legs touches in several short runs) and the product runs on through the border: the pieces
// touching it are, on the border, at least half as wide as 5% of the frame inside it. A product
// that curves away from the border only touches it (a handle's loop, a rounded corner of a
// tightly framed bag) and is not cut. For a cutout in its photo's own frame, these are the sides
// where the photo cuts the product.
struct FrameSides {
  bool top = false, bottom = false, left = false, right = false;
  double top_share = 0, bottom_share = 0, left_share = 0, right_share = 0;  // contact per border
  bool any() const { return top || bottom || left || right; }
  // "bottom", "left and bottom", ...; empty when none.
  std::string Names() const;
};
FrameSides CutSides(const cv::Mat& alpha, double min_contact);

// Four checks, in this order. Hard: "cutout.coverage" (share of the frame; too small or too large),
// "cutout.fragments" (stray pieces as a share of the product area, see below),
// "cutout.frame_cut" (product pixels on one border, as a share of that border; the borders in
// `bleeds` are left out: there the source photo cut the product and its cut edge belongs on the
// canvas edge), and soft: "cutout.holes" (enclosed transparent area over the filled product area).
// An empty or non-8-bit alpha gives one failed hard check "cutout.input" instead.
//
// Fragments. Pieces are the components of alpha >= 128; objects are the components of alpha >= 32,
// which is how far the segmenter's own soft mask joins them. A piece is part of the product, not
// a fragment, when (1) it is at least a quarter of the largest piece (two shoes, a set of alike
// candies), or its object is at least a quarter of the largest object and (2) it is that object's
// largest piece (a separate item the segmenter was less sure of: a candy seen through a smear) or
// (3) the object is translucent, mean alpha under 160 over its extent (glassware: the rims of a
// glass are opaque and its body is not, so its opaque parts fall apart at 128). Everything else is
// a fragment: crumbs of backdrop beside the product, and strays joined to it by a faint neck.
std::vector<Check> CutoutSanity(const cv::Mat& alpha, const QaConfig& config,
                                const FrameSides& bleeds = {});

// Check "cutout.source_frame_cut": whether the supplier photo cuts the product (CutSides of
// `source_alpha` at max_border_contact; `source_alpha` must be in the photo's own frame, not
// cropped to the product) and what that means for this candidate. A product cut by its photo
// cannot be a main image (marketplaces want the whole product in frame): hard failure when
// `main_image`. Otherwise the candidate passes only if the cut edge stays on the canvas edge, the
// product bleeding off the frame where the photo cut it: `placement` (in a frame of `canvas`
// size) must reach that border within 2 px or 0.5% of the side; a cut shown in mid-canvas is a hard
// failure. The reason always says "source photo cuts the product at the <side>: supply an uncut
// photo for a main image" when it does.
Result<Check> SourceFrameCut(const cv::Mat& source_alpha, cv::Rect placement, cv::Size canvas,
                             bool main_image, const QaConfig& config);
// The same, from the photo's cut sides when they are already known (CutSides(source_alpha,
// config.max_border_contact)).
Check SourceFrameCut(const FrameSides& cut, cv::Rect placement, cv::Size canvas, bool main_image,
                     const QaConfig& config);

// "Half missing": the cutout alpha against the segmenter's mask of the same source photo (both
// CV_8UC1, same size; thresholded at 128). Hard check "cutout.source_iou" = IoU.
Result<Check> SourceAgreement(const cv::Mat& alpha, const cv::Mat& segmenter_mask,
                              const QaConfig& config);

// The segmenter's mask of a source photo for SourceAgreement(): its foreground probability
// upsampled to the photo's size, as CV_8UC1 (255 = certainly product). Errors from Predict().
Result<cv::Mat> SegmenterMask(const models::Segmenter& segmenter, const cv::Mat& bgr);

// --- Comparisons with the source cutout at the candidate's scale.

// The source product resampled into `placement` on a canvas of `canvas` size (zero outside the
// product's rectangle): area averaging when shrinking, bilinear when enlarging.
struct PlacedProduct {
  cv::Mat bgr;               // CV_8UC3, canvas size
  cv::Mat alpha;             // CV_8UC1, canvas size
  double outside_share = 0;  // share of the product's alpha mass that fell outside the canvas
};
Result<PlacedProduct> PlaceProduct(const cv::Mat& bgr, const cv::Mat& alpha, cv::Rect placement,
                                   cv::Size canvas);

// Hard check "cutout.outside_frame": the share of the product the placement puts outside the
// candidate (catches cuts through thin parts that barely touch the border).
Check OutsideFrame(const PlacedProduct& placed, const QaConfig& config);

// Pixels where the placed product is fully opaque, eroded so edges (where the backdrop mixes in)
// do not count. CV_8UC1 0/255.
cv::Mat ProductCore(const cv::Mat& placed_alpha);

// Hard check "sharpness": detail energy (mean squared Laplacian of Gaussian, sigma 1.5) of the
// product core in the candidate over the same in the source product resampled to the placement,
// so scale does not matter. Below min_sharpness_ratio = blurred (an extra Gaussian blur of
// sigma s scales the ratio by about (2.25 / (2.25 + s^2))^2: 0.6 at s = 0.8, 0.04 at s = 3).
// A product too flat to measure (source energy < 0.05) passes with value 1 and says so.
Result<Check> Sharpness(const cv::Mat& source_bgr, const cv::Mat& source_alpha,
                        const cv::Mat& candidate_bgr, cv::Rect placement, const QaConfig& config);

// Hard checks "colour.mean" and "colour.p95": CIEDE2000 over the product core between the
// source product resampled to `placement` and the candidate, registered within +-3 px and
// smoothed (Gaussian sigma 2 px) so that a placement a few pixels off does not read as a colour
// change. Sharpness uses the same registration.
Result<std::vector<Check>> ColourFidelity(const cv::Mat& before_bgr, const cv::Mat& before_alpha,
                                          const cv::Mat& after_bgr, cv::Rect placement,
                                          const QaConfig& config);

// --- No-reference quality.

// BRISQUE (OpenCV contrib quality module) with the LIVE model from Debian opencv-data.
// Thread-safe: each thread lazily loads its own model instance.
class Brisque {
 public:
  static constexpr const char* kDefaultDir = "/usr/share/opencv4/quality";
  // Unavailable with "install opencv-data: make setup" if the model files are missing.
  static Result<std::unique_ptr<Brisque>> Load(const std::string& dir = kDefaultDir);

  // BRISQUE score of `bgr` (lower is better, ~0..100) after reducing its long side to `max_side`
  // (no enlargement). ModelFailure if OpenCV fails.
  Result<double> Score(const cv::Mat& bgr, int max_side) const;

 private:
  Brisque(std::string model_path, std::string range_path);
  std::string model_path_;
  std::string range_path_;
};

// Soft check "quality.brisque".
Check QualityCheck(double brisque_score, const QaConfig& config);

// --- Overlay text left in the candidate.

// Returns the share of the image area covered by overlay text (the text detector provides it).
using TextCoverageFn = std::function<Result<double>(const cv::Mat& bgr)>;
// Hard check "text.left"; the detector's error is returned as is.
Result<Check> TextLeft(const TextCoverageFn& text_coverage, const cv::Mat& bgr,
                       const QaConfig& config);

// --- Marketplace compliance (rules checked by the presets module).

// The rules as checks; every failed rule is hard. Ids are prefixed with "compliance." unless
// they already are.
std::vector<Check> Compliance(std::vector<Check> rules);

// --- Near-duplicates.

// 64-bit perceptual hash (DCT pHash) as a 1x8 CV_8UC1; empty for an empty or non-BGR image.
cv::Mat PerceptualHash(const cv::Mat& bgr);
// Hamming distance between two PerceptualHash() values (0..64); 64 if either is empty.
int HashDistance(const cv::Mat& a, const cv::Mat& b);

// What near-duplicate detection compares: the pHash (layout, luminance only) and an 8x8 CIELAB
// thumbnail (colour, which pHash ignores: the same shot on white and on a coloured canvas is two
// looks, not a duplicate).
struct Fingerprint {
  cv::Mat hash;  // PerceptualHash()
  cv::Mat lab;   // 8x8 CV_32FC3 CIELAB, area-averaged
};
Fingerprint MakeFingerprint(const cv::Mat& bgr);

struct Likeness {
  int hash_distance = 64;        // pHash Hamming distance
  double colour_difference = 0;  // mean CIEDE2000 between the thumbnails' cells
};
// Empty fingerprints compare as entirely different.
Likeness Compare(const Fingerprint& a, const Fingerprint& b);

}  // namespace vitrine::qa
