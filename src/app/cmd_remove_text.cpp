// `vitrine remove-text`: promotion text, banners and watermarks removed from product photos, the
// product's own printed text kept (unless --scope all); --report writes what was found.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>

#include "app/batch.h"
#include "app/commands.h"
#include "core/file.h"
#include "models/runtime.h"
#include "ops/op.h"
#include "ops/remove_text.h"

namespace vitrine::app {

void AddRemoveText(CLI::App& cli, const Config& config, int* exit_code) {
  auto* cmd = cli.add_subcommand(
      "remove-text", "Remove overlay text, price banners and watermarks from product photos");
  struct Args {
    std::string output_dir = "no_text";
    std::string scope = "overlay";
    std::string format = "png";
    std::string report;
    int jobs = 0;
    std::vector<std::string> inputs;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("-o,--output-dir", args->output_dir, "Folder for the results")
      ->capture_default_str();
  cmd->add_option("--scope", args->scope,
                  "overlay: text added on the photo (product text stays); all: every text")
      ->capture_default_str();
  cmd->add_option("-f,--format", args->format, "png, jpg or webp")->capture_default_str();
  cmd->add_option("--report", args->report,
                  "Write a JSON report: per image the regions found (text, kind), what was "
                  "removed, what is left, timings (with --jobs 1, CPU time per step too)");
  cmd->add_option("-j,--jobs", args->jobs, "Images processed at once; 0 = one per core")
      ->capture_default_str();
  cmd->add_option("inputs", args->inputs, "Image files or folders")->required();
  cmd->callback([args, &config, exit_code] {
    Result<io::Format> format = io::ParseFormat(args->format);
    if (!format.ok()) {
      *exit_code = Fail(format.status());
      return;
    }
    // The op's schema checks --scope, so the message matches the recipe's.
    Result<nlohmann::json> params =
        ops::Registry::Global().Find("remove_text")->schema.Validate({{"scope", args->scope}});
    if (!params.ok()) {
      *exit_code = Fail(InvalidArgument("--scope: " + params.status().message()));
      return;
    }
    auto [inputs, missing, options] =
        StartBatch(args->inputs, "cleaned", args->output_dir, *format, args->jobs, config);
    // Every net the scope needs, loaded up front: a missing model is said once, not per image.
    models::Runtime runtime(config);
    Result<const models::TextDetector*> detector = runtime.text_detector();
    Status ready = detector.ok() ? (*detector)->Reserve(options.jobs) : detector.status();
    if (ready.ok()) ready = runtime.text_recognizer().status();
    if (ready.ok() && args->scope == "overlay") ready = runtime.segmenter().status();
    if (!ready.ok()) {
      *exit_code = Fail(ready);
      return;
    }
    ops::RemoveTextOptions remove;
    remove.scope = args->scope == "all" ? ops::TextScope::kAll : ops::TextScope::kOverlay;
    std::map<std::string, std::string> file_of;  // stem -> first input with that stem
    for (const std::string& file : inputs) {
      file_of.emplace(std::filesystem::path(file).stem().string(), file);
    }
    std::mutex mutex;
    nlohmann::json entries = nlohmann::json::array();
    auto step = [&](const Image& image) -> Result<Image> {
      ops::RemoveTextReport report;
      ASSIGN_OR_RETURN(Image out, ops::RemoveText(image, remove, runtime, &report));
      if (!report.residual.empty()) {
        std::fprintf(stderr, "warning: %s: overlay text left in %zu region(s); check it by eye\n",
                     image.name.c_str(), report.residual.size());
      }
      nlohmann::json entry = report.FactsJson();
      int removed = 0;
      for (const ops::TextFinding& f : report.regions) removed += f.removed ? 1 : 0;
      auto file = file_of.find(image.name);
      entry["file"] = file == file_of.end() ? image.name : file->second;
      entry["removed"] = removed;
      const char* product_mask[] = {"none", "screen", "full"};
      entry["product_mask"] = product_mask[static_cast<int>(report.product_mask)];
      auto steps = [](const ops::RemoveTextReport::Timings& t) {
        return nlohmann::json{{"detect", t.detect},
                              {"recognise", t.recognise},
                              {"classify", t.classify},
                              {"inpaint", t.inpaint},
                              {"verify", t.verify}};
      };
      entry["timings"] = steps(report.timings);
      // The process's CPU time per step: with one image at a time, this image's.
      if (options.jobs == 1) entry["cpu_timings"] = steps(report.cpu_timings);
      std::lock_guard<std::mutex> lock(mutex);
      entries.push_back(std::move(entry));
      return out;
    };
    BatchReport batch = RunBatch(inputs, missing, config.limits, options, step);
    *exit_code = batch.failed > 0 ? 1 : 0;
    if (args->report.empty()) return;
    std::sort(entries.begin(), entries.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
      return a["file"].get<std::string>() < b["file"].get<std::string>();
    });
    Status written = WriteFileAtomic(args->report, entries.dump(2) + "\n");
    if (!written.ok()) *exit_code = Fail(written);
  });
}

}  // namespace vitrine::app
