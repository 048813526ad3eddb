// vitrine run: the main job (src/batch/runner.h says what it writes and how it resumes).
#include <csignal>
#include <cstdio>

#include "app/commands.h"
#include "batch/runner.h"
#include "core/text.h"

namespace vitrine::app {
namespace {

void OnSignal(int) { batch::RequestStop(); }

}  // namespace

void AddRun(CLI::App& cli, const Config& config, int* exit_code) {
  auto* cmd = cli.add_subcommand(
      "run", "Run a recipe over a SKU manifest: candidates, QA, exports, index.html (resumable)");
  struct Args {
    std::string recipe;
    std::string manifest;
    std::string input;
    std::string output_dir;
    std::string presets;
    int candidates = 0;
    int jobs = 0;
    double cache_max_gb = batch::RunOptions{}.cache_max_bytes / 1e9;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--recipe", args->recipe, "A built-in recipe (`vitrine recipes`) or a file")
      ->required();
  auto* manifest = cmd->add_option("--manifest", args->manifest, "SKU manifest (CSV)");
  auto* input = cmd->add_option("--input", args->input,
                                "A folder: one SKU per sub-folder, or one per image file");
  manifest->excludes(input);
  cmd->add_option("-o,--output-dir", args->output_dir, "Folder for the results and run state")
      ->required();
  cmd->add_option("--presets", args->presets,
                  "Marketplace presets to export, e.g. amazon,noon (default: the manifest's, "
                  "else the recipe's)");
  cmd->add_option("--candidates", args->candidates, "Candidates per SKU (default: the recipe's)")
      ->check(CLI::Range(0, 64));
  cmd->add_option("-j,--jobs", args->jobs, "SKUs processed at once; 0 = one per core")
      ->capture_default_str();
  cmd->add_option("--cache-max-gb", args->cache_max_gb,
                  "Bound on OUT/.cache (intermediate images), pruned least recently used first "
                  "during and after the run; 0 empties it")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  cmd->callback([args, &config, exit_code] {
    if (args->manifest.empty() && args->input.empty()) {
      *exit_code = Fail(InvalidArgument("give the SKUs with --manifest FILE.csv or --input DIR"));
      return;
    }
    batch::RunOptions options;
    options.recipe = args->recipe;
    options.manifest = args->manifest.empty() ? args->input : args->manifest;
    options.output_dir = args->output_dir;
    options.presets = SplitList(args->presets, ",;|");
    options.candidates = args->candidates;
    options.jobs = ResolveJobs(args->jobs, 1 << 20, config);
    options.cache_max_bytes = static_cast<int64_t>(args->cache_max_gb * 1e9);
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    Result<batch::RunSummary> summary = batch::Run(options, config);
    if (!summary.ok()) {
      *exit_code = Fail(summary.status());
      return;
    }
    const batch::RunSummary& s = *summary;
    const int candidates = s.accepted + s.rejected;
    std::printf(
        "%d of %d SKUs done, %d failed%s; candidates: %d accepted, %d rejected (usable rate "
        "%.0f%%); %d exports; %.1f s; cache %.2f GB (%d files pruned)\nopen %s\n",
        s.succeeded, s.skus, s.failed,
        s.skipped_rows ? (", " + std::to_string(s.skipped_rows) + " manifest rows skipped").c_str()
                       : "",
        s.accepted, s.rejected, candidates ? 100.0 * s.accepted / candidates : 0.0, s.exports,
        s.seconds, s.cache_bytes / 1e9, s.cache_pruned, s.index_html.c_str());
    *exit_code = (s.failed > 0 || s.succeeded < s.skus) ? 1 : 0;
  });
}

}  // namespace vitrine::app
