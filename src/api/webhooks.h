// Webhooks signed the Standard Webhooks way (https://www.standardwebhooks.com):
//   webhook-id:        a message id, the same on every retry (receivers dedupe on it)
//   webhook-timestamp: unix seconds of this attempt
//   webhook-signature: "v1,<base64 HMAC-SHA256(secret bytes, id + "." + timestamp + "." + body)>"
// The secret is "whsec_<base64 of 32 random bytes>"; the HMAC key is the decoded bytes.
//
// Delivery posts through fetch.h (SSRF-guarded, no redirects followed), succeeds on any 2xx,
// and retries other answers and transport failures after growing delays; every attempt is
// recorded through Backend::RecordDelivery. A refused target (url_guard) is not retried.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "api/backend.h"
#include "api/fetch.h"
#include "core/status.h"

namespace vitrine::api {

// "whsec_..." with 32 random bytes. Unavailable if the random generator fails.
Result<std::string> NewWebhookSecret();
// A fresh message id, "msg_" + 24 base32-ish characters. Unavailable like the above.
Result<std::string> NewWebhookId();

// The webhook-signature value ("v1,..."). InvalidArgument if `secret` is not "whsec_<base64>".
Result<std::string> SignWebhook(const std::string& secret, const std::string& id, int64_t timestamp,
                                const std::string& body);

struct WebhookMessage {
  std::string id;  // NewWebhookId()
  std::string url;
  std::string secret;
  std::string body;  // JSON
};

struct DeliveryOptions {
  // Delay before each attempt; attempt 1 is immediate. Default: 0, 5 s, 30 s, 2 min, 10 min,
  // 30 min, 1 h, 1 h (about 2 h 40 min in all, then given up).
  std::vector<std::chrono::seconds> schedule = {
      std::chrono::seconds(0),    std::chrono::seconds(5),   std::chrono::seconds(30),
      std::chrono::seconds(120),  std::chrono::seconds(600), std::chrono::seconds(1800),
      std::chrono::seconds(3600), std::chrono::seconds(3600)};
  FetchOptions fetch = [] {
    FetchOptions options;
    options.max_redirects = 0;
    options.max_bytes = 64 * 1024;
    options.total_timeout = std::chrono::seconds(15);
    return options;
  }();
  // Injectable for tests: the wall clock (unix seconds) and the wait between attempts.
  std::function<int64_t()> now = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  std::function<void(std::chrono::seconds)> sleep;  // empty: std::this_thread::sleep_for
};

// One attempt: a signed POST with `timestamp` as webhook-timestamp. `attempt` is 1-based; the
// record says whether it is final (delivered, refused target, or no later slot in the schedule)
// and, if not, when the next attempt is due (at_unix + the schedule's next delay). A store-driven
// delivery loop (after a restart, say) calls this for each due delivery and saves the record.
// InvalidArgument only for a bad secret.
Result<DeliveryAttempt> AttemptWebhook(const WebhookMessage& message, int attempt,
                                       int64_t timestamp, const DeliveryOptions& options);

struct DeliveryOutcome {
  bool delivered = false;
  int attempts = 0;
  int last_http_status = 0;  // 0 if no answer came
};

// Delivers `message`, blocking through the retry schedule (run it on a delivery thread);
// every attempt is recorded through Backend::RecordDelivery. Returns the outcome; an error only
// for a bad secret or when recording an attempt fails.
Result<DeliveryOutcome> DeliverWebhook(const WebhookMessage& message, Backend& backend,
                                       const DeliveryOptions& options);

}  // namespace vitrine::api
