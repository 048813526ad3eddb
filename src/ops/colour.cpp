#include "ops/colour.h"

#include "qa/delta_e.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace vitrine::ops {
namespace {

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
  return qa::Ciede2000(cv::Vec3d(lab1[0], lab1[1], lab1[2]), cv::Vec3d(lab2[0], lab2[1], lab2[2]));
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
