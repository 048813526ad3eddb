#include "models/segmenter.h"

#include <fstream>
#include <iterator>
#include <opencv2/imgproc.hpp>

namespace vitrine::models {

Segmenter::Segmenter(std::vector<uchar> model_bytes, Options options)
    : model_bytes_(std::move(model_bytes)), options_(options) {}

Segmenter::~Segmenter() = default;

Result<std::unique_ptr<Segmenter>> Segmenter::Load(const std::string& onnx_path, Options options) {
  if (options.input_size < 64 || options.input_size % 32 != 0) {
    return InvalidArgument("segmenter input size " + std::to_string(options.input_size) +
                           " must be a multiple of 32, at least 64");
  }
  std::ifstream in(onnx_path, std::ios::binary);
  if (!in) return NotFound("cannot read model " + onnx_path + "; run `vitrine models prepare`");
  std::vector<uchar> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::unique_ptr<Segmenter> segmenter(new Segmenter(std::move(bytes), options));
  // Load one net now so a broken model fails here, not on the first image.
  ASSIGN_OR_RETURN(std::unique_ptr<cv::dnn::Net> net, segmenter->Borrow());
  segmenter->Return(std::move(net));
  return segmenter;
}

Result<std::unique_ptr<cv::dnn::Net>> Segmenter::Borrow() const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<cv::dnn::Net> net = std::move(idle_.back());
      idle_.pop_back();
      return net;
    }
  }
  try {
    auto net = std::make_unique<cv::dnn::Net>(cv::dnn::readNetFromONNX(model_bytes_));
    net->setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net->setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return net;
  } catch (const cv::Exception& e) {
    return ModelFailure(std::string("OpenCV cannot load the ISNet model: ") + e.what() +
                        "; run `vitrine models prepare` again");
  }
}

Status Segmenter::Reserve(int count) const {
  std::vector<std::unique_ptr<cv::dnn::Net>> nets;
  for (int i = 0; i < count; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<cv::dnn::Net> net, Borrow());
    nets.push_back(std::move(net));
  }
  for (auto& net : nets) Return(std::move(net));
  return Status::Ok();
}

void Segmenter::Return(std::unique_ptr<cv::dnn::Net> net) const {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_.push_back(std::move(net));
}

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
  ASSIGN_OR_RETURN(std::unique_ptr<cv::dnn::Net> net, Borrow());
  cv::Mat blob = MakeBlob(bgr);
  cv::Mat out;
  try {
    net->setInput(blob);
    out = net->forward();
  } catch (const cv::Exception& e) {
    Return(std::move(net));
    return ModelFailure(std::string("ISNet inference failed: ") + e.what());
  }
  Return(std::move(net));
  const int size = options_.input_size;
  if (out.total() != static_cast<size_t>(size) * size) {
    return ModelFailure("ISNet returned " + std::to_string(out.total()) + " values, expected " +
                        std::to_string(size * size));
  }
  cv::Mat prob(size, size, CV_32FC1, out.ptr<float>());
  cv::Mat clamped = cv::max(cv::min(prob, 1.0), 0.0);
  return clamped;
}

}  // namespace vitrine::models
