// Prometheus text exposition (format 0.0.4) of the queue and of the API's own requests.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api/backend.h"
#include "core/status.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace vitrine::api {

// Requests served, by route template and status, with their total duration. Thread-safe.
class RequestStats {
 public:
  void Record(const std::string& route, int status, double seconds);
  // Appends vitrine_http_requests_total and vitrine_http_request_seconds_total.
  void AppendTo(std::string* text) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::pair<int64_t, double>> counts_;
};

// How long ops take, as histograms for vitrine_op_duration_seconds. The workers of a process
// record what they compute (cache hits are not op latencies); /metrics of that process shows it.
// Thread-safe.
class OpLatencies {
 public:
  void Record(const std::string& op, double seconds);
  std::vector<LatencyHistogram> Snapshot() const;

 private:
  struct Series {
    std::vector<int64_t> counts;  // per bucket of kBounds, not cumulative
    double sum = 0;
    int64_t count = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Series> series_;
};

// vitrine_queue_depth, vitrine_jobs{state}, vitrine_op_duration_seconds{op} (histogram).
std::string PrometheusText(const QueueMetrics& queue);

// GET /metrics (PrometheusText of `source`) and GET /healthz on a port of their own, for a process
// without the API (`vitrine worker --metrics-listen`). No API key, as for any Prometheus
// exporter: bind it to an address only the scraper reaches. A failing source answers 503 with its
// message. `source` is called on the endpoint's threads and must be thread-safe.
class MetricsEndpoint {
 public:
  using Source = std::function<Result<QueueMetrics>()>;
  explicit MetricsEndpoint(Source source);
  ~MetricsEndpoint();  // Stop()
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // Binds host:port (0: any free port) and serves; returns the bound port. Unavailable when the
  // port cannot be bound (the message names it and --metrics-listen).
  Result<int> Start(const std::string& host, int port);
  // Stops serving and joins the thread. Idempotent.
  void Stop();

 private:
  Source source_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
};

}  // namespace vitrine::api
