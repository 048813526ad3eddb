// Prometheus text exposition (format 0.0.4) of the queue and of the API's own requests.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

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

// vitrine_queue_depth, vitrine_jobs{state}, vitrine_op_duration_seconds{op} (histogram).
std::string PrometheusText(const QueueMetrics& queue);

}  // namespace vitrine::api
