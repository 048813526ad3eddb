// Evaluate one candidate (all checks of checks.h), then rank a SKU's candidates.
//
// Hard checks gate: a candidate with a failed hard check is rejected, with the reasons of every
// failed hard check, scores 0 and is never ranked as accepted. A hard check that cannot be
// measured (bad input, a detector error) counts as failed, because an unchecked candidate must
// not be exported as accepted; a soft one (BRISQUE) that cannot be measured is listed in
// `skipped` and leaves the score.
//
// Soft score in [0, 1]: the weighted mean of a goodness per scored check (weights in QaConfig):
//   sharpness          0.30  g = (ratio - limit) / (1 - limit), clamped   (1 at or above 1)
//   colour.mean        0.20  g = 1 - value / limit, clamped                (1 at ΔE 0)
//   colour.p95         0.10  g = 1 - value / limit, clamped
//   quality.brisque    0.20  g = 1 - value / limit, clamped
//   cutout.source_iou  0.10  g = (iou - limit) / (1 - limit), clamped
//   cutout.holes       0.05  g = 1 - value / limit, clamped
//   text.left          0.05  g = 1 - value / limit, clamped
// Checks that were not run (no source mask, no text detector...) leave the mean; with no scored
// check at all the score is 1. Gate-only checks (coverage, fragments, frame cut, compliance) do
// not score. A failed soft check has goodness 0, so it costs its whole weight.
//
// Rank: accepted candidates by score, best first; of a near-duplicate pair (pHash distance <=
// max_duplicate_distance and thumbnail colour difference <= max_duplicate_colour, see
// checks.h Fingerprint) the lower-scored one is demoted below every distinct accepted
// candidate; rejected candidates come last. Deterministic (ties keep input order).
//
// Thread-safe: Evaluate may run concurrently for different candidates (share one Brisque).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "qa/checks.h"
#include "qa/qa_config.h"

namespace vitrine::qa {

struct CandidateInputs {
  std::string id;  // names the candidate in reasons and rankings
  // The source cutout: the photo the product came from and the cutout's alpha (same size).
  // Both empty = no source comparison (sharpness, colour and source agreement are skipped).
  cv::Mat source_bgr;
  cv::Mat source_alpha;
  // Optional: the segmenter's mask of the source photo (CV_8UC1, same size), for "half missing".
  cv::Mat source_mask;
  // The staged candidate (CV_8UC3).
  cv::Mat candidate_bgr;
  // The product's alpha in the candidate frame. Empty: made from source_alpha and placement.
  cv::Mat candidate_alpha;
  // Where the bounding box of source_alpha landed in the candidate (the stage op reports it).
  cv::Rect placement;
  // A main image (on plain white, what a marketplace shows first): it must show the whole
  // product, so a source photo that cuts the product rejects it (see SourceFrameCut).
  bool main_image = false;
  // Rules from the presets module; failed ones are hard.
  std::vector<Check> compliance;
  // Optional tools, borrowed: text coverage detector and BRISQUE model. Absent = check skipped.
  // BRISQUE scores the product's rectangle (placement within the frame; the whole frame if that
  // is under 64x64 px), because flat canvases make a whole-frame score meaningless.
  TextCoverageFn text_coverage;
  const Brisque* brisque = nullptr;
};

struct CandidateQa {
  std::string id;
  std::vector<Check> checks;
  std::vector<std::string> skipped;  // checks not run and why
  bool rejected = false;
  std::vector<std::string> reasons;  // reasons of the failed hard checks
  double score = 0;                  // soft score in [0, 1]; 0 when rejected
  Fingerprint fingerprint;           // of the candidate, for near-duplicates (empty if no image)
};

struct Ranked {
  CandidateQa qa;
  int rank = 0;           // 1 = best
  bool accepted = false;  // not rejected (a demoted near-duplicate is still accepted)
  bool near_duplicate = false;
  std::string duplicate_of;  // id of the better candidate it duplicates
  Likeness likeness;         // to that candidate
};

CandidateQa Evaluate(const CandidateInputs& inputs, const QaConfig& config);

// The soft score of a set of checks (see the table above).
double SoftScore(const std::vector<Check>& checks, const QaConfig& config);

std::vector<Ranked> Rank(std::vector<CandidateQa> candidates, const QaConfig& config = {});

// For report.json and the review page: {"id", "value", "limit", "passed", "hard", "reason"};
// a candidate adds "rejected", "score", "reasons", "skipped", "checks"; a ranked one adds "rank",
// "accepted" and, for a demoted near-duplicate, "duplicate_of", "hash_distance",
// "colour_difference".
nlohmann::json ToJson(const Check& check);
nlohmann::json ToJson(const CandidateQa& qa);
nlohmann::json ToJson(const Ranked& ranked);

}  // namespace vitrine::qa
