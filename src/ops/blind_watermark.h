// Tiled watermarks the text detector gives no signal for (a light grey shop name at a third of
// full opacity over a white backdrop): found blind, from the photo alone, and handed to the
// watermark machinery (ops/watermark.h) to be estimated and inverted.
//
// A tiled watermark is one pattern repeated on a lattice (two translation vectors) at one
// opacity, independent of the photo. The search:
// - Signal: the magnitude of the grey high-pass, clipped (a product's strong edges count no more
//   than a faint stroke) and taken without its sign (a light grey darkens a white backdrop and
//   lightens a dark product).
// - Lattice: the signal's autocorrelation (FFT, normalised by the overlap of each shift) has
//   sharp peaks at the lattice's vectors where the photo itself does not repeat; the pair of peaks
//   whose lattice holds high correlation at its points is the candidate.
// - Template: the per-pixel median of the signal over the lattice's copies (the watermark's
//   strokes survive, the product's edges, seen in a few copies only, do not); its strokes must
//   make one line of text tilted from the axes (kWatermarkTilt: a tiled shop name, not a
//   product's stripes, checks, grid or mesh, which are level or fill their cell).
// - Check: TiledWatermarkOnLattice() estimates one overlay over every copy (copies that do not
//   show it are dropped; at least kMinCopies, spread over the photo, opacity 0.1–0.9).
//
// Thread-safe: pure function, input never modified. No errors: OpenCV exceptions are caught by
// the caller (RemoveText converts them to Internal); "no watermark" is nullopt.
#pragma once

#include <opencv2/core.hpp>
#include <optional>

#include "ops/watermark.h"

namespace vitrine::ops {

// The tiled watermark of `bgr` (CV_8UC3) found without detected text, or nullopt. The result's
// `seed` is -1 (no detected region); its copies spread over at least half the photo's width and
// height. Cost: one FFT of the photo scaled to at most kBlindWorkSide px and a median over the
// lattice's copies when a lattice shows (about 50 CPU-ms a photo, 43 per MP, on 96 real photos),
// the estimate only when the median holds a line of text tilted from the axes.
std::optional<TiledWatermark> FindBlindTiledWatermark(const cv::Mat& bgr);

// The longest side the lattice is searched at (larger photos are scaled down for the search).
inline constexpr int kBlindWorkSide = 512;

}  // namespace vitrine::ops
