#include "models/fast_conv.h"

#include <immintrin.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <mutex>
#include <opencv2/dnn/all_layers.hpp>
#include <string>
#include <vector>

namespace vitrine::models {
namespace {

// The kernels are compiled for AVX2 + FMA whatever the build's baseline, and only run when the CPU
// has both (checked once when a layer is made).
#define VITRINE_AVX2 __attribute__((target("avx2,fma")))
#define VITRINE_AVX512 __attribute__((target("avx512f,avx2,fma")))

constexpr int kOut = 4;      // output tile side
constexpr int kIn = 6;       // input tile side
constexpr int kXi = 36;      // points of the transformed tile
constexpr int kMr = 4;       // output channels per GEMM micro-kernel
constexpr int kNr = 24;      // tiles per panel with AVX2 (three 8-float vectors)
constexpr int kNrWide = 48;  // tiles per panel with AVX-512 (three 16-float vectors)
constexpr int kLanes = 8;    // tiles per transform step
constexpr int kMinPixels = 48 * 48;
constexpr size_t kScratchBytes = 2u << 20;  // per thread: transformed inputs and products

thread_local int scope_depth = 0;
thread_local bool scope_wide = true;       // the innermost scope's FastConvScope::Width is kWidest
thread_local int eltwise_scope_depth = 0;  // ExactEltwiseScopes alive on this thread

// True when the integer parameter `name` is absent or each of its values is `value`.
bool IntParamsAre(const cv::dnn::LayerParams& params, const char* name, int value) {
  if (!params.has(name)) return true;
  const cv::dnn::DictValue& v = params.get(name);
  for (int i = 0; i < v.size(); ++i) {
    if (v.get<int>(i) != value) return false;
  }
  return true;
}

// Whether the kernels handle the convolution these parameters describe (as OpenCV's importers name
// them): 3x3, stride 1, dilation 1, padding 1 on every side, one group, a constant float weight.
bool Eligible(const cv::dnn::LayerParams& params) {
  if (params.blobs.empty() || params.blobs.size() > 2) return false;
  const cv::Mat& w = params.blobs[0];
  if (w.dims != 4 || w.type() != CV_32F || w.size[2] != 3 || w.size[3] != 3) return false;
  if (w.size[0] < kMr || w.size[1] < kMr) return false;
  if (params.blobs.size() == 2 && params.blobs[1].total() != static_cast<size_t>(w.size[0])) {
    return false;
  }
  if (params.has("pad_mode") && !params.get<cv::String>("pad_mode").empty()) return false;
  if (params.has("adj") || params.has("adj_h") || params.has("adj_w")) return false;
  return IntParamsAre(params, "kernel_size", 3) && IntParamsAre(params, "kernel_h", 3) &&
         IntParamsAre(params, "kernel_w", 3) && IntParamsAre(params, "stride", 1) &&
         IntParamsAre(params, "stride_h", 1) && IntParamsAre(params, "stride_w", 1) &&
         IntParamsAre(params, "dilation", 1) && IntParamsAre(params, "pad", 1) &&
         IntParamsAre(params, "pad_h", 1) && IntParamsAre(params, "pad_w", 1) &&
         IntParamsAre(params, "group", 1) &&
         (params.has("kernel_size") || params.has("kernel_h")) &&
         (params.has("pad") || (params.has("pad_h") && params.has("pad_w")));
}

// Geometry of one layer at one input shape.
struct Geometry {
  int channels = 0;        // C
  int filters = 0;         // K
  int filters_padded = 0;  // K rounded up to kMr
  int height = 0, width = 0;
  int tiles_x = 0, tiles = 0;
  int nr = kNr;    // tiles per panel: kNr, or kNrWide for the AVX-512 product
  int panels = 0;  // panels of `nr` tiles per block
};

// The 6x6 input windows of tiles t0 .. t0 + 7 (d[row * 6 + column][tile]), lane by lane with
// masked gathers: pixels outside the image (the padding) and lanes past the last tile are zero.
VITRINE_AVX2 void GatherWindows(const float* plane, const Geometry& g, int t0, float (*d)[kLanes]) {
  // Gather the eight windows, lane by lane; pixels outside the image (the padding) and
  // lanes past the last tile read as zero.
  alignas(32) int top[kLanes], left[kLanes], valid[kLanes];
  for (int i = 0; i < kLanes; ++i) {
    const int t = t0 + i;
    valid[i] = t < g.tiles ? -1 : 0;
    top[i] = (t / g.tiles_x) * kOut - 1;
    left[i] = (t % g.tiles_x) * kOut - 1;
  }
  const __m256i y0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(top)),
                x0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(left)),
                lane_ok = _mm256_load_si256(reinterpret_cast<const __m256i*>(valid)),
                height = _mm256_set1_epi32(g.height), width = _mm256_set1_epi32(g.width),
                minus_one = _mm256_set1_epi32(-1);
  const __m256i offset0 = _mm256_add_epi32(_mm256_mullo_epi32(y0, width), x0);
  __m256i column_ok[kIn];
  for (int s = 0; s < kIn; ++s) {
    const __m256i x = _mm256_add_epi32(x0, _mm256_set1_epi32(s));
    column_ok[s] = _mm256_and_si256(_mm256_cmpgt_epi32(x, minus_one), _mm256_cmpgt_epi32(width, x));
  }
  for (int r = 0; r < kIn; ++r) {
    const __m256i y = _mm256_add_epi32(y0, _mm256_set1_epi32(r));
    const __m256i row_ok = _mm256_and_si256(
        lane_ok, _mm256_and_si256(_mm256_cmpgt_epi32(y, minus_one), _mm256_cmpgt_epi32(height, y)));
    const __m256i row_offset = _mm256_add_epi32(offset0, _mm256_set1_epi32(r * g.width));
    for (int s = 0; s < kIn; ++s) {
      const __m256 mask = _mm256_castsi256_ps(_mm256_and_si256(row_ok, column_ok[s]));
      const __m256i index = _mm256_add_epi32(row_offset, _mm256_set1_epi32(s));
      _mm256_store_ps(d[r * kIn + s],
                      _mm256_mask_i32gather_ps(_mm256_setzero_ps(), plane, index, mask, 4));
    }
  }
}

// Eight tiles' 4 columns from 32 contiguous floats (tile i's column s at 4 i + s): out[s] holds
// column s of the eight tiles.
VITRINE_AVX2 inline void Deinterleave4(const float* p, __m256* out) {
  const __m256 a0 = _mm256_loadu_ps(p), a1 = _mm256_loadu_ps(p + 8), a2 = _mm256_loadu_ps(p + 16),
               a3 = _mm256_loadu_ps(p + 24);
  const __m256 b0 = _mm256_permute2f128_ps(a0, a2, 0x20), b1 = _mm256_permute2f128_ps(a0, a2, 0x31),
               b2 = _mm256_permute2f128_ps(a1, a3, 0x20), b3 = _mm256_permute2f128_ps(a1, a3, 0x31);
  const __m256 u0 = _mm256_unpacklo_ps(b0, b1), u1 = _mm256_unpackhi_ps(b0, b1),
               u2 = _mm256_unpacklo_ps(b2, b3), u3 = _mm256_unpackhi_ps(b2, b3);
  out[0] = _mm256_shuffle_ps(u0, u2, 0x44);
  out[1] = _mm256_shuffle_ps(u0, u2, 0xEE);
  out[2] = _mm256_shuffle_ps(u1, u3, 0x44);
  out[3] = _mm256_shuffle_ps(u1, u3, 0xEE);
}

// Input transform of one block: V[xi][panel][c][nr] = B^T d B of each tile's 6x6 input window.
VITRINE_AVX2 void TransformInput(const float* x, const Geometry& g, int first_tile, float* v) {
  alignas(32) float d[kXi][kLanes];
  const int block_tiles = g.panels * g.nr;
  const size_t xi_stride = static_cast<size_t>(g.panels) * g.channels * g.nr;
  for (int c = 0; c < g.channels; ++c) {
    const float* plane = x + static_cast<size_t>(c) * g.height * g.width;
    for (int j = 0; j < block_tiles; j += kLanes) {
      const int t0 = first_tile + j;
      const int top0 = (t0 / g.tiles_x) * kOut - 1, left0 = (t0 % g.tiles_x) * kOut - 1;
      if (t0 + kLanes <= g.tiles && t0 % g.tiles_x + kLanes <= g.tiles_x) {
        // Eight windows side by side in one row of tiles: per image row, load 32 + 32 contiguous
        // floats and transpose them (tile i's columns s are at 4 i + s). A row reaching past the
        // image's left or right edge is staged with zeros first; rows above or below it are 0.
        const int span = kOut * kLanes + kOut;
        const bool inside = left0 >= 0 && left0 + span <= g.width;
        alignas(32) float staged[span];
        for (int r = 0; r < kIn; ++r) {
          const int y = top0 + r;
          if (y < 0 || y >= g.height) {
            for (int s = 0; s < kIn; ++s) _mm256_store_ps(d[r * kIn + s], _mm256_setzero_ps());
            continue;
          }
          const float* row = plane + static_cast<size_t>(y) * g.width;
          const float* p = staged;
          if (inside) {
            p = row + left0;
          } else {
            const int from = std::max(0, -left0), to = std::min(span, g.width - left0);
            std::fill(staged, staged + span, 0.0f);
            std::copy(row + (left0 + from), row + (left0 + to), staged + from);
          }
          __m256 columns[8];
          Deinterleave4(p, columns);
          Deinterleave4(p + kOut, columns + 4);
          for (int s = 0; s < kIn; ++s) _mm256_store_ps(d[r * kIn + s], columns[s]);
        }
      } else {
        GatherWindows(plane, g, t0, d);
      }
      // B^T d B, eight tiles per vector: columns first, then rows.
      __m256 col[kXi];
      for (int s = 0; s < kIn; ++s) {
        const __m256 d0 = _mm256_load_ps(d[0 * kIn + s]), d1 = _mm256_load_ps(d[1 * kIn + s]),
                     d2 = _mm256_load_ps(d[2 * kIn + s]), d3 = _mm256_load_ps(d[3 * kIn + s]),
                     d4 = _mm256_load_ps(d[4 * kIn + s]), d5 = _mm256_load_ps(d[5 * kIn + s]);
        const __m256 four = _mm256_set1_ps(4.0f), five = _mm256_set1_ps(5.0f),
                     two = _mm256_set1_ps(2.0f);
        const __m256 a = _mm256_fnmadd_ps(four, d2, d4);  // d4 - 4 d2
        const __m256 b = _mm256_fnmadd_ps(four, d1, d3);  // d3 - 4 d1
        const __m256 e = _mm256_sub_ps(d4, d2);
        const __m256 f = _mm256_mul_ps(two, _mm256_sub_ps(d3, d1));
        col[0 * kIn + s] = _mm256_fnmadd_ps(five, d2, _mm256_fmadd_ps(four, d0, d4));
        col[1 * kIn + s] = _mm256_add_ps(a, b);
        col[2 * kIn + s] = _mm256_sub_ps(a, b);
        col[3 * kIn + s] = _mm256_add_ps(e, f);
        col[4 * kIn + s] = _mm256_sub_ps(e, f);
        col[5 * kIn + s] = _mm256_fnmadd_ps(five, d3, _mm256_fmadd_ps(four, d1, d5));
      }
      const int panel = j / g.nr, lane = j % g.nr;
      float* out = v + (static_cast<size_t>(panel) * g.channels + c) * g.nr + lane;
      for (int r = 0; r < kIn; ++r) {
        const __m256* d_row = col + r * kIn;
        const __m256 four = _mm256_set1_ps(4.0f), five = _mm256_set1_ps(5.0f),
                     two = _mm256_set1_ps(2.0f);
        const __m256 a = _mm256_fnmadd_ps(four, d_row[2], d_row[4]);
        const __m256 b = _mm256_fnmadd_ps(four, d_row[1], d_row[3]);
        const __m256 e = _mm256_sub_ps(d_row[4], d_row[2]);
        const __m256 f = _mm256_mul_ps(two, _mm256_sub_ps(d_row[3], d_row[1]));
        const __m256 res[kIn] = {
            _mm256_fnmadd_ps(five, d_row[2], _mm256_fmadd_ps(four, d_row[0], d_row[4])),
            _mm256_add_ps(a, b),
            _mm256_sub_ps(a, b),
            _mm256_add_ps(e, f),
            _mm256_sub_ps(e, f),
            _mm256_fnmadd_ps(five, d_row[3], _mm256_fmadd_ps(four, d_row[1], d_row[5]))};
        for (int s = 0; s < kIn; ++s) {
          _mm256_storeu_ps(out + (r * kIn + s) * xi_stride, res[s]);
        }
      }
    }
  }
}

// M[xi][panel][k][nr] = sum over c of U[xi][k][c] V[xi][panel][c][nr], kMr x nr at a time. Each
// product is accumulated over c in order with fused multiply-adds, whatever the vector width, so
// MultiplyBlock and MultiplyBlockWide give the same bits.
VITRINE_AVX2 void MultiplyBlock(const float* u, const float* v, const Geometry& g, float* m) {
  const int k_blocks = g.filters_padded / kMr;
  for (int xi = 0; xi < kXi; ++xi) {
    const float* u_xi = u + static_cast<size_t>(xi) * g.filters_padded * g.channels;
    for (int p = 0; p < g.panels; ++p) {
      const float* v_panel = v + (static_cast<size_t>(xi) * g.panels + p) * g.channels * kNr;
      float* m_panel = m + (static_cast<size_t>(xi) * g.panels + p) * g.filters_padded * kNr;
      for (int kb = 0; kb < k_blocks; ++kb) {
        const float* uk = u_xi + static_cast<size_t>(kb) * g.channels * kMr;
        __m256 acc[kMr][3];
        for (int r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = acc[r][2] = _mm256_setzero_ps();
        const float* vc = v_panel;
        for (int c = 0; c < g.channels; ++c, vc += kNr, uk += kMr) {
          const __m256 v0 = _mm256_loadu_ps(vc), v1 = _mm256_loadu_ps(vc + 8),
                       v2 = _mm256_loadu_ps(vc + 16);
          for (int r = 0; r < kMr; ++r) {
            const __m256 w = _mm256_broadcast_ss(uk + r);
            acc[r][0] = _mm256_fmadd_ps(w, v0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(w, v1, acc[r][1]);
            acc[r][2] = _mm256_fmadd_ps(w, v2, acc[r][2]);
          }
        }
        for (int r = 0; r < kMr; ++r) {
          float* out = m_panel + static_cast<size_t>(kb * kMr + r) * kNr;
          _mm256_storeu_ps(out, acc[r][0]);
          _mm256_storeu_ps(out + 8, acc[r][1]);
          _mm256_storeu_ps(out + 16, acc[r][2]);
        }
      }
    }
  }
}

// MultiplyBlock with 16-float vectors on panels of kNrWide tiles: twice the products per
// instruction on a CPU with AVX-512.
VITRINE_AVX512 void MultiplyBlockWide(const float* u, const float* v, const Geometry& g, float* m) {
  const int k_blocks = g.filters_padded / kMr;
  for (int xi = 0; xi < kXi; ++xi) {
    const float* u_xi = u + static_cast<size_t>(xi) * g.filters_padded * g.channels;
    for (int p = 0; p < g.panels; ++p) {
      const float* v_panel = v + (static_cast<size_t>(xi) * g.panels + p) * g.channels * kNrWide;
      float* m_panel = m + (static_cast<size_t>(xi) * g.panels + p) * g.filters_padded * kNrWide;
      for (int kb = 0; kb < k_blocks; ++kb) {
        const float* uk = u_xi + static_cast<size_t>(kb) * g.channels * kMr;
        __m512 acc[kMr][3];
        for (int r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = acc[r][2] = _mm512_setzero_ps();
        const float* vc = v_panel;
        for (int c = 0; c < g.channels; ++c, vc += kNrWide, uk += kMr) {
          const __m512 v0 = _mm512_loadu_ps(vc), v1 = _mm512_loadu_ps(vc + 16),
                       v2 = _mm512_loadu_ps(vc + 32);
          for (int r = 0; r < kMr; ++r) {
            const __m512 w = _mm512_set1_ps(uk[r]);
            acc[r][0] = _mm512_fmadd_ps(w, v0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(w, v1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(w, v2, acc[r][2]);
          }
        }
        for (int r = 0; r < kMr; ++r) {
          float* out = m_panel + static_cast<size_t>(kb * kMr + r) * kNrWide;
          _mm512_storeu_ps(out, acc[r][0]);
          _mm512_storeu_ps(out + 16, acc[r][1]);
          _mm512_storeu_ps(out + 32, acc[r][2]);
        }
      }
    }
  }
}

// Output transform of one block: A^T M A per tile, plus bias, then ReLU if fused.
VITRINE_AVX2 void TransformOutput(const float* m, const Geometry& g, int first_tile,
                                  const float* bias, bool relu, float* y) {
  alignas(32) float o[kOut * kOut][kLanes];
  const int block_tiles = g.panels * g.nr;
  const size_t xi_stride = static_cast<size_t>(g.panels) * g.filters_padded * g.nr;
  for (int k = 0; k < g.filters; ++k) {
    float* plane = y + static_cast<size_t>(k) * g.height * g.width;
    const __m256 b = _mm256_set1_ps(bias ? bias[k] : 0.0f), zero = _mm256_setzero_ps();
    for (int j = 0; j < block_tiles && first_tile + j < g.tiles; j += kLanes) {
      const int panel = j / g.nr, lane = j % g.nr;
      const float* in = m + (static_cast<size_t>(panel) * g.filters_padded + k) * g.nr + lane;
      __m256 row[kOut][kIn];  // A^T applied down each column
      for (int s = 0; s < kIn; ++s) {
        const __m256 m0 = _mm256_loadu_ps(in + (0 * kIn + s) * xi_stride),
                     m1 = _mm256_loadu_ps(in + (1 * kIn + s) * xi_stride),
                     m2 = _mm256_loadu_ps(in + (2 * kIn + s) * xi_stride),
                     m3 = _mm256_loadu_ps(in + (3 * kIn + s) * xi_stride),
                     m4 = _mm256_loadu_ps(in + (4 * kIn + s) * xi_stride),
                     m5 = _mm256_loadu_ps(in + (5 * kIn + s) * xi_stride);
        const __m256 p12 = _mm256_add_ps(m1, m2), n12 = _mm256_sub_ps(m1, m2);
        const __m256 p34 = _mm256_add_ps(m3, m4), n34 = _mm256_sub_ps(m3, m4);
        row[0][s] = _mm256_add_ps(_mm256_add_ps(m0, p12), p34);
        row[1][s] = _mm256_fmadd_ps(_mm256_set1_ps(2.0f), n34, n12);
        row[2][s] = _mm256_fmadd_ps(_mm256_set1_ps(4.0f), p34, p12);
        row[3][s] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.0f), n34, n12), m5);
      }
      for (int r = 0; r < kOut; ++r) {
        const __m256* q = row[r];
        const __m256 p12 = _mm256_add_ps(q[1], q[2]), n12 = _mm256_sub_ps(q[1], q[2]);
        const __m256 p34 = _mm256_add_ps(q[3], q[4]), n34 = _mm256_sub_ps(q[3], q[4]);
        __m256 res[kOut] = {_mm256_add_ps(_mm256_add_ps(q[0], p12), p34),
                            _mm256_fmadd_ps(_mm256_set1_ps(2.0f), n34, n12),
                            _mm256_fmadd_ps(_mm256_set1_ps(4.0f), p34, p12),
                            _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.0f), n34, n12), q[5])};
        for (int s = 0; s < kOut; ++s) {
          res[s] = _mm256_add_ps(res[s], b);
          if (relu) res[s] = _mm256_max_ps(res[s], zero);
          _mm256_store_ps(o[r * kOut + s], res[s]);
        }
      }
      const int t0 = first_tile + j;
      const int y0 = (t0 / g.tiles_x) * kOut, x0 = (t0 % g.tiles_x) * kOut;
      if (t0 + kLanes <= g.tiles && t0 % g.tiles_x + kLanes <= g.tiles_x && y0 + kOut <= g.height &&
          x0 + kOut * kLanes <= g.width) {
        // Eight whole tiles side by side: each output row is 32 contiguous floats, the 4x8
        // (column x tile) block transposed.
        for (int r = 0; r < kOut; ++r) {
          const __m256 c0 = _mm256_load_ps(o[r * kOut + 0]), c1 = _mm256_load_ps(o[r * kOut + 1]),
                       c2 = _mm256_load_ps(o[r * kOut + 2]), c3 = _mm256_load_ps(o[r * kOut + 3]);
          const __m256 t01l = _mm256_unpacklo_ps(c0, c1), t01h = _mm256_unpackhi_ps(c0, c1);
          const __m256 t23l = _mm256_unpacklo_ps(c2, c3), t23h = _mm256_unpackhi_ps(c2, c3);
          const __m256 q0 = _mm256_shuffle_ps(t01l, t23l, 0x44),
                       q1 = _mm256_shuffle_ps(t01l, t23l, 0xEE),
                       q2 = _mm256_shuffle_ps(t01h, t23h, 0x44),
                       q3 = _mm256_shuffle_ps(t01h, t23h, 0xEE);
          float* dst = plane + static_cast<size_t>(y0 + r) * g.width + x0;
          _mm256_storeu_ps(dst, _mm256_permute2f128_ps(q0, q1, 0x20));
          _mm256_storeu_ps(dst + 8, _mm256_permute2f128_ps(q2, q3, 0x20));
          _mm256_storeu_ps(dst + 16, _mm256_permute2f128_ps(q0, q1, 0x31));
          _mm256_storeu_ps(dst + 24, _mm256_permute2f128_ps(q2, q3, 0x31));
        }
        continue;
      }
      for (int i = 0; i < kLanes; ++i) {
        const int t = t0 + i;
        if (t >= g.tiles) break;
        const int ty = (t / g.tiles_x) * kOut, tx = (t % g.tiles_x) * kOut;
        const int rows = std::min(kOut, g.height - ty), cols = std::min(kOut, g.width - tx);
        for (int r = 0; r < rows; ++r) {
          float* dst = plane + static_cast<size_t>(ty + r) * g.width + tx;
          for (int s = 0; s < cols; ++s) dst[s] = o[r * kOut + s][i];
        }
      }
    }
  }
}

// U = G w G^T for each filter and channel, laid out [xi][K / kMr][C][kMr] (padded filters are 0).
std::vector<float> TransformWeights(const cv::Mat& weights, int filters_padded) {
  static const float kG[kIn][3] = {{1.0f / 4, 0, 0},
                                   {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                   {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                   {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                   {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                   {0, 0, 1}};
  const int filters = weights.size[0], channels = weights.size[1];
  std::vector<float> u(static_cast<size_t>(kXi) * filters_padded * channels, 0.0f);
  const float* w = weights.ptr<float>();
  for (int k = 0; k < filters; ++k) {
    for (int c = 0; c < channels; ++c) {
      const float* g = w + (static_cast<size_t>(k) * channels + c) * 9;
      float gw[kIn][3];  // G w
      for (int i = 0; i < kIn; ++i) {
        for (int s = 0; s < 3; ++s) {
          gw[i][s] = kG[i][0] * g[0 * 3 + s] + kG[i][1] * g[1 * 3 + s] + kG[i][2] * g[2 * 3 + s];
        }
      }
      for (int i = 0; i < kIn; ++i) {
        for (int s = 0; s < kIn; ++s) {
          const float value = gw[i][0] * kG[s][0] + gw[i][1] * kG[s][1] + gw[i][2] * kG[s][2];
          u[((static_cast<size_t>(i * kIn + s) * (filters_padded / kMr) + k / kMr) * channels + c) *
                kMr +
            k % kMr] = value;
        }
      }
    }
  }
  return u;
}

class FastConvLayer : public cv::dnn::Layer {
 public:
  FastConvLayer(const cv::dnn::LayerParams& params, bool wide)
      : cv::dnn::Layer(params), fallback_(cv::dnn::ConvolutionLayer::create(params)), wide_(wide) {
    weights_ = params.blobs[0];
    if (params.blobs.size() == 2) {
      const cv::Mat bias = params.blobs[1].reshape(1, 1);
      bias_.assign(bias.ptr<float>(), bias.ptr<float>() + bias.total());
    }
  }

  bool winograd() const { return winograd_; }
  bool wide() const { return wide_; }

  bool getMemoryShapes(const std::vector<cv::dnn::MatShape>& inputs, int required_outputs,
                       std::vector<cv::dnn::MatShape>& outputs,
                       std::vector<cv::dnn::MatShape>& internals) const override {
    return fallback_->getMemoryShapes(inputs, required_outputs, outputs, internals);
  }

  bool setActivation(const cv::Ptr<cv::dnn::ActivationLayer>& layer) override {
    if (layer.empty()) {
      relu_ = false;
      return fallback_->setActivation(layer);
    }
    cv::Ptr<cv::dnn::ReLULayer> relu = layer.dynamicCast<cv::dnn::ReLULayer>();
    if (relu.empty() || relu->negativeSlope != 0.0f || relu_) return false;
    if (!fallback_->setActivation(layer)) return false;
    relu_ = true;
    return true;
  }

  void finalize(cv::InputArrayOfArrays inputs_arr, cv::OutputArrayOfArrays outputs_arr) override {
    std::vector<cv::Mat> inputs;
    inputs_arr.getMatVector(inputs);
    CV_Assert(inputs.size() == 1 && inputs[0].dims == 4 && inputs[0].size[1] == weights_.size[1]);
    winograd_ = inputs[0].size[2] * inputs[0].size[3] >= kMinPixels;
    if (!winograd_) {
      fallback_->finalize(inputs_arr, outputs_arr);
      return;
    }
    if (u_.empty()) {
      filters_padded_ = (weights_.size[0] + kMr - 1) / kMr * kMr;
      u_ = TransformWeights(weights_, filters_padded_);
    }
  }

  void forward(cv::InputArrayOfArrays inputs_arr, cv::OutputArrayOfArrays outputs_arr,
               cv::OutputArrayOfArrays internals_arr) override {
    if (!winograd_) {
      fallback_->forward(inputs_arr, outputs_arr, internals_arr);
      return;
    }
    std::vector<cv::Mat> inputs, outputs;
    inputs_arr.getMatVector(inputs);
    outputs_arr.getMatVector(outputs);
    const cv::Mat& x = inputs[0];
    cv::Mat& y = outputs[0];
    CV_Assert(x.type() == CV_32F && y.type() == CV_32F && x.isContinuous() && y.isContinuous());
    Geometry g;
    g.channels = x.size[1];
    g.filters = weights_.size[0];
    g.filters_padded = filters_padded_;
    g.height = x.size[2];
    g.width = x.size[3];
    g.tiles_x = (g.width + kOut - 1) / kOut;
    g.tiles = g.tiles_x * ((g.height + kOut - 1) / kOut);
    g.nr = wide_ ? kNrWide : kNr;
    const size_t per_panel = static_cast<size_t>(kXi) * g.nr * (g.channels + g.filters_padded);
    const int all_panels = (g.tiles + g.nr - 1) / g.nr;
    g.panels =
        std::clamp(static_cast<int>(kScratchBytes / sizeof(float) / per_panel), 1, all_panels);
    const int blocks = (all_panels + g.panels - 1) / g.panels;
    const float* bias = bias_.empty() ? nullptr : bias_.data();
    const size_t x_plane = static_cast<size_t>(g.channels) * g.height * g.width;
    const size_t y_plane = static_cast<size_t>(g.filters) * g.height * g.width;
    for (int n = 0; n < x.size[0]; ++n) {
      const float* xn = x.ptr<float>() + n * x_plane;
      float* yn = y.ptr<float>() + n * y_plane;
      cv::parallel_for_(cv::Range(0, blocks), [&](const cv::Range& range) {
        thread_local std::vector<float> scratch;
        const size_t v_size = static_cast<size_t>(kXi) * g.panels * g.nr * g.channels;
        const size_t m_size = static_cast<size_t>(kXi) * g.panels * g.nr * g.filters_padded;
        if (scratch.size() < v_size + m_size) scratch.resize(v_size + m_size);
        for (int block = range.start; block < range.end; ++block) {
          const int first = block * g.panels * g.nr;
          TransformInput(xn, g, first, scratch.data());
          if (wide_) {
            MultiplyBlockWide(u_.data(), scratch.data(), g, scratch.data() + v_size);
          } else {
            MultiplyBlock(u_.data(), scratch.data(), g, scratch.data() + v_size);
          }
          TransformOutput(scratch.data() + v_size, g, first, bias, relu_, yn);
        }
      });
    }
  }

 private:
  cv::Ptr<cv::dnn::BaseConvolutionLayer> fallback_;  // OpenCV's layer, for small outputs
  cv::Mat weights_;                                  // K x C x 3 x 3
  std::vector<float> bias_;                          // K, or empty
  std::vector<float> u_;                             // transformed weights, made on first need
  int filters_padded_ = 0;
  bool relu_ = false;
  bool winograd_ = false;
  bool wide_ = false;  // AVX-512 products (MultiplyBlockWide)
};

// Whether these parameters describe a depthwise convolution the DepthwiseLayer handles: one
// group per channel (weights K x 1 x k x k, K groups), a square odd kernel of 3 to 7, "same"
// padding (k / 2 on every side), dilation 1, any stride, a constant float weight.
bool DepthwiseEligible(const cv::dnn::LayerParams& params) {
  if (params.blobs.empty() || params.blobs.size() > 2) return false;
  const cv::Mat& w = params.blobs[0];
  if (w.dims != 4 || w.type() != CV_32F || w.size[1] != 1 || w.size[2] != w.size[3]) return false;
  const int k = w.size[2];
  if (k < 3 || k > 7 || k % 2 == 0) return false;
  if (!params.has("group") || params.get<int>("group") != w.size[0]) return false;
  if (params.blobs.size() == 2 && params.blobs[1].total() != static_cast<size_t>(w.size[0])) {
    return false;
  }
  if (params.has("pad_mode") && !params.get<cv::String>("pad_mode").empty()) return false;
  if (params.has("adj") || params.has("adj_h") || params.has("adj_w")) return false;
  return IntParamsAre(params, "kernel_size", k) && IntParamsAre(params, "kernel_h", k) &&
         IntParamsAre(params, "kernel_w", k) && IntParamsAre(params, "dilation", 1) &&
         IntParamsAre(params, "pad", k / 2) && IntParamsAre(params, "pad_h", k / 2) &&
         IntParamsAre(params, "pad_w", k / 2) &&
         (params.has("kernel_size") || params.has("kernel_h")) &&
         (params.has("pad") || (params.has("pad_h") && params.has("pad_w")));
}

// The stride of a convolution along one axis (`axis` 0 = rows, 1 = columns), as OpenCV's
// importers name it.
int StrideOf(const cv::dnn::LayerParams& params, int axis) {
  const char* own = axis == 0 ? "stride_h" : "stride_w";
  if (params.has(own)) return params.get<int>(own);
  if (!params.has("stride")) return 1;
  const cv::dnn::DictValue& v = params.get("stride");
  return v.get<int>(v.size() > 1 ? axis : 0);
}

// One output row of a depthwise convolution: out[x] += sum over taps (i, j), in that order, of
// w[i][j] in[i][stride x + j], eight columns at a time. The zero-padded input rows are held as
// `stride` phase planes of `phase_size` floats (phase p holds columns p, p + stride, ...; rows
// `row_stride` apart), so that every tap reads contiguous floats: in[i][stride x + j] is at
// phases[(j % stride) phase_size + i row_stride + j / stride + x].
VITRINE_AVX2 void DepthwiseRow(const float* phases, size_t phase_size, size_t row_stride,
                               int stride, const float* w, int k, int width, float* out) {
  const float* taps[7 * 7];  // each tap's first input, k <= 7 (DepthwiseEligible)
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) {
      taps[i * k + j] = phases + (j % stride) * phase_size + i * row_stride + j / stride;
    }
  }
  const int count = k * k;
  int x = 0;
  for (; x + kLanes <= width; x += kLanes) {
    __m256 acc = _mm256_loadu_ps(out + x);
    for (int t = 0; t < count; ++t) {
      acc = _mm256_fmadd_ps(_mm256_set1_ps(w[t]), _mm256_loadu_ps(taps[t] + x), acc);
    }
    _mm256_storeu_ps(out + x, acc);
  }
  for (; x < width; ++x) {
    float acc = out[x];
    for (int t = 0; t < count; ++t) acc = std::fma(w[t], taps[t][x], acc);
    out[x] = acc;
  }
}

// A depthwise k x k convolution computed directly, plane by plane, from a zero-padded copy of each
// input plane (OpenCV 4.6 has a fast path for 3x3 only: a 5x5 runs as a general grouped
// convolution, about 60 times slower per product than a 1x1 layer, and is most of PP-OCRv4's
// time). Activations and batch norms after it run as their own layers.
class DepthwiseLayer : public cv::dnn::Layer {
 public:
  explicit DepthwiseLayer(const cv::dnn::LayerParams& params)
      : cv::dnn::Layer(params),
        fallback_(cv::dnn::ConvolutionLayer::create(params)),
        weights_(params.blobs[0]),
        kernel_(params.blobs[0].size[2]),
        stride_y_(StrideOf(params, 0)),
        stride_x_(StrideOf(params, 1)) {
    if (params.blobs.size() == 2) {
      const cv::Mat bias = params.blobs[1].reshape(1, 1);
      bias_.assign(bias.ptr<float>(), bias.ptr<float>() + bias.total());
    }
  }

  bool getMemoryShapes(const std::vector<cv::dnn::MatShape>& inputs, int required_outputs,
                       std::vector<cv::dnn::MatShape>& outputs,
                       std::vector<cv::dnn::MatShape>& internals) const override {
    return fallback_->getMemoryShapes(inputs, required_outputs, outputs, internals);
  }

  void forward(cv::InputArrayOfArrays inputs_arr, cv::OutputArrayOfArrays outputs_arr,
               cv::OutputArrayOfArrays) override {
    std::vector<cv::Mat> inputs, outputs;
    inputs_arr.getMatVector(inputs);
    outputs_arr.getMatVector(outputs);
    const cv::Mat& x = inputs[0];
    cv::Mat& y = outputs[0];
    CV_Assert(x.dims == 4 && y.dims == 4 && x.type() == CV_32F && y.type() == CV_32F &&
              x.isContinuous() && y.isContinuous() && x.size[1] == weights_.size[0]);
    const int channels = x.size[1], height = x.size[2], width = x.size[3];
    const int out_h = y.size[2], out_w = y.size[3], pad = kernel_ / 2;
    const int padded_h = std::max(height + 2 * pad, (out_h - 1) * stride_y_ + kernel_);
    const int padded_w = std::max(width + 2 * pad, (out_w - 1) * stride_x_ + kernel_);
    // The padded plane as stride_x_ phase planes (DepthwiseRow).
    const int phase_w = (padded_w + stride_x_ - 1) / stride_x_;
    const size_t phase_size = static_cast<size_t>(padded_h) * phase_w;
    cv::parallel_for_(cv::Range(0, x.size[0] * channels), [&](const cv::Range& range) {
      thread_local std::vector<float> phases;
      phases.assign(phase_size * stride_x_, 0.0f);  // the padding stays 0
      for (int plane = range.start; plane < range.end; ++plane) {
        const int c = plane % channels;
        const float* in = x.ptr<float>() + static_cast<size_t>(plane) * height * width;
        float* out = y.ptr<float>() + static_cast<size_t>(plane) * out_h * out_w;
        for (int r = 0; r < height; ++r) {
          const float* src = in + static_cast<size_t>(r) * width;
          float* dst_row = phases.data() + static_cast<size_t>(r + pad) * phase_w;
          if (stride_x_ == 1) {
            std::copy(src, src + width, dst_row + pad);
            continue;
          }
          for (int col = 0; col < width; ++col) {
            const int at = col + pad;
            dst_row[(at % stride_x_) * phase_size + at / stride_x_] = src[col];
          }
        }
        const float* w = weights_.ptr<float>() + static_cast<size_t>(c) * kernel_ * kernel_;
        const float b = bias_.empty() ? 0.0f : bias_[c];
        for (int oy = 0; oy < out_h; ++oy) {
          float* dst = out + static_cast<size_t>(oy) * out_w;
          std::fill(dst, dst + out_w, b);
          DepthwiseRow(phases.data() + static_cast<size_t>(oy) * stride_y_ * phase_w, phase_size,
                       phase_w, stride_x_, w, kernel_, out_w, dst);
        }
      }
    });
  }

 private:
  cv::Ptr<cv::dnn::BaseConvolutionLayer> fallback_;  // for the output shapes
  cv::Mat weights_;                                  // K x 1 x k x k
  std::vector<float> bias_;                          // K, or empty
  int kernel_, stride_y_, stride_x_;
};

// An "Eltwise" layer's operation in lower case ("sum" when not given).
std::string EltwiseOperation(const cv::dnn::LayerParams& params) {
  std::string op = params.get<cv::String>("operation", "sum");
  for (char& ch : op) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return op;
}

// Whether an "Eltwise" layer is a product or plain sum of its inputs (no coefficients other than
// 1, output channels as the inputs'): the case ExactEltwiseLayer computes.
bool EltwiseEligible(const cv::dnn::LayerParams& params) {
  const std::string op = EltwiseOperation(params);
  if (op != "prod" && op != "sum") return false;
  if (params.has("coeff")) {
    const cv::dnn::DictValue& coeffs = params.get("coeff");
    for (int i = 0; i < coeffs.size(); ++i) {
      if (coeffs.get<double>(i) != 1.0) return false;
    }
  }
  return params.get<cv::String>("output_channels_mode", "same") == "same";
}

// The product or sum of two 4-D inputs of one shape, or of one and a per-channel [N, C, 1, 1]
// input (a squeeze-and-excitation scale), a plane per task; any other case runs OpenCV's layer.
// One IEEE product or sum per element, as OpenCV's layer does, so the same bits. A fused
// activation is taken as OpenCV's layer takes it (the first one offered) and applied to each
// plane after it is computed.
class ExactEltwiseLayer : public cv::dnn::Layer {
 public:
  explicit ExactEltwiseLayer(const cv::dnn::LayerParams& params)
      : cv::dnn::Layer(params),
        fallback_(cv::dnn::EltwiseLayer::create(params)),
        product_(EltwiseOperation(params) == "prod") {}

  bool getMemoryShapes(const std::vector<cv::dnn::MatShape>& inputs, int required_outputs,
                       std::vector<cv::dnn::MatShape>& outputs,
                       std::vector<cv::dnn::MatShape>& internals) const override {
    return fallback_->getMemoryShapes(inputs, required_outputs, outputs, internals);
  }

  void finalize(cv::InputArrayOfArrays inputs, cv::OutputArrayOfArrays outputs) override {
    fallback_->finalize(inputs, outputs);
  }

  bool setActivation(const cv::Ptr<cv::dnn::ActivationLayer>& layer) override {
    if (!activation_.empty() && !layer.empty()) return false;
    activation_ = layer;
    fallback_->setActivation(layer);
    return !activation_.empty();
  }

  void forward(cv::InputArrayOfArrays inputs_arr, cv::OutputArrayOfArrays outputs_arr,
               cv::OutputArrayOfArrays internals_arr) override {
    std::vector<cv::Mat> inputs, outputs;
    inputs_arr.getMatVector(inputs);
    outputs_arr.getMatVector(outputs);
    // Which input has the output's shape (`full`) and whether the other is per channel.
    int full = -1;
    bool per_channel = false;
    if (inputs.size() == 2 && outputs.size() == 1) {
      const cv::Mat& y = outputs[0];
      auto same = [&](const cv::Mat& x) { return x.size == y.size; };
      auto channel = [&](const cv::Mat& x) {
        return x.size[0] == y.size[0] && x.size[1] == y.size[1] && x.size[2] == 1 && x.size[3] == 1;
      };
      bool plain = y.dims == 4 && y.type() == CV_32F && y.isContinuous();
      for (const cv::Mat& x : inputs) {
        plain = plain && x.dims == 4 && x.type() == CV_32F && x.isContinuous();
      }
      if (plain && same(inputs[0])) {
        full = 0;
        per_channel = !same(inputs[1]);
        if (per_channel && !channel(inputs[1])) full = -1;
      } else if (plain && same(inputs[1]) && channel(inputs[0])) {
        full = 1;
        per_channel = true;
      }
    }
    if (full < 0) {
      fallback_->forward(inputs_arr, outputs_arr, internals_arr);
      return;
    }
    cv::Mat& y = outputs[0];
    const float* a = inputs[full].ptr<float>();
    const float* b = inputs[1 - full].ptr<float>();
    const int channels = y.size[1];
    const size_t plane = static_cast<size_t>(y.size[2]) * y.size[3];
    cv::parallel_for_(cv::Range(0, y.size[0] * channels), [&](const cv::Range& range) {
      for (int p = range.start; p < range.end; ++p) {
        const float* ap = a + p * plane;
        float* yp = y.ptr<float>() + p * plane;
        if (per_channel) {
          const float s = b[p];
          if (product_) {
            for (size_t i = 0; i < plane; ++i) yp[i] = ap[i] * s;
          } else {
            for (size_t i = 0; i < plane; ++i) yp[i] = ap[i] + s;
          }
        } else {
          const float* bp = b + p * plane;
          if (product_) {
            for (size_t i = 0; i < plane; ++i) yp[i] = ap[i] * bp[i];
          } else {
            for (size_t i = 0; i < plane; ++i) yp[i] = ap[i] + bp[i];
          }
        }
        if (activation_) {
          const int c = p % channels;
          activation_->forwardSlice(yp, yp, static_cast<int>(plane), plane, c, c + 1);
        }
      }
    });
  }

 private:
  cv::Ptr<cv::dnn::EltwiseLayer> fallback_;  // other cases, and the output shapes
  cv::Ptr<cv::dnn::ActivationLayer> activation_;
  const bool product_;
};

cv::Ptr<cv::dnn::Layer> CreateEltwise(cv::dnn::LayerParams& params) {
  if (eltwise_scope_depth > 0 && EltwiseEligible(params)) {
    return cv::makePtr<ExactEltwiseLayer>(params);
  }
  return cv::dnn::EltwiseLayer::create(params);
}

// Whether this CPU runs MultiplyBlockWide (AVX-512F).
bool WideAvailable() {
  static const bool available = cv::checkHardwareSupport(CV_CPU_AVX_512F);
  return available;
}

cv::Ptr<cv::dnn::Layer> CreateConvolution(cv::dnn::LayerParams& params) {
  if (scope_depth > 0 && FastConvAvailable() && Eligible(params)) {
    return cv::makePtr<FastConvLayer>(params, scope_wide && WideAvailable());
  }
  if (scope_depth > 0 && FastConvAvailable() && DepthwiseEligible(params)) {
    return cv::makePtr<DepthwiseLayer>(params);
  }
  return cv::dnn::ConvolutionLayer::create(params);
}

}  // namespace

bool FastConvAvailable() {
  static const bool available =
      cv::checkHardwareSupport(CV_CPU_AVX2) && cv::checkHardwareSupport(CV_CPU_FMA3);
  return available;
}

FastConvScope::FastConvScope(Width width) : outer_wide_(scope_wide) {
  static std::once_flag registered;
  std::call_once(registered,
                 [] { cv::dnn::LayerFactory::registerLayer("Convolution", CreateConvolution); });
  ++scope_depth;
  scope_wide = width == Width::kWidest;
}

FastConvScope::~FastConvScope() {
  --scope_depth;
  scope_wide = outer_wide_;
}

ExactEltwiseScope::ExactEltwiseScope() {
  static std::once_flag registered;
  std::call_once(registered,
                 [] { cv::dnn::LayerFactory::registerLayer("Eltwise", CreateEltwise); });
  ++eltwise_scope_depth;
}

ExactEltwiseScope::~ExactEltwiseScope() { --eltwise_scope_depth; }

int CountExactEltwise(cv::dnn::Net& net) {
  int count = 0;
  for (const cv::String& name : net.getLayerNames()) {
    count += dynamic_cast<const ExactEltwiseLayer*>(net.getLayer(name).get()) != nullptr;
  }
  return count;
}

FastConvCount CountFastConv(cv::dnn::Net& net) {
  FastConvCount count;
  for (const cv::String& name : net.getLayerNames()) {
    cv::Ptr<cv::dnn::Layer> layer = net.getLayer(name);
    count.depthwise += dynamic_cast<const DepthwiseLayer*>(layer.get()) != nullptr;
    const auto* fast = dynamic_cast<const FastConvLayer*>(layer.get());
    if (!fast) continue;
    ++count.layers;
    count.winograd += fast->winograd();
    count.wide += fast->winograd() && fast->wide();
  }
  return count;
}

}  // namespace vitrine::models
