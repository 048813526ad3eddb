#include "api/listen.h"

#include <chrono>

namespace vitrine::api {

Result<int> BindAndServe(httplib::Server& http, const std::string& host, int port,
                         const std::string& flag, std::thread* thread) {
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  const int bound =
      port == 0 ? http.bind_to_any_port(host) : (http.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return Unavailable("cannot listen on " + host + ":" + std::to_string(port) +
                       "; is another process using the port? choose another with " + flag);
  }
  *thread = std::thread([&http] { http.listen_after_bind(); });
  // httplib's stop() is lost if it comes before the accept loop runs: wait for the loop.
  while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return bound;
}

}  // namespace vitrine::api
