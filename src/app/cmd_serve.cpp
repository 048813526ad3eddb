// vitrine serve: the HTTP API and N in-process workers on one store.
#include <csignal>
#include <cstdio>

#include "api/server.h"
#include "api/store_backend.h"
#include "api/worker.h"
#include "app/commands.h"
#include "app/server_flags.h"
#include "qa/presets.h"

namespace vitrine::app {
namespace {
// PostgreSQL connections for the API's reads, per serve process.
constexpr int kPostgresReadConnections = 8;
}  // namespace

void AddServe(CLI::App& cli, const Config& config, int* exit_code) {
  auto* cmd = cli.add_subcommand("serve", "Run the HTTP API and workers (docs/api.md)");
  struct Args {
    std::string listen = "127.0.0.1:8080";
    double rate = 50;
    ServerFlags flags;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--listen", args->listen, "Address and port to listen on")->capture_default_str();
  cmd->add_option("--rate-limit", args->rate,
                  "Requests per second per API key, sustained (bursts of twice that); over it, "
                  "429 with Retry-After")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  args->flags.AddTo(cmd, /*workers=*/true);
  cmd->callback([args, &config, exit_code] {
    BlockTerminationSignals();
    Result<std::pair<std::string, int>> listen = ParseListen(args->listen, "--listen");
    Result<api::WorkerOptions> options =
        listen.ok() ? args->flags.Workers() : Result<api::WorkerOptions>(listen.status());
    Result<std::unique_ptr<store::JobStore>> store =
        options.ok() ? args->flags.OpenStore()
                     : Result<std::unique_ptr<store::JobStore>>(options.status());
    Result<qa::PresetBook> presets = store.ok() ? qa::LoadPresets(config.qa.presets_file)
                                                : Result<qa::PresetBook>(store.status());
    if (!presets.ok()) {
      *exit_code = Fail(presets.status());
      return;
    }
    api::OpLatencies latencies;
    options->latencies = &latencies;
    api::StoreBackend backend(**store, options->paths, config, *std::move(presets), &latencies);
    api::ServerConfig server_config;
    // Reads (GET job, key lookups) on connections of their own, beside the writers: one per
    // server thread on SQLite (a connection is a file handle), a few on PostgreSQL (a
    // connection is a server process).
    const int read_connections =
        (*store)->backend() == "sqlite" ? server_config.threads : kPostgresReadConnections;
    std::vector<std::unique_ptr<store::JobStore>> readers;
    for (int i = 0; i < read_connections; ++i) {
      Result<std::unique_ptr<store::JobStore>> reader = args->flags.OpenStore();
      if (!reader.ok()) {
        *exit_code = Fail(reader.status());
        return;
      }
      readers.push_back(std::move(reader).value());
    }
    backend.AddReaders(std::move(readers));
    server_config.host = listen->first;
    server_config.port = listen->second;
    server_config.limits = config.limits;
    server_config.guard = options->guard;
    server_config.rate_per_second = args->rate;
    server_config.rate_burst = 2 * args->rate;
    api::Server server(backend, server_config);
    Result<int> port = server.Start();
    if (!port.ok()) {
      *exit_code = Fail(port.status());
      return;
    }
    Result<std::unique_ptr<api::WorkerPool>> pool = api::WorkerPool::Start(config, *options);
    if (!pool.ok()) {
      server.Stop();
      *exit_code = Fail(pool.status());
      return;
    }
    std::printf("vitrine: serving http://%s:%d (data %s, store %s, %d workers)\n",
                listen->first.c_str(), *port, args->flags.data.c_str(), options->store_url.c_str(),
                options->workers);
    std::fflush(stdout);
    WaitForTermination();
    server.Stop();
    (*pool)->Stop();
    *exit_code = 0;
  });
}

}  // namespace vitrine::app
