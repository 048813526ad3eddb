// CLI subcommands that live in their own files (src/app/cmd_<name>.cpp), one line each; main()
// calls each once. A command reports failure through *exit_code (see Fail).
#pragma once

#include <CLI/CLI.hpp>

#include "core/config.h"
#include "core/status.h"

namespace vitrine::app {

// Prints "vitrine: <message>" to stderr; returns the exit code: 2 for InvalidArgument (the user
// can fix the input), 1 otherwise.
int Fail(const Status& status);

void AddRecipes(CLI::App& cli, const Config& config, int* exit_code);

}  // namespace vitrine::app
