// Text removal: promotion text, prices, banners and watermarks taken off a product photo, with the
// product's own printed text kept. The `remove_text` op (remove_text.cpp) and `vitrine
// remove-text` run RemoveText(); QA and export use OverlayTextArea() to find what is left.
//
// Steps: detect (PP-OCRv4, tiled on huge images) → read each region (CTC recognition) → classify
// overlay vs product (ISNet's product mask: a region mostly inside the product stays unless
// overlay cues say otherwise: it is tiled like a watermark, it reads as text and is the whole
// "object" the segmenter found, or it looks drawn over the product: ops/text_scope.h) → removal
// mask: the region grown with its line height to take outlines and drop shadows, plus the
// flat-coloured banner box behind the text when there is one (a bar may run off the image to its
// edge) → ops::Inpaint (diffusion for thin strokes, PatchMatch for the rest) → verify: detect
// again; overlay text still found gets one more pass with a larger mask, then a warning.
//
// Thread-safe: functions keep no state; the Runtime's detectors are thread-safe. Errors:
// ModelFailure / NotFound from the models (messages name `vitrine models prepare`), Internal if
// OpenCV fails. Inputs are never modified.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/image.h"
#include "core/status.h"
#include "models/runtime.h"

namespace vitrine::ops {

enum class TextScope { kOverlay, kAll };

struct RemoveTextOptions {
  TextScope scope = TextScope::kOverlay;
  uint64_t seed = 0;  // PatchMatch's seed: same seed, same bytes
  int grow = -1;      // px added around each region; -1: scaled with the line height
  bool recognize = true;
  bool verify = true;
};

// One detected text region and what was decided about it.
struct TextFinding {
  std::vector<cv::Point2f> polygon;  // image coordinates
  std::string text;                  // recognised text ("" when recognize is off)
  float confidence = 0;              // recognition confidence in [0, 1]
  float score = 0;                   // detection score in [0, 1]
  bool overlay = false;              // added on top of the photo (vs printed on the product)
  std::string why;                   // the cue that decided `overlay`
  bool removed = false;
};

struct RemoveTextReport {
  std::vector<TextFinding> regions;
  // Text still detected where text was removed, or overlay text detected anywhere, after removal.
  std::vector<std::vector<cv::Point2f>> residual;
  // Share of the detector's signal (sum of text probability) inside the removal mask that is
  // left after removal; 0 when nothing was removed.
  double residual_share = 0;
  std::string note;  // why nothing was done (tiny image), or empty
  struct Timings {
    double detect = 0, recognise = 0, classify = 0, inpaint = 0, verify = 0;  // seconds
  } timings;

  // {"regions": [{polygon, text, confidence, score, kind, removed}], "residual": {regions,
  // share}}, plus "note" when set: the op's facts (no timings: facts must be reproducible).
  nlohmann::json FactsJson() const;
};

// Removes text from `input` (BGR, optional alpha; any size). The result has the input's size; its
// alpha is the input's, untouched; pixels outside the removal mask are bit-identical. Images under
// 32 px on a side come back unchanged with report->note set. `report` may be null.
Result<Image> RemoveText(const Image& input, const RemoveTextOptions& options,
                         models::Runtime& runtime, RemoveTextReport* report);

// Share of `bgr`'s area (in [0, 1]) covered by overlay text: detected regions that read as text
// and that ClassifyText calls overlay against the segmenter's product mask (recognition and the
// segmenter run only when the detector finds something). The single
// "text left" measure for QA (qa::TextCoverageFn) and the compliance gate
// (qa::ComplianceOptions::overlay_text_area). The returned function borrows `runtime`, which must
// outlive it; it is thread-safe.
std::function<Result<double>(const cv::Mat& bgr)> OverlayTextArea(models::Runtime& runtime);

// Where OverlayTextArea's overlay text is: CV_8UC1, 255 on overlay text, at `bgr`'s size scaled
// to a long side of at most 1024 (the same aspect; scale it to map it onto `bgr`); empty for an
// empty `bgr`. For a caller
// that reuses one measure on resampled copies of `bgr` (an export is `bgr` scaled onto a canvas).
// Thread-safe; errors as OverlayTextArea's.
Result<cv::Mat> OverlayTextMask(models::Runtime& runtime, const cv::Mat& bgr);

}  // namespace vitrine::ops
