#include "models/net_pool.h"

#include <fstream>
#include <iterator>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "models/fast_conv.h"

namespace vitrine::models {

NetPool::Lease::~Lease() {
  if (net_) pool_->Return(std::move(net_), std::move(shape_));
}

Result<std::unique_ptr<NetPool>> NetPool::Load(const std::string& onnx_path,
                                               std::string model_label, bool fast_conv) {
  std::ifstream in(onnx_path, std::ios::binary);
  if (!in) return NotFound("cannot read model " + onnx_path + "; run `vitrine models prepare`");
  std::vector<uchar> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::unique_ptr<NetPool> pool(new NetPool(std::move(bytes), std::move(model_label), fast_conv));
  ASSIGN_OR_RETURN(Lease first, pool->Borrow());
  return pool;
}

Result<NetPool::Lease> NetPool::Borrow() const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<cv::dnn::Net> net = std::move(idle_.back().net);
      idle_.pop_back();
      return Lease(this, std::move(net));
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<cv::dnn::Net> net, Make());
  return Lease(this, std::move(net));
}

Result<NetPool::Lease> NetPool::Borrow(const cv::dnn::MatShape& shape) const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // The latest returned first: the net that ran this shape last.
    for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
      if (it->shape != shape) continue;
      std::unique_ptr<cv::dnn::Net> net = std::move(it->net);
      idle_.erase(std::next(it).base());
      return Lease(this, std::move(net), shape);
    }
    // A net of unknown shape (Load's, Reserve's, Borrow()'s) before a new one.
    for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
      if (!it->shape.empty()) continue;
      std::unique_ptr<cv::dnn::Net> net = std::move(it->net);
      idle_.erase(std::next(it).base());
      return Lease(this, std::move(net), shape);
    }
    if (!idle_.empty() && made_ >= kShapeNets) {
      std::unique_ptr<cv::dnn::Net> net = std::move(idle_.back().net);
      idle_.pop_back();
      return Lease(this, std::move(net), shape);
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<cv::dnn::Net> net, Make());
  return Lease(this, std::move(net), shape);
}

Result<std::unique_ptr<cv::dnn::Net>> NetPool::Make() const {
  try {
    // Every net gets the exact element-wise layer (same bits as OpenCV's, less time).
    ExactEltwiseScope eltwise;
    std::optional<FastConvScope> scope;
    if (fast_conv_) scope.emplace();
    auto net = std::make_unique<cv::dnn::Net>(cv::dnn::readNetFromONNX(bytes_));
    net->setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net->setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    // OpenCV makes a layer on first use: make them all now, inside the scopes.
    for (const cv::String& name : net->getLayerNames()) net->getLayer(name);
    std::lock_guard<std::mutex> lock(mutex_);
    ++made_;
    return net;
  } catch (const cv::Exception& e) {
    return ModelFailure("OpenCV cannot load the " + label_ + " model: " + e.what() +
                        "; run `vitrine models prepare` again");
  }
}

Status NetPool::Reserve(int count) const {
  std::vector<Lease> leases;
  for (int i = 0; i < count; ++i) {
    ASSIGN_OR_RETURN(Lease lease, Borrow());
    leases.push_back(std::move(lease));
  }
  return Status::Ok();
}

void NetPool::Return(std::unique_ptr<cv::dnn::Net> net, cv::dnn::MatShape shape) const {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_.push_back({std::move(net), std::move(shape)});
}

Result<cv::Mat> RunNet(cv::dnn::Net& net, const cv::Mat& blob, const std::string& label) {
  try {
    net.setInput(blob);
    return net.forward();
  } catch (const cv::Exception& e) {
    return ModelFailure(label + " inference failed: " + e.what());
  }
}

Result<cv::Mat> NetInputBgr(const cv::Mat& image, const std::string& task) {
  if (image.empty()) return InvalidArgument(task + " needs a non-empty image");
  if (image.type() == CV_8UC3) return image;
  if (image.type() != CV_8UC1 && image.type() != CV_8UC4) {
    return InvalidArgument(task + " needs an 8-bit grey, BGR or BGRA image; convert it first");
  }
  cv::Mat bgr;
  cv::cvtColor(image, bgr, image.channels() == 1 ? cv::COLOR_GRAY2BGR : cv::COLOR_BGRA2BGR);
  return bgr;
}

}  // namespace vitrine::models
