// remove_text_bench: text removal on promotion text rendered onto clean product photos, so the
// clean image is known, against the naive pipeline (detector regions → dilate 4 px → OpenCV
// Telea, radius 5).
//
//   build/remove_text_bench [--side S] [--screen N] [--cases A,B] [--dump DIR] PHOTO...
//   build/remove_text_bench [--side S] --segment-sizes 320,384,... PHOTO...
//
// --cases keeps only the named styles (solid, outlined, shadow, watermark, rotated, banner).
// Each photo is resized to a long side of S px (default 800) and gets, in turn, each of six
// graphics (Chinese and Latin; solid, outlined, drop shadow, 40% tiled watermark, rotated, red
// banner behind a price; sizes, colours and positions varied per photo). Per case it prints: the
// share of the detector's signal left in the text region above the clean photo's own signal there
// (the overlay's residue; target ≤ 5%), PSNR inside the text
// region (the rendered graphic's changed pixels) for ours and for the naive pipeline (target: ours
// ≥ naive + 3 dB), PSNR outside it (≥ 40 dB), the end-to-end time per megapixel of ours, and
// the clean photo's own detector signal in the text region as a share of the rendered one's
// (clean%: the product's print or texture under the graphic, which is no overlay: a photo that
// comes back clean keeps it, e.g. colorful_sneaker_01's stripes under its watermark, 19.2%; the
// raw share left is left% + clean% where the output keeps that much).
// Then the means, the time per step (wall and CPU) and which product mask the decisions needed
// (--screen: the ISNet screen's size, RemoveTextOptions::screen_segment_size). With --dump, writes
// DIR/<case>.png: rendered | ours | naive | clean.
//
// --segment-sizes measures, instead, how the overlay/product decision holds when ISNet runs
// smaller: on every case above plus the photo as it is (its own printed text), it decides each
// detected region with the configured ISNet (the reference), with ISNet at each size, and with
// ops::ClassifyAgainstProduct at each size as the screen; it prints the share of regions and of
// cases decided as the reference does, how often the screen needed the full ISNet, and ISNet's
// time per image.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/runtime.h"
#include "ops/inpaint.h"
#include "ops/remove_text.h"
#include "ops/text_scope.h"
#include "tests/text_render.h"

using namespace vitrine;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// `decl` = the value of `expr`, or the error printed and 1 returned.
#define ASSIGN_OR_EXIT(decl, expr)                                                                \
  auto VITRINE_CONCAT(_or_exit_, __LINE__) = (expr);                                              \
  if (!VITRINE_CONCAT(_or_exit_, __LINE__).ok()) {                                                \
    std::fprintf(stderr, "%s\n", VITRINE_CONCAT(_or_exit_, __LINE__).status().message().c_str()); \
    return 1;                                                                                     \
  }                                                                                               \
  decl = std::move(VITRINE_CONCAT(_or_exit_, __LINE__)).value()

// The six graphics, placed and coloured from `k` (the photo's index) so photos differ.
std::vector<std::pair<std::string, testdata::TextStyle>> Styles(cv::Size size, int k) {
  const float w = static_cast<float>(size.width), h = static_cast<float>(size.height);
  const int unit = std::max(18, static_cast<int>(std::min(w, h) / 16));
  const cv::Scalar colours[] = {{0, 0, 230}, {255, 255, 255}, {20, 20, 20}, {0, 200, 255}};
  std::vector<std::pair<std::string, testdata::TextStyle>> out;
  testdata::TextStyle solid;
  solid.text = k % 2 ? "厂家直销" : "FACTORY DIRECT";
  solid.bold = true;
  solid.pixel_height = unit + 4 * (k % 3);
  solid.color = colours[k % 4];
  solid.center = {w * 0.3f, h * 0.1f};
  out.push_back({"solid", solid});
  testdata::TextStyle outlined;
  outlined.text = k % 2 ? "FREE SHIPPING" : "全国包邮";
  outlined.pixel_height = unit;
  outlined.color = {255, 255, 255};
  outlined.outline_width = 2 + k % 3;
  outlined.outline_color = colours[(k + 2) % 4 == 1 ? 0 : (k + 2) % 4];
  outlined.center = {w * 0.65f, h * 0.9f};
  out.push_back({"outlined", outlined});
  testdata::TextStyle shadow;
  shadow.text = k % 2 ? "正品保证 包邮" : "NEW ARRIVAL";
  shadow.pixel_height = unit;
  shadow.color = {0, 220, 255};
  shadow.shadow_offset = {3, 3};
  shadow.shadow_blur = 2;
  shadow.shadow_opacity = 0.7;
  shadow.center = {w * 0.5f, h * 0.08f};
  out.push_back({"shadow", shadow});
  testdata::TextStyle watermark;
  watermark.text = k % 2 ? "样品 SAMPLE" : "淘宝店铺";
  watermark.pixel_height = unit;
  watermark.color = {255, 255, 255};
  watermark.opacity = 0.3 + 0.1 * (k % 4);
  watermark.rotation_deg = 20;
  watermark.tile = true;
  watermark.center = {w * 0.25f, h * 0.2f};
  out.push_back({"watermark", watermark});
  testdata::TextStyle rotated;
  rotated.text = k % 2 ? "限时特价" : "HOT SALE";
  rotated.pixel_height = unit + 4;
  rotated.color = colours[(k + 1) % 4];
  rotated.outline_width = rotated.color == cv::Scalar(255, 255, 255) ? 2 : 0;
  rotated.outline_color = {0, 0, 0};
  rotated.rotation_deg = 15 + 5 * (k % 4);
  rotated.center = {w * 0.15f, h * 0.85f};
  out.push_back({"rotated", rotated});
  testdata::TextStyle banner;
  banner.text = k % 2 ? "¥99 包邮" : "SALE -50%";
  banner.bold = true;
  banner.pixel_height = unit;
  banner.color = {255, 255, 255};
  banner.banner = true;
  banner.banner_color = k % 3 ? cv::Scalar(30, 30, 210) : cv::Scalar(0, 140, 255);
  banner.center = {w * 0.8f, h * 0.1f};
  out.push_back({"banner", banner});
  return out;
}

// Regions (and cases) decided as the reference does, per screen size.
struct Agreement {
  int regions = 0, raw_regions = 0, screen_regions = 0;
  int cases = 0, raw_cases = 0, screen_cases = 0;
  int used_none = 0, used_screen = 0, used_full = 0;
  double seconds = 0;
};

int MeasureSegmentSizes(const std::vector<std::string>& photos, int side,
                        const std::vector<int>& sizes, models::Runtime& runtime) {
  ASSIGN_OR_EXIT(const models::TextDetector* detector, runtime.text_detector());
  ASSIGN_OR_EXIT(const models::TextRecognizer* recognizer, runtime.text_recognizer());
  ASSIGN_OR_EXIT(const models::Segmenter* reference, runtime.segmenter());
  for (int size : sizes) {
    if (Status loaded = runtime.segmenter(size).status(); !loaded.ok()) {
      std::fprintf(stderr, "%s\n", loaded.message().c_str());
      return 1;
    }
  }
  std::map<int, Agreement> by_size;
  double reference_seconds = 0;
  int images = 0;
  for (size_t k = 0; k < photos.size(); ++k) {
    cv::Mat photo = cv::imread(photos[k], cv::IMREAD_COLOR);
    if (photo.empty()) continue;
    const double scale = static_cast<double>(side) / std::max(photo.cols, photo.rows);
    if (scale < 1) cv::resize(photo, photo, cv::Size(), scale, scale, cv::INTER_AREA);
    std::vector<cv::Mat> cases{photo};
    for (const auto& [name, style] : Styles(photo.size(), static_cast<int>(k))) {
      cases.push_back(testdata::RenderText(photo, style).bgr);
    }
    std::printf("%s\n", std::filesystem::path(photos[k]).stem().c_str());
    std::fflush(stdout);
    for (const cv::Mat& bgr : cases) {
      ASSIGN_OR_EXIT(std::vector<models::TextRegion> regions, detector->Detect(bgr));
      if (regions.empty()) continue;
      ASSIGN_OR_EXIT(std::vector<models::RecognizedText> texts,
                     recognizer->RecognizeAll(bgr, regions));
      std::vector<ops::TextFinding> read(regions.size());
      for (size_t i = 0; i < texts.size(); ++i) {
        read[i].text = texts[i].text;
        read[i].confidence = texts[i].confidence;
      }
      auto start = std::chrono::steady_clock::now();
      ASSIGN_OR_EXIT(cv::Mat product, ops::TextProductMask(*reference, bgr));
      reference_seconds += Seconds(start);
      ++images;
      std::vector<ops::TextFinding> truth = read;
      ops::ClassifyText(bgr, product, regions, true, &truth);
      auto agreeing = [&](const std::vector<ops::TextFinding>& found) {
        int n = 0;
        for (size_t i = 0; i < regions.size(); ++i) n += found[i].overlay == truth[i].overlay;
        return n;
      };
      const int n = static_cast<int>(regions.size());
      for (int size : sizes) {
        Agreement& a = by_size[size];
        ASSIGN_OR_EXIT(const models::Segmenter* small, runtime.segmenter(size));
        start = std::chrono::steady_clock::now();
        ASSIGN_OR_EXIT(cv::Mat coarse, ops::TextProductMask(*small, bgr));
        a.seconds += Seconds(start);
        std::vector<ops::TextFinding> raw = read;
        ops::ClassifyText(bgr, coarse, regions, true, &raw);
        std::vector<ops::TextFinding> screened = read;
        ASSIGN_OR_EXIT(ops::ProductMaskUsed used,
                       ops::ClassifyAgainstProduct(bgr, regions, true, size, runtime, &screened));
        a.used_none += used == ops::ProductMaskUsed::kNone;
        a.used_screen += used == ops::ProductMaskUsed::kScreen;
        a.used_full += used == ops::ProductMaskUsed::kFull;
        a.regions += n;
        a.raw_regions += agreeing(raw);
        a.screen_regions += agreeing(screened);
        ++a.cases;
        a.raw_cases += agreeing(raw) == n;
        a.screen_cases += agreeing(screened) == n;
      }
    }
  }
  if (images == 0) {
    std::fprintf(stderr, "no text detected in any case\n");
    return 1;
  }
  std::printf("reference: ISNet %d, %.2f s per image; %d cases with text\n",
              reference->input_size(), reference_seconds / images, images);
  std::printf("%6s %8s %10s %10s %12s %12s %8s %8s %8s %8s\n", "size", "regions", "raw agree",
              "raw cases", "screen agree", "screen cases", "none", "screen", "full", "ISNet s");
  for (const auto& [size, a] : by_size) {
    std::printf("%6d %8d %9.1f%% %9.1f%% %11.1f%% %11.1f%% %7.0f%% %7.0f%% %7.0f%% %8.2f\n", size,
                a.regions, 100.0 * a.raw_regions / a.regions, 100.0 * a.raw_cases / a.cases,
                100.0 * a.screen_regions / a.regions, 100.0 * a.screen_cases / a.cases,
                100.0 * a.used_none / a.cases, 100.0 * a.used_screen / a.cases,
                100.0 * a.used_full / a.cases, a.seconds / a.cases);
  }
  return 0;
}

struct Totals {
  double left = 0, ours = 0, naive = 0, outside = 0, seconds = 0, cpu = 0, megapixels = 0;
  ops::RemoveTextReport::Timings steps, cpu_steps;  // wall; process CPU
  int cases = 0, left_ok = 0, outside_ok = 0, better = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int side = 800;
  std::string dump;
  std::vector<int> segment_sizes;
  std::vector<std::string> only;  // --cases: these styles only
  ops::RemoveTextOptions options;
  std::vector<std::string> photos;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--side") && i + 1 < argc) {
      side = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--dump") && i + 1 < argc) {
      dump = argv[++i];
    } else if (!std::strcmp(argv[i], "--cases") && i + 1 < argc) {
      for (char* p = std::strtok(argv[++i], ","); p; p = std::strtok(nullptr, ",")) {
        only.push_back(p);
      }
    } else if (!std::strcmp(argv[i], "--screen") && i + 1 < argc) {
      options.screen_segment_size = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--segment-sizes") && i + 1 < argc) {
      for (char* p = std::strtok(argv[++i], ","); p; p = std::strtok(nullptr, ",")) {
        segment_sizes.push_back(std::atoi(p));
      }
    } else {
      photos.push_back(argv[i]);
    }
  }
  if (photos.empty()) {
    std::fprintf(
        stderr,
        "usage: remove_text_bench [--side S] [--screen N] [--cases STYLE,...] [--dump DIR | "
        "--segment-sizes A,B,...] "
        "PHOTO...\n");
    return 2;
  }
  Result<Config> config = LoadConfig();
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return 1;
  }
  models::Runtime runtime(*config);
  Result<const models::TextDetector*> detector = runtime.text_detector();
  if (!detector.ok()) {
    std::fprintf(stderr, "%s\n", detector.status().message().c_str());
    return 1;
  }
  // Every model is loaded before the clock starts: loading is once per process, not per image.
  // (The screen's ISNet too: it is loaded at its first use.)
  const int screen = options.screen_segment_size;
  for (const Status& ready : {runtime.segmenter().status(), runtime.text_recognizer().status(),
                              screen > 0 ? runtime.segmenter(screen).status() : Status::Ok()}) {
    if (!ready.ok()) {
      std::fprintf(stderr, "%s\n", ready.message().c_str());
      return 1;
    }
  }
  if (!segment_sizes.empty()) return MeasureSegmentSizes(photos, side, segment_sizes, runtime);
  if (!dump.empty()) std::filesystem::create_directories(dump);
  auto signal = [&](const cv::Mat& bgr, const cv::Mat& region) {
    cv::Mat weight;
    region.convertTo(weight, CV_32FC1, 1.0 / 255);
    return cv::sum((*detector)->ProbabilityMap(bgr)->mul(weight))[0];
  };

  std::printf("%-28s %-10s %8s %8s %8s %8s %8s %8s\n", "photo", "case", "left%", "ours dB",
              "naive dB", "out dB", "s/MP", "clean%");
  std::map<std::string, Totals> by_case;
  Totals all;
  std::map<ops::ProductMaskUsed, int> masks;
  for (size_t k = 0; k < photos.size(); ++k) {
    cv::Mat photo = cv::imread(photos[k], cv::IMREAD_COLOR);
    if (photo.empty()) {
      std::fprintf(stderr, "cannot read %s\n", photos[k].c_str());
      continue;
    }
    const double scale = static_cast<double>(side) / std::max(photo.cols, photo.rows);
    if (scale < 1) cv::resize(photo, photo, cv::Size(), scale, scale, cv::INTER_AREA);
    const std::string stem = std::filesystem::path(photos[k]).stem().string();
    for (const auto& [name, style] : Styles(photo.size(), static_cast<int>(k))) {
      if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
      const testdata::RenderedText rendered = testdata::RenderText(photo, style);
      Image input;
      input.bgr = rendered.bgr;
      const auto start = std::chrono::steady_clock::now();
      const std::clock_t cpu_start = std::clock();
      ops::RemoveTextReport report;
      Result<Image> out = ops::RemoveText(input, options, runtime, &report);
      const double seconds = Seconds(start);
      const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
      if (!out.ok()) {
        std::fprintf(stderr, "%s %s: %s\n", stem.c_str(), name.c_str(),
                     out.status().message().c_str());
        continue;
      }
      Result<std::vector<models::TextRegion>> regions = (*detector)->Detect(rendered.bgr);
      cv::Mat naive, naive_mask = models::RegionMask(photo.size(), *regions, 4);
      cv::inpaint(rendered.bgr, naive_mask, naive, 5, cv::INPAINT_TELEA);

      const double before = signal(rendered.bgr, rendered.mask);
      const double own = before > 0 ? signal(photo, rendered.mask) / before : 0;
      const double left =
          before > 0 ? std::max(0.0, signal(out->bgr, rendered.mask) / before - own) : 0;
      const double ours = std::min(60.0, ops::MaskedPsnr(out->bgr, photo, rendered.mask));
      const double theirs = std::min(60.0, ops::MaskedPsnr(naive, photo, rendered.mask));
      cv::Mat outside_mask;
      cv::bitwise_not(rendered.mask, outside_mask);
      const double outside = std::min(60.0, ops::MaskedPsnr(out->bgr, photo, outside_mask));
      const double mp = photo.total() / 1e6;
      std::printf("%-28s %-10s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f\n", stem.c_str(), name.c_str(),
                  100 * left, ours, theirs, outside, seconds / mp, 100 * own);
      for (Totals* t : {&by_case[name], &all}) {
        t->left += left;
        t->ours += ours;
        t->naive += theirs;
        t->outside += outside;
        t->seconds += seconds;
        t->cpu += cpu;
        t->megapixels += mp;
        if (t == &all) ++masks[report.product_mask];
        t->steps += report.timings;
        t->cpu_steps += report.cpu_timings;
        ++t->cases;
        t->left_ok += left <= 0.05;
        t->outside_ok += outside >= 40;
        t->better += ours >= theirs + 3;
      }
      if (!dump.empty()) {
        cv::Mat sheet;
        cv::hconcat(std::vector<cv::Mat>{rendered.bgr, out->bgr, naive, photo}, sheet);
        cv::imwrite(dump + "/" + stem + "_" + name + ".png", sheet);
      }
    }
  }
  std::printf("\n%-10s %6s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "case", "n", "left%", "<=5%",
              "ours dB", "naive dB", ">=+3dB", "out dB", ">=40dB", "s/MP", "CPU s/MP");
  by_case["ALL"] = all;
  for (const auto& [name, t] : by_case) {
    if (t.cases == 0) continue;
    const double n = t.cases;
    std::printf("%-10s %6d %8.2f %7.0f%% %8.2f %8.2f %7.0f%% %8.2f %7.0f%% %8.2f %8.2f\n",
                name.c_str(), t.cases, 100 * t.left / n, 100 * t.left_ok / n, t.ours / n,
                t.naive / n, 100 * t.better / n, t.outside / n, 100 * t.outside_ok / n,
                t.seconds / t.megapixels, t.cpu / t.megapixels);
  }
  const double mp = all.megapixels;
  auto print_steps = [mp](const char* what, const ops::RemoveTextReport::Timings& s) {
    std::printf(
        "%s by step: detect %.2f, recognise %.2f, classify %.2f, inpaint %.2f, verify %.2f\n", what,
        s.detect / mp, s.recognise / mp, s.classify / mp, s.inpaint / mp, s.verify / mp);
  };
  std::printf("\n");
  print_steps("s/MP", all.steps);
  print_steps("CPU s/MP", all.cpu_steps);
  std::printf("product mask needed: none %d, screen %d, full %d (of %d cases)\n",
              masks[ops::ProductMaskUsed::kNone], masks[ops::ProductMaskUsed::kScreen],
              masks[ops::ProductMaskUsed::kFull], all.cases);
  return 0;
}
