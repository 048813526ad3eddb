// Marketplace presets: the published image rules of each marketplace, as data.
//
// The built-in presets come from data/presets.json, compiled into the binary (a moved binary
// still has them); docs/presets.md gives the source of every figure. A user presets file (same
// format) is merged over them: a preset with a new name is added, one with a built-in name
// replaces that preset's fields one by one (fields it leaves out keep the built-in value).
//
// Everything here is a value type; a loaded PresetBook is read-only and safe to share between
// threads. Errors (InvalidArgument, NotFound) name the file, the preset and the field at fault.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/image_io.h"

namespace vitrine::qa {

struct Preset {
  std::string name;   // "amazon"
  std::string title;  // "Amazon main image"

  // What export produces: width x height, in pixels.
  int canvas_width = 0;
  int canvas_height = 0;
  // Required width/height ratio and its relative tolerance; nullopt = any aspect.
  std::optional<double> aspect;
  double aspect_tolerance = 0.01;
  // Limits on what is accepted (0 = no limit).
  int min_long_side = 0;
  int max_long_side = 0;
  int min_width = 0;
  int min_height = 0;

  cv::Vec3b background{255, 255, 255};  // BGR
  // The background must be exactly `background` (RGB 255 for white), not merely close to it.
  bool pure_background = false;
  // The background must be plain and close to `background` (the border is checked). Implied by
  // pure_background. Without it, any backdrop is allowed and the product is found against the
  // image's own border colour.
  bool plain_background = false;
  // Fill: the product's bounding box span along its limiting axis, max(w/W, h/H).
  double fill_target = 0.85;
  double fill_min = 0.0;
  double fill_max = 1.0;
  // Smallest gap between the product and each edge, as a fraction of the canvas side.
  double margin_horizontal = 0.0;  // left and right, of the width
  double margin_vertical = 0.0;    // top and bottom, of the height

  std::vector<io::Format> formats;  // accepted; the first is what export writes
  int64_t max_bytes = 0;            // 0 = no limit
  bool srgb = true;                 // no ICC profile other than sRGB
  bool strip_metadata = true;       // export writes no EXIF/XMP/IPTC
  bool light_shadow = false;        // a light shadow near the product may break the pure background
  bool alpha = false;               // transparency allowed in the file
  bool no_text = false;             // no overlay text, logos or watermarks

  bool Accepts(io::Format format) const;
  // "jpeg, png": the accepted formats, for messages.
  std::string FormatNames() const;
  nlohmann::json ToJson() const;
};

class PresetBook {
 public:
  // Presets sorted by name.
  const std::vector<Preset>& All() const { return presets_; }
  // nullptr if there is no preset of that name. The pointer lives as long as the book.
  const Preset* Find(const std::string& name) const;
  // "amazon, ebay, ..." for messages.
  std::string Names() const;

 private:
  friend Result<PresetBook> LoadPresets(const std::string& user_file);
  friend Result<PresetBook> ParsePresets(const std::string& built_in, const std::string& user,
                                         const std::string& user_origin);
  std::vector<Preset> presets_;
};

// The built-in presets merged with `user_file` when it is not empty (NotFound if it cannot be
// read; InvalidArgument for bad JSON or a bad field, naming the file, preset and field).
Result<PresetBook> LoadPresets(const std::string& user_file = "");

// The same from JSON text: `user` may be empty; `user_origin` names it in messages.
Result<PresetBook> ParsePresets(const std::string& built_in, const std::string& user,
                                const std::string& user_origin);

// The built-in presets file's text (data/presets.json as compiled in).
const std::string& BuiltInPresetsJson();

}  // namespace vitrine::qa
