#include "ops/colour.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace vitrine::ops {
namespace {

constexpr double kPi = 3.14159265358979323846;

double Degrees(double radians) { return radians * 180.0 / kPi; }
double Radians(double degrees) { return degrees * kPi / 180.0; }

const std::array<float, 256>& LinearTable() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) {
      double c = i / 255.0;
      t[i] = static_cast<float>(c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4));
    }
    return t;
  }();
  return table;
}

}  // namespace

cv::Mat BgrToLab(const cv::Mat& bgr) {
  cv::Mat unit, lab;
  bgr.convertTo(unit, CV_32FC3, 1.0 / 255.0);
  cv::cvtColor(unit, lab, cv::COLOR_BGR2Lab);
  return lab;
}

cv::Mat LabToBgr(const cv::Mat& lab) {
  cv::Mat unit, bgr;
  cv::cvtColor(lab, unit, cv::COLOR_Lab2BGR);
  unit.convertTo(bgr, CV_8UC3, 255.0);
  return bgr;
}

cv::Vec3f BgrToLab(const cv::Vec3b& bgr) {
  return BgrToLab(cv::Mat(1, 1, CV_8UC3, cv::Scalar(bgr[0], bgr[1], bgr[2]))).at<cv::Vec3f>(0, 0);
}

double DeltaE2000(const cv::Vec3f& lab1, const cv::Vec3f& lab2) {
  const double l1 = lab1[0], a1 = lab1[1], b1 = lab1[2];
  const double l2 = lab2[0], a2 = lab2[1], b2 = lab2[2];
  const double c1 = std::hypot(a1, b1), c2 = std::hypot(a2, b2);
  const double c_mean = (c1 + c2) / 2;
  const double c7 = std::pow(c_mean, 7);
  const double g = 0.5 * (1 - std::sqrt(c7 / (c7 + std::pow(25.0, 7))));
  const double a1p = (1 + g) * a1, a2p = (1 + g) * a2;
  const double c1p = std::hypot(a1p, b1), c2p = std::hypot(a2p, b2);
  auto hue = [](double b, double a) {
    if (a == 0 && b == 0) return 0.0;
    double h = Degrees(std::atan2(b, a));
    return h < 0 ? h + 360 : h;
  };
  const double h1p = hue(b1, a1p), h2p = hue(b2, a2p);
  const double dl = l2 - l1, dc = c2p - c1p;
  double dh = 0;
  if (c1p * c2p != 0) {
    dh = h2p - h1p;
    if (dh > 180) dh -= 360;
    if (dh < -180) dh += 360;
  }
  const double dh_big = 2 * std::sqrt(c1p * c2p) * std::sin(Radians(dh / 2));
  const double l_mean = (l1 + l2) / 2, cp_mean = (c1p + c2p) / 2;
  double hp_mean = h1p + h2p;
  if (c1p * c2p != 0) {
    if (std::abs(h1p - h2p) <= 180) {
      hp_mean /= 2;
    } else {
      hp_mean = (h1p + h2p < 360) ? (h1p + h2p + 360) / 2 : (h1p + h2p - 360) / 2;
    }
  }
  const double t =
      1 - 0.17 * std::cos(Radians(hp_mean - 30)) + 0.24 * std::cos(Radians(2 * hp_mean)) +
      0.32 * std::cos(Radians(3 * hp_mean + 6)) - 0.20 * std::cos(Radians(4 * hp_mean - 63));
  const double d_theta = 30 * std::exp(-std::pow((hp_mean - 275) / 25, 2));
  const double cp7 = std::pow(cp_mean, 7);
  const double rc = 2 * std::sqrt(cp7 / (cp7 + std::pow(25.0, 7)));
  const double l50 = (l_mean - 50) * (l_mean - 50);
  const double sl = 1 + 0.015 * l50 / std::sqrt(20 + l50);
  const double sc = 1 + 0.045 * cp_mean;
  const double sh = 1 + 0.015 * cp_mean * t;
  const double rt = -std::sin(Radians(2 * d_theta)) * rc;
  const double tl = dl / sl, tc = dc / sc, th = dh_big / sh;
  return std::sqrt(tl * tl + tc * tc + th * th + rt * tc * th);
}

DeltaEStats CompareColours(const cv::Mat& bgr1, const cv::Mat& bgr2, const cv::Mat& mask,
                           int threshold) {
  CV_Assert(bgr1.type() == CV_8UC3 && bgr2.type() == CV_8UC3 && bgr1.size() == bgr2.size());
  const cv::Mat lab1 = BgrToLab(bgr1), lab2 = BgrToLab(bgr2);
  DeltaEStats stats;
  double sum = 0;
  for (int y = 0; y < lab1.rows; ++y) {
    const cv::Vec3f* p1 = lab1.ptr<cv::Vec3f>(y);
    const cv::Vec3f* p2 = lab2.ptr<cv::Vec3f>(y);
    const uchar* m = mask.empty() ? nullptr : mask.ptr<uchar>(y);
    for (int x = 0; x < lab1.cols; ++x) {
      if (m && m[x] < threshold) continue;
      const double d = DeltaE2000(p1[x], p2[x]);
      sum += d;
      stats.max = std::max(stats.max, d);
      ++stats.pixels;
    }
  }
  stats.mean = stats.pixels > 0 ? sum / stats.pixels : 0;
  return stats;
}

float SrgbToLinear(uchar value) { return LinearTable()[value]; }

uchar LinearToSrgb(float linear) {
  const double c = std::clamp(static_cast<double>(linear), 0.0, 1.0);
  const double v = c <= 0.0031308 ? 12.92 * c : 1.055 * std::pow(c, 1 / 2.4) - 0.055;
  return cv::saturate_cast<uchar>(v * 255.0);
}

}  // namespace vitrine::ops
