#include "batch/sku.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "core/file.h"
#include "core/sha256.h"
#include "io/image_io.h"
#include "ops/export.h"
#include "ops/remove_text.h"
#include "qa/compliance.h"
#include "qa/score.h"

namespace vitrine::batch {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Exports per preset and SKU: the best accepted candidates that pass the preset's gate.
constexpr int kExportsPerPreset = 3;

// Thumbnails in index.html: small JPEGs, so a contact sheet of hundreds of SKUs opens quickly.
constexpr int kThumbSide = 360;

struct Photo {
  std::string path;
  Image image;
  std::string hash;  // sha256 of the file's bytes
};

Result<Photo> LoadPhoto(const std::string& path, const LimitsConfig& limits) {
  ASSIGN_OR_RETURN(std::string bytes, io::ReadFile(path, limits.max_bytes));
  Result<Image> image = io::DecodeImage(bytes, limits, fs::path(path).stem().string());
  if (!image.ok()) return image.status().WithContext(path);
  return Photo{path, *std::move(image), Sha256Hex(bytes)};
}

Status WriteImage(const std::string& path, const Image& image, const io::EncodeOptions& options) {
  ASSIGN_OR_RETURN(std::string bytes, io::EncodeImage(image, options));
  return WriteFileAtomic(path, bytes, IfExists::kReplace);
}

Status WriteThumb(const std::string& path, const cv::Mat& bgr) {
  Image thumb;
  const double scale = std::min(1.0, double(kThumbSide) / std::max(bgr.cols, bgr.rows));
  cv::resize(bgr, thumb.bgr, cv::Size(), scale, scale, cv::INTER_AREA);
  io::EncodeOptions options;
  options.format = io::Format::kJpeg;
  options.quality = 85;
  return WriteImage(path, thumb, options);
}

const recipe::PlanStep* FindStep(const recipe::CandidatePlan& plan, const std::string& op) {
  for (const auto& step : plan.steps) {
    if (step->op == op) return step.get();
  }
  return nullptr;
}

// A candidate meant as a main image: staged on plain white. Those must pass the preset's gate;
// a candidate on a scene or a colour is a secondary image and is only not exported where a
// preset wants white.
bool IsMainImage(const recipe::CandidatePlan& plan) {
  const recipe::PlanStep* stage = FindStep(plan, "stage");
  if (!stage) return true;
  const nlohmann::json& p = stage->params;
  const std::string scene = p.value("scene", "");
  const std::string gradient = p.value("gradient", "none");
  Result<cv::Scalar> colour = ops::ParseColor(p.value("background", "white"));
  return scene.empty() && gradient == "none" && colour.ok() && (*colour)[0] == 255 &&
         (*colour)[1] == 255 && (*colour)[2] == 255;
}

nlohmann::json StepsJson(const std::vector<recipe::StepRecord>& records) {
  nlohmann::json steps = nlohmann::json::array();
  for (const recipe::StepRecord& r : records) {
    steps.push_back({{"step", r.id},
                     {"op", r.op},
                     {"source", std::string(recipe::StepSourceName(r.source))},
                     {"seconds", r.seconds},
                     {"cache_key", r.cache_key}});
  }
  return steps;
}

nlohmann::json ChecksJson(const qa::CandidateQa& qa) {
  nlohmann::json checks = nlohmann::json::array();
  for (const qa::Check& c : qa.checks) {
    checks.push_back({{"id", c.id},
                      {"value", c.value},
                      {"limit", c.limit},
                      {"passed", c.passed},
                      {"hard", c.hard},
                      {"reason", c.reason}});
  }
  return checks;
}

// A candidate on its way through the SKU.
struct Candidate {
  const recipe::CandidatePlan* plan = nullptr;
  const Photo* photo = nullptr;
  Image image;
  Status status;  // not OK: the plan failed; the candidate is rejected with this reason
  std::vector<recipe::StepRecord> steps;
  nlohmann::json facts = nlohmann::json::object();   // what the ops reported (placement, text)
  std::map<std::string, ops::ExportResult> exports;  // preset -> passing export
  nlohmann::json not_exported = nlohmann::json::object();
  double seconds = 0;
};

}  // namespace

namespace {

// The cutout's placement in a staged candidate (the stage op's "placement" fact), if any.
std::optional<cv::Rect> Placement(const nlohmann::json& facts) {
  for (const auto& [step_id, step_facts] : facts.items()) {
    const auto it = step_facts.find("placement");
    if (it != step_facts.end() && it->is_array() && it->size() == 4) {
      return cv::Rect((*it)[0].get<int>(), (*it)[1].get<int>(), (*it)[2].get<int>(),
                      (*it)[3].get<int>());
    }
  }
  return std::nullopt;
}

}  // namespace

Result<std::unique_ptr<SkuResources>> LoadSkuResources(const Config& config,
                                                       const std::string& cache_dir) {
  auto resources = std::make_unique<SkuResources>();
  resources->config = &config;
  ASSIGN_OR_RETURN(resources->presets, qa::LoadPresets(config.qa.presets_file));
  Result<std::unique_ptr<qa::Brisque>> brisque = qa::Brisque::Load();
  if (brisque.ok()) {
    resources->brisque = std::move(*brisque);
  } else {
    std::fprintf(stderr, "vitrine: %s\n", brisque.status().message().c_str());
  }
  resources->models = std::make_unique<models::Runtime>(config);
  resources->cache = std::make_unique<recipe::ImageCache>(cache_dir, config.limits);
  return resources;
}

SkuEnv SkuResources::Env(const qa::QaConfig& qa, const std::string& output_dir) const {
  SkuEnv env;
  env.config = config;
  env.models = models.get();
  env.cache = cache.get();
  env.model_hashes = recipe::CatalogModelHashes(models->catalog());
  env.presets = &presets;
  env.brisque = brisque.get();
  env.qa = qa;
  // Overlay text only: a staged candidate shows the product's own printed text, which must not
  // fail "text left". Empty when the detector cannot be loaded (the QA check is then skipped).
  if (models->text_detector().ok()) env.text_area = ops::OverlayTextArea(*models);
  env.output_dir = output_dir;
  return env;
}

std::string SkuFolderName(const std::string& sku) {
  std::string name;
  bool replaced = sku.empty() || sku[0] == '.';
  for (unsigned char c : sku) {
    const bool safe = std::isalnum(c) || c == '-' || c == '_' || c == '.' || c >= 0x80;
    name += safe ? static_cast<char>(c) : '_';
    replaced = replaced || !safe;
  }
  if (replaced) name += "-" + Sha256Hex(sku).substr(0, 8);
  return name;
}

Result<nlohmann::json> ProcessSku(const SkuEnv& env, const recipe::Recipe& recipe,
                                  const recipe::SkuInfo& sku, const recipe::ExpandOptions& expand,
                                  const StopFn& stop) {
  const auto start = Clock::now();
  ASSIGN_OR_RETURN(std::vector<recipe::CandidatePlan> plans, recipe::Expand(recipe, sku, expand));
  // Every preset must exist before any work is done: a typo is the user's to fix, once.
  for (const auto& plan : plans) {
    for (const auto& [name, step] : plan.exports) {
      if (!env.presets->Find(name)) {
        return InvalidArgument("unknown preset '" + name + "'; the presets are " +
                               env.presets->Names() + " (`vitrine presets` describes them)");
      }
    }
  }
  if (sku.images.empty()) return InvalidArgument("SKU '" + sku.sku + "' has no images");

  std::vector<Photo> photos;
  for (const std::string& path : sku.images) {
    ASSIGN_OR_RETURN(Photo photo, LoadPhoto(path, env.config->limits));
    photos.push_back(std::move(photo));
  }

  const fs::path dir = fs::path(env.output_dir) / SkuFolderName(sku.sku);
  std::error_code ec;
  fs::create_directories(dir / "candidates", ec);
  if (ec) return ErrnoStatus("create", (dir / "candidates").string(), ec.value());

  std::vector<std::string> warnings;
  ops::OpContext context{env.config, env.models};
  context.warnings = &warnings;
  std::vector<std::unique_ptr<recipe::PlanExecutor>> executors;
  for (const Photo& photo : photos) {
    executors.push_back(std::make_unique<recipe::PlanExecutor>(
        ops::Registry::Global(), context, env.model_hashes, env.cache, photo.image, photo.hash));
  }

  // Run every plan. Candidates spread over the SKU's photos, so a supplier's second and third
  // photo give candidates too.
  std::vector<Candidate> candidates(plans.size());
  for (size_t i = 0; i < plans.size(); ++i) {
    if (stop && stop()) return Cancelled("the run stopped before SKU '" + sku.sku + "' finished");
    const auto candidate_start = Clock::now();
    Candidate& c = candidates[i];
    c.plan = &plans[i];
    const size_t p = i % photos.size();
    c.photo = &photos[p];
    recipe::PlanExecutor& executor = *executors[p];
    Result<Image> image = executor.Run(*c.plan->steps.back(), &c.steps);
    if (!image.ok()) {
      // A model that fails is the machine's problem, not this candidate's: retry the SKU later.
      if (image.status().code() == Code::kModelFailure) return image.status();
      c.status = image.status();
      continue;
    }
    c.image = *std::move(image);
    for (const auto& step : c.plan->steps) {
      const nlohmann::json& facts = executor.Facts(*step);
      if (!facts.empty()) c.facts[step->id] = facts;
    }
    c.seconds = SecondsSince(candidate_start);
  }

  // Overlay text left is a property of the product as cut out, the same in every candidate made
  // from one photo: measured once per photo on the cutout flattened onto white (the detector and
  // the product mask cost seconds; per candidate and per export they dominated the SKU's time).
  // The product is the cutout's own alpha in large pieces (qa::ProductPieces), not ISNet's
  // second reading of the flattened cutout, which missed white parts of pale products (a white
  // bowl's printed name then read as overlay); a remnant the cutout kept as a small island (a
  // caption's glyphs) is not product, so its text counts.
  std::map<size_t, Result<double>> photo_text;
  auto text_left = [&](size_t photo, const recipe::CandidatePlan& plan) -> qa::TextCoverageFn {
    if (!env.text_area) return {};
    auto it = photo_text.find(photo);
    if (it == photo_text.end()) {
      const recipe::PlanStep* cut = FindStep(plan, "cutout");
      Result<Image> cutout = cut ? executors[photo]->Run(*cut) : Result<Image>(photos[photo].image);
      Result<double> share = cutout.status();
      if (cutout.ok()) {
        const cv::Mat product =
            cutout->has_alpha() ? qa::ProductPieces(cutout->alpha < 128) : cv::Mat();
        share = env.text_area(qa::FlattenOnto(*cutout, {255, 255, 255}), product);
      }
      it = photo_text.emplace(photo, std::move(share)).first;
    }
    const Result<double> share = it->second;
    return [share](const cv::Mat&) { return share; };
  };
  // QA: every candidate, then rank.
  const auto qa_start = Clock::now();
  std::vector<qa::CandidateQa> evaluated;
  for (size_t i = 0; i < candidates.size(); ++i) {
    Candidate& c = candidates[i];
    const std::string id = std::to_string(i + 1);
    if (!c.status.ok()) {
      qa::CandidateQa failed;
      failed.id = id;
      failed.rejected = true;
      failed.reasons.push_back("the recipe failed: " + c.status.message());
      evaluated.push_back(std::move(failed));
      continue;
    }
    qa::CandidateInputs in;
    in.id = id;
    in.candidate_bgr = c.image.bgr;
    if (const recipe::PlanStep* cut = FindStep(*c.plan, "cutout")) {
      recipe::PlanExecutor& executor = *executors[i % photos.size()];
      Result<Image> cutout = executor.Run(*cut);
      const std::optional<cv::Rect> placement = Placement(c.facts);
      if (cutout.ok() && !cutout->alpha.empty() && placement) {
        in.source_bgr = cutout->bgr;
        in.source_alpha = cutout->alpha;
        in.placement = *placement;
      }
    }
    in.main_image = IsMainImage(*c.plan);
    in.text_coverage = text_left(i % photos.size(), *c.plan);
    in.brisque = env.brisque;
    evaluated.push_back(qa::Evaluate(in, env.qa));
  }
  std::vector<qa::Ranked> ranked = qa::Rank(std::move(evaluated), env.qa);
  const double qa_seconds = SecondsSince(qa_start);

  // Exports, best candidates first, up to kExportsPerPreset per preset (a reviewer keeps 1-3).
  // Each passes the preset's gate or is not exported; a main image (on white) that fails the
  // gate of a preset it was made for is broken, and rejected.
  const auto export_start = Clock::now();
  std::map<std::string, int> exported;
  for (qa::Ranked& r : ranked) {
    if (!r.accepted) continue;
    Candidate& c = candidates[std::stoul(r.qa.id) - 1];
    for (const auto& [name, step] : c.plan->exports) {
      if (exported[name] >= kExportsPerPreset) continue;
      const qa::Preset& preset = *env.presets->Find(name);
      // A candidate on a colour, gradient or scene cannot meet a white-background preset.
      if ((preset.pure_background || preset.plain_background) && !IsMainImage(*c.plan)) {
        c.not_exported[name] = "the " + name + " preset wants a plain " +
                               "background; this candidate is a secondary (lifestyle) image";
        continue;
      }
      ops::ExportOptions options;
      if (step->params.contains("format")) {
        Result<io::Format> format = io::ParseFormat(step->params["format"].get<std::string>());
        if (format.ok()) options.format = *format;
      }
      // The overlay-text rule measures the export itself, as `vitrine check` does (the detector
      // works at the scale it is given: a candidate's measure mapped onto an export's canvas
      // disagreed with check on 4 of 128 real exports). Export calls it only after the cheaper
      // rules pass.
      if (preset.no_text) options.compliance.overlay_text_area = env.text_area;
      Result<ops::ExportResult> result = ops::Export(c.image, preset, options);
      if (result.ok()) {
        c.exports.emplace(name, *std::move(result));
        ++exported[name];
        continue;
      }
      c.not_exported[name] = result.status().message();
      if (IsMainImage(*c.plan)) {
        r.accepted = false;
        r.qa.rejected = true;
        r.qa.score = 0;
        r.qa.reasons.push_back("fails the " + name + " rules: " + result.status().message());
        c.exports.clear();
        break;
      }
    }
  }
  // Candidates rejected by a gate move below the accepted ones.
  std::stable_partition(ranked.begin(), ranked.end(),
                        [](const qa::Ranked& r) { return r.accepted; });
  for (size_t i = 0; i < ranked.size(); ++i) ranked[i].rank = static_cast<int>(i) + 1;
  const double export_seconds = SecondsSince(export_start);

  // Write the candidates, the exports of the accepted ones (in rank order), and the report.
  nlohmann::json report = {{"sku", sku.ToJson()},
                           {"recipe", recipe.name},
                           {"photos", nlohmann::json::array()},
                           {"candidates", nlohmann::json::array()}};
  for (const Photo& photo : photos) {
    report["photos"].push_back({{"path", photo.path}, {"sha256", photo.hash}});
  }
  int accepted = 0;
  int exports = 0;
  for (const qa::Ranked& r : ranked) {
    const size_t i = std::stoul(r.qa.id) - 1;
    Candidate& c = candidates[i];
    char nn[8];
    std::snprintf(nn, sizeof nn, "%02zu", i + 1);
    nlohmann::json entry = {{"index", i + 1},
                            {"label", c.plan->label},
                            {"choices", c.plan->choices},
                            {"photo", c.photo->path},
                            {"rank", r.rank},
                            {"accepted", r.accepted},
                            {"score", r.qa.score},
                            {"reasons", r.qa.reasons},
                            {"skipped_checks", r.qa.skipped},
                            {"checks", ChecksJson(r.qa)},
                            {"steps", StepsJson(c.steps)},
                            {"facts", c.facts},
                            {"seconds", c.seconds},
                            {"exports", nlohmann::json::object()},
                            {"not_exported", c.not_exported}};
    if (r.near_duplicate) entry["duplicate_of"] = r.duplicate_of;
    if (!c.status.ok()) entry["error"] = c.status.message();
    if (!c.image.bgr.empty()) {
      // JPEG for opaque candidates (a 2000x2000 PNG takes several times longer to write); PNG
      // keeps a transparent one's alpha.
      io::EncodeOptions encode;
      encode.format = c.image.has_alpha() ? io::Format::kPng : io::Format::kJpeg;
      encode.quality = 92;
      const std::string file =
          std::string("candidates/") + nn + "." + std::string(io::FormatExtension(encode.format));
      RETURN_IF_ERROR(WriteImage((dir / file).string(), c.image, encode));
      RETURN_IF_ERROR(WriteThumb((dir / "candidates" / (std::string(nn) + ".thumb.jpg")).string(),
                                 c.image.bgr));
      entry["file"] = file;
      entry["thumb"] = std::string("candidates/") + nn + ".thumb.jpg";
    }
    if (r.accepted) {
      ++accepted;
      for (const auto& [preset, result] : c.exports) {
        const fs::path folder = dir / "exports" / preset;
        fs::create_directories(folder, ec);
        if (ec) return ErrnoStatus("create", folder.string(), ec.value());
        const std::string file = "exports/" + preset + "/" + std::to_string(r.rank) + "-" + nn +
                                 "." + std::string(io::FormatExtension(result.format));
        RETURN_IF_ERROR(WriteFileAtomic((dir / file).string(), result.bytes, IfExists::kReplace));
        entry["exports"][preset] = {{"file", file},
                                    {"bytes", result.bytes.size()},
                                    {"quality", result.quality},
                                    {"notes", result.notes},
                                    {"compliance", result.report.ToJson()}};
        ++exports;
      }
    }
    report["candidates"].push_back(std::move(entry));
  }
  report["accepted"] = accepted;
  report["rejected"] = static_cast<int>(ranked.size()) - accepted;
  report["exports"] = exports;
  // Candidates made alike warn alike (a photo that cuts the product, for each staging): once each.
  std::vector<std::string> distinct_warnings;
  for (std::string& w : warnings) {
    if (std::find(distinct_warnings.begin(), distinct_warnings.end(), w) ==
        distinct_warnings.end()) {
      distinct_warnings.push_back(std::move(w));
    }
  }
  report["warnings"] = distinct_warnings;
  report["qa_seconds"] = qa_seconds;
  report["export_seconds"] = export_seconds;
  report["seconds"] = SecondsSince(start);
  // Last, so a SKU folder with a report is complete.
  RETURN_IF_ERROR(
      WriteFileAtomic((dir / "report.json").string(), report.dump(2), IfExists::kReplace));
  return report;
}

}  // namespace vitrine::batch
