// The HTTP API (issue 6), on cpp-httplib: JSON routes under /v1, API keys, per-key rate limits,
// body and image limits, idempotent POSTs, Prometheus metrics and a generated OpenAPI document.
//
// One route table (Routes()) drives the router, the OpenAPI document and the tests. Every route
// but GET /healthz needs an API key (X-API-Key or Authorization: Bearer); a missing, unknown or
// revoked key is 401, whatever the route. Objects of another tenant are 404, as if absent.
// Errors are {"error":{"code","message","retryable"}} (errors.h), 429 with Retry-After.
//
// Idempotency-Key on a POST: the first answer under 500 is kept (per tenant and key) with a
// SHA-256 of the request; the same key with the same request replays it (header
// Idempotent-Replayed: true), with another request is 422, and while the first is still being
// handled a second one is 409.
//
// Threading: httplib serves requests on its own thread pool; the Backend must be thread-safe.
// Start() returns once the port is bound; Stop() (also called by the destructor) waits for the
// serving thread. The Backend is borrowed and must outlive the Server.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "api/backend.h"
#include "api/routes.h"
#include "api/url_guard.h"
#include "core/config.h"
#include "core/status.h"

namespace vitrine::api {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (Start() returns it)
  // Request handler threads. httplib holds one per open keep-alive connection, so this caps the
  // connections served at once; others wait (wrk -c32 with 8 threads: p99 0.9 s, with 32: 19 ms).
  int threads = 32;
  int64_t max_body_bytes = 100'000'000;  // a whole request; 413 above
  LimitsConfig limits;                   // per image, checked from its header before storing
  int max_images_per_request = 50;
  int max_batch_items = 10'000;
  double rate_per_second = 50;  // per API key, sustained
  double rate_burst = 100;      // per API key, at once
  // Applied to URL inputs and webhook targets at submission (workers vet again when fetching).
  GuardOptions guard;
  Status Validate() const;
};

// The JSON the API shows for a job or a batch (GET /v1/jobs/{id}, webhook bodies).
nlohmann::json JobToJson(const JobView& job);
nlohmann::json BatchToJson(const BatchView& batch);

class Server {
 public:
  Server(Backend& backend, ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and serves on a background thread; returns the bound port. Unavailable if the
  // address cannot be bound (the message names it), InvalidArgument for a bad config.
  Result<int> Start();
  // Stops accepting, finishes requests in flight, joins the serving thread. Idempotent.
  void Stop();

  // The route table, in the order the router tries it.
  static std::span<const RouteSpec> Routes();
  // GET /openapi.json's document, for the op schemas the backend reports.
  nlohmann::json OpenApi() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vitrine::api
