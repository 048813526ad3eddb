// `vitrine recipes [--json] [NAME|FILE [--manifest CSV|DIR [--candidates N] [--presets P,...]]]`:
// the built-in recipes, or one recipe (built-in or a file) with its steps and variants, checked
// against the ops of this build, or the candidates it would make for each SKU of a manifest.
#include <cstdio>

#include "app/commands.h"
#include "core/text.h"
#include "ops/op.h"
#include "recipe/recipe.h"

namespace vitrine::app {
namespace {

std::string OptionLabel(const recipe::AxisOption& option) {
  if (option.each.empty()) return option.label.empty() ? "(unnamed)" : option.label;
  const std::string column = option.each.substr(option.each.find('.') + 1);
  return (option.label.empty() ? "" : option.label + ": ") + "one per entry of the SKU's " + column;
}

void PrintRecipe(const recipe::Recipe& r) {
  std::printf("%s (v%d)\n  %s\n  steps:\n", r.name.c_str(), r.version, r.doc.c_str());
  for (size_t i = 0; i < r.steps.size(); ++i) {
    const recipe::Step& step = r.steps[i];
    std::string name = step.id == step.op ? step.op : step.id + " (" + step.op + ")";
    std::printf("    %zu. %-12s %s\n", i + 1, name.c_str(), step.params.dump().c_str());
  }
  if (!r.axes.empty()) std::printf("  variants:\n");
  for (const recipe::Axis& axis : r.axes) {
    std::vector<std::string> labels;
    for (const recipe::AxisOption& option : axis.options) labels.push_back(OptionLabel(option));
    std::printf("    %s: %s\n", axis.name.c_str(), Join(labels, ", ").c_str());
  }
  std::printf("  candidates: %s\n",
              r.candidates == 0 ? "every combination" : std::to_string(r.candidates).c_str());
  if (r.export_step) {
    std::printf("  export: %s %s for each preset (default: %s)\n", r.export_step->op.c_str(),
                r.export_step->params.dump().c_str(),
                r.presets.empty() ? "none; give --presets" : Join(r.presets, ", ").c_str());
  }
}

struct Args {
  bool json = false;
  std::string name;
  std::string manifest;
  int candidates = 0;
  std::vector<std::string> presets;
};

// The candidates the recipe would make for each SKU of the manifest, without running anything:
// a dry run before a night's batch. Returns the exit code.
int Preview(const recipe::Recipe& r, const Args& args) {
  Result<recipe::Manifest> manifest = recipe::LoadManifest(args.manifest);
  if (!manifest.ok()) return Fail(manifest.status());
  recipe::ExpandOptions options;
  options.candidates = args.candidates;
  options.presets = args.presets;
  nlohmann::json out = {{"recipe", r.name}, {"problems", nlohmann::json::array()}, {"skus", {}}};
  bool failed = !manifest->problems.empty();
  for (const recipe::ManifestProblem& p : manifest->problems) {
    out["problems"].push_back({{"line", p.line}, {"message", p.message}});
    std::fprintf(stderr, "vitrine: %s: line %d: %s\n", args.manifest.c_str(), p.line,
                 p.message.c_str());
  }
  for (const recipe::SkuInfo& sku : manifest->skus) {
    Result<std::vector<recipe::CandidatePlan>> plans = recipe::Expand(r, sku, options);
    nlohmann::json entry = {{"sku", sku.sku}};
    if (!plans.ok()) {
      failed = true;
      entry["error"] = plans.status().message();
      std::fprintf(stderr, "vitrine: %s\n", plans.status().message().c_str());
    } else {
      entry["candidates"] = nlohmann::json::array();
      for (const recipe::CandidatePlan& plan : *plans) entry["candidates"].push_back(plan.ToJson());
    }
    if (!args.json && plans.ok()) {
      std::printf("%s: %zu candidates\n", sku.sku.c_str(), plans->size());
      for (const recipe::CandidatePlan& plan : *plans) {
        std::vector<std::string> presets;
        for (const auto& [preset, step] : plan.exports) presets.push_back(preset);
        std::printf("  %d. %s%s%s\n", plan.index + 1,
                    plan.label.empty() ? "(no variants)" : plan.label.c_str(),
                    presets.empty() ? "" : " -> ", Join(presets, ", ").c_str());
      }
    }
    out["skus"].push_back(std::move(entry));
  }
  if (args.json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("SKUs: %zu, rows skipped: %zu%s\n", manifest->skus.size(),
                manifest->problems.size(), failed ? " (see the messages above)" : "");
  }
  return failed ? 2 : 0;
}

}  // namespace

void AddRecipes(CLI::App& cli, const Config& /*config*/, int* exit_code) {
  auto* cmd = cli.add_subcommand(
      "recipes", "List the built-in recipes, or show and check one (a name or a JSON file)");
  auto args = std::make_shared<Args>();
  cmd->add_flag("--json", args->json, "Print as JSON");
  cmd->add_option("recipe", args->name, "A built-in recipe's name or a recipe file to check");
  cmd->add_option("--manifest", args->manifest,
                  "With a recipe: list the candidates it would make for each SKU of this CSV "
                  "or folder (nothing is run)");
  cmd->add_option("--candidates", args->candidates,
                  "With --manifest: candidates per SKU (default: the recipe's)");
  cmd->add_option("--presets", args->presets,
                  "With --manifest: presets to export to (default: the SKU's, else the recipe's)")
      ->delimiter(',');
  cmd->callback([args, exit_code] {
    if (args->name.empty()) {
      nlohmann::json all = nlohmann::json::array();
      for (const recipe::BuiltinRecipe& builtin : recipe::BuiltinRecipes()) {
        Result<recipe::Recipe> r = recipe::LoadRecipe(builtin.name);
        if (!r.ok()) {
          *exit_code = Fail(r.status());
          return;
        }
        if (args->json) {
          all.push_back(r->ToJson());
          continue;
        }
        std::printf("%-11s %s\n", r->name.c_str(), r->doc.c_str());
      }
      if (args->json) std::printf("%s\n", all.dump(2).c_str());
      return;
    }
    Result<recipe::Recipe> r = recipe::LoadRecipe(args->name);
    if (!r.ok()) {
      *exit_code = Fail(r.status());
      return;
    }
    if (!args->manifest.empty()) {
      Status valid = recipe::Validate(*r, ops::Registry::Global());
      *exit_code = valid.ok() ? Preview(*r, *args) : Fail(valid);
      return;
    }
    if (args->json) {
      std::printf("%s\n", r->ToJson().dump(2).c_str());
    } else {
      PrintRecipe(*r);
    }
    Status valid = recipe::Validate(*r, ops::Registry::Global());
    if (!valid.ok()) *exit_code = Fail(valid);
  });
}

}  // namespace vitrine::app
