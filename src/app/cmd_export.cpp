// vitrine export: staged images made ready for one marketplace, each written only if it passes
// the preset's compliance check.

#include "app/batch.h"
#include "app/commands.h"
#include "app/preset_flags.h"
#include "ops/export.h"
#include "ops/remove_text.h"

namespace vitrine::app {

void AddExport(CLI::App& cli, const Config& config, int* exit_code) {
  auto* cmd = cli.add_subcommand(
      "export", "Conform staged images to a marketplace preset; write only those that pass");
  struct Args {
    PresetFlags preset;
    std::string format;
    std::string output_dir = "exports";
    int jobs = 0;
    std::vector<std::string> inputs;
  };
  auto args = std::make_shared<Args>();
  args->preset.AddTo(cmd);
  cmd->add_option("-f,--format", args->format, "jpg, png or webp (default: the preset's first)");
  cmd->add_option("-o,--output-dir", args->output_dir, "Folder for the results")
      ->capture_default_str();
  cmd->add_option("-j,--jobs", args->jobs, "Images processed at once; 0 = one per core")
      ->capture_default_str();
  cmd->add_option("inputs", args->inputs, "Image files or folders");
  cmd->callback([args, &config, exit_code] {
    auto usage = [exit_code](const std::string& message) {
      std::fprintf(stderr, "vitrine export: %s\n", message.c_str());
      *exit_code = 2;
    };
    Result<qa::Preset> preset = args->preset.Resolve(config);
    if (!preset.ok()) return usage(preset.status().message());
    if (args->inputs.empty()) return usage("name the staged image files or folders to export");
    ops::ExportOptions export_options;
    models::Runtime runtime(config);  // the text detector loads when a preset forbids text
    export_options.compliance.overlay_text_area = ops::OverlayTextArea(runtime);
    if (!args->format.empty()) {
      Result<io::Format> format = io::ParseFormat(args->format);
      if (!format.ok()) return usage(format.status().message());
      if (!preset->Accepts(*format)) {
        return usage("the " + preset->name + " preset does not accept " + args->format + "; use " +
                     preset->FormatNames());
      }
      export_options.format = *format;
    }
    auto [inputs, missing, options] =
        StartBatch(args->inputs, "exported", args->output_dir,
                   export_options.format.value_or(preset->formats.front()), args->jobs, config);
    options.encoder = [&](const Image& image) -> Result<std::string> {
      ASSIGN_OR_RETURN(ops::ExportResult result, ops::Export(image, *preset, export_options));
      return std::move(result.bytes);
    };
    BatchReport report = RunBatch(inputs, missing, config.limits, options,
                                  [](const Image& image) -> Result<Image> { return image; });
    *exit_code = report.failed > 0 ? 1 : 0;
  });
}

}  // namespace vitrine::app
