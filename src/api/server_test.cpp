#include "api/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <regex>
#include <thread>

#include "api/fake_backend.h"

namespace vitrine::api {
namespace {

using nlohmann::json;

std::string Png(int width, int height) {
  cv::Mat pixels(height, width, CV_8UC3, cv::Scalar(40, 120, 200));
  cv::circle(pixels, {width / 2, height / 2}, height / 3, cv::Scalar(250, 250, 250), -1);
  std::vector<uchar> bytes;
  cv::imencode(".png", pixels, bytes);
  return std::string(bytes.begin(), bytes.end());
}

std::string WriteTemp(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + "/vitrine_api_" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// The error shape every failure must have; returns the parsed error object.
json ExpectError(const httplib::Result& response, int status, const std::string& code = "") {
  EXPECT_TRUE(response) << "no response";
  if (!response) return {};
  EXPECT_EQ(response->status, status) << response->body;
  EXPECT_EQ(response->get_header_value("Content-Type"), "application/json");
  json body = json::parse(response->body, nullptr, false);
  EXPECT_TRUE(body.is_object() && body.contains("error")) << response->body;
  if (!body.is_object() || !body.contains("error")) return {};
  const json& error = body["error"];
  EXPECT_TRUE(error["code"].is_string() && error["message"].is_string() &&
              error["retryable"].is_boolean())
      << response->body;
  EXPECT_FALSE(error["message"].get<std::string>().empty());
  if (!code.empty()) {
    EXPECT_EQ(error["code"], code) << response->body;
  }
  return error;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_a_ = backend_.AddKey("acme");
    key_b_ = backend_.AddKey("globex");
    revoked_ = backend_.AddKey("acme", /*revoked=*/true);
    candidate_png_ = Png(64, 48);
    const std::string candidate = WriteTemp("candidate.png", candidate_png_);
    JobView job_a;
    job_a.id = "job_a";
    job_a.status = "succeeded";
    job_a.candidates = {{0, {{"score", 0.91}}}};
    job_a.exports = {"amazon"};
    backend_.AddJob("acme", job_a, {{0, candidate}}, {{"amazon", candidate}});
    JobView job_b;
    job_b.id = "job_b";
    job_b.status = "queued";
    backend_.AddJob("globex", job_b, {{0, candidate}}, {{"amazon", candidate}});
    BatchView batch_b;
    batch_b.id = "batch_b";
    batch_b.status = "queued";
    backend_.AddBatch("globex", batch_b);

    ServerConfig config = Config();
    server_ = std::make_unique<Server>(backend_, config);
    Result<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }

  virtual ServerConfig Config() {
    ServerConfig config;
    config.port = 0;
    config.threads = 2;
    config.max_body_bytes = 256 * 1024;
    config.limits.max_pixels = 100'000;
    config.rate_burst = 10'000;
    return config;
  }

  httplib::Headers Key(const std::string& key) { return {{"X-API-Key", key}}; }

  // Sends `method` to `path`; POSTs carry a small JSON body.
  httplib::Result Send(const std::string& method, const std::string& path,
                       const httplib::Headers& headers) {
    if (method == "GET") return client_->Get(path, headers);
    if (method == "DELETE") return client_->Delete(path, headers);
    return client_->Post(path, headers, "{}", "application/json");
  }

  // A route template with its parameters filled in for `job` / `batch`.
  static std::string Fill(std::string_view path, const std::string& job, const std::string& batch) {
    std::string filled(path);
    const bool is_batch = filled.rfind("/v1/batches/", 0) == 0;
    filled = std::regex_replace(filled, std::regex(R"(\{id\})"), is_batch ? batch : job);
    filled = std::regex_replace(filled, std::regex(R"(\{n\})"), "0");
    return std::regex_replace(filled, std::regex(R"(\{preset\})"), "amazon");
  }

  json PostJson(const std::string& path, const json& body, httplib::Headers headers = {},
                int expected = 202) {
    headers.emplace("X-API-Key", key_a_);
    httplib::Result response = client_->Post(path, headers, body.dump(), "application/json");
    EXPECT_TRUE(response);
    if (!response) return {};
    EXPECT_EQ(response->status, expected) << response->body;
    return json::parse(response->body, nullptr, false);
  }

  FakeBackend backend_;
  std::string key_a_, key_b_, revoked_;
  std::string candidate_png_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ServerTest, EveryRouteButHealthzNeedsAValidKey) {
  ASSERT_GE(Server::Routes().size(), 13u);
  for (const RouteSpec& route : Server::Routes()) {
    const std::string path = Fill(route.path, "job_a", "batch_b");
    const std::string label = std::string(route.method) + " " + path;
    if (!route.needs_key) {
      EXPECT_EQ(route.path, "/healthz");
      httplib::Result response = Send(std::string(route.method), path, {});
      ASSERT_TRUE(response) << label;
      EXPECT_EQ(response->status, 200) << label;
      continue;
    }
    SCOPED_TRACE(label);
    httplib::Result anonymous = Send(std::string(route.method), path, {});
    ExpectError(anonymous, 401, "unauthenticated");
    EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Bearer realm=\"vitrine\"");
    json revoked = ExpectError(Send(std::string(route.method), path, Key(revoked_)), 401);
    EXPECT_NE(revoked["message"].get<std::string>().find("revoked"), std::string::npos);
    ExpectError(Send(std::string(route.method), path, Key("vt_notakey")), 401);
    ExpectError(Send(std::string(route.method), path, {{"Authorization", "Bearer " + revoked_}}),
                401);
  }
  // A valid key in either header gets through.
  EXPECT_EQ(client_->Get("/v1/jobs/job_a", Key(key_a_))->status, 200);
  EXPECT_EQ(client_->Get("/v1/jobs/job_a", {{"Authorization", "Bearer " + key_a_}})->status, 200);
}

TEST_F(ServerTest, AnotherTenantsObjectsAre404OnEveryRouteWithAnId) {
  int routes_with_id = 0;
  for (const RouteSpec& route : Server::Routes()) {
    if (route.path.find("{id}") == std::string_view::npos) continue;
    ++routes_with_id;
    const std::string path = Fill(route.path, "job_b", "batch_b");
    SCOPED_TRACE(std::string(route.method) + " " + path);
    json error = ExpectError(Send(std::string(route.method), path, Key(key_a_)), 404, "not_found");
    // Same answer as for an id that does not exist: nothing reveals that job_b exists.
    json absent = ExpectError(
        Send(std::string(route.method), Fill(route.path, "job_zz", "batch_zz"), Key(key_a_)), 404);
    EXPECT_EQ(error["code"], absent["code"]);
  }
  EXPECT_EQ(routes_with_id, 5);
  // The owner sees them (DELETE last: it cancels the job).
  for (const RouteSpec& route : Server::Routes()) {
    if (route.path.find("{id}") == std::string_view::npos || route.method == "DELETE") continue;
    const std::string path = Fill(route.path, "job_b", "batch_b");
    httplib::Result response = Send(std::string(route.method), path, Key(key_b_));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << path << " " << response->body;
  }
  EXPECT_EQ(client_->Delete("/v1/jobs/job_b", Key(key_b_))->status, 200);
  EXPECT_EQ(backend_.GetJob("globex", "job_b")->status, "cancelled");
}

TEST_F(ServerTest, JobsCanBeSubmittedAsMultipartAndAsJson) {
  httplib::MultipartFormDataItems items = {{"image", Png(300, 200), "front.png", "image/png"},
                                           {"image", Png(200, 300), "back.png", "image/png"},
                                           {"recipe", "cutout-white", "", ""},
                                           {"params", R"({"cutout": {"crop": true}})", "", ""},
                                           {"presets", "amazon, zalando", "", ""},
                                           {"sku", "SKU-1", "", ""}};
  httplib::Result response = client_->Post("/v1/jobs", Key(key_a_), items);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 202) << response->body;
  json job = json::parse(response->body);
  EXPECT_EQ(job["status"], "queued");
  EXPECT_EQ(job["links"]["self"], "/v1/jobs/" + job["id"].get<std::string>());
  EXPECT_EQ(response->get_header_value("Location"), job["links"]["self"]);
  ASSERT_EQ(backend_.created_jobs().size(), 1u);
  const JobRequest stored = backend_.created_jobs()[0];
  EXPECT_EQ(stored.tenant, "acme");
  EXPECT_EQ(stored.images.size(), 2u);
  EXPECT_EQ(stored.sku, "SKU-1");
  EXPECT_EQ(stored.spec.presets, (std::vector<std::string>{"amazon", "zalando"}));
  EXPECT_EQ(stored.spec.params["cutout"]["crop"], true);

  // The same tenant's upload ids work from JSON; the job is then visible to it.
  json uploaded = json::parse(
      client_
          ->Post("/v1/uploads", Key(key_a_),
                 httplib::MultipartFormDataItems{{"image", Png(100, 80), "a.png", "image/png"}})
          ->body);
  ASSERT_EQ(uploaded["uploads"].size(), 1u);
  EXPECT_EQ(uploaded["uploads"][0]["width"], 100);
  EXPECT_EQ(uploaded["uploads"][0]["format"], "png");
  const std::string upload = uploaded["uploads"][0]["id"];
  json created = PostJson("/v1/jobs", {{"images", {upload}}, {"recipe", "cutout-white"}});
  json fetched =
      json::parse(client_->Get("/v1/jobs/" + created["id"].get<std::string>(), Key(key_a_))->body);
  EXPECT_EQ(fetched["id"], created["id"]);
  EXPECT_EQ(fetched["status"], "queued");
  // Another tenant cannot use that upload.
  httplib::Result foreign = client_->Post(
      "/v1/jobs", Key(key_b_), json{{"images", {upload}}, {"recipe", "cutout-white"}}.dump(),
      "application/json");
  ExpectError(foreign, 400, "invalid_argument");
}

TEST_F(ServerTest, BadRequestsGetMessagesThatSayWhatToFix) {
  struct Case {
    json body;
    std::string expected;  // part of the message
  };
  const std::vector<Case> cases = {
      {{{"recipe", "cutout-white"}}, "'images'"},
      {{{"images", {"up_1"}}}, "'recipe' is required"},
      {{{"images", {"up_1"}}, {"recipe", "no-such"}}, "unknown recipe 'no-such'"},
      {{{"images", {"up_1"}}, {"recipe", "cutout-white"}, {"params", {{"blur", {}}}}},
       "the op 'blur'"},
      {{{"images", {"up_1"}},
        {"recipe", "cutout-white"},
        {"params", {{"cutout", {{"margin", 9}}}}}},
       "margin"},
      {{{"images", {"http://127.0.0.1/a.jpg"}}, {"recipe", "cutout-white"}}, "loopback"},
      {{{"images", {"http://169.254.169.254/a.jpg"}}, {"recipe", "cutout-white"}}, "metadata"},
      {{{"images", {"file:///etc/passwd"}}, {"recipe", "cutout-white"}}, "only http and https"},
      {{{"images", {"up_1"}}, {"recipe", "cutout-white"}, {"webhook_url", "http://10.0.0.5/h"}},
       "webhook_url"},
      {{{"images", {"up_1"}}, {"recipe", "cutout-white"}, {"colour", "red"}}, "unknown field"},
  };
  for (const Case& c : cases) {
    httplib::Result response =
        client_->Post("/v1/jobs", Key(key_a_), c.body.dump(), "application/json");
    json error = ExpectError(response, 400, "invalid_argument");
    EXPECT_NE(error["message"].get<std::string>().find(c.expected), std::string::npos)
        << c.body.dump() << " -> " << error.dump();
  }
  ExpectError(client_->Post("/v1/jobs", Key(key_a_), "{not json", "application/json"), 400);
  ExpectError(client_->Get("/v1/nothing-here", Key(key_a_)), 404, "not_found");
  ExpectError(client_->Get("/v1/jobs/job_a/candidates/x", Key(key_a_)), 400);
  ExpectError(client_->Get("/v1/jobs/job_a/candidates/7", Key(key_a_)), 404);
  ExpectError(client_->Delete("/v1/jobs/job_a", Key(key_a_)), 409, "conflict");
}

TEST_F(ServerTest, OversizeBodiesAndImagesAre413AndOtherFilesAre422) {
  json body_error = ExpectError(
      client_->Post("/v1/uploads", Key(key_a_),
                    httplib::MultipartFormDataItems{
                        {"image", std::string(300 * 1024, 'x'), "big.png", "image/png"}}),
      413, "too_large");
  // 400x300 = 0.12 MP over a 0.1 MP limit: refused from the header, before decoding.
  json pixel_error = ExpectError(
      client_->Post("/v1/uploads", Key(key_a_),
                    httplib::MultipartFormDataItems{{"image", Png(400, 300), "wide.png", ""}}),
      413, "too_large");
  EXPECT_NE(pixel_error["message"].get<std::string>().find("wide.png: image is 0.1 MP (400x300)"),
            std::string::npos)
      << pixel_error.dump();
  EXPECT_NE(pixel_error["message"].get<std::string>().find("VITRINE_MAX_PIXELS"),
            std::string::npos);
  ExpectError(
      client_->Post("/v1/uploads", Key(key_a_),
                    httplib::MultipartFormDataItems{
                        {"image", std::string("II*\0\x08\0\0\0", 8), "scan.tif", "image/tiff"}}),
      422, "unsupported");
  // Nothing of a refused request was kept: one bad image refuses all.
  httplib::Result mixed =
      client_->Post("/v1/jobs", Key(key_a_),
                    httplib::MultipartFormDataItems{{"image", Png(100, 100), "ok.png", ""},
                                                    {"image", Png(400, 300), "wide.png", ""},
                                                    {"recipe", "cutout-white", "", ""}});
  ExpectError(mixed, 413);
  EXPECT_TRUE(backend_.created_jobs().empty());
}

TEST_F(ServerTest, IdempotencyKeyReplaysTheFirstAnswerAndRefusesAnotherBody) {
  const json body = {{"images", {"https://93.184.215.14/a.jpg"}}, {"recipe", "cutout-white"}};
  httplib::Headers headers = {{"X-API-Key", key_a_}, {"Idempotency-Key", "order-42"}};
  httplib::Result first = client_->Post("/v1/jobs", headers, body.dump(), "application/json");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 202) << first->body;
  const int jobs = backend_.JobCount();
  httplib::Result again = client_->Post("/v1/jobs", headers, body.dump(), "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 202);
  EXPECT_EQ(again->body, first->body);
  EXPECT_EQ(again->get_header_value("Idempotent-Replayed"), "true");
  EXPECT_EQ(backend_.JobCount(), jobs) << "a replay must not create a job";

  json other = body;
  other["sku"] = "different";
  json error = ExpectError(client_->Post("/v1/jobs", headers, other.dump(), "application/json"),
                           422, "unprocessable");
  EXPECT_NE(error["message"].get<std::string>().find("Idempotency-Key"), std::string::npos);
  // Keys are per tenant: another tenant's same key is a new request.
  httplib::Result other_tenant =
      client_->Post("/v1/jobs", {{"X-API-Key", key_b_}, {"Idempotency-Key", "order-42"}},
                    body.dump(), "application/json");
  EXPECT_EQ(other_tenant->status, 202);
  EXPECT_NE(other_tenant->body, first->body);
  // Multipart requests are compared by their parts.
  httplib::Headers multipart = {{"X-API-Key", key_a_}, {"Idempotency-Key", "upload-1"}};
  httplib::Result upload_1 =
      client_->Post("/v1/uploads", multipart,
                    httplib::MultipartFormDataItems{{"image", Png(50, 50), "a.png", ""}});
  EXPECT_EQ(upload_1->status, 201);
  ExpectError(client_->Post("/v1/uploads", multipart,
                            httplib::MultipartFormDataItems{{"image", Png(60, 50), "a.png", ""}}),
              422);
}

TEST_F(ServerTest, AKeyStillInFlightIs409ThenReplays) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  backend_.before_create_job = [&] {
    entered.set_value();
    released.wait();
  };
  const std::string body =
      json{{"images", {"https://93.184.215.14/a.jpg"}}, {"recipe", "cutout-white"}}.dump();
  const httplib::Headers headers = {{"X-API-Key", key_a_}, {"Idempotency-Key", "slow-1"}};
  int first_status = 0;
  std::string first_body;
  std::thread first([&] {
    httplib::Client other("127.0.0.1", port_);
    httplib::Result response = other.Post("/v1/jobs", headers, body, "application/json");
    first_status = response ? response->status : -1;
    first_body = response ? response->body : "";
  });
  entered.get_future().wait();  // the first request is inside CreateJob now
  json error =
      ExpectError(client_->Post("/v1/jobs", headers, body, "application/json"), 409, "conflict");
  EXPECT_NE(error["message"].get<std::string>().find("still being handled"), std::string::npos);
  release.set_value();
  first.join();
  EXPECT_EQ(first_status, 202) << first_body;
  httplib::Result replay = client_->Post("/v1/jobs", headers, body, "application/json");
  EXPECT_EQ(replay->status, 202);
  EXPECT_EQ(replay->body, first_body);
  EXPECT_EQ(backend_.created_jobs().size(), 1u);
}

TEST_F(ServerTest, BatchesTakeAManifestAndASchedule) {
  json batch = PostJson(
      "/v1/batches",
      {{"manifest",
        {{{"sku", "A"}, {"images", {"https://93.184.215.14/a.jpg"}}},
         {{"sku", "B"},
          {"images", {"https://93.184.215.14/b.jpg", "https://93.184.215.14/c.jpg"}}}}},
       {"recipe", "cutout-white"},
       {"schedule",
        {{"not_before", "2026-11-24T22:00:00Z"}, {"not_after", "2026-11-25T06:30:00+01:00"}}}});
  EXPECT_EQ(batch["job_ids"].size(), 2u);
  EXPECT_EQ(batch["jobs"]["queued"], 2);
  ASSERT_EQ(backend_.created_batches().size(), 1u);
  const BatchRequest& stored = backend_.created_batches()[0];
  EXPECT_EQ(stored.not_before, 1795557600);            // date -d 2026-11-24T22:00:00Z +%s
  EXPECT_EQ(stored.not_after, 1795555800 + 8 * 3600);  // 05:30Z
  EXPECT_EQ(stored.manifest[1].images.size(), 2u);
  json fetched =
      json::parse(client_->Get("/v1/batches/" + batch["id"].get<std::string>(), Key(key_a_))->body);
  EXPECT_EQ(fetched["job_ids"], batch["job_ids"]);

  json bad_time = PostJson("/v1/batches",
                           {{"manifest", {{{"sku", "A"}, {"images", {"up_x"}}}}},
                            {"recipe", "cutout-white"},
                            {"schedule", {{"not_before", "tonight"}}}},
                           {}, 400);
  EXPECT_NE(bad_time["error"]["message"].get<std::string>().find("RFC 3339"), std::string::npos);
  PostJson("/v1/batches",
           {{"manifest", {{{"sku", "A"}, {"images", {"up_x"}}}}},
            {"recipe", "cutout-white"},
            {"schedule",
             {{"not_before", "2026-11-25T00:00:00Z"}, {"not_after", "2026-11-24T00:00:00Z"}}}},
           {}, 400);
  PostJson(
      "/v1/batches",
      {{"manifest", {{{"sku", "A"}, {"images", {"up_x"}}}, {{"sku", "A"}, {"images", {"up_y"}}}}},
       {"recipe", "cutout-white"}},
      {}, 400);
}

TEST_F(ServerTest, ServesCandidateAndExportBytes) {
  for (const char* path : {"/v1/jobs/job_a/candidates/0", "/v1/jobs/job_a/exports/amazon"}) {
    httplib::Result response = client_->Get(path, Key(key_a_));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->get_header_value("Content-Type"), "image/png");
    EXPECT_EQ(response->body, candidate_png_);
  }
  json job = json::parse(client_->Get("/v1/jobs/job_a", Key(key_a_))->body);
  EXPECT_EQ(job["candidates"][0]["url"], "/v1/jobs/job_a/candidates/0");
  EXPECT_EQ(job["candidates"][0]["qa"]["score"], 0.91);
  EXPECT_EQ(job["exports"]["amazon"], "/v1/jobs/job_a/exports/amazon");
}

TEST_F(ServerTest, OpenApiListsEveryRouteAndEveryOpSchema) {
  httplib::Result response = client_->Get("/openapi.json", Key(key_a_));
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200);
  json doc = json::parse(response->body, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc["openapi"], "3.1.0");
  for (const RouteSpec& route : Server::Routes()) {
    std::string method(route.method);
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    ASSERT_TRUE(doc["paths"].contains(std::string(route.path))) << route.path;
    const json& operation = doc["paths"][std::string(route.path)][method];
    EXPECT_EQ(operation["operationId"], route.operation_id);
    EXPECT_TRUE(operation["responses"].contains(std::to_string(route.success_status)));
    EXPECT_EQ(operation["responses"].contains("401"), route.needs_key) << route.path;
  }
  const auto ops = ops::Registry::Global().All();
  ASSERT_FALSE(ops.empty());
  for (const ops::OpDef* op : ops) {
    const json& schema = doc["components"]["schemas"]["op_" + op->schema.name];
    ASSERT_TRUE(schema.is_object()) << op->schema.name;
    EXPECT_EQ(schema["properties"].size(), op->schema.fields.size());
    for (const ops::Field& field : op->schema.fields) {
      EXPECT_TRUE(schema["properties"].contains(field.name)) << field.name;
      EXPECT_EQ(schema["properties"][field.name]["description"], field.doc);
    }
  }
  // Every $ref resolves.
  std::function<void(const json&)> check_refs = [&](const json& node) {
    if (node.is_object()) {
      if (node.contains("$ref")) {
        const std::string ref = node["$ref"];
        ASSERT_EQ(ref.rfind("#/components/schemas/", 0), 0u) << ref;
        EXPECT_TRUE(doc["components"]["schemas"].contains(ref.substr(21))) << ref;
      }
      for (const auto& [k, v] : node.items()) check_refs(v);
    } else if (node.is_array()) {
      for (const json& v : node) check_refs(v);
    }
  };
  check_refs(doc);
}

TEST_F(ServerTest, MetricsArePrometheusText) {
  client_->Get("/v1/jobs/job_a", Key(key_a_));
  httplib::Result response = client_->Get("/metrics", Key(key_a_));
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200);
  const std::string& text = response->body;
  for (const char* line :
       {"# TYPE vitrine_queue_depth gauge\nvitrine_queue_depth 1\n",
        "vitrine_jobs{state=\"queued\"} 1\n", "vitrine_jobs{state=\"succeeded\"} 1\n",
        "# TYPE vitrine_op_duration_seconds histogram\n",
        "vitrine_op_duration_seconds_bucket{op=\"cutout\",le=\"0.5\"} 1\n",
        "vitrine_op_duration_seconds_bucket{op=\"cutout\",le=\"+Inf\"} 5\n",
        "vitrine_op_duration_seconds_sum{op=\"cutout\"} 6.25\n",
        "vitrine_http_requests_total{route=\"GET /v1/jobs/{id}\",status=\"200\"} 1\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
  }
}

class RateLimitTest : public ServerTest {
 protected:
  ServerConfig Config() override {
    ServerConfig config = ServerTest::Config();
    config.rate_burst = 3;
    config.rate_per_second = 1.0 / 60;  // one a minute: no refill during the test
    return config;
  }
};

TEST_F(RateLimitTest, RefusesOverTheLimitWithRetryAfterPerKey) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client_->Get("/v1/recipes", Key(key_a_))->status, 200);
  httplib::Result refused = client_->Get("/v1/recipes", Key(key_a_));
  json error = ExpectError(refused, 429, "rate_limited");
  EXPECT_TRUE(error["retryable"].get<bool>());
  const int retry_after = std::stoi(refused->get_header_value("Retry-After"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 60);
  // Other keys keep their own budget; health checks are never limited.
  EXPECT_EQ(client_->Get("/v1/recipes", Key(key_b_))->status, 200);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client_->Get("/healthz")->status, 200);
}

}  // namespace
}  // namespace vitrine::api
