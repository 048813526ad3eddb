#include "core/config.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

namespace vitrine {
namespace {

std::string DefaultCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/vitrine";
  }
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/vitrine";
}

Status ParseInt(const char* var, int64_t* out) {
  const char* value = std::getenv(var);
  if (!value || !*value) return Status::Ok();
  char* end = nullptr;
  long long parsed = std::strtoll(value, &end, 10);
  if (*end != '\0') {
    return InvalidArgument(std::string(var) + "='" + value + "' is not a whole number");
  }
  *out = parsed;
  return Status::Ok();
}

}  // namespace

Status LimitsConfig::Validate() const {
  if (max_pixels <= 0) return InvalidArgument("max_pixels (VITRINE_MAX_PIXELS) must be > 0");
  if (max_bytes <= 0) return InvalidArgument("max_bytes (VITRINE_MAX_BYTES) must be > 0");
  return Status::Ok();
}

Status ModelsConfig::Validate() const {
  if (cache_dir.empty()) return InvalidArgument("cache_dir (VITRINE_CACHE_DIR) is empty");
  if (threads < 0) return InvalidArgument("threads (VITRINE_THREADS) must be >= 0");
  if (segment_size < 256 || segment_size > 2048 || segment_size % 64 != 0) {
    return InvalidArgument("segment_size (VITRINE_SEGMENT_SIZE) is " +
                           std::to_string(segment_size) +
                           "; use a multiple of 64 from 256 to 2048");
  }
  return Status::Ok();
}

Status Config::Validate() const {
  RETURN_IF_ERROR(limits.Validate());
  return models.Validate();
}

nlohmann::json Config::ToJson() const {
  return {{"limits", {{"max_pixels", limits.max_pixels}, {"max_bytes", limits.max_bytes}}},
          {"models",
           {{"cache_dir", models.cache_dir},
            {"threads", models.threads},
            {"segment_size", models.segment_size}}},
          {"qa", {{"presets_file", qa.presets_file}}}};
}

Result<Config> LoadConfig() {
  Config config;
  config.models.cache_dir = DefaultCacheDir();

  if (const char* path = std::getenv("VITRINE_CONFIG"); path && *path) {
    std::ifstream in(path);
    if (!in)
      return NotFound(std::string("VITRINE_CONFIG names ") + path + ", which cannot be read");
    try {
      nlohmann::json j = nlohmann::json::parse(in);
      if (j.contains("limits")) {
        config.limits.max_pixels = j["limits"].value("max_pixels", config.limits.max_pixels);
        config.limits.max_bytes = j["limits"].value("max_bytes", config.limits.max_bytes);
      }
      if (j.contains("models")) {
        config.models.cache_dir = j["models"].value("cache_dir", config.models.cache_dir);
        config.models.threads = j["models"].value("threads", config.models.threads);
        config.models.segment_size = j["models"].value("segment_size", config.models.segment_size);
      }
      if (j.contains("qa")) {
        config.qa.presets_file = j["qa"].value("presets_file", config.qa.presets_file);
      }
    } catch (const nlohmann::json::exception& e) {
      return InvalidArgument(std::string("config file ") + path + " is not valid: " + e.what());
    }
  }

  RETURN_IF_ERROR(ParseInt("VITRINE_MAX_PIXELS", &config.limits.max_pixels));
  RETURN_IF_ERROR(ParseInt("VITRINE_MAX_BYTES", &config.limits.max_bytes));
  int64_t threads = config.models.threads;
  RETURN_IF_ERROR(ParseInt("VITRINE_THREADS", &threads));
  config.models.threads = static_cast<int>(threads);
  int64_t segment_size = config.models.segment_size;
  RETURN_IF_ERROR(ParseInt("VITRINE_SEGMENT_SIZE", &segment_size));
  config.models.segment_size = static_cast<int>(segment_size);
  if (const char* dir = std::getenv("VITRINE_CACHE_DIR"); dir && *dir) {
    config.models.cache_dir = dir;
  }
  if (const char* presets = std::getenv("VITRINE_PRESETS"); presets && *presets) {
    config.qa.presets_file = presets;
  }
  RETURN_IF_ERROR(config.Validate());
  return config;
}

}  // namespace vitrine
