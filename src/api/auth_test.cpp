#include "api/auth.h"

#include <gtest/gtest.h>

#include <set>

#include "core/sha256.h"

namespace vitrine::api {
namespace {

TEST(ApiKeyTest, KeysArePrefixedLongRandomAndStoredOnlyAsHash) {
  std::set<std::string> keys;
  for (int i = 0; i < 200; ++i) {
    Result<NewApiKey> key = GenerateApiKey();
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    ASSERT_EQ(key->key.rfind("vt_", 0), 0u) << key->key;
    const std::string body = key->key.substr(3);
    // 24 random bytes (192 bits, >= 128 asked for) need 33 base62 digits.
    EXPECT_EQ(body.size(), 33u);
    for (char c : body) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << key->key;
    EXPECT_EQ(key->sha256, Sha256Hex(key->key));
    EXPECT_EQ(key->sha256.size(), 64u);
    EXPECT_EQ(key->sha256.find(body), std::string::npos);
    keys.insert(key->key);
  }
  EXPECT_EQ(keys.size(), 200u);
}

TEST(ApiKeyTest, KeysUseTheWholeAlphabet) {
  // A broken encoder (always-zero digits, a short alphabet) would show here.
  std::set<char> seen;
  for (int i = 0; i < 100; ++i) {
    for (char c : GenerateApiKey()->key.substr(3)) seen.insert(c);
  }
  EXPECT_GT(seen.size(), 55u);
}

TEST(ApiKeyTest, ExtractsFromEitherHeader) {
  EXPECT_EQ(ExtractApiKey("vt_abc", ""), "vt_abc");
  EXPECT_EQ(ExtractApiKey("", "Bearer vt_abc"), "vt_abc");
  EXPECT_EQ(ExtractApiKey("", "bearer   vt_abc  "), "vt_abc");
  EXPECT_EQ(ExtractApiKey(" vt_x ", "Bearer vt_y"), "vt_x");
  EXPECT_EQ(ExtractApiKey("", "Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(ExtractApiKey("", "Bearer "), std::nullopt);
  EXPECT_EQ(ExtractApiKey("", ""), std::nullopt);
}

TEST(RateLimiterTest, AllowsABurstThenRefusesWithRetryAfterThenRefills) {
  RateLimiter limiter(/*per_second=*/0.5, /*burst=*/3);
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Acquire("k", t0).allowed) << i;
  RateLimiter::Decision refused = limiter.Acquire("k", t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 2);  // one token at 0.5/s
  // Another key has its own bucket.
  EXPECT_TRUE(limiter.Acquire("other", t0).allowed);
  EXPECT_FALSE(limiter.Acquire("k", t0 + std::chrono::seconds(1)).allowed);
  EXPECT_TRUE(limiter.Acquire("k", t0 + std::chrono::seconds(2)).allowed);
  // A long pause refills to the burst, not beyond.
  const auto later = t0 + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Acquire("k", later).allowed) << i;
  EXPECT_FALSE(limiter.Acquire("k", later).allowed);
}

}  // namespace
}  // namespace vitrine::api
