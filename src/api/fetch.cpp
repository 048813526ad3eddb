#include "api/fetch.h"

#include <httplib.h>

#include <memory>

namespace vitrine::api {
namespace {

constexpr const char* kCaBundle = "/etc/ssl/certs/ca-certificates.crt";
constexpr const char* kUserAgent = "vitrine/0.1";

std::unique_ptr<httplib::ClientImpl> Connect(const VettedTarget& target,
                                             const FetchOptions& options) {
  std::unique_ptr<httplib::ClientImpl> client;
  if (target.url.scheme == "https") {
    auto tls = std::make_unique<httplib::SSLClient>(target.url.host, target.url.port);
    tls->enable_server_certificate_verification(true);
    tls->set_ca_cert_path(kCaBundle);
    client = std::move(tls);
  } else {
    client = std::make_unique<httplib::ClientImpl>(target.url.host, target.url.port);
  }
  // The vetted address, so the library does not resolve the name again.
  client->set_hostname_addr_map({{target.url.host, target.ip}});
  client->set_follow_location(false);
  client->set_connection_timeout(options.connect_timeout);
  client->set_read_timeout(options.read_timeout);
  client->set_write_timeout(options.read_timeout);
  client->set_default_headers({{"User-Agent", kUserAgent}});
  return client;
}

Status TransportError(const Url& url, httplib::Error error) {
  return Unavailable("could not reach " + url.ToString() + " (" + httplib::to_string(error) +
                     "); retry later or check that the server is up");
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

Result<FetchResult> Fetch(std::string_view url, const FetchOptions& options) {
  ASSIGN_OR_RETURN(Url current, ParseUrl(url));
  const auto deadline = std::chrono::steady_clock::now() + options.total_timeout;
  std::string previous;  // the URL that redirected here
  for (int hop = 0;; ++hop) {
    Result<VettedTarget> vetted = Vet(current, options.guard);
    if (!vetted.ok()) {
      return previous.empty() ? vetted.status()
                              : vetted.status().WithContext("redirect from " + previous);
    }
    const VettedTarget& target = *vetted;
    std::unique_ptr<httplib::ClientImpl> client = Connect(target, options);
    FetchResult result;
    Status failure;
    httplib::Result response = client->Get(
        current.target,
        [&](const httplib::Response& head) {
          if (IsRedirect(head.status)) return true;
          const std::string length = head.get_header_value("Content-Length");
          if (!length.empty() && std::strtoll(length.c_str(), nullptr, 10) > options.max_bytes) {
            failure = ResourceExhausted("the file at " + current.ToString() + " is " + length +
                                        " bytes; the limit is " +
                                        std::to_string(options.max_bytes) + " bytes");
            return false;
          }
          return true;
        },
        [&](const char* data, size_t size) {
          if (static_cast<int64_t>(result.body.size() + size) > options.max_bytes) {
            failure = ResourceExhausted("the file at " + current.ToString() +
                                        " is larger than the limit of " +
                                        std::to_string(options.max_bytes) + " bytes");
            return false;
          }
          if (std::chrono::steady_clock::now() > deadline) {
            failure = Unavailable("downloading " + current.ToString() + " took longer than " +
                                  std::to_string(options.total_timeout.count() / 1000) +
                                  " s; retry later or use a faster host");
            return false;
          }
          result.body.append(data, size);
          return true;
        });
    if (!failure.ok()) return failure;
    if (!response) return TransportError(current, response.error());
    result.status = response->status;
    if (IsRedirect(result.status)) {
      const std::string location = response->get_header_value("Location");
      if (location.empty()) {
        return InvalidArgument(current.ToString() + " redirected without a Location; fix the URL");
      }
      if (hop + 1 > options.max_redirects) {
        return InvalidArgument(std::string(url) + " redirected more than " +
                               std::to_string(options.max_redirects) +
                               " times; pass the final URL");
      }
      previous = current.ToString();
      Result<Url> next = ResolveLocation(current, location);
      if (!next.ok()) return next.status().WithContext("redirect from " + previous);
      current = std::move(next).value();
      continue;
    }
    if (result.status == 404 || result.status == 410) {
      return NotFound(current.ToString() + " answered " + std::to_string(result.status) +
                      "; check the URL");
    }
    if (result.status == 429 || result.status >= 500) {
      return Unavailable(current.ToString() + " answered " + std::to_string(result.status) +
                         "; retry later");
    }
    if (result.status < 200 || result.status >= 300) {
      return InvalidArgument(current.ToString() + " answered " + std::to_string(result.status) +
                             "; check that the URL is public and correct");
    }
    result.content_type = response->get_header_value("Content-Type");
    result.final_url = current.ToString();
    return result;
  }
}

Result<int> Post(std::string_view url, const std::string& body, const std::string& content_type,
                 const std::map<std::string, std::string>& headers, const FetchOptions& options) {
  ASSIGN_OR_RETURN(VettedTarget target, VetUrl(url, options.guard));
  std::unique_ptr<httplib::ClientImpl> client = Connect(target, options);
  httplib::Request request;
  request.method = "POST";
  request.path = target.url.target;
  request.headers = httplib::Headers(headers.begin(), headers.end());
  request.headers.emplace("Content-Type", content_type);
  request.body = body;
  // The answer's body is not needed; reading a little of it keeps the connection sane, and the
  // cap keeps a hostile endpoint from streaming forever.
  int64_t received = 0;
  request.content_receiver = [&](const char*, size_t size, uint64_t, uint64_t) {
    received += static_cast<int64_t>(size);
    return received <= options.max_bytes;
  };
  httplib::Result response = client->send(request);
  if (!response) {
    if (received > options.max_bytes) {
      return ResourceExhausted(target.url.ToString() + " answered with more than " +
                               std::to_string(options.max_bytes) + " bytes");
    }
    return TransportError(target.url, response.error());
  }
  return response->status;
}

}  // namespace vitrine::api
