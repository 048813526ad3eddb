// TextRecognizer: what a detected text line says, with PP-OCRv4 recognition (CTC) through
// OpenCV DNN.
//
// What the model sees, with no editing. Each region is cut out upright with a perspective warp of
// its rotated rectangle (the long side is the reading direction; a region taller than wide is
// read top to bottom, as rotated Latin text or a vertical CJK column is), scaled to 48 px high
// keeping its aspect ratio and right-padded to the net's fixed 320 px width. Lines up to
// kMaxSqueeze times too long are squeezed to fit; longer ones are split at the quietest column
// (a gap between characters) near each 320 px boundary, read piece by piece and joined (at most
// kMaxPieces pieces; a still longer line is squeezed to that length).
// Pixels go in as PaddleOCR feeds them: BGR, (v / 255 - 0.5) / 0.5. Greedy CTC decoding: the
// best class per time step, repeats collapsed, blanks dropped; confidence is the mean best
// probability of the kept steps.
//
// Not handled: text upside down (180°) reads as garbage with low confidence (PP-OCR's angle
// classifier is not among the packaged models).
//
// Thread-safe: const methods may run from many threads; each inference borrows its own net.
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "models/net_pool.h"
#include "models/text_detector.h"

namespace vitrine::models {

struct RecognizedText {
  std::string text;      // UTF-8; empty when nothing was read
  float confidence = 0;  // mean per-character probability in [0, 1]; 0 when text is empty
};

class TextRecognizer {
 public:
  static constexpr int kInputHeight = 48;
  static constexpr int kInputWidth = 320;
  static constexpr double kMaxSqueeze = 1.3;
  static constexpr int kMaxPieces = 8;

  // Reads the prepared model (ModelCatalog::PreparedPath("ppocr_rec")) and the dictionary
  // ("ppocr_keys"). NotFound if a file is missing (naming `vitrine models prepare`);
  // ModelFailure if OpenCV cannot load the model or the dictionary does not match its classes.
  static Result<std::unique_ptr<TextRecognizer>> Load(const std::string& onnx_path,
                                                      const std::string& keys_path);

  // Reads the text inside `region` of `image` (CV_8UC1, CV_8UC3 or CV_8UC4, the image the region
  // was detected on). InvalidArgument for an empty image or another type; ModelFailure if
  // inference fails. Parts of a region outside the image read the border pixels, replicated.
  Result<RecognizedText> Recognize(const cv::Mat& image, const TextRegion& region) const;

  // Recognize() for each region, in order.
  Result<std::vector<RecognizedText>> RecognizeAll(const cv::Mat& image,
                                                   const std::vector<TextRegion>& regions) const;

  // Reads an already upright line image (text left to right, any size).
  Result<RecognizedText> RecognizeLine(const cv::Mat& line) const;

  // The upright crop Recognize() reads for `region` (CV_8UC3; empty if degenerate). For tests
  // and reports.
  static cv::Mat UprightCrop(const cv::Mat& bgr, const TextRegion& region);

  // Number of symbols in the dictionary (without the blank and the trailing space).
  size_t dictionary_size() const { return symbols_.size() - 2; }

 private:
  TextRecognizer(std::unique_ptr<NetPool> nets, std::vector<std::string> symbols)
      : nets_(std::move(nets)), symbols_(std::move(symbols)) {}
  // One ≤ 320 px wide, 48 px high BGR piece: per-step best class and its probability.
  Status ReadPiece(const cv::Mat& piece, std::vector<int>* classes,
                   std::vector<float>* probabilities) const;

  std::unique_ptr<NetPool> nets_;
  std::vector<std::string> symbols_;  // index = class; 0 is the blank, the last is " "
};

// Greedy CTC decoding of per-step classes (0 = blank) into symbol indices: repeats collapsed,
// blanks dropped. Returns the indices of the steps kept. Pure.
std::vector<int> CtcKeptSteps(const std::vector<int>& classes);

}  // namespace vitrine::models
