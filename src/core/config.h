// Process-wide configuration: limits and paths, with defaults, environment overrides and
// validation in one place.
//
// Filled once at start-up by LoadConfig() from defaults, then an optional JSON file named by
// VITRINE_CONFIG, then VITRINE_* environment variables (highest precedence). Read-only after
// that; safe to share between threads.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/status.h"

namespace vitrine {

struct LimitsConfig {
  int64_t max_pixels = 50'000'000;  // VITRINE_MAX_PIXELS
  int64_t max_bytes = 50'000'000;   // VITRINE_MAX_BYTES
  Status Validate() const;
};

struct ModelsConfig {
  // Where packaged model archives are unpacked (scripts/setup) and prepared models cached.
  // VITRINE_CACHE_DIR, default ${XDG_CACHE_HOME:-~/.cache}/vitrine.
  std::string cache_dir;
  // Threads one inference may use; 0 means all cores. VITRINE_THREADS.
  int threads = 0;
  // Square input size of the segmentation net (ISNet), a multiple of 64 from 256 to 2048.
  // VITRINE_SEGMENT_SIZE. See docs/models.md for the speed and quality of each size.
  int segment_size = 832;
  Status Validate() const;
};

struct QaConfig {
  // A user presets file merged over the built-in marketplace presets (docs/presets.md);
  // empty = built-ins only. VITRINE_PRESETS.
  std::string presets_file;
};

struct Config {
  LimitsConfig limits;
  ModelsConfig models;
  QaConfig qa;
  Status Validate() const;
  nlohmann::json ToJson() const;
};

// Defaults < file named by VITRINE_CONFIG < environment. Errors name the variable or key at fault.
Result<Config> LoadConfig();

}  // namespace vitrine
