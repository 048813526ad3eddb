// Colour science shared by the ops that change colours (stage's harmonization, recolor): CIELAB
// conversion, the CIEDE2000 colour difference, and sRGB transfer curves.
//
// All functions are pure and thread-safe; inputs are never modified.
#pragma once

#include <opencv2/core.hpp>

namespace vitrine::ops {

// 8-bit sRGB BGR (CV_8UC3) to CIELAB (CV_32FC3: L in [0, 100], a and b in their usual units, D65).
cv::Mat BgrToLab(const cv::Mat& bgr);
// CIELAB (CV_32FC3) back to 8-bit sRGB BGR, out-of-gamut values clipped.
cv::Mat LabToBgr(const cv::Mat& lab);
// One colour, for targets and tests.
cv::Vec3f BgrToLab(const cv::Vec3b& bgr);

// CIEDE2000 difference between two CIELAB colours (Sharma, Wu and Dalal 2005; kL = kC = kH = 1);
// the one implementation is qa::Ciede2000, shared with the QA checks.
double DeltaE2000(const cv::Vec3f& lab1, const cv::Vec3f& lab2);

struct DeltaEStats {
  double mean = 0;
  double max = 0;
  int pixels = 0;  // pixels compared
};
// ΔE2000 between two CV_8UC3 images of the same size over the pixels where `mask` (CV_8UC1, or
// empty for all) is at least `threshold`.
DeltaEStats CompareColours(const cv::Mat& bgr1, const cv::Mat& bgr2, const cv::Mat& mask,
                           int threshold = 128);

// sRGB 8-bit code to linear light in [0, 1], and linear light back to the nearest 8-bit code.
float SrgbToLinear(uchar value);
uchar LinearToSrgb(float linear);

}  // namespace vitrine::ops
