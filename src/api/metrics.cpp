#include "api/metrics.h"

#include <cstdio>

#include "api/listen.h"

namespace vitrine::api {
namespace {

// Label values escape backslash, double quote and newline.
std::string Label(const std::string& value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      escaped += '\\';
      escaped += c;
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return '"' + escaped + '"';
}

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.9g", value);
  return text;
}

void Header(std::string* text, const char* name, const char* type, const char* help) {
  *text += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

void RequestStats::Record(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mutex_);
  auto& entry = counts_[{route, status}];
  entry.first += 1;
  entry.second += seconds;
}

void RequestStats::AppendTo(std::string* text) const {
  std::lock_guard lock(mutex_);
  Header(text, "vitrine_http_requests_total", "counter", "HTTP requests served.");
  for (const auto& [key, value] : counts_) {
    *text += "vitrine_http_requests_total{route=" + Label(key.first) +
             ",status=" + Label(std::to_string(key.second)) + "} " + std::to_string(value.first) +
             "\n";
  }
  Header(text, "vitrine_http_request_seconds_total", "counter",
         "Time spent serving HTTP requests.");
  for (const auto& [key, value] : counts_) {
    *text += "vitrine_http_request_seconds_total{route=" + Label(key.first) +
             ",status=" + Label(std::to_string(key.second)) + "} " + Number(value.second) + "\n";
  }
}

std::string PrometheusText(const QueueMetrics& queue) {
  std::string text;
  Header(&text, "vitrine_queue_depth", "gauge", "Jobs ready to run now.");
  text += "vitrine_queue_depth " + std::to_string(queue.queue_depth) + "\n";
  Header(&text, "vitrine_jobs", "gauge", "Jobs by state.");
  for (const auto& [state, count] : queue.jobs_by_state) {
    text += "vitrine_jobs{state=" + Label(state) + "} " + std::to_string(count) + "\n";
  }
  Header(&text, "vitrine_op_duration_seconds", "histogram", "Time one op takes on one image.");
  for (const LatencyHistogram& op : queue.op_latencies) {
    const std::string name = Label(op.op);
    for (size_t i = 0; i < op.upper_bounds.size() && i < op.cumulative_counts.size(); ++i) {
      text += "vitrine_op_duration_seconds_bucket{op=" + name +
              ",le=" + Label(Number(op.upper_bounds[i])) + "} " +
              std::to_string(op.cumulative_counts[i]) + "\n";
    }
    text += "vitrine_op_duration_seconds_bucket{op=" + name + ",le=\"+Inf\"} " +
            std::to_string(op.count) + "\n";
    text += "vitrine_op_duration_seconds_sum{op=" + name + "} " + Number(op.sum_seconds) + "\n";
    text += "vitrine_op_duration_seconds_count{op=" + name + "} " + std::to_string(op.count) + "\n";
  }
  return text;
}

namespace {
// Seconds: from a cached-model staging (tens of ms) to a large cutout on one core (tens of s).
constexpr double kBounds[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}  // namespace

void OpLatencies::Record(const std::string& op, double seconds) {
  std::lock_guard lock(mutex_);
  Series& series = series_[op];
  series.counts.resize(std::size(kBounds) + 1);
  size_t bucket = 0;
  while (bucket < std::size(kBounds) && seconds > kBounds[bucket]) ++bucket;
  ++series.counts[bucket];
  series.sum += seconds;
  ++series.count;
}

std::vector<LatencyHistogram> OpLatencies::Snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<LatencyHistogram> all;
  for (const auto& [op, series] : series_) {
    LatencyHistogram h;
    h.op = op;
    h.upper_bounds.assign(std::begin(kBounds), std::end(kBounds));
    int64_t cumulative = 0;
    for (size_t i = 0; i < std::size(kBounds); ++i) {
      cumulative += series.counts[i];
      h.cumulative_counts.push_back(cumulative);
    }
    h.sum_seconds = series.sum;
    h.count = series.count;
    all.push_back(std::move(h));
  }
  return all;
}

MetricsEndpoint::MetricsEndpoint(Source source)
    : source_(std::move(source)), http_(std::make_unique<httplib::Server>()) {}

MetricsEndpoint::~MetricsEndpoint() { Stop(); }

Result<int> MetricsEndpoint::Start(const std::string& host, int port) {
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    Result<QueueMetrics> metrics = source_();
    if (!metrics.ok()) {
      response.status = 503;
      response.set_content(metrics.status().message() + "\n", "text/plain");
      return;
    }
    response.set_content(PrometheusText(*metrics), "text/plain; version=0.0.4");
  });
  http_->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("{\"status\":\"ok\"}", "application/json");
  });
  return BindAndServe(*http_, host, port, "--metrics-listen", &thread_);
}

void MetricsEndpoint::Stop() {
  if (!thread_.joinable()) return;
  http_->stop();
  thread_.join();
}

}  // namespace vitrine::api
