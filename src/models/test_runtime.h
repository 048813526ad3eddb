// For model tests: one Runtime per test binary, configured from the environment as the CLI is.
#pragma once

#include "core/config.h"
#include "models/runtime.h"

namespace vitrine::models {

// Loads the configuration on first call (aborting the test binary if it is invalid) and returns
// the same Runtime afterwards. Thread-safe (static initialisation).
inline Runtime& TestRuntime() {
  static Config config = *LoadConfig();
  static Runtime runtime(config);
  return runtime;
}

}  // namespace vitrine::models
