// FastConv: 3x3 convolutions for OpenCV 4.6 DNN by Winograd's minimal filtering, F(4x4, 3x3).
//
// OpenCV 4.6's CPU convolution multiplies every 3x3 window out (im2row + dot products): ISNet
// spends 95 % of its time there. F(4x4, 3x3) computes each 4x4 output tile from a 6x6 input tile
// with 36 products per input and output channel instead of 144, as 36 matrix products (output
// channels x input channels x tiles) between cheap linear transforms of the input and output tiles.
// On a CPU with AVX-512F the matrix products use 16-float vectors (twice the work per
// instruction); each product is still summed over the input channels in the same order with the
// same fused multiply-adds, so both widths give the same bits.
// Rounding differs from OpenCV's by a few 1e-6 of the activations' scale (float32 throughout).
//
// Which layers: stride 1, dilation 1, padding 1, one group, a constant 4-D weight, at least 4
// input and output channels, on a CPU with AVX2 and FMA (FastConvAvailable()). Outputs smaller
// than 48x48 pixels run OpenCV's own layer (held inside): there the transformed weights (4x the
// weights) would cost more memory than the time they save. Every other convolution is OpenCV's.
//
// Depthwise convolutions (one group per channel, a square odd kernel of 3 to 7, "same" padding,
// dilation 1, any stride) are computed directly from a zero-padded copy of each plane: OpenCV
// 4.6 runs a 5x5 depthwise layer as a general grouped convolution, which was about 40% of
// PP-OCRv4 recognition's time. Sums are taken in another order than OpenCV's (differences of a
// few 1e-6 of the activations' scale); batch norms and activations after them run as their own
// layers.
//
// How: while a FastConvScope is alive on a thread, the nets that thread reads build their
// eligible "Convolution" layers as FastConv layers (the factory is registered once, process-wide,
// and hands out OpenCV's layer outside a scope, so other nets are unchanged). A fused ReLU is
// applied in the output transform, as OpenCV's layer does.
//
// Thread safety: a layer, like any cv::dnn::Net, runs on one thread at a time; its forward pass
// splits the tiles over OpenCV's worker threads (cv::setNumThreads). Scopes are per thread.
// Errors: OpenCV exceptions from inside a layer propagate to Net::forward, where RunNet turns them
// into ModelFailure.
#pragma once

#include <opencv2/dnn.hpp>

namespace vitrine::models {

// True when this CPU runs the fast kernels (AVX2 and FMA); otherwise scopes change nothing.
bool FastConvAvailable();

// RAII: while alive, nets read on this thread get FastConv layers where eligible (see above).
// Nestable (the innermost scope's width holds). Read the net and make its layers (Net::getLayer on
// each) inside the scope.
class FastConvScope {
 public:
  // kWidest: AVX-512 matrix products where the CPU has them; kAvx2: 8-float vectors always (the
  // reference the wide path is tested against).
  enum class Width { kWidest, kAvx2 };
  explicit FastConvScope(Width width = Width::kWidest);
  ~FastConvScope();
  FastConvScope(const FastConvScope&) = delete;
  FastConvScope& operator=(const FastConvScope&) = delete;

 private:
  bool outer_wide_;
};

// RAII: while alive, nets read on this thread get an exact element-wise layer for their "Eltwise"
// layers that multiply or add two inputs of one shape, or one input and a per-channel
// [N, C, 1, 1] one (PP-OCRv4's hard-swish products and squeeze-and-excitation scales, ISNet's
// residual sums). OpenCV 4.6's layer takes about a fifth of PP-OCRv4 detection's time for these;
// this one makes one product or sum per element as OpenCV's does, in the same rounding, so a net
// gives the same bits with it (test `FastConvTest.ExactEltwiseGivesOpenCvsBits`). Other
// operations, coefficients and shapes run OpenCV's layer (held inside). Nestable; independent of
// FastConvScope; works on any CPU. Thread safety and errors as FastConv layers (above).
class ExactEltwiseScope {
 public:
  ExactEltwiseScope();
  ~ExactEltwiseScope();
  ExactEltwiseScope(const ExactEltwiseScope&) = delete;
  ExactEltwiseScope& operator=(const ExactEltwiseScope&) = delete;
};

// How many of `net`'s layers are ExactEltwiseScope's layers (for tests and logs).
int CountExactEltwise(cv::dnn::Net& net);

// How many of `net`'s layers are FastConv layers, and how many of those ran (or will run) the
// Winograd path at the net's current input shape rather than OpenCV's layer (for tests and logs).
struct FastConvCount {
  int layers = 0;
  int winograd = 0;
  int wide = 0;       // of the Winograd ones, those whose products use AVX-512
  int depthwise = 0;  // depthwise convolutions computed directly (not among `layers`)
};
FastConvCount CountFastConv(cv::dnn::Net& net);

}  // namespace vitrine::models
