#include "app/server_flags.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "api/store_backend.h"
#include "api/url_guard.h"
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
  cmd->add_option("--allow-private-targets", allow_private_targets,
                  "Private networks that URL inputs and webhook targets may reach, as "
                  "CIDR[,CIDR...] (e.g. 192.168.10.0/24 for an ERP in the office); checked after "
                  "DNS and on every redirect. The cloud metadata address stays refused")
      ->type_name("CIDR[,CIDR...]");
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
  Result<std::vector<api::IpNetwork>> networks = api::ParseNetworks(allow_private_targets);
  if (!networks.ok()) return networks.status().WithContext("--allow-private-targets");
  options.guard.allowed_networks = std::move(networks).value();
  if (!options.guard.allowed_networks.empty()) {
    std::vector<std::string> names;
    for (const api::IpNetwork& network : options.guard.allowed_networks) {
      names.push_back(network.ToString());
    }
    std::fprintf(stderr,
                 "vitrine: URL inputs and webhook targets may reach private network %s "
                 "(--allow-private-targets)\n",
                 Join(names, ", ").c_str());
  }
  return options;
}

Result<std::pair<std::string, int>> ParseListen(const std::string& text, const std::string& flag) {
  const size_t colon = text.rfind(':');
  std::string host = colon == std::string::npos ? "127.0.0.1" : text.substr(0, colon);
  const std::string port_text = colon == std::string::npos ? text : text.substr(colon + 1);
  if (host.empty()) host = "127.0.0.1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
    return InvalidArgument(flag + " " + text +
                           ": expected HOST:PORT with a port from 0 to 65535, e.g. "
                           "127.0.0.1:8080");
  }
  return std::make_pair(host, static_cast<int>(port));
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void WaitForTermination() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int signal = 0;
  sigwait(&set, &signal);
  std::fprintf(stderr, "vitrine: %s: stopping; jobs in progress go back to the queue\n",
               signal == SIGTERM ? "SIGTERM" : "SIGINT");
}

}  // namespace vitrine::app
