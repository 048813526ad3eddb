// Image: the value every op takes and returns.
//
// Pixels are 8-bit sRGB BGR (OpenCV order). Alpha is a separate 8-bit plane of the same size, or
// empty when the image is opaque. cv::Mat shares buffers on copy: an op that writes must clone
// first, so inputs are never modified (DESIGN.md).
#pragma once

#include <opencv2/core.hpp>
#include <string>

namespace vitrine {

struct Image {
  cv::Mat bgr;       // CV_8UC3
  cv::Mat alpha;     // CV_8UC1, same size as bgr; empty = opaque
  std::string name;  // the source's stem, used to name outputs
  // The source file's EXIF TIFF structure (orientation already applied to the pixels and reset
  // to 1) and XMP packet, or empty: carried so that an export may keep them. Not pixels: ops that
  // derive an image from another may leave them empty; the caller decides what to carry.
  std::string exif = {};
  std::string xmp = {};

  bool has_alpha() const { return !alpha.empty(); }
  int width() const { return bgr.cols; }
  int height() const { return bgr.rows; }
  // BGRA copy (alpha 255 where the image is opaque).
  cv::Mat ToBgra() const;
  // Deep copy: the result shares no pixel buffer with this image.
  Image Clone() const;
};

}  // namespace vitrine
