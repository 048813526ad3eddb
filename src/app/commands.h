// CLI subcommands that live in their own file (src/app/cmd_<name>.cpp), one line each. Each
// adds itself to `cli`; its callback sets *exit_code (0 ok, 1 a failed input, 2 bad usage).
// `config` must outlive the parse.
#pragma once

#include <CLI/CLI.hpp>

#include "core/config.h"

namespace vitrine::app {

void AddCheck(CLI::App& cli, const Config& config, int* exit_code);
void AddPresets(CLI::App& cli, const Config& config, int* exit_code);
void AddExport(CLI::App& cli, const Config& config, int* exit_code);

}  // namespace vitrine::app
