// api_bench: the HTTP layer's own cost, on the in-memory backend (so the store is not measured):
// wrk against GET /v1/jobs/{id} (issue 6 asks >= 2,000 requests/s, p99 < 10 ms, for the whole
// server), and the time to enqueue a 300-SKU batch through POST /v1/batches.
//
//   build/api_bench [--seconds N] [--connections N] [--threads N] [--server-threads N]
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "api/fake_backend.h"
#include "api/server.h"

int main(int argc, char** argv) {
  using vitrine::api::FakeBackend;
  int seconds = 10, connections = 32, threads = 2, server_threads = 32;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--seconds") seconds = value;
    if (flag == "--connections") connections = value;
    if (flag == "--threads") threads = value;
    if (flag == "--server-threads") server_threads = value;
  }
  FakeBackend backend;
  const std::string key = backend.AddKey("acme");
  vitrine::api::JobView job;
  job.id = "job_1";
  job.status = "running";
  job.progress = 0.5;
  job.candidates = {{0, {{"score", 0.9}}}, {1, {{"score", 0.8}}}};
  backend.AddJob("acme", job);

  vitrine::api::ServerConfig config;
  config.port = 0;
  config.threads = server_threads;
  config.rate_per_second = 1e9;
  config.rate_burst = 1e9;
  vitrine::api::Server server(backend, config);
  vitrine::Result<int> port = server.Start();
  if (!port.ok()) {
    std::fprintf(stderr, "api_bench: %s\n", port.status().message().c_str());
    return 1;
  }
  const std::string base = "http://127.0.0.1:" + std::to_string(*port);

  // A 300-SKU batch with two URL images each (URLs are vetted: getaddrinfo of a numeric host).
  nlohmann::json manifest = nlohmann::json::array();
  for (int i = 0; i < 300; ++i) {
    manifest.push_back({{"sku", "SKU-" + std::to_string(i)},
                        {"images",
                         {"https://93.184.215.14/p/" + std::to_string(i) + "/front.jpg",
                          "https://93.184.215.14/p/" + std::to_string(i) + "/back.jpg"}}});
  }
  const std::string batch =
      nlohmann::json{{"manifest", manifest}, {"recipe", "cutout-white"}}.dump();
  httplib::Client client("127.0.0.1", *port);
  const auto start = std::chrono::steady_clock::now();
  httplib::Result response =
      client.Post("/v1/batches", {{"X-API-Key", key}}, batch, "application/json");
  const double batch_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!response || response->status != 202) {
    std::fprintf(stderr, "api_bench: batch refused: %s\n",
                 response ? response->body.c_str() : "no response");
    return 1;
  }
  std::printf("POST /v1/batches, 300 SKUs (%zu bytes): %.1f ms (in-memory backend)\n", batch.size(),
              batch_ms);

  const std::string command = "wrk --latency -t" + std::to_string(threads) + " -c" +
                              std::to_string(connections) + " -d" + std::to_string(seconds) +
                              "s -H 'X-API-Key: " + key + "' " + base + "/v1/jobs/job_1";
  std::printf("%s\n", command.c_str());
  std::fflush(stdout);
  return std::system(command.c_str()) == 0 ? 0 : 1;
}
