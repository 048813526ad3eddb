#include "tests/pg_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

namespace vitrine::testing {
namespace {

constexpr char kBin[] = "/usr/lib/postgresql/15/bin";
constexpr char kUser[] = "postgres";

// A port the kernel considers free right now (a tiny race with other processes remains).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `command` (as the postgres user when we are root), output appended to `log`.
Status Run(const std::string& command, const std::string& log) {
  std::string line = (geteuid() == 0 ? std::string("runuser -u ") + kUser + " -- " : "") + command +
                     " >>" + log + " 2>&1";
  int rc = std::system(line.c_str());
  if (rc != 0) {
    return Unavailable("`" + line + "` failed (status " + std::to_string(rc) + "):\n" +
                       ReadFile(log));
  }
  return Status::Ok();
}

void StopServer(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir + "/data/postmaster.pid", ec)) return;
  Status st =
      Run(std::string(kBin) + "/pg_ctl -D " + dir + "/data -m immediate -w stop", "/dev/null");
  (void)st;  // nothing more to do if it was already down
}

// Forks a process that waits until every copy of the returned pipe end is closed (the owner
// exited or died), then stops the server in `dir` and deletes the folder.
int StartWatchdog(const std::string& dir, int* pid) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  std::fflush(nullptr);
  *pid = fork();
  if (*pid == 0) {
    close(fds[1]);
    char c;
    ssize_t n;
    do {
      n = read(fds[0], &c, 1);
    } while (n > 0 || (n < 0 && errno == EINTR));
    StopServer(dir);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    _exit(0);
  }
  close(fds[0]);
  if (*pid < 0) {
    close(fds[1]);
    return -1;
  }
  return fds[1];
}

}  // namespace

Result<std::unique_ptr<PgServer>> PgServer::Start() {
  auto t0 = std::chrono::steady_clock::now();
  if (!std::filesystem::exists(std::string(kBin) + "/initdb")) {
    return Unavailable(std::string("PostgreSQL 15 is not installed (") + kBin +
                       "/initdb is missing); run scripts/setup");
  }
  std::unique_ptr<PgServer> server(new PgServer());
  char tmpl[] = "/tmp/vitrine-pg-XXXXXX";
  if (!mkdtemp(tmpl)) return Unavailable("cannot create a temporary folder under /tmp");
  server->dir_ = tmpl;
  server->owner_pid_ = getpid();
  if (geteuid() == 0) {
    passwd* pw = getpwnam(kUser);
    if (!pw) {
      return Unavailable(std::string("running as root, the test server needs the '") + kUser +
                         "' user that Debian's postgresql package creates; run scripts/setup");
    }
    if (chown(tmpl, pw->pw_uid, pw->pw_gid) != 0) {
      return Unavailable(std::string("cannot give ") + tmpl + " to the postgres user");
    }
  }
  const std::string log = server->dir_ + "/setup.log";
  { std::ofstream touch(log); }
  if (geteuid() == 0) {
    passwd* pw = getpwnam(kUser);
    if (chown(log.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return Unavailable("cannot give " + log + " to the postgres user");
    }
  }
  const std::string data = server->dir_ + "/data";
  RETURN_IF_ERROR(Run(std::string(kBin) + "/initdb -D " + data +
                          " -A trust -U vitrine -E UTF8 --no-sync --no-instructions",
                      log));
  server->port_ = FreePort();
  if (server->port_ == 0) return Unavailable("found no free loopback port for PostgreSQL");
  RETURN_IF_ERROR(Run(std::string(kBin) + "/pg_ctl -D " + data + " -l " + server->dir_ +
                          "/server.log -w -t 60 -o '-c listen_addresses=127.0.0.1 -p " +
                          std::to_string(server->port_) + " -k " + server->dir_ +
                          " -c fsync=off -c max_connections=60' start",
                      log));
  server->running_ = true;
  server->watchdog_fd_ = StartWatchdog(server->dir_, &server->watchdog_pid_);
  server->start_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return server;
}

Result<PgServer*> PgServer::Shared() {
  static Result<std::unique_ptr<PgServer>>* shared = new Result<std::unique_ptr<PgServer>>(Start());
  // Stops the shared server at exit (a static unique_ptr would, but a Result must be copyable
  // for that and is not needed elsewhere).
  static bool registered = [] {
    std::atexit([] {
      if (shared->ok()) shared->value().reset();
    });
    return true;
  }();
  (void)registered;
  if (!shared->ok()) return shared->status();
  return shared->value().get();
}

PgServer::~PgServer() {
  if (getpid() != owner_pid_) return;
  if (running_) StopServer(dir_);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  if (watchdog_fd_ >= 0) {
    close(watchdog_fd_);
    waitpid(watchdog_pid_, nullptr, 0);
  }
}

std::string PgServer::Url(const std::string& database) const {
  return "postgresql://vitrine@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

Result<std::string> PgServer::FreshUrl() {
  std::string name = "t";
  name += std::to_string(getpid()) + "_" + std::to_string(++schemas_);
  try {
    pqxx::connection conn(Url());
    pqxx::nontransaction tx(conn);
    tx.exec("CREATE SCHEMA " + name);
  } catch (const std::exception& e) {
    return Unavailable("cannot create schema " + name + ": " + e.what());
  }
  return Url() + "?options=-csearch_path%3D" + name;
}

}  // namespace vitrine::testing
