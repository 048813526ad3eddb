#include "qa/score.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>
#include <opencv2/imgproc.hpp>

namespace vitrine::qa {
namespace {

// A check that could not be measured: hard failure, so the candidate is not accepted unchecked.
Check Unmeasured(const std::string& id, const Status& status) {
  return Check{id, 0, 0, false, true, "could not check " + id + ": " + status.message()};
}

template <typename T>
void AddOrFail(Result<T> result, const std::string& id, std::vector<Check>* checks) {
  if (!result.ok()) {
    checks->push_back(Unmeasured(id, result.status()));
    return;
  }
  if constexpr (std::is_same_v<T, Check>) {
    checks->push_back(std::move(result).value());
  } else {
    for (Check& c : result.value()) checks->push_back(std::move(c));
  }
}

double Clamp01(double v) { return std::clamp(v, 0.0, 1.0); }

}  // namespace

double SoftScore(const std::vector<Check>& checks, const QaConfig& config) {
  // The scored checks (score.h): their weight, and whether 1 is the best value (ratios, IoU)
  // rather than 0 (differences, shares, BRISQUE).
  struct Scored {
    const char* id;
    double QaConfig::*weight;
    bool one_is_best;
  };
  static constexpr Scored kScored[] = {
      {"sharpness", &QaConfig::weight_sharpness, true},
      {"colour.mean", &QaConfig::weight_colour_mean, false},
      {"colour.p95", &QaConfig::weight_colour_p95, false},
      {"quality.brisque", &QaConfig::weight_quality, false},
      {"cutout.source_iou", &QaConfig::weight_source_iou, true},
      {"cutout.holes", &QaConfig::weight_holes, false},
      {"text.left", &QaConfig::weight_text, false},
  };
  double sum = 0, weights = 0;
  for (const Check& c : checks) {
    for (const Scored& s : kScored) {
      if (c.id != s.id) continue;
      double g = 0;
      if (c.passed && s.one_is_best) {
        g = c.limit < 1 ? Clamp01((c.value - c.limit) / (1 - c.limit)) : 1;
      } else if (c.passed) {
        g = c.limit > 0 ? Clamp01(1 - c.value / c.limit) : 1;
      }
      sum += config.*s.weight * g;
      weights += config.*s.weight;
    }
  }
  return weights > 0 ? sum / weights : 1.0;
}

CandidateQa Evaluate(const CandidateInputs& in, const QaConfig& config) {
  CandidateQa qa;
  qa.id = in.id;
  std::vector<Check>& checks = qa.checks;
  if (in.candidate_bgr.empty() || in.candidate_bgr.type() != CV_8UC3) {
    checks.push_back(Unmeasured("candidate", InvalidArgument("the candidate must be a non-empty "
                                                             "8-bit BGR image")));
  } else {
    const bool has_source = !in.source_bgr.empty() || !in.source_alpha.empty();
    // The checks below run at work_side: the cost scales with the pixels, and a defect that
    // shows only above it (a 1 px blur on a 2000 px image) is not what QA is for.
    cv::Mat candidate = in.candidate_bgr, alpha = in.candidate_alpha;
    cv::Rect placement = in.placement;
    const double scale = config.work_side / std::max(candidate.cols, candidate.rows);
    if (scale < 1) {
      cv::resize(in.candidate_bgr, candidate, cv::Size(), scale, scale, cv::INTER_AREA);
      if (!alpha.empty())
        cv::resize(in.candidate_alpha, alpha, candidate.size(), 0, 0, cv::INTER_AREA);
      placement = cv::Rect(cvRound(placement.x * scale), cvRound(placement.y * scale),
                           cvRound(placement.width * scale), cvRound(placement.height * scale));
    }
    // The product's alpha in the candidate frame: given, or the source's at the placement.
    // (An unusable placement is reported by the sharpness and colour checks below.)
    if (has_source) {
      Result<PlacedProduct> placed =
          PlaceProduct(in.source_bgr, in.source_alpha, placement, candidate.size());
      if (placed.ok()) {
        if (alpha.empty()) alpha = placed->alpha;
        checks.push_back(OutsideFrame(*placed, config));
      }
    }
    // Where the source photo cuts the product, the product rightly bleeds off the canvas.
    FrameSides bleeds;
    const bool source_alpha_ok =
        has_source && !in.source_alpha.empty() && in.source_alpha.type() == CV_8UC1;
    if (source_alpha_ok) bleeds = CutSides(in.source_alpha, config.max_border_contact);
    if (!alpha.empty()) {
      for (Check& c : CutoutSanity(alpha, config, bleeds)) checks.push_back(std::move(c));
    } else {
      qa.skipped.push_back(
          "cutout: no product alpha (give candidate_alpha or a source and "
          "placement)");
    }
    if (!in.source_mask.empty()) {
      AddOrFail(SourceAgreement(in.source_alpha, in.source_mask, config), "cutout.source_iou",
                &checks);
    } else {
      qa.skipped.push_back("cutout.source_iou: no segmenter mask of the source");
    }
    if (has_source) {
      if (source_alpha_ok) {
        checks.push_back(
            SourceFrameCut(bleeds, placement, candidate.size(), in.main_image, config));
      } else {
        AddOrFail(
            SourceFrameCut(in.source_alpha, placement, candidate.size(), in.main_image, config),
            "cutout.source_frame_cut", &checks);
      }
      AddOrFail(Sharpness(in.source_bgr, in.source_alpha, candidate, placement, config),
                "sharpness", &checks);
      AddOrFail(ColourFidelity(in.source_bgr, in.source_alpha, candidate, placement, config),
                "colour", &checks);
    } else {
      qa.skipped.push_back("sharpness, colour: no source cutout");
    }
    if (in.brisque != nullptr) {
      // On the product's rectangle: over a flat canvas, whole-frame BRISQUE swings from 0 to 67
      // for the same product (docs/qa.md), while the product's own rendering is stable.
      cv::Rect product = placement & cv::Rect(cv::Point(0, 0), candidate.size());
      cv::Mat view = std::min(product.width, product.height) >= 64 ? candidate(product) : candidate;
      Result<double> brisque = in.brisque->Score(view, static_cast<int>(config.brisque_max_side));
      if (brisque.ok()) {
        checks.push_back(QualityCheck(*brisque, config));
      } else {
        // A soft check gates nothing, so a failed measurement only leaves the score.
        qa.skipped.push_back("quality.brisque: " + brisque.status().message());
      }
    } else {
      qa.skipped.push_back("quality.brisque: no BRISQUE model");
    }
    if (in.text_coverage) {
      AddOrFail(TextLeft(in.text_coverage, in.candidate_bgr, config), "text.left", &checks);
    } else {
      qa.skipped.push_back("text.left: no text detector");
    }
    qa.fingerprint = MakeFingerprint(candidate);
  }
  for (Check& c : Compliance(in.compliance)) checks.push_back(std::move(c));

  for (const Check& c : checks) {
    if (c.hard && !c.passed) qa.reasons.push_back(c.reason);
  }
  qa.rejected = !qa.reasons.empty();
  qa.score = qa.rejected ? 0 : SoftScore(checks, config);
  return qa;
}

std::vector<Ranked> Rank(std::vector<CandidateQa> candidates, const QaConfig& config) {
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const CandidateQa &x = candidates[a], &y = candidates[b];
    if (x.rejected != y.rejected) return !x.rejected;
    return x.score > y.score;
  });

  std::vector<Ranked> distinct, demoted, rejected;
  for (size_t i : order) {
    Ranked r;
    r.qa = std::move(candidates[i]);
    r.accepted = !r.qa.rejected;
    if (!r.accepted) {
      rejected.push_back(std::move(r));
      continue;
    }
    // Compare with the better candidates kept so far (distinct ones only: a duplicate of a
    // duplicate is judged against the original it resembles).
    for (const Ranked& kept : distinct) {
      Likeness likeness = Compare(r.qa.fingerprint, kept.qa.fingerprint);
      if (likeness.hash_distance <= config.max_duplicate_distance &&
          likeness.colour_difference <= config.max_duplicate_colour) {
        r.near_duplicate = true;
        r.duplicate_of = kept.qa.id;
        r.likeness = likeness;
        break;
      }
    }
    (r.near_duplicate ? demoted : distinct).push_back(std::move(r));
  }
  std::vector<Ranked> out;
  for (auto* group : {&distinct, &demoted, &rejected}) {
    for (Ranked& r : *group) out.push_back(std::move(r));
  }
  for (size_t i = 0; i < out.size(); ++i) out[i].rank = static_cast<int>(i) + 1;
  return out;
}

nlohmann::json ToJson(const Check& check) {
  return {{"id", check.id},         {"value", check.value}, {"limit", check.limit},
          {"passed", check.passed}, {"hard", check.hard},   {"reason", check.reason}};
}

nlohmann::json ToJson(const CandidateQa& qa) {
  nlohmann::json checks = nlohmann::json::array();
  for (const Check& c : qa.checks) checks.push_back(ToJson(c));
  return {{"id", qa.id},           {"rejected", qa.rejected}, {"score", qa.score},
          {"reasons", qa.reasons}, {"skipped", qa.skipped},   {"checks", checks}};
}

nlohmann::json ToJson(const Ranked& ranked) {
  nlohmann::json j = ToJson(ranked.qa);
  j["rank"] = ranked.rank;
  j["accepted"] = ranked.accepted;
  if (ranked.near_duplicate) {
    j["duplicate_of"] = ranked.duplicate_of;
    j["hash_distance"] = ranked.likeness.hash_distance;
    j["colour_difference"] = ranked.likeness.colour_difference;
  }
  return j;
}

}  // namespace vitrine::qa
