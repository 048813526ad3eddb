// Decoding and encoding images with limits checked before any full decode.
//
// Formats are recognised by their magic bytes, never by the file name. Pixel and byte limits
// (LimitsConfig) are checked from the header alone, so a file that claims 60000x60000 pixels is
// refused without allocating its pixels. EXIF orientation is applied, so pixels come out upright.
// A corrupt, truncated or hostile file yields a Status with a message that names the problem and
// what to do; nothing here throws or aborts. All functions are thread-safe.
//
// Error codes, the same for every function here:
//   Unsupported        not JPEG, PNG or WebP (the message names GIF, TIFF, HEIC... when it can
//                      tell), or a variant we cannot decode (animated WebP, 12-bit JPEG).
//   InvalidArgument    malformed, truncated or corrupt data ("file is truncated or corrupt
//                      (...); re-export or re-download it"); bad encode options.
//   ResourceExhausted  over limits.max_bytes or limits.max_pixels (the message names the
//                      VITRINE_* variable that raises the limit); disk full.
//   NotFound           a missing file or folder (the message carries the path).
//   Unavailable        other I/O errors, which may be transient.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/image.h"
#include "core/status.h"

namespace vitrine::io {

enum class Format { kUnknown, kJpeg, kPng, kWebp };

std::string_view FormatName(Format format);       // "jpeg", "png", "webp"
std::string_view FormatExtension(Format format);  // "jpg", "png", "webp"
// "png", "jpg", "jpeg", "webp" (any case) -> Format; InvalidArgument otherwise.
Result<Format> ParseFormat(std::string_view name);

// Format from the first bytes; kUnknown if not a supported format.
Format SniffFormat(std::string_view bytes);

struct ImageHeader {
  Format format = Format::kUnknown;
  int width = 0;   // as stored, before EXIF orientation
  int height = 0;  // as stored, before EXIF orientation
};
// Reads only the header: format and dimensions (JPEG: the SOFn frame header; PNG: IHDR, whose
// checksum is verified; WebP: the VP8, VP8L or VP8X chunk). Unsupported for unknown formats,
// InvalidArgument for a malformed header. Does not look past the header, so a file that passes
// may still be truncated; DecodeImage checks the whole structure.
Result<ImageHeader> ReadHeader(std::string_view bytes);

// What a file carries besides its pixels.
struct EmbeddedMetadata {
  std::string icc_profile;  // the raw ICC profile (JPEG APP2, PNG iCCP, WebP ICCP); empty if none
  bool srgb_chunk = false;  // PNG sRGB chunk: the pixels are declared sRGB
  bool exif = false;        // JPEG APP1 Exif, PNG eXIf, WebP EXIF
  bool xmp = false;         // JPEG APP1 XMP, PNG iTXt XML:com.adobe.xmp, WebP XMP
  bool iptc = false;        // JPEG APP13 Photoshop IRB (where IPTC lives)
};
// Walks the whole container (same checks and errors as DecodeImage's structure walk, no pixel
// decode). A PNG iCCP chunk that does not inflate yields an empty icc_profile.
Result<EmbeddedMetadata> ReadMetadata(std::string_view bytes);
// The checks DecodeImage makes before allocating pixels: the byte limit, a well-formed header of a
// supported format, the pixel limit. For servers that accept an image now and decode it later.
Result<ImageHeader> CheckLimits(std::string_view bytes, const LimitsConfig& limits);

// Full decode: limits, then pixels (8-bit BGR + optional alpha; 16-bit input is scaled to
// 8 bits, grey is expanded), then EXIF orientation. `name` becomes Image::name.
//
// Order: byte limit, header, pixel limit (both before any pixel is allocated), then the whole
// container structure (a JPEG must reach its EOI marker, a PNG its IEND chunk, a WebP the end
// of its RIFF container: decoders would otherwise pad a truncated file with grey), then decode.
// Alpha: kept when the file has an alpha channel (or PNG tRNS) with at least one pixel below
// 255; a fully opaque alpha channel is dropped, so Image::has_alpha() means "has transparency".
// Orientation: EXIF tag 0x0112 (values 1-8) from JPEG APP1 "Exif", PNG eXIf or WebP EXIF is
// applied once, to both planes; the decoded image is upright and width/height may be swapped
// relative to ReadHeader. A missing or unreadable EXIF block means "upright".
// Colour: pixels are returned as stored; embedded ICC profiles are not applied.
Result<Image> DecodeImage(std::string_view bytes, const LimitsConfig& limits, std::string name);

// Reads the file (refusing it if larger than limits.max_bytes before reading it) and decodes it;
// Image::name is the file's stem. Errors carry the path.
Result<Image> ReadImageFile(const std::string& path, const LimitsConfig& limits);

struct EncodeOptions {
  Format format = Format::kPng;
  int quality = 92;         // JPEG and WebP, 1..100
  int png_compression = 3;  // PNG zlib level, 0..9: 3 is fast, 9 a few percent smaller
  // Write one grey channel (the first of bgr; alpha ignored): for mattes and masks. PNG and JPEG.
  bool grey = false;
};
// PNG and WebP keep alpha; JPEG has none, so a transparent image is composited over white.
// PNG uses zlib level png_compression (default 3: fast, a few percent larger than 9). No metadata
// is written: pixels are already upright, so no orientation tag is needed. InvalidArgument for an
// empty image, pixels that are not CV_8UC3 (alpha not CV_8UC1 of the same size), quality outside
// 1..100, kUnknown, or a size the format cannot hold (JPEG 65500, WebP 16383 pixels a side).
Result<std::string> EncodeImage(const Image& image, const EncodeOptions& options);

// The image files directly inside the folder `dir`, sorted by name: regular files, not hidden,
// whose extension (any case) is one a photo would have (jpg, jpeg, png, webp, and gif, bmp, tif,
// tiff, heic, avif, so that formats we cannot read fail with a clear message instead of being
// skipped silently). Empty when `dir` is not a readable folder.
std::vector<std::string> ListImageFiles(const std::string& dir);

// Writing files atomically: WriteFileAtomic() in core/file.h.
// Reads a whole regular file. Refuses it with ResourceExhausted if it is larger than max_bytes,
// checked before reading (and again while reading, in case the file grows). NotFound if missing.
Result<std::string> ReadFile(const std::string& path, int64_t max_bytes);

}  // namespace vitrine::io
