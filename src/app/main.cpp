// vitrine: the command line. Each subcommand is wired here; the work lives in the modules.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <opencv2/core.hpp>

#include "app/batch.h"
#include "app/commands.h"
#include "core/config.h"
#include "models/runtime.h"
#include "ops/op.h"

namespace vitrine::app {

// Images processed at once, and OpenCV's threads split between them. Inference scales poorly
// across cores within one image (ISNet at 1024^2: 3.4 s on one core, 2.5 s on two), so a batch
// runs one image per core; a single image gets every core.
int ResolveJobs(int requested, int images, const Config& config) {
  const int cores = config.models.threads > 0 ? config.models.threads : cv::getNumberOfCPUs();
  int jobs = requested > 0 ? requested : std::min(cores, images);
  jobs = std::max(1, jobs);
  cv::setNumThreads(std::max(1, cores / jobs));
  return jobs;
}

BatchStart StartBatch(const std::vector<std::string>& args, const std::string& verb,
                      const std::string& output_dir, io::Format format, int jobs,
                      const Config& config) {
  BatchStart start;
  start.inputs = ExpandInputs(args, &start.missing);
  start.options.verb = verb;
  start.options.output_dir = output_dir;
  start.options.encode.format = format;
  start.options.jobs = ResolveJobs(jobs, static_cast<int>(start.inputs.size()), config);
  return start;
}

int Fail(const Status& status) {
  std::fprintf(stderr, "vitrine: %s\n", status.message().c_str());
  return status.code() == Code::kInvalidArgument ? 2 : 1;
}

namespace {

void AddCutout(CLI::App& cli, const Config& config, int* exit_code) {
  auto* cmd = cli.add_subcommand("cutout", "Remove the background of product photos");
  struct Args {
    std::string output_dir = "cutouts";
    std::string background = "transparent";
    std::string format = "png";
    bool crop = false;
    double margin = 0.05;
    bool mask_only = false;
    bool no_refine = false;
    bool no_decontaminate = false;
    int jobs = 0;
    std::vector<std::string> inputs;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("-o,--output-dir", args->output_dir, "Folder for the results")
      ->capture_default_str();
  cmd->add_option("-b,--background", args->background, "transparent, white, or a colour #RRGGBB")
      ->capture_default_str();
  cmd->add_option("-f,--format", args->format, "png, webp or jpg (jpg has no transparency)")
      ->capture_default_str();
  cmd->add_flag("--crop", args->crop, "Crop to the subject plus a margin");
  cmd->add_option("--margin", args->margin, "With --crop: margin as a fraction of the subject")
      ->capture_default_str();
  cmd->add_flag("--mask-only", args->mask_only, "Write the alpha matte alone");
  cmd->add_flag("--no-refine", args->no_refine, "Skip edge refinement");
  cmd->add_flag("--no-decontaminate", args->no_decontaminate, "Skip edge colour cleaning");
  cmd->add_option("-j,--jobs", args->jobs,
                  "Images processed at once; 0 = one per core (a net on one core each runs "
                  "faster in total than one net on all cores)")
      ->capture_default_str();
  cmd->add_option("inputs", args->inputs, "Image files or folders")->required();
  cmd->callback([args, &config, exit_code] {
    Result<io::Format> format = io::ParseFormat(args->format);
    if (!format.ok()) {
      *exit_code = Fail(format.status());
      return;
    }
    const ops::OpDef* op = ops::Registry::Global().Find("cutout");
    nlohmann::json params = {
        {"background", args->background}, {"crop", args->crop},
        {"margin", args->margin},         {"output", args->mask_only ? "mask" : "cutout"},
        {"refine", !args->no_refine},     {"decontaminate", !args->no_decontaminate}};
    Result<nlohmann::json> validated = op->schema.Validate(params);
    if (!validated.ok()) {
      *exit_code = Fail(validated.status());
      return;
    }
    auto [inputs, missing, options] =
        StartBatch(args->inputs, "cut out", args->output_dir, *format, args->jobs, config);
    options.encode.grey = args->mask_only;
    // Load the nets before the batch: a missing model is one clear message, not one per image.
    models::Runtime runtime(config);
    Result<const models::Segmenter*> segmenter = runtime.segmenter();
    Status ready = segmenter.ok() ? (*segmenter)->Reserve(options.jobs) : segmenter.status();
    if (!ready.ok()) {
      *exit_code = Fail(ready);
      return;
    }
    ops::OpContext context{&config, &runtime};
    BatchReport report = RunBatch(inputs, missing, config.limits, options, [&](const Image& image) {
      ops::OpContext local = context;
      return op->run(image, *validated, local);
    });
    *exit_code = report.failed > 0 ? 1 : 0;
  });
}

void AddModels(CLI::App& cli, const Config& config, int* exit_code) {
  auto* cmd = cli.add_subcommand("models", "List or prepare the models");
  cmd->require_subcommand(1);
  auto* list = cmd->add_subcommand("list", "Show each model: file, sha256, licence, prepared");
  list->callback([&config] {
    models::ModelCatalog catalog(config.models);
    for (const models::ModelInfo& m : catalog.List()) {
      std::printf("%-11s %-9s %s\n  package: %s\n  licence: %s\n  sha256:  %s\n  file:    %s\n",
                  m.name.c_str(),
                  m.prepared ? "prepared" : (m.source_present ? "unprepared" : "missing"),
                  m.description.c_str(), m.package.c_str(), m.licence.c_str(),
                  m.source_sha256.c_str(), m.prepared_path.c_str());
    }
  });
  auto* prepare = cmd->add_subcommand("prepare", "Convert the packaged models for OpenCV DNN");
  prepare->callback([&config, exit_code] {
    models::ModelCatalog catalog(config.models);
    auto log = [](const std::string& line) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    };
    Status status = catalog.PrepareAll(log);
    // The segmentation net at the configured size, so the first cutout starts at once.
    const int size = config.models.segment_size;
    if (status.ok() && size != models::kDefaultSegmentSize) {
      status = catalog.PrepareVariant("isnet", {1, 3, size, size}, log).status();
    }
    if (!status.ok()) *exit_code = Fail(status);
  });
}

void AddOps(CLI::App& cli) {
  auto* cmd = cli.add_subcommand("ops", "List the operations and their parameters");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print every op's schema as JSON");
  cmd->callback([json] {
    nlohmann::json all = nlohmann::json::array();
    for (const ops::OpDef* op : ops::Registry::Global().All()) all.push_back(op->schema.ToJson());
    if (*json) {
      std::printf("%s\n", all.dump(2).c_str());
      return;
    }
    for (const auto& op : all) {
      std::printf("%s (v%d): %s\n", op["name"].get<std::string>().c_str(), op["version"].get<int>(),
                  op["doc"].get<std::string>().c_str());
      for (const auto& f : op["fields"]) {
        std::printf("  %-14s %-8s default %-14s %s\n", f["name"].get<std::string>().c_str(),
                    f["type"].get<std::string>().c_str(), f["default"].dump().c_str(),
                    f["doc"].get<std::string>().c_str());
      }
    }
  });
}

}  // namespace

int Main(int argc, char** argv) {
  Result<Config> config = LoadConfig();
  if (!config.ok()) return Fail(config.status());

  CLI::App cli("vitrine: supplier product photos to marketplace-ready images", "vitrine");
  cli.require_subcommand(1);
  int exit_code = 0;
  AddCutout(cli, *config, &exit_code);
  AddModels(cli, *config, &exit_code);
  AddStage(cli, *config, &exit_code);
  AddRun(cli, *config, &exit_code);
  AddOps(cli);
  AddRecipes(cli, *config, &exit_code);
  AddCheck(cli, *config, &exit_code);
  AddPresets(cli, *config, &exit_code);
  AddExport(cli, *config, &exit_code);
  AddRemoveText(cli, *config, &exit_code);
  AddServe(cli, *config, &exit_code);
  AddWorker(cli, *config, &exit_code);
  AddKeys(cli, *config, &exit_code);
  cli.add_subcommand("config", "Print the effective configuration")->callback([&] {
    std::printf("%s\n", config->ToJson().dump(2).c_str());
  });
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    return code == 0 ? 0 : 2;  // bad usage
  }
  return exit_code;
}

}  // namespace vitrine::app

int main(int argc, char** argv) { return vitrine::app::Main(argc, argv); }
