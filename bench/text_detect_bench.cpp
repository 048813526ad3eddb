// text_detect_bench: recall and speed of the text detector and recognizer on promotion text
// rendered onto opencv-doc photos (random size, colour, outline, shadow, opacity, rotation,
// banner; the glyph mask is exact).
//
//   build/text_detect_bench [--cases N] [--threads T] [--planes bgr|rgb|both] [--dump DIR]
//   build/text_detect_bench --look OUT_DIR IMAGE...
//
// With --dump, writes each case whose glyphs are covered < 90% to DIR/miss_<case>.png with the
// detected regions drawn in green and the probability map beside it.
//
// With --look, detects and reads the text of real images instead: prints each region (score,
// text, confidence) and writes OUT_DIR/<name>.png with the regions drawn, for looking at.
//
// Prints, per case family, the share of cases whose glyphs the regions cover ≥ 90%, the mean
// coverage, the share of the image wrongly marked, the detection time per megapixel (one image
// at a time, T threads) and the recognition time per line and its exact-read rate; misreads are
// listed.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/runtime.h"
#include "tests/testdata.h"
#include "tests/text_render.h"

using namespace vitrine;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Text as compared: without spaces (the recogniser often drops them) and with the full-width
// yen sign the dictionary holds (￥) written as ¥.
std::string Comparable(std::string text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ' ') continue;
    if (text.compare(i, 3, "\xEF\xBF\xA5") == 0) {  // U+FFE5 ￥
      out += "\xC2\xA5";                            // U+00A5 ¥
      i += 2;
      continue;
    }
    out += text[i];
  }
  return out;
}

testdata::TextStyle RandomStyle(cv::RNG& rng, cv::Size size) {
  static const std::vector<std::string> kTexts = {
      "厂家直销", "包邮", "¥99", "SALE 50% OFF", "限时特价", "正品保证 假一赔十", "NEW"};
  testdata::TextStyle s;
  s.text = kTexts[rng.uniform(0, static_cast<int>(kTexts.size()))];
  s.bold = rng.uniform(0, 2) == 1;
  s.pixel_height = rng.uniform(14, 72);
  s.color = cv::Scalar(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256));
  s.center = cv::Point2f(static_cast<float>(rng.uniform(0.2, 0.8) * size.width),
                         static_cast<float>(rng.uniform(0.15, 0.85) * size.height));
  if (rng.uniform(0, 3) == 0) s.rotation_deg = rng.uniform(-40.0, 40.0);
  if (rng.uniform(0, 3) == 0) {
    s.outline_width = rng.uniform(1, 4);
    s.outline_color = cv::Scalar::all(rng.uniform(0, 2) * 255);
  }
  if (rng.uniform(0, 4) == 0) {
    s.shadow_offset = {rng.uniform(1, 5), rng.uniform(1, 5)};
    s.shadow_blur = rng.uniform(0.0, 3.0);
    s.shadow_opacity = rng.uniform(0.4, 0.9);
  }
  if (rng.uniform(0, 4) == 0) {
    s.banner = true;
    s.banner_color = cv::Scalar(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256));
  }
  if (rng.uniform(0, 4) == 0) s.opacity = rng.uniform(0.3, 0.6);
  return s;
}

}  // namespace

// --look: regions and readings of real images, printed and drawn.
int Look(const models::TextDetector& detector, const models::TextRecognizer& recognizer,
         const std::string& out_dir, const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    const cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
    if (image.empty()) {
      std::fprintf(stderr, "%s: cannot read\n", path.c_str());
      continue;
    }
    auto start = std::chrono::steady_clock::now();
    Result<std::vector<models::TextRegion>> regions = detector.Detect(image);
    const double detect_s = Seconds(start);
    if (!regions.ok()) return std::fprintf(stderr, "%s\n", regions.status().ToString().c_str()), 1;
    std::printf("%s %dx%d: %zu regions in %.2f s\n", path.c_str(), image.cols, image.rows,
                regions->size(), detect_s);
    cv::Mat shown = image.clone();
    for (const models::TextRegion& region : *regions) {
      Result<models::RecognizedText> text = recognizer.Recognize(image, region);
      std::printf("  %.2f  \"%s\" (%.2f)\n", region.score, text.ok() ? text->text.c_str() : "?",
                  text.ok() ? text->confidence : 0.0f);
      std::vector<cv::Point> outline(region.polygon.begin(), region.polygon.end());
      cv::polylines(shown, std::vector<std::vector<cv::Point>>{outline}, true, {0, 255, 0}, 2);
    }
    const std::string name = path.substr(path.find_last_of('/') + 1);
    cv::imwrite(out_dir + "/" + name.substr(0, name.find_last_of('.')) + ".png", shown);
  }
  return 0;
}

int main(int argc, char** argv) {
  int cases = 60, threads = 2;
  std::string dump, planes = "bgr";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dump")) dump = argv[i + 1];
    if (!std::strcmp(argv[i], "--planes")) planes = argv[i + 1];
    if (!std::strcmp(argv[i], "--cases")) cases = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
  }
  cv::setNumThreads(threads);
  Result<Config> config = LoadConfig();
  if (!config.ok()) return std::fprintf(stderr, "%s\n", config.status().ToString().c_str()), 1;
  models::Runtime runtime(*config);
  models::TextDetector::Options options;
  using Planes = models::TextDetector::Options::Planes;
  options.planes = planes == "rgb" ? Planes::kRgb : planes == "both" ? Planes::kBoth : Planes::kBgr;
  Result<std::string> det_path = runtime.catalog().PreparedPath("ppocr_det");
  Result<std::unique_ptr<models::TextDetector>> detector =
      det_path.ok() ? models::TextDetector::Load(*det_path, options) : det_path.status();
  Result<const models::TextRecognizer*> recognizer = runtime.text_recognizer();
  if (!detector.ok() || !recognizer.ok()) {
    std::fprintf(stderr, "cannot load the text models; run `vitrine models prepare`\n");
    return 1;
  }

  if (argc >= 3 && !std::strcmp(argv[1], "--look")) {
    return Look(**detector, **recognizer, argv[2], std::vector<std::string>(argv + 3, argv + argc));
  }

  const std::vector<std::string> photos = {"fruits.jpg", "orange.jpg", "home.jpg",
                                           "baboon.jpg", "apple.jpg",  "messi5.jpg"};
  const std::vector<cv::Size> sizes = {{800, 600}, {1200, 900}, {640, 640}};
  cv::RNG rng(12345);
  int good = 0, visible_good = 0, translucent = 0, translucent_good = 0, lines = 0, exact = 0;
  double coverage_sum = 0, false_sum = 0, megapixels = 0, detect_s = 0, recognize_s = 0;
  for (int i = 0; i < cases; ++i) {
    const cv::Mat photo = testdata::SamplePhoto(photos[i % photos.size()], sizes[i % sizes.size()]);
    const testdata::TextStyle style = RandomStyle(rng, photo.size());
    const testdata::RenderedText r = testdata::RenderText(photo, style);
    auto start = std::chrono::steady_clock::now();
    Result<std::vector<models::TextRegion>> regions = (*detector)->Detect(r.bgr);
    detect_s += Seconds(start);
    megapixels += photo.total() / 1e6;
    if (!regions.ok()) return std::fprintf(stderr, "%s\n", regions.status().ToString().c_str()), 1;
    const cv::Mat mask = models::RegionMask(photo.size(), *regions);
    const double coverage = static_cast<double>(cv::countNonZero(mask & r.text_mask)) /
                            std::max(1, cv::countNonZero(r.text_mask));
    const cv::Mat visible = testdata::VisibleTextMask(photo, r);
    const int visible_count = cv::countNonZero(visible);
    const double visible_coverage =
        visible_count == 0 ? 1.0
                           : static_cast<double>(cv::countNonZero(mask & visible)) / visible_count;
    visible_good += visible_coverage >= 0.9;
    cv::Mat near;
    cv::dilate(r.mask, near, cv::getStructuringElement(cv::MORPH_ELLIPSE, {25, 25}));
    false_sum += static_cast<double>(cv::countNonZero(mask & ~near)) / photo.total();
    coverage_sum += coverage;
    good += coverage >= 0.9;
    if (style.opacity < 1) {
      ++translucent;
      translucent_good += coverage >= 0.9;
    }
    for (const models::TextRegion& region : *regions) {
      if (cv::countNonZero(models::RegionMask(photo.size(), {region}) & r.text_mask) == 0) continue;
      start = std::chrono::steady_clock::now();
      Result<models::RecognizedText> text = (*recognizer)->Recognize(r.bgr, region);
      recognize_s += Seconds(start);
      ++lines;
      const bool same = text.ok() && Comparable(text->text) == Comparable(style.text);
      exact += same;
      if (text.ok() && !same) {
        std::printf("  read \"%s\" (%.2f) for \"%s\" %d px rotation %.0f opacity %.2f\n",
                    text->text.c_str(), text->confidence, style.text.c_str(), style.pixel_height,
                    style.rotation_deg, style.opacity);
      }
    }
    if (coverage < 0.9) {
      std::printf(
          "  miss: case %d %s \"%s\" %d px opacity %.2f rotation %.0f coverage %.2f (visible "
          "%.2f)\n",
          i, photos[i % photos.size()].c_str(), style.text.c_str(), style.pixel_height,
          style.opacity, style.rotation_deg, coverage, visible_coverage);
      if (!dump.empty()) {
        cv::Mat shown = r.bgr.clone();
        for (const models::TextRegion& region : *regions) {
          std::vector<cv::Point> outline(region.polygon.begin(), region.polygon.end());
          cv::polylines(shown, std::vector<std::vector<cv::Point>>{outline}, true, {0, 255, 0});
        }
        Result<cv::Mat> map = (*detector)->ProbabilityMap(r.bgr);
        cv::Mat map8, both;
        map->convertTo(map8, CV_8U, 255);
        cv::cvtColor(map8, map8, cv::COLOR_GRAY2BGR);
        cv::hconcat(shown, map8, both);
        cv::imwrite(dump + "/miss_" + std::to_string(i) + ".png", both);
      }
    }
  }
  std::printf("cases %d: coverage >= 90%% in %d (%.0f%%), mean coverage %.3f\n", cases, good,
              100.0 * good / cases, coverage_sum / cases);
  std::printf("visible glyph pixels (changed >= 32 levels) covered >= 90%% in %d (%.0f%%)\n",
              visible_good, 100.0 * visible_good / cases);
  std::printf("translucent (30-60%%): %d of %d covered >= 90%%\n", translucent_good, translucent);
  std::printf("false text area: %.4f%% of the image on average\n", 100 * false_sum / cases);
  std::printf("detection: %.3f s per megapixel (%d threads)\n", detect_s / megapixels, threads);
  std::printf("recognition: %.3f s per line, %d of %d lines read exactly (ignoring spaces, ￥=¥)\n",
              lines ? recognize_s / lines : 0.0, exact, lines);

  // Large and elongated images: time per megapixel of the image (tiling included).
  for (const cv::Size& size : {cv::Size(4000, 3000), cv::Size(400, 4000)}) {
    const cv::Mat photo = testdata::SamplePhoto("fruits.jpg", size);
    auto start = std::chrono::steady_clock::now();
    Result<std::vector<models::TextRegion>> regions = (*detector)->Detect(photo);
    const double s = Seconds(start);
    const cv::Size work = (*detector)->WorkSize(size);
    std::printf("%dx%d (net at %dx%d): %.2f s, %.3f s per image megapixel\n", size.width,
                size.height, work.width, work.height, s, s / (photo.total() / 1e6));
  }
  return 0;
}
