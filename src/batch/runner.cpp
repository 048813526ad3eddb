#include "batch/runner.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "batch/index_html.h"
#include "batch/sku.h"
#include "core/file.h"
#include "core/sha256.h"
#include "store/lease_keeper.h"
#include "store/store.h"

namespace vitrine::batch {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kLease = std::chrono::seconds(60);
// The cache is pruned to its bound every this many SKUs as well as at the end, so a long run's
// disk use stays near the bound.
constexpr int kPruneEvery = 20;

// The job of a SKU is identified by everything that decides its outputs, so the same command
// resumes it and a changed recipe or manifest row makes a new job (whose unchanged steps come
// from the cache).
std::string JobKey(const recipe::Recipe& recipe, const recipe::SkuInfo& sku,
                   const RunOptions& options) {
  nlohmann::json key = {{"recipe", recipe.ToJson()},
                        {"sku", sku.ToJson()},
                        {"presets", options.presets},
                        {"candidates", options.candidates}};
  return Sha256Hex(key.dump());
}

// Holds OUT/.lock for the process's life: two runs on one folder would race on its files.
Result<UniqueFd> LockOutput(const std::string& dir) {
  const std::string path = (fs::path(dir) / ".lock").string();
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0) return ErrnoStatus("open", path, errno);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    return Unavailable("another `vitrine run` is using " + dir +
                       "; wait for it to finish or choose another --output-dir");
  }
  return fd;
}

std::string Eta(double seconds) {
  char text[32];
  if (seconds >= 3600) {
    std::snprintf(text, sizeof text, "%.1f h", seconds / 3600);
  } else if (seconds >= 90) {
    std::snprintf(text, sizeof text, "%.0f min", seconds / 60);
  } else {
    std::snprintf(text, sizeof text, "%.0f s", seconds);
  }
  return text;
}

std::atomic<bool> g_stop{false};

}  // namespace

void RequestStop() { g_stop = true; }

Result<RunSummary> Run(const RunOptions& options, const Config& config) {
  const auto start = Clock::now();
  ASSIGN_OR_RETURN(recipe::Recipe recipe, recipe::LoadRecipe(options.recipe));
  RETURN_IF_ERROR(recipe::Validate(recipe, ops::Registry::Global()));
  ASSIGN_OR_RETURN(qa::QaConfig qa_config, qa::QaConfig::FromJson(recipe.qa));
  ASSIGN_OR_RETURN(qa::PresetBook presets, qa::LoadPresets(config.qa.presets_file));
  for (const std::string& name : options.presets) {
    if (!presets.Find(name)) {
      return InvalidArgument("unknown preset '" + name + "'; the presets are " + presets.Names());
    }
  }
  ASSIGN_OR_RETURN(recipe::Manifest manifest, recipe::LoadManifest(options.manifest));
  RunSummary summary;
  summary.skus = static_cast<int>(manifest.skus.size());
  summary.skipped_rows = static_cast<int>(manifest.problems.size());
  for (const recipe::ManifestProblem& p : manifest.problems) {
    if (p.line > 0) {
      std::fprintf(stderr, "vitrine: %s line %d skipped: %s\n", manifest.path.c_str(), p.line,
                   p.message.c_str());
    } else {
      std::fprintf(stderr, "vitrine: %s: skipped: %s\n", manifest.path.c_str(), p.message.c_str());
    }
  }

  std::error_code ec;
  fs::create_directories(options.output_dir, ec);
  if (ec) return ErrnoStatus("create the output folder", options.output_dir, ec.value());
  ASSIGN_OR_RETURN(UniqueFd lock, LockOutput(options.output_dir));
  RemoveStaleTemporaries(options.output_dir);
  const std::string db = (fs::path(options.output_dir) / "state.db").string();
  ASSIGN_OR_RETURN(std::unique_ptr<store::JobStore> jobs, store::OpenStore(db));

  // One job per SKU; a resumed run finds its jobs by key.
  std::map<std::string, const recipe::SkuInfo*> by_key;
  std::vector<store::NewJob> new_jobs;
  for (const recipe::SkuInfo& sku : manifest.skus) {
    store::NewJob job;
    job.sku = sku.sku;
    job.dedupe_key = JobKey(recipe, sku, options);
    job.payload = {{"recipe", recipe.name}, {"sku", sku.sku}};
    by_key[job.dedupe_key] = &sku;
    new_jobs.push_back(std::move(job));
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> ids, jobs->Enqueue(new_jobs));
  // We hold the folder's lock, so a job still running belongs to a run that was killed: give it
  // back now rather than wait for its lease. Jobs of an earlier command that this one does not
  // include are cancelled, so they do not run under this command's name.
  for (int64_t after = 0;;) {
    store::JobFilter filter;
    filter.limit = 1000;
    filter.after_id = after;
    ASSIGN_OR_RETURN(store::JobPage page, jobs->ListJobs(filter));
    for (const store::Job& job : page.jobs) {
      if (store::IsTerminal(job.state)) continue;
      if (!by_key.count(job.dedupe_key)) {
        RETURN_IF_ERROR(jobs->Cancel(job.id).status());
      } else if (job.state == store::JobState::kRunning) {
        RETURN_IF_ERROR(jobs->Release(job.id, job.attempt));
      }
    }
    if (!page.next_cursor) break;
    after = *page.next_cursor;
  }

  // What every SKU shares.
  ASSIGN_OR_RETURN(std::unique_ptr<SkuResources> resources,
                   LoadSkuResources(config, (fs::path(options.output_dir) / ".cache").string()));
  const SkuEnv env = resources->Env(qa_config, options.output_dir);
  recipe::ExpandOptions expand;
  expand.candidates = options.candidates;
  expand.presets = options.presets;

  // Prunes the cache to its bound; a failure is a warning (the run's outputs are complete).
  std::mutex prune_mutex;
  auto prune_cache = [&]() -> std::optional<recipe::ImageCache::PruneStats> {
    std::lock_guard<std::mutex> hold(prune_mutex);
    Result<recipe::ImageCache::PruneStats> pruned =
        resources->cache->Prune(options.cache_max_bytes);
    if (!pruned.ok()) {
      std::fprintf(stderr, "vitrine: warning: the cache was not pruned: %s\n",
                   pruned.status().message().c_str());
      return std::nullopt;
    }
    summary.cache_pruned += pruned->removed;
    return *pruned;
  };

  // Workers: each claims a SKU, processes it, and completes or fails it (fenced by attempt).
  std::mutex print_mutex;
  int done_here = 0;
  int to_do = 0;
  {
    ASSIGN_OR_RETURN(auto counts, jobs->CountByState());
    to_do = static_cast<int>(counts[store::JobState::kQueued]);
  }
  auto worker = [&](int number) {
    const std::string worker_id =
        "run-" + std::to_string(::getpid()) + "-" + std::to_string(number);
    while (!g_stop) {
      Result<std::optional<store::Job>> claimed = jobs->Claim(worker_id, kLease);
      if (!claimed.ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      if (!*claimed) {
        Result<int64_t> depth = jobs->QueueDepth();
        Result<std::map<store::JobState, int64_t>> counts = jobs->CountByState();
        if (!counts.ok() || (*counts)[store::JobState::kQueued] == 0) return;
        // Jobs waiting for a retry's backoff: wait for them.
        std::this_thread::sleep_for(std::chrono::milliseconds(depth.ok() && *depth > 0 ? 50 : 500));
        continue;
      }
      const store::Job job = **claimed;
      auto it = by_key.find(job.dedupe_key);
      if (it == by_key.end()) {
        (void)jobs->Fail(job.id, job.attempt, Cancelled("not part of this run"));
        continue;
      }
      const recipe::SkuInfo& sku = *it->second;
      const auto sku_start = Clock::now();
      store::LeaseKeeper keeper(*jobs, job, worker_id, kLease);
      Result<nlohmann::json> report =
          ProcessSku(env, recipe, sku, expand, [&] { return g_stop.load() || keeper.lost(); });
      const double seconds = std::chrono::duration<double>(Clock::now() - sku_start).count();
      std::string line;
      if (report.ok()) {
        nlohmann::json result = {{"accepted", (*report)["accepted"]},
                                 {"rejected", (*report)["rejected"]},
                                 {"exports", (*report)["exports"]},
                                 {"report", SkuFolderName(sku.sku) + "/report.json"}};
        Status completed = jobs->Complete(job.id, job.attempt, result);
        line = completed.ok()
                   ? sku.sku + ": " + std::to_string((*report)["accepted"].get<int>()) +
                         " accepted, " + std::to_string((*report)["rejected"].get<int>()) +
                         " rejected, " + std::to_string((*report)["exports"].get<int>()) +
                         " exports"
                   : sku.sku + ": " + completed.message();
      } else if (report.status().code() == Code::kCancelled) {
        (void)jobs->Release(job.id, job.attempt);
        continue;
      } else {
        Result<store::JobState> state = jobs->Fail(job.id, job.attempt, report.status());
        const bool retry = state.ok() && *state == store::JobState::kQueued;
        line = sku.sku + ": " + (retry ? "will retry: " : "FAILED: ") + report.status().message();
      }
      bool prune = false;
      {
        std::lock_guard<std::mutex> hold(print_mutex);
        prune = ++done_here % kPruneEvery == 0;
        if (!options.quiet) {
          const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
          const int left = std::max(0, to_do - done_here);
          std::fprintf(stderr, "[%d/%d] %s (%.1f s)%s\n", done_here, to_do, line.c_str(), seconds,
                       left > 0 ? (", ETA " + Eta(elapsed / done_here * left)).c_str() : "");
        }
      }
      if (prune) prune_cache();
    }
  };
  std::vector<std::thread> threads;
  const int workers = std::max(1, std::min(options.jobs, std::max(1, to_do)));
  for (int i = 0; i < workers; ++i) threads.emplace_back(worker, i);
  for (std::thread& t : threads) t.join();

  // The summary is over every SKU of this command, done in this run or an earlier one.
  for (int64_t id : ids) {
    ASSIGN_OR_RETURN(store::Job job, jobs->GetJob(id));
    if (job.state == store::JobState::kSucceeded) {
      ++summary.succeeded;
      summary.accepted += job.result.value("accepted", 0);
      summary.rejected += job.result.value("rejected", 0);
      summary.exports += job.result.value("exports", 0);
    } else if (job.state == store::JobState::kFailed || job.state == store::JobState::kDead) {
      ++summary.failed;
      std::fprintf(stderr, "vitrine: SKU %s failed: %s\n", job.sku.c_str(),
                   job.last_error ? job.last_error->message.c_str() : "unknown error");
    }
  }
  if (const auto pruned = prune_cache()) summary.cache_bytes = pruned->kept_bytes;
  ASSIGN_OR_RETURN(summary.index_html, WriteIndexHtml(options.output_dir, recipe, manifest));
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (g_stop) return Cancelled("stopped; run the same command again to continue");
  return summary;
}

}  // namespace vitrine::batch
