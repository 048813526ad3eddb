#include "models/onnx_rewrite.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <initializer_list>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <string>
#include <utility>
#include <vector>

namespace vitrine::models {
namespace {

using onnx::GraphProto;
using onnx::ModelProto;
using onnx::NodeProto;
using onnx::TensorProto;

// Builds small ONNX graphs by hand. Dimensions of -1 are dynamic.
class GraphBuilder {
 public:
  explicit GraphBuilder(int opset) {
    model_.set_ir_version(8);
    model_.add_opset_import()->set_version(opset);
  }

  NodeProto& Node(const std::string& op, std::initializer_list<std::string> inputs,
                  std::initializer_list<std::string> outputs) {
    NodeProto& node = *graph().add_node();
    node.set_op_type(op);
    node.set_name(op + "_" + std::to_string(graph().node_size()));
    for (const auto& name : inputs) node.add_input(name);
    for (const auto& name : outputs) node.add_output(name);
    return node;
  }

  static void IntAttribute(NodeProto& node, const std::string& name, int64_t value) {
    auto& attribute = *node.add_attribute();
    attribute.set_name(name);
    attribute.set_type(onnx::AttributeProto::INT);
    attribute.set_i(value);
  }

  static void IntsAttribute(NodeProto& node, const std::string& name, std::vector<int64_t> values) {
    auto& attribute = *node.add_attribute();
    attribute.set_name(name);
    attribute.set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values) attribute.add_ints(v);
  }

  // A float initializer, stored as fp16 when `fp16` is set.
  void Floats(const std::string& name, std::vector<int64_t> dims, std::vector<float> values,
              bool fp16 = false) {
    TensorProto& tensor = *graph().add_initializer();
    tensor.set_name(name);
    for (int64_t d : dims) tensor.add_dims(d);
    if (!fp16) {
      tensor.set_data_type(TensorProto::FLOAT);
      tensor.set_raw_data(values.data(), values.size() * sizeof(float));
      return;
    }
    tensor.set_data_type(TensorProto::FLOAT16);
    cv::Mat full(1, static_cast<int>(values.size()), CV_32F, values.data()), half;
    full.convertTo(half, CV_16F);
    tensor.set_raw_data(half.data, values.size() * 2);
  }

  void Ints(const std::string& name, std::vector<int64_t> values) {
    TensorProto& tensor = *graph().add_initializer();
    tensor.set_name(name);
    tensor.set_data_type(TensorProto::INT64);
    tensor.add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) tensor.add_int64_data(v);
  }

  void Input(const std::string& name, std::vector<int64_t> dims, int type = TensorProto::FLOAT) {
    Declare(*graph().add_input(), name, dims, type);
  }
  void Output(const std::string& name, std::vector<int64_t> dims, int type = TensorProto::FLOAT) {
    Declare(*graph().add_output(), name, dims, type);
  }

  void Producer(const std::string& name) { model_.set_producer_name(name); }
  GraphProto& graph() { return *model_.mutable_graph(); }
  std::string Bytes() const { return model_.SerializeAsString(); }

 private:
  static void Declare(onnx::ValueInfoProto& value, const std::string& name,
                      const std::vector<int64_t>& dims, int type) {
    value.set_name(name);
    auto* tensor = value.mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(type);
    auto* shape = tensor->mutable_shape();
    for (int64_t d : dims) {
      if (d < 0) {
        shape->add_dim()->set_dim_param("dynamic");
      } else {
        shape->add_dim()->set_dim_value(d);
      }
    }
  }

  ModelProto model_;
};

ModelProto Parse(const std::string& bytes) {
  ModelProto model;
  EXPECT_TRUE(model.ParseFromString(bytes));
  return model;
}

int CountOps(const ModelProto& model, const std::string& op) {
  int count = 0;
  for (const auto& node : model.graph().node()) count += node.op_type() == op;
  return count;
}

// Runs `net` on `input` and returns (a copy of) its output.
cv::Mat RunOpenCv(cv::dnn::Net& net, const cv::Mat& input) {
  net.setInput(input);
  return net.forward().clone();
}

cv::Mat Ramp(std::vector<int> dims, float start, float step) {
  cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F);
  float* p = blob.ptr<float>();
  for (size_t i = 0; i < blob.total(); ++i) p[i] = start + step * static_cast<float>(i);
  return blob;
}

double MaxDifference(const cv::Mat& a, const cv::Mat& b) {
  EXPECT_EQ(a.total(), b.total());
  if (a.total() != b.total()) return INFINITY;
  return cv::norm(a.reshape(1, 1), b.reshape(1, 1), cv::NORM_INF);
}

TEST(OnnxRewriteTest, RejectsBytesThatAreNotAModel) {
  Result<std::string> result = RewriteForOpenCv("not a model", {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kInvalidArgument);
}

TEST(OnnxRewriteTest, NamesUnknownInputsAndOutputs) {
  GraphBuilder g(13);
  g.Input("x", {1, 1, 2, 2});
  g.Output("y", {1, 1, 2, 2});
  g.Node("Relu", {"x"}, {"y"});
  Result<std::string> bad_output = RewriteForOpenCv(g.Bytes(), {{"z"}, {}});
  ASSERT_FALSE(bad_output.ok());
  EXPECT_NE(bad_output.status().message().find("'z'"), std::string::npos);
  Result<std::string> bad_input = RewriteForOpenCv(g.Bytes(), {{}, {{"w", {1, 1, 2, 2}}}});
  ASSERT_FALSE(bad_input.ok());
  EXPECT_NE(bad_input.status().message().find("'w'"), std::string::npos);
}

// The shape of an fp16 export: Casts around an fp16 body, appended after the nodes that use
// them, as onnxconverter's float16 converter leaves them.
TEST(OnnxRewriteTest, Fp16GraphBecomesFp32WithoutCasts) {
  GraphBuilder g(15);
  g.Input("x", {1, 1, 2, 3});
  g.Output("y", {1, 1, 2, 3});
  g.Floats("w", {1, 1, 1, 1}, {0.5f}, /*fp16=*/true);
  g.Floats("b", {1}, {0.25f}, /*fp16=*/true);
  GraphBuilder::IntsAttribute(g.Node("Conv", {"x16", "w", "b"}, {"y16"}), "kernel_shape", {1, 1});
  GraphBuilder::IntAttribute(g.Node("Cast", {"x"}, {"x16"}), "to", TensorProto::FLOAT16);
  GraphBuilder::IntAttribute(g.Node("Cast", {"y16"}, {"y"}), "to", TensorProto::FLOAT);

  RewriteStats stats;
  Result<std::string> rewritten = RewriteForOpenCv(g.Bytes(), {}, &stats);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  EXPECT_EQ(stats.fp16_tensors_converted, 2);
  EXPECT_EQ(stats.casts_removed, 2);
  ModelProto model = Parse(*rewritten);
  EXPECT_EQ(CountOps(model, "Cast"), 0);
  for (const auto& tensor : model.graph().initializer()) {
    EXPECT_EQ(tensor.data_type(), TensorProto::FLOAT) << tensor.name();
  }
  ASSERT_EQ(model.graph().output_size(), 1);
  EXPECT_EQ(model.graph().output(0).name(), "y");

  cv::dnn::Net net = cv::dnn::readNetFromONNX(rewritten->data(), rewritten->size());
  cv::Mat x = Ramp({1, 1, 2, 3}, -1.f, 0.5f);
  cv::Mat y = RunOpenCv(net, x);
  EXPECT_LT(MaxDifference(y, x * 0.5 + 0.25), 1e-6);
}

TEST(OnnxRewriteTest, ClipBoundsBecomeAttributes) {
  GraphBuilder g(11);
  g.Input("x", {1, 1, 2, 4});
  g.Output("y", {1, 1, 2, 4});
  g.Floats("lo", {}, {0.f});
  auto& hi = *g.Node("Constant", {}, {"hi"}).add_attribute();
  hi.set_name("value");
  hi.set_type(onnx::AttributeProto::TENSOR);
  hi.mutable_t()->set_data_type(TensorProto::FLOAT);
  hi.mutable_t()->add_float_data(6.f);
  g.Node("Clip", {"x", "lo", "hi"}, {"y"});

  RewriteStats stats;
  Result<std::string> rewritten = RewriteForOpenCv(g.Bytes(), {}, &stats);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  EXPECT_EQ(stats.clips_rewritten, 1);
  ModelProto model = Parse(*rewritten);
  ASSERT_EQ(CountOps(model, "Clip"), 1);
  EXPECT_EQ(model.graph().node(0).input_size(), 1);

  cv::dnn::Net net = cv::dnn::readNetFromONNX(rewritten->data(), rewritten->size());
  cv::Mat x = Ramp({1, 1, 2, 4}, -3.f, 1.5f);  // -3 .. 7.5
  cv::Mat expected = cv::max(cv::min(x, 6.0), 0.0);
  EXPECT_LT(MaxDifference(RunOpenCv(net, x), expected), 1e-6);
}

TEST(OnnxRewriteTest, ClipWithRunTimeBoundIsUnsupported) {
  GraphBuilder g(11);
  g.Input("x", {1, 4});
  g.Input("limit", {1});
  g.Output("y", {1, 4});
  g.Node("Clip", {"x", "", "limit"}, {"y"});
  Result<std::string> rewritten = RewriteForOpenCv(g.Bytes(), {});
  ASSERT_FALSE(rewritten.ok());
  EXPECT_EQ(rewritten.status().code(), Code::kUnsupported);
}

// Reshape(x, Concat(Slice(Shape(x)), [-1])) as exporters write a flatten: with a static input it
// folds to a constant shape; with a dynamic input the Shape stays.
TEST(OnnxRewriteTest, FoldsShapeArithmeticOnlyForStaticInputs) {
  auto build = [](std::vector<int64_t> input_dims) {
    GraphBuilder g(13);
    g.Input("x", input_dims);
    g.Output("y", {-1, -1, -1});
    g.Ints("start", {0});
    g.Ints("end", {2});
    g.Ints("minus_one", {-1});
    g.Node("Shape", {"x"}, {"shape"});
    g.Node("Slice", {"shape", "start", "end"}, {"head"});
    GraphBuilder::IntAttribute(g.Node("Concat", {"head", "minus_one"}, {"target"}), "axis", 0);
    g.Node("Reshape", {"x", "target"}, {"y"});
    return g.Bytes();
  };
  RewriteStats stats;
  Result<std::string> fixed =
      RewriteForOpenCv(build({-1, 2, 3, 4}), {{}, {{"x", {1, 2, 3, 4}}}}, &stats);
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_GE(stats.shape_nodes_folded, 1);
  ModelProto model = Parse(*fixed);
  EXPECT_EQ(CountOps(model, "Shape"), 0);
  cv::dnn::Net net = cv::dnn::readNetFromONNX(fixed->data(), fixed->size());
  cv::Mat y = RunOpenCv(net, Ramp({1, 2, 3, 4}, 0.f, 1.f));
  ASSERT_EQ(y.dims, 3);
  EXPECT_EQ(y.size[1], 2);
  EXPECT_EQ(y.size[2], 12);

  Result<std::string> dynamic = RewriteForOpenCv(build({-1, 2, -1, -1}), {});
  ASSERT_TRUE(dynamic.ok()) << dynamic.status().ToString();
  EXPECT_EQ(CountOps(Parse(*dynamic), "Shape"), 1);
}

// LayerNorm-style affine on [N, T, C]: weight and bias of shape [C]. OpenCV 4.6 would apply
// them from axis 1 (T); the rewrite makes them full-size.
TEST(OnnxRewriteTest, LastAxisConstantsMatchNumpyBroadcasting) {
  GraphBuilder g(13);
  g.Input("x", {1, 3, 4});
  g.Output("y", {1, 3, 4});
  g.Floats("w", {4}, {1.f, 2.f, 3.f, 4.f});
  g.Floats("b", {4}, {0.5f, -0.5f, 1.5f, -1.5f});
  g.Node("Mul", {"x", "w"}, {"scaled"});
  g.Node("Add", {"scaled", "b"}, {"y"});

  RewriteStats stats;
  Result<std::string> rewritten = RewriteForOpenCv(g.Bytes(), {}, &stats);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  EXPECT_EQ(stats.constants_expanded, 2);

  cv::dnn::Net net = cv::dnn::readNetFromONNX(rewritten->data(), rewritten->size());
  cv::Mat x = Ramp({1, 3, 4}, -2.f, 0.25f);
  cv::Mat y = RunOpenCv(net, x);
  const float w[] = {1.f, 2.f, 3.f, 4.f}, b[] = {0.5f, -0.5f, 1.5f, -1.5f};
  cv::Mat expected = x.clone();
  for (int i = 0; i < 12; ++i) expected.ptr<float>()[i] = x.ptr<float>()[i] * w[i % 4] + b[i % 4];
  EXPECT_LT(MaxDifference(y, expected), 1e-5);
}

// ConvTranspose -> Add(bias) -> BatchNormalization, as paddle2onnx exports PP-OCR's detection
// head. The rewrite folds both into the ConvTranspose: same values, and a net reused at a
// second input size still matches a fresh net (OpenCV 4.6 re-fuses them at each new shape).
TEST(OnnxRewriteTest, ConvTransposeBiasAndBatchNormFoldAndSurviveNewShapes) {
  GraphBuilder g(11);
  g.Input("x", {1, 2, -1, -1});
  g.Output("y", {1, 2, -1, -1});
  std::vector<float> weights(2 * 2 * 2 * 2);
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = 0.1f * static_cast<float>(i) - 0.7f;
  g.Floats("w", {2, 2, 2, 2}, weights);
  g.Floats("bias", {1, 2, 1, 1}, {0.3f, -0.2f});
  g.Floats("gamma", {2}, {1.5f, 0.5f});
  g.Floats("beta", {2}, {0.1f, -0.1f});
  g.Floats("mean", {2}, {0.2f, -0.3f});
  g.Floats("var", {2}, {0.8f, 1.7f});
  NodeProto& deconv = g.Node("ConvTranspose", {"x", "w"}, {"up"});
  GraphBuilder::IntsAttribute(deconv, "kernel_shape", {2, 2});
  GraphBuilder::IntsAttribute(deconv, "strides", {2, 2});
  g.Node("Add", {"up", "bias"}, {"biased"});
  g.Node("BatchNormalization", {"biased", "gamma", "beta", "mean", "var"}, {"y"});

  RewriteStats stats;
  Result<std::string> rewritten = RewriteForOpenCv(g.Bytes(), {}, &stats);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  EXPECT_EQ(stats.bias_adds_folded, 1);
  EXPECT_EQ(stats.batch_norms_folded, 1);
  ModelProto model = Parse(*rewritten);
  ASSERT_EQ(model.graph().node_size(), 1);
  EXPECT_EQ(model.graph().node(0).op_type(), "ConvTranspose");

  const std::string original = g.Bytes();
  cv::Mat small = Ramp({1, 2, 3, 4}, -1.f, 0.1f), large = Ramp({1, 2, 5, 6}, 1.f, -0.05f);
  cv::dnn::Net reference = cv::dnn::readNetFromONNX(original.data(), original.size());
  cv::Mat expected_small = RunOpenCv(reference, small);
  cv::dnn::Net fresh_reference = cv::dnn::readNetFromONNX(original.data(), original.size());
  cv::Mat expected_large = RunOpenCv(fresh_reference, large);

  cv::dnn::Net net = cv::dnn::readNetFromONNX(rewritten->data(), rewritten->size());
  EXPECT_LT(MaxDifference(RunOpenCv(net, small), expected_small), 1e-5);
  EXPECT_LT(MaxDifference(RunOpenCv(net, large), expected_large), 1e-5);
  EXPECT_LT(MaxDifference(RunOpenCv(net, small), expected_small), 1e-5);
}

// DIS's `_upsample_like(src, tar)` as PyTorch traces it at a static input: Resize(src, sizes =
// Concat(Shape(src)[:2], <literal H, W>)). Here x [1, 1, H, W] -> MaxPool (ceil) -> p, then
//   joined = Concat(Resize(p, to x's size), x) along channels, and
//   side = Sigmoid(Resize(p, to the input's size)),
// with the literals written for `literal` (the declared input size).
std::string UpsampleLikeGraph(int64_t h, int64_t w, std::vector<int64_t> literal) {
  GraphBuilder g(15);
  g.Producer("pytorch");  // OpenCV reads its "linear" Resize as PyTorch's bilinear.
  g.Input("x", {1, 1, h, w});
  g.Output("joined", {1, 2, h, w});
  g.Output("side", {1, 1, h, w});
  NodeProto& pool = g.Node("MaxPool", {"x"}, {"p"});
  GraphBuilder::IntsAttribute(pool, "kernel_shape", {2, 2});
  GraphBuilder::IntsAttribute(pool, "strides", {2, 2});
  GraphBuilder::IntAttribute(pool, "ceil_mode", 1);
  g.Ints("zero", {0});
  g.Ints("two", {2});
  g.Ints("literal", literal);
  g.Node("Shape", {"p"}, {"p_shape"});
  g.Node("Slice", {"p_shape", "zero", "two"}, {"p_head"});
  for (const std::string resize : {"joined_up", "side_up"}) {
    GraphBuilder::IntAttribute(g.Node("Concat", {"p_head", "literal"}, {resize + "_sizes"}), "axis",
                               0);
    NodeProto& node = g.Node("Resize", {"p", "", "", resize + "_sizes"}, {resize});
    for (const auto& [name, value] :
         {std::pair{"mode", "linear"}, std::pair{"coordinate_transformation_mode", "half_pixel"}}) {
      auto& attribute = *node.add_attribute();
      attribute.set_name(name);
      attribute.set_type(onnx::AttributeProto::STRING);
      attribute.set_s(value);
    }
  }
  GraphBuilder::IntAttribute(g.Node("Concat", {"joined_up", "x"}, {"joined"}), "axis", 1);
  g.Node("Sigmoid", {"side_up"}, {"side"});
  return g.Bytes();
}

// Rewritten for another input shape, the traced resize targets follow it: the model runs in
// OpenCV at that shape (odd sizes included, through ceil-mode pooling) and matches the same graph
// exported at that shape.
TEST(OnnxRewriteTest, TracedResizeTargetsFollowNewInputShapes) {
  RewriteStats stats;
  Result<std::string> same = RewriteForOpenCv(UpsampleLikeGraph(8, 8, {8, 8}), {}, &stats);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(stats.resizes_retargeted, 0);

  const std::vector<std::pair<int, int>> shapes = {{6, 10}, {7, 9}, {8, 8}};
  for (const auto& [h, w] : shapes) {
    Result<std::string> variant =
        RewriteForOpenCv(UpsampleLikeGraph(8, 8, {8, 8}), {{}, {{"x", {1, 1, h, w}}}}, &stats);
    ASSERT_TRUE(variant.ok()) << variant.status().ToString();
    EXPECT_EQ(stats.resizes_retargeted, h == 8 && w == 8 ? 0 : 2);
    ModelProto model = Parse(*variant);
    EXPECT_EQ(CountOps(model, "Shape"), 0);
    ASSERT_EQ(model.graph().output_size(), 2);
    const auto& declared = model.graph().output(0).type().tensor_type().shape();
    ASSERT_EQ(declared.dim_size(), 4);
    EXPECT_EQ(declared.dim(2).dim_value(), h);  // not the stale declared 8
    EXPECT_EQ(declared.dim(3).dim_value(), w);

    const std::string exported = UpsampleLikeGraph(h, w, {h, w});
    cv::dnn::Net reference = cv::dnn::readNetFromONNX(exported.data(), exported.size());
    cv::dnn::Net net = cv::dnn::readNetFromONNX(variant->data(), variant->size());
    const cv::Mat x = Ramp({1, 1, h, w}, -1.f, 0.37f);
    const std::vector<std::string> names = {"joined", "side"};
    std::vector<cv::Mat> expected, actual;
    reference.setInput(x);
    reference.forward(expected, names);
    net.setInput(x);
    net.forward(actual, names);
    ASSERT_EQ(actual.size(), 2u);
    EXPECT_EQ(std::vector<int>(actual[0].size.p, actual[0].size.p + 4),
              (std::vector<int>{1, 2, h, w}));
    EXPECT_EQ(std::vector<int>(actual[1].size.p, actual[1].size.p + 4),
              (std::vector<int>{1, 1, h, w}));
    for (int i = 0; i < 2; ++i) {
      EXPECT_LT(MaxDifference(actual[i], expected[i]), 1e-6) << names[i] << " at " << h << "x" << w;
    }
  }
}

TEST(OnnxRewriteTest, KeepsOnlyTheNamedOutputs) {
  GraphBuilder g(13);
  g.Input("x", {1, 4});
  g.Output("a", {1, 4});
  g.Output("b", {1, 4});
  g.Node("Relu", {"x"}, {"a"});
  g.Node("Sigmoid", {"x"}, {"b"});
  RewriteStats stats;
  Result<std::string> rewritten = RewriteForOpenCv(g.Bytes(), {{"b"}, {}}, &stats);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  EXPECT_EQ(stats.nodes_dropped, 1);
  ModelProto model = Parse(*rewritten);
  ASSERT_EQ(model.graph().output_size(), 1);
  EXPECT_EQ(model.graph().output(0).name(), "b");
  EXPECT_EQ(CountOps(model, "Relu"), 0);
}

}  // namespace
}  // namespace vitrine::models
