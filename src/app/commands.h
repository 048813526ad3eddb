// The CLI's subcommands: one file src/app/cmd_<name>.cpp each, wired by one call in main.cpp.
//
// Each Add<Name> registers its subcommand on `cli`; its callback runs the command and stores the
// process exit code in *exit_code. `config` must outlive cli.parse().
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "app/batch.h"
#include "core/config.h"
#include "core/status.h"

namespace vitrine::app {

// Helpers the commands share (defined in main.cpp).
// Prints the status's message to stderr; returns 2 for InvalidArgument (bad usage), else 1.
int Fail(const Status& status);
// Images processed at once: `requested`, or one per core (at most `images`); also splits
// OpenCV's threads between them.
int ResolveJobs(int requested, int images, const Config& config);
// The start every FILE_OR_DIR... command shares: its inputs expanded (paths that do not exist in
// `missing`, which RunBatch counts as failed) and options with the summary's verb, the output
// folder and format, and the jobs ResolveJobs gives.
struct BatchStart {
  std::vector<std::string> inputs;
  std::vector<std::string> missing;
  BatchOptions options;
};
BatchStart StartBatch(const std::vector<std::string>& args, const std::string& verb,
                      const std::string& output_dir, io::Format format, int jobs,
                      const Config& config);

void AddRecipes(CLI::App& cli, const Config& config, int* exit_code);
void AddStage(CLI::App& cli, const Config& config, int* exit_code);
void AddRun(CLI::App& cli, const Config& config, int* exit_code);
void AddCheck(CLI::App& cli, const Config& config, int* exit_code);
void AddPresets(CLI::App& cli, const Config& config, int* exit_code);
void AddExport(CLI::App& cli, const Config& config, int* exit_code);
void AddRemoveText(CLI::App& cli, const Config& config, int* exit_code);
void AddServe(CLI::App& cli, const Config& config, int* exit_code);
void AddWorker(CLI::App& cli, const Config& config, int* exit_code);
void AddKeys(CLI::App& cli, const Config& config, int* exit_code);

}  // namespace vitrine::app
