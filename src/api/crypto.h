// The few cryptographic primitives the API needs, on OpenSSL: random bytes, HMAC-SHA256,
// Base64, constant-time comparison. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace vitrine::api {

// `count` bytes from the OS CSPRNG (RAND_bytes); Unavailable if it has no entropy.
Result<std::string> RandomBytes(int count);
// Raw 32-byte HMAC-SHA256 of `message` under `key`.
std::string HmacSha256(std::string_view key, std::string_view message);
// Standard alphabet, with padding.
std::string Base64Encode(std::string_view bytes);
// Accepts the standard alphabet with or without padding; InvalidArgument otherwise.
Result<std::string> Base64Decode(std::string_view text);
// Equality in time independent of where the inputs differ (for secrets).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace vitrine::api
