#include "core/image.h"

#include <opencv2/imgproc.hpp>

namespace vitrine {

cv::Mat Image::ToBgra() const {
  cv::Mat bgra;
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  if (has_alpha()) cv::insertChannel(alpha, bgra, 3);
  return bgra;
}

Image Image::Clone() const { return Image{bgr.clone(), alpha.clone(), name, exif, xmp}; }

}  // namespace vitrine
