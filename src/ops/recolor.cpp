// recolor: the same product in another catalogue colour. Works in CIELAB: the chroma (a, b)
// becomes the target's, scaled with the new lightness the way a dyed surface's chroma falls in
// shade and in highlights; lightness is shifted so the product's mean lightness becomes the
// target's, its contrast reduced only as far as needed to avoid clipping, so shading and texture
// keep their shape. Specular
// highlights (the brightest, near-neutral pixels well above the product's mean) stay as they are.
// The alpha, and every pixel outside it, is untouched.
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "ops/colour.h"
#include "ops/op.h"

namespace vitrine::ops {
namespace {

// Shading may be flattened to this share of its contrast at most, to fit a very dark or very
// light target; beyond that it clips instead of vanishing.
constexpr double kMinContrast = 0.3;
// Pixels with alpha at or below this are not part of the product (for the statistics).
constexpr int kProductAlpha = 128;

OpSchema RecolorSchema() {
  OpSchema s;
  s.name = "recolor";
  s.version = 1;
  s.doc =
      "Recolours the product (its alpha, or the whole image) to a target colour, keeping "
      "shading, texture and highlights.";
  s.fields = {
      {"color",
       FieldType::kString,
       "",
       {},
       {},
       {},
       "target colour, #RRGGBB or a name such as navy; required (a string, so that no default "
       "colour applies silently)"},
      {"keep_highlights",
       FieldType::kBoolean,
       true,
       {},
       {},
       {},
       "leave specular highlights near white instead of tinting them"},
  };
  return s;
}

double Smoothstep(double edge0, double edge1, double x) {
  const double t = std::clamp((x - edge0) / (edge1 - edge0), 0.0, 1.0);
  return t * t * (3 - 2 * t);
}

Result<Image> RunRecolor(const Image& input, const nlohmann::json& json, OpContext& context) {
  const std::string colour_text = json["color"];
  if (colour_text.empty()) {
    return InvalidArgument(
        "recolor.color: no target colour given; pass one such as \"#aa0000\" "
        "or navy");
  }
  ASSIGN_OR_RETURN(cv::Scalar target_bgr, ParseColor(colour_text));
  if (target_bgr[3] == 0) {
    return InvalidArgument(
        "recolor.color: transparent is not a colour a product can have; "
        "give #RRGGBB or a name");
  }
  const bool keep_highlights = json["keep_highlights"];
  const cv::Vec3f target =
      BgrToLab(cv::Vec3b(static_cast<uchar>(target_bgr[0]), static_cast<uchar>(target_bgr[1]),
                         static_cast<uchar>(target_bgr[2])));
  const cv::Mat lab = BgrToLab(input.bgr);

  // The product's lightness: mean, spread, and the 2nd and 98th percentiles.
  std::vector<float> lightness;
  for (int y = 0; y < lab.rows; ++y) {
    const cv::Vec3f* p = lab.ptr<cv::Vec3f>(y);
    const uchar* a = input.has_alpha() ? input.alpha.ptr<uchar>(y) : nullptr;
    for (int x = 0; x < lab.cols; ++x) {
      if (!a || a[x] >= kProductAlpha) lightness.push_back(p[x][0]);
    }
  }
  if (lightness.empty()) {
    return InvalidArgument(
        "recolor: the image's alpha holds no product pixels (all under 50% "
        "opacity); check the cutout");
  }
  double sum = 0, sum2 = 0;
  for (float l : lightness) {
    sum += l;
    sum2 += l * l;
  }
  const double mean = sum / lightness.size();
  const double spread = std::sqrt(std::max(0.0, sum2 / lightness.size() - mean * mean));
  auto percentile = [&](double q) {
    auto at = lightness.begin() + static_cast<long>(q * (lightness.size() - 1));
    std::nth_element(lightness.begin(), at, lightness.end());
    return static_cast<double>(*at);
  };
  const double low = percentile(0.02), high = percentile(0.98);

  // L' = target + c (L - mean): the mean lands on the target's lightness and shading keeps its
  // shape (gradients scale by one factor c); c < 1 only where the shading would otherwise clip
  // at black or white.
  const double target_l = std::clamp(static_cast<double>(target[0]), 1.0, 99.0);
  double contrast = 1;
  if (high > mean) contrast = std::min(contrast, (99 - target_l) / (high - mean));
  if (mean > low) contrast = std::min(contrast, (target_l - 1) / (mean - low));
  contrast = std::clamp(contrast, kMinContrast, 1.0);
  // Specular highlights: well above the product's own tone and bright.
  const double h0 = std::max(80.0, mean + 1.5 * spread + 5), h1 = std::max(93.0, h0 + 8);

  cv::Mat out_lab = lab.clone();
  for (int y = 0; y < lab.rows; ++y) {
    const cv::Vec3f* p = lab.ptr<cv::Vec3f>(y);
    cv::Vec3f* q = out_lab.ptr<cv::Vec3f>(y);
    const uchar* a = input.has_alpha() ? input.alpha.ptr<uchar>(y) : nullptr;
    for (int x = 0; x < lab.cols; ++x) {
      if (a && a[x] == 0) continue;
      const double l = p[x][0];
      const double l_new = std::clamp(target_l + contrast * (l - mean), 0.0, 100.0);
      // Chroma follows lightness: it fades toward black in shade and toward white in highlights.
      const double toward_black = l_new / std::max(1.0, target_l);
      const double toward_white = (100 - l_new) / std::max(1.0, 100 - target_l);
      const double k = std::clamp(std::min(toward_black, toward_white), 0.0, 1.0);
      cv::Vec3f recoloured(static_cast<float>(l_new), static_cast<float>(target[1] * k),
                           static_cast<float>(target[2] * k));
      const double keep =
          keep_highlights
              ? Smoothstep(h0, h1, l) * (1 - Smoothstep(12, 30, std::hypot(p[x][1], p[x][2])))
              : 0.0;
      q[x] = recoloured * static_cast<float>(1 - keep) + p[x] * static_cast<float>(keep);
    }
  }
  Image out;
  out.name = input.name;
  out.bgr = LabToBgr(out_lab);
  if (input.has_alpha()) {
    // Pixels outside the product keep their exact values (LabToBgr rounds).
    input.bgr.copyTo(out.bgr, input.alpha == 0);
    out.alpha = input.alpha.clone();
  }
  return out;
}

}  // namespace

VITRINE_REGISTER_OP((OpDef{RecolorSchema(), RunRecolor}));

}  // namespace vitrine::ops
