// `vitrine run`: a recipe over a SKU manifest, durable and resumable.
//
// The run's state lives in OUT/state.db (the SQLite JobStore: one job per SKU). Killing the
// process at any moment and running the same command again continues where it stopped: SKUs
// already done are not redone (their jobs succeeded), the SKU that was running is redone from
// its cached intermediate images, and no output file is ever half-written (every file is
// written to a temporary name and renamed). A SKU's report.json is written last: a SKU folder
// without one is unfinished.
//
// Outputs:
//   OUT/<sku>/candidates/<NN>.jpg            every candidate, accepted or not (NN = plan index;
//                                            .png when it has transparency)
//   OUT/<sku>/exports/<preset>/<rank>-<NN>.<ext>  the best accepted candidates (up to 3) that pass
//                                            the preset's gate
//   OUT/<sku>/report.json                    steps, timings, QA values, reasons, removed text
//   OUT/index.html                           contact sheet of every SKU, opens from disk
//   OUT/.cache/                              content-addressed intermediate images, pruned to
//                                            RunOptions::cache_max_bytes (least recently used
//                                            first) every kPruneEvery SKUs and at the end
//
// One `vitrine run` at a time per OUT: a second one is refused (an flock on OUT/.lock).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace vitrine::batch {

struct RunOptions {
  std::string recipe;    // a built-in recipe's name or a recipe file
  std::string manifest;  // a CSV manifest or a folder
  std::string output_dir;
  std::vector<std::string> presets;  // non-empty overrides the SKUs' and the recipe's
  int candidates = 0;                // > 0 overrides the recipe's count
  int jobs = 1;                      // SKUs processed at once
  bool quiet = false;                // no progress lines
  // Bound on OUT/.cache. Each SKU of `localize` leaves about 17 MB there (its text-free photo,
  // cutout and staged candidates); the default keeps the latest ~290 SKUs, enough to resume and
  // to re-run a changed last step. Resuming needs no cache (finished SKUs are not redone): a
  // pruned entry is only recomputed if a SKU needs it again.
  int64_t cache_max_bytes = 5'000'000'000;  // 5 GB
};

struct RunSummary {
  int skus = 0;          // SKUs in the manifest that were loaded
  int skipped_rows = 0;  // manifest rows reported and skipped
  int succeeded = 0;     // SKUs with a report (this run or an earlier one)
  int failed = 0;        // SKUs that failed for good
  int accepted = 0;      // candidates accepted, over the succeeded SKUs
  int rejected = 0;
  int exports = 0;
  int64_t cache_bytes = 0;  // what OUT/.cache holds after the final prune
  int cache_pruned = 0;     // cache files this run removed
  double seconds = 0;
  std::string index_html;
};

// Runs (or resumes) the run. Errors are about the run as a whole (bad recipe, unreadable
// manifest, OUT not writable, another run holding OUT); a SKU's failure is counted in the summary
// and described in its report and on stderr.
Result<RunSummary> Run(const RunOptions& options, const Config& config);

// Asks a running Run to stop soon (async-signal-safe: for SIGINT/SIGTERM handlers). SKUs in
// progress are given back to the queue; Run then returns Cancelled.
void RequestStop();

}  // namespace vitrine::batch
