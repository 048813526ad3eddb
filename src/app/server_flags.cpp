#include "app/server_flags.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>

#include "api/store_backend.h"
#include "core/text.h"

namespace vitrine::app {

void ServerFlags::AddTo(CLI::App* cmd, bool with_workers) {
  cmd->add_option("--data", data,
                  "Data folder: uploads, job outputs, webhook secrets, and the SQLite store "
                  "unless --store is given (shared by every machine running workers)")
      ->capture_default_str();
  cmd->add_option("--store", store,
                  "Job store: postgresql://user@host:port/db, or sqlite:///path (default: "
                  "sqlite under --data)");
  if (!with_workers) return;
  cmd->add_option("--workers", workers, "Worker threads, each running one job at a time")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  cmd->add_option("--lease", lease_seconds,
                  "Seconds a claimed job stays leased without a heartbeat (a killed worker's "
                  "jobs run again after this)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 3600.0));
}

Result<std::string> ServerFlags::Prepare() const {
  RETURN_IF_ERROR(api::PrepareDataDir(data));
  return store.empty() ? api::DataPaths{data}.DefaultStoreUrl() : store;
}

Result<std::unique_ptr<store::JobStore>> ServerFlags::OpenStore() const {
  ASSIGN_OR_RETURN(std::string url, Prepare());
  // The store's errors name the URL and what to check.
  return store::OpenStore(url);
}

Result<api::WorkerOptions> ServerFlags::Workers() const {
  api::WorkerOptions options;
  ASSIGN_OR_RETURN(options.store_url, Prepare());
  options.paths.data_dir = data;
  options.workers = workers;
  options.lease = std::chrono::milliseconds(static_cast<int64_t>(lease_seconds * 1000));
  if (const char* allow = std::getenv("VITRINE_TEST_ALLOW_TARGETS"); allow && *allow) {
    options.guard.test_allow_list = SplitList(allow, ",");
    std::fprintf(stderr,
                 "vitrine: WARNING: VITRINE_TEST_ALLOW_TARGETS lets URL inputs and webhooks reach "
                 "%s; unset it outside tests\n",
                 allow);
  }
  return options;
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTermination() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int signal = 0;
  sigwait(&set, &signal);
  return signal;
}

}  // namespace vitrine::app
