// The operation contract (DESIGN.md "An operation").
//
// An op is one file in src/ops/ holding a params struct, a schema and a run function, registered
// in one line with VITRINE_REGISTER_OP. The schema is the single source for validating params
// (recipes, API requests, CLI flags), for `vitrine ops --json`, and for generated docs.
//
// Ops never modify their input image: cv::Mat shares buffers, so an op clones before writing.
// Run functions are thread-safe: the registry is filled during static initialisation and read-only
// afterwards, and everything mutable an op needs comes through OpContext.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/image.h"
#include "core/status.h"

namespace vitrine::models {
class Runtime;
}

namespace vitrine::ops {

enum class FieldType { kBoolean, kInteger, kNumber, kString, kEnum, kColor };

struct Field {
  std::string name;
  FieldType type = FieldType::kString;
  nlohmann::json default_value;
  std::optional<double> min;         // kInteger, kNumber
  std::optional<double> max;         // kInteger, kNumber
  std::vector<std::string> choices;  // kEnum
  std::string doc;                   // one line
};

struct OpSchema {
  std::string name;  // stable snake_case
  int version = 1;   // bump when the output changes: caches key on it
  std::string doc;
  std::vector<Field> fields;
  std::vector<std::string> models;  // catalogue names the op needs
  bool deterministic = true;
  bool needs_alpha = false;
  bool generative = false;

  nlohmann::json ToJson() const;
  // Checks `params` (an object; null means {}) against the fields: unknown names, types, ranges
  // and choices. Returns the params with defaults filled in. Errors name the op and the field.
  Result<nlohmann::json> Validate(const nlohmann::json& params) const;
};

// What an op may use besides its input: configuration and loaded models. Borrowed, not owned.
struct OpContext {
  const Config* config = nullptr;
  models::Runtime* models = nullptr;
  // Where an op leaves warnings for the user (a product upscaled 3x, a scene without its
  // sidecar): one line each, no trailing period needed. May be null; per run, never shared
  // between threads.
  std::vector<std::string>* warnings = nullptr;
  // Where an op reports structured facts about its result for reports and QA (stage: the
  // product's "placement" [x, y, w, h]; remove_text: the "regions" it removed). A JSON object;
  // may be null. Facts must follow from the input and params alone: caches store them with the
  // image.
  nlohmann::json* facts = nullptr;
};

// Appends `message` to context.warnings when there is one.
void Warn(OpContext& context, std::string message);

using RunFn = std::function<Result<Image>(const Image& input, const nlohmann::json& params,
                                          OpContext& context)>;

struct OpDef {
  OpSchema schema;
  RunFn run;  // receives params already validated (defaults filled)
};

class Registry {
 public:
  static Registry& Global();
  // Returns true so it can initialise a static; aborts on a duplicate name (a programming error).
  bool Add(OpDef def);
  const OpDef* Find(const std::string& name) const;
  std::vector<const OpDef*> All() const;  // sorted by name

  // Validates params then runs the op; NotFound for an unknown op name.
  Result<Image> Run(const std::string& name, const Image& input, const nlohmann::json& params,
                    OpContext& context) const;

 private:
  std::vector<OpDef> ops_;
};

// Parses "#RRGGBB", "#RGB", "white", "black", ... into BGR with [3] = 255 (opaque), and
// "transparent" into (0, 0, 0, 0). InvalidArgument otherwise.
Result<cv::Scalar> ParseColor(const std::string& text);

}  // namespace vitrine::ops

// One line per op, at namespace scope in the op's file: VITRINE_REGISTER_OP(MakeCutoutOp());
#define VITRINE_REGISTER_OP(def_expr)                                                  \
  static const bool VITRINE_CONCAT(kVitrineOpRegistered_, __LINE__) [[maybe_unused]] = \
      ::vitrine::ops::Registry::Global().Add(def_expr)
