// `vitrine stage`: product photos or cutouts onto a colour, gradient or scene, with a shadow;
// opaque photos are cut out first, and --colors makes one recoloured output per colour.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "app/batch.h"
#include "app/commands.h"
#include "app/preset_flags.h"
#include "models/runtime.h"
#include "ops/export.h"
#include "ops/op.h"
#include "ops/remove_text.h"

namespace vitrine::app {
namespace {

// What a user asks for on the command line (a preset will fill the same fields).
struct StageOptions {
  std::string background = "white";
  std::string background2 = "#d9d9d9";
  std::string gradient = "none";
  std::string scene;
  std::string shadow = "contact";
  double shadow_opacity = -1;  // the op's default: 0.35 on colours, 0.55 in scenes
  std::string size_cm;
  std::string canvas;  // "WxH"; empty = 2000x2000, or the scene's size
  double fill = 0.85;
  double margin = 0.03;
  std::string align = "center";
  double harmonize = 0.5;
  double min_share = 0.3;
  bool level = false;
};

// The `stage` op's params for these options, validated against its schema.
Result<nlohmann::json> StageParams(const StageOptions& o) {
  int width = 0, height = 0;
  if (!o.canvas.empty()) {
    std::istringstream in(o.canvas);
    char x = 0;
    if (!(in >> width >> x >> height) || (x != 'x' && x != 'X') || width <= 0 || height <= 0 ||
        !(in >> std::ws).eof()) {
      return InvalidArgument("--canvas '" + o.canvas +
                             "' is not a size; give width x height in pixels, e.g. 2000x2000");
    }
  }
  const nlohmann::json params = {{"width", width},
                                 {"height", height},
                                 {"background", o.background},
                                 {"background2", o.background2},
                                 {"gradient", o.gradient},
                                 {"scene", o.scene},
                                 {"shadow", o.shadow},
                                 {"shadow_opacity", o.shadow_opacity},
                                 {"size_cm", o.size_cm},
                                 {"fill", o.fill},
                                 {"margin", o.margin},
                                 {"align", o.align},
                                 {"harmonize", o.harmonize},
                                 {"min_share", o.min_share},
                                 {"level", o.level}};
  return ops::Registry::Global().Find("stage")->schema.Validate(params);
}

// A preset's framing for the options the user did not set (`given` says which were set): its
// canvas, fill target and margins; its background where it must be pure; and no shadow on that
// background unless the preset allows a light one.
void ApplyPreset(const qa::Preset& preset, const std::function<bool(const char*)>& given,
                 StageOptions* o) {
  if (!given("--canvas")) {
    o->canvas = std::to_string(preset.canvas_width) + "x" + std::to_string(preset.canvas_height);
  }
  if (!given("--fill")) o->fill = preset.fill_target;
  if (!given("--margin")) {
    o->margin = std::max({o->margin, preset.margin_horizontal, preset.margin_vertical});
  }
  if (preset.pure_background || preset.plain_background) {
    if (!given("--background")) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "#%02x%02x%02x", preset.background[2], preset.background[1],
                    preset.background[0]);
      o->background = hex;
    }
    if (!given("--gradient")) o->gradient = "none";
    if (!given("--shadow") && preset.pure_background && !preset.light_shadow) o->shadow = "none";
  }
  if (preset.pure_background && !given("--background") && !given("--scene")) {
    // Staged on a transparent canvas, the product keeps its alpha into export, which flattens it
    // onto the preset's colour and so knows which pixels are background (a pale product's rim is
    // then never mistaken for an off-white backdrop).
    o->background = "transparent";
  }
}

// "#aa0000,navy" -> {"#aa0000", "navy"}, each checked.
Result<std::vector<std::string>> ParseColours(const std::string& text) {
  std::vector<std::string> colours;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) continue;
    Result<cv::Scalar> colour = ops::ParseColor(item);
    if (!colour.ok()) return InvalidArgument("--colors: " + colour.status().message());
    if ((*colour)[3] == 0) return InvalidArgument("--colors: transparent is not a product colour");
    colours.push_back(item);
  }
  return colours;
}

// A colour as a file-name suffix: "#AA0000" -> "aa0000", "navy" -> "navy".
std::string ColourSuffix(const std::string& colour) {
  std::string suffix;
  for (char c : colour) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      suffix += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return suffix;
}

}  // namespace

void AddStage(CLI::App& cli, const Config& config, int* exit_code) {
  auto* cmd = cli.add_subcommand(
      "stage",
      "Place products on a colour, gradient or scene, with a shadow (cuts out photos first)");
  struct Args {
    StageOptions stage;
    std::string output_dir = "staged";
    std::string format = "png";
    std::string colors;
    int jobs = 0;
    std::vector<std::string> inputs;
    PresetFlags preset;
  };
  auto args = std::make_shared<Args>();
  StageOptions& s = args->stage;
  cmd->add_option("-b,--background", s.background,
                  "Canvas colour: white, #RRGGBB, a name, or transparent")
      ->capture_default_str();
  cmd->add_option("--scene", s.scene,
                  "Scene photo to stage in; its sidecar <stem>.json gives floor and scale "
                  "(docs/staging.md)");
  cmd->add_option("--gradient", s.gradient, "none, vertical or radial (background to background2)")
      ->capture_default_str();
  cmd->add_option("--background2", s.background2, "The gradient's second colour")
      ->capture_default_str();
  cmd->add_option("--shadow", s.shadow, "contact, drop or none")->capture_default_str();
  cmd->add_option("--shadow-opacity", s.shadow_opacity,
                  "Darkness of the shadow, 0..1; -1 = 0.35 on colours, 0.55 in scenes")
      ->capture_default_str();
  cmd->add_option("--size-cm", s.size_cm,
                  "Real product size W,H in cm: with a scene's scale, the product's true size");
  cmd->add_option("--canvas", s.canvas,
                  "Canvas WxH in px (default 2000x2000, or the scene's size)");
  cmd->add_option("--fill", s.fill, "Share of the canvas the product's box fills")
      ->capture_default_str();
  cmd->add_option("--margin", s.margin, "Minimum margin, fraction of the canvas side")
      ->capture_default_str();
  cmd->add_option("--align", s.align, "center, bottom or top")->capture_default_str();
  cmd->add_option("--harmonize", s.harmonize, "In scenes: match to the scene's light, 0..1")
      ->capture_default_str();
  cmd->add_option("--min-share", s.min_share,
                  "In scenes: least share of the frame the product takes (a closer view of the "
                  "scene gives it that); 0 = the whole scene")
      ->capture_default_str();
  cmd->add_option("--level", s.level,
                  "In scenes: turn a product photographed tilted (4-50 degrees) so it rests on "
                  "its base (true/false)")
      ->capture_default_str();
  cmd->add_option("--colors", args->colors,
                  "Recolour the product first, one output per colour: \"#aa0000,navy\"");
  cmd->add_option("-o,--output-dir", args->output_dir, "Folder for the results")
      ->capture_default_str();
  cmd->add_option("-f,--format", args->format, "png, jpg or webp")->capture_default_str();
  cmd->add_option("-j,--jobs", args->jobs, "Images processed at once; 0 = one per core")
      ->capture_default_str();
  cmd->add_option("inputs", args->inputs, "Image files or folders (photos or cutouts)")->required();
  args->preset.AddTo(cmd);
  cmd->callback([args, cmd, &config, exit_code] {
    Result<io::Format> format = io::ParseFormat(args->format);
    if (!format.ok()) {
      *exit_code = Fail(format.status());
      return;
    }
    // With a preset, the result is exported for it: framed by it, encoded within its limits and
    // passed through its compliance gate (a file that fails is not written).
    std::optional<qa::Preset> preset;
    ops::ExportOptions export_options;
    if (!args->preset.name.empty()) {
      Result<qa::Preset> resolved = args->preset.Resolve(config);
      if (!resolved.ok()) {
        *exit_code = Fail(resolved.status());
        return;
      }
      preset = *resolved;
      ApplyPreset(
          *preset, [&](const char* flag) { return cmd->count(flag) > 0; }, &args->stage);
      if (cmd->count("--format") == 0) {
        *format = preset->formats.front();
      } else if (!preset->Accepts(*format)) {
        *exit_code = Fail(InvalidArgument("the " + preset->name + " preset does not accept " +
                                          args->format + "; use " + preset->FormatNames()));
        return;
      }
      // Given: that format or nothing. Not given: the preset's first, or another it accepts
      // when that one cannot meet its rules (a JPEG whose ringing leaves a background impure).
      if (cmd->count("--format") > 0) export_options.format = *format;
    }
    Result<nlohmann::json> params = StageParams(args->stage);
    if (!params.ok()) {
      *exit_code = Fail(params.status());
      return;
    }
    Result<std::vector<std::string>> colours = ParseColours(args->colors);
    if (!colours.ok()) {
      *exit_code = Fail(colours.status());
      return;
    }
    std::vector<std::string> variants;
    for (const std::string& c : *colours) variants.push_back(ColourSuffix(c));
    if (variants.empty()) variants.push_back("");

    auto [inputs, missing, options] =
        StartBatch(args->inputs, "staged", args->output_dir, *format, args->jobs, config);
    // Models load on the first photo that needs a cutout; cutouts alone never load them.
    models::Runtime runtime(config);
    if (preset) {
      export_options.compliance.overlay_text_area = ops::OverlayTextArea(runtime);
      options.encoder = [&](const Image& image) -> Result<std::string> {
        ASSIGN_OR_RETURN(ops::ExportResult result, ops::Export(image, *preset, export_options));
        return std::move(result.bytes);
      };
    }
    const ops::Registry& registry = ops::Registry::Global();
    auto step = [&](const Image& image) -> Result<std::vector<Image>> {
      std::vector<std::string> warnings;
      ops::OpContext context{&config, &runtime, &warnings};
      Image cutout = image;
      if (!image.has_alpha()) {
        ASSIGN_OR_RETURN(cutout, registry.Run("cutout", image, nullptr, context));
      }
      std::vector<Image> results;
      for (const std::string& colour : *colours) {
        ASSIGN_OR_RETURN(Image recoloured,
                         registry.Run("recolor", cutout, {{"color", colour}}, context));
        ASSIGN_OR_RETURN(Image staged, registry.Run("stage", recoloured, *params, context));
        results.push_back(std::move(staged));
      }
      if (colours->empty()) {
        ASSIGN_OR_RETURN(Image staged, registry.Run("stage", cutout, *params, context));
        results.push_back(std::move(staged));
      }
      for (Image& result : results) {  // for presets that keep metadata
        result.exif = image.exif;
        result.xmp = image.xmp;
      }
      for (const std::string& w : std::set<std::string>(warnings.begin(), warnings.end())) {
        std::fprintf(stderr, "warning: %s: %s\n", image.name.c_str(), w.c_str());
      }
      return results;
    };
    BatchReport report = RunBatch(inputs, missing, config.limits, options, variants, step);
    *exit_code = report.failed > 0 ? 1 : 0;
  });
}

}  // namespace vitrine::app
