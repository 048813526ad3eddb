#include "core/morphology.h"

#include <map>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace vitrine {
namespace {

// Below this radius cv::dilate's own loop over the kernel is as fast.
constexpr int kDirectRadius = 4;
// Morph hands the passes a window that already holds the neighbours that matter: none beyond it.
constexpr int kBorder = cv::BORDER_CONSTANT | cv::BORDER_ISOLATED;

// Max (dilate) or min (erode) over the disc: for each of the disc's rows, the mask grown along
// the row by that row's half-width, shifted by the row's offset. The half-widths are reached in
// increasing order, each from the last by a narrow pass, so the whole costs O(radius) passes.
cv::Mat ByRows(const cv::Mat& mask, int radius, cv::MorphTypes op) {
  const cv::Mat disc = DiscKernel(radius);
  std::map<int, std::vector<int>> rows_by_half;  // half-width -> the disc's rows with it
  for (int row = 0; row < disc.rows; ++row) {
    rows_by_half[cv::countNonZero(disc.row(row)) / 2].push_back(row);
  }
  // Rows past the image: nothing for a dilation, everything for an erosion (OpenCV's borders).
  const bool dilate = op == cv::MORPH_DILATE;
  cv::Mat out(mask.size(), CV_8UC1, cv::Scalar(dilate ? 0 : 255));
  cv::Mat grown = mask.clone();
  int reached = 0;
  for (const auto& [half, rows] : rows_by_half) {
    if (half > reached) {
      cv::morphologyEx(grown, grown, op,
                       cv::getStructuringElement(cv::MORPH_RECT, {2 * (half - reached) + 1, 1}),
                       {-1, -1}, 1, kBorder);
      reached = half;
    }
    for (const int row : rows) {
      const int dy = row - radius;  // out(y) takes the grown mask at y + dy
      const int y0 = std::max(0, -dy), y1 = std::min(mask.rows, mask.rows - dy);
      if (y0 >= y1) continue;
      cv::Mat target = out.rowRange(y0, y1);
      const cv::Mat source = grown.rowRange(y0 + dy, y1 + dy);
      if (dilate) {
        cv::max(target, source, target);
      } else {
        cv::min(target, source, target);
      }
    }
  }
  return out;
}

// `op` over the disc, on `mask` and its neighbours within `radius` when it is a region of a
// larger image (as cv::dilate and cv::erode see them).
cv::Mat Morph(const cv::Mat& mask, int radius, cv::MorphTypes op) {
  CV_Assert(mask.type() == CV_8UC1);
  if (radius <= 0) return mask.clone();
  cv::Size whole;
  cv::Point at, wider_at;
  mask.locateROI(whole, at);
  cv::Mat wider = mask;
  wider.adjustROI(radius, radius, radius, radius);  // clipped to the larger image
  wider.locateROI(whole, wider_at);
  cv::Mat out;
  if (radius <= kDirectRadius) {
    cv::morphologyEx(wider, out, op, DiscKernel(radius), {-1, -1}, 1, kBorder);
  } else {
    out = ByRows(wider, radius, op);
  }
  return out(cv::Rect(at - wider_at, mask.size())).clone();
}

}  // namespace

cv::Mat DiscKernel(int radius) {
  return cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * radius + 1, 2 * radius + 1});
}

cv::Mat DilateDisc(const cv::Mat& mask, int radius) {
  return Morph(mask, radius, cv::MORPH_DILATE);
}

cv::Mat ErodeDisc(const cv::Mat& mask, int radius) { return Morph(mask, radius, cv::MORPH_ERODE); }

}  // namespace vitrine
