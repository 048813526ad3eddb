// Segmenter: ISNet foreground probability through OpenCV DNN.
//
// What the model sees, with no editing: Predict() returns the probability that each pixel is
// foreground, at the net's input resolution (the caller upsamples and refines). The image is
// resized with area averaging to a fixed input shape (one shape per Segmenter, because an OpenCV
// 4.6 Net reused with another input size can silently return a wrong map), normalised as
// (v - 128) / 256 in RGB order, the way the packaged model expects.
//
// Predict() remembers its last few answers with the net view they came from: the same pixels
// asked again are answered from memory, bit for bit what the net returned, without running the
// net (remove_text's product mask of a photo it then leaves unchanged, and the cutout of that
// photo in the main job). Only identical pixels at the same size share an answer.
//
// Thread-safe: each concurrent Predict() borrows its own cv::dnn::Net from a pool, created on
// first need from the same model bytes, so nets are loaded once and never shared between threads;
// the remembered answers sit behind a mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
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

  // `bgr`: CV_8UC3, any size. Returns CV_32FC1 of input_size x input_size in [0, 1], owned by
  // the caller (never shared with the remembered copy).
  Result<cv::Mat> Predict(const cv::Mat& bgr) const;

  // How many times Predict() ran the net (answers from memory not counted): for tests and logs.
  int64_t net_runs() const { return net_runs_; }

  // `bgr` as the net sees it: resized to input_size x input_size (area averaging when shrinking).
  // Returns `bgr` itself (shared) when it already has that size.
  cv::Mat NetView(const cv::Mat& bgr) const;

  // Fills a 1x3xSxS blob from `bgr` (exposed for tests of the preprocessing).
  cv::Mat MakeBlob(const cv::Mat& bgr) const;

  int input_size() const { return options_.input_size; }

  // Answers remembered: the main job's two workers each ask for a photo's map in remove_text and
  // again in the cutout, with at most a framed second reading in between. Each holds the net
  // view and the map: about 5 MB at 832 px.
  static constexpr size_t kRemembered = 4;

 private:
  Segmenter(std::unique_ptr<NetPool> nets, Options options);

  struct Remembered {
    cv::Mat view;  // CV_8UC3 net view, a private copy
    cv::Mat prob;  // what the net returned for it
  };

  std::unique_ptr<NetPool> nets_;
  Options options_;
  mutable std::mutex memory_mutex_;
  mutable std::deque<Remembered> remembered_;  // the most recent first
  mutable std::atomic<int64_t> net_runs_{0};
};

}  // namespace vitrine::models
