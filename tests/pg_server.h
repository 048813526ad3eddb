// A throw-away PostgreSQL 15 server for tests: a fresh cluster in a temporary folder, listening
// on a free loopback port with trust authentication, stopped and deleted when the object dies.
//
// Uses Debian's postgresql-15 binaries (/usr/lib/postgresql/15/bin; `scripts/setup` installs
// them). initdb refuses to run as root, so under root the server runs as the `postgres` user
// (Debian's package creates it) via runuser. Not thread-safe; create it from one thread.
// A process forked from the owner may use the server but never stops it. A watchdog process
// stops the server and deletes its folder if the owner dies without doing so (a crash, kill -9),
// so no stray servers are left on a shared machine.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"

namespace vitrine::testing {

class PgServer {
 public:
  // Starts a server; Unavailable with the reason (and the server log) if it cannot.
  static Result<std::unique_ptr<PgServer>> Start();
  // One server for the whole test binary, started on first use, stopped at exit.
  static Result<PgServer*> Shared();

  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // A new empty schema in the server's database; returns a postgresql:// URL whose search_path
  // selects it, so each test sees empty tables (much cheaper than CREATE DATABASE).
  Result<std::string> FreshUrl();
  // postgresql://vitrine@127.0.0.1:PORT/`database`
  std::string Url(const std::string& database = "postgres") const;
  // Wall time initdb + start took, in seconds.
  double start_seconds() const { return start_seconds_; }

 private:
  PgServer() = default;
  std::string dir_;
  int port_ = 0;
  int owner_pid_ = 0;
  int schemas_ = 0;
  double start_seconds_ = 0;
  bool running_ = false;
  int watchdog_fd_ = -1;  // write end of a pipe; the watchdog acts when it closes
  int watchdog_pid_ = 0;
};

}  // namespace vitrine::testing
