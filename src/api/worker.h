// The workers behind the API: threads that claim jobs from the store, run them with
// batch::ProcessSku into the shared data folder, and complete or fail them; and the webhook
// dispatcher that delivers job and batch events recorded in the store.
//
// A worker thread: Claim (lease `lease`, kept alive by a store::LeaseKeeper heartbeat) -> fetch
// URL inputs with api::Fetch (SSRF guard on every hop) into DATA/jobs/<id>/inputs -> ProcessSku
// into DATA/jobs/<id>/ -> Complete, or Fail with the Status (the store decides retry vs. permanent
// from its code). A lost lease (cancelled, or re-claimed after it expired) abandons the job and
// writes nothing to the store. Stop() stops claiming, stops running jobs at their next step and
// Releases them (no attempt consumed).
//
// On start, jobs left running by a process that provably no longer exists (kill -9; same host,
// boot and pid namespace, and no live process with its pid and start time: process_identity.h)
// are released at once instead of waiting for their leases to expire; every other claim waits
// for its lease.
//
// Priority: worker threads, the webhook dispatcher and the threads they start (OpenCV's pool)
// run with SCHED_BATCH and nice +`nice`, so on a shared machine the API answers first.
//
// Webhooks: the store adds a job's "job.<state>" delivery, and a batch's one "batch.completed",
// in the transaction that finishes the job (store.h, "Webhook outbox"), so a crash loses none
// and no race doubles the batch event. The dispatcher thread delivers due ones with
// AttemptWebhook, signed with the tenant's secret (TenantWebhookSecret: DATA/webhook-secrets/),
// and records each attempt (status, error, next attempt) on the delivery row. Delivery is
// at-least-once: the webhook-id ("msg_<delivery id>") stays the same across retries for receivers
// to dedupe on.
// The dispatcher also calls store::JobStore::ExpireJobs about twice a second, so jobs whose
// window closed while queued fail ("window_closed") and send their webhooks on time, even in a
// `serve --workers 0`.
//
// Thread safety: Start/Stop from one thread. Each worker thread and the dispatcher open their own
// store connection.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/fetch.h"
#include "api/metrics.h"
#include "api/store_backend.h"
#include "batch/sku.h"
#include "core/config.h"
#include "core/status.h"
#include "store/store.h"

namespace vitrine::api {

struct WorkerOptions {
  std::string store_url;
  DataPaths paths;
  int workers = 1;  // job threads; 0 runs only the webhook dispatcher
  std::chrono::milliseconds lease{30000};
  std::chrono::milliseconds idle_poll{300};  // wait between claims when the queue is empty
  GuardOptions guard;                        // URL inputs and webhook targets
  bool dispatch_webhooks = true;
  OpLatencies* latencies = nullptr;  // borrowed, may be null: where computed steps are timed
  int nice = 10;                     // 0 leaves the worker threads' priority alone
};

// Runs one claimed job (already leased by the caller): fetches URL inputs, runs the recipe in its
// payload, returns the job result for Complete. `stop` is polled between candidates; true makes
// it return Cancelled. Computed steps are timed into `latencies` when it is not null. Errors carry
// the codes the store classifies (InvalidArgument for a bad payload or a refused URL, Unavailable
// for a download that may work later, ...).
Result<nlohmann::json> RunJob(const store::Job& job, const batch::SkuResources& resources,
                              const DataPaths& paths, const FetchOptions& fetch,
                              const batch::StopFn& stop, OpLatencies* latencies = nullptr);

class WorkerPool {
 public:
  // Opens the store connections and starts the threads. Errors: the store cannot be opened
  // (Unavailable, naming the URL), a bad presets file. `config` is borrowed and must outlive the
  // pool.
  static Result<std::unique_ptr<WorkerPool>> Start(const Config& config, WorkerOptions options);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Stops claiming, releases the jobs in progress, joins the threads. Idempotent.
  void Stop();

 private:
  WorkerPool(const Config& config, WorkerOptions options);
  void WorkLoop(store::JobStore& store, const std::string& worker_id);
  void RunClaimed(store::JobStore& store, const store::Job& job, const std::string& worker_id);
  void DispatchLoop(store::JobStore& store);
  void Wait(std::chrono::milliseconds duration);

  const Config& config_;
  const WorkerOptions options_;
  std::unique_ptr<batch::SkuResources> resources_;
  std::vector<std::unique_ptr<store::JobStore>> stores_;  // one per thread
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::mutex wait_mutex_;
  std::condition_variable wake_;
};

}  // namespace vitrine::api
