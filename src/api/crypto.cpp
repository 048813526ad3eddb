#include "api/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cctype>

namespace vitrine::api {

Result<std::string> RandomBytes(int count) {
  std::string bytes(static_cast<size_t>(count), '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), count) != 1) {
    return Unavailable("the system random generator failed; check that /dev/urandom is readable");
  }
  return bytes;
}

std::string HmacSha256(std::string_view key, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Base64Encode(std::string_view bytes) {
  std::string text(4 * ((bytes.size() + 2) / 3), '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  text.resize(static_cast<size_t>(written));
  return text;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string padded(text);
  while (padded.size() % 4 != 0) padded += '=';
  for (char c : padded) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) {
      return InvalidArgument("not valid Base64 (character '" + std::string(1, c) +
                             "'); use the standard alphabet A-Z a-z 0-9 + /");
    }
  }
  std::string bytes(padded.size() / 4 * 3, '\0');
  const int written =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                      reinterpret_cast<const unsigned char*>(padded.data()), padded.size());
  if (written < 0) return InvalidArgument("not valid Base64; check that the value is complete");
  // EVP_DecodeBlock counts padding as zero bytes.
  size_t size = static_cast<size_t>(written);
  for (size_t i = padded.size(); i > 0 && padded[i - 1] == '=' && size > 0; --i) --size;
  bytes.resize(size);
  return bytes;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace vitrine::api
