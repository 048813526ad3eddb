// qa_bench: speed of the candidate QA (src/qa) and what BRISQUE says about staged candidates.
//
//   qa_bench [OUTDIR]
//
// 1. Time per candidate of the whole Evaluate() and of each check on a 2000x2000 candidate (and a
//    1000x1000 one), median of 5 runs, one thread; BRISQUE at full size and reduced to 1024 and
//    512 px (the default, QaConfig::brisque_max_side).
// 2. BRISQUE of good staged candidates per canvas kind, on the whole frame and on the product's
//    rectangle (what Evaluate() scores).
// 3. Writes a contact sheet of good and broken candidates with their verdicts to
//    OUTDIR/qa_sheet.png (default bench/out/qa), to look at.
// The data are made here (src/qa/candidate_testdata.h); nothing is read from ../shared/data.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
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
  std::printf("  Evaluate (all checks, BRISQUE at %d)  %7.1f ms\n",
              static_cast<int>(config.brisque_max_side),
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
  const cv::Size size(300, 300);
  td::Source s = td::MakeSource(2);
  cv::Rect place = td::FitPlacement(s.alpha, size, 0.75, 2);
  auto good = td::Stage(s.bgr, s.alpha, size, place, td::Canvas::kStudioColour, 2);
  cv::Mat half = td::DropHalf(s.alpha);
  cv::Rect half_place = td::FitPlacement(half, size, 0.75, 2);
  cv::Mat crumbs = td::AddCrumbs(s.alpha, 6, 7, 2);
  cv::Rect crumb_place = td::FitPlacement(crumbs, size, 0.75, 2);
  cv::Rect cut = place;
  cut.x = size.width - cut.width * 2 / 3;
  cv::Mat blurred;
  cv::GaussianBlur(good.bgr, blurred, cv::Size(), 3);
  struct Tile {
    std::string name;
    qa::CandidateInputs in;
  };
  std::vector<Tile> tiles = {
      {"good", Inputs(s, s.alpha, good.bgr, place, brisque->get())},
      {"half missing",
       Inputs(s, half, td::Stage(s.bgr, half, size, half_place, td::Canvas::kStudioColour, 2).bgr,
              half_place, brisque->get())},
      {"text left",
       Inputs(s, s.alpha, td::AddCaption(good.bgr, "NEW 2024"), place, brisque->get())},
      {"colour +15 a*",
       Inputs(s, s.alpha, td::ShiftProductColour(good, {0, 15, 0}), place, brisque->get())},
      {"blurred", Inputs(s, s.alpha, blurred, place, brisque->get())},
      {"frame cut",
       Inputs(s, s.alpha, td::Stage(s.bgr, s.alpha, size, cut, td::Canvas::kStudioColour, 2).bgr,
              cut, brisque->get())},
      {"fragments",
       Inputs(s, crumbs,
              td::Stage(s.bgr, crumbs, size, crumb_place, td::Canvas::kStudioColour, 2).bgr,
              crumb_place, brisque->get())},
  };
  std::vector<cv::Mat> row;
  for (Tile& t : tiles) {
    qa::CandidateQa result = qa::Evaluate(t.in, qa::QaConfig{});
    cv::Mat tile(size.height + 60, size.width, CV_8UC3, cv::Scalar(255, 255, 255));
    t.in.candidate_bgr.copyTo(tile(cv::Rect(0, 0, size.width, size.height)));
    char line[128];
    std::snprintf(line, sizeof(line), "%s: %s %.2f", t.name.c_str(),
                  result.rejected ? "REJECTED" : "ok", result.score);
    cv::putText(tile, line, {4, size.height + 18}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
                result.rejected ? cv::Scalar(0, 0, 200) : cv::Scalar(0, 140, 0), 1, cv::LINE_AA);
    std::string why = result.reasons.empty() ? "" : result.reasons[0].substr(0, 48);
    cv::putText(tile, why, {4, size.height + 40}, cv::FONT_HERSHEY_SIMPLEX, 0.33, {0, 0, 0}, 1,
                cv::LINE_AA);
    row.push_back(tile);
    std::printf("%-14s %s score %.2f %s\n", t.name.c_str(), result.rejected ? "REJECTED" : "ok",
                result.score, result.reasons.empty() ? "" : result.reasons[0].c_str());
  }
  cv::Mat sheet;
  cv::hconcat(row, sheet);
  cv::imwrite(out_dir + "/qa_sheet.png", sheet);
  std::printf("contact sheet: %s/qa_sheet.png\n", out_dir.c_str());
  return 0;
}
