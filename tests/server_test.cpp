// End-to-end tests of `vitrine serve`, `vitrine worker` and `vitrine keys` (issue 6): a job through
// the real binary to candidates, exports and a signed webhook; kill -9 at random moments on SQLite
// and on PostgreSQL with two worker processes, losing and duplicating nothing; every route's auth
// and tenant isolation on the real store backend.
#include "api/server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "api/auth.h"
#include "api/process_identity.h"
#include "api/store_backend.h"
#include "api/test_http.h"
#include "api/webhooks.h"
#include "io/image_io.h"
#include "store/store.h"
#include "tests/pg_server.h"
#include "tests/testdata.h"

namespace vitrine {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

// The environment every child gets: a small segmentation size keeps each job well under a second.
const std::map<std::string, std::string> kChildEnv = {{"VITRINE_SEGMENT_SIZE", "320"},
                                                      {"VITRINE_THREADS", "1"}};

// A child process running the vitrine binary, its output appended to `log`.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& log,
        std::map<std::string, std::string> env = kChildEnv) {
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
      std::vector<char*> argv = {const_cast<char*>(VITRINE_BINARY)};
      for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      execv(VITRINE_BINARY, argv.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // Sends `signal` and returns the exit code (-signal when killed by one).
  int Stop(int signal) {
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs vitrine to completion; returns its output.
std::string RunVitrine(const std::vector<std::string>& args, int* exit_code) {
  const std::string log = testdata::FreshTestDir("vitrine_cmd") + "/out.txt";
  Child child(args, log);
  *exit_code = child.Stop(0) == 0 ? 0 : 1;
  return ReadText(log);
}

// Waits for the `occurrence`-th match of `pattern` in the log; returns its first group as a number
// (or 1 without a group), 0 on timeout.
int WaitForLog(const fs::path& log, const std::string& pattern, int occurrence = 1) {
  const std::regex serving(pattern);
  for (auto deadline = SteadyClock::now() + seconds(60); SteadyClock::now() < deadline;) {
    const std::string text = ReadText(log);
    int seen = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), serving);
         it != std::sregex_iterator(); ++it) {
      if (++seen == occurrence) return it->size() > 1 ? std::stoi((*it)[1]) : 1;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  return 0;
}

// Waits for "serving http://127.0.0.1:PORT" (the `occurrence`-th one); returns PORT, 0 on timeout.
int WaitForPort(const fs::path& log, int occurrence = 1) {
  return WaitForLog(log, "serving http://127\\.0\\.0\\.1:([0-9]+)", occurrence);
}

struct CreatedKey {
  std::string key;
  std::string secret;
};

CreatedKey CreateKey(const std::vector<std::string>& store_args, const std::string& tenant) {
  std::vector<std::string> args = {"keys", "create", "--name", "test", "--tenant", tenant};
  args.insert(args.end(), store_args.begin(), store_args.end());
  int code = 0;
  const std::string out = RunVitrine(args, &code);
  EXPECT_EQ(code, 0) << out;
  std::smatch match;
  CreatedKey created;
  // The key is the last word of the output.
  if (std::regex_search(out, match, std::regex("(vt_[A-Za-z0-9]+)\\s*$"))) created.key = match[1];
  if (std::regex_search(out, match, std::regex("(whsec_[A-Za-z0-9+/=]+)"))) {
    created.secret = match[1];
  }
  EXPECT_FALSE(created.key.empty()) << out;
  return created;
}

// A product photo as a supplier would send it, small.
std::string PhotoPng(int seed) {
  testdata::Composite c =
      testdata::MakeComposite(cv::Size(200, 200), testdata::Backdrop::kFlat, seed);
  std::vector<uchar> bytes;
  cv::imencode(".png", c.bgr, bytes);
  return std::string(bytes.begin(), bytes.end());
}

// Cutout, then one staging on white at 300x300, exported for generic-square.
json TinyRecipe() {
  return {{"name", "tiny"},
          {"steps",
           {{{"op", "cutout"}},
            {{"op", "stage"},
             {"params",
              {{"width", 300}, {"height", 300}, {"background", "white"}, {"shadow", "none"}}}}}},
          {"candidates", 1},
          {"export", {{"op", "export"}}},
          {"presets", {"generic-square"}}};
}

httplib::Headers KeyHeader(const std::string& key) { return {{"X-API-Key", key}}; }

json GetJson(httplib::Client& client, const std::string& path, const std::string& key,
             int* status = nullptr) {
  httplib::Result res = client.Get(path.c_str(), KeyHeader(key));
  if (status) *status = res ? res->status : 0;
  if (!res) return json();
  return json::parse(res->body, nullptr, false);
}

// Polls GET /v1/jobs/{id} until the job is terminal; returns its last view.
json WaitForJob(httplib::Client& client, const std::string& id, const std::string& key) {
  json job;
  for (auto deadline = SteadyClock::now() + seconds(60); SteadyClock::now() < deadline;) {
    job = GetJson(client, "/v1/jobs/" + id, key);
    const std::string status = job.value("status", "");
    if (status != "queued" && status != "running" && !status.empty()) return job;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return job;
}

// A webhook receiver on 127.0.0.1 that keeps what it is sent.
struct Receiver {
  struct Message {
    std::map<std::string, std::string> headers;
    std::string body;
  };
  api::testing::LocalHttpServer http;
  std::mutex mutex;
  std::vector<Message> messages;
  Receiver() {
    http.server().Post("/hook", [this](const httplib::Request& request, httplib::Response& res) {
      Message m;
      for (const char* name : {"webhook-id", "webhook-timestamp", "webhook-signature"}) {
        m.headers[name] = request.get_header_value(name);
      }
      m.body = request.body;
      std::lock_guard lock(mutex);
      messages.push_back(std::move(m));
      res.status = 204;
    });
    http.server().Get("/photo.png", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(PhotoPng(8), "image/png");
    });
    http.Start();
  }
  std::vector<Message> Wait(size_t count) {
    for (auto deadline = SteadyClock::now() + seconds(30); SteadyClock::now() < deadline;) {
      {
        std::lock_guard lock(mutex);
        if (messages.size() >= count) return messages;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    std::lock_guard lock(mutex);
    return messages;
  }
};

TEST(ServerEndToEnd, JobThroughServeToCandidatesExportsAndSignedWebhook) {
  const fs::path dir = testdata::FreshTestDir("vitrine_serve");
  const std::string data = (dir / "data").string();
  const CreatedKey key = CreateKey({"--data", data}, "acme");
  ASSERT_FALSE(key.secret.empty());
  Receiver receiver;
  // The receiver is on loopback: the operator allows that one address, as an office would its
  // ERP's network; every other private address stays refused.
  Child serve({"serve", "--listen", "127.0.0.1:0", "--data", data, "--workers", "1",
               "--allow-private-targets", receiver.http.Network()},
              (dir / "serve.log").string(), kChildEnv);
  const int port = WaitForPort(dir / "serve.log");
  ASSERT_GT(port, 0) << ReadText(dir / "serve.log");
  EXPECT_NE(ReadText(dir / "serve.log").find("may reach private network 127.0.0.1/32"),
            std::string::npos)
      << ReadText(dir / "serve.log");
  httplib::Client client("127.0.0.1", port);

  httplib::MultipartFormDataItems form = {{"image", PhotoPng(3), "photo.png", "image/png"},
                                          {"recipe", TinyRecipe().dump(), "", ""},
                                          {"sku", "MUG-1", "", ""},
                                          {"webhook_url", receiver.http.Url("/hook"), "", ""}};
  httplib::Result posted = client.Post("/v1/jobs", KeyHeader(key.key), form);
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 202) << posted->body;
  const json created = json::parse(posted->body);
  const std::string id = created["id"];
  EXPECT_EQ(created["links"]["self"], "/v1/jobs/" + id);

  const json job = WaitForJob(client, id, key.key);
  ASSERT_EQ(job["status"], "succeeded") << job.dump(2) << ReadText(dir / "serve.log");
  EXPECT_EQ(job["sku"], "MUG-1");
  EXPECT_EQ(job["progress"], 1.0);
  ASSERT_EQ(job["candidates"].size(), 1u);
  const json& candidate = job["candidates"][0];
  EXPECT_TRUE(candidate["qa"]["accepted"].get<bool>()) << candidate.dump(2);
  EXPECT_TRUE(candidate["qa"]["score"].is_number());
  EXPECT_FALSE(candidate["qa"]["checks"].empty());
  ASSERT_TRUE(job["exports"].contains("generic-square")) << job.dump(2);

  // The candidate is the 300x300 staging (a JPEG: it is opaque), on white at its corners.
  httplib::Result png = client.Get(candidate["url"].get<std::string>().c_str(), KeyHeader(key.key));
  ASSERT_TRUE(png);
  ASSERT_EQ(png->status, 200);
  EXPECT_EQ(png->get_header_value("Content-Type"), "image/jpeg");
  cv::Mat image =
      cv::imdecode(std::vector<uchar>(png->body.begin(), png->body.end()), cv::IMREAD_COLOR);
  ASSERT_EQ(image.size(), cv::Size(300, 300));
  EXPECT_EQ(image.at<cv::Vec3b>(2, 2), cv::Vec3b(255, 255, 255));
  // The export is a JPEG that the preset's gate passed.
  httplib::Result jpg =
      client.Get(job["exports"]["generic-square"].get<std::string>().c_str(), KeyHeader(key.key));
  ASSERT_TRUE(jpg);
  ASSERT_EQ(jpg->status, 200);
  EXPECT_EQ(io::SniffFormat(jpg->body), io::Format::kJpeg);
  EXPECT_EQ(client.Get(("/v1/jobs/" + id + "/candidates/9").c_str(), KeyHeader(key.key))->status,
            404);

  // The webhook: job.succeeded with the job's view, signed with the tenant's secret.
  std::vector<Receiver::Message> messages = receiver.Wait(1);
  ASSERT_EQ(messages.size(), 1u);
  const Receiver::Message& m = messages[0];
  const json body = json::parse(m.body);
  EXPECT_EQ(body["type"], "job.succeeded");
  EXPECT_EQ(body["data"]["id"], id);
  EXPECT_EQ(body["data"]["status"], "succeeded");
  Result<std::string> expected =
      api::SignWebhook(key.secret, m.headers.at("webhook-id"),
                       std::stoll(m.headers.at("webhook-timestamp")), m.body);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(m.headers.at("webhook-signature"), *expected);
  Result<std::string> other =
      api::SignWebhook("whsec_" + std::string(43, 'A') + "=", m.headers.at("webhook-id"),
                       std::stoll(m.headers.at("webhook-timestamp")), m.body);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, m.headers.at("webhook-signature"));

  // Metrics: jobs by state and the latency of the ops this process's workers ran.
  httplib::Result metrics = client.Get("/metrics", KeyHeader(key.key));
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("vitrine_jobs{state=\"succeeded\"} 1"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("vitrine_op_duration_seconds_count{op=\"cutout\"} 1"),
            std::string::npos)
      << metrics->body;

  // A URL input: fetched by the worker (through the SSRF guard, which allows only the receiver).
  const json by_url = {{"images", {receiver.http.Url("/photo.png")}}, {"recipe", TinyRecipe()}};
  httplib::Result url_job =
      client.Post("/v1/jobs", KeyHeader(key.key), by_url.dump(), "application/json");
  ASSERT_TRUE(url_job);
  ASSERT_EQ(url_job->status, 202) << url_job->body;
  const json fetched = WaitForJob(client, json::parse(url_job->body)["id"], key.key);
  EXPECT_EQ(fetched["status"], "succeeded") << fetched.dump(2);
  EXPECT_EQ(fetched["candidates"].size(), 1u);
  // The cloud metadata address is refused at submission, with a message saying why.
  const json metadata = {{"images", {"http://169.254.169.254/latest/meta-data"}},
                         {"recipe", TinyRecipe()}};
  httplib::Result refused =
      client.Post("/v1/jobs", KeyHeader(key.key), metadata.dump(), "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400) << refused->body;
  EXPECT_NE(refused->body.find("169.254.169.254"), std::string::npos) << refused->body;

  // SIGTERM: a clean exit.
  EXPECT_EQ(serve.Stop(SIGTERM), 0) << ReadText(dir / "serve.log");
}

// RFC 3339 in UTC, `from_now` from now.
std::string Rfc3339FromNow(seconds from_now) {
  const std::time_t t =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + from_now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// A batch whose window closes before any worker runs it: its jobs fail with window_closed and
// send job.failed, and the batch sends batch.completed once — with no worker claiming at all.
TEST(ServerEndToEnd, AWindowThatClosesWhileQueuedFailsTheJobsAndSendsTheirWebhooks) {
  const fs::path dir = testdata::FreshTestDir("vitrine_window");
  const std::string data = (dir / "data").string();
  const CreatedKey key = CreateKey({"--data", data}, "acme");
  Receiver receiver;
  Child serve({"serve", "--listen", "127.0.0.1:0", "--data", data, "--workers", "0",
               "--allow-private-targets", receiver.http.Network()},
              (dir / "serve.log").string());
  const int port = WaitForPort(dir / "serve.log");
  ASSERT_GT(port, 0) << ReadText(dir / "serve.log");
  httplib::Client client("127.0.0.1", port);
  httplib::MultipartFormDataItems form = {{"image", PhotoPng(4), "p.png", "image/png"}};
  httplib::Result up = client.Post("/v1/uploads", KeyHeader(key.key), form);
  ASSERT_TRUE(up && up->status == 201);
  const std::string upload = json::parse(up->body)["uploads"][0]["id"];
  const json body = {
      {"manifest", {{{"sku", "A"}, {"images", {upload}}}, {{"sku", "B"}, {"images", {upload}}}}},
      {"recipe", TinyRecipe()},
      {"schedule", {{"not_after", Rfc3339FromNow(seconds(2))}}},
      {"webhook_url", receiver.http.Url("/hook")}};
  httplib::Result batch =
      client.Post("/v1/batches", KeyHeader(key.key), body.dump(), "application/json");
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->status, 202) << batch->body;
  const json created = json::parse(batch->body);

  std::vector<Receiver::Message> messages = receiver.Wait(3);
  ASSERT_EQ(messages.size(), 3u) << ReadText(dir / "serve.log");
  std::multiset<std::string> types;
  for (const Receiver::Message& m : messages) types.insert(json::parse(m.body)["type"]);
  EXPECT_EQ(types, (std::multiset<std::string>{"job.failed", "job.failed", "batch.completed"}));
  for (const std::string id : created["job_ids"]) {
    const json job = GetJson(client, "/v1/jobs/" + id, key.key);
    EXPECT_EQ(job["status"], "failed") << job.dump(2);
    EXPECT_EQ(job["error"]["code"], "window_closed") << job.dump(2);
    EXPECT_EQ(job["error"]["retryable"], false);
  }
  std::this_thread::sleep_for(milliseconds(1500));  // a few more dispatcher rounds: nothing new
  {
    std::lock_guard lock(receiver.mutex);
    EXPECT_EQ(receiver.messages.size(), 3u);
  }
  EXPECT_EQ(serve.Stop(SIGTERM), 0);
}

// `vitrine worker --metrics-listen`: the worker's own Prometheus text, without an API key, with
// the latencies of the ops this worker ran.
TEST(ServerEndToEnd, WorkerServesItsOwnMetrics) {
  const fs::path dir = testdata::FreshTestDir("vitrine_worker_metrics");
  const std::string data = (dir / "data").string();
  const CreatedKey key = CreateKey({"--data", data}, "acme");
  Child serve({"serve", "--listen", "127.0.0.1:0", "--data", data, "--workers", "0"},
              (dir / "serve.log").string());
  const int port = WaitForPort(dir / "serve.log");
  ASSERT_GT(port, 0) << ReadText(dir / "serve.log");
  Child worker({"worker", "--data", data, "--workers", "1", "--metrics-listen", "127.0.0.1:0"},
               (dir / "worker.log").string());
  const int metrics_port =
      WaitForLog(dir / "worker.log", "metrics at http://127\\.0\\.0\\.1:([0-9]+)/metrics");
  ASSERT_GT(metrics_port, 0) << ReadText(dir / "worker.log");
  httplib::Client client("127.0.0.1", port);
  httplib::MultipartFormDataItems form = {{"image", PhotoPng(6), "p.png", "image/png"},
                                          {"recipe", TinyRecipe().dump(), "", ""}};
  httplib::Result posted = client.Post("/v1/jobs", KeyHeader(key.key), form);
  ASSERT_TRUE(posted && posted->status == 202);
  const json job = WaitForJob(client, json::parse(posted->body)["id"], key.key);
  ASSERT_EQ(job["status"], "succeeded") << job.dump(2) << ReadText(dir / "worker.log");

  // The worker's job thread and dispatcher yield the CPU (SCHED_BATCH, nice 10); the main thread
  // (and the metrics endpoint's) do not.
  int lowered = 0;
  int normal = 0;
  for (const auto& task :
       fs::directory_iterator("/proc/" + std::to_string(worker.pid()) + "/task")) {
    const std::string stat = ReadText(task.path() / "stat");
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
    ASSERT_GE(f.size(), 39u);
    // Fields 19 (nice) and 41 (policy) of proc(5), counted from 3 after the command name.
    if (f[19 - 3] == "10" && f[41 - 3] == "3") ++lowered;
    if (f[19 - 3] == "0" && f[41 - 3] == "0") ++normal;
  }
  EXPECT_GE(lowered, 2) << "the job thread and the webhook dispatcher";
  EXPECT_GE(normal, 2) << "main and the metrics endpoint";

  httplib::Client scraper("127.0.0.1", metrics_port);
  httplib::Result metrics = scraper.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("vitrine_jobs{state=\"succeeded\"} 1"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("vitrine_queue_depth 0"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("vitrine_op_duration_seconds_count{op=\"cutout\"} 1"),
            std::string::npos)
      << metrics->body;
  // The API process ran no op, so its /metrics has no cutout latency: each process shows its own.
  httplib::Result api_metrics = client.Get("/metrics", KeyHeader(key.key));
  ASSERT_TRUE(api_metrics);
  EXPECT_EQ(api_metrics->body.find("vitrine_op_duration_seconds_count{op=\"cutout\"}"),
            std::string::npos);
  EXPECT_EQ(worker.Stop(SIGTERM), 0) << ReadText(dir / "worker.log");
}

// A restarted worker releases at once only the claims it can prove dead: a killed process of
// this host, boot and pid namespace. A claim by a process of another container that shares the
// host name (another pid namespace) stays running until its lease expires.
TEST(ServerEndToEnd, WorkerReleasesOnlyClaimsOfProvablyDeadProcesses) {
  const fs::path dir = testdata::FreshTestDir("vitrine_orphans");
  const api::DataPaths paths{(dir / "data").string()};
  ASSERT_TRUE(api::PrepareDataDir(paths.data_dir).ok());
  Result<std::unique_ptr<store::JobStore>> store = store::OpenStore(paths.DefaultStoreUrl());
  ASSERT_TRUE(store.ok());
  // A process that ran here and was killed.
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  ASSERT_GT(child, 0);
  api::ProcessIdentity dead = api::SelfIdentity();
  dead.pid = child;
  dead.start_time = api::ProcStartTime(child).value_or("");
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  // A live process of another container with the same host name, and even the same pid.
  api::ProcessIdentity elsewhere = dead;
  elsewhere.pid_namespace = "4026599999";
  std::map<std::string, int64_t> jobs;
  for (const auto& [name, owner] : {std::pair<std::string, std::string>{"dead", dead.ToString()},
                                    {"elsewhere", elsewhere.ToString()}}) {
    store::NewJob job;
    job.tenant = "acme";
    job.sku = name;
    job.payload = {{"images", json::array()}, {"recipe", TinyRecipe()}};
    Result<std::vector<int64_t>> ids = (*store)->Enqueue({job});
    ASSERT_TRUE(ids.ok());
    Result<std::optional<store::Job>> claimed =
        (*store)->Claim(owner + "/0", std::chrono::hours(1));
    ASSERT_TRUE(claimed.ok() && claimed->has_value());
    jobs[name] = (**claimed).id;
  }
  Child worker({"worker", "--data", paths.data_dir, "--workers", "0"},
               (dir / "worker.log").string());
  ASSERT_GT(WaitForLog(dir / "worker.log", "workers on"), 0) << ReadText(dir / "worker.log");
  EXPECT_EQ((*store)->GetJob(jobs["dead"])->state, store::JobState::kQueued)
      << ReadText(dir / "worker.log");
  EXPECT_EQ((*store)->GetJob(jobs["dead"])->attempt, 1);
  EXPECT_EQ((*store)->GetJob(jobs["dead"])->releases, 1) << "released without using an attempt";
  EXPECT_EQ((*store)->GetJob(jobs["elsewhere"])->state, store::JobState::kRunning);
  EXPECT_EQ((*store)->GetJob(jobs["elsewhere"])->lease_owner, elsewhere.ToString() + "/0");
  EXPECT_EQ(worker.Stop(SIGTERM), 0);
}

TEST(ServerEndToEnd, ClearErrorsForBusyPortAndUnreachableStore) {
  const fs::path dir = testdata::FreshTestDir("vitrine_serve_errors");
  api::testing::LocalHttpServer busy;
  busy.Start();
  int code = 0;
  std::string out = RunVitrine({"serve", "--listen", "127.0.0.1:" + std::to_string(busy.port()),
                                "--data", (dir / "data").string(), "--workers", "0"},
                               &code);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find(std::to_string(busy.port())), std::string::npos) << out;
  out = RunVitrine({"worker", "--data", (dir / "data").string(), "--store",
                    "postgresql://nobody@127.0.0.1:1/none"},
                   &code);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("cannot connect to PostgreSQL"), std::string::npos) << out;
}

// The crash test: `batch` of jobs, `process` killed with SIGKILL at random moments `kills` times
// and restarted; every job must end succeeded, once, with one set of outputs.
class CrashTest : public ::testing::Test {
 protected:
  static constexpr int kJobs = 30;
  static constexpr int kKills = 10;

  // Submits the batch through the API at `port`; returns the batch id.
  std::string SubmitBatch(int port, const std::string& key) {
    httplib::Client client("127.0.0.1", port);
    httplib::MultipartFormDataItems form = {{"image", PhotoPng(5), "p.png", "image/png"}};
    httplib::Result up = client.Post("/v1/uploads", KeyHeader(key), form);
    EXPECT_TRUE(up && up->status == 201) << (up ? up->body : "no answer");
    if (!up) return "";
    const std::string upload = json::parse(up->body)["uploads"][0]["id"];
    json manifest = json::array();
    for (int i = 0; i < kJobs; ++i) {
      manifest.push_back({{"sku", "SKU-" + std::to_string(i)}, {"images", {upload}}});
    }
    const json body = {{"manifest", manifest}, {"recipe", TinyRecipe()}};
    httplib::Result res =
        client.Post("/v1/batches", KeyHeader(key), body.dump(), "application/json");
    EXPECT_TRUE(res && res->status == 202) << (res ? res->body : "no answer");
    return res ? json::parse(res->body).value("id", "") : "";
  }

  // Every job succeeded, with exactly the outputs of one run in its folder.
  void ExpectAllSucceededOnce(const std::string& store_url, const fs::path& data) {
    Result<std::unique_ptr<store::JobStore>> store = store::OpenStore(store_url);
    ASSERT_TRUE(store.ok()) << store.status().message();
    Result<store::JobPage> page = (*store)->ListJobs({.limit = 1000});
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->jobs.size(), static_cast<size_t>(kJobs));
    for (const store::Job& job : page->jobs) {
      EXPECT_EQ(job.state, store::JobState::kSucceeded)
          << "job_" << job.id << " " << store::JobStateName(job.state) << " "
          << (job.last_error ? job.last_error->message : "");
      const fs::path folder = data / "jobs" / ("job_" + std::to_string(job.id));
      std::set<std::string> files;
      for (const auto& entry : fs::recursive_directory_iterator(folder)) {
        if (entry.is_regular_file()) files.insert(fs::relative(entry.path(), folder).string());
      }
      const std::string sku = job.sku;
      // One SKU folder with one candidate, its thumb, one export and the report: nothing doubled,
      // nothing half-written.
      EXPECT_EQ(files, (std::set<std::string>{
                           sku + "/candidates/01.jpg", sku + "/candidates/01.thumb.jpg",
                           sku + "/exports/generic-square/1-01.jpg", sku + "/report.json"}))
          << "job_" << job.id;
      EXPECT_EQ(job.result["candidates"].size(), 1u);
    }
  }

  // Waits until no job is queued or running; returns how many are left. The ten minutes guard
  // against a hang only: on a loaded machine 24 jobs have taken over two minutes.
  int64_t WaitUntilDone(const std::string& store_url) {
    Result<std::unique_ptr<store::JobStore>> store = store::OpenStore(store_url);
    if (!store.ok()) return -1;
    int64_t open = -1;
    for (auto deadline = SteadyClock::now() + seconds(600); SteadyClock::now() < deadline;) {
      Result<std::map<store::JobState, int64_t>> counts = (*store)->CountByState();
      if (counts.ok()) {
        open = (*counts)[store::JobState::kQueued] + (*counts)[store::JobState::kRunning];
        if (open == 0) return 0;
      }
      std::this_thread::sleep_for(milliseconds(200));
    }
    return open;
  }

  std::mt19937 random_{20261124};
  milliseconds RandomMoment() {
    return milliseconds(std::uniform_int_distribution<int>(200, 1500)(random_));
  }
};

TEST_F(CrashTest, KillNineServeOnSqliteLosesAndRepeatsNothing) {
  const fs::path dir = testdata::FreshTestDir("vitrine_crash_sqlite");
  const std::string data = (dir / "data").string();
  const CreatedKey key = CreateKey({"--data", data}, "acme");
  const std::vector<std::string> args = {"serve",     "--listen", "127.0.0.1:0", "--data", data,
                                         "--workers", "2",        "--lease",     "3"};
  const fs::path log = dir / "serve.log";
  auto serve = std::make_unique<Child>(args, log.string());
  int port = WaitForPort(log, 1);
  ASSERT_GT(port, 0) << ReadText(log);
  ASSERT_FALSE(SubmitBatch(port, key.key).empty());
  for (int kill = 1; kill <= kKills; ++kill) {
    std::this_thread::sleep_for(RandomMoment());
    EXPECT_EQ(serve->Stop(SIGKILL), -SIGKILL);
    serve = std::make_unique<Child>(args, log.string());
    ASSERT_GT(WaitForPort(log, kill + 1), 0) << ReadText(log);
  }
  const std::string url = api::DataPaths{data}.DefaultStoreUrl();
  EXPECT_EQ(WaitUntilDone(url), 0) << ReadText(log);
  ExpectAllSucceededOnce(url, data);
}

TEST_F(CrashTest, SigtermGivesRunningJobsBackAndExitsZero) {
  const fs::path dir = testdata::FreshTestDir("vitrine_sigterm");
  const std::string data = (dir / "data").string();
  const CreatedKey key = CreateKey({"--data", data}, "acme");
  const fs::path log = dir / "serve.log";
  Child serve({"serve", "--listen", "127.0.0.1:0", "--data", data, "--workers", "2"}, log.string());
  const int port = WaitForPort(log);
  ASSERT_GT(port, 0) << ReadText(log);
  ASSERT_FALSE(SubmitBatch(port, key.key).empty());
  Result<std::unique_ptr<store::JobStore>> store =
      store::OpenStore(api::DataPaths{data}.DefaultStoreUrl());
  ASSERT_TRUE(store.ok());
  // Stop while jobs are running.
  for (auto deadline = SteadyClock::now() + seconds(30); SteadyClock::now() < deadline;) {
    Result<std::map<store::JobState, int64_t>> counts = (*store)->CountByState();
    if (counts.ok() && (*counts)[store::JobState::kRunning] > 0) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(serve.Stop(SIGTERM), 0) << ReadText(log);
  Result<std::map<store::JobState, int64_t>> counts = (*store)->CountByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[store::JobState::kRunning], 0);
  EXPECT_GT((*counts)[store::JobState::kQueued], 0);
  EXPECT_EQ((*counts)[store::JobState::kFailed] + (*counts)[store::JobState::kDead], 0);
}

TEST_F(CrashTest, KillNineOneOfTwoWorkersOnPostgres) {
  Result<testing::PgServer*> pg = testing::PgServer::Shared();
  ASSERT_TRUE(pg.ok()) << pg.status().message();
  Result<std::string> url = (*pg)->FreshUrl();
  ASSERT_TRUE(url.ok()) << url.status().message();
  const fs::path dir = testdata::FreshTestDir("vitrine_crash_pg");
  const std::string data = (dir / "data").string();
  const CreatedKey key = CreateKey({"--data", data, "--store", *url}, "acme");
  Child serve(
      {"serve", "--listen", "127.0.0.1:0", "--data", data, "--store", *url, "--workers", "0"},
      (dir / "serve.log").string());
  const int port = WaitForPort(dir / "serve.log");
  ASSERT_GT(port, 0) << ReadText(dir / "serve.log");
  const std::vector<std::string> worker_args = {"worker",    "--data", data,      "--store", *url,
                                                "--workers", "1",      "--lease", "3"};
  Child steady(worker_args, (dir / "steady.log").string());
  // One log per victim, so the last one's start can be waited for.
  auto victim_log = [&](int n) { return dir / ("victim" + std::to_string(n) + ".log"); };
  auto victim = std::make_unique<Child>(worker_args, victim_log(0).string());
  ASSERT_FALSE(SubmitBatch(port, key.key).empty());
  for (int kill = 1; kill <= kKills; ++kill) {
    std::this_thread::sleep_for(RandomMoment());
    EXPECT_EQ(victim->Stop(SIGKILL), -SIGKILL);
    victim = std::make_unique<Child>(worker_args, victim_log(kill).string());
  }
  const fs::path log = victim_log(kKills);
  ASSERT_GT(WaitForLog(log, "workers on"), 0) << ReadText(log);
  EXPECT_EQ(WaitUntilDone(*url), 0) << ReadText(log);
  ExpectAllSucceededOnce(*url, data);
  EXPECT_EQ(victim->Stop(SIGTERM), 0);
  EXPECT_EQ(steady.Stop(SIGTERM), 0);
}

// Every route of the table on the real store backend: 401 without a key (but /healthz), 404 for
// another tenant's job, batch or upload.
TEST(ServerRoutes, EveryRouteNeedsAKeyAndHidesOtherTenants) {
  const fs::path dir = testdata::FreshTestDir("vitrine_routes");
  const api::DataPaths paths{(dir / "data").string()};
  ASSERT_TRUE(api::PrepareDataDir(paths.data_dir).ok());
  Result<std::unique_ptr<store::JobStore>> store = store::OpenStore(paths.DefaultStoreUrl());
  ASSERT_TRUE(store.ok());
  Result<qa::PresetBook> presets = qa::LoadPresets();
  ASSERT_TRUE(presets.ok());
  Config config;
  api::StoreBackend backend(**store, paths, config, *presets);
  std::map<std::string, std::string> keys;
  for (const std::string tenant : {"alpha", "beta"}) {
    Result<api::NewApiKey> key = api::GenerateApiKey();
    ASSERT_TRUE((*store)->CreateApiKey(tenant, tenant, key->sha256).ok());
    keys[tenant] = key->key;
  }
  // alpha's job and batch.
  const std::string photo = PhotoPng(1);
  Result<api::UploadInfo> upload =
      backend.CreateUpload("alpha", "p.png", photo, *io::ReadHeader(photo));
  ASSERT_TRUE(upload.ok()) << upload.status().message();
  api::RecipeSpec spec;
  spec.recipe = TinyRecipe();
  Result<api::JobView> job = backend.CreateJob({"alpha", {upload->id}, "A", spec});
  ASSERT_TRUE(job.ok()) << job.status().message();
  Result<api::BatchView> batch = backend.CreateBatch({"alpha", {{"B", {upload->id}}}, spec});
  ASSERT_TRUE(batch.ok()) << batch.status().message();
  // beta cannot use alpha's upload either.
  EXPECT_EQ(backend.CreateJob({"beta", {upload->id}, "A", spec}).status().code(),
            Code::kInvalidArgument);

  api::ServerConfig server_config;
  server_config.port = 0;
  api::Server server(backend, server_config);
  Result<int> port = server.Start();
  ASSERT_TRUE(port.ok());
  httplib::Client client("127.0.0.1", *port);
  auto call = [&](std::string_view method, const std::string& path, const httplib::Headers& h) {
    httplib::Result res = method == "GET" ? client.Get(path.c_str(), h)
                          : method == "DELETE"
                              ? client.Delete(path.c_str(), h)
                              : client.Post(path.c_str(), h, "{}", "application/json");
    return res ? res->status : 0;
  };
  int routes = 0;
  for (const api::RouteSpec& route : api::Server::Routes()) {
    std::string path(route.path);
    const bool batch_route = path.find("/batches/") != std::string::npos;
    const bool has_id = path.find("{id}") != std::string::npos;
    path = std::regex_replace(path, std::regex("\\{id\\}"), batch_route ? batch->id : job->id);
    path = std::regex_replace(path, std::regex("\\{n\\}"), "1");
    path = std::regex_replace(path, std::regex("\\{preset\\}"), "generic-square");
    const int anonymous = call(route.method, path, {});
    if (route.needs_key) {
      EXPECT_EQ(anonymous, 401) << route.method << " " << path;
      EXPECT_EQ(call(route.method, path, KeyHeader("vt_notakey")), 401) << path;
    } else {
      EXPECT_EQ(anonymous, 200) << route.method << " " << path;
    }
    if (has_id) {
      EXPECT_EQ(call(route.method, path, KeyHeader(keys["beta"])), 404)
          << route.method << " " << path;
    }
    ++routes;
  }
  EXPECT_GE(routes, 13);
  // alpha sees its own job; cancelling it works once, then 409.
  EXPECT_EQ(call("GET", "/v1/jobs/" + job->id, KeyHeader(keys["alpha"])), 200);
  EXPECT_EQ(call("DELETE", "/v1/jobs/" + job->id, KeyHeader(keys["alpha"])), 200);
  EXPECT_EQ(call("DELETE", "/v1/jobs/" + job->id, KeyHeader(keys["alpha"])), 409);
  server.Stop();
}

}  // namespace
}  // namespace vitrine
