// Running one image-to-image step over many files: input expansion, a worker pool, progress with
// an ETA, per-file errors that never stop the batch, and a summary. Shared by the CLI commands
// that take FILE_OR_DIR... (cutout, remove-text, stage, export; app::StartBatch begins each).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/image.h"
#include "core/status.h"
#include "io/image_io.h"

namespace vitrine::app {

// Files named directly, plus the image files (by extension, not hidden) directly inside named
// folders, in name order. Missing paths are reported in `missing` (not an error here: the batch
// counts them as failed inputs).
std::vector<std::string> ExpandInputs(const std::vector<std::string>& args,
                                      std::vector<std::string>* missing);

struct BatchOptions {
  std::string verb = "processed";  // for the summary line: "cut out 3 of 4 images"
  std::string output_dir = ".";
  io::EncodeOptions encode;  // encode.format also names the output files' extension
  int jobs = 1;
  // Encodes a step's result instead of io::EncodeImage(image, encode): for export, whose bytes
  // come out of its compliance gate. Must be thread-safe for jobs > 1.
  std::function<Result<std::string>(const Image&)> encoder;
};

// Per image: the work to do on a decoded image. Must be thread-safe for jobs > 1.
using ImageStep = std::function<Result<Image>(const Image&)>;

struct BatchReport {
  int succeeded = 0;
  int failed = 0;
  double seconds = 0;
};

// Decodes each input, runs `step`, writes DIR/<stem>.<ext> atomically (a second input with the
// same stem gets <stem>_2, ...). Progress goes to stderr (a live line on a terminal, one line per
// file otherwise); the summary goes to stdout.
BatchReport RunBatch(const std::vector<std::string>& inputs,
                     const std::vector<std::string>& missing, const LimitsConfig& limits,
                     const BatchOptions& options, const ImageStep& step);

// Per image, one result per variant, in the order of `variants`. Must be thread-safe.
using MultiImageStep = std::function<Result<std::vector<Image>>(const Image&)>;

// The same with several outputs per input (colour variants): DIR/<stem>_<variant>.<ext> for each
// of `variants` (an empty variant writes DIR/<stem>.<ext>). An input counts as done when all its
// outputs are written; a step returning the wrong number of images is an Internal error.
BatchReport RunBatch(const std::vector<std::string>& inputs,
                     const std::vector<std::string>& missing, const LimitsConfig& limits,
                     const BatchOptions& options, const std::vector<std::string>& variants,
                     const MultiImageStep& step);

}  // namespace vitrine::app
