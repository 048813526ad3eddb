// The production api::Backend: jobs, batches, keys, idempotency records and webhook deliveries in
// a store::JobStore (SQLite or PostgreSQL), files in a data folder that every process shares.
//
// Data folder layout (DATA = ServerPaths::data_dir; on several machines, a path they all mount):
//   DATA/vitrine.db                        the SQLite store, when no --store URL is given
//   DATA/uploads/<tenant>/<sha256>.<ext>   uploaded images (content-addressed per tenant)
//   DATA/jobs/<id>/inputs/<n>.<ext>        URL inputs, as a worker fetched them
//   DATA/jobs/<id>/<sku>/...               what batch::ProcessSku wrote: candidates/NN.png,
//                                          exports/<preset>/<rank>-NN.<ext>, report.json
//   DATA/cache/                            intermediate images shared by all jobs
//   DATA/webhook-secrets/<tenant>          the tenant's whsec_ signing secret (mode 0600)
// <tenant> and <sku> are folder-safe forms (batch::SkuFolderName).
//
// Ids shown by the API: "job_<n>", "batch_<n>", "up_<n>" for the store's row ids.
//
// Job payload (store::Job::payload): {"images": [{"upload": path} | {"url": url}], "recipe":
// recipe JSON (resolved and validated), "presets": [...], "sku", "webhook_url"}. A succeeded job's
// result: {"accepted", "rejected", "exports", "folder": "<sku folder>", "candidates": [{"index",
// "rank", "accepted", "score", "reasons", "checks", "file", "exports": {preset: file}}]}, built by
// JobResultFromReport from the SKU's report.
//
// Thread safety: every method may be called from many threads; calls on the one store
// connection are serialised by the store.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "api/backend.h"
#include "api/metrics.h"
#include "core/config.h"
#include "qa/presets.h"
#include "store/store.h"

namespace vitrine::api {

// Where a data folder keeps things (see the layout above).
struct DataPaths {
  std::string data_dir;
  std::string DefaultStoreUrl() const;  // sqlite:///DATA/vitrine.db
  std::string JobDir(int64_t job_id) const;
  std::string UploadDir(const std::string& tenant) const;
  std::string CacheDir() const;
  std::string WebhookSecretPath(const std::string& tenant) const;
};

// Creates DATA and checks that it is writable: InvalidArgument naming the folder and what to do
// when it is not.
Status PrepareDataDir(const std::string& data_dir);

// The tenant's webhook signing secret, created (whsec_, 32 random bytes) on first use. Two
// processes creating it at once agree on one. Errors: the file cannot be read or written.
Result<std::string> TenantWebhookSecret(const DataPaths& paths, const std::string& tenant);

// "job_12" <-> 12; nullopt for anything else.
std::string JobId(int64_t id);
std::string BatchId(int64_t id);
std::optional<int64_t> ParseId(const std::string& text, std::string_view prefix);

// The job result kept in the store, from a SKU report (batch::ProcessSku's return value).
nlohmann::json JobResultFromReport(const nlohmann::json& report, const std::string& sku_folder);

class StoreBackend : public Backend {
 public:
  // `store`, `config` and `latencies` (may be null: no op latencies in Metrics) are borrowed and
  // must outlive the backend.
  StoreBackend(store::JobStore& store, DataPaths paths, const Config& config,
               qa::PresetBook presets, const OpLatencies* latencies = nullptr);

  // Store instances (each with its own connection) for the read-only calls: key lookups, job
  // and batch reads, artifact paths, idempotency reads, metrics. A thread always uses the same
  // one (threads share them only when there are more threads than readers), so reads run in
  // parallel and never queue behind a write on `store` (SQLite WAL readers do not wait for the
  // writer). Call before serving; without readers everything goes through `store`.
  void AddReaders(std::vector<std::unique_ptr<store::JobStore>> readers);

  Result<Principal> LookupKey(const std::string& key_sha256) override;
  Result<UploadInfo> CreateUpload(const std::string& tenant, const std::string& filename,
                                  std::string_view bytes, const io::ImageHeader& header) override;
  Result<JobView> CreateJob(const JobRequest& request) override;
  Result<BatchView> CreateBatch(const BatchRequest& request) override;
  Result<JobView> GetJob(const std::string& tenant, const std::string& id) override;
  Result<BatchView> GetBatch(const std::string& tenant, const std::string& id) override;
  Result<JobView> CancelJob(const std::string& tenant, const std::string& id) override;
  Result<nlohmann::json> ListRecipes(const std::string& tenant) override;
  std::vector<ops::OpSchema> OpSchemas() override;
  Result<std::string> CandidatePath(const std::string& tenant, const std::string& job_id,
                                    int index) override;
  Result<std::string> ExportPath(const std::string& tenant, const std::string& job_id,
                                 const std::string& preset) override;
  Result<std::optional<StoredResponse>> GetIdempotent(const std::string& tenant,
                                                      const std::string& key) override;
  Status PutIdempotent(const std::string& tenant, const std::string& key,
                       const StoredResponse& response) override;
  Result<QueueMetrics> Metrics() override;
  Status RecordDelivery(const DeliveryAttempt& attempt) override;

 private:
  // The payload of a job: images resolved to upload paths or URLs, recipe resolved.
  Result<nlohmann::json> Payload(const std::string& tenant, const std::vector<std::string>& images,
                                 const std::string& sku, const RecipeSpec& spec,
                                 const nlohmann::json& recipe) const;
  Result<nlohmann::json> ResolveRecipe(const RecipeSpec& spec) const;
  Result<store::Job> OwnJob(const std::string& tenant, const std::string& id);
  // The next reader in turn, or store_ when there are none.
  store::JobStore& Reader();

  store::JobStore& store_;
  std::vector<std::unique_ptr<store::JobStore>> readers_;
  const DataPaths paths_;
  const Config& config_;
  const qa::PresetBook presets_;
  const OpLatencies* latencies_;
};

// Claims of one job before it is dead (kill -9 of a worker costs one, SIGTERM none).
inline constexpr int kMaxAttempts = 5;

// Queue depth and jobs by state from `store`, with the op latencies of `latencies` (may be null):
// what /metrics shows, for the API and for a worker's --metrics-listen.
Result<QueueMetrics> CollectMetrics(store::JobStore& store, const OpLatencies* latencies);

// The API's view of a stored job, and of a batch (with its job ids, read from `store`).
JobView ToJobView(const store::Job& job);
Result<BatchView> LoadBatchView(store::JobStore& store, const store::Batch& batch);

}  // namespace vitrine::api
