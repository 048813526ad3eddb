#include "io/colour_profile.h"

#include <lcms2.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace vitrine::io {
namespace {

uint32_t Be32(std::string_view b, size_t at) {
  return (uint32_t{static_cast<uint8_t>(b[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(b[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(b[at + 2])} << 8) | static_cast<uint8_t>(b[at + 3]);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

struct ProfileCloser {
  void operator()(void* p) const { cmsCloseProfile(p); }
};
using Profile = std::unique_ptr<void, ProfileCloser>;
struct TransformDeleter {
  void operator()(void* t) const { cmsDeleteTransform(t); }
};
using Transform = std::unique_ptr<void, TransformDeleter>;

}  // namespace

IccInfo DescribeIcc(std::string_view b) {
  IccInfo info;
  if (b.size() < 132 || b.substr(36, 4) != "acsp") return info;
  info.colour_space = Trim(std::string(b.substr(16, 4)));
  const uint32_t count = Be32(b, 128);
  for (uint32_t i = 0; i < count && 132 + 12 * (i + 1) <= b.size(); ++i) {
    const size_t entry = 132 + 12 * i;
    if (b.substr(entry, 4) != "desc") continue;
    const size_t offset = Be32(b, entry + 4), size = Be32(b, entry + 8);
    if (offset > b.size() || size > b.size() - offset || size < 12) break;
    std::string_view tag = b.substr(offset, size);
    if (tag.substr(0, 4) == "desc") {  // ICC v2: ASCII count then text
      const size_t length = Be32(tag, 8);
      if (length <= tag.size() - 12) info.description = Trim(std::string(tag.substr(12, length)));
    } else if (tag.substr(0, 4) == "mluc" && tag.size() >= 28) {  // ICC v4: UTF-16BE records
      const size_t length = Be32(tag, 20), at = Be32(tag, 24);
      if (at <= tag.size() && length <= tag.size() - at) {
        for (size_t k = 0; k + 1 < length; k += 2) {
          const char c = tag[at + k + 1];
          if (tag[at + k] == 0 && c >= 0x20 && c < 0x7F) info.description.push_back(c);
        }
      }
    }
    break;
  }
  std::string lower = info.description;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  info.srgb = info.colour_space == "RGB" && (lower.find("srgb") != std::string::npos ||
                                             lower.find("61966-2") != std::string::npos);
  return info;
}

const std::string& SrgbProfile() {
  static const std::string bytes = [] {
    Profile srgb(cmsCreate_sRGBProfile());
    cmsUInt32Number size = 0;
    std::string out;
    if (srgb && cmsSaveProfileToMem(srgb.get(), nullptr, &size) && size > 0) {
      out.resize(size);
      if (!cmsSaveProfileToMem(srgb.get(), out.data(), &size)) out.clear();
    }
    return out;
  }();
  return bytes;
}

Result<cv::Mat> ConvertToSrgb(const cv::Mat& bgr, std::string_view profile) {
  if (bgr.type() != CV_8UC3) return InvalidArgument("colour conversion needs 8-bit BGR pixels");
  const IccInfo info = DescribeIcc(profile);
  const std::string name = info.description.empty() ? "the embedded" : "'" + info.description + "'";
  Profile source(
      cmsOpenProfileFromMem(profile.data(), static_cast<cmsUInt32Number>(profile.size())));
  if (!source) {
    return InvalidArgument(name +
                           " ICC profile cannot be read; convert the image to sRGB before "
                           "importing it");
  }
  if (cmsGetColorSpace(source.get()) != cmsSigRgbData) {
    return InvalidArgument(name + " ICC profile is not an RGB profile; convert the image to sRGB");
  }
  Profile srgb(cmsCreate_sRGBProfile());
  Transform transform(cmsCreateTransform(source.get(), TYPE_BGR_8, srgb.get(), TYPE_BGR_8,
                                         INTENT_RELATIVE_COLORIMETRIC,
                                         cmsFLAGS_BLACKPOINTCOMPENSATION));
  if (!transform) {
    return InvalidArgument(name +
                           " ICC profile does not describe its colours completely; "
                           "convert the image to sRGB before importing it");
  }
  cv::Mat out(bgr.size(), CV_8UC3);
  for (int y = 0; y < bgr.rows; ++y) {
    cmsDoTransform(transform.get(), bgr.ptr<uchar>(y), out.ptr<uchar>(y),
                   static_cast<cmsUInt32Number>(bgr.cols));
  }
  return out;
}

}  // namespace vitrine::io
