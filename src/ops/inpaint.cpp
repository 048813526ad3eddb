#include "ops/inpaint.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/labels.h"
#include "core/morphology.h"
#include "core/ssd.h"
#include "ops/matting.h"

namespace vitrine::ops {
namespace {

// Push-pull gain for the bias correction: the ring's residual is kept at full strength inwards
// instead of fading towards "no correction".
constexpr float kResidualGain = 1000.0f;
// Random sources tried per pixel by the onion-peel start of the coarsest level.
constexpr int kPeelRandomCandidates = 16;
// The onion peel takes a source patch of which more than kPeelOutside of the pixels lie more than
// kPeelBrightnessSlack levels outside the brightness seen on the hole's edge on its side (between
// the kEdgeLowShare and 1 - kEdgeLowShare quantiles of at least kMinEdgePixels edge pixels; fewer:
// no bound) only when no other candidate is left: copying must not walk from an edge that looks
// like the road into a dark car body above it (EdgeBrightness).
constexpr int kPeelBrightnessSlack = 10;
constexpr double kPeelOutside = 0.5;
constexpr double kEdgeLowShare = 0.05;
constexpr int kMinEdgePixels = 8;
// A side outline is followed as a circle across a hole when it fits one within this many pixels
// (RMS), and the circle's inside agrees with the known sides on this share of the pixels.
constexpr double kArcFit = 1.0;
// ... and on each side of the hole, this share of its outline pixels lies within kArcNear px.
constexpr double kArcInliers = 0.8;
constexpr double kArcNear = 1.5;
constexpr double kArcAgree = 0.95;
// An outline is joined across a hole (CompleteOutlinesAcross) between runs of at least
// kMinAnchor outline pixels, its direction fitted over kTangentSpan pixels, when it turns by at
// most kMaxTurn degrees across the hole. The curve may pass within kOffTolerance px of the other
// side's known pixels but not beyond, and within kGapBitTolerance px of the outline seen between
// the hole's pieces. It decides the hole pixels within half the gap's chord, at least kMinReach.
constexpr int kMinAnchor = 6;
constexpr int kTangentSpan = 16;
constexpr double kMaxTurn = 150;
constexpr double kOffTolerance = 2;
constexpr double kGapBitTolerance = 2.5;
constexpr int kMinReach = 6;
// An outline going on through a hole to the image's border decides the hole pixels within this
// many px of its course (ContinueOutlinesToBorder).
// Its course is the line fitted to its last kBorderSpan outline pixels, which must lie on it
// within kBorderStraight px (RMS).
constexpr int kBorderReach = 48;
constexpr int kBorderSpan = 28;
constexpr double kBorderStraight = 1.0;
// The two sides of a product going on to the border run within about 30 degrees of each other.
constexpr double kBorderParallel = 0.87;
// The curve's handles are tried at kHandleSteps lengths, from a circular arc's down to none.
constexpr int kHandleSteps = 5;
// Radius of the neighbourhood averaged by the thin-stroke fill.
constexpr int kDiffusionRadius = 2;
// A window must hold at least this many source patches per hole pixel, at every pyramid level,
// before it stops growing.
constexpr double kSourcePerHolePixel = 1.5;
// A coarse level is used only if it holds at least this many source patches. (Asking for more,
// in proportion to the hole, was tried: it helps gradients but hurts photos and huge holes.)
constexpr size_t kMinCoarseSources = 16;
// At most this many pyramid levels (the photo and one half-size level). Deeper pyramids were
// measured worse on product photos (bench/README.md): at 1/4 size and below, one patch spans a
// product and its backdrop, and the coarse fill pastes the product's surface into the backdrop.
// The onion-peel start carries structure across large holes instead.
constexpr size_t kMaxLevels = 2;
// Coarsest level: the hole is at most about this many pixels deep there.
constexpr double kCoarsestDepth = 3.0;
// Confidence of a hole pixel d pixels deep: kConfidenceBase^-d (Wexler et al. use 1.3), but at
// least kMinConfidence: deep inside a large hole the power underflows, and every weight there
// would be zero (the pixel would turn black).
constexpr float kConfidenceBase = 1.3f;
constexpr float kMinConfidence = 1e-6f;
// Matching-cost penalty per full-resolution pixel between a target and its source, in units of
// summed squared differences over a patch (see SpatialPenalty).
constexpr float kSpatialPenalty = 16.0f;
// Random-search radius at every level but the coarsest, in that level's pixels.
constexpr int kFineSearchRadius = 32;
// A side's piece continues across a hole when at least this share of it lies outside the hole
// (KeepSidesThatContinue).
constexpr double kContinuingShare = 0.2;
// Known pieces of at most kSpeckArea pixels enclosed by the mask give the brightness correction
// nothing when they are more than kSpeckOutlier levels (in some channel) off the fill there:
// text left between the glyphs, not a counter showing the backdrop (EnclosedSpecks).
constexpr int kSpeckArea = 16;
constexpr float kSpeckOutlier = 40.0f;
// The brightness correction (CorrectBias) takes nothing from a known pixel within kSideBand px of
// the other side's known pixels whose difference from the fill is more than kSideOutlier levels
// (in some channel) off the typical difference along its side's edge.
constexpr int kSideBand = 16;
constexpr float kSideOutlier = 40.0f;
// A component's exemplar fill is redone from the ring's colours when more than kForeignFill of
// its pixels have a colour the ring of known pixels around it lacks: a colour is the ring's when
// at least kRingShare of the ring lies near it (RingColours). Rings under kMinRingPixels pixels
// are not judged. A source patch of the redone fill holds at most kForeignInPatch foreign pixels.
constexpr double kForeignFill = 0.02;
constexpr float kRingShare = 0.02f;
constexpr int kMinRingPixels = 64;
constexpr double kForeignInPatch = 0.1;
// The ring's sections for where a colour belongs in a hole (SectionColours) are this many ring
// bands wide.
constexpr int kSectionSpan = 2;
// A hole whose ring of known pixels (kSmoothRing px wide, per side) fits a quadratic surface within
// kSmoothFit levels (RMS over the channels) lies on a smooth backdrop (a gradient, a vignette):
// its fill keeps only its detail finer than kDetailSigma px on that surface (SmoothBackdrop).
constexpr int kSmoothRing = 12;
constexpr double kSmoothFit = 2.5;
constexpr double kDetailSigma = 3.0;
// The detail kept is bounded by three times the ring's own (its RMS less its blur), at least this.
constexpr double kMinDetail = 1.5;
// Wexler's vote averages the patches that cover a pixel; where their sources disagree in their
// fine grain (asphalt, concrete, a knit not aligned between sources) the average keeps the
// surface's colour but smooths its grain away. Per hole and side, when the fill's detail finer
// than kGrainSigma px holds under kGrainDeficit of the energy of the ring's (the known pixels
// within kSmoothRing px, at least kMinGrain levels RMS), the fill takes the grain of the source
// pixels its own patches were matched to instead (KeepSourceGrain).
constexpr double kGrainSigma = 4.0;
// Only holes at least 2 * kGrainDepth px across at their widest (a bar, a box, a badge): in a
// glyph's stroke the average's smoothness does not show, and a copy's grain only adds error.
constexpr float kGrainDepth = 8.0f;
constexpr double kGrainDeficit = 0.7;
constexpr double kMinGrain = 2.0;
// A copied pixel's detail, and its source's local mean's distance from the fill's, are bounded by
// kGrainBound times the ring's grain (RMS): beyond, it keeps the vote.
constexpr double kGrainBound = 3.0;
// The redone fill is kept when at most this share of what was foreign in the first one is left.
constexpr double kRefillGain = 0.75;
// Thick components whose pixels come within this many patch sizes of each other are filled
// together, in one window (HoleWindows): the glyphs of one caption, a box and its text.
constexpr double kHoleReach = 1.0;
// Rows of target patches handled by one task. Fixed, so that results do not depend on how many
// threads run the tasks.
constexpr int kBandRows = 8;

// splitmix64: a small, fast generator whose stream depends only on its seed.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi].
  int Between(int lo, int hi) { return lo + static_cast<int>(Next() % (hi - lo + 1)); }

 private:
  uint64_t state_;
};

uint64_t MixSeed(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
  Rng rng(seed ^ (a * 0x100000001b3ull) ^ (b << 20) ^ (c << 40));
  return rng.Next();
}

// A source far from its target is less likely to be the same surface (a product sits on a
// backdrop; the product's own patches are wrong for the backdrop, even when their colours are
// close, as dark shadows are). Matching costs carry a small penalty that grows with the distance,
// measured in full-resolution pixels.
int SpatialPenalty(cv::Point t, cv::Point s, int level) {
  const cv::Point d = t - s;
  return static_cast<int>(kSpatialPenalty * (1 << level) * std::sqrt(static_cast<float>(d.dot(d))));
}

// One pyramid level of one window.
struct Level {
  cv::Mat img;    // CV_8UC3; hole pixels hold the current estimate
  cv::Mat hole;   // CV_8UC1, 255 where this fill must produce pixels
  cv::Mat nosrc;  // CV_8UC1, 255 where no source patch may reach (every masked pixel)
  cv::Mat side;   // CV_8UC1, 255 on one side (a product) and 0 on the other; empty: one side
  // CV_8UC1 or empty: how much of each pixel (0..255) has a colour foreign to the hole's
  // surroundings; a source patch may hold at most kForeignInPatch of it (RingCheck).
  cv::Mat foreign;
};

// Side (0 or 1) of `p` in `side` (Level::side).
int SideAt(const cv::Mat& side, cv::Point p) {
  return side.empty() ? 0 : (side.at<uchar>(p) != 0 ? 1 : 0);
}

// Source patch centres (nonzero in `valid`) split by side, each in raster order. A target is
// matched only to sources on its own side, unless its side has none at all (a window wholly on
// the other side of the outline): then to any.
class SideSources {
 public:
  SideSources(const cv::Mat& valid, const cv::Mat& side) : side_(side) {
    for (int y = 0; y < valid.rows; ++y) {
      const uchar* v = valid.ptr<uchar>(y);
      for (int x = 0; x < valid.cols; ++x) {
        if (v[x]) {
          const cv::Point p(x, y);
          by_side_[SideAt(side, p)].push_back(p);
          all_.push_back(p);
        }
      }
    }
  }
  size_t size() const { return all_.size(); }
  // The sources a target on side `s` may take.
  const std::vector<cv::Point>& For(int s) const {
    return by_side_[s].empty() ? all_ : by_side_[s];
  }
  // Whether source centre `m` (already known to be a source) may serve a target on side `s`.
  bool Allows(cv::Point m, int s) const { return by_side_[s].empty() || SideAt(side_, m) == s; }

 private:
  cv::Mat side_;
  std::vector<cv::Point> by_side_[2], all_;
};

// Halves a level: a coarse pixel is hole (or no-source) if any of its fine pixels is, and takes
// the mean colour of its fine pixels outside the hole, so removed text never bleeds into the
// coarse context.
Level Downsample(const Level& fine) {
  const int w = (fine.img.cols + 1) / 2, h = (fine.img.rows + 1) / 2;
  Level c{cv::Mat(h, w, CV_8UC3, cv::Scalar::all(0)), cv::Mat(h, w, CV_8UC1, cv::Scalar(0)),
          cv::Mat(h, w, CV_8UC1, cv::Scalar(0)), cv::Mat(), cv::Mat()};
  if (!fine.foreign.empty()) {
    cv::resize(fine.foreign, c.foreign, c.img.size(), 0, 0, cv::INTER_AREA);
  }
  // A coarse pixel is on the side that holds at least half of its fine pixels.
  if (!fine.side.empty()) {
    cv::Mat share;
    cv::resize(fine.side, share, c.img.size(), 0, 0, cv::INTER_AREA);
    c.side = share >= 128;
  }
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      int sum[3] = {0, 0, 0}, n = 0;
      bool hole = false, nosrc = false;
      for (int fy = 2 * y; fy < std::min(2 * y + 2, fine.img.rows); ++fy) {
        for (int fx = 2 * x; fx < std::min(2 * x + 2, fine.img.cols); ++fx) {
          nosrc |= fine.nosrc.at<uchar>(fy, fx) != 0;
          if (fine.hole.at<uchar>(fy, fx)) {
            hole = true;
            continue;
          }
          const cv::Vec3b& p = fine.img.at<cv::Vec3b>(fy, fx);
          for (int k = 0; k < 3; ++k) sum[k] += p[k];
          ++n;
        }
      }
      c.hole.at<uchar>(y, x) = hole ? 255 : 0;
      c.nosrc.at<uchar>(y, x) = nosrc ? 255 : 0;
      if (n > 0) {
        cv::Vec3b& q = c.img.at<cv::Vec3b>(y, x);
        for (int k = 0; k < 3; ++k) q[k] = static_cast<uchar>((sum[k] + n / 2) / n);
      }
    }
  }
  return c;
}

// Centres of patches lying fully inside the level and clear of every masked pixel, and, with a
// foreign map, holding at most kForeignInPatch of foreign colour.
cv::Mat SourceCentres(const Level& level, int r) {
  const cv::Mat& nosrc = level.nosrc;
  cv::Mat blocked;
  cv::dilate(nosrc, blocked, cv::getStructuringElement(cv::MORPH_RECT, {2 * r + 1, 2 * r + 1}));
  if (!level.foreign.empty()) {
    cv::Mat share;
    cv::boxFilter(level.foreign, share, CV_32F, {2 * r + 1, 2 * r + 1});
    blocked |= share > 255.0 * kForeignInPatch;
  }
  cv::Mat valid(nosrc.size(), CV_8UC1, cv::Scalar(0));
  if (nosrc.cols > 2 * r && nosrc.rows > 2 * r) {
    cv::Rect inner(r, r, nosrc.cols - 2 * r, nosrc.rows - 2 * r);
    cv::Mat free_inner = blocked(inner) == 0;
    free_inner.copyTo(valid(inner));
  }
  return valid;
}

// Exemplar fill of one window at one pyramid level: the nearest-neighbour field from target
// patches (every patch touching the hole, clipped at the window's border) to source patches.
class LevelSolver {
 public:
  LevelSolver(Level* level, int r, uint64_t seed, int level_index, double other_side_vote)
      : level_(level),
        r_(r),
        seed_(seed),
        level_index_(level_index),
        other_side_vote_(other_side_vote) {
    valid_ = SourceCentres(*level, r);
    cv::Mat targets_mask;
    cv::dilate(level->hole, targets_mask,
               cv::getStructuringElement(cv::MORPH_RECT, {2 * r + 1, 2 * r + 1}));
    index_ = cv::Mat(level->img.size(), CV_32SC1, cv::Scalar(-1));
    for (int y = 0; y < targets_mask.rows; ++y) {
      const uchar* t = targets_mask.ptr<uchar>(y);
      const uchar* h = level->hole.ptr<uchar>(y);
      int* idx = index_.ptr<int>(y);
      for (int x = 0; x < targets_mask.cols; ++x) {
        if (t[x]) {
          idx[x] = static_cast<int>(targets_.size());
          targets_.emplace_back(x, y);
        }
        if (h[x]) holes_.emplace_back(x, y);
      }
    }
    sources_ = std::make_unique<SideSources>(valid_, level->side);
    target_side_.resize(targets_.size());
    for (size_t i = 0; i < targets_.size(); ++i) target_side_[i] = SideAt(level->side, targets_[i]);
    // Bands of kBandRows rows, as ranges of target indices (targets are in raster order).
    band_begin_.push_back(0);
    for (size_t i = 1; i < targets_.size(); ++i) {
      if (targets_[i].y / kBandRows != targets_[i - 1].y / kBandRows) band_begin_.push_back(i);
    }
    band_begin_.push_back(targets_.size());
    for (size_t i = 1; i < holes_.size(); ++i) {
      if (holes_[i].y / kBandRows != holes_[i - 1].y / kBandRows) hole_band_.push_back(i);
    }
    hole_band_.insert(hole_band_.begin(), 0);
    hole_band_.push_back(holes_.size());
    nnf_.resize(targets_.size());
    dist_.resize(targets_.size());
    // Confidence of each target patch: the mean over its pixels of 1 (known) or
    // kConfidenceBase^-depth (hole), so that patches holding known pixels lead the vote and
    // structure grows inwards from the hole's edge (Wexler et al., section 3.2).
    cv::Mat depth, conf;
    cv::distanceTransform(level->hole, depth, cv::DIST_L2, 3);
    conf.create(depth.size(), CV_32FC1);
    for (int y = 0; y < depth.rows; ++y) {
      const float* d = depth.ptr<float>(y);
      float* c = conf.ptr<float>(y);
      for (int x = 0; x < depth.cols; ++x) {
        c[x] = std::max(kMinConfidence, std::pow(kConfidenceBase, -d[x]));
      }
    }
    cv::boxFilter(conf, conf, CV_32F, {2 * r + 1, 2 * r + 1}, {-1, -1}, true, cv::BORDER_REPLICATE);
    confidence_.resize(targets_.size());
    for (size_t i = 0; i < targets_.size(); ++i) confidence_[i] = conf.at<float>(targets_[i]);
  }

  size_t source_count() const { return sources_->size(); }
  size_t hole_count() const { return holes_.size(); }
  const cv::Mat& index() const { return index_; }
  const std::vector<cv::Point>& nnf() const { return nnf_; }

  // Random matches for every target.
  void RandomInit() {
    coarsest_ = true;
    Rng rng(MixSeed(seed_, level_index_, 0xA11, 0));
    for (size_t i = 0; i < nnf_.size(); ++i) nnf_[i] = RandomSource(rng, i);
    ComputeDistances();
  }

  // Matches from the coarser level, doubled; invalid ones replaced by random sources.
  void UpsampleFrom(const LevelSolver& coarse) {
    Rng rng(MixSeed(seed_, level_index_, 0xB22, 0));
    for (size_t i = 0; i < targets_.size(); ++i) {
      const cv::Point p = targets_[i];
      const cv::Point c(std::min(p.x / 2, coarse.index_.cols - 1),
                        std::min(p.y / 2, coarse.index_.rows - 1));
      const int ci = coarse.index_.at<int>(c);
      cv::Point m(-1, -1);
      if (ci >= 0) m = coarse.nnf_[ci] * 2 + (p - c * 2);
      nnf_[i] = IsSource(m, target_side_[i]) ? m : RandomSource(rng, i);
    }
    ComputeDistances();
  }

  // One PatchMatch pass: propagation (in scan order, alternating direction between passes) and
  // random search. Bands run in parallel; a band reads its neighbours in other bands from the
  // field as it was before the pass, so the result does not depend on scheduling.
  void Search(int pass) {
    const std::vector<cv::Point> before = nnf_;
    const bool forward = pass % 2 == 0;
    const int bands = static_cast<int>(band_begin_.size()) - 1;
    // The coarsest level searches the whole window; finer levels start from the coarser matches,
    // doubled, and refine them nearby.
    const int radius0 = std::min(coarsest_ ? INT32_MAX : kFineSearchRadius,
                                 std::max(level_->img.cols, level_->img.rows));
    cv::parallel_for_(cv::Range(0, bands), [&](const cv::Range& range) {
      for (int b = range.start; b < range.end; ++b) {
        Rng rng(MixSeed(seed_, level_index_, pass + 1, b));
        const int begin = static_cast<int>(band_begin_[b]),
                  end = static_cast<int>(band_begin_[b + 1]);
        const int band = targets_[begin].y / kBandRows;
        for (int k = 0; k < end - begin; ++k) {
          const int i = forward ? begin + k : end - 1 - k;
          const cv::Point p = targets_[i];
          const int step = forward ? -1 : 1;
          // Propagation: the neighbour's match, shifted back by one pixel.
          for (const cv::Point d : {cv::Point(step, 0), cv::Point(0, step)}) {
            const cv::Point q = p + d;
            if (q.x < 0 || q.y < 0 || q.x >= index_.cols || q.y >= index_.rows) continue;
            const int j = index_.at<int>(q);
            if (j < 0) continue;
            const cv::Point m = (q.y / kBandRows == band ? nnf_[j] : before[j]) - d;
            TryMatch(i, m);
          }
          // Random search in exponentially shrinking windows around the best match.
          for (int radius = radius0; radius >= 1; radius /= 2) {
            const cv::Point best = nnf_[i];
            const cv::Point m(best.x + rng.Between(-radius, radius),
                              best.y + rng.Between(-radius, radius));
            TryMatch(i, m);
          }
        }
      }
    });
  }

  // Weighted voting: each hole pixel becomes the mean of the pixels that the patches covering it
  // would put there, each patch weighted by how well it matches (Wexler et al., eq. 4).
  void Vote() {
    ComputeWeights();
    const int bands = static_cast<int>(hole_band_.size()) - 1;
    cv::Mat& img = level_->img;
    // Source pixels never lie in the hole, so writing hole pixels in place is safe in parallel.
    cv::parallel_for_(cv::Range(0, bands), [&](const cv::Range& range) {
      for (int b = range.start; b < range.end; ++b) {
        for (size_t h = hole_band_[b]; h < hole_band_[b + 1]; ++h) {
          const cv::Vec3f v = VoteAt(holes_[h]);
          cv::Vec3b& out = img.at<cv::Vec3b>(holes_[h]);
          for (int k = 0; k < 3; ++k) out[k] = cv::saturate_cast<uchar>(v[k]);
        }
      }
    });
  }

  // Copied patches carry the brightness of where they came from, which shows on gradients and
  // shading as a step at the hole's edge. The votes for the pixels just outside the hole say how
  // far off they are there; that difference, spread smoothly over the hole, is added to the fill
  // (in the spirit of Poisson blending, at the cost of one push-pull). Call after Vote().
  // With two sides, each side's hole pixels take the correction of its own side's edge only (the
  // product's shading is not the backdrop's). Pixels nonzero in `ignore` (CV_8UC1, the level's
  // size) give no correction when they are more than kSpeckOutlier levels off the fill; nor do
  // pixels near the other side whose difference is far from their side's typical one (kSideBand).
  void CorrectBias(const cv::Mat& ignore) {
    const cv::Mat& img = level_->img;
    const int sides = level_->side.empty() ? 1 : 2;
    for (int s = 0; s < sides; ++s) {
      // Known pixels of this side within kSideBand px of the other side's known pixels: where
      // the segmenter's outline is least sure (a hand, a bag it left on the backdrop's side).
      cv::Mat near_other;
      if (sides == 2) {
        const cv::Mat other = (s == 1 ? level_->side == 0 : level_->side != 0) & ~level_->nosrc;
        near_other = DilateDisc(other, kSideBand);
      }
      std::vector<cv::Point> edge;
      std::vector<cv::Vec3f> diff;
      std::vector<float> channel[3];
      for (size_t i = 0; i < targets_.size(); ++i) {
        const cv::Point t = targets_[i];
        if (level_->hole.at<uchar>(t) || target_side_[i] != s) continue;
        const cv::Vec3b known = img.at<cv::Vec3b>(t);
        const cv::Vec3f d = cv::Vec3f(known[0], known[1], known[2]) - VoteAt(t);
        if (ignore.at<uchar>(t) && cv::norm(d, cv::NORM_INF) > kSpeckOutlier) continue;
        edge.push_back(t);
        diff.push_back(d);
        for (int k = 0; k < 3; ++k) channel[k].push_back(d[k]);
      }
      if (edge.empty()) continue;
      // The edge's typical difference, per channel.
      cv::Vec3f typical;
      for (int k = 0; k < 3; ++k) {
        std::nth_element(channel[k].begin(), channel[k].begin() + channel[k].size() / 2,
                         channel[k].end());
        typical[k] = channel[k][channel[k].size() / 2];
      }
      // Stored around 128: PushPullFill leans towards mid grey where its weights are thin, and
      // here mid grey must mean "no correction".
      cv::Mat residual(img.size(), CV_32FC3, cv::Scalar::all(128));
      cv::Mat weight(img.size(), CV_32FC1, cv::Scalar(0));
      bool any = false;
      for (size_t e = 0; e < edge.size(); ++e) {
        const cv::Point t = edge[e];
        // Near the other side, a difference far from the edge's typical one is the other
        // side's surface (a product's piece on this side of the outline), not this side's
        // shading: spread, it would tint the fill with the product's colour.
        if (!near_other.empty() && near_other.at<uchar>(t) &&
            cv::norm(diff[e] - typical, cv::NORM_INF) > kSideOutlier) {
          continue;
        }
        residual.at<cv::Vec3f>(t) = diff[e] + cv::Vec3f::all(128);
        weight.at<float>(t) = 1.0f;
        any = true;
      }
      if (!any) continue;
      const cv::Mat smooth = PushPullFill(residual, weight, kResidualGain);
      for (const cv::Point& h : holes_) {
        if (SideAt(level_->side, h) != s) continue;
        cv::Vec3b& out = level_->img.at<cv::Vec3b>(h);
        const cv::Vec3f& d = smooth.at<cv::Vec3f>(h);
        for (int k = 0; k < 3; ++k) out[k] = cv::saturate_cast<uchar>(out[k] + d[k] - 128.0f);
      }
    }
  }

  void ComputeDistances() {
    const int bands = static_cast<int>(band_begin_.size()) - 1;
    cv::parallel_for_(cv::Range(0, bands), [&](const cv::Range& range) {
      for (int b = range.start; b < range.end; ++b) {
        for (size_t i = band_begin_[b]; i < band_begin_[b + 1]; ++i) {
          dist_[i] = Cost(targets_[i], nnf_[i], INT32_MAX);
        }
      }
    });
  }

 private:
  // Patch weights from the current distances: exp(-d / 2 sigma^2), sigma^2 the 75th percentile
  // of the mean per-channel squared distance (Wexler et al.).
  void ComputeWeights() {
    std::vector<float> mean_dist(targets_.size());
    for (size_t i = 0; i < targets_.size(); ++i) {
      mean_dist[i] = static_cast<float>(dist_[i]) / (3.0f * PatchArea(targets_[i]));
    }
    std::vector<float> sorted = mean_dist;
    const size_t q = sorted.size() * 3 / 4;
    std::nth_element(sorted.begin(), sorted.begin() + q, sorted.end());
    const float sigma2 = std::max(1.0f, sorted[q]);
    weight_.resize(targets_.size());
    for (size_t i = 0; i < targets_.size(); ++i) {
      weight_[i] = confidence_[i] * std::exp(-std::min(50.0f, mean_dist[i] / (2.0f * sigma2)));
    }
  }

  // The weighted mean of what the target patches covering `x` put there.
  cv::Vec3f VoteAt(cv::Point x) const {
    const cv::Mat& img = level_->img;
    const int side = SideAt(level_->side, x);
    const float other_side = static_cast<float>(other_side_vote_);
    float sum[3] = {0, 0, 0}, wsum = 0;
    for (int dy = -r_; dy <= r_; ++dy) {
      const int py = x.y - dy;
      if (py < 0 || py >= img.rows) continue;
      const int* idx = index_.ptr<int>(py);
      for (int dx = -r_; dx <= r_; ++dx) {
        const int px = x.x - dx;
        if (px < 0 || px >= img.cols || idx[px] < 0) continue;
        const int i = idx[px];
        const cv::Vec3b& c = img.at<cv::Vec3b>(nnf_[i] + cv::Point(dx, dy));
        const float w = target_side_[i] == side ? weight_[i] : other_side * weight_[i];
        sum[0] += w * c[0];
        sum[1] += w * c[1];
        sum[2] += w * c[2];
        wsum += w;
      }
    }
    // Weights are floored (kMinConfidence, exp(-50)) so wsum > 0; the guard keeps a pixel that
    // somehow got none from turning black.
    if (!(wsum > 0))
      return cv::Vec3f(img.at<cv::Vec3b>(x)[0], img.at<cv::Vec3b>(x)[1], img.at<cv::Vec3b>(x)[2]);
    return cv::Vec3f(sum[0], sum[1], sum[2]) / wsum;
  }

  // Whether `m` is a source centre that may serve a target on side `s`.
  bool IsSource(cv::Point m, int s) const {
    return m.x >= 0 && m.y >= 0 && m.x < valid_.cols && m.y < valid_.rows &&
           valid_.at<uchar>(m) != 0 && sources_->Allows(m, s);
  }

  cv::Point RandomSource(Rng& rng, size_t target) const {
    const std::vector<cv::Point>& from = sources_->For(target_side_[target]);
    return from[rng.Between(0, static_cast<int>(from.size()) - 1)];
  }

  int PatchArea(cv::Point t) const {
    const cv::Mat& img = level_->img;
    const int w = std::min(r_, img.cols - 1 - t.x) + std::min(r_, t.x) + 1;
    const int h = std::min(r_, img.rows - 1 - t.y) + std::min(r_, t.y) + 1;
    return w * h;
  }

  void TryMatch(int i, cv::Point m) {
    if (m == nnf_[i] || !IsSource(m, target_side_[i])) return;
    const int d = Cost(targets_[i], m, dist_[i]);
    if (d < dist_[i]) {
      dist_[i] = d;
      nnf_[i] = m;
    }
  }

  // Distance plus the penalty for reaching far (SpatialPenalty).
  int Cost(cv::Point t, cv::Point s, int bound) const {
    const int penalty = SpatialPenalty(t, s, level_index_);
    return penalty + Distance(t, s, bound - penalty);
  }

  // Sum of squared differences between the target patch at `t` (clipped to the level) and the
  // source patch at `s`; stops early once it reaches `bound`.
  int Distance(cv::Point t, cv::Point s, int bound) const {
    const cv::Mat& img = level_->img;
    const int x0 = -std::min(r_, t.x), x1 = std::min(r_, img.cols - 1 - t.x);
    const int y0 = -std::min(r_, t.y), y1 = std::min(r_, img.rows - 1 - t.y);
    const int n = (x1 - x0 + 1) * 3;
    int sum = 0;
    for (int dy = y0; dy <= y1; ++dy) {
      sum += SquaredDifferenceSum(img.ptr<uchar>(t.y + dy) + (t.x + x0) * 3,
                                  img.ptr<uchar>(s.y + dy) + (s.x + x0) * 3, n);
      if (sum >= bound) return sum;
    }
    return sum;
  }

  Level* level_;
  int r_;
  uint64_t seed_;
  int level_index_;
  double other_side_vote_;  // InpaintOptions::other_side_vote
  cv::Mat valid_;           // CV_8UC1, nonzero at source patch centres
  cv::Mat index_;           // CV_32SC1, target index or -1
  std::vector<cv::Point> targets_, holes_;
  std::unique_ptr<SideSources> sources_;
  std::vector<int> target_side_;  // side of each target's centre (Level::side)
  std::vector<size_t> band_begin_, hole_band_;
  std::vector<cv::Point> nnf_;
  std::vector<int> dist_;
  bool coarsest_ = false;
  std::vector<float> confidence_;
  std::vector<float> weight_;
};

// The brightness the fill of a side of the hole may have, as seen on the hole's edge on that side:
// between the kEdgeLowShare and 1 - kEdgeLowShare quantiles of the edge pixels' brightness,
// widened by kPeelBrightnessSlack. A source patch of which more than kPeelOutside of the pixels
// lie outside that range shows a surface the edge does not show (a car's black body or its grille
// behind a strip of road): the peel takes it only when no other candidate is left.
struct EdgeBrightness {
  int r = 0;
  cv::Mat grey;  // CV_8UC1, the level's brightness
  int lo[2] = {0, 0}, hi[2] = {255, 255};
  // Whether the source patch at `m` fits the range of side `s`.
  bool Fits(int s, cv::Point m) const {
    if (lo[s] == 0 && hi[s] == 255) return true;
    const int allowed = static_cast<int>(kPeelOutside * (2 * r + 1) * (2 * r + 1));
    int outside = 0;
    for (int dy = -r; dy <= r; ++dy) {
      const uchar* g = grey.ptr<uchar>(m.y + dy) + m.x;
      for (int dx = -r; dx <= r; ++dx) outside += g[dx] < lo[s] || g[dx] > hi[s];
      if (outside > allowed) return false;
    }
    return true;
  }
};

EdgeBrightness EdgeBrightnessRange(const Level& level, int r) {
  EdgeBrightness b;
  b.r = r;
  cv::cvtColor(level.img, b.grey, cv::COLOR_BGR2GRAY);
  cv::Mat edge;
  cv::dilate(level.hole, edge, cv::Mat());
  edge &= level.hole == 0;
  if (!level.foreign.empty()) edge &= level.foreign <= 127;
  int hist[2][256] = {}, n[2] = {0, 0};
  for (int y = 0; y < edge.rows; ++y) {
    for (int x = 0; x < edge.cols; ++x) {
      if (!edge.at<uchar>(y, x)) continue;
      const int s = SideAt(level.side, {x, y});
      ++hist[s][b.grey.at<uchar>(y, x)];
      ++n[s];
    }
  }
  for (int s = 0; s < 2; ++s) {
    if (n[s] < kMinEdgePixels) continue;
    const int low = static_cast<int>(n[s] * kEdgeLowShare);
    int lo = 0, hi = 255;
    for (int acc = 0; lo < 255 && acc + hist[s][lo] <= low; ++lo) acc += hist[s][lo];
    for (int acc = 0; hi > 0 && acc + hist[s][hi] <= low; --hi) acc += hist[s][hi];
    b.lo[s] = std::max(0, lo - kPeelBrightnessSlack);
    b.hi[s] = std::min(255, hi + kPeelBrightnessSlack);
  }
  return b;
}

// Starting guess for the coarsest level, by onion peel: the hole is filled ring by ring from its
// edge inwards, each pixel copied from the source patch that best matches the pixels already
// known around it (known or filled in an earlier ring). A smooth first guess (push-pull, a
// membrane) would lead the search to smooth sources, and texture would never come back; peeling
// carries the surrounding texture and structure into the hole. Candidates: the shifted matches
// of filled neighbours, random sources, and a random search around the best; sequential, so
// deterministic.
void OnionPeelInit(Level& level, int r, uint64_t seed, int level_index) {
  cv::Mat& img = level.img;
  const cv::Mat valid = SourceCentres(level, r);
  const SideSources sources(valid, level.side);
  if (sources.size() == 0) return;
  cv::Mat known = level.hole == 0;
  cv::Mat match(img.size(), CV_32SC2, cv::Scalar(-1, -1));
  cv::Mat depth;
  cv::distanceTransform(level.hole, depth, cv::DIST_L2, 3);
  const EdgeBrightness bounds = EdgeBrightnessRange(level, r);
  std::vector<cv::Point> todo;
  cv::findNonZero(level.hole, todo);
  std::stable_sort(todo.begin(), todo.end(), [&](cv::Point a, cv::Point b) {
    return std::ceil(depth.at<float>(a)) < std::ceil(depth.at<float>(b));
  });
  auto is_source = [&](cv::Point m, int side) {
    return m.x >= 0 && m.y >= 0 && m.x < valid.cols && m.y < valid.rows && valid.at<uchar>(m) &&
           sources.Allows(m, side);
  };
  // SSD over the pixels of the patch at `t` that are known; stops once it reaches `bound`.
  auto distance = [&](cv::Point t, cv::Point s, int64_t bound) {
    int64_t sum = 0;
    for (int dy = -r; dy <= r; ++dy) {
      const int ty = t.y + dy;
      if (ty < 0 || ty >= img.rows) continue;
      const uchar* k = known.ptr<uchar>(ty);
      const cv::Vec3b* a = img.ptr<cv::Vec3b>(ty);
      const cv::Vec3b* b = img.ptr<cv::Vec3b>(s.y + dy);
      const int x0 = std::max(-r, -t.x), x1 = std::min(r, img.cols - 1 - t.x);
      if (std::all_of(k + t.x + x0, k + t.x + x1 + 1, [](uchar v) { return v != 0; })) {
        // A row known throughout (most rows of a patch at the hole's edge): one run of bytes.
        sum += SquaredDifferenceSum(a[t.x + x0].val, b[s.x + x0].val, 3 * (x1 - x0 + 1));
      } else {
        for (int dx = x0; dx <= x1; ++dx) {
          if (!k[t.x + dx]) continue;
          for (int c = 0; c < 3; ++c) {
            const int d = a[t.x + dx][c] - b[s.x + dx][c];
            sum += d * d;
          }
        }
      }
      if (sum >= bound) return sum;
    }
    return sum;
  };
  Rng rng(MixSeed(seed, 0x0111, 0, 0));
  const int radius0 = std::max(img.cols, img.rows);
  size_t begin = 0;
  while (begin < todo.size()) {
    const float ring = std::ceil(depth.at<float>(todo[begin]));
    size_t end = begin;
    while (end < todo.size() && std::ceil(depth.at<float>(todo[end])) == ring) ++end;
    for (size_t i = begin; i < end; ++i) {
      const cv::Point p = todo[i];
      const int side = SideAt(level.side, p);
      const std::vector<cv::Point>& own = sources.For(side);
      const int n = static_cast<int>(own.size());
      // The best candidate that fits the edge's brightness near `p` (EdgeBrightness), and the
      // best of those that do not, taken when none fits.
      cv::Point best(-1, -1), best_other(-1, -1);
      int64_t best_d = INT64_MAX, other_d = INT64_MAX;
      auto consider = [&](cv::Point m) {
        if (!is_source(m, side)) return;
        const bool fits = bounds.Fits(side, m);
        if (!fits && best.x >= 0) return;
        int64_t& bound = fits ? best_d : other_d;
        const int64_t penalty = SpatialPenalty(p, m, level_index);
        const int64_t d = penalty + distance(p, m, bound - penalty);
        if (d < bound) {
          bound = d;
          (fits ? best : best_other) = m;
        }
      };
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          const cv::Point q(p.x + dx, p.y + dy);
          if (q.x < 0 || q.y < 0 || q.x >= img.cols || q.y >= img.rows) continue;
          const cv::Vec2i m = match.at<cv::Vec2i>(q);
          if (m[0] >= 0) consider(cv::Point(m[0], m[1]) - cv::Point(dx, dy));
        }
      }
      for (int k = 0; k < kPeelRandomCandidates; ++k) consider(own[rng.Between(0, n - 1)]);
      for (int radius = radius0; radius >= 1; radius /= 2) {
        const cv::Point around = best.x >= 0 ? best : best_other;
        consider(around + cv::Point(rng.Between(-radius, radius), rng.Between(-radius, radius)));
      }
      if (best.x < 0) best = best_other;
      match.at<cv::Vec2i>(p) = cv::Vec2i(best.x, best.y);
      img.at<cv::Vec3b>(p) = img.at<cv::Vec3b>(best);
    }
    for (size_t i = begin; i < end; ++i) known.at<uchar>(todo[i]) = 255;
    begin = end;
  }
}

// Halves until the hole is shallow (kCoarsestDepth) or kMaxLevels is reached; a hole too big to
// search (more than `max_search_pixels` pixels) keeps halving until its coarsest level can be
// searched, so huge holes cost a bounded amount of search.
std::vector<Level> BuildPyramid(const cv::Mat& img, const cv::Mat& hole, const cv::Mat& nosrc,
                                const cv::Mat& side, const cv::Mat& foreign, int r,
                                int64_t max_search_pixels) {
  std::vector<Level> levels{{img, hole, nosrc, side, foreign}};
  cv::Mat depth;
  cv::distanceTransform(hole, depth, cv::DIST_L2, 3);
  double max_depth = 0;
  cv::minMaxLoc(depth, nullptr, &max_depth);
  for (;;) {
    const Level& last = levels.back();
    const bool deeper =
        max_depth / (1 << (levels.size() - 1)) > kCoarsestDepth && levels.size() < kMaxLevels;
    const bool too_big = cv::countNonZero(last.hole) > max_search_pixels;
    if ((!deeper && !too_big) || std::min(last.img.cols, last.img.rows) / 2 < 4 * (2 * r + 1)) {
      break;
    }
    levels.push_back(Downsample(last));
  }
  return levels;
}

// The lowest ratio, over the levels, of source patches to hole pixels. Coarse levels lose the most
// source: masked pixels there block patches that span many fine pixels.
double SourceRatio(const std::vector<Level>& levels, int r) {
  double ratio = 1e9;
  for (const Level& level : levels) {
    ratio = std::min(ratio, cv::countNonZero(SourceCentres(level, r)) /
                                std::max(1.0, static_cast<double>(cv::countNonZero(level.hole))));
  }
  return ratio;
}

// Known pixels that masked pixels enclose in pieces of at most kSpeckArea pixels (not touching
// the window's border): a glyph's counter, or a pixel of a glyph's anti-aliasing that the
// caller's mask missed in the middle of a removed bar. Where such a speck is far off the fill,
// its difference says nothing about the fill's brightness, and spread as a correction it would
// light a glow around it. CV_8UC1, 255 = speck.
cv::Mat EnclosedSpecks(const cv::Mat& nosrc) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(nosrc == 0, labels, stats, centroids, 8, CV_32S);
  std::vector<uchar> speck(n, 0);
  for (int i = 1; i < n; ++i) {
    const cv::Rect box(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                       stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
    speck[i] = box.x > 0 && box.y > 0 && box.br().x < nosrc.cols && box.br().y < nosrc.rows &&
               stats.at<int>(i, cv::CC_STAT_AREA) <= kSpeckArea;
  }
  return LabelsKept(labels, speck);
}

// Declared here, defined with the windows below.
cv::Rect Grow(const cv::Rect& r, int margin, cv::Size bounds);

// `image` (CV_32FC3) blurred by kDetailSigma over the pixels `weight` (CV_32FC1, 0 or 1) holds,
// and the weight blurred alike: their ratio is the image's local mean over those pixels.
std::pair<cv::Mat, cv::Mat> MaskedBlur(const cv::Mat& image, const cv::Mat& weight) {
  cv::Mat weight3, blurred, norm;
  cv::merge(std::vector<cv::Mat>(3, weight), weight3);
  cv::GaussianBlur(image.mul(weight3), blurred, cv::Size(), kDetailSigma);
  cv::GaussianBlur(weight, norm, cv::Size(), kDetailSigma);
  return {blurred, norm};
}

// One hole (`level.hole`, a single component) of SmoothBackdrop.
void SmoothHole(Level& level, const cv::Mat& ignore) {
  const cv::Mat& hole = level.hole;
  const cv::Mat known = level.nosrc == 0 & ignore == 0;
  const cv::Mat ring = DilateDisc(hole, kSmoothRing) & known;
  const int sides = level.side.empty() ? 1 : 2;
  const double sx = 2.0 / std::max(1, hole.cols), sy = 2.0 / std::max(1, hole.rows);
  auto terms = [&](int x, int y, float* row) {
    const double u = x * sx - 1, v = y * sy - 1;
    const double t[6] = {1, u, v, u * u, u * v, v * v};
    for (int k = 0; k < 6; ++k) row[k] = static_cast<float>(t[k]);
  };
  for (int s = 0; s < sides; ++s) {
    cv::Mat on_side = level.side.empty() ? cv::Mat(hole.size(), CV_8UC1, cv::Scalar(255))
                      : s == 1           ? level.side.clone()
                                         : cv::Mat(level.side == 0);
    std::vector<cv::Point> ring_pixels, hole_pixels;
    cv::findNonZero(ring & on_side, ring_pixels);
    cv::findNonZero(hole & on_side, hole_pixels);
    if (hole_pixels.empty() || ring_pixels.size() < static_cast<size_t>(kMinRingPixels)) continue;
    // A ring on some sides only (a bar along the photo's bottom edge) would have the surface
    // extrapolated across the hole: such a hole keeps its fill. Along a border the ring runs
    // with the hole (a bar reaching the photo's side edges is held above and below).
    const cv::Rect hole_box = cv::boundingRect(hole_pixels);
    if ((hole_box & cv::boundingRect(ring_pixels)) != hole_box) continue;
    cv::Mat a(static_cast<int>(ring_pixels.size()), 6, CV_32FC1);
    cv::Mat b(static_cast<int>(ring_pixels.size()), 3, CV_32FC1);
    for (int i = 0; i < a.rows; ++i) {
      const cv::Point& p = ring_pixels[i];
      terms(p.x, p.y, a.ptr<float>(i));
      const cv::Vec3b c = level.img.at<cv::Vec3b>(p);
      for (int k = 0; k < 3; ++k) b.at<float>(i, k) = c[k];
    }
    cv::Mat coef;
    if (!cv::solve(a, b, coef, cv::DECOMP_QR)) continue;
    const cv::Mat err = a * coef - b;
    const double rms = std::sqrt(err.dot(err) / (3.0 * err.rows));
    if (rms > kSmoothFit) continue;
    // What the surface misses on the ring, spread over the hole, so that the fill meets the
    // known pixels without a seam (stored around 128 as in CorrectBias).
    cv::Mat residual(hole.size(), CV_32FC3, cv::Scalar::all(128));
    cv::Mat ring_weight(hole.size(), CV_32FC1, cv::Scalar(0));
    for (int i = 0; i < a.rows; ++i) {
      const cv::Point& p = ring_pixels[i];
      residual.at<cv::Vec3f>(p) =
          cv::Vec3f(-err.at<float>(i, 0), -err.at<float>(i, 1), -err.at<float>(i, 2)) +
          cv::Vec3f::all(128);
      ring_weight.at<float>(p) = 1.0f;
    }
    const cv::Mat seam = PushPullFill(residual, ring_weight, kResidualGain);
    // The fill's detail: itself less its blur over this side's hole pixels only.
    cv::Mat weight, in_hole = hole & on_side;
    in_hole.convertTo(weight, CV_32FC1, 1 / 255.0);
    cv::Mat fill;
    level.img.convertTo(fill, CV_32FC3);
    const auto [blurred, norm] = MaskedBlur(fill, weight);
    // The ring's own grain bounds the detail kept: what a step leaves after the blur (a ridge
    // along the seam) is far beyond it.
    const auto [ring_blur, ring_norm] = MaskedBlur(fill, ring_weight);
    double grain = 0;
    for (const cv::Point& p : ring_pixels) {
      const cv::Vec3f d =
          fill.at<cv::Vec3f>(p) - ring_blur.at<cv::Vec3f>(p) / ring_norm.at<float>(p);
      grain += d.dot(d) / 3;
    }
    const float bound =
        static_cast<float>(std::max(kMinDetail, 3 * std::sqrt(grain / ring_pixels.size())));
    float row[6];
    for (const cv::Point& h : hole_pixels) {
      terms(h.x, h.y, row);
      const float n = std::max(norm.at<float>(h), 1e-6f);
      const cv::Vec3f low = blurred.at<cv::Vec3f>(h) / n;
      const cv::Vec3f f = fill.at<cv::Vec3f>(h);
      cv::Vec3b& out = level.img.at<cv::Vec3b>(h);
      for (int k = 0; k < 3; ++k) {
        float surface = 0;
        for (int j = 0; j < 6; ++j) surface += row[j] * coef.at<float>(j, k);
        // Beyond the bound it is a seam's ridge, not grain: dropped, not clipped.
        const float d = f[k] - low[k];
        const float detail = std::abs(d) <= bound ? d : 0.0f;
        out[k] = cv::saturate_cast<uchar>(surface + seam.at<cv::Vec3f>(h)[k] - 128.0f + detail);
      }
    }
  }
}

// On a smooth backdrop copied patches carry the brightness of where they came from: patches from
// above a bar across a gradient are lighter than those from below, and where the two meet inside
// the hole the fill shows a step in the shape of the removed graphic (taobao4's bar), which the
// edge correction (CorrectBias) cannot see. Per side, when the ring of known pixels around the
// holes fits a quadratic surface within kSmoothFit, the hole pixels of that side take the
// surface plus the fill's own detail (the fill less its masked Gaussian blur): grain stays, steps
// go. A ring that does not fit (texture, an edge, an object) leaves the fill as it is.
// Measured on taobao4's bar: the fill's ring fits within 0.7-1.9 levels, and its lighter plateau
// over the darker part below is gone.
//
// Each connected hole of the level on its own ring (a window may hold many holes, far apart).
// Ring pixels nonzero in `ignore` (CV_8UC1, the level's size: specks, foreign colours) are left
// out: a caption's pixel left in the hole would light a glow around it.
void SmoothBackdrop(Level& level, const cv::Mat& ignore) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(level.hole, labels, stats, centroids, 8, CV_32S);
  const cv::Rect all(0, 0, level.hole.cols, level.hole.rows);
  for (int i = 1; i < n; ++i) {
    const cv::Rect box(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                       stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
    const cv::Rect roi = Grow(box, kSmoothRing + 1, level.hole.size()) & all;
    Level one;
    one.img = level.img(roi);  // shares the window's pixels: the fill is written through
    one.hole = labels(roi) == i;
    one.nosrc = level.nosrc(roi);
    if (!level.side.empty()) one.side = level.side(roi);
    SmoothHole(one, ignore(roi));
  }
}

// The vote of the finest level (`solver`, whose level is `level`) loses the grain of a textured
// surface (kGrainDeficit): per hole (at least kGrainDepth deep) and side where it does, the fill
// keeps its own local mean (its blur by kGrainSigma) and takes the detail of the pixel each hole
// pixel's patch was matched to (the source patch's centre): the grain is the surface's own,
// copied, not averaged (within kGrainBound of the ring's grain). Pixels
// nonzero in `ignore` (CV_8UC1, the level's size) are left out of the ring.
void KeepSourceGrain(Level& level, const LevelSolver& solver, const cv::Mat& ignore) {
  cv::Mat copy = level.img.clone();
  const cv::Mat& index = solver.index();
  std::vector<cv::Point> holes;
  cv::findNonZero(level.hole, holes);
  for (const cv::Point& h : holes) {
    const int i = index.at<int>(h);
    if (i >= 0) copy.at<cv::Vec3b>(h) = level.img.at<cv::Vec3b>(solver.nnf()[i]);
  }
  cv::Mat fill, copied, fill_low, copy_low;
  level.img.convertTo(fill, CV_32FC3);
  copy.convertTo(copied, CV_32FC3);
  cv::GaussianBlur(fill, fill_low, cv::Size(), kGrainSigma);
  cv::GaussianBlur(copied, copy_low, cv::Size(), kGrainSigma);
  // Per hole component and side: the energy (mean squared, over channels) of the fill's detail
  // and of the ring's.
  cv::Mat labels;
  const int n = cv::connectedComponents(level.hole, labels, 8, CV_32S);
  const cv::Mat ring = DilateDisc(level.hole, kSmoothRing) & (level.nosrc == 0) & (ignore == 0);
  cv::Mat ring_labels;  // each ring pixel: the hole component it borders (nearest hole pixel's)
  {
    cv::Mat distance, nearest;
    cv::distanceTransform(level.hole == 0, distance, nearest, cv::DIST_L2, cv::DIST_MASK_5,
                          cv::DIST_LABEL_PIXEL);
    std::vector<int> label_of(holes.size() + 1, 0);
    for (const cv::Point& h : holes) label_of[nearest.at<int>(h)] = labels.at<int>(h);
    ring_labels = cv::Mat(labels.size(), CV_32SC1, cv::Scalar(0));
    for (int y = 0; y < ring.rows; ++y) {
      for (int x = 0; x < ring.cols; ++x) {
        if (ring.at<uchar>(y, x)) ring_labels.at<int>(y, x) = label_of[nearest.at<int>(y, x)];
      }
    }
  }
  std::vector<double> fill_energy(2 * n, 0), ring_energy(2 * n, 0);
  std::vector<int> fill_count(2 * n, 0), ring_count(2 * n, 0);
  // Each hole's depth (its widest point's half width).
  std::vector<float> depth(n, 0.0f);
  {
    cv::Mat distance;
    cv::distanceTransform(level.hole, distance, cv::DIST_L2, 3);
    for (const cv::Point& h : holes) {
      float& d = depth[labels.at<int>(h)];
      d = std::max(d, distance.at<float>(h));
    }
  }
  for (int y = 0; y < labels.rows; ++y) {
    for (int x = 0; x < labels.cols; ++x) {
      const cv::Point p(x, y);
      const int hole_label = labels.at<int>(p), ring_label = ring_labels.at<int>(p);
      if (hole_label == 0 && ring_label == 0) continue;
      const cv::Vec3f d = fill.at<cv::Vec3f>(p) - fill_low.at<cv::Vec3f>(p);
      const int k = 2 * (hole_label + ring_label) + SideAt(level.side, p);
      if (hole_label) {
        fill_energy[k] += d.dot(d) / 3;
        ++fill_count[k];
      } else {
        ring_energy[k] += d.dot(d) / 3;
        ++ring_count[k];
      }
    }
  }
  // Per hole and side: the bound on the grain taken (kGrainBound times the ring's RMS), or 0 to
  // keep the vote.
  std::vector<float> bound(2 * n, 0.0f);
  for (int k = 2; k < 2 * n; ++k) {
    if (fill_count[k] == 0 || ring_count[k] < kMinRingPixels || depth[k / 2] < kGrainDepth) {
      continue;
    }
    const double ring_grain = ring_energy[k] / ring_count[k];
    if (ring_grain >= kMinGrain * kMinGrain &&
        fill_energy[k] / fill_count[k] < kGrainDeficit * ring_grain) {
      bound[k] = static_cast<float>(kGrainBound * std::sqrt(ring_grain));
    }
  }
  for (const cv::Point& h : holes) {
    const float b = bound[2 * labels.at<int>(h) + SideAt(level.side, h)];
    if (b == 0) continue;
    // Sources whose surroundings are another colour than the fill here (a car's body beside the
    // road) lend no grain; nor does what exceeds the ring's grain (the edge of such a source).
    const cv::Vec3f shift = copy_low.at<cv::Vec3f>(h) - fill_low.at<cv::Vec3f>(h);
    if (cv::norm(shift, cv::NORM_INF) > b) continue;
    const cv::Vec3f d = copied.at<cv::Vec3f>(h) - copy_low.at<cv::Vec3f>(h);
    if (cv::norm(d, cv::NORM_INF) > b) continue;
    const cv::Vec3f v = fill_low.at<cv::Vec3f>(h) + d;
    cv::Vec3b& out = level.img.at<cv::Vec3b>(h);
    for (int c = 0; c < 3; ++c) out[c] = cv::saturate_cast<uchar>(v[c]);
  }
}

// Exemplar fill of one window, given its pyramid (levels[0].img shares the window's pixels and
// receives the fill; thin strokes are already filled there).
void FillWindow(std::vector<Level>& levels, const InpaintOptions& options, uint64_t seed) {
  const int r = options.patch_size / 2;
  cv::Mat& img = levels[0].img;
  const cv::Mat& hole = levels[0].hole;
  // Solvers from coarse to fine; a coarse level where masked pixels leave (almost) no source is
  // dropped.
  std::vector<std::unique_ptr<LevelSolver>> solvers(levels.size());
  int coarsest = static_cast<int>(levels.size()) - 1;
  for (; coarsest >= 0; --coarsest) {
    solvers[coarsest] = std::make_unique<LevelSolver>(&levels[coarsest], r, seed, coarsest,
                                                      options.other_side_vote);
    const LevelSolver& c = *solvers[coarsest];
    if (c.source_count() >= kMinCoarseSources || coarsest == 0) {
      break;
    }
    solvers[coarsest].reset();
  }
  if (solvers[coarsest]->source_count() == 0) {
    // Nothing to copy from anywhere: a smooth fill from whatever surrounds the hole.
    cv::Mat weight;
    cv::Mat(hole == 0).convertTo(weight, CV_32FC1, 1 / 255.0);
    PushPullFill(img, weight).copyTo(img, hole);
    return;
  }
  OnionPeelInit(levels[coarsest], r, seed, coarsest);
  int pass = 0;
  for (int l = coarsest; l >= 0; --l) {
    if (l == coarsest) {
      solvers[l]->RandomInit();
    } else {
      solvers[l] = std::make_unique<LevelSolver>(&levels[l], r, seed, l, options.other_side_vote);
      // The coarser fill, enlarged, only scores the coarser matches, doubled; the level then
      // starts from their vote, which copies this level's own fine texture (starting from the
      // enlarged fill itself would lead the search to smooth sources: blur begets blur).
      cv::Mat up;
      cv::resize(levels[l + 1].img, up, levels[l].img.size(), 0, 0, cv::INTER_LINEAR);
      up.copyTo(levels[l].img, levels[l].hole);
      solvers[l]->UpsampleFrom(*solvers[l + 1]);
      solvers[l + 1].reset();
    }
    LevelSolver& cur = *solvers[l];
    const bool search = static_cast<int64_t>(cur.hole_count()) <= options.max_search_pixels;
    if (l != coarsest && search) {
      cur.Vote();
      cur.ComputeDistances();
    }
    const int iterations = search ? options.em_iterations + std::min(coarsest - l, 2) : 1;
    for (int it = 0; it < iterations; ++it) {
      if (search) {
        cur.Search(pass++);
        if (l == coarsest && it == 0) cur.Search(pass++);
      }
      cur.Vote();
      if (it + 1 < iterations) cur.ComputeDistances();
    }
    if (l == 0) {
      // Foreign colours at the hole's edge (a remnant of another object) say nothing about the
      // fill's brightness either.
      cv::Mat ignore = EnclosedSpecks(levels[0].nosrc);
      if (!levels[0].foreign.empty()) ignore |= levels[0].foreign > 127;
      KeepSourceGrain(levels[0], cur, ignore);
      cur.CorrectBias(ignore);
      SmoothBackdrop(levels[0], ignore);
    }
  }
}

// Diffusion fill of thin strokes, peeled from the outside in: each pixel takes the
// distance-weighted mean of the known pixels (outside the mask, or filled in an earlier peel)
// within kDiffusionRadius. A stroke a few pixels wide needs a few peels; flat colour stays exact,
// and no masked pixel (text colour) ever contributes. With `side` (empty: one side), a pixel
// takes only known pixels of its own side when it has any within reach.
void FillThin(const cv::Mat& labels, const std::vector<uchar>& is_thin, const cv::Mat& depth,
              const cv::Mat& binary, const cv::Mat& side, cv::Mat& out) {
  std::vector<cv::Point> todo;
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (is_thin[l[x]]) todo.emplace_back(x, y);
    }
  }
  cv::Mat known = binary == 0;
  // Peel k holds the pixels at depth (k-1, k]; a pixel with no known neighbour yet waits.
  for (int peel = 1; !todo.empty(); ++peel) {
    std::vector<cv::Point> waiting;
    std::vector<std::pair<cv::Point, cv::Vec3b>> filled;
    for (const cv::Point& p : todo) {
      if (depth.at<float>(p) > peel) {
        waiting.push_back(p);
        continue;
      }
      // [0]: every known pixel within reach; [1]: those on p's side.
      float sum[2][3] = {{0, 0, 0}, {0, 0, 0}}, weights[2] = {0, 0};
      const int own = SideAt(side, p);
      for (int dy = -kDiffusionRadius; dy <= kDiffusionRadius; ++dy) {
        const int y = p.y + dy;
        if (y < 0 || y >= out.rows) continue;
        for (int dx = -kDiffusionRadius; dx <= kDiffusionRadius; ++dx) {
          const int x = p.x + dx;
          if (x < 0 || x >= out.cols || !known.at<uchar>(y, x)) continue;
          const float w = 1.0f / static_cast<float>(dx * dx + dy * dy);
          const cv::Vec3b& c = out.at<cv::Vec3b>(y, x);
          const int same = SideAt(side, cv::Point(x, y)) == own ? 1 : 0;
          for (int j = 0; j <= same; ++j) {
            for (int k = 0; k < 3; ++k) sum[j][k] += w * c[k];
            weights[j] += w;
          }
        }
      }
      const int use = weights[1] > 0 ? 1 : 0;
      const float wsum = weights[use];
      if (wsum == 0) {
        waiting.push_back(p);
        continue;
      }
      cv::Vec3b v;
      for (int k = 0; k < 3; ++k) v[k] = cv::saturate_cast<uchar>(sum[use][k] / wsum);
      filled.emplace_back(p, v);
    }
    if (filled.empty() && depth.at<float>(waiting.front()) <= peel) break;  // cut off: leave as is
    for (const auto& [p, v] : filled) {
      out.at<cv::Vec3b>(p) = v;
      known.at<uchar>(p) = 255;
    }
    todo = std::move(waiting);
  }
}

// Bounding boxes grown by `margin(rect)` and merged until none overlap. Returns the merged
// boxes and, per input rect, the index of the box that holds it.
std::vector<cv::Rect> MergeBoxes(std::vector<cv::Rect> boxes, std::vector<int>* owner) {
  owner->resize(boxes.size());
  std::iota(owner->begin(), owner->end(), 0);
  bool merged = true;
  while (merged) {
    merged = false;
    for (size_t i = 0; i < boxes.size() && !merged; ++i) {
      for (size_t j = i + 1; j < boxes.size(); ++j) {
        if ((boxes[i] & boxes[j]).area() > 0) {
          boxes[i] |= boxes[j];
          boxes.erase(boxes.begin() + j);
          for (int& o : *owner) {
            if (o == static_cast<int>(j)) o = static_cast<int>(i);
            if (o > static_cast<int>(j)) --o;
          }
          merged = true;
          break;
        }
      }
    }
  }
  return boxes;
}

cv::Rect Grow(const cv::Rect& r, int margin, cv::Size bounds) {
  cv::Rect g(r.x - margin, r.y - margin, r.width + 2 * margin, r.height + 2 * margin);
  return g & cv::Rect(0, 0, bounds.width, bounds.height);
}

// Windows for the exemplar fill of the thick components (`thick`, labels in `labels`, bounding
// `boxes` in the same order) and, per component, the index of its window. Each box is grown by a
// margin that grows with it (at least 3 patches, half its longer side). Unless `separate`, grown
// boxes that overlap are merged. With `separate`, components whose pixels come within
// kHoleReach patches of each other form one group, whose window is the bounding box of their
// grown boxes, and groups farther apart keep windows of their own even where the windows
// overlap (InpaintOptions::separate_windows), filled one after another (InpaintImpl).
std::vector<cv::Rect> HoleWindows(const cv::Mat& labels, const std::vector<int>& thick,
                                  const std::vector<cv::Rect>& boxes, int patch_size, bool separate,
                                  std::vector<int>* owner) {
  auto grown = [&](const cv::Rect& b) {
    return Grow(b, std::max(3 * patch_size, std::max(b.width, b.height) / 2), labels.size());
  };
  if (!separate) {
    std::vector<cv::Rect> margins;
    for (const cv::Rect& b : boxes) margins.push_back(grown(b));
    return MergeBoxes(margins, owner);
  }
  cv::Mat mask(labels.size(), CV_8UC1, cv::Scalar(0));
  std::vector<uchar> is_thick(
      static_cast<size_t>(*std::max_element(thick.begin(), thick.end())) + 1, 0);
  for (int i : thick) is_thick[i] = 1;
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    uchar* m = mask.ptr<uchar>(y);
    for (int x = 0; x < labels.cols; ++x) {
      m[x] = l[x] > 0 && l[x] < static_cast<int>(is_thick.size()) && is_thick[l[x]] ? 255 : 0;
    }
  }
  // Components closer than the reach touch once each is grown by half of it.
  cv::Mat near, groups;
  near = DilateDisc(mask, static_cast<int>(std::ceil(kHoleReach * patch_size / 2)));
  cv::connectedComponents(near, groups, 8, CV_32S);
  std::map<int, int> window_of;  // group label -> window index, in the components' order
  std::vector<cv::Rect> windows;
  owner->assign(thick.size(), -1);
  for (size_t k = 0; k < thick.size(); ++k) {
    const cv::Rect& b = boxes[k];
    // A pixel of the component: its group's label.
    cv::Point at(-1, -1);
    for (int y = b.y; y < b.br().y && at.x < 0; ++y) {
      const int* l = labels.ptr<int>(y);
      for (int x = b.x; x < b.br().x; ++x) {
        if (l[x] == thick[k]) {
          at = cv::Point(x, y);
          break;
        }
      }
    }
    const int group = groups.at<int>(at);
    const auto [it, added] = window_of.emplace(group, static_cast<int>(windows.size()));
    if (added) windows.emplace_back();
    (*owner)[k] = it->second;
    windows[it->second] |= grown(b);
  }
  return windows;
}

Status CheckOptions(const InpaintOptions& o) {
  if (o.patch_size < 3 || o.patch_size > 15 || o.patch_size % 2 == 0) {
    return InvalidArgument("inpaint: patch_size is " + std::to_string(o.patch_size) +
                           "; use an odd size from 3 to 15");
  }
  if (o.em_iterations < 1 || o.em_iterations > 20) {
    return InvalidArgument("inpaint: em_iterations is " + std::to_string(o.em_iterations) +
                           "; use 1 to 20");
  }
  if (o.thin_radius < 0 || o.thin_radius > 20) {
    return InvalidArgument("inpaint: thin_radius is " + std::to_string(o.thin_radius) +
                           "; use 0 to 20");
  }
  if (!(o.other_side_vote >= 0 && o.other_side_vote <= 1)) {
    return InvalidArgument("inpaint: other_side_vote is " + std::to_string(o.other_side_vote) +
                           "; use 0 to 1");
  }
  if (o.max_search_pixels < 1000) {
    return InvalidArgument("inpaint: max_search_pixels is " + std::to_string(o.max_search_pixels) +
                           "; use at least 1000");
  }
  return Status::Ok();
}

// Where the outline crossing a hole is a circle's arc around it (a fruit, a plate, a bottle's
// shoulder), the sides in that hole follow the circle: a membrane rounds less than the arc and
// leaves a flat, lid-like top on a round product. Per connected component of `binary`: the outline
// pixels (known `on` pixels with a known `off` 4-neighbour) within the component's size around
// it, fitted with a circle (algebraic least squares); used when they lie on both sides of the
// hole and fit it within kArcFit px (RMS) and on each side (kArcInliers within kArcNear px), and
// the circle's inside agrees with the known sides near the hole (one side inside, at kArcAgree of
// the pixels). `result` holds the membrane's
// sides and is overwritten in such components only.
void RoundOutlinesAcross(const cv::Mat& on, const cv::Mat& off, const cv::Mat& binary,
                         cv::Mat* result) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(binary, labels, stats, centroids, 8, CV_32S);
  const cv::Rect image(cv::Point(0, 0), binary.size());
  for (int i = 1; i < n; ++i) {
    const cv::Rect box(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                       stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
    const int reach = std::max(8, std::max(box.width, box.height) / 2);
    const cv::Rect roi =
        cv::Rect(box.x - reach, box.y - reach, box.width + 2 * reach, box.height + 2 * reach) &
        image;
    // Outline pixels around the hole, and whether they lie on both sides of it (left and right of
    // its middle half, or above and below).
    std::vector<cv::Point2d> points;
    bool left = false, right = false, above = false, below = false;
    for (int y = roi.y + 1; y < roi.br().y - 1; ++y) {
      for (int x = roi.x + 1; x < roi.br().x - 1; ++x) {
        if (!on.at<uchar>(y, x)) continue;
        if (!off.at<uchar>(y - 1, x) && !off.at<uchar>(y + 1, x) && !off.at<uchar>(y, x - 1) &&
            !off.at<uchar>(y, x + 1)) {
          continue;
        }
        points.emplace_back(x, y);
        left |= 2 * x < 2 * box.x + box.width - box.width / 2;
        right |= 2 * x > 2 * box.x + box.width + box.width / 2;
        above |= 2 * y < 2 * box.y + box.height - box.height / 2;
        below |= 2 * y > 2 * box.y + box.height + box.height / 2;
      }
    }
    if (points.size() < 12 || !((left && right) || (above && below))) continue;
    // x² + y² + a x + b y + c = 0 in least squares (Kasa), around the points' mean.
    cv::Point2d mean(0, 0);
    for (const cv::Point2d& p : points) mean += p;
    mean *= 1.0 / points.size();
    cv::Mat a(static_cast<int>(points.size()), 3, CV_64F), rhs(a.rows, 1, CV_64F);
    for (int k = 0; k < a.rows; ++k) {
      const cv::Point2d p = points[k] - mean;
      a.at<double>(k, 0) = p.x;
      a.at<double>(k, 1) = p.y;
      a.at<double>(k, 2) = 1;
      rhs.at<double>(k) = -(p.x * p.x + p.y * p.y);
    }
    cv::Mat solution;
    if (!cv::solve(a, rhs, solution, cv::DECOMP_SVD)) continue;
    const cv::Point2d centre =
        mean + cv::Point2d(-solution.at<double>(0) / 2, -solution.at<double>(1) / 2);
    const double r2 = (solution.at<double>(0) * solution.at<double>(0) +
                       solution.at<double>(1) * solution.at<double>(1)) /
                          4 -
                      solution.at<double>(2);
    if (!(r2 > 0)) continue;
    const double radius = std::sqrt(r2);
    // The arc must fit on both sides of the hole (a circle through one side's outline and a
    // stray piece of the other, the segmenter's bulge around the text, is no arc across it).
    const bool split_x = left && right;
    const double middle = split_x ? box.x + box.width / 2.0 : box.y + box.height / 2.0;
    double error = 0;
    int near[2] = {0, 0}, count[2] = {0, 0};
    for (const cv::Point2d& p : points) {
      const double e = cv::norm(p - centre) - radius;
      error += e * e;
      const int side = (split_x ? p.x : p.y) < middle ? 0 : 1;
      ++count[side];
      near[side] += std::abs(e) <= kArcNear;
    }
    if (std::sqrt(error / points.size()) > kArcFit) continue;
    if (near[0] < kArcInliers * count[0] || near[1] < kArcInliers * count[1]) continue;
    // Which side the circle holds: the known pixels around the hole must agree.
    int agree = 0, total = 0;
    for (int y = roi.y; y < roi.br().y; ++y) {
      for (int x = roi.x; x < roi.br().x; ++x) {
        const bool is_on = on.at<uchar>(y, x) != 0;
        if (!is_on && !off.at<uchar>(y, x)) continue;
        const bool inside = cv::norm(cv::Point2d(x, y) - centre) < radius;
        agree += inside == is_on;
        ++total;
      }
    }
    if (total == 0) continue;
    const double share = static_cast<double>(agree) / total;
    if (share < kArcAgree && share > 1 - kArcAgree) continue;
    const bool inside_is_on = share >= kArcAgree;
    for (int y = box.y; y < box.br().y; ++y) {
      const int* l = labels.ptr<int>(y);
      uchar* out = result->ptr<uchar>(y);
      for (int x = box.x; x < box.br().x; ++x) {
        if (l[x] != i) continue;
        const bool inside = cv::norm(cv::Point2d(x, y) - centre) < radius;
        out[x] = inside == inside_is_on ? 255 : 0;
      }
    }
  }
}

// A side's outline that runs into a hole and out of it again (a caption across an apple's top, a
// fin, a shoulder) is joined across the hole by a smooth curve, as contour completion does: the
// outline's direction where it enters and where it leaves the hole (fitted over kTangentSpan
// outline pixels) gives a cubic Bézier whose handles make it a circle's arc when the two ends lie
// on one (and a straight segment when the directions agree), so the sides inside the hole follow
// the outline's own course, not the membrane's, which flattens a round top or grows a bump where
// the product touched the caption's lower edge. Walked along each contour of `on`: a gap is a run
// of contour pixels bordering the hole between two runs of at least kMinAnchor pixels bordering
// `off` (shorter visible pieces of outline inside the run count as part of the gap, and the curve
// must pass within kGapBitTolerance px of them). Joined only when the outline turns by at most
// kMaxTurn degrees across the gap, both ends head towards each other, and the curve crosses no
// known pixel of `off` farther than kOffTolerance px from `on`. The hole pixels within half the
// gap's chord (at least kMinReach px) of the curve, in hole components the gap borders, take the
// side of the curve they lie on. `labels` are `binary`'s 8-connected components; `result` is
// updated.
void CompleteOutlinesAcross(const cv::Mat& on, const cv::Mat& off, const cv::Mat& binary,
                            const cv::Mat& labels, cv::Mat* result) {
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(on.clone(), contours, cv::RETR_LIST, cv::CHAIN_APPROX_NONE);
  cv::Mat off_far;  // known backdrop pixels farther than kOffTolerance from the product
  {
    cv::Mat to_on;
    cv::distanceTransform(on == 0, to_on, cv::DIST_L2, 3);
    off_far = off & (to_on > kOffTolerance);
  }
  const cv::Rect image(cv::Point(0, 0), binary.size());
  auto at = [&](const cv::Mat& m, cv::Point p) { return image.contains(p) && m.at<uchar>(p); };
  enum Kind : uchar { kOther, kOutline, kHole };
  for (const std::vector<cv::Point>& contour : contours) {
    const int n = static_cast<int>(contour.size());
    if (n < 2 * kMinAnchor + 2) continue;
    std::vector<uchar> kind(n, kOther);
    bool any_hole = false;
    for (int i = 0; i < n; ++i) {
      const cv::Point p = contour[i];
      const cv::Point four[4] = {p + cv::Point(1, 0), p - cv::Point(1, 0), p + cv::Point(0, 1),
                                 p - cv::Point(0, 1)};
      bool to_off = false, to_hole = false;
      for (const cv::Point& q : four) {
        to_off |= at(off, q);
        to_hole |= at(binary, q);
      }
      kind[i] = to_off ? kOutline : to_hole ? kHole : kOther;
      any_hole |= kind[i] == kHole;
    }
    if (!any_hole) continue;
    // Runs of one kind, around the closed contour, starting where a run starts.
    int start = 0;
    while (start < n && kind[start] == kind[(start + n - 1) % n]) ++start;
    if (start == n) continue;
    struct Run {
      int first, length;
      uchar kind;
    };
    std::vector<Run> runs;
    for (int k = 0; k < n;) {
      const int i = (start + k) % n;
      int length = 1;
      while (k + length < n && kind[(i + length) % n] == kind[i]) ++length;
      runs.push_back({i, length, kind[i]});
      k += length;
    }
    const int m = static_cast<int>(runs.size());
    auto anchor = [&](int r) { return runs[r].kind == kOutline && runs[r].length >= kMinAnchor; };
    for (int r = 0; r < m; ++r) {
      // A gap starts after anchor run r: hole runs and short outline runs up to the next anchor.
      if (!anchor(r)) continue;
      int next = (r + 1) % m, holes = 0;
      bool other = false;
      std::vector<int> bits;   // short visible outline runs inside the gap
      while (!anchor(next)) {  // ends at r itself when r is the only anchor
        if (runs[next].kind == kHole) ++holes;
        if (runs[next].kind == kOther) other = true;
        if (runs[next].kind == kOutline) bits.push_back(next);
        next = (next + 1) % m;
      }
      if (other || holes == 0) continue;
      // The ends: the last pixel of run r and the first of run `next`, with the outline's
      // direction there, fitted over the anchor runs (heading into the gap at both ends).
      const Run& before = runs[r];
      const Run& after = runs[next];
      auto point = [&](int i) { return cv::Point2d(contour[((i % n) + n) % n]); };
      const int a_index = before.first + before.length - 1, b_index = after.first;
      const cv::Point2d a = point(a_index), b = point(b_index);
      auto direction = [&](int end, int step, int span) {
        // Least squares parabola through the span's pixels, x and y against the arc length from
        // `end` (so the outline's bending over the span does not tilt the direction at its end),
        // differentiated at `end`; oriented from the far pixel to `end`.
        cv::Matx33d normal = cv::Matx33d::zeros();
        cv::Vec3d rx(0, 0, 0), ry(0, 0, 0);
        double arc = 0;
        for (int k = 0; k < span; ++k) {
          if (k > 0) arc -= cv::norm(point(end - step * k) - point(end - step * (k - 1)));
          const cv::Point2d p = point(end - step * k) - point(end);
          const cv::Vec3d basis(1, arc, arc * arc);
          normal += basis * basis.t();
          rx += p.x * basis;
          ry += p.y * basis;
        }
        const cv::Vec3d fx = normal.solve(rx, cv::DECOMP_SVD);
        const cv::Vec3d fy = normal.solve(ry, cv::DECOMP_SVD);
        cv::Point2d t(fx[1], fy[1]);
        const double length = cv::norm(t);
        return length > 1e-9 ? t * (1 / length) : cv::Point2d(0, 0);
      };
      const cv::Point2d ta = direction(a_index, 1, std::min(before.length, kTangentSpan));
      const cv::Point2d tb = -direction(b_index, -1, std::min(after.length, kTangentSpan));
      const cv::Point2d chord_vector = b - a;
      const double chord = cv::norm(chord_vector);
      if (chord < 2) continue;
      const cv::Point2d u = chord_vector * (1 / chord);
      if (ta.dot(u) <= 0 || tb.dot(u) <= 0) continue;  // an end turns away from the other
      const double turn = std::acos(std::clamp(ta.dot(tb), -1.0, 1.0));
      if (turn > kMaxTurn * CV_PI / 180) continue;
      // Handles of a circular arc turning by `turn` over the chord (chord / 3 when straight),
      // shortened step by step (towards the chord itself) while the curve crosses the other
      // side's known pixels or misses the outline seen inside the gap: a flat top under a caption
      // is not the arc its shoulders suggest.
      const double arc_handle =
          turn < 1e-3 ? chord / 3 : 2.0 / 3 * chord * std::tan(turn / 4) / std::sin(turn / 2);
      const int span_a = std::min(before.length, kTangentSpan);
      const int span_b = std::min(after.length, kTangentSpan);
      const int samples = static_cast<int>(std::ceil(3 * chord)) + 8;
      // The curve, extended at both ends along the anchors (so that hole pixels beside an end
      // are judged by the outline there), with each point's direction.
      std::vector<cv::Point2d> curve, along;
      bool found = false;
      for (int step = 0; step < kHandleSteps && !found; ++step) {
        const double handle = arc_handle * (kHandleSteps - 1 - step) / (kHandleSteps - 1);
        const cv::Point2d c1 = a + ta * handle, c2 = b - tb * handle;
        curve.clear();
        along.clear();
        for (int k = span_a - 1; k >= 1; --k) {
          curve.push_back(point(a_index - k));
          along.push_back(ta);
        }
        bool crossing = false;
        for (int k = 0; k <= samples; ++k) {
          const double t = static_cast<double>(k) / samples, s = 1 - t;
          const cv::Point2d p =
              s * s * s * a + 3 * s * s * t * c1 + 3 * s * t * t * c2 + t * t * t * b;
          cv::Point2d d = 3 * s * s * (c1 - a) + 6 * s * t * (c2 - c1) + 3 * t * t * (b - c2);
          const double length = cv::norm(d);
          d = length > 1e-9 ? d * (1 / length) : u;
          curve.push_back(p);
          along.push_back(d);
          crossing |= at(off_far, cv::Point(cvRound(p.x), cvRound(p.y)));
        }
        for (int k = 1; k < span_b; ++k) {
          curve.push_back(point(b_index + k));
          along.push_back(tb);
        }
        if (crossing) continue;
        // Visible pieces of the outline inside the gap must lie on the curve.
        bool agrees = true;
        for (int bit : bits) {
          for (int k = 0; k < runs[bit].length && agrees; ++k) {
            const cv::Point2d p = point(runs[bit].first + k);
            double nearest = 1e9;
            for (const cv::Point2d& q : curve) nearest = std::min(nearest, cv::norm(p - q));
            agrees = nearest <= kGapBitTolerance;
          }
        }
        found = agrees;
      }
      if (!found) continue;
      // Which side of the curve `on` lies: the anchors' pixels are on it, their `off`
      // neighbours beyond it.
      double vote = 0;
      for (const Run* run : {&before, &after}) {
        const cv::Point2d t = run == &before ? ta : tb;
        const int span = std::min(run->length, kTangentSpan);
        const int from = run == &before ? run->first + run->length - span : run->first;
        for (int k = 0; k < span; ++k) {
          const cv::Point p = contour[(from + k) % n];
          for (const cv::Point& d :
               {cv::Point(1, 0), cv::Point(-1, 0), cv::Point(0, 1), cv::Point(0, -1)}) {
            if (at(off, p + d)) vote += t.x * d.y - t.y * d.x;
          }
        }
      }
      if (vote == 0) continue;
      const double off_sign = vote > 0 ? 1 : -1;
      // The hole components the gap borders.
      std::vector<int> touched;
      for (int k = a_index + 1; k < a_index + 1 + ((b_index - a_index - 1 + n) % n); ++k) {
        const cv::Point p = contour[k % n];
        for (int dy = -1; dy <= 1; ++dy) {
          for (int dx = -1; dx <= 1; ++dx) {
            const cv::Point q = p + cv::Point(dx, dy);
            if (!at(binary, q)) continue;
            const int label = labels.at<int>(q);
            if (std::find(touched.begin(), touched.end(), label) == touched.end()) {
              touched.push_back(label);
            }
          }
        }
      }
      // Each such hole pixel near the curve takes the side of the curve's nearest point.
      const int reach = std::max(kMinReach, cvRound(chord / 2));
      std::vector<cv::Point2f> as_float(curve.begin(), curve.end());
      cv::Rect box = cv::boundingRect(as_float);
      box = cv::Rect(box.x - reach, box.y - reach, box.width + 2 * reach, box.height + 2 * reach) &
            image;
      // Nearest curve point per pixel: the curve drawn point by point, then a distance
      // transform that labels each pixel with its nearest drawn point.
      cv::Mat drawn(box.size(), CV_8UC1, cv::Scalar(255));
      cv::Mat index(box.size(), CV_32SC1, cv::Scalar(-1));
      for (size_t k = 0; k < curve.size(); ++k) {
        const cv::Point p(cvRound(curve[k].x) - box.x, cvRound(curve[k].y) - box.y);
        if (!cv::Rect(cv::Point(0, 0), box.size()).contains(p)) continue;
        drawn.at<uchar>(p) = 0;
        if (index.at<int>(p) < 0) index.at<int>(p) = static_cast<int>(k);
      }
      cv::Mat distance, nearest;
      cv::distanceTransform(drawn, distance, nearest, cv::DIST_L2, cv::DIST_MASK_5,
                            cv::DIST_LABEL_PIXEL);
      std::vector<int> of_label(box.area() + 1, -1);
      for (int y = 0; y < box.height; ++y) {
        for (int x = 0; x < box.width; ++x) {
          if (!drawn.at<uchar>(y, x)) of_label[nearest.at<int>(y, x)] = index.at<int>(y, x);
        }
      }
      const int last = static_cast<int>(curve.size()) - 1;
      for (int y = 0; y < box.height; ++y) {
        for (int x = 0; x < box.width; ++x) {
          const cv::Point p(box.x + x, box.y + y);
          if (!binary.at<uchar>(p) || distance.at<float>(y, x) > reach) continue;
          if (std::find(touched.begin(), touched.end(), labels.at<int>(p)) == touched.end()) {
            continue;
          }
          const int k = of_label[nearest.at<int>(y, x)];
          if (k <= 0 || k >= last) continue;  // beyond an end: the curve says nothing
          const cv::Point2d d = cv::Point2d(p) - curve[k];
          const double side = along[k].x * d.y - along[k].y * d.x;
          result->at<uchar>(p) = side * off_sign > 0 ? 0 : 255;
        }
      }
    }
  }
}

// A side's outline that runs into a hole and on through the image's border (a dress's sides under
// a bar along the photo's bottom edge) has no other end to join (CompleteOutlinesAcross): it goes
// on straight to the border, along the line fitted to its last kBorderSpan outline pixels
// (bordering `off`) before the hole, as the product's sides run; an end that is not straight
// there (kBorderStraight: a fingertip, a round hem) sets no course. Its ray is followed while it
// stays in the hole; it counts only if it leaves the image, and only beside the product's other
// side doing the same (the nearest such ray on its `on` side, in the same hole, within about 30
// degrees, with `off` beyond it): a model's arm running into a badge does not go on alone. The
// hole pixels of that component within kBorderReach px of a ray take the side of it that its
// outline's `off` neighbours are not on (a pixel near two rays: the nearer one's).
// `labels` are `binary`'s 8-connected components; `result` is updated.
void ContinueOutlinesToBorder(const cv::Mat& on, const cv::Mat& off, const cv::Mat& binary,
                              const cv::Mat& labels, cv::Mat* result) {
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(on.clone(), contours, cv::RETR_LIST, cv::CHAIN_APPROX_NONE);
  const cv::Rect image(cv::Point(0, 0), binary.size());
  auto at = [&](const cv::Mat& m, cv::Point p) { return image.contains(p) && m.at<uchar>(p); };
  cv::Mat nearest(binary.size(), CV_32FC1, cv::Scalar(kBorderReach + 1));
  struct Ray {
    cv::Point2d start, direction;
    double length;  // to the border
    double off;     // +1: `off` lies where direction x (p - start) > 0; -1: the other way
    int label;      // the hole component
  };
  std::vector<Ray> rays;
  for (const std::vector<cv::Point>& contour : contours) {
    const int n = static_cast<int>(contour.size());
    if (n < kMinAnchor + 2) continue;
    // 1: outline (borders `off`), 2: borders the hole only, 0: neither.
    std::vector<uchar> kind(n, 0);
    for (int i = 0; i < n; ++i) {
      const cv::Point p = contour[i];
      bool to_off = false, to_hole = false;
      for (const cv::Point d :
           {cv::Point(1, 0), cv::Point(-1, 0), cv::Point(0, 1), cv::Point(0, -1)}) {
        to_off |= at(off, p + d);
        to_hole |= at(binary, p + d);
      }
      kind[i] = to_off ? 1 : to_hole ? 2 : 0;
    }
    auto point = [&](int i) { return contour[((i % n) + n) % n]; };
    for (int i = 0; i < n; ++i) {
      for (const int step : {1, -1}) {
        // The outline's last pixel before the hole, walking in `step`'s direction.
        if (kind[i] != 1 || kind[((i + step) % n + n) % n] != 2) continue;
        int length = 1;
        while (length < kBorderSpan && kind[((i - step * length) % n + n) % n] == 1) ++length;
        if (length < kBorderSpan) continue;
        // Direction: the line fitted to the span, oriented towards its end; a curved end (a
        // fingertip, a round hem) sets no course.
        std::vector<cv::Point2f> span;
        for (int k = 0; k < length; ++k) span.emplace_back(point(i - step * k));
        cv::Vec4f line;
        cv::fitLine(span, line, cv::DIST_L2, 0, 0.01, 0.01);
        cv::Point2d t(line[0], line[1]);
        const cv::Point2d mean(line[2], line[3]);
        double deviation = 0;
        for (const cv::Point2f& p : span) {
          const cv::Point2d d = cv::Point2d(p) - mean;
          deviation += std::pow(t.x * d.y - t.y * d.x, 2);
        }
        if (std::sqrt(deviation / length) > kBorderStraight) continue;
        if (t.dot(cv::Point2d(point(i)) - mean) < 0) t = -t;
        // Follow the ray through the hole.
        const cv::Point2d a(point(i));
        cv::Point last(-1, -1);
        int label = 0;
        double travelled = 0;
        bool leaves = false;
        for (double s = 1;; s += 0.5) {
          const cv::Point q(cvRound(a.x + t.x * s), cvRound(a.y + t.y * s));
          if (!image.contains(q)) {
            leaves = true;
            break;
          }
          if (!binary.at<uchar>(q)) {
            if (travelled > 0) break;  // out of the hole into known pixels: not to the border
            if (s > 2) break;          // does not head into the hole
            continue;
          }
          if (label == 0) label = labels.at<int>(q);
          travelled = s;
          last = q;
        }
        if (!leaves || label == 0 || travelled < kMinAnchor) continue;
        // Which side of the ray `off` lies: the outline's `off` neighbours, as in
        // CompleteOutlinesAcross.
        double vote = 0;
        for (int k = 0; k < length; ++k) {
          const cv::Point p = point(i - step * k);
          for (const cv::Point d :
               {cv::Point(1, 0), cv::Point(-1, 0), cv::Point(0, 1), cv::Point(0, -1)}) {
            if (at(off, p + d)) vote += t.x * d.y - t.y * d.x;
          }
        }
        if (vote == 0) continue;
        rays.push_back({a, t, travelled + 1, vote > 0 ? 1.0 : -1.0, label});
      }
    }
  }
  // A side goes on only beside its product's other side going on too (a model's arm running
  // into a badge over a bar does not): the nearest ray on its `on` side, in the same hole,
  // roughly parallel, must have `off` on its far side.
  for (const Ray& ray : rays) {
    const cv::Point2d to_on(-ray.off * -ray.direction.y, -ray.off * ray.direction.x);
    const Ray* partner = nullptr;
    double closest = 1e9;
    for (const Ray& other : rays) {
      const double gap = (other.start - ray.start).dot(to_on);
      if (&other == &ray || other.label != ray.label || gap <= 0 || gap >= closest) continue;
      closest = gap;
      partner = &other;
    }
    if (partner == nullptr || partner->direction.dot(ray.direction) < kBorderParallel) continue;
    const cv::Point2d partner_to_on(-partner->off * -partner->direction.y,
                                    -partner->off * partner->direction.x);
    if (partner_to_on.dot(to_on) >= 0) continue;
    const cv::Point2d end = ray.start + ray.direction * ray.length;
    cv::Rect box = cv::boundingRect(std::vector<cv::Point>{ray.start, end});
    box = cv::Rect(box.x - kBorderReach, box.y - kBorderReach, box.width + 2 * kBorderReach,
                   box.height + 2 * kBorderReach) &
          image;
    for (int y = box.y; y < box.br().y; ++y) {
      for (int x = box.x; x < box.br().x; ++x) {
        if (!binary.at<uchar>(y, x) || labels.at<int>(y, x) != ray.label) continue;
        const cv::Point2d d = cv::Point2d(x, y) - ray.start;
        const double along = d.dot(ray.direction);
        if (along < 0 || along > ray.length) continue;
        const double across = ray.direction.x * d.y - ray.direction.y * d.x;
        float& best = nearest.at<float>(y, x);
        if (std::abs(across) >= best) continue;
        best = static_cast<float>(std::abs(across));
        result->at<uchar>(y, x) = across * ray.off > 0 ? 0 : 255;
      }
    }
  }
}

// A piece of either side that lies mostly inside the hole continues nothing around it: a
// membrane's bump around a speck of the segmenter's side left between the glyphs, or a circle
// fitted to a removed disc's rim. It goes to the other side, so a hole in a backdrop is not
// filled from the product (nor a hole in the product from its backdrop). A piece continues its
// side when at least kContinuingShare of it lies outside the hole. `known` is nonzero outside
// the hole; `sides` (255 / 0) is updated.
void KeepSidesThatContinue(const cv::Mat& known, cv::Mat* sides) {
  for (const bool on : {true, false}) {
    const cv::Mat side = on ? *sides != 0 : *sides == 0;
    cv::Mat labels;
    const int n = cv::connectedComponents(side, labels, 8, CV_32S);
    std::vector<int> outside(n, 0), inside(n, 0);
    for (int y = 0; y < labels.rows; ++y) {
      const int* l = labels.ptr<int>(y);
      const uchar* k = known.ptr<uchar>(y);
      for (int x = 0; x < labels.cols; ++x) ++(k[x] ? outside : inside)[l[x]];
    }
    for (int y = 0; y < labels.rows; ++y) {
      const int* l = labels.ptr<int>(y);
      uchar* s = sides->ptr<uchar>(y);
      for (int x = 0; x < labels.cols; ++x) {
        if (l[x] > 0 && outside[l[x]] < kContinuingShare * (outside[l[x]] + inside[l[x]])) {
          s[x] = on ? 0 : 255;
        }
      }
    }
  }
}

// The sides inside the hole, continued from around it: on the pixels bordering the hole, the
// signed distance to the other side's nearest pixel outside the hole (positive on the nonzero
// side; the map under the hole is not read) is filled smoothly into the hole (push-pull, a
// membrane), and its sign gives the side. A product's outline crossing the hole goes on across it
// as it ran at the hole's edge, whatever the side map said under the removed text (a segmenter
// sees the text there); a hole that only one side borders stays that side. Where the outline
// enters and leaves the hole, a curve joins it across (CompleteOutlinesAcross), and a circle where
// one fits (RoundOutlinesAcross). Returns 255 / 0.
cv::Mat ContinueSides(const cv::Mat& sides, const cv::Mat& binary) {
  const cv::Mat known = binary == 0;
  const cv::Mat on = (sides != 0) & known, off = (sides == 0) & known;
  cv::Mat to_off, to_on;
  cv::distanceTransform(off == 0, to_off, cv::DIST_L2, 3);
  cv::distanceTransform(on == 0, to_on, cv::DIST_L2, 3);
  // Stored around 128, where PushPullFill leans when its weights are thin: there "no side".
  const cv::Mat signed_distance = to_off - to_on + 128;
  cv::Mat border;
  cv::dilate(binary, border, cv::getStructuringElement(cv::MORPH_RECT, {5, 5}));
  border.setTo(0, binary);
  cv::Mat weight;
  border.convertTo(weight, CV_32FC1, 1 / 255.0);
  cv::Mat three;
  cv::merge(std::vector<cv::Mat>(3, signed_distance), three);
  cv::Mat filled = PushPullFill(three, weight, kResidualGain), channels[3];
  cv::split(filled, channels);
  cv::Mat result = (sides != 0) & known;
  cv::Mat(channels[0] > 128).copyTo(result, binary);
  cv::Mat labels;
  cv::connectedComponents(binary, labels, 8, CV_32S);
  CompleteOutlinesAcross(on, off, binary, labels, &result);
  ContinueOutlinesToBorder(on, off, binary, labels, &result);
  RoundOutlinesAcross(on, off, binary, &result);
  KeepSidesThatContinue(known, &result);
  return result;
}

// Exemplar fill of the pixels of `out` whose label (`labels`, CV_32SC1) has state 1 in `state`,
// in window `w`, grown (up to the whole image) until it holds enough source at every level.
// Labels of state 2 are holes filled later: neither read as known nor written.
// `foreign`: empty, or at the image's size (Level::foreign). Writes only those pixels of `out`.
void FillInWindow(const cv::Mat& labels, const std::vector<uchar>& state, cv::Rect w,
                  const cv::Mat& binary, const cv::Mat& sides, const cv::Mat& foreign,
                  const InpaintOptions& options, uint64_t seed, cv::Mat& out) {
  const int r = options.patch_size / 2;
  cv::Mat hole, mine, img;
  std::vector<Level> levels;
  for (;;) {
    hole = cv::Mat(w.size(), CV_8UC1, cv::Scalar(0));
    mine = cv::Mat(w.size(), CV_8UC1, cv::Scalar(0));
    for (int y = 0; y < w.height; ++y) {
      const int* l = labels.ptr<int>(w.y + y) + w.x;
      uchar* h = hole.ptr<uchar>(y);
      uchar* m = mine.ptr<uchar>(y);
      for (int x = 0; x < w.width; ++x) {
        h[x] = state[l[x]] != 0 ? 255 : 0;
        m[x] = state[l[x]] == 1 ? 255 : 0;
      }
    }
    img = out(w).clone();
    levels = BuildPyramid(img, hole, binary(w), sides.empty() ? cv::Mat() : sides(w).clone(),
                          foreign.empty() ? cv::Mat() : foreign(w).clone(), r,
                          options.max_search_pixels);
    if (SourceRatio(levels, r) >= kSourcePerHolePixel || w.size() == out.size()) break;
    w = Grow(w, std::max(w.width, w.height) / 2, out.size());
  }
  FillWindow(levels, options, seed);
  img.copyTo(out(w), mine);
}

// How a set of pixels spreads over colours, in CIELAB (OpenCV's 8-bit scale) cells of 16 levels
// of L and 8 of a and b: for each cell, the share of the pixels in the cells around it (one cell
// each way: about +-12 L* and +-12 in a* and b*).
class ColourShares {
 public:
  static constexpr int kL = 16, kAB = 32, kCells = kL * kAB * kAB;
  static int Cell(const cv::Vec3b& c) {
    return ((c[0] >> 4) * kAB + (c[1] >> 3)) * kAB + (c[2] >> 3);
  }

  // The pixels of `lab` where `where` (CV_8UC1, same size) is nonzero.
  ColourShares(const cv::Mat& lab, const cv::Mat& where) : share_(kCells, 0.0f) {
    std::vector<int> count(kCells, 0);
    for (int y = 0; y < where.rows; ++y) {
      const uchar* m = where.ptr<uchar>(y);
      const cv::Vec3b* c = lab.ptr<cv::Vec3b>(y);
      for (int x = 0; x < where.cols; ++x) {
        if (m[x]) {
          ++count[Cell(c[x])];
          ++total_;
        }
      }
    }
    if (total_ == 0) return;
    for (int c = 0; c < kCells; ++c) share_[c] = static_cast<float>(NearCount(count, c)) / total_;
  }
  // The pixels in `count` (one entry per cell) in the cells around `cell` (one cell each way).
  static int NearCount(const std::vector<int>& count, int cell) {
    const int l = cell / (kAB * kAB), a = (cell / kAB) % kAB, b = cell % kAB;
    int sum = 0;
    for (int dl = std::max(0, l - 1); dl <= std::min(kL - 1, l + 1); ++dl) {
      for (int da = std::max(0, a - 1); da <= std::min(kAB - 1, a + 1); ++da) {
        for (int db = std::max(0, b - 1); db <= std::min(kAB - 1, b + 1); ++db) {
          sum += count[(dl * kAB + da) * kAB + db];
        }
      }
    }
    return sum;
  }
  float At(int cell) const { return share_[cell]; }
  int total() const { return total_; }

 private:
  std::vector<float> share_;
  int total_ = 0;
};

// The colours that belong in a hole: those near which at least kRingShare of the ring of known
// pixels around it lies (a few pixels of another object touching the ring lend it nothing).
class RingColours {
 public:
  explicit RingColours(const ColourShares& ring) : belongs_(ColourShares::kCells, 0) {
    for (int c = 0; c < ColourShares::kCells; ++c) belongs_[c] = ring.At(c) >= kRingShare ? 1 : 0;
  }
  bool Has(const cv::Vec3b& lab) const { return belongs_[ColourShares::Cell(lab)] != 0; }

 private:
  std::vector<uchar> belongs_;
};

// The ring's colours per side (index: SideAt) around one hole: the known pixels within `band` px
// of it (`component`, CV_8UC1 in `roi` of the image), those of each side apart when that side
// has at least kMinRingPixels of them. Empty when the ring is smaller than that.
std::vector<RingColours> RingModels(const cv::Mat& lab, const cv::Mat& component, cv::Rect roi,
                                    int band, const cv::Mat& binary, const cv::Mat& sides) {
  cv::Mat ring = DilateDisc(component, band);
  ring.setTo(0, binary(roi));
  if (cv::countNonZero(ring) < kMinRingPixels) return {};
  if (sides.empty()) return {RingColours(ColourShares(lab(roi), ring))};
  std::vector<RingColours> models;
  for (const bool on : {false, true}) {
    const cv::Mat of_side = ring & (on ? sides(roi) != 0 : sides(roi) == 0);
    models.emplace_back(
        ColourShares(lab(roi), cv::countNonZero(of_side) >= kMinRingPixels ? of_side : ring));
  }
  return models;
}

// Share of the pixels nonzero in `where` (CV_8UC1 in `roi`) whose colour in `lab` (the roi's
// CIELAB pixels) does not belong on their side.
double ForeignShare(const std::vector<RingColours>& models, const cv::Mat& lab,
                    const cv::Mat& where, cv::Rect roi, const cv::Mat& sides) {
  int foreign = 0, total = 0;
  for (int y = 0; y < where.rows; ++y) {
    const uchar* m = where.ptr<uchar>(y);
    const cv::Vec3b* c = lab.ptr<cv::Vec3b>(y);
    for (int x = 0; x < where.cols; ++x) {
      if (!m[x]) continue;
      const int s = models.size() == 1 ? 0 : SideAt(sides, cv::Point(roi.x + x, roi.y + y));
      foreign += models[s].Has(c[x]) ? 0 : 1;
      ++total;
    }
  }
  return total > 0 ? static_cast<double>(foreign) / total : 0.0;
}

// 255 where a pixel's CIELAB colour (`lab`) is not its side's own (`own(side, colour)`, the side
// by SideAt), over the whole image: the sources a refill may not take.
template <typename Own>
cv::Mat ForeignPixels(const cv::Mat& lab, const cv::Mat& sides, Own own) {
  cv::Mat foreign(lab.size(), CV_8UC1, cv::Scalar(0));
  for (int y = 0; y < lab.rows; ++y) {
    const cv::Vec3b* c = lab.ptr<cv::Vec3b>(y);
    uchar* f = foreign.ptr<uchar>(y);
    for (int x = 0; x < lab.cols; ++x) f[x] = own(SideAt(sides, {x, y}), c[x]) ? 0 : 255;
  }
  return foreign;
}

// The window a refill of the hole in `box` searches for sources.
cv::Rect RefillWindow(cv::Rect box, int patch_size, cv::Size image) {
  return Grow(box, std::max(3 * patch_size, std::max(box.width, box.height) / 2), image);
}

// A large hole filled by exemplar can take pieces of another object that its window reaches (the
// flatbread beside a griddle pasted into the blue poster behind it, the dress's dots in the road
// below it), because a patch of that object matched some pixels at the hole's edge. What
// surrounds the hole says what belongs in it (RingColours, from the known pixels within `band` px,
// per side): when more than kForeignFill of the fill of component `label` (in `box`) does not,
// the component is filled again from source patches in colours that belong only (at most
// kForeignInPatch foreign), and the new fill is kept when at most kRefillGain of the foreign
// share is left. `lab`: the input image in CIELAB. Writes only the component's pixels of `out`.
void RefillForeign(const cv::Mat& labels, int label, cv::Rect box, int band, const cv::Mat& binary,
                   const cv::Mat& sides, const cv::Mat& lab, const InpaintOptions& options,
                   cv::Mat& out) {
  const cv::Rect roi = Grow(box, band + 1, out.size());
  const cv::Mat component = labels(roi) == label;
  // The fill's colours once its grain is gone (a 5x5 median): a copied grain's rarer values
  // (KeepSourceGrain) are no other object's colours; a pasted piece of one is larger.
  auto filled = [&]() {
    cv::Mat f;
    cv::medianBlur(out(roi), f, 5);
    cv::cvtColor(f, f, cv::COLOR_BGR2Lab);
    return f;
  };
  const std::vector<RingColours> models = RingModels(lab, component, roi, band, binary, sides);
  if (models.empty()) return;
  const double before = ForeignShare(models, filled(), component, roi, sides);
  if (before <= kForeignFill ||
      before * cv::countNonZero(component) < options.patch_size * options.patch_size) {
    return;
  }
  // Known pixels in colours that do not belong on their side, over the whole image (the window
  // may grow).
  const cv::Mat foreign = ForeignPixels(lab, sides, [&](int side, const cv::Vec3b& c) {
    return models[models.size() == 1 ? 0 : side].Has(c);
  });
  const cv::Mat kept = out(roi).clone();
  std::vector<uchar> mine(label + 1, 0);
  mine[label] = 1;
  FillInWindow(labels, mine, RefillWindow(box, options.patch_size, out.size()), binary, sides,
               foreign, options, MixSeed(options.seed, label, 0xD44, 0), out);
  const double after = ForeignShare(models, filled(), component, roi, sides);
  if (after > kRefillGain * before) kept.copyTo(out(roi), component);
}

// The ring's colours where it holds them: a piece of another object that touches the ring on a
// short stretch (the flatbread below a poster's caption band) lends the ring its colours as a
// whole, so RingColours passes its pieces pasted anywhere in the hole. Here the ring, per side, is
// cut into square sections `span` px wide; a fill pixel is judged by the sections around (3x3)
// the one holding the ring pixel nearest it. Sections with fewer than kMinRingPixels ring pixels
// of that side around them judge nothing.
class SectionColours {
 public:
  // `ring`: CV_8UC1 in `roi` of the image (`lab`, the roi's CIELAB pixels); `sides`: the image's
  // side map or empty.
  SectionColours(const cv::Mat& lab, const cv::Mat& ring, cv::Rect roi, const cv::Mat& sides,
                 int span)
      : span_(span),
        tiles_x_((ring.cols + span - 1) / span),
        tiles_y_((ring.rows + span - 1) / span),
        counts_(2 * tiles_x_ * tiles_y_),
        pooled_(2 * tiles_x_ * tiles_y_) {
    for (int y = 0; y < ring.rows; ++y) {
      const uchar* m = ring.ptr<uchar>(y);
      const cv::Vec3b* c = lab.ptr<cv::Vec3b>(y);
      for (int x = 0; x < ring.cols; ++x) {
        if (!m[x]) continue;
        std::vector<int>& count =
            counts_[Index({x / span_, y / span_}, SideAt(sides, {roi.x + x, roi.y + y}))];
        if (count.empty()) count.assign(ColourShares::kCells + 1, 0);
        ++count[ColourShares::Cell(c[x])];
        ++count[ColourShares::kCells];
      }
    }
    cv::Mat nearest_label;
    cv::Mat off = ring == 0, distance;
    cv::distanceTransform(off, distance, nearest_label, cv::DIST_L2, 3, cv::DIST_LABEL_PIXEL);
    nearest_label_ = nearest_label;
    std::vector<cv::Point> points;
    cv::findNonZero(ring, points);
    position_.assign(points.size() + 1, {0, 0});
    for (const cv::Point& p : points) {
      const int l = nearest_label_.at<int>(p);
      if (l >= 0 && l < static_cast<int>(position_.size())) position_[l] = p;
    }
  }

  // The section of the ring pixel nearest `p` (in the roi).
  cv::Point NearestTile(cv::Point p) const {
    const int l = nearest_label_.at<int>(p);
    const cv::Point q = l >= 0 && l < static_cast<int>(position_.size()) ? position_[l] : p;
    return {q.x / span_, q.y / span_};
  }

  // Whether colour `c` (CIELAB) belongs on side `s` near section `tile`.
  bool Has(const cv::Vec3b& c, cv::Point tile, int s) {
    const std::vector<int>& pool = Pooled(tile, s);
    if (pool.empty() || pool[ColourShares::kCells] < kMinRingPixels) return true;
    return ColourShares::NearCount(pool, ColourShares::Cell(c)) >=
           kRingShare * pool[ColourShares::kCells];
  }

  // The counts of side `s` pooled over the sections around every tile nonzero in `tiles`
  // (tiles_x x tiles_y), last entry the total.
  std::vector<int> Pool(const std::vector<uchar>& tiles, int s) const {
    std::vector<int> pool(ColourShares::kCells + 1, 0);
    std::vector<uchar> taken(tiles.size(), 0);
    for (int ty = 0; ty < tiles_y_; ++ty) {
      for (int tx = 0; tx < tiles_x_; ++tx) {
        if (!tiles[ty * tiles_x_ + tx]) continue;
        for (int y = std::max(0, ty - 1); y <= std::min(tiles_y_ - 1, ty + 1); ++y) {
          for (int x = std::max(0, tx - 1); x <= std::min(tiles_x_ - 1, tx + 1); ++x) {
            taken[y * tiles_x_ + x] = 1;
          }
        }
      }
    }
    for (size_t t = 0; t < taken.size(); ++t) {
      const std::vector<int>& count = counts_[2 * t + s];
      if (!taken[t] || count.empty()) continue;
      for (size_t k = 0; k < pool.size(); ++k) pool[k] += count[k];
    }
    return pool;
  }

  int tiles_x() const { return tiles_x_; }
  int tiles_y() const { return tiles_y_; }

 private:
  int Index(cv::Point tile, int s) const { return 2 * (tile.y * tiles_x_ + tile.x) + s; }

  const std::vector<int>& Pooled(cv::Point tile, int s) {
    std::vector<int>& pool = pooled_[Index(tile, s)];
    if (pool.empty()) {
      std::vector<uchar> one(tiles_x_ * tiles_y_, 0);
      one[tile.y * tiles_x_ + tile.x] = 1;
      pool = Pool(one, s);
    }
    return pool;
  }

  int span_, tiles_x_, tiles_y_;
  std::vector<std::vector<int>> counts_;  // per section and side: pixels per cell, then the total
  std::vector<std::vector<int>> pooled_;  // per section and side: counts_ of the 3x3 around it
  cv::Mat nearest_label_;                 // CV_32SC1: label of the nearest ring pixel
  std::vector<cv::Point> position_;       // per label: that ring pixel
};

// A piece of another object pasted far from where that object touches the hole's ring (the
// flatbread below a poster's caption band, in the blue at the band's other end): its colours are
// the ring's (RingColours) but not the ring's near it (SectionColours, sections kSectionSpan
// bands wide). When such pieces (out of place after a 5x5 median, in blobs of at least a patch's
// area) make more than kForeignFill of component `label`'s fill, they (grown by half a patch,
// within the component) are filled again from sources in the colours the sections around them
// hold (at most kForeignInPatch foreign), kept when at most kRefillGain of what was out of place
// is left. `labels` is borrowed for the refill (a label n, one past the last, marks the pieces)
// and left as it was. Writes only the component's pixels of `out`.
void RefillOutOfPlace(cv::Mat& labels, int n, int label, cv::Rect box, int band,
                      const cv::Mat& binary, const cv::Mat& sides, const cv::Mat& lab,
                      const InpaintOptions& options, cv::Mat& out) {
  const cv::Rect roi = Grow(box, band + 1, out.size());
  const cv::Mat component = labels(roi) == label;
  cv::Mat ring = DilateDisc(component, band);
  ring.setTo(0, binary(roi));
  if (cv::countNonZero(ring) < kMinRingPixels) return;
  SectionColours sections(lab(roi), ring, roi, sides, kSectionSpan * band);
  auto out_of_place = [&]() {
    cv::Mat f;
    cv::medianBlur(out(roi), f, 5);
    cv::cvtColor(f, f, cv::COLOR_BGR2Lab);
    cv::Mat away(roi.size(), CV_8UC1, cv::Scalar(0));
    for (int y = 0; y < roi.height; ++y) {
      const uchar* m = component.ptr<uchar>(y);
      const cv::Vec3b* c = f.ptr<cv::Vec3b>(y);
      uchar* a = away.ptr<uchar>(y);
      for (int x = 0; x < roi.width; ++x) {
        if (!m[x]) continue;
        const int s = SideAt(sides, {roi.x + x, roi.y + y});
        a[x] = sections.Has(c[x], sections.NearestTile({x, y}), s) ? 0 : 255;
      }
    }
    return away;
  };
  const cv::Mat away = out_of_place();
  // Pieces at least a patch's area.
  cv::Mat piece_labels, stats, centroids;
  const int pieces =
      cv::connectedComponentsWithStats(away, piece_labels, stats, centroids, 8, CV_32S);
  const int min_area = options.patch_size * options.patch_size;
  std::vector<uchar> large(pieces, 0);
  int before = 0;
  for (int i = 1; i < pieces; ++i) {
    large[i] = stats.at<int>(i, cv::CC_STAT_AREA) >= min_area;
    if (large[i]) before += stats.at<int>(i, cv::CC_STAT_AREA);
  }
  if (before <= kForeignFill * cv::countNonZero(component)) return;
  const cv::Mat redo =
      DilateDisc(LabelsKept(piece_labels, large), options.patch_size / 2) & component;
  // The colours the sections around the pieces hold, per side; the known pixels in others are
  // foreign to the refill, over the whole image (the window may grow).
  std::vector<uchar> tiles(sections.tiles_x() * sections.tiles_y(), 0);
  for (int y = 0; y < roi.height; ++y) {
    const uchar* m = redo.ptr<uchar>(y);
    for (int x = 0; x < roi.width; ++x) {
      if (!m[x]) continue;
      const cv::Point t = sections.NearestTile({x, y});
      tiles[t.y * sections.tiles_x() + t.x] = 1;
    }
  }
  std::vector<std::vector<uchar>> belongs(2);
  for (int s = 0; s < 2; ++s) {
    std::vector<int> pool = sections.Pool(tiles, s);
    if (pool[ColourShares::kCells] < kMinRingPixels) continue;
    belongs[s].assign(ColourShares::kCells, 0);
    for (int c = 0; c < ColourShares::kCells; ++c) {
      belongs[s][c] =
          ColourShares::NearCount(pool, c) >= kRingShare * pool[ColourShares::kCells] ? 1 : 0;
    }
  }
  if (belongs[0].empty() && belongs[1].empty()) return;
  const cv::Mat foreign = ForeignPixels(lab, sides, [&](int side, const cv::Vec3b& c) {
    const std::vector<uchar>& b = belongs[side];
    return b.empty() || b[ColourShares::Cell(c)];
  });
  const cv::Mat kept = out(roi).clone();
  cv::Mat marked = labels(roi);
  marked.setTo(n, redo);
  std::vector<uchar> mine(n + 1, 0);
  mine[n] = 1;
  FillInWindow(labels, mine, RefillWindow(box, options.patch_size, out.size()), binary, sides,
               foreign, options, MixSeed(options.seed, label, 0xE55, 0), out);
  marked.setTo(label, redo);
  const int after = cv::countNonZero(out_of_place() & redo);
  if (after > kRefillGain * before) kept.copyTo(out(roi), component);
}

cv::Mat InpaintImpl(const cv::Mat& bgr, const cv::Mat& binary, const cv::Mat& sides,
                    const InpaintOptions& options) {
  cv::Mat out = bgr.clone();
  cv::Mat labels, stats, centroids, depth;
  const int n = cv::connectedComponentsWithStats(binary, labels, stats, centroids, 8, CV_32S);
  cv::distanceTransform(binary, depth, cv::DIST_L2, 3);
  std::vector<float> max_depth(n, 0.0f);
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const float* d = depth.ptr<float>(y);
    for (int x = 0; x < labels.cols; ++x) max_depth[l[x]] = std::max(max_depth[l[x]], d[x]);
  }
  // Components: thin ones get the diffusion fill, the others the exemplar fill.
  std::vector<int> thin, thick;
  for (int i = 1; i < n; ++i) {
    (max_depth[i] <= options.thin_radius ? thin : thick).push_back(i);
  }
  auto box = [&](int i) {
    return cv::Rect(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                    stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
  };
  std::vector<uchar> is_thin(n, 0);
  for (int i : thin) is_thin[i] = 1;
  FillThin(labels, is_thin, depth, binary, sides, out);
  // Thick components: exemplar fill per window. The margin grows with the hole; a window with
  // too little source around its hole is widened until it has enough (or is the whole image).
  if (thick.empty()) return out;
  std::vector<cv::Rect> boxes;
  for (int i : thick) boxes.push_back(box(i));
  std::vector<int> owner;
  const std::vector<cv::Rect> windows =
      HoleWindows(labels, thick, boxes, options.patch_size, options.separate_windows, &owner);
  // Per label: 1 the current window's components; 2, with separate windows, those of windows not
  // filled yet, filled there only for the context (a window may overlap another's hole, whose
  // pixels must not be read as known).
  std::vector<uchar> state(n, 0);
  if (options.separate_windows) {
    for (size_t k = 0; k < thick.size(); ++k) state[thick[k]] = 2;
  }
  for (size_t wi = 0; wi < windows.size(); ++wi) {
    for (size_t k = 0; k < thick.size(); ++k) {
      if (owner[k] == static_cast<int>(wi)) state[thick[k]] = 1;
    }
    FillInWindow(labels, state, windows[wi], binary, sides, cv::Mat(), options,
                 MixSeed(options.seed, wi, 0xC33, 0), out);
    for (size_t k = 0; k < thick.size(); ++k) {
      if (owner[k] == static_cast<int>(wi)) state[thick[k]] = 0;
    }
  }
  // Each exemplar-filled hole checked against the colours around it; a fill that brought in
  // another object's colours is redone from sources in those colours only.
  cv::Mat lab;
  cv::cvtColor(bgr, lab, cv::COLOR_BGR2Lab);
  for (int i : thick) {
    const int band = std::clamp(cvRound(max_depth[i]), options.patch_size, 4 * options.patch_size);
    RefillForeign(labels, i, box(i), band, binary, sides, lab, options, out);
    RefillOutOfPlace(labels, n, i, box(i), band, binary, sides, lab, options, out);
  }
  return out;
}

}  // namespace

Result<cv::Mat> Inpaint(const cv::Mat& bgr, const cv::Mat& mask, const InpaintOptions& options) {
  return Inpaint(bgr, mask, cv::Mat(), options);
}

Result<cv::Mat> Inpaint(const cv::Mat& bgr, const cv::Mat& mask, const cv::Mat& sides,
                        const InpaintOptions& options) {
  return Inpaint(bgr, mask, sides, cv::Mat(), options);
}

Result<cv::Mat> Inpaint(const cv::Mat& bgr, const cv::Mat& mask, const cv::Mat& sides,
                        const cv::Mat& behind, const InpaintOptions& options) {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    return InvalidArgument("inpaint: the image must be 8-bit, 3-channel BGR (got type " +
                           std::to_string(bgr.type()) + "); convert it first");
  }
  if (mask.type() != CV_8UC1) {
    return InvalidArgument("inpaint: the mask must be 8-bit, 1-channel (got type " +
                           std::to_string(mask.type()) + "); convert it first");
  }
  if (mask.size() != bgr.size()) {
    return InvalidArgument("inpaint: the mask is " + std::to_string(mask.cols) + "x" +
                           std::to_string(mask.rows) + " but the image is " +
                           std::to_string(bgr.cols) + "x" + std::to_string(bgr.rows) +
                           "; pass a mask of the image's size");
  }
  // The optional maps: empty, or 8-bit, 1-channel and of the image's size.
  auto check_map = [&](const cv::Mat& map, const std::string& what, const std::string& pass) {
    if (map.empty() || (map.type() == CV_8UC1 && map.size() == bgr.size())) return Status::Ok();
    return InvalidArgument("inpaint: the " + what +
                           " must be 8-bit, 1-channel and of the image's size (got type " +
                           std::to_string(map.type()) + ", " + std::to_string(map.cols) + "x" +
                           std::to_string(map.rows) + "); pass " + pass + ", or none");
  };
  RETURN_IF_ERROR(check_map(sides, "side map", "the product mask at the image's size"));
  RETURN_IF_ERROR(check_map(behind, "map of what lies behind", "a mask at the image's size"));
  RETURN_IF_ERROR(CheckOptions(options));
  try {
    cv::Mat binary = mask != 0;
    if (cv::countNonZero(binary) == 0) return bgr.clone();
    const bool two_sides = !sides.empty() && cv::countNonZero(sides) > 0 &&
                           cv::countNonZero(sides) < static_cast<int>(sides.total());
    cv::Mat continued = two_sides ? ContinueSides(sides, binary) : cv::Mat();
    if (two_sides && !behind.empty()) continued.setTo(0, binary & behind);
    return InpaintImpl(bgr, binary, continued, options);
  } catch (const cv::Exception& e) {
    return Internal(std::string("inpaint: OpenCV failed: ") + e.what());
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("inpaint: out of memory; use a smaller image or mask");
  }
}

double MaskedPsnr(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask) {
  CV_Assert(a.type() == CV_8UC3 && b.type() == CV_8UC3 && mask.type() == CV_8UC1 &&
            a.size() == b.size() && a.size() == mask.size());
  const int n = cv::countNonZero(mask);
  if (n == 0) return 100.0;
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  diff.convertTo(diff, CV_32FC3);
  diff = diff.mul(diff);
  diff.setTo(0, mask == 0);
  const cv::Scalar sum = cv::sum(diff);
  const double mse = (sum[0] + sum[1] + sum[2]) / (3.0 * n);
  return mse <= 1e-10 ? 100.0 : 10 * std::log10(255.0 * 255.0 / mse);
}

}  // namespace vitrine::ops
