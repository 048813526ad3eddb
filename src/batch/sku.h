// One SKU of a run: expand the recipe into candidate plans, run them (shared steps once, through
// the content-addressed cache), check and rank the candidates, export the accepted ones for each
// preset, and write the SKU's folder with report.json last.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/config.h"
#include "core/status.h"
#include "models/runtime.h"
#include "ops/op.h"
#include "qa/checks.h"
#include "qa/compliance.h"
#include "qa/presets.h"
#include "qa/qa_config.h"
#include "recipe/cache.h"
#include "recipe/recipe.h"

namespace vitrine::batch {

// What every SKU of a run shares; borrowed, and must outlive ProcessSku. Thread-safe to share.
struct SkuEnv {
  const Config* config = nullptr;
  models::Runtime* models = nullptr;
  const recipe::ImageCache* cache = nullptr;
  recipe::ModelHashes model_hashes;
  const qa::PresetBook* presets = nullptr;
  const qa::Brisque* brisque = nullptr;  // may be null: BRISQUE not scored
  qa::QaConfig qa;
  // Share of an image covered by overlay text (ops::OverlayTextArea); may be empty: text left is
  // then not checked, and exports to no-text presets report the rule as not checked.
  qa::OverlayTextFn text_area;
  std::string output_dir;
};

// What SkuEnv borrows, owned: the models, the intermediate-image cache, the preset book and
// BRISQUE. Built once per process (`vitrine run`, the server's workers); Env() gives the SkuEnv of
// one recipe and output folder. Thread-safe to share once built.
struct SkuResources {
  const Config* config = nullptr;
  std::unique_ptr<models::Runtime> models;
  std::unique_ptr<recipe::ImageCache> cache;
  qa::PresetBook presets;
  std::unique_ptr<qa::Brisque> brisque;  // null when opencv-data is missing (a warning is logged)

  SkuEnv Env(const qa::QaConfig& qa, const std::string& output_dir) const;
};

// Loads the presets (config.qa.presets_file), BRISQUE and the model runtime, with the cache in
// `cache_dir`. `config` is borrowed and must outlive the result. Errors: a bad presets file.
Result<std::unique_ptr<SkuResources>> LoadSkuResources(const Config& config,
                                                       const std::string& cache_dir);

// Called between candidates; returning true abandons the SKU with Cancelled (the job's lease was
// lost, or the run is shutting down).
using StopFn = std::function<bool()>;

// Processes one SKU and returns its report (also written to OUT/<sku>/report.json). Errors: the
// SKU cannot be processed at all (unreadable photo, a recipe that does not fit it: permanent;
// a model failure: transient). A candidate that fails only rejects that candidate.
Result<nlohmann::json> ProcessSku(const SkuEnv& env, const recipe::Recipe& recipe,
                                  const recipe::SkuInfo& sku, const recipe::ExpandOptions& expand,
                                  const StopFn& stop);

// The folder name of a SKU under OUT: the SKU with characters that are unsafe in file names
// replaced by '_' (and a short hash appended when anything was replaced, so two SKUs never share
// a folder).
std::string SkuFolderName(const std::string& sku);

}  // namespace vitrine::batch
