#include "models/runtime.h"

namespace vitrine::models {

Runtime::Runtime(const Config& config) : config_(config.models), catalog_(config.models) {}

Result<const Segmenter*> Runtime::segmenter() { return segmenter(config_.segment_size); }

Result<const Segmenter*> Runtime::segmenter(int size) {
  if (size < 256 || size > 2048 || size % 64 != 0) {
    return InvalidArgument("ISNet input size " + std::to_string(size) +
                           " is out of range: use a multiple of 64 from 256 to 2048");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto found = segmenters_.find(size); found != segmenters_.end()) {
    return static_cast<const Segmenter*>(found->second.get());
  }
  if (auto failed = segmenter_status_.find(size); failed != segmenter_status_.end()) {
    return failed->second;
  }
  Result<std::string> path = size == kDefaultSegmentSize
                                 ? catalog_.PreparedPath("isnet")
                                 : catalog_.PrepareVariant("isnet", {1, 3, size, size});
  if (!path.ok()) return segmenter_status_[size] = path.status();
  Result<std::unique_ptr<Segmenter>> loaded = Segmenter::Load(*path, Segmenter::Options{size});
  if (!loaded.ok()) return segmenter_status_[size] = loaded.status();
  const Segmenter* segmenter = loaded->get();
  segmenters_[size] = std::move(loaded).value();
  return segmenter;
}

int Runtime::loaded_segmenters() {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(segmenters_.size());
}

template <typename T, typename Load>
Result<const T*> Runtime::LoadOnce(std::unique_ptr<T>* slot, Status* status, Load load) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (*slot) return static_cast<const T*>(slot->get());
  if (!status->ok()) return *status;
  Result<std::unique_ptr<T>> loaded = load();
  if (!loaded.ok()) {
    *status = loaded.status();
    return *status;
  }
  *slot = std::move(loaded).value();
  return static_cast<const T*>(slot->get());
}

Result<const TextDetector*> Runtime::text_detector() {
  return LoadOnce(&text_detector_, &text_detector_status_,
                  [this]() -> Result<std::unique_ptr<TextDetector>> {
                    ASSIGN_OR_RETURN(std::string path, catalog_.PreparedPath("ppocr_det"));
                    return TextDetector::Load(path);
                  });
}

Result<const TextRecognizer*> Runtime::text_recognizer() {
  return LoadOnce(&text_recognizer_, &text_recognizer_status_,
                  [this]() -> Result<std::unique_ptr<TextRecognizer>> {
                    ASSIGN_OR_RETURN(std::string model, catalog_.PreparedPath("ppocr_rec"));
                    ASSIGN_OR_RETURN(std::string keys, catalog_.PreparedPath("ppocr_keys"));
                    return TextRecognizer::Load(model, keys);
                  });
}

}  // namespace vitrine::models
