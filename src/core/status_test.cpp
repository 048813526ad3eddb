#include "core/status.h"

#include <gtest/gtest.h>

namespace vitrine {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument(std::to_string(x) + " is odd; pass an even number");
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int half, Half(x));
  return Half(half);
}

TEST(StatusTest, ResultCarriesValueOrError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.status().ToString(), "InvalidArgument: 3 is odd; pass an even number");
}

TEST(StatusTest, ContextIsPrepended) {
  Status s = NotFound("no such file").WithContext("a.jpg");
  EXPECT_EQ(s.message(), "a.jpg: no such file");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

}  // namespace
}  // namespace vitrine
