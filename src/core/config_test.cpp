#include "core/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace vitrine {
namespace {

TEST(ConfigTest, EnvironmentOverridesDefaults) {
  setenv("VITRINE_MAX_PIXELS", "1234", 1);
  Result<Config> config = LoadConfig();
  unsetenv("VITRINE_MAX_PIXELS");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->limits.max_pixels, 1234);
  EXPECT_EQ(config->limits.max_bytes, 50'000'000);
}

TEST(ConfigTest, BadValueNamesTheVariable) {
  setenv("VITRINE_MAX_BYTES", "lots", 1);
  Result<Config> config = LoadConfig();
  unsetenv("VITRINE_MAX_BYTES");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("VITRINE_MAX_BYTES"), std::string::npos);
}

}  // namespace
}  // namespace vitrine
