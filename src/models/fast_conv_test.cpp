#include "models/fast_conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <opencv2/dnn/shape_utils.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <thread>

#include "models/catalog.h"
#include "models/net_pool.h"
#include "models/segmenter.h"
#include "models/test_runtime.h"

namespace vitrine::models {
namespace {

struct ConvShape {
  int channels, filters;
  bool bias, relu;
};

// A one-convolution net (3x3, stride 1, padding 1), optionally followed by a ReLU, with random
// weights from `seed`; FastConv layers of `width` when `fast`.
cv::dnn::Net MakeNet(const ConvShape& shape, bool fast, uint64_t seed,
                     FastConvScope::Width width = FastConvScope::Width::kWidest) {
  cv::RNG rng(seed);
  cv::dnn::LayerParams conv;
  conv.name = "conv";
  conv.type = "Convolution";
  conv.set("kernel_size", 3);
  conv.set("pad", 1);
  conv.set("stride", 1);
  conv.set("num_output", shape.filters);
  conv.set("bias_term", shape.bias);
  cv::Mat weights(std::vector<int>{shape.filters, shape.channels, 3, 3}, CV_32F);
  rng.fill(weights, cv::RNG::UNIFORM, -1.0, 1.0);
  conv.blobs.push_back(weights);
  if (shape.bias) {
    cv::Mat bias(1, shape.filters, CV_32F);
    rng.fill(bias, cv::RNG::UNIFORM, -2.0, 2.0);
    conv.blobs.push_back(bias);
  }
  std::optional<FastConvScope> scope;
  if (fast) scope.emplace(width);
  cv::dnn::Net net;
  net.addLayerToPrev(conv.name, conv.type, conv);
  if (shape.relu) {
    cv::dnn::LayerParams relu;
    net.addLayerToPrev("relu", "ReLU", relu);
  }
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  for (const cv::String& name : net.getLayerNames()) net.getLayer(name);
  return net;
}

cv::Mat Forward(cv::dnn::Net& net, const cv::Mat& input) {
  net.setInput(input);
  return net.forward().clone();
}

cv::Mat RandomInput(int channels, int height, int width, uint64_t seed) {
  cv::Mat input(std::vector<int>{1, channels, height, width}, CV_32F);
  cv::RNG(seed).fill(input, cv::RNG::UNIFORM, -1.0, 1.0);
  return input;
}

// Largest difference relative to the reference's largest magnitude.
double RelativeError(const cv::Mat& reference, const cv::Mat& result) {
  EXPECT_EQ(cv::dnn::shape(reference), cv::dnn::shape(result));
  return cv::norm(reference, result, cv::NORM_INF) / cv::norm(reference, cv::NORM_INF);
}

TEST(FastConvTest, MatchesOpenCvOnRandomLayersOfAwkwardSizes) {
  if (!FastConvAvailable()) GTEST_SKIP() << "this CPU has no AVX2/FMA: OpenCV's layer runs";
  const struct {
    ConvShape shape;
    int height, width;
  } cases[] = {
      {{5, 6, true, false}, 49, 53},    // channels and filters not multiples of 4, ragged tiles
      {{16, 32, true, true}, 64, 48},   // fused ReLU
      {{24, 8, false, false}, 50, 97},  // no bias, odd width
      {{64, 12, true, true}, 48, 48},   // exactly the smallest Winograd output
  };
  uint64_t seed = 1;
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << c.shape.channels << "->" << c.shape.filters << " at "
                                    << c.width << "x" << c.height);
    cv::dnn::Net reference = MakeNet(c.shape, false, seed);
    cv::dnn::Net fast = MakeNet(c.shape, true, seed);
    const cv::Mat input = RandomInput(c.shape.channels, c.height, c.width, seed + 100);
    const cv::Mat expected = Forward(reference, input);
    const cv::Mat result = Forward(fast, input);
    EXPECT_LT(RelativeError(expected, result), 2e-5);
    EXPECT_EQ(CountFastConv(fast).winograd, 1);
    EXPECT_EQ(CountFastConv(reference).layers, 0);
    if (c.shape.relu) {
      double lowest = 0;
      cv::minMaxLoc(result.reshape(1, 1), &lowest);
      EXPECT_GE(lowest, 0.0);
    }
    ++seed;
  }
}

TEST(FastConvTest, WideProductsGiveTheAvx2PathsBitsOnAwkwardSizes) {
  if (!FastConvAvailable()) GTEST_SKIP() << "this CPU has no AVX2/FMA: OpenCV's layer runs";
  // Panels of 48 tiles (AVX-512) against panels of 24 (AVX2): tile counts that fill neither, a
  // block split over several panels, filters not a multiple of 4.
  const struct {
    ConvShape shape;
    int height, width;
  } cases[] = {
      {{5, 6, true, false}, 49, 53},
      {{16, 32, true, true}, 64, 48},
      {{24, 7, false, true}, 50, 197},
      {{64, 64, true, true}, 130, 90},
  };
  uint64_t seed = 31;
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << c.shape.channels << "->" << c.shape.filters << " at "
                                    << c.width << "x" << c.height);
    cv::dnn::Net narrow = MakeNet(c.shape, true, seed, FastConvScope::Width::kAvx2);
    cv::dnn::Net wide = MakeNet(c.shape, true, seed, FastConvScope::Width::kWidest);
    const cv::Mat input = RandomInput(c.shape.channels, c.height, c.width, seed + 100);
    const cv::Mat expected = Forward(narrow, input);
    const cv::Mat result = Forward(wide, input);
    EXPECT_EQ(CountFastConv(narrow).winograd, 1);
    EXPECT_EQ(CountFastConv(narrow).wide, 0);
    if (cv::checkHardwareSupport(CV_CPU_AVX_512F)) EXPECT_EQ(CountFastConv(wide).wide, 1);
    EXPECT_EQ(cv::norm(expected, result, cv::NORM_INF), 0.0);
    ++seed;
  }
}

// A one-layer depthwise net: `channels` groups of a k x k kernel, "same" padding, strides
// (`stride_y`, `stride_x`), random weights and bias from `seed`; computed directly when `fast`.
cv::dnn::Net MakeDepthwiseNet(int channels, int k, int stride_y, int stride_x, bool bias, bool fast,
                              uint64_t seed) {
  cv::RNG rng(seed);
  cv::dnn::LayerParams conv;
  conv.name = "depthwise";
  conv.type = "Convolution";
  conv.set("kernel_size", k);
  conv.set("pad", k / 2);
  conv.set("stride_h", stride_y);
  conv.set("stride_w", stride_x);
  conv.set("group", channels);
  conv.set("num_output", channels);
  conv.set("bias_term", bias);
  cv::Mat weights(std::vector<int>{channels, 1, k, k}, CV_32F);
  rng.fill(weights, cv::RNG::UNIFORM, -1.0, 1.0);
  conv.blobs.push_back(weights);
  if (bias) {
    cv::Mat b(1, channels, CV_32F);
    rng.fill(b, cv::RNG::UNIFORM, -2.0, 2.0);
    conv.blobs.push_back(b);
  }
  std::optional<FastConvScope> scope;
  if (fast) scope.emplace();
  cv::dnn::Net net;
  net.addLayerToPrev(conv.name, conv.type, conv);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.getLayer(conv.name);
  return net;
}

TEST(FastConvTest, DepthwiseMatchesOpenCvOnRandomLayersOfAwkwardSizes) {
  if (!FastConvAvailable()) GTEST_SKIP() << "this CPU has no AVX2/FMA: OpenCV's layer runs";
  // PP-OCRv4's shapes (5x5 over 240 channels of 12x80, stride (2, 1)), and odd sizes, a width
  // under one vector, stride 2 both ways, 3x3 and 7x7.
  const struct {
    int channels, k, stride_y, stride_x;
    bool bias;
    int height, width;
  } cases[] = {
      {240, 5, 1, 1, true, 12, 80}, {240, 5, 2, 1, true, 12, 80}, {7, 3, 1, 1, false, 13, 5},
      {9, 7, 2, 2, true, 31, 45},   {16, 5, 1, 1, false, 1, 1},
  };
  uint64_t seed = 61;
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message()
                 << c.channels << " channels " << c.k << "x" << c.k << " stride " << c.stride_y
                 << "," << c.stride_x << " at " << c.width << "x" << c.height);
    cv::dnn::Net reference =
        MakeDepthwiseNet(c.channels, c.k, c.stride_y, c.stride_x, c.bias, false, seed);
    cv::dnn::Net fast =
        MakeDepthwiseNet(c.channels, c.k, c.stride_y, c.stride_x, c.bias, true, seed);
    EXPECT_EQ(CountFastConv(fast).depthwise, 1);
    EXPECT_EQ(CountFastConv(reference).depthwise, 0);
    const cv::Mat input = RandomInput(c.channels, c.height, c.width, seed + 100);
    EXPECT_LT(RelativeError(Forward(reference, input), Forward(fast, input)), 2e-6);
    ++seed;
  }
}

// A net of two inputs joined by one "Eltwise" layer (`operation`), optionally followed by an
// activation OpenCV fuses into it (`activation`: "", "ReLU" or "Power"); the exact layer when
// `exact`.
cv::dnn::Net MakeEltwiseNet(const std::string& operation, const std::string& activation,
                            bool exact) {
  std::optional<ExactEltwiseScope> scope;
  if (exact) scope.emplace();
  cv::dnn::Net net;
  net.setInputsNames({"a", "b"});
  cv::dnn::LayerParams eltwise;
  eltwise.set("operation", operation);
  const int id = net.addLayer("eltwise", "Eltwise", eltwise);
  net.connect(0, 0, id, 0);
  net.connect(0, 1, id, 1);
  if (activation == "ReLU") {
    cv::dnn::LayerParams relu;
    net.addLayerToPrev("relu", "ReLU", relu);
  } else if (activation == "Power") {
    cv::dnn::LayerParams power;  // PP-OCRv4's hard sigmoid: x / 6 + 0.5
    power.set("scale", 1.0 / 6);
    power.set("shift", 0.5);
    net.addLayerToPrev("power", "Power", power);
  }
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  for (const cv::String& name : net.getLayerNames()) net.getLayer(name);
  return net;
}

cv::Mat ForwardTwo(cv::dnn::Net& net, const cv::Mat& a, const cv::Mat& b) {
  net.setInput(a, "a");
  net.setInput(b, "b");
  return net.forward().clone();
}

TEST(FastConvTest, ExactEltwiseGivesOpenCvsBits) {
  // Products and sums of one shape and per channel (either side), with and without a fused
  // activation, on planes of awkward sizes; the largest difference must be 0, not small.
  const struct {
    int channels, height, width;
    bool per_channel_first, per_channel_second;
  } shapes[] = {{96, 37, 51, false, false},
                {24, 19, 33, false, true},
                {5, 7, 3, true, false},
                {3, 1, 1, false, false}};
  uint64_t seed = 7;
  for (const std::string operation : {"prod", "sum"}) {
    for (const std::string activation : {"", "ReLU", "Power"}) {
      cv::dnn::Net reference = MakeEltwiseNet(operation, activation, false);
      cv::dnn::Net exact = MakeEltwiseNet(operation, activation, true);
      EXPECT_EQ(CountExactEltwise(reference), 0);
      EXPECT_EQ(CountExactEltwise(exact), 1);
      for (const auto& s : shapes) {
        SCOPED_TRACE(testing::Message() << operation << " then '" << activation << "' on "
                                        << s.channels << "x" << s.height << "x" << s.width
                                        << (s.per_channel_first ? " (first per channel)" : "")
                                        << (s.per_channel_second ? " (second per channel)" : ""));
        const cv::Mat a = s.per_channel_first ? RandomInput(s.channels, 1, 1, seed)
                                              : RandomInput(s.channels, s.height, s.width, seed);
        const cv::Mat b = s.per_channel_second
                              ? RandomInput(s.channels, 1, 1, seed + 1)
                              : RandomInput(s.channels, s.height, s.width, seed + 1);
        const cv::Mat want = ForwardTwo(reference, a, b);
        const cv::Mat got = ForwardTwo(exact, a, b);
        ASSERT_EQ(cv::dnn::shape(want), cv::dnn::shape(got));
        EXPECT_EQ(cv::norm(want, got, cv::NORM_INF), 0.0);
        seed += 2;
      }
    }
  }
}

TEST(FastConvTest, OneNetAnswersRightOnInputsOfSeveralSizesInSequence) {
  if (!FastConvAvailable()) GTEST_SKIP() << "this CPU has no AVX2/FMA: OpenCV's layer runs";
  const ConvShape shape{8, 16, true, true};
  cv::dnn::Net reference = MakeNet(shape, false, 7);
  cv::dnn::Net fast = MakeNet(shape, true, 7);
  // Large (Winograd), small (OpenCV's layer inside), large again at another shape.
  const cv::Size sizes[] = {{64, 64}, {20, 20}, {70, 52}, {64, 64}};
  const int expected_winograd[] = {1, 0, 1, 1};
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(sizes[i]);
    const cv::Mat input = RandomInput(shape.channels, sizes[i].height, sizes[i].width, 50 + i);
    const cv::Mat result = Forward(fast, input);
    EXPECT_LT(RelativeError(Forward(reference, input), result), 2e-5);
    EXPECT_EQ(CountFastConv(fast).winograd, expected_winograd[i]);
  }
}

TEST(FastConvTest, NetsRunningOnTwoThreadsAtOnceGiveTheirOwnResults) {
  if (!FastConvAvailable()) GTEST_SKIP() << "this CPU has no AVX2/FMA: OpenCV's layer runs";
  // As `vitrine cutout --jobs 2` runs: one net per thread, both inside a forward pass at once
  // (each layer splits its tiles over OpenCV's threads too, with per-thread scratch buffers).
  const ConvShape shape{16, 24, true, true};
  cv::dnn::Net nets[2] = {MakeNet(shape, true, 11), MakeNet(shape, true, 12)};
  cv::dnn::Net references[2] = {MakeNet(shape, false, 11), MakeNet(shape, false, 12)};
  cv::Mat inputs[2] = {RandomInput(16, 96, 80, 21), RandomInput(16, 64, 120, 22)};
  cv::Mat expected[2], results[2][5];
  for (int i = 0; i < 2; ++i) expected[i] = Forward(references[i], inputs[i]);
  std::thread other([&] {
    for (int round = 0; round < 5; ++round) results[1][round] = Forward(nets[1], inputs[1]);
  });
  for (int round = 0; round < 5; ++round) results[0][round] = Forward(nets[0], inputs[0]);
  other.join();
  for (int i = 0; i < 2; ++i) {
    for (int round = 0; round < 5; ++round) {
      EXPECT_LT(RelativeError(expected[i], results[i][round]), 2e-5) << i << " " << round;
    }
  }
}

TEST(FastConvTest, LeavesOtherConvolutionsAndNetsOutsideAScopeToOpenCv) {
  // A 5x5 convolution is not eligible even inside a scope.
  cv::dnn::LayerParams conv;
  conv.set("kernel_size", 5);
  conv.set("pad", 2);
  conv.set("num_output", 8);
  conv.set("bias_term", false);
  cv::Mat weights(std::vector<int>{8, 8, 5, 5}, CV_32F, cv::Scalar(0.01));
  conv.blobs.push_back(weights);
  FastConvScope scope;
  cv::dnn::Net net;
  net.addLayerToPrev("conv5", "Convolution", conv);
  net.getLayer("conv5");
  EXPECT_EQ(CountFastConv(net).layers, 0);
}

// The real model: ISNet's probabilities with FastConv layers agree with OpenCV's own layers.
TEST(FastConvTest, IsnetProbabilitiesMatchOpenCvLayers) {
  if (!FastConvAvailable()) GTEST_SKIP() << "this CPU has no AVX2/FMA: OpenCV's layer runs";
  Result<std::string> path = TestRuntime().catalog().PrepareVariant("isnet", {1, 3, 320, 320});
  if (!path.ok()) GTEST_SKIP() << path.status().message();
  // The pool that the segmenter uses builds FastConv layers only when asked.
  Result<std::unique_ptr<NetPool>> fast_pool = NetPool::Load(*path, "ISNet", true);
  Result<std::unique_ptr<NetPool>> plain_pool = NetPool::Load(*path, "ISNet", false);
  ASSERT_TRUE(fast_pool.ok() && plain_pool.ok());
  Result<NetPool::Lease> fast_net = (*fast_pool)->Borrow();
  Result<NetPool::Lease> plain_net = (*plain_pool)->Borrow();
  ASSERT_TRUE(fast_net.ok() && plain_net.ok());
  EXPECT_GT(CountFastConv(fast_net->net()).layers, 40);
  EXPECT_EQ(CountFastConv(plain_net->net()).layers, 0);

  Segmenter::Options fast_options{320};
  Segmenter::Options plain_options{320};
  plain_options.fast_conv = false;
  Result<std::unique_ptr<Segmenter>> fast = Segmenter::Load(*path, fast_options);
  Result<std::unique_ptr<Segmenter>> plain = Segmenter::Load(*path, plain_options);
  ASSERT_TRUE(fast.ok()) << fast.status().message();
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  // Blotches of colour (low-frequency noise) and a red disc: an ambiguous scene, so that many
  // probabilities are far from 0 and 1, where differences would show.
  cv::Mat blotches(10, 10, CV_8UC3), photo;
  cv::randu(blotches, cv::Scalar::all(0), cv::Scalar::all(255));
  cv::resize(blotches, photo, {320, 320}, 0, 0, cv::INTER_CUBIC);
  cv::circle(photo, {170, 160}, 60, cv::Scalar(40, 60, 220), cv::FILLED, cv::LINE_AA);
  Result<cv::Mat> a = (*fast)->Predict(photo);
  Result<cv::Mat> b = (*plain)->Predict(photo);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(cv::norm(*a, *b, cv::NORM_INF), 2e-3);
  EXPECT_LT(cv::norm(*a, *b, cv::NORM_L1) / a->total(), 1e-4);
}

// The real model: PP-OCRv4 detection from NetPool (exact element-wise layers) gives OpenCV's own
// layers' bits, on inputs of two sizes in sequence.
TEST(FastConvTest, DetectionMapsFromThePoolAreOpenCvsBits) {
  Result<std::string> path = TestRuntime().catalog().PreparedPath("ppocr_det");
  if (!path.ok()) GTEST_SKIP() << path.status().message();
  Result<std::unique_ptr<NetPool>> pool = NetPool::Load(*path, "PP-OCRv4 detection");
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  Result<NetPool::Lease> pooled = (*pool)->Borrow();
  ASSERT_TRUE(pooled.ok());
  EXPECT_GT(CountExactEltwise(pooled->net()), 30);
  cv::dnn::Net plain = cv::dnn::readNetFromONNX(*path);
  plain.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  EXPECT_EQ(CountExactEltwise(plain), 0);
  uint64_t seed = 90;
  for (const cv::Size size : {cv::Size(160, 96), cv::Size(96, 128)}) {
    SCOPED_TRACE(size);
    const cv::Mat input = RandomInput(3, size.height, size.width, seed++);
    const cv::Mat want = Forward(plain, input);
    const cv::Mat got = Forward(pooled->net(), input);
    ASSERT_EQ(cv::dnn::shape(want), cv::dnn::shape(got));
    EXPECT_EQ(cv::norm(want, got, cv::NORM_INF), 0.0);
  }
}

// Shapes in turn (remove_text's photo, chroma view and verify windows): each gets the net that
// last ran it, up to NetPool::kShapeNets nets; beyond that an idle net is reshaped. The maps are
// those of a net that never saw another shape.
TEST(FastConvTest, PoolKeepsANetPerInputShape) {
  Result<std::string> path = TestRuntime().catalog().PreparedPath("ppocr_det");
  if (!path.ok()) GTEST_SKIP() << path.status().message();
  Result<std::unique_ptr<NetPool>> pool = NetPool::Load(*path, "PP-OCRv4 detection");
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  const cv::Mat inputs[] = {RandomInput(3, 96, 160, 1), RandomInput(3, 64, 96, 2),
                            RandomInput(3, 96, 160, 3), RandomInput(3, 64, 96, 4)};
  std::vector<const cv::dnn::Net*> used;
  for (const cv::Mat& input : inputs) {
    Result<NetPool::Lease> lease = (*pool)->Borrow(cv::dnn::shape(input));
    ASSERT_TRUE(lease.ok());
    used.push_back(&lease->net());
    cv::dnn::Net fresh = cv::dnn::readNetFromONNX(*path);
    fresh.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    EXPECT_EQ(cv::norm(Forward(fresh, input), Forward(lease->net(), input), cv::NORM_INF), 0.0);
  }
  EXPECT_NE(used[0], used[1]);
  EXPECT_EQ(used[0], used[2]);
  EXPECT_EQ(used[1], used[3]);
  // Past kShapeNets nets, a new shape takes an idle net.
  std::vector<const cv::dnn::Net*> seen = {used[0], used[1]};
  for (int i = 0; i < NetPool::kShapeNets + 1; ++i) {
    const cv::Mat input = RandomInput(3, 32 * (i + 1), 64, 10 + i);
    Result<NetPool::Lease> lease = (*pool)->Borrow(cv::dnn::shape(input));
    ASSERT_TRUE(lease.ok());
    if (std::find(seen.begin(), seen.end(), &lease->net()) == seen.end()) {
      seen.push_back(&lease->net());
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(NetPool::kShapeNets));
}

}  // namespace
}  // namespace vitrine::models
