#include "qa/presets.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "qa/presets_data.h"  // generated from data/presets.json: kBuiltInPresetsJson

namespace vitrine::qa {
namespace {

using nlohmann::json;

constexpr int64_t kMaxPresetsFileBytes = 1 << 20;

const std::set<std::string> kKnownFields = {
    "title",     "canvas",       "aspect",     "min_long_side",   "max_long_side",
    "min_width", "min_height",   "background", "pure_background", "plain_background",
    "fill",      "margins",      "formats",    "max_bytes",       "srgb",
    "metadata",  "light_shadow", "alpha",      "no_text"};

std::string Hex(const cv::Vec3b& bgr) {
  char text[8];
  std::snprintf(text, sizeof text, "#%02X%02X%02X", bgr[2], bgr[1], bgr[0]);
  return text;
}

// Reads one preset's fields; every error names the origin, the preset and the field.
class FieldReader {
 public:
  FieldReader(const json& object, std::string where) : object_(object), where_(std::move(where)) {}

  Status Error(const std::string& field, const std::string& problem) const {
    return InvalidArgument(where_ + ": field '" + field + "' " + problem +
                           "; fix it (docs/presets.md describes every field)");
  }

  const json* Get(const std::string& path) const {
    const json* node = &object_;
    std::stringstream parts(path);
    for (std::string part; std::getline(parts, part, '.');) {
      if (!node->is_object() || !node->contains(part)) return nullptr;
      node = &(*node)[part];
    }
    return node;
  }

  Status Number(const std::string& path, double low, double high, double* out,
                bool required) const {
    const json* v = Get(path);
    if (!v) return required ? Error(path, "is missing") : Status::Ok();
    if (!v->is_number()) return Error(path, "must be a number; got " + v->dump());
    const double d = v->get<double>();
    if (d < low || d > high) {
      std::ostringstream range;
      range << "must be between " << low << " and " << high << "; got " << d;
      return Error(path, range.str());
    }
    *out = d;
    return Status::Ok();
  }

  template <typename Int>
  Status Integer(const std::string& path, double low, double high, Int* out,
                 bool required = false) const {
    const json* v = Get(path);
    if (v && !v->is_number_integer())
      return Error(path, "must be a whole number; got " + v->dump());
    double d = static_cast<double>(*out);
    RETURN_IF_ERROR(Number(path, low, high, &d, required));
    *out = static_cast<Int>(d);
    return Status::Ok();
  }

  Status Boolean(const std::string& path, bool* out) const {
    const json* v = Get(path);
    if (!v) return Status::Ok();
    if (!v->is_boolean()) return Error(path, "must be true or false; got " + v->dump());
    *out = v->get<bool>();
    return Status::Ok();
  }

 private:
  const json& object_;
  std::string where_;
};

Result<Preset> ParsePreset(const std::string& name, const json& object, const std::string& origin) {
  const std::string where = origin + ": preset '" + name + "'";
  if (!object.is_object()) {
    return InvalidArgument(where + " must be a JSON object of fields; see docs/presets.md");
  }
  FieldReader r(object, where);
  for (const auto& [key, value] : object.items()) {
    if (!kKnownFields.count(key)) return r.Error(key, "is not a preset field (typo?)");
  }
  Preset p;
  p.name = name;
  p.title = object.value("title", name);

  const json* canvas = r.Get("canvas");
  if (!canvas) return r.Error("canvas", "is missing (give [width, height] in pixels)");
  if (!canvas->is_array() || canvas->size() != 2 || !(*canvas)[0].is_number_integer() ||
      !(*canvas)[1].is_number_integer()) {
    return r.Error("canvas", "must be [width, height] in whole pixels; got " + canvas->dump());
  }
  p.canvas_width = (*canvas)[0];
  p.canvas_height = (*canvas)[1];
  if (p.canvas_width < 16 || p.canvas_height < 16 || p.canvas_width > 16383 ||
      p.canvas_height > 16383) {
    return r.Error("canvas", "sides must be between 16 and 16383 pixels; got " + canvas->dump());
  }

  if (const json* aspect = r.Get("aspect"); aspect && !aspect->is_null()) {
    double ratio = 0;
    RETURN_IF_ERROR(r.Number("aspect.ratio", 0.05, 20, &ratio, true));
    p.aspect = ratio;
    RETURN_IF_ERROR(r.Number("aspect.tolerance", 0, 0.5, &p.aspect_tolerance, false));
  }
  RETURN_IF_ERROR(r.Integer("min_long_side", 0, 65500, &p.min_long_side));
  RETURN_IF_ERROR(r.Integer("max_long_side", 0, 65500, &p.max_long_side));
  RETURN_IF_ERROR(r.Integer("min_width", 0, 65500, &p.min_width));
  RETURN_IF_ERROR(r.Integer("min_height", 0, 65500, &p.min_height));

  const json* background = r.Get("background");
  if (!background) return r.Error("background", "is missing (give a colour as \"#RRGGBB\")");
  const std::string text = background->is_string() ? background->get<std::string>() : "";
  unsigned rgb = 0;
  char end = 0;
  if (text.size() != 7 || std::sscanf(text.c_str(), "#%6x%c", &rgb, &end) != 1) {
    return r.Error("background", "must be a colour \"#RRGGBB\"; got " + background->dump());
  }
  p.background = cv::Vec3b(rgb & 0xFF, (rgb >> 8) & 0xFF, (rgb >> 16) & 0xFF);
  RETURN_IF_ERROR(r.Boolean("pure_background", &p.pure_background));
  RETURN_IF_ERROR(r.Boolean("plain_background", &p.plain_background));
  p.plain_background = p.plain_background || p.pure_background;

  RETURN_IF_ERROR(r.Number("fill.min", 0, 1, &p.fill_min, false));
  RETURN_IF_ERROR(r.Number("fill.max", 0, 1, &p.fill_max, false));
  RETURN_IF_ERROR(r.Number("fill.target", 0.05, 1, &p.fill_target, true));
  if (p.fill_min > p.fill_target || p.fill_target > p.fill_max) {
    return r.Error("fill", "needs min <= target <= max; got " + r.Get("fill")->dump());
  }
  RETURN_IF_ERROR(r.Number("margins.horizontal", 0, 0.45, &p.margin_horizontal, false));
  RETURN_IF_ERROR(r.Number("margins.vertical", 0, 0.45, &p.margin_vertical, false));

  const json* formats = r.Get("formats");
  if (!formats || !formats->is_array() || formats->empty()) {
    return r.Error("formats", "must list at least one of \"jpeg\", \"png\", \"webp\"");
  }
  for (const json& f : *formats) {
    Result<io::Format> format = io::ParseFormat(f.is_string() ? f.get<std::string>() : f.dump());
    if (!format.ok()) return r.Error("formats", "has " + f.dump() + ": use jpeg, png or webp");
    p.formats.push_back(*format);
  }
  RETURN_IF_ERROR(r.Integer("max_bytes", 0, 1e12, &p.max_bytes));
  if (p.max_bytes != 0 && p.max_bytes < 10'000) {
    return r.Error("max_bytes", "is " + std::to_string(p.max_bytes) +
                                    "; no product image fits in under 10000 bytes (0 = no limit)");
  }
  RETURN_IF_ERROR(r.Boolean("srgb", &p.srgb));
  if (const json* metadata = r.Get("metadata")) {
    if (*metadata != "strip" && *metadata != "keep") {
      return r.Error("metadata", "must be \"strip\" or \"keep\"; got " + metadata->dump());
    }
    p.strip_metadata = *metadata == "strip";
  }
  RETURN_IF_ERROR(r.Boolean("light_shadow", &p.light_shadow));
  RETURN_IF_ERROR(r.Boolean("alpha", &p.alpha));
  RETURN_IF_ERROR(r.Boolean("no_text", &p.no_text));
  if (p.alpha && std::none_of(p.formats.begin(), p.formats.end(),
                              [](io::Format f) { return f != io::Format::kJpeg; })) {
    return r.Error("alpha", "is true but every format listed is JPEG, which has no transparency");
  }
  return p;
}

Result<json> ParseJson(const std::string& text, const std::string& origin) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) {
      return InvalidArgument(origin +
                             " must hold a JSON object of presets by name; see "
                             "docs/presets.md");
    }
    return j;
  } catch (const json::exception& e) {
    return InvalidArgument(origin + " is not valid JSON (" + e.what() + "); fix the file");
  }
}

}  // namespace

json Preset::ToJson() const {
  std::vector<std::string> format_names;
  for (io::Format f : formats) format_names.emplace_back(io::FormatName(f));
  return {{"name", name},
          {"title", title},
          {"canvas", {canvas_width, canvas_height}},
          {"aspect", aspect ? json{{"ratio", *aspect}, {"tolerance", aspect_tolerance}} : json()},
          {"min_long_side", min_long_side},
          {"max_long_side", max_long_side},
          {"min_width", min_width},
          {"min_height", min_height},
          {"background", Hex(background)},
          {"pure_background", pure_background},
          {"plain_background", plain_background},
          {"fill", {{"target", fill_target}, {"min", fill_min}, {"max", fill_max}}},
          {"margins", {{"horizontal", margin_horizontal}, {"vertical", margin_vertical}}},
          {"formats", format_names},
          {"max_bytes", max_bytes},
          {"srgb", srgb},
          {"metadata", strip_metadata ? "strip" : "keep"},
          {"light_shadow", light_shadow},
          {"alpha", alpha},
          {"no_text", no_text}};
}

bool Preset::Accepts(io::Format format) const {
  return std::find(formats.begin(), formats.end(), format) != formats.end();
}

std::string Preset::FormatNames() const {
  std::string names;
  for (io::Format f : formats) names.append(names.empty() ? "" : ", ").append(io::FormatName(f));
  return names;
}

const Preset* PresetBook::Find(const std::string& name) const {
  auto it = std::find_if(presets_.begin(), presets_.end(),
                         [&](const Preset& p) { return p.name == name; });
  return it == presets_.end() ? nullptr : &*it;
}

std::string PresetBook::Names() const {
  std::string names;
  for (const Preset& p : presets_) names += (names.empty() ? "" : ", ") + p.name;
  return names;
}

const std::string& BuiltInPresetsJson() {
  static const std::string text(kBuiltInPresetsJson);
  return text;
}

Result<PresetBook> ParsePresets(const std::string& built_in, const std::string& user,
                                const std::string& user_origin) {
  ASSIGN_OR_RETURN(json merged, ParseJson(built_in, "built-in presets"));
  std::set<std::string> from_user;
  if (!user.empty()) {
    ASSIGN_OR_RETURN(json overrides, ParseJson(user, user_origin));
    for (const auto& [name, fields] : overrides.items()) {
      if (!fields.is_object()) {
        return InvalidArgument(user_origin + ": preset '" + name +
                               "' must be a JSON object of fields; see docs/presets.md");
      }
      if (merged.contains(name)) {
        merged[name].merge_patch(fields);
      } else {
        merged[name] = fields;
      }
      from_user.insert(name);
    }
  }
  PresetBook book;
  for (const auto& [name, fields] : merged.items()) {
    ASSIGN_OR_RETURN(
        Preset p,
        ParsePreset(name, fields, from_user.count(name) ? user_origin : "built-in presets"));
    book.presets_.push_back(std::move(p));
  }
  std::sort(book.presets_.begin(), book.presets_.end(),
            [](const Preset& a, const Preset& b) { return a.name < b.name; });
  return book;
}

Result<PresetBook> LoadPresets(const std::string& user_file) {
  std::string user;
  if (!user_file.empty()) {
    Result<std::string> text = io::ReadFile(user_file, kMaxPresetsFileBytes);
    if (!text.ok()) {
      return text.status().WithContext("presets file (--presets-file or VITRINE_PRESETS)");
    }
    user = std::move(*text);
  }
  return ParsePresets(BuiltInPresetsJson(), user, "presets file " + user_file);
}

}  // namespace vitrine::qa
