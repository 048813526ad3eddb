// Recipes: what to do to a SKU's photo, as data. A recipe is a list of steps (op + params) and
// variant axes; Expand() turns it, for one SKU, into candidate plans: the exact ops and validated
// params to run for each candidate image, with shared prefixes shared.
//
// Recipe JSON (docs/recipes.md has the full guide and the built-in recipes):
//   {
//     "name": "localize", "doc": "...", "version": 1,
//     "steps": [ {"op": "remove_text", "params": {"scope": "overlay"}},
//                {"op": "cutout"},
//                {"id": "stage", "op": "stage", "params": {"size_cm": "${sku.size_cm}"}} ],
//     "variants": {
//       "background": [ {"label": "white", "step": "stage", "params": {"background": "white"}},
//                       {"each": "sku.scenes", "step": "stage", "param": "scene"} ],
//       "shadow":     [ {"step": "stage", "params": {"shadow": "contact"}}, ... ] },
//     "candidates": 8,
//     "export": {"op": "export", "params": {}},
//     "presets": ["amazon"],
//     "qa": { ... }
//   }
//
// Steps: `id` names the step for variant overrides; it defaults to the op name (a second step
// with the same op must be given an id). Params may hold SKU references: a string that is exactly
// "${sku.FIELD}" takes the SKU's value (and is dropped, so the op's default applies, when the SKU
// has none); a reference inside a longer string is replaced by the value's text. FIELD is one of
// sku, title, category, size_cm (as "W,H" or "W,H,D").
//
// Variants: each axis (object key; axes are combined in key order) is a list of options. An
// option sets params on one step ({"step", "params"}) or several ({"set": [{"step", "params"},
// ...]}), with an optional "label". A generator option {"each": "sku.colors" | "sku.scenes",
// "step", "param", "params"?} stands for one option per value of that SKU list (the value goes to
// `param`, the optional `params` come with it); an axis left with no option for a SKU is an
// error for that SKU. Overrides replace the step's params field by field.
//
// Candidates: how many combinations of the axes to keep (0 = all of them, up to
// kMaxCandidates). Combinations are chosen so that each axis's options are used as evenly as
// possible (every background before any repeats, paired with different shadows), not the first
// N of a cartesian product.
//
// Export and presets: when "export" is set, every candidate gets one export step per preset
// (params + {"preset": name}) after its last step. Presets come from ExpandOptions, else the
// SKU's presets, else the recipe's.
//
// QA: `qa` is kept as written (an object) for the QA stage of the runner.
//
// Thread safety: all functions are pure; a Recipe and the plans are immutable values that may be
// shared between threads.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "ops/op.h"
#include "recipe/manifest.h"

namespace vitrine::recipe {

// Most candidates one SKU may get (a guard against a recipe that explodes).
inline constexpr int kMaxCandidates = 64;
// Most combinations the axes of a recipe may span before candidates are chosen.
inline constexpr int kMaxCombinations = 4096;

struct Step {
  std::string id;  // unique in the recipe
  std::string op;
  nlohmann::json params = nlohmann::json::object();  // may hold ${sku.*} references
};

struct Override {
  std::string step;  // a Step::id
  nlohmann::json params = nlohmann::json::object();
};

// One option of an axis: fixed overrides, or a generator (`each` not empty).
struct AxisOption {
  std::string label;  // may be empty (Expand derives one)
  std::vector<Override> overrides;
  std::string each;  // "sku.colors" or "sku.scenes"; empty for a fixed option
  std::string step;  // with each: the step and param the value goes to
  std::string param;
  nlohmann::json params = nlohmann::json::object();  // with each: set alongside the value
};

struct Axis {
  std::string name;
  std::vector<AxisOption> options;
};

struct Recipe {
  std::string name;
  std::string doc;
  int version = 1;
  std::vector<Step> steps;
  std::vector<Axis> axes;  // sorted by name
  int candidates = 0;      // 0 (the default) = every combination
  std::optional<Step> export_step;
  std::vector<std::string> presets;
  nlohmann::json qa = nlohmann::json::object();

  nlohmann::json ToJson() const;  // parses back to an equal recipe
};

// Checks the JSON's shape (types, required keys, unique step ids, overrides naming existing
// steps, known ${sku.*} references, candidates in range). Does not look at op schemas: see
// Validate. InvalidArgument naming the recipe and the place ("recipe \"x\": steps[1]: ...").
Result<Recipe> ParseRecipe(const nlohmann::json& json);

// Checks every step's op exists in `registry` and its params, alone and with each variant
// option's overrides applied, pass the op's schema; the same for the export step with each
// preset. SKU references are checked as absent (the op's default) since their value is not known
// yet. InvalidArgument pointing at the place: `recipe "localize": steps[2] (stage): field
// "fill": 1.7 is above the maximum 1`, or `... variants.background[3] -> steps[2] (stage): ...`.
Status Validate(const Recipe& recipe, const ops::Registry& registry);

// One step of a plan. Steps are shared between the plans of one Expand() call: two candidates
// with the same prefix hold the same PlanStep objects, so a runner computes each once.
struct PlanStep {
  std::string id;  // the recipe's step id; "export" for export steps
  std::string op;
  int op_version = 1;
  nlohmann::json params;                     // validated, defaults filled, SKU references resolved
  std::shared_ptr<const PlanStep> previous;  // null for the first step
  // sha256 (hex) of op, op version, canonical params and the previous step's key: equal keys
  // mean the same computation on the same input. Independent of the input image and the models;
  // the cache key (recipe/cache.h) adds those.
  std::string key;
};

struct CandidatePlan {
  int index = 0;                                       // 0-based, in Expand's order
  std::string label;                                   // "background=white, shadow=contact"
  std::map<std::string, std::string> choices;          // axis -> option label
  std::vector<std::shared_ptr<const PlanStep>> steps;  // in order; steps[i]->previous == steps[i-1]
  std::map<std::string, std::shared_ptr<const PlanStep>>
      exports;  // preset -> export step (after steps.back())

  // {index, label, choices, steps: [{id, op, version, params, key}], exports: {preset: {...}}},
  // for reports and previews.
  nlohmann::json ToJson() const;
};

struct ExpandOptions {
  int candidates = 0;                // > 0 overrides the recipe's count
  std::vector<std::string> presets;  // non-empty overrides the SKU's and the recipe's
};

// The plans for one SKU, deterministic: the same recipe, SKU and options give the same plans in
// the same order. Errors (InvalidArgument, naming the recipe, SKU and place): an unknown op, params
// that fail a schema once SKU values are in, an axis with no option for this SKU (e.g. no
// colours for `variants`), more than kMaxCandidates candidates asked for, an export step with no
// preset to export to.
Result<std::vector<CandidatePlan>> Expand(const Recipe& recipe, const SkuInfo& sku,
                                          const ExpandOptions& options,
                                          const ops::Registry& registry = ops::Registry::Global());
Result<std::vector<CandidatePlan>> Expand(const Recipe& recipe, const SkuInfo& sku, int candidates);

// The JSON text that keys hash: object keys sorted (nlohmann::json keeps them so), no spaces,
// invalid UTF-8 replaced rather than thrown on.
std::string CanonicalJson(const nlohmann::json& value);

// Built-in recipes (data/recipes/*.json, compiled in): name -> JSON text, sorted by name.
struct BuiltinRecipe {
  std::string name;
  std::string json;
};
const std::vector<BuiltinRecipe>& BuiltinRecipes();

// A built-in recipe by name, or else a recipe file by path; parsed (not validated). NotFound
// naming the built-in recipes when it is neither; InvalidArgument for bad JSON (with the line
// and column) or a bad shape.
Result<Recipe> LoadRecipe(const std::string& name_or_path);

}  // namespace vitrine::recipe
