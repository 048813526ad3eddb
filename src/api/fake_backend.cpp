#include "api/fake_backend.h"

#include "api/auth.h"

namespace vitrine::api {

std::string FakeBackend::AddKey(const std::string& tenant, bool revoked) {
  Result<NewApiKey> key = GenerateApiKey();
  std::lock_guard lock(mutex_);
  keys_[key->sha256] = {"key_" + std::to_string(next_id_++), tenant, revoked};
  return key->key;
}

void FakeBackend::AddJob(const std::string& tenant, JobView job,
                         std::map<int, std::string> candidate_paths,
                         std::map<std::string, std::string> export_paths) {
  std::lock_guard lock(mutex_);
  const std::string id = job.id;
  jobs_[id] = {tenant, std::move(job), std::move(candidate_paths), std::move(export_paths)};
}

void FakeBackend::AddBatch(const std::string& tenant, BatchView batch) {
  std::lock_guard lock(mutex_);
  const std::string id = batch.id;
  batches_[id] = {tenant, std::move(batch)};
}

int FakeBackend::JobCount() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(jobs_.size());
}

std::vector<JobRequest> FakeBackend::created_jobs() const {
  std::lock_guard lock(mutex_);
  return created_jobs_;
}

std::vector<BatchRequest> FakeBackend::created_batches() const {
  std::lock_guard lock(mutex_);
  return created_batches_;
}

std::vector<DeliveryAttempt> FakeBackend::deliveries() const {
  std::lock_guard lock(mutex_);
  return deliveries_;
}

Result<Principal> FakeBackend::LookupKey(const std::string& key_sha256) {
  std::lock_guard lock(mutex_);
  auto it = keys_.find(key_sha256);
  if (it == keys_.end()) return NotFound("no such key");
  return it->second;
}

Result<UploadInfo> FakeBackend::CreateUpload(const std::string& tenant, const std::string& filename,
                                             std::string_view bytes,
                                             const io::ImageHeader& header) {
  std::lock_guard lock(mutex_);
  const std::string id = "up_" + std::to_string(next_id_++);
  upload_tenants_[id] = tenant;
  return UploadInfo{id,           filename,      header.format,
                    header.width, header.height, static_cast<int64_t>(bytes.size())};
}

Status FakeBackend::CheckImages(const std::string& tenant,
                                const std::vector<std::string>& images) const {
  for (const std::string& image : images) {
    if (image.find("://") != std::string::npos) continue;
    auto it = upload_tenants_.find(image);
    if (it == upload_tenants_.end() || it->second != tenant) {
      return InvalidArgument("unknown upload id '" + image + "'; upload with POST /v1/uploads");
    }
  }
  return Status::Ok();
}

Status FakeBackend::CheckRecipe(const nlohmann::json& recipe) const {
  if (recipe.is_string() && recipe != "cutout-white") {
    return InvalidArgument("unknown recipe '" + recipe.get<std::string>() +
                           "'; see GET /v1/recipes");
  }
  return Status::Ok();
}

JobView FakeBackend::NewJob(const std::string& tenant, const std::string& sku,
                            const std::string& batch) {
  JobView job;
  job.id = "job_" + std::to_string(next_id_++);
  job.status = "queued";
  job.sku = sku;
  job.batch_id = batch;
  jobs_[job.id] = {tenant, job, {}, {}};
  return job;
}

Result<JobView> FakeBackend::CreateJob(const JobRequest& request) {
  if (before_create_job) before_create_job();
  std::lock_guard lock(mutex_);
  RETURN_IF_ERROR(CheckRecipe(request.spec.recipe));
  RETURN_IF_ERROR(CheckImages(request.tenant, request.images));
  created_jobs_.push_back(request);
  return NewJob(request.tenant, request.sku, "");
}

Result<BatchView> FakeBackend::CreateBatch(const BatchRequest& request) {
  std::lock_guard lock(mutex_);
  RETURN_IF_ERROR(CheckRecipe(request.spec.recipe));
  for (const BatchItem& item : request.manifest) {
    RETURN_IF_ERROR(CheckImages(request.tenant, item.images));
  }
  created_batches_.push_back(request);
  BatchView batch;
  batch.id = "batch_" + std::to_string(next_id_++);
  batch.status = "queued";
  batch.not_before = request.not_before;
  batch.not_after = request.not_after;
  for (const BatchItem& item : request.manifest) {
    batch.job_ids.push_back(NewJob(request.tenant, item.sku, batch.id).id);
  }
  batch.jobs_by_state["queued"] = static_cast<int64_t>(batch.job_ids.size());
  batches_[batch.id] = {request.tenant, batch};
  return batch;
}

Result<JobView> FakeBackend::GetJob(const std::string& tenant, const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.tenant != tenant) return NotFound("no job '" + id + "'");
  return it->second.view;
}

Result<BatchView> FakeBackend::GetBatch(const std::string& tenant, const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = batches_.find(id);
  if (it == batches_.end() || it->second.first != tenant) return NotFound("no batch '" + id + "'");
  return it->second.second;
}

Result<JobView> FakeBackend::CancelJob(const std::string& tenant, const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.tenant != tenant) return NotFound("no job '" + id + "'");
  JobView& job = it->second.view;
  if (job.status != "queued" && job.status != "running") {
    return Cancelled("job '" + id + "' already " + job.status + "; nothing to cancel");
  }
  job.status = "cancelled";
  return job;
}

Result<nlohmann::json> FakeBackend::ListRecipes(const std::string&) {
  return nlohmann::json::array({{{"name", "cutout-white"}, {"doc", "Cut out onto white"}}});
}

std::vector<ops::OpSchema> FakeBackend::OpSchemas() {
  std::vector<ops::OpSchema> schemas;
  for (const ops::OpDef* op : ops::Registry::Global().All()) schemas.push_back(op->schema);
  return schemas;
}

Result<std::string> FakeBackend::CandidatePath(const std::string& tenant, const std::string& job_id,
                                               int index) {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || it->second.tenant != tenant) return NotFound("no job '" + job_id + "'");
  auto path = it->second.candidates.find(index);
  if (path == it->second.candidates.end()) return NotFound("no candidate " + std::to_string(index));
  return path->second;
}

Result<std::string> FakeBackend::ExportPath(const std::string& tenant, const std::string& job_id,
                                            const std::string& preset) {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || it->second.tenant != tenant) return NotFound("no job '" + job_id + "'");
  auto path = it->second.exports.find(preset);
  if (path == it->second.exports.end()) return NotFound("no export '" + preset + "'");
  return path->second;
}

Result<std::optional<StoredResponse>> FakeBackend::GetIdempotent(const std::string& tenant,
                                                                 const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = idempotent_.find({tenant, key});
  if (it == idempotent_.end()) return std::optional<StoredResponse>();
  return std::optional<StoredResponse>(it->second);
}

Status FakeBackend::PutIdempotent(const std::string& tenant, const std::string& key,
                                  const StoredResponse& response) {
  std::lock_guard lock(mutex_);
  idempotent_.try_emplace({tenant, key}, response);
  return Status::Ok();
}

Result<QueueMetrics> FakeBackend::Metrics() {
  std::lock_guard lock(mutex_);
  QueueMetrics metrics;
  for (const auto& [id, job] : jobs_) {
    metrics.jobs_by_state[job.view.status] += 1;
    if (job.view.status == "queued") metrics.queue_depth += 1;
  }
  metrics.op_latencies.push_back({"cutout", {0.5, 1, 2.5}, {1, 3, 4}, 6.25, 5});
  return metrics;
}

Status FakeBackend::RecordDelivery(const DeliveryAttempt& attempt) {
  std::lock_guard lock(mutex_);
  deliveries_.push_back(attempt);
  return Status::Ok();
}

}  // namespace vitrine::api
