// API keys and per-key rate limits.
//
// A key is "vt_" followed by 33 base62 characters encoding 24 random bytes (192 bits) from the OS
// CSPRNG. It is shown to its owner once; only its SHA-256 (hex) is stored and looked up
// (Backend::LookupKey). Clients send it as `X-API-Key: vt_...` or `Authorization: Bearer vt_...`.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vitrine::api {

inline constexpr std::string_view kApiKeyPrefix = "vt_";

struct NewApiKey {
  std::string key;     // give to the user once; never store
  std::string sha256;  // hex; store this
};

// Unavailable if the random generator fails.
Result<NewApiKey> GenerateApiKey();
// Hex SHA-256 of the key as sent: what Backend::LookupKey receives.
std::string HashApiKey(std::string_view key);
// The key from the headers' values (empty when absent): X-API-Key wins over a Bearer token.
// Surrounding spaces are trimmed; nullopt when neither header carries a key.
std::optional<std::string> ExtractApiKey(std::string_view x_api_key,
                                         std::string_view authorization);

// Token buckets, one per key: `burst` requests at once, refilled at `per_second`. Thread-safe.
// Time is passed in, so tests control it.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(double per_second, double burst) : per_second_(per_second), burst_(burst) {}

  struct Decision {
    bool allowed = true;
    int retry_after_seconds = 0;  // when refused: whole seconds until a token is back (>= 1)
  };
  Decision Acquire(const std::string& key_id, Clock::time_point now);

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  const double per_second_;
  const double burst_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace vitrine::api
