// Test data for the QA tests and bench: source cutouts with a known alpha (tests/testdata.h
// composites), staged candidates made from them the way the stage op does (product resampled into
// a placement on a canvas, with a soft shadow), and the defects QA must catch, made on purpose.
// Deterministic for a given seed. Test-only: not part of vitrine_qa.
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "qa/score.h"

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

// A backdrop of `size`: white, light grey, a random studio colour, a vertical gradient, or a
// blurred room photo from opencv-doc.
cv::Mat MakeCanvas(cv::Size size, Canvas canvas, int seed);

// The product (bounding box of alpha > 0) resampled into `placement` (may reach past the canvas)
// over a canvas of `size`, with a soft contact shadow.
Staged Stage(const cv::Mat& bgr, const cv::Mat& alpha, cv::Size size, cv::Rect placement,
             Canvas canvas, int seed);
// The same over a given backdrop (CV_8UC3, the candidate's size).
Staged StageOn(const cv::Mat& bgr, const cv::Mat& alpha, const cv::Mat& backdrop,
               cv::Rect placement);

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

// A broken candidate made on purpose, and the hard checks that may rightly reject it.
struct Defective {
  std::string defect;               // "half missing", "text left", ...
  std::vector<std::string> checks;  // ids (or id prefixes): one of them must fail
  Source source;                    // the photo and what the segmenter sees
  cv::Mat cutout_alpha;  // the cutout QA is given (broken for "half missing", "fragments")
  cv::Mat candidate;
  cv::Rect placement;
};
// Seven defects of `source` staged over `backdrop` with the product filling `fill` of the short
// side: a cutout missing half the product, overlay text left in, the product's colour shifted by
// 15 in CIELAB (direction chosen by seed), a Gaussian blur of sigma 3, the subject cut by the
// frame, crumbs of backdrop around the product, and a source photo that cuts off the product's
// lower 30%.
std::vector<Defective> MakeDefects(const Source& source, const cv::Mat& backdrop, double fill,
                                   int seed);
// Whether `qa` rejected the defective candidate for one of its right reasons.
bool CaughtForTheRightReason(const CandidateQa& qa, const Defective& defective);

}  // namespace vitrine::qa::testdata
