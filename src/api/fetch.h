// Outbound HTTP for URL inputs and webhooks, behind the SSRF guard (url_guard.h).
//
// Every hop is parsed and vetted (scheme, credentials, every resolved address), and the
// connection goes to the vetted IP (the name is not resolved a second time, so DNS rebinding
// cannot swap the address); the Host header and TLS SNI keep the name, and https verifies the
// certificate against the system CA bundle. Redirects are followed by hand, at most
// `max_redirects`, each re-vetted. Bodies are capped at `max_bytes` while they stream in.
// Thread-safe: no shared state.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "api/url_guard.h"
#include "core/status.h"

namespace vitrine::api {

struct FetchOptions {
  int64_t max_bytes = 50'000'000;
  int max_redirects = 5;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{15000};   // per read
  std::chrono::milliseconds total_timeout{60000};  // whole body
  GuardOptions guard;
};

struct FetchResult {
  int status = 0;
  std::string content_type;
  std::string body;
  std::string final_url;  // after redirects
};

// GET with redirects. Errors: those of url_guard for a refused hop (including a redirect to a
// refused address or scheme); InvalidArgument for too many redirects or a 4xx answer (NotFound
// for 404/410); ResourceExhausted for a body over max_bytes; Unavailable for 5xx, 429,
// connection failures and timeouts (worth retrying).
Result<FetchResult> Fetch(std::string_view url, const FetchOptions& options);

// POST `body` to a vetted URL, without following redirects (a 3xx comes back as the status).
// Returns the HTTP status of the answer; errors as for Fetch, except that no HTTP status is an
// error here: the caller judges it.
Result<int> Post(std::string_view url, const std::string& body, const std::string& content_type,
                 const std::map<std::string, std::string>& headers, const FetchOptions& options);

}  // namespace vitrine::api
