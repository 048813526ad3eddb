#include "app/preset_flags.h"

namespace vitrine::app {

void PresetFlags::AddTo(CLI::App* cmd, bool with_name) {
  if (with_name) cmd->add_option("-p,--preset", name, "Preset name (vitrine presets lists them)");
  cmd->add_option("--presets-file", file,
                  "Your presets, merged over the built-ins (default: VITRINE_PRESETS)");
}

Result<qa::PresetBook> PresetFlags::Load(const Config& config) const {
  return qa::LoadPresets(file.empty() ? config.qa.presets_file : file);
}

Result<qa::Preset> PresetFlags::Resolve(const Config& config) const {
  ASSIGN_OR_RETURN(qa::PresetBook book, Load(config));
  if (name.empty()) return InvalidArgument("name a preset with --preset: " + book.Names());
  const qa::Preset* preset = book.Find(name);
  if (!preset) {
    return InvalidArgument("unknown preset '" + name + "'; choose one of " + book.Names() +
                           " or add it to a presets file (--presets-file)");
  }
  return *preset;
}

}  // namespace vitrine::app
