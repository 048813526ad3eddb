// QaConfig: the limits and weights of the candidate QA (src/qa/checks.h, src/qa/score.h).
//
// Every field has a documented default (docs/qa.md lists them with the reasoning); a recipe may
// override any of them with a JSON object of the same names ({"max_colour_mean": 4}). A plain
// value struct: copy it freely, share it read-only between threads.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace vitrine::qa {

struct QaConfig {
  // --- Hard limits: a candidate that breaks one is rejected, never exported as accepted.
  // Product alpha's share of the candidate frame.
  double min_coverage = 0.03;
  double max_coverage = 0.92;
  // Area of stray pieces (qa::CutoutSanity says which pieces are strays) over the product's.
  double max_fragment_share = 0.01;
  // Product pixels on one image border, as a share of that border's length (all of them, not the
  // longest run: a chair cut through its legs touches in several short runs).
  // The same in the supplier's photo: above it the photo cuts the product, which then cannot be
  // a main image and must bleed off the canvas where it was cut (qa::SourceFrameCut).
  double max_border_contact = 0.05;
  // Share of the product (alpha mass) that the placement puts outside the candidate's frame.
  double max_outside_share = 0.005;
  // IoU of the cutout alpha with the segmenter's mask of the source photo ("half missing").
  double min_source_iou = 0.85;
  // Product high-frequency energy in the candidate over the source's at the same scale.
  double min_sharpness_ratio = 0.5;
  // CIEDE2000 between the product pixels before and after staging.
  double max_colour_mean = 4.5;
  double max_colour_p95 = 15.0;
  // Share of the image covered by overlay text still detected in the candidate.
  double max_text_share = 0.002;

  // --- Soft limits: a failure lowers the score but does not reject.
  // Enclosed transparent area over the filled product area (handles and rings have real holes).
  double max_hole_share = 0.05;
  // BRISQUE score (0 best, ~100 worst), computed with the long side reduced to brisque_max_side.
  double max_brisque = 60.0;
  double brisque_max_side = 512;

  // Long side at which the image checks run (larger candidates are reduced first; the text hook
  // and compliance rules see the full image).
  double work_side = 1024;

  // --- Ranking.
  // Two candidates are near-duplicates when their 64-bit pHash Hamming distance is at most
  // max_duplicate_distance and their 8x8 colour thumbnails differ by at most
  // max_duplicate_colour (mean ΔE2000); the lower-scored one of a pair is demoted.
  double max_duplicate_distance = 6;
  double max_duplicate_colour = 5;
  // Weights of the soft score (see score.h); they need not sum to 1.
  double weight_sharpness = 0.30;
  double weight_colour_mean = 0.20;
  double weight_colour_p95 = 0.10;
  double weight_quality = 0.20;
  double weight_source_iou = 0.10;
  double weight_holes = 0.05;
  double weight_text = 0.05;

  // InvalidArgument naming the field if a value is out of its range.
  Status Validate() const;
  nlohmann::json ToJson() const;
  // Defaults overridden by the keys of `overrides` (an object, or null for none). InvalidArgument
  // naming the key for an unknown key, a non-number or a value out of range.
  static Result<QaConfig> FromJson(const nlohmann::json& overrides);
};

}  // namespace vitrine::qa
