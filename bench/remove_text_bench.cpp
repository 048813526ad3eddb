// remove_text_bench: text removal on promotion text rendered onto clean product photos, so the
// clean image is known, against the naive pipeline (detector regions → dilate 4 px → OpenCV
// Telea, radius 5).
//
//   build/remove_text_bench [--side S] [--dump DIR] PHOTO...
//
// Each photo is resized to a long side of S px (default 800) and gets, in turn, each of six
// graphics (Chinese and Latin; solid, outlined, drop shadow, 40% tiled watermark, rotated, red
// banner behind a price; sizes, colours and positions varied per photo). Per case it prints: the
// share of the detector's signal left in the text region (target ≤ 5%), PSNR inside the text
// region (the rendered graphic's changed pixels) for ours and for the naive pipeline (target: ours
// ≥ naive + 3 dB), PSNR outside it (≥ 40 dB), and the end-to-end time per megapixel of ours.
// Then the means. With --dump, writes DIR/<case>.png: rendered | ours | naive | clean.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
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
#include "tests/text_render.h"

using namespace vitrine;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

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

struct Totals {
  double left = 0, ours = 0, naive = 0, outside = 0, seconds = 0, megapixels = 0;
  int cases = 0, left_ok = 0, outside_ok = 0, better = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int side = 800;
  std::string dump;
  std::vector<std::string> photos;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--side") && i + 1 < argc) {
      side = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--dump") && i + 1 < argc) {
      dump = argv[++i];
    } else {
      photos.push_back(argv[i]);
    }
  }
  if (photos.empty()) {
    std::fprintf(stderr, "usage: remove_text_bench [--side S] [--dump DIR] PHOTO...\n");
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
  if (!dump.empty()) std::filesystem::create_directories(dump);
  auto signal = [&](const cv::Mat& bgr, const cv::Mat& region) {
    cv::Mat weight;
    region.convertTo(weight, CV_32FC1, 1.0 / 255);
    return cv::sum((*detector)->ProbabilityMap(bgr)->mul(weight))[0];
  };

  std::printf("%-28s %-10s %8s %8s %8s %8s %8s\n", "photo", "case", "left%", "ours dB", "naive dB",
              "out dB", "s/MP");
  std::map<std::string, Totals> by_case;
  Totals all;
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
      const testdata::RenderedText rendered = testdata::RenderText(photo, style);
      Image input;
      input.bgr = rendered.bgr;
      const auto start = std::chrono::steady_clock::now();
      Result<Image> out = ops::RemoveText(input, {}, runtime, nullptr);
      const double seconds = Seconds(start);
      if (!out.ok()) {
        std::fprintf(stderr, "%s %s: %s\n", stem.c_str(), name.c_str(),
                     out.status().message().c_str());
        continue;
      }
      Result<std::vector<models::TextRegion>> regions = (*detector)->Detect(rendered.bgr);
      cv::Mat naive, naive_mask = models::RegionMask(photo.size(), *regions, 4);
      cv::inpaint(rendered.bgr, naive_mask, naive, 5, cv::INPAINT_TELEA);

      const double before = signal(rendered.bgr, rendered.mask);
      const double left = before > 0 ? signal(out->bgr, rendered.mask) / before : 0;
      const double ours = std::min(60.0, ops::MaskedPsnr(out->bgr, photo, rendered.mask));
      const double theirs = std::min(60.0, ops::MaskedPsnr(naive, photo, rendered.mask));
      cv::Mat outside_mask;
      cv::bitwise_not(rendered.mask, outside_mask);
      const double outside = std::min(60.0, ops::MaskedPsnr(out->bgr, photo, outside_mask));
      const double mp = photo.total() / 1e6;
      std::printf("%-28s %-10s %8.2f %8.2f %8.2f %8.2f %8.2f\n", stem.c_str(), name.c_str(),
                  100 * left, ours, theirs, outside, seconds / mp);
      for (Totals* t : {&by_case[name], &all}) {
        t->left += left;
        t->ours += ours;
        t->naive += theirs;
        t->outside += outside;
        t->seconds += seconds;
        t->megapixels += mp;
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
  std::printf("\n%-10s %6s %8s %8s %8s %8s %8s %8s %8s %8s\n", "case", "n", "left%", "<=5%",
              "ours dB", "naive dB", ">=+3dB", "out dB", ">=40dB", "s/MP");
  by_case["ALL"] = all;
  for (const auto& [name, t] : by_case) {
    if (t.cases == 0) continue;
    const double n = t.cases;
    std::printf("%-10s %6d %8.2f %7.0f%% %8.2f %8.2f %7.0f%% %8.2f %7.0f%% %8.2f\n", name.c_str(),
                t.cases, 100 * t.left / n, 100 * t.left_ok / n, t.ours / n, t.naive / n,
                100 * t.better / n, t.outside / n, 100 * t.outside_ok / n,
                t.seconds / t.megapixels);
  }
  return 0;
}
