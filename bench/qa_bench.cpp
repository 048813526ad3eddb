// qa_bench: speed of the candidate QA (src/qa) and what BRISQUE says about staged candidates.
//
//   qa_bench [OUTDIR]
//
// 1. Time per candidate of the whole Evaluate() (which works at QaConfig::work_side, 1024) and of
//    each check called at full size on a 2000x2000 candidate (and a 1000x1000 one), median of 5
//    runs, one thread; BRISQUE at full size and reduced to 1024 and 512 px (the default,
//    QaConfig::brisque_max_side).
// 2. BRISQUE of good staged candidates per canvas kind, on the whole frame and on the product's
//    rectangle (what Evaluate() scores).
// 3. Writes a contact sheet of a good candidate and each defect with QA's verdicts to
//    OUTDIR/qa_sheet.png (default bench/out/qa), to look at.
// 4. Real products: the RGBA cutouts of DATA/c_rgba_cutouts staged 6 ways each (white, grey,
//    studio colour, gradient, a DATA/e_staging_backdrops photo, white as JPEG) as good candidates
//    and broken 7 ways: false-rejection rate and detection per defect, and
//    OUTDIR/qa_real_sheet.png. DATA is $VITRINE_SHARED_DATA, else ../shared/data beside the
//    source tree; it is read, never copied.
// Items 1-3 use data made here (src/qa/candidate_testdata.h).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "qa/candidate_testdata.h"
#include "qa/score.h"

namespace qa = vitrine::qa;
namespace td = vitrine::qa::testdata;

namespace {

double MedianMs(const std::function<void()>& fn, int runs = 5) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

qa::CandidateInputs Inputs(const td::Source& s, const cv::Mat& alpha, const cv::Mat& candidate,
                           cv::Rect placement, const qa::Brisque* brisque) {
  qa::CandidateInputs in;
  in.source_bgr = s.bgr;
  in.source_alpha = alpha;
  in.source_mask = s.segmenter_mask;
  in.candidate_bgr = candidate;
  in.placement = placement;
  in.brisque = brisque;
  in.text_coverage = [](const cv::Mat& bgr) -> vitrine::Result<double> {
    return td::MagentaShare(bgr);
  };
  return in;
}

void Timing(const qa::Brisque* brisque, int side) {
  const qa::QaConfig config;
  td::Source s = td::MakeSource(1, {side * 4 / 5, side});
  cv::Size size(side, side);
  cv::Rect place = td::FitPlacement(s.alpha, size, 0.8, 1);
  td::Staged staged = td::Stage(s.bgr, s.alpha, size, place, td::Canvas::kWhite, 1);
  qa::CandidateInputs in = Inputs(s, s.alpha, staged.bgr, place, brisque);
  std::printf("candidate %dx%d (source %dx%d):\n", side, side, s.bgr.cols, s.bgr.rows);
  std::printf("  Evaluate (checks at %d px, BRISQUE %d) %7.1f ms\n",
              static_cast<int>(config.work_side), static_cast<int>(config.brisque_max_side),
              MedianMs([&] { (void)qa::Evaluate(in, config); }));
  std::printf("  CutoutSanity                        %7.1f ms\n",
              MedianMs([&] { (void)qa::CutoutSanity(staged.alpha, config); }));
  std::printf("  PlaceProduct                        %7.1f ms\n",
              MedianMs([&] { (void)qa::PlaceProduct(s.bgr, s.alpha, place, size); }));
  std::printf("  Sharpness                           %7.1f ms\n",
              MedianMs([&] { (void)qa::Sharpness(s.bgr, s.alpha, staged.bgr, place, config); }));
  std::printf("  ColourFidelity                      %7.1f ms\n", MedianMs([&] {
                (void)qa::ColourFidelity(s.bgr, s.alpha, staged.bgr, place, config);
              }));
  std::printf("  PerceptualHash                      %7.1f ms\n",
              MedianMs([&] { (void)qa::PerceptualHash(staged.bgr); }));
  for (int max_side : {side, 1024, 512}) {
    if (max_side > side) continue;
    double score = 0;
    double ms = MedianMs([&] { score = brisque->Score(staged.bgr, max_side).value(); });
    std::printf("  BRISQUE at %4d px                   %7.1f ms  (score %.1f)\n", max_side, ms,
                score);
  }
}

namespace Sheet {
struct Tile {
  std::string name;
  qa::CandidateInputs in;
};
}  // namespace Sheet

// Evaluates each tile and writes them side by side (rows of 8) with the verdict underneath.
void WriteSheet(std::vector<Sheet::Tile>& tiles, const std::string& path) {
  const int side = 300;
  std::vector<cv::Mat> rows, row;
  for (Sheet::Tile& t : tiles) {
    qa::CandidateQa result = qa::Evaluate(t.in, qa::QaConfig{});
    cv::Mat tile(side + 60, side, CV_8UC3, cv::Scalar(255, 255, 255));
    cv::Mat view;
    double s =
        static_cast<double>(side) / std::max(t.in.candidate_bgr.cols, t.in.candidate_bgr.rows);
    cv::resize(t.in.candidate_bgr, view, cv::Size(), s, s, cv::INTER_AREA);
    view.copyTo(tile(cv::Rect(0, 0, view.cols, view.rows)));
    char line[128];
    std::snprintf(line, sizeof(line), "%s: %s %.2f", t.name.c_str(),
                  result.rejected ? "REJECTED" : "ok", result.score);
    cv::putText(tile, line, {4, side + 18}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
                result.rejected ? cv::Scalar(0, 0, 200) : cv::Scalar(0, 140, 0), 1, cv::LINE_AA);
    std::string why = result.reasons.empty() ? "" : result.reasons[0].substr(0, 48);
    cv::putText(tile, why, {4, side + 40}, cv::FONT_HERSHEY_SIMPLEX, 0.33, {0, 0, 0}, 1,
                cv::LINE_AA);
    row.push_back(tile);
    if (row.size() == 8) {
      cv::Mat r;
      cv::hconcat(row, r);
      rows.push_back(r);
      row.clear();
    }
  }
  if (!row.empty()) {
    while (row.size() < 8 && !rows.empty())
      row.push_back(cv::Mat(side + 60, side, CV_8UC3, cv::Scalar::all(255)));
    cv::Mat r;
    cv::hconcat(row, r);
    rows.push_back(r);
  }
  cv::Mat sheet;
  cv::vconcat(rows, sheet);
  cv::imwrite(path, sheet);
  std::printf("contact sheet: %s\n", path.c_str());
}

std::string SharedData() {
  if (const char* env = std::getenv("VITRINE_SHARED_DATA")) return env;
  return std::string(VITRINE_SOURCE_DIR) + "/../shared/data";
}

// The real RGBA cutouts of DATA/c_rgba_cutouts, each staged 6 ways (white, light grey, a studio
// colour, a gradient, one of DATA/e_staging_backdrops, white as JPEG q90; 500x500) as good
// candidates, and broken 7 ways (MakeDefects). Prints the false-rejection rate and the
// detection of each defect; writes a sheet of the first good candidates.
bool RealData(const qa::Brisque* brisque, const std::string& out_dir) {
  namespace fs = std::filesystem;
  const fs::path data = SharedData();
  std::vector<fs::path> cutouts, backdrops;
  for (const char* dir : {"c_rgba_cutouts", "e_staging_backdrops"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(data / dir, ec)) {
      (std::string(dir) == "c_rgba_cutouts" ? cutouts : backdrops).push_back(e.path());
    }
  }
  std::sort(cutouts.begin(), cutouts.end());
  std::sort(backdrops.begin(), backdrops.end());
  if (cutouts.empty() || backdrops.empty()) {
    std::fprintf(stderr, "no cutouts or backdrops under %s; set VITRINE_SHARED_DATA\n",
                 data.c_str());
    return false;
  }
  const cv::Size size(500, 500);
  int good = 0, false_rejections = 0, touching = 0;
  std::map<std::string, std::pair<int, int>> defects;  // made, caught
  std::vector<Sheet::Tile> tiles;
  for (size_t n = 0; n < cutouts.size(); ++n) {
    cv::Mat rgba = cv::imread(cutouts[n].string(), cv::IMREAD_UNCHANGED);
    if (rgba.empty() || rgba.channels() != 4 || rgba.depth() != CV_8U) continue;
    double s = std::min(1.0, 640.0 / std::max(rgba.cols, rgba.rows));
    if (s < 1) cv::resize(rgba, rgba, cv::Size(), s, s, cv::INTER_AREA);
    // These cutouts are cropped to the product; a supplier photo has room around it.
    int pad = std::max(rgba.cols, rgba.rows) / 10;
    cv::Mat alpha_only;
    cv::extractChannel(rgba, alpha_only, 3);
    if (cv::boundingRect(alpha_only > 0) != cv::Rect(0, 0, rgba.cols, rgba.rows)) ++touching;
    cv::copyMakeBorder(rgba, rgba, pad, pad, pad, pad, cv::BORDER_CONSTANT, cv::Scalar::all(0));
    td::Source source;
    cv::cvtColor(rgba, source.bgr, cv::COLOR_BGRA2BGR);
    cv::extractChannel(rgba, source.alpha, 3);
    source.segmenter_mask = source.alpha.clone();

    cv::Mat scene = cv::imread(backdrops[n % backdrops.size()].string(), cv::IMREAD_COLOR);
    cv::resize(scene, scene, size, 0, 0, cv::INTER_AREA);
    const int seed = static_cast<int>(n);
    struct Look {
      cv::Mat backdrop;
      double fill;
      bool jpeg;
    };
    const Look looks[] = {{td::MakeCanvas(size, td::Canvas::kWhite, seed), 0.85, false},
                          {td::MakeCanvas(size, td::Canvas::kLightGrey, seed), 0.7, false},
                          {td::MakeCanvas(size, td::Canvas::kStudioColour, seed), 0.6, false},
                          {td::MakeCanvas(size, td::Canvas::kGradient, seed), 0.75, false},
                          {scene, 0.65, false},
                          {td::MakeCanvas(size, td::Canvas::kWhite, seed), 0.8, true}};
    for (const Look& look : looks) {
      cv::Rect place = td::FitPlacement(source.alpha, size, look.fill, seed);
      cv::Mat candidate = td::StageOn(source.bgr, source.alpha, look.backdrop, place).bgr;
      if (look.jpeg) {
        std::vector<uchar> bytes;
        cv::imencode(".jpg", candidate, bytes, {cv::IMWRITE_JPEG_QUALITY, 90});
        candidate = cv::imdecode(bytes, cv::IMREAD_COLOR);
      }
      qa::CandidateInputs in = Inputs(source, source.alpha, candidate, place, brisque);
      qa::CandidateQa result = qa::Evaluate(in, qa::QaConfig{});
      ++good;
      if (result.rejected) {
        ++false_rejections;
        std::printf("  false rejection %s: %s\n", cutouts[n].filename().c_str(),
                    result.reasons[0].c_str());
      }
      if (tiles.size() < 16 && &look == &looks[n % 6]) {
        tiles.push_back({cutouts[n].stem().string(), in});
      }
    }
    for (const td::Defective& d :
         td::MakeDefects(source, seed % 2 ? scene : looks[0].backdrop, 0.75, seed)) {
      qa::CandidateQa result =
          qa::Evaluate(Inputs(d.source, d.cutout_alpha, d.candidate, d.placement, brisque), {});
      bool caught = td::CaughtForTheRightReason(result, d);
      auto& [made, hit] = defects[d.defect];
      ++made;
      hit += caught;
      if (!caught) {
        std::printf("  missed %s on %s: %s\n", d.defect.c_str(), cutouts[n].filename().c_str(),
                    result.reasons.empty() ? "accepted" : result.reasons[0].c_str());
      }
    }
  }
  std::printf("real cutouts (%zu from %s, %d not cropped to the product), 500x500 candidates:\n",
              cutouts.size(), (data / "c_rgba_cutouts").c_str(), touching);
  std::printf("  good candidates %d, falsely rejected %d (%.1f%%)\n", good, false_rejections,
              100.0 * false_rejections / good);
  for (const auto& [defect, counts] : defects) {
    std::printf("  %-15s caught %d of %d\n", defect.c_str(), counts.second, counts.first);
  }
  WriteSheet(tiles, out_dir + "/qa_real_sheet.png");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_dir = argc > 1 ? argv[1] : std::string(VITRINE_SOURCE_DIR) + "/bench/out/qa";
  std::filesystem::create_directories(out_dir);
  cv::setNumThreads(1);
  auto brisque = qa::Brisque::Load();
  if (!brisque.ok()) {
    std::fprintf(stderr, "%s\n", brisque.status().ToString().c_str());
    return 1;
  }
  Timing(brisque->get(), 2000);
  Timing(brisque->get(), 1000);

  // BRISQUE per canvas kind, whole frame and product rectangle, 400 px candidates.
  const char* names[] = {"white", "light grey", "studio colour", "gradient", "scene"};
  std::printf("BRISQUE of good 400x400 candidates (8 products each), min / mean / max:\n");
  for (int k = 0; k < 5; ++k) {
    double lo = 1e9, hi = -1e9, sum = 0, clo = 1e9, chi = -1e9, csum = 0;
    for (int seed = 0; seed < 8; ++seed) {
      td::Source s = td::MakeSource(seed);
      cv::Rect place = td::FitPlacement(s.alpha, {400, 400}, 0.75, seed);
      auto staged = td::Stage(s.bgr, s.alpha, {400, 400}, place, static_cast<td::Canvas>(k), seed);
      double v = (*brisque)->Score(staged.bgr, 512).value();
      lo = std::min(lo, v), hi = std::max(hi, v), sum += v;
      double c = (*brisque)->Score(staged.bgr(place & cv::Rect(0, 0, 400, 400)), 512).value();
      clo = std::min(clo, c), chi = std::max(chi, c), csum += c;
    }
    std::printf(
        "  %-14s whole frame %5.1f / %5.1f / %5.1f   product rectangle %5.1f / %5.1f / %5.1f\n",
        names[k], lo, sum / 8, hi, clo, csum / 8, chi);
  }

  // Likeness of one product's candidates on each canvas, same placement.
  {
    td::Source s = td::MakeSource(0);
    cv::Rect place = td::FitPlacement(s.alpha, {400, 400}, 0.75, 0);
    std::vector<qa::Fingerprint> prints;
    for (int k = 0; k < 5; ++k) {
      auto staged = td::Stage(s.bgr, s.alpha, {400, 400}, place, static_cast<td::Canvas>(k), 0);
      prints.push_back(qa::MakeFingerprint(staged.bgr));
    }
    std::printf("pHash distance / thumbnail ΔE2000 between canvases (same product, placement):\n");
    for (int a = 0; a < 5; ++a) {
      std::printf("  %-14s", names[a]);
      for (int b = 0; b < 5; ++b) {
        qa::Likeness l = qa::Compare(prints[a], prints[b]);
        std::printf(" %3d/%4.1f", l.hash_distance, l.colour_difference);
      }
      std::printf("\n");
    }
  }

  // A contact sheet: one good candidate and each defect, with the verdict written under it.
  {
    td::Source s = td::MakeSource(2);
    cv::Mat backdrop = td::MakeCanvas({300, 300}, td::Canvas::kStudioColour, 2);
    cv::Rect place = td::FitPlacement(s.alpha, backdrop.size(), 0.75, 2);
    std::vector<Sheet::Tile> tiles = {
        {"good", Inputs(s, s.alpha, td::StageOn(s.bgr, s.alpha, backdrop, place).bgr, place,
                        brisque->get())}};
    for (const td::Defective& d : td::MakeDefects(s, backdrop, 0.75, 2)) {
      tiles.push_back(
          {d.defect, Inputs(d.source, d.cutout_alpha, d.candidate, d.placement, brisque->get())});
    }
    WriteSheet(tiles, out_dir + "/qa_sheet.png");
  }
  if (!RealData(brisque->get(), out_dir)) return 1;
  return 0;
}
