#include "ops/shadow.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace vitrine::ops {
namespace {

constexpr double kPi = 3.14159265358979323846;
// Shadows are smooth: they are computed with the product at most this many pixels across.
constexpr double kWorkSide = 360;

struct Geometry {
  double w, h;            // product box size
  double base;            // floor row (the box's bottom edge)
  double sigma_core;      // blur of the contact shadow's dark core
  double sigma_wide;      // blur of its soft surround
  double sigma_near;      // blur of the cast shadow near the product
  double sigma_far;       // blur of the cast shadow's far end
  double kx = 0, ky = 0;  // cast shadow displacement per unit of height above the floor
  double footprint = 1;   // depth of the contact footprint, relative to a 0.3 floor squash
};

Geometry MakeGeometry(cv::Rect box, const ShadowOptions& o) {
  Geometry g;
  g.w = box.width;
  g.h = box.height;
  g.base = box.y + box.height;
  const double soft = std::clamp(o.softness, 0.0, 1.0);
  g.sigma_core = std::max(1.0, (0.006 + 0.02 * soft) * g.w);
  g.sigma_wide = std::max(2.0, (0.03 + 0.08 * soft) * g.w);
  g.sigma_near = std::max(1.0, (0.01 + 0.02 * soft) * g.w);
  g.sigma_far = std::max(2.0, (0.04 + 0.1 * soft) * std::max(g.w, g.h));
  g.footprint = std::clamp(o.floor_squash, 0.05, 1.0) / 0.3;
  if (o.kind == ShadowKind::kDrop) {
    // The shadow falls away from the light, foreshortened by the floor's perspective.
    const double angle = o.light_angle * kPi / 180.0;
    const double sx = -std::cos(angle), sy = std::sin(angle);
    g.kx = 0.6 * sx;
    g.ky = std::clamp(o.floor_squash, 0.05, 1.0) * sy;
    if (std::abs(g.ky) < 0.06) g.ky = g.ky < 0 ? -0.06 : 0.06;
  }
  return g;
}

// Rows [top, base) of `a`, weighted by nearness to the floor (decay in rows; 0 = no weighting),
// squashed vertically by `q` and laid on the floor row, a quarter behind it: a weighted mean over
// each column, so a solid column gives 1. Same size as `a`.
cv::Mat SquashOntoFloor(const cv::Mat& a, int top, int base, double q, double decay) {
  cv::Mat out = cv::Mat::zeros(a.size(), CV_32FC1);
  top = std::clamp(top, 0, a.rows);
  base = std::clamp(base, 0, a.rows);
  if (base - top < 1) return out;
  cv::Mat band = a.rowRange(top, base).clone();
  cv::Mat weights(band.rows, 1, CV_32FC1, cv::Scalar(1));
  if (decay > 0) {
    for (int y = 0; y < band.rows; ++y) {
      const float w = static_cast<float>(std::exp(-(base - 1 - (top + y)) / decay));
      band.row(y) *= w;
      weights.at<float>(y) = w;
    }
  }
  const int rows = std::max(1, static_cast<int>(std::lround(band.rows * q)));
  cv::Mat squashed, norm;
  cv::resize(band, squashed, cv::Size(band.cols, rows), 0, 0, cv::INTER_AREA);
  cv::resize(weights, norm, cv::Size(1, rows), 0, 0, cv::INTER_AREA);
  for (int y = 0; y < rows; ++y) squashed.row(y) /= std::max(1e-6f, norm.at<float>(y));
  const int start = base - rows / 4;  // mostly in front of the base, where it shows
  for (int y = 0; y < rows; ++y) {
    const int row = start + y;
    if (row >= 0 && row < out.rows) squashed.row(y).copyTo(out.row(row));
  }
  return out;
}

cv::Mat Blur(const cv::Mat& m, double sigma) {
  cv::Mat out;
  cv::GaussianBlur(m, out, cv::Size(), std::max(0.3, sigma), 0, cv::BORDER_CONSTANT);
  return out;
}

}  // namespace

cv::Rect ShadowBound(cv::Rect box, cv::Size canvas, const ShadowOptions& options) {
  if (options.kind == ShadowKind::kNone || box.empty() || options.opacity <= 0) return {};
  const Geometry g = MakeGeometry(box, options);
  const double spread = 0.1 * g.w + 3 * g.sigma_wide;
  double x0 = box.x - spread, x1 = box.x + box.width + spread;
  double y0 = g.base - 0.25 * g.h;
  double y1 = g.base + (0.02 + 0.04 * g.footprint) * g.h + 3 * g.sigma_wide;
  if (options.kind == ShadowKind::kDrop) {
    const double reach = 3 * g.sigma_far;
    x0 = std::min(x0, box.x + std::min(0.0, g.kx * g.h) - reach);
    x1 = std::max(x1, box.x + box.width + std::max(0.0, g.kx * g.h) + reach);
    y0 = std::min(y0, g.base + std::min(0.0, g.ky * g.h) - reach);
    y1 = std::max(y1, g.base + std::max(0.0, g.ky * g.h) + reach);
  }
  cv::Rect bound(cv::Point(static_cast<int>(std::floor(x0)), static_cast<int>(std::floor(y0))),
                 cv::Point(static_cast<int>(std::ceil(x1)), static_cast<int>(std::ceil(y1))));
  return bound & cv::Rect(cv::Point(0, 0), canvas);
}

ShadowLayer MakeShadow(const cv::Mat& alpha, cv::Rect box, cv::Size canvas,
                       const ShadowOptions& options) {
  CV_Assert(alpha.type() == CV_8UC1);
  ShadowLayer layer;
  layer.bound = ShadowBound(box, canvas, options);
  if (layer.bound.empty() || alpha.empty()) return layer;
  const Geometry g = MakeGeometry(box, options);

  // Work on the bound and the product together, shrunk: shadows carry no fine detail.
  const cv::Rect area = layer.bound | box;
  const double f = std::min(1.0, kWorkSide / std::max(g.w, g.h));
  const cv::Size work(std::max(1, static_cast<int>(std::lround(area.width * f))),
                      std::max(1, static_cast<int>(std::lround(area.height * f))));
  cv::Mat a = cv::Mat::zeros(work, CV_32FC1);
  {
    const cv::Rect at(static_cast<int>(std::lround((box.x - area.x) * f)),
                      static_cast<int>(std::lround((box.y - area.y) * f)),
                      std::max(1, static_cast<int>(std::lround(box.width * f))),
                      std::max(1, static_cast<int>(std::lround(box.height * f))));
    cv::Mat small;
    cv::resize(alpha, small, at.size(), 0, 0, cv::INTER_AREA);
    const cv::Rect inside = at & cv::Rect(cv::Point(0, 0), work);
    small(inside - at.tl()).convertTo(a(inside), CV_32FC1, 1.0 / 255.0);
  }
  const int base = static_cast<int>(std::lround((g.base - area.y) * f));
  const int top = static_cast<int>(std::lround((box.y - area.y) * f));
  const double h = g.h * f;

  // Contact: the lowest fifth of the silhouette, weighted toward the floor and squashed flat,
  // gives a dark core. The soft occlusion around it comes from the space under the product: each
  // column filled from its highest opaque pixel down to the floor (under a chair's seat, between
  // its legs, is in shade too), squashed flatter and blurred wider.
  cv::Mat core =
      Blur(SquashOntoFloor(a, base - static_cast<int>(0.2 * h), base, 0.12 * g.footprint, 0.04 * h),
           g.sigma_core * f);
  cv::Mat under = a.clone();
  for (int y = std::max(1, top); y < std::min(base, under.rows); ++y) {
    cv::Mat row = under.row(y);
    cv::max(row, under.row(y - 1), row);
  }
  cv::Mat wide = Blur(SquashOntoFloor(under, top, base, 0.05 * g.footprint, 0), g.sigma_wide * f);
  // A product's base is a footprint with depth, seen from above: its bottom edge may rise above
  // the box's lowest row (a bag whose strap hangs lower, in front) and still rest on the floor. So
  // each column's own lowest point, within that depth, darkens the floor right under it, less the
  // higher it is.
  const double depth =
      std::min(0.2 * h, 0.5 * g.w * f * std::clamp(options.floor_squash, 0.05, 1.0));
  const int thick = std::max(1, static_cast<int>(std::lround(0.024 * h * g.footprint)));
  cv::Mat contour = cv::Mat::zeros(a.size(), CV_32FC1);
  for (int x = 0; x < a.cols && depth >= 1; ++x) {
    for (int y = std::min(base, a.rows) - 1; y >= std::max(0, base - static_cast<int>(depth));
         --y) {
      if (a.at<float>(y, x) < 0.5f) continue;
      const float strength = static_cast<float>(1.0 - (base - 1 - y) / depth);
      for (int r = y + 1 - thick / 4; r <= y + thick - thick / 4; ++r) {
        if (r >= 0 && r < a.rows)
          contour.at<float>(r, x) = std::max(contour.at<float>(r, x), strength);
      }
      break;
    }
  }
  core = cv::max(core, Blur(contour, g.sigma_core * f));
  cv::Mat shadow = cv::min(core + 0.5 * wide, 1.0);

  if (options.kind == ShadowKind::kDrop) {
    // Cast: each point at height t above the floor lands at (x + kx t, base + ky t); the far end
    // is softer and lighter than the near end, as under a real light of some size.
    const double kx = g.kx, ky = g.ky;
    cv::Mat m = (cv::Mat_<double>(2, 3) << 1, -kx, kx * base, 0, -ky, (1 + ky) * base);
    cv::Mat smooth;  // limits aliasing when the warp squashes many rows into few
    cv::GaussianBlur(a, smooth, cv::Size(), 0.1, std::max(0.3, 0.4 / std::abs(ky)));
    cv::Mat height(a.size(), CV_32FC1);
    for (int y = 0; y < a.rows; ++y) {
      height.row(y).setTo(std::clamp((base - y) / std::max(1.0, h), 0.0, 1.0));
    }
    cv::Mat weighted = smooth.mul(height);
    cv::Mat cast, cast_height;
    cv::warpAffine(smooth, cast, m, a.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT);
    cv::warpAffine(weighted, cast_height, m, a.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT);
    const cv::Mat near = Blur(cast, g.sigma_near * f), far = Blur(cast, g.sigma_far * f);
    cv::Mat t = Blur(cast_height, g.sigma_near * f) / cv::max(near, 1e-4);
    t = cv::min(cv::max(t, 0.0), 1.0);
    cv::Mat one_minus_t = 1.0 - t;
    cv::Mat soft = near.mul(one_minus_t) + far.mul(t);
    cv::Mat fade = 1.0 - 0.7 * t;
    shadow = cv::max(shadow, 0.8 * soft.mul(fade));
  }

  // Back to full resolution over the bound only, as 8-bit darkness (exact mapping of the work
  // grid onto the bound's pixels).
  cv::Mat dark8;
  shadow.convertTo(dark8, CV_8UC1, 255.0 * std::clamp(options.opacity, 0.0, 1.0));
  const cv::Matx23d to_work(f, 0, (layer.bound.x - area.x) * f + 0.5 * f - 0.5, 0, f,
                            (layer.bound.y - area.y) * f + 0.5 * f - 0.5);
  cv::warpAffine(dark8, layer.darkness, to_work, layer.bound.size(),
                 cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT);
  return layer;
}

void DarkenWithShadow(const ShadowLayer& layer, cv::Mat& bgr) {
  if (layer.bound.empty()) return;
  CV_Assert(bgr.type() == CV_8UC3 && layer.darkness.type() == CV_8UC1 &&
            layer.darkness.size() == layer.bound.size());
  for (int y = 0; y < layer.bound.height; ++y) {
    const uchar* d = layer.darkness.ptr<uchar>(y);
    cv::Vec3b* p = bgr.ptr<cv::Vec3b>(layer.bound.y + y) + layer.bound.x;
    for (int x = 0; x < layer.bound.width; ++x) {
      if (d[x] == 0) continue;
      const int keep = 255 - d[x];
      for (int c = 0; c < 3; ++c) p[x][c] = static_cast<uchar>((p[x][c] * keep + 127) / 255);
    }
  }
}

}  // namespace vitrine::ops
