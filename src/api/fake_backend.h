// An in-memory Backend for the API's tests: tenant-scoped jobs, batches and uploads, API keys
// by hash, idempotency records, recorded webhook deliveries. Thread-safe (one mutex).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "api/backend.h"

namespace vitrine::api {

class FakeBackend : public Backend {
 public:
  // Registers a new key for `tenant` and returns it (the plain key, as a client would hold it).
  std::string AddKey(const std::string& tenant, bool revoked = false);
  // Adds a job directly (as a worker would have left it), with candidate/export files.
  void AddJob(const std::string& tenant, JobView job,
              std::map<int, std::string> candidate_paths = {},
              std::map<std::string, std::string> export_paths = {});
  void AddBatch(const std::string& tenant, BatchView batch);
  int JobCount() const;
  // Called at the start of CreateJob, outside the lock: lets a test hold a request in flight.
  std::function<void()> before_create_job;
  std::vector<JobRequest> created_jobs() const;
  std::vector<BatchRequest> created_batches() const;
  std::vector<DeliveryAttempt> deliveries() const;

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
  struct StoredJob {
    std::string tenant;
    JobView view;
    std::map<int, std::string> candidates;
    std::map<std::string, std::string> exports;
  };
  // Caller holds mutex_.
  Status CheckImages(const std::string& tenant, const std::vector<std::string>& images) const;
  Status CheckRecipe(const nlohmann::json& recipe) const;
  JobView NewJob(const std::string& tenant, const std::string& sku, const std::string& batch);

  mutable std::mutex mutex_;
  int next_id_ = 1;
  std::map<std::string, Principal> keys_;
  std::map<std::string, std::string> upload_tenants_;
  std::map<std::string, StoredJob> jobs_;
  std::map<std::string, std::pair<std::string, BatchView>> batches_;
  std::map<std::pair<std::string, std::string>, StoredResponse> idempotent_;
  std::vector<JobRequest> created_jobs_;
  std::vector<BatchRequest> created_batches_;
  std::vector<DeliveryAttempt> deliveries_;
};

}  // namespace vitrine::api
