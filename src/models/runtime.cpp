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

}  // namespace vitrine::models
