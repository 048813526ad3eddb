#include "ops/matting.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "core/labels.h"
#include "qa/compliance.h"

namespace vitrine::ops {
namespace {

cv::Mat ResizeTo(const cv::Mat& src, cv::Size size, int shrink_mode = cv::INTER_AREA) {
  if (src.size() == size) return src;
  cv::Mat out;
  bool shrinking = size.width <= src.cols && size.height <= src.rows;
  cv::resize(src, out, size, 0, 0, shrinking ? shrink_mode : cv::INTER_LINEAR);
  return out;
}

}  // namespace

cv::Size FitLongSide(cv::Size size, int long_side) {
  double scale = std::min(1.0, static_cast<double>(long_side) / std::max(size.width, size.height));
  return {std::max(1, cvRound(size.width * scale)), std::max(1, cvRound(size.height * scale))};
}

StrayPieces DropStrayPieces(const cv::Mat& alpha, const StrayOptions& options) {
  CV_Assert(alpha.type() == CV_8UC1);
  StrayPieces result;
  result.alpha = alpha.clone();
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(alpha >= 128, labels, stats, centroids, 8, CV_32S);
  if (n <= 2) return result;
  int largest = 0;
  for (int i = 1; i < n; ++i) largest = std::max(largest, stats.at<int>(i, cv::CC_STAT_AREA));
  const double small_area = options.min_share * largest;
  // Distance of every pixel to the nearest piece that is not small.
  std::vector<uchar> big(n, 0);
  for (int i = 1; i < n; ++i) big[i] = stats.at<int>(i, cv::CC_STAT_AREA) >= small_area;
  cv::Mat not_big(alpha.size(), CV_8UC1);
  for (int y = 0; y < alpha.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    uchar* o = not_big.ptr<uchar>(y);
    for (int x = 0; x < alpha.cols; ++x) o[x] = big[l[x]] ? 0 : 255;
  }
  cv::Mat distance;
  cv::distanceTransform(not_big, distance, cv::DIST_L2, 3);
  std::vector<float> nearest(n, std::numeric_limits<float>::max());
  for (int y = 0; y < alpha.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const float* d = distance.ptr<float>(y);
    for (int x = 0; x < alpha.cols; ++x) {
      if (l[x] > 0) nearest[l[x]] = std::min(nearest[l[x]], d[x]);
    }
  }
  const double reach = options.reach * std::hypot(alpha.cols, alpha.rows);
  std::vector<uchar> stray(n, 0);
  double kept_area = 0, stray_area = 0;
  for (int i = 1; i < n; ++i) {
    const int area = stats.at<int>(i, cv::CC_STAT_AREA);
    stray[i] = !big[i] && nearest[i] > reach;
    (stray[i] ? stray_area : kept_area) += area;
    result.removed += stray[i];
  }
  result.removed_area = kept_area > 0 ? stray_area / kept_area : 0;
  if (result.removed == 0) return result;
  if (result.removed_area > options.max_area) {
    // So much stray matter means the segmenter did not find the subject: left for QA to see.
    result.left_shattered = true;
    result.removed = 0;
    return result;
  }
  // Soft surrounds: components of alpha >= 16; one that holds a kept piece stays (only the stray
  // pieces' own pixels go), one that holds only stray pieces goes whole.
  cv::Mat soft_labels;
  const int m = cv::connectedComponents(alpha >= 16, soft_labels, 8, CV_32S);
  std::vector<uchar> holds_kept(m, 0), holds_stray(m, 0);
  for (int y = 0; y < alpha.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const int* s = soft_labels.ptr<int>(y);
    for (int x = 0; x < alpha.cols; ++x) {
      if (l[x] == 0) continue;
      (stray[l[x]] ? holds_stray : holds_kept)[s[x]] = 1;
    }
  }
  for (int y = 0; y < alpha.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const int* s = soft_labels.ptr<int>(y);
    uchar* a = result.alpha.ptr<uchar>(y);
    for (int x = 0; x < alpha.cols; ++x) {
      if (stray[l[x]] || (holds_stray[s[x]] && !holds_kept[s[x]])) a[x] = 0;
    }
  }
  return result;
}

namespace {

// Colour likelihoods of the confident product and the confident background, as two histograms
// of 16 levels per BGR channel (4096 bins) with add-one smoothing.
class ColourModel {
 public:
  ColourModel(const cv::Mat& bgr, const cv::Mat& product, const cv::Mat& background)
      : bins_(bgr.size(), CV_16UC1), product_(kBins, 1.0), background_(kBins, 1.0) {
    double product_n = kBins, background_n = kBins;
    for (int y = 0; y < bgr.rows; ++y) {
      const auto* c = bgr.ptr<cv::Vec3b>(y);
      const uchar* p = product.ptr<uchar>(y);
      const uchar* b = background.ptr<uchar>(y);
      auto* bin = bins_.ptr<uint16_t>(y);
      for (int x = 0; x < bgr.cols; ++x) {
        bin[x] = static_cast<uint16_t>((c[x][0] >> 4) << 8 | (c[x][1] >> 4) << 4 | c[x][2] >> 4);
        if (p[x]) product_[bin[x]] += 1, ++product_n;
        if (b[x]) background_[bin[x]] += 1, ++background_n;
      }
    }
    for (double& v : product_) v /= product_n;
    for (double& v : background_) v /= background_n;
  }
  // Whether the pixel's colour is likelier background than product.
  bool LooksLikeBackground(int y, int x) const {
    const uint16_t bin = bins_.at<uint16_t>(y, x);
    return background_[bin] > product_[bin];
  }

 private:
  static constexpr int kBins = 4096;
  cv::Mat bins_;
  std::vector<double> product_, background_;
};

// Per connected component of `labels` (n labels, 0 = none): pixel count, probability sum and
// histogram, and how many pixels look like background.
struct RegionStats {
  static constexpr int kLevels = 256;
  std::vector<int> area;
  std::vector<double> prob_sum;
  std::vector<std::array<int, kLevels>> prob_histogram;
  std::vector<int> background_like;
  double MeanProb(int i) const { return area[i] ? prob_sum[i] / area[i] : 0; }
  // The probability that a quarter of the region's pixels reach: its confident part, which a
  // soft edge, wide on a thin part, does not drag down.
  double UpperQuartileProb(int i) const {
    int above = 0;
    for (int level = kLevels - 1; level >= 0; --level) {
      above += prob_histogram[i][level];
      if (4 * above >= area[i]) return (level + 0.5) / kLevels;
    }
    return 0;
  }
  double BackgroundShare(int i) const {
    return area[i] ? static_cast<double>(background_like[i]) / area[i] : 0;
  }
};
RegionStats MeasureRegions(const cv::Mat& labels, int n, const cv::Mat& prob,
                           const ColourModel& colours) {
  RegionStats stats{std::vector<int>(n, 0), std::vector<double>(n, 0),
                    std::vector<std::array<int, RegionStats::kLevels>>(n), std::vector<int>(n, 0)};
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const float* p = prob.ptr<float>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (l[x] == 0) continue;
      ++stats.area[l[x]];
      stats.prob_sum[l[x]] += p[x];
      ++stats.prob_histogram[l[x]][std::min(RegionStats::kLevels - 1,
                                            static_cast<int>(p[x] * RegionStats::kLevels))];
      stats.background_like[l[x]] += colours.LooksLikeBackground(y, x);
    }
  }
  return stats;
}

}  // namespace

// Width of a background hole's rim, in pixels of the net's view, left as the net gave it.
constexpr float kHoleRim = 2.5f;

ProbabilityCleanup CleanProbability(const cv::Mat& prob, const cv::Mat& net_view,
                                    const CleanupOptions& options, const cv::Mat& protect) {
  CV_Assert(prob.type() == CV_32FC1 && net_view.type() == CV_8UC3 &&
            prob.size() == net_view.size() &&
            (protect.empty() || (protect.type() == CV_8UC1 && protect.size() == prob.size())));
  ProbabilityCleanup result;
  result.prob = prob.clone();
  const cv::Mat solid = prob >= 0.5f;
  cv::Mat inside;
  cv::distanceTransform(solid, inside, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  double body_radius = 0;
  cv::minMaxLoc(inside, nullptr, &body_radius);
  if (body_radius < 2) return result;

  // The body: what survives an opening by a disc of radius r relative to the product's
  // thickness, done with distance transforms (erosion: farther than r inside; dilation: within r
  // of that), which cost the same whatever r is.
  const int r = std::max(2, cvRound(options.neck_scale * body_radius));
  cv::Mat from_core, body;
  cv::distanceTransform(inside <= r, from_core, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  body = from_core <= r;
  const ColourModel colours(net_view, (prob >= 0.95f) & body, prob <= 0.05f);

  cv::Mat cut = cv::Mat::zeros(prob.size(), CV_8UC1);
  // Thin appendages: the opening's leftovers that reach well beyond the body.
  cv::Mat thin_labels, outside_body;
  const int n = cv::connectedComponents(solid & ~body, thin_labels, 8, CV_32S);
  cv::distanceTransform(~body, outside_body, cv::DIST_L2, 3);
  std::vector<float> reach(n, 0);
  for (int y = 0; y < prob.rows; ++y) {
    const int* l = thin_labels.ptr<int>(y);
    const float* d = outside_body.ptr<float>(y);
    for (int x = 0; x < prob.cols; ++x) reach[l[x]] = std::max(reach[l[x]], d[x]);
  }
  const RegionStats thin = MeasureRegions(thin_labels, n, prob, colours);
  std::vector<uchar> appendage(n, 0), guarded(n, 0);
  if (!protect.empty()) {
    for (int y = 0; y < prob.rows; ++y) {
      const int* l = thin_labels.ptr<int>(y);
      const uchar* g = protect.ptr<uchar>(y);
      for (int x = 0; x < prob.cols; ++x) guarded[l[x]] |= g[x] != 0;
    }
  }
  for (int i = 1; i < n; ++i) {
    if (guarded[i]) continue;
    // The more the part looks like the background, the surer the net must be to keep it.
    const double looks = std::clamp((thin.BackgroundShare(i) - 0.5) / 0.4, 0.0, 1.0);
    const double needed = options.unsure + looks * (options.certain - options.unsure);
    appendage[i] = reach[i] > 2 * r && thin.UpperQuartileProb(i) < needed;
    result.appendages += appendage[i];
  }
  if (result.appendages > 0) {
    // The part and its haze, up to the edge of what stays (the body and the kept thin parts).
    const cv::Mat part = LabelsKept(thin_labels, appendage);
    cv::Mat from_part, keep;
    cv::distanceTransform(~part, from_part, cv::DIST_L2, 3);
    cv::dilate(solid & ~part, keep, cv::Mat::ones(3, 3, CV_8U));
    cut |= (from_part <= r) & ~keep;
  }

  // Background holes: unsure regions that do not reach the image's border.
  cv::Mat hole_labels;
  const int m = cv::connectedComponents(prob < static_cast<float>(options.enclosed_high),
                                        hole_labels, 4, CV_32S);
  std::vector<uchar> open(m, 0), touches_border(m, 0);
  for (int x = 0; x < prob.cols; ++x) {
    touches_border[hole_labels.at<int>(0, x)] = 1;
    touches_border[hole_labels.at<int>(prob.rows - 1, x)] = 1;
  }
  for (int y = 0; y < prob.rows; ++y) {
    touches_border[hole_labels.at<int>(y, 0)] = 1;
    touches_border[hole_labels.at<int>(y, prob.cols - 1)] = 1;
  }
  touches_border[0] = 0;  // the product itself
  const RegionStats holes = MeasureRegions(hole_labels, m, prob, colours);
  for (int i = 1; i < m; ++i) {
    const double mean = holes.MeanProb(i);
    open[i] = !touches_border[i] && mean > 0.02 && mean < options.hole_mean &&
              holes.BackgroundShare(i) > 0.5;
    result.holes += open[i];
  }
  // The hole's inside, not its rim: the soft edge within a few pixels of the solid ones stays as
  // the net gave it, for the refinement to fit against the photo.
  if (result.holes > 0) {
    cv::Mat from_solid;
    cv::distanceTransform(prob < 0.5f, from_solid, cv::DIST_L2, 3);
    cut |= LabelsKept(hole_labels, open) & (from_solid > kHoleRim);
  }
  if (!protect.empty()) cut.setTo(0, protect);
  result.prob.setTo(0, cut);

  // Haze: faint probability farther than `r` from every solid pixel and joined there to what was
  // cut, such as the rest of a wall's joints (a haze of alpha a few tenths shows as a smear on a
  // white background). It fades out from `r` to `2r`, so the product's own soft edges, within a
  // few pixels, stay; faint parts the cuts did not reach (an unsure spout) stay too.
  if (result.appendages + result.holes > 0) {
    cv::Mat from_solid, faint_labels, near_cut;
    cv::distanceTransform(result.prob < 0.5f, from_solid, cv::DIST_L2, 3);
    const cv::Mat far_faint = (result.prob >= 0.02f) & (from_solid > r);
    const int k = cv::connectedComponents(far_faint, faint_labels, 8, CV_32S);
    cv::dilate(cut, near_cut, cv::Mat::ones(3, 3, CV_8U));
    std::vector<uchar> touched(k, 0);
    for (int y = 0; y < prob.rows; ++y) {
      const int* l = faint_labels.ptr<int>(y);
      const uchar* c = near_cut.ptr<uchar>(y);
      for (int x = 0; x < prob.cols; ++x) touched[l[x]] |= c[x] != 0;
    }
    touched[0] = 0;
    for (int y = 0; y < prob.rows; ++y) {
      const float* d = from_solid.ptr<float>(y);
      const int* l = faint_labels.ptr<int>(y);
      float* p = result.prob.ptr<float>(y);
      for (int x = 0; x < prob.cols; ++x) {
        if (touched[l[x]] && (protect.empty() || !protect.at<uchar>(y, x))) {
          p[x] *= std::clamp((2.0f * r - d[x]) / r, 0.0f, 1.0f);
        }
      }
    }
  }
  double before = cv::sum(prob)[0], after = cv::sum(result.prob)[0];
  result.removed = after > 0 ? (before - after) / after : 0;
  return result;
}

namespace {

// A band along every side of an image of `size`, `share` of the shorter side wide (at least 2).
cv::Mat FrameBand(cv::Size size, double share) {
  const int width = std::max(2, cvRound(share * std::min(size.width, size.height)));
  cv::Mat band(size, CV_8UC1, cv::Scalar(255));
  band(cv::Rect(width, width, size.width - 2 * width, size.height - 2 * width)).setTo(0);
  return band;
}

}  // namespace

std::optional<cv::Scalar> FramedReadingBackdrop(const cv::Mat& prob, const cv::Mat& net_view,
                                                const FrameOptions& options) {
  CV_Assert(prob.type() == CV_32FC1 && net_view.type() == CV_8UC3 &&
            prob.size() == net_view.size() && prob.cols >= 16 && prob.rows >= 16);
  const cv::Mat frame = FrameBand(prob.size(), options.band);
  const cv::Vec3b border = qa::BorderColour(net_view);
  const cv::Vec3d median(border[0], border[1], border[2]);
  size_t pixels = 0, plain = 0, dropped = 0;
  for (int y = 0; y < prob.rows; ++y) {
    const uchar* f = frame.ptr<uchar>(y);
    const float* p = prob.ptr<float>(y);
    const auto* c = net_view.ptr<cv::Vec3b>(y);
    for (int x = 0; x < prob.cols; ++x) {
      if (!f[x]) continue;
      const bool backdrop =
          cv::norm(cv::Vec3d(c[x][0], c[x][1], c[x][2]) - median) <= options.plain_distance;
      ++pixels;
      plain += backdrop;
      dropped += !backdrop && p[x] < 0.5f;
    }
  }
  if (plain < options.plain_share * pixels || dropped < options.min_run * pixels) {
    return std::nullopt;
  }
  return cv::Scalar(median[0], median[1], median[2]);
}

cv::Mat MergeFramedReading(const cv::Mat& prob, const cv::Mat& framed,
                           const FrameOptions& options) {
  CV_Assert(prob.type() == CV_32FC1 && framed.type() == CV_32FC1 && prob.size() == framed.size());
  const cv::Mat solid = prob >= 0.5f;
  // New parts: solid in the second reading only.
  cv::Mat labels, from_solid;
  const int n = cv::connectedComponents((framed >= 0.5f) & ~solid, labels, 8, CV_32S);
  cv::distanceTransform(~solid, from_solid, cv::DIST_L2, 3);
  const float near = static_cast<float>(options.near * std::hypot(prob.cols, prob.rows));
  const cv::Mat band = FrameBand(prob.size(), options.band);
  std::vector<uchar> close(n, 0), at_frame(n, 0);
  for (int y = 0; y < prob.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const float* d = from_solid.ptr<float>(y);
    const uchar* b = band.ptr<uchar>(y);
    for (int x = 0; x < prob.cols; ++x) {
      close[l[x]] |= d[x] <= near;
      at_frame[l[x]] |= b[x] != 0;
    }
  }
  std::vector<uchar> joined(n, 0);
  for (int i = 1; i < n; ++i) joined[i] = close[i] && at_frame[i];
  cv::Mat region = LabelsKept(labels, joined);
  const double added = cv::countNonZero(region);
  if (added == 0 || added > options.max_added * cv::countNonZero(solid)) return prob;
  // With the soft edge of what is added.
  cv::dilate(region, region, cv::Mat::ones(5, 5, CV_8U));
  cv::Mat merged;
  cv::max(prob, framed, merged);
  cv::Mat out = prob.clone();
  merged.copyTo(out, region);
  return out;
}

cv::Mat PushPullFill(const cv::Mat& bgr, const cv::Mat& weight, float gain) {
  CV_Assert((bgr.type() == CV_8UC3 || bgr.type() == CV_32FC3) && weight.type() == CV_32FC1 &&
            bgr.size() == weight.size());
  // Push: premultiplied colour and weight, halved until tiny.
  std::vector<cv::Mat> colour(1), weights(1, weight.clone());
  bgr.convertTo(colour[0], CV_32FC3);
  cv::Mat w3;
  cv::merge(std::vector<cv::Mat>{weight, weight, weight}, w3);
  cv::multiply(colour[0], w3, colour[0]);
  while (std::min(colour.back().cols, colour.back().rows) > 2) {
    cv::Mat c, w;
    cv::pyrDown(colour.back(), c);
    cv::pyrDown(weights.back(), w);
    colour.push_back(c);
    weights.push_back(w);
  }
  // Pull: at each level, trust the level's own normalised colour where its weight is high and the
  // coarser estimate elsewhere.
  cv::Mat estimate(colour.back().size(), CV_32FC3, cv::Scalar(128, 128, 128));
  for (int level = static_cast<int>(colour.size()) - 1; level >= 0; --level) {
    cv::Mat up;
    if (estimate.size() != colour[level].size()) {
      cv::pyrUp(estimate, up, colour[level].size());
    } else {
      up = estimate;
    }
    cv::Mat next(colour[level].size(), CV_32FC3);
    for (int y = 0; y < next.rows; ++y) {
      const auto* c = colour[level].ptr<cv::Vec3f>(y);
      const auto* w = weights[level].ptr<float>(y);
      const auto* u = up.ptr<cv::Vec3f>(y);
      auto* n = next.ptr<cv::Vec3f>(y);
      for (int x = 0; x < next.cols; ++x) {
        float trust = std::min(1.0f, w[x] * gain);
        cv::Vec3f own = w[x] > 1e-6f ? c[x] / w[x] : u[x];
        n[x] = trust * own + (1.0f - trust) * u[x];
      }
    }
    estimate = next;
  }
  cv::Mat out;
  estimate.convertTo(out, bgr.type());
  return out;
}

cv::Mat RefineAlpha(const cv::Mat& prob, const cv::Mat& net_view, const cv::Mat& guide,
                    const RefineOptions& options) {
  CV_Assert(prob.type() == CV_32FC1 && net_view.type() == CV_8UC3 && guide.type() == CV_8UC3 &&
            prob.size() == net_view.size());
  const cv::Size low = prob.size();
  const cv::Size box_size(2 * options.radius + 1, 2 * options.radius + 1);
  auto mean = [&](const cv::Mat& m) {
    cv::Mat out;
    cv::boxFilter(m, out, CV_32F, box_size, cv::Point(-1, -1), true, cv::BORDER_REFLECT);
    return out;
  };
  // Per-pixel least squares at low resolution: alpha ~ a . I + b over each window.
  cv::Mat image;
  net_view.convertTo(image, CV_32FC3, 1.0 / 255.0);
  std::vector<cv::Mat> ch(3);
  cv::split(image, ch);
  cv::Mat mean_p = mean(prob);
  cv::Mat mean_i[3], cov_ip[3], var[6];
  for (int c = 0; c < 3; ++c) {
    mean_i[c] = mean(ch[c]);
    cov_ip[c] = mean(ch[c].mul(prob)) - mean_i[c].mul(mean_p);
  }
  const int pairs[6][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 1}, {1, 2}, {2, 2}};
  for (int k = 0; k < 6; ++k) {
    int i = pairs[k][0], j = pairs[k][1];
    var[k] = mean(ch[i].mul(ch[j])) - mean_i[i].mul(mean_i[j]);
  }
  cv::Mat coeffs(low, CV_32FC4);  // a (3) and b
  const float eps = static_cast<float>(options.eps);
  cv::parallel_for_(cv::Range(0, low.height), [&](const cv::Range& rows) {
    for (int y = rows.start; y < rows.end; ++y) {
      auto* out = coeffs.ptr<cv::Vec4f>(y);
      for (int x = 0; x < low.width; ++x) {
        // Symmetric 3x3 covariance (+ eps) inverted by cofactors: a = inv(sigma) * cov.
        const float s00 = var[0].at<float>(y, x) + eps, s01 = var[1].at<float>(y, x),
                    s02 = var[2].at<float>(y, x), s11 = var[3].at<float>(y, x) + eps,
                    s12 = var[4].at<float>(y, x), s22 = var[5].at<float>(y, x) + eps;
        const float c00 = s11 * s22 - s12 * s12, c01 = s02 * s12 - s01 * s22,
                    c02 = s01 * s12 - s02 * s11, c11 = s00 * s22 - s02 * s02,
                    c12 = s01 * s02 - s00 * s12, c22 = s00 * s11 - s01 * s01;
        const float inv_det = 1.0f / (s00 * c00 + s01 * c01 + s02 * c02);
        const float v0 = cov_ip[0].at<float>(y, x), v1 = cov_ip[1].at<float>(y, x),
                    v2 = cov_ip[2].at<float>(y, x);
        const cv::Vec3f a((c00 * v0 + c01 * v1 + c02 * v2) * inv_det,
                          (c01 * v0 + c11 * v1 + c12 * v2) * inv_det,
                          (c02 * v0 + c12 * v1 + c22 * v2) * inv_det);
        float b = mean_p.at<float>(y, x) -
                  a.dot(cv::Vec3f(mean_i[0].at<float>(y, x), mean_i[1].at<float>(y, x),
                                  mean_i[2].at<float>(y, x)));
        out[x] = cv::Vec4f(a[0], a[1], a[2], b);
      }
    }
  });
  cv::Mat mean_coeffs = mean(coeffs);

  // Apply at the guide's resolution, inside the unsure band only.
  // The band is found at low resolution (cheap) and widened by one window.
  cv::Mat unsure = (prob > options.band_low) & (prob < options.band_high);
  cv::Mat low_band, band;
  cv::dilate(unsure, low_band, cv::Mat::ones(box_size, CV_8U));
  cv::resize(low_band, band, guide.size(), 0, 0, cv::INTER_NEAREST);
  cv::Mat coarse = ResizeTo(prob, guide.size(), cv::INTER_LINEAR);
  cv::Mat up_coeffs = ResizeTo(mean_coeffs, guide.size(), cv::INTER_LINEAR);
  cv::Mat refined(guide.size(), CV_32FC1);
  cv::parallel_for_(cv::Range(0, guide.rows), [&](const cv::Range& rows) {
    for (int y = rows.start; y < rows.end; ++y) {
      const auto* g = guide.ptr<cv::Vec3b>(y);
      const auto* k = up_coeffs.ptr<cv::Vec4f>(y);
      const auto* c = coarse.ptr<float>(y);
      const auto* in_band = band.ptr<uchar>(y);
      auto* out = refined.ptr<float>(y);
      for (int x = 0; x < guide.cols; ++x) {
        float v = c[x];
        if (in_band[x]) {
          v = (k[x][0] * g[x][0] + k[x][1] * g[x][1] + k[x][2] * g[x][2]) / 255.0f + k[x][3];
        }
        out[x] = std::clamp(v, 0.0f, 1.0f);
      }
    }
  });
  return refined;
}

cv::Mat EstimateForeground(const cv::Mat& bgr, const cv::Mat& alpha, int work_side) {
  CV_Assert(bgr.type() == CV_8UC3 && alpha.type() == CV_8UC1 && bgr.size() == alpha.size());
  cv::Size work = FitLongSide(bgr.size(), work_side);
  cv::Mat small_bgr = ResizeTo(bgr, work);
  cv::Mat small_alpha;
  ResizeTo(alpha, work).convertTo(small_alpha, CV_32FC1, 1.0 / 255.0);

  // Background: pixels that are clearly background; inner foreground: clearly foreground.
  cv::Mat bg_weight, fg_weight;
  cv::threshold(small_alpha, bg_weight, 0.05, 1.0, cv::THRESH_BINARY_INV);
  cv::threshold(small_alpha, fg_weight, 0.95, 1.0, cv::THRESH_BINARY);
  cv::Mat background = ResizeTo(PushPullFill(small_bgr, bg_weight), bgr.size());
  cv::Mat inner = ResizeTo(PushPullFill(small_bgr, fg_weight), bgr.size());

  cv::Mat foreground(bgr.size(), CV_8UC3);
  cv::parallel_for_(cv::Range(0, bgr.rows), [&](const cv::Range& rows) {
    for (int y = rows.start; y < rows.end; ++y) {
      const auto* i = bgr.ptr<cv::Vec3b>(y);
      const auto* a = alpha.ptr<uchar>(y);
      const auto* b = background.ptr<cv::Vec3b>(y);
      const auto* f = inner.ptr<cv::Vec3b>(y);
      auto* out = foreground.ptr<cv::Vec3b>(y);
      for (int x = 0; x < bgr.cols; ++x) {
        if (a[x] == 255) {
          out[x] = i[x];
          continue;
        }
        if (a[x] == 0) {
          out[x] = f[x];
          continue;
        }
        float av = a[x] / 255.0f;
        // Solve I = aF + (1-a)B for F; trust it less as alpha falls (noise grows as 1/a).
        float trust = std::clamp((av - 0.05f) / 0.45f, 0.0f, 1.0f);
        for (int c = 0; c < 3; ++c) {
          float solved = (i[x][c] - (1.0f - av) * b[x][c]) / av;
          solved = std::clamp(solved, 0.0f, 255.0f);
          out[x][c] = cv::saturate_cast<uchar>(trust * solved + (1.0f - trust) * f[x][c]);
        }
      }
    }
  });
  return foreground;
}

cv::Rect SubjectBox(const cv::Mat& alpha) {
  // An alpha at or below this (of 255) is treated as background.
  constexpr int kSubjectAlpha = 24;
  cv::Mat solid = alpha > kSubjectAlpha;
  cv::Mat rows, cols;
  cv::reduce(solid / 255, rows, 1, cv::REDUCE_SUM, CV_32S);
  cv::reduce(solid / 255, cols, 0, cv::REDUCE_SUM, CV_32S);
  auto span = [](const cv::Mat& counts) {
    const int* v = counts.ptr<int>();
    int n = static_cast<int>(counts.total()), first = 0, last = n - 1;
    while (first < n && v[first] < 2) ++first;
    while (last >= first && v[last] < 2) --last;
    return std::pair<int, int>(first, last);
  };
  auto [top, bottom] = span(rows);
  auto [left, right] = span(cols);
  if (top > bottom || left > right) return {};
  return {left, top, right - left + 1, bottom - top + 1};
}

}  // namespace vitrine::ops
