#include "core/ssd.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace vitrine {
namespace {

int PlainSum(const uint8_t* a, const uint8_t* b, int n) {
  int sum = 0;
  for (int k = 0; k < n; ++k) sum += (a[k] - b[k]) * (a[k] - b[k]);
  return sum;
}

// The SSE2 path against the plain loop on random bytes: every length up to four vectors and a
// tail, at every alignment, with runs ending exactly at the end of their buffers (the tail's load
// must not read past them), and the extremes (0 against 255).
TEST(SquaredDifferenceSumTest, MatchesThePlainLoopAtEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int n = 0; n <= 70; ++n) {
    for (int offset = 0; offset < 16; ++offset) {
      std::vector<uint8_t> a(offset + n), b(offset + n);
      for (auto& v : a) v = static_cast<uint8_t>(byte(rng));
      for (auto& v : b) v = static_cast<uint8_t>(byte(rng));
      ASSERT_EQ(SquaredDifferenceSum(a.data() + offset, b.data() + offset, n),
                PlainSum(a.data() + offset, b.data() + offset, n))
          << "n " << n << ", offset " << offset;
    }
  }
  const std::vector<uint8_t> black(4096, 0), white(4096, 255);
  EXPECT_EQ(SquaredDifferenceSum(black.data(), white.data(), 4096), 4096 * 255 * 255);
  EXPECT_EQ(SquaredDifferenceSum(white.data(), black.data(), 21), 21 * 255 * 255);
}

}  // namespace
}  // namespace vitrine
