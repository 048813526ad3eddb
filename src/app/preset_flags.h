// The --preset and --presets-file options shared by the commands that work for one marketplace
// (check, export, stage).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "core/config.h"
#include "qa/presets.h"

namespace vitrine::app {

struct PresetFlags {
  std::string name;
  std::string file;  // empty: config.qa.presets_file (VITRINE_PRESETS)

  // Adds --presets-file, and -p,--preset unless `with_name` is false.
  void AddTo(CLI::App* cmd, bool with_name = true);
  // The built-ins merged with the user file.
  Result<qa::PresetBook> Load(const Config& config) const;
  // The named preset. InvalidArgument (listing the choices) when no name was given or it is
  // unknown; the presets file's errors as LoadPresets returns them.
  Result<qa::Preset> Resolve(const Config& config) const;
};

}  // namespace vitrine::app
