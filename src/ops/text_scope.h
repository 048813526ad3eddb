// Text scope: which detected text regions were added on top of a photo (overlay: promotion
// captions, prices, banners, watermarks) and which are printed on the product (a can's label).
// RemoveText() under TextScope::kOverlay removes only the former; OverlayTextArea() (QA's "text
// left" measure) counts only the former.
//
// Also the region geometry that text removal shares with it (line height, windows, masks) and the
// banner finder (the flat-coloured box behind a price), which is both a cue and part of what
// removal takes.
//
// Thread-safe: every function is pure (no state, inputs never modified). No errors: a region that
// cannot be measured (empty, off the image) gets the documented fallback.
#pragma once

#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "models/text_detector.h"
#include "ops/remove_text.h"

namespace vitrine::ops {

// Decides, per region, whether it is overlay text. `product` is the segmenter's product mask of
// `bgr` (CV_8UC1, 255 = product, any size: regions are scaled to it; empty = unknown, then
// everything that reads counts as overlay). `findings` is resized to one per region, in order;
// with `recognised`, their text and confidence must already hold what the recognizer read, and a
// region that reads as nothing is not text (kept), nor is a lone glyph read with low confidence
// away from other text (a handle's loop or a wheel read as "O": kept whatever the mask says).
// Text read alike kTiledCopies (3) times is a tiled watermark, whatever the mask says, unless
// each copy is printed on its own instance of one product (a multi-pack's identical labels):
// every copy level, opaque (not `translucent`), on the product, and the product mask around each
// copy alike. Such copies are then decided one by one as below.
// A region mostly off the product is overlay, unless its ink lies on the product and the region
// within the product's outline (the convex hull of the mask's pieces): the segmenter missed the
// pale surface the print is on (a white bowl on white). Text on the product is overlay when it
// looks drawn over it (MeasureOverlayCues). Fills polygon, score, overlay and why. `cues`, when
// given, keeps each region's MeasureOverlayCues between calls on the same `bgr` and `regions`
// (they do not depend on the mask), so trying several masks measures each region once.
// Pure apart from `cues`.
struct OverlayCues;
void ClassifyText(const cv::Mat& bgr, const cv::Mat& product,
                  const std::vector<models::TextRegion>& regions, bool recognised,
                  std::vector<TextFinding>* findings,
                  std::vector<std::optional<OverlayCues>>* cues = nullptr);

// What a region on the product looks like, measured for deciding whether it was drawn over the
// product (a supplier's caption, price banner, sticker) rather than printed on it. Photographed
// print is shaded by the product's curvature and softened by the lens like the product's own
// edges; a graphic drawn on the finished photo is flat-coloured, pixel-sharp, often outlined or on
// a box, in promotional red/orange/yellow, and tilted. An outline is a thin rim around thin strokes
// that ends (a glyph printed in a flat disc is not outlined by the disc) and whose colour no soft
// edge between the fill and the surroundings has; a box behind the text shaded as the product
// around it, or lit on its own (a logo's disc set in an earcup), is printed on it, not drawn (no
// banner). The thresholds and weights are constants in text_scope.cpp, measured on
// bench/text_scope_labels.tsv (bench/README.md).
// Ink apart from the product in colour only (a yellow caption on a grey box of its lightness) is
// a cue too: print is laid out to be read in lightness.
struct OverlayCues {
  double ink_spread = 0;         // median ΔE76 of the ink near its main colour from it
  bool flat = false;             // ink_spread small and most ink near it: one flat colour
  double chroma = 0, hue = 0;    // of that colour (CIELAB; hue in degrees)
  bool colour_only = false;      // ink apart from its surroundings in colour, not in lightness
  bool promo_colour = false;     // flat (or colour_only) and saturated red, orange or yellow
  double rim_spread = 0;         // median ΔE76 of the rim around the fill from its colour
  double rim_contrast = 0;       // ΔE76 of the rim's colour from every mix of the fill's and the
                                 // surroundings' (a blurred edge between them is such a mix)
  double fill_thickness = 0;     // of the flat fill's strokes, in line heights
  double rim_beyond = 0;         // share of the band beyond the rim still in the rim's colour
  bool outline = false;          // a flat rim of a third colour around flat, thin glyph strokes
  double sharpness = 0;          // strong colour gradients / the ink's step (drawn ≈ 0.5)
  double product_sharpness = 0;  // strong L gradients / L range around the region
  bool sharp = false;            // pixel-sharp and clearly sharper than the product around it
  double tilt = 0;               // degrees from the image axes (0 for a short region)
  bool tilted = false;
  double banner_spread = 0;  // BGR standard deviation of the box behind the text
  double box_shading = 0;    // relative change of the box's light across it
  double own_shading = 0;    // the same over the box's own colour (glyphs on it left out)
  bool shaded_box = false;   // the box is shaded like the product around it, or on its own:
                             // printed, not drawn
  bool banner = false;       // a flat-coloured box behind the text (BannerMask), not shaded_box
  // Translucency: the glyph cores fitted as I = (1 − opacity)·B + opacity·W over the surface B
  // around them (W grey, one level for B, G and R). A translucent overlay (a shop's watermark
  // laid over the fruit) keeps the surface's variation and hue under its glyphs; opaque print
  // does not. Light overlays only: a dark print shaded with the surface fits a dark W too.
  double opacity = 0;            // 1 − the fit's slope
  double overlay_white = 0;      // W, 0..255 (grey level)
  double fit_share = 0;          // share of the cores' samples within a few levels of the fit
  double surface_variation = 0;  // standard deviation of B under the cores (within a channel)
  double follow = 0;             // correlation of the cores with B, within each channel
  double follow_slope = 0;       // their slope on B within each channel (≈ 1 − opacity)
  double top_opacity = 0;        // 90th percentile of the glyph pixels' own opacities
  bool translucent = false;      // all of the above as a light translucent overlay shows them:
                                 // decides alone (a watermark over the product is overlay)
  // Drop shadow: a dark offset copy of the glyphs drawn under them. The pixels just beside its
  // dark crescents, on the side the shadow is offset from, are the glyphs: one flat colour, in
  // thin strokes, unlike the surroundings, and far rarer just beyond the crescents. Photographed
  // print has no such one-sided dark copy; embossed print's shaded side borders the product's
  // own shaded material, not a flat fill. With a drop shadow the glyphs' colour, not the
  // shadow's (which is the ink that stands out when the glyphs are near the surface's colour:
  // yellow on a yellow duck), gives `flat`, `chroma`, `hue` and `promo_colour`.
  bool drop_shadow = false;
  cv::Point shadow_direction{0, 0};  // the shadow's offset from the glyphs, a step in x and y
  double shadow_glyph_share = 0;     // share of the pixels beside the shadow in the glyph colour
  double shadow_far_share = 0;       // share of the pixels beyond the shadow in that colour
  double shadow_contrast = 0;        // ΔE76 of the glyph colour from the surroundings' median
  double shadow_thickness = 0;       // of the dark pixels' strokes, in line heights
  double score = 0;                  // weighted sum of the cues; ≥ kDrawnOverScore: drawn over
  // "banner box, flat colour, ...; score 2.5": the cues that hold, for reports.
  std::string Describe() const;
};

// The cues of `region` in `bgr` (CV_8UC3). A region too small or too close to uniform to
// measure gets all cues off (score 0). Pure.
OverlayCues MeasureOverlayCues(const cv::Mat& bgr, const models::TextRegion& region);

// Score from which a region on the product counts as drawn over it.
inline constexpr double kDrawnOverScore = 2.5;

// Direction of a text line in degrees from horizontal, in (-90, 90] (sign as OpenCV's
// RotatedRect angle: image y down); 0 for a region too short to have one.
double LineAngle(const models::TextRegion& region);

// Line height of a region: the short side of its rectangle (at least 1).
double LineHeight(const models::TextRegion& region);

// Lines tilted at least this many degrees from the axes can be a tiled watermark's copies.
inline constexpr double kWatermarkTilt = 10;
// Whether `region`'s line is tilted from both axes by at least kWatermarkTilt degrees, as tiled
// shop watermarks are and lines of print or of a document are not.
bool TiltedFromAxes(const models::TextRegion& region);
// Whether a detected region may seed or join a tiled watermark: be its template
// (FindTiledWatermark's `regions`), one of its copies or the rest of its line in RemoveText, or
// a line tilted alike that makes a group of tilted lines a watermark in ClassifyText. The photo's
// own regions may; those seen only in TextDetector::RunPhoto's chroma view (`chroma_view`) may
// not: a grey watermark has no chroma, and that view also outlines coloured parts of a product (a
// shoe's upper made a lattice on a clean shoe and was wiped under a real watermark's copies; pink
// sunglasses' lens). The one place that decides it: a new watermark search takes its candidates
// from here. Pure.
bool WatermarkCandidate(const models::TextRegion& region);
// Whether `line` is tilted and sized like `reference`: within 4 degrees of its angle and 25 % of
// its line height (the copies of one tiled watermark, or the rest of one of its lines).
bool TiltedAlike(const models::TextRegion& reference, const models::TextRegion& line);

// `region` with every point mapped to (x · sx − off.x, y · sy − off.y).
models::TextRegion Scaled(const models::TextRegion& region, double sx, double sy, cv::Point2f off);

// The region's pixels inside `roi` (a CV_8UC1 mask of roi's size), grown by `grow` px.
cv::Mat RegionMaskIn(cv::Rect roi, const models::TextRegion& region, int grow);

// Bounding box of the region grown by `margin`, clipped to `size` (empty when off the image).
cv::Rect Window(const models::TextRegion& region, double margin, cv::Size size);

// Share (0..1) of `region`'s pixels that `mask` (CV_8UC1, the region's coordinates) covers; 0 for
// a region off the mask.
double ShareIn(const models::TextRegion& region, const cv::Mat& mask);

// Window(region, margin, size), stretched along the line to the image's edges when the line
// runs along an image axis (within 10°): where BannerMask() looks, so a full-width price bar is
// found whole, up to its own ends or the image's edges.
cv::Rect BannerWindow(const models::TextRegion& region, double margin, cv::Size size);

// The flat-coloured box behind a text line (a red rounded rectangle behind a price), as a CV_8UC1
// mask of `roi`'s size (roi: a window of `bgr`, CV_8UC3, around the region, normally
// BannerWindow()), or an empty Mat when the text sits on something else. A box may run off the
// image (a bar across the photo to its edge) but not off the window inside the image (that is a
// backdrop).
cv::Mat BannerMask(const cv::Mat& bgr, const models::TextRegion& region, cv::Rect roi);

}  // namespace vitrine::ops
