// Text removal: promotion text, prices, banners and watermarks taken off a product photo, with the
// product's own printed text kept. The `remove_text` op (remove_text.cpp) and `vitrine
// remove-text` run RemoveText(); QA and export use OverlayTextArea() to find what is left.
//
// Steps: detect (PP-OCRv4 on the whole photo, TextDetector::RunPhoto: a thumbnail enlarged, a
// huge image tiled) → read each region (CTC recognition) → a tiled translucent watermark among
// the regions is matched across the image and inverted
// (ops/watermark.h: its copies are overlay whatever the scope, including copies the detector
// missed; pixels too opaque to invert join the removal mask; a level line's copies that the
// detector saw must read alike: two lines of different print are no watermark); when no region
// seeds one, a tiled watermark too faint for the detector is looked for blind
// (ops/blind_watermark.h), inverted, and the rest removed from the result → classify the other
// regions overlay vs product (ISNet's product mask: a region mostly inside the product stays unless
// overlay cues say otherwise: it is tiled like a watermark, it reads as text and is the whole
// "object" the segmenter found, or it looks drawn over the product: ops/text_scope.h; ISNet runs
// only when a decision depends on it, first at a low resolution, see ClassifyAgainstProduct; with
// no tiled watermark, an overlay line that is translucent and tilted has its copies found by
// FindLineCopies, partial ones at the border included, and they are removed with it) →
// removal mask: the region grown with its line height to take outlines and drop shadows, plus the
// letters of a level line that the detector left out beyond its region (same ink colour, height
// and stroke, on a smooth backdrop, off the product: giant hairline letters split by the product),
// the flat-coloured box behind the text when there is one, whole (a box holding several lines; a
// bar running off the image to its edge; other graphics of its colour nearby are not it) →
// ops::Inpaint (diffusion for thin strokes, PatchMatch for the rest) → verify: detect again around
// what was removed (windows with a few lines of context, at the first pass's scale); overlay text
// still found gets one more pass with a larger mask, then a warning.
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
#include "qa/compliance.h"

namespace vitrine::ops {

enum class TextScope { kOverlay, kAll };

// ISNet input size of the product screen: chosen on bench/remove_text.sh --segment-sizes, where
// it decided overlay vs product like the full-size ISNet with a few fallbacks (bench/README.md).
inline constexpr int kDefaultScreenSegmentSize = 384;

struct RemoveTextOptions {
  TextScope scope = TextScope::kOverlay;
  uint64_t seed = 0;  // PatchMatch's seed: same seed, same bytes
  int grow = -1;      // px added around each region; -1: scaled with the line height
  bool recognize = true;
  bool verify = true;
  // ISNet input size of the cheap first look at the product (see ClassifyAgainstProduct); 0 or a
  // size ≥ the configured segment_size: always the configured ISNet.
  int screen_segment_size = kDefaultScreenSegmentSize;
};

// Which product mask ClassifyAgainstProduct() needed.
enum class ProductMaskUsed {
  kNone,    // every decision was the same whatever the product (tiled, not text, ...)
  kScreen,  // ISNet at the screen size, its decisions stable against its own error
  kFull,    // ISNet at the configured size
};

// One detected text region and what was decided about it. A tiled watermark's copies are read
// once: each carries the text and confidence its seed copy read.
struct TextFinding {
  std::vector<cv::Point2f> polygon;  // image coordinates
  std::string text;                  // recognised text ("" when recognize is off)
  float confidence = 0;              // recognition confidence in [0, 1]
  float score = 0;                   // detection score in [0, 1]
  bool overlay = false;              // added on top of the photo (vs printed on the product)
  bool watermark = false;            // a copy of a tiled watermark (ops/watermark.h)
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
  // The tiled watermark taken off by inversion (ops/watermark.h): copies found (0: none), the
  // opacity of its glyph cores and its colour (BGR).
  int watermark_copies = 0;
  double watermark_opacity = 0;
  cv::Vec3f watermark_colour;
  ProductMaskUsed product_mask = ProductMaskUsed::kNone;  // what the classification needed
  struct Timings {
    double detect = 0, recognise = 0, classify = 0, inpaint = 0, verify = 0;  // seconds
    Timings& operator+=(const Timings& other) {
      detect += other.detect, recognise += other.recognise, classify += other.classify;
      inpaint += other.inpaint, verify += other.verify;
      return *this;
    }
  } timings;
  // The same steps' CPU time, the whole process's (every thread's): meaningful only while one
  // image is processed at a time (benches).
  Timings cpu_timings;

  // {"regions": [{polygon, text, confidence, score, kind, why, removed}], "residual": {regions,
  // share}}, plus "note" when set and "watermark": {copies, opacity, colour} when one was
  // inverted (its copies' regions then carry "watermark": true): the op's facts (no timings:
  // facts must be reproducible).
  nlohmann::json FactsJson() const;
};

// Removes text from `input` (BGR, optional alpha; any size). The result has the input's size; its
// alpha is the input's, untouched; pixels outside the removal mask are bit-identical. Images under
// 32 px on a side come back unchanged with report->note set. `report` may be null.
Result<Image> RemoveText(const Image& input, const RemoveTextOptions& options,
                         models::Runtime& runtime, RemoveTextReport* report);

// ClassifyText() against ISNet's product mask, with ISNet run only as far as the decisions need:
// 1. no mask when each region is decided the same against no product and against a product
//    covering the whole image;
// 2. else ISNet at `screen_size` (a multiple of 64, cheap: ~1/5 of the pixels of the default
//    832), accepted when every decision stays the same with that mask grown and shrunk by the
//    tallest region's line height (at least two of its net pixels): the small net's outline
//    strays, and it takes parts near the text (a banner touching the product, the ground under
//    it) in or out where the full-size one does the opposite; and trusted only to say
//    "overlay" (a region it calls product text, or a screen that finds no product or nearly
//    the whole image, goes to step 3: at 384 px ISNet took whole listings for the product);
//    skipped when four or more regions depend on the mask (a listing's many captions, a can's
//    label): then it was never trusted and only added its cost;
// 3. else the configured ISNet: then the decisions are exactly ClassifyText()'s with it.
// `screen_size` 0 or ≥ the configured size skips step 2. `findings` as ClassifyText(). Errors:
// the segmenter's (NotFound / ModelFailure naming `vitrine models prepare`), InvalidArgument for
// a bad screen_size. `product_mask`, when given, receives the mask the decisions used (CV_8UC1,
// 255 = product, at `bgr`'s size fitted into a 1024 px long side), or an empty Mat for kNone.
// `known`: the configured ISNet's TextProductMask() of `bgr` when the caller has it already (the
// watermark search may need it); then it is step 3's mask and step 2 is skipped. Thread-safe.
Result<ProductMaskUsed> ClassifyAgainstProduct(
    const cv::Mat& bgr, const std::vector<models::TextRegion>& regions, bool recognised,
    int screen_size, models::Runtime& runtime, std::vector<TextFinding>* findings,
    cv::Mat* product_mask = nullptr, const cv::Mat& known = cv::Mat());

// The product mask ClassifyText() is given: `segmenter`'s foreground probability of `bgr` above
// 0.5, at `bgr`'s size fitted into a 1024 px long side. Errors as Segmenter::Predict().
Result<cv::Mat> TextProductMask(const models::Segmenter& segmenter, const cv::Mat& bgr);

struct TiledWatermark;
// Whether the copies of a level (or legible) watermark candidate `mark` (found among `regions`,
// its seed indexing them) that the detector saw, the WatermarkCandidate() regions whose centre
// lies on a copy, read alike (reads under kAlikeConfidence, remove_text.cpp, say nothing): two
// lines of different print ("Fashion" over "trend", three tilted opaque captions on coloured
// bands) match a template as a watermark's copies do, and inverted as one they lose only the
// seed's strokes. A mark tilted from the axes (kWatermarkTilt) and under kLegibleOpacity opaque
// is not read (a translucent watermark's copies over a busy product read poorly): true.
// RemoveText() drops a mark that does not read alike. Errors: the recognizer's (NotFound /
// ModelFailure naming `vitrine models prepare`). Thread-safe.
Result<bool> CopiesReadAlike(const cv::Mat& bgr, const std::vector<models::TextRegion>& regions,
                             const TiledWatermark& mark, models::Runtime& runtime);

// Share of `bgr`'s area (in [0, 1]) covered by overlay text: detected regions that read as text
// and that ClassifyText calls overlay against the product mask. The mask is the function's
// `product` argument when given (the compliance gate's or the runner's qa::ProductPieces: no
// segmenter runs), else ISNet's (ClassifyAgainstProduct); recognition and the segmenter run only
// when the detector finds something. The single "text left" measure for QA (qa::TextCoverageFn,
// with no product) and the compliance gate (qa::ComplianceOptions::overlay_text_area). The returned
// function borrows `runtime`, which must outlive it; it is thread-safe.
qa::OverlayTextFn OverlayTextArea(models::Runtime& runtime);

}  // namespace vitrine::ops
