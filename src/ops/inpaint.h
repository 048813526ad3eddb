// Inpainting: fills masked regions of a photo (removed text, banners, logos) so that nothing
// seems to have been there. Used by ops (remove_text); not an op itself.
//
// Two fills, chosen per connected component of the mask:
// - thin components (strokes whose widest point is at most 2 * `thin_radius` px across) get a
//   cheap diffusion fill (peeled from the edge inwards), which is invisible at that width;
// - thicker components get exemplar inpainting in the manner of Wexler, Shechtman and Irani
//   (2007): an EM loop of PatchMatch nearest-neighbour search (Barnes et al. 2009: random start,
//   propagation, random search) from patches touching the hole to patches fully outside the
//   mask, then voting weighted by match quality and by confidence (known pixels lead), coarse to
//   fine over two pyramid levels (more only when a huge hole must be searched coarser). The
//   coarsest level starts from an onion-peel fill (ring by ring from the hole's edge), and a
//   smooth correction taken from the hole's edge removes brightness steps (gradients, shading).
//   A hole on a smooth backdrop (its ring of known pixels, per side, fits a quadratic surface
//   within a few levels) takes that surface plus the fill's own fine grain, so patches copied
//   from lighter and darker parts of a gradient leave no step in the shape of what was removed.
//   Search is restricted to a window around each group of holes (their bounding box plus a margin
//   that grows with the hole, widened until it holds enough source at every level; windows that
//   overlap are merged unless InpaintOptions::separate_windows), and distant sources pay a small
//   penalty: on product photos, far patches are usually another surface.
// Work is done per window, so cost follows the holes, not the image.
// Each exemplar-filled hole is then checked against the ring of known pixels around it: where
// more than a few percent of the fill has colours the ring (of its side) hardly holds, pieces of
// another object the window reached (a flatbread beside the griddle pasted into the blue poster
// behind it), the hole is filled again from source patches in the ring's colours only. Then the
// fill is checked against the ring near each of its pixels (the ring cut into sections): pieces
// in colours the whole ring holds but the ring near them does not (that flatbread touches the
// ring of a caption's band at one end and was pasted at the other) are filled again from sources
// in the colours of the sections around them.
//
// Known weaknesses (see bench/README.md): a piece of a nearby object whose colours the ring holds
// can still be pasted into the hole (a car's bumper just above a removed bar grown into a dark
// blot below it), and a straight edge crossing a large hole is not always continued straight.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>

#include "core/status.h"

namespace vitrine::ops {

struct InpaintOptions {
  // Seeds PatchMatch's random choices. The same seed gives the same bytes on every run and for
  // every thread count.
  uint64_t seed = 0;
  // Side of the square patches compared (odd, 3..15).
  int patch_size = 7;
  // EM iterations (search + vote) at the finest level; coarser levels get more (1..20).
  int em_iterations = 2;
  // Components whose widest point is at most 2 * thin_radius px across get the diffusion fill;
  // 0 sends every component to the exemplar fill (0..20).
  int thin_radius = 3;
  // Work cap: a pyramid level whose hole holds more pixels than this gets no PatchMatch search;
  // it takes the coarser level's matches upsampled and votes once (>= 1000).
  int64_t max_search_pixels = 4'000'000;
  // Groups of holes (holes whose pixels come within a patch of each other) keep windows of their
  // own even where the windows overlap (filled one after another; a later window's holes are
  // filled provisionally for the context), so each hole takes what lies around it. Off, windows
  // that overlap are merged into one. For small photos (a thumbnail), where a window's margin is
  // a large share of the photo and a merged window reaches across it: the demo fish's 包邮 beside
  // the caption, 6 px apart, took a window 229x99 px of its 259x194 and the fin it crossed was
  // cut by a white and pink blot.
  bool separate_windows = false;
  // With two sides (Inpaint with `sides`), the weight a patch centred on the other side has in a
  // hole pixel's vote (0..1). Below 1 the outline stays where the sides put it: for sides made
  // for the fill itself, where the product's patches pushed a fruit's shade 3 px into the
  // backdrop along its edge. 1 (the vote blind to sides) keeps the seam soft where a segmenter's
  // outline is rough (a logo's edge, a bar's fill beside a dress).
  double other_side_vote = 1;
};

// Fills the pixels where `mask` is nonzero.
// `bgr` CV_8UC3; `mask` CV_8UC1 of the same size (nonzero = fill). Returns a new image: pixels
// where the mask is zero are bit-identical to `bgr`; inputs are never modified. An all-zero mask
// returns a copy at once. Deterministic for a given `options.seed`, whatever the thread count.
// Uses cv::parallel_for_ (OpenCV's thread pool). Thread-safe: no shared state.
// Errors: InvalidArgument for wrong types, a size mismatch, or options out of range; Internal if
// OpenCV fails (the message says what failed).
Result<cv::Mat> Inpaint(const cv::Mat& bgr, const cv::Mat& mask, const InpaintOptions& options);

// As above, with the image in two sides: `sides` (CV_8UC1 of the image's size, or empty for one
// side) is nonzero on one (a product) and zero on the other (its backdrop). A hole pixel is
// filled only from source patches centred on its own side (the thin-stroke fill averages its own
// side's pixels; the brightness correction is per side; in the vote, patches centred on the
// other side weigh InpaintOptions::other_side_vote), so a hole across the product's outline
// continues the product and the backdrop each from itself, not blended. Inside the hole the
// sides are not read but continued from around it (the signed distance to the outline, filled
// smoothly across the hole): a segmenter's mask is unreliable under the text being removed. Where
// the outline runs into the hole and out of it again, it is joined across the hole by a smooth
// curve (the outline's direction at both ends: a round top stays round, a straight edge straight),
// flattened towards the straight join where the curve would cross the backdrop seen through the
// hole; a circle is followed where the outline around the hole fits one. A
// piece of either side that lies mostly (over 80%) inside the hole continues nothing and takes
// the other side (a speck of product between the glyphs does not grow a product-coloured blob in
// the backdrop). A side with no source in a hole's window lends none: its pixels take any source.
// Errors as above, and InvalidArgument for a side map of the wrong type or size.
Result<cv::Mat> Inpaint(const cv::Mat& bgr, const cv::Mat& mask, const cv::Mat& sides,
                        const InpaintOptions& options);

// As above, with `behind` (CV_8UC1 of the image's size, or empty): the hole pixels where it is
// nonzero lie behind what borders them (a box drawn over the backdrop, with the product in front
// of it) and take the zero side (the backdrop), not the side continued from around them; ignored
// without two sides. Errors as above, and InvalidArgument for a `behind` of the wrong type or size.
Result<cv::Mat> Inpaint(const cv::Mat& bgr, const cv::Mat& mask, const cv::Mat& sides,
                        const cv::Mat& behind, const InpaintOptions& options);

// Peak signal-to-noise ratio, in dB, between two CV_8UC3 images of one size over the pixels where
// `mask` (CV_8UC1) is nonzero: how close a fill is to the true pixels. 100 dB when identical or
// when the mask is empty. Thread-safe.
double MaskedPsnr(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask);

}  // namespace vitrine::ops
