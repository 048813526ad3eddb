#include "core/text.h"

#include <gtest/gtest.h>

namespace vitrine {
namespace {

TEST(TextTest, SplitTrimJoinLower) {
  EXPECT_EQ(SplitList(" a; b,,c ;", ",;"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(SplitList("  ", ",").empty());
  EXPECT_EQ(Trim("\t x y \r\n"), "x y");
  EXPECT_EQ(Join({"a", "b"}, ", "), "a, b");
  EXPECT_EQ(Join({}, ", "), "");
  EXPECT_EQ(AsciiLower("AmAzon É"), "amazon É");
  EXPECT_EQ(FormatNumber(1.0), "1");
  EXPECT_EQ(FormatNumber(0.85), "0.85");
}

}  // namespace
}  // namespace vitrine
