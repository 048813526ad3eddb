// Export: conform a staged image to a marketplace preset, encode it within the preset's byte
// limit, and pass it through the compliance gate. An image that fails the gate is an error, never
// an output.
//
// Steps: alpha is flattened onto the preset background when the preset or the format does not
// allow it; where the backdrop is plain and the product misses the preset's fill or margins, the
// frame is re-cut around the product at the target fill (only background added or removed);
// otherwise the image is padded to the preset's canvas aspect (never stretched: the product is not
// distorted, only the canvas grows) with the preset background where the preset requires a plain
// one, else with the image's own border colour, and scaled uniformly to the
// canvas size; it is encoded in the preset's first format (or `format` when given, which must be
// one of the preset's), searching JPEG/WebP quality (binary search, highest quality that fits)
// or PNG compression to stay under max_bytes, and downscaling (never below the preset's minimum
// size) as a last resort, with a note. Metadata: a preset that strips writes none (EXIF, XMP and
// foreign ICC profiles of the source never reach the output); one that keeps writes the image's
// exif and xmp (orientation upright) and the sRGB ICC profile (PNG, JPEG and WebP alike).
// Finally the encoded bytes are decoded again and checked with qa::CheckCompliance.
//
// Pure backgrounds: when `image` has alpha (a cutout staged on a transparent canvas), export
// knows which pixels are background. It flattens onto the colour, drops a cutout's faint haze
// (alpha <= 6% more than 3 px from the solid product), lowers by one level the channel of any
// product pixel within one level of the colour in every channel (at most 2 levels in one
// channel, invisible), so that no product pixel passes for off-white background, and the gate
// also requires every pixel the product does not cover to be exactly the colour (rule
// background_uncovered). Without alpha, background pixels within 16 levels of the colour, away
// from the product's edge, are set to it (a cutout's haze). The gate always includes every rule
// `vitrine check` applies to the file alone, so export never writes a file that check refuses.
//
// Errors: InvalidArgument for a format the preset does not accept, and when the result fails the
// gate (the message lists each failed rule with its measured value and limit: usually a backdrop
// that is not the preset's, or a product cut off by the frame); ResourceExhausted
// when no quality or size within the preset's limits fits max_bytes. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/image.h"
#include "core/status.h"
#include "io/image_io.h"
#include "qa/compliance.h"
#include "qa/presets.h"

namespace vitrine::ops {

struct ExportOptions {
  std::optional<io::Format> format;  // default: the preset's first format
  qa::ComplianceOptions compliance;  // the overlay-text detector, when there is one
};

struct ExportResult {
  std::string bytes;  // the encoded file, ready to write
  io::Format format = io::Format::kUnknown;
  Image image;                     // the conformed pixels, as encoded (before lossy compression)
  int quality = 0;                 // JPEG/WebP quality used; PNG: the zlib level
  qa::ComplianceReport report;     // passed() is always true here
  std::vector<std::string> notes;  // what export had to do: "quality 71 to fit 2000000 bytes"
};

Result<ExportResult> Export(const Image& image, const qa::Preset& preset,
                            const ExportOptions& options = {});

}  // namespace vitrine::ops
