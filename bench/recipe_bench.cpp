// recipe_bench: what the content-addressed cache saves. Runs a one-step recipe (cutout, cropped)
// on each photo twice through fresh PlanExecutors sharing one on-disk cache: the first run
// computes, the second reads the cache. Prints per photo the two times and the entry's size.
//
//   recipe_bench [--cache DIR] PHOTO...      (default DIR: bench/out/recipe_cache, emptied first)
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/sha256.h"
#include "io/image_io.h"
#include "models/runtime.h"
#include "recipe/cache.h"
#include "recipe/recipe.h"

namespace vitrine {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int Main(int argc, char** argv) {
  std::string cache_dir = "bench/out/recipe_cache";
  std::vector<std::string> photos;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--cache" && i + 1 < argc) {
      cache_dir = argv[++i];
    } else {
      photos.push_back(arg);
    }
  }
  if (photos.empty()) {
    std::fprintf(stderr, "usage: recipe_bench [--cache DIR] PHOTO...\n");
    return 2;
  }
  std::filesystem::remove_all(cache_dir);
  Result<Config> config = LoadConfig();
  if (!config.ok()) return std::fprintf(stderr, "%s\n", config.status().ToString().c_str()), 1;
  models::Runtime runtime(*config);
  Result<recipe::Recipe> recipe = recipe::ParseRecipe(
      {{"name", "bench"}, {"steps", {{{"op", "cutout"}, {"params", {{"crop", true}}}}}}});
  Result<std::vector<recipe::CandidatePlan>> plans = recipe::Expand(*recipe, recipe::SkuInfo{}, 1);
  if (!plans.ok()) return std::fprintf(stderr, "%s\n", plans.status().ToString().c_str()), 1;
  const recipe::PlanStep& step = *plans->at(0).steps.back();
  recipe::ImageCache cache(cache_dir, config->limits);
  const recipe::ModelHashes hashes = recipe::CatalogModelHashes(runtime.catalog());

  std::printf("%-28s %10s %10s %8s %10s\n", "photo", "pixels", "computed", "cached", "entry KB");
  for (const std::string& path : photos) {
    Result<std::string> bytes = io::ReadFile(path, config->limits.max_bytes);
    Result<Image> image =
        bytes.ok() ? io::DecodeImage(*bytes, config->limits, "p") : Result<Image>(bytes.status());
    if (!image.ok()) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), image.status().ToString().c_str());
      continue;
    }
    const std::string hash = Sha256Hex(*bytes);
    double times[2] = {0, 0};
    std::string key;
    for (double& t : times) {
      recipe::PlanExecutor executor(ops::Registry::Global(), ops::OpContext{&*config, &runtime},
                                    hashes, &cache, *image, hash);
      std::vector<recipe::StepRecord> records;
      auto start = std::chrono::steady_clock::now();
      Result<Image> out = executor.Run(step, &records);
      t = Seconds(start);
      if (!out.ok()) std::fprintf(stderr, "%s\n", out.status().ToString().c_str());
      key = records.empty() ? "" : records.back().cache_key;
    }
    std::error_code ec;
    const auto entry = std::filesystem::file_size(cache.PathFor(key), ec);
    std::printf("%-28s %10d %9.2fs %7.3fs %10.0f\n",
                std::filesystem::path(path).filename().string().c_str(),
                image->width() * image->height(), times[0], times[1], entry / 1024.0);
  }
  return 0;
}

}  // namespace
}  // namespace vitrine

int main(int argc, char** argv) { return vitrine::Main(argc, argv); }
