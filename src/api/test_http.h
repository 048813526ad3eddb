// Tests only: an httplib server on 127.0.0.1 and a free port, serving on its own thread.
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

namespace vitrine::api::testing {

class LocalHttpServer {
 public:
  // Register routes on server() first, then Start().
  httplib::Server& server() { return server_; }
  int Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the loop runs would be lost, and the destructor would wait forever.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return port_;
  }
  ~LocalHttpServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string Endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace vitrine::api::testing
