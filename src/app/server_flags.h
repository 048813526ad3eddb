// The flags and process plumbing that `vitrine serve`, `vitrine worker` and `vitrine keys` share:
// the data folder, the store URL (default: SQLite under the data folder), worker threads and the
// lease, and waiting for SIGTERM/SIGINT.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "api/worker.h"
#include "core/status.h"
#include "store/store.h"

namespace vitrine::app {

struct ServerFlags {
  std::string data = "vitrine-data";
  std::string store;  // empty: sqlite under data
  int workers = 1;
  double lease_seconds = 30;

  // Adds --data and --store; with `workers`, also --workers and --lease.
  void AddTo(CLI::App* cmd, bool workers);
  // Checks the data folder (created, writable) and returns the store URL to use.
  Result<std::string> Prepare() const;
  // Prepare(), then opens the store (its errors name the URL and what to check).
  Result<std::unique_ptr<store::JobStore>> OpenStore() const;
  // Worker options from the flags. VITRINE_TEST_ALLOW_TARGETS ("ip:port,...", for tests only)
  // fills the SSRF guard's allow-list, with a warning on stderr.
  Result<api::WorkerOptions> Workers() const;
};

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts afterwards; call
// before starting any thread. WaitForTermination() then returns the signal when one arrives.
void BlockTerminationSignals();
int WaitForTermination();

}  // namespace vitrine::app
