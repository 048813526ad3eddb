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
// An operator may allow some private networks (GuardOptions::allowed_networks, the
// --allow-private-targets flag of serve and worker): a self-hosted office posting webhooks to its
// ERP on 192.168.x.x. Addresses in them are accepted after DNS and on every redirect like public
// ones; the cloud metadata address 169.254.169.254 is refused even then.
//
// Errors: InvalidArgument for a malformed URL, a scheme other than http(s), credentials in the
// URL or a refused address (the message names the address and why); NotFound when the name does
// not resolve. Thread-safe.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
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

// An IPv4 or IPv6 network in CIDR notation.
struct IpNetwork {
  int family = 0;                   // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4
  int prefix = 0;                   // 0..32 or 0..128
  // Whether `address` (AF_INET or AF_INET6; an IPv4-mapped IPv6 address counts as its IPv4
  // address) lies in this network.
  bool Contains(const sockaddr* address) const;
  std::string ToString() const;  // "192.168.0.0/16"
};

// "192.168.0.0/16", "fd00::/8", or a single address ("10.0.0.7" = /32). InvalidArgument, naming
// the text and the expected form, for anything else, including set host bits ("10.0.0.7/8").
Result<IpNetwork> ParseNetwork(std::string_view cidr);
// A comma-separated list of ParseNetwork forms (spaces allowed); empty text gives no networks.
Result<std::vector<IpNetwork>> ParseNetworks(std::string_view list);

struct GuardOptions {
  // Private networks the operator allows (see above); empty: public addresses only.
  std::vector<IpNetwork> allowed_networks;
};

struct VettedTarget {
  Url url;
  std::string ip;  // numeric, to connect to
};

Result<VettedTarget> Vet(const Url& url, const GuardOptions& options);
// ParseUrl, then Vet.
Result<VettedTarget> VetUrl(std::string_view url, const GuardOptions& options);

}  // namespace vitrine::api
