// remove_text: promotion text, banners and watermarks removed, product text kept (remove_text.h).
#include "ops/remove_text.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <future>
#include <map>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "core/labels.h"
#include "core/morphology.h"
#include "core/text.h"
#include "ops/blind_watermark.h"
#include "ops/inpaint.h"
#include "ops/matting.h"
#include "ops/op.h"
#include "ops/text_scope.h"
#include "ops/watermark.h"
#include "qa/compliance.h"

namespace vitrine::ops {
namespace {

// Smaller images hold no readable text; they come back unchanged.
constexpr int kMinSide = 32;
// Long side of the product mask the classification works on (ISNet's own resolution).
constexpr int kClassifySide = 1024;
// The screen's product (ClassifyAgainstProduct) is trusted only when it covers this share of the
// image: none is a miss, nearly all is the segmenter taking the whole listing for the product.
constexpr double kScreenProductMin = 0.02;
constexpr double kScreenProductMax = 0.85;
// ...and it is run only while fewer than this many regions depend on the mask: each must come
// out overlay and hold while the product moves, and with more the screen is not trusted and only
// adds its net (~1/4 of the full one's CPU) to the full one's. Measured: trusted in 6 of 6 bench
// cases with one such region, in none of the real photos (all 7 listings, 4-27 regions; 6 of
// the 12 dreambooth and misc photos whose print needs the mask, 4-7) nor bench cases (7-8) with
// four or more.
constexpr int kScreenMaxDependent = 4;
// A hole lies across two surfaces (HoleAcrossTwoSurfaces) when the ring of known pixels
// kSideRing px around it splits into two groups of colours, each at least kSideShare of the ring,
// whose means are kSideContrast Lab units apart (8-bit Lab) and kSideSeparation times their
// variance apart squared; holes under kSideMinArea px are strokes.
constexpr int kSideRing = 3;
constexpr double kSideShare = 0.2;
constexpr double kSideContrast = 45;
constexpr double kSideSeparation = 8;
constexpr int kSideMinArea = 40;
// A segmenter's piece with this share of it in what is removed is the graphic, not a product.
constexpr double kGraphicShare = 0.5;
// With sides made for the fill (ISNet run for it alone), a patch centred on the other side
// weighs this much in a hole pixel's vote (InpaintOptions::other_side_vote): a caption across a
// shaded fruit's edge left the shade 3 px into the backdrop at full weight (7 px with no sides),
// 1 px at this.
constexpr double kFillOnlySideVote = 0.1;
// A plain backdrop's product joins the segmenter's around a hole (FillSides) only when the
// backdrop covers at least this share of the image.
constexpr double kPlainBackdropMin = 0.2;
// ...and only its parts the segmenter left out with this share beyond the holes' surroundings.
constexpr double kMissedBeyond = 0.5;
// A residual region counts when this share of it overlaps what was removed.
constexpr double kResidualOverlap = 0.3;
// A detected region is a watermark copy when this share of it lies on the copies.
constexpr double kInMark = 0.5;
// How far beyond the detector's polygon a glow or shadow is followed, in line heights.
constexpr double kHaloReach = 0.5;
// Where GraphicMask first looks for the surroundings, in line heights beyond the polygon (past
// most boxes behind text, which would otherwise count as the surroundings' own colours).
constexpr double kRingFrom = 0.75;
// How far beyond the polygon the graphic's own colours are followed (a box behind the text).
constexpr double kBoxReach = 1.4;
// How far beyond the graphic a halo's faint tail is followed on smooth surroundings, in line
// heights.
constexpr double kTintReach = 0.15;
// Surroundings are flat when kSmoothShare of their pixels lie within this many levels per channel
// of their median colour (a studio white, a flat fill); their neighbours are followed to that
// precision.
constexpr int kFlatLevels = 2;
// Surroundings are smooth when this share of their pixels lies in colour bins (exact, not with
// neighbours) holding at least kDenseBin of them each.
constexpr double kSmoothShare = 0.8;
constexpr double kDenseBin = 0.01;
// Share of the polygon's edge in the graphic's colours from which the text sits on a box.
constexpr double kBoxShare = 0.8;
// Per channel, how far a box's pixels are from its colour (BoxBehind, GraphicMask, BoxPixels).
constexpr int kBoxTolerance = 28;
// A banner's "box" is the surroundings' own colour (no box) when this share of the ring around
// the banner has it.
constexpr double kBoxLikeAround = 0.25;
// BoxBehind: how far across the line a box behind the text is followed, in line heights (a box
// holds a few lines; along the line a bar may run to the image's edges).
constexpr double kBoxSearch = 4.0;
// ... at most this many of the polygon's commonest colours tried as the box's,
constexpr int kBoxCandidates = 4;
// ... each at least this share of the polygon and a band around it of kBoxSeedReach line heights
// (with its neighbouring colour bins),
constexpr double kBoxSeedShare = 0.05;
constexpr double kBoxSeedReach = 0.25;
// ... the share of the polygon one piece of the box (holes filled) must hold,
constexpr double kBoxCover = 0.6;
// ... the box's area at least one polygon's (the glyphs' own drop shadow makes a smaller piece)
// and at most this many (a product face of the text's colour is larger),
constexpr double kMaxBoxArea = 8;
// ... its solidity at least (area over its convex hull's: a rectangle, rounded or notched by an
// object in front of it, or a disc; not a backdrop between objects),
constexpr double kBoxSolidity = 0.75;
// ... and at most this share of the band around it within twice kBoxTolerance of its colour (the
// surroundings do not share it: not a band of a gradient).
constexpr double kBoxRingShare = 0.25;
// A box shaded along its length (a yellow band paling to cream, a GIF's dithered gradient) holds no
// one flat colour; it holds one hue: its pixels at least kHueMinChroma levels from grey (max minus
// min channel) and within kHueTolerance degrees of hue of its commonest colour's (OfMedianHue).
constexpr int kHueMinChroma = 48;
constexpr int kHueTolerance = 15;
// ... and at least this share of it lies beyond the text's graphic (a glow is mostly graphic).
constexpr double kHueBeyondText = 0.5;
// Share of a box's area from which what stands in front of it (BehindBoxes) counts: a rounded
// box's corners leave under 1% of it to its hull.
constexpr double kMinFront = 0.02;

// Times RemoveText's steps into a report: wall time into `timings`, the process's CPU time (every
// thread's) into `cpu_timings`.
class StepClock {
 public:
  explicit StepClock(RemoveTextReport* report) : report_(report) { Restart(); }
  // Starts timing a step (or a part of one).
  void Restart() {
    wall_ = Clock::now();
    cpu_ = std::clock();
  }
  // Adds the time since Restart() to the step `field` (e.g. &Timings::detect).
  void Add(double RemoveTextReport::Timings::*field) const {
    report_->timings.*field += std::chrono::duration<double>(Clock::now() - wall_).count();
    report_->cpu_timings.*field += static_cast<double>(std::clock() - cpu_) / CLOCKS_PER_SEC;
  }

 private:
  using Clock = std::chrono::steady_clock;
  RemoveTextReport* report_;
  Clock::time_point wall_;
  std::clock_t cpu_;
};
using Timings = RemoveTextReport::Timings;

// LineRest: the rest of a level line (within this many degrees) beyond its detected region ...
constexpr double kRestMaxTilt = 3;
// ... for ink at least this many px tall,
constexpr int kRestMinInkHeight = 8;
// ... a letter within the ink's rows give or take this share of their height, at least this share
// of it tall (a stroke cut by an object in front), no thicker than this many times the ink's
// thickest stroke (a pixel more), and within this many line heights of the line along it.
constexpr double kRestBandMargin = 0.08;
constexpr double kRestMinHeight = 0.3;
constexpr double kRestStroke = 1.5;
constexpr double kRestGap = 3.0;

// CopiesReadAlike: reads below this confidence say nothing about a watermark's copies.
constexpr float kAlikeConfidence = 0.8f;
// ...and a tilted mark's copies are read too when it is at least this opaque: legible copies
// (taobao5's tilted opaque captions matched on their strokes as one "watermark" at 87%); a
// translucent one's copies over a busy product read poorly.
constexpr double kLegibleOpacity = 0.6;

// Colour histograms of GraphicMask: kColourLevels levels a channel.
constexpr int kColourLevels = 32;
constexpr int kColourShift = 3;  // 256 / kColourLevels == 1 << kColourShift
// A colour is the graphic's ink when its share of the region is this many times its share of the
// surroundings (each share counted over the colour's bin and its neighbours).
constexpr double kInkRatio = 3.0;
// ... and when under this share of the surrounding pixels lie in its bin and its neighbours (a
// shade of the backdrop that the polygon holds more of than the ring, a shadow, is not ink).
constexpr double kInkRareShare = 0.01;
// A colour is unlike the surroundings (a glow, shadow or outline beyond the glyphs) when fewer
// than this share of the surrounding pixels lie in its bin and its neighbours.
constexpr double kRareShare = 0.002;
// Below this share of the region's pixels in ink, the text is not told apart from what it sits
// on by colour, and the region is taken whole (RegionMaskIn).
constexpr double kMinInkShare = 0.03;
// On smooth surroundings, a piece of what is not the backdrop with at least this share of it
// beyond the halo's reach (kHaloReach) holds an object the mask's outline would cut through
// (ObjectsCutThrough), not a glow or a shadow: a candy beside a caption had 10% of it there.
constexpr double kObjectBeyond = 0.05;
// ...followed into the text's area while neighbours differ by at most this many levels a channel,
constexpr int kObjectStep = 16;
// ...unless the text's other ink sits on it: this share of that ink or more lies in its convex
// hull or within a few pixels of it (a banner or box behind the text is the text's own graphic).
constexpr double kObjectCarriesInk = 0.5;
// A piece of a box's colour an object cut off from the box (GraphicMask) is a patch of it: at most
// this share of the box taken (taobao2's corner between a handle and a finger: 0.4%). More is no
// patch but a part of the box the graphic left for a reason of its own (a box fading out).
constexpr double kCutOffShare = 0.05;
// PrintAround: a drop shadow or an outline is a band of the ink's shape (shifted, or grown) in
// which at least this share of the pixels are off the surroundings' colour,
constexpr double kBandDetail = 0.6;
// ... shifted by at most this share of the line height (and at least 2 px) each way.
constexpr double kMaxShadowShift = 0.2;

int ColourBin(const cv::Vec3b& p) {
  return ((p[0] >> kColourShift) * kColourLevels + (p[1] >> kColourShift)) * kColourLevels +
         (p[2] >> kColourShift);
}

// Counts of the colours of `pixels` where `where` is nonzero, each bin holding the sum over
// itself and its 26 neighbours (a flat colour with noise straddles bins) when `neighbours`.
std::vector<int> NeighbourhoodHistogram(const cv::Mat& pixels, const cv::Mat& where,
                                        bool neighbours = true) {
  constexpr int n = kColourLevels;
  std::vector<int> counts(n * n * n, 0), summed(n * n * n, 0);
  for (int y = 0; y < pixels.rows; ++y) {
    const cv::Vec3b* p = pixels.ptr<cv::Vec3b>(y);
    const uchar* w = where.ptr<uchar>(y);
    for (int x = 0; x < pixels.cols; ++x) {
      if (w[x]) ++counts[ColourBin(p[x])];
    }
  }
  if (!neighbours) return counts;
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b < n; ++b) {
      for (int c = 0; c < n; ++c) {
        const int v = counts[(a * n + b) * n + c];
        if (v == 0) continue;
        for (int da = std::max(0, a - 1); da <= std::min(n - 1, a + 1); ++da) {
          for (int db = std::max(0, b - 1); db <= std::min(n - 1, b + 1); ++db) {
            for (int dc = std::max(0, c - 1); dc <= std::min(n - 1, c + 1); ++dc) {
              summed[(da * n + db) * n + dc] += v;
            }
          }
        }
      }
    }
  }
  return summed;
}

// Whether a histogram of exact bins (NeighbourhoodHistogram without neighbours) over `count`
// pixels is of smooth surroundings (a studio backdrop, a gradient, a plain wall): most of them
// in a few dense bins.
bool SmoothHistogram(const std::vector<int>& exact, int count) {
  int dense = 0;
  for (const int n : exact) dense += n >= kDenseBin * count ? n : 0;
  return dense >= kSmoothShare * count;
}

// The pixels of `pixels` (CV_8UC3) within `tolerance` per channel of the median colour (per
// channel) of those where `where` is nonzero (at least one): a flat box's pixels.
cv::Mat OfMedianColour(const cv::Mat& pixels, const cv::Mat& where, int tolerance = kBoxTolerance) {
  int histogram[3][256] = {};
  for (int y = 0; y < pixels.rows; ++y) {
    const cv::Vec3b* p = pixels.ptr<cv::Vec3b>(y);
    const uchar* in = where.ptr<uchar>(y);
    for (int x = 0; x < pixels.cols; ++x) {
      if (!in[x]) continue;
      for (int c = 0; c < 3; ++c) ++histogram[c][p[x][c]];
    }
  }
  cv::Scalar colour;
  const int half = cv::countNonZero(where) / 2;
  for (int c = 0; c < 3; ++c) {
    int below = 0, v = 0;
    while (v < 255 && (below += histogram[c][v]) <= half) ++v;
    colour[c] = v;
  }
  cv::Mat same;
  cv::inRange(pixels, colour - cv::Scalar::all(tolerance), colour + cv::Scalar::all(tolerance),
              same);
  return same;
}

// The pixels of `pixels` (CV_8UC3) of the hue of those where `where` is nonzero (the circular
// median of their hues), whatever their brightness: at least kHueMinChroma from grey and within
// `tolerance` degrees of that hue. Empty when fewer than half of `where` have a hue (a grey,
// white or black box: its brightness is its colour).
cv::Mat OfMedianHue(const cv::Mat& pixels, const cv::Mat& where, int tolerance = kHueTolerance) {
  cv::Mat hsv, chroma(pixels.size(), CV_8UC1);
  cv::cvtColor(pixels, hsv, cv::COLOR_BGR2HSV_FULL);  // hue 0..255 for 0..360 degrees
  for (int y = 0; y < pixels.rows; ++y) {
    const cv::Vec3b* p = pixels.ptr<cv::Vec3b>(y);
    uchar* c = chroma.ptr<uchar>(y);
    for (int x = 0; x < pixels.cols; ++x) {
      c[x] = static_cast<uchar>(std::max({p[x][0], p[x][1], p[x][2]}) -
                                std::min({p[x][0], p[x][1], p[x][2]}));
    }
  }
  const cv::Mat coloured = chroma >= kHueMinChroma;
  const cv::Mat seed = where & coloured;
  const int count = cv::countNonZero(seed);
  if (count == 0 || 2 * count < cv::countNonZero(where)) return {};
  // The circular median: the hue whose half-turn window holds the most, then the median within
  // it.
  int histogram[256] = {};
  for (int y = 0; y < pixels.rows; ++y) {
    const cv::Vec3b* h = hsv.ptr<cv::Vec3b>(y);
    const uchar* s = seed.ptr<uchar>(y);
    for (int x = 0; x < pixels.cols; ++x) {
      if (s[x]) ++histogram[h[x][0]];
    }
  }
  int best = 0, best_count = -1;
  for (int start = 0; start < 256; ++start) {
    int in = 0;
    for (int k = 0; k < 128; ++k) in += histogram[(start + k) & 255];
    if (in > best_count) {
      best_count = in;
      best = start;
    }
  }
  int below = 0, median = best;
  for (int k = 0; k < 128; ++k) {
    below += histogram[(best + k) & 255];
    if (2 * below >= best_count) {
      median = (best + k) & 255;
      break;
    }
  }
  const int reach = tolerance * 256 / 360;
  cv::Mat same(pixels.size(), CV_8UC1, cv::Scalar(0));
  for (int y = 0; y < pixels.rows; ++y) {
    const cv::Vec3b* h = hsv.ptr<cv::Vec3b>(y);
    const uchar* c = coloured.ptr<uchar>(y);
    uchar* o = same.ptr<uchar>(y);
    for (int x = 0; x < pixels.cols; ++x) {
      const int d = std::abs(h[x][0] - median);
      o[x] = c[x] && std::min(d, 256 - d) <= reach ? 255 : 0;
    }
  }
  return same;
}

// The pixels of `allowed` (CV_8UC1) joined to `seed` (a subset of it) through `allowed`
// (morphological reconstruction, 8-connected).
cv::Mat Reconstruct(const cv::Mat& seed, const cv::Mat& allowed) {
  cv::Mat labels;
  const int n = cv::connectedComponents(allowed, labels, 8, CV_32S);
  std::vector<uchar> keep(n, 0);
  for (int y = 0; y < seed.rows; ++y) {
    const uchar* s = seed.ptr<uchar>(y);
    const int* l = labels.ptr<int>(y);
    for (int x = 0; x < seed.cols; ++x) {
      if (s[x]) keep[l[x]] = 1;
    }
  }
  keep[0] = 0;
  return LabelsKept(labels, keep);
}

// The pixels of the objects that `candidate` (CV_8UC1 of `pixels`' size: what is not the smooth
// surroundings) holds, that reach beyond `reach` (the farthest a caption's outline or shadow goes)
// and that do not carry `ink` (the text's ink, CV_8UC1): each 8-connected piece of `candidate`
// with at least kObjectBeyond of it outside `reach` may hold an object the mask's outline would
// cut through (a candy beside a caption, its shaded side under the detector's polygon), which
// goes on where no text is. The object is followed from its pixels beyond `reach` into the piece
// while the colour changes smoothly (at most kObjectStep levels per channel between neighbours:
// shading); the glyphs, their outline and a shadow over it stand out by a sharper edge and stay
// out. A followed piece on which the rest of the ink sits (kObjectCarriesInk of it in the piece's
// convex hull or within `rim` + 1 px of it), or that holds all the ink, is the text's banner or
// box, not an object, and is left out. CV_8UC1.
cv::Mat ObjectsCutThrough(const cv::Mat& pixels, const cv::Mat& candidate, const cv::Mat& reach,
                          const cv::Mat& ink, int rim) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(candidate, labels, stats, centroids, 8, CV_32S);
  const std::vector<int> beyond = CountLabelsWhere(labels, n, ~reach);
  std::vector<uchar> object(n, 0);
  bool any = false;
  for (int i = 1; i < n; ++i) {
    object[i] = beyond[i] >= kObjectBeyond * stats.at<int>(i, cv::CC_STAT_AREA);
    any |= object[i] != 0;
  }
  cv::Mat out(pixels.size(), CV_8UC1, cv::Scalar(0));
  if (!any) return out;
  const cv::Mat objects = LabelsKept(labels, object);
  std::vector<cv::Point> queue;
  cv::findNonZero(objects & ~reach, queue);
  for (const cv::Point& q : queue) out.at<uchar>(q) = 255;
  for (size_t k = 0; k < queue.size(); ++k) {
    const cv::Point q = queue[k];
    const cv::Vec3b c = pixels.at<cv::Vec3b>(q);
    for (int dy = -1; dy <= 1; ++dy) {
      for (int dx = -1; dx <= 1; ++dx) {
        const cv::Point p(q.x + dx, q.y + dy);
        if (p.x < 0 || p.y < 0 || p.x >= pixels.cols || p.y >= pixels.rows) continue;
        if (out.at<uchar>(p) || !objects.at<uchar>(p)) continue;
        const cv::Vec3b d = pixels.at<cv::Vec3b>(p);
        bool step = true;
        for (int ch = 0; ch < 3 && step; ++ch) step = std::abs(d[ch] - c[ch]) <= kObjectStep;
        if (!step) continue;
        out.at<uchar>(p) = 255;
        queue.push_back(p);
      }
    }
  }
  // Each followed piece: an object, or the text's own banner (the rest of the ink sits on it).
  cv::Mat pieces;
  const int m = cv::connectedComponents(out, pieces, 8, CV_32S);
  std::vector<uchar> keep(m, 0);
  for (int i = 1; i < m; ++i) {
    const cv::Mat piece = pieces == i;
    const cv::Mat rest = ink & ~piece;
    const int rest_count = cv::countNonZero(rest);
    if (rest_count == 0) continue;  // all the ink: the text's own graphic
    // The piece's convex hull (a band behind the line holds the glyphs, even where they reach
    // past its edge), and a few pixels around it.
    std::vector<cv::Point> points, hull;
    cv::findNonZero(piece, points);
    cv::convexHull(points, hull);
    cv::Mat carries = DilateDisc(piece, rim + 1);
    cv::fillConvexPoly(carries, hull, cv::Scalar(255));
    keep[i] = cv::countNonZero(rest & carries) < kObjectCarriesInk * rest_count;
  }
  return LabelsKept(pieces, keep);
}

// The pixels of `pixels` (CV_8UC3) whose colour is a blend of `ink`'s mean colour and `backdrop`'s
// (a tenth of the ink or more, within kBoxTolerance of the line between the two colours): the
// anti-aliased edge of a graphic, its JPEG bleed, a translucent part of it.
cv::Mat BlendOfInk(const cv::Mat& pixels, const cv::Mat& ink, const cv::Mat& backdrop) {
  const cv::Scalar i = cv::mean(pixels, ink), b = cv::mean(pixels, backdrop);
  const cv::Vec3d u(i[0] - b[0], i[1] - b[1], i[2] - b[2]);
  const double length = u.dot(u);
  cv::Mat out(pixels.size(), CV_8UC1, cv::Scalar(0));
  if (length < 1) return out;
  for (int y = 0; y < pixels.rows; ++y) {
    const cv::Vec3b* p = pixels.ptr<cv::Vec3b>(y);
    uchar* o = out.ptr<uchar>(y);
    for (int x = 0; x < pixels.cols; ++x) {
      const cv::Vec3d v(p[x][0] - b[0], p[x][1] - b[1], p[x][2] - b[2]);
      const double t = std::clamp(v.dot(u) / length, 0.0, 1.0);
      const cv::Vec3d off = v - t * u;
      o[x] = t >= 0.1 && off.dot(off) <= kBoxTolerance * kBoxTolerance ? 255 : 0;
    }
  }
  return out;
}

// Shifts a CV_8UC1 mask by `d` px, zeros coming in.
cv::Mat Shifted(const cv::Mat& mask, cv::Point d) {
  cv::Mat out(mask.size(), CV_8UC1, cv::Scalar(0));
  const cv::Rect from = cv::Rect(-d.x, -d.y, mask.cols, mask.rows) & cv::Rect({}, mask.size());
  if (!from.empty()) mask(from).copyTo(out(from + d));
  return out;
}

// The share of `band`'s pixels that are in `detail`; 0 for an empty band.
double DetailShare(const cv::Mat& band, const cv::Mat& detail) {
  const int count = cv::countNonZero(band);
  return count > 0 ? static_cast<double>(cv::countNonZero(band & detail)) / count : 0.0;
}

// The print a graphic is drawn over, on smooth surroundings (a box's or label's plain surface
// with its own lettering): of `detail` (the pixels off the surroundings' colour) within
// `within` (the surroundings' outer edge), what the graphic's shape does not explain. Explained:
// the ink with `rim` px around it, an outline or glow (the ink grown while each band around it is
// kBandDetail off the surroundings' colour) and a drop shadow (the ink shifted by the offset whose
// band is most off it, at least kBandDetail, up to kMaxShadowShift line heights, with the pixels
// it swept). The print's own anti-aliased rim (a pixel) goes with it. Print beside a caption
// shares the shadow's greys, so colour alone cannot tell them apart; the caption's shape can.
// `h`: the line height. CV_8UC1 of ink's size.
cv::Mat PrintAround(const cv::Mat& ink, const cv::Mat& detail, const cv::Mat& within, int rim,
                    double h) {
  cv::Mat explained = DilateDisc(ink, rim);
  // The drop shadow first, so that the bands of an outline or glow are measured beside it.
  const int reach = std::max(2, cvRound(kMaxShadowShift * h));
  const int step = std::max(1, reach / 8);  // large text: a coarser search, 17 x 17 offsets
  const cv::Mat near = DilateDisc(ink, 1);
  double best = kBandDetail;
  cv::Point offset;
  for (int dy = -reach; dy <= reach; dy += step) {
    for (int dx = -reach; dx <= reach; dx += step) {
      if (std::max(std::abs(dx), std::abs(dy)) < 2) continue;  // within the rim
      const double share = DetailShare(Shifted(ink, {dx, dy}) & ~near, detail);
      if (share > best) {
        best = share;
        offset = {dx, dy};
      }
    }
  }
  if (offset != cv::Point()) {
    cv::Mat shadow(ink.size(), CV_8UC1, cv::Scalar(0));
    const int steps = std::max(std::abs(offset.x), std::abs(offset.y));
    for (int t = 1; t <= steps; ++t) {
      const cv::Point d(cvRound(offset.x * t / static_cast<double>(steps)),
                        cvRound(offset.y * t / static_cast<double>(steps)));
      shadow |= Shifted(ink, d);
    }
    // Its blur, band by band while each is as dark as the shadow's core.
    cv::Mat grown = shadow;
    for (int k = 1; k <= reach; ++k) {
      const cv::Mat wider = DilateDisc(shadow, k);
      if (DetailShare(wider & ~grown & ~explained, detail) < kBandDetail) break;
      grown = wider;
    }
    explained |= DilateDisc(grown, rim);
  }
  for (int k = rim + 1; k <= cvRound(kHaloReach * h); ++k) {
    const cv::Mat grown = DilateDisc(ink, k);
    if (DetailShare(grown & ~explained, detail) < kBandDetail) break;
    explained |= grown;
  }
  // With the strokes' anti-aliased rim: a pixel, as the graphic's own (GraphicMask).
  return DilateDisc(detail & within & ~explained, 1) & ~explained;
}

// The pixels of `region`'s graphic inside `roi` (a CV_8UC1 mask of roi's size): its ink (colours
// the polygon holds far more of than the surroundings, and rare there), and what is joined to
// the ink and unlike the surroundings up to kHaloReach line heights beyond the detector's polygon
// (an outline, a drop shadow, a glow, the anti-aliased rim), on smooth surroundings a halo's faint
// tail kTintReach further, and, when the text sits on a box (ink all along the polygon's edge),
// the box's flat colour up to kBoxReach; with a rim of a few pixels. The surroundings are a ring
// beyond the polygon, without `others` (the other regions being removed, in roi's coordinates)
// and their halos: from kRingFrom line heights (past a box) when that finds a box, else from
// kHaloReach. The polygon reaches well past the glyphs (the detector unclips its boxes), and the
// photo between and around the glyphs is the photo's own: keeping it out of the mask keeps it
// intact, keeps the outline of a product the text crosses, and leaves the fill thin strokes with
// known pixels on both sides. On smooth surroundings, the print beside or under the graphic
// (PrintAround) is never joined to it. Empty when the ink cannot be told apart (too little of it,
// or no surroundings): the caller takes the region whole. `ink_out`, when given, receives the ink
// (roi's size) when the mask is not empty.
cv::Mat GraphicMask(const cv::Mat& bgr, const models::TextRegion& region, cv::Rect roi,
                    const cv::Mat& others, cv::Mat* ink_out = nullptr) {
  const double h = LineHeight(region);
  const cv::Mat pixels = bgr(roi);
  const cv::Mat polygon = RegionMaskIn(roi, region, 0);
  const int area = cv::countNonZero(polygon);
  if (area < 16) return {};
  const int reach = std::max(2, cvRound(kHaloReach * h));
  const int box_reach = cvRound(kBoxReach * h);
  const cv::Mat limit = DilateDisc(polygon, reach), box_limit = DilateDisc(polygon, box_reach);
  const cv::Mat other_halos = DilateDisc(others, reach);
  cv::Mat edge;
  cv::erode(polygon, edge, DiscKernel(2));
  edge = polygon & ~edge;
  cv::Mat ink, halo, box, tint, ring, within_ring, usual, not_backdrop;
  bool smooth = false;
  // The surroundings first from kRingFrom line heights (past a box behind the text), then, for
  // text without a box, right beyond the halo's reach (the photo nearest the text).
  const std::vector<int> inside = NeighbourhoodHistogram(pixels, polygon);
  for (const int ring_from : {std::max(reach + 1, cvRound(kRingFrom * h)), reach}) {
    ring = DilateDisc(polygon, ring_from + std::max(3, cvRound(0.3 * h)));
    within_ring = ring.clone();
    ring.setTo(0, DilateDisc(polygon, ring_from));
    ring.setTo(0, other_halos);
    const int ring_count = cv::countNonZero(ring);
    if (ring_count < 32) return {};
    const std::vector<int> around = NeighbourhoodHistogram(pixels, ring);
    const std::vector<int> around_exact = NeighbourhoodHistogram(pixels, ring, false);
    // On smooth surroundings a tint shows where it would not on a texture (see `tint` below).
    smooth = SmoothHistogram(around_exact, ring_count);
    // The backdrop's colours on smooth surroundings: the densest bin, the dense bins joined to it
    // bin by bin (a gradient; not an object the ring crosses, whose colours lie apart), and the
    // bins next to them (ObjectsCutThrough).
    std::vector<uchar> near_backdrop(around.size(), 0);
    if (smooth) {
      const auto for_neighbours = [](int b, auto&& f) {
        const int l0 = b / (kColourLevels * kColourLevels), l1 = b / kColourLevels % kColourLevels,
                  l2 = b % kColourLevels;
        for (int i = std::max(0, l0 - 1); i <= std::min(kColourLevels - 1, l0 + 1); ++i) {
          for (int j = std::max(0, l1 - 1); j <= std::min(kColourLevels - 1, l1 + 1); ++j) {
            for (int k = std::max(0, l2 - 1); k <= std::min(kColourLevels - 1, l2 + 1); ++k) {
              f((i * kColourLevels + j) * kColourLevels + k);
            }
          }
        }
      };
      std::vector<uchar> backdrop_bin(around.size(), 0);
      std::vector<int> queue = {static_cast<int>(
          std::max_element(around_exact.begin(), around_exact.end()) - around_exact.begin())};
      backdrop_bin[queue[0]] = 1;
      for (size_t k = 0; k < queue.size(); ++k) {
        for_neighbours(queue[k], [&](int b) {
          if (backdrop_bin[b] || around_exact[b] < kDenseBin * ring_count) return;
          backdrop_bin[b] = 1;
          queue.push_back(b);
        });
      }
      for (const int b : queue) for_neighbours(b, [&](int c) { near_backdrop[c] = 1; });
    }
    // Per colour bin: unlike the surroundings; the graphic's own (ink, or the box behind it).
    std::vector<uchar> unlike(around.size()), graphic_colour(around.size()), off_bin(around.size());
    for (size_t b = 0; b < around.size(); ++b) {
      unlike[b] = around[b] < kRareShare * ring_count;
      off_bin[b] = smooth && around_exact[b] < kRareShare * ring_count;
      const double share_inside = static_cast<double>(inside[b]) / area;
      const double share_around = (around[b] + 1.0) / ring_count;
      graphic_colour[b] =
          around[b] < kInkRareShare * ring_count && share_inside > kInkRatio * share_around;
    }
    ink = cv::Mat(roi.size(), CV_8UC1, cv::Scalar(0));
    tint = cv::Mat(roi.size(), CV_8UC1, cv::Scalar(0));
    halo = cv::Mat(roi.size(), CV_8UC1, cv::Scalar(0));
    box = cv::Mat(roi.size(), CV_8UC1, cv::Scalar(0));
    usual = cv::Mat(roi.size(), CV_8UC1, cv::Scalar(0));
    not_backdrop = cv::Mat(roi.size(), CV_8UC1, cv::Scalar(0));
    for (int y = 0; y < roi.height; ++y) {
      const cv::Vec3b* p = pixels.ptr<cv::Vec3b>(y);
      const uchar* in = polygon.ptr<uchar>(y);
      const uchar* lim = limit.ptr<uchar>(y);
      const uchar* far = box_limit.ptr<uchar>(y);
      uchar* k = ink.ptr<uchar>(y);
      uchar* u = halo.ptr<uchar>(y);
      uchar* o = box.ptr<uchar>(y);
      uchar* s = usual.ptr<uchar>(y);
      uchar* a = not_backdrop.ptr<uchar>(y);
      for (int x = 0; x < roi.width; ++x) {
        const int b = ColourBin(p[x]);
        a[x] = smooth && !near_backdrop[b] ? 255 : 0;
        if (!far[x]) continue;
        o[x] = graphic_colour[b] ? 255 : 0;
        s[x] = unlike[b] ? 0 : 255;
        if (!lim[x]) continue;
        u[x] = unlike[b] ? 255 : 0;
        tint.at<uchar>(y, x) = off_bin[b] ? 255 : 0;
        k[x] = in[x] && graphic_colour[b] ? 255 : 0;
      }
    }
    // A box behind the text shows all along the polygon's edge, in the graphic's colours (the
    // detector's polygon reaches past the glyphs); text on a photo has the photo there, and the
    // photo's own pixels of the ink's colour are not followed far.
    const int edge_count = cv::countNonZero(edge);
    if (edge_count > 0 && cv::countNonZero(ink & edge) >= kBoxShare * edge_count) {
      // The box is flat: of the colour it has along the edge (not every pixel of the graphic's
      // colours: a product of the text's colour is no box).
      box &= OfMedianColour(pixels, ink & edge);
      break;
    }
    box.setTo(0);
  }
  if (cv::countNonZero(ink) < kMinInkShare * area) return {};
  const int rim = 1 + cvRound(h / 50);
  // On smooth surroundings, an object the graphic's outline would cut through is no part of it: a
  // candy's shaded side under the detector's polygon is rare around the text and was taken for
  // ink, and the halo joined the rest of its lower half; the fill ate a bite out of it.
  cv::Mat objects(roi.size(), CV_8UC1, cv::Scalar(0));
  if (smooth) {
    objects = ObjectsCutThrough(pixels, not_backdrop, limit, ink, rim);
    ink.setTo(0, objects);
    halo.setTo(0, objects);
    tint.setTo(0, objects);
    box.setTo(0, objects);
  }
  if (ink_out) *ink_out = ink;
  // On smooth surroundings the print around a caption drawn over a product's lettering is the
  // product's: neither its strokes nor their anti-aliased greys join the graphic, which would
  // take them whole (the demo box's "Cookies" beside its yellow 包邮) and leave the fill to guess
  // them; only what the caption covers is filled.
  // Only for a caption the chroma view found (colour on a surface of its lightness: the photo's
  // own pass saw nothing, and the view's coarse outline overstates the line's height and so the
  // halo's reach); elsewhere a caption's colour or lightness already sets it apart from print.
  cv::Mat print;
  if (smooth && region.chroma_view && cv::countNonZero(box) == 0) {
    // Print is of colours the surroundings hold (their own lettering) and off their plain colour;
    // the caption's colours and their blends with that colour are not (a red caption beside a
    // red price box: the box's red is common around it).
    const cv::Mat plain = OfMedianColour(pixels, ring, kBoxTolerance);
    const cv::Mat detail = usual & ~plain & ~BlendOfInk(pixels, ink, plain & ring);
    print = PrintAround(ink, detail, within_ring, rim, h);
    halo.setTo(0, print);
    tint.setTo(0, print);
  }
  // Joined to the ink: what is unlike the surroundings near the polygon (outline, shadow, glow),
  // and, farther, what has the graphic's own colours (a box behind the text reaching past the
  // polygon), grown ring by ring.
  cv::Mat graphic = Reconstruct(ink, halo | ink | box);
  // An object kept out of the graphic can cut a piece of the box off from the rest (a patch of
  // it between a bag's handle and the finger holding it, joined to the box only across the hand):
  // the box's colour within the rectangle of the box already taken (its corner may be the part
  // cut off) is the box all the same.
  if (cv::countNonZero(objects) > 0 && cv::countNonZero(box & graphic) > 0) {
    std::vector<cv::Point> points;
    cv::findNonZero(box & graphic, points);
    cv::Point2f corners[4];
    cv::minAreaRect(points).points(corners);
    std::vector<cv::Point> rectangle(corners, corners + 4);
    cv::Mat outline(roi.size(), CV_8UC1, cv::Scalar(0));
    cv::fillConvexPoly(outline, rectangle, cv::Scalar(255));
    // Each piece of the box's colour outside the graphic, within the rectangle, small, and next
    // to an object (what cut it off).
    cv::Mat labels;
    const int n = cv::connectedComponents(box & outline & ~graphic, labels, 8, CV_32S);
    const std::vector<int> size = CountLabelsWhere(labels, n, outline);
    const std::vector<int> by_object = CountLabelsWhere(labels, n, DilateDisc(objects, rim + 2));
    std::vector<uchar> cut_off(n, 0);
    bool any = false;
    for (int i = 1; i < n; ++i) {
      cut_off[i] = size[i] <= kCutOffShare * points.size() && by_object[i] > 0;
      any |= cut_off[i] != 0;
    }
    if (any) {
      graphic =
          Reconstruct(graphic | LabelsKept(labels, cut_off), graphic | ((halo | box) & outline));
    }
  }
  // On smooth surroundings, a soft halo's faint tail (a colour in a bin next to the backdrop's,
  // not in it: a tint of 8 levels over a wide ring shows) is followed a little further.
  if (smooth) {
    const cv::Mat near = DilateDisc(graphic, std::max(2, cvRound(kTintReach * h)));
    graphic = Reconstruct(graphic, graphic | (tint & near));
  }
  // On flat surroundings (a pure white backdrop), a light glow fades to a few levels off the
  // backdrop, all in its colour bin: every pixel up to the surroundings' ring off the backdrop's
  // own colour by kFlatLevels or more and joined to the graphic goes with it. Left, it is the
  // ring the fill goes on from: a grey ghost of the caption on the white.
  if (cv::countNonZero(OfMedianColour(pixels, ring, kFlatLevels) & ring) >=
      kSmoothShare * cv::countNonZero(ring)) {
    const cv::Mat backdrop = OfMedianColour(pixels, ring, kFlatLevels - 1);
    cv::Mat joinable = within_ring & ~backdrop & ~objects;
    if (!print.empty()) joinable.setTo(0, print);
    graphic = Reconstruct(graphic, graphic | joinable);
  }
  // The rim: the glyphs' anti-aliasing (a pixel, more on large text, which is often enlarged and
  // blurred). The AA of an outline or glow that stands out from the photo is already taken with
  // it (`halo`); a wider rim only replaces the photo's own pixels around the graphic (2 px for a
  // 50 px line: 1.2 dB more outside on the bench's textured photos than 3 px, bench/README.md).
  graphic = DilateDisc(graphic, rim);
  // An object's pixels the graphic closes round (a glyph the object was followed into, joined to
  // it in the same white: a bag's handle across a box's lettering) are no more than a speck of
  // it: left, they stay as bright dots in the fill.
  if (cv::countNonZero(objects) > 0) {
    cv::Mat labels, stats, centroids;
    const int n = cv::connectedComponentsWithStats(~graphic, labels, stats, centroids, 4, CV_32S);
    const std::vector<int> of_objects = CountLabelsWhere(labels, n, objects);
    const int speck = (2 * rim + 1) * (2 * rim + 1);
    std::vector<uchar> closed(n, 0);
    for (int i = 1; i < n; ++i) {
      const int size = stats.at<int>(i, cv::CC_STAT_AREA);
      closed[i] = size <= speck && of_objects[i] == size;
    }
    graphic |= LabelsKept(labels, closed);
  }
  if (!print.empty()) graphic.setTo(0, print);
  return graphic;
}

// The product of a photo on a plain backdrop (half its border within qa::kPlainTolerance of the
// border's colour): what the backdrop connected to the border does not reach, in large pieces
// (qa::ProductPieces). Empty when the backdrop is not plain. CV_8UC1, 255 = product.
cv::Mat PlainBackdropProduct(const cv::Mat& bgr) {
  const qa::Layout layout = qa::FindLayout(bgr, std::nullopt, qa::kPlainTolerance);
  return layout.found() ? qa::ProductPieces(layout.background) : cv::Mat();
}

// The product and its backdrop for a side-aware fill (ops::Inpaint with sides): `product` (the
// segmenter's mask, any size) at `bgr`'s size, except around what is removed (`mask`, and the
// `regions` of text in it), where the segmenter saw the graphic and often took a caption or a
// banner for part of the product: there, within kHaloReach line heights, each pixel goes to the
// side whose colours it shares, from a ring of the segmenter's product and backdrop around that
// area (colours found on neither side, or an area on one side only, keep the segmenter's side).
// `plain` (the image's size, or empty): on a plain backdrop, what the backdrop does not reach
// (PlainBackdropProduct); a part of it the segmenter left out that lies mostly (kMissedBeyond)
// beyond the area around what is removed is product there too, before the colours decide: a
// segmenter leaves out thin parts (a fish's tail fin), and a caption across one was filled with
// the backdrop's white. CV_8UC1, 255 = product.
cv::Mat FillSides(const cv::Mat& bgr, const cv::Mat& product, const cv::Mat& mask,
                  const std::vector<models::TextRegion>& regions, const cv::Mat& plain) {
  cv::Mat sides;
  cv::resize(product, sides, bgr.size(), 0, 0, cv::INTER_LINEAR);
  sides = sides >= 128;
  double line = 0;
  for (const models::TextRegion& region : regions) line = std::max(line, LineHeight(region));
  const int reach = std::max(2, cvRound(kHaloReach * line));
  const int band = std::max(3, cvRound(0.3 * line));
  cv::Mat zone = DilateDisc(mask | models::RegionMask(bgr.size(), regions), reach);
  cv::Mat labels, stats, centroids;
  // Of the plain backdrop's product, the parts the segmenter left out that reach well beyond
  // the holes' surroundings (a tail fin): what lies mostly around the holes is the graphic's
  // glow or shadow, or a strap or logo the segmenter was right to leave out, on real listings.
  cv::Mat missed;
  if (!plain.empty()) {
    missed = plain & ~sides;
    const int m = cv::connectedComponentsWithStats(missed, labels, stats, centroids, 8, CV_32S);
    const std::vector<int> near = CountLabelsWhere(labels, m, zone);
    for (int y = 0; y < labels.rows; ++y) {
      const int* l = labels.ptr<int>(y);
      uchar* o = missed.ptr<uchar>(y);
      for (int x = 0; x < labels.cols; ++x) {
        const int area = l[x] ? stats.at<int>(l[x], cv::CC_STAT_AREA) : 0;
        o[x] = l[x] && near[l[x]] > 0 && area - near[l[x]] >= kMissedBeyond * area ? 255 : 0;
      }
    }
  }
  const int n = cv::connectedComponentsWithStats(zone, labels, stats, centroids, 8, CV_32S);
  cv::Mat segmenter = sides.clone();
  for (int i = 1; i < n; ++i) {
    const cv::Rect box(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                       stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
    const cv::Rect roi = cv::Rect(box.x - band - 1, box.y - band - 1, box.width + 2 * band + 2,
                                  box.height + 2 * band + 2) &
                         cv::Rect(cv::Point(0, 0), bgr.size());
    const cv::Mat here = labels(roi) == i;
    cv::Mat ring = DilateDisc(here, band);
    ring.setTo(0, zone(roi));
    if (!missed.empty()) {
      segmenter(roi).setTo(255, missed(roi) & (here | ring));
      sides(roi).setTo(255, missed(roi) & (here | ring));
    }
    const cv::Mat on = segmenter(roi);
    const cv::Mat pixels = bgr(roi);
    const cv::Mat product_ring = ring & on, backdrop_ring = ring & ~on;
    const int np = cv::countNonZero(product_ring), nb = cv::countNonZero(backdrop_ring);
    if (np < 16 || nb < 16) continue;  // the area lies on one side only
    const std::vector<int> of_product = NeighbourhoodHistogram(pixels, product_ring);
    const std::vector<int> of_backdrop = NeighbourhoodHistogram(pixels, backdrop_ring);
    cv::Mat out = sides(roi);
    for (int y = 0; y < roi.height; ++y) {
      const cv::Vec3b* p = pixels.ptr<cv::Vec3b>(y);
      const uchar* z = here.ptr<uchar>(y);
      uchar* o = out.ptr<uchar>(y);
      for (int x = 0; x < roi.width; ++x) {
        if (!z[x]) continue;
        const int b = ColourBin(p[x]);
        const double as_product = static_cast<double>(of_product[b]) / np;
        const double as_backdrop = static_cast<double>(of_backdrop[b]) / nb;
        if (as_product > as_backdrop) o[x] = 255;
        if (as_backdrop > as_product) o[x] = 0;
      }
    }
    // Speckles of texture that happens to match the other side.
    cv::Mat cleaned;
    cv::morphologyEx(out, cleaned, cv::MORPH_OPEN, DiscKernel(1));
    cv::morphologyEx(cleaned, cleaned, cv::MORPH_CLOSE, DiscKernel(1));
    cleaned.copyTo(out, here);
  }
  return sides;
}

// Whether some hole of `mask` (CV_8UC1, 255 = removed) lies across an outline between two
// surfaces: the ring of known pixels around it (kSideRing px wide) splits, along its colours'
// main axis (Lab), into two groups of at least kSideShare of it each, kSideContrast apart in
// their means and well apart for their spread (Fisher ratio kSideSeparation): a caption across a
// fruit's shaded edge and the green behind it, not one over a textured peel. Holes thinner than
// a stroke (kSideMinArea px) are passed over: the thin-stroke fill keeps no sides. So are holes
// that hold a box removed (`boxes`, CV_8UC1 of the image's size, nonzero on the boxes): the two
// colours around them are often the box's own faded end and the photo.
bool HoleAcrossTwoSurfaces(const cv::Mat& bgr, const cv::Mat& mask, const cv::Mat& boxes) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
  const std::vector<int> boxed = CountLabelsWhere(labels, n, boxes);
  for (int i = 1; i < n; ++i) {
    if (stats.at<int>(i, cv::CC_STAT_AREA) < kSideMinArea || boxed[i] > 0) continue;
    const cv::Rect box(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                       stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
    const cv::Rect roi = cv::Rect(box.x - kSideRing - 1, box.y - kSideRing - 1,
                                  box.width + 2 * kSideRing + 2, box.height + 2 * kSideRing + 2) &
                         cv::Rect(cv::Point(0, 0), bgr.size());
    cv::Mat ring = DilateDisc(labels(roi) == i, kSideRing);
    ring.setTo(0, mask(roi));
    std::vector<cv::Point> points;
    cv::findNonZero(ring, points);
    if (points.size() < 32) continue;
    cv::Mat lab;
    cv::cvtColor(bgr(roi), lab, cv::COLOR_BGR2Lab);
    cv::Mat samples(static_cast<int>(points.size()), 3, CV_32F);
    for (size_t k = 0; k < points.size(); ++k) {
      const cv::Vec3b c = lab.at<cv::Vec3b>(points[k]);
      for (int ch = 0; ch < 3; ++ch) samples.at<float>(static_cast<int>(k), ch) = c[ch];
    }
    const cv::PCA pca(samples, cv::Mat(), cv::PCA::DATA_AS_ROW, 1);
    cv::Mat projected = pca.project(samples);  // N x 1, along the main axis
    cv::Mat scaled;
    double lo = 0, hi = 0;
    cv::minMaxLoc(projected, &lo, &hi);
    if (hi - lo < kSideContrast) continue;
    projected.convertTo(scaled, CV_8U, 255.0 / (hi - lo), -lo * 255.0 / (hi - lo));
    cv::Mat split;
    cv::threshold(scaled, split, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
    const int high = cv::countNonZero(split), count = static_cast<int>(points.size());
    if (std::min(high, count - high) < kSideShare * count) continue;
    cv::Scalar mean_high, dev_high, mean_low, dev_low;
    cv::meanStdDev(projected, mean_high, dev_high, split);
    cv::meanStdDev(projected, mean_low, dev_low, ~split);
    const double gap = mean_high[0] - mean_low[0];
    const double spread = dev_high[0] * dev_high[0] + dev_low[0] * dev_low[0];
    if (gap >= kSideContrast && gap * gap >= kSideSeparation * spread) return true;
  }
  return false;
}

// The pieces of a segmenter's `product` (any size) that are not mostly what is removed (`mask`,
// the image's size; at least kGraphicShare of a piece within kSideRing px of it): a segmenter
// takes a salient banner or box for a product, and its outline is no outline to continue.
// CV_8UC1 of the mask's size, 255 = product; empty when no piece left reaches the holes (the
// sides would change no fill).
cv::Mat ProductBeyondTheHoles(const cv::Mat& product, const cv::Mat& mask) {
  cv::Mat resized, labels, stats, centroids;
  cv::resize(product, resized, mask.size(), 0, 0, cv::INTER_LINEAR);
  resized = resized >= 128;
  const int n = cv::connectedComponentsWithStats(resized, labels, stats, centroids, 8, CV_32S);
  const std::vector<int> removed = CountLabelsWhere(labels, n, DilateDisc(mask, kSideRing));
  bool any = false;
  std::vector<uchar> keep(n, 0);
  for (int i = 1; i < n; ++i) {
    keep[i] = removed[i] < kGraphicShare * stats.at<int>(i, cv::CC_STAT_AREA);
    any |= keep[i] && removed[i] > 0;
  }
  if (!any) return {};
  return LabelsKept(labels, keep);
}

// The anti-aliased rim a box of text of line height `h` is taken with, in px.
int BoxRim(double h) { return 2 + cvRound(h / 20); }

// The flat-coloured box behind `region`'s text (a price box, a bar along the photo, a badge), as
// a CV_8UC1 mask of `roi`'s size (roi: a window of `bgr` around the region, BannerWindow() with
// kBoxSearch line heights) with its holes (the text, objects in front of it) filled and an
// anti-aliased rim; empty when the text sits on no box. `text`: the text's graphic (GraphicMask()
// or the grown region) in roi's coordinates. The box's colour is one of the commonest colours off
// the graphic in and just around the polygon; the box is the pixels of that colour joined to the
// polygon's, and it must: stay inside the window (reaching its edge inside the image means a
// backdrop; a bar may run off the photo), hold the polygon in one piece, cover between one and
// kMaxBoxArea polygons, be shaped like a box (kBoxSolidity) and differ from the band around it.
// When no box of that colour passes, a chromatic colour is tried by its hue (OfMedianHue, with the
// colour's own pixels): a box shaded along its length (taobao5's yellow box paling to cream, 0.54
// to 0.63 solid and holding 40% of its lines by one flat colour) is one hue throughout; `by_hue`,
// when given, is then set. Only pixels joined to the text's own box count, so other graphics of its
// colour near it (a bar below a price box) neither join it nor make it a backdrop, and a box
// reaching lines away from the text (a two-line box) is found whole.
cv::Mat BoxBehind(const cv::Mat& bgr, const models::TextRegion& region, cv::Rect roi,
                  const cv::Mat& text, bool* by_hue = nullptr) {
  const double h = LineHeight(region);
  const cv::Mat pixels = bgr(roi);
  const cv::Mat polygon = RegionMaskIn(roi, region, 0);
  const int area = cv::countNonZero(polygon);
  if (area < 16) return {};
  // Inside the window unless the window's side is the image's.
  const int left = roi.x > 0 ? 1 : 0, top = roi.y > 0 ? 1 : 0;
  const int right = roi.br().x < bgr.cols ? roi.width - 1 : roi.width;
  const int bottom = roi.br().y < bgr.rows ? roi.height - 1 : roi.height;
  if (right <= left || bottom <= top) return {};
  const cv::Rect inner(left, top, right - left, bottom - top);
  // The commonest colours of the polygon's pixels off the text's graphic (all of them when the
  // graphic took most), in turn (a flat colour with noise straddles bins): the box shows between
  // the glyphs, and the glyphs' own colours make no box that holds the polygon.
  const cv::Mat near_text = DilateDisc(polygon, std::max(2, cvRound(kBoxSeedReach * h)));
  cv::Mat off = near_text & ~text;
  if (cv::countNonZero(off) < kBoxSeedShare * area) off = near_text;
  const int pool = cv::countNonZero(off);
  std::vector<int> counts = NeighbourhoodHistogram(pixels, off);
  // The box of `same`'s pixels joined to the polygon's, holes filled, when it passes the tests
  // above (`like`: the pixels of about its colour, which the band around it must mostly lack);
  // else empty.
  auto box_of = [&](const cv::Mat& same, const cv::Mat& like) -> cv::Mat {
    cv::Mat box = Reconstruct(same & polygon, same);
    if (cv::countNonZero(box) != cv::countNonZero(box(inner))) return {};  // a backdrop
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(box, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    cv::drawContours(box, contours, -1, cv::Scalar(255), cv::FILLED);
    // One piece holds the text (not the glyphs, each on its own).
    double cover = 0;
    for (size_t i = 0; i < contours.size(); ++i) {
      cv::Mat piece(roi.size(), CV_8UC1, cv::Scalar(0));
      cv::drawContours(piece, contours, static_cast<int>(i), cv::Scalar(255), cv::FILLED);
      cover = std::max(cover, static_cast<double>(cv::countNonZero(piece & polygon)) / area);
    }
    const int box_area = cv::countNonZero(box);
    double hull_area = 0;
    for (const std::vector<cv::Point>& contour : contours) {
      std::vector<cv::Point> hull;
      cv::convexHull(contour, hull);
      hull_area += cv::contourArea(hull);
    }
    // The band around it is not of its colour.
    cv::Mat band = DilateDisc(box, std::max(3, cvRound(h / 4)));
    band.setTo(0, box);
    const int band_count = cv::countNonZero(band);
    const int band_same = cv::countNonZero(like & band);
    if (cover < kBoxCover || box_area < area || box_area > kMaxBoxArea * area ||
        box_area < kBoxSolidity * hull_area || band_same > kBoxRingShare * band_count) {
      return {};
    }
    return box;
  };
  for (int candidate = 0; candidate < kBoxCandidates; ++candidate) {
    const int best =
        static_cast<int>(std::max_element(counts.begin(), counts.end()) - counts.begin());
    if (counts[best] < kBoxSeedShare * pool) return {};
    const int levels[3] = {best / (kColourLevels * kColourLevels),
                           best / kColourLevels % kColourLevels, best % kColourLevels};
    // This colour's pixels off the graphic, then no more candidates near it.
    cv::Mat seed(roi.size(), CV_8UC1, cv::Scalar(0));
    for (int y = 0; y < roi.height; ++y) {
      const cv::Vec3b* p = pixels.ptr<cv::Vec3b>(y);
      const uchar* o = off.ptr<uchar>(y);
      uchar* s = seed.ptr<uchar>(y);
      for (int x = 0; x < roi.width; ++x) {
        bool near = o[x] != 0;
        for (int c = 0; c < 3 && near; ++c) {
          near = std::abs((p[x][c] >> kColourShift) - levels[c]) <= 1;
        }
        s[x] = near ? 255 : 0;
      }
    }
    for (int a = std::max(0, levels[0] - 2); a <= std::min(kColourLevels - 1, levels[0] + 2); ++a) {
      for (int b = std::max(0, levels[1] - 2); b <= std::min(kColourLevels - 1, levels[1] + 2);
           ++b) {
        for (int c = std::max(0, levels[2] - 2); c <= std::min(kColourLevels - 1, levels[2] + 2);
             ++c) {
          counts[(a * kColourLevels + b) * kColourLevels + c] = 0;
        }
      }
    }
    // The box of this colour; else, for a chromatic colour, of its hue (a box shaded along its
    // length).
    const cv::Mat same = OfMedianColour(pixels, seed);
    cv::Mat box = box_of(same, OfMedianColour(pixels, seed, 2 * kBoxTolerance));
    if (box.empty()) {
      const cv::Mat hue = OfMedianHue(pixels, seed);
      if (hue.empty()) continue;
      box = box_of(same | hue, OfMedianColour(pixels, seed, 2 * kBoxTolerance) |
                                   OfMedianHue(pixels, seed, 2 * kHueTolerance));
      // A caption's coloured glow is of its hue too; the text's graphic holds most of it.
      if (box.empty() || cv::countNonZero(box & ~text) < kHueBeyondText * cv::countNonZero(box)) {
        continue;
      }
      if (by_hue) *by_hue = true;
    }
    return DilateDisc(box, BoxRim(h));
  }
  return {};
}

// What of `banner` (BoxBehind(), holes filled) is the box itself: the pixels of its colour (and,
// `by_hue`, of its hue inside the banner: a shaded box) and their anti-aliased rim, and pieces of
// the same colour lying along it in `pixels` (a bar the product stands in front of, seen on both
// sides of it). What the box's outline encloses that is neither the box nor the text (`text`)
// stays: an object in front of the box (a bag held over a price bar) is not removed and filled.
// Nothing beyond `text` when the banner's pixels beyond the text have the colour of what surrounds
// the banner (kBoxLikeAround): that is no box.
cv::Mat BoxPixels(const cv::Mat& pixels, const cv::Mat& banner, const cv::Mat& text, double h,
                  bool by_hue = false) {
  const cv::Mat plain = banner & ~text;
  if (cv::countNonZero(plain) < 16) return banner;
  // The median: the enclosed objects would pull a mean off the box's colour.
  const cv::Mat same = OfMedianColour(pixels, plain);
  const int rim = BoxRim(h);
  // A box stands out from what surrounds it. When what the banner holds beyond the text has the
  // surroundings' colour, there is no box to add: the "banner" is the glyphs' own silhouette
  // (outlined text, whose flat fill BannerMask takes for a box), or a box the text's graphic
  // already holds; its pixels beyond the text are the photo.
  cv::Mat around = DilateDisc(banner, rim);
  around.setTo(0, banner);
  const int around_count = cv::countNonZero(around);
  if (around_count > 0 && cv::countNonZero(same & around) >= kBoxLikeAround * around_count) {
    return banner & text;
  }
  cv::Mat box = same & banner;
  if (by_hue) {
    const cv::Mat hue = OfMedianHue(pixels, plain);
    if (!hue.empty()) box |= hue & banner;
  }
  const cv::Rect extent = cv::boundingRect(banner);
  const bool horizontal = extent.width >= extent.height;
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(same, labels, stats, centroids, 8, CV_32S);
  for (int i = 1; i < n; ++i) {
    const cv::Rect piece(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                         stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
    // Across the bar it spans the bar's own rows (or columns), and it is no speck.
    const int lo = horizontal ? piece.y : piece.x,
              hi = lo + (horizontal ? piece.height : piece.width);
    const int bar_lo = horizontal ? extent.y : extent.x;
    const int bar_hi = bar_lo + (horizontal ? extent.height : extent.width);
    const bool along = lo >= bar_lo - rim && hi <= bar_hi + rim && 2 * (hi - lo) >= bar_hi - bar_lo;
    if (along && stats.at<int>(i, cv::CC_STAT_AREA) >= (hi - lo) * (hi - lo) / 4)
      box |= labels == i;
  }
  return DilateDisc(box, rim) | (banner & text);
}

// The rest of a level line beyond its detected region: letters of the line's ink colour, height
// and stroke that the detector left out (jd.jpg's giant hairline "HTO UT": the model's head splits
// the line and the net gives "UT" no signal at any scale, alone or in context). `ink`: the
// region's ink (GraphicMask) in `roi`'s coordinates, roi a window of `bgr` that BannerWindow()
// stretched along the line; `product`: the product mask at bgr's size, or empty (no letter may lie
// mostly on it). A piece is a letter, or what shows of one, when it has the ink's colour
// (kBoxTolerance), lies within the ink's rows (a little margin) without touching the band's
// edges, reaches the line's top or bottom (a letter cut by something in front keeps one of them),
// is at least kRestMinHeight of the line tall, no thicker than the ink's strokes, stands on smooth
// surroundings (or lies within half a line of such a letter: its other stroke), and lies within
// kRestGap line heights of the line or of a letter already taken, along it. Returns the letters
// with their anti-aliased rim, CV_8UC1 of roi's size; empty when there are none or the line is
// tilted.
cv::Mat LineRest(const cv::Mat& bgr, const models::TextRegion& region, cv::Rect roi,
                 const cv::Mat& ink, const cv::Mat& product) {
  if (std::abs(LineAngle(region)) > kRestMaxTilt) return {};
  const cv::Rect extent = cv::boundingRect(ink);
  const int ink_h = extent.height;
  if (ink_h < kRestMinInkHeight) return {};
  const int tol = std::max(2, cvRound(kRestBandMargin * ink_h));
  const cv::Rect band = cv::Rect(0, extent.y - tol, roi.width, ink_h + 2 * tol) &
                        cv::Rect(cv::Point(0, 0), roi.size());
  const cv::Mat pixels = bgr(roi)(band);
  const cv::Mat same = OfMedianColour(pixels, ink(band));
  // The ink's own strokes are not the rest; its stroke width is what a letter may have.
  cv::Mat own =
      DilateDisc(RegionMaskIn(roi, region, std::max(2, cvRound(kHaloReach * ink_h))), 1)(band);
  cv::Mat ink_width;
  cv::distanceTransform(ink(band), ink_width, cv::DIST_L2, 3);
  double stroke = 0;
  cv::minMaxLoc(ink_width, nullptr, &stroke);
  cv::Mat candidates = same & ~own;
  cv::Mat width;
  cv::distanceTransform(candidates, width, cv::DIST_L2, 3);
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(candidates, labels, stats, centroids, 8, CV_32S);
  if (n <= 1) return {};
  std::vector<float> thickest(n, 0.0f);
  std::vector<int> on_product(n, 0);
  for (int y = 0; y < band.height; ++y) {
    const int* l = labels.ptr<int>(y);
    const float* w = width.ptr<float>(y);
    const uchar* pr = product.empty() ? nullptr : product.ptr<uchar>(roi.y + band.y + y) + roi.x;
    for (int x = 0; x < band.width; ++x) {
      if (!l[x]) continue;
      thickest[l[x]] = std::max(thickest[l[x]], w[x]);
      if (pr && pr[x]) ++on_product[l[x]];
    }
  }
  const int top = extent.y - band.y, bottom = extent.br().y - band.y;  // the ink's rows in band
  const bool band_top_is_image = roi.y + band.y == 0;
  const bool band_bottom_is_image = roi.y + band.br().y == bgr.rows;
  std::vector<int> letters, beside_busy;  // the latter: letters but for busy surroundings
  for (int i = 1; i < n; ++i) {
    const int y0 = stats.at<int>(i, cv::CC_STAT_TOP);
    const int y1 = y0 + stats.at<int>(i, cv::CC_STAT_HEIGHT);
    const int area = stats.at<int>(i, cv::CC_STAT_AREA);
    const bool cut =
        (y0 == 0 && !band_top_is_image) || (y1 == band.height && !band_bottom_is_image);
    const bool aligned = std::abs(y0 - top) <= 2 * tol || std::abs(y1 - bottom) <= 2 * tol;
    if (cut || !aligned || y1 - y0 < kRestMinHeight * ink_h) continue;
    if (thickest[i] > kRestStroke * stroke + 1 || 2 * on_product[i] > area) continue;
    // On smooth surroundings (beside it, in its rows, off the ink's colour): there a left-out
    // letter shows, and nothing else has the ink's colour, height and stroke by chance (on
    // candle_04's bricks a dark piece of grout in the line's band passed for a letter: 76% of
    // its surroundings in dense bins; jd.jpg's "U" beside the wall 85%, "T" 96%; the "U"'s other
    // stroke, beside the hair, 60%, stays).
    const int margin = std::max(3, (y1 - y0) / 4);
    const cv::Rect around = cv::Rect(stats.at<int>(i, cv::CC_STAT_LEFT) - margin, y0,
                                     stats.at<int>(i, cv::CC_STAT_WIDTH) + 2 * margin, y1 - y0) &
                            cv::Rect(cv::Point(0, 0), band.size());
    const cv::Mat backdrop = ~DilateDisc(same(around), 1);
    const int count = cv::countNonZero(backdrop);
    if (count < 16 ||
        !SmoothHistogram(NeighbourhoodHistogram(pixels(around), backdrop, false), count)) {
      beside_busy.push_back(i);
      continue;
    }
    letters.push_back(i);
  }
  // Along the line from the region's ink, letter by letter.
  int x0 = extent.x, x1 = extent.br().x;
  const int gap = cvRound(kRestGap * ink_h);
  std::vector<uchar> taken(n, 0);
  for (bool grew = true; grew;) {
    grew = false;
    for (const int i : letters) {
      if (taken[i]) continue;
      const int lx0 = stats.at<int>(i, cv::CC_STAT_LEFT);
      const int lx1 = lx0 + stats.at<int>(i, cv::CC_STAT_WIDTH);
      if (lx0 > x1 + gap || lx1 < x0 - gap) continue;
      taken[i] = 1;
      x0 = std::min(x0, lx0), x1 = std::max(x1, lx1);
      grew = true;
    }
  }
  // A piece beside busy surroundings within half a line of a letter taken is that letter's other
  // stroke (jd.jpg's "U" beside the hair).
  const int stroke_gap = ink_h / 2;
  for (const int i : beside_busy) {
    const int lx0 = stats.at<int>(i, cv::CC_STAT_LEFT);
    const int lx1 = lx0 + stats.at<int>(i, cv::CC_STAT_WIDTH);
    for (const int j : letters) {
      const int jx0 = stats.at<int>(j, cv::CC_STAT_LEFT);
      const int jx1 = jx0 + stats.at<int>(j, cv::CC_STAT_WIDTH);
      if (taken[j] == 1 && lx0 <= jx1 + stroke_gap && lx1 >= jx0 - stroke_gap) taken[i] = 2;
    }
  }
  cv::Mat rest(roi.size(), CV_8UC1, cv::Scalar(0));
  LabelsKept(labels, taken).copyTo(rest(band));
  if (cv::countNonZero(rest) == 0) return {};
  // The glyphs' rim as GraphicMask takes it, and a pixel more: the colour test leaves out the
  // anti-aliased edge that GraphicMask's halo takes.
  return DilateDisc(rest, 2 + cvRound(LineHeight(region) / 50));
}

// A box being removed: its window of the image, its pixels and its convex hull (CV_8UC1 masks of
// the window's size).
struct RemovedBox {
  cv::Rect window;
  cv::Mat pixels, hull;
  int rim = 0;         // px of anti-aliased rim the pixels take around the box's colour
  bool spans = false;  // a bar from one edge of the image to the other
};

// Adds to `mask` (image size) what removing `region` takes: its graphic (GraphicMask) when
// `tight` and the ink can be told apart, else the region grown by `grow` (its outline and
// shadow); the rest of its line that the detector left out (LineRest, when tight; `product`: the
// product mask at the image's size, or empty); and the box behind it (BoxBehind, BoxPixels), which
// also goes to `boxes` when given. `others`: the other regions being removed (image size).
void AddRemoval(const cv::Mat& bgr, const models::TextRegion& region, int grow, bool tight,
                const cv::Mat& others, const cv::Mat& product, cv::Mat* mask,
                std::vector<RemovedBox>* boxes = nullptr) {
  const double h = LineHeight(region);
  const cv::Rect roi = BannerWindow(region, grow + 1.5 * h, bgr.size());
  if (roi.empty()) return;
  cv::Mat ink;
  cv::Mat part = tight ? GraphicMask(bgr, region, roi, others(roi), &ink) : cv::Mat();
  if (part.empty()) part = RegionMaskIn(roi, region, grow);
  if (!ink.empty()) {
    const cv::Mat rest = LineRest(bgr, region, roi, ink, product);
    if (!rest.empty()) part |= rest;
  }
  // The box behind the text, looked for in a wider window (a box holds a few lines).
  const cv::Rect around = BannerWindow(region, grow + kBoxSearch * h, bgr.size());
  cv::Mat text(around.size(), CV_8UC1, cv::Scalar(0));
  part.copyTo(text(roi - around.tl()));
  bool by_hue = false;
  const cv::Mat banner = BoxBehind(bgr, region, around, text, &by_hue);
  cv::Mat target = (*mask)(around);
  if (banner.empty()) {
    target |= text;
    return;
  }
  // The text's graphic stays on its box: what it joined beyond the box and the grown region is
  // something in front of the box (a bag held over a price bar), not the text's outline or glow.
  text &= banner | RegionMaskIn(around, region, grow);
  const cv::Mat box = BoxPixels(bgr(around), banner, text, h, by_hue);
  target |= text | box;
  if (!boxes) return;
  std::vector<cv::Point> points, hull;
  cv::findNonZero(box, points);
  cv::convexHull(points, hull);
  cv::Mat in_hull(around.size(), CV_8UC1, cv::Scalar(0));
  cv::fillConvexPoly(in_hull, hull, cv::Scalar(255));
  const cv::Rect extent = cv::boundingRect(box) + around.tl();
  const bool spans =
      (extent.x == 0 && extent.br().x == bgr.cols) || (extent.y == 0 && extent.br().y == bgr.rows);
  boxes->push_back({around, box, in_hull, BoxRim(h), spans});
}

// Whether two reads of one line agree: one holds the other (a copy cut by the border or hidden
// in part reads part of the line), or they differ in at most half their characters. Spaces do
// not count.
bool ReadAlike(std::string a, std::string b) {
  a.erase(std::remove(a.begin(), a.end(), ' '), a.end());
  b.erase(std::remove(b.begin(), b.end(), ' '), b.end());
  if (a.find(b) != std::string::npos || b.find(a) != std::string::npos) return true;
  const size_t longest = std::max(DecodeUtf8(a).size(), DecodeUtf8(b).size());
  return 2 * EditDistance(a, b) <= longest;
}

// Why a watermark copy was removed, for the report.
std::string WatermarkWhy(const TiledWatermark& mark) {
  char text[96];
  std::snprintf(text, sizeof(text), "tiled watermark: %zu copies at %.0f%% opacity, inverted",
                mark.copies.size(), 100 * mark.opacity);
  return text;
}

// Grow for a region: the option, or a share of the line height (outlines, drop shadows).
int GrowFor(const models::TextRegion& region, int grow) {
  return grow >= 0 ? grow : std::max(2, cvRound(0.15 * LineHeight(region)));
}

double MaskedSum(const cv::Mat& probability, const cv::Mat& mask) {
  cv::Mat weight;
  mask.convertTo(weight, CV_32FC1, 1.0 / 255);
  return cv::sum(probability.mul(weight))[0];
}

// The removal mask of `regions`, each grown by its own amount (`tight`, `product`, `boxes`: see
// AddRemoval).
cv::Mat RemovalMask(const cv::Mat& bgr, const std::vector<models::TextRegion>& regions,
                    const std::vector<int>& grows, bool tight, const cv::Mat& product,
                    std::vector<RemovedBox>* boxes) {
  cv::Mat mask(bgr.size(), CV_8UC1, cv::Scalar(0));
  for (size_t i = 0; i < regions.size(); ++i) {
    cv::Mat others;  // only a tight removal looks at the other regions
    if (tight) {
      std::vector<models::TextRegion> rest = regions;
      rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
      others = models::RegionMask(bgr.size(), rest);
    }
    AddRemoval(bgr, regions[i], grows[i], tight, others, product, &mask, boxes);
  }
  return mask;
}

// Boxes are drawn over the photo, and most over its backdrop. A box that something stands in front
// of (inside its hull, neither the box nor removed, at least kMinFront of the box: the dress a bar
// runs behind, a bag held over it, a hand over a badge) lies behind it: what stands in front goes
// on the product's side of `sides` (made when empty: then all else is the backdrop's). So does a
// box short of spanning the image (a badge, a price box: the hair beside it does not go on under
// it). Those boxes, with what is removed with them (their rim, a glow around their text), are
// returned (image size, CV_8UC1) to be filled from the backdrop only (ops::Inpaint's `behind`),
// except their rim over what stands in front; the mask beyond a box's rim around its hull is not
// the box's (taobao3's price disc overlaps a bar across the dress: the dress goes on under the
// bar). A bar across the whole image with nothing in front
// of it may cover the product (a model's legs): the product goes on under it.
cv::Mat BehindBoxes(const std::vector<RemovedBox>& boxes, const cv::Mat& mask, cv::Mat* sides) {
  cv::Mat behind(mask.size(), CV_8UC1, cv::Scalar(0)), near_front = behind.clone();
  for (const RemovedBox& box : boxes) {
    const cv::Mat front = box.hull & ~box.pixels & ~mask(box.window);
    const bool in_front = cv::countNonZero(front) >= kMinFront * cv::countNonZero(box.pixels);
    if (in_front) {
      if (sides->empty()) *sides = cv::Mat(mask.size(), CV_8UC1, cv::Scalar(0));
      (*sides)(box.window).setTo(255, front);
      // The box's rim over what stands in front is that object's edge: it goes on from it.
      near_front(box.window) |= DilateDisc(front, box.rim);
    }
    if (in_front || !box.spans) {
      // What is removed with the box lies within its rim of its hull; a mask reaching on from
      // there (a bar the badge overlaps, with the product going on under it) is not the box's.
      const cv::Mat own = mask(box.window) & DilateDisc(box.hull, box.rim + 1);
      behind(box.window) |= Reconstruct(box.pixels & own, own);
    }
  }
  return behind & ~near_front;
}

// Windows that together cover `mask`'s nonzero pixels with `margin` px of context around each
// group: the bounding boxes of the mask's connected components, grown, merged while they
// overlap, clipped to the image.
std::vector<cv::Rect> WindowsAround(const cv::Mat& mask, int margin) {
  cv::Mat labels, stats, centroids;
  const int count = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
  const cv::Rect image(cv::Point(0, 0), mask.size());
  std::vector<cv::Rect> windows;
  for (int i = 1; i < count; ++i) {
    const cv::Rect box(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                       stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
    windows.push_back(
        cv::Rect(box.x - margin, box.y - margin, box.width + 2 * margin, box.height + 2 * margin) &
        image);
  }
  for (bool merged = true; merged;) {
    merged = false;
    for (size_t i = 0; i < windows.size() && !merged; ++i) {
      for (size_t j = i + 1; j < windows.size() && !merged; ++j) {
        if ((windows[i] & windows[j]).empty()) continue;
        windows[i] |= windows[j];
        windows.erase(windows.begin() + static_cast<std::ptrdiff_t>(j));
        merged = true;
      }
    }
  }
  return windows;
}

// A detected line is another copy of a watermark's seed when it is alike (TiltedAlike, and its
// length within this factor) and its centre lies within kCopyReach line heights of where the
// seed's centre moved by the copy's offset would be.
constexpr double kCopyLength = 0.75;
constexpr double kCopyReach = 0.5;
// A detected line lies on the product when this share of it is on the product mask.
constexpr double kOnProduct = 0.5;
// Candidate watermarks looked at before giving up (each rejected one takes its lines out).
constexpr int kMaxWatermarkTries = 3;

// The area of `mark`'s copies (their polygons) in an image of `size`, CV_8UC1.
cv::Mat CopiesArea(const TiledWatermark& mark, cv::Size size) {
  cv::Mat copies(size, CV_8UC1, cv::Scalar(0));
  for (size_t i = 0; i < mark.copies.size(); ++i) {
    std::vector<cv::Point> polygon;
    for (const cv::Point2f& p : mark.CopyPolygon(i)) {
      polygon.emplace_back(cvRound(p.x), cvRound(p.y));
    }
    cv::fillConvexPoly(copies, polygon, 255);
  }
  return copies;
}

// How many of `mark`'s copies the detector saw as a line like its seed (the seed's own included).
int CopiesSeenAlike(const TiledWatermark& mark, const std::vector<models::TextRegion>& regions) {
  const models::TextRegion& seed = regions[mark.seed];
  auto length = [](const models::TextRegion& r) {
    return std::max(r.box.size.width, r.box.size.height);
  };
  int seen = 0;
  for (const cv::Point& offset : mark.copies) {
    const cv::Point2f at = seed.box.center + cv::Point2f(offset);
    for (const models::TextRegion& region : regions) {
      const double ratio = length(region) / length(seed);
      if (TiltedAlike(seed, region) && ratio >= kCopyLength && ratio <= 1 / kCopyLength &&
          cv::norm(region.box.center - at) <= kCopyReach * LineHeight(seed)) {
        ++seen;
        break;
      }
    }
  }
  return seen;
}

// Whether `mark` is print rather than a tiled watermark: its seed is a level line (tiled shop
// watermarks are tilted, TiltedFromAxes; print and documents are level), the detector saw that
// line at no other copy (the copies are the matcher's alone), and it lies on the product
// (`product`, CV_8UC1 at the image's size). On a thumbnail a label line holds few pixels per
// letter, and its high-pass matches the label's other lines, the product's edges and a textured
// backdrop (a can's rims, planks, rock) well enough to fit a lattice: the inversion then wiped the
// label and pasted it where the lattice put copies (can_01 at 288 px: a dark "watermark" at 0.87; a
// synthetic can on planks: black at 0.26). A watermark is drawn over the backdrop as well and
// the detector sees more than one of its copies.
bool PrintNotWatermark(const TiledWatermark& mark, const std::vector<models::TextRegion>& regions,
                       const cv::Mat& product) {
  return !TiltedFromAxes(regions[mark.seed]) && CopiesSeenAlike(mark, regions) < 2 &&
         ShareIn(regions[mark.seed], product) >= kOnProduct;
}

// FindTiledWatermark() among the candidates (WatermarkCandidate) without print (PrintNotWatermark):
// a candidate seeded by a level line the detector saw at one copy only is checked against ISNet's
// product mask (run only then, into `product` as TextProductMask gives it; empty otherwise), and
// when it is print, its lines are taken out and the search goes on. The result's seed indexes
// `regions`. Errors: the segmenter's.
Result<std::optional<TiledWatermark>> WatermarkNotPrint(
    const cv::Mat& bgr, const std::vector<models::TextRegion>& regions, models::Runtime& runtime,
    cv::Mat* product) {
  product->release();
  cv::Mat on_photo;                      // *product at `bgr`'s size
  std::vector<models::TextRegion> left;  // the candidates still in play, at `index` in `regions`
  std::vector<int> index;
  for (size_t i = 0; i < regions.size(); ++i) {
    if (!WatermarkCandidate(regions[i])) continue;
    left.push_back(regions[i]);
    index.push_back(static_cast<int>(i));
  }
  for (int tries = 0; tries < kMaxWatermarkTries; ++tries) {
    std::optional<TiledWatermark> mark = FindTiledWatermark(bgr, left);
    if (!mark || TiltedFromAxes(left[mark->seed]) || CopiesSeenAlike(*mark, left) >= 2) {
      if (mark) mark->seed = index[mark->seed];
      return mark;
    }
    if (product->empty()) {
      ASSIGN_OR_RETURN(const models::Segmenter* segmenter, runtime.segmenter());
      ASSIGN_OR_RETURN(*product, TextProductMask(*segmenter, bgr));
      cv::resize(*product, on_photo, bgr.size(), 0, 0, cv::INTER_NEAREST);
    }
    if (!PrintNotWatermark(*mark, left, on_photo)) {
      mark->seed = index[mark->seed];
      return mark;
    }
    // The seed and every line under the copies are print: none seeds another candidate.
    const cv::Mat copies = CopiesArea(*mark, bgr.size());
    std::vector<models::TextRegion> kept;
    std::vector<int> kept_index;
    for (size_t i = 0; i < left.size(); ++i) {
      if (static_cast<int>(i) == mark->seed || ShareIn(left[i], copies) >= kInMark) continue;
      kept.push_back(left[i]);
      kept_index.push_back(index[i]);
    }
    left = std::move(kept);
    index = std::move(kept_index);
  }
  return std::optional<TiledWatermark>();
}

}  // namespace

Result<bool> CopiesReadAlike(const cv::Mat& bgr, const std::vector<models::TextRegion>& regions,
                             const TiledWatermark& mark, models::Runtime& runtime) {
  if (std::abs(LineAngle(regions[mark.seed])) >= kWatermarkTilt && mark.opacity < kLegibleOpacity) {
    return true;
  }
  std::vector<models::TextRegion> seen;
  for (const models::TextRegion& region : regions) {
    if (!WatermarkCandidate(region)) continue;
    for (size_t i = 0; i < mark.copies.size(); ++i) {
      if (cv::pointPolygonTest(mark.CopyPolygon(i), region.box.center, false) >= 0) {
        seen.push_back(region);
        break;
      }
    }
  }
  if (seen.size() < 2) return true;
  ASSIGN_OR_RETURN(const models::TextRecognizer* recognizer, runtime.text_recognizer());
  ASSIGN_OR_RETURN(std::vector<models::RecognizedText> texts, recognizer->RecognizeAll(bgr, seen));
  for (size_t i = 0; i < texts.size(); ++i) {
    if (texts[i].text.empty() || texts[i].confidence < kAlikeConfidence) continue;
    for (size_t j = i + 1; j < texts.size(); ++j) {
      if (texts[j].text.empty() || texts[j].confidence < kAlikeConfidence) continue;
      if (!ReadAlike(texts[i].text, texts[j].text)) return false;
    }
  }
  return true;
}

Result<cv::Mat> TextProductMask(const models::Segmenter& segmenter, const cv::Mat& bgr) {
  ASSIGN_OR_RETURN(cv::Mat prob, segmenter.Predict(segmenter.NetView(bgr)));
  cv::Mat resized, mask;
  cv::resize(prob, resized, FitLongSide(bgr.size(), kClassifySide), 0, 0, cv::INTER_LINEAR);
  cv::compare(resized, 0.5, mask, cv::CMP_GT);
  return mask;
}

Result<ProductMaskUsed> ClassifyAgainstProduct(const cv::Mat& bgr,
                                               const std::vector<models::TextRegion>& regions,
                                               bool recognised, int screen_size,
                                               models::Runtime& runtime,
                                               std::vector<TextFinding>* findings,
                                               cv::Mat* product_mask, const cv::Mat& known) {
  if (product_mask) product_mask->release();
  // The decisions against `product`, in a copy of `findings` (text and confidence as read); the
  // regions' drawn-over cues do not depend on the mask and are measured once.
  std::vector<std::optional<OverlayCues>> cues;
  auto decide = [&](const cv::Mat& product, std::vector<TextFinding>* out) {
    *out = *findings;
    ClassifyText(bgr, product, regions, recognised, out, &cues);
  };
  auto same = [](const std::vector<TextFinding>& a, const std::vector<TextFinding>& b) {
    return std::equal(
        a.begin(), a.end(), b.begin(), b.end(),
        [](const TextFinding& x, const TextFinding& y) { return x.overlay == y.overlay; });
  };
  const cv::Size work = FitLongSide(bgr.size(), kClassifySide);
  std::vector<TextFinding> nothing, everything;
  decide(cv::Mat::zeros(work, CV_8UC1), &nothing);
  decide(cv::Mat(work, CV_8UC1, cv::Scalar(255)), &everything);
  if (same(nothing, everything)) {
    // Where the region lies is unknown: say why it goes (or stays) either way.
    for (size_t i = 0; i < everything.size(); ++i) {
      if (everything[i].why != nothing[i].why) {
        everything[i].why += "; or, if not on the product: " + nothing[i].why;
      }
    }
    *findings = std::move(everything);
    return ProductMaskUsed::kNone;
  }
  int dependent = 0;
  for (size_t i = 0; i < nothing.size(); ++i)
    dependent += nothing[i].overlay != everything[i].overlay;
  ASSIGN_OR_RETURN(const models::Segmenter* full, runtime.segmenter());
  if (known.empty() && screen_size > 0 && screen_size < full->input_size() &&
      dependent < kScreenMaxDependent) {
    ASSIGN_OR_RETURN(const models::Segmenter* screen, runtime.segmenter(screen_size));
    ASSIGN_OR_RETURN(cv::Mat product, TextProductMask(*screen, bgr));
    std::vector<TextFinding> plain;
    decide(product, &plain);
    // Trusted only to say "overlay": keeping text is what a wrong product mask costs most (at
    // 384 px ISNet took whole listings for the product), so any region the screen calls product
    // text goes to the full-size ISNet, as does a screen that finds no product or takes nearly
    // the whole image for it.
    bool all_overlay = true;
    for (size_t i = 0; i < plain.size(); ++i) {
      const bool depends = nothing[i].overlay != everything[i].overlay;
      if (depends && !plain[i].overlay) all_overlay = false;
    }
    const double found = static_cast<double>(cv::countNonZero(product)) / product.total();
    if (all_overlay && found >= kScreenProductMin && found <= kScreenProductMax) {
      // ...and only when they hold while the product moves: by a line height (the small net may
      // take the rock a bag stands on, or a banner touching the bag, in or out) and at least two
      // of the screen's net pixels, in work pixels. (Checked last: a line-wide disc on the work
      // mask is the screen's costliest step after the net.)
      const double to_work = static_cast<double>(work.width) / bgr.cols;
      double line = 0;
      for (const models::TextRegion& region : regions) line = std::max(line, LineHeight(region));
      const int stray = static_cast<int>(std::ceil(
          std::max(line * to_work, 2.0 * std::max(work.width, work.height) / screen_size)));
      std::vector<TextFinding> wide, narrow;
      decide(DilateDisc(product, stray), &wide);
      if (same(plain, wide)) decide(ErodeDisc(product, stray), &narrow);
      if (same(plain, wide) && same(plain, narrow)) {
        *findings = std::move(plain);
        if (product_mask) *product_mask = product;
        return ProductMaskUsed::kScreen;
      }
    }
  }
  cv::Mat product = known;
  if (product.empty()) {
    ASSIGN_OR_RETURN(product, TextProductMask(*full, bgr));
  }
  ClassifyText(bgr, product, regions, recognised, findings, &cues);
  if (product_mask) *product_mask = product;
  return ProductMaskUsed::kFull;
}

nlohmann::json RemoveTextReport::FactsJson() const {
  auto polygon_json = [](const std::vector<cv::Point2f>& polygon) {
    nlohmann::json points = nlohmann::json::array();
    for (const cv::Point2f& p : polygon) {
      points.push_back({std::round(p.x * 10) / 10, std::round(p.y * 10) / 10});
    }
    return points;
  };
  nlohmann::json facts;
  facts["regions"] = nlohmann::json::array();
  for (const TextFinding& f : regions) {
    facts["regions"].push_back({{"polygon", polygon_json(f.polygon)},
                                {"text", f.text},
                                {"confidence", std::round(f.confidence * 1000) / 1000},
                                {"score", std::round(f.score * 1000) / 1000},
                                {"kind", f.overlay ? "overlay" : "product"},
                                {"why", f.why},
                                {"removed", f.removed}});
  }
  nlohmann::json left = nlohmann::json::array();
  for (const auto& polygon : residual) left.push_back(polygon_json(polygon));
  facts["residual"] = {{"regions", left}, {"share", std::round(residual_share * 10000) / 10000}};
  if (!note.empty()) facts["note"] = note;
  if (watermark_copies > 0) {
    for (size_t i = 0; i < regions.size(); ++i) {
      if (regions[i].watermark) facts["regions"][i]["watermark"] = true;
    }
    facts["watermark"] = {{"copies", watermark_copies},
                          {"opacity", std::round(watermark_opacity * 1000) / 1000},
                          {"colour",
                           {std::round(watermark_colour[0]), std::round(watermark_colour[1]),
                            std::round(watermark_colour[2])}}};
  }
  return facts;
}

namespace {

Result<Image> RemoveTextOnce(const Image& input, const RemoveTextOptions& options,
                             models::Runtime& runtime, RemoveTextReport& r, bool blind);

// `input` with `mark` (found blind: no detected region is its copy) inverted, then the rest of its
// text removed (RemoveTextOnce without another blind search); the report's watermark is `mark`.
// Pixels too opaque to invert are left to that pass's detector.
Result<Image> WithoutBlindWatermark(const Image& input, const TiledWatermark& mark,
                                    const RemoveTextOptions& options, models::Runtime& runtime,
                                    RemoveTextReport& r) {
  Image cleaned = input;
  cleaned.bgr = InvertWatermark(input.bgr, mark, nullptr, nullptr);
  const Timings timings = r.timings, cpu_timings = r.cpu_timings;
  ASSIGN_OR_RETURN(Image out, RemoveTextOnce(cleaned, options, runtime, r, false));
  r.timings += timings;
  r.cpu_timings += cpu_timings;
  if (r.watermark_copies == 0) {
    r.watermark_copies = static_cast<int>(mark.copies.size());
    r.watermark_opacity = mark.opacity;
    r.watermark_colour = mark.colour;
  }
  return out;
}

}  // namespace

Result<Image> RemoveText(const Image& input, const RemoveTextOptions& options,
                         models::Runtime& runtime, RemoveTextReport* report) {
  RemoveTextReport local;
  RemoveTextReport& r = report ? *report : local;
  r = RemoveTextReport{};
  return RemoveTextOnce(input, options, runtime, r, true);
}

namespace {

// RemoveText() into `r`; with `blind`, a tiled watermark the detector gave no signal for is
// looked for when no detected region seeds one (FindBlindTiledWatermark).
Result<Image> RemoveTextOnce(const Image& input, const RemoveTextOptions& options,
                             models::Runtime& runtime, RemoveTextReport& r, bool blind) {
  if (input.bgr.empty()) return InvalidArgument("remove_text: the image is empty");
  if (std::min(input.width(), input.height()) < kMinSide) {
    r.note = "image under " + std::to_string(kMinSide) + " px on a side: left unchanged";
    return input;
  }
  try {
    const cv::Mat& bgr = input.bgr;
    StepClock step(&r);
    ASSIGN_OR_RETURN(const models::TextDetector* detector, runtime.text_detector());
    ASSIGN_OR_RETURN(models::TextDetector::Output first, detector->RunPhoto(bgr));
    step.Add(&Timings::detect);
    // A tiled watermark the detector gave no signal for. It is needed unless a detected region
    // seeds one (rare), and it is a single thread's work that needs only the photo: it runs beside
    // the detected watermark's search, also one thread's work (the result is the same).
    std::future<std::optional<TiledWatermark>> blind_search;
    if (blind) blind_search = std::async(std::launch::async, FindBlindTiledWatermark, bgr);
    auto blind_mark = [&]() {
      step.Restart();
      std::optional<TiledWatermark> found;
      if (blind) found = blind_search.get();
      step.Add(&Timings::classify);
      return found;
    };
    if (first.regions.empty()) {
      if (const std::optional<TiledWatermark> found = blind_mark()) {
        return WithoutBlindWatermark(input, *found, options, runtime, r);
      }
      return input;
    }

    r.regions.resize(first.regions.size());
    // A tiled watermark goes by inversion; the other regions are classified.
    step.Restart();
    cv::Mat print_product;  // ISNet's product, when a level candidate watermark needed it
    ASSIGN_OR_RETURN(std::optional<TiledWatermark> mark,
                     WatermarkNotPrint(bgr, first.regions, runtime, &print_product));
    step.Add(&Timings::classify);
    if (mark && options.recognize) {
      step.Restart();
      ASSIGN_OR_RETURN(const bool alike, CopiesReadAlike(bgr, first.regions, *mark, runtime));
      if (!alike) mark.reset();
      step.Add(&Timings::recognise);
    }
    if (!mark) {
      if (const std::optional<TiledWatermark> found = blind_mark()) {
        return WithoutBlindWatermark(input, *found, options, runtime, r);
      }
    }
    step.Restart();
    cv::Mat base = bgr;
    cv::Mat mark_area(bgr.size(), CV_8UC1, cv::Scalar(0)), opaque, changed;
    std::vector<bool> in_mark(first.regions.size(), false), fragment(first.regions.size(), false);
    if (mark) {
      base = InvertWatermark(bgr, *mark, &changed, &opaque);
      // The copies' strokes with a third of a line around them (the detector's regions reach
      // past the glyphs).
      const int reach = std::max(2, cvRound(LineHeight(first.regions[mark->seed]) / 3));
      mark_area = DilateDisc(changed, reach);
      for (size_t i = 0; i < first.regions.size(); ++i) {
        in_mark[i] =
            static_cast<int>(i) == mark->seed || (WatermarkCandidate(first.regions[i]) &&
                                                  ShareIn(first.regions[i], mark_area) >= kInMark);
      }
      // Lines tilted and sized like the watermark's (the rest of a line the template held only
      // part of) are its too: they are inpainted.
      const models::TextRegion& seed = first.regions[mark->seed];
      const bool tilted = std::abs(LineAngle(seed)) >= kWatermarkTilt;
      for (size_t i = 0; i < first.regions.size(); ++i) {
        fragment[i] = !in_mark[i] && WatermarkCandidate(first.regions[i]) && tilted &&
                      TiltedAlike(seed, first.regions[i]);
      }
    }
    step.Add(&Timings::classify);  // finding the watermark is part of the decisions

    // What the regions read: the watermark's copies are read once, at its seed (they all read
    // the same; reading each cost as much as the rest of the watermark's removal).
    step.Restart();
    if (options.recognize) {
      std::vector<size_t> read;
      std::vector<models::TextRegion> lines;
      for (size_t i = 0; i < first.regions.size(); ++i) {
        if (in_mark[i] && static_cast<int>(i) != mark->seed) continue;
        read.push_back(i);
        lines.push_back(first.regions[i]);
      }
      ASSIGN_OR_RETURN(const models::TextRecognizer* recognizer, runtime.text_recognizer());
      ASSIGN_OR_RETURN(std::vector<models::RecognizedText> texts,
                       recognizer->RecognizeAll(bgr, lines));
      for (size_t k = 0; k < texts.size(); ++k) {
        r.regions[read[k]].text = texts[k].text;
        r.regions[read[k]].confidence = texts[k].confidence;
      }
      for (size_t i = 0; i < first.regions.size(); ++i) {
        if (!in_mark[i]) continue;
        r.regions[i].text = r.regions[mark->seed].text;
        r.regions[i].confidence = r.regions[mark->seed].confidence;
      }
    }
    step.Add(&Timings::recognise);
    step.Restart();
    std::vector<models::TextRegion> others;
    std::vector<TextFinding> other_findings;
    cv::Mat product;  // the product mask the classification needed, if any
    for (size_t i = 0; i < first.regions.size(); ++i) {
      if (in_mark[i]) continue;
      others.push_back(first.regions[i]);
      other_findings.push_back(r.regions[i]);
    }
    if (others.empty()) {
      r.product_mask = ProductMaskUsed::kNone;
    } else if (options.scope == TextScope::kOverlay) {
      ASSIGN_OR_RETURN(
          r.product_mask,
          ClassifyAgainstProduct(bgr, others, options.recognize, options.screen_segment_size,
                                 runtime, &other_findings, &product, print_product));
    } else {
      ClassifyText(bgr, cv::Mat(), others, options.recognize, &other_findings);
    }
    if (options.scope == TextScope::kAll) {
      for (TextFinding& f : other_findings) {
        if (!f.overlay) f.why = "printed on the product; removed (scope all)";
      }
    }
    std::vector<models::TextRegion> targets;
    std::vector<int> grows;
    std::vector<TextFinding> line_copies;
    cv::Mat implied_strokes;  // the strokes of single lines' copies the lattice implies
    for (size_t i = 0, k = 0; i < first.regions.size(); ++i) {
      TextFinding& f = r.regions[i];
      if (in_mark[i]) {
        f.polygon = first.regions[i].polygon;
        f.score = first.regions[i].score;
        f.overlay = f.removed = f.watermark = true;
        f.why = WatermarkWhy(*mark);
        continue;
      }
      f = std::move(other_findings[k++]);
      if (fragment[i]) {
        f.overlay = f.watermark = true;
        f.why = "tilted and sized like the tiled watermark's copies: part of it";
      }
      if (options.scope == TextScope::kAll || f.overlay) {
        f.removed = true;
        targets.push_back(first.regions[i]);
        grows.push_back(GrowFor(first.regions[i], options.grow));
      }
      if (!mark && f.overlay) {
        // A translucent tilted line too rarely seen for the lattice: the rest of it the detector
        // missed, and its copies elsewhere, those cut by the border too, go with it.
        // Other text (not lines like this one: those may be its copies) is left out of the match.
        std::vector<models::TextRegion> rest;
        for (size_t j = 0; j < first.regions.size(); ++j) {
          if (j != i && !TiltedAlike(first.regions[i], first.regions[j])) {
            rest.push_back(first.regions[j]);
          }
        }
        const LineCopies line =
            FindLineCopies(bgr, first.regions[i], models::RegionMask(bgr.size(), rest));
        targets.back() = line.line;  // an overlay is a target (above)
        for (const cv::Point& offset : line.offsets) {
          models::TextRegion copy = line.line;
          for (cv::Point2f& p : copy.polygon) p += cv::Point2f(offset);
          copy.box.center += cv::Point2f(offset);
          targets.push_back(copy);
          grows.push_back(GrowFor(copy, options.grow));
          TextFinding matched = f;
          matched.polygon = copy.polygon;
          matched.watermark = matched.removed = true;
          matched.why = "a copy of a translucent tilted line (a watermark), matched, not detected";
          line_copies.push_back(std::move(matched));
        }
        for (const cv::Point& offset : line.implied) {
          TextFinding implied = f;
          implied.polygon = line.line.polygon;
          for (cv::Point2f& p : implied.polygon) p += cv::Point2f(offset);
          implied.watermark = implied.removed = true;
          implied.why =
              "a copy of a translucent tilted line (a watermark) where its copies' lattice puts "
              "one: its strokes removed";
          line_copies.push_back(std::move(implied));
        }
        if (!line.implied_strokes.empty()) {
          if (implied_strokes.empty()) implied_strokes = cv::Mat::zeros(bgr.size(), CV_8UC1);
          implied_strokes |= line.implied_strokes;
        }
      }
    }
    for (TextFinding& f : line_copies) r.regions.push_back(std::move(f));
    if (mark) {
      // Copies the detector did not see are reported too: they were removed.
      r.watermark_copies = static_cast<int>(mark->copies.size());
      r.watermark_opacity = mark->opacity;
      r.watermark_colour = mark->colour;
      const std::string seed_text = r.regions[mark->seed].text;
      for (size_t i = 0; i < mark->copies.size(); ++i) {
        const std::vector<cv::Point2f> polygon = mark->CopyPolygon(i);
        models::TextRegion copy;
        copy.polygon = polygon;
        const cv::Mat area = models::RegionMask(bgr.size(), {copy});
        bool seen = false;
        for (size_t j = 0; j < first.regions.size() && !seen; ++j) {
          seen = in_mark[j] && ShareIn(first.regions[j], area) > 0;
        }
        if (seen) continue;
        TextFinding f;
        f.polygon = polygon;
        f.text = seed_text;
        f.overlay = f.removed = f.watermark = true;
        f.why = WatermarkWhy(*mark) + " (matched, not detected)";
        r.regions.push_back(std::move(f));
      }
    }
    // The default grow follows each graphic (GraphicMask); a grow the caller set is taken as is.
    std::vector<RemovedBox> boxes;
    // Under the overlay scope the rest of a line keeps off the product the decisions used.
    cv::Mat on_product;
    if (options.scope == TextScope::kOverlay && !product.empty()) {
      cv::resize(product, on_product, bgr.size(), 0, 0, cv::INTER_NEAREST);
    }
    cv::Mat mask = RemovalMask(base, targets, grows, options.grow < 0, on_product, &boxes);
    if (!implied_strokes.empty()) mask |= implied_strokes;
    if (mark) {
      // The anti-aliased rim of glyphs too opaque to invert.
      cv::Mat rim;
      cv::dilate(opaque, rim, cv::Mat());
      mask |= rim;
      // What a copy's detected line holds beyond the template (the rest of a line the detector
      // saw whole) is inpainted.
      for (size_t i = 0; i < first.regions.size(); ++i) {
        if (!in_mark[i]) continue;
        cv::Mat beyond = models::RegionMask(bgr.size(), {first.regions[i]},
                                            GrowFor(first.regions[i], options.grow));
        beyond.setTo(0, mark_area);
        mask |= beyond;
      }
    }
    step.Add(&Timings::classify);
    if (targets.empty() && !mark) return input;

    InpaintOptions fill;
    fill.seed = options.seed;
    // A small photo (enlarged for detection): its holes keep windows of their own.
    fill.separate_windows = detector->PhotoScale(bgr.size()) > 1;
    // Where a caption crosses the product's outline, the product is filled from the product and
    // the backdrop from the backdrop: the product mask the decisions needed, and, on a plain
    // backdrop, what the backdrop does not reach (thin parts the segmenter leaves out: a fish's
    // tail fin a caption crossed was filled with the backdrop's white). On a busy backdrop
    // without a mask, ISNet runs for the sides only when a hole lies across two surfaces (a
    // caption across a fruit's shaded edge bulged dark into the backdrop); otherwise the fill
    // takes both sides as before (a segmenter run for every fill cost 15% of remove_text's time
    // and changed no measured result, bench/README.md).
    step.Restart();
    // With the segmenter run for the fill only, a box removed (a price badge over the product's
    // edge) is a caption's hole like any other: the product's outline goes on across it (the
    // boxes' rule, BehindBoxes, is for the sides the decisions or a plain backdrop gave; over a
    // fruit's edge it cut a dark block out of the fruit).
    bool for_fill_only = false;
    cv::Mat sides;
    if (!targets.empty()) {
      const cv::Mat plain = PlainBackdropProduct(base);
      cv::Mat segmented = product;
      cv::Mat box_area(base.size(), CV_8UC1, cv::Scalar(0));
      for (const RemovedBox& box : boxes) box_area(box.window) |= box.hull;
      if (segmented.empty() && plain.empty() && HoleAcrossTwoSurfaces(base, mask, box_area)) {
        // At the screen's size (about a seventh of the full net's cost): the sides need the
        // outline where it crosses a hole, not the product's fine detail.
        const int size = options.screen_segment_size;
        ASSIGN_OR_RETURN(const models::Segmenter* net,
                         size > 0 ? runtime.segmenter(size) : runtime.segmenter());
        ASSIGN_OR_RETURN(cv::Mat found, TextProductMask(*net, bgr));
        segmented = ProductBeyondTheHoles(found, mask);
        for_fill_only = !segmented.empty();
      }
      if (!segmented.empty()) {
        // A plain backdrop's product joins the segmenter's around the holes (FillSides), unless
        // the plain "backdrop" is a frame round a photo filling the image (a box shot edge to
        // edge): that says nothing of the product's outline.
        const bool backdrop_shown =
            !plain.empty() && cv::countNonZero(plain) <= (1 - kPlainBackdropMin) * plain.total();
        sides = FillSides(base, segmented, mask, targets, backdrop_shown ? plain : cv::Mat());
      } else if (!plain.empty()) {
        sides = FillSides(base, plain, mask, targets, cv::Mat());
      }
    }
    cv::Mat behind = for_fill_only ? cv::Mat() : BehindBoxes(boxes, mask, &sides);
    if (for_fill_only) fill.other_side_vote = kFillOnlySideVote;
    ASSIGN_OR_RETURN(cv::Mat result, Inpaint(base, mask, sides, behind, fill));
    step.Add(&Timings::inpaint);
    if (!options.verify) {
      Image out = input;
      out.bgr = result;
      return out;
    }
    // What was removed, for verify: the inpainted mask and the watermark's copies.
    cv::Mat removed = mask | mark_area;

    // Verify: what the detector still finds where text was removed.
    step.Restart();
    const double signal = MaskedSum(first.probability, removed);
    // Only where text was removed: text elsewhere was judged by the first pass, and a region that
    // appears elsewhere only now is the detector wavering on the product's texture.
    auto residual = [&](const models::TextDetector::Output& after) {
      std::vector<models::TextRegion> left;
      for (const models::TextRegion& region : after.regions) {
        if (ShareIn(region, removed) >= kResidualOverlap) left.push_back(region);
      }
      return left;
    };
    // Context around each removal for the detector: a few lines' worth.
    int margin = 32;
    for (const models::TextRegion& region : targets) {
      margin = std::max(margin, cvRound(2 * LineHeight(region)));
    }
    ASSIGN_OR_RETURN(models::TextDetector::Output after,
                     detector->RunPhotoAround(result, WindowsAround(removed, margin)));
    std::vector<models::TextRegion> left = residual(after);
    if (!left.empty()) {
      // Once more, from the original, with the leftovers grown twice as much.
      for (const models::TextRegion& region : left) {
        if (mark && ShareIn(region, mask) < kResidualOverlap) {
          // What the watermark's inversion left (no inpainted region is there): its strokes in
          // the leftover are filled, not the leftover's box (a product's handle or edge under a
          // copy reads as text now and then, and a grown box would wipe it).
          mask |= models::RegionMask(bgr.size(), {region}, GrowFor(region, options.grow)) &
                  DilateDisc(changed, 1);
          continue;
        }
        AddRemoval(base, region, 2 * GrowFor(region, options.grow), false, cv::Mat(), cv::Mat(),
                   &mask, &boxes);
      }
      removed |= mask;
      if (!for_fill_only) behind = BehindBoxes(boxes, mask, &sides);
      ASSIGN_OR_RETURN(result, Inpaint(base, mask, sides, behind, fill));
      ASSIGN_OR_RETURN(after, detector->RunPhotoAround(result, WindowsAround(removed, margin)));
      left = residual(after);
    }
    r.residual_share =
        signal > 0 ? std::min(1.0, MaskedSum(after.probability, removed) / signal) : 0.0;
    for (const models::TextRegion& region : left) r.residual.push_back(region.polygon);
    step.Add(&Timings::verify);
    Image out = input;
    out.bgr = result;
    return out;
  } catch (const cv::Exception& e) {
    return Internal(std::string("remove_text: OpenCV failed: ") + e.what());
  }
}

}  // namespace

namespace {

// Where OverlayTextArea's overlay text is: CV_8UC1, 255 on overlay text, at `bgr`'s size fitted
// into a 1024 px long side; empty for an empty `bgr`. `product`: the product mask to classify
// against, or empty to find it with ISNet.
Result<cv::Mat> OverlayTextMask(models::Runtime& runtime, const cv::Mat& bgr,
                                const cv::Mat& product) {
  if (bgr.empty()) return cv::Mat();
  const cv::Size work = FitLongSide(bgr.size(), kClassifySide);
  if (std::min(bgr.cols, bgr.rows) < kMinSide) return cv::Mat(cv::Mat::zeros(work, CV_8UC1));
  try {
    ASSIGN_OR_RETURN(const models::TextDetector* detector, runtime.text_detector());
    ASSIGN_OR_RETURN(models::TextDetector::Output detected, detector->RunPhoto(bgr));
    const std::vector<models::TextRegion>& regions = detected.regions;
    if (regions.empty()) return cv::Mat(cv::Mat::zeros(work, CV_8UC1));
    ASSIGN_OR_RETURN(const models::TextRecognizer* recognizer, runtime.text_recognizer());
    ASSIGN_OR_RETURN(std::vector<models::RecognizedText> texts,
                     recognizer->RecognizeAll(bgr, regions));
    std::vector<TextFinding> findings(regions.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      findings[i].text = texts[i].text;
      findings[i].confidence = texts[i].confidence;
    }
    if (product.empty()) {
      RETURN_IF_ERROR(
          ClassifyAgainstProduct(bgr, regions, true, kDefaultScreenSegmentSize, runtime, &findings)
              .status());
    } else {
      ClassifyText(bgr, product, regions, true, &findings);
    }
    const double sx = static_cast<double>(work.width) / bgr.cols;
    const double sy = static_cast<double>(work.height) / bgr.rows;
    std::vector<models::TextRegion> overlay;
    for (size_t i = 0; i < regions.size(); ++i) {
      if (findings[i].overlay) overlay.push_back(Scaled(regions[i], sx, sy, cv::Point2f(0, 0)));
    }
    if (overlay.empty()) return cv::Mat(cv::Mat::zeros(work, CV_8UC1));
    return models::RegionMask(work, overlay);
  } catch (const cv::Exception& e) {
    return Internal(std::string("overlay text check: OpenCV failed: ") + e.what());
  }
}

}  // namespace

qa::OverlayTextFn OverlayTextArea(models::Runtime& runtime) {
  return [&runtime](const cv::Mat& bgr, const cv::Mat& product) -> Result<double> {
    ASSIGN_OR_RETURN(cv::Mat covered, OverlayTextMask(runtime, bgr, product));
    return covered.empty() ? 0.0 : static_cast<double>(cv::countNonZero(covered)) / covered.total();
  };
}

namespace {

OpSchema RemoveTextSchema() {
  OpSchema s;
  s.name = "remove_text";
  s.version = 10;
  s.doc =
      "Removes overlay text, banners and watermarks (PP-OCRv4 detection, exemplar inpainting), "
      "keeping the product's own printed text";
  s.models = {"ppocr_det", "ppocr_rec", "isnet"};
  s.fields = {
      {"scope",
       FieldType::kEnum,
       "overlay",
       {},
       {},
       {"overlay", "all"},
       "overlay: text added on the photo; all: every text, the product's own too"},
      {"seed",
       FieldType::kInteger,
       0,
       0.0,
       2147483647.0,
       {},
       "inpainting seed (same seed, same "
       "bytes)"},
      {"grow",
       FieldType::kInteger,
       -1,
       -1.0,
       200.0,
       {},
       "px added around each text region; -1: scaled with the line height"},
      {"recognize", FieldType::kBoolean, true, {}, {}, {}, "read the text for the report"},
      {"verify",
       FieldType::kBoolean,
       true,
       {},
       {},
       {},
       "detect again after removal; retry once, then warn about text left"},
  };
  return s;
}

Result<Image> RunRemoveText(const Image& input, const nlohmann::json& params, OpContext& context) {
  if (!context.models) return Internal("remove_text needs the model runtime");
  RemoveTextOptions options;
  options.scope = params["scope"] == "all" ? TextScope::kAll : TextScope::kOverlay;
  options.seed = params["seed"].get<uint64_t>();
  options.grow = params["grow"];
  options.recognize = params["recognize"];
  options.verify = params["verify"];
  RemoveTextReport report;
  ASSIGN_OR_RETURN(Image out, RemoveText(input, options, *context.models, &report));
  if (!report.note.empty()) Warn(context, report.note);
  if (!report.residual.empty()) {
    std::string where;
    for (const std::vector<cv::Point2f>& polygon : report.residual) {
      const cv::Rect box = cv::boundingRect(polygon);
      where += (where.empty() ? "" : ", ") + std::to_string(box.width) + "x" +
               std::to_string(box.height) + " at (" + std::to_string(box.x) + ", " +
               std::to_string(box.y) + ")";
    }
    Warn(context, "overlay text left: " + where + " — marked for QA");
  }
  if (context.facts) {
    const nlohmann::json facts = report.FactsJson();
    for (const auto& [key, value] : facts.items()) (*context.facts)[key] = value;
  }
  return out;
}

}  // namespace

VITRINE_REGISTER_OP((OpDef{RemoveTextSchema(), RunRemoveText}));

}  // namespace vitrine::ops
