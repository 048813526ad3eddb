#include "qa/qa_config.h"

#include <array>
#include <nlohmann/json.hpp>
#include <string>

namespace vitrine::qa {
namespace {

struct FieldSpec {
  const char* name;
  double QaConfig::*member;
  double min;
  double max;
};

// One table drives validation, JSON overrides and printing, so they cannot disagree.
constexpr std::array kFields = {
    FieldSpec{"min_coverage", &QaConfig::min_coverage, 0, 1},
    FieldSpec{"max_coverage", &QaConfig::max_coverage, 0, 1},
    FieldSpec{"max_fragment_share", &QaConfig::max_fragment_share, 0, 1},
    FieldSpec{"max_border_contact", &QaConfig::max_border_contact, 0, 1},
    FieldSpec{"max_outside_share", &QaConfig::max_outside_share, 0, 1},
    FieldSpec{"min_source_iou", &QaConfig::min_source_iou, 0, 1},
    FieldSpec{"min_sharpness_ratio", &QaConfig::min_sharpness_ratio, 0, 10},
    FieldSpec{"max_colour_mean", &QaConfig::max_colour_mean, 0.1, 100},
    FieldSpec{"max_colour_p95", &QaConfig::max_colour_p95, 0.1, 100},
    FieldSpec{"max_text_share", &QaConfig::max_text_share, 0, 1},
    FieldSpec{"max_hole_share", &QaConfig::max_hole_share, 0.001, 1},
    FieldSpec{"max_brisque", &QaConfig::max_brisque, 1, 150},
    FieldSpec{"brisque_max_side", &QaConfig::brisque_max_side, 64, 8192},
    FieldSpec{"work_side", &QaConfig::work_side, 256, 16384},
    FieldSpec{"max_duplicate_distance", &QaConfig::max_duplicate_distance, 0, 64},
    FieldSpec{"max_duplicate_colour", &QaConfig::max_duplicate_colour, 0, 100},
    FieldSpec{"weight_sharpness", &QaConfig::weight_sharpness, 0, 100},
    FieldSpec{"weight_colour_mean", &QaConfig::weight_colour_mean, 0, 100},
    FieldSpec{"weight_colour_p95", &QaConfig::weight_colour_p95, 0, 100},
    FieldSpec{"weight_quality", &QaConfig::weight_quality, 0, 100},
    FieldSpec{"weight_source_iou", &QaConfig::weight_source_iou, 0, 100},
    FieldSpec{"weight_holes", &QaConfig::weight_holes, 0, 100},
    FieldSpec{"weight_text", &QaConfig::weight_text, 0, 100},
};

}  // namespace

Status QaConfig::Validate() const {
  for (const FieldSpec& f : kFields) {
    double v = this->*f.member;
    if (!(v >= f.min && v <= f.max)) {
      return InvalidArgument("qa." + std::string(f.name) + " is " + std::to_string(v) +
                             "; set it between " + std::to_string(f.min) + " and " +
                             std::to_string(f.max));
    }
  }
  if (min_coverage >= max_coverage) {
    return InvalidArgument("qa.min_coverage (" + std::to_string(min_coverage) +
                           ") must be below qa.max_coverage (" + std::to_string(max_coverage) +
                           ")");
  }
  return Status::Ok();
}

nlohmann::json QaConfig::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  for (const FieldSpec& f : kFields) j[f.name] = this->*f.member;
  return j;
}

Result<QaConfig> QaConfig::FromJson(const nlohmann::json& overrides) {
  QaConfig config;
  if (overrides.is_null()) return config;
  if (!overrides.is_object()) {
    return InvalidArgument(
        "qa settings must be a JSON object of limits, e.g. {\"max_colour_mean\": 4}");
  }
  for (const auto& [key, value] : overrides.items()) {
    const FieldSpec* spec = nullptr;
    for (const FieldSpec& f : kFields) {
      if (key == f.name) spec = &f;
    }
    if (spec == nullptr) {
      std::string known;
      for (const FieldSpec& f : kFields) known += (known.empty() ? "" : ", ") + std::string(f.name);
      return InvalidArgument("unknown qa setting \"" + key + "\"; known settings: " + known);
    }
    if (!value.is_number()) {
      return InvalidArgument("qa." + key + " must be a number, not " + value.dump());
    }
    config.*(spec->member) = value.get<double>();
  }
  RETURN_IF_ERROR(config.Validate());
  return config;
}

}  // namespace vitrine::qa
