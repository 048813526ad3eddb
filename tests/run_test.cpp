// End-to-end tests of `vitrine run`: a manifest of SKUs through a recipe to ranked, checked
// candidates and exports, resumed after kill -9, and re-run after a recipe change.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <thread>

#include "store/store.h"
#include "tests/testdata.h"

namespace vitrine {
namespace {
namespace fs = std::filesystem;

struct CommandRun {
  int exit_code = -1;
  std::string output;
};

CommandRun Vitrine(const std::string& args) {
  const std::string command = VITRINE_BINARY " " + args + " 2>&1";
  CommandRun run;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) run.output.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

nlohmann::json ReadJson(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in, nullptr, false);
}

// A small recipe: cutout, then three stagings on a small canvas, exported for amazon.
nlohmann::json SmallRecipe(double fill) {
  return {{"name", "test-small"},
          {"steps",
           {{{"op", "cutout"}},
            {{"op", "stage"},
             {"params", {{"width", 600}, {"height", 600}, {"fill", fill}, {"shadow", "none"}}}}}},
          {"variants",
           {{"background",
             {{{"label", "white"}, {"step", "stage"}, {"params", {{"background", "white"}}}},
              {{"label", "grey"}, {"step", "stage"}, {"params", {{"background", "#e8e8e8"}}}},
              {{"label", "gradient"},
               {"step", "stage"},
               {"params", {{"gradient", "vertical"}, {"background2", "#cccccc"}}}}}}}},
          {"candidates", 3},
          {"export", {{"op", "export"}}},
          {"presets", {"amazon"}}};
}

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testdata::FreshTestDir("vitrine_run");
    fs::create_directories(dir_ / "photos");
    // Three products on plain backdrops, as a supplier would send them.
    for (int i = 0; i < 4; ++i) {
      testdata::Composite c =
          testdata::MakeComposite(cv::Size(480, 400), testdata::Backdrop::kFlat, 11 + i);
      cv::imwrite((dir_ / "photos" / ("p" + std::to_string(i) + ".jpg")).string(), c.bgr);
    }
    std::ofstream(dir_ / "skus.csv") << "sku,images,title\n"
                                        "A-1,photos/p0.jpg,first\n"
                                        "B-2,photos/p1.jpg|photos/p2.jpg,second\n"
                                        "C-3,photos/missing.jpg,third\n"
                                        "D/4,photos/p3.jpg,slash in the sku\n";
    WriteRecipe(0.9);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void WriteRecipe(double fill) { std::ofstream(dir_ / "recipe.json") << SmallRecipe(fill).dump(); }

  std::string RunArgs() const {
    return "run --recipe " + (dir_ / "recipe.json").string() + " --manifest " +
           (dir_ / "skus.csv").string() + " -o " + (dir_ / "out").string() + " -j 1";
  }

  std::vector<fs::path> Reports() const {
    std::vector<fs::path> reports;
    for (const auto& entry : fs::recursive_directory_iterator(dir_ / "out")) {
      if (entry.path().filename() == "report.json") reports.push_back(entry.path());
    }
    return reports;
  }

  // SKU -> how many of its jobs succeeded; no job may be left running or queued.
  std::map<std::string, int> SucceededJobs() const {
    std::map<std::string, int> succeeded;
    auto store = store::OpenStore((dir_ / "out" / "state.db").string());
    EXPECT_TRUE(store.ok()) << store.status().message();
    if (!store.ok()) return succeeded;
    auto page = (*store)->ListJobs({});
    EXPECT_TRUE(page.ok());
    if (!page.ok()) return succeeded;
    for (const store::Job& job : page->jobs) {
      EXPECT_NE(job.state, store::JobState::kRunning) << job.sku;
      EXPECT_NE(job.state, store::JobState::kQueued) << job.sku;
      if (job.state == store::JobState::kSucceeded) ++succeeded[job.sku];
    }
    return succeeded;
  }

  fs::path dir_;
};

TEST_F(RunTest, ManifestToRankedCheckedExports) {
  CommandRun run = Vitrine(RunArgs());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  // The bad row is reported with its line and skipped; the others ran.
  EXPECT_NE(run.output.find("line 4"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("3 of 3 SKUs done"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("index.html"), std::string::npos) << run.output;
  ASSERT_EQ(Reports().size(), 3u);
  for (const fs::path& path : Reports()) {
    nlohmann::json report = ReadJson(path);
    ASSERT_TRUE(report.is_object()) << path;
    ASSERT_EQ(report["candidates"].size(), 3u) << path;
    EXPECT_GE(report["accepted"].get<int>(), 1) << report.dump(2);
    int white_exports = 0;
    for (const auto& c : report["candidates"]) {
      // Every candidate has its image, QA values and the steps it took.
      ASSERT_TRUE(c.contains("file")) << c.dump(2);
      EXPECT_TRUE(fs::exists(path.parent_path() / c["file"].get<std::string>()));
      EXPECT_FALSE(c["checks"].empty());
      if (!c["accepted"].get<bool>()) EXPECT_FALSE(c["reasons"].empty()) << c.dump(2);
      for (const auto& [preset, e] : c["exports"].items()) {
        EXPECT_TRUE(c["accepted"].get<bool>()) << "a rejected candidate was exported";
        EXPECT_TRUE(e["compliance"]["passed"].get<bool>()) << e.dump(2);
        const fs::path file = path.parent_path() / e["file"].get<std::string>();
        CommandRun check = Vitrine("check --preset " + preset + " " + file.string());
        EXPECT_EQ(check.exit_code, 0) << check.output;
        if (c["label"].get<std::string>().find("white") != std::string::npos) ++white_exports;
      }
    }
    // The white candidate is the main image: it must make it to Amazon.
    EXPECT_EQ(white_exports, 1) << report.dump(2);
  }
  const std::string html = [&] {
    std::ifstream in(dir_ / "out" / "index.html");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  for (const char* sku : {"A-1", "B-2", "D/4"}) {
    EXPECT_NE(html.find(sku), std::string::npos) << sku;
  }
}

TEST_F(RunTest, APhotoThatCutsTheProductGivesNoMainImageAndItsCandidatesBleedOffTheCut) {
  // The supplier's photo ends 60% of the way down the product.
  testdata::Composite c =
      testdata::MakeComposite(cv::Size(480, 400), testdata::Backdrop::kFlat, 12);
  const cv::Rect box = cv::boundingRect(c.alpha > 0);
  cv::imwrite((dir_ / "photos" / "cut.jpg").string(),
              c.bgr.rowRange(0, box.y + box.height * 6 / 10));
  std::ofstream(dir_ / "cut.csv") << "sku,images\nCUT-1,photos/cut.jpg\n";
  CommandRun run =
      Vitrine("run --recipe " + (dir_ / "recipe.json").string() + " --manifest " +
              (dir_ / "cut.csv").string() + " -o " + (dir_ / "out").string() + " -j 1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json report = ReadJson(dir_ / "out" / "CUT-1" / "report.json");
  ASSERT_TRUE(report.is_object());
  const std::string advice =
      "source photo cuts the product at the bottom: supply an uncut photo for a main image";
  bool warned = false;
  for (const auto& w : report["warnings"]) {
    warned = warned || w.get<std::string>().find(advice) != std::string::npos;
  }
  EXPECT_TRUE(warned) << report["warnings"].dump(2);
  int bleeding = 0;
  for (const auto& candidate : report["candidates"]) {
    const std::string label = candidate["label"];
    if (label.find("white") != std::string::npos) {
      // The main image: rejected for the cut, never exported.
      EXPECT_FALSE(candidate["accepted"].get<bool>()) << candidate.dump(2);
      EXPECT_NE(candidate["reasons"].dump().find(advice), std::string::npos) << candidate.dump(2);
      EXPECT_TRUE(candidate["exports"].empty());
      continue;
    }
    EXPECT_TRUE(candidate["accepted"].get<bool>()) << candidate.dump(2);
    // The cut edge lies on the canvas's bottom edge: the product covers a good part of the last
    // row, while the top row is all backdrop.
    const cv::Mat image =
        cv::imread((dir_ / "out" / "CUT-1" / candidate["file"].get<std::string>()).string());
    ASSERT_FALSE(image.empty());
    auto product_share = [&](int row) {
      cv::Mat diff;
      cv::absdiff(image.row(row), cv::Scalar(image.at<cv::Vec3b>(row, 0)), diff);
      cv::Mat grey;
      cv::transform(diff, grey, cv::Matx13f(1, 1, 1));
      return cv::countNonZero(grey > 40) / static_cast<double>(image.cols);
    };
    EXPECT_GT(product_share(image.rows - 1), 0.1) << label;
    EXPECT_EQ(product_share(0), 0) << label;
    ++bleeding;
  }
  EXPECT_EQ(bleeding, 2);
  std::ifstream in(dir_ / "out" / "index.html");
  const std::string html(std::istreambuf_iterator<char>(in), {});
  EXPECT_NE(html.find(advice), std::string::npos);
}

TEST_F(RunTest, ResumesAfterKill9WithNothingLostOrDoneTwice) {
  std::mt19937 rng(7);
  for (int kill = 0; kill < 5; ++kill) {
    const pid_t child = fork();
    if (child == 0) {
      const std::string args = RunArgs() + " >/dev/null 2>&1";
      execl("/bin/sh", "sh", "-c", ("exec " VITRINE_BINARY " " + args).c_str(), nullptr);
      _exit(127);
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(300, 2500)(rng)));
    ::kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
  }
  CommandRun run = Vitrine(RunArgs());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_EQ(Reports().size(), 3u);
  // No temporary file is left visible, and every SKU's job succeeded exactly once.
  for (const auto& entry : fs::recursive_directory_iterator(dir_ / "out")) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }
  EXPECT_EQ(SucceededJobs(), (std::map<std::string, int>{{"A-1", 1}, {"B-2", 1}, {"D/4", 1}}));
  for (const fs::path& path : Reports()) {
    nlohmann::json report = ReadJson(path);
    ASSERT_TRUE(report.is_object()) << path;
    EXPECT_EQ(report["candidates"].size(), 3u);
  }
}

TEST_F(RunTest, ChangingTheLastStepRedoesOnlyThatStep) {
  ASSERT_EQ(Vitrine(RunArgs()).exit_code, 0);
  WriteRecipe(0.88);
  CommandRun again = Vitrine(RunArgs());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  for (const fs::path& path : Reports()) {
    nlohmann::json report = ReadJson(path);
    for (const auto& c : report["candidates"]) {
      for (const auto& step : c["steps"]) {
        const std::string op = step["op"];
        if (op == "cutout") EXPECT_NE(step["source"], "computed") << c.dump(2);
        if (op == "stage") EXPECT_EQ(step["source"], "computed") << c.dump(2);
      }
    }
  }
}

// Bytes of the cache's entries (images and their facts), as Prune counts them.
int64_t CacheBytes(const fs::path& cache) {
  int64_t bytes = 0;
  if (!fs::exists(cache)) return 0;
  for (const auto& entry : fs::recursive_directory_iterator(cache)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.find(".tmp-") == std::string::npos) {
      bytes += static_cast<int64_t>(entry.file_size());
    }
  }
  return bytes;
}

TEST_F(RunTest, CacheStaysUnderItsBoundAndRunsStillResume) {
  // With a 1 MB bound (the three SKUs' intermediate images take more), killed twice and
  // resumed: the cache ends under the bound, every SKU succeeded exactly once with a complete
  // report.
  const std::string bounded = RunArgs() + " --cache-max-gb 0.001";
  for (int delay_ms : {900, 1800}) {
    const pid_t child = fork();
    if (child == 0) {
      execl("/bin/sh", "sh", "-c",
            ("exec " VITRINE_BINARY " " + bounded + " >/dev/null 2>&1").c_str(), nullptr);
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
  }
  CommandRun run = Vitrine(bounded);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("3 of 3 SKUs done"), std::string::npos) << run.output;
  EXPECT_LE(CacheBytes(dir_ / "out" / ".cache"), 1'000'000);
  ASSERT_EQ(Reports().size(), 3u);
  for (const fs::path& path : Reports()) {
    nlohmann::json report = ReadJson(path);
    ASSERT_TRUE(report.is_object()) << path;
    EXPECT_EQ(report["candidates"].size(), 3u);
  }
  EXPECT_EQ(SucceededJobs(), (std::map<std::string, int>{{"A-1", 1}, {"B-2", 1}, {"D/4", 1}}));

  // The same command again has nothing left to do, and a changed last step still runs from
  // whatever the pruned cache kept (recomputing the rest), whose new images are pruned.
  CommandRun again = Vitrine(bounded);
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(again.output.find("[1/"), std::string::npos)
      << "a finished SKU was redone: " << again.output;
  WriteRecipe(0.88);
  CommandRun changed = Vitrine(bounded);
  ASSERT_EQ(changed.exit_code, 0) << changed.output;
  EXPECT_NE(changed.output.find("3 of 3 SKUs done"), std::string::npos) << changed.output;
  EXPECT_EQ(changed.output.find("(0 files pruned)"), std::string::npos) << changed.output;
  EXPECT_NE(changed.output.find("files pruned)"), std::string::npos) << changed.output;
  EXPECT_LE(CacheBytes(dir_ / "out" / ".cache"), 1'000'000);
}

TEST_F(RunTest, BadRecipeIsRefusedBeforeAnythingRuns) {
  nlohmann::json recipe = SmallRecipe(0.9);
  recipe["steps"][1]["params"]["fill"] = 1.7;
  std::ofstream(dir_ / "recipe.json") << recipe.dump();
  CommandRun run = Vitrine(RunArgs());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("fill"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(dir_ / "out" / "state.db"));
}

}  // namespace
}  // namespace vitrine
