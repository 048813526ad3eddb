// ICC colour profiles: what an embedded profile describes, the sRGB profile exports embed, and the
// conversion of pixels to sRGB (LittleCMS).
//
// Thread safety: every function is thread-safe (each call makes its own LittleCMS objects).
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vitrine::io {

// What an ICC profile says of itself, read from its header and description tag (no LittleCMS:
// a profile it cannot open is still named in messages).
struct IccInfo {
  bool srgb = false;         // an RGB profile whose description names sRGB (IEC 61966-2-1)
  std::string description;   // "sRGB IEC61966-2.1", "Display P3", or "" when unreadable
  std::string colour_space;  // "RGB", "CMYK", "GRAY"
};
IccInfo DescribeIcc(std::string_view profile);

// The sRGB IEC 61966-2-1 profile (LittleCMS's built-in, ICC v4, about 600 bytes), as embedded by
// exports that keep metadata. Its description names sRGB, so DescribeIcc() reads it as sRGB.
const std::string& SrgbProfile();

// `bgr` (CV_8UC3) as described by the RGB ICC `profile`, converted to sRGB with relative
// colorimetric intent and black-point compensation. A new Mat; `bgr` is not modified.
// InvalidArgument when the profile cannot be opened or is not an RGB profile, or the conversion
// cannot be built from it (the message names the profile); the caller decides whether to keep
// the pixels as stored.
Result<cv::Mat> ConvertToSrgb(const cv::Mat& bgr, std::string_view profile);

}  // namespace vitrine::io
