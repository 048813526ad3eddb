#include "models/onnx_rewrite.h"

#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <opencv2/core.hpp>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace vitrine::models {
namespace {

using onnx::AttributeProto;
using onnx::GraphProto;
using onnx::ModelProto;
using onnx::NodeProto;
using onnx::TensorProto;
using onnx::ValueInfoProto;

constexpr int kFloat = TensorProto::FLOAT;
constexpr int kFloat16 = TensorProto::FLOAT16;

// ---------------------------------------------------------------------------------------------
// Small helpers over the protobuf graph.

const AttributeProto* FindAttribute(const NodeProto& node, std::string_view name) {
  for (const auto& attribute : node.attribute()) {
    if (attribute.name() == name) return &attribute;
  }
  return nullptr;
}

int64_t IntAttribute(const NodeProto& node, std::string_view name, int64_t fallback) {
  const AttributeProto* attribute = FindAttribute(node, name);
  return attribute != nullptr ? attribute->i() : fallback;
}

std::optional<std::vector<int64_t>> IntsAttribute(const NodeProto& node, std::string_view name) {
  const AttributeProto* attribute = FindAttribute(node, name);
  if (attribute == nullptr) return std::nullopt;
  return std::vector<int64_t>(attribute->ints().begin(), attribute->ints().end());
}

int64_t ElementCount(const TensorProto& tensor) {
  int64_t count = 1;
  for (int64_t d : tensor.dims()) count *= d;
  return count;
}

std::vector<float> ReadFloats(const TensorProto& tensor) {
  if (!tensor.raw_data().empty()) {
    std::vector<float> values(tensor.raw_data().size() / sizeof(float));
    std::memcpy(values.data(), tensor.raw_data().data(), values.size() * sizeof(float));
    return values;
  }
  return std::vector<float>(tensor.float_data().begin(), tensor.float_data().end());
}

TensorProto FloatTensor(const std::string& name, const std::vector<int64_t>& dims,
                        const std::vector<float>& values) {
  TensorProto tensor;
  tensor.set_name(name);
  tensor.set_data_type(kFloat);
  for (int64_t d : dims) tensor.add_dims(d);
  tensor.set_raw_data(values.data(), values.size() * sizeof(float));
  return tensor;
}

// Who produces and who uses each tensor, and which tensors are constants (initializers and
// Constant node values). Pointers stay valid while no node or initializer is removed.
struct GraphIndex {
  std::unordered_map<std::string, int> producer;  // tensor -> node index
  std::unordered_map<std::string, int> uses;      // tensor -> node inputs + graph outputs
  std::unordered_map<std::string, const TensorProto*> constants;

  const TensorProto* Constant(const std::string& name) const {
    auto it = constants.find(name);
    return it == constants.end() ? nullptr : it->second;
  }
  const TensorProto* FloatConstant(const std::string& name) const {
    const TensorProto* tensor = Constant(name);
    return tensor != nullptr && tensor->data_type() == kFloat ? tensor : nullptr;
  }
};

GraphIndex IndexGraph(const GraphProto& graph) {
  GraphIndex index;
  for (const auto& tensor : graph.initializer()) index.constants[tensor.name()] = &tensor;
  for (int i = 0; i < graph.node_size(); ++i) {
    const NodeProto& node = graph.node(i);
    for (const auto& name : node.output()) index.producer[name] = i;
    for (const auto& name : node.input()) ++index.uses[name];
    if (node.op_type() != "Constant") continue;
    const AttributeProto* value = FindAttribute(node, "value");
    if (value != nullptr && value->has_t()) index.constants[node.output(0)] = &value->t();
  }
  for (const auto& output : graph.output()) ++index.uses[output.name()];
  return index;
}

// Removes the nodes flagged in `removed` and appends `initializers`.
void ApplyEdits(GraphProto& graph, const std::vector<bool>& removed,
                std::vector<TensorProto> initializers) {
  google::protobuf::RepeatedPtrField<NodeProto> kept;
  for (int i = 0; i < graph.node_size(); ++i) {
    if (!removed[i]) kept.Add()->Swap(graph.mutable_node(i));
  }
  graph.mutable_node()->Swap(&kept);
  for (auto& tensor : initializers) graph.add_initializer()->Swap(&tensor);
}

// Renames every use of tensor `from` (node inputs and outputs, graph outputs) to `to`.
void RenameTensor(GraphProto& graph, const std::string& from, const std::string& to) {
  for (auto& node : *graph.mutable_node()) {
    for (auto& name : *node.mutable_input()) {
      if (name == from) name = to;
    }
    for (auto& name : *node.mutable_output()) {
      if (name == from) name = to;
    }
  }
  for (auto& output : *graph.mutable_output()) {
    if (output.name() == from) output.set_name(to);
  }
}

// Element types and fully static shapes of tensors, as declared or as ONNX shape inference finds
// them.
struct TensorInfo {
  std::unordered_map<std::string, int> types;
  std::unordered_map<std::string, std::vector<int64_t>> shapes;
};

void AddValueInfo(const ValueInfoProto& value, bool with_shape, TensorInfo& info) {
  const auto& tensor_type = value.type().tensor_type();
  if (tensor_type.elem_type() != 0) info.types.emplace(value.name(), tensor_type.elem_type());
  if (!with_shape || !tensor_type.has_shape()) return;
  std::vector<int64_t> dims;
  for (const auto& dim : tensor_type.shape().dim()) {
    if (!dim.has_dim_value() || dim.dim_value() <= 0) return;
    dims.push_back(dim.dim_value());
  }
  info.shapes.emplace(value.name(), std::move(dims));
}

bool IsIntegerType(int data_type) {
  switch (data_type) {
    case TensorProto::INT8:
    case TensorProto::INT16:
    case TensorProto::INT32:
    case TensorProto::INT64:
    case TensorProto::UINT8:
    case TensorProto::UINT16:
    case TensorProto::UINT32:
    case TensorProto::UINT64:
    case TensorProto::BOOL:
      return true;
    default:
      return false;
  }
}

// A copy of `model` for shape inference. Inference reads the values of integer initializers
// (shape arguments) but only the type and dims of weights, so those are copied without their
// data. Graph outputs keep their types but not their declared shapes, which are stale once input
// shapes change.
ModelProto LightCopy(const ModelProto& model) {
  const GraphProto& graph = model.graph();
  ModelProto light;
  light.set_ir_version(model.ir_version());
  *light.mutable_opset_import() = model.opset_import();
  GraphProto& light_graph = *light.mutable_graph();
  *light_graph.mutable_node() = graph.node();
  *light_graph.mutable_input() = graph.input();
  for (const auto& output : graph.output()) {
    ValueInfoProto& copy = *light_graph.add_output();
    copy.set_name(output.name());
    const int type = output.type().tensor_type().elem_type();
    if (type != 0) copy.mutable_type()->mutable_tensor_type()->set_elem_type(type);
  }
  for (const auto& tensor : graph.initializer()) {
    TensorProto& copy = *light_graph.add_initializer();
    if (IsIntegerType(tensor.data_type())) {
      copy = tensor;
      continue;
    }
    copy.set_name(tensor.name());
    copy.set_data_type(tensor.data_type());
    *copy.mutable_dims() = tensor.dims();
  }
  return light;
}

TensorInfo InferTensorInfo(const ModelProto& model) {
  TensorInfo info;
  const GraphProto& graph = model.graph();
  for (const auto& input : graph.input()) AddValueInfo(input, /*with_shape=*/true, info);
  for (const auto& output : graph.output()) AddValueInfo(output, /*with_shape=*/false, info);
  // Declared intermediate shapes may be stale once input shapes are fixed; only types count.
  for (const auto& value : graph.value_info()) AddValueInfo(value, /*with_shape=*/false, info);
  for (const auto& tensor : graph.initializer()) {
    info.types.emplace(tensor.name(), tensor.data_type());
    info.shapes.emplace(tensor.name(),
                        std::vector<int64_t>(tensor.dims().begin(), tensor.dims().end()));
  }
  for (const auto& node : graph.node()) {
    if (node.op_type() == "Cast") info.types.emplace(node.output(0), IntAttribute(node, "to", 0));
  }

  ModelProto light = LightCopy(model);
  try {
    onnx::shape_inference::InferShapes(light);
  } catch (const std::exception&) {
    return info;  // Inference only adds to what is declared.
  }
  for (const auto& value : light.graph().value_info()) AddValueInfo(value, true, info);
  for (const auto& output : light.graph().output()) AddValueInfo(output, true, info);
  return info;
}

int DefaultOpset(const ModelProto& model) {
  for (const auto& opset : model.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx") {
      return static_cast<int>(opset.version());
    }
  }
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Graph surgery that only reorganizes.

Status FixInputShapes(GraphProto& graph, const RewriteOptions& options) {
  for (const auto& [name, dims] : options.input_shapes) {
    auto input = std::find_if(graph.mutable_input()->begin(), graph.mutable_input()->end(),
                              [&name](const ValueInfoProto& v) { return v.name() == name; });
    if (input == graph.mutable_input()->end()) {
      return InvalidArgument("the model has no input named '" + name + "'");
    }
    auto* shape = input->mutable_type()->mutable_tensor_type()->mutable_shape();
    if (shape->dim_size() != static_cast<int>(dims.size())) {
      return InvalidArgument("input '" + name + "' has rank " + std::to_string(shape->dim_size()) +
                             ", not " + std::to_string(dims.size()));
    }
    for (int i = 0; i < shape->dim_size(); ++i) {
      shape->mutable_dim(i)->clear_dim_param();
      shape->mutable_dim(i)->set_dim_value(dims[i]);
    }
  }
  return Status::Ok();
}

Status KeepOutputs(GraphProto& graph, const std::vector<std::string>& names) {
  if (names.empty()) return Status::Ok();
  google::protobuf::RepeatedPtrField<ValueInfoProto> kept;
  for (const std::string& name : names) {
    auto output = std::find_if(graph.output().begin(), graph.output().end(),
                               [&name](const ValueInfoProto& v) { return v.name() == name; });
    if (output == graph.output().end()) {
      return InvalidArgument("the model has no output named '" + name + "'");
    }
    *kept.Add() = *output;
  }
  graph.mutable_output()->Swap(&kept);
  return Status::Ok();
}

// Orders nodes so that each comes after the producers of its inputs. ONNX requires it and the
// OpenCV importer relies on it, but fp16 converters append their Cast nodes at the end. Among
// ready nodes the original order is kept.
Status SortTopologically(GraphProto& graph) {
  const GraphIndex index = IndexGraph(graph);
  std::vector<int> pending(graph.node_size(), 0);
  std::vector<std::vector<int>> consumers(graph.node_size());
  for (int i = 0; i < graph.node_size(); ++i) {
    std::set<int> sources;
    for (const auto& name : graph.node(i).input()) {
      auto it = index.producer.find(name);
      if (it != index.producer.end() && it->second != i) sources.insert(it->second);
    }
    pending[i] = static_cast<int>(sources.size());
    for (int source : sources) consumers[source].push_back(i);
  }
  std::set<int> ready;
  for (int i = 0; i < graph.node_size(); ++i) {
    if (pending[i] == 0) ready.insert(i);
  }
  std::vector<int> order;
  while (!ready.empty()) {
    const int i = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(i);
    for (int consumer : consumers[i]) {
      if (--pending[consumer] == 0) ready.insert(consumer);
    }
  }
  if (order.size() != static_cast<size_t>(graph.node_size())) {
    return InvalidArgument("the ONNX graph has a cycle");
  }
  google::protobuf::RepeatedPtrField<NodeProto> sorted;
  for (int i : order) sorted.Add()->Swap(graph.mutable_node(i));
  graph.mutable_node()->Swap(&sorted);
  return Status::Ok();
}

// Drops nodes no graph output depends on, then unused initializers. Returns the nodes dropped.
int DropDeadNodes(GraphProto& graph) {
  std::unordered_set<std::string> needed;
  for (const auto& output : graph.output()) needed.insert(output.name());
  std::vector<bool> dead(graph.node_size(), true);
  for (int i = graph.node_size() - 1; i >= 0; --i) {
    const NodeProto& node = graph.node(i);
    for (const auto& name : node.output()) dead[i] = dead[i] && needed.count(name) == 0;
    if (!dead[i]) needed.insert(node.input().begin(), node.input().end());
  }
  const auto dropped = static_cast<int>(std::count(dead.begin(), dead.end(), true));
  ApplyEdits(graph, dead, {});

  google::protobuf::RepeatedPtrField<TensorProto> initializers;
  for (auto& tensor : *graph.mutable_initializer()) {
    if (needed.count(tensor.name()) > 0) initializers.Add()->Swap(&tensor);
  }
  graph.mutable_initializer()->Swap(&initializers);
  return dropped;
}

// ---------------------------------------------------------------------------------------------
// fp16 -> fp32.

// Replaces the fp16 payload of `tensor` (raw_data, or int32_data holding the 16 bits) with fp32
// raw_data. Returns false if the tensor is not fp16.
bool TensorToFloat(TensorProto& tensor) {
  if (tensor.data_type() != kFloat16) return false;
  std::vector<uint16_t> bits;
  if (!tensor.raw_data().empty()) {
    bits.resize(tensor.raw_data().size() / sizeof(uint16_t));
    std::memcpy(bits.data(), tensor.raw_data().data(), bits.size() * sizeof(uint16_t));
  } else {
    for (int32_t v : tensor.int32_data()) bits.push_back(static_cast<uint16_t>(v));
  }
  std::vector<float> values(bits.size());
  if (!bits.empty()) {
    cv::Mat half(1, static_cast<int>(bits.size()), CV_16F, bits.data());
    cv::Mat full(1, static_cast<int>(values.size()), CV_32F, values.data());
    half.convertTo(full, CV_32F);
  }
  tensor.clear_int32_data();
  tensor.set_raw_data(values.data(), values.size() * sizeof(float));
  tensor.set_data_type(kFloat);
  return true;
}

void ValueInfoToFloat(ValueInfoProto& value) {
  auto* tensor_type = value.mutable_type()->mutable_tensor_type();
  if (tensor_type->elem_type() == kFloat16) tensor_type->set_elem_type(kFloat);
}

int ConvertFp16(GraphProto& graph) {
  int converted = 0;
  for (auto& tensor : *graph.mutable_initializer()) converted += TensorToFloat(tensor);
  for (auto& node : *graph.mutable_node()) {
    for (auto& attribute : *node.mutable_attribute()) {
      if (attribute.has_t()) converted += TensorToFloat(*attribute.mutable_t());
      for (auto& tensor : *attribute.mutable_tensors()) converted += TensorToFloat(tensor);
      if (node.op_type() == "Cast" && attribute.name() == "to" && attribute.i() == kFloat16) {
        attribute.set_i(kFloat);
      }
    }
  }
  for (auto& value : *graph.mutable_input()) ValueInfoToFloat(value);
  for (auto& value : *graph.mutable_output()) ValueInfoToFloat(value);
  for (auto& value : *graph.mutable_value_info()) ValueInfoToFloat(value);
  return converted;
}

// Removes Cast nodes whose input already has the target type (after ConvertFp16, every
// fp32 <-> fp16 Cast).
int RemoveIdentityCasts(ModelProto& model) {
  const std::unordered_map<std::string, int> types = InferTensorInfo(model).types;
  GraphProto& graph = *model.mutable_graph();
  std::unordered_set<std::string> sources, graph_outputs;
  for (const auto& input : graph.input()) sources.insert(input.name());
  for (const auto& tensor : graph.initializer()) sources.insert(tensor.name());
  for (const auto& output : graph.output()) graph_outputs.insert(output.name());

  int removed = 0;
  for (int i = 0; i < graph.node_size();) {
    const NodeProto& node = graph.node(i);
    const AttributeProto* to = FindAttribute(node, "to");
    auto type = node.op_type() == "Cast" && node.input_size() == 1 && to != nullptr
                    ? types.find(node.input(0))
                    : types.end();
    const bool identity = type != types.end() && type->second == to->i();
    const bool to_output = identity && graph_outputs.count(node.output(0)) > 0;
    // A Cast from a graph input straight to a graph output has nothing to rename into.
    if (!identity ||
        (to_output && (sources.count(node.input(0)) || graph_outputs.count(node.input(0))))) {
      ++i;
      continue;
    }
    const std::string in = node.input(0), out = node.output(0);
    graph.mutable_node()->DeleteSubrange(i, 1);
    if (to_output) {
      RenameTensor(graph, in, out);  // The producer of `in` now writes the graph output.
    } else {
      RenameTensor(graph, out, in);
    }
    ++removed;
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// Clip.

Result<float> ScalarFloat(const TensorProto& tensor) {
  std::vector<float> values =
      tensor.data_type() == kFloat ? ReadFloats(tensor) : std::vector<float>{};
  if (values.size() != 1 || ElementCount(tensor) != 1) {
    return Unsupported("tensor '" + tensor.name() + "' is not a float scalar");
  }
  return values[0];
}

// Clip-11+ takes min/max as inputs; OpenCV 4.6 reads only the Clip-6 attributes.
Result<int> ClipBoundsToAttributes(GraphProto& graph) {
  const GraphIndex index = IndexGraph(graph);
  int rewritten = 0;
  for (auto& node : *graph.mutable_node()) {
    if (node.op_type() != "Clip" || node.input_size() <= 1) continue;
    static const char* const kBounds[] = {"", "min", "max"};
    for (int i = 1; i < node.input_size() && i < 3; ++i) {
      if (node.input(i).empty()) continue;
      const TensorProto* bound = index.Constant(node.input(i));
      if (bound == nullptr) {
        return Unsupported("Clip node '" + node.name() + "' has a " + kBounds[i] +
                           " bound computed at run time; OpenCV needs a constant");
      }
      Result<float> value = ScalarFloat(*bound);
      if (!value.ok()) return value.status().WithContext("Clip node '" + node.name() + "'");
      AttributeProto& attribute = *node.add_attribute();
      attribute.set_name(kBounds[i]);
      attribute.set_type(AttributeProto::FLOAT);
      attribute.set_f(*value);
    }
    node.mutable_input()->DeleteSubrange(1, node.input_size() - 1);
    ++rewritten;
  }
  return rewritten;
}

// ---------------------------------------------------------------------------------------------
// Folding into ConvTranspose / Conv.
//
// OpenCV 4.6 fuses a following bias Add or BatchNormalization into a deconvolution's weights
// when the net is set up, and fuses them again at every later set-up for a new input shape, so a
// net reused at a second size applies them twice and returns a wrong map (seen on PP-OCRv4
// detection, whose paddle2onnx export has ConvTranspose -> Add(bias) -> BatchNormalization).
// Folding them here leaves OpenCV nothing to fuse.

// Output channels of a Conv (weights [C_out, C_in / group, k...]) or ConvTranspose (weights
// [C_in, C_out / group, k...]).
int64_t OutputChannels(const NodeProto& conv, const TensorProto& weights) {
  return conv.op_type() == "ConvTranspose" ? weights.dims(1) * IntAttribute(conv, "group", 1)
                                           : weights.dims(0);
}

// Moves `Add(Conv(x, W), b)`, b a per-channel constant ([C, 1, ..] or [1, C, 1, ..]), into the
// convolution's bias input.
int FoldBiasAdds(GraphProto& graph) {
  const GraphIndex index = IndexGraph(graph);
  std::vector<bool> removed(graph.node_size(), false);
  std::vector<TensorProto> added;
  for (int a = 0; a < graph.node_size(); ++a) {
    const NodeProto& add = graph.node(a);
    if (add.op_type() != "Add" || add.input_size() != 2) continue;
    for (int c = 0; c < 2; ++c) {
      auto conv_it = index.producer.find(add.input(1 - c));
      const TensorProto* bias = index.FloatConstant(add.input(c));
      if (conv_it == index.producer.end() || bias == nullptr ||
          index.uses.at(add.input(1 - c)) != 1) {
        continue;
      }
      NodeProto& conv = *graph.mutable_node(conv_it->second);
      if ((conv.op_type() != "Conv" && conv.op_type() != "ConvTranspose") ||
          conv.input_size() < 2) {
        continue;
      }
      const TensorProto* weights = index.FloatConstant(conv.input(1));
      if (weights == nullptr || weights->dims_size() < 3) continue;
      const int64_t channels = OutputChannels(conv, *weights);
      const int spatial = weights->dims_size() - 2;
      const bool per_channel = ElementCount(*bias) == channels &&
                               ((bias->dims_size() == spatial + 1 && bias->dims(0) == channels) ||
                                (bias->dims_size() == spatial + 2 && bias->dims(1) == channels));
      if (!per_channel) continue;

      std::vector<float> values = ReadFloats(*bias);
      if (conv.input_size() > 2 && !conv.input(2).empty()) {
        const TensorProto* old = index.FloatConstant(conv.input(2));
        if (old == nullptr || ElementCount(*old) != channels) continue;
        std::vector<float> old_values = ReadFloats(*old);
        for (int64_t i = 0; i < channels; ++i) values[i] += old_values[i];
      }
      added.push_back(FloatTensor(add.output(0) + "/bias", {channels}, values));
      while (conv.input_size() < 3) conv.add_input("");
      conv.set_input(2, added.back().name());
      conv.set_output(0, add.output(0));
      removed[a] = true;
      break;
    }
  }
  const auto folded = static_cast<int>(std::count(removed.begin(), removed.end(), true));
  ApplyEdits(graph, removed, std::move(added));
  return folded;
}

// Folds BatchNormalization (inference form) into the ConvTranspose before it.
int FoldBatchNormIntoConvTranspose(GraphProto& graph) {
  const GraphIndex index = IndexGraph(graph);
  std::vector<bool> removed(graph.node_size(), false);
  std::vector<TensorProto> added;
  for (int b = 0; b < graph.node_size(); ++b) {
    const NodeProto& norm = graph.node(b);
    if (norm.op_type() != "BatchNormalization" || norm.input_size() != 5 ||
        norm.output_size() != 1) {
      continue;
    }
    auto conv_it = index.producer.find(norm.input(0));
    if (conv_it == index.producer.end() || index.uses.at(norm.input(0)) != 1) continue;
    NodeProto& conv = *graph.mutable_node(conv_it->second);
    if (conv.op_type() != "ConvTranspose" || conv.input_size() < 2) continue;
    const TensorProto* weights = index.FloatConstant(conv.input(1));
    if (weights == nullptr || weights->dims_size() < 3) continue;
    std::vector<std::vector<float>> params;  // scale, B, mean, var
    for (int i = 1; i < 5; ++i) {
      const TensorProto* param = index.FloatConstant(norm.input(i));
      if (param != nullptr) params.push_back(ReadFloats(*param));
    }
    const int64_t group = IntAttribute(conv, "group", 1);
    const int64_t in_channels = weights->dims(0), out_per_group = weights->dims(1);
    const int64_t channels = OutputChannels(conv, *weights);
    std::vector<float> bias(channels, 0.f);
    if (conv.input_size() > 2 && !conv.input(2).empty()) {
      const TensorProto* old = index.FloatConstant(conv.input(2));
      bias = old != nullptr ? ReadFloats(*old) : std::vector<float>{};
    }
    const bool sizes_ok =
        params.size() == 4 && static_cast<int64_t>(bias.size()) == channels &&
        in_channels % group == 0 &&
        std::all_of(params.begin(), params.end(), [channels](const std::vector<float>& p) {
          return static_cast<int64_t>(p.size()) == channels;
        });
    if (!sizes_ok) continue;

    const AttributeProto* epsilon_attribute = FindAttribute(norm, "epsilon");
    const float epsilon = epsilon_attribute != nullptr ? epsilon_attribute->f() : 1e-5f;
    std::vector<float> scale(channels);
    for (int64_t c = 0; c < channels; ++c) {
      scale[c] = params[0][c] / std::sqrt(params[3][c] + epsilon);
      bias[c] = (bias[c] - params[2][c]) * scale[c] + params[1][c];
    }
    // Weight row r (an input channel) belongs to group r / (C_in / group), whose output
    // channels start at that group times C_out / group.
    std::vector<float> w = ReadFloats(*weights);
    const int64_t kernel = static_cast<int64_t>(w.size()) / (in_channels * out_per_group);
    for (int64_t r = 0; r < in_channels; ++r) {
      for (int64_t j = 0; j < out_per_group; ++j) {
        const float s = scale[(r / (in_channels / group)) * out_per_group + j];
        float* k = w.data() + (r * out_per_group + j) * kernel;
        for (int64_t i = 0; i < kernel; ++i) k[i] *= s;
      }
    }
    added.push_back(FloatTensor(norm.output(0) + "/weights",
                                {weights->dims().begin(), weights->dims().end()}, w));
    conv.set_input(1, added.back().name());
    added.push_back(FloatTensor(norm.output(0) + "/bias", {channels}, bias));
    while (conv.input_size() < 3) conv.add_input("");
    conv.set_input(2, added.back().name());
    conv.set_output(0, norm.output(0));
    removed[b] = true;
  }
  const auto folded = static_cast<int>(std::count(removed.begin(), removed.end(), true));
  ApplyEdits(graph, removed, std::move(added));
  return folded;
}

// ---------------------------------------------------------------------------------------------
// Shape arithmetic.
//
// Exporters compute Reshape and Resize arguments at run time (Shape -> Cast -> Slice -> Concat).
// OpenCV's importer folds some of these chains but not all, and ONNX shape inference cannot see
// through them (no data propagation for opset-9 Slice), which hides the static shapes the
// broadcast pass needs. With static input shapes their values are known here.

// A small integer tensor whose value is known at rewrite time.
struct IntTensor {
  int data_type = TensorProto::INT64;
  std::vector<int64_t> dims;
  std::vector<int64_t> values;
};
using KnownInts = std::unordered_map<std::string, IntTensor>;

std::optional<IntTensor> ReadIntTensor(const TensorProto& tensor) {
  IntTensor out;
  out.data_type = tensor.data_type();
  out.dims.assign(tensor.dims().begin(), tensor.dims().end());
  const std::string& raw = tensor.raw_data();
  if (tensor.data_type() == TensorProto::INT64) {
    if (raw.empty()) {
      out.values.assign(tensor.int64_data().begin(), tensor.int64_data().end());
    } else {
      out.values.resize(raw.size() / sizeof(int64_t));
      std::memcpy(out.values.data(), raw.data(), out.values.size() * sizeof(int64_t));
    }
  } else if (tensor.data_type() == TensorProto::INT32) {
    std::vector<int32_t> values(tensor.int32_data().begin(), tensor.int32_data().end());
    if (!raw.empty()) {
      values.resize(raw.size() / sizeof(int32_t));
      std::memcpy(values.data(), raw.data(), values.size() * sizeof(int32_t));
    }
    out.values.assign(values.begin(), values.end());
  } else {
    return std::nullopt;
  }
  if (ElementCount(tensor) != static_cast<int64_t>(out.values.size())) return std::nullopt;
  return out;
}

TensorProto WriteIntTensor(const IntTensor& value, const std::string& name) {
  TensorProto tensor;
  tensor.set_name(name);
  tensor.set_data_type(value.data_type);
  for (int64_t d : value.dims) tensor.add_dims(d);
  for (int64_t v : value.values) {
    if (value.data_type == TensorProto::INT64) {
      tensor.add_int64_data(v);
    } else {
      tensor.add_int32_data(static_cast<int32_t>(v));
    }
  }
  return tensor;
}

IntTensor IntVector(int data_type, std::vector<int64_t> values) {
  IntTensor out{data_type, {static_cast<int64_t>(values.size())}, std::move(values)};
  return out;
}

std::optional<IntTensor> EvaluateConstant(const NodeProto& node) {
  for (const auto& attribute : node.attribute()) {
    if (attribute.name() == "value" && attribute.has_t()) return ReadIntTensor(attribute.t());
    if (attribute.name() == "value_int") return IntTensor{TensorProto::INT64, {}, {attribute.i()}};
    if (attribute.name() == "value_ints") {
      return IntVector(TensorProto::INT64, {attribute.ints().begin(), attribute.ints().end()});
    }
  }
  return std::nullopt;
}

std::optional<IntTensor> EvaluateShape(const NodeProto& node, const TensorInfo& info) {
  auto shape = info.shapes.find(node.input(0));
  if (shape == info.shapes.end()) return std::nullopt;
  const auto rank = static_cast<int64_t>(shape->second.size());
  auto clamp = [rank](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank); };
  const int64_t start = clamp(IntAttribute(node, "start", 0));
  const int64_t end = std::max(start, clamp(IntAttribute(node, "end", rank)));
  return IntVector(TensorProto::INT64,
                   {shape->second.begin() + start, shape->second.begin() + end});
}

std::optional<IntTensor> EvaluateSqueeze(const NodeProto& node, const IntTensor& data,
                                         std::optional<std::vector<int64_t>> axes) {
  IntTensor out = data;
  const auto rank = static_cast<int64_t>(data.dims.size());
  if (node.op_type() == "Squeeze") {
    out.dims.clear();
    for (int64_t i = 0; i < rank; ++i) {
      const bool listed = !axes || std::count(axes->begin(), axes->end(), i) > 0 ||
                          std::count(axes->begin(), axes->end(), i - rank) > 0;
      if (!listed || data.dims[i] != 1) out.dims.push_back(data.dims[i]);
    }
    return out;
  }
  if (!axes) return std::nullopt;
  const auto out_rank = static_cast<int64_t>(rank + axes->size());
  for (int64_t& axis : *axes) axis = axis < 0 ? axis + out_rank : axis;
  std::sort(axes->begin(), axes->end());
  for (int64_t axis : *axes) {
    if (axis < 0 || axis > static_cast<int64_t>(out.dims.size())) return std::nullopt;
    out.dims.insert(out.dims.begin() + axis, 1);
  }
  return out;
}

std::optional<IntTensor> EvaluateSlice(const IntTensor& data, int64_t start, int64_t end,
                                       int64_t step) {
  if (data.dims.size() != 1 || step == 0) return std::nullopt;
  const auto n = static_cast<int64_t>(data.values.size());
  auto clamp = [n, step](int64_t v) {
    if (v < 0) v += n;
    return step > 0 ? std::clamp(v, int64_t{0}, n) : std::clamp(v, int64_t{-1}, n - 1);
  };
  std::vector<int64_t> values;
  for (int64_t i = clamp(start), stop = clamp(end); step > 0 ? i < stop : i > stop; i += step) {
    values.push_back(data.values[i]);
  }
  return IntVector(data.data_type, std::move(values));
}

std::optional<IntTensor> EvaluateArithmetic(const std::string& op, const IntTensor& a,
                                            const IntTensor& b) {
  if (a.dims.size() > 1 || b.dims.size() > 1 ||
      (a.values.size() != b.values.size() && a.values.size() != 1 && b.values.size() != 1)) {
    return std::nullopt;
  }
  IntTensor out = a.values.size() >= b.values.size() ? a : b;
  for (size_t i = 0; i < out.values.size(); ++i) {
    const int64_t x = a.values[a.values.size() == 1 ? 0 : i];
    const int64_t y = b.values[b.values.size() == 1 ? 0 : i];
    if (op == "Div" && y == 0) return std::nullopt;
    out.values[i] = op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y;
  }
  return out;
}

// Evaluates `node` if it is integer arithmetic on known tensors or the Shape of a tensor with a
// static shape.
std::optional<IntTensor> EvaluateIntNode(const NodeProto& node, int opset, const KnownInts& known,
                                         const TensorInfo& info) {
  auto input = [&](int i) -> const IntTensor* {
    if (i >= node.input_size() || node.input(i).empty()) return nullptr;
    auto it = known.find(node.input(i));
    return it == known.end() ? nullptr : &it->second;
  };
  auto input_values = [&](int i) -> std::optional<std::vector<int64_t>> {
    const IntTensor* tensor = input(i);
    if (tensor == nullptr) return std::nullopt;
    return tensor->values;
  };
  const std::string& op = node.op_type();
  if (op == "Constant") return EvaluateConstant(node);
  if (op == "Shape") return EvaluateShape(node, info);
  const IntTensor* a = input(0);
  if (a == nullptr) return std::nullopt;
  if (op == "Cast") {
    const int64_t to = IntAttribute(node, "to", 0);
    if (to != TensorProto::INT64 && to != TensorProto::INT32) return std::nullopt;
    IntTensor out = *a;
    out.data_type = static_cast<int>(to);
    return out;
  }
  if (op == "Squeeze" || op == "Unsqueeze") {
    return EvaluateSqueeze(node, *a, opset >= 13 ? input_values(1) : IntsAttribute(node, "axes"));
  }
  if (op == "Slice") {
    std::optional<std::vector<int64_t>> starts, ends, axes, steps;
    if (opset < 10) {
      starts = IntsAttribute(node, "starts");
      ends = IntsAttribute(node, "ends");
      axes = IntsAttribute(node, "axes");
    } else {
      starts = input_values(1);
      ends = input_values(2);
      axes = input_values(3);
      steps = input_values(4);
      if ((node.input_size() > 3 && !node.input(3).empty() && !axes) ||
          (node.input_size() > 4 && !node.input(4).empty() && !steps)) {
        return std::nullopt;
      }
    }
    if (!starts || !ends || starts->size() != 1 || ends->size() != 1 ||
        (axes && (axes->size() != 1 || ((*axes)[0] != 0 && (*axes)[0] != -1))) ||
        (steps && steps->size() != 1)) {
      return std::nullopt;
    }
    return EvaluateSlice(*a, (*starts)[0], (*ends)[0], steps ? (*steps)[0] : 1);
  }
  if (op == "Concat") {
    std::vector<int64_t> values;
    for (int i = 0; i < node.input_size(); ++i) {
      const IntTensor* part = input(i);
      if (part == nullptr || part->dims.size() != 1) return std::nullopt;
      values.insert(values.end(), part->values.begin(), part->values.end());
    }
    return IntVector(a->data_type, std::move(values));
  }
  if (op == "Gather") {
    const IntTensor* indices = input(1);
    if (indices == nullptr || a->dims.size() != 1 || indices->dims.size() > 1 ||
        IntAttribute(node, "axis", 0) != 0) {
      return std::nullopt;
    }
    IntTensor out{a->data_type, indices->dims, {}};
    const auto n = static_cast<int64_t>(a->values.size());
    for (int64_t i : indices->values) {
      if (i < -n || i >= n) return std::nullopt;
      out.values.push_back(a->values[i < 0 ? i + n : i]);
    }
    return out;
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    const IntTensor* b = input(1);
    return b != nullptr ? EvaluateArithmetic(op, *a, *b) : std::nullopt;
  }
  return std::nullopt;
}

// Replaces every node that computes a known small integer tensor with a Constant node, and
// repeats while shape inference learns more. Shape nodes fold only when their input's shape is
// static, so models with dynamic inputs keep their dynamic parts.
int FoldShapeComputations(ModelProto& model) {
  constexpr size_t kMaxValues = 64;  // Shape arithmetic, not data.
  const int opset = DefaultOpset(model);
  int folded = 0;
  for (bool changed = true; changed;) {
    changed = false;
    const TensorInfo info = InferTensorInfo(model);
    std::unordered_set<std::string> graph_outputs;
    for (const auto& output : model.graph().output()) graph_outputs.insert(output.name());
    KnownInts known;
    for (const auto& tensor : model.graph().initializer()) {
      if (std::optional<IntTensor> value = ReadIntTensor(tensor)) known[tensor.name()] = *value;
    }
    for (auto& node : *model.mutable_graph()->mutable_node()) {
      if (node.output_size() != 1) continue;
      std::optional<IntTensor> value = EvaluateIntNode(node, opset, known, info);
      if (!value || value->values.size() > kMaxValues) continue;
      const std::string output = node.output(0);
      known[output] = *value;
      if (node.op_type() == "Constant" || graph_outputs.count(output) > 0) continue;
      const std::string name = node.name();
      node.Clear();
      node.set_op_type("Constant");
      node.set_name(name);
      node.add_output(output);
      AttributeProto& attribute = *node.add_attribute();
      attribute.set_name("value");
      attribute.set_type(AttributeProto::TENSOR);
      *attribute.mutable_t() = WriteIntTensor(*value, output);
      ++folded;
      changed = true;
    }
  }
  return folded;
}

// ---------------------------------------------------------------------------------------------
// Resize targets.
//
// PyTorch traces `F.interpolate(x, size=y.shape[2:])` (DIS's `_upsample_like(x, y)`) at the
// export's static input shape into Resize(x, sizes = Concat(Shape(x)[:2], [H, W])) with H and W
// literals of that shape. At any other input shape the literals are stale: the resized map no
// longer matches `y`, and OpenCV refuses the Concat that joins them. So when the input shapes
// change, each Resize with a `sizes` input takes its spatial sizes from a tensor `y`:
// sizes = Concat(sizes[:2], Shape(y)[2:]), which the shape folding then evaluates at the new
// shapes. `y` is, first, a tensor the Resize output is joined with (another input of a Concat
// along axis 0 or 1, or of an element-wise op, that reads the output, possibly through Casts)
// whose spatial shape equals the output's at the declared input shapes: the join needs them
// equal at any shape, so this is exact. Failing that, `y` is the one graph input that had the
// output's spatial shape at the declared shapes (DIS's side outputs, resized to the input: a
// guess, right for "resize to the input size"). Resizes with neither keep their sizes.

// True if some input gets a static shape other than its declared static shape.
bool InputShapesChange(const google::protobuf::RepeatedPtrField<ValueInfoProto>& declared,
                       const RewriteOptions& options) {
  for (const auto& input : declared) {
    auto requested = options.input_shapes.find(input.name());
    if (requested == options.input_shapes.end()) continue;
    const auto& dims = input.type().tensor_type().shape().dim();
    for (int i = 0; i < dims.size() && i < static_cast<int>(requested->second.size()); ++i) {
      if (dims[i].has_dim_value() && dims[i].dim_value() != requested->second[i]) return true;
    }
  }
  return false;
}

// The ops whose inputs must agree on their spatial shape with the resized tensor.
bool JoinsSpatially(const NodeProto& node, size_t rank) {
  const std::string& op = node.op_type();
  if (op == "Concat") {
    int64_t axis = IntAttribute(node, "axis", 0);
    if (axis < 0) axis += static_cast<int64_t>(rank);
    return axis == 0 || axis == 1;
  }
  return op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Sum" || op == "Max" ||
         op == "Min" || op == "Mean";
}

// `declared_inputs` are the graph inputs as the source declared them. Returns the Resizes
// retargeted.
int RetargetResizes(ModelProto& model,
                    const google::protobuf::RepeatedPtrField<ValueInfoProto>& declared_inputs) {
  // Shapes at the declared input shapes (Resize outputs become known once sizes are folded).
  ModelProto light = LightCopy(model);
  *light.mutable_graph()->mutable_input() = declared_inputs;
  FoldShapeComputations(light);
  const TensorInfo declared = InferTensorInfo(light);
  auto declared_shape = [&declared](const std::string& name) -> const std::vector<int64_t>* {
    auto it = declared.shapes.find(name);
    return it == declared.shapes.end() ? nullptr : &it->second;
  };

  GraphProto& graph = *model.mutable_graph();
  std::unordered_map<std::string, std::vector<int>> consumers;
  for (int i = 0; i < graph.node_size(); ++i) {
    for (const auto& name : graph.node(i).input()) consumers[name].push_back(i);
  }
  // Every tensor computed from `name`, which cannot size the Resize that makes `name`.
  auto downstream = [&](const std::string& name) {
    std::unordered_set<std::string> seen{name};
    std::vector<std::string> stack{name};
    while (!stack.empty()) {
      const std::string current = stack.back();
      stack.pop_back();
      for (int i : consumers[current]) {
        for (const auto& out : graph.node(i).output()) {
          if (seen.insert(out).second) stack.push_back(out);
        }
      }
    }
    return seen;
  };

  struct Retarget {
    int resize;
    std::string target;
  };
  std::vector<Retarget> retargets;
  for (int r = 0; r < graph.node_size(); ++r) {
    const NodeProto& resize = graph.node(r);
    if (resize.op_type() != "Resize" || resize.input_size() < 4 || resize.input(3).empty()) {
      continue;
    }
    const std::vector<int64_t>* out = declared_shape(resize.output(0));
    if (out == nullptr || out->size() < 3) continue;
    const std::unordered_set<std::string> after = downstream(resize.output(0));
    auto fits = [&](const std::string& name) {
      const std::vector<int64_t>* shape = declared_shape(name);
      return shape != nullptr && shape->size() == out->size() &&
             std::equal(shape->begin() + 2, shape->end(), out->begin() + 2) &&
             after.count(name) == 0;
    };
    std::string target;
    std::vector<std::string> frontier{resize.output(0)};
    while (!frontier.empty() && target.empty()) {
      const std::string current = frontier.back();
      frontier.pop_back();
      for (int i : consumers[current]) {
        const NodeProto& node = graph.node(i);
        if ((node.op_type() == "Cast" || node.op_type() == "Identity") && node.output_size() == 1) {
          frontier.push_back(node.output(0));
        } else if (JoinsSpatially(node, out->size())) {
          for (const auto& name : node.input()) {
            if (target.empty() && name != current && fits(name)) target = name;
          }
        }
      }
    }
    if (target.empty()) {
      int matching_inputs = 0;
      for (const auto& input : declared_inputs) {
        if (fits(input.name())) {
          target = input.name();
          ++matching_inputs;
        }
      }
      if (matching_inputs != 1) continue;
    }
    retargets.push_back({r, target});
  }
  if (retargets.empty()) return 0;

  auto int64_initializer = [&graph](const std::string& name, int64_t value) {
    TensorProto& tensor = *graph.add_initializer();
    tensor.set_name(name);
    tensor.set_data_type(TensorProto::INT64);
    tensor.add_dims(1);
    tensor.add_int64_data(value);
  };
  const std::string zero = "vitrine/retarget/zero", two = "vitrine/retarget/two",
                    end = "vitrine/retarget/end";
  int64_initializer(zero, 0);
  int64_initializer(two, 2);
  int64_initializer(end, INT64_MAX);
  for (const Retarget& retarget : retargets) {
    const std::string base = graph.node(retarget.resize).output(0) + "/retargeted_sizes";
    const std::string sizes = graph.node(retarget.resize).input(3);
    auto add = [&graph, &base](const std::string& op, std::vector<std::string> inputs,
                               const std::string& output) {
      NodeProto& node = *graph.add_node();
      node.set_op_type(op);
      node.set_name(output);
      for (auto& name : inputs) node.add_input(std::move(name));
      node.add_output(output);
      return &node;
    };
    add("Slice", {sizes, zero, two}, base + "/head");
    add("Shape", {retarget.target}, base + "/target_shape");
    add("Slice", {base + "/target_shape", two, end}, base + "/target_spatial");
    AttributeProto& axis =
        *add("Concat", {base + "/head", base + "/target_spatial"}, base)->add_attribute();
    axis.set_name("axis");
    axis.set_type(AttributeProto::INT);
    axis.set_i(0);
    graph.mutable_node(retarget.resize)->set_input(3, base);
  }
  return static_cast<int>(retargets.size());
}

// ---------------------------------------------------------------------------------------------
// Broadcast constants.
//
// OpenCV 4.6 turns Add/Sub/Mul/Div of a tensor and a constant into a Scale layer that applies
// the flattened constant from axis 1. That is wrong when the constant varies along other axes,
// e.g. a LayerNorm weight [C] on a [N, T, C] tensor (PP-OCRv4 recognition), and the layer fails.
// Such constants are expanded to the full shape of the other operand, which OpenCV applies
// element-wise. Needs the static shape of the other operand; per-channel constants ([C, 1, 1] on
// NCHW) are left alone.

// True if OpenCV's axis-1 Scale applies `dims` (padded to the rank of `full`) correctly.
bool ScaleFromAxisOneFits(const std::vector<int64_t>& dims, const std::vector<int64_t>& full) {
  size_t first = dims.size(), last = 0;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 1) continue;
    first = std::min(first, i);
    last = i;
  }
  if (first == dims.size()) return true;  // A scalar.
  if (first != 1) return false;
  for (size_t i = first; i <= last; ++i) {
    if (dims[i] != full[i]) return false;  // Broadcasts inside the run.
  }
  return true;
}

std::vector<float> Broadcast(const std::vector<float>& values, const std::vector<int64_t>& dims,
                             const std::vector<int64_t>& full) {
  int64_t total = 1;
  for (int64_t d : full) total *= d;
  std::vector<float> out(total);
  std::vector<int64_t> index(full.size(), 0);
  for (int64_t n = 0; n < total; ++n) {
    int64_t offset = 0;
    for (size_t d = 0; d < full.size(); ++d)
      offset = offset * dims[d] + (dims[d] == 1 ? 0 : index[d]);
    out[n] = values[offset];
    for (int d = static_cast<int>(full.size()) - 1; d >= 0 && ++index[d] == full[d]; --d) {
      index[d] = 0;
    }
  }
  return out;
}

int ExpandBroadcastConstants(ModelProto& model) {
  const TensorInfo info = InferTensorInfo(model);
  GraphProto& graph = *model.mutable_graph();
  const GraphIndex index = IndexGraph(graph);
  std::vector<TensorProto> added;
  for (auto& node : *graph.mutable_node()) {
    const std::string& op = node.op_type();
    if ((op != "Add" && op != "Sub" && op != "Mul" && op != "Div") || node.input_size() != 2) {
      continue;
    }
    for (int c = 0; c < 2; ++c) {
      const TensorProto* constant = index.FloatConstant(node.input(c));
      auto other = info.shapes.find(node.input(1 - c));
      if (constant == nullptr || other == info.shapes.end()) continue;
      const std::vector<int64_t>& full = other->second;
      std::vector<int64_t> dims(constant->dims().begin(), constant->dims().end());
      if (dims.size() > full.size()) continue;
      dims.insert(dims.begin(), full.size() - dims.size(), 1);
      bool enlarges = false;  // Then the result is not `full`-shaped; leave it.
      for (size_t i = 0; i < dims.size(); ++i)
        enlarges = enlarges || (dims[i] != 1 && dims[i] != full[i]);
      if (enlarges || ScaleFromAxisOneFits(dims, full)) continue;
      added.push_back(FloatTensor(node.input(c) + "/expanded_" + std::to_string(added.size()), full,
                                  Broadcast(ReadFloats(*constant), dims, full)));
      node.set_input(c, added.back().name());
    }
  }
  const auto expanded = static_cast<int>(added.size());
  ApplyEdits(graph, std::vector<bool>(graph.node_size(), false), std::move(added));
  return expanded;
}

// Declares the graph outputs' shapes as inferred at the fixed input shapes: the declared ones
// may be stale. A dimension inference cannot tell is left unknown.
void DeclareOutputShapes(ModelProto& model) {
  const TensorInfo info = InferTensorInfo(model);
  for (auto& output : *model.mutable_graph()->mutable_output()) {
    auto* tensor_type = output.mutable_type()->mutable_tensor_type();
    auto inferred = info.shapes.find(output.name());
    if (inferred == info.shapes.end()) {
      if (!tensor_type->has_shape()) continue;
      for (auto& dim : *tensor_type->mutable_shape()->mutable_dim()) dim.Clear();
      continue;
    }
    tensor_type->mutable_shape()->clear_dim();
    for (int64_t d : inferred->second) tensor_type->mutable_shape()->add_dim()->set_dim_value(d);
  }
}

Result<std::string> Rewrite(std::string_view onnx_bytes, const RewriteOptions& options,
                            RewriteStats& stats) {
  if (onnx_bytes.size() >= static_cast<size_t>(INT_MAX)) {
    return Unsupported("ONNX model of " + std::to_string(onnx_bytes.size()) +
                       " bytes; models of 2 GiB or more are not supported");
  }
  auto model = std::make_unique<ModelProto>();
  if (!model->ParseFromArray(onnx_bytes.data(), static_cast<int>(onnx_bytes.size())) ||
      !model->has_graph()) {
    return InvalidArgument("not an ONNX model (" + std::to_string(onnx_bytes.size()) + " bytes)");
  }
  GraphProto& graph = *model->mutable_graph();
  const google::protobuf::RepeatedPtrField<ValueInfoProto> declared_inputs = graph.input();
  RETURN_IF_ERROR(FixInputShapes(graph, options));
  RETURN_IF_ERROR(KeepOutputs(graph, options.outputs));
  RETURN_IF_ERROR(SortTopologically(graph));
  stats.fp16_tensors_converted = ConvertFp16(graph);
  stats.casts_removed = RemoveIdentityCasts(*model);
  ASSIGN_OR_RETURN(stats.clips_rewritten, ClipBoundsToAttributes(graph));
  stats.bias_adds_folded = FoldBiasAdds(graph);
  stats.batch_norms_folded = FoldBatchNormIntoConvTranspose(graph);
  if (InputShapesChange(declared_inputs, options)) {
    stats.resizes_retargeted = RetargetResizes(*model, declared_inputs);
    if (stats.resizes_retargeted > 0) RETURN_IF_ERROR(SortTopologically(graph));
  }
  stats.shape_nodes_folded = FoldShapeComputations(*model);
  stats.constants_expanded = ExpandBroadcastConstants(*model);
  stats.nodes_dropped = DropDeadNodes(graph);
  if (!options.input_shapes.empty()) DeclareOutputShapes(*model);
  // Declared intermediate shapes may be stale after fixing input shapes; OpenCV infers its own.
  graph.clear_value_info();

  std::string out;
  if (!model->SerializeToString(&out)) return Internal("could not serialize the rewritten model");
  return out;
}

}  // namespace

Result<std::string> RewriteForOpenCv(std::string_view onnx_bytes, const RewriteOptions& options,
                                     RewriteStats* stats) {
  try {
    RewriteStats local;
    Result<std::string> out = Rewrite(onnx_bytes, options, local);
    if (out.ok() && stats != nullptr) *stats = local;
    return out;
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory while rewriting an ONNX model of " +
                             std::to_string(onnx_bytes.size()) + " bytes");
  } catch (const std::exception& e) {
    return Internal(std::string("rewriting the ONNX model failed: ") + e.what());
  }
}

}  // namespace vitrine::models
