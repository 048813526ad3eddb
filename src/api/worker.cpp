#include "api/worker.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "api/process_identity.h"
#include "api/server.h"
#include "api/webhooks.h"
#include "core/file.h"
#include "io/image_io.h"
#include "qa/qa_config.h"
#include "recipe/recipe.h"
#include "store/lease_keeper.h"

namespace vitrine::api {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

int64_t NowMs() { return store::RealClock().NowMs(); }

// Worker ids are "<process identity>/<n>", so a restarted process can tell which claims belong
// to its dead predecessors (process_identity.h).
std::string WorkerId(int n) { return SelfIdentity().ToString() + "/" + std::to_string(n); }

// Worker threads give the CPU to the API's threads first: SCHED_BATCH (no wake-up preemption)
// and a higher nice value for the calling thread. Threads it creates afterwards (its lease
// keeper, a parallel pool OpenCV starts from it) inherit both. Failing to lower a priority is
// harmless: the jobs still run.
void LowerThisThreadPriority(int nice) {
  if (nice <= 0) return;
  sched_param param{};
  (void)::sched_setscheduler(0, SCHED_BATCH, &param);  // 0: the calling thread
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
}

// Jobs that a killed process of this host held go back to the queue without using an attempt.
void ReleaseOrphans(store::JobStore& store) {
  for (int64_t after = 0;;) {
    Result<store::JobPage> page =
        store.ListJobs({.state = store::JobState::kRunning, .limit = 1000, .after_id = after});
    if (!page.ok()) return;
    for (const store::Job& job : page->jobs) {
      if (IsProvablyDead(job.lease_owner)) {
        Status released = store.Release(job.id, job.attempt);
        if (released.ok()) {
          std::fprintf(stderr, "vitrine: job_%lld released (its worker %s is gone)\n",
                       static_cast<long long>(job.id), job.lease_owner.c_str());
        }
      }
    }
    if (!page->next_cursor) return;
    after = *page->next_cursor;
  }
}

// Downloads a URL input into `dir` and returns its path.
Result<std::string> FetchInput(const std::string& url, const std::string& dir, int n,
                               const FetchOptions& options) {
  ASSIGN_OR_RETURN(FetchResult fetched, Fetch(url, options));
  const io::Format format = io::SniffFormat(fetched.body);
  if (format == io::Format::kUnknown) {
    return Unsupported("the image at " + url +
                       " is not JPEG, PNG, WebP or GIF; give a URL that serves one of those");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ErrnoStatus("create", dir, ec.value());
  const std::string path =
      (fs::path(dir) / (std::to_string(n) + "." + std::string(io::FormatExtension(format))))
          .string();
  RETURN_IF_ERROR(WriteFileAtomic(path, fetched.body, IfExists::kReplace));
  return path;
}

}  // namespace

Result<json> RunJob(const store::Job& job, const batch::SkuResources& resources,
                    const DataPaths& paths, const FetchOptions& fetch, const batch::StopFn& stop,
                    OpLatencies* latencies) {
  const json& payload = job.payload;
  if (!payload.is_object() || !payload.contains("recipe") || !payload.contains("images")) {
    return InvalidArgument("job_" + std::to_string(job.id) +
                           " has no recipe or images in its payload; submit it again");
  }
  ASSIGN_OR_RETURN(recipe::Recipe recipe, recipe::ParseRecipe(payload["recipe"]));
  RETURN_IF_ERROR(recipe::Validate(recipe, ops::Registry::Global()));
  ASSIGN_OR_RETURN(qa::QaConfig qa, qa::QaConfig::FromJson(recipe.qa));
  const std::string dir = paths.JobDir(job.id);
  // We hold the lease: what a killed earlier attempt was writing is garbage.
  RemoveStaleTemporaries(dir);
  recipe::SkuInfo sku;
  sku.sku = job.sku;
  int n = 0;
  for (const json& image : payload["images"]) {
    ++n;
    if (image.contains("upload")) {
      sku.images.push_back(image["upload"].get<std::string>());
    } else if (image.contains("url")) {
      ASSIGN_OR_RETURN(std::string path, FetchInput(image["url"].get<std::string>(),
                                                    (fs::path(dir) / "inputs").string(), n, fetch));
      sku.images.push_back(std::move(path));
    }
  }
  recipe::ExpandOptions expand;
  expand.presets = payload.value("presets", std::vector<std::string>());
  const batch::SkuEnv env = resources.Env(qa, dir);
  ASSIGN_OR_RETURN(json report, batch::ProcessSku(env, recipe, sku, expand, stop));
  if (latencies) {
    for (const json& candidate : report.value("candidates", json::array())) {
      for (const json& step : candidate.value("steps", json::array())) {
        if (step.value("source", "") == "computed") {
          latencies->Record(step.value("op", ""), step.value("seconds", 0.0));
        }
      }
    }
  }
  return JobResultFromReport(report, batch::SkuFolderName(job.sku));
}

WorkerPool::WorkerPool(const Config& config, WorkerOptions options)
    : config_(config), options_(std::move(options)) {}

Result<std::unique_ptr<WorkerPool>> WorkerPool::Start(const Config& config, WorkerOptions options) {
  std::unique_ptr<WorkerPool> pool(new WorkerPool(config, std::move(options)));
  const WorkerOptions& o = pool->options_;
  // Loaded on a thread at the workers' priority: whatever threads loading starts inherit it.
  Result<std::unique_ptr<batch::SkuResources>> resources = Internal("not loaded");
  std::thread loader([&] {
    LowerThisThreadPriority(o.nice);
    resources = batch::LoadSkuResources(config, o.paths.CacheDir());
  });
  loader.join();
  ASSIGN_OR_RETURN(pool->resources_, std::move(resources));
  const int threads = std::max(0, o.workers) + (o.dispatch_webhooks ? 1 : 0);
  for (int i = 0; i < threads; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<store::JobStore> store, store::OpenStore(o.store_url));
    pool->stores_.push_back(std::move(store));
  }
  if (!pool->stores_.empty()) ReleaseOrphans(*pool->stores_[0]);
  for (int i = 0; i < std::max(0, o.workers); ++i) {
    pool->threads_.emplace_back([p = pool.get(), i] { p->WorkLoop(*p->stores_[i], WorkerId(i)); });
  }
  if (o.dispatch_webhooks) {
    pool->threads_.emplace_back([p = pool.get()] { p->DispatchLoop(*p->stores_.back()); });
  }
  return pool;
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Stop() {
  {
    std::lock_guard lock(wait_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void WorkerPool::Wait(std::chrono::milliseconds duration) {
  std::unique_lock lock(wait_mutex_);
  wake_.wait_for(lock, duration, [this] { return stopping_.load(); });
}

void WorkerPool::WorkLoop(store::JobStore& store, const std::string& worker_id) {
  LowerThisThreadPriority(options_.nice);
  while (!stopping_) {
    Result<std::optional<store::Job>> claimed = store.Claim(worker_id, options_.lease);
    if (!claimed.ok()) {
      std::fprintf(stderr, "vitrine: worker %s: %s\n", worker_id.c_str(),
                   claimed.status().message().c_str());
      Wait(std::chrono::seconds(1));
      continue;
    }
    if (!*claimed) {
      Wait(options_.idle_poll);
      continue;
    }
    RunClaimed(store, **claimed, worker_id);
  }
}

void WorkerPool::RunClaimed(store::JobStore& store, const store::Job& job,
                            const std::string& worker_id) {
  store::LeaseKeeper keeper(store, job, worker_id, options_.lease);
  FetchOptions fetch;
  fetch.max_bytes = config_.limits.max_bytes;
  fetch.guard = options_.guard;
  Result<json> result = RunJob(
      job, *resources_, options_.paths, fetch, [&] { return stopping_.load() || keeper.lost(); },
      options_.latencies);
  if (keeper.lost()) return;  // cancelled or claimed again: this attempt's work is discarded
  if (!result.ok() && result.status().code() == Code::kCancelled && stopping_) {
    (void)store.Release(job.id, job.attempt);
    return;
  }
  Status recorded = result.ok() ? store.Complete(job.id, job.attempt, *result)
                                : store.Fail(job.id, job.attempt, result.status()).status();
  if (!recorded.ok()) {
    std::fprintf(stderr, "vitrine: job_%lld: %s\n", static_cast<long long>(job.id),
                 recorded.message().c_str());
    return;
  }
  if (!result.ok()) {
    std::fprintf(stderr, "vitrine: job_%lld (%s) failed: %s\n", static_cast<long long>(job.id),
                 job.sku.c_str(), result.status().message().c_str());
  }
}

void WorkerPool::DispatchLoop(store::JobStore& store) {
  LowerThisThreadPriority(options_.nice);
  DeliveryOptions delivery;
  delivery.fetch.guard = options_.guard;
  while (!stopping_) {
    // Jobs whose window closed while queued end now, with their webhooks, even when no worker
    // of any process is claiming.
    Result<int64_t> expired = store.ExpireJobs();
    if (!expired.ok()) {
      std::fprintf(stderr, "vitrine: expiring jobs: %s\n", expired.status().message().c_str());
    }
    Result<std::vector<store::WebhookDelivery>> due = store.DueWebhookDeliveries(20);
    if (!due.ok() || due->empty()) {
      Wait(std::chrono::milliseconds(500));
      continue;
    }
    for (store::WebhookDelivery& d : *due) {
      if (stopping_) return;
      // The body shows the job or batch as GET would, at the time of this attempt.
      json data;
      std::string tenant;
      if (d.job_id) {
        Result<store::Job> job = store.GetJob(*d.job_id);
        if (!job.ok()) continue;
        tenant = job->tenant;
        data = JobToJson(ToJobView(*job));
      } else if (d.batch_id) {
        Result<store::Batch> batch = store.GetBatch(*d.batch_id);
        if (!batch.ok()) continue;
        tenant = batch->tenant;
        Result<BatchView> view = LoadBatchView(store, *batch);
        if (!view.ok()) continue;
        data = BatchToJson(*view);
      }
      Result<std::string> secret = TenantWebhookSecret(options_.paths, tenant);
      if (!secret.ok()) {
        std::fprintf(stderr, "vitrine: webhook %lld: %s\n", static_cast<long long>(d.id),
                     secret.status().message().c_str());
        continue;
      }
      const int64_t now = NowMs() / 1000;
      WebhookMessage message;
      message.id = "msg_" + std::to_string(d.id);
      message.url = d.url;
      message.secret = *secret;
      message.body = json{{"type", d.event}, {"timestamp", now}, {"data", data}}.dump();
      Result<DeliveryAttempt> attempt = AttemptWebhook(message, d.attempt + 1, now, delivery);
      if (!attempt.ok()) continue;
      d.attempt = attempt->attempt;
      d.status_code =
          attempt->http_status > 0 ? std::optional<int>(attempt->http_status) : std::nullopt;
      d.error = attempt->error;
      d.delivered = attempt->error.empty() ? std::optional<int64_t>(NowMs()) : std::nullopt;
      d.next_attempt =
          attempt->final ? std::nullopt : std::optional<int64_t>(attempt->next_attempt_unix * 1000);
      Status saved = store.UpdateWebhookDelivery(d);
      if (!saved.ok()) {
        std::fprintf(stderr, "vitrine: webhook %lld: %s\n", static_cast<long long>(d.id),
                     saved.message().c_str());
      }
    }
  }
}

}  // namespace vitrine::api
