#include "api/errors.h"

#include <nlohmann/json.hpp>

namespace vitrine::api {
namespace {

// A store failover or a restart takes seconds; clients that honour Retry-After should not hammer.
constexpr int kUnavailableRetryAfterSeconds = 5;

}  // namespace

ApiError FromStatus(const Status& status) {
  switch (status.code()) {
    case Code::kOk:
      return {200, "ok", "", false, 0};
    case Code::kInvalidArgument:
      return {400, "invalid_argument", status.message(), false, 0};
    case Code::kNotFound:
      return {404, "not_found", status.message(), false, 0};
    case Code::kUnsupported:
      return {422, "unsupported", status.message(), false, 0};
    case Code::kResourceExhausted:
      return {413, "too_large", status.message(), false, 0};
    case Code::kCancelled:
      return {409, "conflict", status.message(), false, 0};
    case Code::kDeadlineExceeded:
      return {503, "deadline_exceeded", status.message(), true, 0};
    case Code::kUnavailable:
      return {503, "unavailable", status.message(), true, kUnavailableRetryAfterSeconds};
    case Code::kModelFailure:
    case Code::kInternal:
      break;
  }
  // The detail stays in the server log: it may name paths or library internals.
  return {500, "internal",
          "the server failed to handle the request; retry later, and report it "
          "with the time of the request if it persists",
          true, 0};
}

ApiError Unauthenticated(std::string message) {
  return {401, "unauthenticated", std::move(message), false, 0};
}

ApiError RateLimited(int retry_after_seconds) {
  return {429, "rate_limited",
          "too many requests for this API key; retry after " + std::to_string(retry_after_seconds) +
              " s (see the Retry-After header)",
          true, retry_after_seconds};
}

ApiError Conflict(std::string message) { return {409, "conflict", std::move(message), false, 0}; }

ApiError Unprocessable(std::string message) {
  return {422, "unprocessable", std::move(message), false, 0};
}

std::string ErrorBody(const ApiError& error) {
  return nlohmann::json{
      {"error", {{"code", error.code}, {"message", error.message}, {"retryable", error.retryable}}}}
      .dump();
}

}  // namespace vitrine::api
