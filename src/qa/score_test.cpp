#include "qa/score.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "qa/candidate_testdata.h"

namespace vitrine::qa {
namespace {

using testdata::Canvas;

const Brisque* SharedBrisque() {
  static std::unique_ptr<Brisque> brisque = [] {
    auto loaded = Brisque::Load();
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.status().ToString();
      return std::unique_ptr<Brisque>();
    }
    return std::move(loaded).value();
  }();
  return brisque.get();
}

cv::Mat Jpeg(const cv::Mat& bgr, int quality) {
  std::vector<uchar> bytes;
  cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, quality});
  return cv::imdecode(bytes, cv::IMREAD_COLOR);
}

// A candidate as the pipeline would hand it to QA.
CandidateInputs Inputs(const std::string& id, const testdata::Source& source,
                       const cv::Mat& cutout_alpha, const cv::Mat& candidate, cv::Rect placement) {
  CandidateInputs in;
  in.id = id;
  in.source_bgr = source.bgr;
  in.source_alpha = cutout_alpha;
  in.source_mask = source.segmenter_mask;
  in.candidate_bgr = candidate;
  in.placement = placement;
  in.text_coverage = [](const cv::Mat& bgr) -> Result<double> {
    return testdata::MagentaShare(bgr);
  };
  in.brisque = SharedBrisque();
  return in;
}

std::string Describe(const CandidateQa& qa) {
  std::string s = qa.id + (qa.rejected ? " rejected:" : " accepted:");
  for (const std::string& r : qa.reasons) s += " [" + r + "]";
  char score[32];
  std::snprintf(score, sizeof(score), " score %.2f", qa.score);
  return s + score;
}

// Good candidates: 8 products x 6 stagings (white, grey, studio colour, gradient and scene
// canvases; sizes 240..520 px; the product filling 45..88% of the short side; half of them
// JPEG-compressed as an export would be). None is broken, so QA should accept nearly all.
TEST(QaEarnsItsPlace, RejectsAtMostFivePercentOfGoodCandidates) {
  const Canvas canvases[] = {Canvas::kWhite,    Canvas::kLightGrey, Canvas::kStudioColour,
                             Canvas::kGradient, Canvas::kScene,     Canvas::kWhite};
  const cv::Size sizes[] = {{400, 400}, {520, 520}, {300, 400}, {480, 360}, {240, 240}, {500, 500}};
  const double fills[] = {0.88, 0.75, 0.6, 0.45, 0.8, 0.7};
  int total = 0, rejected = 0;
  std::map<std::string, std::pair<double, double>> range;  // of each check's values
  for (int seed = 0; seed < 8; ++seed) {
    auto source = testdata::MakeSource(seed);
    for (int k = 0; k < 6; ++k) {
      cv::Rect placement = testdata::FitPlacement(source.alpha, sizes[k], fills[k], seed * 10 + k);
      auto staged = testdata::Stage(source.bgr, source.alpha, sizes[k], placement, canvases[k],
                                    seed * 10 + k);
      cv::Mat candidate = (seed + k) % 2 ? Jpeg(staged.bgr, 90) : staged.bgr;
      CandidateQa qa = Evaluate(Inputs("good" + std::to_string(seed) + "_" + std::to_string(k),
                                       source, source.alpha, candidate, placement),
                                QaConfig{});
      for (const Check& c : qa.checks) {
        auto [it, added] = range.try_emplace(c.id, c.value, c.value);
        it->second = {std::min(it->second.first, c.value), std::max(it->second.second, c.value)};
      }
      ++total;
      if (qa.rejected) {
        ++rejected;
        ADD_FAILURE() << "good candidate " << Describe(qa);
      }
      EXPECT_TRUE(qa.skipped.empty());
    }
  }
  std::printf("good candidates: %d, rejected: %d (%.1f%%)\n", total, rejected,
              100.0 * rejected / total);
  for (const auto& [id, r] : range) {
    std::printf("  %-18s %.3f .. %.3f\n", id.c_str(), r.first, r.second);
  }
  EXPECT_GE(total, 40);
  EXPECT_LE(rejected, total * 5 / 100);
}

// Broken candidates, made on purpose, 6 of each of 7 defects (the four of the issue plus a
// frame-cut subject, fragments and a source photo that cuts the product): each must be rejected,
// and for its own reason.
TEST(QaEarnsItsPlace, RejectsEveryBrokenCandidateForTheRightReason) {
  std::map<std::string, int> made, caught;
  for (int seed = 0; seed < 6; ++seed) {
    auto source = testdata::MakeSource(seed);
    cv::Mat backdrop =
        testdata::MakeCanvas({400, 400}, seed % 2 ? Canvas::kWhite : Canvas::kStudioColour, seed);
    for (const testdata::Defective& d : testdata::MakeDefects(source, backdrop, 0.75, seed)) {
      CandidateQa qa = Evaluate(
          Inputs(d.defect, d.source, d.cutout_alpha, d.candidate, d.placement), QaConfig{});
      ++made[d.defect];
      if (testdata::CaughtForTheRightReason(qa, d)) {
        ++caught[d.defect];
      } else {
        ADD_FAILURE() << d.defect << " not caught by " << d.checks[0] << ": " << Describe(qa);
      }
    }
  }
  for (const auto& [defect, n] : made) {
    std::printf("%-15s caught %d of %d\n", defect.c_str(), caught[defect], n);
  }
  EXPECT_EQ(made.size(), 7u);
}

TEST(Evaluate, FailedComplianceRejectsAndAnUncheckableCandidateIsNotAccepted) {
  auto source = testdata::MakeSource(5);
  cv::Rect placement = testdata::FitPlacement(source.alpha, {300, 300}, 0.7, 5);
  auto staged = testdata::Stage(source.bgr, source.alpha, {300, 300}, placement, Canvas::kWhite, 5);
  CandidateInputs in = Inputs("c", source, source.alpha, staged.bgr, placement);
  in.compliance = {Check{"amazon.white_background", 0.9, 1.0, false, false,
                         "background is 90% pure white; Amazon needs 100%"}};
  CandidateQa qa = Evaluate(in, QaConfig{});
  EXPECT_TRUE(qa.rejected);
  ASSERT_EQ(qa.reasons.size(), 1u);
  EXPECT_EQ(qa.reasons[0], "background is 90% pure white; Amazon needs 100%");

  in.compliance.clear();
  in.text_coverage = [](const cv::Mat&) -> Result<double> {
    return ModelFailure("text detector failed to load");
  };
  qa = Evaluate(in, QaConfig{});
  EXPECT_TRUE(qa.rejected);
  ASSERT_EQ(qa.reasons.size(), 1u);
  EXPECT_NE(qa.reasons[0].find("could not check text.left: text detector failed to load"),
            std::string::npos);
}

TEST(Evaluate, GivesTheSameVerdictsFromConcurrentThreadsSharingOneBrisque) {
  std::vector<CandidateInputs> inputs;
  std::vector<testdata::Source> sources;
  for (int seed = 0; seed < 4; ++seed) sources.push_back(testdata::MakeSource(seed));
  for (int seed = 0; seed < 4; ++seed) {
    const testdata::Source& source = sources[seed];
    cv::Rect placement = testdata::FitPlacement(source.alpha, {320, 320}, 0.7, seed);
    auto staged = testdata::Stage(source.bgr, source.alpha, {320, 320}, placement,
                                  seed % 2 ? Canvas::kScene : Canvas::kWhite, seed);
    cv::Mat candidate = staged.bgr;
    if (seed == 3) cv::GaussianBlur(staged.bgr, candidate, cv::Size(), 3);
    inputs.push_back(Inputs(std::to_string(seed), source, source.alpha, candidate, placement));
  }
  std::vector<CandidateQa> sequential, parallel(inputs.size());
  for (const CandidateInputs& in : inputs) sequential.push_back(Evaluate(in, QaConfig{}));
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < inputs.size(); i += 2) parallel[i] = Evaluate(inputs[i], QaConfig{});
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(parallel[i].rejected, sequential[i].rejected);
    EXPECT_DOUBLE_EQ(parallel[i].score, sequential[i].score);
    EXPECT_EQ(parallel[i].reasons, sequential[i].reasons);
  }
  EXPECT_TRUE(sequential[3].rejected);
}

TEST(Evaluate, JudgesTheCandidatesOwnAlphaWhenGiven) {
  // The stage op reports the product's alpha in the candidate; here it left crumbs that the
  // source cutout does not have.
  auto source = testdata::MakeSource(4);
  cv::Rect placement = testdata::FitPlacement(source.alpha, {360, 360}, 0.7, 4);
  auto staged =
      testdata::Stage(source.bgr, source.alpha, {360, 360}, placement, Canvas::kLightGrey, 4);
  CandidateInputs in = Inputs("own alpha", source, source.alpha, staged.bgr, placement);
  in.candidate_alpha = staged.alpha;
  CandidateQa clean = Evaluate(in, QaConfig{});
  EXPECT_FALSE(clean.rejected) << Describe(clean);
  in.candidate_alpha = testdata::AddCrumbs(staged.alpha, 6, 7, 4);
  CandidateQa crumbs = Evaluate(in, QaConfig{});
  EXPECT_TRUE(crumbs.rejected);
  ASSERT_EQ(crumbs.reasons.size(), 1u) << Describe(crumbs);
  EXPECT_NE(crumbs.reasons[0].find("stray fragment"), std::string::npos);
}

TEST(Evaluate, APhotoThatCutsTheProductGivesNoMainImageButBleedingCandidatesPass) {
  // The supplier photo ends 70% of the way down the product.
  auto whole = testdata::MakeSource(2);
  const cv::Rect box = cv::boundingRect(whole.alpha > 0);
  const cv::Rect kept(0, 0, whole.bgr.cols, box.y + box.height * 7 / 10);
  testdata::Source source{whole.bgr(kept).clone(), whole.alpha(kept).clone(),
                          whole.segmenter_mask(kept).clone()};
  // Staged with the cut edge on the canvas's bottom edge, as the stage op does.
  const cv::Size canvas(360, 360);
  cv::Rect placement = testdata::FitPlacement(source.alpha, canvas, 0.7, 2);
  placement.y = canvas.height - placement.height;
  auto staged = testdata::Stage(source.bgr, source.alpha, canvas, placement, Canvas::kWhite, 2);
  CandidateInputs in = Inputs("bleeds", source, source.alpha, staged.bgr, placement);
  CandidateQa secondary = Evaluate(in, QaConfig{});
  EXPECT_FALSE(secondary.rejected) << Describe(secondary);

  in.main_image = true;
  CandidateQa main = Evaluate(in, QaConfig{});
  EXPECT_TRUE(main.rejected);
  ASSERT_EQ(main.reasons.size(), 1u) << Describe(main);
  EXPECT_EQ(main.reasons[0].rfind("source photo cuts the product at the bottom: supply an uncut "
                                  "photo for a main image",
                                  0),
            0u)
      << main.reasons[0];
}

TEST(Evaluate, ChecksALargeCandidateAtTheWorkingSize) {
  // 1400 px: reduced to QaConfig::work_side (1024) first, placement and all.
  auto source = testdata::MakeSource(2, {800, 960});
  cv::Mat backdrop = testdata::MakeCanvas({1400, 1400}, Canvas::kGradient, 2);
  cv::Rect placement = testdata::FitPlacement(source.alpha, backdrop.size(), 0.8, 2);
  auto good = testdata::StageOn(source.bgr, source.alpha, backdrop, placement);
  CandidateQa ok = Evaluate(Inputs("large", source, source.alpha, good.bgr, placement), {});
  EXPECT_FALSE(ok.rejected) << Describe(ok);
  EXPECT_GT(ok.score, 0.7) << Describe(ok);
  for (const testdata::Defective& d : testdata::MakeDefects(source, backdrop, 0.8, 2)) {
    CandidateQa qa =
        Evaluate(Inputs(d.defect, d.source, d.cutout_alpha, d.candidate, d.placement), QaConfig{});
    EXPECT_TRUE(testdata::CaughtForTheRightReason(qa, d)) << Describe(qa);
  }
}

TEST(Evaluate, NeverModifiesItsInputs) {
  auto source = testdata::MakeSource(6);
  cv::Rect placement = testdata::FitPlacement(source.alpha, {300, 300}, 0.7, 6);
  auto staged =
      testdata::Stage(source.bgr, source.alpha, {300, 300}, placement, Canvas::kGradient, 6);
  cv::Mat bgr = source.bgr.clone(), alpha = source.alpha.clone(), cand = staged.bgr.clone();
  CandidateQa qa = Evaluate(Inputs("c", source, source.alpha, staged.bgr, placement), QaConfig{});
  EXPECT_FALSE(qa.rejected) << Describe(qa);
  EXPECT_EQ(cv::norm(bgr, source.bgr, cv::NORM_INF), 0);
  EXPECT_EQ(cv::norm(alpha, source.alpha, cv::NORM_INF), 0);
  EXPECT_EQ(cv::norm(cand, staged.bgr, cv::NORM_INF), 0);
}

TEST(Rank, OrdersBySoftScoreDemotesNearDuplicatesAndPutsRejectedLast) {
  auto source = testdata::MakeSource(7);
  const cv::Size size(360, 360);
  cv::Rect placement = testdata::FitPlacement(source.alpha, size, 0.8, 7);
  auto white = testdata::Stage(source.bgr, source.alpha, size, placement, Canvas::kWhite, 7);
  cv::Rect other_place = testdata::FitPlacement(source.alpha, size, 0.5, 8);
  auto colour =
      testdata::Stage(source.bgr, source.alpha, size, other_place, Canvas::kStudioColour, 8);
  cv::Mat soft;  // slightly soft: passes the gates, scores lower
  cv::GaussianBlur(colour.bgr, soft, cv::Size(), 0.8);
  cv::Mat blurred;
  cv::GaussianBlur(white.bgr, blurred, cv::Size(), 3);
  // Same layout as `white` on a coloured canvas: another look, not a duplicate (pHash alone,
  // which sees luminance only, would call it one).
  auto recoloured =
      testdata::Stage(source.bgr, source.alpha, size, placement, Canvas::kStudioColour, 9);

  std::vector<CandidateQa> all;
  all.push_back(Evaluate(Inputs("blurred", source, source.alpha, blurred, placement), {}));
  all.push_back(Evaluate(Inputs("soft", source, source.alpha, soft, other_place), {}));
  all.push_back(Evaluate(Inputs("white", source, source.alpha, white.bgr, placement), {}));
  all.push_back(
      Evaluate(Inputs("white_jpeg", source, source.alpha, Jpeg(white.bgr, 85), placement), {}));
  all.push_back(Evaluate(Inputs("colour", source, source.alpha, colour.bgr, other_place), {}));
  all.push_back(
      Evaluate(Inputs("recoloured", source, source.alpha, recoloured.bgr, placement), {}));
  for (const CandidateQa& qa : all) std::printf("%s\n", Describe(qa).c_str());

  std::vector<Ranked> ranked = Rank(all);
  ASSERT_EQ(ranked.size(), 6u);
  std::vector<std::string> order;
  for (const Ranked& r : ranked) order.push_back(r.qa.id);
  // Three distinct looks first, by score; then the two demoted near-duplicates; then the reject.
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(ranked[i].accepted && !ranked[i].near_duplicate) << ranked[i].qa.id;
    if (i > 0) {
      EXPECT_GE(ranked[i - 1].qa.score, ranked[i].qa.score);
    }
  }
  EXPECT_EQ(ranked[5].qa.id, "blurred");
  EXPECT_FALSE(ranked[5].accepted);
  EXPECT_EQ(ranked[5].rank, 6);
  std::map<std::string, double> score_of;
  for (const Ranked& r : ranked) score_of[r.qa.id] = r.qa.score;
  // The JPEG re-encode duplicates the white candidate, the softened one the colour candidate:
  // each pair keeps its better-scored member among the distinct ones.
  const std::map<std::string, std::string> pair_of = {
      {"white", "white_jpeg"}, {"white_jpeg", "white"}, {"colour", "soft"}, {"soft", "colour"}};
  int demoted = 0;
  for (const Ranked& r : ranked) {
    if (!r.near_duplicate) continue;
    ++demoted;
    EXPECT_TRUE(r.accepted);
    EXPECT_EQ(r.duplicate_of, pair_of.at(r.qa.id));
    EXPECT_LE(r.qa.score, score_of[r.duplicate_of]) << r.qa.id;
    EXPECT_LE(r.likeness.hash_distance, 6);
  }
  EXPECT_EQ(demoted, 2) << ::testing::PrintToString(order);

  // What report.json gets: the verdict, the reasons and every measured value.
  nlohmann::json rejected = ToJson(ranked[5]);
  EXPECT_EQ(rejected["accepted"], false);
  EXPECT_EQ(rejected["reasons"][0], ranked[5].qa.reasons[0]);
  bool has_sharpness = false;
  for (const auto& c : rejected["checks"]) {
    if (c["id"] == "sharpness") {
      has_sharpness = true;
      EXPECT_FALSE(c["passed"].get<bool>());
      EXPECT_LT(c["value"].get<double>(), c["limit"].get<double>());
    }
  }
  EXPECT_TRUE(has_sharpness);
  nlohmann::json demoted_json = ToJson(ranked[3]);
  EXPECT_EQ(demoted_json["duplicate_of"], ranked[3].duplicate_of);
  EXPECT_EQ(demoted_json["rank"], 4);
}

}  // namespace
}  // namespace vitrine::qa
