#include "models/runtime.h"

namespace vitrine::models {

Runtime::Runtime(const Config& config) : config_(config.models), catalog_(config.models) {}

Result<const Segmenter*> Runtime::segmenter() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (segmenter_) return static_cast<const Segmenter*>(segmenter_.get());
  if (!segmenter_status_.ok()) return segmenter_status_;
  const int size = config_.segment_size;
  Result<std::string> path = size == kDefaultSegmentSize
                                 ? catalog_.PreparedPath("isnet")
                                 : catalog_.PrepareVariant("isnet", {1, 3, size, size});
  if (!path.ok()) {
    segmenter_status_ = path.status();
    return segmenter_status_;
  }
  Result<std::unique_ptr<Segmenter>> loaded = Segmenter::Load(*path, Segmenter::Options{size});
  if (!loaded.ok()) {
    segmenter_status_ = loaded.status();
    return segmenter_status_;
  }
  segmenter_ = std::move(loaded).value();
  return static_cast<const Segmenter*>(segmenter_.get());
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
