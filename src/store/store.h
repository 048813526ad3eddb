// The durable job store: batches and jobs with a leased, at-least-once queue, plus the small
// tables the HTTP API needs (API keys, idempotency records, webhook deliveries, uploads).
//
// Two backends behind one interface, with identical behaviour (one test suite runs on both):
//   - SQLite, the embedded default: `sqlite:///abs/path/jobs.db` or a plain path. WAL journal,
//     synchronous=FULL (an acknowledged Enqueue/Complete survives power loss), busy_timeout.
//     Several processes may open the same file; writes take `BEGIN IMMEDIATE`.
//   - PostgreSQL, for many worker machines: `postgresql://user@host:port/db` (any libpq URL).
//     Claims use `SELECT ... FOR UPDATE SKIP LOCKED`.
// The schema is created on open and versioned in `schema_version`; migrations are append-only.
//
// Thread safety: every method of a JobStore is thread-safe. An instance owns ONE database
// connection, guarded by a mutex, so calls on one instance are serialised; open one instance
// per worker thread when claims should run in parallel (each opens its own connection), and let
// the HTTP API read through instances of its own, so a read never waits behind a worker's
// commit (on SQLite with synchronous=FULL a commit waits for fsync).
//
// Time: all timestamps are milliseconds since the Unix epoch (`*_ms`), read from the injected
// Clock (StoreOptions::clock), never from the database server, so tests move time by hand and
// machines agree as long as their clocks do.
//
// Errors: methods return Status/Result, never throw. NotFound for an unknown id; InvalidArgument
// for a bad argument (the message says which); Unavailable when the database cannot be reached
// or stays locked beyond the busy timeout (retry later); Internal for a corrupt row.
// Operations fenced by attempt (Heartbeat, Progress, Complete, Fail, Release) return
// Code::kCancelled when the caller no longer owns the job — it was cancelled, finished, or its
// lease expired and another attempt claimed it. The worker must then stop and discard its work;
// GetJob tells why.
//
// Job life cycle (states are stored as text and append-only):
//   queued --Claim--> running --Complete--> succeeded
//                        |--Fail(transient code), attempts left--> queued (after backoff)
//                        |--Fail(transient code), no attempts left--> dead
//                        |--Fail(permanent code)--> failed
//                        |--Release (graceful shutdown)--> queued, no attempt consumed
//                        |--lease expires--> claimable again by Claim (attempt + 1); if the
//                        |                   attempts are used up --> dead
//   queued|running --Cancel--> cancelled
//   queued past its not_after (the window closed before it started) --> failed, DeadlineExceeded
//                                                       with reason "window_closed"
// Transient codes (retried): Unavailable, ResourceExhausted, DeadlineExceeded, Internal,
// ModelFailure. Permanent: InvalidArgument, NotFound, Unsupported. Fail with Cancelled moves the
// job to cancelled. See IsRetryable().
//
// Webhook outbox: every transition into a terminal state (Complete, Fail to failed/dead/cancelled,
// Cancel, and the window and lease expiries that Claim applies) adds, in the SAME transaction,
//   - a due delivery "job.<state>" to the job's webhook_url, when it has one, and
//   - a due delivery "batch.completed" to its batch's webhook_url when that transition finished
//     the batch's last open job.
// Each delivery row has a unique event key ("job:<id>", "batch.completed:<id>"), so a job's event
// and a batch's completion are recorded exactly once however many workers race; a crash either
// keeps the transition and its deliveries or neither. Delivering them is the dispatcher's job
// (DueWebhookDeliveries / UpdateWebhookDelivery).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vitrine::store {

// Milliseconds since the Unix epoch.
using TimeMs = int64_t;

// Source of the current time. Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs NowMs() const = 0;
};
// The system clock; a process-wide instance that lives forever.
const Clock& RealClock();

// Stored as text; append only.
enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled, kDead };
std::string_view JobStateName(JobState state);  // "queued", "running", ...
std::optional<JobState> ParseJobState(std::string_view name);
inline constexpr JobState kAllJobStates[] = {JobState::kQueued,    JobState::kRunning,
                                             JobState::kSucceeded, JobState::kFailed,
                                             JobState::kCancelled, JobState::kDead};
// succeeded, failed, cancelled and dead never change again.
bool IsTerminal(JobState state);

// Whether a job that failed with `code` is retried (see the table at the top).
bool IsRetryable(Code code);

struct JobError {
  Code code = Code::kInternal;
  std::string message;
  bool retryable = false;
  // A stable snake_case cause more specific than `code`, or empty: "window_closed" when the
  // job's not_after passed before it could run.
  std::string reason;
};

// JobError::reason of a job whose scheduling window closed before it ran.
inline constexpr std::string_view kWindowClosed = "window_closed";

// What a producer submits.
struct NewJob {
  std::optional<int64_t> batch_id;  // set by CreateBatch; Enqueue accepts an existing batch id
  std::string tenant;
  std::string sku;
  nlohmann::json payload = nlohmann::json::object();  // inputs, recipe, params, presets
  int priority = 0;                                   // higher runs first
  int max_attempts = 3;                               // >= 1
  std::optional<TimeMs> not_before;                   // not claimed before this time
  std::optional<TimeMs> not_after;                    // failed if not started by then
  // Optional: a second Enqueue of the same (tenant, dedupe_key) returns the existing job's id
  // and inserts nothing (a resumed run, a retried HTTP request). Empty means no deduplication.
  std::string dedupe_key;
  // Where the job's terminal event is posted (see "Webhook outbox" above); empty: nowhere.
  std::string webhook_url;
};

struct Job {
  int64_t id = 0;
  std::optional<int64_t> batch_id;
  std::string tenant;
  std::string sku;
  nlohmann::json payload;
  int priority = 0;
  JobState state = JobState::kQueued;
  // Number of the current or last claim, 1 for the first; the fencing token of the worker that
  // holds the job. Never decreases.
  int attempt = 0;
  // Claims given back by Release; they do not count against max_attempts.
  int releases = 0;
  int max_attempts = 0;
  std::string lease_owner;              // worker id while running, else empty
  std::optional<TimeMs> lease_expires;  // while running
  TimeMs next_run = 0;                  // not claimed before (backoff after a transient error)
  std::optional<TimeMs> not_before;
  std::optional<TimeMs> not_after;
  std::optional<JobError> last_error;
  nlohmann::json result;  // set by Complete: candidates, QA, exports; null before
  double progress = 0;    // 0..1, from Progress
  std::string progress_note;
  std::string dedupe_key;
  std::string webhook_url;
  TimeMs created = 0;
  TimeMs updated = 0;
  std::optional<TimeMs> finished;  // when it reached a terminal state
};

struct NewBatch {
  std::string tenant;
  std::string name;
  nlohmann::json recipe = nlohmann::json::object();
  std::optional<TimeMs> not_before;  // copied to every job of the batch
  std::optional<TimeMs> not_after;
  std::string webhook_url;
};

struct Batch {
  int64_t id = 0;
  std::string tenant;
  std::string name;
  nlohmann::json recipe;
  std::optional<TimeMs> not_before;
  std::optional<TimeMs> not_after;
  std::string webhook_url;
  TimeMs created = 0;
  std::map<JobState, int64_t> counts;  // every state present, zero when none
  int64_t total = 0;
};

struct JobFilter {
  std::optional<int64_t> batch_id;
  std::optional<std::string> tenant;
  std::optional<JobState> state;
  int limit = 100;       // 1..1000
  int64_t after_id = 0;  // cursor: jobs with a larger id, in id order
};

struct JobPage {
  std::vector<Job> jobs;
  std::optional<int64_t> next_cursor;  // pass as after_id for the next page; nullopt at the end
};

struct ApiKey {
  int64_t id = 0;
  std::string name;
  std::string tenant;
  std::string key_sha256;  // hex SHA-256 of the key; the key itself is never stored
  TimeMs created = 0;
  std::optional<TimeMs> revoked;
};

struct IdempotencyRecord {
  std::string tenant;
  std::string key;             // the Idempotency-Key header
  std::string request_sha256;  // hash of the request (method, path, body)
  int status_code = 0;         // the first response
  std::string body;
  TimeMs created = 0;
};

struct WebhookDelivery {
  int64_t id = 0;
  std::optional<int64_t> job_id;
  std::optional<int64_t> batch_id;
  std::string url;
  std::string event;  // e.g. "job.succeeded"
  // Unique when set ("job:<id>", "batch.completed:<id>"): a second delivery with the same key is
  // not added. Empty: no uniqueness.
  std::string event_key;
  int attempt = 0;  // deliveries tried so far
  std::optional<int> status_code;
  std::string error;
  std::optional<TimeMs> next_attempt;  // nullopt: no further attempt (delivered or given up)
  std::optional<TimeMs> delivered;
  TimeMs created = 0;
};

struct Upload {
  int64_t id = 0;
  std::string tenant;
  std::string path;
  std::string sha256;
  int64_t bytes = 0;
  TimeMs created = 0;
};

struct StoreOptions {
  // Borrowed; must outlive the store. nullptr means RealClock().
  const Clock* clock = nullptr;
  // Returns a uniform number in [0, 1) for the backoff jitter; empty means a seeded
  // std::mt19937_64. Called under the store's lock.
  std::function<double()> random;
  // Retry n (1 for the first transient failure) waits uniform(0, min(cap, base * 2^(n-1))):
  // exponential backoff with full jitter.
  std::chrono::milliseconds backoff_base{2000};
  std::chrono::milliseconds backoff_cap{std::chrono::minutes(10)};
  // SQLite: how long a writer waits for another process's lock before Unavailable.
  std::chrono::milliseconds busy_timeout{10000};
};

// The backoff ceiling for retry n (>= 1): min(cap, base * 2^(n-1)).
std::chrono::milliseconds BackoffCeiling(const StoreOptions& options, int retry);

class JobStore {
 public:
  virtual ~JobStore() = default;

  // "sqlite" or "postgresql".
  virtual std::string_view backend() const = 0;

  // --- Producers -------------------------------------------------------------------------
  // Inserts all jobs in one transaction (all or none); returns their ids in order. A job whose
  // (tenant, dedupe_key) already exists is not inserted again: its existing id is returned.
  virtual Result<std::vector<int64_t>> Enqueue(const std::vector<NewJob>& jobs) = 0;
  // Creates a batch and its jobs in one transaction; each job gets the batch's id, tenant and
  // window (not_before/not_after). Returns the batch id; ListJobs({.batch_id}) lists the jobs.
  virtual Result<int64_t> CreateBatch(const NewBatch& batch, const std::vector<NewJob>& jobs) = 0;

  // --- Workers -----------------------------------------------------------------------------
  // Claims the next runnable job, or returns nullopt when there is none: a queued job whose
  // next_run and not_before have come, or a running job whose lease expired (at-least-once),
  // highest priority first, then oldest. The job becomes running with attempt + 1, lease_owner
  // = worker_id and lease_expires = now + lease. Before choosing, jobs whose not_after passed
  // while queued (or whose lease expired after it) become failed (DeadlineExceeded), and jobs
  // whose lease expired with no attempts left become dead.
  virtual Result<std::optional<Job>> Claim(const std::string& worker_id,
                                           std::chrono::milliseconds lease) = 0;
  // The expiries Claim applies before choosing (closed windows -> failed with reason
  // window_closed; expired leases with no attempt left -> dead), with their webhooks, without
  // claiming anything; returns how many jobs it finished. The webhook dispatcher calls it
  // periodically, so such jobs end on time even when no worker is claiming.
  virtual Result<int64_t> ExpireJobs() = 0;
  // Extends the lease of the job claimed as `attempt` by `worker_id` to now + lease.
  // Cancelled (stop working) if that claim no longer owns the job.
  virtual Status Heartbeat(int64_t job_id, int attempt, const std::string& worker_id,
                           std::chrono::milliseconds lease) = 0;
  // Records progress (fraction clamped to 0..1) for the API. Fenced like Heartbeat.
  virtual Status Progress(int64_t job_id, int attempt, double fraction, std::string_view note) = 0;
  // running -> succeeded with `result`. Fenced: Cancelled if `attempt` no longer owns the job,
  // so a worker whose lease expired and whose job was claimed again cannot complete it.
  virtual Status Complete(int64_t job_id, int attempt, const nlohmann::json& result) = 0;
  // Records `error` (not OK) and moves the job per the table at the top; returns the new
  // state. Fenced like Complete.
  virtual Result<JobState> Fail(int64_t job_id, int attempt, const Status& error) = 0;
  // Graceful shutdown: running -> queued at once, without consuming an attempt. Fenced.
  virtual Status Release(int64_t job_id, int attempt) = 0;

  // --- Control and reads -------------------------------------------------------------------
  // queued -> cancelled; running -> cancelled (its worker's next fenced call gets Cancelled).
  // A job already in a terminal state is left as it is. Returns the job afterwards.
  virtual Result<Job> Cancel(int64_t job_id) = 0;
  virtual Result<Job> GetJob(int64_t job_id) = 0;
  virtual Result<JobPage> ListJobs(const JobFilter& filter) = 0;
  virtual Result<Batch> GetBatch(int64_t batch_id) = 0;
  // Jobs per state (every state present), for /metrics. Empty tenant: all tenants.
  virtual Result<std::map<JobState, int64_t>> CountByState(const std::string& tenant = "") = 0;
  // Queued jobs that a Claim could take now (backoff and window elapsed).
  virtual Result<int64_t> QueueDepth() = 0;

  // --- API keys ----------------------------------------------------------------------------
  // `key_sha256` must be unique (InvalidArgument otherwise).
  virtual Result<ApiKey> CreateApiKey(const std::string& name, const std::string& tenant,
                                      const std::string& key_sha256) = 0;
  // The key with this hash, revoked or not (check `revoked`); NotFound if none.
  virtual Result<ApiKey> FindApiKey(const std::string& key_sha256) = 0;
  virtual Result<std::vector<ApiKey>> ListApiKeys() = 0;
  // Sets `revoked` (once; revoking again keeps the first time). NotFound for an unknown id.
  virtual Status RevokeApiKey(int64_t id) = 0;

  // --- Idempotency -------------------------------------------------------------------------
  // Stores `record` unless (tenant, key) exists; returns what is stored afterwards, so two
  // concurrent requests agree on one first response. `created` is set by the store.
  virtual Result<IdempotencyRecord> PutIdempotency(const IdempotencyRecord& record) = 0;
  virtual Result<std::optional<IdempotencyRecord>> GetIdempotency(const std::string& tenant,
                                                                  const std::string& key) = 0;

  // --- Webhook deliveries ------------------------------------------------------------------
  // Terminal transitions add their own deliveries (see "Webhook outbox" above); this adds any
  // other. Returns the new id, or the existing one when `event_key` is already taken; `id` and
  // `created` of the argument are ignored.
  virtual Result<int64_t> AddWebhookDelivery(const WebhookDelivery& delivery) = 0;
  // Overwrites attempt, status_code, error, next_attempt and delivered of delivery.id.
  virtual Status UpdateWebhookDelivery(const WebhookDelivery& delivery) = 0;
  // Undelivered deliveries whose next_attempt has come, oldest first.
  virtual Result<std::vector<WebhookDelivery>> DueWebhookDeliveries(int limit) = 0;
  virtual Result<std::vector<WebhookDelivery>> ListWebhookDeliveries(int64_t job_id) = 0;

  // --- Uploads -----------------------------------------------------------------------------
  // Returns the new id; `id` and `created` are ignored.
  virtual Result<int64_t> AddUpload(const Upload& upload) = 0;
  virtual Result<Upload> GetUpload(int64_t id) = 0;
};

// Opens (creating or migrating the schema) the store at `url`: `sqlite:///path/file.db`, a
// plain file path (SQLite; the folder must exist), or `postgresql://...` / `postgres://...`.
// InvalidArgument for an unknown scheme, Unavailable if the database cannot be opened or
// reached, Unsupported if its schema is newer than this program.
Result<std::unique_ptr<JobStore>> OpenStore(const std::string& url, StoreOptions options = {});

}  // namespace vitrine::store
