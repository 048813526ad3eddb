// Tiled watermarks found without the detector: the lattice from the autocorrelation of the
// photo's strokes, the line from the median over the lattice's copies (blind_watermark.h).
#include "ops/blind_watermark.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "core/labels.h"
#include "core/morphology.h"
#include "ops/text_scope.h"

namespace vitrine::ops {
namespace {

// The high-pass's Gaussian (working pixels): a stroke of a small watermark is 1–3 px wide.
constexpr double kHighPassSigma = 1.5;
// The signal is clipped here (grey levels): a faint stroke (a grey of 200 at 0.35 over white
// changes it by 19 levels, its high-pass by about a third of that) counts as much as an edge.
constexpr float kClip = 6;
// High-pass magnitudes above this (grey levels) are no faint watermark's; pixels within
// kStrongReach of them are left out.
constexpr float kStrong = 16;
constexpr int kStrongReach = 2;
// The local density of strokes is taken off the signal over this Gaussian (working pixels).
constexpr double kDensitySigma = 4;
// Lattice vectors shorter than this (working pixels) are a product's texture, not copies of a
// line of text (a line at least kMinLineHeight high and kMinAspect times as long, at 512 px).
constexpr int kMinStep = 24;
// A shift must keep this share of the photo's width and height in overlap (so that at least two
// copies fall in each direction on a small photo: the demo fish is 259 px wide for a step of 158).
constexpr double kMinOverlap = 0.3;
// The autocorrelation is in units of its spread over all shifts. A lattice vector is a peak at
// least kMinPeak high; one of the basis at least kStrongPeak, and the lattice's points in range
// kMinLattice on average.
constexpr float kMinPeak = 3;
constexpr float kStrongPeak = 5;
constexpr double kMinLattice = 4;
constexpr int kMaxPeaks = 20;
// A peak is sharp when the mean around it, kRingRadius away, is at most this share of it: a
// product's stripes correlate along a ridge, a repeated stroke pattern at a point.
constexpr double kRingRadius = 3;
constexpr double kMaxRing = 0.6;
// A halved vector is taken when its peak is at least this share of the lattice's weaker one.
constexpr float kFinerShare = 0.5f;
// Two vectors span a lattice when their cross product is at least this share of |a|·|b|.
constexpr double kMinSine = 0.3;
// The template is this quantile of the signal over the copies: a product's texture seen in a
// third of them does not pass (on a small photo few copies fall off the product), a watermark's
// stroke seen in most does.
constexpr double kQuantile = 0.25;
// Over this many copies, the median: the product covers fewer than half of them, and a faint
// stroke over a backdrop near the watermark's colour is lost in more than a quarter.
constexpr size_t kManyCopies = 8;
constexpr double kManyQuantile = 0.5;
// A pixel of the template needs this many copies.
constexpr size_t kMinSeen = 3;
// The median template's strokes are at least this strong (grey levels of the clipped signal).
constexpr double kMinStroke = 1.5;
// The line's glyphs are joined by a closing of this share of the lattice's shorter vector.
constexpr double kJoin = 1.0 / 12;
// The copies kept must spread over this share of the photo's width and of its height.
constexpr double kMinCoverSpan = 0.5;
// A line of text is at least this many times as long as it is high, and this high (pixels).
constexpr double kMinAspect = 2.5;
constexpr double kMinLineHeight = 6;

// Clipped magnitude of the grey high-pass of `bgr` (CV_32FC1), 0 near strong edges.
cv::Mat StrokeSignal(const cv::Mat& bgr) {
  cv::Mat grey, level, blurred;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  grey.convertTo(level, CV_32F);
  cv::GaussianBlur(level, blurred, cv::Size(), kHighPassSigma);
  const cv::Mat magnitude = cv::abs(level - blurred);
  cv::Mat signal = cv::min(magnitude, kClip), strong;
  // Pixels near a strong edge (a product's outline, a caption) are left out: a faint watermark
  // changes the photo by a few levels.
  cv::dilate(
      magnitude > kStrong, strong,
      cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * kStrongReach + 1, 2 * kStrongReach + 1}));
  signal.setTo(0, strong);
  return signal;
}

// `signal` without the local density of strokes: a textured product's area correlates with itself
// over its whole extent, a lattice of strokes at points.
cv::Mat WithoutDensity(const cv::Mat& signal) {
  cv::Mat density;
  cv::GaussianBlur(signal, density, cv::Size(), kDensitySigma);
  return signal - density;
}

// The normalised autocorrelation of a signal for shifts (dx, dy), dy >= 0 (it is symmetric), each
// divided by its overlap's area and by the zero shift's value.
class Autocorrelation {
 public:
  explicit Autocorrelation(const cv::Mat& signal)
      : max_dx_(static_cast<int>(signal.cols * (1 - kMinOverlap))),
        max_dy_(static_cast<int>(signal.rows * (1 - kMinOverlap))) {
    const cv::Mat centred = signal - cv::mean(signal)[0];
    cv::Mat padded;
    cv::copyMakeBorder(
        centred, padded, 0, cv::getOptimalDFTSize(signal.rows + max_dy_) - signal.rows, 0,
        cv::getOptimalDFTSize(signal.cols + max_dx_) - signal.cols, cv::BORDER_CONSTANT, 0);
    cv::Mat spectrum, power, product;
    cv::dft(padded, spectrum);
    cv::mulSpectrums(spectrum, spectrum, power, 0, true);
    cv::idft(power, product, cv::DFT_REAL_OUTPUT | cv::DFT_SCALE);
    const double zero = product.at<float>(0, 0) / signal.total();
    r_.create(2 * max_dy_ + 1, 2 * max_dx_ + 1, CV_32FC1);
    for (int dy = -max_dy_; dy <= max_dy_; ++dy) {
      for (int dx = -max_dx_; dx <= max_dx_; ++dx) {
        const double overlap = double(signal.cols - std::abs(dx)) * (signal.rows - std::abs(dy));
        const float a = product.at<float>((dy + product.rows) % product.rows,
                                          (dx + product.cols) % product.cols);
        r_.at<float>(dy + max_dy_, dx + max_dx_) =
            zero > 0 ? static_cast<float>(a / overlap / zero) : 0.f;
      }
    }
    // In units of its spread over all shifts (median and median absolute deviation): how far a
    // peak stands above the photo's own correlation.
    std::vector<float> values(r_.begin<float>(), r_.end<float>());
    std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
    const float median = values[values.size() / 2];
    for (float& v : values) v = std::abs(v - median);
    std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
    const float spread = 1.4826f * std::max(values[values.size() / 2], 1e-6f);
    r_ = (r_ - median) / spread;
  }

  // The value at shift `d` (nearest pixel), or nullopt when out of range.
  std::optional<float> At(cv::Point2d d) const {
    const int dx = cvRound(d.x), dy = cvRound(d.y);
    if (std::abs(dy) > max_dy_ || std::abs(dx) > max_dx_) return std::nullopt;
    return r_.at<float>(dy + max_dy_, dx + max_dx_);
  }

  // Sharp local maxima at least kMinStep from the zero shift, at least kMinPeak, best first,
  // refined to a fraction of a pixel.
  std::vector<cv::Point2d> Peaks() const {
    cv::Mat dilated;
    cv::dilate(r_, dilated, cv::getStructuringElement(cv::MORPH_RECT, {5, 5}));
    std::vector<std::pair<float, cv::Point2d>> found;
    for (int y = max_dy_; y < r_.rows - 1; ++y) {
      for (int x = 1; x < r_.cols - 1; ++x) {
        const float v = r_.at<float>(y, x);
        const cv::Point2d d(x - max_dx_, y - max_dy_);
        // One of each pair of opposite shifts (the map is symmetric).
        if (d.y == 0 && d.x < 0) continue;
        if (v < kMinPeak || v < dilated.at<float>(y, x) || cv::norm(d) < kMinStep) continue;
        double ring = 0;
        int n = 0;
        for (int k = 0; k < 16; ++k) {
          const double t = k * CV_PI / 8;
          if (const std::optional<float> around =
                  At(d + kRingRadius * cv::Point2d(std::cos(t), std::sin(t)))) {
            ring += *around;
            ++n;
          }
        }
        if (n == 0 || ring / n > kMaxRing * v) continue;
        // Parabolic refinement along each axis.
        auto offset = [](float minus, float centre, float plus) {
          const float den = minus - 2 * centre + plus;
          return den < 0 ? std::clamp(0.5f * (minus - plus) / den, -0.5f, 0.5f) : 0.f;
        };
        const cv::Point2d refined =
            d + cv::Point2d(offset(r_.at<float>(y, x - 1), v, r_.at<float>(y, x + 1)),
                            offset(r_.at<float>(y - 1, x), v, r_.at<float>(y + 1, x)));
        found.push_back({v, refined});
      }
    }
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<cv::Point2d> out;
    for (size_t i = 0; i < found.size() && i < kMaxPeaks; ++i) out.push_back(found[i].second);
    return out;
  }

 private:
  int max_dx_, max_dy_;
  cv::Mat r_;
};

// (u, v) reduced to the lattice's shortest basis (Lagrange–Gauss).
void Reduce(cv::Point2d* u, cv::Point2d* v) {
  for (int i = 0; i < 32; ++i) {
    if (u->dot(*u) > v->dot(*v)) std::swap(*u, *v);
    const double m = std::round(u->dot(*v) / u->dot(*u));
    if (m == 0) break;
    *v -= m * *u;
  }
}

struct Basis {
  cv::Point2d u, v;
  double score = 0;  // mean autocorrelation at the lattice's points in range
};

// The lattice spanned by two of `peaks` whose points hold the highest mean autocorrelation, each
// basis vector at least kMinPeak; nullopt when none does.
std::optional<Basis> BestLattice(const Autocorrelation& r, const std::vector<cv::Point2d>& peaks) {
  std::optional<Basis> best;
  for (size_t a = 0; a < peaks.size(); ++a) {
    for (size_t b = a + 1; b < peaks.size(); ++b) {
      cv::Point2d u = peaks[a], v = peaks[b];
      if (std::abs(u.cross(v)) < kMinSine * cv::norm(u) * cv::norm(v)) continue;
      Reduce(&u, &v);
      if (cv::norm(u) < kMinStep || cv::norm(v) < kMinStep) continue;
      const std::optional<float> ru = r.At(u), rv = r.At(v);
      if (!ru || !rv || std::min(*ru, *rv) < kMinPeak || std::max(*ru, *rv) < kStrongPeak) continue;
      double sum = 0;
      int n = 0;
      for (int i = -2; i <= 2; ++i) {
        for (int j = -2; j <= 2; ++j) {
          if (i == 0 && j == 0) continue;
          if (const std::optional<float> value = r.At(i * u + j * v)) sum += *value, ++n;
        }
      }
      if (n < 3) continue;
      if (sum / n >= kMinLattice && (!best || sum / n > best->score)) best = Basis{u, v, sum / n};
    }
  }
  return best;
}

// `lattice` made finer while a vector halved (or a centred cell) is a peak too: a lattice of every
// other copy holds as high a correlation at its points as the watermark's own.
Basis Finest(const Autocorrelation& r, Basis lattice) {
  for (bool finer = true; finer;) {
    finer = false;
    const cv::Point2d u = lattice.u, v = lattice.v;
    const std::pair<cv::Point2d, cv::Point2d> candidates[] = {
        {u / 2, v}, {u, v / 2}, {(u + v) / 2, v}, {u, (u - v) / 2}};
    for (auto [a, b] : candidates) {
      // The new point: the halved vector (or the cell's centre).
      const cv::Point2d added = a != u ? a : b;
      if (cv::norm(added) < kMinStep) continue;
      // As high as half the lattice's weaker vector: a product's texture correlates a little at
      // every short shift.
      const std::optional<float> z = r.At(added), zu = r.At(u), zv = r.At(v);
      if (!z || *z < std::max(kMinPeak, kFinerShare * std::min(*zu, *zv))) continue;
      Reduce(&a, &b);
      lattice.u = a;
      lattice.v = b;
      finer = true;
      break;
    }
  }
  return lattice;
}

// Translations i·u + j·v that bring a `box` into `image` at least in part.
std::vector<cv::Point2d> Translations(const Basis& lattice, const cv::Rect& box, cv::Size image) {
  const double shortest = std::min(cv::norm(lattice.u), cv::norm(lattice.v));
  const int reach = std::min(
      200,
      static_cast<int>(std::hypot(image.width + box.width, image.height + box.height) / shortest) +
          2);
  const cv::Rect inside(cv::Point(0, 0), image);
  std::vector<cv::Point2d> out;
  for (int j = -reach; j <= reach; ++j) {
    for (int i = -reach; i <= reach; ++i) {
      const cv::Point2d t = i * lattice.u + j * lattice.v;
      if (!((box + cv::Point(cvRound(t.x), cvRound(t.y))) & inside).empty()) out.push_back(t);
    }
  }
  return out;
}

// The kQuantile of `signal` over the lattice's copies of `box` (pixels seen in fewer than
// `min_seen` copies are 0).
cv::Mat QuantileOverCopies(const cv::Mat& signal, const Basis& lattice, const cv::Rect& box,
                           size_t min_seen) {
  const std::vector<cv::Point2d> shifts = Translations(lattice, box, signal.size());
  cv::Mat out(box.size(), CV_32FC1, cv::Scalar(0));
  std::vector<float> values;
  for (int y = 0; y < box.height; ++y) {
    for (int x = 0; x < box.width; ++x) {
      values.clear();
      for (const cv::Point2d& t : shifts) {
        const int sx = cvRound(box.x + x + t.x), sy = cvRound(box.y + y + t.y);
        if (sx >= 0 && sy >= 0 && sx < signal.cols && sy < signal.rows) {
          values.push_back(signal.at<float>(sy, sx));
        }
      }
      if (values.size() < min_seen) continue;
      const size_t q = values.size() * (values.size() >= kManyCopies ? kManyQuantile : kQuantile);
      std::nth_element(values.begin(), values.begin() + q, values.end());
      out.at<float>(y, x) = values[q];
    }
  }
  return out;
}

// One copy of the watermark's line in `median` (the median template over `box`): the strokes
// joined into lines, the one with the most strokes that does not touch the box's edge; its
// minimum-area rectangle in working coordinates, or nullopt.
std::optional<cv::RotatedRect> LineOf(const cv::Mat& median, const cv::Rect& box,
                                      const Basis& lattice) {
  cv::Mat scaled, strokes;
  median.convertTo(scaled, CV_8U, 255.0 / kClip);
  const double otsu = cv::threshold(scaled, strokes, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  cv::compare(scaled, std::max(otsu, kMinStroke * 255.0 / kClip), strokes, cv::CMP_GT);
  const double shortest = std::min(cv::norm(lattice.u), cv::norm(lattice.v));
  const int join = std::max(1, cvRound(kJoin * shortest));
  cv::Mat labels, stats, centroids;
  const cv::Mat joined = ErodeDisc(DilateDisc(strokes, join), join);  // a closing
  const int n = cv::connectedComponentsWithStats(joined, labels, stats, centroids, 8);
  const std::vector<int> counts = CountLabelsWhere(labels, n, strokes);  // strokes per line
  int best = -1, best_count = 0;
  for (int i = 1; i < n; ++i) {
    const cv::Rect r(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                     stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
    if (r.x == 0 || r.y == 0 || r.br().x == box.width || r.br().y == box.height) continue;
    if (counts[i] > best_count) best = i, best_count = counts[i];
  }
  if (best < 0 || best_count < 16) return std::nullopt;
  std::vector<cv::Point> points;
  cv::findNonZero(strokes & (labels == best), points);
  cv::RotatedRect line = cv::minAreaRect(points);
  line.center += cv::Point2f(box.tl());
  return line;
}

// Whether the centres of `mark`'s copies (their parts inside an image of `size`) span at least
// kMinCoverSpan of its width and of its height: a tiled watermark covers the whole photo, a
// product's repeated pattern (a keyboard's keys, seen in perspective as a tilted lattice) a part.
bool CoversPhoto(const TiledWatermark& mark, cv::Size size) {
  const cv::Size2d span = CopiesSpan(mark.box, mark.copies, size);
  return span.width >= kMinCoverSpan * size.width && span.height >= kMinCoverSpan * size.height;
}

// The watermark on `basis` (working coordinates: `work` is `bgr` at `scale`, `signal` its
// StrokeSignal): one copy of its line from the quantile over the copies, then the overlay
// estimated over the lattice's copies (TiledWatermarkOnLattice).
std::optional<TiledWatermark> OnLattice(const cv::Mat& bgr, const cv::Mat& work, double scale,
                                        const cv::Mat& signal, const Basis& basis) {
  // The quantile over the copies of a box of two cells around the photo's centre holds at least
  // one whole copy of the line.
  const cv::Size cell(cvCeil(std::abs(basis.u.x) + std::abs(basis.v.x)),
                      cvCeil(std::abs(basis.u.y) + std::abs(basis.v.y)));
  const cv::Rect box(work.cols / 2 - cell.width, work.rows / 2 - cell.height, 2 * cell.width,
                     2 * cell.height);
  const cv::Mat median = QuantileOverCopies(signal, basis, box, kMinSeen);
  std::optional<cv::RotatedRect> line = LineOf(median, box, basis);
  if (!line) return std::nullopt;
  // The copy nearest the photo's centre that lies inside it.
  const cv::Point2f centre(work.cols / 2.0f, work.rows / 2.0f);
  const cv::Rect outline = line->boundingRect();
  std::optional<cv::Point2d> shift;
  for (const cv::Point2d& t : Translations(basis, outline, work.size())) {
    const cv::Rect moved = outline + cv::Point(cvRound(t.x), cvRound(t.y));
    if ((moved & cv::Rect(cv::Point(0, 0), work.size())) != moved) continue;
    if (!shift || cv::norm(line->center + cv::Point2f(t) - centre) <
                      cv::norm(line->center + cv::Point2f(*shift) - centre)) {
      shift = t;
    }
  }
  if (!shift) return std::nullopt;
  // The detector's convention: the outline covers the glyphs with a fifth of the line's height.
  const float height = std::min(line->size.width, line->size.height);
  models::TextRegion region;
  region.box = cv::RotatedRect(
      (line->center + cv::Point2f(*shift)) / scale,
      (line->size + cv::Size2f(0.4f * height, 0.4f * height)) / static_cast<float>(scale),
      line->angle);
  cv::Point2f corners[4];
  region.box.points(corners);
  region.polygon.assign(corners, corners + 4);
  const double long_side = std::max(region.box.size.width, region.box.size.height);
  if (LineHeight(region) < kMinLineHeight || long_side < kMinAspect * LineHeight(region) ||
      !TiltedFromAxes(region)) {
    return std::nullopt;
  }
  return TiledWatermarkOnLattice(bgr, region, basis.u / scale, basis.v / scale);
}

}  // namespace

std::optional<TiledWatermark> FindBlindTiledWatermark(const cv::Mat& bgr) {
  const double scale =
      std::min(1.0, static_cast<double>(kBlindWorkSide) / std::max(bgr.cols, bgr.rows));
  cv::Mat work = bgr;
  if (scale < 1) cv::resize(bgr, work, cv::Size(), scale, scale, cv::INTER_AREA);
  const cv::Mat signal = StrokeSignal(work);
  const Autocorrelation r(WithoutDensity(signal));
  const std::vector<cv::Point2d> peaks = r.Peaks();
  if (const std::optional<Basis> lattice = BestLattice(r, peaks)) {
    std::optional<TiledWatermark> mark = OnLattice(bgr, work, scale, signal, Finest(r, *lattice));
    if (mark && CoversPhoto(*mark, bgr.size())) return mark;
  }
  return std::nullopt;
}

}  // namespace vitrine::ops
