// The flags and process plumbing that `vitrine serve`, `vitrine worker` and `vitrine keys` share:
// the data folder, the store URL (default: SQLite under the data folder), worker threads and the
// lease, and waiting for SIGTERM/SIGINT.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <utility>

#include "api/worker.h"
#include "core/status.h"
#include "store/store.h"

namespace vitrine::app {

struct ServerFlags {
  std::string data = "vitrine-data";
  std::string store;  // empty: sqlite under data
  int workers = 1;
  double lease_seconds = 30;
  std::string allow_private_targets;  // CIDR[,CIDR...]

  // Adds --data and --store; with `workers`, also --workers, --lease and
  // --allow-private-targets.
  void AddTo(CLI::App* cmd, bool workers);
  // Checks the data folder (created, writable) and returns the store URL to use.
  Result<std::string> Prepare() const;
  // Prepare(), then opens the store (its errors name the URL and what to check).
  Result<std::unique_ptr<store::JobStore>> OpenStore() const;
  // Worker options from the flags. --allow-private-targets fills the SSRF guard's allowed
  // networks (for URL inputs and webhook targets alike), logged on stderr; InvalidArgument, naming
  // the flag, for a bad network.
  Result<api::WorkerOptions> Workers() const;
};

// --listen and --metrics-listen: "HOST:PORT", ":PORT" or "PORT" (host 127.0.0.1), "[v6]:PORT".
// InvalidArgument naming `flag` and the expected form.
Result<std::pair<std::string, int>> ParseListen(const std::string& text, const std::string& flag);

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts afterwards; call
// before starting any thread. WaitForTermination() then waits for one and tells the operator on
// stderr that the process is stopping and its jobs in progress go back to the queue.
void BlockTerminationSignals();
void WaitForTermination();

}  // namespace vitrine::app
