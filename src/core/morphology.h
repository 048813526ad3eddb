// Binary masks grown or shrunk by a disc, fast for large radii.
//
// cv::dilate with a round kernel costs in proportion to the kernel's area, and text removal grows
// masks by tens of pixels around large captions and banners. These give the same pixels as
// cv::dilate / cv::erode with cv::getStructuringElement(cv::MORPH_ELLIPSE, {2r+1, 2r+1}) (the
// default anchor and borders: nothing outside the image grows in, and erosion does not eat in
// from the image's border; a region of a larger image sees its neighbours there), in time
// proportional to the radius: the disc is a stack of horizontal runs, each a separable rectangle.
// Pure functions; thread-safe.
#pragma once

#include <opencv2/core.hpp>

namespace vitrine {

// OpenCV's elliptic structuring element of a disc of `radius` (2·radius + 1 pixels across).
cv::Mat DiscKernel(int radius);

// `mask`: CV_8UC1 (any values: the result is the max over the disc). radius ≤ 0 returns a copy.
cv::Mat DilateDisc(const cv::Mat& mask, int radius);
// `mask`: CV_8UC1 (the result is the min over the disc). radius ≤ 0 returns a copy.
cv::Mat ErodeDisc(const cv::Mat& mask, int radius);

}  // namespace vitrine
