// Text scope: overlay vs product text (text_scope.h).
#include "ops/text_scope.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgproc.hpp>
#include <string>

namespace vitrine::ops {
namespace {

// A region is product text when at least this share of it lies on the product.
constexpr double kInsideProduct = 0.75;
// ...unless it is this large a share of the "product" it lies on: the segmenter took the graphic
// itself (a banner, a sticker) for an object.
constexpr double kLargeForProduct = 0.5;
// Recognition confidence above which a region reads as text.
constexpr double kReadable = 0.5;
// Below this recognition confidence a region is not text at all: the detector fires on some
// textures (fruit, foliage, fabric), and what it finds there reads as nothing.
constexpr double kNotText = 0.35;
// Recognised text seen this many times is a tiled watermark.
constexpr int kTiledCopies = 3;

}  // namespace

// Line height of a region: the short side of its rectangle.
double LineHeight(const models::TextRegion& region) {
  return std::max(1.0f, std::min(region.box.size.width, region.box.size.height));
}

models::TextRegion Scaled(const models::TextRegion& region, double sx, double sy, cv::Point2f off) {
  models::TextRegion out = region;
  for (cv::Point2f& p : out.polygon) p = cv::Point2f(p.x * sx - off.x, p.y * sy - off.y);
  return out;
}

// The region's pixels inside `roi` (a CV_8UC1 mask of roi's size), grown by `grow` px.
cv::Mat RegionMaskIn(cv::Rect roi, const models::TextRegion& region, int grow) {
  return models::RegionMask(roi.size(), {Scaled(region, 1, 1, cv::Point2f(roi.tl()))}, grow);
}

// Bounding box of the region grown by `margin`, clipped to `size`.
cv::Rect Window(const models::TextRegion& region, double margin, cv::Size size) {
  cv::Rect box = cv::boundingRect(region.polygon);
  const int m = static_cast<int>(std::ceil(margin)) + 1;
  return cv::Rect(box.x - m, box.y - m, box.width + 2 * m, box.height + 2 * m) &
         cv::Rect(cv::Point(0, 0), size);
}

// The flat-coloured box behind a text line (a red rounded rectangle behind a price), as a mask of
// `roi`'s size, or an empty Mat when the text sits on something else. The region's dominant
// colour (the box shows between the glyphs) is the candidate; the pixels of that colour connected
// to it, holes filled, must contain the region, must not reach the window's edge (that is a
// backdrop, not a box) and must differ from what surrounds them.
cv::Mat BannerMask(const cv::Mat& bgr, const models::TextRegion& region, cv::Rect roi) {
  const double h = LineHeight(region);
  const cv::Mat inside = RegionMaskIn(roi, region, 0);
  const int area = cv::countNonZero(inside);
  if (area < 16) return {};
  const cv::Mat pixels = bgr(roi);
  // Mode of the region's colours, 16 levels a channel.
  std::vector<int> histogram(16 * 16 * 16, 0);
  auto bin = [](const cv::Vec3b& p) { return (p[0] >> 4) * 256 + (p[1] >> 4) * 16 + (p[2] >> 4); };
  for (int y = 0; y < inside.rows; ++y) {
    for (int x = 0; x < inside.cols; ++x) {
      if (inside.at<uchar>(y, x)) ++histogram[bin(pixels.at<cv::Vec3b>(y, x))];
    }
  }
  const int mode =
      static_cast<int>(std::max_element(histogram.begin(), histogram.end()) - histogram.begin());
  cv::Mat in_mode(roi.size(), CV_8UC1, cv::Scalar(0));
  for (int y = 0; y < inside.rows; ++y) {
    for (int x = 0; x < inside.cols; ++x) {
      if (inside.at<uchar>(y, x) && bin(pixels.at<cv::Vec3b>(y, x)) == mode) {
        in_mode.at<uchar>(y, x) = 255;
      }
    }
  }
  if (cv::countNonZero(in_mode) < area / 5) return {};  // no dominant colour: text on a texture
  const cv::Scalar colour = cv::mean(pixels, in_mode);
  cv::Mat similar;
  cv::inRange(pixels, colour - cv::Scalar::all(28), colour + cv::Scalar::all(28), similar);
  cv::Mat labels;
  cv::connectedComponents(similar, labels, 8, CV_32S);
  std::vector<bool> seeded(static_cast<size_t>(labels.rows) * labels.cols + 1, false);
  for (int y = 0; y < labels.rows; ++y) {
    for (int x = 0; x < labels.cols; ++x) {
      if (in_mode.at<uchar>(y, x)) seeded[labels.at<int>(y, x)] = true;
    }
  }
  cv::Mat banner(roi.size(), CV_8UC1, cv::Scalar(0));
  for (int y = 0; y < labels.rows; ++y) {
    for (int x = 0; x < labels.cols; ++x) {
      const int label = labels.at<int>(y, x);
      if (label == 0 || !seeded[label]) continue;
      if (x == 0 || y == 0 || x == labels.cols - 1 || y == labels.rows - 1) return {};
      banner.at<uchar>(y, x) = 255;
    }
  }
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(banner, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  cv::drawContours(banner, contours, -1, cv::Scalar(255), cv::FILLED);
  cv::Mat covered;
  cv::bitwise_and(banner, inside, covered);
  if (cv::countNonZero(covered) < 0.6 * area) return {};  // the colour does not hold the text
  if (cv::countNonZero(banner) > 4 * area) return {};
  // A banner stands out from its surroundings; a band of a smooth gradient does not.
  const int reach = std::max(3, cvRound(h / 4));
  cv::Mat outside;
  cv::dilate(banner, outside,
             cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * reach + 1, 2 * reach + 1)));
  outside.setTo(0, banner);
  if (cv::countNonZero(outside) < 8) return {};
  if (cv::norm(cv::mean(pixels, outside) - colour) < 40) return {};
  // The banner's anti-aliased rim and its own shadow.
  const int rim = 2 + cvRound(h / 20);
  cv::dilate(banner, banner,
             cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * rim + 1, 2 * rim + 1)));
  return banner;
}

void ClassifyText(const cv::Mat& bgr, const cv::Mat& product,
                  const std::vector<models::TextRegion>& regions, bool recognised,
                  std::vector<TextFinding>* findings) {
  findings->resize(regions.size());
  std::map<std::string, int> copies;
  for (const TextFinding& f : *findings) {
    if (!f.text.empty()) ++copies[f.text];
  }
  cv::Mat labels, stats, centroids;
  double sx = 1, sy = 1;
  if (!product.empty()) {
    cv::connectedComponentsWithStats(product, labels, stats, centroids, 8, CV_32S);
    sx = static_cast<double>(product.cols) / bgr.cols;
    sy = static_cast<double>(product.rows) / bgr.rows;
  }
  for (size_t i = 0; i < regions.size(); ++i) {
    TextFinding& f = (*findings)[i];
    f.polygon = regions[i].polygon;
    f.score = regions[i].score;
    if (!f.text.empty() && copies[f.text] >= kTiledCopies) {
      f.overlay = true;
      f.why = "repeated across the image like a watermark";
      continue;
    }
    if (recognised && f.confidence < kNotText) {
      f.overlay = false;
      f.why = "does not read as text (texture or pattern)";
      continue;
    }
    if (product.empty()) {
      f.overlay = true;
      f.why = "no product mask: all text counts";
      continue;
    }
    const models::TextRegion small = Scaled(regions[i], sx, sy, cv::Point2f(0, 0));
    const cv::Rect roi = Window(small, 0, product.size());
    const cv::Mat inside = roi.empty() ? cv::Mat() : RegionMaskIn(roi, small, 0);
    const int area = inside.empty() ? 0 : cv::countNonZero(inside);
    if (area == 0) {
      f.overlay = true;
      f.why = "too small to place";
      continue;
    }
    std::map<int, int> on_product;  // component label -> region pixels on it
    for (int y = 0; y < inside.rows; ++y) {
      for (int x = 0; x < inside.cols; ++x) {
        const int label = labels.at<int>(y + roi.y, x + roi.x);
        if (inside.at<uchar>(y, x) && label > 0) ++on_product[label];
      }
    }
    int total = 0, best = 0, best_label = 0;
    for (const auto& [label, count] : on_product) {
      total += count;
      if (count > best) best = count, best_label = label;
    }
    const double share = static_cast<double>(total) / area;
    if (share < kInsideProduct) {
      f.overlay = true;
      f.why = share < 0.1 ? "over the background" : "spans the product and the background";
      continue;
    }
    const int component = stats.at<int>(best_label, cv::CC_STAT_AREA);
    // Only for text that reads: the detector also fires on whole products with printed
    // texture, and such a blob covers most of its "component" too.
    const bool reads = !f.text.empty() && f.confidence >= kReadable;
    if (reads && best > kLargeForProduct * component) {
      f.overlay = true;
      f.why = "the graphic itself is what the segmenter found";
      continue;
    }
    f.overlay = false;
    f.why = "printed on the product";
  }
}

}  // namespace vitrine::ops
