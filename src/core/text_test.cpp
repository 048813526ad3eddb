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

TEST(TextTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("台灯 É 😀"));
  EXPECT_FALSE(IsValidUtf8("\xcc\xa8\xb5\xc6"));  // 台灯 in GBK
  EXPECT_FALSE(IsValidUtf8("\xe5\x8f"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a surrogate
}

TEST(TextTest, EditDistanceCountsCodePoints) {
  EXPECT_EQ(DecodeUtf8("台灯 A"), std::u32string(U"台灯 A"));
  EXPECT_EQ(EditDistance("厂家直销", "厂家直销"), 0u);
  EXPECT_EQ(EditDistance("厂家直销", "厂家销"), 1u);  // one character, three bytes
  EXPECT_EQ(EditDistance("HTO", "UT"), 2u);
  EXPECT_EQ(EditDistance("", "trend"), 5u);
}

}  // namespace
}  // namespace vitrine
