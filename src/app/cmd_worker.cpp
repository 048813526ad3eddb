// vitrine worker: workers only, on a store and data folder that `vitrine serve` shares.
#include <csignal>
#include <cstdio>

#include "api/worker.h"
#include "app/commands.h"
#include "app/server_flags.h"

namespace vitrine::app {

void AddWorker(CLI::App& cli, const Config& config, int* exit_code) {
  auto* cmd = cli.add_subcommand(
      "worker", "Run workers for `vitrine serve` on another machine (PostgreSQL store)");
  auto flags = std::make_shared<ServerFlags>();
  flags->AddTo(cmd, /*workers=*/true);
  cmd->callback([flags, &config, exit_code] {
    BlockTerminationSignals();
    Result<api::WorkerOptions> options = flags->Workers();
    // Fail early with the store's own message when it cannot be reached.
    Result<std::unique_ptr<store::JobStore>> store =
        options.ok() ? flags->OpenStore()
                     : Result<std::unique_ptr<store::JobStore>>(options.status());
    if (!store.ok()) {
      *exit_code = Fail(store.status());
      return;
    }
    Result<std::unique_ptr<api::WorkerPool>> pool = api::WorkerPool::Start(config, *options);
    if (!pool.ok()) {
      *exit_code = Fail(pool.status());
      return;
    }
    std::printf("vitrine: %d workers on %s (data %s)\n", options->workers,
                options->store_url.c_str(), flags->data.c_str());
    std::fflush(stdout);
    const int signal = WaitForTermination();
    std::fprintf(stderr, "vitrine: %s: stopping; jobs in progress go back to the queue\n",
                 signal == SIGTERM ? "SIGTERM" : "SIGINT");
    (*pool)->Stop();
    *exit_code = 0;
  });
}

}  // namespace vitrine::app
