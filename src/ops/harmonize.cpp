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
// The bounds are checked on one representative per colour cell (5 bits a channel); a pixel may
// differ from its representative by a few codes, so the search aims this far inside the bounds.
constexpr double kSafety = 0.5;

struct Swatch {
  cv::Vec3b bgr;
  double weight;
};

// The product's colours: the mean colour of each occupied 32x32x32 cell and its pixel count.
std::vector<Swatch> Palette(const cv::Mat& bgr, const cv::Mat& alpha) {
  std::unordered_map<int, std::pair<cv::Vec3d, int>> cells;
  for (int y = 0; y < bgr.rows; ++y) {
    const cv::Vec3b* p = bgr.ptr<cv::Vec3b>(y);
    const uchar* a = alpha.ptr<uchar>(y);
    for (int x = 0; x < bgr.cols; ++x) {
      if (a[x] < 128) continue;
      const int key = (p[x][0] >> 3) << 10 | (p[x][1] >> 3) << 5 | (p[x][2] >> 3);
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

// Weighted mean and max ΔE2000 between the palette's colours (`colours`, N x 1 CV_8UC3, and their
// Lab values) and the same colours under `lut`.
std::pair<double, double> PaletteChange(const std::vector<Swatch>& palette, const cv::Mat& colours,
                                        const cv::Mat& labs, const cv::Mat& lut) {
  cv::Mat moved;
  cv::LUT(colours, lut, moved);
  const cv::Mat moved_labs = BgrToLab(moved);
  double sum = 0, total = 0, max = 0;
  for (size_t i = 0; i < palette.size(); ++i) {
    const int row = static_cast<int>(i);
    const double d = DeltaE2000(labs.at<cv::Vec3f>(row, 0), moved_labs.at<cv::Vec3f>(row, 0));
    sum += d * palette[i].weight;
    total += palette[i].weight;
    max = std::max(max, d);
  }
  return {total > 0 ? sum / total : 0, max};
}

cv::Vec3d Pow(const cv::Vec3d& v, double t) {
  return {std::pow(v[0], t), std::pow(v[1], t), std::pow(v[2], t)};
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

  // Scale the correction back (gains^t) until the colour change is within the bounds.
  const std::vector<Swatch> palette = Palette(product_bgr, product_alpha);
  if (palette.empty()) return product_bgr.clone();
  cv::Mat colours(static_cast<int>(palette.size()), 1, CV_8UC3);
  for (size_t i = 0; i < palette.size(); ++i)
    colours.at<cv::Vec3b>(static_cast<int>(i)) = palette[i].bgr;
  const cv::Mat labs = BgrToLab(colours);
  auto within = [&](double t, std::pair<double, double>* change) {
    *change = PaletteChange(palette, colours, labs, GainTable(Pow(full, t)));
    return change->first <= options.max_mean_delta_e - kSafety &&
           change->second <= options.max_delta_e - kSafety;
  };
  std::pair<double, double> change{0, 0};
  double t = 1;
  if (!within(1, &change)) {
    double lo = 0, hi = 1;
    for (int i = 0; i < 10; ++i) {
      const double mid = (lo + hi) / 2;
      std::pair<double, double> c;
      if (within(mid, &c)) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    t = lo;
    within(t, &change);
  }
  const cv::Vec3d gains = Pow(full, t);
  cv::Mat out;
  cv::LUT(product_bgr, GainTable(gains), out);
  if (report) *report = HarmonizeReport{gains, change.first, change.second};
  return out;
}

}  // namespace vitrine::ops
