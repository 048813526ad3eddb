// Segmenter: ISNet foreground probability through OpenCV DNN.
//
// What the model sees, with no editing: Predict() returns the probability that each pixel is
// foreground, at the net's input resolution (the caller upsamples and refines). The image is
// resized with area averaging to a fixed input shape (one shape per Segmenter, because an OpenCV
// 4.6 Net reused with another input size can silently return a wrong map), normalised as
// (v - 128) / 256 in RGB order, the way the packaged model expects.
//
// Thread-safe: each concurrent Predict() borrows its own cv::dnn::Net from a pool, created on
// first need from the same model bytes, so nets are loaded once and never shared between threads.
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <string>

#include "core/status.h"
#include "models/net_pool.h"

namespace vitrine::models {

class Segmenter {
 public:
  struct Options {
    int input_size = 1024;  // square net input, multiple of 32
    // 3x3 convolutions by Winograd's algorithm (models/fast_conv.h): about 2x faster than
    // OpenCV's, the same probabilities within float rounding.
    bool fast_conv = true;
  };

  // Reads the prepared model (see ModelCatalog::PreparedPath("isnet")); ModelFailure if OpenCV
  // cannot load it.
  static Result<std::unique_ptr<Segmenter>> Load(const std::string& onnx_path, Options options);
  ~Segmenter();

  // Makes sure `count` nets are ready, so that many threads can start predicting without
  // loading one first. ModelFailure if a net cannot be created.
  Status Reserve(int count) const;

  // `bgr`: CV_8UC3, any size. Returns CV_32FC1 of input_size x input_size in [0, 1].
  Result<cv::Mat> Predict(const cv::Mat& bgr) const;

  // `bgr` as the net sees it: resized to input_size x input_size (area averaging when shrinking).
  // Returns `bgr` itself (shared) when it already has that size.
  cv::Mat NetView(const cv::Mat& bgr) const;

  // Fills a 1x3xSxS blob from `bgr` (exposed for tests of the preprocessing).
  cv::Mat MakeBlob(const cv::Mat& bgr) const;

  int input_size() const { return options_.input_size; }

 private:
  Segmenter(std::unique_ptr<NetPool> nets, Options options);

  std::unique_ptr<NetPool> nets_;
  Options options_;
};

}  // namespace vitrine::models
