// text_scope_explain: why each detected text region of a photo is overlay or product text.
//
//   build/text_scope_explain [--side N] [--dump DIR] IMAGE...
//
// For each image (optionally fitted into a long side of N px first, as text_scope_bench does):
// every detected region's box, recognised text and confidence, its share on ISNet's product
// mask (the full-size net, ops::TextProductMask), its drawn-over cues (ops::MeasureOverlayCues)
// and the decision ops::ClassifyAgainstProduct takes with its reason. With --dump, writes
// DIR/<stem>_regions.png: the photo with the product mask tinted green, overlay regions in red,
// product regions in blue, each numbered as printed.
#include <cstdio>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/runtime.h"
#include "ops/matting.h"
#include "ops/remove_text.h"
#include "ops/text_scope.h"

using namespace vitrine;

namespace {

// Share of `region` (image coordinates of `bgr`) on `product` (any size).
double ProductShare(const models::TextRegion& region, cv::Size image, const cv::Mat& product) {
  const double sx = static_cast<double>(product.cols) / image.width;
  const double sy = static_cast<double>(product.rows) / image.height;
  return ops::ShareIn(ops::Scaled(region, sx, sy, cv::Point2f(0, 0)), product);
}

int Explain(const std::string& path, int side, const std::string& dump, models::Runtime& runtime) {
  cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  if (bgr.empty()) {
    std::fprintf(stderr, "cannot read %s: give a JPEG, PNG or WebP file\n", path.c_str());
    return 1;
  }
  if (side > 0 && std::max(bgr.cols, bgr.rows) > side) {
    cv::resize(bgr, bgr, ops::FitLongSide(bgr.size(), side), 0, 0, cv::INTER_AREA);
  }
  Result<const models::TextDetector*> detector = runtime.text_detector();
  Result<const models::TextRecognizer*> recognizer = runtime.text_recognizer();
  Result<const models::Segmenter*> segmenter = runtime.segmenter();
  if (!detector.ok() || !recognizer.ok() || !segmenter.ok()) {
    std::fprintf(stderr, "models missing: run `vitrine models prepare`\n");
    return 1;
  }
  Result<models::TextDetector::Output> detected = (*detector)->RunPhoto(bgr);  // as RemoveText
  Result<std::vector<models::TextRegion>> regions =
      detected.ok() ? Result<std::vector<models::TextRegion>>(detected->regions)
                    : Result<std::vector<models::TextRegion>>(detected.status());
  Result<std::vector<models::RecognizedText>> texts =
      regions.ok() ? (*recognizer)->RecognizeAll(bgr, *regions)
                   : Result<std::vector<models::RecognizedText>>(regions.status());
  Result<cv::Mat> product = ops::TextProductMask(**segmenter, bgr);
  if (!texts.ok() || !product.ok()) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(),
                 (!texts.ok() ? texts.status() : product.status()).message().c_str());
    return 1;
  }
  std::vector<ops::TextFinding> findings(regions->size());
  for (size_t i = 0; i < findings.size(); ++i) {
    findings[i].text = (*texts)[i].text;
    findings[i].confidence = (*texts)[i].confidence;
  }
  Result<ops::ProductMaskUsed> used = ops::ClassifyAgainstProduct(
      bgr, *regions, true, ops::kDefaultScreenSegmentSize, runtime, &findings);
  if (!used.ok()) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), used.status().message().c_str());
    return 1;
  }
  // The product's silhouette: the mask with its holes filled.
  cv::Mat filled = product->clone();
  {
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(filled.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    cv::drawContours(filled, contours, -1, cv::Scalar(255), cv::FILLED);
  }
  std::printf("== %s (%dx%d, product %.0f%% of the image, %d regions)\n", path.c_str(), bgr.cols,
              bgr.rows, 100.0 * cv::countNonZero(*product) / product->total(),
              static_cast<int>(regions->size()));
  for (size_t i = 0; i < regions->size(); ++i) {
    const models::TextRegion& region = (*regions)[i];
    const ops::TextFinding& f = findings[i];
    const cv::Rect box = cv::boundingRect(region.polygon);
    const ops::OverlayCues cues = ops::MeasureOverlayCues(bgr, region);
    std::printf(
        "%2zu %4d,%4d %4dx%-4d h %5.1f '%s' conf %.2f det %.2f on product %3.0f%% (filled %3.0f%%) "
        "| thick %.2f beyond %.2f spread "
        "%4.1f C %3.0f h %4.0f rim %4.1f/%3.0f sharp %.2f/%.2f tilt %2.0f banner %4.2f "
        "shadow (%d,%d) %.2f/%.2f/%2.0f/%.2f %s\n   -> %s: %s\n",
        i, box.x, box.y, box.width, box.height, ops::LineHeight(region), f.text.c_str(),
        f.confidence, f.score, 100 * ProductShare(region, bgr.size(), *product),
        100 * ProductShare(region, bgr.size(), filled), cues.fill_thickness, cues.rim_beyond,
        cues.ink_spread, cues.chroma, cues.hue, cues.rim_spread, cues.rim_contrast, cues.sharpness,
        cues.product_sharpness, cues.tilt, cues.banner_spread, cues.shadow_direction.x,
        cues.shadow_direction.y, cues.shadow_glyph_share, cues.shadow_far_share,
        cues.shadow_contrast, cues.shadow_thickness, cues.Describe().c_str(),
        f.overlay ? "OVERLAY" : "product", f.why.c_str());
  }
  if (!dump.empty()) {
    cv::Mat sheet = bgr.clone(), mask;
    cv::resize(*product, mask, bgr.size(), 0, 0, cv::INTER_NEAREST);
    cv::Mat tint(bgr.size(), CV_8UC3, cv::Scalar(0, 255, 0));
    cv::Mat blended;
    cv::addWeighted(bgr, 0.7, tint, 0.3, 0, blended);
    blended.copyTo(sheet, mask);
    for (size_t i = 0; i < regions->size(); ++i) {
      std::vector<cv::Point> polygon;
      for (const cv::Point2f& p : (*regions)[i].polygon) polygon.push_back(p);
      const cv::Scalar colour = findings[i].overlay ? cv::Scalar(0, 0, 255) : cv::Scalar(255, 0, 0);
      cv::polylines(sheet, std::vector<std::vector<cv::Point>>{polygon}, true, colour, 2);
      cv::putText(sheet, std::to_string(i), polygon[0], cv::FONT_HERSHEY_SIMPLEX, 0.6, colour, 2);
    }
    std::filesystem::create_directories(dump);
    cv::imwrite(dump + "/" + std::filesystem::path(path).stem().string() + "_regions.png", sheet);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int side = 0;
  std::string dump;
  std::vector<std::string> images;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--side" && i + 1 < argc) {
      side = std::atoi(argv[++i]);
    } else if (arg == "--dump" && i + 1 < argc) {
      dump = argv[++i];
    } else {
      images.push_back(arg);
    }
  }
  if (images.empty()) {
    std::fprintf(stderr, "usage: text_scope_explain [--side N] [--dump DIR] IMAGE...\n");
    return 2;
  }
  Result<Config> config = LoadConfig();
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return 1;
  }
  models::Runtime runtime(*config);
  int failed = 0;
  for (const std::string& path : images) failed += Explain(path, side, dump, runtime) != 0;
  return failed ? 1 : 0;
}
