#include "api/store_backend.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "api/webhooks.h"
#include "batch/sku.h"
#include "core/file.h"
#include "core/sha256.h"
#include "io/image_io.h"
#include "recipe/recipe.h"

namespace vitrine::api {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::string DataPaths::DefaultStoreUrl() const {
  return "sqlite://" + fs::absolute(fs::path(data_dir) / "vitrine.db").string();
}
std::string DataPaths::JobDir(int64_t job_id) const {
  return (fs::path(data_dir) / "jobs" / JobId(job_id)).string();
}
std::string DataPaths::UploadDir(const std::string& tenant) const {
  return (fs::path(data_dir) / "uploads" / batch::SkuFolderName(tenant)).string();
}
std::string DataPaths::CacheDir() const { return (fs::path(data_dir) / "cache").string(); }
std::string DataPaths::WebhookSecretPath(const std::string& tenant) const {
  return (fs::path(data_dir) / "webhook-secrets" / batch::SkuFolderName(tenant)).string();
}

Status PrepareDataDir(const std::string& data_dir) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec || ::access(data_dir.c_str(), W_OK) != 0) {
    return InvalidArgument("the data folder " + data_dir +
                           " cannot be created or is not writable; choose another with --data "
                           "or fix its permissions");
  }
  return Status::Ok();
}

Result<std::string> TenantWebhookSecret(const DataPaths& paths, const std::string& tenant) {
  const std::string path = paths.WebhookSecretPath(tenant);
  if (!fs::exists(path)) {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (ec) return ErrnoStatus("create", fs::path(path).parent_path().string(), ec.value());
    ASSIGN_OR_RETURN(std::string secret, NewWebhookSecret());
    RETURN_IF_ERROR(WriteFileAtomic(path, secret, IfExists::kKeep));
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
  }
  ASSIGN_OR_RETURN(std::string secret, io::ReadFile(path, 1024));
  return secret;
}

std::string JobId(int64_t id) { return "job_" + std::to_string(id); }
std::string BatchId(int64_t id) { return "batch_" + std::to_string(id); }
namespace {
std::string UploadId(int64_t id) { return "up_" + std::to_string(id); }
}  // namespace

std::optional<int64_t> ParseId(const std::string& text, std::string_view prefix) {
  if (text.size() <= prefix.size() || text.compare(0, prefix.size(), prefix) != 0 ||
      text.size() > prefix.size() + 18) {
    return std::nullopt;
  }
  int64_t id = 0;
  for (size_t i = prefix.size(); i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    id = id * 10 + (text[i] - '0');
  }
  return id;
}

json JobResultFromReport(const json& report, const std::string& sku_folder) {
  json candidates = json::array();
  for (const json& c : report.value("candidates", json::array())) {
    json exports = json::object();
    const json report_exports = c.value("exports", json::object());
    for (const auto& [preset, e] : report_exports.items()) {
      exports[preset] = e.value("file", "");
    }
    json entry = {{"index", c.value("index", 0)},
                  {"label", c.value("label", "")},
                  {"rank", c.value("rank", 0)},
                  {"accepted", c.value("accepted", false)},
                  {"score", c.value("score", json())},
                  {"reasons", c.value("reasons", json::array())},
                  {"checks", c.value("checks", json::array())},
                  {"exports", exports}};
    if (c.contains("file")) entry["file"] = c["file"];
    if (c.contains("error")) entry["error"] = c["error"];
    candidates.push_back(std::move(entry));
  }
  return {{"accepted", report.value("accepted", 0)},
          {"rejected", report.value("rejected", 0)},
          {"exports", report.value("exports", 0)},
          {"warnings", report.value("warnings", json::array())},
          {"seconds", report.value("seconds", 0.0)},
          {"folder", sku_folder},
          {"candidates", candidates}};
}

JobView ToJobView(const store::Job& job) {
  JobView view;
  view.id = JobId(job.id);
  view.status = std::string(store::JobStateName(job.state));
  view.progress = job.state == store::JobState::kSucceeded ? 1.0 : job.progress;
  view.sku = job.sku;
  if (job.batch_id) view.batch_id = BatchId(*job.batch_id);
  view.attempts = job.attempt;
  if (job.result.is_object()) {
    for (const json& c : job.result.value("candidates", json::array())) {
      json qa = {{"rank", c.value("rank", 0)},          {"accepted", c.value("accepted", false)},
                 {"score", c.value("score", json())},   {"reasons", c.value("reasons", json())},
                 {"checks", c.value("checks", json())}, {"label", c.value("label", "")}};
      if (c.contains("error")) qa["error"] = c["error"];
      view.candidates.push_back({c.value("index", 0), std::move(qa)});
      const json exports = c.value("exports", json::object());
      for (const auto& [preset, file] : exports.items()) {
        if (std::find(view.exports.begin(), view.exports.end(), preset) == view.exports.end()) {
          view.exports.push_back(preset);
        }
      }
    }
  }
  const bool failed = job.state == store::JobState::kFailed || job.state == store::JobState::kDead;
  if (job.last_error && (failed || job.state == store::JobState::kQueued)) {
    view.error = Status(job.last_error->code, job.last_error->message);
    view.error_code = job.last_error->reason;
  }
  view.created_at = job.created / 1000;
  view.updated_at = job.updated / 1000;
  return view;
}

StoreBackend::StoreBackend(store::JobStore& store, DataPaths paths, const Config& config,
                           qa::PresetBook presets, const OpLatencies* latencies)
    : store_(store),
      paths_(std::move(paths)),
      config_(config),
      presets_(std::move(presets)),
      latencies_(latencies) {}

void StoreBackend::AddReaders(std::vector<std::unique_ptr<store::JobStore>> readers) {
  readers_ = std::move(readers);
}

store::JobStore& StoreBackend::Reader() {
  if (readers_.empty()) return store_;
  // Each thread keeps one slot: with as many readers as server threads, no two requests share a
  // connection, so none waits on another's lock (a holder preempted on a busy machine would
  // stall every thread queued behind it).
  static std::atomic<size_t> next_slot{0};
  thread_local const size_t slot = next_slot.fetch_add(1, std::memory_order_relaxed);
  return *readers_[slot % readers_.size()];
}

Result<Principal> StoreBackend::LookupKey(const std::string& key_sha256) {
  ASSIGN_OR_RETURN(store::ApiKey key, Reader().FindApiKey(key_sha256));
  return Principal{"key_" + std::to_string(key.id), key.tenant, key.revoked.has_value()};
}

Result<UploadInfo> StoreBackend::CreateUpload(const std::string& tenant,
                                              const std::string& filename, std::string_view bytes,
                                              const io::ImageHeader& header) {
  const std::string sha = Sha256Hex(bytes);
  const std::string dir = paths_.UploadDir(tenant);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ErrnoStatus("create", dir, ec.value());
  const std::string path =
      (fs::path(dir) / (sha + "." + std::string(io::FormatExtension(header.format)))).string();
  RETURN_IF_ERROR(WriteFileAtomic(path, bytes, IfExists::kKeep));
  store::Upload upload;
  upload.tenant = tenant;
  upload.path = path;
  upload.sha256 = sha;
  upload.bytes = static_cast<int64_t>(bytes.size());
  ASSIGN_OR_RETURN(int64_t id, store_.AddUpload(upload));
  return UploadInfo{UploadId(id), filename,      header.format,
                    header.width, header.height, static_cast<int64_t>(bytes.size())};
}

Result<json> StoreBackend::ResolveRecipe(const RecipeSpec& spec) const {
  json recipe_json;
  if (spec.recipe.is_string()) {
    // Only built-in names: a path would let a client read the server's files.
    const std::string name = spec.recipe.get<std::string>();
    std::vector<std::string> names;
    for (const recipe::BuiltinRecipe& builtin : recipe::BuiltinRecipes()) {
      names.push_back(builtin.name);
      if (builtin.name == name) recipe_json = json::parse(builtin.json, nullptr, false);
    }
    if (recipe_json.is_null()) {
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      return InvalidArgument("unknown recipe '" + name + "'; the built-in recipes are " + list +
                             " (GET /v1/recipes), or send a recipe object");
    }
  } else {
    recipe_json = spec.recipe;
  }
  ASSIGN_OR_RETURN(recipe::Recipe recipe, recipe::ParseRecipe(recipe_json));
  // params: per-op overrides applied to every step of that op, field by field.
  for (const auto& [op, fields] : spec.params.items()) {
    bool found = false;
    for (recipe::Step& step : recipe.steps) {
      if (step.op != op) continue;
      found = true;
      for (const auto& [field, value] : fields.items()) step.params[field] = value;
    }
    if (recipe.export_step && recipe.export_step->op == op) {
      found = true;
      for (const auto& [field, value] : fields.items()) recipe.export_step->params[field] = value;
    }
    if (!found) {
      return InvalidArgument("params names op '" + op + "', which recipe '" + recipe.name +
                             "' does not use; give params only for its steps");
    }
  }
  RETURN_IF_ERROR(recipe::Validate(recipe, ops::Registry::Global()));
  for (const std::string& preset : spec.presets) {
    if (!presets_.Find(preset)) {
      return InvalidArgument("unknown preset '" + preset + "'; the presets are " +
                             presets_.Names());
    }
  }
  return recipe.ToJson();
}

Result<json> StoreBackend::Payload(const std::string& tenant,
                                   const std::vector<std::string>& images, const std::string& sku,
                                   const RecipeSpec& spec, const json& recipe) const {
  json inputs = json::array();
  for (const std::string& image : images) {
    if (image.find(':') != std::string::npos) {
      inputs.push_back({{"url", image}});
      continue;
    }
    std::optional<int64_t> id = ParseId(image, "up_");
    Result<store::Upload> upload = id ? store_.GetUpload(*id) : NotFound("");
    if (!upload.ok() || upload->tenant != tenant) {
      if (upload.ok() || upload.status().code() == Code::kNotFound) {
        return InvalidArgument("unknown upload id '" + image +
                               "'; upload the image with POST /v1/uploads first");
      }
      return upload.status();
    }
    inputs.push_back({{"upload", upload->path}});
  }
  return json{{"images", inputs},
              {"recipe", recipe},
              {"presets", spec.presets},
              {"sku", sku},
              {"webhook_url", spec.webhook_url}};
}

Result<JobView> StoreBackend::CreateJob(const JobRequest& request) {
  ASSIGN_OR_RETURN(json recipe, ResolveRecipe(request.spec));
  store::NewJob job;
  job.tenant = request.tenant;
  job.sku = request.sku.empty() ? "sku" : request.sku;
  job.priority = request.spec.priority;
  job.max_attempts = kMaxAttempts;
  job.webhook_url = request.spec.webhook_url;
  ASSIGN_OR_RETURN(job.payload,
                   Payload(request.tenant, request.images, job.sku, request.spec, recipe));
  ASSIGN_OR_RETURN(std::vector<int64_t> ids, store_.Enqueue({job}));
  ASSIGN_OR_RETURN(store::Job stored, store_.GetJob(ids.at(0)));
  return ToJobView(stored);
}

namespace {
BatchView ToBatchView(const store::Batch& batch, std::vector<std::string> job_ids) {
  BatchView view;
  view.id = BatchId(batch.id);
  int64_t open = 0;
  int64_t succeeded = 0;
  for (const auto& [state, count] : batch.counts) {
    view.jobs_by_state[std::string(store::JobStateName(state))] = count;
    if (!store::IsTerminal(state)) open += count;
    if (state == store::JobState::kSucceeded) succeeded += count;
  }
  view.status = open > 0 ? "running" : (succeeded == batch.total ? "succeeded" : "completed");
  if (open == batch.total) view.status = "queued";
  view.job_ids = std::move(job_ids);
  view.not_before = batch.not_before.value_or(0) / 1000;
  view.not_after = batch.not_after.value_or(0) / 1000;
  view.created_at = batch.created / 1000;
  return view;
}
}  // namespace

Result<BatchView> LoadBatchView(store::JobStore& store, const store::Batch& batch) {
  std::vector<std::string> job_ids;
  for (int64_t after = 0;;) {
    ASSIGN_OR_RETURN(store::JobPage page,
                     store.ListJobs({.batch_id = batch.id, .limit = 1000, .after_id = after}));
    for (const store::Job& job : page.jobs) job_ids.push_back(JobId(job.id));
    if (!page.next_cursor) break;
    after = *page.next_cursor;
  }
  return ToBatchView(batch, std::move(job_ids));
}

Result<BatchView> StoreBackend::CreateBatch(const BatchRequest& request) {
  ASSIGN_OR_RETURN(json recipe, ResolveRecipe(request.spec));
  store::NewBatch batch;
  batch.tenant = request.tenant;
  batch.name = recipe.value("name", "");
  batch.recipe = recipe;
  if (request.not_before > 0) batch.not_before = request.not_before * 1000;
  if (request.not_after > 0) batch.not_after = request.not_after * 1000;
  batch.webhook_url = request.spec.webhook_url;
  std::vector<store::NewJob> jobs;
  jobs.reserve(request.manifest.size());
  for (const BatchItem& item : request.manifest) {
    store::NewJob job;
    job.tenant = request.tenant;
    job.sku = item.sku;
    job.priority = request.spec.priority;
    job.max_attempts = kMaxAttempts;
    job.webhook_url = request.spec.webhook_url;
    ASSIGN_OR_RETURN(job.payload,
                     Payload(request.tenant, item.images, item.sku, request.spec, recipe));
    jobs.push_back(std::move(job));
  }
  ASSIGN_OR_RETURN(int64_t id, store_.CreateBatch(batch, jobs));
  return GetBatch(request.tenant, BatchId(id));
}

Result<store::Job> StoreBackend::OwnJob(const std::string& tenant, const std::string& id) {
  std::optional<int64_t> number = ParseId(id, "job_");
  Result<store::Job> job = number ? Reader().GetJob(*number) : NotFound("");
  if ((job.ok() && job->tenant != tenant) ||
      (!job.ok() && job.status().code() == Code::kNotFound)) {
    return NotFound("no job '" + id + "'; check the id returned by POST /v1/jobs");
  }
  return job;
}

Result<JobView> StoreBackend::GetJob(const std::string& tenant, const std::string& id) {
  ASSIGN_OR_RETURN(store::Job job, OwnJob(tenant, id));
  return ToJobView(job);
}

Result<BatchView> StoreBackend::GetBatch(const std::string& tenant, const std::string& id) {
  std::optional<int64_t> number = ParseId(id, "batch_");
  store::JobStore& reader = Reader();
  Result<store::Batch> batch = number ? reader.GetBatch(*number) : NotFound("");
  if ((batch.ok() && batch->tenant != tenant) ||
      (!batch.ok() && batch.status().code() == Code::kNotFound)) {
    return NotFound("no batch '" + id + "'; check the id returned by POST /v1/batches");
  }
  if (!batch.ok()) return batch.status();
  return LoadBatchView(reader, *batch);
}

Result<JobView> StoreBackend::CancelJob(const std::string& tenant, const std::string& id) {
  ASSIGN_OR_RETURN(store::Job job, OwnJob(tenant, id));
  if (store::IsTerminal(job.state)) {
    return Cancelled("job '" + id + "' already " + std::string(store::JobStateName(job.state)) +
                     "; there is nothing to cancel");
  }
  ASSIGN_OR_RETURN(store::Job after, store_.Cancel(job.id));
  if (after.state != store::JobState::kCancelled) {
    return Cancelled("job '" + id + "' finished (" + std::string(store::JobStateName(after.state)) +
                     ") before it could be "
                     "cancelled");
  }
  return ToJobView(after);
}

Result<json> StoreBackend::ListRecipes(const std::string&) {
  json list = json::array();
  for (const recipe::BuiltinRecipe& builtin : recipe::BuiltinRecipes()) {
    json recipe = json::parse(builtin.json, nullptr, false);
    if (recipe.is_discarded()) continue;
    list.push_back({{"name", builtin.name},
                    {"doc", recipe.value("doc", "")},
                    {"steps", recipe.value("steps", json::array())},
                    {"recipe", recipe}});
  }
  return list;
}

std::vector<ops::OpSchema> StoreBackend::OpSchemas() {
  std::vector<ops::OpSchema> schemas;
  for (const ops::OpDef* op : ops::Registry::Global().All()) schemas.push_back(op->schema);
  return schemas;
}

Result<std::string> StoreBackend::CandidatePath(const std::string& tenant,
                                                const std::string& job_id, int index) {
  ASSIGN_OR_RETURN(store::Job job, OwnJob(tenant, job_id));
  if (job.state == store::JobState::kSucceeded) {
    for (const json& c : job.result.value("candidates", json::array())) {
      if (c.value("index", 0) == index && c.contains("file")) {
        return (fs::path(paths_.JobDir(job.id)) / job.result.value("folder", "") /
                c["file"].get<std::string>())
            .string();
      }
    }
  }
  return NotFound("job '" + job_id + "' has no candidate " + std::to_string(index) +
                  (job.state == store::JobState::kSucceeded
                       ? "; GET /v1/jobs/" + job_id + " lists its candidates"
                       : " yet; it is " + std::string(store::JobStateName(job.state))));
}

Result<std::string> StoreBackend::ExportPath(const std::string& tenant, const std::string& job_id,
                                             const std::string& preset) {
  ASSIGN_OR_RETURN(store::Job job, OwnJob(tenant, job_id));
  // The export of the best-ranked accepted candidate.
  const json* best = nullptr;
  const json candidates = job.state == store::JobState::kSucceeded
                              ? job.result.value("candidates", json::array())
                              : json::array();
  {
    for (const json& c : candidates) {
      if (!c.value("accepted", false) || !c["exports"].contains(preset)) continue;
      if (!best || c.value("rank", 0) < best->value("rank", 0)) best = &c;
    }
  }
  if (!best) {
    return NotFound("job '" + job_id + "' has no export for preset '" + preset + "'" +
                    (job.state == store::JobState::kSucceeded
                         ? "; GET /v1/jobs/" + job_id + " lists its exports"
                         : " yet; it is " + std::string(store::JobStateName(job.state))));
  }
  return (fs::path(paths_.JobDir(job.id)) / job.result.value("folder", "") /
          (*best)["exports"][preset].get<std::string>())
      .string();
}

Result<std::optional<StoredResponse>> StoreBackend::GetIdempotent(const std::string& tenant,
                                                                  const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<store::IdempotencyRecord> record,
                   Reader().GetIdempotency(tenant, key));
  if (!record) return std::optional<StoredResponse>();
  // The content type is kept in front of the body: "<type>\n<body>".
  const size_t newline = record->body.find('\n');
  StoredResponse response;
  response.request_sha256 = record->request_sha256;
  response.status = record->status_code;
  response.content_type = record->body.substr(0, newline);
  response.body = newline == std::string::npos ? "" : record->body.substr(newline + 1);
  return std::optional<StoredResponse>(std::move(response));
}

Status StoreBackend::PutIdempotent(const std::string& tenant, const std::string& key,
                                   const StoredResponse& response) {
  store::IdempotencyRecord record;
  record.tenant = tenant;
  record.key = key;
  record.request_sha256 = response.request_sha256;
  record.status_code = response.status;
  record.body = response.content_type + "\n" + response.body;
  return store_.PutIdempotency(record).status();
}

Result<QueueMetrics> CollectMetrics(store::JobStore& store, const OpLatencies* latencies) {
  QueueMetrics metrics;
  ASSIGN_OR_RETURN(metrics.queue_depth, store.QueueDepth());
  ASSIGN_OR_RETURN(auto counts, store.CountByState());
  for (const auto& [state, count] : counts) {
    metrics.jobs_by_state[std::string(store::JobStateName(state))] = count;
  }
  if (latencies) metrics.op_latencies = latencies->Snapshot();
  return metrics;
}

Result<QueueMetrics> StoreBackend::Metrics() { return CollectMetrics(Reader(), latencies_); }

Status StoreBackend::RecordDelivery(const DeliveryAttempt& attempt) {
  store::WebhookDelivery delivery;
  delivery.url = attempt.url;
  delivery.event = "delivery:" + attempt.webhook_id;
  delivery.attempt = attempt.attempt;
  if (attempt.http_status > 0) delivery.status_code = attempt.http_status;
  delivery.error = attempt.error;
  if (attempt.error.empty()) delivery.delivered = attempt.at_unix * 1000;
  return store_.AddWebhookDelivery(delivery).status();
}

}  // namespace vitrine::api
