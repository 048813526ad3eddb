// One suite, run against both backends: SQLite in a temporary folder and a real PostgreSQL 15
// server started for this binary (tests/pg_server.h). If PostgreSQL cannot start, its cases fail
// with the reason.
#include "store/store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <latch>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <thread>

#include "store/lease_keeper.h"
#include "tests/pg_server.h"

namespace vitrine::store {
namespace {

using std::chrono::milliseconds;

class FakeClock : public Clock {
 public:
  TimeMs NowMs() const override { return now_.load(); }
  void Advance(TimeMs ms) { now_ += ms; }

 private:
  std::atomic<TimeMs> now_{1'700'000'000'000};
};

std::string TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "vitrine-store-XXXXXX").string();
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

NewJob MakeJob(std::string sku, int priority = 0, int max_attempts = 3) {
  NewJob job;
  job.tenant = "acme";
  job.sku = std::move(sku);
  job.payload = {{"inputs", {"a.jpg"}}, {"recipe", "localize"}};
  job.priority = priority;
  job.max_attempts = max_attempts;
  return job;
}

std::vector<NewJob> ManyJobs(int n) {
  std::vector<NewJob> jobs;
  for (int i = 0; i < n; ++i) jobs.push_back(MakeJob("sku-" + std::to_string(i)));
  return jobs;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      dir_ = TempDir();
      url_ = "sqlite://" + dir_ + "/jobs.db";
    } else {
      Result<testing::PgServer*> server = testing::PgServer::Shared();
      ASSERT_TRUE(server.ok()) << "PostgreSQL did not start: " << server.status().ToString();
      static bool reported = false;
      if (!reported) {
        std::printf("[ figures  ] PostgreSQL 15 initdb + start: %.2f s\n",
                    (*server)->start_seconds());
        reported = true;
      }
      Result<std::string> url = (*server)->FreshUrl();
      ASSERT_TRUE(url.ok()) << url.status().ToString();
      url_ = *url;
    }
    store_ = Open(FakeOptions());
    ASSERT_NE(store_, nullptr);
  }

  // The URL of another, empty store of the same backend.
  std::string OtherUrl() {
    if (GetParam() == "sqlite") return "sqlite://" + dir_ + "/other.db";
    Result<std::string> url = (*testing::PgServer::Shared())->FreshUrl();
    EXPECT_TRUE(url.ok()) << url.status().ToString();
    return url.ok() ? *url : "";
  }

  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  StoreOptions FakeOptions() {
    StoreOptions options;
    options.clock = &clock_;
    options.random = [] { return 0.5; };
    options.backoff_base = milliseconds(1000);
    options.backoff_cap = milliseconds(8000);
    return options;
  }

  std::unique_ptr<JobStore> Open(StoreOptions options = {}) {
    Result<std::unique_ptr<JobStore>> store = OpenStore(url_, std::move(options));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  int64_t EnqueueOne(NewJob job) {
    Result<std::vector<int64_t>> ids = store_->Enqueue({std::move(job)});
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? ids->at(0) : 0;
  }

  // Claims and expects a job; returns it.
  Job MustClaim(const std::string& worker, milliseconds lease = milliseconds(1000)) {
    Result<std::optional<Job>> job = store_->Claim(worker, lease);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    EXPECT_TRUE(job.ok() && job->has_value()) << "expected a runnable job";
    return job.ok() && job->has_value() ? **job : Job{};
  }

  bool NothingToClaim() {
    Result<std::optional<Job>> job = store_->Claim("probe", milliseconds(1000));
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    if (job.ok() && job->has_value()) {
      // Give it back so the probe does not change the test's story.
      EXPECT_TRUE(store_->Release((*job)->id, (*job)->attempt).ok());
      return false;
    }
    return true;
  }

  JobState StateOf(int64_t id) {
    Result<Job> job = store_->GetJob(id);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.ok() ? job->state : JobState::kDead;
  }

  FakeClock clock_;
  std::string dir_;
  std::string url_;
  std::unique_ptr<JobStore> store_;
};

TEST_P(StoreTest, ClaimsHighestPriorityFirstThenOldest) {
  int64_t old_low = EnqueueOne(MakeJob("old-low", 0));
  clock_.Advance(10);
  int64_t high = EnqueueOne(MakeJob("high", 5));
  clock_.Advance(10);
  int64_t new_low = EnqueueOne(MakeJob("new-low", 0));
  EXPECT_EQ(MustClaim("w").id, high);
  EXPECT_EQ(MustClaim("w").id, old_low);
  Job last = MustClaim("w");
  EXPECT_EQ(last.id, new_low);
  EXPECT_EQ(last.state, JobState::kRunning);
  EXPECT_EQ(last.attempt, 1);
  EXPECT_EQ(last.lease_owner, "w");
  EXPECT_EQ(last.lease_expires, clock_.NowMs() + 1000);
  EXPECT_EQ(last.payload["recipe"], "localize");
  EXPECT_TRUE(NothingToClaim());
}

TEST_P(StoreTest, SchedulingWindowDelaysAndExpires) {
  NewJob later = MakeJob("later");
  later.not_before = clock_.NowMs() + 1000;
  int64_t later_id = EnqueueOne(later);
  NewJob brief = MakeJob("brief");
  brief.not_before = clock_.NowMs() + 1000;
  brief.not_after = clock_.NowMs() + 1500;
  int64_t brief_id = EnqueueOne(brief);

  EXPECT_TRUE(NothingToClaim());
  EXPECT_EQ(*store_->QueueDepth(), 0);
  clock_.Advance(1000);
  EXPECT_EQ(*store_->QueueDepth(), 2);
  EXPECT_EQ(MustClaim("w").id, later_id);
  clock_.Advance(600);  // brief's window closed before anyone took it
  EXPECT_TRUE(NothingToClaim());
  Job expired = *store_->GetJob(brief_id);
  EXPECT_EQ(expired.state, JobState::kFailed);
  ASSERT_TRUE(expired.last_error.has_value());
  EXPECT_EQ(expired.last_error->code, Code::kDeadlineExceeded);
  EXPECT_FALSE(expired.last_error->retryable);
  EXPECT_TRUE(expired.finished.has_value());

  NewJob bad = MakeJob("bad");
  bad.not_before = 10;
  bad.not_after = 5;
  EXPECT_EQ(store_->Enqueue({bad}).status().code(), Code::kInvalidArgument);
}

TEST_P(StoreTest, ExpiredLeaseIsReclaimedAndTheStaleAttemptIsFenced) {
  int64_t id = EnqueueOne(MakeJob("a"));
  Job first = MustClaim("w1", milliseconds(1000));
  clock_.Advance(999);
  EXPECT_TRUE(NothingToClaim()) << "the lease still holds";
  clock_.Advance(1);
  Job second = MustClaim("w2", milliseconds(1000));
  EXPECT_EQ(second.id, id);
  EXPECT_EQ(second.attempt, first.attempt + 1);

  Status stale = store_->Complete(id, first.attempt, {{"by", "w1"}});
  EXPECT_EQ(stale.code(), Code::kCancelled) << stale.ToString();
  EXPECT_EQ(store_->Heartbeat(id, first.attempt, "w1", milliseconds(1000)).code(),
            Code::kCancelled);
  EXPECT_EQ(store_->Progress(id, first.attempt, 0.5, "late").code(), Code::kCancelled);
  EXPECT_EQ(store_->Fail(id, first.attempt, Unavailable("x")).status().code(), Code::kCancelled);
  EXPECT_EQ(store_->Release(id, first.attempt).code(), Code::kCancelled);
  // A heartbeat must come from the lease owner too.
  EXPECT_EQ(store_->Heartbeat(id, second.attempt, "w1", milliseconds(1000)).code(),
            Code::kCancelled);

  ASSERT_TRUE(store_->Complete(id, second.attempt, {{"by", "w2"}}).ok());
  Job done = *store_->GetJob(id);
  EXPECT_EQ(done.state, JobState::kSucceeded);
  EXPECT_EQ(done.result["by"], "w2");
  EXPECT_TRUE(done.lease_owner.empty());
  EXPECT_EQ(done.progress, 1.0);
  // Completing twice is refused as well: the job is no longer running.
  EXPECT_EQ(store_->Complete(id, second.attempt, {{"by", "again"}}).code(), Code::kCancelled);
  EXPECT_EQ(store_->GetJob(id)->result["by"], "w2");
  EXPECT_EQ(store_->Complete(999999, 1, {}).code(), Code::kNotFound);
}

TEST_P(StoreTest, InvalidUtf8InJsonIsStoredNotThrown) {
  NewJob job = MakeJob("bad-bytes");
  job.payload["title"] = std::string("caf\xe9");  // Latin-1, as a CSV from a supplier may be
  int64_t id = EnqueueOne(job);
  Job read = *store_->GetJob(id);
  EXPECT_EQ(read.payload["title"], "caf\xef\xbf\xbd") << "replaced by U+FFFD";
}

TEST_P(StoreTest, HeartbeatKeepsTheLeaseAndProgressIsRecorded) {
  int64_t id = EnqueueOne(MakeJob("a"));
  Job job = MustClaim("w", milliseconds(1000));
  clock_.Advance(800);
  ASSERT_TRUE(store_->Heartbeat(id, job.attempt, "w", milliseconds(1000)).ok());
  ASSERT_TRUE(store_->Progress(id, job.attempt, 0.25, "cutout").ok());
  clock_.Advance(800);  // past the first lease, within the extended one
  EXPECT_TRUE(NothingToClaim());
  Job read = *store_->GetJob(id);
  EXPECT_EQ(read.lease_expires, clock_.NowMs() + 200);
  EXPECT_DOUBLE_EQ(read.progress, 0.25);
  EXPECT_EQ(read.progress_note, "cutout");
  ASSERT_TRUE(store_->Progress(id, job.attempt, 7.0, "clamped").ok());
  EXPECT_DOUBLE_EQ(store_->GetJob(id)->progress, 1.0);
}

TEST_P(StoreTest, LeaseKeeperExtendsTheLeaseAndNoticesCancellation) {
  int64_t id = EnqueueOne(MakeJob("a"));
  // A lease of an hour of real time: the keeper's own thread does not beat during the test,
  // BeatOnce stands in for it while the fake clock moves.
  Job job = MustClaim("w", std::chrono::hours(1));
  LeaseKeeper keeper(*store_, job, "w", std::chrono::hours(1));
  clock_.Advance(3'000'000);
  EXPECT_TRUE(keeper.BeatOnce()) << keeper.status().ToString();
  clock_.Advance(3'000'000);  // past the first lease, within the renewed one
  EXPECT_TRUE(NothingToClaim());
  EXPECT_FALSE(keeper.lost());
  ASSERT_TRUE(store_->Cancel(id).ok());
  EXPECT_FALSE(keeper.BeatOnce());
  EXPECT_TRUE(keeper.lost());
  EXPECT_EQ(keeper.status().code(), Code::kCancelled);
}

TEST_P(StoreTest, LeaseKeeperThreadStopsWhenTheJobIsCancelled) {
  std::unique_ptr<JobStore> real = Open();  // real clock: the keeper's thread runs on it
  ASSERT_NE(real, nullptr);
  int64_t id = real->Enqueue({MakeJob("a")})->at(0);
  Job job = **real->Claim("w", milliseconds(300));
  LeaseKeeper keeper(*real, job, "w", milliseconds(300));
  ASSERT_TRUE(real->Cancel(id).ok());
  // Not a timing assertion: the bound is only there so a broken keeper fails instead of hanging.
  for (int i = 0; i < 1000 && !keeper.lost(); ++i) usleep(10'000);
  EXPECT_TRUE(keeper.lost());
  EXPECT_EQ(keeper.status().code(), Code::kCancelled);
}

TEST_P(StoreTest, TransientFailuresBackOffExponentiallyThenDie) {
  int64_t id = EnqueueOne(MakeJob("flaky", 0, /*max_attempts=*/4));
  // random() is 0.5 and base 1 s, so retry n waits 0.5 * 2^(n-1) s.
  for (TimeMs wait : {500, 1000, 2000}) {
    Job job = MustClaim("w");
    Result<JobState> next = store_->Fail(id, job.attempt, Unavailable("model server restarting"));
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(*next, JobState::kQueued);
    Job queued = *store_->GetJob(id);
    EXPECT_EQ(queued.next_run, clock_.NowMs() + wait);
    ASSERT_TRUE(queued.last_error.has_value());
    EXPECT_EQ(queued.last_error->code, Code::kUnavailable);
    EXPECT_TRUE(queued.last_error->retryable);
    EXPECT_EQ(queued.last_error->message, "model server restarting");
    clock_.Advance(wait - 1);
    EXPECT_TRUE(NothingToClaim()) << "claimed before its backoff of " << wait << " ms";
    clock_.Advance(1);
  }
  Job last = MustClaim("w");
  EXPECT_EQ(last.attempt, 4);
  EXPECT_EQ(*store_->Fail(id, last.attempt, Internal("crash in stage")), JobState::kDead);
  EXPECT_EQ(StateOf(id), JobState::kDead);
  clock_.Advance(60'000);
  EXPECT_TRUE(NothingToClaim());

  StoreOptions options = FakeOptions();
  EXPECT_EQ(BackoffCeiling(options, 1), milliseconds(1000));
  EXPECT_EQ(BackoffCeiling(options, 3), milliseconds(4000));
  EXPECT_EQ(BackoffCeiling(options, 30), milliseconds(8000)) << "the cap bounds the delay";
}

TEST_P(StoreTest, PermanentErrorsFailWithoutRetry) {
  for (Status error : {InvalidArgument("bad recipe"), NotFound("no image"),
                       Unsupported("HEIC is not supported")}) {
    int64_t id = EnqueueOne(MakeJob("bad"));
    Job job = MustClaim("w");
    EXPECT_EQ(*store_->Fail(id, job.attempt, error), JobState::kFailed);
    Job failed = *store_->GetJob(id);
    EXPECT_EQ(failed.state, JobState::kFailed);
    EXPECT_EQ(failed.last_error->code, error.code());
    EXPECT_FALSE(failed.last_error->retryable);
    EXPECT_EQ(failed.attempt, 1);
    EXPECT_TRUE(NothingToClaim());
  }
  EXPECT_FALSE(IsRetryable(Code::kInvalidArgument));
  EXPECT_TRUE(IsRetryable(Code::kResourceExhausted));
}

TEST_P(StoreTest, CancelQueuedAndRunningJobs) {
  int64_t queued = EnqueueOne(MakeJob("q"));
  int64_t running = EnqueueOne(MakeJob("r", 1));
  Job job = MustClaim("w");
  ASSERT_EQ(job.id, running);

  EXPECT_EQ(store_->Cancel(queued)->state, JobState::kCancelled);
  Result<Job> cancelled = store_->Cancel(running);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state, JobState::kCancelled);
  EXPECT_TRUE(cancelled->lease_owner.empty());
  Status beat = store_->Heartbeat(running, job.attempt, "w", milliseconds(1000));
  EXPECT_EQ(beat.code(), Code::kCancelled) << "the worker must learn it should stop";
  EXPECT_EQ(store_->Complete(running, job.attempt, {}).code(), Code::kCancelled);
  EXPECT_EQ(StateOf(running), JobState::kCancelled);
  clock_.Advance(10'000);
  EXPECT_TRUE(NothingToClaim());

  int64_t done = EnqueueOne(MakeJob("d"));
  Job d = MustClaim("w");
  ASSERT_TRUE(store_->Complete(done, d.attempt, {{"ok", true}}).ok());
  EXPECT_EQ(store_->Cancel(done)->state, JobState::kSucceeded) << "finished jobs stay finished";
  EXPECT_EQ(store_->Cancel(424242).status().code(), Code::kNotFound);
}

TEST_P(StoreTest, ReleaseRequeuesWithoutUsingAnAttempt) {
  int64_t id = EnqueueOne(MakeJob("once", 0, /*max_attempts=*/1));
  Job first = MustClaim("w1");
  ASSERT_TRUE(store_->Release(id, first.attempt).ok());
  EXPECT_EQ(StateOf(id), JobState::kQueued);
  Job second = MustClaim("w2");
  EXPECT_EQ(second.attempt, 2) << "the fencing token still moves on";
  EXPECT_EQ(second.releases, 1);
  EXPECT_EQ(store_->Complete(id, first.attempt, {}).code(), Code::kCancelled);
  // Its one real attempt is not used up by the release: a transient error now means dead,
  // but only because max_attempts is 1.
  EXPECT_EQ(*store_->Fail(id, second.attempt, Unavailable("x")), JobState::kDead);
}

TEST_P(StoreTest, JobsWhoseWorkersKeepDyingEndDead) {
  int64_t id = EnqueueOne(MakeJob("poison", 0, /*max_attempts=*/2));
  MustClaim("w1", milliseconds(100));
  clock_.Advance(100);
  EXPECT_EQ(MustClaim("w2", milliseconds(100)).attempt, 2);
  clock_.Advance(100);
  EXPECT_TRUE(NothingToClaim());
  Job dead = *store_->GetJob(id);
  EXPECT_EQ(dead.state, JobState::kDead);
  ASSERT_TRUE(dead.last_error.has_value());
  EXPECT_NE(dead.last_error->message.find("lease"), std::string::npos);
}

TEST_P(StoreTest, DedupeKeyMakesEnqueueIdempotent) {
  NewJob job = MakeJob("sku-1");
  job.dedupe_key = "run-7/sku-1";
  std::vector<int64_t> first = *store_->Enqueue({job, MakeJob("other")});
  std::vector<int64_t> again = *store_->Enqueue({job});
  EXPECT_EQ(again[0], first[0]);
  EXPECT_EQ(store_->CountByState()->at(JobState::kQueued), 2);
  NewJob other_tenant = job;
  other_tenant.tenant = "globex";
  EXPECT_NE(store_->Enqueue({other_tenant})->at(0), first[0]);
}

TEST_P(StoreTest, EnqueueIsAllOrNothing) {
  std::vector<NewJob> jobs = ManyJobs(3);
  jobs[2].max_attempts = 0;
  Status st = store_->Enqueue(jobs).status();
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("sku-2"), std::string::npos) << st.message();
  EXPECT_EQ(store_->CountByState()->at(JobState::kQueued), 0);

  NewJob orphan = MakeJob("orphan");
  orphan.batch_id = 4242;
  EXPECT_EQ(store_->Enqueue({orphan}).status().code(), Code::kNotFound);
}

TEST_P(StoreTest, BatchesCountsAndPaging) {
  NewBatch batch;
  batch.tenant = "acme";
  batch.name = "nightly";
  batch.recipe = {{"name", "localize"}};
  batch.not_before = clock_.NowMs();
  batch.not_after = clock_.NowMs() + 3'600'000;
  batch.webhook_url = "https://example.com/hook";
  std::vector<NewJob> jobs = ManyJobs(5);
  for (NewJob& j : jobs) j.tenant = "ignored";
  Result<int64_t> batch_id = store_->CreateBatch(batch, jobs);
  ASSERT_TRUE(batch_id.ok()) << batch_id.status().ToString();
  EnqueueOne(MakeJob("loose"));

  Job a = MustClaim("w");
  ASSERT_TRUE(store_->Complete(a.id, a.attempt, {}).ok());
  Job b = MustClaim("w");
  ASSERT_TRUE(store_->Complete(b.id, b.attempt, {}).ok());
  Job c = MustClaim("w");
  ASSERT_TRUE(store_->Fail(c.id, c.attempt, InvalidArgument("bad")).ok());
  MustClaim("w");

  Batch read = *store_->GetBatch(*batch_id);
  EXPECT_EQ(read.name, "nightly");
  EXPECT_EQ(read.recipe["name"], "localize");
  EXPECT_EQ(read.webhook_url, "https://example.com/hook");
  EXPECT_EQ(read.not_after, batch.not_after);
  EXPECT_EQ(read.total, 5);
  EXPECT_EQ(read.counts[JobState::kSucceeded], 2);
  EXPECT_EQ(read.counts[JobState::kFailed], 1);
  EXPECT_EQ(read.counts[JobState::kRunning], 1);
  EXPECT_EQ(read.counts[JobState::kQueued], 1);
  EXPECT_EQ(read.counts[JobState::kDead], 0);
  EXPECT_EQ(store_->GetBatch(777).status().code(), Code::kNotFound);

  std::vector<int64_t> seen;
  JobFilter filter;
  filter.batch_id = *batch_id;
  filter.limit = 2;
  for (int page = 0; page < 10; ++page) {
    JobPage p = *store_->ListJobs(filter);
    for (const Job& j : p.jobs) {
      seen.push_back(j.id);
      EXPECT_EQ(j.tenant, "acme") << "jobs take the batch's tenant";
      EXPECT_EQ(j.not_after, batch.not_after) << "and its window";
    }
    if (!p.next_cursor) break;
    filter.after_id = *p.next_cursor;
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  JobFilter succeeded;
  succeeded.state = JobState::kSucceeded;
  EXPECT_EQ(store_->ListJobs(succeeded)->jobs.size(), 2u);
  JobFilter other;
  other.tenant = "globex";
  EXPECT_TRUE(store_->ListJobs(other)->jobs.empty());
  JobFilter bad;
  bad.limit = 0;
  EXPECT_EQ(store_->ListJobs(bad).status().code(), Code::kInvalidArgument);

  std::map<JobState, int64_t> counts = *store_->CountByState();
  EXPECT_EQ(counts[JobState::kQueued], 2);
  EXPECT_EQ(counts[JobState::kSucceeded], 2);
  EXPECT_EQ(store_->CountByState("globex")->at(JobState::kQueued), 0);
  EXPECT_EQ(*store_->QueueDepth(), 2);
}

TEST_P(StoreTest, ApiKeysAreFoundByHashAndRevoked) {
  const std::string hash(64, 'a');
  Result<ApiKey> key = store_->CreateApiKey("ci", "acme", hash);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  Result<ApiKey> found = store_->FindApiKey(hash);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->tenant, "acme");
  EXPECT_EQ(found->name, "ci");
  EXPECT_FALSE(found->revoked.has_value());
  EXPECT_EQ(store_->FindApiKey(std::string(64, 'b')).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->CreateApiKey("dup", "acme", hash).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->CreateApiKey("short", "acme", "abc").status().code(), Code::kInvalidArgument);

  ASSERT_TRUE(store_->RevokeApiKey(key->id).ok());
  TimeMs revoked_at = *store_->FindApiKey(hash)->revoked;
  clock_.Advance(5);
  ASSERT_TRUE(store_->RevokeApiKey(key->id).ok());
  EXPECT_EQ(*store_->FindApiKey(hash)->revoked, revoked_at);
  EXPECT_EQ(store_->RevokeApiKey(99).code(), Code::kNotFound);
  EXPECT_EQ(store_->ListApiKeys()->size(), 1u);
}

TEST_P(StoreTest, IdempotencyKeepsTheFirstResponse) {
  EXPECT_FALSE(store_->GetIdempotency("acme", "k1")->has_value());
  IdempotencyRecord first{"acme", "k1", "hash-a", 202, R"({"id":1})", 0};
  IdempotencyRecord second{"acme", "k1", "hash-b", 202, R"({"id":2})", 0};
  EXPECT_EQ(store_->PutIdempotency(first)->body, R"({"id":1})");
  Result<IdempotencyRecord> kept = store_->PutIdempotency(second);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->request_sha256, "hash-a") << "the API compares this to answer 422";
  EXPECT_EQ(kept->body, R"({"id":1})");
  EXPECT_EQ(kept->created, clock_.NowMs());
  EXPECT_FALSE(store_->GetIdempotency("globex", "k1")->has_value()) << "keys are per tenant";
}

TEST_P(StoreTest, WebhookDeliveriesAndUploads) {
  WebhookDelivery d;
  d.job_id = 5;
  d.url = "https://example.com/hook";
  d.event = "job.succeeded";
  d.next_attempt = clock_.NowMs() + 1000;
  int64_t id = *store_->AddWebhookDelivery(d);
  EXPECT_TRUE(store_->DueWebhookDeliveries(10)->empty());
  clock_.Advance(1000);
  std::vector<WebhookDelivery> due = *store_->DueWebhookDeliveries(10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].id, id);
  due[0].attempt = 1;
  due[0].status_code = 200;
  due[0].delivered = clock_.NowMs();
  due[0].next_attempt.reset();
  ASSERT_TRUE(store_->UpdateWebhookDelivery(due[0]).ok());
  EXPECT_TRUE(store_->DueWebhookDeliveries(10)->empty());
  std::vector<WebhookDelivery> listed = *store_->ListWebhookDeliveries(5);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].status_code, 200);
  EXPECT_EQ(listed[0].event, "job.succeeded");
  due[0].id = 4242;
  EXPECT_EQ(store_->UpdateWebhookDelivery(due[0]).code(), Code::kNotFound);

  Upload u{0, "acme", "/data/uploads/ab/abcd.jpg", std::string(64, 'c'), 12345, 0};
  int64_t upload_id = *store_->AddUpload(u);
  Upload read = *store_->GetUpload(upload_id);
  EXPECT_EQ(read.path, u.path);
  EXPECT_EQ(read.bytes, 12345);
  EXPECT_EQ(read.tenant, "acme");
  EXPECT_EQ(store_->GetUpload(upload_id + 1).status().code(), Code::kNotFound);
}

// Runs `sql` on the test's database directly, behind the store's back.
void ExecRaw(const std::string& backend, const std::string& url, const std::string& sql) {
  if (backend == "sqlite") {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(url.substr(std::string("sqlite://").size()).c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  } else {
    pqxx::connection conn(url);
    pqxx::nontransaction tx(conn);
    tx.exec(sql);
  }
}

std::vector<WebhookDelivery> DeliveriesOf(JobStore& store, std::optional<int64_t> job_id,
                                          std::optional<int64_t> batch_id) {
  std::vector<WebhookDelivery> out;
  Result<std::vector<WebhookDelivery>> due = store.DueWebhookDeliveries(1000);
  EXPECT_TRUE(due.ok()) << due.status().ToString();
  if (!due.ok()) return out;
  for (const WebhookDelivery& d : *due) {
    if ((job_id && d.job_id == job_id) || (batch_id && d.batch_id == batch_id)) out.push_back(d);
  }
  return out;
}

TEST_P(StoreTest, TerminalTransitionsQueueExactlyOneWebhookAtomically) {
  NewJob hooked = MakeJob("hooked");
  hooked.webhook_url = "https://erp.example/hooks";
  int64_t done = EnqueueOne(hooked);
  int64_t quiet = EnqueueOne(MakeJob("quiet"));  // no webhook_url
  int64_t failing = EnqueueOne(hooked);
  int64_t cancelled = EnqueueOne(hooked);
  EXPECT_TRUE(DeliveriesOf(*store_, done, std::nullopt).empty());

  // While deliveries cannot be written, the transition cannot happen either: all or nothing.
  if (GetParam() == "sqlite") {
    ExecRaw(GetParam(), url_,
            "CREATE TRIGGER outbox_down BEFORE INSERT ON webhook_deliveries "
            "BEGIN SELECT RAISE(ABORT, 'outbox down'); END");
  } else {
    ExecRaw(GetParam(), url_,
            "CREATE FUNCTION outbox_down() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'outbox down'; END $$; "
            "CREATE TRIGGER outbox_down BEFORE INSERT ON webhook_deliveries "
            "FOR EACH ROW EXECUTE FUNCTION outbox_down()");
  }
  Job first = MustClaim("w");
  ASSERT_EQ(first.id, done);
  EXPECT_FALSE(store_->Complete(done, first.attempt, {{"ok", true}}).ok());
  EXPECT_EQ(StateOf(done), JobState::kRunning) << "Complete must roll back with its delivery";
  EXPECT_FALSE(store_->Cancel(cancelled).ok());
  EXPECT_EQ(StateOf(cancelled), JobState::kQueued);
  ExecRaw(GetParam(), url_,
          "DROP TRIGGER outbox_down" +
              std::string(GetParam() == "sqlite" ? "" : " ON webhook_deliveries"));

  ASSERT_TRUE(store_->Complete(done, first.attempt, {{"ok", true}}).ok());
  EXPECT_EQ(store_->Complete(done, first.attempt, {{"ok", true}}).code(), Code::kCancelled);
  std::vector<WebhookDelivery> hooks = DeliveriesOf(*store_, done, std::nullopt);
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0].event, "job.succeeded");
  EXPECT_EQ(hooks[0].url, "https://erp.example/hooks");
  EXPECT_EQ(hooks[0].next_attempt, clock_.NowMs());  // due at once
  EXPECT_EQ(hooks[0].attempt, 0);

  Job second = MustClaim("w");
  ASSERT_EQ(second.id, quiet);
  ASSERT_TRUE(store_->Complete(quiet, second.attempt, {}).ok());
  EXPECT_TRUE(DeliveriesOf(*store_, quiet, std::nullopt).empty());

  Job third = MustClaim("w");
  ASSERT_EQ(third.id, failing);
  ASSERT_EQ(*store_->Fail(failing, third.attempt, InvalidArgument("bad recipe")),
            JobState::kFailed);
  hooks = DeliveriesOf(*store_, failing, std::nullopt);
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0].event, "job.failed");

  ASSERT_EQ(store_->Cancel(cancelled)->state, JobState::kCancelled);
  ASSERT_EQ(store_->Cancel(cancelled)->state, JobState::kCancelled);  // again: no second event
  hooks = DeliveriesOf(*store_, cancelled, std::nullopt);
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0].event, "job.cancelled");
}

// A store of schema version 1 kept a job's webhook target only in its payload: after the
// upgrade, an open job still gets its terminal event.
TEST_P(StoreTest, UpgradeFromVersionOneKeepsTheWebhooksOfOpenJobs) {
  NewJob job = MakeJob("old");
  job.payload["webhook_url"] = "https://erp.example/hooks";
  int64_t id = EnqueueOne(job);
  store_.reset();
  ExecRaw(GetParam(), url_, "DROP INDEX webhook_event_key");
  for (const char* sql :
       {"ALTER TABLE webhook_deliveries DROP COLUMN event_key",
        "ALTER TABLE jobs DROP COLUMN webhook_url", "ALTER TABLE jobs DROP COLUMN error_reason",
        "DELETE FROM schema_version WHERE version = 2"}) {
    ExecRaw(GetParam(), url_, sql);
  }
  store_ = Open(FakeOptions());  // migrates to version 2
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->GetJob(id)->webhook_url, "https://erp.example/hooks");
  Job claimed = MustClaim("w");
  ASSERT_TRUE(store_->Complete(id, claimed.attempt, {}).ok());
  std::vector<WebhookDelivery> hooks = DeliveriesOf(*store_, id, std::nullopt);
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0].event, "job.succeeded");
}

TEST_P(StoreTest, ATransientFailureQueuesNoWebhookUntilTheJobIsDead) {
  NewJob job = MakeJob("flaky", 0, /*max_attempts=*/2);
  job.webhook_url = "https://erp.example/hooks";
  int64_t id = EnqueueOne(job);
  Job a = MustClaim("w");
  ASSERT_EQ(*store_->Fail(id, a.attempt, Unavailable("store hiccup")), JobState::kQueued);
  EXPECT_TRUE(DeliveriesOf(*store_, id, std::nullopt).empty());
  clock_.Advance(10'000);
  Job b = MustClaim("w", milliseconds(1000));
  clock_.Advance(1000);  // its worker died: the lease expires with no attempt left
  EXPECT_TRUE(NothingToClaim());
  EXPECT_EQ(StateOf(id), JobState::kDead);
  std::vector<WebhookDelivery> hooks = DeliveriesOf(*store_, id, std::nullopt);
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0].event, "job.dead");
  (void)b;
}

TEST_P(StoreTest, AJobWhoseWindowClosedWhileQueuedFailsWithWindowClosedAndItsWebhook) {
  NewJob job = MakeJob("overnight");
  job.not_after = clock_.NowMs() + 1000;
  job.webhook_url = "https://erp.example/hooks";
  int64_t id = EnqueueOne(job);
  EXPECT_EQ(*store_->ExpireJobs(), 0);
  clock_.Advance(1000);
  EXPECT_EQ(*store_->ExpireJobs(), 1) << "no worker needs to claim for the window to close";
  EXPECT_TRUE(NothingToClaim());
  Job expired = *store_->GetJob(id);
  EXPECT_EQ(expired.state, JobState::kFailed);
  ASSERT_TRUE(expired.last_error.has_value());
  EXPECT_EQ(expired.last_error->reason, kWindowClosed);
  EXPECT_FALSE(expired.last_error->retryable);
  std::vector<WebhookDelivery> hooks = DeliveriesOf(*store_, id, std::nullopt);
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0].event, "job.failed");
  EXPECT_TRUE(NothingToClaim());  // a later claim expires nothing twice
  EXPECT_EQ(DeliveriesOf(*store_, id, std::nullopt).size(), 1u);
}

TEST_P(StoreTest, BatchCompletedIsQueuedExactlyOnceWhenWorkersFinishAtOnce) {
  constexpr int kJobs = 6;
  constexpr int kRounds = 8;
  std::vector<std::unique_ptr<JobStore>> workers;
  for (int t = 0; t < kJobs; ++t) workers.push_back(Open(FakeOptions()));
  for (int round = 0; round < kRounds; ++round) {
    NewBatch batch;
    batch.tenant = "acme";
    batch.name = "night-" + std::to_string(round);
    batch.webhook_url = "https://erp.example/batches";
    std::vector<NewJob> jobs = ManyJobs(kJobs);
    Result<int64_t> batch_id = store_->CreateBatch(batch, jobs);
    ASSERT_TRUE(batch_id.ok()) << batch_id.status().ToString();
    std::vector<Job> claimed;
    for (int t = 0; t < kJobs; ++t) claimed.push_back(MustClaim("w" + std::to_string(t)));
    EXPECT_TRUE(DeliveriesOf(*store_, std::nullopt, *batch_id).empty());
    std::latch start(kJobs);
    std::vector<std::thread> threads;
    for (int t = 0; t < kJobs; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        Status done = t % 2 == 0 ? workers[t]->Complete(claimed[t].id, claimed[t].attempt, {})
                                 : workers[t]
                                       ->Fail(claimed[t].id, claimed[t].attempt,
                                              InvalidArgument("unreadable photo"))
                                       .status();
        EXPECT_TRUE(done.ok()) << done.ToString();
      });
    }
    for (std::thread& thread : threads) thread.join();
    std::vector<WebhookDelivery> hooks = DeliveriesOf(*store_, std::nullopt, *batch_id);
    ASSERT_EQ(hooks.size(), 1u) << "round " << round;
    EXPECT_EQ(hooks[0].event, "batch.completed");
    EXPECT_EQ(hooks[0].url, "https://erp.example/batches");
  }
}

TEST_P(StoreTest, ConcurrentOpenersOfANewStoreAllSucceed) {
  // Workers of a fresh server start together and all create the schema at once.
  const std::string url = OtherUrl();
  std::vector<Status> opened(4);
  std::vector<std::thread> threads;
  std::latch go(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      go.arrive_and_wait();
      Result<std::unique_ptr<JobStore>> store = OpenStore(url);
      opened[t] = store.status();
      if (store.ok()) opened[t] = (*store)->Enqueue({MakeJob("t" + std::to_string(t))}).status();
    });
  }
  for (auto& th : threads) th.join();
  for (const Status& st : opened) EXPECT_TRUE(st.ok()) << st.ToString();
  Result<std::unique_ptr<JobStore>> store = OpenStore(url);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->CountByState()->at(JobState::kQueued), 4);
}

TEST_P(StoreTest, ReopeningKeepsEverything) {
  int64_t id = EnqueueOne(MakeJob("kept"));
  store_.reset();
  store_ = Open(FakeOptions());
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->GetJob(id)->sku, "kept");
}

// Prints figures; asserts only what the batch runner relies on (all 300 queued).
TEST_P(StoreTest, Enqueue300AndClaimCompleteThroughput) {
  std::vector<NewJob> jobs = ManyJobs(300);
  auto t0 = std::chrono::steady_clock::now();
  Result<std::vector<int64_t>> ids = store_->Enqueue(jobs);
  double enqueue_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(std::set<int64_t>(ids->begin(), ids->end()).size(), 300u);
  EXPECT_EQ(*store_->QueueDepth(), 300);
  // 100 of them: enough for a figure, and SQLite's two fsyncs per job are slow on a busy disk.
  t0 = std::chrono::steady_clock::now();
  std::set<int64_t> done;
  for (int i = 0; i < 100; ++i) {
    Result<std::optional<Job>> job = store_->Claim("bench", milliseconds(60'000));
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    ASSERT_TRUE(job->has_value());
    ASSERT_TRUE(store_->Complete((*job)->id, (*job)->attempt, {{"ok", true}}).ok());
    done.insert((*job)->id);
  }
  double cycle_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(done.size(), 100u);
  EXPECT_EQ(*store_->QueueDepth(), 200);
  t0 = std::chrono::steady_clock::now();
  for (int64_t id : *ids) ASSERT_TRUE(store_->GetJob(id).ok());
  double get_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "[ figures  ] %s: enqueue 300 jobs %.1f ms; claim+complete %.0f jobs/s; GetJob %.0f/s "
      "(1 thread)\n",
      GetParam().c_str(), enqueue_s * 1000, done.size() / cycle_s, ids->size() / get_s);
}

// Claims and completes until nothing is left; returns the ids this worker completed.
std::vector<int64_t> Drain(JobStore& store, const std::string& worker) {
  std::vector<int64_t> completed;
  while (true) {
    Result<std::optional<Job>> job = store.Claim(worker, milliseconds(30'000));
    if (!job.ok()) {
      ADD_FAILURE() << job.status().ToString();
      return completed;
    }
    if (!job->has_value()) return completed;
    usleep(500);  // the "work", during which other workers can take the database lock
    Status st = store.Complete((*job)->id, (*job)->attempt, {{"worker", worker}});
    if (st.ok()) {
      completed.push_back((*job)->id);
    } else {
      ADD_FAILURE() << st.ToString();
    }
  }
}

void ExpectEachCompletedOnce(JobStore& store, const std::vector<int64_t>& completed, int n) {
  std::set<int64_t> unique(completed.begin(), completed.end());
  EXPECT_EQ(completed.size(), static_cast<size_t>(n)) << "a job was completed twice or lost";
  EXPECT_EQ(unique.size(), static_cast<size_t>(n));
  EXPECT_EQ(store.CountByState()->at(JobState::kSucceeded), n);
}

TEST_P(StoreTest, FourThreadsCompleteEveryJobExactlyOnce) {
  ASSERT_TRUE(store_->Enqueue(ManyJobs(200)).ok());
  std::vector<std::vector<int64_t>> per_thread(4);
  std::vector<std::thread> threads;
  std::latch opened(4);
  auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<JobStore> own = Open();  // own connection, real clock
      opened.arrive_and_wait();
      if (own) per_thread[t] = Drain(*own, "thread-" + std::to_string(t));
    });
  }
  for (auto& th : threads) th.join();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<int64_t> all;
  for (const auto& ids : per_thread) all.insert(all.end(), ids.begin(), ids.end());
  ExpectEachCompletedOnce(*store_, all, 200);
  std::printf("[ figures  ] %s: 4 threads claim+complete %.0f jobs/s; per thread:",
              GetParam().c_str(), 200 / s);
  for (const auto& ids : per_thread) std::printf(" %zu", ids.size());
  std::printf("\n");
}

// Forks a child that runs `body` and exits with its return value, without running this
// process's exit handlers (they would stop the shared PostgreSQL server).
pid_t ForkChild(const std::function<int()>& body) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  return pid;
}

std::vector<int64_t> ReadIds(const std::string& path) {
  std::vector<int64_t> ids;
  std::ifstream in(path);
  for (int64_t id; in >> id;) ids.push_back(id);
  return ids;
}

TEST_P(StoreTest, TwoProcessesCompleteEveryJobExactlyOnce) {
  ASSERT_TRUE(store_->Enqueue(ManyJobs(200)).ok());
  const std::string dir = dir_.empty() ? TempDir() : dir_;
  std::vector<pid_t> children;
  for (int p = 0; p < 2; ++p) {
    const std::string log = dir + "/done-" + std::to_string(p);
    children.push_back(ForkChild([&, log, p]() -> int {
      Result<std::unique_ptr<JobStore>> own = OpenStore(url_);
      if (!own.ok()) return 2;
      std::ofstream out(log);
      for (int64_t id : Drain(**own, "proc-" + std::to_string(p))) out << id << "\n";
      return out.good() ? 0 : 3;
    }));
  }
  std::vector<int64_t> all;
  for (int p = 0; p < 2; ++p) {
    int status = 0;
    ASSERT_EQ(waitpid(children[p], &status, 0), children[p]);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << p << " failed";
    std::vector<int64_t> ids = ReadIds(dir + "/done-" + std::to_string(p));
    all.insert(all.end(), ids.begin(), ids.end());
  }
  ExpectEachCompletedOnce(*store_, all, 200);
  if (dir_.empty()) std::filesystem::remove_all(dir);
}

// Two worker processes claim and complete in a loop, appending the job id to a log after each
// acknowledged completion; one of them is kill -9ed at random moments and restarted, 10 times.
// At the end every job must have succeeded with its last attempt's result, no completion may be
// acknowledged twice, and (SQLite) the file must pass integrity_check.
TEST_P(StoreTest, KilledWorkersLoseNothingAndFinishNothingTwice) {
  constexpr int kJobs = 100;
  constexpr int kKills = 10;
  std::vector<NewJob> jobs = ManyJobs(kJobs);
  for (NewJob& j : jobs) j.max_attempts = 100;  // kills must not make jobs dead
  ASSERT_TRUE(store_->Enqueue(jobs).ok());
  const std::string dir = dir_.empty() ? TempDir() : dir_;
  const std::string log = dir + "/completions";
  auto worker = [&](const std::string& name) -> int {
    Result<std::unique_ptr<JobStore>> own = OpenStore(url_);
    if (!own.ok()) return 2;
    std::mt19937 rng(getpid());
    while (true) {
      Result<std::optional<Job>> job = (*own)->Claim(name, milliseconds(150));
      if (!job.ok()) return 3;
      if (!job->has_value()) {
        std::map<JobState, int64_t> counts = *(*own)->CountByState();
        if (counts[JobState::kQueued] + counts[JobState::kRunning] == 0) return 0;
        usleep(20'000);  // a killed worker's lease has yet to expire
        continue;
      }
      usleep(std::uniform_int_distribution<int>(0, 3000)(rng));  // "work"
      const Job& j = **job;
      Status st = (*own)->Complete(j.id, j.attempt, {{"attempt", j.attempt}});
      if (st.ok()) {
        FILE* f = std::fopen(log.c_str(), "a");
        std::fprintf(f, "%lld\n", static_cast<long long>(j.id));
        std::fclose(f);
      } else if (st.code() != Code::kCancelled) {
        return 4;
      }
    }
  };
  // A steady worker runs beside the one that is killed and restarted, as on a server with two
  // worker processes; it exits when no job is queued or running.
  pid_t steady = ForkChild([&] { return worker("steady"); });
  std::mt19937 rng(7);
  for (int k = 0; k < kKills; ++k) {
    pid_t pid = ForkChild([&] { return worker("crashy"); });
    usleep(std::uniform_int_distribution<int>(5'000, 60'000)(rng));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(steady, &status, 0), steady);
  ASSERT_TRUE(WIFEXITED(status)) << "the steady worker did not exit normally";
  EXPECT_EQ(WEXITSTATUS(status), 0);

  std::vector<int64_t> logged = ReadIds(log);
  std::set<int64_t> unique(logged.begin(), logged.end());
  EXPECT_EQ(unique.size(), logged.size()) << "an acknowledged completion happened twice";
  // A kill between Complete and the log write loses a log line, never a completion.
  EXPECT_GE(logged.size(), static_cast<size_t>(kJobs - kKills));
  JobFilter all;
  all.limit = 1000;
  JobPage page = *store_->ListJobs(all);
  ASSERT_EQ(page.jobs.size(), static_cast<size_t>(kJobs));
  int reclaimed = 0;
  for (const Job& j : page.jobs) {
    EXPECT_EQ(j.state, JobState::kSucceeded) << "job " << j.id;
    EXPECT_EQ(j.result["attempt"], j.attempt) << "the result is the last attempt's";
    reclaimed += j.attempt > 1;
  }
  std::printf("[ figures  ] %s: %d kills, %d jobs needed a second claim, %zu completions logged\n",
              GetParam().c_str(), kKills, reclaimed, logged.size());
  if (GetParam() == "sqlite") {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/jobs.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "ok");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  } else {
    std::filesystem::remove_all(dir);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST(OpenStoreTest, ExplainsBadUrls) {
  Result<std::unique_ptr<JobStore>> bad = OpenStore("mysql://host/db");
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("sqlite:///"), std::string::npos);
  Result<std::unique_ptr<JobStore>> missing = OpenStore("/no/such/folder/jobs.db");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  Result<std::unique_ptr<JobStore>> unreachable = OpenStore("postgresql://nobody@127.0.0.1:1/x");
  EXPECT_EQ(unreachable.status().code(), Code::kUnavailable);
}

TEST(PostgresStoreTest, SurvivesALostConnection) {
  Result<testing::PgServer*> server = testing::PgServer::Shared();
  ASSERT_TRUE(server.ok()) << "PostgreSQL did not start: " << server.status().ToString();
  Result<std::string> url = (*server)->FreshUrl();
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  Result<std::unique_ptr<JobStore>> store = OpenStore(*url);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  int64_t id = (*store)->Enqueue({MakeJob("a")})->at(0);
  {
    pqxx::connection admin(*url);
    pqxx::nontransaction tx(admin);
    pqxx::result killed = tx.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
        "datname = current_database() AND pid <> pg_backend_pid() AND "
        "backend_type = 'client backend'");
    ASSERT_GE(killed.size(), 1u) << "the store's connection should have been terminated";
  }
  Result<std::optional<Job>> job = (*store)->Claim("w", milliseconds(1000));
  ASSERT_TRUE(job.ok()) << "the store should reconnect: " << job.status().ToString();
  ASSERT_TRUE(job->has_value());
  EXPECT_EQ((*job)->id, id);
  EXPECT_TRUE((*store)->Complete(id, (*job)->attempt, {}).ok());
}

TEST(OpenStoreTest, RefusesASchemaFromTheFuture) {
  std::string dir = TempDir();
  std::string path = dir + "/jobs.db";
  ASSERT_TRUE(OpenStore(path).ok());  // a plain path is SQLite
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  Result<std::unique_ptr<JobStore>> newer = OpenStore("sqlite://" + path);
  EXPECT_EQ(newer.status().code(), Code::kUnsupported);
  EXPECT_NE(newer.status().message().find("upgrade"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vitrine::store
