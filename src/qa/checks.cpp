#include "qa/checks.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <opencv2/img_hash.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/quality/qualitybrisque.hpp>

#include "qa/delta_e.h"

namespace vitrine::qa {
namespace {

std::string Format(const char* fmt, ...) {
  char buffer[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buffer, sizeof(buffer), fmt, args);
  va_end(args);
  return buffer;
}

enum class Bound { kAtMost, kAtLeast };

// A check of `value` against `limit`, with the reason for a reviewer in either outcome.
Check Judge(const char* id, double value, double limit, Bound bound, bool hard,
            std::string ok_reason, std::string fail_reason) {
  bool passed = bound == Bound::kAtMost ? value <= limit : value >= limit;
  return Check{id,     value, limit,
               passed, hard,  passed ? std::move(ok_reason) : std::move(fail_reason)};
}

Status CheckImage(const cv::Mat& m, int type, const char* what) {
  if (m.empty() || m.type() != type) {
    return InvalidArgument(Format("%s must be a non-empty %s image", what,
                                  type == CV_8UC3 ? "8-bit BGR" : "8-bit single-channel"));
  }
  return Status::Ok();
}

Status CheckSameSize(const cv::Mat& a, const cv::Mat& b, const char* what_a, const char* what_b) {
  if (a.size() != b.size()) {
    return InvalidArgument(Format("%s is %dx%d but %s is %dx%d; they must be the same size", what_a,
                                  a.cols, a.rows, what_b, b.cols, b.rows));
  }
  return Status::Ok();
}

Check CoverageCheck(const cv::Mat& alpha, const QaConfig& config) {
  double coverage = cv::mean(alpha)[0] / 255.0;
  Check c{"cutout.coverage", coverage, config.min_coverage, true, true, ""};
  if (coverage < config.min_coverage) {
    c.passed = false;
    c.reason =
        Format("product too small or missing: it covers %.1f%% of the frame (minimum %.1f%%)",
               100 * coverage, 100 * config.min_coverage);
  } else if (coverage > config.max_coverage) {
    c.passed = false;
    c.limit = config.max_coverage;
    c.reason = Format(
        "product fills %.1f%% of the frame (maximum %.1f%%): the background was probably kept",
        100 * coverage, 100 * config.max_coverage);
  } else {
    c.reason = Format("product covers %.1f%% of the frame", 100 * coverage);
  }
  return c;
}

// The alpha at which the segmenter's soft mask still joins two pieces into one object, and the
// mean alpha under which an object is translucent (glass): see CutoutSanity in checks.h.
constexpr int kObjectAlpha = 32;
constexpr double kTranslucentAlpha = 160;

Check FragmentCheck(const cv::Mat& alpha, const cv::Mat& mask, double product_area,
                    const QaConfig& config) {
  cv::Mat pieces, piece_stats, objects, object_stats, centroids;
  const int n = cv::connectedComponentsWithStats(mask, pieces, piece_stats, centroids, 8, CV_32S);
  const int m = cv::connectedComponentsWithStats(alpha >= kObjectAlpha, objects, object_stats,
                                                 centroids, 8, CV_32S);
  // Every piece lies inside one object (128 >= kObjectAlpha): the object of each piece, each
  // object's largest piece and its alpha sum.
  std::vector<int> object_of(n, 0), largest_in(m, 0);
  std::vector<double> alpha_sum(m, 0);
  for (int y = 0; y < alpha.rows; ++y) {
    const int* p = pieces.ptr<int>(y);
    const int* o = objects.ptr<int>(y);
    const uchar* a = alpha.ptr<uchar>(y);
    for (int x = 0; x < alpha.cols; ++x) {
      if (p[x]) object_of[p[x]] = o[x];
      alpha_sum[o[x]] += a[x];
    }
  }
  auto area = [&](int piece) { return piece_stats.at<int>(piece, cv::CC_STAT_AREA); };
  auto extent = [&](int object) { return object_stats.at<int>(object, cv::CC_STAT_AREA); };
  int largest_piece = 0, largest_object = 0;
  for (int i = 1; i < n; ++i) {
    largest_piece = std::max(largest_piece, area(i));
    int& best = largest_in[object_of[i]];
    if (best == 0 || area(i) > area(best)) best = i;
  }
  for (int j = 1; j < m; ++j) largest_object = std::max(largest_object, extent(j));
  int fragments = 0;
  double fragment_area = 0;
  for (int i = 1; i < n; ++i) {
    const int j = object_of[i];
    const bool large_object = extent(j) * 4 >= largest_object;
    const bool translucent = alpha_sum[j] / extent(j) < kTranslucentAlpha;
    const bool part =
        area(i) * 4 >= largest_piece || (large_object && (largest_in[j] == i || translucent));
    if (!part) {
      ++fragments;
      fragment_area += area(i);
    }
  }
  double share = product_area > 0 ? fragment_area / product_area : 0;
  Check c =
      Judge("cutout.fragments", share, config.max_fragment_share, Bound::kAtMost, true,
            Format("%d stray fragment(s), %.2f%% of the product", fragments, 100 * share),
            Format("cutout broken into pieces: %d stray fragment(s) cover %.1f%% of the product "
                   "(limit %.1f%%)",
                   fragments, 100 * share, 100 * config.max_fragment_share));
  return c;
}

Check HoleCheck(const cv::Mat& mask, double product_area, const QaConfig& config) {
  // Transparent pixels not reachable from outside the frame are holes.
  cv::Mat outside;
  cv::copyMakeBorder(~mask, outside, 1, 1, 1, 1, cv::BORDER_CONSTANT, cv::Scalar(255));
  cv::floodFill(outside, cv::Point(0, 0), cv::Scalar(0));
  double holes = cv::countNonZero(outside);
  double share = holes > 0 ? holes / (product_area + holes) : 0;
  Check c = Judge("cutout.holes", share, config.max_hole_share, Bound::kAtMost, false,
                  Format("enclosed holes: %.1f%% of the product", 100 * share),
                  Format("holes inside the product: %.1f%% of its area is transparent (limit "
                         "%.1f%%); check the cutout",
                         100 * share, 100 * config.max_hole_share));
  return c;
}

// The share of one border's pixels that `mask` covers.
double Contact(const cv::Mat& border) {
  return static_cast<double>(cv::countNonZero(border)) / border.total();
}

// The contact of `mask` with each border of its frame; no side flagged.
FrameSides BorderShares(const cv::Mat& mask) {
  FrameSides sides;
  sides.top_share = Contact(mask.row(0));
  sides.bottom_share = Contact(mask.row(mask.rows - 1));
  sides.left_share = Contact(mask.col(0));
  sides.right_share = Contact(mask.col(mask.cols - 1));
  return sides;
}

// A product its photo cuts runs on through the border; one that merely touches it curves away
// from it (a handle's loop, the tip of a shoe, a bag's rounded corner). Measured on the pieces that
// touch the border: their width on the border over their width kRunDepth of the frame inside it.
constexpr double kRunDepth = 0.05;
constexpr double kMinRunThrough = 0.5;

// `border` and `inner`: a border's line and the parallel line inside it, of the product's
// component labels (CV_32S, n labels, 0 = background).
double RunThrough(const cv::Mat& border, const cv::Mat& inner, int n) {
  std::vector<char> touching(n, 0);
  int on_border = 0, inside = 0;
  for (int i = 0; i < static_cast<int>(border.total()); ++i) {
    const int label = border.at<int>(i);
    if (label) {
      touching[label] = 1;
      ++on_border;
    }
  }
  for (int i = 0; i < static_cast<int>(inner.total()); ++i) inside += touching[inner.at<int>(i)];
  return inside > 0 ? static_cast<double>(on_border) / inside : 1.0;
}

Check FrameCutCheck(const cv::Mat& mask, const FrameSides& bleeds, const QaConfig& config) {
  const FrameSides contact = BorderShares(mask);
  struct Side {
    const char* name;
    double share;
    bool bleeds;
  };
  const Side sides[] = {{"top", contact.top_share, bleeds.top},
                        {"bottom", contact.bottom_share, bleeds.bottom},
                        {"left", contact.left_share, bleeds.left},
                        {"right", contact.right_share, bleeds.right}};
  Side worst{"top", 0, false};
  for (const Side& side : sides) {
    if (!side.bleeds && side.share > worst.share) worst = side;
  }
  const std::string bleeding = bleeds.Names();
  return Judge(
      "cutout.frame_cut", worst.share, config.max_border_contact, Bound::kAtMost, true,
      Format("product clear of the frame (border contact %.1f%%)%s", 100 * worst.share,
             bleeding.empty() ? "" : (", bleeding off the " + bleeding + " as its photo").c_str()),
      Format("subject cut by the frame: the product covers %.0f%% of the %s border (limit "
             "%.0f%%); place it inside the canvas",
             100 * worst.share, worst.name, 100 * config.max_border_contact));
}

// Mean squared Laplacian of Gaussian (sigma 1.5) of the grey image over `mask`: the detail energy
// per pixel. The Gaussian makes it a band-pass that JPEG and resampling barely touch; an extra
// blur of sigma s scales it by about (2.25 / (2.25 + s^2))^2: 0.6 for s = 0.8, 0.04 for s = 3.
double DetailEnergy(const cv::Mat& bgr, const cv::Mat& mask) {
  cv::Mat grey, lap;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  grey.convertTo(grey, CV_32F);
  cv::GaussianBlur(grey, grey, cv::Size(), 1.5);
  cv::Laplacian(grey, lap, CV_32F, 1);
  cv::Mat sq = lap.mul(lap);
  return cv::mean(sq, mask)[0];
}

struct Compared {
  cv::Rect roi;    // bounding box of the core, inside the canvas
  cv::Mat core;    // product core within roi
  cv::Mat before;  // placed source within roi
  cv::Mat after;   // the candidate within roi, registered (see Register)
};

// The offset (within +-3 px) at which the candidate best matches the placed source over the
// core: a stage op may round or define the placement differently from us by a pixel or two, and
// a textured product compared 2 px off reads as a colour change. Mean absolute grey difference
// on about 10000 core pixels; offsets that would leave the candidate are not tried.
cv::Point Register(const cv::Mat& placed_bgr, const cv::Mat& candidate_bgr, const cv::Mat& core,
                   cv::Rect roi) {
  constexpr int kReach = 3;
  cv::Mat a, b;
  cv::cvtColor(placed_bgr, a, cv::COLOR_BGR2GRAY);
  cv::cvtColor(candidate_bgr, b, cv::COLOR_BGR2GRAY);
  std::vector<cv::Point> points;
  const int step = std::max(1, static_cast<int>(std::sqrt(cv::countNonZero(core) / 10000.0)));
  for (int y = 0; y < core.rows; y += step) {
    for (int x = 0; x < core.cols; x += step) {
      if (core.at<uchar>(y, x)) points.push_back(roi.tl() + cv::Point(x, y));
    }
  }
  const cv::Rect canvas(cv::Point(0, 0), candidate_bgr.size());
  cv::Point best(0, 0);
  double best_diff = -1;
  for (int dy = -kReach; dy <= kReach; ++dy) {
    for (int dx = -kReach; dx <= kReach; ++dx) {
      cv::Rect moved = roi + cv::Point(dx, dy);
      if ((moved & canvas) != moved) continue;
      double diff = 0;
      for (const cv::Point& p : points) {
        diff += std::abs(a.at<uchar>(p) - b.at<uchar>(p.y + dy, p.x + dx));
      }
      // Prefer the smaller shift on ties, so an exact placement stays at (0, 0).
      if (best_diff < 0 || diff < best_diff ||
          (diff == best_diff &&
           std::abs(dx) + std::abs(dy) < std::abs(best.x) + std::abs(best.y))) {
        best_diff = diff;
        best = {dx, dy};
      }
    }
  }
  return best;
}

Result<Compared> CompareRegion(const cv::Mat& source_bgr, const cv::Mat& source_alpha,
                               const cv::Mat& candidate_bgr, cv::Rect placement) {
  RETURN_IF_ERROR(CheckImage(source_bgr, CV_8UC3, "the source image"));
  RETURN_IF_ERROR(CheckImage(source_alpha, CV_8UC1, "the source alpha"));
  RETURN_IF_ERROR(CheckImage(candidate_bgr, CV_8UC3, "the candidate image"));
  RETURN_IF_ERROR(CheckSameSize(source_bgr, source_alpha, "the source image", "its alpha"));
  ASSIGN_OR_RETURN(PlacedProduct placed,
                   PlaceProduct(source_bgr, source_alpha, placement, candidate_bgr.size()));
  cv::Mat core = ProductCore(placed.alpha);
  int pixels = cv::countNonZero(core);
  if (pixels < 64) {
    return InvalidArgument(
        Format("only %d fully opaque product pixels are visible in the "
               "candidate; too few to compare with the source",
               pixels));
  }
  cv::Rect roi = cv::boundingRect(core);
  cv::Point offset = Register(placed.bgr, candidate_bgr, core(roi), roi);
  return Compared{roi, core(roi), placed.bgr(roi), candidate_bgr(roi + offset)};
}

}  // namespace

std::string FrameSides::Names() const {
  std::string names;
  for (const auto& [cut, name] : {std::pair{top, "top"}, std::pair{bottom, "bottom"},
                                  std::pair{left, "left"}, std::pair{right, "right"}}) {
    if (cut) names += (names.empty() ? "" : " and ") + std::string(name);
  }
  return names;
}

FrameSides CutSides(const cv::Mat& alpha, double min_contact) {
  const cv::Mat mask = alpha >= 128;
  FrameSides sides = BorderShares(mask);
  if (std::max({sides.top_share, sides.bottom_share, sides.left_share, sides.right_share}) <=
      min_contact) {
    return sides;
  }
  cv::Mat labels;
  const int n = cv::connectedComponents(mask, labels, 8, CV_32S);
  const int dy = std::clamp(static_cast<int>(kRunDepth * mask.rows), 3, mask.rows - 1);
  const int dx = std::clamp(static_cast<int>(kRunDepth * mask.cols), 3, mask.cols - 1);
  const int last_row = mask.rows - 1, last_col = mask.cols - 1;
  auto cut = [&](double share, const cv::Mat& border, const cv::Mat& inner) {
    return share > min_contact && RunThrough(border, inner, n) >= kMinRunThrough;
  };
  sides.top = cut(sides.top_share, labels.row(0), labels.row(dy));
  sides.bottom = cut(sides.bottom_share, labels.row(last_row), labels.row(last_row - dy));
  sides.left = cut(sides.left_share, labels.col(0), labels.col(dx));
  sides.right = cut(sides.right_share, labels.col(last_col), labels.col(last_col - dx));
  return sides;
}

std::vector<Check> CutoutSanity(const cv::Mat& alpha, const QaConfig& config,
                                const FrameSides& bleeds) {
  Status st = CheckImage(alpha, CV_8UC1, "the candidate's product alpha");
  if (!st.ok()) return {Check{"cutout.input", 0, 0, false, true, st.message()}};
  cv::Mat mask = alpha >= 128;
  double area = cv::countNonZero(mask);
  return {CoverageCheck(alpha, config), FragmentCheck(alpha, mask, area, config),
          FrameCutCheck(mask, bleeds, config), HoleCheck(mask, area, config)};
}

Check OutsideFrame(const PlacedProduct& placed, const QaConfig& config) {
  return Judge("cutout.outside_frame", placed.outside_share, config.max_outside_share,
               Bound::kAtMost, true, "the whole product lies inside the frame",
               Format("subject cut by the frame: %.1f%% of the product is placed outside the "
                      "candidate (limit %.1f%%); place it inside the canvas",
                      100 * placed.outside_share, 100 * config.max_outside_share));
}

Result<Check> SourceFrameCut(const cv::Mat& source_alpha, cv::Rect placement, cv::Size canvas,
                             bool main_image, const QaConfig& config) {
  RETURN_IF_ERROR(CheckImage(source_alpha, CV_8UC1, "the source alpha"));
  return SourceFrameCut(CutSides(source_alpha, config.max_border_contact), placement, canvas,
                        main_image, config);
}

Check SourceFrameCut(const FrameSides& cut, cv::Rect placement, cv::Size canvas, bool main_image,
                     const QaConfig& config) {
  const double contact =
      std::max({cut.top_share, cut.bottom_share, cut.left_share, cut.right_share});
  Check c{"cutout.source_frame_cut", contact, config.max_border_contact, true, true, ""};
  if (!cut.any()) {
    c.reason = Format(contact > config.max_border_contact
                          ? "the source photo shows the whole product: it touches the photo's "
                            "border (%.1f%%) but curves away from it"
                          : "the source photo shows the whole product (border contact %.1f%%)",
                      100 * contact);
    return c;
  }
  const std::string advice = "source photo cuts the product at the " + cut.Names() +
                             ": supply an uncut photo for a main image";
  if (main_image) {
    c.passed = false;
    c.reason = advice + Format(
                            " (the product covers %.0f%% of a border of the photo; limit "
                            "%.0f%%)",
                            100 * contact, 100 * config.max_border_contact);
    return c;
  }
  // Where the cut edge landed: on the canvas edge (or past it), or inside the canvas.
  const int slack = std::max(2, static_cast<int>(0.005 * std::max(canvas.width, canvas.height)));
  FrameSides inside;
  inside.top = cut.top && placement.y > slack;
  inside.bottom = cut.bottom && placement.br().y < canvas.height - slack;
  inside.left = cut.left && placement.x > slack;
  inside.right = cut.right && placement.br().x < canvas.width - slack;
  if (inside.any()) {
    c.passed = false;
    c.reason = "the product is cut at its " + inside.Names() +
               " in mid-canvas: stage it so the cut edge stays on the canvas edge; " + advice;
    return c;
  }
  c.reason = advice + "; here the cut edge stays on the canvas edge";
  return c;
}

Result<Check> SourceAgreement(const cv::Mat& alpha, const cv::Mat& segmenter_mask,
                              const QaConfig& config) {
  RETURN_IF_ERROR(CheckImage(alpha, CV_8UC1, "the cutout alpha"));
  RETURN_IF_ERROR(CheckImage(segmenter_mask, CV_8UC1, "the segmenter mask"));
  RETURN_IF_ERROR(CheckSameSize(alpha, segmenter_mask, "the cutout alpha", "the segmenter mask"));
  cv::Mat a = alpha >= 128, m = segmenter_mask >= 128;
  double inter = cv::countNonZero(a & m), uni = cv::countNonZero(a | m);
  double in_mask = cv::countNonZero(m), in_alpha = cv::countNonZero(a);
  double iou = uni > 0 ? inter / uni : 1.0;
  double missing = in_mask > 0 ? 1 - inter / in_mask : 0;
  double extra = in_alpha > 0 ? 1 - inter / in_alpha : 0;
  Check c{"cutout.source_iou", iou, config.min_source_iou, iou >= config.min_source_iou, true, ""};
  if (c.passed) {
    c.reason = Format("cutout agrees with the segmenter (IoU %.2f)", iou);
  } else if (missing >= extra) {
    c.reason = Format(
        "part of the product is missing: the cutout drops %.0f%% of what the "
        "segmenter sees as product (IoU %.2f, limit %.2f)",
        100 * missing, iou, config.min_source_iou);
  } else {
    c.reason = Format(
        "the cutout keeps background: %.0f%% of it lies outside what the segmenter "
        "sees as product (IoU %.2f, limit %.2f)",
        100 * extra, iou, config.min_source_iou);
  }
  return c;
}

Result<cv::Mat> SegmenterMask(const models::Segmenter& segmenter, const cv::Mat& bgr) {
  RETURN_IF_ERROR(CheckImage(bgr, CV_8UC3, "the source photo"));
  ASSIGN_OR_RETURN(cv::Mat prob, segmenter.Predict(bgr));
  cv::Mat full, mask;
  cv::resize(prob, full, bgr.size(), 0, 0, cv::INTER_LINEAR);
  full.convertTo(mask, CV_8UC1, 255);
  return mask;
}

Result<PlacedProduct> PlaceProduct(const cv::Mat& bgr, const cv::Mat& alpha, cv::Rect placement,
                                   cv::Size canvas) {
  RETURN_IF_ERROR(CheckImage(bgr, CV_8UC3, "the source image"));
  RETURN_IF_ERROR(CheckImage(alpha, CV_8UC1, "the source alpha"));
  RETURN_IF_ERROR(CheckSameSize(bgr, alpha, "the source image", "its alpha"));
  cv::Mat nonzero = alpha > 0;
  cv::Rect box = cv::boundingRect(nonzero);
  if (box.empty()) return InvalidArgument("the source alpha is fully transparent: no product");
  if (placement.empty()) {
    return InvalidArgument(
        "the placement rectangle is empty; pass where the stage op put the "
        "product");
  }
  cv::Rect visible = placement & cv::Rect(cv::Point(0, 0), canvas);
  if (visible.empty()) {
    return InvalidArgument(Format("the placement %dx%d at (%d,%d) lies outside the %dx%d candidate",
                                  placement.width, placement.height, placement.x, placement.y,
                                  canvas.width, canvas.height));
  }
  const int interpolation = placement.area() < box.area() ? cv::INTER_AREA : cv::INTER_LINEAR;
  cv::Mat bgr_scaled, alpha_scaled;
  cv::resize(bgr(box), bgr_scaled, placement.size(), 0, 0, interpolation);
  cv::resize(alpha(box), alpha_scaled, placement.size(), 0, 0, interpolation);
  PlacedProduct out{cv::Mat::zeros(canvas, CV_8UC3), cv::Mat::zeros(canvas, CV_8UC1)};
  cv::Rect from = visible - placement.tl();
  bgr_scaled(from).copyTo(out.bgr(visible));
  alpha_scaled(from).copyTo(out.alpha(visible));
  double total = cv::sum(alpha_scaled)[0];
  out.outside_share = total > 0 ? 1 - cv::sum(alpha_scaled(from))[0] / total : 0;
  return out;
}

cv::Mat ProductCore(const cv::Mat& placed_alpha) {
  cv::Mat core = placed_alpha >= 250;
  // At least the reach of DetailEnergy's filters (6 px), so no backdrop pixel leaks in.
  int r = std::max(
      6, static_cast<int>(std::lround(0.005 * std::max(placed_alpha.cols, placed_alpha.rows))));
  cv::erode(core, core, cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * r + 1, 2 * r + 1}));
  return core;
}

Result<Check> Sharpness(const cv::Mat& source_bgr, const cv::Mat& source_alpha,
                        const cv::Mat& candidate_bgr, cv::Rect placement, const QaConfig& config) {
  ASSIGN_OR_RETURN(Compared cmp, CompareRegion(source_bgr, source_alpha, candidate_bgr, placement));
  double before = DetailEnergy(cmp.before, cmp.core);
  double after = DetailEnergy(cmp.after, cmp.core);
  if (before < 0.05) {
    return Check{"sharpness", 1.0,  config.min_sharpness_ratio,
                 true,        true, "product too flat to judge sharpness"};
  }
  double ratio = after / before;
  Check c = Judge("sharpness", ratio, config.min_sharpness_ratio, Bound::kAtLeast, true,
                  Format("product detail kept: %.2f of the source's at this scale", ratio),
                  Format("product blurred: %.2f of the source's detail at this scale (minimum "
                         "%.2f)",
                         ratio, config.min_sharpness_ratio));
  return c;
}

Result<std::vector<Check>> ColourFidelity(const cv::Mat& before_bgr, const cv::Mat& before_alpha,
                                          const cv::Mat& after_bgr, cv::Rect placement,
                                          const QaConfig& config) {
  ASSIGN_OR_RETURN(Compared cmp, CompareRegion(before_bgr, before_alpha, after_bgr, placement));
  // Sample about 40000 core pixels on a grid (mean and 95th percentile are stable well below
  // that), and convert only those to CIELAB.
  const int step = std::max(1, static_cast<int>(std::sqrt(cv::countNonZero(cmp.core) / 40000.0)));
  // Colour, not texture: besides the registration, a Gaussian of sigma 2 px on both sides leaves
  // what a scale difference of a few pixels does to a textured product (unblurred, a 2 px
  // misregistration alone reads as mean ΔE2000 4.5) and keeps any shift of colour. The core is
  // eroded by at least 6 px (3 sigma), so no backdrop blurs in.
  cv::Mat before, after;
  cv::GaussianBlur(cmp.before, before, cv::Size(), 2.0);
  cv::GaussianBlur(cmp.after, after, cv::Size(), 2.0);
  std::vector<cv::Vec3b> before_px, after_px;
  for (int y = 0; y < cmp.core.rows; y += step) {
    const uchar* m = cmp.core.ptr<uchar>(y);
    for (int x = 0; x < cmp.core.cols; x += step) {
      if (!m[x]) continue;
      before_px.push_back(before.at<cv::Vec3b>(y, x));
      after_px.push_back(after.at<cv::Vec3b>(y, x));
    }
  }
  cv::Mat lab_before = BgrToLab(cv::Mat(before_px, false));
  cv::Mat lab_after = BgrToLab(cv::Mat(after_px, false));
  std::vector<double> de(before_px.size());
  for (size_t i = 0; i < de.size(); ++i) {
    de[i] = Ciede2000(lab_before.at<cv::Vec3f>(static_cast<int>(i)),
                      lab_after.at<cv::Vec3f>(static_cast<int>(i)));
  }
  double mean = 0;
  for (double d : de) mean += d;
  mean /= de.size();
  auto p95_it = de.begin() + static_cast<std::ptrdiff_t>(0.95 * (de.size() - 1));
  std::nth_element(de.begin(), p95_it, de.end());
  double p95 = *p95_it;

  return std::vector<Check>{
      Judge("colour.mean", mean, config.max_colour_mean, Bound::kAtMost, true,
            Format("product colour kept: mean ΔE2000 %.1f", mean),
            Format("product colour shifted: mean ΔE2000 %.1f (limit %g)", mean,
                   config.max_colour_mean)),
      Judge("colour.p95", p95, config.max_colour_p95, Bound::kAtMost, true,
            Format("95%% of product pixels within ΔE2000 %.1f", p95),
            Format("part of the product changed colour: 95th-percentile ΔE2000 %.1f (limit %g)",
                   p95, config.max_colour_p95))};
}

Brisque::Brisque(std::string model_path, std::string range_path)
    : model_path_(std::move(model_path)), range_path_(std::move(range_path)) {}

Result<std::unique_ptr<Brisque>> Brisque::Load(const std::string& dir) {
  std::string model = dir + "/brisque_model_live.yml", range = dir + "/brisque_range_live.yml";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model, ec) ||
      !std::filesystem::is_regular_file(range, ec)) {
    return Unavailable(
        "BRISQUE model files brisque_model_live.yml and brisque_range_live.yml "
        "are missing from " +
        dir + "; install opencv-data: make setup");
  }
  return std::unique_ptr<Brisque>(new Brisque(model, range));
}

Result<double> Brisque::Score(const cv::Mat& bgr, int max_side) const {
  RETURN_IF_ERROR(CheckImage(bgr, CV_8UC3, "the image to score"));
  // QualityBRISQUE is not documented as safe to share between threads (it holds an SVM and
  // per-call state in its base class), so each thread loads its own instance once.
  thread_local std::string loaded_from;
  thread_local cv::Ptr<cv::quality::QualityBRISQUE> model;
  try {
    if (!model || loaded_from != model_path_) {
      model = cv::quality::QualityBRISQUE::create(model_path_, range_path_);
      loaded_from = model_path_;
    }
    cv::Mat input = bgr.isContinuous() ? bgr : bgr.clone();
    int long_side = std::max(bgr.cols, bgr.rows);
    if (long_side > max_side) {
      double s = static_cast<double>(max_side) / long_side;
      cv::resize(bgr, input, cv::Size(), s, s, cv::INTER_AREA);
    }
    double score = model->compute(input)[0];
    if (!std::isfinite(score)) return ModelFailure("BRISQUE returned no finite score");
    return score;
  } catch (const cv::Exception& e) {
    model.reset();
    return ModelFailure(std::string("BRISQUE failed: ") + e.what() +
                        "; check the opencv-data model files (make setup)");
  }
}

Check QualityCheck(double brisque_score, const QaConfig& config) {
  return Judge("quality.brisque", brisque_score, config.max_brisque, Bound::kAtMost, false,
               Format("image quality BRISQUE %.0f", brisque_score),
               Format("low image quality: BRISQUE %.0f (limit %.0f; noise, blocking or blur)",
                      brisque_score, config.max_brisque));
}

Result<Check> TextLeft(const TextCoverageFn& text_coverage, const cv::Mat& bgr,
                       const QaConfig& config) {
  RETURN_IF_ERROR(CheckImage(bgr, CV_8UC3, "the candidate image"));
  ASSIGN_OR_RETURN(double share, text_coverage(bgr));
  return Judge("text.left", share, config.max_text_share, Bound::kAtMost, true,
               Format("overlay text: %.2f%% of the image", 100 * share),
               Format("overlay text left in: it covers %.2f%% of the image (limit %.2f%%)",
                      100 * share, 100 * config.max_text_share));
}

std::vector<Check> Compliance(std::vector<Check> rules) {
  for (Check& rule : rules) {
    if (rule.id.rfind("compliance.", 0) != 0) rule.id = "compliance." + rule.id;
    rule.hard = true;
  }
  return rules;
}

cv::Mat PerceptualHash(const cv::Mat& bgr) {
  if (bgr.empty() || bgr.type() != CV_8UC3) return {};
  cv::Mat hash;
  cv::img_hash::PHash::create()->compute(bgr, hash);
  return hash;
}

int HashDistance(const cv::Mat& a, const cv::Mat& b) {
  if (a.empty() || a.size() != b.size() || a.type() != b.type()) return 64;
  return static_cast<int>(cv::norm(a, b, cv::NORM_HAMMING));
}

Fingerprint MakeFingerprint(const cv::Mat& bgr) {
  if (bgr.empty() || bgr.type() != CV_8UC3) return {};
  cv::Mat thumb;
  cv::resize(bgr, thumb, {8, 8}, 0, 0, cv::INTER_AREA);
  return {PerceptualHash(bgr), BgrToLab(thumb)};
}

Likeness Compare(const Fingerprint& a, const Fingerprint& b) {
  if (a.hash.empty() || b.hash.empty()) return {};
  double sum = 0;
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x)
      sum += Ciede2000(a.lab.at<cv::Vec3f>(y, x), b.lab.at<cv::Vec3f>(y, x));
  }
  return {HashDistance(a.hash, b.hash), sum / 64};
}

}  // namespace vitrine::qa
