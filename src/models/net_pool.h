// NetPool: per-thread OpenCV DNN nets of one model, loaded from the same bytes on demand.
//
// A cv::dnn::Net is not safe to run from two threads at once, and loading one costs time and
// memory, so each concurrent inference borrows its own net from the pool and gives it back when
// done (Lease does that on scope exit). The model file is read once; a new net is parsed from
// those bytes when every existing net is busy, and, for callers that name their input shape, for
// a new shape while the pool holds fewer than kShapeNets nets; so the pool holds as many nets as
// there were concurrent callers at the peak, or kShapeNets.
//
// Thread-safe. Errors: NotFound (naming `vitrine models prepare`) if the file cannot be read;
// ModelFailure if OpenCV cannot parse it.
#pragma once

#include <memory>
#include <mutex>
#include <opencv2/dnn.hpp>
#include <opencv2/dnn/shape_utils.hpp>
#include <string>
#include <vector>

#include "core/status.h"

namespace vitrine::models {

class NetPool {
 public:
  // A borrowed net; returns it to the pool when destroyed. Must not outlive the pool.
  class Lease {
   public:
    Lease(const NetPool* pool, std::unique_ptr<cv::dnn::Net> net, cv::dnn::MatShape shape = {})
        : pool_(pool), net_(std::move(net)), shape_(std::move(shape)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    cv::dnn::Net& net() { return *net_; }

   private:
    const NetPool* pool_;
    std::unique_ptr<cv::dnn::Net> net_;
    cv::dnn::MatShape shape_;  // the input shape the net is run on; empty: unknown
  };

  // Reads `onnx_path` and parses one net now, so a broken model fails here. `model_label`
  // ("ISNet", "PP-OCRv4 detection") names the model in error messages. With `fast_conv`, the
  // nets' 3x3 convolutions run as FastConv layers where eligible (models/fast_conv.h). Every
  // net's element-wise products and sums run as ExactEltwiseScope's layers (the same bits).
  static Result<std::unique_ptr<NetPool>> Load(const std::string& onnx_path,
                                               std::string model_label, bool fast_conv = false);

  // An idle net, or a new one when all are busy.
  Result<Lease> Borrow() const;

  // For an input of `shape` (the caller runs the net on that shape only): an idle net last run
  // on that shape, else one that never ran, else a new one while the pool holds fewer than
  // kShapeNets nets, else as Borrow(). OpenCV 4.6 sets a net up again whenever its input shape
  // changes (PP-OCRv4 detection: ~35 CPU-ms, a fifth of a forward at 800x608); remove_text
  // alternates the photo's, the chroma view's and the verify windows' shapes on one detector. Same
  // bits either way.
  Result<Lease> Borrow(const cv::dnn::MatShape& shape) const;

  // Nets a pool makes for new input shapes before it reshapes idle ones.
  static constexpr int kShapeNets = 3;

  // Makes sure `count` nets exist, so that many threads can start without loading one.
  Status Reserve(int count) const;

  const std::string& label() const { return label_; }

 private:
  NetPool(std::vector<uchar> bytes, std::string label, bool fast_conv)
      : bytes_(std::move(bytes)), label_(std::move(label)), fast_conv_(fast_conv) {}
  void Return(std::unique_ptr<cv::dnn::Net> net, cv::dnn::MatShape shape) const;
  // A new net parsed from `bytes_` (counted in made_).
  Result<std::unique_ptr<cv::dnn::Net>> Make() const;

  std::vector<uchar> bytes_;
  std::string label_;
  bool fast_conv_;
  mutable std::mutex mutex_;
  struct Idle {
    std::unique_ptr<cv::dnn::Net> net;
    cv::dnn::MatShape shape;  // of its last input; empty: unknown
  };
  mutable std::vector<Idle> idle_;
  mutable int made_ = 0;  // nets parsed so far
};

// Runs `net` on `blob` and returns its first output; OpenCV errors become ModelFailure naming
// `label`.
Result<cv::Mat> RunNet(cv::dnn::Net& net, const cv::Mat& blob, const std::string& label);

// `image` as the 8-bit BGR a net is fed: shared when already CV_8UC3, converted from CV_8UC1 or
// CV_8UC4. InvalidArgument naming `task` ("text detection") for an empty image or another type.
Result<cv::Mat> NetInputBgr(const cv::Mat& image, const std::string& task);

}  // namespace vitrine::models
