// Sum of squared differences of two byte runs, the inner loop of patch matching (inpaint's
// PatchMatch compares 7x7 BGR patches row by row: 21 bytes a row).
//
// Thread-safe (pure); inputs are only read, never past a + n or b + n.
#pragma once

#include <emmintrin.h>

#include <cstdint>

namespace vitrine {

// The sum over k < n of (a[k] - b[k])^2, exactly as the plain loop computes it (integers: the
// order does not change the result). n >= 0, at most 33,000 (the sum fits an int). SSE2, 16 bytes
// at a time; the tail of a run of at least 16 bytes is one more 16-byte load ending at a + n, its
// lanes already counted masked off.
inline int SquaredDifferenceSum(const uint8_t* a, const uint8_t* b, int n) {
  if (n < 16) {
    int sum = 0;
    for (int k = 0; k < n; ++k) {
      const int d = static_cast<int>(a[k]) - static_cast<int>(b[k]);
      sum += d * d;
    }
    return sum;
  }
  const __m128i zero = _mm_setzero_si128();
  __m128i acc = zero;
  auto add = [&](__m128i x, __m128i y) {
    const __m128i lo = _mm_sub_epi16(_mm_unpacklo_epi8(x, zero), _mm_unpacklo_epi8(y, zero));
    const __m128i hi = _mm_sub_epi16(_mm_unpackhi_epi8(x, zero), _mm_unpackhi_epi8(y, zero));
    acc = _mm_add_epi32(acc, _mm_add_epi32(_mm_madd_epi16(lo, lo), _mm_madd_epi16(hi, hi)));
  };
  int k = 0;
  for (; k + 16 <= n; k += 16) {
    add(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + k)),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + k)));
  }
  if (k < n) {
    // Lanes below 16 - (n - k) of the load ending at n were counted above.
    const __m128i lane = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m128i keep = _mm_cmpgt_epi8(lane, _mm_set1_epi8(static_cast<char>(15 - (n - k))));
    add(_mm_and_si128(keep, _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + n - 16))),
        _mm_and_si128(keep, _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + n - 16))));
  }
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, _MM_SHUFFLE(1, 0, 3, 2)));
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(acc);
}

}  // namespace vitrine
