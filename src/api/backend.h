// What the HTTP API needs from the rest of the system, as one interface: the store (jobs,
// batches, uploads, API keys, idempotency records, webhook deliveries), the recipe catalogue and
// the op schemas. The API never touches the store directly; app/ wires an adapter to src/store,
// tests use an in-memory fake.
//
// Contract for implementations:
// - Thread safety: every method may be called from many server threads at once.
// - Tenant isolation: methods that take a tenant return NotFound for an object that exists but
//   belongs to another tenant, exactly as for one that does not exist (never reveal existence).
// - Errors are Status codes (DESIGN.md "Errors"): InvalidArgument for a request the caller must
//   fix (unknown recipe, bad params), NotFound, Cancelled for a state conflict (cancelling a
//   finished job), Unavailable for transient store failures. No exceptions.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "io/image_io.h"
#include "ops/op.h"

namespace vitrine::api {

// The owner of an API key, found by the key's SHA-256 (hex): keys themselves are never stored.
struct Principal {
  std::string key_id;
  std::string tenant;
  bool revoked = false;
};

struct UploadInfo {
  std::string id;
  std::string filename;  // as sent by the client, for display only
  io::Format format = io::Format::kUnknown;
  int width = 0;  // as stored, before EXIF orientation
  int height = 0;
  int64_t bytes = 0;
};

// What to run, shared by jobs and batches.
struct RecipeSpec {
  nlohmann::json recipe;  // a built-in recipe name (string) or a recipe object
  // Per-op overrides keyed by op name ({"cutout": {"crop": true}}); the server has checked each
  // against its op's schema (only the fields given: the recipe supplies the others).
  nlohmann::json params = nlohmann::json::object();
  std::vector<std::string> presets;
  std::string webhook_url;  // empty: no webhook; vetted by url_guard at submission
  int priority = 0;         // -100..100, higher runs first
};

// A job to create. `images` are upload ids (of the same tenant) or http(s) URLs that the server
// has already vetted with url_guard (workers fetch them with api::Fetch, which vets again).
struct JobRequest {
  std::string tenant;
  std::vector<std::string> images;
  std::string sku;
  RecipeSpec spec;
};

struct Candidate {
  int index = 0;
  nlohmann::json qa = nlohmann::json::object();  // QA values and score, as the qa module reports
};

// A job as the API shows it. `status` is a job state name of the store ("queued", "running",
// "succeeded", "failed", "cancelled", "dead"...); the API passes it through unchanged.
struct JobView {
  std::string id;
  std::string status;
  double progress = 0;  // 0..1
  std::string sku;
  std::string batch_id;  // empty when submitted alone
  int attempts = 0;
  std::vector<Candidate> candidates;
  std::vector<std::string> exports;  // preset names with a finished export
  std::optional<Status> error;       // why it failed, when it did
  // A public error code more specific than `error`'s ("window_closed"), or empty; a job with
  // one will not run again (not retryable).
  std::string error_code;
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
};

struct BatchItem {
  std::string sku;
  std::vector<std::string> images;  // upload ids or vetted URLs
};

// A batch: one job per manifest item, all with the same recipe, params and presets. The optional
// window (unix seconds; 0 = none) says when its jobs may start: the "run overnight" button.
struct BatchRequest {
  std::string tenant;
  std::vector<BatchItem> manifest;
  RecipeSpec spec;
  int64_t not_before = 0;
  int64_t not_after = 0;
};

struct BatchView {
  std::string id;
  std::string status;
  std::map<std::string, int64_t> jobs_by_state;
  std::vector<std::string> job_ids;
  int64_t not_before = 0;
  int64_t not_after = 0;
  int64_t created_at = 0;
};

// The first response to a POST with an Idempotency-Key, kept to be replayed.
struct StoredResponse {
  std::string request_sha256;  // of method, path, content type and body
  int status = 0;
  std::string content_type;
  std::string body;
};

// One latency series, already aggregated: cumulative counts per upper bound (seconds).
struct LatencyHistogram {
  std::string op;
  std::vector<double> upper_bounds;  // ascending, without +Inf
  std::vector<int64_t> cumulative_counts;
  double sum_seconds = 0;
  int64_t count = 0;
};

struct QueueMetrics {
  int64_t queue_depth = 0;  // jobs ready to run now
  std::map<std::string, int64_t> jobs_by_state;
  std::vector<LatencyHistogram> op_latencies;
};

// One webhook delivery attempt, recorded whatever its outcome.
struct DeliveryAttempt {
  std::string webhook_id;  // the message id (webhook-id header), the same for every attempt
  std::string url;
  int attempt = 0;      // 1-based
  int http_status = 0;  // 0 when no response came
  std::string error;    // empty on success
  int64_t at_unix = 0;
  bool final = false;             // no further attempt will be made
  int64_t next_attempt_unix = 0;  // when not final: when the next attempt is due
};

class Backend {
 public:
  virtual ~Backend() = default;

  // NotFound for an unknown key hash. A revoked key is found, with revoked = true.
  virtual Result<Principal> LookupKey(const std::string& key_sha256) = 0;

  // Stores image bytes whose header and limits the server has already checked.
  virtual Result<UploadInfo> CreateUpload(const std::string& tenant, const std::string& filename,
                                          std::string_view bytes,
                                          const io::ImageHeader& header) = 0;
  // InvalidArgument for an unknown recipe, invalid params or an upload id the tenant lacks.
  virtual Result<JobView> CreateJob(const JobRequest& request) = 0;
  virtual Result<BatchView> CreateBatch(const BatchRequest& request) = 0;
  virtual Result<JobView> GetJob(const std::string& tenant, const std::string& id) = 0;
  virtual Result<BatchView> GetBatch(const std::string& tenant, const std::string& id) = 0;
  // Cancels a queued or running job; Cancelled (-> 409) if it already finished.
  virtual Result<JobView> CancelJob(const std::string& tenant, const std::string& id) = 0;

  // [{"name", "doc", "steps": [...]}, ...]: the built-in recipes.
  virtual Result<nlohmann::json> ListRecipes(const std::string& tenant) = 0;
  // Every op's schema (usually ops::Registry::Global()).
  virtual std::vector<ops::OpSchema> OpSchemas() = 0;

  // Paths of finished artifacts, readable by the server. NotFound if there is no such candidate
  // or export (yet).
  virtual Result<std::string> CandidatePath(const std::string& tenant, const std::string& job_id,
                                            int index) = 0;
  virtual Result<std::string> ExportPath(const std::string& tenant, const std::string& job_id,
                                         const std::string& preset) = 0;

  // Idempotency records, keyed by tenant and the client's Idempotency-Key.
  virtual Result<std::optional<StoredResponse>> GetIdempotent(const std::string& tenant,
                                                              const std::string& key) = 0;
  // Keeps the first record for a key: a second Put for the same key is ignored.
  virtual Status PutIdempotent(const std::string& tenant, const std::string& key,
                               const StoredResponse& response) = 0;

  virtual Result<QueueMetrics> Metrics() = 0;
  virtual Status RecordDelivery(const DeliveryAttempt& attempt) = 0;
};

}  // namespace vitrine::api
