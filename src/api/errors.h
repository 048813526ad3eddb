// The HTTP face of errors: one mapping from a Status code to an HTTP status, a stable public
// error code and a retry hint, and the JSON error body every route returns:
//   {"error": {"code": "not_found", "message": "...", "retryable": false}}
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace vitrine::api {

// An error as the API reports it. `retry_after_seconds` > 0 adds a Retry-After header.
struct ApiError {
  int http_status = 500;
  std::string code;  // stable snake_case, documented in the OpenAPI doc
  std::string message;
  bool retryable = false;
  int retry_after_seconds = 0;
};

// The one mapping (DESIGN.md "Errors"):
//   InvalidArgument 400 invalid_argument     NotFound 404 not_found
//   Unsupported 422 unsupported              ResourceExhausted 413 too_large
//   Cancelled 409 conflict                   DeadlineExceeded 503 deadline_exceeded (retryable)
//   Unavailable 503 unavailable (retryable, Retry-After: 5)
//   ModelFailure, Internal 500 internal (retryable)
// The message of Internal errors is replaced by a generic one (it may name server paths).
ApiError FromStatus(const Status& status);

// Errors that have no Status code: they belong to the HTTP layer itself.
ApiError Unauthenticated(std::string message);  // 401 unauthenticated
ApiError RateLimited(int retry_after_seconds);  // 429 rate_limited, retryable
ApiError Conflict(std::string message);         // 409 conflict
ApiError Unprocessable(std::string message);    // 422 unprocessable

// {"error": {...}} serialised.
std::string ErrorBody(const ApiError& error);

}  // namespace vitrine::api
