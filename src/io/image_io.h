// Decoding and encoding images with limits checked before any full decode.
//
// Formats are recognised by their magic bytes, never by the file name. Pixel and byte limits
// (LimitsConfig) are checked from the header alone, so a file that claims 60000x60000 pixels is
// refused without allocating its pixels. EXIF orientation is applied, so pixels come out upright.
// A corrupt, truncated or hostile file yields a Status with a message that names the problem and
// what to do; nothing here throws or aborts. All functions are thread-safe.
//
// Error codes, the same for every function here:
//   Unsupported        not JPEG, PNG, WebP or GIF (the message names TIFF, HEIC... when it can
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

// GIF is read (its first frame), never written.
enum class Format { kUnknown, kJpeg, kPng, kWebp, kGif };

std::string_view FormatName(Format format);       // "jpeg", "png", "webp", "gif"
std::string_view FormatExtension(Format format);  // "jpg", "png", "webp", "gif"
// Output formats: "png", "jpg", "jpeg", "webp" (any case) -> Format; InvalidArgument otherwise.
Result<Format> ParseFormat(std::string_view name);

// Format from the first bytes; kUnknown if not a supported format.
Format SniffFormat(std::string_view bytes);

struct ImageHeader {
  Format format = Format::kUnknown;
  int width = 0;   // as stored, before EXIF orientation
  int height = 0;  // as stored, before EXIF orientation
  // JPEG: the block grid an encoder's artefacts stay within, 8x8 when chroma is full (4:4:4) or
  // the image is grey, 16x16 for 4:2:0, 16x8 for 4:2:2. 8x8 for other formats.
  int mcu_width = 8;
  int mcu_height = 8;
};
// Reads only the header: format and dimensions (JPEG: the SOFn frame header; PNG: IHDR, whose
// checksum is verified; WebP: the VP8, VP8L or VP8X chunk; GIF: the logical screen). Unsupported
// for unknown formats, InvalidArgument for a malformed header. Does not look past the header, so a
// file that passes may still be truncated; DecodeImage checks the whole structure.
Result<ImageHeader> ReadHeader(std::string_view bytes);

// What a file carries besides its pixels.
struct EmbeddedMetadata {
  std::string icc_profile;  // the raw ICC profile (JPEG APP2, PNG iCCP, WebP ICCP); empty if none
  bool srgb_chunk = false;  // PNG sRGB chunk: the pixels are declared sRGB
  bool exif = false;        // JPEG APP1 Exif, PNG eXIf, WebP EXIF
  bool xmp = false;         // JPEG APP1 XMP, PNG iTXt XML:com.adobe.xmp, WebP XMP
  bool iptc = false;        // JPEG APP13 Photoshop IRB (where IPTC lives)
  std::string exif_tiff;    // the EXIF block's TIFF structure ("Exif\0\0" removed); empty if none
  std::string xmp_packet;   // the XMP packet (uncompressed PNG iTXt only); empty if none
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
// of its RIFF container, a GIF its trailer: decoders would otherwise pad a truncated file with
// grey), then decode.
// GIF: the first frame, placed on the GIF's screen (ReadHeader's size); pixels the frame does
// not cover, or in its transparent colour, are transparent. An animated GIF gives its first frame
// (its other frames are checked for structure, not decoded); animated WebP is Unsupported.
// Alpha: kept when the file has an alpha channel (or PNG tRNS) with at least one pixel below
// 255; a fully opaque alpha channel is dropped, so Image::has_alpha() means "has transparency".
// Orientation: EXIF tag 0x0112 (values 1-8) from JPEG APP1 "Exif", PNG eXIf or WebP EXIF is
// applied once, to both planes; the decoded image is upright and width/height may be swapped
// relative to ReadHeader. A missing or unreadable EXIF block means "upright".
// Colour: an embedded RGB ICC profile that is not sRGB (Display P3, Adobe RGB, a camera's) is
// applied: the pixels are converted to sRGB (LittleCMS, relative colorimetric), so Image's
// "pixels are sRGB" holds. sRGB profiles, grey and CMYK profiles, and unreadable profiles leave
// the pixels as stored (a profile lcms cannot open must not make a good image unreadable).
// Metadata: Image::exif (orientation reset to 1, as the pixels are upright) and Image::xmp carry
// the file's EXIF and XMP, for exports that keep metadata.
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
  // Written into the file when not empty: an ICC profile (PNG iCCP, JPEG APP2, WebP ICCP), an
  // EXIF TIFF structure (PNG eXIf, JPEG APP1, WebP EXIF) and an XMP packet (PNG iTXt, JPEG APP1,
  // WebP "XMP "; at most 65502 bytes in JPEG, else InvalidArgument). WebP with metadata is the
  // extended (VP8X) container, written by libwebp's mux.
  std::string icc_profile = {};
  std::string exif = {};
  std::string xmp = {};
};
// PNG and WebP keep alpha; JPEG has none, so a transparent image is composited over white.
// PNG uses zlib level png_compression (default 3: fast, a few percent larger than 9). JPEG is
// encoded by libjpeg-turbo with full-resolution chroma (4:4:4, no subsampling: colour edges do not
// bleed, and a block of uniform colour away from an edge decodes to exactly that colour) and
// accurate DCT. Only the metadata in `options` is written: pixels are already upright, so no
// orientation tag is needed. InvalidArgument for an
// empty image, pixels that are not CV_8UC3 (alpha not CV_8UC1 of the same size), quality outside
// 1..100, kUnknown, or a size the format cannot hold (JPEG 65500, WebP 16383 pixels a side).
Result<std::string> EncodeImage(const Image& image, const EncodeOptions& options);

// EXIF orientation (tag 0x0112) in a TIFF structure set to 1 (upright), for metadata carried from
// a decoded image whose pixels were already turned upright. Returns `tiff` unchanged when it has
// no readable orientation tag.
std::string ExifUpright(std::string_view tiff);

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
