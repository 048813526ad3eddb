// inpaint_bench: vitrine's exemplar inpainting against OpenCV's Telea and Navier-Stokes fills on
// clean product photos with promotion-like text and banner masks rendered over them (so the true
// pixels under the mask are known). Reports PSNR inside the mask and time per megapixel; saves
// before / ours / Telea triptychs under bench/out/inpaint/ (and full-resolution crops of the
// largest region: before, ours, Telea, clean, top to bottom).
//
//   build/inpaint_bench [DATA_DIR] [OUT_DIR] [THIN_RADIUS]
//
// DATA_DIR defaults to ../shared/data/b_product_dreambooth beside the checkout.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <opencv2/freetype.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>
#include <string>
#include <vector>

#include "ops/inpaint.h"

namespace fs = std::filesystem;

namespace {

constexpr const char* kFont = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc";

// Promotion text as sellers put it on listings.
const std::vector<std::string> kPhrases = {
    "厂家直销", "包邮",     "限时特价 ¥99", "SALE -50%",  "FREE SHIPPING", "新品上市",
    "买一送一", "HOT 爆款", "正品保证",     "Only $19.9", "官方旗舰店",    "NEW ARRIVAL",
};

// A detector-like mask (5-15% of the photo): 3-6 text lines (glyphs filled, dilated as a detector's
// polygon would be a little larger than the strokes) and one to three solid banner blocks.
cv::Mat MakeMask(cv::Size size, cv::freetype::FreeType2& ft, cv::RNG& rng) {
  cv::Mat canvas(size, CV_8UC3, cv::Scalar::all(0));  // FreeType2 draws on 3 channels only
  const int lines = rng.uniform(3, 7);
  for (int i = 0; i < lines; ++i) {
    const std::string& text = kPhrases[rng.uniform(0, static_cast<int>(kPhrases.size()))];
    const int height = static_cast<int>(size.height * rng.uniform(0.04, 0.09));
    int baseline = 0;
    const cv::Size box = ft.getTextSize(text, height, -1, &baseline);
    const int x = rng.uniform(0, std::max(1, size.width - box.width));
    const int y = rng.uniform(box.height, size.height - baseline);
    ft.putText(canvas, text, {x, y}, height, cv::Scalar::all(255), -1, cv::LINE_AA, true);
  }
  cv::Mat mask;
  cv::cvtColor(canvas, mask, cv::COLOR_BGR2GRAY);
  cv::threshold(mask, mask, 0, 255, cv::THRESH_BINARY);
  cv::dilate(mask, mask, cv::getStructuringElement(cv::MORPH_ELLIPSE, {5, 5}));
  const int banners = rng.uniform(1, 4);
  for (int i = 0; i < banners; ++i) {
    const int w = static_cast<int>(size.width * rng.uniform(0.15, 0.35));
    const int h = static_cast<int>(size.height * rng.uniform(0.05, 0.10));
    const int x = rng.uniform(0, size.width - w);
    const int y = rng.uniform(0, 2) ? rng.uniform(0, size.height / 6)
                                    : rng.uniform(size.height * 5 / 6 - h, size.height - h);
    cv::rectangle(mask, cv::Rect(x, y, w, h), cv::Scalar(255), cv::FILLED);
  }
  return mask;
}

struct Clock {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = CpuSeconds();
  static double CpuSeconds() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
  }
  double WallSeconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
  }
  double CpuSecondsSince() const { return CpuSeconds() - cpu; }
};

cv::Mat Thumb(const cv::Mat& img, int side) {
  cv::Mat out;
  const double s = static_cast<double>(side) / std::max(img.cols, img.rows);
  cv::resize(img, out, {}, s, s, cv::INTER_AREA);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // ../shared beside the checkout (a worktree sits one level deeper).
  fs::path data = fs::path(VITRINE_SOURCE_DIR) / "../shared/data/b_product_dreambooth";
  if (!fs::is_directory(data)) {
    data = fs::path(VITRINE_SOURCE_DIR) / "../../shared/data/b_product_dreambooth";
  }
  if (argc > 1) data = argv[1];
  const fs::path out_dir =
      argc > 2 ? fs::path(argv[2]) : fs::path(VITRINE_SOURCE_DIR) / "bench/out/inpaint";
  if (!fs::is_directory(data)) {
    std::fprintf(stderr, "no folder %s: pass the folder of clean photos as the first argument\n",
                 data.c_str());
    return 2;
  }
  fs::create_directories(out_dir);
  vitrine::ops::InpaintOptions options;
  if (argc > 3) options.thin_radius = std::atoi(argv[3]);
  cv::Ptr<cv::freetype::FreeType2> ft = cv::freetype::createFreeType2();
  ft->loadFontData(kFont, 0);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(data)) {
    const std::string ext = e.path().extension().string();
    if (ext == ".jpg" || ext == ".png") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::printf("%-24s %5s %5s %7s %8s %6s %9s %9s %10s\n", "image", "MP", "mask%", "ours dB",
              "Telea dB", "NS dB", "ours s/MP", "(cpu s)", "Telea s/MP");
  double sum_ours = 0, sum_telea = 0, sum_ns = 0, total_mp = 0, t_ours = 0, t_telea = 0;
  double c_ours = 0, c_telea = 0;
  int wins = 0, index = 0;
  for (const fs::path& file : files) {
    // Each photo's mask depends only on its name, so a subset gives the same figures.
    cv::RNG rng(std::hash<std::string>{}(file.filename().string()) & 0xffffffffu);
    const cv::Mat clean = cv::imread(file.string(), cv::IMREAD_COLOR);
    if (clean.empty()) continue;
    const cv::Mat mask = MakeMask(clean.size(), *ft, rng);
    cv::Mat damaged = clean.clone();
    damaged.setTo(cv::Scalar(40, 40, 230), mask);
    const double mp = clean.total() / 1e6;
    Clock clock;
    vitrine::Result<cv::Mat> ours = vitrine::ops::Inpaint(damaged, mask, options);
    const double s_ours = clock.WallSeconds(), cpu_ours = clock.CpuSecondsSince();
    if (!ours.ok()) {
      std::fprintf(stderr, "%s: %s\n", file.c_str(), ours.status().ToString().c_str());
      return 1;
    }
    cv::Mat telea, ns;
    clock = Clock();
    cv::inpaint(damaged, mask, telea, 3, cv::INPAINT_TELEA);
    const double s_telea = clock.WallSeconds(), cpu_telea = clock.CpuSecondsSince();
    cv::inpaint(damaged, mask, ns, 3, cv::INPAINT_NS);
    const double p_ours = vitrine::ops::MaskedPsnr(*ours, clean, mask);
    const double p_telea = vitrine::ops::MaskedPsnr(telea, clean, mask);
    const double p_ns = vitrine::ops::MaskedPsnr(ns, clean, mask);
    std::printf("%-24s %5.2f %5.1f %7.2f %8.2f %6.2f %9.3f %9.3f %10.3f\n", file.filename().c_str(),
                mp, 100.0 * cv::countNonZero(mask) / clean.total(), p_ours, p_telea, p_ns,
                s_ours / mp, cpu_ours / mp, s_telea / mp);
    sum_ours += p_ours;
    sum_telea += p_telea;
    sum_ns += p_ns;
    wins += p_ours > p_telea;
    total_mp += mp;
    t_ours += s_ours;
    t_telea += s_telea;
    c_ours += cpu_ours;
    c_telea += cpu_telea;
    if (index++ % 4 == 0) {  // six pictures spread over the set
      cv::Mat row;
      cv::hconcat(std::vector<cv::Mat>{Thumb(damaged, 640), Thumb(*ours, 640), Thumb(telea, 640)},
                  row);
      cv::imwrite((out_dir / (file.stem().string() + "_before_ours_telea.png")).string(), row);
      // The same at full resolution, around the largest masked region.
      cv::Mat labels, stats, centroids;
      const int count = cv::connectedComponentsWithStats(mask, labels, stats, centroids);
      int largest = 1;
      for (int i = 2; i < count; ++i) {
        if (stats.at<int>(i, cv::CC_STAT_AREA) > stats.at<int>(largest, cv::CC_STAT_AREA)) {
          largest = i;
        }
      }
      cv::Rect box(stats.at<int>(largest, cv::CC_STAT_LEFT) - 60,
                   stats.at<int>(largest, cv::CC_STAT_TOP) - 60,
                   stats.at<int>(largest, cv::CC_STAT_WIDTH) + 120,
                   stats.at<int>(largest, cv::CC_STAT_HEIGHT) + 120);
      box &= cv::Rect(0, 0, clean.cols, clean.rows);
      cv::Mat crop;
      cv::vconcat(std::vector<cv::Mat>{damaged(box), (*ours)(box), telea(box), clean(box)}, crop);
      cv::imwrite((out_dir / (file.stem().string() + "_crop.png")).string(), crop);
      cv::imwrite((out_dir / (file.stem().string() + "_mask.png")).string(), mask);
    }
  }
  const double n = static_cast<double>(files.size());
  std::printf(
      "\n%zu images, %.1f MP: mean PSNR inside the mask: ours %.2f dB, Telea %.2f dB, "
      "NS %.2f dB (ours better than Telea on %d)\n",
      files.size(), total_mp, sum_ours / n, sum_telea / n, sum_ns / n, wins);
  std::printf(
      "time per MP: ours %.3f s wall, %.3f s CPU; Telea %.3f s wall, %.3f s CPU "
      "(%d threads; wall time depends on the machine's load)\n",
      t_ours / total_mp, c_ours / total_mp, t_telea / total_mp, c_telea / total_mp,
      cv::getNumThreads());
  std::printf("triptychs (before | ours | Telea) in %s\n", out_dir.c_str());
  return 0;
}
