// The compliance gate: checks an encoded image against a marketplace preset, rule by rule.
//
// Each rule reports what it measured, the limit, and a message a seller can act on. A rule is
// passed, failed, or not checked (said visibly: for instance no text detector was configured, or
// the backdrop is not plain so the product cannot be told from it). A report passes when no rule
// failed. Checking never edits the image.
//
// How the product is found: background pixels are those close to the background colour (the
// preset's when it requires a plain background, otherwise the border's median) and connected to
// the image border; everything else is the product. "Close" is kPlainTolerance (12 levels), or
// for a pure background kPureTolerance (1 level: FindPureLayout), so a pale product's body and
// anti-aliased rim are product, not off-white background. Fill is the product box's span along
// its limiting axis, max(box width / width, box height / height).
//
// Pure background, from the pixels alone (what `vitrine check` does): every pixel away from the
// product must be exactly the colour, the border ring included. "Away" excludes the edge band
// (max(4 px, 1% of the shorter side) from the product), a light shadow's reach where the preset
// allows one, and in JPEG/WebP the compression blocks that hold the band (8x8 in our 4:4:4 JPEG).
// A raw photo on a grey, textured or near-white backdrop has no such background: it fails
// background_border and background_pure, and its "product" fills the frame (fill fails).
// Limit: a tint more than one level off the colour that touches the product (a grey shadow, a
// halo) reads as part of the product, so the colour-only rule does not call it impure (it widens
// the product's box); export knows the product's alpha and refuses it
// (ComplianceOptions::coverage, rule background_uncovered).
//
// Overlay text (presets with no_text): the overlay_text_area hook measures it. Where the preset
// requires a pure background and the image passes that rule, the hook is given the product from
// the pixels (ProductPieces) instead of finding it with a segmenter, so `vitrine check`
// and export's gate decide alike by construction, and cheaply.
//
// Thread safety: every function is thread-safe if the overlay_text_area hook is.
#pragma once

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/image.h"
#include "core/status.h"
#include "qa/presets.h"

namespace vitrine::qa {

enum class Outcome { kPassed, kFailed, kNotChecked };

struct RuleResult {
  std::string id;  // stable: "dimensions", "aspect", "background_border", ...
  Outcome outcome = Outcome::kPassed;
  std::string measured;  // "1500x1500", "3.2%"
  std::string limit;     // ">= 1000 px", "0%"
  std::string message;   // the whole sentence, with what to do when failed

  bool failed() const { return outcome == Outcome::kFailed; }
};

struct ComplianceReport {
  std::string preset;
  std::vector<RuleResult> rules;

  bool passed() const;
  std::vector<const RuleResult*> Failed() const;
  // "background_border, fill" (the ids of the failed rules).
  std::string FailedIds() const;
  // {"preset", "passed", "rules": [{"id", "outcome", "measured", "limit", "message"}]}
  nlohmann::json ToJson() const;
};

// Share (0..1) of `bgr` (the flattened image) covered by detected overlay text (captions, logos,
// watermarks). `product` (CV_8UC1 at bgr's size, 255 = product) is where the product is when the
// pixels alone say so (ProductPieces(): a pure background that passes its rules); empty:
// the function finds the product itself (ops::OverlayTextArea runs ISNet).
using OverlayTextFn = std::function<Result<double>(const cv::Mat& bgr, const cv::Mat& product)>;

struct ComplianceOptions {
  // The no-text rule's measure. Empty: the rule is reported as not checked.
  OverlayTextFn overlay_text_area;
  // Largest share of detected text tolerated before the rule fails (detectors see specks).
  double max_text_area = 0.001;
  // Measure overlay text only when every other rule passed, else report it as not checked
  // (export's gate: a failing image is refused whatever its text, and the measure costs a
  // detector pass). `vitrine check` reports every rule.
  bool text_only_if_rest_passes = false;
  // The product's coverage (its alpha, CV_8UC1) at the checked image's size, when the caller
  // knows it (export of a staged cutout). For pure-background presets, the rule
  // "background_uncovered" then requires every pixel it leaves at 0 to be exactly the background
  // colour, apart from the compression blocks the product reaches into. Empty: colour alone.
  cv::Mat coverage;
};

// How far from the background colour (every channel) a pixel may be and still be background
// when finding the product: plain backdrops tolerate JPEG noise and a cutout's haze; for a pure
// background a pixel one level off white is background (and so must be exactly white unless it
// is at the product's edge), anything further off is product. A pale product's rim and body are
// thus product, not impure background.
inline constexpr int kPlainTolerance = 12;
inline constexpr int kPureTolerance = 1;

// Where the product is in an opaque image (see the header comment).
struct Layout {
  cv::Mat background;            // CV_8UC1, 255 where background
  cv::Mat product_mask;          // CV_8UC1, 255 where product (not background, specks removed)
  cv::Vec3b background_colour;   // the colour the background was measured against (BGR)
  double border_background = 0;  // share of border pixels that are background, 0..1
  cv::Rect product;              // bounding box of product_mask; empty if none
  // The backdrop is plain enough (half the border is background) for the box to mean anything.
  bool found() const;
};

// How a product box sits in a frame of `size`: fill as defined above, the smaller gap on each
// axis as a share of that side, and whether the box touches an edge.
struct Framing {
  double fill = 0;
  double margin_horizontal = 0;
  double margin_vertical = 0;
  bool touches = false;
  // Fill within the preset's range and margins at least the preset's, not touching.
  bool Fits(const Preset& preset) const;
};
Framing MeasureFraming(cv::Rect box, cv::Size size);
// The median colour of the image's outermost pixels (per channel).
cv::Vec3b BorderColour(const cv::Mat& bgr);

// The product where the background is known (`background`: CV_8UC1, 255 = background): what the
// background connected to the image border does not reach (holes filled), keeping only the large
// pieces, those of at least kProductPieceShare of the largest one's area (a pair of shoes, a set
// of glasses). Small islands on the backdrop (a caption's glyphs, a price, a logo) are not
// product, so text there counts as overlay. For an image whose pure background passes
// background_border and background_pure, ProductPieces(layout.background) is the product from the
// pixels alone, exact on our own exports (export moves every product pixel off the background
// colour); for a cutout, ProductPieces(alpha < 128). CV_8UC1, 255 = product.
inline constexpr double kProductPieceShare = 0.05;
cv::Mat ProductPieces(const cv::Mat& background);

// `colour`: the expected background colour, or nullopt to take BorderColour().
// `tolerance`: kPlainTolerance, or kPureTolerance where the preset requires a pure background.
Layout FindLayout(const cv::Mat& bgr, std::optional<cv::Vec3b> colour, int tolerance);

// FindLayout() for a pure background (kPureTolerance), with the product box measured without
// the lossy encoder's ringing: in a JPEG or WebP `header`, pixels within kPlainTolerance of the
// colour and within one block of the clearly-off pixels (kPlainTolerance) are not product.
Layout FindPureLayout(const cv::Mat& bgr, cv::Vec3b colour, const io::ImageHeader& header);

// The pixels exempt from the pure-background rules around `product` (a mask): within the edge
// band of it (see compliance.cpp: max(3 px, 1% of the shorter side); none when `alpha_known`,
// as the product's own alpha then says where it ends), within the light shadow's reach when the
// preset allows one, and, for JPEG and WebP, every compression block (header.mcu_width x
// mcu_height, 8x8 for our 4:4:4 JPEG; 16x16 for WebP) holding a product pixel, widened by 2 px
// for subsampled chroma: only there can an encoder's ringing move a background pixel.
cv::Mat EdgeExemption(const cv::Mat& product, const Preset& preset, const io::ImageHeader& header,
                      bool alpha_known);
// The pixels the pure-background rules require to be exactly the background colour: all but
// EdgeExemption(layout.product_mask).
cv::Mat PureRegion(const Layout& layout, const Preset& preset, const io::ImageHeader& header);

// The image composited over `colour` (alpha dropped); the pixels themselves when opaque.
cv::Mat FlattenOnto(const Image& image, cv::Vec3b colour);

// Checks `bytes` (an encoded file) whose decoded pixels are `decoded` (io::DecodeImage of the
// same bytes) against `preset`. Never fails: problems are rules that fail.
ComplianceReport CheckCompliance(std::string_view bytes, const Image& decoded, const Preset& preset,
                                 const ComplianceOptions& options);

// Reads and decodes the file, then CheckCompliance(). An unreadable or undecodable file is an error
// (its message carries the path and what to do), not a report.
Result<ComplianceReport> CheckFile(const std::string& path, const LimitsConfig& limits,
                                   const Preset& preset, const ComplianceOptions& options);

}  // namespace vitrine::qa
