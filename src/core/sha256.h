// SHA-256 of files and byte strings (hex), for model checks and cache keys. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace vitrine {

std::string Sha256Hex(std::string_view bytes);
// Streams the file; NotFound if it cannot be opened.
Result<std::string> Sha256File(const std::string& path);

}  // namespace vitrine
