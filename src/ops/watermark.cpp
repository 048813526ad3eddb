// Tiled watermarks: matched from one detected copy, removed by inverting the overlay
// (watermark.h).
#include "ops/watermark.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>

#include "ops/matting.h"
#include "ops/text_scope.h"

namespace vitrine::ops {
namespace {

// Detected regions tried as the template, best score first.
constexpr int kMaxSeeds = 4;
// Normalised cross-correlation a match needs: with the detected copy as the template (its own
// backdrop is noise to the others), then with the copies' average.
constexpr float kFirstMatch = 0.3f;
constexpr float kSecondMatch = 0.35f;
// A tilted line whose box matches too few places (a whole line over coarse asphalt: its box is
// mostly asphalt) is matched on its strokes alone, where this well.
constexpr float kFirstStrokeMatch = 0.45f;
constexpr int kMaxCopies = 400;
// A copy placed by the lattice is kept when the averaged template matches this well where the
// copy is seen, and at least this share of it is seen.
constexpr float kCopyMatch = 0.25f;
constexpr double kMinSeenShare = 0.2;
// A finer lattice is taken when the template matches its new positions this well on average.
constexpr float kFinerMatch = 0.15f;
// How far (line heights) the template may grow around the detected region, which may hold only
// part of the line.
constexpr double kMaxGrowLines = 6;
// How far a tilted line's template may grow along the line (lines), and the thickness of the band
// its glyphs are looked for in (times the detected line's height).
constexpr double kMaxGrowAlongLines = 16;
constexpr double kBandAcross = 1.6;
// A tilted line's glyphs run on along it past gaps of at most this many line heights (a space
// between words is about half a line; at 1.0 colorful_sneaker_01's asphalt carried the run 100 px
// past "SAMPLE"), through steps holding at least kRunShare of the detected line's typical step's
// strong glyph pixels, those at least kRunStrength of its median glyph pixel's contrast (at 1.0,
// can_01's "MPLE", seen in fewer copies than the seed's "样品 SA", was cut off; at 0.5 the
// sneaker's asphalt ran on to the laces).
constexpr double kRunGap = 0.6;
constexpr double kRunShare = 0.3;
constexpr double kRunStrength = 0.75;
// Copies the detector must have seen.
constexpr int kMinDetectedCopies = 2;
// A single detected line's copies (FindLineCopies): candidates on a border of zeros (best first,
// this many at most, matching at least this well), kept when the line's strokes match where they
// are seen this well (demo orange and apple: their copies 0.74 and 0.67, elsewhere at most 0.54).
constexpr float kLineCandidate = 0.15f;
constexpr int kLineCandidates = 16;
constexpr float kLineCopyMatch = 0.6f;
// A copy the lattice of the copies found implies needs this much agreement only: a copy under a
// caption shows a few strokes beside it (the demo apple's top copy: 0.18, the orange's 0.46;
// positions the search tried and dropped on the demo fruits: -0.12 to 0.42, none of them implied
// by a copy; the one implied by the orange's false match at its left edge: -0.46).
constexpr float kImpliedCopyMatch = 0.1f;
// Other text near a copy is left out of its match this many pixels around it (its outline, the
// fill's rim).
constexpr int kCoveredGrow = 2;
// GrowTranslucentLine: the slab tried beyond each end (line heights), and how far its opacity may
// be from the line's.
constexpr double kGrowSlab = 0.5;
constexpr double kGrowOpacityTolerance = 0.1;
// ...and how strong its light strokes must be against the detected part's (demo orange:
// 舰 1.0-1.25, the blank beyond it 0.28; demo apple: the blank beyond its whole line 0.25-0.45),
// and the share of the line's glyph samples the overlay must fit (MeasureOverlayCues' fit_share).
constexpr double kGrowStrokes = 0.6;
constexpr double kGrowFit = 0.85;
// A lattice explains a match when it predicts its position within this many pixels, and holds
// when it explains this share of the matches.
constexpr double kLatticeTolerance = 3;
constexpr double kLatticeShare = 0.7;
// Shortest steps between matches tried as the lattice's basis.
constexpr size_t kBasisCandidates = 12;
// The copies' centres must spread over this share of the image's width or height.
constexpr double kMinSpread = 1.0 / 3;
// A tiled watermark's copies cover the photo about once (at most 1.3 times in the bench's
// watermark cases, 6.2 times for a line stamped along its own rows whose template runs on along
// them); when their parts inside the photo add up to more than this many photos, the template has
// run on past its copies and only the part that keeps apart from them is kept. On
// colorful_sneaker_01 at 2048 px (no watermark) a 1024 px template at 1199 lattice positions took
// 30 CPU-s and 5.7 GB in Estimate.
constexpr double kMaxCopiesCover = 8;
// Opacity of the glyph cores a watermark may have; outside, it is not a translucent overlay.
constexpr double kMinOpacity = 0.1;
constexpr double kMaxOpacity = 0.9;
// Backdrop samples spread less than this (grey levels) are one backdrop: a and W cannot be told
// apart from them.
constexpr double kMinSpreadLevels = 8;
// Backdrops closer than this (BGR distance) to the watermark's colour say nothing about α there.
constexpr double kMinColourGap = 15;
// A copy whose cores show less than this share of the fitted opacity is no copy.
constexpr double kMinCopyOpacity = 0.5;
// The push-pull gain of each copy's backdrop fill under the glyphs: a thin ring of known pixels
// around a stroke is kept at full strength inwards. It fills as well as OpenCV's Telea did (bench
// watermark cases 29.98 against 29.83 dB) at a twentieth of its cost.
constexpr float kFillGain = 16.0f;
// α below this is noise.
constexpr float kMinAlpha = 0.03f;
// The colour prior: a neutral W is kept unless its residual is this many times the free
// colour's; white or black is taken when its residual is within this factor of the neutral's.
constexpr double kNeutralResidual = 1.5;
constexpr double kExtremeResidual = 1.1;
// How far outside [0, 255] a fitted grey may fall (the backdrop's noise) and still be clamped.
constexpr double kColourSlack = 40;
// The opacity is the weighted median of the samples' own whose backdrop lies at least this far
// (BGR distance) from W, when there are this many of them.
constexpr double kMedianColourGap = 30;
constexpr size_t kMinMedianSamples = 8;

cv::Mat GreyHighPass(const cv::Mat& bgr, double sigma) {
  cv::Mat grey, level, blurred;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  grey.convertTo(level, CV_32F);
  cv::GaussianBlur(level, blurred, cv::Size(), sigma);
  return level - blurred;
}

// Local maxima of `score` (matchTemplate's map; modified) at least `threshold`, each suppressing
// half a box around it, best first, `most` at most.
std::vector<cv::Point> Peaks(cv::Mat score, cv::Size box, float threshold, int most = kMaxCopies) {
  std::vector<cv::Point> out;
  const int rx = std::max(1, box.width / 2), ry = std::max(1, box.height / 2);
  while (static_cast<int>(out.size()) < most) {
    double best = 0;
    cv::Point at;
    cv::minMaxLoc(score, nullptr, &best, nullptr, &at);
    if (best < threshold) break;
    out.push_back(at);
    cv::rectangle(score, cv::Rect(at.x - rx, at.y - ry, 2 * rx + 1, 2 * ry + 1), cv::Scalar(-1),
                  cv::FILLED);
  }
  return out;
}

// Positions (top-left corners) where `templ` matches `image` at least `threshold`.
std::vector<cv::Point> Matches(const cv::Mat& image, const cv::Mat& templ, float threshold) {
  cv::Mat score;
  cv::matchTemplate(image, templ, score, cv::TM_CCOEFF_NORMED);
  return Peaks(score, templ.size(), threshold);
}

// Positions (top-left corners) where `templ` matches `image` on its `strokes` (CV_32FC1 mask)
// at least `threshold` (normalised cross-correlation), best first, `most` at most.
std::vector<cv::Point> StrokeMatches(const cv::Mat& image, const cv::Mat& templ,
                                     const cv::Mat& strokes, float threshold, int most) {
  cv::Mat score;
  cv::matchTemplate(image, templ, score, cv::TM_CCORR_NORMED, strokes);
  cv::patchNaNs(score, 0);
  return Peaks(score, templ.size(), threshold, most);
}

// The strokes of `region`'s line within `box` (CV_32FC1 of box's size, 1 on a stroke): pixels of
// its polygon that stand out of their smooth backdrop (a median wider than a stroke) on the side
// most of them lean to, above Otsu's threshold. Matching a single copy on these alone keeps its
// backdrop's texture from deciding where the other copies are.
cv::Mat Strokes(const cv::Mat& bgr, const models::TextRegion& region, cv::Rect box) {
  const int k = std::max(5, static_cast<int>(LineHeight(region) * 0.6) | 1);
  cv::Mat grey, smooth, level, smooth_f;
  cv::cvtColor(bgr(box), grey, cv::COLOR_BGR2GRAY);
  cv::medianBlur(grey, smooth, k);
  grey.convertTo(level, CV_32F);
  smooth.convertTo(smooth_f, CV_32F);
  const cv::Mat contrast = level - smooth_f;
  const cv::Mat inside = models::RegionMask(bgr.size(), {region})(box);
  const double brighter = cv::mean(cv::max(contrast, 0), inside)[0];
  const double darker = cv::mean(cv::max(-contrast, 0), inside)[0];
  cv::Mat lean = brighter >= darker ? contrast : cv::Mat(-contrast), lean8, strokes;
  cv::Mat(cv::max(lean, 0)).convertTo(lean8, CV_8U);
  lean8.setTo(0, inside == 0);
  cv::threshold(lean8, strokes, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  cv::Mat out;
  cv::dilate(strokes, strokes, cv::Mat());
  strokes.convertTo(out, CV_32F, 1.0 / 255);
  return out;
}

// The positions origin + i·u + j·v (j = 0 only when v is zero).
struct Lattice {
  cv::Point2d origin, u, v;

  // The positions whose `box`-sized copy meets an image of `size`.
  std::vector<cv::Point> Positions(cv::Size box, cv::Size size) const {
    const bool two = cv::norm(v) > 0;
    const double shortest = two ? std::min(cv::norm(u), cv::norm(v)) : cv::norm(u);
    const int reach = std::min(
        100, static_cast<int>(std::ceil(std::hypot(size.width, size.height) / shortest)) + 1);
    const cv::Rect image(cv::Point(0, 0), size);
    std::vector<cv::Point> out;
    for (int j = two ? -reach : 0; j <= (two ? reach : 0); ++j) {
      for (int i = -reach; i <= reach; ++i) {
        const cv::Point2d q = origin + i * u + j * v;
        const cv::Point at(cvRound(q.x), cvRound(q.y));
        if (!(cv::Rect(at, box) & image).empty()) out.push_back(at);
      }
    }
    return out;
  }
};

// The lattice fitted to `points` (points[0] on it), or nullopt when fewer than kLatticeShare of
// them (or fewer than kMinCopies) lie on it.
std::optional<Lattice> FitLattice(const std::vector<cv::Point>& points) {
  std::vector<cv::Point2d> steps;
  for (size_t a = 0; a < points.size(); ++a) {
    for (size_t b = a + 1; b < points.size(); ++b) {
      cv::Point2d d = points[b] - points[a];
      if (d.y < 0 || (d.y == 0 && d.x < 0)) d = -d;
      if (cv::norm(d) >= 4) steps.push_back(d);
    }
  }
  if (steps.empty()) return std::nullopt;
  std::sort(steps.begin(), steps.end(),
            [](const cv::Point2d& a, const cv::Point2d& b) { return cv::norm(a) < cv::norm(b); });
  // The basis: among the shortest steps, the pair (or single step) that puts the most points on
  // the lattice (a stray match makes a short step that explains little).
  const cv::Point2d origin = points[0];
  auto fit = [&](cv::Point2d v1, cv::Point2d v2, std::vector<cv::Vec3d>* rows,
                 std::vector<cv::Point2d>* on) {
    const bool two = cv::norm(v2) > 0;
    for (const cv::Point& p : points) {
      const cv::Point2d d = cv::Point2d(p) - origin;
      double i = 0, j = 0;
      if (two) {
        const double det = v1.x * v2.y - v1.y * v2.x;
        i = std::round((d.x * v2.y - d.y * v2.x) / det);
        j = std::round((v1.x * d.y - v1.y * d.x) / det);
      } else {
        i = std::round(d.dot(v1) / v1.dot(v1));
      }
      if (cv::norm(d - (i * v1 + j * v2)) <= kLatticeTolerance) {
        rows->push_back({1, i, j});
        on->push_back(p);
      }
    }
  };
  const size_t candidates = std::min<size_t>(steps.size(), kBasisCandidates);
  std::vector<cv::Vec3d> rows;  // 1, i, j
  std::vector<cv::Point2d> on;
  bool two = false;
  for (size_t a = 0; a < candidates; ++a) {
    for (size_t b = a; b < candidates; ++b) {
      const cv::Point2d v1 = steps[a];
      const cv::Point2d v2 = b == a ? cv::Point2d(0, 0) : steps[b];
      if (b != a && std::abs(v1.cross(v2)) < 0.5 * cv::norm(v1) * cv::norm(v2)) continue;
      std::vector<cv::Vec3d> r;
      std::vector<cv::Point2d> o;
      fit(v1, v2, &r, &o);
      if (o.size() > on.size()) rows = r, on = o, two = b != a;
    }
  }
  const int n = static_cast<int>(on.size());
  if (n < kMinCopies || n < kLatticeShare * points.size()) return std::nullopt;
  // Least squares: p = o + i·v1 + j·v2, each coordinate on its own.
  const int unknowns = two ? 3 : 2;
  cv::Mat a(n, unknowns, CV_64F), bx(n, 1, CV_64F), by(n, 1, CV_64F);
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < unknowns; ++c) a.at<double>(r, c) = rows[r][c];
    bx.at<double>(r) = on[r].x;
    by.at<double>(r) = on[r].y;
  }
  cv::Mat sx, sy;
  if (!cv::solve(a, bx, sx, cv::DECOMP_SVD) || !cv::solve(a, by, sy, cv::DECOMP_SVD)) {
    return std::nullopt;
  }
  const cv::Point2d o(sx.at<double>(0), sy.at<double>(0));
  const cv::Point2d u(sx.at<double>(1), sy.at<double>(1));
  const cv::Point2d w = two ? cv::Point2d(sx.at<double>(2), sy.at<double>(2)) : cv::Point2d(0, 0);
  const double shortest = two ? std::min(cv::norm(u), cv::norm(w)) : cv::norm(u);
  if (shortest < 4) return std::nullopt;
  return Lattice{o, u, w};
}

// The most a level line's watermark colour may differ between its channels (see
// FindTiledWatermark).
constexpr float kMaxLevelChroma = 40;

// Whether `region`'s line is tilted from the axes (kWatermarkTilt), as tiled shop watermarks are
// and lines of print or of a document are not: such a line's lattice and partial copies are
// trusted further (FromSeed, Estimate).
bool Tilted(const models::TextRegion& region) { return TiltedFromAxes(region); }

// Per-pixel median of equally sized CV_32FC1 `stack`, NaN (not seen) left out (of two values,
// the one nearer zero, or zero when they differ in sign); 0 where fewer than `min_seen` maps
// have a value.
cv::Mat MedianOf(const std::vector<cv::Mat>& stack, size_t min_seen) {
  cv::Mat out(stack[0].size(), CV_32FC1);
  std::vector<float> values;
  for (int y = 0; y < out.rows; ++y) {
    for (int x = 0; x < out.cols; ++x) {
      values.clear();
      for (const cv::Mat& m : stack) {
        const float v = m.at<float>(y, x);
        if (!std::isnan(v)) values.push_back(v);
      }
      if (values.empty() || values.size() < min_seen) {
        out.at<float>(y, x) = 0;
        continue;
      }
      const size_t mid = values.size() / 2;
      std::nth_element(values.begin(), values.begin() + mid, values.end());
      float median = values[mid];
      if (values.size() == 2) {
        // The one nearer zero, and zero when they differ in sign: two copies must agree (one
        // copy's backdrop, print on a product, is no glyph).
        const float below = *std::max_element(values.begin(), values.begin() + mid);
        median = below > 0 ? std::min(below, median) : (median < 0 ? std::max(below, median) : 0);
      }
      out.at<float>(y, x) = median;
    }
  }
  return out;
}

// I = (1 − a)·B + a·W fitted to samples of the backdrop B and the image I (BGR), and its mean
// squared residual.
struct OverlayFit {
  double opacity = 0;
  cv::Vec3d colour;
  double residual = 0;

  // The residual of a given a and W.
  OverlayFit(double a, cv::Vec3d w, const std::vector<cv::Vec3d>& b,
             const std::vector<cv::Vec3d>& i)
      : opacity(a), colour(w) {
    for (size_t s = 0; s < b.size(); ++s) {
      const cv::Vec3d d = i[s] - ((1 - a) * b[s] + a * w);
      residual += d.dot(d);
    }
    residual /= std::max<size_t>(1, b.size());
  }
  // a for the colour `w`: least squares of I − B along W − B.
  OverlayFit(const std::vector<cv::Vec3d>& b, const std::vector<cv::Vec3d>& i, cv::Vec3d w)
      : OverlayFit(AlongColour(b, i, w), w, b, i) {}
  // W grey (w, w, w): one slope and one intercept for the three channels; w outside [0, 255] is
  // clamped and a fitted again.
  static OverlayFit Neutral(const std::vector<cv::Vec3d>& b, const std::vector<cv::Vec3d>& i) {
    double mb = 0, mi = 0;
    const double n = 3.0 * std::max<size_t>(1, b.size());
    for (size_t s = 0; s < b.size(); ++s) {
      mb += b[s][0] + b[s][1] + b[s][2];
      mi += i[s][0] + i[s][1] + i[s][2];
    }
    mb /= n, mi /= n;
    double cov = 0, var = 0;
    for (size_t s = 0; s < b.size(); ++s) {
      for (int c = 0; c < 3; ++c) {
        cov += (b[s][c] - mb) * (i[s][c] - mi);
        var += (b[s][c] - mb) * (b[s][c] - mb);
      }
    }
    const double a = var > 0 ? 1 - cov / var : 0;
    if (a <= 0) return OverlayFit(0, cv::Vec3d(), b, i);
    const double w = (mi - (1 - a) * mb) / a;
    // Far outside: the samples are no overlay of one grey.
    if (w < -kColourSlack || w > 255 + kColourSlack) return OverlayFit(0, cv::Vec3d(), b, i);
    if (w < 0 || w > 255) return OverlayFit(b, i, cv::Vec3d::all(std::clamp(w, 0.0, 255.0)));
    return OverlayFit(a, cv::Vec3d::all(w), b, i);
  }

 private:
  static double AlongColour(const std::vector<cv::Vec3d>& b, const std::vector<cv::Vec3d>& i,
                            cv::Vec3d w) {
    double num = 0, den = 0;
    for (size_t s = 0; s < b.size(); ++s) {
      num += (i[s] - b[s]).dot(w - b[s]);
      den += (w - b[s]).dot(w - b[s]);
    }
    return den > 0 ? num / den : 0;
  }
};

// The opacity for the colour `w`: the median over the samples of each one's own (backdrops at
// least kMedianColourGap from W), weighted by |W − B|², so a few samples with a badly filled
// backdrop do not drag it; `fallback` when fewer than kMinMedianSamples samples qualify.
double MedianOpacity(const std::vector<cv::Vec3d>& b, const std::vector<cv::Vec3d>& i, cv::Vec3d w,
                     double fallback) {
  std::vector<std::pair<double, double>> own;  // a, weight
  double total = 0;
  for (size_t s = 0; s < b.size(); ++s) {
    const cv::Vec3d gap = w - b[s];
    const double g = gap.dot(gap);
    if (g < kMedianColourGap * kMedianColourGap) continue;
    own.push_back({(i[s] - b[s]).dot(gap) / g, g});
    total += g;
  }
  if (own.size() < kMinMedianSamples) return fallback;
  std::sort(own.begin(), own.end());
  double sum = 0;
  for (const auto& [value, weight] : own) {
    sum += weight;
    if (sum >= total / 2) return value;
  }
  return fallback;
}

// `glyphs` (CV_8UC1, a template's glyph pixels on `band`, the detected line's band in template
// coordinates) cut to the run of glyphs along the line: from the detected line's extent, outwards
// while the next glyph lies within kRunGap line heights. A template grown far beyond its line
// (to the copies' spacing) holds backdrop that some copies' texture makes pass for glyphs
// (colorful_sneaker_01: the laces beyond "SAMPLE" were taken for the line's rest and inpainted).
cv::Mat GlyphRun(const cv::Mat& glyphs, const cv::Mat& contrast, const cv::RotatedRect& band,
                 const models::TextRegion& region) {
  const double line = LineHeight(region);
  const double angle = band.angle * CV_PI / 180;
  const cv::Point2d along = band.size.width >= band.size.height
                                ? cv::Point2d(std::cos(angle), std::sin(angle))
                                : cv::Point2d(-std::sin(angle), std::cos(angle));
  const double half = std::max(region.box.size.width, region.box.size.height) / 2;
  const int reach = static_cast<int>(std::ceil(std::hypot(glyphs.cols, glyphs.rows)));
  auto position = [&](int x, int y) {
    return cvRound((cv::Point2d(x, y) - cv::Point2d(band.center)).dot(along));
  };
  int front = std::min(reach, cvRound(half)), back = std::max(-reach, -cvRound(half));
  // Strong glyph pixels (at least kRunStrength of the detected line's median glyph pixel: texture
  // that passes for glyphs in a few copies is weaker) per 1 px step along the line, from -reach
  // to reach around the band's centre.
  std::vector<float> strengths;
  for (int y = 0; y < glyphs.rows; ++y) {
    for (int x = 0; x < glyphs.cols; ++x) {
      const int t = position(x, y);
      if (glyphs.at<uchar>(y, x) && t >= back && t <= front) {
        strengths.push_back(contrast.at<float>(y, x));
      }
    }
  }
  if (strengths.empty()) return glyphs.clone();
  std::nth_element(strengths.begin(), strengths.begin() + strengths.size() / 2, strengths.end());
  const float strong = static_cast<float>(kRunStrength) * strengths[strengths.size() / 2];
  std::vector<int> count(2 * reach + 1, 0);
  for (int y = 0; y < glyphs.rows; ++y) {
    for (int x = 0; x < glyphs.cols; ++x) {
      if (glyphs.at<uchar>(y, x) && contrast.at<float>(y, x) >= strong) {
        ++count[std::clamp(position(x, y) + reach, 0, 2 * reach)];
      }
    }
  }
  const int gap = std::max(2, cvRound(kRunGap * line));
  // A step holds glyphs when it has a share of the detected line's typical step (the median of its
  // steps that hold any).
  std::vector<int> inside;
  for (int t = back; t <= front; ++t) {
    if (count[t + reach] > 0) inside.push_back(count[t + reach]);
  }
  if (inside.empty()) return glyphs.clone();
  std::nth_element(inside.begin(), inside.begin() + inside.size() / 2, inside.end());
  const int least = std::max(2, cvRound(kRunShare * inside[inside.size() / 2]));
  for (int t = front + 1; t <= reach && t - front <= gap; ++t) {
    if (count[t + reach] >= least) front = t;
  }
  for (int t = back - 1; t >= -reach && back - t <= gap; --t) {
    if (count[t + reach] >= least) back = t;
  }
  cv::Mat out = glyphs.clone();
  for (int y = 0; y < out.rows; ++y) {
    for (int x = 0; x < out.cols; ++x) {
      const int t = position(x, y);
      if (t < back || t > front) out.at<uchar>(y, x) = 0;
    }
  }
  return out;
}

// The standard deviation (grey levels, per channel) of the backdrops `b` that `use` keeps.
double BackdropSpread(const std::vector<cv::Vec3d>& b, const std::vector<bool>& use) {
  cv::Vec3d mean(0, 0, 0);
  int n = 0;
  for (size_t s = 0; s < b.size(); ++s) {
    if (use[s]) mean += b[s], ++n;
  }
  if (n == 0) return 0;
  mean *= 1.0 / n;
  double var = 0;
  for (size_t s = 0; s < b.size(); ++s) {
    if (use[s]) var += (b[s] - mean).dot(b[s] - mean);
  }
  return std::sqrt(var / (3.0 * n));
}

// The overlay's colour W, core opacity a and per-pixel α from the copies (crops of `bgr` at box +
// offset; `whole` those wholly inside the image). With `keep_spread` (a watermark found blind),
// samples off the fitted line are not dropped when only one backdrop would be left. False when
// the copies do not look like one translucent overlay.
bool Estimate(const cv::Mat& bgr, cv::Rect box, const std::vector<cv::Point>& whole,
              const std::vector<cv::Point>& all, const models::TextRegion& region, bool keep_spread,
              TiledWatermark* mark, std::vector<cv::Point>* rejected) {
  const double line = LineHeight(region);
  // The glyphs: pixels that stand out of each copy's smooth backdrop (median filter wider than a
  // stroke) on the same side in most copies (partial ones where seen, for a tilted line). Each
  // copy's contrast is scaled by its own strongest, so copies over a backdrop close to the
  // watermark's colour count as much as the others.
  const int k = std::max(5, static_cast<int>(line * 0.6) | 1);
  const cv::Rect image(cv::Point(0, 0), bgr.size());
  std::vector<cv::Mat> contrasts;
  for (const cv::Point& o : Tilted(region) ? all : whole) {
    const cv::Rect visible = (box + o) & image;
    if (visible.width < k || visible.height < k) continue;
    cv::Mat grey, smooth, smooth_f;
    cv::cvtColor(bgr(visible), grey, cv::COLOR_BGR2GRAY);
    cv::medianBlur(grey, smooth, k);
    smooth.convertTo(smooth_f, CV_32F);
    grey.convertTo(grey, CV_32F);
    cv::Mat c = grey - smooth_f;
    cv::Mat magnitude = cv::abs(c);
    std::vector<float> values(magnitude.begin<float>(), magnitude.end<float>());
    const size_t q = values.size() * 99 / 100;
    std::nth_element(values.begin(), values.begin() + q, values.end());
    c *= 1.0 / std::max(4.f, values[q]);
    cv::Mat placed(box.size(), CV_32FC1, cv::Scalar(std::numeric_limits<float>::quiet_NaN()));
    c.copyTo(placed(visible - (box.tl() + o)));
    contrasts.push_back(placed);
  }
  if (contrasts.empty()) return false;
  // Where only one copy is seen, its backdrop's texture would pass for glyphs.
  const cv::Mat signed_contrast = MedianOf(contrasts, std::min<size_t>(2, contrasts.size()));
  double lowest = 0, highest = 0;
  cv::minMaxLoc(signed_contrast, &lowest, &highest);
  const cv::Mat contrast = highest >= -lowest ? signed_contrast : cv::Mat(-signed_contrast);
  cv::Mat contrast8, glyphs;
  cv::Mat(cv::max(contrast, 0) * 255).convertTo(contrast8, CV_8U);
  const double otsu = cv::threshold(contrast8, glyphs, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  cv::compare(contrast8, std::max(otsu, 0.1 * 255), glyphs, cv::CMP_GT);
  // Only along the detected line (continued to the template's edges): texture elsewhere in the
  // template may stand out in a few copies.
  cv::RotatedRect band = region.box;
  band.center -= cv::Point2f(box.tl());
  const double diagonal = std::hypot(box.width, box.height);
  if (band.size.width >= band.size.height) {
    band.size = cv::Size2f(static_cast<float>(2 * diagonal),
                           band.size.height * static_cast<float>(kBandAcross));
  } else {
    band.size = cv::Size2f(band.size.width * static_cast<float>(kBandAcross),
                           static_cast<float>(2 * diagonal));
  }
  cv::Point2f corners[4];
  band.points(corners);
  cv::Mat on_line(box.size(), CV_8UC1, cv::Scalar(0));
  std::vector<cv::Point> polygon(corners, corners + 4);
  cv::fillConvexPoly(on_line, polygon, cv::Scalar(255));
  glyphs &= on_line;
  if (Tilted(region)) glyphs = GlyphRun(glyphs, contrast, band, region);
  if (cv::countNonZero(glyphs) < 16) return false;
  // Cores: the strongest fifth of the glyph pixels.
  std::vector<float> strengths;
  for (int y = 0; y < glyphs.rows; ++y) {
    for (int x = 0; x < glyphs.cols; ++x) {
      if (glyphs.at<uchar>(y, x)) strengths.push_back(contrast.at<float>(y, x));
    }
  }
  std::nth_element(strengths.begin(), strengths.begin() + strengths.size() * 4 / 5,
                   strengths.end());
  const float core_level = strengths[strengths.size() * 4 / 5];
  const cv::Mat core = glyphs & (contrast >= core_level);

  // Each copy's backdrop under the glyphs, filled from around them, over the part of the copy
  // inside the image (copies cut by the image's edges count too).
  cv::Mat hole;
  cv::dilate(glyphs, hole, cv::getStructuringElement(cv::MORPH_ELLIPSE, {5, 5}));
  cv::Mat near_glyphs;
  cv::dilate(glyphs, near_glyphs, cv::Mat());
  struct Part {
    cv::Point offset;
    cv::Rect local;          // in template coordinates
    cv::Mat seen, backdrop;  // CV_32FC3 of local's size
    float weight = 0;
  };
  std::vector<Part> parts;
  for (const cv::Point& o : all) {
    const cv::Rect visible = (box + o) & image;
    if (visible.empty()) continue;
    Part part;
    part.offset = o;
    part.local = visible - (box.tl() + o);
    bgr(visible).convertTo(part.seen, CV_32FC3);
    cv::Mat known;
    cv::Mat(hole(part.local) == 0).convertTo(known, CV_32FC1, 1.0 / 255);
    part.backdrop = PushPullFill(part.seen, known, kFillGain);
    // Weight: how well the fill can guess this copy's backdrop (its texture around the glyphs;
    // the fill's error grows with it).
    cv::Mat grey, detail, around;
    cv::cvtColor(bgr(visible), grey, cv::COLOR_BGR2GRAY);
    cv::Laplacian(grey, detail, CV_32F);
    cv::bitwise_not(hole(part.local), around);
    const double texture = cv::mean(cv::abs(detail), around)[0];
    part.weight = static_cast<float>(1.0 / (1.0 + texture * texture));
    parts.push_back(std::move(part));
  }

  // I = (1 − a)·B + a·W over the cores: one slope for the three channels. Samples are cell means
  // (a cell's backdrop estimate is less noisy than a pixel's).
  const int cell = std::max(6, cvRound(line / 2));
  std::vector<cv::Vec3d> sample_b, sample_i;
  for (const Part& part : parts) {
    for (int y0 = 0; y0 < part.local.height; y0 += cell) {
      for (int x0 = 0; x0 < part.local.width; x0 += cell) {
        const cv::Rect r =
            cv::Rect(x0, y0, cell, cell) & cv::Rect(cv::Point(0, 0), part.local.size());
        const cv::Mat m = core(r + part.local.tl());
        if (cv::countNonZero(m) < 4) continue;
        const cv::Scalar b = cv::mean(part.backdrop(r), m), i = cv::mean(part.seen(r), m);
        sample_b.push_back({b[0], b[1], b[2]});
        sample_i.push_back({i[0], i[1], i[2]});
      }
    }
  }
  if (sample_b.size() < 8) return false;
  std::vector<bool> use(sample_b.size(), true);
  double slope = 0;
  cv::Vec3d intercept;
  double spread = 0;
  for (int round = 0; round < 2; ++round) {
    cv::Vec3d mb(0, 0, 0), mi(0, 0, 0);
    int n = 0;
    for (size_t s = 0; s < use.size(); ++s) {
      if (use[s]) mb += sample_b[s], mi += sample_i[s], ++n;
    }
    mb *= 1.0 / n;
    mi *= 1.0 / n;
    double cov = 0, var = 0;
    for (size_t s = 0; s < use.size(); ++s) {
      if (!use[s]) continue;
      const cv::Vec3d db = sample_b[s] - mb, di = sample_i[s] - mi;
      cov += db.dot(di);
      var += db.dot(db);
    }
    spread = std::sqrt(var / (3.0 * n));
    slope = var > 0 ? cov / var : 0;
    intercept = mi - slope * mb;
    // Drop the samples far off the line (a copy over another graphic), refit once.
    std::vector<double> residuals;
    for (size_t s = 0; s < use.size(); ++s) {
      residuals.push_back(cv::norm(sample_i[s] - (slope * sample_b[s] + intercept)));
    }
    std::vector<double> sorted = residuals;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    const double limit = 3 * std::max(1.0, sorted[sorted.size() / 2]);
    std::vector<bool> kept(use.size());
    for (size_t s = 0; s < use.size(); ++s) kept[s] = residuals[s] <= limit;
    // A blind watermark over a flat backdrop: its samples there fit one line to within a level,
    // so those over the product (the only ones that tell W from a) all look far off it. They are
    // kept when dropping them would leave a single backdrop.
    if (!keep_spread || BackdropSpread(sample_b, kept) >= kMinSpreadLevels) use = kept;
  }
  double a = 1 - slope;
  cv::Vec3d colour;
  std::vector<cv::Vec3d> used_b, used_i;
  for (size_t s = 0; s < use.size(); ++s) {
    if (use[s]) used_b.push_back(sample_b[s]), used_i.push_back(sample_i[s]);
  }
  if (spread < kMinSpreadLevels) {
    // One backdrop under every copy: a and W cannot be told apart; take W at the extreme the
    // glyphs lean to, which inverts to the same backdrop.
    cv::Vec3d lean(0, 0, 0);
    for (size_t s = 0; s < sample_b.size(); ++s) lean += sample_i[s] - sample_b[s];
    colour = cv::Vec3d::all((lean[0] + lean[1] + lean[2]) > 0 ? 255 : 0);
    a = OverlayFit(sample_b, sample_i, colour).opacity;
  } else {
    // Watermarks are nearly always white, black or grey: for a tilted line, a neutral colour is
    // taken unless the samples clearly say otherwise (its residual well above the free colour's),
    // and white or black when they explain the samples about as well (a and W trade off against
    // each other under the backdrop's noise), and a is the samples' weighted median. A level
    // line keeps the free fit: with the prior, the lines of a document fitted as an overlay.
    const OverlayFit free{a > 0 ? a : 0, a > 0 ? intercept * (1.0 / a) : cv::Vec3d(), used_b,
                          used_i};
    const OverlayFit neutral = OverlayFit::Neutral(used_b, used_i);
    OverlayFit best = free;
    if (neutral.opacity > 0 && Tilted(region)) {
      if (free.opacity <= 0 || neutral.residual <= kNeutralResidual * free.residual) {
        best = neutral;
      }
      for (double level : {255.0, 0.0}) {
        const OverlayFit extreme(used_b, used_i, cv::Vec3d::all(level));
        if (extreme.residual <= kExtremeResidual * neutral.residual) best = extreme;
      }
    }
    if (best.opacity <= 0) return false;
    colour = best.colour;
    a = Tilted(region) ? MedianOpacity(sample_b, sample_i, colour, best.opacity) : best.opacity;
  }
  if (a < kMinOpacity || a > kMaxOpacity) return false;
  for (int c = 0; c < 3; ++c) colour[c] = std::clamp(colour[c], 0.0, 255.0);

  // α per pixel: least squares pooled over every copy; a copy whose backdrop is far from W says
  // more. A copy must show the overlay: its cores' own α near a (a lattice position may fall on
  // a stray match with no watermark there); one over a backdrop of W's colour cannot say.
  const cv::Vec3f w(colour);
  const float min_gap = static_cast<float>(kMinColourGap * kMinColourGap);
  cv::Mat num(box.size(), CV_32FC1, cv::Scalar(0)), den(box.size(), CV_32FC1, cv::Scalar(0));
  for (const Part& part : parts) {
    double core_num = 0, core_den = 0;
    for (int pass = 0; pass < 2; ++pass) {
      for (int y = 0; y < part.local.height; ++y) {
        for (int x = 0; x < part.local.width; ++x) {
          const cv::Point at(x + part.local.x, y + part.local.y);
          if (!(pass == 0 ? core : near_glyphs).at<uchar>(at)) continue;
          const cv::Vec3f i = part.seen.at<cv::Vec3f>(y, x), b = part.backdrop.at<cv::Vec3f>(y, x);
          const float gap = (w - b).dot(w - b);
          if (gap < min_gap) continue;
          if (pass == 0) {
            core_num += (i - b).dot(w - b);
            core_den += gap;
          } else {
            num.at<float>(at) += part.weight * (i - b).dot(w - b);
            den.at<float>(at) += part.weight * gap;
          }
        }
      }
      if (pass == 0 && core_den > 0 && core_num / core_den < kMinCopyOpacity * a) {
        rejected->push_back(part.offset);
        break;
      }
    }
  }
  cv::Mat alpha(box.size(), CV_32FC1, cv::Scalar(0));
  const float cap = static_cast<float>(std::min(0.95, 1.15 * a));
  for (int y = 0; y < box.height; ++y) {
    for (int x = 0; x < box.width; ++x) {
      if (!near_glyphs.at<uchar>(y, x)) continue;
      const float d = den.at<float>(y, x);
      float value =
          d > 0 ? num.at<float>(y, x) / d : (core.at<uchar>(y, x) ? static_cast<float>(a) : 0.f);
      value = std::clamp(value, 0.f, cap);
      alpha.at<float>(y, x) = value >= kMinAlpha ? value : 0.f;
    }
  }
  mark->alpha = alpha;
  mark->colour = w;
  mark->opacity = a;
  return true;
}

// The template of a tilted line (the copy at `box`, placed at `positions`) grown to the rest of
// its line: the detected region may hold only part of it ("样品" of "样品 SAMPLE", cut by the
// border or by a busy backdrop), while the detector saw the whole line at another copy. Every
// detected line tilted and sized alike whose box, moved back by a copy's offset, lies on the
// seed's line (its centre within half a line of the line's axis, within kMaxGrowAlongLines lines
// along it) adds its box.
cv::Rect AlongTheLine(const models::TextRegion& seed, cv::Rect box,
                      const std::vector<cv::Point>& positions,
                      const std::vector<models::TextRegion>& regions) {
  const double line = LineHeight(seed);
  const double angle = LineAngle(seed) * CV_PI / 180;
  const cv::Point2d along(std::cos(angle), std::sin(angle)), across(-along.y, along.x);
  cv::Rect grown = box;
  for (const models::TextRegion& other : regions) {
    if (!TiltedAlike(seed, other)) continue;
    for (const cv::Point& at : positions) {
      const cv::Point2d d =
          cv::Point2d(other.box.center - seed.box.center) - cv::Point2d(at - box.tl());
      if (std::abs(d.dot(across)) > line / 2 ||
          std::abs(d.dot(along)) > kMaxGrowAlongLines * line) {
        continue;
      }
      cv::RotatedRect moved = other.box;
      moved.center -= cv::Point2f(at - box.tl());
      grown |= moved.boundingRect();
    }
  }
  return grown;
}

// `along` cut to at most half of `size` each way (a copy's crops are stacked per copy, and a
// template wider than the photo is placed at every lattice position it reaches from), keeping
// `core`, which it holds; on each axis the span kept is centred on core's as far as along allows.
cv::Rect WithinHalf(cv::Rect along, cv::Rect core, cv::Size size) {
  auto cut = [](int lo, int hi, int core_lo, int core_hi, int most, int* start, int* length) {
    *length = std::max(core_hi - core_lo, std::min(hi - lo, most));
    *start = std::clamp((core_lo + core_hi - *length) / 2, lo, hi - *length);
  };
  cv::Rect out;
  cut(along.x, along.br().x, core.x, core.br().x, size.width / 2, &out.x, &out.width);
  cut(along.y, along.br().y, core.y, core.br().y, size.height / 2, &out.y, &out.height);
  return out | core;
}

// Whether copies of `box` at `offsets` (from box.tl()) spread over kMinSpread of `image`'s width
// or height (the centres of their parts inside the image).
bool Spreads(const cv::Rect& box, const std::vector<cv::Point>& offsets, cv::Size image) {
  const cv::Size2d span = CopiesSpan(box, offsets, image);
  return span.width >= kMinSpread * image.width || span.height >= kMinSpread * image.height;
}

// Estimate() over `mark`'s copies (box and copies set; Spreads() checked first; `blind`: the
// copies were found without the detector, see Estimate's keep_spread), dropping those
// that do not show the overlay and estimating again without them (twice at most). False when the
// copies do not look like one translucent overlay, too few are left, or they no longer spread.
bool EstimateCopies(const cv::Mat& bgr, const models::TextRegion& region, bool blind,
                    TiledWatermark* mark) {
  const cv::Rect image(cv::Point(0, 0), bgr.size());
  const bool tilted = Tilted(region);
  if (!Spreads(mark->box, mark->copies, bgr.size())) return false;
  std::vector<cv::Point> whole;
  for (const cv::Point& offset : mark->copies) {
    const cv::Rect copy = mark->box + offset;
    if ((copy & image) == copy) whole.push_back(offset);
  }
  // The estimate needs two whole copies of a level line; a tilted line's partial copies count.
  bool ok = tilted ? mark->copies.size() >= 2 : whole.size() >= 2;
  // Copies that do not show the overlay are dropped and the estimate made again without them.
  for (int round = 0; ok && round < 2; ++round) {
    std::vector<cv::Point> rejected;
    ok = Estimate(bgr, mark->box, whole, mark->copies, region, blind, mark, &rejected);
    if (!ok || rejected.empty()) break;
    auto drop = [&](std::vector<cv::Point>* list) {
      list->erase(std::remove_if(list->begin(), list->end(),
                                 [&](const cv::Point& o) {
                                   return std::find(rejected.begin(), rejected.end(), o) !=
                                          rejected.end();
                                 }),
                  list->end());
    };
    drop(&whole);
    drop(&mark->copies);
    ok = (tilted || whole.size() >= 2) && static_cast<int>(mark->copies.size()) >= kMinCopies;
    if (ok && round == 1)
      ok = Estimate(bgr, mark->box, whole, mark->copies, region, blind, mark, &rejected);
  }
  // The copies left after the drops must still spread: on jd.jpg two small lines of print
  // ("Fashion", "trend") kept three overlapping "copies" 45 px apart once the far ones were
  // dropped.
  return ok && Spreads(mark->box, mark->copies, bgr.size());
}

// The watermark seeded by regions[index] (the other detected lines may continue its line), or
// nullopt.
std::optional<TiledWatermark> FromSeed(const cv::Mat& bgr,
                                       const std::vector<models::TextRegion>& regions, int index) {
  const models::TextRegion& region = regions[index];
  const double line = LineHeight(region);
  const cv::Rect box = Window(region, 0, bgr.size());
  if (box.width < 8 || box.height < 8 || box.area() * 4 > static_cast<int>(bgr.total())) {
    return std::nullopt;
  }
  const cv::Mat high = GreyHighPass(bgr, std::max(1.0, line / 3));
  // First pass: the detected copy against the image; second: the matches' average.
  // Copies cut by the image's edges (at least half of each side inside) are matched on a
  // border of zeros: no structure.
  const cv::Point pad(box.width / 2, box.height / 2);
  cv::Mat padded;
  cv::copyMakeBorder(high, padded, pad.y, pad.y, pad.x, pad.x, cv::BORDER_CONSTANT, 0);
  auto matches = [&](const cv::Mat& templ, float threshold) {
    std::vector<cv::Point> found = Matches(padded, templ, threshold);
    for (cv::Point& at : found) at -= pad;
    return found;
  };
  std::vector<cv::Point> first = matches(high(box), kFirstMatch);
  if (static_cast<int>(first.size()) < kMinCopies && Tilted(region)) {
    first =
        StrokeMatches(padded, high(box), Strokes(bgr, region, box), kFirstStrokeMatch, kMaxCopies);
    for (cv::Point& at : first) at -= pad;
  }
  if (static_cast<int>(first.size()) < kMinCopies) return std::nullopt;
  cv::Mat average(box.size(), CV_32FC1, cv::Scalar(0));
  for (const cv::Point& at : first) average += padded(cv::Rect(at + pad, box.size()));
  average *= 1.0 / first.size();
  const std::vector<cv::Point> second = matches(average, kSecondMatch);
  if (static_cast<int>(second.size()) < kMinCopies) return std::nullopt;
  // The seed's own position first: the lattice is anchored on it.
  std::vector<cv::Point> points{box.tl()};
  for (const cv::Point& at : second) {
    if (cv::norm(at - box.tl()) > kLatticeTolerance) points.push_back(at);
  }
  // Where the template is seen (a copy mostly off the image cannot be checked and is left out),
  // how well it matches there, or nullopt.
  auto match_at = [&](cv::Point at) -> std::optional<float> {
    const cv::Rect seen = cv::Rect(at, box.size()) & cv::Rect(cv::Point(0, 0), bgr.size());
    if (seen.area() < kMinSeenShare * box.area() || seen.width < 4 || seen.height < 4) {
      return std::nullopt;
    }
    cv::Mat score;
    cv::matchTemplate(high(seen), average(seen - at), score, cv::TM_CCOEFF_NORMED);
    return score.at<float>(0, 0);
  };
  std::optional<Lattice> lattice = FitLattice(points);
  std::vector<cv::Point> checked;
  std::vector<cv::Point> positions = points;
  const bool tilted = Tilted(region);
  if (lattice && !tilted) positions = lattice->Positions(box.size(), bgr.size());
  if (lattice && tilted) {
    // Copies over a busy product match poorly; if they are every other row or column, the
    // lattice fitted to the matches has twice the step. A finer lattice (a step halved, or a
    // centred one) is taken when the template matches at its new positions on the whole.
    for (bool refined = true; refined;) {
      refined = false;
      const Lattice& l = *lattice;
      const std::vector<Lattice> finer = {
          {l.origin, l.u / 2, l.v}, {l.origin, l.u, l.v / 2}, {l.origin, (l.u + l.v) / 2, l.v}};
      const std::vector<cv::Point> old = l.Positions(box.size(), bgr.size());
      for (const Lattice& candidate : finer) {
        if (cv::norm(candidate.v) > 0 && std::abs(candidate.u.cross(candidate.v)) < 1) continue;
        if (std::min(cv::norm(candidate.u),
                     cv::norm(candidate.v) > 0 ? cv::norm(candidate.v) : 1e9) <
            std::max(box.width, box.height) / 2.0) {
          continue;
        }
        std::vector<float> scores;
        for (const cv::Point& at : candidate.Positions(box.size(), bgr.size())) {
          bool known = false;
          for (const cv::Point& p : old) known |= cv::norm(p - at) <= kLatticeTolerance;
          if (known) continue;
          if (const std::optional<float> score = match_at(at)) scores.push_back(*score);
        }
        if (scores.empty()) continue;
        double mean = 0;
        for (float v : scores) mean += v;
        mean /= scores.size();
        if (mean >= kFinerMatch) {
          lattice = candidate;
          refined = true;
          break;
        }
      }
    }
    // Every position of a lattice that holds is a copy where it is seen enough; Estimate drops
    // those whose glyphs do not show the overlay.
    for (const cv::Point& at : lattice->Positions(box.size(), bgr.size())) {
      if (match_at(at)) checked.push_back(at);
    }
  } else {
    // Every copy must look like the template where it is seen (a level line: the lines of a
    // document or of printed text repeat like a lattice too).
    for (const cv::Point& at : positions) {
      const std::optional<float> score = match_at(at);
      if (score && *score >= kCopyMatch) checked.push_back(at);
    }
  }
  positions = checked;
  if (static_cast<int>(positions.size()) < kMinCopies) return std::nullopt;

  // The detected region may hold only part of the line: the template grows as far as it can
  // without meeting its neighbours (each pixel belongs to one copy at most).
  const cv::Rect image(cv::Point(0, 0), bgr.size());
  auto whole_count = [&](cv::Rect r) {
    int n = 0;
    for (const cv::Point& at : positions)
      n += ((r + (at - box.tl())) & image) == r + (at - box.tl());
    return n;
  };
  const int needed = std::max(2, std::min(3, whole_count(box)));
  // Each side moves out by half a line at a time, up to kMaxGrowLines lines, while it keeps apart
  // from the other copies and enough copies stay wholly inside the image.
  auto fits = [&](cv::Rect r) {
    if (whole_count(r) < needed) return false;
    for (const cv::Point& at : positions) {
      const cv::Point offset = at - box.tl();
      if (offset != cv::Point(0, 0) && !(r & (r + offset)).empty()) return false;
    }
    return true;
  };
  cv::Rect grown = box;
  const int step = std::max(1, cvRound(line / 2));
  const int limit = cvRound(kMaxGrowLines * line);
  int left = 0, top = 0, right = 0, bottom = 0;
  for (bool moved = true; moved;) {
    moved = false;
    for (int* side : {&left, &right, &top, &bottom}) {
      if (*side + step > limit) continue;
      *side += step;
      const cv::Rect candidate(box.x - left, box.y - top, box.width + left + right,
                               box.height + top + bottom);
      if (fits(candidate)) {
        grown = candidate;
        moved = true;
      } else {
        *side -= step;
      }
    }
  }
  // Every position of the lattice whose template `t` reaches into the image is a copy, the
  // slivers at the border the seed's box did not reach included (Estimate drops those whose glyphs
  // do not show the overlay). Returns how many photos the copies' parts inside it add up to.
  const std::vector<cv::Point> detected = positions;
  auto place = [&](const cv::Rect& t) {
    positions = detected;
    if (tilted && lattice) {
      const cv::Point shift = t.tl() - box.tl();
      Lattice moved = *lattice;
      moved.origin += cv::Point2d(shift);
      for (const cv::Point& reach : moved.Positions(t.size(), bgr.size())) {
        const cv::Point at = reach - shift;
        bool known = false;
        for (const cv::Point& p : positions) known |= cv::norm(p - at) <= kLatticeTolerance;
        if (!known) positions.push_back(at);
      }
    }
    double cover = 0;
    for (const cv::Point& at : positions) cover += ((t + (at - box.tl())) & image).area();
    return cover / image.area();
  };
  const cv::Rect compact = grown;
  if (tilted) {
    // The rest of the line joins the template as far as a copy stays within half the photo each
    // way (a tiled watermark has copies to spare): on colorful_sneaker_01 at 2048 px, alike lines
    // made a template wider than the photo, 1588 copies and 22 GB of stacked crops. What the
    // template does not hold of a detected line is inpainted (RemoveText).
    const cv::Rect along = grown | AlongTheLine(region, box, positions, regions);
    grown = WithinHalf(along, grown, bgr.size());
  }
  if (place(grown) > kMaxCopiesCover) {
    // The template ran on past its copies: back to the part that keeps apart from them.
    grown = compact;
    if (place(grown) > kMaxCopiesCover) return std::nullopt;
  }
  TiledWatermark mark;
  mark.box = grown;
  mark.seed = index;
  for (const cv::Point& at : positions) mark.copies.push_back(at - box.tl());
  if (!EstimateCopies(bgr, region, false, &mark)) return std::nullopt;
  return mark;
}

}  // namespace

std::vector<cv::Point2f> TiledWatermark::CopyPolygon(size_t i) const {
  const cv::Rect ink = cv::boundingRect(alpha > 0);
  const cv::Point2f tl(ink.tl() + box.tl() + copies[i]);
  const cv::Point2f size(static_cast<float>(ink.width - 1), static_cast<float>(ink.height - 1));
  return {tl, tl + cv::Point2f(size.x, 0), tl + size, tl + cv::Point2f(0, size.y)};
}

std::optional<TiledWatermark> FindTiledWatermark(const cv::Mat& bgr,
                                                 const std::vector<models::TextRegion>& regions) {
  std::vector<int> order(regions.size());
  for (size_t i = 0; i < regions.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return regions[a].score > regions[b].score; });
  for (size_t n = 0; n < order.size() && n < kMaxSeeds; ++n) {
    std::optional<TiledWatermark> mark = FromSeed(bgr, regions, order[n]);
    if (!mark) continue;
    // The detector saw text at two copies at least: a repeated texture (bricks, tiles) matches
    // itself as well as a watermark does.
    std::vector<std::vector<cv::Point2f>> polygons(mark->copies.size());
    for (size_t i = 0; i < polygons.size(); ++i) polygons[i] = mark->CopyPolygon(i);
    int seen = 0;
    for (const models::TextRegion& region : regions) {
      for (const std::vector<cv::Point2f>& polygon : polygons) {
        if (cv::pointPolygonTest(polygon, region.box.center, false) >= 0) {
          ++seen;
          break;
        }
      }
    }
    if (seen < kMinDetectedCopies) continue;
    // A level line's repeats are often print (a can's label, a document): such a "watermark"
    // must at least have a watermark's colour, near grey (can_04's white print on its blue label
    // fitted as a dark red overlay at 0.44 over 132 copies and was wiped).
    const cv::Vec3f& w = mark->colour;
    const float chroma = std::max({w[0], w[1], w[2]}) - std::min({w[0], w[1], w[2]});
    if (!Tilted(regions[order[n]]) && chroma > kMaxLevelChroma) continue;
    return mark;
  }
  return std::nullopt;
}

models::TextRegion GrowTranslucentLine(const cv::Mat& bgr, const models::TextRegion& line,
                                       double opacity) {
  const double height = LineHeight(line);
  const double angle = LineAngle(line);
  const cv::Point2f along(static_cast<float>(std::cos(angle * CV_PI / 180)),
                          static_cast<float>(std::sin(angle * CV_PI / 180)));
  const float length = std::max(line.box.size.width, line.box.size.height);
  const float slab = static_cast<float>(height * kGrowSlab);
  const cv::Rect image(cv::Point(0, 0), bgr.size());
  // The line from `from` to `to` along its axis, from its centre.
  auto part = [&](float from, float to) {
    models::TextRegion out = line;
    out.box = cv::RotatedRect(line.box.center + along * ((from + to) / 2),
                              cv::Size2f(to - from, static_cast<float>(height)),
                              static_cast<float>(angle));
    cv::Point2f corners[4];
    out.box.points(corners);
    out.polygon.assign(corners, corners + 4);
    return out;
  };
  // Light strokes: how far the channel that rises most lies above its smooth backdrop (a median
  // wider than a stroke; a light grey over a bright yellow peel raises blue, not grey), in a
  // window holding every slab the line may grow by.
  const float reach = length / 2 + static_cast<float>(kMaxGrowAlongLines * height);
  const cv::Rect window = part(-reach, reach).box.boundingRect() & image;
  const int k = std::max(5, static_cast<int>(height * 0.6) | 1);
  cv::Mat smooth, lighter;
  cv::medianBlur(bgr(window), smooth, k);
  cv::subtract(bgr(window), smooth, lighter);
  cv::Mat planes[3];
  cv::split(lighter, planes);
  lighter = cv::max(cv::max(planes[0], planes[1]), planes[2]);
  auto strokes = [&](const models::TextRegion& r) {
    const cv::Point2f origin(window.tl());
    return cv::mean(lighter, models::RegionMask(window.size(), {Scaled(r, 1, 1, origin)}))[0];
  };
  const double detected = strokes(line);
  float back = -length / 2, front = length / 2;
  for (int side : {1, -1}) {
    float* end = side > 0 ? &front : &back;
    while (std::abs(*end) + slab <= reach) {
      const float from = side > 0 ? *end : *end - slab, to = side > 0 ? *end + slab : *end;
      const models::TextRegion next = part(from, to);
      const cv::Rect box = next.box.boundingRect();
      if ((box & image).area() < 0.5 * box.area()) break;
      // The slab holds strokes about as strong as the detected part's, and one overlay of the same
      // opacity still fits the line's glyphs with it (its colour is loose: over a narrow range of
      // surface, the demo orange's grown line fitted W = 369, past MeasureOverlayCues' bound).
      if (strokes(next) < kGrowStrokes * detected) break;
      const OverlayCues cues =
          MeasureOverlayCues(bgr, side > 0 ? part(back, to) : part(from, front));
      if (std::abs(cues.opacity - opacity) > kGrowOpacityTolerance || cues.fit_share < kGrowFit) {
        break;
      }
      *end += side * slab;
    }
  }
  if (back == -length / 2 && front == length / 2) return line;
  return part(back, front);
}

LineCopies FindLineCopies(const cv::Mat& bgr, const models::TextRegion& detected,
                          const cv::Mat& covered) {
  LineCopies out{detected, {}, {}, {}};
  if (!Tilted(detected)) return out;
  const cv::Rect detected_box = Window(detected, 0, bgr.size());
  if (detected_box.width < 8 || detected_box.height < 8 ||
      detected_box.area() * 4 > static_cast<int>(bgr.total())) {
    return out;
  }
  const OverlayCues cues = MeasureOverlayCues(bgr, detected);
  if (!cues.translucent) return out;
  // The detector may have seen part of the line ("优品旗" of "优品旗舰店"): the rest, where it
  // shows the same overlay, joins it before its copies are looked for.
  out.line = GrowTranslucentLine(bgr, detected, cues.opacity);
  const models::TextRegion& line = out.line;
  const cv::Rect box = Window(line, 0, bgr.size());
  // The line's strokes matched on the grey high-pass (the backdrop's brightness does not count);
  // copies cut by the image's edges, a fifth of the box inside, on a border of zeros: a copy a
  // fifth inside scores about √(1/5) of its own match there.
  const cv::Mat high = GreyHighPass(bgr, std::max(1.0, LineHeight(line) / 3));
  const cv::Mat templ = high(box), strokes = Strokes(bgr, line, box);
  const cv::Point pad(box.width * 4 / 5, box.height * 4 / 5);
  cv::Mat padded;
  cv::copyMakeBorder(high, padded, pad.y, pad.y, pad.x, pad.x, cv::BORDER_CONSTANT, 0);
  const cv::Rect image(cv::Point(0, 0), bgr.size());
  // Other text's pixels (a caption drawn over a copy) say nothing of this line's strokes.
  cv::Mat other;
  if (!covered.empty()) cv::dilate(covered, other, cv::Mat(), cv::Point(-1, -1), kCoveredGrow);
  // Whether the copy at offset `d` shows the line's strokes where it is seen (inside the image,
  // off other text).
  auto shows = [&](cv::Point d, float threshold) {
    const cv::Point at = box.tl() + d;
    const cv::Rect seen = cv::Rect(at, box.size()) & image;
    if (seen.area() < kMinSeenShare * box.area() || seen.width < 4 || seen.height < 4) {
      return false;
    }
    cv::Mat mask = strokes(seen - at).clone();
    if (!other.empty()) mask.setTo(0, other(seen));
    if (cv::countNonZero(mask) < 16) return false;
    cv::Mat local;
    cv::matchTemplate(high(seen), templ(seen - at), local, cv::TM_CCORR_NORMED, mask);
    return local.at<float>(0, 0) >= threshold;
  };
  auto known = [&](cv::Point d) {
    if (cv::norm(d) <= kLatticeTolerance) return true;
    for (const cv::Point& o : out.offsets) {
      if (cv::norm(d - o) <= kLatticeTolerance) return true;
    }
    return false;
  };
  for (const cv::Point& found :
       StrokeMatches(padded, templ, strokes, kLineCandidate, kLineCandidates)) {
    const cv::Point d = found - pad - box.tl();
    if (!known(d) && shows(d, kLineCopyMatch)) out.offsets.push_back(d);
  }
  // A tiled watermark repeats on a lattice: a copy at offset d puts others at -d and ±2d, which the
  // search above misses where a caption covers most of one (the demo apple's copy under its top
  // caption) or the border cuts it. The lattice predicts them: each is kept unless its strokes,
  // where they are seen, fail to agree with the line's (kImpliedCopyMatch).
  const std::vector<cv::Point> matched = out.offsets;
  for (const cv::Point& d : matched) {
    for (int k : {-1, 2, -2}) {
      const cv::Point step = d * k;
      bool implied = false;
      for (const cv::Point& o : out.implied) implied |= cv::norm(step - o) <= kLatticeTolerance;
      if (!implied && !known(step) && shows(step, kImpliedCopyMatch)) out.implied.push_back(step);
    }
  }
  if (out.implied.empty()) return out;
  // The line's strokes with their anti-aliased rims, at each implied copy.
  cv::Mat rims;
  cv::dilate(strokes > 0, rims, cv::Mat());
  out.implied_strokes = cv::Mat::zeros(bgr.size(), CV_8UC1);
  for (const cv::Point& d : out.implied) {
    const cv::Rect at = cv::Rect(box.tl() + d, box.size()) & image;
    out.implied_strokes(at) |= rims(at - (box.tl() + d));
  }
  return out;
}

cv::Size2d CopiesSpan(const cv::Rect& box, const std::vector<cv::Point>& offsets, cv::Size size) {
  const cv::Rect image(cv::Point(0, 0), size);
  double min_x = size.width, max_x = 0, min_y = size.height, max_y = 0;
  for (const cv::Point& offset : offsets) {
    const cv::Rect copy = (box + offset) & image;
    if (copy.empty()) continue;
    const cv::Point2d centre = copy.tl() + cv::Point(copy.size() / 2);
    min_x = std::min(min_x, centre.x), max_x = std::max(max_x, centre.x);
    min_y = std::min(min_y, centre.y), max_y = std::max(max_y, centre.y);
  }
  return {std::max(0.0, max_x - min_x), std::max(0.0, max_y - min_y)};
}

std::optional<TiledWatermark> TiledWatermarkOnLattice(const cv::Mat& bgr,
                                                      const models::TextRegion& line, cv::Point2d u,
                                                      cv::Point2d v) {
  const cv::Rect box = Window(line, 0, bgr.size());
  if (box.width < 8 || box.height < 8 || box.area() * 4 > static_cast<int>(bgr.total()) ||
      std::abs(u.cross(v)) < 1) {
    return std::nullopt;
  }
  TiledWatermark mark;
  mark.box = box;
  const Lattice lattice{cv::Point2d(box.tl()), u, v};
  const cv::Rect image(cv::Point(0, 0), bgr.size());
  double cover = 0;
  for (const cv::Point& at : lattice.Positions(box.size(), bgr.size())) {
    mark.copies.push_back(at - box.tl());
    cover += (cv::Rect(at, box.size()) & image).area();
  }
  if (static_cast<int>(mark.copies.size()) < kMinCopies || cover > kMaxCopiesCover * image.area()) {
    return std::nullopt;
  }
  if (!EstimateCopies(bgr, line, true, &mark)) return std::nullopt;
  return mark;
}

cv::Mat InvertWatermark(const cv::Mat& bgr, const TiledWatermark& mark, cv::Mat* changed,
                        cv::Mat* opaque) {
  cv::Mat out = bgr.clone();
  cv::Mat touched(bgr.size(), CV_8UC1, cv::Scalar(0)), left(bgr.size(), CV_8UC1, cv::Scalar(0));
  const cv::Rect image(cv::Point(0, 0), bgr.size());
  for (const cv::Point& offset : mark.copies) {
    const cv::Rect copy = (mark.box + offset) & image;
    for (int y = copy.y; y < copy.br().y; ++y) {
      for (int x = copy.x; x < copy.br().x; ++x) {
        const float a = mark.alpha.at<float>(y - mark.box.y - offset.y, x - mark.box.x - offset.x);
        if (a <= 0) continue;
        touched.at<uchar>(y, x) = 255;
        if (a > kMaxInvertible) {
          left.at<uchar>(y, x) = 255;
          continue;
        }
        cv::Vec3b& p = out.at<cv::Vec3b>(y, x);
        for (int c = 0; c < 3; ++c) {
          p[c] = cv::saturate_cast<uchar>((p[c] - a * mark.colour[c]) / (1 - a));
        }
      }
    }
  }
  if (changed) *changed = touched;
  if (opaque) *opaque = left;
  return out;
}

}  // namespace vitrine::ops
