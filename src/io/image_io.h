// Decoding and encoding images with limits checked before any full decode.
//
// Formats are recognised by their magic bytes, never by the file name. Pixel and byte limits
// (LimitsConfig) are checked from the header alone, so a file that claims 60000x60000 pixels is
// refused without allocating its pixels. EXIF orientation is applied, so pixels come out upright.
// A corrupt, truncated or hostile file yields a Status with a message that names the problem and
// what to do; nothing here throws or aborts. All functions are thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/config.h"
#include "core/image.h"
#include "core/status.h"

namespace vitrine::io {

enum class Format { kUnknown, kJpeg, kPng, kWebp };

std::string_view FormatName(Format format);  // "jpeg", "png", "webp"
std::string_view FormatExtension(Format format);  // "jpg", "png", "webp"
// "png", "jpg", "jpeg", "webp" (any case) -> Format; InvalidArgument otherwise.
Result<Format> ParseFormat(std::string_view name);

// Format from the first bytes; kUnknown if not a supported format.
Format SniffFormat(std::string_view bytes);

struct ImageHeader {
  Format format = Format::kUnknown;
  int width = 0;
  int height = 0;
};
// Reads only the header: format and dimensions. Unsupported for unknown formats,
// InvalidArgument for a malformed header.
Result<ImageHeader> ReadHeader(std::string_view bytes);

// Full decode: limits, then pixels (8-bit BGR + optional alpha; 16-bit input is scaled to
// 8 bits, grey is expanded), then EXIF orientation. `name` becomes Image::name.
Result<Image> DecodeImage(std::string_view bytes, const LimitsConfig& limits, std::string name);

// Reads the file (refusing it if larger than limits.max_bytes before reading it) and decodes it;
// Image::name is the file's stem. Errors carry the path.
Result<Image> ReadImageFile(const std::string& path, const LimitsConfig& limits);

struct EncodeOptions {
  Format format = Format::kPng;
  int quality = 92;  // JPEG and WebP, 1..100
};
// PNG and WebP keep alpha; JPEG has none, so a transparent image is composited over white.
Result<std::string> EncodeImage(const Image& image, const EncodeOptions& options);

// Writes to a temporary name in the same folder, then renames: readers never see half a file.
Status WriteFileAtomic(const std::string& path, std::string_view bytes);
Result<std::string> ReadFile(const std::string& path, int64_t max_bytes);

}  // namespace vitrine::io
