#include "models/text_recognizer.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

namespace vitrine::models {
namespace {

// Columns where a 48 px high line may be cut: cut points for pieces of at most `width`, each at
// the column with the least horizontal gradient (a gap between characters) in the last 40% of
// the piece.
std::vector<int> CutColumns(const cv::Mat& line_bgr, int width) {
  cv::Mat grey, dx;
  cv::cvtColor(line_bgr, grey, cv::COLOR_BGR2GRAY);
  cv::Sobel(grey, dx, CV_32F, 1, 0);
  cv::Mat profile;
  cv::reduce(cv::abs(dx), profile, 0, cv::REDUCE_SUM, CV_32F);
  cv::blur(profile, profile, {3, 1});
  std::vector<int> cuts;
  int start = 0;
  while (line_bgr.cols - start > width) {
    const int from = start + width * 3 / 5, to = start + width;
    cv::Point best;
    cv::minMaxLoc(profile.colRange(from, to), nullptr, nullptr, &best, nullptr);
    start = from + best.x;
    cuts.push_back(start);
  }
  return cuts;
}

}  // namespace

std::vector<int> CtcKeptSteps(const std::vector<int>& classes) {
  std::vector<int> kept;
  for (size_t t = 0; t < classes.size(); ++t) {
    if (classes[t] == 0) continue;
    if (t > 0 && classes[t] == classes[t - 1]) continue;
    kept.push_back(static_cast<int>(t));
  }
  return kept;
}

Result<std::unique_ptr<TextRecognizer>> TextRecognizer::Load(const std::string& onnx_path,
                                                             const std::string& keys_path) {
  std::ifstream in(keys_path);
  if (!in) {
    return NotFound("cannot read the recognition dictionary " + keys_path +
                    "; run `vitrine models prepare`");
  }
  std::vector<std::string> symbols{""};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    symbols.push_back(line);
  }
  symbols.push_back(" ");
  // FastConv layers for its 5x5 depthwise convolutions, which OpenCV 4.6 runs slowly
  // (models/fast_conv.h): a line is read in about 30% less time.
  ASSIGN_OR_RETURN(std::unique_ptr<NetPool> nets,
                   NetPool::Load(onnx_path, "PP-OCRv4 recognition", /*fast_conv=*/true));
  std::unique_ptr<TextRecognizer> recognizer(
      new TextRecognizer(std::move(nets), std::move(symbols)));
  // One blank line now, so a dictionary that does not match the model fails here.
  std::vector<int> classes;
  std::vector<float> probabilities;
  RETURN_IF_ERROR(
      recognizer->ReadPiece(cv::Mat(kInputHeight, kInputWidth / 4, CV_8UC3, cv::Scalar::all(255)),
                            &classes, &probabilities));
  return recognizer;
}

Status TextRecognizer::ReadPiece(const cv::Mat& piece, std::vector<int>* classes,
                                 std::vector<float>* probabilities) const {
  CV_Assert(piece.type() == CV_8UC3 && piece.rows == kInputHeight && piece.cols <= kInputWidth);
  // Padding is 0 after normalisation, as PaddleOCR pads.
  cv::Mat input(kInputHeight, kInputWidth, CV_32FC3, cv::Scalar::all(0));
  piece.convertTo(input(cv::Rect(0, 0, piece.cols, kInputHeight)), CV_32FC3, 2.0 / 255.0, -1.0);
  ASSIGN_OR_RETURN(NetPool::Lease lease, nets_->Borrow());
  ASSIGN_OR_RETURN(cv::Mat out, RunNet(lease.net(), cv::dnn::blobFromImage(input), nets_->label()));
  if (out.dims != 3 || out.size[2] != static_cast<int>(symbols_.size())) {
    return ModelFailure("PP-OCRv4 recognition returned " +
                        std::to_string(out.dims == 3 ? out.size[2] : 0) +
                        " classes but the dictionary has " + std::to_string(symbols_.size()) +
                        " (with blank and space); run `vitrine models prepare` again");
  }
  const cv::Mat steps(out.size[1], out.size[2], CV_32FC1, out.ptr<float>());
  for (int t = 0; t < steps.rows; ++t) {
    double best_p = 0;
    cv::Point best;
    cv::minMaxLoc(steps.row(t), nullptr, &best_p, nullptr, &best);
    classes->push_back(best.x);
    probabilities->push_back(static_cast<float>(best_p));
  }
  return Status::Ok();
}

Result<RecognizedText> TextRecognizer::RecognizeLine(const cv::Mat& image) const {
  ASSIGN_OR_RETURN(const cv::Mat line, NetInputBgr(image, "text recognition"));
  const double aspect = static_cast<double>(line.cols) / line.rows;
  const int width = std::max(1, static_cast<int>(std::ceil(kInputHeight * aspect)));
  cv::Mat scaled;
  const int fitted = width <= kInputWidth * kMaxSqueeze ? std::min(width, kInputWidth)
                                                        : std::min(width, kInputWidth * kMaxPieces);
  cv::resize(line, scaled, {fitted, kInputHeight}, 0, 0,
             line.rows > kInputHeight ? cv::INTER_AREA : cv::INTER_LINEAR);

  std::vector<int> cuts = CutColumns(scaled, kInputWidth);
  cuts.push_back(scaled.cols);
  std::vector<int> classes;
  std::vector<float> probabilities;
  int start = 0;
  for (int cut : cuts) {
    // A blank between pieces, so a symbol ending one piece and starting the next counts twice
    // only if it was written twice.
    if (start > 0) {
      classes.push_back(0);
      probabilities.push_back(1);
    }
    RETURN_IF_ERROR(ReadPiece(scaled.colRange(start, cut), &classes, &probabilities));
    start = cut;
  }

  RecognizedText out;
  double sum = 0;
  const std::vector<int> kept = CtcKeptSteps(classes);
  for (int t : kept) {
    out.text += symbols_[classes[t]];
    sum += probabilities[t];
  }
  out.confidence = kept.empty() ? 0.0f : static_cast<float>(sum / kept.size());
  return out;
}

cv::Mat TextRecognizer::UprightCrop(const cv::Mat& bgr, const TextRegion& region) {
  cv::Point2f corners[4];
  region.box.points(corners);
  cv::Point2f along = corners[1] - corners[0], across = corners[2] - corners[1];
  if (cv::norm(across) > cv::norm(along)) std::swap(along, across);
  const float length = static_cast<float>(cv::norm(along));
  const float height = static_cast<float>(cv::norm(across));
  if (length < 1 || height < 1) return {};
  cv::Point2f u = along / length;
  // Reading direction: left to right for lines closer to horizontal, top to bottom otherwise.
  if (std::abs(u.x) >= std::abs(u.y) ? u.x < 0 : u.y < 0) u = -u;
  const cv::Point2f v(-u.y, u.x);  // from the top of the glyphs to their bottom
  const cv::Point2f c = region.box.center;
  const cv::Point2f src[4] = {
      c - u * length / 2 - v * height / 2, c + u * length / 2 - v * height / 2,
      c + u * length / 2 + v * height / 2, c - u * length / 2 + v * height / 2};
  const cv::Size size(static_cast<int>(std::ceil(length)), static_cast<int>(std::ceil(height)));
  const cv::Point2f dst[4] = {{0, 0},
                              {static_cast<float>(size.width), 0},
                              {static_cast<float>(size.width), static_cast<float>(size.height)},
                              {0, static_cast<float>(size.height)}};
  cv::Mat crop;
  cv::warpPerspective(bgr, crop, cv::getPerspectiveTransform(src, dst), size, cv::INTER_CUBIC,
                      cv::BORDER_REPLICATE);
  return crop;
}

Result<RecognizedText> TextRecognizer::Recognize(const cv::Mat& image,
                                                 const TextRegion& region) const {
  ASSIGN_OR_RETURN(const cv::Mat bgr, NetInputBgr(image, "text recognition"));
  const cv::Mat crop = UprightCrop(bgr, region);
  if (crop.empty()) return RecognizedText{};
  return RecognizeLine(crop);
}

Result<std::vector<RecognizedText>> TextRecognizer::RecognizeAll(
    const cv::Mat& image, const std::vector<TextRegion>& regions) const {
  ASSIGN_OR_RETURN(const cv::Mat bgr, NetInputBgr(image, "text recognition"));
  // Lines are read in parallel, one net each: the net is small for a 48x320 input, so two lines
  // at once use the cores better than one line spread over them. Each result lands in its own
  // slot, so the output is the same for any thread count.
  std::vector<Result<RecognizedText>> read(regions.size(), RecognizedText{});
  cv::parallel_for_(cv::Range(0, static_cast<int>(regions.size())), [&](const cv::Range& range) {
    for (int i = range.start; i < range.end; ++i) {
      try {
        read[i] = Recognize(bgr, regions[i]);
      } catch (const cv::Exception& e) {  // must not leave the thread pool's worker
        read[i] = Internal(std::string("text recognition: OpenCV failed: ") + e.what());
      }
    }
  });
  std::vector<RecognizedText> out;
  out.reserve(regions.size());
  for (Result<RecognizedText>& text : read) {
    if (!text.ok()) return text.status();
    out.push_back(std::move(text).value());
  }
  return out;
}

}  // namespace vitrine::models
