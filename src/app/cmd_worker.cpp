// vitrine worker: workers only, on a store and data folder that `vitrine serve` shares.
#include <csignal>
#include <cstdio>

#include "api/metrics.h"
#include "api/store_backend.h"
#include "api/worker.h"
#include "app/commands.h"
#include "app/server_flags.h"

namespace vitrine::app {

void AddWorker(CLI::App& cli, const Config& config, int* exit_code) {
  auto* cmd = cli.add_subcommand(
      "worker", "Run workers for `vitrine serve` on another machine (PostgreSQL store)");
  auto flags = std::make_shared<ServerFlags>();
  flags->AddTo(cmd, /*workers=*/true);
  auto metrics_listen = std::make_shared<std::string>();
  cmd->add_option("--metrics-listen", *metrics_listen,
                  "Serve this process's Prometheus /metrics (queue depth, jobs by state, op "
                  "latencies) on HOST:PORT, without an API key: bind an address only the scraper "
                  "reaches (default: off)")
      ->type_name("HOST:PORT");
  cmd->callback([flags, metrics_listen, &config, exit_code] {
    BlockTerminationSignals();
    Result<std::pair<std::string, int>> listen =
        metrics_listen->empty() ? std::make_pair(std::string(), 0)
                                : ParseListen(*metrics_listen, "--metrics-listen");
    Result<api::WorkerOptions> options =
        listen.ok() ? flags->Workers() : Result<api::WorkerOptions>(listen.status());
    // Fail early with the store's own message when it cannot be reached.
    Result<std::unique_ptr<store::JobStore>> store =
        options.ok() ? flags->OpenStore()
                     : Result<std::unique_ptr<store::JobStore>>(options.status());
    if (!store.ok()) {
      *exit_code = Fail(store.status());
      return;
    }
    api::OpLatencies latencies;
    options->latencies = &latencies;
    api::MetricsEndpoint metrics([&] { return api::CollectMetrics(**store, &latencies); });
    if (!metrics_listen->empty()) {
      Result<int> port = metrics.Start(listen->first, listen->second);
      if (!port.ok()) {
        *exit_code = Fail(port.status());
        return;
      }
      std::printf("vitrine: metrics at http://%s:%d/metrics\n", listen->first.c_str(), *port);
    }
    Result<std::unique_ptr<api::WorkerPool>> pool = api::WorkerPool::Start(config, *options);
    if (!pool.ok()) {
      *exit_code = Fail(pool.status());
      return;
    }
    std::printf("vitrine: %d workers on %s (data %s)\n", options->workers,
                options->store_url.c_str(), flags->data.c_str());
    std::fflush(stdout);
    WaitForTermination();
    metrics.Stop();
    (*pool)->Stop();
    *exit_code = 0;
  });
}

}  // namespace vitrine::app
