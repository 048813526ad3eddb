// Tests only: an httplib server on a loopback address (127.0.0.1 unless told) and a free port,
// serving on its own thread.
#pragma once

#include <httplib.h>

#include <string>
#include <thread>

#include "api/listen.h"

namespace vitrine::api::testing {

class LocalHttpServer {
 public:
  // Register routes on server() first, then Start().
  httplib::Server& server() { return server_; }
  // `host` another loopback address (127.0.0.2) puts the server on an address of its own, so a
  // test can allow that one network while 127.0.0.1 stays refused.
  int Start(const std::string& host = "127.0.0.1") {
    host_ = host;
    const Result<int> bound = BindAndServe(server_, host_, 0, "--test", &thread_);
    port_ = bound.ok() ? *bound : -1;
    return port_;
  }
  ~LocalHttpServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  std::string Url(const std::string& path) const {
    return "http://" + host_ + ":" + std::to_string(port_) + path;
  }
  // The network of its one address, for GuardOptions::allowed_networks.
  std::string Network() const { return host_ + "/32"; }

 private:
  httplib::Server server_;
  std::thread thread_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
};

}  // namespace vitrine::api::testing
