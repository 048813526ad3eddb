// Tiled semi-transparent watermarks (a shop name repeated across the photo at 30–60% opacity):
// found from one detected copy by matching it across the image, and removed by inverting the
// overlay instead of inpainting it, so the product's own texture under the watermark is kept.
// RemoveText() runs both before it classifies the remaining text.
//
// Model: inside a copy, I = α·W + (1 − α)·J, where J is the photo, W one colour and α(x) the
// watermark's coverage × opacity, the same for every copy up to a translation.
// - Finding: the detected region is the template; it is matched (normalised cross-correlation
//   of the grey high-pass, so the backdrop's brightness does not count; a tilted line whose box
//   matches too few places is matched on its strokes alone: a whole line's box over coarse
//   asphalt is mostly asphalt) across the image, the
//   matches are averaged into a cleaner template and matched again, and the matches are fitted
//   with a lattice (one or two translation vectors, the pair that explains the most matches)
//   that also places the copies the detector and the matching missed, partial ones at the
//   image's edges included (one less than a fifth inside the image is left out). For a line tilted
//   from the axes (kWatermarkTilt), as tiled shop watermarks are and lines of print or of a
//   document are not: copies over a busy product match poorly, so the matches may hold every
//   other row or column; a finer lattice (a step halved, or centred) is taken when the template
//   matches its new positions on the whole, and every position of the lattice is a candidate
//   copy (the estimate drops those whose glyphs do not show the overlay). For a level line each
//   copy must match the template where it is seen. The
//   template then grows around the detected region (which may hold only part of the line) as far as
//   it stays apart from its neighbours. A tilted line's template also takes in every detected line
//   tilted and sized alike that lies on the seed's line once moved back by a copy's offset (the
//   detector saw "样品" at a copy cut by the border or over a busy product, and "样品 SAMPLE"
//   whole at another), and then every lattice position whose template reaches into the image is
//   a copy, slivers at the border included.
// - Estimating: the glyphs' pixels are those that stand out of their copy's smooth backdrop, on
//   the same side, in most of the copies (along the detected line, continued to the template's
//   edges, for a tilted line only while the glyphs run on with gaps under a line's height: a
//   template grown to the copies' spacing holds backdrop that passes for glyphs in a few copies;
//   at least two copies must see a pixel, and two must agree in sign). For a line tilted
//   from the axes (kWatermarkTilt: a watermark cue) partial copies count where they are seen; for a
//   level one only whole copies do (with the partial ones, a level line of print on a can's
//   patterned label made up glyphs from the pattern's repeats and was fitted as a dark overlay).
//   Under the glyphs each copy's backdrop B is filled from around them (push-pull); over the glyph
//   cores (full opacity a) I = (1 − a)·B + a·W is a line in B whose slope and intercept give a and
//   W (many copies over varied backdrops give many samples; over one flat backdrop W is taken at
//   the extreme the glyphs lean to, which inverts to the same pixels). Watermarks are nearly always
//   white, black or grey: for a tilted line W is taken grey (one intercept for the three
//   channels) unless a free colour explains the samples far better, and white or black when
//   either explains them about as well (a and W trade off under the backdrop's noise), and a is
//   the samples' weighted median (a copy straddling the product's edge has a badly filled
//   backdrop); a level line keeps the free fit (with the prior, the lines of a text document
//   fitted as a black overlay). Then α(x) is the
//   least squares (I − B)·(W − B) / |W − B|² pooled over the copies (partial ones too), each
//   weighted by how smooth its backdrop is (the fill guesses a smooth backdrop better). A copy
//   whose cores show under half the opacity is no copy: it is dropped and the estimate redone.
//   A level line's watermark must come out near grey (channels within kMaxLevelChroma): a
//   label's repeated print fits a saturated "overlay".
// - Removing: J = (I − α·W) / (1 − α) wherever α > 0 in every copy. Pixels too opaque to invert
//   (α above kMaxInvertible) are left for the caller to inpaint (`opaque`).
//
// Thread-safe: pure functions, inputs never modified. No errors: OpenCV exceptions are caught by
// the caller (RemoveText converts them to Internal); "no watermark" is an empty result.
#pragma once

#include <opencv2/core.hpp>
#include <optional>
#include <vector>

#include "models/text_detector.h"

namespace vitrine::ops {

struct TiledWatermark {
  cv::Rect box;                   // the template: the seed copy's box in the image
  std::vector<cv::Point> copies;  // offsets of every copy's box from `box` (one is (0, 0))
  int seed = -1;                  // index of the detected region the template came from
  cv::Mat alpha;                  // CV_32FC1, box's size: coverage × opacity, in [0, 1)
  cv::Vec3f colour;               // W, BGR in [0, 255]
  double opacity = 0;             // a: α of the glyph cores

  // Polygon of copy `i`'s glyphs (the area where alpha > 0, as a rectangle) in image coordinates.
  std::vector<cv::Point2f> CopyPolygon(size_t i) const;
};

// Looks for a tiled watermark among the detected `regions` of `bgr` (CV_8UC3; the caller passes
// only WatermarkCandidate() regions, ops/text_scope.h): up to a few of the best-scored regions are
// tried as the template; one repeated at least kMinCopies times, over a third of the image,
// semi-transparent (a between 0.1 and 0.9), with at least two of its copies among `regions`, is
// returned. nullopt otherwise (printed text repeated on a product is opaque and local; bricks or
// tiles match themselves but the detector sees no text on them). Pure.
std::optional<TiledWatermark> FindTiledWatermark(const cv::Mat& bgr,
                                                 const std::vector<models::TextRegion>& regions);

// `line` (a detected line of translucent text tilted from the axes, `opacity` its
// MeasureOverlayCues opacity) grown along its axis, both ways, half a line height at a time, while
// the slab beyond its end lies at least half inside the image, holds light strokes at least 0.6 as
// strong as the detected part's (the colour channel that rises most above its smooth backdrop: a
// light grey over a bright yellow raises blue, not grey), and one overlay of an opacity within 0.1
// of `opacity` still fits the line's glyphs with it: the detector often sees only part of a faint
// line ("优品旗" of "优品旗舰店"). At most 16 line heights each way. The grown
// region's polygon is its rectangle; `line` itself when nothing joins it. Pure.
models::TextRegion GrowTranslucentLine(const cv::Mat& bgr, const models::TextRegion& line,
                                       double opacity);

// A translucent line and its copies (FindLineCopies).
struct LineCopies {
  models::TextRegion line;         // the detected line, grown (GrowTranslucentLine) if it is one
  std::vector<cv::Point> offsets;  // from `line` to each other copy the search matched
  std::vector<cv::Point> implied;  // from `line` to each copy the lattice of those implies
  cv::Mat implied_strokes;         // CV_8UC1 at the image's size: the line's strokes at `implied`
};

// Copies of one detected line of translucent text tilted from the axes (MeasureOverlayCues'
// `translucent`, kWatermarkTilt: a shop's watermark whose other copies the detector missed or the
// border cut, too few for FindTiledWatermark's lattice) elsewhere in `bgr` (CV_8UC3). The line is
// first grown to the rest of it the detector missed (GrowTranslucentLine); the offsets are those
// of the places where the grown line's strokes match where they are seen, copies cut by the
// image's edges (a fifth of its box inside) included. The lattice positions those offsets imply
// (-d, ±2d of each offset d) are `implied` where the line's strokes, seen there, do not disagree: a
// copy mostly under a caption is missed by the search but not by the lattice; only its strokes
// (`implied_strokes`) are to be removed (its box would reach into the caption's fill). `covered`
// (CV_8UC1 at bgr's size, may be empty): other text's pixels, left out of every copy's match.
// For a level or opaque line,
// `line` is `detected` and there are no offsets (print on a product stays); no offsets when
// nothing matches. Pure.
LineCopies FindLineCopies(const cv::Mat& bgr, const models::TextRegion& detected,
                          const cv::Mat& covered = cv::Mat());

// Width and height spanned by the centres of the parts of `box`'s copies at `offsets` (added to
// box's position) that lie inside an image of `size`; copies wholly outside it do not count.
// How far a watermark's copies spread over the photo. Pure.
cv::Size2d CopiesSpan(const cv::Rect& box, const std::vector<cv::Point>& offsets, cv::Size size);

// The tiled watermark whose line is `line` (one copy's glyphs, found without the detector:
// FindBlindTiledWatermark) repeated on the lattice spanned by `u` and `v` (pixels, not
// collinear): every lattice position whose box reaches into the image is a copy, and the overlay
// is estimated and checked as FindTiledWatermark's is (copies that do not show it dropped, at
// least kMinCopies left spread over a third of the image, opacity between 0.1 and 0.9). `seed`
// is -1. nullopt when they do not make one translucent overlay. Pure.
std::optional<TiledWatermark> TiledWatermarkOnLattice(const cv::Mat& bgr,
                                                      const models::TextRegion& line, cv::Point2d u,
                                                      cv::Point2d v);

// `bgr` with `mark` taken off by inversion. `changed` (may be null) gets a CV_8UC1 mask of the
// pixels the watermark covered (α > 0); `opaque` (may be null) those too opaque to invert, left as
// they were, for the caller to inpaint. Pure.
cv::Mat InvertWatermark(const cv::Mat& bgr, const TiledWatermark& mark, cv::Mat* changed,
                        cv::Mat* opaque);

// Copies a template must be found at to count as a tiled watermark.
inline constexpr int kMinCopies = 3;
// α above which a pixel is not inverted (noise would be amplified more than 1 / (1 − α)).
inline constexpr float kMaxInvertible = 0.85f;

}  // namespace vitrine::ops
