#include "qa/delta_e.h"

#include <cmath>
#include <opencv2/imgproc.hpp>

namespace vitrine::qa {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kPow25To7 = 6103515625.0;  // 25^7

double Deg(double rad) { return rad * 180.0 / kPi; }
double Rad(double deg) { return deg * kPi / 180.0; }

// Hue angle in degrees in [0, 360); 0 for a neutral colour, as the formula specifies.
double Hue(double b, double a_prime) {
  if (b == 0 && a_prime == 0) return 0;
  double h = Deg(std::atan2(b, a_prime));
  return h < 0 ? h + 360 : h;
}

}  // namespace

double Ciede2000(const cv::Vec3d& lab1, const cv::Vec3d& lab2) {
  const double l1 = lab1[0], a1 = lab1[1], b1 = lab1[2];
  const double l2 = lab2[0], a2 = lab2[1], b2 = lab2[2];

  const double c_mean = (std::hypot(a1, b1) + std::hypot(a2, b2)) / 2;
  const double c7 = std::pow(c_mean, 7);
  const double g = 0.5 * (1 - std::sqrt(c7 / (c7 + kPow25To7)));
  const double a1p = (1 + g) * a1, a2p = (1 + g) * a2;
  const double c1p = std::hypot(a1p, b1), c2p = std::hypot(a2p, b2);
  const double h1p = Hue(b1, a1p), h2p = Hue(b2, a2p);

  const double dl = l2 - l1;
  const double dc = c2p - c1p;
  double dh = 0;
  if (c1p * c2p != 0) {
    dh = h2p - h1p;
    if (dh > 180) dh -= 360;
    if (dh < -180) dh += 360;
  }
  const double dh_big = 2 * std::sqrt(c1p * c2p) * std::sin(Rad(dh / 2));

  const double l_mean = (l1 + l2) / 2;
  const double cp_mean = (c1p + c2p) / 2;
  double h_mean = h1p + h2p;
  if (c1p * c2p != 0) {
    if (std::abs(h1p - h2p) <= 180) {
      h_mean /= 2;
    } else {
      h_mean = h_mean < 360 ? (h_mean + 360) / 2 : (h_mean - 360) / 2;
    }
  }
  const double t = 1 - 0.17 * std::cos(Rad(h_mean - 30)) + 0.24 * std::cos(Rad(2 * h_mean)) +
                   0.32 * std::cos(Rad(3 * h_mean + 6)) - 0.20 * std::cos(Rad(4 * h_mean - 63));
  const double d_theta = 30 * std::exp(-std::pow((h_mean - 275) / 25, 2));
  const double cp7 = std::pow(cp_mean, 7);
  const double r_c = 2 * std::sqrt(cp7 / (cp7 + kPow25To7));
  const double l50 = (l_mean - 50) * (l_mean - 50);
  const double s_l = 1 + 0.015 * l50 / std::sqrt(20 + l50);
  const double s_c = 1 + 0.045 * cp_mean;
  const double s_h = 1 + 0.015 * cp_mean * t;
  const double r_t = -std::sin(Rad(2 * d_theta)) * r_c;

  const double tl = dl / s_l, tc = dc / s_c, th = dh_big / s_h;
  return std::sqrt(tl * tl + tc * tc + th * th + r_t * tc * th);
}

cv::Mat BgrToLab(const cv::Mat& bgr) {
  CV_Assert(bgr.type() == CV_8UC3);
  cv::Mat unit, lab;
  // The float path of cvtColor gives true CIELAB (L 0..100); the 8-bit path rescales it.
  bgr.convertTo(unit, CV_32FC3, 1.0 / 255);
  cv::cvtColor(unit, lab, cv::COLOR_BGR2Lab);
  return lab;
}

}  // namespace vitrine::qa
