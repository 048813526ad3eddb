#include "recipe/recipe.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/sha256.h"
#include "core/text.h"
#include "io/image_io.h"

namespace vitrine::recipe {
namespace internal {
// Generated at build time from data/recipes/*.json (see src/recipe/CMakeLists.txt).
std::vector<BuiltinRecipe> MakeBuiltinRecipes();
}  // namespace internal

namespace {
using nlohmann::json;

// The largest recipe file read.
constexpr int64_t kMaxRecipeBytes = 1 << 20;
const std::set<std::string> kReferences = {"sku", "title", "category", "size_cm"};
const std::set<std::string> kGenerators = {"sku.colors", "sku.scenes"};

Status Bad(const std::string& recipe, const std::string& place, const std::string& what) {
  std::string where = "recipe \"" + recipe + "\": ";
  if (!place.empty()) where += place + ": ";
  return InvalidArgument(where + what);
}

// Schema messages start with "<op>: "; the place in the recipe already names the op.
std::string SchemaMessage(const Status& status, const std::string& op) {
  const std::string prefix = op + ": ";
  const std::string& m = status.message();
  return m.rfind(prefix, 0) == 0 ? m.substr(prefix.size()) : m;
}

// Calls `visit(name, begin, end)` for every ${sku.NAME} in `text`; stops at the first error.
template <typename Visit>
Status ForEachReference(const std::string& text, Visit visit) {
  size_t at = 0;
  while ((at = text.find("${", at)) != std::string::npos) {
    size_t close = text.find('}', at);
    if (close == std::string::npos) {
      return InvalidArgument("'" + text + "' opens a reference with ${ but never closes it with }");
    }
    std::string inner = text.substr(at + 2, close - at - 2);
    if (inner.rfind("sku.", 0) != 0 || !kReferences.count(inner.substr(4))) {
      return InvalidArgument("unknown reference ${" + inner + "}; use ${sku.sku}, ${sku.title}, " +
                             "${sku.category} or ${sku.size_cm}");
    }
    RETURN_IF_ERROR(visit(inner.substr(4), at, close + 1));
    at = close + 1;
  }
  return Status::Ok();
}

std::string SkuValue(const SkuInfo& sku, const std::string& name) {
  if (name == "sku") return sku.sku;
  if (name == "title") return sku.title;
  if (name == "category") return sku.category;
  return sku.SizeText();
}

// Params with ${sku.*} references resolved against `sku`, or, when `sku` is null (validation
// before any SKU is known), with whole-value references dropped and embedded ones emptied.
Result<json> ResolveParams(const json& params, const SkuInfo* sku) {
  json out = json::object();
  for (const auto& [key, value] : params.items()) {
    if (!value.is_string()) {
      out[key] = value;
      continue;
    }
    const std::string& text = value.get_ref<const std::string&>();
    std::string resolved;
    size_t copied = 0;
    bool whole = false;
    Status status = ForEachReference(text, [&](const std::string& name, size_t begin, size_t end) {
      whole = begin == 0 && end == text.size();
      resolved += text.substr(copied, begin - copied);
      if (sku) resolved += SkuValue(*sku, name);
      copied = end;
      return Status::Ok();
    });
    if (!status.ok()) return status.WithContext("params." + key);
    resolved += text.substr(copied);
    if (whole && resolved.empty()) continue;  // the op's default applies
    out[key] = resolved;
  }
  return out;
}

void Merge(json& into, const json& from) {
  for (const auto& [key, value] : from.items()) into[key] = value;
}

// --- Parsing ---------------------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::string name) : name_(std::move(name)) {}

  Status Fail(const std::string& place, const std::string& what) const {
    return Bad(name_, place, what);
  }

  Status CheckKeys(const json& object, const std::string& place,
                   const std::set<std::string>& known) const {
    for (const auto& [key, value] : object.items()) {
      if (!known.count(key)) {
        return Fail(place, "unknown key \"" + key + "\"; known: " +
                               Join(std::vector<std::string>(known.begin(), known.end()), ", "));
      }
    }
    return Status::Ok();
  }

  Result<json> Params(const json& object, const std::string& place) const {
    auto it = object.find("params");
    if (it == object.end() || it->is_null()) return json::object();
    if (!it->is_object()) {
      return Fail(place, "\"params\" must be an object such as {\"fill\": 0.8}, got " + it->dump());
    }
    for (const auto& [key, value] : it->items()) {
      if (value.is_string()) {
        Status refs =
            ForEachReference(value.get<std::string>(),
                             [](const std::string&, size_t, size_t) { return Status::Ok(); });
        if (!refs.ok()) return Fail(place + ".params." + key, refs.message());
      }
    }
    return *it;
  }

  Result<std::string> String(const json& object, const std::string& key, const std::string& place,
                             bool required) const {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
      if (required) return Fail(place, "\"" + key + "\" is missing");
      return std::string();
    }
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      return Fail(place, "\"" + key + "\" must be a non-empty string, got " + it->dump());
    }
    return it->get<std::string>();
  }

  Result<Step> ParseStep(const json& j, const std::string& place) const {
    if (!j.is_object()) {
      return Fail(place, "a step must be an object such as {\"op\": \"cutout\"}, got " + j.dump());
    }
    RETURN_IF_ERROR(CheckKeys(j, place, {"id", "op", "params"}));
    Step step;
    ASSIGN_OR_RETURN(step.op, String(j, "op", place, true));
    ASSIGN_OR_RETURN(step.id, String(j, "id", place, false));
    ASSIGN_OR_RETURN(step.params, Params(j, place));
    return step;
  }

  Result<Override> ParseOverride(const json& j, const std::string& place,
                                 const std::set<std::string>& ids) const {
    Override o;
    ASSIGN_OR_RETURN(o.step, String(j, "step", place, true));
    if (!ids.count(o.step)) {
      return Fail(place, "\"step\": no step has the id '" + o.step + "'; steps: " +
                             Join(std::vector<std::string>(ids.begin(), ids.end()), ", "));
    }
    ASSIGN_OR_RETURN(o.params, Params(j, place));
    return o;
  }

  Result<AxisOption> ParseOption(const json& j, const std::string& place,
                                 const std::set<std::string>& ids) const {
    if (!j.is_object()) return Fail(place, "an option must be an object, got " + j.dump());
    AxisOption option;
    ASSIGN_OR_RETURN(option.label, String(j, "label", place, false));
    if (j.contains("each")) {
      RETURN_IF_ERROR(CheckKeys(j, place, {"each", "label", "step", "param", "params"}));
      ASSIGN_OR_RETURN(option.each, String(j, "each", place, true));
      if (!kGenerators.count(option.each)) {
        return Fail(place, "\"each\": '" + option.each + "' is not a SKU list; use sku.colors or " +
                               "sku.scenes");
      }
      ASSIGN_OR_RETURN(Override target, ParseOverride(j, place, ids));
      option.step = target.step;
      option.params = target.params;
      ASSIGN_OR_RETURN(option.param, String(j, "param", place, true));
      return option;
    }
    if (j.contains("set")) {
      RETURN_IF_ERROR(CheckKeys(j, place, {"label", "set"}));
      const json& set = j["set"];
      if (!set.is_array() || set.empty()) {
        return Fail(place, "\"set\" must be a non-empty list of {\"step\", \"params\"}");
      }
      for (size_t k = 0; k < set.size(); ++k) {
        const std::string at = place + ".set[" + std::to_string(k) + "]";
        if (!set[k].is_object()) return Fail(at, "expected {\"step\", \"params\"}");
        RETURN_IF_ERROR(CheckKeys(set[k], at, {"step", "params"}));
        ASSIGN_OR_RETURN(Override o, ParseOverride(set[k], at, ids));
        option.overrides.push_back(std::move(o));
      }
      return option;
    }
    RETURN_IF_ERROR(CheckKeys(j, place, {"label", "step", "params"}));
    ASSIGN_OR_RETURN(Override o, ParseOverride(j, place, ids));
    option.overrides.push_back(std::move(o));
    return option;
  }

 private:
  std::string name_;
};

}  // namespace

Result<Recipe> ParseRecipe(const json& j) {
  if (!j.is_object()) {
    return InvalidArgument("a recipe must be a JSON object with \"name\" and \"steps\"; got " +
                           j.dump().substr(0, 80));
  }
  Recipe recipe;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return InvalidArgument("a recipe needs a \"name\" (a non-empty string)");
  }
  recipe.name = name->get<std::string>();
  const Parser parse(recipe.name);
  RETURN_IF_ERROR(parse.CheckKeys(
      j, "",
      {"name", "doc", "version", "steps", "variants", "candidates", "export", "presets", "qa"}));
  ASSIGN_OR_RETURN(recipe.doc, parse.String(j, "doc", "", false));
  if (auto v = j.find("version"); v != j.end()) {
    if (!v->is_number_integer() || v->get<int>() < 1) {
      return parse.Fail("", "\"version\" must be a whole number from 1, got " + v->dump());
    }
    recipe.version = v->get<int>();
  }

  auto steps = j.find("steps");
  if (steps == j.end() || !steps->is_array() || steps->empty()) {
    return parse.Fail("", "\"steps\" must be a non-empty list of {\"op\", \"params\"}");
  }
  std::set<std::string> ids;
  for (size_t i = 0; i < steps->size(); ++i) {
    const std::string place = "steps[" + std::to_string(i) + "]";
    ASSIGN_OR_RETURN(Step step, parse.ParseStep((*steps)[i], place));
    const bool named = !step.id.empty();
    if (!named) step.id = step.op;
    if (!ids.insert(step.id).second) {
      return parse.Fail(place, named ? "the id '" + step.id + "' is used twice; ids must be unique"
                                     : "a second '" + step.op + "' step needs an \"id\" (e.g. \"" +
                                           step.op + "_2\") so variants can name it");
    }
    recipe.steps.push_back(std::move(step));
  }

  if (auto variants = j.find("variants"); variants != j.end() && !variants->is_null()) {
    if (!variants->is_object()) {
      return parse.Fail("variants", "must be an object: axis name -> list of options");
    }
    for (const auto& [axis_name, list] : variants->items()) {
      const std::string place = "variants." + axis_name;
      if (!list.is_array() || list.empty()) {
        return parse.Fail(place, "must be a non-empty list of options");
      }
      Axis axis{axis_name, {}};
      for (size_t k = 0; k < list.size(); ++k) {
        ASSIGN_OR_RETURN(AxisOption option,
                         parse.ParseOption(list[k], place + "[" + std::to_string(k) + "]", ids));
        axis.options.push_back(std::move(option));
      }
      recipe.axes.push_back(std::move(axis));
    }
  }

  recipe.candidates = 0;
  if (auto c = j.find("candidates"); c != j.end()) {
    if (!c->is_number_integer() || c->get<int>() < 0 || c->get<int>() > kMaxCandidates) {
      return parse.Fail("candidates", "must be a whole number from 0 (every combination) to " +
                                          std::to_string(kMaxCandidates) + ", got " + c->dump());
    }
    recipe.candidates = c->get<int>();
  }
  if (auto e = j.find("export"); e != j.end() && !e->is_null()) {
    ASSIGN_OR_RETURN(Step step, parse.ParseStep(*e, "export"));
    if (!step.id.empty()) return parse.Fail("export", "the export step takes no \"id\"");
    step.id = "export";
    recipe.export_step = std::move(step);
  }
  if (auto p = j.find("presets"); p != j.end() && !p->is_null()) {
    if (!p->is_array()) return parse.Fail("presets", "must be a list of preset names");
    for (const json& preset : *p) {
      if (!preset.is_string() || preset.get_ref<const std::string&>().empty()) {
        return parse.Fail("presets", "must be a list of preset names, got " + preset.dump());
      }
      recipe.presets.push_back(preset.get<std::string>());
    }
  }
  if (auto q = j.find("qa"); q != j.end() && !q->is_null()) {
    if (!q->is_object()) return parse.Fail("qa", "must be an object");
    recipe.qa = *q;
  }
  return recipe;
}

json Recipe::ToJson() const {
  auto step_json = [](const Step& s, bool with_id) {
    json j = {{"op", s.op}, {"params", s.params}};
    if (with_id) j["id"] = s.id;
    return j;
  };
  json steps_json = json::array();
  for (const Step& s : steps) steps_json.push_back(step_json(s, s.id != s.op));
  json variants = json::object();
  for (const Axis& axis : axes) {
    json options = json::array();
    for (const AxisOption& o : axis.options) {
      json j = json::object();
      if (!o.label.empty()) j["label"] = o.label;
      if (!o.each.empty()) {
        j.update({{"each", o.each}, {"step", o.step}, {"param", o.param}, {"params", o.params}});
      } else if (o.overrides.size() == 1) {
        j.update({{"step", o.overrides[0].step}, {"params", o.overrides[0].params}});
      } else {
        for (const Override& s : o.overrides) {
          j["set"].push_back({{"step", s.step}, {"params", s.params}});
        }
      }
      options.push_back(std::move(j));
    }
    variants[axis.name] = std::move(options);
  }
  json j = {{"name", name},
            {"version", version},
            {"steps", steps_json},
            {"variants", variants},
            {"candidates", candidates},
            {"presets", presets},
            {"qa", qa}};
  if (!doc.empty()) j["doc"] = doc;
  if (export_step) j["export"] = step_json(*export_step, false);
  return j;
}

// --- Validation and expansion ----------------------------------------------------------------

namespace {

// Index of the step with `id`; ParseRecipe guarantees it exists.
size_t StepIndex(const Recipe& recipe, const std::string& id) {
  for (size_t i = 0; i < recipe.steps.size(); ++i) {
    if (recipe.steps[i].id == id) return i;
  }
  return recipe.steps.size();
}

std::string StepPlace(const Recipe& recipe, size_t i) {
  return "steps[" + std::to_string(i) + "] (" + recipe.steps[i].op + ")";
}

// The op's schema check of `params`, with the place in the message.
Result<json> CheckParams(const Recipe& recipe, const ops::OpDef& def, const json& params,
                         const std::string& place) {
  Result<json> validated = def.schema.Validate(params);
  if (!validated.ok()) {
    return Bad(recipe.name, place, SchemaMessage(validated.status(), def.schema.name));
  }
  return validated;
}

Result<const ops::OpDef*> FindOp(const Recipe& recipe, const ops::Registry& registry,
                                 const std::string& op, const std::string& place) {
  const ops::OpDef* def = registry.Find(op);
  if (!def) {
    std::vector<std::string> known;
    for (const ops::OpDef* d : registry.All()) known.push_back(d->schema.name);
    return Bad(recipe.name, place,
               "unknown op '" + op + "'; known ops: " + Join(known, ", ") + " (`vitrine ops`)");
  }
  return def;
}

// One option with SKU lists expanded: its label and the params it sets per step.
struct ResolvedOption {
  std::string label;
  std::string place;  // "variants.background[2]"
  std::vector<Override> overrides;
};

std::string DeriveLabel(const std::vector<Override>& overrides) {
  std::vector<std::string> parts;
  for (const Override& o : overrides) {
    for (const auto& [key, value] : o.params.items()) {
      parts.push_back(value.is_string() ? value.get<std::string>() : key + "=" + value.dump());
    }
  }
  return parts.empty() ? "default" : Join(parts, "+");
}

// The options of `axis` for `sku`; null `sku` (validation) expands each generator to one sample.
std::vector<ResolvedOption> ResolveAxis(const Axis& axis, const SkuInfo* sku) {
  std::vector<ResolvedOption> out;
  for (size_t k = 0; k < axis.options.size(); ++k) {
    const AxisOption& o = axis.options[k];
    const std::string place = "variants." + axis.name + "[" + std::to_string(k) + "]";
    if (o.each.empty()) {
      out.push_back({o.label.empty() ? DeriveLabel(o.overrides) : o.label, place, o.overrides});
      continue;
    }
    const bool colors = o.each == "sku.colors";
    std::vector<std::string> values;
    if (sku) {
      values = colors ? sku->colors : sku->scenes;
    } else {
      values = {colors ? "#808080" : "scene.jpg"};
    }
    for (const std::string& value : values) {
      json params = o.params;
      params[o.param] = value;
      std::string label = colors ? value : std::filesystem::path(value).stem().string();
      if (!o.label.empty()) label = o.label + " " + label;
      out.push_back({label, place, {{o.step, params}}});
    }
  }
  return out;
}

// Picks `n` of the combinations of axes with the given option counts: each next pick uses the
// options used least so far (summed over axes), then differs most from every earlier pick (the
// smallest Hamming distance to them, maximised), then comes first in cartesian order.
std::vector<std::vector<int>> ChooseCombinations(const std::vector<int>& counts, int n) {
  int total = 1;
  for (int c : counts) total *= c;
  auto decode = [&](int index) {
    std::vector<int> combo(counts.size());
    for (size_t a = counts.size(); a-- > 0;) {
      combo[a] = index % counts[a];
      index /= counts[a];
    }
    return combo;
  };
  std::vector<std::vector<int>> usage(counts.size());
  for (size_t a = 0; a < counts.size(); ++a) usage[a].assign(counts[a], 0);
  std::vector<bool> taken(total, false);
  std::vector<std::vector<int>> chosen;
  while (static_cast<int>(chosen.size()) < n) {
    int best = -1, best_usage = 0, best_distance = -1;
    for (int index = 0; index < total; ++index) {
      if (taken[index]) continue;
      std::vector<int> combo = decode(index);
      int used = 0;
      for (size_t a = 0; a < counts.size(); ++a) used += usage[a][combo[a]];
      if (best >= 0 && used > best_usage) continue;
      int distance = static_cast<int>(counts.size());
      for (const std::vector<int>& other : chosen) {
        int d = 0;
        for (size_t a = 0; a < counts.size(); ++a) d += combo[a] != other[a];
        distance = std::min(distance, d);
      }
      if (best < 0 || used < best_usage || distance > best_distance) {
        best = index;
        best_usage = used;
        best_distance = distance;
      }
    }
    taken[best] = true;
    std::vector<int> combo = decode(best);
    for (size_t a = 0; a < counts.size(); ++a) ++usage[a][combo[a]];
    chosen.push_back(std::move(combo));
  }
  return chosen;
}

std::string PlanKey(const std::string& previous, const std::string& op, int version,
                    const json& params) {
  return Sha256Hex(previous + "\n" + op + "\n" + std::to_string(version) + "\n" +
                   CanonicalJson(params));
}

// Builds the step after `previous`, reusing an identical one made earlier for another candidate.
std::shared_ptr<const PlanStep> MakeStep(
    std::map<std::string, std::shared_ptr<const PlanStep>>& made, const std::string& id,
    const ops::OpDef& def, json params, std::shared_ptr<const PlanStep> previous) {
  const std::string key =
      PlanKey(previous ? previous->key : "", def.schema.name, def.schema.version, params);
  auto& slot = made[key];
  if (!slot) {
    slot = std::make_shared<const PlanStep>(PlanStep{id, def.schema.name, def.schema.version,
                                                     std::move(params), std::move(previous), key});
  }
  return slot;
}

std::vector<std::string> Dedup(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  }
  return out;
}

}  // namespace

Status Validate(const Recipe& recipe, const ops::Registry& registry) {
  std::vector<const ops::OpDef*> defs;
  std::vector<json> base;
  for (size_t i = 0; i < recipe.steps.size(); ++i) {
    ASSIGN_OR_RETURN(const ops::OpDef* def,
                     FindOp(recipe, registry, recipe.steps[i].op, StepPlace(recipe, i)));
    ASSIGN_OR_RETURN(json params, ResolveParams(recipe.steps[i].params, nullptr));
    RETURN_IF_ERROR(CheckParams(recipe, *def, params, StepPlace(recipe, i)).status());
    defs.push_back(def);
    base.push_back(std::move(params));
  }
  for (const Axis& axis : recipe.axes) {
    for (size_t k = 0; k < axis.options.size(); ++k) {
      const AxisOption& option = axis.options[k];
      if (!option.each.empty()) {
        const size_t i = StepIndex(recipe, option.step);
        const auto& fields = defs[i]->schema.fields;
        if (std::none_of(fields.begin(), fields.end(),
                         [&](const ops::Field& f) { return f.name == option.param; })) {
          return Bad(
              recipe.name, "variants." + axis.name + "[" + std::to_string(k) + "]",
              "\"param\": " + StepPlace(recipe, i) + " has no parameter '" + option.param + "'");
        }
      }
    }
    for (const ResolvedOption& option : ResolveAxis(axis, nullptr)) {
      for (const Override& o : option.overrides) {
        const size_t i = StepIndex(recipe, o.step);
        json params = base[i];
        ASSIGN_OR_RETURN(json overrides, ResolveParams(o.params, nullptr));
        Merge(params, overrides);
        RETURN_IF_ERROR(
            CheckParams(recipe, *defs[i], params, option.place + " -> " + StepPlace(recipe, i))
                .status());
      }
    }
  }
  if (recipe.export_step) {
    ASSIGN_OR_RETURN(const ops::OpDef* def,
                     FindOp(recipe, registry, recipe.export_step->op, "export"));
    ASSIGN_OR_RETURN(json params, ResolveParams(recipe.export_step->params, nullptr));
    for (const std::string& preset : recipe.presets) {
      json with_preset = params;
      with_preset["preset"] = preset;
      RETURN_IF_ERROR(
          CheckParams(recipe, *def, with_preset, "export (preset '" + preset + "')").status());
    }
    if (recipe.presets.empty())
      RETURN_IF_ERROR(CheckParams(recipe, *def, params, "export").status());
  }
  return Status::Ok();
}

Result<std::vector<CandidatePlan>> Expand(const Recipe& recipe, const SkuInfo& sku,
                                          const ExpandOptions& options,
                                          const ops::Registry& registry) {
  const std::string for_sku = "sku '" + sku.sku + "'";
  auto fail = [&](const std::string& what) { return Bad(recipe.name, for_sku, what); };

  std::vector<std::vector<ResolvedOption>> axes;
  std::vector<int> counts;
  long long total = 1;
  for (const Axis& axis : recipe.axes) {
    axes.push_back(ResolveAxis(axis, &sku));
    if (axes.back().empty()) {
      return fail("variants." + axis.name +
                  " has no option for this SKU (its list in the manifest is empty); add values "
                  "to the manifest's colors or scenes column");
    }
    counts.push_back(static_cast<int>(axes.back().size()));
    total *= counts.back();
    if (total > kMaxCombinations) {
      return fail("the variant axes span more than " + std::to_string(kMaxCombinations) +
                  " combinations; use fewer options");
    }
  }
  int n = options.candidates > 0 ? options.candidates : recipe.candidates;
  if (n == 0) {
    if (total > kMaxCandidates) {
      return fail("every combination of the axes is " + std::to_string(total) +
                  " candidates, more than the " + std::to_string(kMaxCandidates) +
                  " allowed; set \"candidates\" (or --candidates)");
    }
    n = static_cast<int>(total);
  }
  if (n > kMaxCandidates) {
    return fail(std::to_string(n) + " candidates asked for; the most is " +
                std::to_string(kMaxCandidates));
  }
  n = std::min<int>(n, static_cast<int>(total));

  std::vector<std::string> presets =
      Dedup(!options.presets.empty() ? options.presets
                                     : (!sku.presets.empty() ? sku.presets : recipe.presets));
  const ops::OpDef* export_def = nullptr;
  json export_params;
  if (recipe.export_step) {
    if (presets.empty()) {
      return fail(
          "nothing to export to: give presets (--presets, the manifest's presets column "
          "or the recipe's \"presets\")");
    }
    ASSIGN_OR_RETURN(export_def, FindOp(recipe, registry, recipe.export_step->op, "export"));
    ASSIGN_OR_RETURN(export_params, ResolveParams(recipe.export_step->params, &sku));
  }

  std::vector<const ops::OpDef*> defs;
  std::vector<json> base;
  for (size_t i = 0; i < recipe.steps.size(); ++i) {
    ASSIGN_OR_RETURN(const ops::OpDef* def,
                     FindOp(recipe, registry, recipe.steps[i].op, StepPlace(recipe, i)));
    ASSIGN_OR_RETURN(json params, ResolveParams(recipe.steps[i].params, &sku));
    defs.push_back(def);
    base.push_back(std::move(params));
  }

  std::map<std::string, std::shared_ptr<const PlanStep>> made;
  std::vector<CandidatePlan> plans;
  for (const std::vector<int>& combo : ChooseCombinations(counts, n)) {
    CandidatePlan plan;
    plan.index = static_cast<int>(plans.size());
    std::vector<json> params = base;
    std::vector<std::string> origin(recipe.steps.size());  // the option that last set a step
    std::vector<std::string> labels;
    for (size_t a = 0; a < axes.size(); ++a) {
      const ResolvedOption& option = axes[a][combo[a]];
      plan.choices[recipe.axes[a].name] = option.label;
      labels.push_back(recipe.axes[a].name + "=" + option.label);
      for (const Override& o : option.overrides) {
        const size_t i = StepIndex(recipe, o.step);
        ASSIGN_OR_RETURN(json values, ResolveParams(o.params, &sku));
        Merge(params[i], values);
        origin[i] = option.place + " -> ";
      }
    }
    plan.label = Join(labels, ", ");
    std::shared_ptr<const PlanStep> previous;
    for (size_t i = 0; i < recipe.steps.size(); ++i) {
      ASSIGN_OR_RETURN(json validated,
                       CheckParams(recipe, *defs[i], params[i],
                                   for_sku + ": " + origin[i] + StepPlace(recipe, i)));
      previous = MakeStep(made, recipe.steps[i].id, *defs[i], std::move(validated), previous);
      plan.steps.push_back(previous);
    }
    for (size_t p = 0; export_def && p < presets.size(); ++p) {
      json with_preset = export_params;
      with_preset["preset"] = presets[p];
      ASSIGN_OR_RETURN(json validated,
                       CheckParams(recipe, *export_def, with_preset,
                                   for_sku + ": export (preset '" + presets[p] + "')"));
      plan.exports[presets[p]] =
          MakeStep(made, "export", *export_def, std::move(validated), previous);
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

json CandidatePlan::ToJson() const {
  auto step_json = [](const PlanStep& step) {
    return json{{"id", step.id},
                {"op", step.op},
                {"version", step.op_version},
                {"params", step.params},
                {"key", step.key}};
  };
  json j = {{"index", index},
            {"label", label},
            {"choices", choices},
            {"steps", json::array()},
            {"exports", json::object()}};
  for (const auto& step : steps) j["steps"].push_back(step_json(*step));
  for (const auto& [preset, step] : exports) j["exports"][preset] = step_json(*step);
  return j;
}

Result<std::vector<CandidatePlan>> Expand(const Recipe& recipe, const SkuInfo& sku,
                                          int candidates) {
  ExpandOptions options;
  options.candidates = candidates;
  return Expand(recipe, sku, options);
}

std::string CanonicalJson(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

const std::vector<BuiltinRecipe>& BuiltinRecipes() {
  static const std::vector<BuiltinRecipe>* recipes = [] {
    auto* list = new std::vector<BuiltinRecipe>(internal::MakeBuiltinRecipes());
    std::sort(list->begin(), list->end(),
              [](const BuiltinRecipe& a, const BuiltinRecipe& b) { return a.name < b.name; });
    return list;
  }();
  return *recipes;
}

Result<Recipe> LoadRecipe(const std::string& name_or_path) {
  std::string text;
  std::string label = name_or_path;
  const auto& builtins = BuiltinRecipes();
  auto builtin = std::find_if(builtins.begin(), builtins.end(),
                              [&](const BuiltinRecipe& r) { return r.name == name_or_path; });
  if (builtin != builtins.end()) {
    text = builtin->json;
    label = "built-in recipe " + name_or_path;
  } else {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(name_or_path, ec)) {
      std::vector<std::string> names;
      for (const BuiltinRecipe& r : builtins) names.push_back(r.name);
      return NotFound("no built-in recipe or recipe file named '" + name_or_path +
                      "'; built-in recipes: " + Join(names, ", ") +
                      " (`vitrine recipes` describes them), or give the path of a JSON file");
    }
    ASSIGN_OR_RETURN(text, io::ReadFile(name_or_path, kMaxRecipeBytes));
  }
  json parsed;
  try {
    parsed = json::parse(text);
  } catch (const json::parse_error& e) {
    return InvalidArgument(label + " is not valid JSON (" + e.what() + "); fix the file");
  }
  return ParseRecipe(parsed);
}

}  // namespace vitrine::recipe
