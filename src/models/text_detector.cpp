#include "models/text_detector.h"

#include <algorithm>
#include <cmath>
#include <opencv2/dnn/shape_utils.hpp>
#include <opencv2/imgproc.hpp>

namespace vitrine::models {
namespace {

constexpr int kAlign = 32;  // the net downsamples by 32

int AlignTo32(double v) {
  return std::max(kAlign, static_cast<int>(std::lround(v / kAlign)) * kAlign);
}

// Start offsets of tiles of `tile` pixels covering `length` with at least `overlap` shared.
std::vector<int> TileStarts(int length, int tile, int overlap) {
  if (length <= tile) return {0};
  const int step = tile - overlap;
  std::vector<int> starts;
  for (int x = 0; x + tile < length; x += step) starts.push_back(x);
  starts.push_back(length - tile);
  return starts;
}

// Where tile i's part of the stitched map begins: the middle of its overlap with tile i-1, so
// every kept pixel is at least overlap/2 from a tile border it shares.
int KeepBegin(const std::vector<int>& starts, size_t i, int tile) {
  return i == 0 ? 0 : (starts[i] + starts[i - 1] + tile) / 2;
}

// Intersection over union of two polygons' filled outlines (pixel grid of their bounds).
double OutlineIoU(const std::vector<cv::Point2f>& a, const std::vector<cv::Point2f>& b) {
  const cv::Rect ra = cv::boundingRect(a), rb = cv::boundingRect(b);
  if ((ra & rb).empty()) return 0;
  const cv::Rect both = ra | rb;
  TextRegion pa, pb;
  for (const cv::Point2f& p : a) pa.polygon.push_back(p - cv::Point2f(both.tl()));
  for (const cv::Point2f& p : b) pb.polygon.push_back(p - cv::Point2f(both.tl()));
  const cv::Mat ma = RegionMask(both.size() + cv::Size(1, 1), {pa});
  const cv::Mat mb = RegionMask(both.size() + cv::Size(1, 1), {pb});
  const int joined = cv::countNonZero(ma | mb);
  return joined == 0 ? 0.0 : static_cast<double>(cv::countNonZero(ma & mb)) / joined;
}

}  // namespace

Result<std::unique_ptr<TextDetector>> TextDetector::Load(const std::string& onnx_path,
                                                         Options options) {
  const Options& o = options;
  if (o.max_side < kAlign || o.min_short_side < kAlign || o.tile_size < 2 * kAlign ||
      o.tile_size % kAlign != 0 || o.tile_overlap < 0 || o.tile_overlap % kAlign != 0 ||
      o.tile_overlap >= o.tile_size / 2 || o.max_work_pixels < kAlign * kAlign ||
      o.small_photo_side < 0 || !(o.max_photo_enlargement >= 1)) {
    return InvalidArgument(
        "text detector sizes out of range: max_side and min_short_side must be >= 32, tile_size "
        "and tile_overlap multiples of 32 with overlap below half a tile, small_photo_side >= 0 "
        "and max_photo_enlargement >= 1");
  }
  if (!(o.binary_threshold > 0 && o.binary_threshold < 1 && o.box_threshold >= 0 &&
        o.box_threshold <= 1 && o.unclip_ratio >= 0 && o.unclip_margin >= 0 && o.max_regions > 0 &&
        o.chroma_saturated >= 1 && o.chroma_saturated <= 255 && o.chroma_overlap >= 0 &&
        o.chroma_overlap <= 1)) {
    return InvalidArgument(
        "text detector thresholds out of range: binary_threshold in (0, 1), box_threshold in "
        "[0, 1], unclip_ratio and unclip_margin >= 0, max_regions > 0, chroma_saturated in "
        "[1, 255], chroma_overlap in [0, 1]");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<NetPool> nets, NetPool::Load(onnx_path, "PP-OCRv4 detection"));
  return std::unique_ptr<TextDetector>(new TextDetector(std::move(nets), options));
}

cv::Size TextDetector::WorkSize(cv::Size image) const {
  const double long_side = std::max(image.width, image.height);
  const double short_side = std::min(image.width, image.height);
  double scale = std::min(1.0, options_.max_side / long_side);
  if (short_side * scale < options_.min_short_side) {
    scale = std::min(1.0, std::max(scale, options_.min_short_side / short_side));
  }
  const double area = static_cast<double>(image.width) * image.height;
  if (area * scale * scale > static_cast<double>(options_.max_work_pixels)) {
    scale = std::sqrt(options_.max_work_pixels / area);
  }
  return {AlignTo32(image.width * scale), AlignTo32(image.height * scale)};
}

double TextDetector::PhotoScale(cv::Size image) const {
  const double short_side = std::min(image.width, image.height);
  if (short_side <= 0 || short_side >= options_.small_photo_side) return 1.0;
  return std::min(options_.max_photo_enlargement, options_.small_photo_side / short_side);
}

cv::Size TextDetector::PhotoWorkSize(cv::Size image) const {
  const double scale = PhotoScale(image);
  if (scale == 1.0) return WorkSize(image);
  return WorkSize({static_cast<int>(std::lround(image.width * scale)),
                   static_cast<int>(std::lround(image.height * scale))});
}

Result<cv::Mat> TextDetector::Infer(const cv::Mat& bgr_tile, bool rgb) const {
  cv::Mat normalized;
  bgr_tile.convertTo(normalized, CV_32FC3, 1.0 / 255.0);
  if (rgb) cv::cvtColor(normalized, normalized, cv::COLOR_BGR2RGB);
  cv::subtract(normalized, cv::Scalar(0.485, 0.456, 0.406), normalized);
  cv::divide(normalized, cv::Scalar(0.229, 0.224, 0.225), normalized);
  cv::Mat blob = cv::dnn::blobFromImage(normalized);
  ASSIGN_OR_RETURN(NetPool::Lease lease, nets_->Borrow(cv::dnn::shape(blob)));
  ASSIGN_OR_RETURN(cv::Mat out, RunNet(lease.net(), blob, nets_->label()));
  if (out.total() != bgr_tile.total()) {
    return ModelFailure("PP-OCRv4 detection returned " + std::to_string(out.total()) +
                        " values for a " + std::to_string(bgr_tile.cols) + "x" +
                        std::to_string(bgr_tile.rows) +
                        " input; run `vitrine models prepare` "
                        "again");
  }
  return cv::Mat(bgr_tile.rows, bgr_tile.cols, CV_32FC1, out.ptr<float>()).clone();
}

Result<cv::Mat> TextDetector::MapAt(const cv::Mat& bgr, cv::Size work, bool rgb) const {
  cv::Mat scaled;
  const bool shrinking = work.width <= bgr.cols && work.height <= bgr.rows;
  cv::resize(bgr, scaled, work, 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  const int tile = options_.tile_size;
  if (work.width <= tile && work.height <= tile) return Infer(scaled, rgb);

  const std::vector<int> xs = TileStarts(work.width, tile, options_.tile_overlap);
  const std::vector<int> ys = TileStarts(work.height, tile, options_.tile_overlap);
  const int tile_w = std::min(tile, work.width), tile_h = std::min(tile, work.height);
  cv::Mat stitched(work, CV_32FC1);
  for (size_t j = 0; j < ys.size(); ++j) {
    for (size_t i = 0; i < xs.size(); ++i) {
      ASSIGN_OR_RETURN(cv::Mat map, Infer(scaled(cv::Rect(xs[i], ys[j], tile_w, tile_h)), rgb));
      const int x0 = KeepBegin(xs, i, tile_w), y0 = KeepBegin(ys, j, tile_h);
      const int x1 = i + 1 < xs.size() ? KeepBegin(xs, i + 1, tile_w) : work.width;
      const int y1 = j + 1 < ys.size() ? KeepBegin(ys, j + 1, tile_h) : work.height;
      const cv::Rect keep(x0, y0, x1 - x0, y1 - y0);
      map(keep - cv::Point(xs[i], ys[j])).copyTo(stitched(keep));
    }
  }
  return stitched;
}

Result<cv::Mat> TextDetector::WorkMap(const cv::Mat& bgr, cv::Size work) const {
  using Planes = Options::Planes;
  if (options_.planes != Planes::kBoth) return MapAt(bgr, work, options_.planes == Planes::kRgb);
  ASSIGN_OR_RETURN(cv::Mat as_bgr, MapAt(bgr, work, false));
  ASSIGN_OR_RETURN(cv::Mat as_rgb, MapAt(bgr, work, true));
  return cv::Mat(cv::max(as_bgr, as_rgb));
}

Result<TextDetector::Output> TextDetector::RunAt(const cv::Mat& image, bool whole_photo,
                                                 bool chroma) const {
  ASSIGN_OR_RETURN(const cv::Mat bgr, NetInputBgr(image, "text detection"));
  const cv::Size work = whole_photo ? PhotoWorkSize(bgr.size()) : WorkSize(bgr.size());
  ASSIGN_OR_RETURN(cv::Mat work_map, WorkMap(bgr, work));
  Output out;
  out.regions = RegionsFromMap(work_map, bgr.size());
  if (chroma && options_.chroma_pass) {
    RETURN_IF_ERROR(AddChromaRegions(bgr, work, &work_map, &out.regions));
  }
  cv::resize(work_map, out.probability, bgr.size(), 0, 0, cv::INTER_LINEAR);
  return out;
}

Status TextDetector::AddChromaRegions(const cv::Mat& bgr, cv::Size work, cv::Mat* work_map,
                                      std::vector<TextRegion>* regions) const {
  cv::Mat high, low;
  cv::Mat planes[3];
  cv::split(bgr, planes);
  cv::max(planes[0], planes[1], high);
  cv::max(high, planes[2], high);
  cv::min(planes[0], planes[1], low);
  cv::min(low, planes[2], low);
  cv::Mat chroma = high - low;
  if (cv::countNonZero(chroma >= options_.chroma_saturated) == 0) return Status::Ok();
  cv::Mat view;
  cv::cvtColor(255 - chroma, view, cv::COLOR_GRAY2BGR);
  // At half the photo pass's scale, its short side not under small_photo_side (nor over the photo
  // pass's): colour-only captions stay as large as a small photo's are read, at about a quarter of
  // the net's cost on large photos.
  const double short_side = std::min(work.width, work.height);
  const double scale =
      std::min(1.0, std::max(0.5, static_cast<double>(options_.small_photo_side) / short_side));
  const cv::Size half(AlignTo32(work.width * scale), AlignTo32(work.height * scale));
  ASSIGN_OR_RETURN(cv::Mat chroma_map, WorkMap(view, half));
  if (chroma_map.size() != work) cv::resize(chroma_map, chroma_map, work, 0, 0, cv::INTER_LINEAR);
  std::vector<TextRegion> found = RegionsFromMap(chroma_map, bgr.size());
  if (found.empty()) return Status::Ok();
  // A chroma region is new when no region of the photo's own pass is the same line (IoU of the
  // outlines >= 1 - chroma_overlap). Overlap alone is not enough: a caption touching a line of
  // print is half inside that line's region, and the line is classified on its own.
  const double sx = static_cast<double>(work_map->cols) / bgr.cols;
  const double sy = static_cast<double>(work_map->rows) / bgr.rows;
  const cv::Mat merged = cv::max(*work_map, chroma_map);
  const size_t photo_regions = regions->size();
  for (TextRegion& region : found) {
    bool same_line = false;
    for (size_t i = 0; i < photo_regions && !same_line; ++i) {
      same_line = OutlineIoU(region.polygon, (*regions)[i].polygon) >= 1 - options_.chroma_overlap;
    }
    if (same_line) continue;
    TextRegion in_map = region;
    for (cv::Point2f& p : in_map.polygon) {
      p = cv::Point2f(static_cast<float>((p.x + 0.5) * sx - 0.5),
                      static_cast<float>((p.y + 0.5) * sy - 0.5));
    }
    merged.copyTo(*work_map, RegionMask(work_map->size(), {in_map}));
    region.chroma_view = true;
    regions->push_back(std::move(region));
  }
  if (regions->size() > static_cast<size_t>(options_.max_regions)) {
    regions->resize(options_.max_regions);
  }
  return Status::Ok();
}

Result<TextDetector::Output> TextDetector::Run(const cv::Mat& image) const {
  return RunAt(image, false, false);
}

Result<TextDetector::Output> TextDetector::RunPhoto(const cv::Mat& image) const {
  return RunAt(image, true, true);
}

Result<TextDetector::Output> TextDetector::RunPhotoAround(
    const cv::Mat& image, const std::vector<cv::Rect>& windows) const {
  ASSIGN_OR_RETURN(const cv::Mat bgr, NetInputBgr(image, "text detection"));
  const cv::Rect frame(cv::Point(0, 0), bgr.size());
  double covered = 0;
  for (const cv::Rect& w : windows) covered += (w & frame).area();
  if (covered > 0.6 * bgr.total()) return RunAt(bgr, true, false);
  const double enlarge = PhotoScale(bgr.size());
  const cv::Size work = WorkSize(bgr.size());
  const double scale =
      enlarge > 1 ? enlarge : std::min(1.0, static_cast<double>(work.width) / bgr.cols);
  Output out;
  out.probability = cv::Mat::zeros(bgr.size(), CV_32FC1);
  for (const cv::Rect& window : windows) {
    const cv::Rect w = window & frame;
    if (w.empty()) continue;
    cv::Mat crop = bgr(w);
    if (scale != 1) {
      const cv::Size scaled(std::max(1, cvRound(w.width * scale)),
                            std::max(1, cvRound(w.height * scale)));
      cv::Mat resized;  // never into `crop`, which shares the caller's pixels
      cv::resize(bgr(w), resized, scaled, 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
      crop = resized;
    }
    ASSIGN_OR_RETURN(Output part, Run(crop));
    cv::resize(part.probability, out.probability(w), w.size(), 0, 0, cv::INTER_LINEAR);
    const double sx = static_cast<double>(w.width) / crop.cols;
    const double sy = static_cast<double>(w.height) / crop.rows;
    for (TextRegion& region : part.regions) {
      for (cv::Point2f& p : region.polygon) {
        p = cv::Point2f(static_cast<float>((p.x + 0.5) * sx - 0.5 + w.x),
                        static_cast<float>((p.y + 0.5) * sy - 0.5 + w.y));
      }
      region.box = cv::minAreaRect(region.polygon);
      out.regions.push_back(std::move(region));
    }
  }
  return out;
}

Result<std::vector<TextRegion>> TextDetector::Detect(const cv::Mat& image) const {
  ASSIGN_OR_RETURN(const cv::Mat bgr, NetInputBgr(image, "text detection"));
  ASSIGN_OR_RETURN(cv::Mat work_map, WorkMap(bgr, WorkSize(bgr.size())));
  return RegionsFromMap(work_map, bgr.size());
}

Result<cv::Mat> TextDetector::ProbabilityMap(const cv::Mat& image) const {
  ASSIGN_OR_RETURN(Output out, Run(image));
  return out.probability;
}

std::vector<TextRegion> TextDetector::RegionsFromMap(const cv::Mat& probability,
                                                     cv::Size image_size) const {
  CV_Assert(probability.type() == CV_32FC1);
  cv::Mat bitmap = probability > options_.binary_threshold;
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(bitmap, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);

  // Map pixel centre i is image coordinate (i + 0.5) / s - 0.5.
  const double sx = static_cast<double>(probability.cols) / image_size.width;
  const double sy = static_cast<double>(probability.rows) / image_size.height;
  auto to_image = [&](cv::Point2f p) {
    float x = static_cast<float>((p.x + 0.5) / sx - 0.5);
    float y = static_cast<float>((p.y + 0.5) / sy - 0.5);
    return cv::Point2f(std::clamp(x, 0.0f, image_size.width - 1.0f),
                       std::clamp(y, 0.0f, image_size.height - 1.0f));
  };

  std::vector<TextRegion> regions;
  cv::Mat local_mask;
  for (const std::vector<cv::Point>& contour : contours) {
    if (contour.size() < 3) continue;
    const cv::RotatedRect kernel = cv::minAreaRect(contour);
    if (std::min(kernel.size.width, kernel.size.height) < options_.min_box_side) continue;

    // Score: mean probability over the contour's interior (DB's "slow" score), which is not
    // diluted by the background a rotated line's bounding box holds.
    const cv::Rect bounds = cv::boundingRect(contour);
    local_mask.create(bounds.size(), CV_8UC1);
    local_mask.setTo(0);
    std::vector<std::vector<cv::Point>> one{contour};
    cv::fillPoly(local_mask, one, 255, cv::LINE_8, 0, -bounds.tl());
    const float score = static_cast<float>(cv::mean(probability(bounds), local_mask)[0]);
    if (score < options_.box_threshold) continue;

    std::vector<cv::Point> simplified;
    cv::approxPolyDP(contour, simplified, 0.002 * cv::arcLength(contour, true), true);
    if (simplified.size() < 3) continue;
    std::vector<cv::Point2f> polygon(simplified.begin(), simplified.end());
    const double perimeter = cv::arcLength(polygon, true);
    if (perimeter <= 0) continue;
    const double distance = std::abs(cv::contourArea(polygon)) * options_.unclip_ratio / perimeter +
                            options_.unclip_margin;
    std::vector<cv::Point2f> expanded = OffsetPolygon(polygon, distance);
    if (expanded.size() < 3) continue;
    const cv::RotatedRect grown = cv::minAreaRect(expanded);
    if (std::min(grown.size.width, grown.size.height) < options_.min_box_side + 2) continue;

    TextRegion region;
    region.polygon.reserve(expanded.size());
    for (const cv::Point2f& p : expanded) region.polygon.push_back(to_image(p));
    region.box = cv::minAreaRect(region.polygon);
    region.score = score;
    regions.push_back(std::move(region));
  }
  std::stable_sort(regions.begin(), regions.end(),
                   [](const TextRegion& a, const TextRegion& b) { return a.score > b.score; });
  if (regions.size() > static_cast<size_t>(options_.max_regions)) {
    regions.resize(options_.max_regions);
  }
  return regions;
}

std::vector<cv::Point2f> OffsetPolygon(const std::vector<cv::Point2f>& polygon, double distance) {
  if (polygon.size() < 3) return polygon;
  // Rasterise at `kSub` samples per pixel, take every point within `distance` of the polygon
  // (a Euclidean distance transform of the outside: the Minkowski sum with a disc, exact for
  // concave outlines where shifting edges would self-intersect), and trace its boundary.
  constexpr int kSub = 4;
  constexpr int kShift = 4;  // fillPoly's fixed-point fraction bits
  const cv::Rect bounds = cv::boundingRect(polygon);
  const double margin = distance + 2;
  const cv::Point2d origin(bounds.x - margin, bounds.y - margin);
  const cv::Size size(static_cast<int>(std::ceil((bounds.width + 2 * margin) * kSub)) + 1,
                      static_cast<int>(std::ceil((bounds.height + 2 * margin) * kSub)) + 1);
  std::vector<cv::Point> fixed;
  fixed.reserve(polygon.size());
  for (const cv::Point2f& p : polygon) {
    fixed.emplace_back(static_cast<int>(std::lround((p.x - origin.x) * kSub * (1 << kShift))),
                       static_cast<int>(std::lround((p.y - origin.y) * kSub * (1 << kShift))));
  }
  cv::Mat outside(size, CV_8UC1, cv::Scalar(255));
  std::vector<std::vector<cv::Point>> one{fixed};
  cv::fillPoly(outside, one, 0, cv::LINE_8, kShift);
  cv::Mat dist;
  cv::distanceTransform(outside, dist, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  cv::Mat grown = dist <= distance * kSub;
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(grown, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  if (contours.empty()) return polygon;
  const auto largest = std::max_element(
      contours.begin(), contours.end(),
      [](const auto& a, const auto& b) { return cv::contourArea(a) < cv::contourArea(b); });
  std::vector<cv::Point> outline;
  cv::approxPolyDP(*largest, outline, 0.25 * kSub, true);
  std::vector<cv::Point2f> out;
  out.reserve(outline.size());
  for (const cv::Point& p : outline) {
    out.emplace_back(static_cast<float>(p.x / static_cast<double>(kSub) + origin.x),
                     static_cast<float>(p.y / static_cast<double>(kSub) + origin.y));
  }
  return out;
}

cv::Mat RegionMask(cv::Size size, const std::vector<TextRegion>& regions, int grow_px) {
  constexpr int kShift = 4;
  cv::Mat mask(size, CV_8UC1, cv::Scalar(0));
  std::vector<std::vector<cv::Point>> polygons;
  polygons.reserve(regions.size());
  for (const TextRegion& region : regions) {
    std::vector<cv::Point> fixed;
    for (const cv::Point2f& p : region.polygon) {
      fixed.emplace_back(static_cast<int>(std::lround(p.x * (1 << kShift))),
                         static_cast<int>(std::lround(p.y * (1 << kShift))));
    }
    polygons.push_back(std::move(fixed));
  }
  for (const auto& polygon : polygons) {
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{polygon}, 255, cv::LINE_8, kShift);
  }
  if (grow_px > 0) {
    cv::dilate(mask, mask,
               cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * grow_px + 1, 2 * grow_px + 1}));
  }
  return mask;
}

}  // namespace vitrine::models
