// SKU manifests: which products a run processes, with their photos and the facts recipes use
// (real-world size, catalogue colours, marketplace presets, room scenes).
//
// A manifest is a CSV file or a folder:
//
//   CSV (RFC 4180: quoted fields may hold commas, doubled quotes and line breaks; CRLF or LF line
//   ends; an optional UTF-8 byte-order mark). The first record is the header; column names are
//   matched without regard to case or surrounding spaces, and unknown columns are ignored.
//     sku       required  the product's identifier, unique in the file
//     images    required  one or more photo paths separated by '|', relative to the CSV's folder
//     category  optional  free text (e.g. "fashion"), for QA and presets
//     title     optional  free text
//     size_cm   optional  "W,H" or "W,H,D" in centimetres (each > 0 and <= 10000)
//     colors    optional  catalogue colours separated by ',' or ';' (#RRGGBB, #RGB or a name
//                         that ops::ParseColor knows), for the `variants` recipe
//     presets   optional  marketplace presets separated by ',', ';' or '|' (e.g. "amazon;noon")
//     scenes    optional  room photos separated by '|', relative to the CSV's folder, for recipes
//                         that stage the product in a scene
//   Folder: one SKU per sub-folder (named after it, with every image file inside), and one SKU per
//   image file directly inside (named after the file's stem). Hidden entries are ignored.
//
// Bad rows (no sku, a duplicate sku, no images, a missing image or scene file, a bad size or
// colour) are reported in Manifest::problems with their line and skipped; the good rows are
// loaded. LoadManifest fails as a whole only when nothing can be trusted: the file is missing,
// unreadable, binary, has no `sku` or `images` column, names a column twice, or ends inside a
// quoted field.
//
// Thread-safe: free functions with no shared state.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vitrine::recipe {

// The largest manifest file read (checked before reading).
inline constexpr int64_t kMaxManifestBytes = 64 << 20;

struct SkuInfo {
  std::string sku;
  std::vector<std::string> images;  // paths that existed when the manifest was loaded
  std::string category;
  std::string title;
  std::vector<double> size_cm;       // empty, {W, H} or {W, H, D}
  std::vector<std::string> colors;   // each accepted by ops::ParseColor
  std::vector<std::string> presets;  // lower case, as written
  std::vector<std::string> scenes;   // paths that existed when the manifest was loaded
  int line = 0;                      // the CSV line the row starts on; 0 for a folder manifest

  // "40,60" or "40,60,25" (shortest form of each number); empty when the size is unknown.
  std::string SizeText() const;
  nlohmann::json ToJson() const;
};

struct ManifestProblem {
  int line = 0;         // CSV line of the skipped row; 0 for a folder manifest
  std::string message;  // what is wrong with the row and how to fix it
};

struct Manifest {
  std::string path;                       // as given to LoadManifest
  std::vector<SkuInfo> skus;              // file order (folder manifests: name order)
  std::vector<ManifestProblem> problems;  // skipped rows, in line order
};

// Loads a CSV file or a folder (see the header comment). Errors: NotFound for a missing path;
// InvalidArgument when the file as a whole is unusable (the message says why and what to fix);
// ResourceExhausted over kMaxManifestBytes.
Result<Manifest> LoadManifest(const std::string& path);

// The CSV part of LoadManifest for text already in memory; relative image and scene paths are
// resolved against `base_dir`. `path` only labels messages.
Result<Manifest> ParseManifestCsv(std::string_view text, const std::string& base_dir,
                                  const std::string& path);

// One CSV record and the line it starts on (1-based).
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};
// RFC 4180 records (see the header comment), BOM removed. InvalidArgument, with the line, for a
// quoted field that never closes or a NUL byte (not a text file).
Result<std::vector<CsvRecord>> ParseCsv(std::string_view text);

}  // namespace vitrine::recipe
