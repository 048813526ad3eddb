// The job store's logic, written once over SqlDb so SQLite and PostgreSQL behave the same.
// Every operation is one transaction; state changes of a running job are guarded by
// `state = 'running' AND attempt = ?` in the UPDATE itself, which is what fences a stale worker.
#include <cmath>
#include <mutex>
#include <random>
#include <set>

#include "store/sql.h"
#include "store/store.h"

namespace vitrine::store {
namespace {

// Schema migrations, append-only: never edit a released step, add a new one. `{id}` becomes the
// backend's auto-increment primary key type. Timestamps are BIGINT milliseconds.
const std::vector<std::vector<std::string>>& Migrations() {
  static const std::vector<std::vector<std::string>> kMigrations = {
      {
          "CREATE TABLE batches (id {id}, tenant TEXT NOT NULL, name TEXT NOT NULL, "
          "recipe TEXT NOT NULL, not_before BIGINT, not_after BIGINT, "
          "webhook_url TEXT NOT NULL, created_at BIGINT NOT NULL)",
          "CREATE TABLE jobs (id {id}, batch_id BIGINT REFERENCES batches(id), "
          "tenant TEXT NOT NULL, sku TEXT NOT NULL, payload TEXT NOT NULL, "
          "priority INTEGER NOT NULL, state TEXT NOT NULL, attempt INTEGER NOT NULL, "
          "releases INTEGER NOT NULL, max_attempts INTEGER NOT NULL, lease_owner TEXT, "
          "lease_expires_at BIGINT, next_run_at BIGINT NOT NULL, not_before BIGINT, "
          "not_after BIGINT, error_code TEXT, error_message TEXT, error_retryable INTEGER, "
          "result TEXT, progress DOUBLE PRECISION NOT NULL, progress_note TEXT NOT NULL, "
          "dedupe_key TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, "
          "finished_at BIGINT)",
          "CREATE INDEX jobs_claim ON jobs (state, priority DESC, created_at, id)",
          "CREATE INDEX jobs_batch ON jobs (batch_id, id)",
          "CREATE INDEX jobs_tenant ON jobs (tenant, id)",
          "CREATE UNIQUE INDEX jobs_dedupe ON jobs (tenant, dedupe_key)",
          "CREATE TABLE api_keys (id {id}, name TEXT NOT NULL, tenant TEXT NOT NULL, "
          "key_sha256 TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, revoked_at BIGINT)",
          "CREATE TABLE idempotency (tenant TEXT NOT NULL, idem_key TEXT NOT NULL, "
          "request_sha256 TEXT NOT NULL, status_code INTEGER NOT NULL, body TEXT NOT NULL, "
          "created_at BIGINT NOT NULL, PRIMARY KEY (tenant, idem_key))",
          "CREATE TABLE webhook_deliveries (id {id}, job_id BIGINT, batch_id BIGINT, "
          "url TEXT NOT NULL, event TEXT NOT NULL, attempt INTEGER NOT NULL, "
          "status_code INTEGER, error TEXT NOT NULL, next_attempt_at BIGINT, "
          "delivered_at BIGINT, created_at BIGINT NOT NULL)",
          "CREATE INDEX webhook_due ON webhook_deliveries (next_attempt_at)",
          "CREATE INDEX webhook_job ON webhook_deliveries (job_id)",
          "CREATE TABLE uploads (id {id}, tenant TEXT NOT NULL, path TEXT NOT NULL, "
          "sha256 TEXT NOT NULL, bytes BIGINT NOT NULL, created_at BIGINT NOT NULL)",
      },
      {
          // The webhook outbox (store.h): the job's target, and one row per event key.
          "ALTER TABLE jobs ADD COLUMN webhook_url TEXT",
          "ALTER TABLE jobs ADD COLUMN error_reason TEXT",
          "ALTER TABLE webhook_deliveries ADD COLUMN event_key TEXT",
          "CREATE UNIQUE INDEX webhook_event_key ON webhook_deliveries (event_key)",
      },
  };
  return kMigrations;
}

constexpr char kJobColumns[] =
    "id, batch_id, tenant, sku, payload, priority, state, attempt, releases, max_attempts, "
    "lease_owner, lease_expires_at, next_run_at, not_before, not_after, error_code, "
    "error_message, error_retryable, result, progress, progress_note, dedupe_key, created_at, "
    "updated_at, finished_at, webhook_url, error_reason";
constexpr char kBatchColumns[] =
    "id, tenant, name, recipe, not_before, not_after, webhook_url, created_at";
constexpr char kKeyColumns[] = "id, name, tenant, key_sha256, created_at, revoked_at";
constexpr char kIdemColumns[] = "tenant, idem_key, request_sha256, status_code, body, created_at";
constexpr char kHookColumns[] =
    "id, job_id, batch_id, url, event, attempt, status_code, error, next_attempt_at, "
    "delivered_at, created_at, event_key";
constexpr char kUploadColumns[] = "id, tenant, path, sha256, bytes, created_at";

// Running -> anything: these columns are cleared with the lease.
constexpr char kDropLease[] = "lease_owner = NULL, lease_expires_at = NULL";

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

Result<nlohmann::json> ParseJson(const std::string& text, std::string_view what) {
  if (text.empty()) return nlohmann::json();
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Internal("stored " + std::string(what) + " is not valid JSON");
  return j;
}

// Compact JSON; invalid UTF-8 in a string becomes U+FFFD instead of throwing.
std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<Code> ParseCode(std::string_view name) {
  for (int c = 0; c <= static_cast<int>(Code::kInternal); ++c) {
    if (CodeName(static_cast<Code>(c)) == name) return static_cast<Code>(c);
  }
  return std::nullopt;
}

Result<Job> ParseJob(const SqlRow& r) {
  Job j;
  j.id = r.Int(0);
  j.batch_id = r.OptInt(1);
  j.tenant = r.Text(2);
  j.sku = r.Text(3);
  ASSIGN_OR_RETURN(j.payload, ParseJson(r.Text(4), "job payload"));
  j.priority = static_cast<int>(r.Int(5));
  std::optional<JobState> state = ParseJobState(r.Text(6));
  if (!state) {
    return Internal("job " + std::to_string(j.id) + " has unknown state '" + r.Text(6) +
                    "'; it was written by a newer vitrine, upgrade this one");
  }
  j.state = *state;
  j.attempt = static_cast<int>(r.Int(7));
  j.releases = static_cast<int>(r.Int(8));
  j.max_attempts = static_cast<int>(r.Int(9));
  j.lease_owner = r.Text(10);
  j.lease_expires = r.OptInt(11);
  j.next_run = r.Int(12);
  j.not_before = r.OptInt(13);
  j.not_after = r.OptInt(14);
  if (!r.IsNull(15)) {
    j.last_error = JobError{ParseCode(r.Text(15)).value_or(Code::kInternal), r.Text(16),
                            r.Int(17) != 0, r.Text(26)};
  }
  ASSIGN_OR_RETURN(j.result, ParseJson(r.Text(18), "job result"));
  j.progress = r.Double(19);
  j.progress_note = r.Text(20);
  j.dedupe_key = r.Text(21);
  j.created = r.Int(22);
  j.updated = r.Int(23);
  j.finished = r.OptInt(24);
  j.webhook_url = r.Text(25);
  return j;
}

Result<Batch> ParseBatch(const SqlRow& r) {
  Batch b;
  b.id = r.Int(0);
  b.tenant = r.Text(1);
  b.name = r.Text(2);
  ASSIGN_OR_RETURN(b.recipe, ParseJson(r.Text(3), "batch recipe"));
  b.not_before = r.OptInt(4);
  b.not_after = r.OptInt(5);
  b.webhook_url = r.Text(6);
  b.created = r.Int(7);
  return b;
}

ApiKey ParseKey(const SqlRow& r) {
  return ApiKey{r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Int(4), r.OptInt(5)};
}

IdempotencyRecord ParseIdem(const SqlRow& r) {
  return IdempotencyRecord{r.Text(0), r.Text(1), r.Text(2), static_cast<int>(r.Int(3)),
                           r.Text(4), r.Int(5)};
}

WebhookDelivery ParseHook(const SqlRow& r) {
  std::optional<int> status;
  if (!r.IsNull(6)) status = static_cast<int>(r.Int(6));
  return WebhookDelivery{r.Int(0),
                         r.OptInt(1),
                         r.OptInt(2),
                         r.Text(3),
                         r.Text(4),
                         r.Text(11),
                         static_cast<int>(r.Int(5)),
                         status,
                         r.Text(7),
                         r.OptInt(8),
                         r.OptInt(9),
                         r.Int(10)};
}

Upload ParseUpload(const SqlRow& r) {
  return Upload{r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Int(4), r.Int(5)};
}

std::string State(JobState s) { return std::string(JobStateName(s)); }

std::map<JobState, int64_t> ZeroCounts() {
  std::map<JobState, int64_t> counts;
  for (JobState s : kAllJobStates) counts[s] = 0;
  return counts;
}

// Adds rows of (state, count) to `counts`; unknown states (a newer writer) are skipped.
void AddCounts(const std::vector<SqlRow>& rows, std::map<JobState, int64_t>* counts) {
  for (const SqlRow& r : rows) {
    if (std::optional<JobState> s = ParseJobState(r.Text(0))) (*counts)[*s] += r.Int(1);
  }
}

class SqlStore : public JobStore {
 public:
  SqlStore(std::unique_ptr<SqlDb> db, StoreOptions options)
      : db_(std::move(db)), options_(std::move(options)) {
    if (!options_.clock) options_.clock = &RealClock();
    if (!options_.random) {
      auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
      options_.random = [rng] { return std::uniform_real_distribution<double>(0, 1)(*rng); };
    }
  }

  Status Migrate() {
    return db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      if (!db_->MigrationLockStatement().empty()) {
        RETURN_IF_ERROR(tx.Query(std::string(db_->MigrationLockStatement()), {}).status());
      }
      RETURN_IF_ERROR(
          tx.Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", {})
              .status());
      ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT MAX(version) FROM schema_version", {}));
      int64_t have = rows.empty() ? 0 : rows[0].OptInt(0).value_or(0);
      const auto& steps = Migrations();
      if (have > static_cast<int64_t>(steps.size())) {
        return Unsupported("the job store has schema version " + std::to_string(have) +
                           " but this vitrine knows only up to " + std::to_string(steps.size()) +
                           "; upgrade vitrine");
      }
      for (size_t v = have; v < steps.size(); ++v) {
        for (const std::string& sql : steps[v]) {
          RETURN_IF_ERROR(tx.Exec(Replace(sql, "{id}", db_->IdColumnType()), {}).status());
        }
        if (v + 1 == 2) RETURN_IF_ERROR(BackfillWebhookUrls(tx));
        RETURN_IF_ERROR(tx.Exec("INSERT INTO schema_version (version) VALUES (?)",
                                {static_cast<int64_t>(v + 1)})
                            .status());
      }
      return Status::Ok();
    });
  }

  // Version 1 kept a job's webhook target only in its payload ("webhook_url"); open jobs get
  // the column, so their terminal events still reach the outbox after the upgrade.
  static Status BackfillWebhookUrls(SqlTx& tx) {
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, payload FROM jobs WHERE state IN "
                                         "('queued', 'running')",
                                         {}));
    for (const SqlRow& r : rows) {
      ASSIGN_OR_RETURN(nlohmann::json payload, ParseJson(r.Text(1), "job payload"));
      const nlohmann::json* url = payload.is_object() && payload.contains("webhook_url")
                                      ? &payload["webhook_url"]
                                      : nullptr;
      if (!url || !url->is_string() || url->get<std::string>().empty()) continue;
      RETURN_IF_ERROR(tx.Exec("UPDATE jobs SET webhook_url = ? WHERE id = ?",
                              {url->get<std::string>(), r.Int(0)})
                          .status());
    }
    return Status::Ok();
  }

  std::string_view backend() const override { return db_->backend(); }

  Result<std::vector<int64_t>> Enqueue(const std::vector<NewJob>& jobs) override {
    std::vector<int64_t> ids;
    RETURN_IF_ERROR(db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      ids.clear();
      return InsertJobs(tx, jobs, nullptr, &ids);
    }));
    return ids;
  }

  Result<int64_t> CreateBatch(const NewBatch& batch, const std::vector<NewJob>& jobs) override {
    RETURN_IF_ERROR(CheckWindow(batch.not_before, batch.not_after, "batch " + batch.name));
    int64_t id = 0;
    RETURN_IF_ERROR(db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      ASSIGN_OR_RETURN(
          auto rows,
          tx.Query("INSERT INTO batches (tenant, name, recipe, not_before, not_after, "
                   "webhook_url, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                   {batch.tenant, batch.name, Dump(batch.recipe), OrNull(batch.not_before),
                    OrNull(batch.not_after), batch.webhook_url, Now()}));
      id = rows.at(0).Int(0);
      std::vector<int64_t> ids;
      return InsertJobs(tx, jobs, &batch, &ids, id);
    }));
    return id;
  }

  Result<std::optional<Job>> Claim(const std::string& worker_id,
                                   std::chrono::milliseconds lease) override {
    if (worker_id.empty()) return InvalidArgument("Claim needs a worker id (host:pid:thread)");
    if (lease.count() <= 0) return InvalidArgument("Claim needs a positive lease duration");
    std::optional<Job> claimed;
    RETURN_IF_ERROR(db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      claimed.reset();
      const TimeMs now = Now();
      RETURN_IF_ERROR(Expire(tx, now).status());
      ASSIGN_OR_RETURN(
          auto rows,
          tx.Query(std::string("SELECT ") + kJobColumns +
                       " FROM jobs WHERE (state = 'queued' AND next_run_at <= ? AND "
                       "(not_before IS NULL OR not_before <= ?)) OR (state = 'running' AND "
                       "lease_expires_at <= ?) ORDER BY priority DESC, created_at, id LIMIT 1" +
                       std::string(db_->ClaimLockClause()),
                   {now, now, now}));
      if (rows.empty()) return Status::Ok();
      ASSIGN_OR_RETURN(Job job, ParseJob(rows[0]));
      job.state = JobState::kRunning;
      job.attempt += 1;
      job.lease_owner = worker_id;
      job.lease_expires = now + lease.count();
      job.updated = now;
      job.progress = 0;
      job.progress_note.clear();
      RETURN_IF_ERROR(tx.Exec("UPDATE jobs SET state = 'running', attempt = ?, lease_owner = ?, "
                              "lease_expires_at = ?, updated_at = ?, progress = 0, "
                              "progress_note = '' WHERE id = ?",
                              {int64_t{job.attempt}, worker_id, *job.lease_expires, now, job.id})
                          .status());
      claimed = std::move(job);
      return Status::Ok();
    }));
    return claimed;
  }

  Result<int64_t> ExpireJobs() override {
    int64_t finished = 0;
    RETURN_IF_ERROR(db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      ASSIGN_OR_RETURN(finished, Expire(tx, Now()));
      return Status::Ok();
    }));
    return finished;
  }

  Status Heartbeat(int64_t job_id, int attempt, const std::string& worker_id,
                   std::chrono::milliseconds lease) override {
    if (lease.count() <= 0) return InvalidArgument("Heartbeat needs a positive lease duration");
    return db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      const TimeMs now = Now();
      return Fenced(tx,
                    "UPDATE jobs SET lease_expires_at = ?, updated_at = ? WHERE id = ? AND "
                    "attempt = ? AND state = 'running' AND lease_owner = ?",
                    {now + lease.count(), now, job_id, int64_t{attempt}, worker_id}, job_id,
                    attempt);
    });
  }

  Status Progress(int64_t job_id, int attempt, double fraction, std::string_view note) override {
    double f = std::isfinite(fraction) ? std::clamp(fraction, 0.0, 1.0) : 0.0;
    return db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      return Fenced(tx,
                    "UPDATE jobs SET progress = ?, progress_note = ?, updated_at = ? WHERE id = ? "
                    "AND attempt = ? AND state = 'running'",
                    {f, std::string(note), Now(), job_id, int64_t{attempt}}, job_id, attempt);
    });
  }

  Status Complete(int64_t job_id, int attempt, const nlohmann::json& result) override {
    return db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      const TimeMs now = Now();
      RETURN_IF_ERROR(
          Fenced(tx,
                 std::string("UPDATE jobs SET state = 'succeeded', result = ?, progress = 1, "
                             "finished_at = ?, updated_at = ?, ") +
                     kDropLease + " WHERE id = ? AND attempt = ? AND state = 'running'",
                 {Dump(result), now, now, job_id, int64_t{attempt}}, job_id, attempt));
      return AddFinishedEvents(tx, {job_id});
    });
  }

  Result<JobState> Fail(int64_t job_id, int attempt, const Status& error) override {
    if (error.ok()) return InvalidArgument("Fail needs an error status; use Complete on success");
    JobState next = JobState::kFailed;
    RETURN_IF_ERROR(db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      ASSIGN_OR_RETURN(auto rows,
                       tx.Query("SELECT attempt, releases, max_attempts FROM jobs WHERE id = ? "
                                "AND attempt = ? AND state = 'running'",
                                {job_id, int64_t{attempt}}));
      if (rows.empty()) return FenceError(tx, job_id, attempt);
      const int used = static_cast<int>(rows[0].Int(0) - rows[0].Int(1));
      const int max_attempts = static_cast<int>(rows[0].Int(2));
      const TimeMs now = Now();
      TimeMs next_run = now;
      const bool retryable = IsRetryable(error.code());
      if (error.code() == Code::kCancelled) {
        next = JobState::kCancelled;
      } else if (retryable && used < max_attempts) {
        next = JobState::kQueued;
        const double ceiling = static_cast<double>(BackoffCeiling(options_, used).count());
        next_run = now + static_cast<TimeMs>(std::floor(ceiling * options_.random()));
      } else {
        next = retryable ? JobState::kDead : JobState::kFailed;
      }
      SqlValue finished;
      if (IsTerminal(next)) finished = now;
      RETURN_IF_ERROR(
          tx.Exec(std::string("UPDATE jobs SET state = ?, error_code = ?, error_message = ?, "
                              "error_retryable = ?, error_reason = NULL, next_run_at = ?, "
                              "finished_at = ?, updated_at = ?, ") +
                      kDropLease + " WHERE id = ? AND attempt = ? AND state = 'running'",
                  {State(next), std::string(CodeName(error.code())), error.message(),
                   int64_t{retryable}, next_run, finished, now, job_id, int64_t{attempt}})
              .status());
      return IsTerminal(next) ? AddFinishedEvents(tx, {job_id}) : Status::Ok();
    }));
    return next;
  }

  Status Release(int64_t job_id, int attempt) override {
    return db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      const TimeMs now = Now();
      return Fenced(tx,
                    std::string("UPDATE jobs SET state = 'queued', releases = releases + 1, "
                                "next_run_at = ?, updated_at = ?, ") +
                        kDropLease + " WHERE id = ? AND attempt = ? AND state = 'running'",
                    {now, now, job_id, int64_t{attempt}}, job_id, attempt);
    });
  }

  Result<Job> Cancel(int64_t job_id) override {
    std::optional<Job> job;
    RETURN_IF_ERROR(db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      const TimeMs now = Now();
      ASSIGN_OR_RETURN(int64_t n,
                       tx.Exec(std::string("UPDATE jobs SET state = 'cancelled', "
                                           "finished_at = ?, updated_at = ?, ") +
                                   kDropLease + " WHERE id = ? AND state IN ('queued', 'running')",
                               {now, now, job_id}));
      if (n > 0) RETURN_IF_ERROR(AddFinishedEvents(tx, {job_id}));
      ASSIGN_OR_RETURN(job, ReadJob(tx, job_id));
      return Status::Ok();
    }));
    return std::move(*job);
  }

  Result<Job> GetJob(int64_t job_id) override {
    return ReadOne<Job>(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?", {job_id},
                        ParseJob, NoSuch("job", job_id));
  }

  Result<JobPage> ListJobs(const JobFilter& filter) override {
    if (filter.limit < 1 || filter.limit > 1000) {
      return InvalidArgument("the page size must be 1..1000, got " + std::to_string(filter.limit));
    }
    std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id > ?";
    SqlParams params = {filter.after_id};
    if (filter.batch_id) {
      sql += " AND batch_id = ?";
      params.push_back(*filter.batch_id);
    }
    if (filter.tenant) {
      sql += " AND tenant = ?";
      params.push_back(*filter.tenant);
    }
    if (filter.state) {
      sql += " AND state = ?";
      params.push_back(State(*filter.state));
    }
    sql += " ORDER BY id LIMIT ?";
    params.push_back(int64_t{filter.limit} + 1);
    JobPage page;
    RETURN_IF_ERROR(db_->Transact(TxKind::kRead, [&](SqlTx& tx) -> Status {
      page.jobs.clear();
      ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
      for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(filter.limit); ++i) {
        ASSIGN_OR_RETURN(Job job, ParseJob(rows[i]));
        page.jobs.push_back(std::move(job));
      }
      page.next_cursor.reset();
      if (rows.size() > static_cast<size_t>(filter.limit)) page.next_cursor = page.jobs.back().id;
      return Status::Ok();
    }));
    return page;
  }

  Result<Batch> GetBatch(int64_t batch_id) override {
    std::optional<Batch> batch;
    RETURN_IF_ERROR(db_->Transact(TxKind::kRead, [&](SqlTx& tx) -> Status {
      ASSIGN_OR_RETURN(
          auto rows, tx.Query(std::string("SELECT ") + kBatchColumns + " FROM batches WHERE id = ?",
                              {batch_id}));
      if (rows.empty()) return NotFound(NoSuch("batch", batch_id));
      ASSIGN_OR_RETURN(batch, ParseBatch(rows[0]));
      ASSIGN_OR_RETURN(auto counts, tx.Query("SELECT state, COUNT(*) FROM jobs WHERE "
                                             "batch_id = ? GROUP BY state",
                                             {batch_id}));
      batch->counts = ZeroCounts();
      AddCounts(counts, &batch->counts);
      batch->total = 0;
      for (const auto& [state, n] : batch->counts) batch->total += n;
      return Status::Ok();
    }));
    return std::move(*batch);
  }

  Result<std::map<JobState, int64_t>> CountByState(const std::string& tenant) override {
    std::map<JobState, int64_t> counts;
    RETURN_IF_ERROR(db_->Transact(TxKind::kRead, [&](SqlTx& tx) -> Status {
      counts = ZeroCounts();
      Result<std::vector<SqlRow>> rows =
          tenant.empty()
              ? tx.Query("SELECT state, COUNT(*) FROM jobs GROUP BY state", {})
              : tx.Query("SELECT state, COUNT(*) FROM jobs WHERE tenant = ? GROUP BY state",
                         {tenant});
      RETURN_IF_ERROR(rows.status());
      AddCounts(*rows, &counts);
      return Status::Ok();
    }));
    return counts;
  }

  Result<int64_t> QueueDepth() override {
    int64_t depth = 0;
    RETURN_IF_ERROR(db_->Transact(TxKind::kRead, [&](SqlTx& tx) -> Status {
      const TimeMs now = Now();
      ASSIGN_OR_RETURN(auto rows,
                       tx.Query("SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND "
                                "next_run_at <= ? AND (not_before IS NULL OR not_before <= ?) "
                                "AND (not_after IS NULL OR not_after > ?)",
                                {now, now, now}));
      depth = rows.at(0).Int(0);
      return Status::Ok();
    }));
    return depth;
  }

  Result<ApiKey> CreateApiKey(const std::string& name, const std::string& tenant,
                              const std::string& key_sha256) override {
    if (key_sha256.size() != 64) {
      return InvalidArgument("an API key is stored by its hex SHA-256 (64 characters)");
    }
    std::optional<ApiKey> key;
    RETURN_IF_ERROR(db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      ASSIGN_OR_RETURN(auto rows, tx.Query(std::string("INSERT INTO api_keys (name, tenant, "
                                                       "key_sha256, created_at) VALUES "
                                                       "(?, ?, ?, ?) RETURNING ") +
                                               kKeyColumns,
                                           {name, tenant, key_sha256, Now()}));
      key = ParseKey(rows.at(0));
      return Status::Ok();
    }));
    return std::move(*key);
  }

  Result<ApiKey> FindApiKey(const std::string& key_sha256) override {
    return ReadOne<ApiKey>(
        std::string("SELECT ") + kKeyColumns + " FROM api_keys WHERE key_sha256 = ?", {key_sha256},
        ParseKey, "no API key has that hash");
  }

  Result<std::vector<ApiKey>> ListApiKeys() override {
    std::vector<ApiKey> keys;
    RETURN_IF_ERROR(db_->Transact(TxKind::kRead, [&](SqlTx& tx) -> Status {
      keys.clear();
      ASSIGN_OR_RETURN(
          auto rows,
          tx.Query(std::string("SELECT ") + kKeyColumns + " FROM api_keys ORDER BY id", {}));
      for (const SqlRow& r : rows) keys.push_back(ParseKey(r));
      return Status::Ok();
    }));
    return keys;
  }

  Status RevokeApiKey(int64_t id) override {
    return db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, "
                                          "?) WHERE id = ?",
                                          {Now(), id}));
      return n == 0 ? NotFound(NoSuch("API key", id) + " (vitrine keys list shows them)")
                    : Status::Ok();
    });
  }

  Result<IdempotencyRecord> PutIdempotency(const IdempotencyRecord& record) override {
    if (record.key.empty()) return InvalidArgument("an idempotency record needs a key");
    std::optional<IdempotencyRecord> stored;
    RETURN_IF_ERROR(db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      RETURN_IF_ERROR(tx.Exec("INSERT INTO idempotency (tenant, idem_key, request_sha256, "
                              "status_code, body, created_at) VALUES (?, ?, ?, ?, ?, ?) "
                              "ON CONFLICT (tenant, idem_key) DO NOTHING",
                              {record.tenant, record.key, record.request_sha256,
                               int64_t{record.status_code}, record.body, Now()})
                          .status());
      ASSIGN_OR_RETURN(stored, ReadIdem(tx, record.tenant, record.key));
      return stored ? Status::Ok() : Internal("an idempotency record vanished after insert");
    }));
    return std::move(*stored);
  }

  Result<std::optional<IdempotencyRecord>> GetIdempotency(const std::string& tenant,
                                                          const std::string& key) override {
    std::optional<IdempotencyRecord> stored;
    RETURN_IF_ERROR(db_->Transact(TxKind::kRead, [&](SqlTx& tx) -> Status {
      ASSIGN_OR_RETURN(stored, ReadIdem(tx, tenant, key));
      return Status::Ok();
    }));
    return stored;
  }

  Result<int64_t> AddWebhookDelivery(const WebhookDelivery& d) override {
    int64_t id = 0;
    RETURN_IF_ERROR(db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      ASSIGN_OR_RETURN(id, InsertDelivery(tx, d));
      return Status::Ok();
    }));
    return id;
  }

  Status UpdateWebhookDelivery(const WebhookDelivery& d) override {
    return db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      ASSIGN_OR_RETURN(int64_t n,
                       tx.Exec("UPDATE webhook_deliveries SET attempt = ?, status_code = ?, "
                               "error = ?, next_attempt_at = ?, delivered_at = ? WHERE id = ?",
                               {int64_t{d.attempt}, OrNull(d.status_code), d.error,
                                OrNull(d.next_attempt), OrNull(d.delivered), d.id}));
      return n == 0 ? NotFound(NoSuch("webhook delivery", d.id)) : Status::Ok();
    });
  }

  Result<std::vector<WebhookDelivery>> DueWebhookDeliveries(int limit) override {
    return ReadHooks(std::string("SELECT ") + kHookColumns +
                         " FROM webhook_deliveries WHERE delivered_at IS NULL AND "
                         "next_attempt_at IS NOT NULL AND next_attempt_at <= ? "
                         "ORDER BY next_attempt_at, id LIMIT ?",
                     {Now(), int64_t{std::max(limit, 1)}});
  }

  Result<std::vector<WebhookDelivery>> ListWebhookDeliveries(int64_t job_id) override {
    return ReadHooks(std::string("SELECT ") + kHookColumns +
                         " FROM webhook_deliveries WHERE job_id = ? ORDER BY id",
                     {job_id});
  }

  Result<int64_t> AddUpload(const Upload& u) override {
    return InsertReturningId(
        "INSERT INTO uploads (tenant, path, sha256, bytes, created_at) VALUES (?, ?, ?, ?, ?) "
        "RETURNING id",
        {u.tenant, u.path, u.sha256, u.bytes, Now()});
  }

  Result<Upload> GetUpload(int64_t id) override {
    return ReadOne<Upload>(std::string("SELECT ") + kUploadColumns + " FROM uploads WHERE id = ?",
                           {id}, ParseUpload, NoSuch("upload", id));
  }

 private:
  TimeMs Now() const { return options_.clock->NowMs(); }

  // Reads the first row of `sql` through `parse`; NotFound(`missing`) when there is none.
  template <typename T, typename Parse>
  Result<T> ReadOne(const std::string& sql, const SqlParams& params, Parse parse,
                    const std::string& missing) {
    std::optional<T> out;
    RETURN_IF_ERROR(db_->Transact(TxKind::kRead, [&](SqlTx& tx) -> Status {
      ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
      if (rows.empty()) return NotFound(missing);
      ASSIGN_OR_RETURN(out, Result<T>(parse(rows[0])));
      return Status::Ok();
    }));
    return std::move(*out);
  }

  // Closed windows and leases expired with no attempt left (see Claim), with their webhooks;
  // returns how many jobs it finished.
  Result<int64_t> Expire(SqlTx& tx, TimeMs now) {
    ASSIGN_OR_RETURN(
        auto expired,
        tx.Query(std::string("UPDATE jobs SET state = 'failed', error_code = 'DeadlineExceeded', "
                             "error_reason = ?, error_message = ?, error_retryable = 0, "
                             "finished_at = ?, updated_at = ?, ") +
                     kDropLease +
                     " WHERE not_after IS NOT NULL AND not_after <= ? AND (state = 'queued' OR "
                     "(state = 'running' AND lease_expires_at <= ?)) RETURNING id",
                 {std::string(kWindowClosed),
                  "the job's window closed (not_after) before it could run; submit it again "
                  "with a later window",
                  now, now, now, now}));
    ASSIGN_OR_RETURN(
        auto dead,
        tx.Query(std::string("UPDATE jobs SET state = 'dead', error_code = 'Internal', "
                             "error_message = ?, error_retryable = 0, finished_at = ?, "
                             "updated_at = ?, ") +
                     kDropLease +
                     " WHERE state = 'running' AND lease_expires_at <= ? AND "
                     "attempt - releases >= max_attempts RETURNING id",
                 {"every attempt's worker stopped renewing its lease (crashed, killed or hung "
                  "on this job); check the worker logs, then submit the job again",
                  now, now, now}));
    std::vector<int64_t> finished;
    for (const auto* rows : {&expired, &dead}) {
      for (const SqlRow& r : *rows) finished.push_back(r.Int(0));
    }
    RETURN_IF_ERROR(AddFinishedEvents(tx, finished));
    return static_cast<int64_t>(finished.size());
  }

  // Inserts `d` unless its event_key is taken; returns the id of the row with that key.
  Result<int64_t> InsertDelivery(SqlTx& tx, const WebhookDelivery& d) {
    SqlValue key = d.event_key.empty() ? SqlValue() : SqlValue(d.event_key);
    ASSIGN_OR_RETURN(
        auto rows,
        tx.Query(
            "INSERT INTO webhook_deliveries (job_id, batch_id, url, event, event_key, "
            "attempt, status_code, error, next_attempt_at, delivered_at, created_at) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_key) DO NOTHING RETURNING id",
            {OrNull(d.job_id), OrNull(d.batch_id), d.url, d.event, key, int64_t{d.attempt},
             OrNull(d.status_code), d.error, OrNull(d.next_attempt), OrNull(d.delivered), Now()}));
    if (rows.empty()) {
      ASSIGN_OR_RETURN(rows,
                       tx.Query("SELECT id FROM webhook_deliveries WHERE event_key = ?", {key}));
      if (rows.empty()) return Internal("a webhook delivery insert was skipped but none exists");
    }
    return rows[0].Int(0);
  }

  // The outbox (store.h): the deliveries that jobs `job_ids`, moved to a terminal state by this
  // transaction, call for. Batches are locked in id order (PostgreSQL: FOR UPDATE) before their
  // open jobs are counted, so of two transactions finishing a batch's last two jobs, the second
  // waits for the first and sees its job finished; the unique event key makes a repeat harmless.
  Status AddFinishedEvents(SqlTx& tx, const std::vector<int64_t>& job_ids) {
    const TimeMs now = Now();
    std::set<int64_t> batches;
    for (int64_t id : job_ids) {
      ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT state, webhook_url, batch_id FROM jobs WHERE "
                                           "id = ?",
                                           {id}));
      if (rows.empty()) return NotFound(NoSuch("job", id));
      if (!rows[0].IsNull(2)) batches.insert(rows[0].Int(2));
      if (rows[0].Text(1).empty()) continue;
      WebhookDelivery d;
      d.job_id = id;
      d.url = rows[0].Text(1);
      d.event = "job." + rows[0].Text(0);
      d.event_key = "job:" + std::to_string(id);
      d.next_attempt = now;
      RETURN_IF_ERROR(InsertDelivery(tx, d).status());
    }
    for (int64_t batch_id : batches) {
      ASSIGN_OR_RETURN(auto batch, tx.Query("SELECT webhook_url FROM batches WHERE id = ?" +
                                                std::string(db_->RowLockClause()),
                                            {batch_id}));
      if (batch.empty() || batch[0].Text(0).empty()) continue;
      ASSIGN_OR_RETURN(auto open, tx.Query("SELECT COUNT(*) FROM jobs WHERE batch_id = ? AND "
                                           "state IN ('queued', 'running')",
                                           {batch_id}));
      if (open.at(0).Int(0) > 0) continue;
      WebhookDelivery d;
      d.batch_id = batch_id;
      d.url = batch[0].Text(0);
      d.event = "batch.completed";
      d.event_key = "batch.completed:" + std::to_string(batch_id);
      d.next_attempt = now;
      RETURN_IF_ERROR(InsertDelivery(tx, d).status());
    }
    return Status::Ok();
  }

  // Runs an INSERT ... RETURNING id in its own transaction.
  Result<int64_t> InsertReturningId(const std::string& sql, const SqlParams& params) {
    int64_t id = 0;
    RETURN_IF_ERROR(db_->Transact(TxKind::kWrite, [&](SqlTx& tx) -> Status {
      ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
      id = rows.at(0).Int(0);
      return Status::Ok();
    }));
    return id;
  }

  static std::string NoSuch(std::string_view what, int64_t id) {
    return "there is no " + std::string(what) + " with id " + std::to_string(id) + "; check the id";
  }

  static Status CheckWindow(std::optional<TimeMs> not_before, std::optional<TimeMs> not_after,
                            const std::string& what) {
    if (not_before && not_after && *not_after <= *not_before) {
      return InvalidArgument(what + ": not_after must be later than not_before");
    }
    return Status::Ok();
  }

  // Inserts `jobs` (taking tenant and window from `batch` when given) and appends their ids.
  Status InsertJobs(SqlTx& tx, const std::vector<NewJob>& jobs, const NewBatch* batch,
                    std::vector<int64_t>* ids, std::optional<int64_t> batch_id = std::nullopt) {
    const TimeMs now = Now();
    for (size_t i = 0; i < jobs.size(); ++i) {
      NewJob job = jobs[i];
      if (batch) {
        job.batch_id = batch_id;
        job.tenant = batch->tenant;
        job.not_before = batch->not_before;
        job.not_after = batch->not_after;
      }
      const std::string what = "job " + std::to_string(i) + " (sku '" + job.sku + "')";
      if (job.max_attempts < 1) return InvalidArgument(what + ": max_attempts must be >= 1");
      RETURN_IF_ERROR(CheckWindow(job.not_before, job.not_after, what));
      if (job.batch_id && !batch) {
        ASSIGN_OR_RETURN(auto found,
                         tx.Query("SELECT id FROM batches WHERE id = ?", {*job.batch_id}));
        if (found.empty()) return NotFound(what + ": " + NoSuch("batch", *job.batch_id));
      }
      SqlValue dedupe = job.dedupe_key.empty() ? SqlValue() : SqlValue(job.dedupe_key);
      ASSIGN_OR_RETURN(
          auto rows,
          tx.Query("INSERT INTO jobs (batch_id, tenant, sku, payload, priority, state, attempt, "
                   "releases, max_attempts, next_run_at, not_before, not_after, dedupe_key, "
                   "progress, progress_note, created_at, updated_at, webhook_url) VALUES (?, ?, "
                   "?, ?, ?, 'queued', 0, 0, ?, ?, ?, ?, ?, 0, '', ?, ?, ?) "
                   "ON CONFLICT (tenant, dedupe_key) DO NOTHING RETURNING id",
                   {OrNull(job.batch_id), job.tenant, job.sku, Dump(job.payload),
                    int64_t{job.priority}, int64_t{job.max_attempts}, now, OrNull(job.not_before),
                    OrNull(job.not_after), dedupe, now, now, job.webhook_url}));
      if (rows.empty()) {
        ASSIGN_OR_RETURN(rows, tx.Query("SELECT id FROM jobs WHERE tenant = ? AND dedupe_key = ?",
                                        {job.tenant, job.dedupe_key}));
        if (rows.empty()) return Internal(what + ": insert skipped but no duplicate found");
      }
      ids->push_back(rows[0].Int(0));
    }
    return Status::Ok();
  }

  Result<Job> ReadJob(SqlTx& tx, int64_t job_id) {
    ASSIGN_OR_RETURN(
        auto rows,
        tx.Query(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?", {job_id}));
    if (rows.empty()) return NotFound(NoSuch("job", job_id));
    return ParseJob(rows[0]);
  }

  // Runs a fenced UPDATE; when it changes nothing, explains why.
  Status Fenced(SqlTx& tx, const std::string& sql, const SqlParams& params, int64_t job_id,
                int attempt) {
    ASSIGN_OR_RETURN(int64_t n, tx.Exec(sql, params));
    return n > 0 ? Status::Ok() : FenceError(tx, job_id, attempt);
  }

  // NotFound for an unknown job; Cancelled (stop, discard the work) with the reason otherwise.
  Status FenceError(SqlTx& tx, int64_t job_id, int attempt) {
    ASSIGN_OR_RETURN(Job job, ReadJob(tx, job_id));
    const std::string who = "job " + std::to_string(job_id) + " attempt " + std::to_string(attempt);
    if (job.state == JobState::kCancelled) return Cancelled(who + ": the job was cancelled");
    if (job.attempt != attempt) {
      return Cancelled(who + ": lost its lease; attempt " + std::to_string(job.attempt) +
                       " claimed the job, so stop and discard this attempt's work");
    }
    if (job.state == JobState::kRunning) {
      return Cancelled(who + ": the lease belongs to worker '" + job.lease_owner + "'");
    }
    return Cancelled(who + ": no longer holds the job, which is " + State(job.state));
  }

  Result<std::optional<IdempotencyRecord>> ReadIdem(SqlTx& tx, const std::string& tenant,
                                                    const std::string& key) {
    ASSIGN_OR_RETURN(auto rows, tx.Query(std::string("SELECT ") + kIdemColumns +
                                             " FROM idempotency WHERE tenant = ? AND idem_key = ?",
                                         {tenant, key}));
    if (rows.empty()) return std::optional<IdempotencyRecord>();
    return std::optional<IdempotencyRecord>(ParseIdem(rows[0]));
  }

  Result<std::vector<WebhookDelivery>> ReadHooks(const std::string& sql, const SqlParams& params) {
    std::vector<WebhookDelivery> out;
    RETURN_IF_ERROR(db_->Transact(TxKind::kRead, [&](SqlTx& tx) -> Status {
      out.clear();
      ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
      for (const SqlRow& r : rows) out.push_back(ParseHook(r));
      return Status::Ok();
    }));
    return out;
  }

  std::unique_ptr<SqlDb> db_;
  StoreOptions options_;
};

}  // namespace

Result<std::unique_ptr<JobStore>> OpenSqlStore(std::unique_ptr<SqlDb> db, StoreOptions options) {
  auto store = std::make_unique<SqlStore>(std::move(db), std::move(options));
  RETURN_IF_ERROR(store->Migrate());
  return std::unique_ptr<JobStore>(std::move(store));
}

}  // namespace vitrine::store
