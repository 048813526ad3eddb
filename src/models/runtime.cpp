#include "models/runtime.h"

namespace vitrine::models {

Runtime::Runtime(const Config& config) : config_(config.models), catalog_(config.models) {}

Result<const Segmenter*> Runtime::segmenter() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (segmenter_) return static_cast<const Segmenter*>(segmenter_.get());
  if (!segmenter_status_.ok()) return segmenter_status_;
  Result<std::string> path = catalog_.PreparedPath("isnet");
  if (!path.ok()) {
    segmenter_status_ = path.status();
    return segmenter_status_;
  }
  Result<std::unique_ptr<Segmenter>> loaded = Segmenter::Load(*path, Segmenter::Options{});
  if (!loaded.ok()) {
    segmenter_status_ = loaded.status();
    return segmenter_status_;
  }
  segmenter_ = std::move(loaded).value();
  return static_cast<const Segmenter*>(segmenter_.get());
}

}  // namespace vitrine::models
