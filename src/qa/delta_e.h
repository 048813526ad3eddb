// Colour difference: CIEDE2000 (Sharma, Wu, Dalal 2005) and the sRGB -> CIELAB conversion it is
// applied to. Pure functions, thread-safe.
#pragma once

#include <opencv2/core.hpp>

namespace vitrine::qa {

// CIEDE2000 colour difference of two CIELAB colours (L in [0, 100]), with kL = kC = kH = 1.
// Symmetric; matches the published test pairs of Sharma et al. to 1e-4.
double Ciede2000(const cv::Vec3d& lab1, const cv::Vec3d& lab2);

// 8-bit sRGB BGR (CV_8UC3) -> CIELAB (D65) as CV_32FC3 with L in [0, 100], a and b unscaled.
cv::Mat BgrToLab(const cv::Mat& bgr);

}  // namespace vitrine::qa
