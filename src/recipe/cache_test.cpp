#include "recipe/cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>

#include "core/sha256.h"
#include "tests/testdata.h"

namespace vitrine::recipe {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// How often each test op ran, by op name.
std::map<std::string, int> g_runs;

// "brighten" adds `amount` to every pixel; "fade" scales the alpha by `alpha` (adding an alpha
// plane); "shift" moves the picture right by `pixels`. Each counts its runs.
ops::Registry TestRegistry(int fade_version = 1) {
  using ops::Field;
  using ops::FieldType;
  ops::Registry registry;
  ops::OpDef brighten;
  brighten.schema.name = "brighten";
  brighten.schema.doc = "adds";
  brighten.schema.models = {"net_a"};
  brighten.schema.fields = {{"amount", FieldType::kInteger, 10, 0, 100, {}, "added"}};
  brighten.run = [](const Image& in, const json& p, ops::OpContext&) -> Result<Image> {
    ++g_runs["brighten"];
    Image out = in.Clone();
    out.bgr += cv::Scalar::all(p["amount"].get<int>());
    return out;
  };
  ops::OpDef fade;
  fade.schema.name = "fade";
  fade.schema.version = fade_version;
  fade.schema.doc = "fades";
  fade.schema.fields = {{"alpha", FieldType::kNumber, 0.5, 0, 1, {}, "kept"}};
  fade.run = [](const Image& in, const json& p, ops::OpContext&) -> Result<Image> {
    ++g_runs["fade"];
    Image out = in.Clone();
    out.alpha = cv::Mat(in.bgr.size(), CV_8UC1, cv::Scalar(255 * p["alpha"].get<double>()));
    out.alpha(cv::Rect(0, 0, 4, 4)).setTo(255);
    return out;
  };
  ops::OpDef shift;
  shift.schema.name = "shift";
  shift.schema.doc = "moves";
  shift.schema.fields = {{"pixels", FieldType::kInteger, 1, 0, 50, {}, "moved by"}};
  shift.run = [](const Image& in, const json& p, ops::OpContext&) -> Result<Image> {
    ++g_runs["shift"];
    Image out = in.Clone();
    cv::Mat m = (cv::Mat_<double>(2, 3) << 1, 0, p["pixels"].get<int>(), 0, 1, 0);
    cv::warpAffine(in.bgr, out.bgr, m, in.bgr.size());
    return out;
  };
  registry.Add(std::move(brighten));
  registry.Add(std::move(fade));
  registry.Add(std::move(shift));
  return registry;
}

SkuInfo NamedSku(const std::string& name) {
  SkuInfo sku;
  sku.sku = name;
  return sku;
}

Recipe Chain(int pixels) {
  json j = {{"name", "chain"},
            {"steps",
             {{{"op", "brighten"}, {"params", {{"amount", 20}}}},
              {{"op", "fade"}, {"params", {{"alpha", 0.6}}}},
              {{"op", "shift"}, {"params", {{"pixels", pixels}}}}}},
            {"candidates", 1}};
  return *ParseRecipe(j);
}

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testdata::FreshTestDir("vitrine_cache");
    cv::Mat bgr(48, 64, CV_8UC3);
    cv::randu(bgr, 0, 200);
    source_ = Image{bgr, {}, "photo"};
    g_runs.clear();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the chain's only candidate through a fresh executor (as a new run would) and returns
  // the final image and the sources of the steps.
  Image RunChain(const Recipe& recipe, const ops::Registry& registry, const ModelHashes& models,
                 std::vector<StepSource>* sources) {
    Result<std::vector<CandidatePlan>> plans = Expand(recipe, NamedSku("s"), {}, registry);
    EXPECT_TRUE(plans.ok()) << plans.status().ToString();
    ImageCache cache(dir_.string(), LimitsConfig{});
    PlanExecutor executor(registry, ops::OpContext{}, models, &cache, source_, "source-hash");
    std::vector<StepRecord> records;
    Result<Image> out = executor.Run(*plans->at(0).steps.back(), &records);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    for (const StepRecord& r : records) sources->push_back(r.source);
    return out.ok() ? *out : Image{};
  }

  static double MaxDiff(const Image& a, const Image& b) {
    return std::max(cv::norm(a.bgr, b.bgr, cv::NORM_INF), cv::norm(a.alpha, b.alpha, cv::NORM_INF));
  }

  fs::path dir_;
  Image source_;
};

TEST_F(CacheTest, ChangingTheLastStepRecomputesOnlyThatStep) {
  const ops::Registry registry = TestRegistry();
  const ModelHashes models = {{"net_a", "aaaa"}};
  std::vector<StepSource> first, second, third;
  Image a = RunChain(Chain(3), registry, models, &first);
  EXPECT_EQ(g_runs, (std::map<std::string, int>{{"brighten", 1}, {"fade", 1}, {"shift", 1}}));
  EXPECT_EQ(first, std::vector<StepSource>(3, StepSource::kComputed));
  EXPECT_EQ(a.name, "photo");

  Image b = RunChain(Chain(3), registry, models, &second);
  EXPECT_EQ(g_runs["brighten"] + g_runs["fade"] + g_runs["shift"], 3) << "nothing recomputed";
  EXPECT_EQ(second, std::vector<StepSource>(3, StepSource::kCache));
  EXPECT_EQ(MaxDiff(a, b), 0) << "the cache gives back the very pixels and alpha";

  Image c = RunChain(Chain(7), registry, models, &third);
  EXPECT_EQ(g_runs, (std::map<std::string, int>{{"brighten", 1}, {"fade", 1}, {"shift", 2}}));
  EXPECT_EQ(third, (std::vector<StepSource>{StepSource::kCache, StepSource::kCache,
                                            StepSource::kComputed}));
  EXPECT_GT(MaxDiff(a, c), 0);
}

TEST_F(CacheTest, ModelHashOrOpVersionChangesMiss) {
  std::vector<StepSource> sources;
  RunChain(Chain(3), TestRegistry(), {{"net_a", "aaaa"}}, &sources);
  // A new model for the first step invalidates the whole chain.
  sources.clear();
  RunChain(Chain(3), TestRegistry(), {{"net_a", "bbbb"}}, &sources);
  EXPECT_EQ(sources, std::vector<StepSource>(3, StepSource::kComputed));
  // A new version of the second op: its step and the one after it.
  sources.clear();
  RunChain(Chain(3), TestRegistry(/*fade_version=*/2), {{"net_a", "bbbb"}}, &sources);
  EXPECT_EQ(sources, (std::vector<StepSource>{StepSource::kCache, StepSource::kComputed,
                                              StepSource::kComputed}));
  EXPECT_EQ(g_runs, (std::map<std::string, int>{{"brighten", 2}, {"fade", 3}, {"shift", 3}}));

  // An op that needs a model the catalogue does not list cannot be keyed.
  Result<std::string> key =
      CacheKey("h", TestRegistry().Find("brighten")->schema, json::object(), ModelHashes{}, "");
  EXPECT_EQ(key.status().code(), Code::kNotFound);
  EXPECT_NE(key.status().message().find("needs the model 'net_a'"), std::string::npos);
}

TEST_F(CacheTest, KeysAreCanonicalAndChained) {
  const ops::OpSchema& shift = TestRegistry().Find("shift")->schema;
  json a = json::parse(R"({"pixels": 3, "z": 1})");
  json b = json::parse(R"({"z": 1, "pixels": 3})");
  EXPECT_EQ(*CacheKey("h", shift, a, {}, "p"), *CacheKey("h", shift, b, {}, "p"));
  EXPECT_NE(*CacheKey("h", shift, a, {}, "p"), *CacheKey("h", shift, a, {}, "q"));
  EXPECT_NE(*CacheKey("h", shift, a, {}, "p"), *CacheKey("g", shift, a, {}, "p"));
  EXPECT_EQ(CacheKey("h", shift, a, {}, "p")->size(), 64u);
}

TEST_F(CacheTest, CorruptEntriesAreMissesAndRemoved) {
  std::vector<StepSource> sources;
  Image first = RunChain(Chain(3), TestRegistry(), {{"net_a", "aaaa"}}, &sources);
  // Truncate every entry, as a crash of a non-atomic writer or a bad disk might.
  int truncated = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    if (entry.path().extension() != ".png") continue;
    fs::resize_file(entry.path(), fs::file_size(entry.path()) / 2);
    ++truncated;
  }
  ASSERT_EQ(truncated, 3);
  ImageCache cache(dir_.string(), LimitsConfig{});
  const std::string key(64, 'e');
  ASSERT_TRUE(cache.Put(key, first).ok());
  EXPECT_EQ(cache.PathFor(key), (dir_ / "ee" / (key + ".png")).string());
  std::ofstream(cache.PathFor(key), std::ios::trunc) << "not a png";
  EXPECT_FALSE(cache.Get(key).has_value());
  EXPECT_FALSE(fs::exists(cache.PathFor(key))) << "a corrupt entry is removed";

  sources.clear();
  Image again = RunChain(Chain(3), TestRegistry(), {{"net_a", "aaaa"}}, &sources);
  EXPECT_EQ(sources, std::vector<StepSource>(3, StepSource::kComputed));
  EXPECT_EQ(MaxDiff(first, again), 0);
  sources.clear();
  RunChain(Chain(3), TestRegistry(), {{"net_a", "aaaa"}}, &sources);
  EXPECT_EQ(sources, std::vector<StepSource>(3, StepSource::kCache)) << "rewritten whole";
}

TEST_F(CacheTest, PruneRemovesTheLeastRecentlyUsed) {
  ImageCache cache((dir_ / "cache").string(), LimitsConfig{});
  const std::vector<std::string> keys = {std::string(64, 'a'), std::string(64, 'b'),
                                         std::string(64, 'c')};
  int64_t each = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_TRUE(cache.Put(keys[i], source_).ok());
    each = static_cast<int64_t>(fs::file_size(cache.PathFor(keys[i])));
    // a is the oldest, c the newest.
    fs::last_write_time(cache.PathFor(keys[i]),
                        fs::file_time_type::clock::now() - std::chrono::hours(10 - i));
  }
  const std::string stale_temp = cache.PathFor(keys[0]) + ".tmp-1-x";
  std::ofstream(stale_temp) << "half";
  fs::last_write_time(stale_temp, fs::file_time_type::clock::now() - std::chrono::hours(2));

  ASSERT_TRUE(cache.Get(keys[0]).has_value());  // a is used again: now the newest
  Result<ImageCache::PruneStats> stats = cache.Prune(2 * each);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->kept, 2);
  EXPECT_EQ(stats->kept_bytes, 2 * each);
  EXPECT_EQ(stats->removed, 2) << "b and the stale temporary file";
  EXPECT_TRUE(cache.Get(keys[0]).has_value());
  EXPECT_FALSE(cache.Get(keys[1]).has_value());
  EXPECT_TRUE(cache.Get(keys[2]).has_value());
  EXPECT_FALSE(fs::exists(stale_temp));
  EXPECT_EQ(cache.Prune(0)->kept, 0);
}

TEST_F(CacheTest, SharedPrefixesRunOncePerExecutor) {
  const ops::Registry registry = TestRegistry();
  json j = {{"name", "fan"},
            {"steps", {{{"op", "brighten"}}, {{"op", "fade"}}, {{"op", "shift"}}}},
            {"variants",
             {{"move",
               {{{"step", "shift"}, {"params", {{"pixels", 1}}}},
                {{"step", "shift"}, {"params", {{"pixels", 2}}}},
                {{"step", "shift"}, {"params", {{"pixels", 3}}}}}}}},
            {"candidates", 0}};
  Result<std::vector<CandidatePlan>> plans = Expand(*ParseRecipe(j), NamedSku("s"), {}, registry);
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  ASSERT_EQ(plans->size(), 3u);
  const Image before = source_.Clone();
  PlanExecutor executor(registry, ops::OpContext{}, {{"net_a", "aaaa"}}, nullptr, source_, "h");
  std::vector<StepRecord> records;
  for (const CandidatePlan& plan : *plans) {
    ASSERT_TRUE(executor.Run(*plan.steps.back(), &records).ok());
  }
  EXPECT_EQ(g_runs, (std::map<std::string, int>{{"brighten", 1}, {"fade", 1}, {"shift", 3}}));
  EXPECT_EQ(records[3].source, StepSource::kMemory) << "the second candidate starts from memory";

  // Forgotten without a disk cache: computed again, from the prefix still in memory.
  executor.Forget(*plans->at(0).steps.back());
  records.clear();
  ASSERT_TRUE(executor.Run(*plans->at(0).steps.back(), &records).ok());
  EXPECT_EQ(g_runs["shift"], 4);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].source, StepSource::kMemory);
  EXPECT_EQ(records[1].source, StepSource::kComputed);
  EXPECT_EQ(cv::norm(before.bgr, source_.bgr, cv::NORM_INF), 0) << "the source is untouched";
}

}  // namespace
}  // namespace vitrine::recipe
