#include "api/worker.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

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

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "host";
  return name;
}

int64_t NowMs() { return store::RealClock().NowMs(); }

// Worker ids are "<host>/<pid>/<n>", so a restarted process can tell its dead predecessors' jobs.
std::string WorkerId(int n) {
  return HostName() + "/" + std::to_string(::getpid()) + "/" + std::to_string(n);
}

// Whether `owner` is a worker of this host whose process is gone.
bool OwnerIsDeadHere(const std::string& owner) {
  const std::string prefix = HostName() + "/";
  if (owner.compare(0, prefix.size(), prefix) != 0) return false;
  const size_t end = owner.find('/', prefix.size());
  if (end == std::string::npos) return false;
  const pid_t pid = static_cast<pid_t>(std::atoll(owner.substr(prefix.size(), end).c_str()));
  if (pid <= 0 || pid == ::getpid()) return false;
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

// Jobs that a killed process of this host held go back to the queue without using an attempt.
void ReleaseOrphans(store::JobStore& store) {
  for (int64_t after = 0;;) {
    Result<store::JobPage> page =
        store.ListJobs({.state = store::JobState::kRunning, .limit = 1000, .after_id = after});
    if (!page.ok()) return;
    for (const store::Job& job : page->jobs) {
      if (OwnerIsDeadHere(job.lease_owner)) {
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
                       " is not JPEG, PNG or WebP; give a URL that serves one of those");
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
  ASSIGN_OR_RETURN(pool->resources_, batch::LoadSkuResources(config, o.paths.CacheDir()));
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
  Result<store::Job> after = store.GetJob(job.id);
  if (after.ok() && store::IsTerminal(after->state)) {
    Status queued = EnqueueWebhooks(store, *after);
    if (!queued.ok()) {
      std::fprintf(stderr, "vitrine: job_%lld: webhook not queued: %s\n",
                   static_cast<long long>(job.id), queued.message().c_str());
    }
  }
}

void WorkerPool::DispatchLoop(store::JobStore& store) {
  DeliveryOptions delivery;
  delivery.fetch.guard = options_.guard;
  while (!stopping_) {
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
