#include "api/url_guard.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>

#include "core/text.h"

namespace vitrine::api {
namespace {

bool InV4(uint32_t address, uint32_t network, int bits) {
  const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (address & mask) == (network & mask);
}

constexpr uint32_t V4(int a, int b, int c, int d) {
  return (uint32_t(a) << 24) | (uint32_t(b) << 16) | (uint32_t(c) << 8) | uint32_t(d);
}

// The reason of the one address never allowed, even inside an operator's allowed networks.
constexpr char kCloudMetadata[] = "link-local (cloud metadata)";

// `address` in host byte order.
std::string ForbiddenV4(uint32_t address) {
  struct Range {
    uint32_t network;
    int bits;
    const char* reason;
  };
  static const Range kRanges[] = {
      {V4(169, 254, 169, 254), 32, kCloudMetadata},
      {V4(0, 0, 0, 0), 8, "unspecified"},
      {V4(10, 0, 0, 0), 8, "private"},
      {V4(100, 64, 0, 0), 10, "shared (CGNAT)"},
      {V4(127, 0, 0, 0), 8, "loopback"},
      {V4(169, 254, 0, 0), 16, "link-local"},
      {V4(172, 16, 0, 0), 12, "private"},
      {V4(192, 0, 0, 0), 24, "reserved (IETF protocol assignments)"},
      {V4(192, 0, 2, 0), 24, "reserved (documentation)"},
      {V4(192, 88, 99, 0), 24, "reserved (6to4 relay)"},
      {V4(192, 168, 0, 0), 16, "private"},
      {V4(198, 18, 0, 0), 15, "reserved (benchmarking)"},
      {V4(198, 51, 100, 0), 24, "reserved (documentation)"},
      {V4(203, 0, 113, 0), 24, "reserved (documentation)"},
      {V4(224, 0, 0, 0), 4, "multicast"},
      {V4(240, 0, 0, 0), 4, "reserved"},  // includes 255.255.255.255, broadcast
  };
  for (const Range& range : kRanges) {
    if (InV4(address, range.network, range.bits)) return range.reason;
  }
  return "";
}

uint32_t V4At(const uint8_t* bytes) {
  return (uint32_t(bytes[0]) << 24) | (uint32_t(bytes[1]) << 16) | (uint32_t(bytes[2]) << 8) |
         uint32_t(bytes[3]);
}

std::string ForbiddenV6(const uint8_t* b) {
  static const uint8_t kZero[16] = {};
  if (std::memcmp(b, kZero, 16) == 0) return "unspecified";
  if (std::memcmp(b, kZero, 15) == 0 && b[15] == 1) return "loopback";
  // An IPv4 address in IPv6 clothing is judged as that IPv4 address.
  const bool mapped = std::memcmp(b, kZero, 10) == 0 && b[10] == 0xff && b[11] == 0xff;
  const bool compatible = std::memcmp(b, kZero, 12) == 0;
  static const uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b};
  const bool nat64 = std::memcmp(b, kNat64, 12) == 0;
  if (mapped || compatible || nat64) {
    std::string reason = ForbiddenV4(V4At(b + 12));
    return reason.empty() ? "" : reason + " (IPv4 in IPv6)";
  }
  if (b[0] == 0x20 && b[1] == 0x02) {  // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD
    std::string reason = ForbiddenV4(V4At(b + 2));
    return reason.empty() ? "" : reason + " (6to4)";
  }
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "site-local";
  if ((b[0] & 0xfe) == 0xfc) return "unique-local";
  if (b[0] == 0xff) return "multicast";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
    return "reserved (documentation)";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) return "reserved (Teredo)";
  return "";
}

std::string NumericAddress(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text,
              sizeof(text));
  } else {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text,
              sizeof(text));
  }
  return text;
}

Status BadUrl(std::string_view text, std::string_view why) {
  return InvalidArgument("URL '" + std::string(text.substr(0, 200)) + "' " + std::string(why));
}

}  // namespace

std::string Url::ToString() const {
  const bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  const bool v6 = host.find(':') != std::string::npos;
  std::string text = scheme;
  text += "://";
  if (v6) text += '[';
  text += host;
  if (v6) text += ']';
  if (!default_port) text.append(":").append(std::to_string(port));
  text += target;
  return text;
}

Result<Url> ParseUrl(std::string_view text) {
  const size_t colon = text.find("://");
  if (colon == std::string_view::npos) {
    return BadUrl(text, "is not an absolute URL; send http://... or https://...");
  }
  Url url;
  url.scheme = std::string(text.substr(0, colon));
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (url.scheme != "http" && url.scheme != "https") {
    return BadUrl(text,
                  "has the scheme '" + url.scheme + "'; only http and https URLs are accepted");
  }
  std::string_view rest = text.substr(colon + 3);
  const size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? "" : rest.substr(end);
  target = target.substr(0, target.find('#'));
  url.target = std::string(target);
  if (url.target.empty() || url.target[0] != '/') url.target.insert(0, 1, '/');
  if (authority.find('@') != std::string_view::npos) {
    return BadUrl(text,
                  "contains credentials (user@host); they are not accepted, pass a URL "
                  "without them");
  }
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadUrl(text, "has an unclosed IPv6 literal");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return BadUrl(text, "has junk after the IPv6 literal");
      port = after.substr(1);
    }
  } else {
    const size_t port_colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, port_colon));
    if (port_colon != std::string_view::npos) port = authority.substr(port_colon + 1);
  }
  std::transform(url.host.begin(), url.host.end(), url.host.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (url.host.empty()) return BadUrl(text, "has no host");
  for (char c : url.host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
          c == '_')) {
      return BadUrl(text, "has an invalid character in its host name");
    }
  }
  if (port.empty()) {
    url.port = url.scheme == "https" ? 443 : 80;
  } else {
    if (port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) {
      return BadUrl(text, "has an invalid port");
    }
    url.port = std::stoi(std::string(port));
    if (url.port < 1 || url.port > 65535) return BadUrl(text, "has a port outside 1-65535");
  }
  return url;
}

Result<Url> ResolveLocation(const Url& base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return ParseUrl(location);
  if (location.substr(0, 2) == "//") return ParseUrl(base.scheme + ":" + std::string(location));
  Url next = base;
  if (!location.empty() && location[0] == '/') {
    next.target = std::string(location);
  } else {
    const std::string path = base.target.substr(0, base.target.find('?'));
    next.target = path.substr(0, path.rfind('/') + 1) + std::string(location);
  }
  next.target = next.target.substr(0, next.target.find('#'));
  return next;
}

std::string ForbiddenReason(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    return ForbiddenV4(ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    return ForbiddenV6(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr.s6_addr);
  }
  return "not an internet address";
}

Result<VettedTarget> Vet(const Url& url, const GuardOptions& options) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int error = getaddrinfo(url.host.c_str(), nullptr, &hints, &found);
  if (error != 0) {
    if (error == EAI_AGAIN) {
      return Unavailable("could not resolve '" + url.host + "' (" + gai_strerror(error) +
                         "); retry later");
    }
    return NotFound("the host '" + url.host + "' does not resolve (" + gai_strerror(error) +
                    "); check the URL");
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, freeaddrinfo);
  VettedTarget target{url, ""};
  for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    if (entry->ai_family != AF_INET && entry->ai_family != AF_INET6) continue;
    const std::string ip = NumericAddress(entry->ai_addr);
    std::string reason = ForbiddenReason(entry->ai_addr);
    const bool allowed =
        std::any_of(options.allowed_networks.begin(), options.allowed_networks.end(),
                    [&](const IpNetwork& network) { return network.Contains(entry->ai_addr); });
    if (allowed && reason.find(kCloudMetadata) == std::string::npos) reason.clear();
    if (!reason.empty()) {
      return InvalidArgument("URL host '" + url.host + "' resolves to " + ip + ", a " + reason +
                             " address; only public internet addresses are fetched or called "
                             "(an operator can allow private networks with "
                             "--allow-private-targets)");
    }
    if (target.ip.empty()) target.ip = ip;
  }
  if (target.ip.empty()) {
    return NotFound("the host '" + url.host + "' has no internet address; check the URL");
  }
  return target;
}

bool IpNetwork::Contains(const sockaddr* address) const {
  const uint8_t* bytes_of = nullptr;
  int address_family = address->sa_family;
  if (address_family == AF_INET) {
    bytes_of = reinterpret_cast<const uint8_t*>(
        &reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr);
  } else if (address_family == AF_INET6) {
    bytes_of = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr.s6_addr;
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes_of, kMapped, 12) == 0) {
      bytes_of += 12;
      address_family = AF_INET;
    }
  }
  if (!bytes_of || address_family != family) return false;
  for (int bit = 0; bit < prefix; ++bit) {
    const int mask = 0x80 >> (bit % 8);
    if ((bytes_of[bit / 8] & mask) != (bytes[bit / 8] & mask)) return false;
  }
  return true;
}

std::string IpNetwork::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes.data(), text, sizeof(text));
  return std::string(text) + "/" + std::to_string(prefix);
}

Result<IpNetwork> ParseNetwork(std::string_view cidr) {
  const std::string text(cidr);
  const auto bad = [&](std::string_view why) {
    return InvalidArgument("'" + text + "' is not a network: " + std::string(why) +
                           "; write it in CIDR form, e.g. 192.168.10.0/24 or fd00::/8");
  };
  const size_t slash = text.find('/');
  const std::string address = text.substr(0, slash);
  IpNetwork network;
  if (inet_pton(AF_INET, address.c_str(), network.bytes.data()) == 1) {
    network.family = AF_INET;
  } else if (inet_pton(AF_INET6, address.c_str(), network.bytes.data()) == 1) {
    network.family = AF_INET6;
  } else {
    return bad("'" + address + "' is not an IPv4 or IPv6 address");
  }
  const int max_prefix = network.family == AF_INET ? 32 : 128;
  network.prefix = max_prefix;
  if (slash != std::string::npos) {
    const std::string digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(),
                     [](unsigned char c) { return std::isdigit(c); })) {
      return bad("the prefix length after '/' must be a number");
    }
    network.prefix = std::stoi(digits);
    if (network.prefix > max_prefix) {
      return bad("the prefix length is over " + std::to_string(max_prefix));
    }
  }
  for (int bit = network.prefix; bit < max_prefix; ++bit) {
    if (network.bytes[bit / 8] & (0x80 >> (bit % 8))) {
      return bad("it has bits set after the first " + std::to_string(network.prefix));
    }
  }
  return network;
}

Result<std::vector<IpNetwork>> ParseNetworks(std::string_view list) {
  std::vector<IpNetwork> networks;
  for (const std::string& item : SplitList(list, ",")) {
    ASSIGN_OR_RETURN(IpNetwork network, ParseNetwork(item));
    networks.push_back(network);
  }
  return networks;
}

Result<VettedTarget> VetUrl(std::string_view url, const GuardOptions& options) {
  ASSIGN_OR_RETURN(Url parsed, ParseUrl(url));
  return Vet(parsed, options);
}

}  // namespace vitrine::api
