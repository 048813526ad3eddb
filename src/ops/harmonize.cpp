#include "ops/harmonize.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <vector>

#include "ops/colour.h"

namespace vitrine::ops {
namespace {

// Limits on the raw estimate, before the ΔE bound scales it back further.
constexpr double kMaxBalance = 0.12;   // per-channel white-balance gain within 1 ± this
constexpr double kMaxExposure = 0.15;  // exposure gain within 1 ± this
// The search runs on one representative per colour cell (5 bits a channel); a pixel may differ
// from its representative by a few codes, so it aims this far inside the bounds.
constexpr double kSafety = 0.5;

struct Swatch {
  cv::Vec3b bgr;
  double weight;
};

// The product's colours: the mean colour of each occupied cell of `bits` bits a channel, and its
// pixel count (8 bits: every distinct colour exactly).
std::vector<Swatch> Palette(const cv::Mat& bgr, const cv::Mat& alpha, int bits) {
  const int shift = 8 - bits;
  std::unordered_map<int, std::pair<cv::Vec3d, int>> cells;
  for (int y = 0; y < bgr.rows; ++y) {
    const cv::Vec3b* p = bgr.ptr<cv::Vec3b>(y);
    const uchar* a = alpha.ptr<uchar>(y);
    for (int x = 0; x < bgr.cols; ++x) {
      if (a[x] < 128) continue;
      const int key =
          (p[x][0] >> shift) << (2 * bits) | (p[x][1] >> shift) << bits | (p[x][2] >> shift);
      auto& cell = cells[key];
      cell.first += cv::Vec3d(p[x][0], p[x][1], p[x][2]);
      ++cell.second;
    }
  }
  std::vector<Swatch> palette;
  palette.reserve(cells.size());
  for (const auto& [key, cell] : cells) {
    const cv::Vec3d mean = cell.first / cell.second;
    palette.push_back(
        {cv::Vec3b(cv::saturate_cast<uchar>(mean[0]), cv::saturate_cast<uchar>(mean[1]),
                   cv::saturate_cast<uchar>(mean[2])),
         static_cast<double>(cell.second)});
  }
  return palette;
}

// Mean linear colour of the pixels with weight (alpha, or all when alpha is empty).
cv::Vec3d MeanLinear(const cv::Mat& bgr, const cv::Mat& alpha) {
  cv::Vec3d sum(0, 0, 0);
  double total = 0;
  for (int y = 0; y < bgr.rows; ++y) {
    const cv::Vec3b* p = bgr.ptr<cv::Vec3b>(y);
    const uchar* a = alpha.empty() ? nullptr : alpha.ptr<uchar>(y);
    for (int x = 0; x < bgr.cols; ++x) {
      const double w = a ? a[x] / 255.0 : 1.0;
      if (w <= 0) continue;
      for (int c = 0; c < 3; ++c) sum[c] += w * SrgbToLinear(p[x][c]);
      total += w;
    }
  }
  return total > 0 ? sum / total : cv::Vec3d(0.18, 0.18, 0.18);
}

double Luminance(const cv::Vec3d& bgr) {
  return 0.0722 * bgr[0] + 0.7152 * bgr[1] + 0.2126 * bgr[2];
}

// 8-bit lookup tables applying `gains` in linear light.
cv::Mat GainTable(const cv::Vec3d& gains) {
  cv::Mat lut(1, 256, CV_8UC3);
  for (int i = 0; i < 256; ++i) {
    for (int c = 0; c < 3; ++c) {
      lut.at<cv::Vec3b>(0, i)[c] = LinearToSrgb(static_cast<float>(SrgbToLinear(i) * gains[c]));
    }
  }
  return lut;
}

// A palette with its colours as an N x 1 image and their Lab values, ready to measure changes.
struct PaletteSet {
  std::vector<Swatch> swatches;
  cv::Mat colours;  // CV_8UC3, N x 1
  cv::Mat labs;     // CV_32FC3, N x 1

  explicit PaletteSet(std::vector<Swatch> palette) : swatches(std::move(palette)) {
    if (swatches.empty()) return;
    colours.create(static_cast<int>(swatches.size()), 1, CV_8UC3);
    for (size_t i = 0; i < swatches.size(); ++i) {
      colours.at<cv::Vec3b>(static_cast<int>(i)) = swatches[i].bgr;
    }
    labs = BgrToLab(colours);
  }

  // Weighted mean and max ΔE2000 between the colours and the same colours under `lut`.
  std::pair<double, double> Change(const cv::Mat& lut) const {
    cv::Mat moved;
    cv::LUT(colours, lut, moved);
    const cv::Mat moved_labs = BgrToLab(moved);
    double sum = 0, total = 0, max = 0;
    for (int i = 0; i < colours.rows; ++i) {
      const double d = DeltaE2000(labs.at<cv::Vec3f>(i), moved_labs.at<cv::Vec3f>(i));
      sum += d * swatches[i].weight;
      total += swatches[i].weight;
      max = std::max(max, d);
    }
    return {total > 0 ? sum / total : 0, max};
  }
};

cv::Vec3d Pow(const cv::Vec3d& v, double t) {
  return {std::pow(v[0], t), std::pow(v[1], t), std::pow(v[2], t)};
}

// The largest t in [lo, hi] (hi first, then bisection) for which gains^t keeps the palette's
// change `margin` inside the bounds.
double LargestWithin(const PaletteSet& set, const cv::Vec3d& full, double lo, double hi,
                     const HarmonizeOptions& options, double margin) {
  auto within = [&](double t) {
    const std::pair<double, double> change = set.Change(GainTable(Pow(full, t)));
    return change.first <= options.max_mean_delta_e - margin &&
           change.second <= options.max_delta_e - margin;
  };
  if (within(hi)) return hi;
  for (int i = 0; i < 10; ++i) {
    const double mid = (lo + hi) / 2;
    if (within(mid)) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

}  // namespace

cv::Mat Harmonize(const cv::Mat& product_bgr, const cv::Mat& product_alpha,
                  const cv::Mat& scene_bgr, const HarmonizeOptions& options,
                  HarmonizeReport* report) {
  CV_Assert(product_bgr.type() == CV_8UC3 && product_alpha.type() == CV_8UC1 &&
            product_alpha.size() == product_bgr.size() && scene_bgr.type() == CV_8UC3);
  const double strength = std::clamp(options.strength, 0.0, 1.0);
  if (report) *report = HarmonizeReport{};
  if (strength == 0 || scene_bgr.empty()) return product_bgr.clone();

  // White balance: the scene's colour cast (its mean colour over its luminance) moves the product
  // part of the way; exposure: a fraction of the brightness ratio. Both bounded.
  const cv::Vec3d scene = MeanLinear(scene_bgr, cv::Mat());
  const cv::Vec3d product = MeanLinear(product_bgr, product_alpha);
  const double scene_y = std::max(1e-4, Luminance(scene));
  const double product_y = std::max(1e-4, Luminance(product));
  cv::Vec3d balance;
  for (int c = 0; c < 3; ++c) {
    balance[c] = std::clamp(std::pow(std::max(1e-4, scene[c]) / scene_y, 0.5 * strength),
                            1 - kMaxBalance, 1 + kMaxBalance);
  }
  balance /= Luminance(balance);  // white balance keeps the brightness
  const double exposure = std::clamp(std::pow(scene_y / product_y, 0.25 * strength),
                                     1 - kMaxExposure, 1 + kMaxExposure);
  const cv::Vec3d full = balance * exposure;

  // Scale the correction back (gains^t) until the colour change is within the bounds: a fast
  // search on a coarse palette (aiming kSafety inside the bounds), then a check on every distinct
  // colour, which continues the search there if the coarse palette was too optimistic.
  const PaletteSet coarse(Palette(product_bgr, product_alpha, 5));
  if (coarse.swatches.empty()) return product_bgr.clone();
  const PaletteSet exact(Palette(product_bgr, product_alpha, 8));
  double t = LargestWithin(coarse, full, 0, 1, options, kSafety);
  std::pair<double, double> change = exact.Change(GainTable(Pow(full, t)));
  if (change.first > options.max_mean_delta_e || change.second > options.max_delta_e) {
    t = LargestWithin(exact, full, 0, t, options, 0);
    change = exact.Change(GainTable(Pow(full, t)));
  }
  const cv::Vec3d gains = Pow(full, t);
  cv::Mat out;
  cv::LUT(product_bgr, GainTable(gains), out);
  if (report) *report = HarmonizeReport{gains, change.first, change.second};
  return out;
}

}  // namespace vitrine::ops
