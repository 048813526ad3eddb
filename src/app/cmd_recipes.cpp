// `vitrine recipes [--json] [NAME|FILE]`: the built-in recipes, or one recipe (built-in or a
// file) with its steps and variants, checked against the ops of this build.
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

}  // namespace

void AddRecipes(CLI::App& cli, const Config& /*config*/, int* exit_code) {
  auto* cmd = cli.add_subcommand(
      "recipes", "List the built-in recipes, or show and check one (a name or a JSON file)");
  struct Args {
    bool json = false;
    std::string name;
  };
  auto args = std::make_shared<Args>();
  cmd->add_flag("--json", args->json, "Print as JSON");
  cmd->add_option("recipe", args->name, "A built-in recipe's name or a recipe file to check");
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
