// Binding and serving an httplib server the way every vitrine listener does (the API and a
// worker's /metrics), so a busy port is an error and Stop() is never lost.
#pragma once

#include <httplib.h>

#include <string>
#include <thread>

#include "core/status.h"

namespace vitrine::api {

// Binds `http` to host:port (port 0: any free port) with SO_REUSEADDR only (httplib's default
// SO_REUSEPORT would let a second server share a busy port silently), starts its accept loop on
// `*thread` and returns once the loop runs, with the bound port. Unavailable, naming the address
// and the flag to change it (`flag`, e.g. "--listen"), when the port cannot be bound. Stop with
// http.stop() and join `*thread`.
Result<int> BindAndServe(httplib::Server& http, const std::string& host, int port,
                         const std::string& flag, std::thread* thread);

}  // namespace vitrine::api
