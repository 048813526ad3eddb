// Server-side request forgery guard for URL inputs and webhook targets.
//
// Only http and https URLs without credentials are accepted. The host is resolved with
// getaddrinfo and refused if ANY address it resolves to is not a public unicast address:
// loopback, private (10/8, 172.16/12, 192.168/16), shared CGNAT (100.64/10), link-local
// (169.254/16, which holds the 169.254.169.254 cloud metadata address; fe80::/10), unique-local
// (fc00::/7), multicast, unspecified, broadcast, documentation and reserved ranges, and the
// IPv6 forms that embed an IPv4 address (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::/96, 2002::/16) of
// any of those. Callers must connect to VettedTarget::ip, never resolve the name again (a second
// lookup could return another address: DNS rebinding). fetch.h does all that, on every redirect.
//
// Errors: InvalidArgument for a malformed URL, a scheme other than http(s), credentials in the
// URL or a refused address (the message names the address and why); NotFound when the name does
// not resolve. Thread-safe.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vitrine::api {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; an IPv6 literal without brackets
  int port = 0;        // explicit or the scheme's default
  std::string target;  // path and query, starting with '/'
  std::string ToString() const;
};

Result<Url> ParseUrl(std::string_view text);
// A Location header resolved against the URL it came from (absolute, "//host/..", "/path",
// or relative path).
Result<Url> ResolveLocation(const Url& base, std::string_view location);

// Why an address must not be contacted ("loopback", "private", "link-local (cloud metadata)"...),
// or an empty string for a public unicast address. `address` is AF_INET or AF_INET6.
std::string ForbiddenReason(const sockaddr* address);

struct GuardOptions {
  // Tests only: "ip:port" pairs (IPv6 as "[::1]:8080") accepted even though the address is not
  // public, so a test can run the positive path against a server on 127.0.0.1 while every other
  // local address and port stays refused. Never filled from user input or configuration files.
  std::vector<std::string> test_allow_list;
};

struct VettedTarget {
  Url url;
  std::string ip;  // numeric, to connect to
};

Result<VettedTarget> Vet(const Url& url, const GuardOptions& options);
// ParseUrl, then Vet.
Result<VettedTarget> VetUrl(std::string_view url, const GuardOptions& options);

}  // namespace vitrine::api
