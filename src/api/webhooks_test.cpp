#include "api/webhooks.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <mutex>

#include "api/fake_backend.h"
#include "api/test_http.h"

namespace vitrine::api {
namespace {

// HMAC-SHA256 and Base64 computed here with OpenSSL's EVP_MAC and BIO-free EVP_Encode APIs,
// independently of api/crypto.cpp (which uses HMAC() and EVP_EncodeBlock).
std::string IndependentSignature(const std::string& secret, const std::string& id,
                                 const std::string& timestamp, const std::string& body) {
  const std::string encoded_key = secret.substr(6);  // after "whsec_"
  std::vector<unsigned char> key(encoded_key.size());
  EVP_ENCODE_CTX* decoder = EVP_ENCODE_CTX_new();
  EVP_DecodeInit(decoder);
  int length = 0, tail = 0;
  EVP_DecodeUpdate(decoder, key.data(), &length,
                   reinterpret_cast<const unsigned char*>(encoded_key.data()),
                   static_cast<int>(encoded_key.size()));
  EVP_DecodeFinal(decoder, key.data() + length, &tail);
  EVP_ENCODE_CTX_free(decoder);
  key.resize(static_cast<size_t>(length + tail));

  const std::string content = id + "." + timestamp + "." + body;
  unsigned char mac[64];
  size_t mac_length = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
            reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac,
            sizeof(mac), &mac_length);
  unsigned char encoded[128];
  const int encoded_length = EVP_EncodeBlock(encoded, mac, static_cast<int>(mac_length));
  return "v1," + std::string(reinterpret_cast<char*>(encoded), encoded_length);
}

TEST(WebhookSignatureTest, MatchesTheStandardWebhooksReferenceVector) {
  // The example of the Standard Webhooks specification and its reference libraries.
  Result<std::string> signature =
      SignWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                  1614265330, R"({"test": 2432232314})");
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  EXPECT_EQ(*signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSignatureTest, MatchesAnIndependentComputationForFreshSecrets) {
  for (int i = 0; i < 20; ++i) {
    Result<std::string> secret = NewWebhookSecret();
    ASSERT_TRUE(secret.ok());
    ASSERT_EQ(secret->rfind("whsec_", 0), 0u);
    const std::string body =
        R"({"type":"job.succeeded","data":{"id":"job_)" + std::to_string(i) + "\"}}";
    EXPECT_EQ(*SignWebhook(*secret, "msg_" + std::to_string(i), 1700000000 + i, body),
              IndependentSignature(*secret, "msg_" + std::to_string(i),
                                   std::to_string(1700000000 + i), body));
  }
  EXPECT_FALSE(SignWebhook("not-a-secret", "msg_1", 1, "{}").ok());
  EXPECT_FALSE(SignWebhook("whsec_***", "msg_1", 1, "{}").ok());
}

// A receiver that fails `failures` times, then accepts; it verifies every signature itself.
class WebhookDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    secret_ = *NewWebhookSecret();
    receiver_.server().Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      const std::string expected =
          IndependentSignature(secret_, req.get_header_value("webhook-id"),
                               req.get_header_value("webhook-timestamp"), req.body);
      signatures_ok_.push_back(req.get_header_value("webhook-signature") == expected);
      ids_.push_back(req.get_header_value("webhook-id"));
      bodies_.push_back(req.body);
      res.status = static_cast<int>(bodies_.size()) <= failures_ ? 503 : 204;
    });
    receiver_.Start();
    options_.fetch.guard.allowed_networks = *ParseNetworks(receiver_.Network());
    options_.now = [this] { return clock_; };
    options_.sleep = [this](std::chrono::seconds delay) {
      slept_.push_back(delay);
      clock_ += delay.count();
    };
  }

  WebhookMessage Message() {
    return {*NewWebhookId(), receiver_.Url("/hook"), secret_,
            R"({"type":"job.succeeded","data":{"id":"job_1","status":"succeeded"}})"};
  }

  testing::LocalHttpServer receiver_;
  std::mutex mutex_;
  std::string secret_;
  int failures_ = 0;
  std::vector<bool> signatures_ok_;
  std::vector<std::string> ids_;
  std::vector<std::string> bodies_;
  int64_t clock_ = 1'790'000'000;
  std::vector<std::chrono::seconds> slept_;
  DeliveryOptions options_;
  FakeBackend backend_;
};

TEST_F(WebhookDeliveryTest, RetriesWithGrowingDelaysAndRecordsEveryAttempt) {
  failures_ = 3;
  const WebhookMessage message = Message();
  Result<DeliveryOutcome> outcome = DeliverWebhook(message, backend_, options_);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_TRUE(outcome->delivered);
  EXPECT_EQ(outcome->attempts, 4);
  EXPECT_EQ(outcome->last_http_status, 204);
  using std::chrono::seconds;
  EXPECT_EQ(slept_, (std::vector<seconds>{seconds(5), seconds(30), seconds(120)}));

  std::lock_guard lock(mutex_);
  EXPECT_EQ(signatures_ok_, (std::vector<bool>{true, true, true, true}));
  for (const std::string& id : ids_) EXPECT_EQ(id, message.id);  // receivers dedupe on it
  for (const std::string& body : bodies_) EXPECT_EQ(body, message.body);

  const std::vector<DeliveryAttempt> recorded = backend_.deliveries();
  ASSERT_EQ(recorded.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(recorded[i].attempt, i + 1);
    EXPECT_EQ(recorded[i].webhook_id, message.id);
    EXPECT_EQ(recorded[i].http_status, i < 3 ? 503 : 204);
    EXPECT_EQ(recorded[i].error.empty(), i == 3) << recorded[i].error;
    EXPECT_EQ(recorded[i].final, i == 3);
  }
  // Each non-final record says when the next attempt is due: what a store-driven loop needs.
  EXPECT_EQ(recorded[0].next_attempt_unix, recorded[1].at_unix);
  EXPECT_EQ(recorded[2].next_attempt_unix - recorded[2].at_unix, 120);  // before attempt 4
  EXPECT_EQ(recorded[3].next_attempt_unix, 0);
  EXPECT_EQ(recorded[3].at_unix - recorded[0].at_unix, 5 + 30 + 120);
}

TEST_F(WebhookDeliveryTest, GivesUpAfterTheScheduleAndSaysSo) {
  failures_ = 1000;
  options_.schedule = {std::chrono::seconds(0), std::chrono::seconds(5), std::chrono::seconds(30)};
  Result<DeliveryOutcome> outcome = DeliverWebhook(Message(), backend_, options_);
  ASSERT_TRUE(outcome.ok());
  EXPECT_FALSE(outcome->delivered);
  EXPECT_EQ(outcome->attempts, 3);
  const std::vector<DeliveryAttempt> recorded = backend_.deliveries();
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_TRUE(recorded.back().final);
  EXPECT_NE(recorded.back().error.find("answered 503"), std::string::npos);
}

TEST_F(WebhookDeliveryTest, RefusedTargetsAreRecordedAndNotRetried) {
  // Protection on: the receiver's loopback network is not allowed here.
  options_.fetch.guard.allowed_networks.clear();
  for (const std::string& url :
       {receiver_.Url("/hook"), std::string("http://169.254.169.254/latest/meta-data/"),
        std::string("file:///etc/passwd")}) {
    WebhookMessage message = Message();
    message.url = url;
    Result<DeliveryOutcome> outcome = DeliverWebhook(message, backend_, options_);
    ASSERT_TRUE(outcome.ok());
    EXPECT_FALSE(outcome->delivered);
    EXPECT_EQ(outcome->attempts, 1) << url;
  }
  EXPECT_TRUE(slept_.empty());
  std::lock_guard lock(mutex_);
  EXPECT_TRUE(bodies_.empty()) << "the receiver must not have been called";
  const std::vector<DeliveryAttempt> recorded = backend_.deliveries();
  ASSERT_EQ(recorded.size(), 3u);
  for (const DeliveryAttempt& attempt : recorded) {
    EXPECT_TRUE(attempt.final);
    EXPECT_EQ(attempt.http_status, 0);
    EXPECT_FALSE(attempt.error.empty());
  }
}

}  // namespace
}  // namespace vitrine::api
