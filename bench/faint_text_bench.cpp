// faint_text_bench: can faint (30–40 %) light watermarks over pale, busy photos be found by
// running the detector on an enhanced copy, and what does that cost in false regions on clean
// photos? bench/README.md "Faint watermarks".
//
//   build/faint_text_bench PHOTO...
//
// Each photo (long side 800) gets a tiled watermark (white and light grey, 30 % and 40 %, 25°),
// and the detector runs on the photo as it is and on enhanced copies (CLAHE on L; white top-hat
// added to L). Per variant: share of the watermark's visible glyph pixels inside detected
// regions (recall), and regions found on the clean photo (false positives).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/runtime.h"
#include "tests/text_render.h"

using namespace vitrine;

namespace {

cv::Mat Clahe(const cv::Mat& bgr, double clip) {
  cv::Mat lab;
  cv::cvtColor(bgr, lab, cv::COLOR_BGR2Lab);
  std::vector<cv::Mat> planes;
  cv::split(lab, planes);
  cv::createCLAHE(clip, {8, 8})->apply(planes[0], planes[0]);
  cv::merge(planes, lab);
  cv::Mat out;
  cv::cvtColor(lab, out, cv::COLOR_Lab2BGR);
  return out;
}

// Light strokes stand out: L plus `gain` × its white top-hat (structures thinner than `size`).
cv::Mat TopHat(const cv::Mat& bgr, int size, double gain) {
  cv::Mat grey, hat;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::morphologyEx(grey, hat, cv::MORPH_TOPHAT,
                   cv::getStructuringElement(cv::MORPH_ELLIPSE, {size, size}));
  cv::Mat out;
  cv::Mat hat3;
  cv::cvtColor(hat, hat3, cv::COLOR_GRAY2BGR);
  cv::scaleAdd(hat3, gain, bgr, out);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Result<Config> config = LoadConfig();
  if (!config.ok()) return 1;
  models::Runtime runtime(*config);
  Result<const models::TextDetector*> detector = runtime.text_detector();
  if (!detector.ok()) {
    std::fprintf(stderr, "%s\n", detector.status().message().c_str());
    return 1;
  }
  const std::vector<std::string> names = {"plain", "clahe3", "tophat15x2"};
  auto variant = [](const cv::Mat& bgr, size_t v) {
    if (v == 1) return Clahe(bgr, 3);
    if (v == 2) return TopHat(bgr, 15, 2);
    return bgr;
  };
  std::vector<double> recall(names.size(), 0);
  std::vector<int> false_regions(names.size(), 0), cases(1, 0);
  for (int i = 1; i < argc; ++i) {
    cv::Mat photo = cv::imread(argv[i], cv::IMREAD_COLOR);
    if (photo.empty()) continue;
    const double scale = 800.0 / std::max(photo.cols, photo.rows);
    if (scale < 1) cv::resize(photo, photo, cv::Size(), scale, scale, cv::INTER_AREA);
    const std::string stem = std::filesystem::path(argv[i]).stem().string();
    for (size_t v = 0; v < names.size(); ++v) {
      Result<std::vector<models::TextRegion>> clean = (*detector)->Detect(variant(photo, v));
      false_regions[v] += clean.ok() ? static_cast<int>(clean->size()) : 0;
    }
    for (double opacity : {0.3, 0.4}) {
      for (int grey : {255, 215}) {
        testdata::TextStyle style;
        style.text = "优品旗舰店 SHOP";
        style.pixel_height = 30;
        style.color = cv::Scalar::all(grey);
        style.opacity = opacity;
        style.rotation_deg = 25;
        style.tile = true;
        style.center = {photo.cols * 0.3f, photo.rows * 0.3f};
        const testdata::RenderedText rendered = testdata::RenderText(photo, style);
        const cv::Mat visible = testdata::VisibleTextMask(photo, rendered, 8);
        const int total = cv::countNonZero(visible);
        if (total == 0) continue;
        ++cases[0];
        std::printf("%-24s %.0f%% %3d:", stem.c_str(), opacity * 100, grey);
        for (size_t v = 0; v < names.size(); ++v) {
          Result<std::vector<models::TextRegion>> found =
              (*detector)->Detect(variant(rendered.bgr, v));
          const cv::Mat covered = models::RegionMask(photo.size(), *found) & visible;
          const double share = static_cast<double>(cv::countNonZero(covered)) / total;
          recall[v] += share;
          std::printf("  %s %.2f", names[v].c_str(), share);
        }
        std::printf("\n");
      }
    }
  }
  std::printf("\n%-12s %8s %14s\n", "variant", "recall", "false regions");
  for (size_t v = 0; v < names.size(); ++v) {
    std::printf("%-12s %8.2f %14d\n", names[v].c_str(), recall[v] / std::max(1, cases[0]),
                false_regions[v]);
  }
  std::printf("(%d watermark cases, %d clean photos)\n", cases[0], argc - 1);
  return 0;
}
