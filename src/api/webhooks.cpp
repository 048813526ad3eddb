#include "api/webhooks.h"

#include <thread>

#include "api/crypto.h"

namespace vitrine::api {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";

}  // namespace

Result<std::string> NewWebhookSecret() {
  ASSIGN_OR_RETURN(std::string bytes, RandomBytes(32));
  return std::string(kSecretPrefix) + Base64Encode(bytes);
}

Result<std::string> NewWebhookId() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  ASSIGN_OR_RETURN(std::string bytes, RandomBytes(24));
  std::string id = "msg_";
  for (unsigned char byte : bytes) id += kAlphabet[byte % 32];
  return id;
}

Result<std::string> SignWebhook(const std::string& secret, const std::string& id, int64_t timestamp,
                                const std::string& body) {
  if (secret.rfind(kSecretPrefix, 0) != 0) {
    return InvalidArgument(
        "webhook secret must start with 'whsec_'; create one with "
        "NewWebhookSecret()");
  }
  Result<std::string> key = Base64Decode(std::string_view(secret).substr(kSecretPrefix.size()));
  if (!key.ok()) return key.status().WithContext("webhook secret");
  const std::string signed_content = id + "." + std::to_string(timestamp) + "." + body;
  return "v1," + Base64Encode(HmacSha256(*key, signed_content));
}

Result<DeliveryAttempt> AttemptWebhook(const WebhookMessage& message, int attempt,
                                       int64_t timestamp, const DeliveryOptions& options) {
  ASSIGN_OR_RETURN(std::string signature,
                   SignWebhook(message.secret, message.id, timestamp, message.body));
  Result<int> status = Post(message.url, message.body, "application/json",
                            {{"webhook-id", message.id},
                             {"webhook-timestamp", std::to_string(timestamp)},
                             {"webhook-signature", signature}},
                            options.fetch);
  DeliveryAttempt record;
  record.webhook_id = message.id;
  record.url = message.url;
  record.attempt = attempt;
  record.at_unix = timestamp;
  bool delivered = false;
  // A refused target stays refused: retrying would only knock on the same door.
  const bool refused = !status.ok() && status.status().code() == Code::kInvalidArgument;
  if (status.ok()) {
    record.http_status = *status;
    delivered = *status >= 200 && *status < 300;
    if (!delivered) {
      record.error = "the endpoint answered " + std::to_string(*status) + "; expected 2xx";
    }
  } else {
    record.error = status.status().message();
  }
  const bool last = attempt >= static_cast<int>(options.schedule.size());
  record.final = delivered || refused || last;
  if (!record.final) record.next_attempt_unix = timestamp + options.schedule[attempt].count();
  return record;
}

Result<DeliveryOutcome> DeliverWebhook(const WebhookMessage& message, Backend& backend,
                                       const DeliveryOptions& options) {
  DeliveryOutcome outcome;
  for (int attempt = 1; attempt <= static_cast<int>(options.schedule.size()); ++attempt) {
    const std::chrono::seconds delay = options.schedule[attempt - 1];
    if (delay.count() > 0) {
      if (options.sleep) {
        options.sleep(delay);
      } else {
        std::this_thread::sleep_for(delay);
      }
    }
    ASSIGN_OR_RETURN(DeliveryAttempt record,
                     AttemptWebhook(message, attempt, options.now(), options));
    RETURN_IF_ERROR(backend.RecordDelivery(record));
    outcome.attempts = attempt;
    outcome.last_http_status = record.http_status;
    outcome.delivered = record.error.empty();
    if (record.final) break;
  }
  return outcome;
}

}  // namespace vitrine::api
