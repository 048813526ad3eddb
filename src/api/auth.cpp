#include "api/auth.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <vector>

#include "api/crypto.h"
#include "core/sha256.h"

namespace vitrine::api {
namespace {

constexpr int kKeyBytes = 24;  // 192 bits; the issue asks for at least 128

// Big-endian base62 of `bytes`, left-padded with '0' to the length that every value of that
// many bytes needs, so all keys have the same length.
std::string Base62(std::string_view bytes) {
  static constexpr char kDigits[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::vector<unsigned char> number(bytes.begin(), bytes.end());
  std::string digits;
  const size_t width = static_cast<size_t>(std::ceil(bytes.size() * 8 / std::log2(62.0)));
  while (digits.size() < width) {
    int remainder = 0;
    for (unsigned char& byte : number) {
      const int value = remainder * 256 + byte;
      byte = static_cast<unsigned char>(value / 62);
      remainder = value % 62;
    }
    digits += kDigits[remainder];
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

Result<NewApiKey> GenerateApiKey() {
  ASSIGN_OR_RETURN(std::string random, RandomBytes(kKeyBytes));
  NewApiKey key;
  key.key = std::string(kApiKeyPrefix) + Base62(random);
  key.sha256 = HashApiKey(key.key);
  return key;
}

std::string HashApiKey(std::string_view key) { return Sha256Hex(key); }

std::optional<std::string> ExtractApiKey(std::string_view x_api_key,
                                         std::string_view authorization) {
  x_api_key = Trim(x_api_key);
  if (!x_api_key.empty()) return std::string(x_api_key);
  authorization = Trim(authorization);
  constexpr std::string_view kBearer = "bearer ";
  if (authorization.size() > kBearer.size() &&
      std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                 [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
    std::string_view token = Trim(authorization.substr(kBearer.size()));
    if (!token.empty()) return std::string(token);
  }
  return std::nullopt;
}

RateLimiter::Decision RateLimiter::Acquire(const std::string& key_id, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = buckets_.try_emplace(key_id, Bucket{burst_, now});
  Bucket& bucket = it->second;
  if (!inserted) {
    const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(burst_, bucket.tokens + std::max(0.0, elapsed) * per_second_);
    bucket.updated = std::max(bucket.updated, now);
  }
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return {true, 0};
  }
  const double wait = (1 - bucket.tokens) / per_second_;
  return {false, std::max(1, static_cast<int>(std::ceil(wait)))};
}

}  // namespace vitrine::api
