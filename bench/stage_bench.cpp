// stage_bench: the staging benchmark's tools (bench/stage.sh runs them).
//
//   stage_bench sheet OUT.png COLUMNS CELL IMAGE...   contact sheet: images in a grid, each fitted
//                                                     into CELL x CELL px and labelled
//   stage_bench time CUTOUT.png [REPEATS [SCENE W,H [level]]]
//                                                     time the `stage` op on a 2000x2000 canvas
//                                                     (cutout already made), per shadow kind, and
//                                                     in SCENE at real size W,H cm (drop shadow)
//   stage_bench harmonize SCENE CUTOUT...             the gains and colour change (ΔE2000 over
//                                                     all opaque pixels) harmonize gives each
//                                                     cutout against the lower middle of SCENE
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "io/image_io.h"
#include "ops/colour.h"
#include "ops/harmonize.h"
#include "ops/op.h"

namespace {

namespace fs = std::filesystem;
using vitrine::Image;
using vitrine::Result;

int Sheet(const std::string& out_path, int columns, int cell,
          const std::vector<std::string>& files) {
  const int label = 22;
  const int rows = (static_cast<int>(files.size()) + columns - 1) / columns;
  cv::Mat sheet(rows * (cell + label), columns * cell, CV_8UC3, cv::Scalar(90, 90, 90));
  for (size_t i = 0; i < files.size(); ++i) {
    const int r = static_cast<int>(i) / columns, c = static_cast<int>(i) % columns;
    const cv::Rect slot(c * cell, r * (cell + label), cell, cell);
    cv::Mat image = cv::imread(files[i], cv::IMREAD_COLOR);
    if (image.empty()) {
      // A refused image: its reason (IMAGE.refused.txt beside it, from bench/stage.sh) wrapped.
      const fs::path why = fs::path(files[i]).replace_extension(".refused.txt");
      std::ifstream in(why);
      std::string line = in ? "refused: " : "missing", word;
      int y = slot.y + 24;
      while (in >> word) {
        if (line.size() + word.size() > static_cast<size_t>(cell / 8)) {
          cv::putText(sheet, line, cv::Point(slot.x + 6, y), cv::FONT_HERSHEY_SIMPLEX, 0.38,
                      cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
          y += 15;
          line.clear();
        }
        line += word + " ";
      }
      cv::putText(sheet, line, cv::Point(slot.x + 6, y), cv::FONT_HERSHEY_SIMPLEX, 0.38,
                  cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
    } else {
      const double scale = std::min((cell - 4.0) / image.cols, (cell - 4.0) / image.rows);
      cv::Mat fitted;
      cv::resize(image, fitted, cv::Size(), scale, scale, cv::INTER_AREA);
      fitted.copyTo(sheet(cv::Rect(slot.x + (cell - fitted.cols) / 2,
                                   slot.y + (cell - fitted.rows) / 2, fitted.cols, fitted.rows)));
    }
    cv::putText(sheet,
                fs::path(files[i]).parent_path().filename().string() + "/" +
                    fs::path(files[i]).stem().string(),
                slot.tl() + cv::Point(4, cell + 16), cv::FONT_HERSHEY_SIMPLEX, 0.45,
                cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
  }
  if (!cv::imwrite(out_path, sheet)) {
    std::fprintf(stderr, "stage_bench: cannot write %s\n", out_path.c_str());
    return 1;
  }
  std::printf("contact sheet: %s (%dx%d)\n", out_path.c_str(), sheet.cols, sheet.rows);
  return 0;
}

int Time(const std::string& cutout_path, int repeats, const std::string& scene,
         const std::string& size_cm, bool level) {
  const vitrine::LimitsConfig limits;
  Result<Image> cutout = vitrine::io::ReadImageFile(cutout_path, limits);
  if (!cutout.ok()) {
    std::fprintf(stderr, "stage_bench: %s\n", cutout.status().message().c_str());
    return 1;
  }
  if (!cutout->has_alpha()) {
    std::fprintf(stderr, "stage_bench: %s has no alpha; give a cutout\n", cutout_path.c_str());
    return 1;
  }
  std::printf("cutout %s: %dx%d\n", cutout_path.c_str(), cutout->width(), cutout->height());
  vitrine::ops::OpContext context;
  std::vector<std::string> runs = {"none", "contact", "drop"};
  if (!scene.empty()) runs.push_back("scene");
  for (const std::string& run : runs) {
    const char* shadow = run == "scene" ? "drop" : run.c_str();
    nlohmann::json params = {{"width", 2000}, {"height", 2000}, {"shadow", shadow}};
    if (run == "scene") {
      // The scene is read inside the op, as `vitrine stage` does: its decode is counted.
      params.update({{"scene", scene}, {"size_cm", size_cm}, {"level", level}});
    }
    std::vector<double> ms;
    Image staged;
    for (int i = 0; i < repeats; ++i) {
      const auto start = std::chrono::steady_clock::now();
      Result<Image> out = vitrine::ops::Registry::Global().Run("stage", *cutout, params, context);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      if (!out.ok()) {
        std::fprintf(stderr, "stage_bench: %s\n", out.status().message().c_str());
        return 1;
      }
      staged = *out;
    }
    std::sort(ms.begin(), ms.end());
    vitrine::io::EncodeOptions jpeg;
    jpeg.format = vitrine::io::Format::kJpeg;
    const auto start = std::chrono::steady_clock::now();
    Result<std::string> bytes = vitrine::io::EncodeImage(staged, jpeg);
    const double encode =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "stage 2000x2000 shadow=%-8s median %6.1f ms  min %6.1f ms  (%d runs); JPEG encode "
        "%.1f ms, %zu KB\n",
        run.c_str(), ms[ms.size() / 2], ms.front(), repeats, encode,
        bytes.ok() ? bytes->size() / 1024 : 0);
  }
  return 0;
}

int HarmonizeReport(const std::string& scene_path, const std::vector<std::string>& cutouts) {
  const vitrine::LimitsConfig limits;
  Result<Image> scene = vitrine::io::ReadImageFile(scene_path, limits);
  if (!scene.ok()) {
    std::fprintf(stderr, "stage_bench: %s\n", scene.status().message().c_str());
    return 1;
  }
  const cv::Mat region = scene->bgr(
      cv::Rect(scene->width() / 4, scene->height() / 2, scene->width() / 2, scene->height() / 2));
  for (const std::string& path : cutouts) {
    Result<Image> cutout = vitrine::io::ReadImageFile(path, limits);
    if (!cutout.ok() || !cutout->has_alpha()) {
      std::fprintf(stderr, "stage_bench: %s: not a cutout\n", path.c_str());
      return 1;
    }
    for (double strength : {0.5, 1.0}) {
      vitrine::ops::HarmonizeOptions options;
      options.strength = strength;
      vitrine::ops::HarmonizeReport report;
      const cv::Mat out =
          vitrine::ops::Harmonize(cutout->bgr, cutout->alpha, region, options, &report);
      const vitrine::ops::DeltaEStats measured =
          vitrine::ops::CompareColours(cutout->bgr, out, cutout->alpha);
      std::printf(
          "%-28s strength %.1f gains B %.3f G %.3f R %.3f  ΔE2000 mean %.2f max %.2f "
          "(estimate %.2f / %.2f)\n",
          fs::path(path).stem().c_str(), strength, report.gains[0], report.gains[1],
          report.gains[2], measured.mean, measured.max, report.mean_delta_e, report.max_delta_e);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 4 && args[0] == "sheet") {
    return Sheet(args[1], std::stoi(args[2]), std::stoi(args[3]),
                 std::vector<std::string>(args.begin() + 4, args.end()));
  }
  if (args.size() >= 2 && args[0] == "time") {
    return Time(args[1], args.size() > 2 ? std::stoi(args[2]) : 9, args.size() > 4 ? args[3] : "",
                args.size() > 4 ? args[4] : "", args.size() > 5 && args[5] == "level");
  }
  if (args.size() >= 3 && args[0] == "harmonize") {
    return HarmonizeReport(args[1], std::vector<std::string>(args.begin() + 2, args.end()));
  }
  std::fprintf(stderr,
               "usage: stage_bench sheet OUT.png COLUMNS CELL IMAGE...\n"
               "       stage_bench time CUTOUT.png [REPEATS]\n"
               "       stage_bench harmonize SCENE CUTOUT...\n");
  return 2;
}
