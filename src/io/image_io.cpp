#include "io/image_io.h"

#include <fcntl.h>
#include <gif_lib.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <webp/mux.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <new>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <vector>

#include "core/file.h"
#include "core/text.h"
#include "io/colour_profile.h"

namespace vitrine::io {
namespace {

using namespace std::string_view_literals;

constexpr std::string_view kSupported = "supported formats are JPEG, PNG, WebP and GIF";

// ---- Byte access. Every caller checks bounds first; these only assemble the integers.

uint8_t U8(std::string_view b, size_t at) { return static_cast<uint8_t>(b[at]); }
uint32_t Be16(std::string_view b, size_t at) { return (U8(b, at) << 8) | U8(b, at + 1); }
uint32_t Be32(std::string_view b, size_t at) {
  return (uint32_t{U8(b, at)} << 24) | (U8(b, at + 1) << 16) | (U8(b, at + 2) << 8) | U8(b, at + 3);
}
uint32_t Le16(std::string_view b, size_t at) { return U8(b, at) | (U8(b, at + 1) << 8); }
uint32_t Le24(std::string_view b, size_t at) { return Le16(b, at) | (U8(b, at + 2) << 16); }
uint32_t Le32(std::string_view b, size_t at) {
  return Le24(b, at) | (uint32_t{U8(b, at + 3)} << 24);
}

bool StartsWith(std::string_view b, std::string_view prefix) {
  return b.substr(0, prefix.size()) == prefix;
}

// ---- Messages.

// "50" for whole millions (when `trim_whole`), else "61.2", or "0.0031" below 0.1 million, so a
// small test limit does not read as zero.
std::string Millions(int64_t value, bool trim_whole) {
  char text[48];
  if (trim_whole && value % 1'000'000 == 0) {
    std::snprintf(text, sizeof(text), "%lld", static_cast<long long>(value / 1'000'000));
  } else if (value >= 100'000) {
    std::snprintf(text, sizeof(text), "%.1f", static_cast<double>(value) / 1e6);
  } else {
    std::snprintf(text, sizeof(text), "%.2g", static_cast<double>(value) / 1e6);
  }
  return text;
}

// `limit_variable` names the setting that raises the limit; empty when the caller's limit has
// no such setting.
Status TooManyBytes(int64_t size, int64_t max_bytes, std::string_view limit_variable) {
  std::string message =
      "file is " + Millions(size, false) + " MB; the limit is " + Millions(max_bytes, true) + " MB";
  if (!limit_variable.empty()) message += " (" + std::string(limit_variable) + ")";
  return ResourceExhausted(std::move(message));
}

Status OutOfMemory(std::string_view verb, int width, int height) {
  return ResourceExhausted("not enough memory to " + std::string(verb) + " a " +
                           std::to_string(width) + "x" + std::to_string(height) +
                           " image; lower VITRINE_MAX_PIXELS or run fewer jobs at once");
}

Status Corrupt(std::string_view detail) {
  return InvalidArgument("file is truncated or corrupt (" + std::string(detail) +
                         "); re-export or re-download it");
}

constexpr std::string_view kJpegXmp = "http://ns.adobe.com/xap/1.0/\0"sv;
constexpr std::string_view kPngXmp = "XML:com.adobe.xmp\0"sv;
constexpr std::string_view kJpegTruncated = "JPEG ends before its end marker";
constexpr std::string_view kPngTruncated = "PNG ends before its IEND chunk";
constexpr std::string_view kWebpTruncated = "WebP ends before the end of its RIFF container";
constexpr std::string_view kGifTruncated = "GIF ends before its trailer";

// ---- Recognising what we do not support, to say so by name.

bool LooksLikeText(std::string_view b) {
  std::string_view head = b.substr(0, 512);
  size_t odd = 0;
  for (char c : head) {
    uint8_t u = static_cast<uint8_t>(c);
    if (u == 0) return false;
    if (u < 0x20 && u != '\n' && u != '\r' && u != '\t' && u != '\f') ++odd;
  }
  return odd * 20 <= head.size();
}

std::string LowerHead(std::string_view b) {
  std::string head(b.substr(0, 1024));
  std::transform(head.begin(), head.end(), head.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<uint8_t>(c))); });
  return head;
}

struct Kind {
  std::string_view name;  // "" if unrecognised
  bool is_image = false;
};

// A known format we do not read, recognised by its magic bytes.
Kind UnsupportedKind(std::string_view b) {
  if (StartsWith(b, "II*\0"sv) || StartsWith(b, "MM\0*"sv)) return {"TIFF", true};
  if (b.size() >= 26 && StartsWith(b, "BM") && Le32(b, 6) == 0) {
    uint32_t dib = Le32(b, 14);
    if (dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 || dib == 124) {
      return {"BMP", true};
    }
  }
  if (b.size() >= 12 && b.substr(4, 4) == "ftyp") {
    std::string_view brand = b.substr(8, 4);
    if (brand == "avif" || brand == "avis") return {"AVIF", true};
    if (brand == "heic" || brand == "heix" || brand == "hevc" || brand == "heim" ||
        brand == "heis" || brand == "mif1" || brand == "msf1") {
      return {"HEIC/HEIF", true};
    }
    return {"a video (MP4/MOV)", false};
  }
  if (StartsWith(b, "\xFF\x0A"sv) || StartsWith(b, "\0\0\0\x0CJXL \r\n\x87\n"sv)) {
    return {"JPEG XL", true};
  }
  if (StartsWith(b, "\0\0\0\x0CjP  \r\n\x87\n"sv) || StartsWith(b, "\xFF\x4F\xFF\x51"sv)) {
    return {"JPEG 2000", true};
  }
  if (StartsWith(b, "8BPS")) return {"Photoshop (PSD)", true};
  if (b.size() >= 6 && StartsWith(b, "\0\0\1\0"sv) && Le16(b, 4) > 0) return {"ICO", true};
  if (StartsWith(b, "%PDF-")) return {"a PDF document", false};
  if (StartsWith(b, "PK\3\4"sv)) return {"a ZIP archive", false};
  if (StartsWith(b, "RIFF") && b.size() >= 12) {
    if (b.substr(8, 4) == "WAVE") return {"WAV audio", false};
    if (b.substr(8, 4) == "AVI ") return {"an AVI video", false};
    return {"a RIFF file other than WebP", false};
  }
  return {};
}

Status UnsupportedFormat(std::string_view b) {
  const std::string supported(kSupported);
  if (b.empty()) return Unsupported("the file is empty; " + supported);
  const Kind kind = UnsupportedKind(b);
  if (kind.is_image) {
    return Unsupported(std::string(kind.name) + " is not supported; convert it to PNG or JPEG (" +
                       supported + ")");
  }
  if (!kind.name.empty()) {
    return Unsupported("the file is " + std::string(kind.name) + ", not an image; " + supported);
  }
  if (LooksLikeText(b)) {
    std::string head = LowerHead(b);
    if (head.find("<svg") != std::string::npos) {
      return Unsupported("SVG is not supported; convert it to PNG (" + supported + ")");
    }
    if (head.find("<html") != std::string::npos ||
        head.find("<!doctype html") != std::string::npos) {
      return Unsupported(
          "the file is an HTML page, not an image (a download link may have returned an error "
          "page); " +
          supported);
    }
    return Unsupported("the file is text, not an image; " + supported);
  }
  return Unsupported("the file is not an image format we recognise; " + supported);
}

// ---- EXIF orientation.

std::string_view StripExifPrefix(std::string_view b) {
  // JPEG APP1 always has it; PNG eXIf and WebP EXIF should not, but some writers add it.
  return StartsWith(b, "Exif\0"sv) && b.size() >= 6 ? b.substr(6) : b;
}

// Where the orientation entry (tag 0x0112) of a TIFF structure's first IFD is, with its value
// (1..8), or nullopt when absent or unreadable: a broken EXIF block must not make an otherwise
// good image unreadable.
struct OrientationTag {
  size_t entry = 0;
  bool little = false;
  int value = 1;
};
std::optional<OrientationTag> FindOrientation(std::string_view tiff) {
  if (tiff.size() < 8) return std::nullopt;
  bool little;
  if (StartsWith(tiff, "II*\0"sv)) {
    little = true;
  } else if (StartsWith(tiff, "MM\0*"sv)) {
    little = false;
  } else {
    return std::nullopt;
  }
  auto u16 = [&](size_t at) { return little ? Le16(tiff, at) : Be16(tiff, at); };
  auto u32 = [&](size_t at) { return little ? Le32(tiff, at) : Be32(tiff, at); };
  // Offsets are at most 2^32 + 12 * 65535: the sums below cannot overflow a 64-bit size_t.
  static_assert(sizeof(size_t) >= 8);
  const size_t ifd = u32(4);
  if (ifd < 8 || ifd + 2 > tiff.size()) return std::nullopt;
  const size_t count = u16(ifd);
  for (size_t i = 0; i < count; ++i) {
    const size_t entry = ifd + 2 + 12 * i;
    if (entry + 12 > tiff.size()) return std::nullopt;
    if (u16(entry) != 0x0112) continue;
    uint32_t type = u16(entry + 2);
    if (u32(entry + 4) < 1 || (type != 3 && type != 4)) return std::nullopt;
    uint32_t value = type == 3 ? u16(entry + 8) : u32(entry + 8);
    if (value < 1 || value > 8) return std::nullopt;
    return OrientationTag{entry, little, static_cast<int>(value)};
  }
  return std::nullopt;
}

// The orientation (1..8) from a TIFF structure's first IFD, or 1 when absent or unreadable.
int OrientationFromTiff(std::string_view tiff) {
  const std::optional<OrientationTag> tag = FindOrientation(tiff);
  return tag ? tag->value : 1;
}

// Returns `m` transformed for display according to EXIF orientation 1..8.
cv::Mat Orient(const cv::Mat& m, int orientation) {
  if (m.empty() || orientation == 1) return m;
  cv::Mat out;
  switch (orientation) {
    case 2:
      cv::flip(m, out, 1);
      break;
    case 3:
      cv::rotate(m, out, cv::ROTATE_180);
      break;
    case 4:
      cv::flip(m, out, 0);
      break;
    case 5:
      cv::transpose(m, out);
      break;
    case 6:
      cv::rotate(m, out, cv::ROTATE_90_CLOCKWISE);
      break;
    case 7:
      cv::transpose(m, out);
      cv::rotate(out, out, cv::ROTATE_180);
      break;
    case 8:
      cv::rotate(m, out, cv::ROTATE_90_COUNTERCLOCKWISE);
      break;
    default:
      return m;
  }
  return out;
}

// ---- Container walkers. One per format: with `to_end` false they stop once the dimensions are
// known (ReadHeader); with `to_end` true they check the whole structure and collect metadata.

struct ContainerInfo {
  ImageHeader header;
  std::string_view exif;  // TIFF structure, or empty
  bool animated = false;
  EmbeddedMetadata metadata;
  size_t gif_first_frame_end = 0;  // GIF: the offset just past the first frame's image data
};

// A PNG iCCP chunk: profile name, NUL, compression method 0, then the zlib stream.
std::string InflateIccp(std::string_view chunk) {
  const size_t nul = chunk.find('\0');
  if (nul == std::string_view::npos || nul + 2 > chunk.size() || U8(chunk, nul + 1) != 0) return {};
  std::string_view stream = chunk.substr(nul + 2);
  constexpr size_t kMaxProfile = 16 << 20;  // real profiles are kilobytes
  std::string out;
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return {};
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(stream.data()));
  z.avail_in = static_cast<uInt>(stream.size());
  int rc = Z_OK;
  char buffer[16384];
  while (rc == Z_OK && out.size() < kMaxProfile) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof buffer;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

bool IsSof(uint8_t m) { return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; }

// Walks markers the way libjpeg finds them: the next 0xFF followed by a byte other than 0x00
// (a stuffed byte inside entropy-coded data) or 0xFF (fill). That one rule also steps over scan
// data and over stray bytes between segments, which libjpeg skips with a warning and every
// viewer shows; refusing those would refuse files sellers can open everywhere else.
Result<ContainerInfo> WalkJpeg(std::string_view b, bool to_end) {
  ContainerInfo info;
  info.header.format = Format::kJpeg;
  bool have_frame = false;
  bool have_scan = false;
  size_t pos = 2;  // after SOI
  while (true) {
    while (true) {
      const void* ff = pos < b.size() ? std::memchr(b.data() + pos, 0xFF, b.size() - pos) : nullptr;
      pos = ff ? static_cast<size_t>(static_cast<const char*>(ff) - b.data()) : b.size();
      if (pos + 1 >= b.size() || (U8(b, pos + 1) != 0x00 && U8(b, pos + 1) != 0xFF)) break;
      ++pos;
    }
    if (pos + 1 >= b.size()) {
      return Corrupt(have_frame ? kJpegTruncated : "JPEG ends before its frame header"sv);
    }
    const uint8_t marker = U8(b, pos + 1);
    pos += 2;
    if (marker == 0xD9) {  // EOI
      if (!have_frame || !have_scan) return Corrupt("JPEG ends before its image data");
      return info;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // TEM, RSTn, SOI
    if (b.size() - pos < 2) continue;  // reported as truncated by the search above
    const size_t length = Be16(b, pos);
    if (length < 2) return Corrupt("JPEG segment structure is broken");
    if (length > b.size() - pos) {
      return Corrupt(have_frame ? kJpegTruncated : "JPEG ends before its frame header"sv);
    }
    std::string_view segment = b.substr(pos + 2, length - 2);
    pos += length;
    if (IsSof(marker) && !have_frame) {
      if (segment.size() < 6) return Corrupt("JPEG frame header is too short");
      // Baseline, extended, progressive, with Huffman or arithmetic coding: what libjpeg reads.
      if (marker != 0xC0 && marker != 0xC1 && marker != 0xC2 && marker != 0xC9 && marker != 0xCA) {
        return Unsupported(
            "lossless and hierarchical JPEG are not supported; re-export it as a standard JPEG "
            "or PNG");
      }
      const int precision = U8(segment, 0);
      if (precision == 12 || precision == 16) {
        return Unsupported(std::to_string(precision) +
                           "-bit JPEG is not supported; re-export it as an 8-bit JPEG or PNG");
      }
      if (precision != 8) return Corrupt("JPEG frame header gives an invalid sample precision");
      info.header.height = static_cast<int>(Be16(segment, 1));
      info.header.width = static_cast<int>(Be16(segment, 3));
      const size_t components = U8(segment, 5);
      if (components > 1 && segment.size() >= 6 + 3 * components) {
        int h = 1, v = 1;
        for (size_t c = 0; c < components; ++c) {
          h = std::max(h, U8(segment, 7 + 3 * c) >> 4);
          v = std::max(v, U8(segment, 7 + 3 * c) & 15);
        }
        info.header.mcu_width = 8 * h;
        info.header.mcu_height = 8 * v;
      }
      if (info.header.width == 0 || info.header.height == 0) {
        return Corrupt("JPEG frame header gives a width or height of 0");
      }
      have_frame = true;
      if (!to_end) return info;
    } else if (marker == 0xE1 && info.exif.empty() && StartsWith(segment, "Exif\0"sv)) {
      info.exif = StripExifPrefix(segment);
      info.metadata.exif = true;
    } else if (marker == 0xE1 && StartsWith(segment, kJpegXmp)) {
      info.metadata.xmp = true;
      if (info.metadata.xmp_packet.empty()) {
        info.metadata.xmp_packet = std::string(segment.substr(kJpegXmp.size()));
      }
    } else if (marker == 0xED && StartsWith(segment, "Photoshop 3.0\0"sv)) {
      info.metadata.iptc = true;
    } else if (marker == 0xE2 && StartsWith(segment, "ICC_PROFILE\0"sv) && segment.size() > 14) {
      // Chunks carry their sequence number (1-based) and count; writers emit them in order.
      info.metadata.icc_profile.append(segment.substr(14));
    } else if (marker == 0xDA) {  // SOS; its entropy-coded data is skipped by the search above
      if (!have_frame) return Corrupt("JPEG has image data before its frame header");
      have_scan = true;
    }
  }
}

bool ValidPngDepth(int color_type, int depth) {
  switch (color_type) {
    case 0:
      return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3:
      return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2:
    case 4:
    case 6:
      return depth == 8 || depth == 16;
    default:
      return false;
  }
}

bool PngCrcMatches(std::string_view b, size_t chunk, size_t length) {
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(b.data() + chunk + 4),
                    static_cast<uInt>(length + 4));
  return crc == Be32(b, chunk + 8 + length);
}

Result<ContainerInfo> WalkPng(std::string_view b, bool to_end) {
  ContainerInfo info;
  info.header.format = Format::kPng;
  if (b.size() < 33) return Corrupt("PNG ends inside its header");
  if (Be32(b, 8) != 13 || b.substr(12, 4) != "IHDR") {
    return Corrupt("PNG does not start with an IHDR chunk");
  }
  if (!PngCrcMatches(b, 8, 13)) return Corrupt("PNG header checksum does not match");
  uint32_t width = Be32(b, 16);
  uint32_t height = Be32(b, 20);
  if (width == 0 || height == 0 || width > 0x7FFFFFFF || height > 0x7FFFFFFF) {
    return Corrupt("PNG header gives an impossible size");
  }
  if (!ValidPngDepth(U8(b, 25), U8(b, 24)) || U8(b, 26) != 0 || U8(b, 27) != 0 || U8(b, 28) > 1) {
    return Corrupt("PNG header has an invalid colour type, bit depth or method");
  }
  info.header.width = static_cast<int>(width);
  info.header.height = static_cast<int>(height);
  if (!to_end) return info;

  bool have_data = false;
  size_t pos = 33;
  while (true) {
    if (b.size() - pos < 12) return Corrupt(kPngTruncated);
    size_t length = Be32(b, pos);
    if (length > 0x7FFFFFFF) return Corrupt("PNG has a chunk with an impossible length");
    if (length > b.size() - pos - 12) return Corrupt(kPngTruncated);
    std::string_view type = b.substr(pos + 4, 4);
    if (type == "IDAT") {
      have_data = true;
    } else if (type == "IEND") {
      if (!have_data) return Corrupt("PNG has no image data (IDAT chunk)");
      return info;
    } else if (type == "eXIf" && info.exif.empty() && PngCrcMatches(b, pos, length)) {
      info.exif = StripExifPrefix(b.substr(pos + 8, length));
      info.metadata.exif = true;
    } else if (type == "iCCP" && info.metadata.icc_profile.empty()) {
      info.metadata.icc_profile = InflateIccp(b.substr(pos + 8, length));
    } else if (type == "sRGB") {
      info.metadata.srgb_chunk = true;
    } else if (type == "iTXt" && StartsWith(b.substr(pos + 8, length), kPngXmp)) {
      info.metadata.xmp = true;
      // keyword NUL, compression flag, method, language NUL, translated keyword NUL, text.
      std::string_view rest = b.substr(pos + 8 + kPngXmp.size(), length - kPngXmp.size());
      if (info.metadata.xmp_packet.empty() && rest.size() >= 2 && rest[0] == 0) {
        const size_t language_end = rest.find('\0', 2);
        const size_t keyword_end = language_end == std::string_view::npos
                                       ? std::string_view::npos
                                       : rest.find('\0', language_end + 1);
        if (keyword_end != std::string_view::npos) {
          info.metadata.xmp_packet = std::string(rest.substr(keyword_end + 1));
        }
      }
    }
    pos += 12 + length;
  }
}

Result<ContainerInfo> WalkWebp(std::string_view b, bool to_end) {
  ContainerInfo info;
  info.header.format = Format::kWebp;
  if (b.size() < 20) return Corrupt("WebP ends inside its header");
  std::string_view first = b.substr(12, 4);
  std::string_view payload = b.substr(20, Le32(b, 16));
  uint32_t width = 0;
  uint32_t height = 0;
  if (first == "VP8 ") {
    if (payload.size() < 10) return Corrupt("WebP ends inside its header");
    if ((U8(payload, 0) & 1) != 0) return Corrupt("WebP (VP8) does not start with a key frame");
    if (payload.substr(3, 3) != "\x9D\x01\x2A") return Corrupt("WebP (VP8) header is invalid");
    width = Le16(payload, 6) & 0x3FFF;
    height = Le16(payload, 8) & 0x3FFF;
  } else if (first == "VP8L") {
    if (payload.size() < 5) return Corrupt("WebP ends inside its header");
    uint32_t bits = Le32(payload, 1);
    if (U8(payload, 0) != 0x2F || (bits >> 29) != 0) {
      return Corrupt("WebP (VP8L) header is invalid");
    }
    width = (bits & 0x3FFF) + 1;
    height = ((bits >> 14) & 0x3FFF) + 1;
  } else if (first == "VP8X") {
    if (payload.size() < 10) return Corrupt("WebP ends inside its header");
    info.animated = (U8(payload, 0) & 0x02) != 0;
    width = Le24(payload, 4) + 1;
    height = Le24(payload, 7) + 1;
  } else {
    return Corrupt("WebP does not start with an image chunk (VP8, VP8L or VP8X)");
  }
  if (width == 0 || height == 0) return Corrupt("WebP header gives a width or height of 0");
  info.header.width = static_cast<int>(width);
  info.header.height = static_cast<int>(height);
  if (!to_end) return info;

  size_t riff_size = Le32(b, 4);
  if (riff_size < 4) return Corrupt("WebP RIFF container is invalid");
  if (riff_size > b.size() - 8) return Corrupt(kWebpTruncated);
  size_t end = 8 + riff_size;
  bool have_data = false;
  for (size_t pos = 12; pos < end;) {
    if (end - pos < 8) return Corrupt("WebP chunk structure is broken");
    std::string_view type = b.substr(pos, 4);
    size_t length = Le32(b, pos + 4);
    if (length > end - pos - 8) return Corrupt(kWebpTruncated);
    if (type == "VP8 " || type == "VP8L") {
      have_data = true;
    } else if (type == "ANIM" || type == "ANMF") {
      info.animated = true;
    } else if (type == "EXIF" && info.exif.empty()) {
      info.exif = StripExifPrefix(b.substr(pos + 8, length));
      info.metadata.exif = true;
    } else if (type == "ICCP") {
      info.metadata.icc_profile = std::string(b.substr(pos + 8, length));
    } else if (type == "XMP ") {
      info.metadata.xmp = true;
      info.metadata.xmp_packet = std::string(b.substr(pos + 8, length));
    }
    pos += 8 + length + (length & 1);
  }
  if (!have_data && !info.animated) return Corrupt("WebP has no image data");
  return info;
}

// GIF: a screen descriptor and optional colour table, then extension (0x21) and image (0x2C)
// blocks whose data are chains of sub-blocks, then the trailer (0x3B).

// The offset just past the sub-block chain that starts at `pos`, or npos if the data end first.
size_t SkipGifSubBlocks(std::string_view b, size_t pos) {
  while (pos < b.size()) {
    const size_t length = U8(b, pos);
    if (length == 0) return pos + 1;
    pos += 1 + length;
  }
  return std::string_view::npos;
}

size_t GifColourTableBytes(uint8_t packed) {
  return (packed & 0x80) ? size_t{3} << ((packed & 7) + 1) : 0;
}

Result<ContainerInfo> WalkGif(std::string_view b, bool to_end) {
  ContainerInfo info;
  info.header.format = Format::kGif;
  if (b.size() < 13) return Corrupt("GIF ends inside its header");
  info.header.width = static_cast<int>(Le16(b, 6));
  info.header.height = static_cast<int>(Le16(b, 8));
  if (info.header.width == 0 || info.header.height == 0) {
    return Corrupt("GIF header gives a width or height of 0");
  }
  if (!to_end) return info;

  const int64_t screen = int64_t{info.header.width} * info.header.height;
  int frames = 0;
  size_t pos = 13 + GifColourTableBytes(U8(b, 10));
  while (true) {
    if (pos >= b.size()) return Corrupt(kGifTruncated);
    const uint8_t block = U8(b, pos);
    if (block == 0x3B) break;
    if (block == 0x21) {
      pos = SkipGifSubBlocks(b, pos + 2);
    } else if (block == 0x2C) {
      if (b.size() - pos < 10) return Corrupt(kGifTruncated);
      const int64_t frame = int64_t{Le16(b, pos + 5)} * Le16(b, pos + 7);
      // A frame may overhang its screen (it is clipped), but not by enough to be a memory bomb.
      if (frame == 0 || frame > 4 * screen) {
        return Corrupt("a GIF frame's size does not fit its screen");
      }
      pos += 10 + GifColourTableBytes(U8(b, pos + 9)) + 1;  // + the LZW minimum code size
      pos = SkipGifSubBlocks(b, pos);
      if (++frames == 1) info.gif_first_frame_end = pos;
    } else {
      return Corrupt("GIF block structure is broken");
    }
    if (pos == std::string_view::npos) return Corrupt(kGifTruncated);
  }
  if (frames == 0) return Corrupt("GIF has no image data");
  info.animated = frames > 1;
  return info;
}

Result<ContainerInfo> WalkContainer(std::string_view b, bool to_end) {
  switch (SniffFormat(b)) {
    case Format::kJpeg:
      return WalkJpeg(b, to_end);
    case Format::kPng:
      return WalkPng(b, to_end);
    case Format::kWebp:
      return WalkWebp(b, to_end);
    case Format::kGif:
      return WalkGif(b, to_end);
    case Format::kUnknown:
      break;
  }
  return UnsupportedFormat(b);
}

// ---- Pixels.

// Decoder output (1-4 channels, 8 or 16 bits) -> 8-bit BGR + alpha (empty when fully opaque).
Result<Image> ToImage(cv::Mat decoded, std::string name) {
  if (decoded.depth() == CV_16U) {
    decoded.convertTo(decoded, CV_8U, 1.0 / 257.0);
  } else if (decoded.depth() != CV_8U) {
    return Unsupported("images with floating-point or 32-bit samples are not supported");
  }
  Image image;
  image.name = std::move(name);
  switch (decoded.channels()) {
    case 1:
      cv::cvtColor(decoded, image.bgr, cv::COLOR_GRAY2BGR);
      break;
    case 2: {
      cv::Mat grey;
      cv::extractChannel(decoded, grey, 0);
      cv::extractChannel(decoded, image.alpha, 1);
      cv::cvtColor(grey, image.bgr, cv::COLOR_GRAY2BGR);
      break;
    }
    case 3:
      image.bgr = decoded;
      break;
    case 4:
      cv::cvtColor(decoded, image.bgr, cv::COLOR_BGRA2BGR);
      cv::extractChannel(decoded, image.alpha, 3);
      break;
    default:
      return Unsupported("images with more than 4 channels are not supported");
  }
  if (image.has_alpha()) {
    double min_alpha = 0;
    cv::minMaxLoc(image.alpha, &min_alpha);
    if (min_alpha >= 255) image.alpha.release();
  }
  return image;
}

// The first frame of a GIF as BGRA on its screen: transparent where the frame does not reach and
// where its Graphic Control Extension names a transparent colour. An animated GIF's later frames
// are not read: giflib gets the bytes up to the end of the first frame, and the trailer.
Result<cv::Mat> DecodeGifFirstFrame(std::string_view b, const ContainerInfo& info) {
  struct Reader {
    std::string bytes;
    size_t pos = 0;
  } reader{std::string(b.substr(0, info.gif_first_frame_end)) + ';'};
  const InputFunc read = [](GifFileType* gif, GifByteType* out, int n) {
    auto* r = static_cast<Reader*>(gif->UserData);
    const size_t count = std::min(static_cast<size_t>(std::max(n, 0)), r->bytes.size() - r->pos);
    std::memcpy(out, r->bytes.data() + r->pos, count);
    r->pos += count;
    return static_cast<int>(count);
  };
  int error = 0;
  std::unique_ptr<GifFileType, void (*)(GifFileType*)> gif(
      DGifOpen(&reader, read, &error), [](GifFileType* g) { DGifCloseFile(g, nullptr); });
  if (!gif) return Corrupt(std::string("GIF: ") + GifErrorString(error));
  if (DGifSlurp(gif.get()) != GIF_OK || gif->ImageCount < 1) {
    return Corrupt(std::string("GIF: ") + GifErrorString(gif->Error));
  }
  const SavedImage& frame = gif->SavedImages[0];
  const GifImageDesc& desc = frame.ImageDesc;
  const ColorMapObject* colours = desc.ColorMap ? desc.ColorMap : gif->SColorMap;
  if (!colours) return Corrupt("GIF has no colour table");
  GraphicsControlBlock control{};
  control.TransparentColor = NO_TRANSPARENT_COLOR;
  DGifSavedExtensionToGCB(gif.get(), 0, &control);  // leaves the defaults when there is none

  cv::Mat bgra(info.header.height, info.header.width, CV_8UC4, cv::Scalar::all(0));
  const int x0 = std::max(desc.Left, 0);
  const int x1 = std::min(desc.Left + desc.Width, bgra.cols);
  for (int y = std::max(desc.Top, 0); y < std::min(desc.Top + desc.Height, bgra.rows); ++y) {
    const GifByteType* row = frame.RasterBits + int64_t{y - desc.Top} * desc.Width - desc.Left;
    cv::Vec4b* out = bgra.ptr<cv::Vec4b>(y);
    for (int x = x0; x < x1; ++x) {
      const int index = row[x];
      if (index == control.TransparentColor) continue;
      if (index >= colours->ColorCount) return Corrupt("a GIF pixel is outside its colour table");
      const GifColorType& c = colours->Colors[index];
      out[x] = {c.Blue, c.Green, c.Red, 255};
    }
  }
  return bgra;
}

cv::Mat CompositeOverWhite(const Image& image) {
  cv::Mat out(image.bgr.size(), CV_8UC3);
  for (int y = 0; y < out.rows; ++y) {
    const cv::Vec3b* src = image.bgr.ptr<cv::Vec3b>(y);
    const uint8_t* a = image.alpha.ptr<uint8_t>(y);
    cv::Vec3b* dst = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < out.cols; ++x) {
      int alpha = a[x];
      for (int c = 0; c < 3; ++c) {
        dst[x][c] = static_cast<uint8_t>((src[x][c] * alpha + 255 * (255 - alpha) + 127) / 255);
      }
    }
  }
  return out;
}

// ---- Files.

Result<std::string> ReadFileWithin(const std::string& path, int64_t max_bytes,
                                   std::string_view limit_variable) {
  max_bytes = std::max<int64_t>(max_bytes, 0);
  // O_NONBLOCK: opening a FIFO must not hang; it has no effect on regular files.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return ErrnoStatus("read", path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("read", path, errno);
  if (S_ISDIR(st.st_mode)) return InvalidArgument(path + " is a folder, not a file");
  if (!S_ISREG(st.st_mode)) return InvalidArgument(path + " is not a regular file");
  if (st.st_size > max_bytes) {
    return TooManyBytes(st.st_size, max_bytes, limit_variable).WithContext(path);
  }
  // One spare byte beyond the size shows whether the file grew since fstat.
  std::string data(static_cast<size_t>(st.st_size) + 1, '\0');
  size_t got = 0;
  while (true) {
    if (got == data.size()) {
      if (static_cast<int64_t>(got) > max_bytes) {
        return TooManyBytes(static_cast<int64_t>(got), max_bytes, limit_variable).WithContext(path);
      }
      data.resize(std::min<size_t>(got * 2, static_cast<size_t>(max_bytes) + 1));
    }
    ssize_t n = ::read(fd.get(), data.data() + got, data.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path, errno);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  data.resize(got);
  return data;
}

}  // namespace

namespace {

// Each supported format's name, file extension, and every name ParseFormat() accepts.
struct FormatNames {
  Format format;
  std::string_view name;
  std::string_view extension;
  std::string_view alias;
  bool written = true;  // an output format (ParseFormat accepts it)
};
constexpr FormatNames kFormatNames[] = {
    {Format::kJpeg, "jpeg", "jpg", "jpg"},
    {Format::kPng, "png", "png", "png"},
    {Format::kWebp, "webp", "webp", "webp"},
    {Format::kGif, "gif", "gif", "gif", false},
};

const FormatNames* Names(Format format) {
  for (const FormatNames& names : kFormatNames) {
    if (names.format == format) return &names;
  }
  return nullptr;
}

}  // namespace

std::string_view FormatName(Format format) {
  const FormatNames* names = Names(format);
  return names ? names->name : "unknown";
}

std::string_view FormatExtension(Format format) {
  const FormatNames* names = Names(format);
  return names ? names->extension : "";
}

Result<Format> ParseFormat(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<uint8_t>(c))); });
  for (const FormatNames& names : kFormatNames) {
    if (names.written && (lower == names.name || lower == names.alias)) return names.format;
  }
  return InvalidArgument("unknown image format '" + std::string(name) +
                         "'; use png, jpg (or jpeg) or webp");
}

Format SniffFormat(std::string_view bytes) {
  if (StartsWith(bytes, "\xFF\xD8\xFF")) return Format::kJpeg;
  if (StartsWith(bytes, "\x89PNG\r\n\x1A\n")) return Format::kPng;
  if (bytes.size() >= 12 && StartsWith(bytes, "RIFF") && bytes.substr(8, 4) == "WEBP") {
    return Format::kWebp;
  }
  if (StartsWith(bytes, "GIF87a") || StartsWith(bytes, "GIF89a")) return Format::kGif;
  return Format::kUnknown;
}

Result<ImageHeader> ReadHeader(std::string_view bytes) {
  ASSIGN_OR_RETURN(ContainerInfo info, WalkContainer(bytes, /*to_end=*/false));
  return info.header;
}

Result<EmbeddedMetadata> ReadMetadata(std::string_view bytes) {
  ASSIGN_OR_RETURN(ContainerInfo info, WalkContainer(bytes, /*to_end=*/true));
  info.metadata.exif_tiff = std::string(info.exif);
  return std::move(info.metadata);
}

std::string ExifUpright(std::string_view tiff) {
  std::string out(tiff);
  const std::optional<OrientationTag> tag = FindOrientation(tiff);
  if (!tag) return out;
  // The value sits in the entry's first bytes whatever its type (SHORT or LONG), in file order.
  const size_t at = tag->entry + 8;
  std::fill(out.begin() + at, out.begin() + at + 4, '\0');
  out[tag->little ? at : (Be16(tiff, tag->entry + 2) == 3 ? at + 1 : at + 3)] = 1;
  return out;
}

Result<ImageHeader> CheckLimits(std::string_view bytes, const LimitsConfig& limits) {
  const int64_t size = static_cast<int64_t>(bytes.size());
  if (size > limits.max_bytes) return TooManyBytes(size, limits.max_bytes, "VITRINE_MAX_BYTES");
  if (size > std::numeric_limits<int>::max()) {  // cv::Mat cannot wrap more
    return TooManyBytes(size, std::numeric_limits<int>::max(), "");
  }
  ASSIGN_OR_RETURN(ImageHeader header, ReadHeader(bytes));
  const int64_t pixels = int64_t{header.width} * header.height;
  if (pixels > limits.max_pixels) {
    return ResourceExhausted("image is " + Millions(pixels, false) + " MP (" +
                             std::to_string(header.width) + "x" + std::to_string(header.height) +
                             "); the limit is " + Millions(limits.max_pixels, true) +
                             " MP (VITRINE_MAX_PIXELS)");
  }
  return header;
}

Result<Image> DecodeImage(std::string_view bytes, const LimitsConfig& limits, std::string name) {
  const int64_t size = static_cast<int64_t>(bytes.size());
  ASSIGN_OR_RETURN(ImageHeader header, CheckLimits(bytes, limits));
  ASSIGN_OR_RETURN(ContainerInfo info, WalkContainer(bytes, /*to_end=*/true));
  if (info.animated && header.format == Format::kWebp) {
    return Unsupported("animated WebP is not supported; export one frame as PNG or JPEG");
  }

  const std::string format(FormatName(header.format));
  // Everything that allocates pixels is inside the try: OpenCV reports allocation failure as a
  // cv::Exception (StsNoMem), the standard library as std::bad_alloc.
  try {
    // imdecode only reads the buffer; the const_cast is for cv::Mat's constructor.
    cv::Mat decoded;
    if (header.format == Format::kGif) {
      ASSIGN_OR_RETURN(decoded, DecodeGifFirstFrame(bytes, info));
    } else {
      cv::Mat buffer(1, static_cast<int>(size), CV_8UC1, const_cast<char*>(bytes.data()));
      decoded = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
    }
    if (decoded.empty()) return Corrupt("the " + format + " decoder rejected it");
    if (decoded.cols != header.width || decoded.rows != header.height) {
      return Corrupt("decoded size differs from the size in the header");
    }
    ASSIGN_OR_RETURN(Image image, ToImage(std::move(decoded), std::move(name)));
    const std::string& icc = info.metadata.icc_profile;
    if (!icc.empty()) {
      const IccInfo profile = DescribeIcc(icc);
      if (profile.colour_space == "RGB" && !profile.srgb) {
        // A profile that cannot be applied leaves the pixels as stored: `vitrine check` names it.
        Result<cv::Mat> srgb = ConvertToSrgb(image.bgr, icc);
        if (srgb.ok()) image.bgr = *std::move(srgb);
      }
    }
    image.exif = ExifUpright(info.exif);
    image.xmp = info.metadata.xmp_packet;
    // cv::imdecode with IMREAD_UNCHANGED ignores orientation: this is the one place it is applied.
    const int orientation = OrientationFromTiff(info.exif);
    image.bgr = Orient(image.bgr, orientation);
    image.alpha = Orient(image.alpha, orientation);
    return image;
  } catch (const cv::Exception& e) {
    if (e.code == cv::Error::StsNoMem) return OutOfMemory("decode", header.width, header.height);
    // Not necessarily corruption (OpenCV has its own size caps), so the message does not say so.
    return InvalidArgument("the " + format + " decoder could not read the file (" + e.err +
                           "); re-export it as PNG or JPEG");
  } catch (const std::bad_alloc&) {
    return OutOfMemory("decode", header.width, header.height);
  }
}

Result<Image> ReadImageFile(const std::string& path, const LimitsConfig& limits) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileWithin(path, limits.max_bytes, "VITRINE_MAX_BYTES"));
  Result<Image> image = DecodeImage(bytes, limits, std::filesystem::path(path).stem().string());
  if (!image.ok()) return image.status().WithContext(path);
  return image;
}

namespace {

// ---- Encoding.

constexpr size_t kMaxJpegSegment = 65533;  // a marker segment's payload after its length field
constexpr size_t kMaxJpegXmp = kMaxJpegSegment - kJpegXmp.size();

// JPEG through libjpeg-turbo: 4:4:4 (OpenCV 4.6's imencode always subsamples chroma 4:2:0, which
// smears colour edges over 16x16 blocks) and the accurate integer DCT. `pixels` is BGR or grey.
Result<std::string> EncodeJpeg(const cv::Mat& pixels, int quality) {
  struct Handle {
    tjhandle h = tjInitCompress();
    ~Handle() {
      if (h) tjDestroy(h);
    }
  } handle;
  if (!handle.h)
    return Internal("the JPEG encoder could not start: " + std::string(tjGetErrorStr()));
  const cv::Mat contiguous = pixels.isContinuous() ? pixels : pixels.clone();
  const bool grey = contiguous.channels() == 1;
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  const int rc = tjCompress2(handle.h, contiguous.ptr<unsigned char>(), contiguous.cols,
                             static_cast<int>(contiguous.step[0]), contiguous.rows,
                             grey ? TJPF_GRAY : TJPF_BGR, &out, &out_size,
                             grey ? TJSAMP_GRAY : TJSAMP_444, quality, TJFLAG_ACCURATEDCT);
  std::string bytes;
  if (rc == 0 && out) bytes.assign(reinterpret_cast<const char*>(out), out_size);
  const std::string error = rc == 0 ? "" : tjGetErrorStr2(handle.h);
  tjFree(out);
  if (rc != 0) {
    return Internal("the JPEG encoder failed for a " + std::to_string(pixels.cols) + "x" +
                    std::to_string(pixels.rows) + " image: " + error);
  }
  return bytes;
}

std::string JpegSegment(uint8_t marker, std::string_view payload) {
  const size_t length = payload.size() + 2;
  std::string segment = {'\xFF', static_cast<char>(marker), static_cast<char>(length >> 8),
                         static_cast<char>(length & 0xFF)};
  return segment.append(payload);
}

// The metadata segments inserted after SOI and the encoder's JFIF APP0, in the order readers
// expect: EXIF first (APP1), then XMP (APP1), then the ICC profile (APP2, split in chunks).
Result<std::string> WithJpegMetadata(const std::string& jpeg, const EncodeOptions& options) {
  std::string segments;
  if (!options.exif.empty()) {
    if (options.exif.size() + 6 > kMaxJpegSegment) {
      return InvalidArgument("the EXIF block is " + std::to_string(options.exif.size()) +
                             " bytes, more than one JPEG segment holds; strip the metadata");
    }
    segments += JpegSegment(0xE1, std::string("Exif\0\0", 6) + options.exif);
  }
  if (!options.xmp.empty()) segments += JpegSegment(0xE1, std::string(kJpegXmp) + options.xmp);
  constexpr size_t kIccChunk = kMaxJpegSegment - 14;
  const size_t chunks = (options.icc_profile.size() + kIccChunk - 1) / kIccChunk;
  if (chunks > 255) return InvalidArgument("the ICC profile is too large for a JPEG file");
  for (size_t i = 0; i < chunks; ++i) {
    std::string payload("ICC_PROFILE\0", 12);
    payload += static_cast<char>(i + 1);
    payload += static_cast<char>(chunks);
    payload.append(options.icc_profile, i * kIccChunk, kIccChunk);
    segments += JpegSegment(0xE2, payload);
  }
  size_t at = 2;  // after SOI
  if (jpeg.size() > 6 && U8(jpeg, 2) == 0xFF && U8(jpeg, 3) == 0xE0) at += 2 + Be16(jpeg, 4);
  return jpeg.substr(0, at) + segments + jpeg.substr(at);
}

std::string PngChunk(std::string_view type, std::string_view data) {
  std::string chunk(4, '\0');
  const uint32_t length = static_cast<uint32_t>(data.size());
  for (int i = 0; i < 4; ++i) chunk[i] = static_cast<char>(length >> (24 - 8 * i));
  chunk.append(type).append(data);
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(chunk.data() + 4),
                          static_cast<uInt>(data.size() + 4));
  for (int i = 0; i < 4; ++i) chunk.push_back(static_cast<char>(crc >> (24 - 8 * i)));
  return chunk;
}

// iCCP, eXIf and iTXt (XMP) inserted right after IHDR: before PLTE and IDAT, as the PNG
// specification requires for iCCP and eXIf.
Result<std::string> WithPngMetadata(const std::string& png, const EncodeOptions& options) {
  std::string chunks;
  if (!options.icc_profile.empty()) {
    uLongf size = compressBound(static_cast<uLong>(options.icc_profile.size()));
    std::string deflated(size, '\0');
    if (compress2(reinterpret_cast<Bytef*>(deflated.data()), &size,
                  reinterpret_cast<const Bytef*>(options.icc_profile.data()),
                  static_cast<uLong>(options.icc_profile.size()), 9) != Z_OK) {
      return Internal("could not compress the ICC profile for the PNG file");
    }
    deflated.resize(size);
    chunks += PngChunk("iCCP", std::string("ICC profile\0\0", 13) + deflated);
  }
  if (!options.exif.empty()) chunks += PngChunk("eXIf", options.exif);
  if (!options.xmp.empty()) {
    // Keyword, NUL, uncompressed (0), method 0, empty language and translated keyword.
    chunks += PngChunk("iTXt", std::string(kPngXmp) + std::string(4, '\0') + options.xmp);
  }
  constexpr size_t kAfterIhdr = 8 + 12 + 13;
  return png.substr(0, kAfterIhdr) + chunks + png.substr(kAfterIhdr);
}

// ICCP, EXIF and XMP chunks added by libwebp's mux, which rewrites the file as an extended
// (VP8X) WebP with the flags readers look for.
Result<std::string> WithWebpMetadata(const std::string& webp, const EncodeOptions& options) {
  std::unique_ptr<WebPMux, decltype(&WebPMuxDelete)> mux(WebPMuxNew(), &WebPMuxDelete);
  if (!mux) return Internal("could not allocate the WebP muxer");
  const WebPData image{reinterpret_cast<const uint8_t*>(webp.data()), webp.size()};
  if (WebPMuxSetImage(mux.get(), &image, /*copy_data=*/0) != WEBP_MUX_OK) {
    return Internal("the WebP muxer refused the encoder's own output");
  }
  for (const auto& [fourcc, payload] :
       {std::pair{"ICCP", &options.icc_profile}, std::pair{"EXIF", &options.exif},
        std::pair{"XMP ", &options.xmp}}) {
    if (payload->empty()) continue;
    const WebPData chunk{reinterpret_cast<const uint8_t*>(payload->data()), payload->size()};
    if (WebPMuxSetChunk(mux.get(), fourcc, &chunk, /*copy_data=*/0) != WEBP_MUX_OK) {
      return Internal(std::string("could not add the ") + fourcc + " chunk to the WebP file");
    }
  }
  WebPData assembled;
  WebPDataInit(&assembled);
  if (WebPMuxAssemble(mux.get(), &assembled) != WEBP_MUX_OK) {
    return Internal("could not assemble the WebP file with its metadata");
  }
  std::string bytes(reinterpret_cast<const char*>(assembled.bytes), assembled.size);
  WebPDataClear(&assembled);
  return bytes;
}

}  // namespace

Result<std::string> EncodeImage(const Image& image, const EncodeOptions& options) {
  if (image.bgr.empty()) return InvalidArgument("cannot encode an empty image");
  if (image.bgr.type() != CV_8UC3) return InvalidArgument("image pixels must be 8-bit BGR");
  if (image.has_alpha() &&
      (image.alpha.type() != CV_8UC1 || image.alpha.size() != image.bgr.size())) {
    return InvalidArgument("image alpha must be 8-bit and the same size as its pixels");
  }
  if (options.quality < 1 || options.quality > 100) {
    return InvalidArgument("quality must be between 1 and 100; got " +
                           std::to_string(options.quality));
  }
  const std::string size = std::to_string(image.width()) + "x" + std::to_string(image.height());
  std::string extension;
  std::vector<int> params;
  switch (options.format) {
    case Format::kPng:
      extension = ".png";
      if (options.png_compression < 0 || options.png_compression > 9) {
        return InvalidArgument("PNG compression must be between 0 and 9; got " +
                               std::to_string(options.png_compression));
      }
      params = {cv::IMWRITE_PNG_COMPRESSION, options.png_compression};
      break;
    case Format::kJpeg:
      if (image.width() > 65500 || image.height() > 65500) {
        return InvalidArgument("JPEG holds at most 65500 pixels a side and this image is " + size +
                               "; resize it or export PNG");
      }
      extension = ".jpg";
      params = {cv::IMWRITE_JPEG_QUALITY, options.quality};
      break;
    case Format::kWebp:
      if (image.width() > 16383 || image.height() > 16383) {
        return InvalidArgument("WebP holds at most 16383 pixels a side and this image is " + size +
                               "; resize it or export PNG or JPEG");
      }
      extension = ".webp";
      params = {cv::IMWRITE_WEBP_QUALITY, options.quality};
      break;
    case Format::kGif:
      return InvalidArgument("GIF is read, not written; use png, jpg or webp");
    case Format::kUnknown:
      return InvalidArgument("no output format chosen; use png, jpg or webp");
  }
  const std::string format(FormatName(options.format));
  const bool has_metadata =
      !options.icc_profile.empty() || !options.exif.empty() || !options.xmp.empty();
  if (options.xmp.size() > kMaxJpegXmp && options.format == Format::kJpeg) {
    return InvalidArgument("the XMP packet is " + std::to_string(options.xmp.size()) +
                           " bytes, more than one JPEG segment holds (" +
                           std::to_string(kMaxJpegXmp) + "); export PNG or strip the metadata");
  }
  try {
    cv::Mat pixels = image.bgr;
    if (options.grey) {
      cv::extractChannel(image.bgr, pixels, 0);
    } else if (image.has_alpha()) {
      pixels = options.format == Format::kJpeg ? CompositeOverWhite(image) : image.ToBgra();
    }
    std::string bytes;
    if (options.format == Format::kJpeg) {
      ASSIGN_OR_RETURN(bytes, EncodeJpeg(pixels, options.quality));
    } else {
      std::vector<uchar> encoded;
      if (!cv::imencode(extension, pixels, encoded, params)) {
        return Internal("the " + format + " encoder failed for a " + size + " image");
      }
      bytes.assign(encoded.begin(), encoded.end());
    }
    if (!has_metadata) return bytes;
    switch (options.format) {
      case Format::kJpeg:
        return WithJpegMetadata(bytes, options);
      case Format::kWebp:
        return WithWebpMetadata(bytes, options);
      default:
        return WithPngMetadata(bytes, options);
    }
  } catch (const cv::Exception& e) {
    if (e.code == cv::Error::StsNoMem) return OutOfMemory("encode", image.width(), image.height());
    return Internal("the " + format + " encoder failed for a " + size + " image: " + e.err);
  } catch (const std::bad_alloc&) {
    return OutOfMemory("encode", image.width(), image.height());
  }
}

Result<std::string> ReadFile(const std::string& path, int64_t max_bytes) {
  return ReadFileWithin(path, max_bytes, "");
}

std::vector<std::string> ListImageFiles(const std::string& dir) {
  static const char* const kImageExtensions[] = {".jpg", ".jpeg", ".png",  ".webp", ".gif",
                                                 ".bmp", ".tif",  ".tiff", ".heic", ".avif"};
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || !entry.is_regular_file(ec)) continue;
    const std::string ext = AsciiLower(entry.path().extension().string());
    for (const char* known : kImageExtensions) {
      if (ext == known) {
        found.push_back(entry.path().string());
        break;
      }
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace vitrine::io
