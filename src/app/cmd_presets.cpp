// vitrine presets: the marketplace presets and their main figures.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/preset_flags.h"
#include "qa/presets.h"

namespace vitrine::app {

void AddPresets(CLI::App& cli, const Config& config, int* exit_code) {
  auto* cmd = cli.add_subcommand("presets", "List the marketplace presets and their rules");
  struct Args {
    PresetFlags presets;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  args->presets.AddTo(cmd, /*with_name=*/false);
  cmd->add_flag("--json", args->json, "Print every field of every preset as JSON");
  cmd->callback([args, &config, exit_code] {
    Result<qa::PresetBook> book = args->presets.Load(config);
    if (!book.ok()) {
      std::fprintf(stderr, "vitrine presets: %s\n", book.status().message().c_str());
      *exit_code = 2;
      return;
    }
    if (args->json) {
      nlohmann::json all = nlohmann::json::array();
      for (const qa::Preset& p : book->All()) all.push_back(p.ToJson());
      std::printf("%s\n", all.dump(2).c_str());
      return;
    }
    for (const qa::Preset& p : book->All()) {
      const nlohmann::json j = p.ToJson();
      std::string formats;
      for (const auto& f : j["formats"])
        formats += (formats.empty() ? "" : "/") + f.get<std::string>();
      std::string size =
          "long side " + std::to_string(p.min_long_side) + "-" + std::to_string(p.max_long_side);
      if (p.min_width > 0 || p.min_height > 0) {
        size += ", at least " + std::to_string(p.min_width) + "x" + std::to_string(p.min_height);
      }
      std::printf("%-15s %s\n", p.name.c_str(), p.title.c_str());
      std::printf(
          "  canvas %dx%d%s; %s\n", p.canvas_width, p.canvas_height,
          p.aspect ? (" (aspect " + j["aspect"]["ratio"].dump() + " required)").c_str() : "",
          size.c_str());
      std::printf("  background %s%s; fill %.0f%% (%.0f-%.0f%%); margins %.0f%%/%.0f%% (h/v)\n",
                  j["background"].get<std::string>().c_str(),
                  p.pure_background ? " pure" : (p.plain_background ? " plain" : " any"),
                  p.fill_target * 100, p.fill_min * 100, p.fill_max * 100,
                  p.margin_horizontal * 100, p.margin_vertical * 100);
      std::printf("  %s, <= %.1f MB, %s%s%s%s\n", formats.c_str(), p.max_bytes / 1e6,
                  p.srgb ? "sRGB" : "any colour space", p.alpha ? ", transparency allowed" : "",
                  p.light_shadow ? ", light shadow allowed" : "", p.no_text ? ", no text" : "");
    }
  });
}

}  // namespace vitrine::app
