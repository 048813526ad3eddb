#include "store/store.h"

#include <charconv>
#include <filesystem>

#include "store/sql.h"

namespace vitrine::store {
namespace {

class SystemClock : public Clock {
 public:
  TimeMs NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

const Clock& RealClock() {
  static const SystemClock* clock = new SystemClock();
  return *clock;
}

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kRunning:
      return "running";
    case JobState::kSucceeded:
      return "succeeded";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
    case JobState::kDead:
      return "dead";
  }
  return "unknown";
}

std::optional<JobState> ParseJobState(std::string_view name) {
  for (JobState s : kAllJobStates) {
    if (JobStateName(s) == name) return s;
  }
  return std::nullopt;
}

bool IsTerminal(JobState state) {
  return state != JobState::kQueued && state != JobState::kRunning;
}

bool IsRetryable(Code code) {
  switch (code) {
    case Code::kUnavailable:
    case Code::kResourceExhausted:
    case Code::kDeadlineExceeded:
    case Code::kInternal:
    case Code::kModelFailure:
      return true;
    case Code::kOk:
    case Code::kInvalidArgument:
    case Code::kNotFound:
    case Code::kUnsupported:
    case Code::kCancelled:
      return false;
  }
  return false;
}

std::chrono::milliseconds BackoffCeiling(const StoreOptions& options, int retry) {
  const int64_t base = options.backoff_base.count();
  const int64_t cap = options.backoff_cap.count();
  int64_t ceiling = base;
  for (int i = 1; i < retry && ceiling < cap; ++i) ceiling *= 2;
  return std::chrono::milliseconds(std::min(ceiling, cap));
}

int64_t SqlRow::Int(int i) const { return OptInt(i).value_or(0); }

std::optional<int64_t> SqlRow::OptInt(int i) const {
  const auto& cell = cells_.at(i);
  if (!cell) return std::nullopt;
  int64_t v = 0;
  std::from_chars(cell->data(), cell->data() + cell->size(), v);
  return v;
}

double SqlRow::Double(int i) const {
  const auto& cell = cells_.at(i);
  if (!cell) return 0;
  double v = 0;
  std::from_chars(cell->data(), cell->data() + cell->size(), v);
  return v;
}

Result<std::unique_ptr<JobStore>> OpenStore(const std::string& url, StoreOptions options) {
  if (options.backoff_base.count() <= 0 || options.backoff_cap < options.backoff_base) {
    return InvalidArgument("the store's backoff needs 0 < base <= cap");
  }
  if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) {
    ASSIGN_OR_RETURN(auto db, OpenPostgresDb(url));
    return OpenSqlStore(std::move(db), std::move(options));
  }
  std::string path = url;
  if (StartsWith(url, "sqlite://")) {
    path = url.substr(std::string_view("sqlite://").size());
  } else if (url.find("://") != std::string::npos) {
    return InvalidArgument("unknown store URL '" + url +
                           "'; use sqlite:///path/jobs.db, a file path, or postgresql://...");
  }
  if (path.empty()) {
    return InvalidArgument("the store URL '" + url + "' names no file; use sqlite:///path/jobs.db");
  }
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    return NotFound("the folder " + parent.string() +
                    " of the job store does not exist; create it");
  }
  ASSIGN_OR_RETURN(auto db, OpenSqliteDb(path, options.busy_timeout));
  return OpenSqlStore(std::move(db), std::move(options));
}

}  // namespace vitrine::store
