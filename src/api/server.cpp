#include "api/server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "api/auth.h"
#include "api/errors.h"
#include "api/listen.h"
#include "api/metrics.h"
#include "api/openapi.h"
#include "core/sha256.h"
#include "io/image_io.h"

namespace vitrine::api {

using nlohmann::json;

namespace {

// What a handler produces; Dispatch turns it into the HTTP response.
struct Reply {
  Reply() = default;
  Reply(int status_code, std::string type, std::string content)
      : status(status_code), content_type(std::move(type)), body(std::move(content)) {}
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  httplib::Headers headers;
};

Reply JsonReply(int status, const json& body) { return {status, "application/json", body.dump()}; }

Reply ErrorReply(const ApiError& error) {
  Reply reply{error.http_status, "application/json", ErrorBody(error)};
  if (error.http_status == 401) {
    // RFC 9110: a 401 names the scheme that would work.
    reply.headers.emplace("WWW-Authenticate", "Bearer realm=\"vitrine\"");
  }
  if (error.retry_after_seconds > 0) {
    reply.headers.emplace("Retry-After", std::to_string(error.retry_after_seconds));
  }
  return reply;
}

Reply ErrorReply(const Status& status) {
  if (status.code() == Code::kInternal || status.code() == Code::kModelFailure) {
    spdlog::error("api: {}", status.ToString());
  }
  return ErrorReply(FromStatus(status));
}

std::string JobLink(const std::string& id) { return "/v1/jobs/" + id; }

}  // namespace

json JobToJson(const JobView& job) {
  json candidates = json::array();
  for (const Candidate& candidate : job.candidates) {
    candidates.push_back(
        {{"index", candidate.index},
         {"qa", candidate.qa},
         {"url", JobLink(job.id) + "/candidates/" + std::to_string(candidate.index)}});
  }
  json exports = json::object();
  for (const std::string& preset : job.exports) {
    exports[preset] = JobLink(job.id) + "/exports/" + preset;
  }
  json body = {{"id", job.id},
               {"status", job.status},
               {"progress", job.progress},
               {"sku", job.sku},
               {"attempts", job.attempts},
               {"candidates", candidates},
               {"exports", exports},
               {"created_at", job.created_at},
               {"updated_at", job.updated_at},
               {"links", {{"self", JobLink(job.id)}}}};
  if (!job.batch_id.empty()) {
    body["batch_id"] = job.batch_id;
    body["links"]["batch"] = "/v1/batches/" + job.batch_id;
  }
  if (job.error) {
    ApiError error = FromStatus(*job.error);
    if (!job.error_code.empty()) {
      error.code = job.error_code;
      error.retryable = false;
    }
    body["error"] = {
        {"code", error.code}, {"message", error.message}, {"retryable", error.retryable}};
  }
  return body;
}

json BatchToJson(const BatchView& batch) {
  json body = {{"id", batch.id},
               {"status", batch.status},
               {"jobs", batch.jobs_by_state},
               {"job_ids", batch.job_ids},
               {"created_at", batch.created_at},
               {"links", {{"self", "/v1/batches/" + batch.id}}}};
  if (batch.not_before > 0) body["not_before"] = batch.not_before;
  if (batch.not_after > 0) body["not_after"] = batch.not_after;
  return body;
}

namespace {

// RFC 3339 ("2026-11-24T22:00:00Z", "...+02:00", fractional seconds ignored) to unix seconds.
Result<int64_t> ParseTime(const std::string& text, const std::string& field) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return InvalidArgument(field + " '" + text +
                           "' is not an RFC 3339 time; write it like 2026-11-24T22:00:00Z");
  }
  std::string_view rest = std::string_view(text).substr(static_cast<size_t>(consumed));
  if (!rest.empty() && rest[0] == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0])))
      rest.remove_prefix(1);
  }
  int64_t offset = 0;
  if (rest == "Z" || rest == "z") {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    const int hours = std::atoi(std::string(rest.substr(1, 2)).c_str());
    const int minutes = std::atoi(std::string(rest.substr(4, 2)).c_str());
    offset = (rest[0] == '+' ? 1 : -1) * (hours * 3600 + minutes * 60);
  } else {
    return InvalidArgument(field + " '" + text +
                           "' has no time zone; end it with Z or an offset like +02:00");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

Result<std::vector<std::string>> StringList(const json& value, const std::string& field) {
  std::vector<std::string> list;
  if (value.is_string()) {  // "a,b,c", as multipart sends it
    std::string item;
    for (char c : value.get<std::string>() + ",") {
      if (c == ',') {
        if (!item.empty()) list.push_back(item);
        item.clear();
      } else if (c != ' ') {
        item += c;
      }
    }
    return list;
  }
  if (!value.is_array()) {
    return InvalidArgument("'" + field + "' must be an array of strings");
  }
  for (const json& item : value) {
    if (!item.is_string() || item.get<std::string>().empty()) {
      return InvalidArgument("'" + field + "' must hold non-empty strings only");
    }
    list.push_back(item.get<std::string>());
  }
  return list;
}

Result<json> CheckFields(json body, const std::set<std::string>& known, const std::string& schema) {
  for (const auto& [name, value] : body.items()) {
    if (!known.count(name)) {
      return InvalidArgument("unknown field '" + name + "'; see " + schema +
                             " in GET /openapi.json");
    }
  }
  return body;
}

// What makes two requests "the same" for Idempotency-Key: method, path, and the body; httplib
// parses multipart bodies into parts (the raw body is gone), so those count part by part.
std::string RequestDigest(const httplib::Request& request) {
  std::string content = request.method + "\n" + request.path + "\n";
  if (!request.is_multipart_form_data()) {
    content += request.get_header_value("Content-Type") + "\n" + request.body;
    return Sha256Hex(content);
  }
  for (const auto& [name, part] : request.files) {
    content += Sha256Hex(name) + Sha256Hex(part.filename) + Sha256Hex(part.content_type) +
               Sha256Hex(part.content) + "\n";
  }
  return Sha256Hex(content);
}

// Submission-time URL checks, one DNS lookup per distinct host and port in a request (a batch
// lists hundreds of URLs on a few hosts). Workers vet again when they fetch.
class UrlVetter {
 public:
  explicit UrlVetter(const GuardOptions& guard) : guard_(guard) {}
  Status Check(const std::string& url) {
    ASSIGN_OR_RETURN(Url parsed, ParseUrl(url));
    const std::string endpoint = parsed.host + " " + std::to_string(parsed.port);
    auto [it, inserted] = checked_.try_emplace(endpoint);
    if (inserted) {
      Result<VettedTarget> vetted = Vet(parsed, guard_);
      // A name that does not resolve is a mistake in the request, not a missing resource.
      it->second = vetted.ok() || vetted.status().code() != Code::kNotFound
                       ? (vetted.ok() ? Status::Ok() : vetted.status())
                       : InvalidArgument(vetted.status().message());
    }
    return it->second;
  }

 private:
  const GuardOptions& guard_;
  std::map<std::string, Status> checked_;
};

constexpr const char* kNoImage =
    "no image in the request; send one multipart field named 'image' per file";

// The body as a JSON object whose fields are all in `known`; `schema` names the OpenAPI
// component that documents them.
Result<json> ParseObject(const std::string& text, const std::set<std::string>& known,
                         const std::string& schema) {
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return InvalidArgument("the body is not a JSON object; send application/json as described by " +
                           schema + " in GET /openapi.json");
  }
  return CheckFields(body, known, schema);
}

}  // namespace

Status ServerConfig::Validate() const {
  if (port < 0 || port > 65535) return InvalidArgument("port must be 0-65535 (0: any free port)");
  if (threads < 1) return InvalidArgument("threads must be at least 1");
  if (max_body_bytes < 1024) return InvalidArgument("max_body_bytes must be at least 1024");
  if (max_images_per_request < 1 || max_batch_items < 1) {
    return InvalidArgument("max_images_per_request and max_batch_items must be at least 1");
  }
  if (!(rate_per_second > 0) || !(rate_burst >= 1)) {
    return InvalidArgument("rate_per_second must be > 0 and rate_burst >= 1");
  }
  return limits.Validate();
}

class Server::Impl {
 public:
  struct Call {
    const httplib::Request& http;
    const Principal& principal;
  };
  using Handler = Reply (Impl::*)(const Call&);
  struct Route {
    RouteSpec spec;
    Handler handler;
  };
  static const std::vector<Route>& Table();

  Impl(Backend& backend, ServerConfig config)
      : backend_(backend),
        config_(std::move(config)),
        limiter_(config_.rate_per_second, config_.rate_burst) {}

  Result<int> Start();
  void Stop();

 private:
  void Dispatch(const Route& route, const httplib::Request& request, httplib::Response& response);
  Reply Authenticate(const httplib::Request& request, Principal* principal);
  Reply RunIdempotent(const Route& route, const Call& call, const std::string& key);
  std::string Path(const Call& call, int index) const { return call.http.matches[index]; }

  // Reads what to run from a request object, checking params against the op schemas and
  // vetting the webhook target.
  Result<RecipeSpec> ReadSpec(const json& body, UrlVetter& urls);
  Result<std::vector<std::string>> ReadImages(const json& value, const std::string& field,
                                              UrlVetter& urls);
  // Checks every image part against the limits, then stores them all (all or none checked).
  Result<std::vector<UploadInfo>> StoreUploads(const httplib::Request& request,
                                               const std::string& tenant);
  Reply Artifact(Result<std::string> path);

  Reply CreateUploads(const Call& call);
  Reply CreateJob(const Call& call);
  Reply CreateBatch(const Call& call);
  Reply GetJob(const Call& call);
  Reply GetCandidate(const Call& call);
  Reply GetExport(const Call& call);
  Reply GetBatch(const Call& call);
  Reply CancelJob(const Call& call);
  Reply ListRecipes(const Call& call);
  Reply ListOps(const Call& call);
  Reply OpenApiDoc(const Call& call);
  Reply Health(const Call& call);
  Reply Metrics(const Call& call);

 public:
  json OpenApi() const { return BuildOpenApi(Server::Routes(), backend_.OpSchemas()); }

 private:
  Backend& backend_;
  const ServerConfig config_;
  RateLimiter limiter_;
  RequestStats stats_;
  std::mutex in_flight_mutex_;
  std::set<std::pair<std::string, std::string>> in_flight_;  // (tenant, Idempotency-Key)
  httplib::Server http_;
  std::thread thread_;
};

const std::vector<Server::Impl::Route>& Server::Impl::Table() {
  static const std::vector<Route> kTable = {
      {{"POST", "/v1/uploads", "createUploads",
        "Upload images (multipart field 'image', "
        "repeatable); returns their ids",
        true, Body::kMultipart, 201, "application/json", "Uploads"},
       &Impl::CreateUploads},
      {{"POST", "/v1/jobs", "createJob", "Submit one SKU's images with a recipe", true,
        Body::kJsonOrMultipart, 202, "application/json", "Job"},
       &Impl::CreateJob},
      {{"POST", "/v1/batches", "createBatch",
        "Submit a manifest of SKUs with a recipe and an "
        "optional schedule",
        true, Body::kJson, 202, "application/json", "Batch"},
       &Impl::CreateBatch},
      {{"GET", "/v1/jobs/{id}", "getJob", "A job's status, progress, candidates and errors", true,
        Body::kNone, 200, "application/json", "Job"},
       &Impl::GetJob},
      {{"GET", "/v1/jobs/{id}/candidates/{n}", "getCandidate", "A candidate image's bytes", true,
        Body::kNone, 200, "image/*", ""},
       &Impl::GetCandidate},
      {{"GET", "/v1/jobs/{id}/exports/{preset}", "getExport", "An export's image bytes", true,
        Body::kNone, 200, "image/*", ""},
       &Impl::GetExport},
      {{"DELETE", "/v1/jobs/{id}", "cancelJob", "Cancel a queued or running job", true, Body::kNone,
        200, "application/json", "Job"},
       &Impl::CancelJob},
      {{"GET", "/v1/batches/{id}", "getBatch", "A batch's status and job counts", true, Body::kNone,
        200, "application/json", "Batch"},
       &Impl::GetBatch},
      {{"GET", "/v1/recipes", "listRecipes", "The built-in recipes", true, Body::kNone, 200,
        "application/json", "Recipes"},
       &Impl::ListRecipes},
      {{"GET", "/v1/ops", "listOps", "Every op's parameter schema", true, Body::kNone, 200,
        "application/json", "Ops"},
       &Impl::ListOps},
      {{"GET", "/openapi.json", "getOpenApi", "This API's OpenAPI 3.1 document", true, Body::kNone,
        200, "application/json", ""},
       &Impl::OpenApiDoc},
      {{"GET", "/healthz", "health", "Liveness; needs no key", false, Body::kNone, 200,
        "application/json", ""},
       &Impl::Health},
      {{"GET", "/metrics", "metrics",
        "Prometheus metrics: queue depth, jobs by state, op "
        "latencies, requests",
        true, Body::kNone, 200, "text/plain", ""},
       &Impl::Metrics},
  };
  return kTable;
}

Result<int> Server::Impl::Start() {
  RETURN_IF_ERROR(config_.Validate());
  const int threads = config_.threads;
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_.set_payload_max_length(static_cast<size_t>(config_.max_body_bytes));
  // httplib closes a keep-alive connection after 5 requests by default; polling clients (GET
  // /v1/jobs/{id} in a loop) would pay a new connection every 5 requests.
  http_.set_keep_alive_max_count(1000);
  // Headers and body go out in two writes; with Nagle's algorithm the second waits for the
  // client's delayed ACK (~40 ms per request).
  http_.set_tcp_nodelay(true);
  for (const Route& route : Table()) {
    // "{name}" segments become captures, in order.
    const std::string pattern =
        std::regex_replace(std::string(route.spec.path), std::regex(R"(\{[a-z_]+\})"), "([^/]+)");
    auto handler = [this, &route](const httplib::Request& request, httplib::Response& response) {
      Dispatch(route, request, response);
    };
    if (route.spec.method == "GET") http_.Get(pattern, handler);
    if (route.spec.method == "POST") http_.Post(pattern, handler);
    if (route.spec.method == "DELETE") http_.Delete(pattern, handler);
  }
  // httplib's own answers (no route, body over the limit, malformed request) get the JSON shape.
  http_.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&,
                                                                  httplib::Response& response) {
    if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    ApiError error;
    switch (response.status) {
      case 404:
        error = FromStatus(NotFound("no such route; see GET /openapi.json for the routes"));
        break;
      case 413:
        error = FromStatus(ResourceExhausted(
            "the request body is over the server's limit; send fewer or smaller images per "
            "request"));
        break;
      case 405:
        error = {405, "method_not_allowed",
                 "this route does not take that method; see GET "
                 "/openapi.json",
                 false, 0};
        break;
      default:
        error = {response.status, "bad_request",
                 "the server could not read the request (HTTP " + std::to_string(response.status) +
                     "): malformed, or a method this API does not use (GET, POST, DELETE)",
                 false, 0};
    }
    response.set_content(ErrorBody(error), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  http_.set_exception_handler(
      [](const httplib::Request& request, httplib::Response& response, std::exception_ptr error) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("api: {} {}: {}", request.method, request.path, what);
        response.status = 500;
        response.set_content(ErrorBody(FromStatus(Internal(what))), "application/json");
      });

  return BindAndServe(http_, config_.host, config_.port, "--listen", &thread_);
}

void Server::Impl::Stop() {
  http_.stop();
  if (thread_.joinable()) thread_.join();
}

void Server::Impl::Dispatch(const Route& route, const httplib::Request& request,
                            httplib::Response& response) {
  const auto start = std::chrono::steady_clock::now();
  Principal principal;
  Reply reply;
  if (route.spec.needs_key) reply = Authenticate(request, &principal);
  if (reply.body.empty()) {
    const Call call{request, principal};
    const std::string idempotency_key = request.get_header_value("Idempotency-Key");
    if (route.spec.method == "POST" && !idempotency_key.empty()) {
      reply = RunIdempotent(route, call, idempotency_key);
    } else {
      reply = (this->*route.handler)(call);
    }
  }
  response.status = reply.status;
  for (const auto& [name, value] : reply.headers) response.set_header(name, value);
  response.set_content(std::move(reply.body), reply.content_type);
  stats_.Record(std::string(route.spec.method) + " " + std::string(route.spec.path), reply.status,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

Reply Server::Impl::Authenticate(const httplib::Request& request, Principal* principal) {
  std::optional<std::string> key = ExtractApiKey(request.get_header_value("X-API-Key"),
                                                 request.get_header_value("Authorization"));
  if (!key) {
    return ErrorReply(Unauthenticated(
        "this route needs an API key; send it in the X-API-Key header (or Authorization: "
        "Bearer <key>); create one with vitrine keys create"));
  }
  Result<Principal> found = backend_.LookupKey(HashApiKey(*key));
  if (!found.ok()) {
    if (found.status().code() != Code::kNotFound) return ErrorReply(found.status());
    return ErrorReply(Unauthenticated(
        "the API key is not known; check that it was copied whole, or create one with vitrine "
        "keys create"));
  }
  if (found->revoked) {
    return ErrorReply(
        Unauthenticated("the API key was revoked; create a new one with vitrine keys create"));
  }
  const RateLimiter::Decision decision =
      limiter_.Acquire(found->key_id, std::chrono::steady_clock::now());
  if (!decision.allowed) return ErrorReply(RateLimited(decision.retry_after_seconds));
  *principal = std::move(found).value();
  return {};
}

Reply Server::Impl::RunIdempotent(const Route& route, const Call& call, const std::string& key) {
  if (key.size() > 255) {
    return ErrorReply(InvalidArgument("Idempotency-Key is " + std::to_string(key.size()) +
                                      " characters; use at most 255 (a UUID is ideal)"));
  }
  const std::string& tenant = call.principal.tenant;
  const std::string request_sha256 = RequestDigest(call.http);
  Result<std::optional<StoredResponse>> stored = backend_.GetIdempotent(tenant, key);
  if (!stored.ok()) return ErrorReply(stored.status());
  if (*stored) {
    const StoredResponse& first = **stored;
    if (first.request_sha256 != request_sha256) {
      return ErrorReply(Unprocessable(
          "this Idempotency-Key was used with a different request; use a new key for a new "
          "request"));
    }
    Reply replay{first.status, first.content_type, first.body};
    replay.headers.emplace("Idempotent-Replayed", "true");
    return replay;
  }
  {
    std::lock_guard lock(in_flight_mutex_);
    if (!in_flight_.insert({tenant, key}).second) {
      return ErrorReply(Conflict(
          "a request with this Idempotency-Key is still being handled; retry in a moment"));
    }
  }
  // Released however the handler ends (httplib turns exceptions into 500s).
  struct Release {
    Impl* impl;
    std::pair<std::string, std::string> entry;
    ~Release() {
      std::lock_guard lock(impl->in_flight_mutex_);
      impl->in_flight_.erase(entry);
    }
  } release{this, {tenant, key}};
  Reply reply = (this->*route.handler)(call);
  if (reply.status < 500) {
    Status put = backend_.PutIdempotent(
        tenant, key, {request_sha256, reply.status, reply.content_type, reply.body});
    if (!put.ok()) spdlog::warn("api: idempotency record not kept: {}", put.ToString());
  }
  return reply;
}

Result<std::vector<std::string>> Server::Impl::ReadImages(const json& value,
                                                          const std::string& field,
                                                          UrlVetter& urls) {
  ASSIGN_OR_RETURN(std::vector<std::string> images, StringList(value, field));
  if (images.empty()) {
    return InvalidArgument("'" + field + "' is empty; list upload ids or http(s) URLs");
  }
  if (static_cast<int>(images.size()) > config_.max_images_per_request) {
    return InvalidArgument("'" + field + "' lists " + std::to_string(images.size()) +
                           " images; the limit is " +
                           std::to_string(config_.max_images_per_request) + " per SKU");
  }
  for (const std::string& image : images) {
    if (image.find(':') != std::string::npos) {  // a URL, not an upload id
      RETURN_IF_ERROR(urls.Check(image));
    }
  }
  return images;
}

Result<RecipeSpec> Server::Impl::ReadSpec(const json& body, UrlVetter& urls) {
  RecipeSpec common;
  if (!body.contains("recipe") || !(body["recipe"].is_string() || body["recipe"].is_object())) {
    return InvalidArgument(
        "'recipe' is required: a built-in recipe name (GET /v1/recipes) or a "
        "recipe object");
  }
  common.recipe = body["recipe"];
  if (body.contains("params") && !body["params"].is_null()) {
    if (!body["params"].is_object()) {
      return InvalidArgument(
          "'params' must be an object keyed by op name, like "
          "{\"cutout\": {\"crop\": true}}");
    }
    const std::vector<ops::OpSchema> schemas = backend_.OpSchemas();
    for (const auto& [op, params] : body["params"].items()) {
      auto schema = std::find_if(schemas.begin(), schemas.end(),
                                 [&](const ops::OpSchema& s) { return s.name == op; });
      if (schema == schemas.end()) {
        return InvalidArgument("'params' names the op '" + op +
                               "', which does not exist; see GET /v1/ops");
      }
      // Only the fields given are kept: the recipe supplies the others.
      Result<json> valid = schema->Validate(params);
      if (!valid.ok()) return valid.status();
    }
    common.params = body["params"];
  }
  if (body.contains("presets")) {
    ASSIGN_OR_RETURN(common.presets, StringList(body["presets"], "presets"));
  }
  if (body.contains("webhook_url") && !body["webhook_url"].is_null()) {
    if (!body["webhook_url"].is_string()) {
      return InvalidArgument("'webhook_url' must be a string (an https URL)");
    }
    common.webhook_url = body["webhook_url"].get<std::string>();
    Status vetted = urls.Check(common.webhook_url);
    if (!vetted.ok()) return vetted.WithContext("webhook_url");
  }
  if (body.contains("priority")) {
    if (!body["priority"].is_number_integer() || body["priority"].get<int64_t>() < -100 ||
        body["priority"].get<int64_t>() > 100) {
      return InvalidArgument("'priority' must be an integer from -100 to 100 (higher runs first)");
    }
    common.priority = body["priority"].get<int>();
  }
  return common;
}

Result<std::vector<UploadInfo>> Server::Impl::StoreUploads(const httplib::Request& request,
                                                           const std::string& tenant) {
  std::vector<std::pair<const httplib::MultipartFormData*, io::ImageHeader>> checked;
  for (auto [it, end] = request.files.equal_range("image"); it != end; ++it) {
    const httplib::MultipartFormData& part = it->second;
    const std::string name = part.filename.empty() ? "image" : part.filename;
    if (static_cast<int>(checked.size()) >= config_.max_images_per_request) {
      return InvalidArgument("more than " + std::to_string(config_.max_images_per_request) +
                             " images in one request; split them over several requests");
    }
    Result<io::ImageHeader> header = io::CheckLimits(part.content, config_.limits);
    if (!header.ok()) return header.status().WithContext(name);
    checked.emplace_back(&part, *header);
  }
  std::vector<UploadInfo> uploads;
  for (const auto& [part, header] : checked) {
    ASSIGN_OR_RETURN(UploadInfo upload,
                     backend_.CreateUpload(tenant, part->filename, part->content, header));
    uploads.push_back(std::move(upload));
  }
  return uploads;
}

Reply Server::Impl::CreateUploads(const Call& call) {
  if (!call.http.is_multipart_form_data()) {
    return ErrorReply(
        InvalidArgument("send images as multipart/form-data, one field named 'image' per file"));
  }
  Result<std::vector<UploadInfo>> uploads = StoreUploads(call.http, call.principal.tenant);
  if (!uploads.ok()) return ErrorReply(uploads.status());
  if (uploads->empty()) return ErrorReply(InvalidArgument(kNoImage));
  json list = json::array();
  for (const UploadInfo& upload : *uploads) {
    list.push_back({{"id", upload.id},
                    {"filename", upload.filename},
                    {"format", io::FormatName(upload.format)},
                    {"width", upload.width},
                    {"height", upload.height},
                    {"bytes", upload.bytes}});
  }
  return JsonReply(201, {{"uploads", list}});
}

Reply Server::Impl::CreateJob(const Call& call) {
  static const std::set<std::string> kKnown = {"images",  "recipe",      "params",  "sku",
                                               "presets", "webhook_url", "priority"};
  UrlVetter urls(config_.guard);
  Result<json> body = InvalidArgument(kNoImage);
  if (call.http.is_multipart_form_data()) {
    // Multipart fields map onto the JSON request: images become uploads, recipe and params are
    // JSON where they parse as such.
    json fields = json::object();
    for (const auto& [name, part] : call.http.files) {
      if (name == "image") continue;
      json parsed = json::parse(part.content, nullptr, false);
      if (name == "params" && parsed.is_discarded()) {
        return ErrorReply(InvalidArgument("the 'params' field is not valid JSON"));
      }
      const bool as_json = (name == "params" || name == "recipe") && parsed.is_object();
      fields[name] = as_json ? parsed : json(part.content);
    }
    if (!call.http.has_file("image")) return ErrorReply(InvalidArgument(kNoImage));
    body = CheckFields(std::move(fields), kKnown, "the multipart form of POST /v1/jobs");
    // Everything else is checked before any image is stored.
    if (body.ok()) {
      Result<RecipeSpec> early = ReadSpec(*body, urls);
      if (!early.ok()) return ErrorReply(early.status());
      Result<std::vector<UploadInfo>> uploads = StoreUploads(call.http, call.principal.tenant);
      if (!uploads.ok()) return ErrorReply(uploads.status());
      (*body)["images"] = json::array();
      for (const UploadInfo& upload : *uploads) (*body)["images"].push_back(upload.id);
    }
  } else {
    body = ParseObject(call.http.body, kKnown, "JobRequest");
  }
  if (!body.ok()) return ErrorReply(body.status());
  JobRequest request;
  request.tenant = call.principal.tenant;
  Result<RecipeSpec> spec = ReadSpec(*body, urls);
  if (!spec.ok()) return ErrorReply(spec.status());
  request.spec = std::move(spec).value();
  Result<std::vector<std::string>> images =
      ReadImages(body->contains("images") ? (*body)["images"] : json(), "images", urls);
  if (!images.ok()) return ErrorReply(images.status());
  request.images = std::move(images).value();
  if (body->contains("sku")) {
    if (!(*body)["sku"].is_string()) return ErrorReply(InvalidArgument("'sku' must be a string"));
    request.sku = (*body)["sku"].get<std::string>();
  }
  Result<JobView> job = backend_.CreateJob(request);
  if (!job.ok()) return ErrorReply(job.status());
  Reply reply = JsonReply(
      202, {{"id", job->id}, {"status", job->status}, {"links", {{"self", JobLink(job->id)}}}});
  reply.headers.emplace("Location", JobLink(job->id));
  return reply;
}

Reply Server::Impl::CreateBatch(const Call& call) {
  Result<json> parsed = ParseObject(
      call.http.body,
      {"manifest", "recipe", "params", "presets", "schedule", "webhook_url", "priority"},
      "BatchRequest");
  if (!parsed.ok()) return ErrorReply(parsed.status());
  const json& body = *parsed;
  UrlVetter urls(config_.guard);
  BatchRequest request;
  request.tenant = call.principal.tenant;
  Result<RecipeSpec> spec = ReadSpec(body, urls);
  if (!spec.ok()) return ErrorReply(spec.status());
  request.spec = std::move(spec).value();
  if (!body.contains("manifest") || !body["manifest"].is_array() || body["manifest"].empty()) {
    return ErrorReply(InvalidArgument(
        "'manifest' is required: a non-empty array of {\"sku\": ..., \"images\": [...]}"));
  }
  if (static_cast<int>(body["manifest"].size()) > config_.max_batch_items) {
    return ErrorReply(InvalidArgument(
        "the manifest has " + std::to_string(body["manifest"].size()) + " items; the limit is " +
        std::to_string(config_.max_batch_items) + "; split it into several batches"));
  }
  std::set<std::string> skus;
  for (size_t i = 0; i < body["manifest"].size(); ++i) {
    const json& item = body["manifest"][i];
    const std::string where = "manifest[" + std::to_string(i) + "]";
    if (!item.is_object() || !item.contains("sku") || !item["sku"].is_string() ||
        item["sku"].get<std::string>().empty()) {
      return ErrorReply(InvalidArgument(where + " needs a non-empty string 'sku'"));
    }
    BatchItem entry;
    entry.sku = item["sku"].get<std::string>();
    if (!skus.insert(entry.sku).second) {
      return ErrorReply(InvalidArgument(where + " repeats the SKU '" + entry.sku +
                                        "'; list each SKU once with all its images"));
    }
    Result<std::vector<std::string>> images =
        ReadImages(item.contains("images") ? item["images"] : json(), where + ".images", urls);
    if (!images.ok()) return ErrorReply(images.status());
    entry.images = std::move(images).value();
    request.manifest.push_back(std::move(entry));
  }
  if (body.contains("schedule") && !body["schedule"].is_null()) {
    const json& schedule = body["schedule"];
    if (!schedule.is_object()) {
      return ErrorReply(InvalidArgument(
          "'schedule' must be an object like {\"not_before\": \"2026-11-24T22:00:00Z\"}"));
    }
    for (const char* field : {"not_before", "not_after"}) {
      if (!schedule.contains(field)) continue;
      if (!schedule[field].is_string()) {
        return ErrorReply(
            InvalidArgument(std::string("schedule.") + field + " must be an RFC 3339 time string"));
      }
      Result<int64_t> time = ParseTime(schedule[field], std::string("schedule.") + field);
      if (!time.ok()) return ErrorReply(time.status());
      (std::string_view(field) == "not_before" ? request.not_before : request.not_after) = *time;
    }
    if (request.not_before > 0 && request.not_after > 0 &&
        request.not_after <= request.not_before) {
      return ErrorReply(InvalidArgument("schedule.not_after must be later than not_before"));
    }
  }
  Result<BatchView> batch = backend_.CreateBatch(request);
  if (!batch.ok()) return ErrorReply(batch.status());
  Reply reply = JsonReply(202, BatchToJson(*batch));
  reply.headers.emplace("Location", "/v1/batches/" + batch->id);
  return reply;
}

Reply Server::Impl::GetJob(const Call& call) {
  Result<JobView> job = backend_.GetJob(call.principal.tenant, Path(call, 1));
  if (!job.ok()) return ErrorReply(job.status());
  return JsonReply(200, JobToJson(*job));
}

Reply Server::Impl::Artifact(Result<std::string> path) {
  if (!path.ok()) return ErrorReply(path.status());
  Result<std::string> bytes = io::ReadFile(*path, config_.limits.max_bytes);
  if (!bytes.ok()) {
    // The path is the server's business, not the client's.
    if (bytes.status().code() == Code::kNotFound) {
      return ErrorReply(NotFound("the image is no longer stored; run the job again"));
    }
    return ErrorReply(Internal(bytes.status().message()));
  }
  static const std::map<io::Format, std::string> kTypes = {{io::Format::kPng, "image/png"},
                                                           {io::Format::kJpeg, "image/jpeg"},
                                                           {io::Format::kWebp, "image/webp"}};
  const auto type = kTypes.find(io::SniffFormat(*bytes));
  Reply reply{200, type == kTypes.end() ? "application/octet-stream" : type->second,
              std::move(bytes).value()};
  reply.headers.emplace("Cache-Control", "private, max-age=3600");
  return reply;
}

Reply Server::Impl::GetCandidate(const Call& call) {
  const std::string n = Path(call, 2);
  if (n.empty() || n.size() > 6 || !std::all_of(n.begin(), n.end(), ::isdigit)) {
    return ErrorReply(InvalidArgument("candidate index '" + n +
                                      "' is not a number; use the index from GET /v1/jobs/{id}"));
  }
  return Artifact(backend_.CandidatePath(call.principal.tenant, Path(call, 1), std::stoi(n)));
}

Reply Server::Impl::GetExport(const Call& call) {
  return Artifact(backend_.ExportPath(call.principal.tenant, Path(call, 1), Path(call, 2)));
}

Reply Server::Impl::GetBatch(const Call& call) {
  Result<BatchView> batch = backend_.GetBatch(call.principal.tenant, Path(call, 1));
  if (!batch.ok()) return ErrorReply(batch.status());
  return JsonReply(200, BatchToJson(*batch));
}

Reply Server::Impl::CancelJob(const Call& call) {
  Result<JobView> job = backend_.CancelJob(call.principal.tenant, Path(call, 1));
  if (!job.ok()) return ErrorReply(job.status());
  return JsonReply(200, JobToJson(*job));
}

Reply Server::Impl::ListRecipes(const Call& call) {
  Result<json> recipes = backend_.ListRecipes(call.principal.tenant);
  if (!recipes.ok()) return ErrorReply(recipes.status());
  return JsonReply(200, {{"recipes", *recipes}});
}

Reply Server::Impl::ListOps(const Call&) {
  json list = json::array();
  for (const ops::OpSchema& op : backend_.OpSchemas()) list.push_back(op.ToJson());
  return JsonReply(200, {{"ops", list}});
}

Reply Server::Impl::OpenApiDoc(const Call&) { return JsonReply(200, OpenApi()); }

Reply Server::Impl::Health(const Call&) { return JsonReply(200, {{"status", "ok"}}); }

Reply Server::Impl::Metrics(const Call&) {
  Result<QueueMetrics> queue = backend_.Metrics();
  if (!queue.ok()) return ErrorReply(queue.status());
  std::string text = PrometheusText(*queue);
  stats_.AppendTo(&text);
  return {200, "text/plain; version=0.0.4", std::move(text)};
}

Server::Server(Backend& backend, ServerConfig config)
    : impl_(std::make_unique<Impl>(backend, std::move(config))) {}

Server::~Server() { Stop(); }

Result<int> Server::Start() { return impl_->Start(); }

void Server::Stop() { impl_->Stop(); }

std::span<const RouteSpec> Server::Routes() {
  static const std::vector<RouteSpec> kSpecs = [] {
    std::vector<RouteSpec> specs;
    for (const Impl::Route& route : Impl::Table()) specs.push_back(route.spec);
    return specs;
  }();
  return kSpecs;
}

json Server::OpenApi() const { return impl_->OpenApi(); }

}  // namespace vitrine::api
