// Prometheus text exposition (format 0.0.4) of the queue and of the API's own requests.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "api/backend.h"

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

}  // namespace vitrine::api
