#include "models/segmenter.h"

#include <algorithm>
#include <cstring>
#include <opencv2/imgproc.hpp>

namespace vitrine::models {
namespace {

// Whether `a` and `b` hold the same pixels (size, type and every byte).
bool SamePixels(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return false;
  const size_t row_bytes = a.cols * a.elemSize();
  for (int y = 0; y < a.rows; ++y) {
    if (std::memcmp(a.ptr(y), b.ptr(y), row_bytes) != 0) return false;
  }
  return true;
}

}  // namespace

Segmenter::Segmenter(std::unique_ptr<NetPool> nets, Options options)
    : nets_(std::move(nets)), options_(options) {}

Segmenter::~Segmenter() = default;

Result<std::unique_ptr<Segmenter>> Segmenter::Load(const std::string& onnx_path, Options options) {
  if (options.input_size < 64 || options.input_size % 32 != 0) {
    return InvalidArgument("segmenter input size " + std::to_string(options.input_size) +
                           " must be a multiple of 32, at least 64");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<NetPool> nets,
                   NetPool::Load(onnx_path, "ISNet", options.fast_conv));
  return std::unique_ptr<Segmenter>(new Segmenter(std::move(nets), options));
}

Status Segmenter::Reserve(int count) const { return nets_->Reserve(count); }

cv::Mat Segmenter::NetView(const cv::Mat& bgr) const {
  const int size = options_.input_size;
  if (bgr.cols == size && bgr.rows == size) return bgr;
  cv::Mat resized;
  bool shrinking = bgr.cols >= size && bgr.rows >= size;
  cv::resize(bgr, resized, cv::Size(size, size), 0, 0,
             shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  return resized;
}

cv::Mat Segmenter::MakeBlob(const cv::Mat& bgr) const {
  // (v - 128) / 256 per channel, RGB planes.
  return cv::dnn::blobFromImage(NetView(bgr), 1.0 / 256.0, cv::Size(), cv::Scalar(128, 128, 128),
                                /*swapRB=*/true, /*crop=*/false, CV_32F);
}

Result<cv::Mat> Segmenter::Predict(const cv::Mat& bgr) const {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    return InvalidArgument("segmenter needs a non-empty 8-bit BGR image");
  }
  const cv::Mat view = NetView(bgr);
  {
    std::lock_guard<std::mutex> lock(memory_mutex_);
    for (auto it = remembered_.begin(); it != remembered_.end(); ++it) {
      if (!SamePixels(it->view, view)) continue;
      cv::Mat prob = it->prob.clone();
      std::rotate(remembered_.begin(), it, it + 1);
      return prob;
    }
  }
  ASSIGN_OR_RETURN(NetPool::Lease lease, nets_->Borrow());
  ASSIGN_OR_RETURN(cv::Mat out, RunNet(lease.net(), MakeBlob(view), nets_->label()));
  ++net_runs_;
  const int size = options_.input_size;
  if (out.total() != static_cast<size_t>(size) * size) {
    return ModelFailure("ISNet returned " + std::to_string(out.total()) + " values, expected " +
                        std::to_string(size * size));
  }
  cv::Mat prob(size, size, CV_32FC1, out.ptr<float>());
  cv::Mat clamped = cv::max(cv::min(prob, 1.0), 0.0);
  std::lock_guard<std::mutex> lock(memory_mutex_);
  remembered_.push_front({view.clone(), clamped.clone()});
  if (remembered_.size() > kRemembered) remembered_.pop_back();
  return clamped;
}

}  // namespace vitrine::models
