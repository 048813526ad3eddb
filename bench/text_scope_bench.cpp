// text_scope_bench: overlay vs product text on text that lies on the product, against a labelled
// set (bench/text_scope_labels.tsv, documented there).
//
//   build/text_scope_bench LABELS.tsv DATA_DIR [DUMP_DIR]
//
// Each labelled photo (resized to a long side of 800 px at most) is run through RemoveText
// (scope overlay, no verify) and its regions are judged:
// - `product` photos: every region that lies on the product (the segmenter's mask) is the
//   product's own print and must be kept; one called overlay is "product removed".
// - `overlay` photos (or `product` photos, a second time, with --render): six promotion graphics
//   like a supplier draws them over the product (the demo's outlined caption, yellow drop-shadow
//   caption, red and orange price banners, red bold text, white text with a black outline) are
//   rendered across the product's centre; each region on the product that covers a rendered
//   glyph must be overlay; one kept is "overlay kept".
// - `drawn` photos: real listings whose text on the product was all drawn over it (a price bar
//   across a dress); every region on the product must be overlay.
// - `clean` photos: no text at all; every region found is a shape of the product (a handle's loop,
//   a wheel) and must be kept.
// - `product` and `clean` photos once more "on white": cut out (the cutout op) and flattened onto
//   white, as QA's "text left" measures a candidate and as a pure-white export looks; every
//   region the classification calls overlay there is a false reading ("shapes and print called
//   overlay").
// "before" is the rule without the drawn-over cues (ClassifyText's why "drawn over the product"
// is the cue deciding; every other decision is the old rule's), "after" is what ClassifyText
// decides now. Prints each region's cues and the confusion.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/runtime.h"
#include "ops/matting.h"
#include "ops/op.h"
#include "ops/remove_text.h"
#include "ops/text_scope.h"
#include "qa/compliance.h"
#include "tests/text_render.h"

using namespace vitrine;

namespace {

constexpr int kSide = 800;

// The promotion graphics drawn over the product's centre (`k` varies text and placement).
std::vector<std::pair<std::string, testdata::TextStyle>> OverProduct(cv::Size size, int k) {
  const float w = static_cast<float>(size.width), h = static_cast<float>(size.height);
  const int unit = std::max(20, static_cast<int>(std::min(w, h) / 12));
  std::vector<std::pair<std::string, testdata::TextStyle>> out;
  testdata::TextStyle caption;
  caption.text = k % 2 ? "厂家直销" : "工厂直供";
  caption.bold = true;
  caption.pixel_height = unit;
  caption.color = {0, 0, 230};
  caption.outline_width = std::max(2, unit / 10);
  caption.outline_color = {255, 255, 255};
  caption.center = {w * 0.5f, h * 0.42f};
  out.push_back({"outlined", caption});
  testdata::TextStyle shipping;
  shipping.text = k % 2 ? "包邮" : "FREE SHIP";
  shipping.bold = true;
  shipping.pixel_height = unit;
  shipping.color = {0, 200, 255};
  shipping.shadow_offset = {unit / 12 + 1, unit / 12 + 1};
  shipping.shadow_blur = 2;
  shipping.shadow_opacity = 0.6;
  shipping.rotation_deg = 12;
  shipping.center = {w * 0.45f, h * 0.55f};
  out.push_back({"shadow", shipping});
  for (int orange = 0; orange < 2; ++orange) {
    testdata::TextStyle banner;
    banner.text = orange ? "¥59" : "¥99 包邮";
    banner.bold = true;
    banner.pixel_height = unit;
    banner.color = {255, 255, 255};
    banner.banner = true;
    banner.banner_color = orange ? cv::Scalar(0, 120, 255) : cv::Scalar(30, 30, 220);
    banner.center = {w * 0.5f, h * (orange ? 0.6f : 0.5f)};
    out.push_back({orange ? "banner_orange" : "banner_red", banner});
  }
  testdata::TextStyle red;
  red.text = k % 2 ? "限时特价" : "HOT SALE";
  red.bold = true;
  red.pixel_height = unit;
  red.color = {0, 0, 220};
  red.center = {w * 0.5f, h * 0.5f};
  out.push_back({"red", red});
  testdata::TextStyle white;
  white.text = k % 2 ? "正品保证" : "NEW 2024";
  white.pixel_height = unit;
  white.color = {255, 255, 255};
  white.outline_width = 2;
  white.outline_color = {0, 0, 0};
  white.center = {w * 0.5f, h * 0.48f};
  out.push_back({"white_outline", white});
  return out;
}

bool Cued(const ops::TextFinding& f) { return f.why.rfind("drawn over the product", 0) == 0; }
// Decided as text on the product (a lone glyph read poorly is kept whatever the product mask says:
// counted with the product's text).
bool OnProduct(const ops::TextFinding& f) {
  return Cued(f) || f.why == "printed on the product" || f.why.rfind("a lone glyph", 0) == 0;
}

struct Confusion {
  int regions = 0, kept_before = 0, kept_after = 0;
};

}  // namespace

int main(int argc, char** argv) {
  // LABELS DATA [DUMP]: positional (the labels decide everything else).
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: text_scope_bench LABELS.tsv DATA_DIR [DUMP_DIR]\n");
    return 2;
  }
  const std::vector<std::string> args(argv + 1, argv + argc);
  const std::string dump = args.size() == 3 ? args[2] : "";
  std::ifstream labels(args[0]);
  if (!labels) {
    std::fprintf(stderr, "cannot read the labels file %s\n", args[0].c_str());
    return 1;
  }
  Result<Config> config = LoadConfig();
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return 1;
  }
  models::Runtime runtime(*config);
  if (!dump.empty()) std::filesystem::create_directories(dump);
  ops::RemoveTextOptions options;
  options.verify = false;
  Confusion product, overlay, on_white;
  std::string line;
  int k = 0;
  while (std::getline(labels, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string file, kind;
    std::getline(fields, file, '\t');
    std::getline(fields, kind, '\t');
    cv::Mat photo = cv::imread(args[1] + "/" + file, cv::IMREAD_COLOR);
    if (photo.empty()) {
      std::fprintf(stderr, "cannot read %s/%s\n", args[1].c_str(), file.c_str());
      continue;
    }
    if (std::max(photo.cols, photo.rows) > kSide) {
      cv::resize(photo, photo, ops::FitLongSide(photo.size(), kSide), 0, 0, cv::INTER_AREA);
    }
    std::vector<std::pair<std::string, testdata::RenderedText>> cases;
    if (kind == "product" || kind == "drawn" || kind == "clean") {
      cases.push_back({"as is", {photo, cv::Mat(), cv::Mat(), cv::Mat()}});
    } else if (kind == "overlay") {
      for (const auto& [name, style] : OverProduct(photo.size(), k)) {
        cases.push_back({name, testdata::RenderText(photo, style)});
      }
    } else {
      std::fprintf(stderr, "%s: unknown kind '%s' (product, clean, overlay or drawn)\n",
                   file.c_str(), kind.c_str());
      continue;
    }
    ++k;
    // Cases may grow: "on white" follows "as is" (see below).
    for (size_t c = 0; c < cases.size(); ++c) {
      const std::string name = cases[c].first;
      const testdata::RenderedText rendered = cases[c].second;
      Image input;
      input.bgr = rendered.bgr;
      ops::RemoveTextReport report;
      Result<Image> out = ops::RemoveText(input, options, runtime, &report);
      if (!out.ok()) {
        std::fprintf(stderr, "%s: %s\n", file.c_str(), out.status().message().c_str());
        continue;
      }
      Result<const models::TextDetector*> detector = runtime.text_detector();
      for (size_t i = 0; i < report.regions.size(); ++i) {
        const ops::TextFinding& f = report.regions[i];
        if (name == "on white" || (kind == "clean" && name == "as is")) {
          // Nothing here is overlay: every region counts, wherever it lies.
          ++on_white.regions;
          on_white.kept_after += !f.overlay;
          std::printf("%-7s %-30s %-13s %-14s conf %.2f %s: %s\n", kind.c_str(),
                      std::filesystem::path(file).stem().string().c_str(), name.c_str(),
                      f.text.substr(0, 12).c_str(), f.confidence, f.overlay ? "OVERLAY" : "product",
                      f.why.c_str());
          continue;
        }
        if (!OnProduct(f)) continue;
        models::TextRegion region;
        region.polygon = f.polygon;
        region.box = cv::minAreaRect(f.polygon);
        const bool rendered_here =
            !rendered.text_mask.empty() &&
            cv::countNonZero(rendered.text_mask & models::RegionMask(photo.size(), {region})) > 0;
        Confusion* c = nullptr;
        if (kind == "product") c = &product;
        if ((kind == "overlay" && rendered_here) || kind == "drawn") c = &overlay;
        if (!c) continue;
        ++c->regions;
        const bool kept_before = true;  // the old rule kept all text on the product
        const bool kept_after = !f.overlay;
        c->kept_before += kept_before;
        c->kept_after += kept_after;
        const ops::OverlayCues cues = ops::MeasureOverlayCues(rendered.bgr, region);
        std::printf(
            "%-7s %-30s %-13s %-14s spread %4.1f C %3.0f h %4.0f rim %4.1f/%3.0f/%.2f/%.2f sharp "
            "%.2f/%.2f "
            "tilt %2.0f banner %4.1f%s shadow %.2f/%.2f%s score %.1f %s\n",
            kind.c_str(), std::filesystem::path(file).stem().string().c_str(), name.c_str(),
            f.text.substr(0, 12).c_str(), cues.ink_spread, cues.chroma, cues.hue, cues.rim_spread,
            cues.rim_contrast, cues.fill_thickness, cues.rim_beyond, cues.sharpness,
            cues.product_sharpness, cues.tilt, cues.banner_spread, cues.banner ? "+" : "-",
            cues.shadow_glyph_share, cues.shadow_far_share, cues.drop_shadow ? "+" : "-",
            cues.score, f.overlay ? "OVERLAY" : "product");
      }
      // "On white" for photos with no overlay off the product (cnocr_shupai's slogans over the
      // background are overlay, and its cutout may keep them).
      bool overlay_elsewhere = false;
      for (const ops::TextFinding& f : report.regions) overlay_elsewhere |= f.overlay && !Cued(f);
      if (name == "as is" && (kind == "clean" || (kind == "product" && !overlay_elsewhere))) {
        std::vector<std::string> warnings;
        ops::OpContext context{&*config, &runtime, &warnings};
        Image input;
        input.bgr = photo;
        Result<Image> cutout = ops::Registry::Global().Run("cutout", input, nullptr, context);
        if (!cutout.ok()) {
          std::fprintf(stderr, "%s: %s\n", file.c_str(), cutout.status().message().c_str());
        } else {
          cases.push_back(
              {"on white",
               {qa::FlattenOnto(*cutout, {255, 255, 255}), cv::Mat(), cv::Mat(), cv::Mat()}});
        }
      }
      if (!dump.empty()) {
        const std::string stem = std::filesystem::path(file).stem().string();
        cv::Mat sheet;
        cv::hconcat(std::vector<cv::Mat>{rendered.bgr, out->bgr}, sheet);
        std::string suffix = name;
        std::replace(suffix.begin(), suffix.end(), ' ', '_');
        cv::imwrite(dump + "/" + stem + "_" + suffix + ".jpg", sheet);
      }
    }
  }
  std::printf("\nregions on the product      n   before        after\n");
  std::printf("product text removed   %5d   %3d (%3.0f%%)   %3d (%3.0f%%)\n", product.regions,
              product.regions - product.kept_before,
              100.0 * (product.regions - product.kept_before) / std::max(1, product.regions),
              product.regions - product.kept_after,
              100.0 * (product.regions - product.kept_after) / std::max(1, product.regions));
  std::printf("overlay text kept      %5d   %3d (%3.0f%%)   %3d (%3.0f%%)\n", overlay.regions,
              overlay.kept_before, 100.0 * overlay.kept_before / std::max(1, overlay.regions),
              overlay.kept_after, 100.0 * overlay.kept_after / std::max(1, overlay.regions));
  std::printf("shapes and print called overlay (clean photos, cutouts on white): %d of %d\n",
              on_white.regions - on_white.kept_after, on_white.regions);
  return 0;
}
