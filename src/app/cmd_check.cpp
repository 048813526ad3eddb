// vitrine check: the compliance gate on files already written.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/batch.h"
#include "app/commands.h"
#include "app/preset_flags.h"
#include "ops/remove_text.h"
#include "qa/compliance.h"

namespace vitrine::app {

void AddCheck(CLI::App& cli, const Config& config, int* exit_code) {
  auto* cmd = cli.add_subcommand(
      "check", "Check images against a marketplace preset: size, background, fill, bytes...");
  struct Args {
    PresetFlags preset;
    bool json = false;
    std::vector<std::string> inputs;
  };
  auto args = std::make_shared<Args>();
  args->preset.AddTo(cmd);
  cmd->add_flag("--json", args->json, "Print every rule of every file as JSON");
  cmd->add_option("inputs", args->inputs, "Image files or folders");
  cmd->callback([args, &config, exit_code] {
    auto usage = [exit_code](const std::string& message) {
      std::fprintf(stderr, "vitrine check: %s\n", message.c_str());
      *exit_code = 2;
    };
    Result<qa::Preset> preset = args->preset.Resolve(config);
    if (!preset.ok()) return usage(preset.status().message());
    if (args->inputs.empty()) return usage("name the image files or folders to check");

    std::vector<std::string> missing;
    std::vector<std::string> files = ExpandInputs(args->inputs, &missing);
    nlohmann::json all = nlohmann::json::array();
    int failed = 0;
    auto unreadable = [&](const std::string& file, const std::string& message) {
      ++failed;
      if (args->json) {
        all.push_back({{"file", file}, {"passed", false}, {"error", message}});
      } else {
        std::printf("FAIL %s\n  unreadable: %s\n", file.c_str(), message.c_str());
      }
    };
    for (const std::string& file : missing) {
      unreadable(file, file + ": no such file or folder; check the path");
    }
    models::Runtime runtime(config);  // the text detector loads when a preset forbids text
    qa::ComplianceOptions options;
    options.overlay_text_area = ops::OverlayTextArea(runtime);
    for (const std::string& file : files) {
      Result<qa::ComplianceReport> report = qa::CheckFile(file, config.limits, *preset, options);
      if (!report.ok()) {
        unreadable(file, report.status().message());
        continue;
      }
      if (!report->passed()) ++failed;
      if (args->json) {
        nlohmann::json j = report->ToJson();
        j["file"] = file;
        all.push_back(std::move(j));
        continue;
      }
      std::printf("%s %s\n", report->passed() ? "PASS" : "FAIL", file.c_str());
      for (const qa::RuleResult& rule : report->rules) {
        if (rule.failed()) {
          std::printf("  %s: %s (measured %s, limit %s)\n", rule.id.c_str(), rule.message.c_str(),
                      rule.measured.c_str(), rule.limit.c_str());
        } else if (rule.outcome == qa::Outcome::kNotChecked) {
          std::printf("  %s: %s\n", rule.id.c_str(), rule.message.c_str());
        }
      }
    }
    const int total = static_cast<int>(files.size() + missing.size());
    if (args->json) {
      std::printf("%s\n", all.dump(2).c_str());
    } else {
      std::printf("%d of %d images pass the %s preset\n", total - failed, total,
                  preset->name.c_str());
    }
    *exit_code = failed > 0 ? 1 : 0;
  });
}

}  // namespace vitrine::app
