// cutout_bench: data and scoring for the background-removal benchmark (bench/cutout.sh).
//
//   cutout_bench composites OUTDIR [--data DIR] [--seed N]
//       Pastes each RGBA cutout of DATA/c_rgba_cutouts onto three of four kinds of background
//       (a room photo, a flat colour, a vertical gradient, a busy studio photo) at realistic photo
//       sizes. Writes OUTDIR/images/<name>.jpg (JPEG q95), OUTDIR/truth/<name>.png (the pasted
//       alpha, exact) and OUTDIR/manifest.tsv. Names are <kind>-<nn>-<cutout>.
//   cutout_bench libcom OUTDIR [--data DIR]
//       The three accurate soft masks of DATA/c_seg_libcom: OUTDIR/images/<stem>.jpg (symlinks to
//       the originals) and OUTDIR/truth/<stem>.png (8-bit grey).
//   cutout_bench bigphoto OUT.jpg [--data DIR] [--source FILE] [--size WxH]
//       A large photo for the memory check: a real product photo cropped to the aspect of WxH
//       (default 6000x4000, 24 MP) and resized to it.
//   cutout_bench score TRUTH_DIR PRED_DIR [--json] [--band PX] [--set NAME]
//       Scores PRED_DIR/<stem>.png against TRUTH_DIR/<stem>.png for every truth file: IoU of the
//       alphas thresholded at 128, mean absolute alpha error (0..1), and that error within PX
//       (default 8) pixels of the true edge. Per image, per group (the name's text before the
//       first '-') and the mean over images.
//
// DATA defaults to $VITRINE_SHARED_DATA, else ../shared/data beside the source tree. Everything is
// deterministic for a given seed: the random numbers come from std::mt19937's raw output (whose
// sequence the standard fixes) mapped by hand, not from the library's distributions.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  cutout_bench composites OUTDIR [--data DIR] [--seed N]\n"
    "  cutout_bench libcom OUTDIR [--data DIR]\n"
    "  cutout_bench bigphoto OUT.jpg [--data DIR] [--source FILE] [--size WxH]\n"
    "  cutout_bench score TRUTH_DIR PRED_DIR [--json] [--band PX] [--set NAME]\n";

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "cutout_bench: %s\n", message.c_str());
  std::exit(1);
}

// Command line: positional arguments and --name value / --flag options.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;

  static Args Parse(int argc, char** argv, const std::vector<std::string>& flags) {
    Args args;
    for (int i = 2; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) == 0) {
        std::string name = a.substr(2);
        if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
          args.options[name] = "1";
        } else {
          if (i + 1 >= argc) Die("option --" + name + " needs a value");
          args.options[name] = argv[++i];
        }
      } else {
        args.positional.push_back(a);
      }
    }
    return args;
  }
  std::string Get(const std::string& name, const std::string& fallback) const {
    auto it = options.find(name);
    return it == options.end() ? fallback : it->second;
  }
  bool Has(const std::string& name) const { return options.count(name) > 0; }
};

fs::path DataDir(const Args& args) {
  if (args.Has("data")) return args.Get("data", "");
  if (const char* env = std::getenv("VITRINE_SHARED_DATA")) return env;
  return fs::path(VITRINE_SOURCE_DIR) / ".." / "shared" / "data";
}

std::vector<fs::path> ListImages(const fs::path& dir, const std::string& must_contain = "") {
  if (!fs::is_directory(dir)) Die("no such folder: " + dir.string());
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext != ".png" && ext != ".jpg" && ext != ".jpeg" && ext != ".webp") continue;
    if (entry.path().filename().string().find(must_contain) == std::string::npos) continue;
    out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

cv::Mat ReadOrDie(const fs::path& path, int flags) {
  cv::Mat m = cv::imread(path.string(), flags);
  if (m.empty()) Die("cannot read " + path.string());
  return m;
}

void WriteOrDie(const fs::path& path, const cv::Mat& m, const std::vector<int>& params = {}) {
  if (!cv::imwrite(path.string(), m, params)) Die("cannot write " + path.string());
}

// Any image as 8-bit single-channel alpha: the alpha plane of a 4-channel image, otherwise grey.
cv::Mat AsAlpha8(cv::Mat m) {
  if (m.depth() == CV_16U) m.convertTo(m, CV_8U, 1.0 / 257.0);
  if (m.channels() == 4) {
    cv::Mat a;
    cv::extractChannel(m, a, 3);
    return a;
  }
  if (m.channels() == 3) cv::cvtColor(m, m, cv::COLOR_BGR2GRAY);
  return m;
}

// ---------------------------------------------------------------------------------------------
// composites

// Uniform numbers from mt19937's raw output, the same on every standard library.
class Rng {
 public:
  explicit Rng(uint32_t seed) : engine_(seed) {}
  double Uniform(double lo, double hi) { return lo + (hi - lo) * (engine_() / 4294967296.0); }
  int Int(int lo, int hi) {  // inclusive
    return lo + static_cast<int>(engine_() % static_cast<uint32_t>(hi - lo + 1));
  }
  bool Chance(double p) { return Uniform(0, 1) < p; }
  double Normal() {  // Box-Muller
    double u1 = std::max(Uniform(0, 1), 1e-12), u2 = Uniform(0, 1);
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  }

 private:
  std::mt19937 engine_;
};

// Resizes `src` to cover `size` (scaled to fill, centre-ish crop with a random offset).
cv::Mat Cover(const cv::Mat& src, cv::Size size, Rng& rng) {
  double scale = std::max(static_cast<double>(size.width) / src.cols,
                          static_cast<double>(size.height) / src.rows);
  cv::Size scaled(std::max(size.width, static_cast<int>(std::ceil(src.cols * scale))),
                  std::max(size.height, static_cast<int>(std::ceil(src.rows * scale))));
  cv::Mat big;
  cv::resize(src, big, scaled, 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
  int x = rng.Int(0, scaled.width - size.width), y = rng.Int(0, scaled.height - size.height);
  return big(cv::Rect(x, y, size.width, size.height)).clone();
}

cv::Vec3f RandomColour(Rng& rng) {
  if (rng.Chance(0.3)) {  // the studio classic: white or near-white
    float v = static_cast<float>(rng.Uniform(238, 255));
    return {v, v, v};
  }
  return {static_cast<float>(rng.Uniform(20, 240)), static_cast<float>(rng.Uniform(20, 240)),
          static_cast<float>(rng.Uniform(20, 240))};
}

// Sensor-like noise, so flat backgrounds are not unnaturally clean.
void AddNoise(cv::Mat& bgr_f32, double sigma, Rng& rng) {
  cv::Mat noise(bgr_f32.size(), CV_32FC3);
  for (int y = 0; y < noise.rows; ++y) {
    auto* p = noise.ptr<cv::Vec3f>(y);
    for (int x = 0; x < noise.cols; ++x) {
      for (int c = 0; c < 3; ++c) p[x][c] = static_cast<float>(sigma * rng.Normal());
    }
  }
  bgr_f32 += noise;
}

// An RGBA cutout cropped to its visible part, premultiplied, as float BGR and float alpha.
struct Cutout {
  std::string stem;
  cv::Mat premul;  // CV_32FC3, colour * alpha, 0..255
  cv::Mat alpha;   // CV_32FC1, 0..1
};

Cutout LoadCutout(const fs::path& path) {
  cv::Mat rgba = ReadOrDie(path, cv::IMREAD_UNCHANGED);
  if (rgba.depth() == CV_16U) rgba.convertTo(rgba, CV_8U, 1.0 / 257.0);
  if (rgba.channels() != 4) Die(path.string() + " has no alpha channel");
  cv::Mat a8;
  cv::extractChannel(rgba, a8, 3);
  cv::Rect box = cv::boundingRect(a8 > 0);
  if (box.empty()) Die(path.string() + " is fully transparent");
  Cutout c;
  c.stem = path.stem().string();
  cv::Mat bgr;
  cv::cvtColor(rgba(box), bgr, cv::COLOR_BGRA2BGR);
  a8(box).convertTo(c.alpha, CV_32F, 1.0 / 255.0);
  bgr.convertTo(bgr, CV_32FC3);
  cv::Mat a3;
  cv::merge(std::vector<cv::Mat>{c.alpha, c.alpha, c.alpha}, a3);
  c.premul = bgr.mul(a3);
  return c;
}

constexpr const char* kKinds[] = {"room", "flat", "gradient", "busy"};

int Composites(const Args& args) {
  if (args.positional.size() != 1) Die(std::string("composites needs OUTDIR\n") + kUsage);
  const fs::path out = args.positional[0];
  const fs::path data = DataDir(args);
  const uint32_t seed = static_cast<uint32_t>(std::stoul(args.Get("seed", "20240607")));

  std::vector<fs::path> cutouts = ListImages(data / "c_rgba_cutouts");
  std::vector<fs::path> rooms = ListImages(data / "e_rooms");
  std::vector<fs::path> busy = ListImages(data / "e_staging_backdrops");
  if (cutouts.empty() || rooms.empty() || busy.empty()) Die("missing data under " + data.string());

  fs::create_directories(out / "images");
  fs::create_directories(out / "truth");
  std::ofstream manifest(out / "manifest.tsv");
  manifest << "name\twidth\theight\tkind\tbackground\tcutout\tfill\tscale\tx\ty\n";

  // Aspect ratios of typical product and listing photos (width : height).
  const std::vector<std::pair<int, int>> aspects = {{1, 1}, {4, 3}, {3, 2}, {3, 4}, {2, 3}};
  int index = 0, room_next = 0, busy_next = 0;
  for (size_t ci = 0; ci < cutouts.size(); ++ci) {
    Cutout cutout = LoadCutout(cutouts[ci]);
    for (int k = 0; k < 4; ++k) {
      if (k == static_cast<int>(ci % 4)) continue;  // each cutout on three of the four kinds
      Rng rng(seed * 1000003u + static_cast<uint32_t>(index) * 7919u);
      const std::string kind = kKinds[k];

      // Frame: long side 1200..2000 px at one of the usual aspects.
      auto [aw, ah] = aspects[rng.Int(0, static_cast<int>(aspects.size()) - 1)];
      int long_side = rng.Int(1200, 2000);
      cv::Size frame = aw >= ah ? cv::Size(long_side, long_side * ah / aw)
                                : cv::Size(long_side * aw / ah, long_side);

      // Background, as float BGR.
      cv::Mat bg;
      std::string bg_name;
      if (kind == "room" || kind == "busy") {
        const fs::path& src =
            kind == "room" ? rooms[room_next++ % rooms.size()] : busy[busy_next++ % busy.size()];
        bg_name = src.filename().string();
        cv::Mat photo = ReadOrDie(src, cv::IMREAD_COLOR);
        Cover(photo, frame, rng).convertTo(bg, CV_32FC3);
      } else if (kind == "flat") {
        cv::Vec3f c = RandomColour(rng);
        bg = cv::Mat(frame, CV_32FC3, cv::Scalar(c[0], c[1], c[2]));
        AddNoise(bg, 1.5, rng);
        bg_name = cv::format("flat(%.0f,%.0f,%.0f)", c[2], c[1], c[0]);
      } else {
        cv::Vec3f top = RandomColour(rng), bottom = RandomColour(rng);
        bg = cv::Mat(frame, CV_32FC3);
        for (int y = 0; y < frame.height; ++y) {
          float t = static_cast<float>(y) / std::max(1, frame.height - 1);
          bg.row(y).setTo(cv::Scalar(top[0] + t * (bottom[0] - top[0]),
                                     top[1] + t * (bottom[1] - top[1]),
                                     top[2] + t * (bottom[2] - top[2])));
        }
        AddNoise(bg, 1.5, rng);
        bg_name = cv::format("gradient(%.0f,%.0f,%.0f)->(%.0f,%.0f,%.0f)", top[2], top[1], top[0],
                             bottom[2], bottom[1], bottom[0]);
      }

      // The subject spans 40-70% of the frame along its tighter dimension.
      double fill = rng.Uniform(0.40, 0.70);
      double scale = fill / std::max(static_cast<double>(cutout.alpha.cols) / frame.width,
                                     static_cast<double>(cutout.alpha.rows) / frame.height);
      cv::Size size(std::max(1, cvRound(cutout.alpha.cols * scale)),
                    std::max(1, cvRound(cutout.alpha.rows * scale)));
      int interp = scale < 1 ? cv::INTER_AREA : cv::INTER_CUBIC;
      cv::Mat premul, alpha;
      cv::resize(cutout.premul, premul, size, 0, 0, interp);
      cv::resize(cutout.alpha, alpha, size, 0, 0, interp);
      // Cubic overshoots: keep alpha in [0, 1] and premultiplied colour within [0, 255 * alpha].
      alpha = cv::min(cv::max(alpha, 0.0), 1.0);
      // Quantise now: the composite is made with exactly the alpha the truth file holds.
      cv::Mat alpha8;
      alpha.convertTo(alpha8, CV_8U, 255.0);
      alpha8.convertTo(alpha, CV_32F, 1.0 / 255.0);
      cv::Mat a3;
      cv::merge(std::vector<cv::Mat>{alpha, alpha, alpha}, a3);
      premul = cv::max(premul, 0.0);
      cv::Mat ceiling = a3 * 255.0;
      premul = cv::min(premul, ceiling);

      // Placement: half centred (with a little jitter), half anywhere inside a 3% margin.
      int margin = cvRound(0.03 * std::min(frame.width, frame.height));
      int x, y;
      if (rng.Chance(0.5)) {
        x = (frame.width - size.width) / 2 + rng.Int(-margin, margin);
        y = (frame.height - size.height) / 2 + rng.Int(-margin, margin);
      } else {
        x = rng.Int(margin, std::max(margin, frame.width - size.width - margin));
        y = rng.Int(margin, std::max(margin, frame.height - size.height - margin));
      }
      x = std::clamp(x, 0, frame.width - size.width);
      y = std::clamp(y, 0, frame.height - size.height);
      cv::Rect where(x, y, size.width, size.height);

      cv::Mat roi = bg(where);
      cv::Mat one_minus;
      cv::subtract(cv::Scalar::all(1.0), a3, one_minus);
      cv::Mat blended = premul + roi.mul(one_minus);
      blended.copyTo(roi);
      cv::Mat image8;
      bg.convertTo(image8, CV_8UC3);  // saturating
      cv::Mat truth = cv::Mat::zeros(frame, CV_8UC1);
      alpha8.copyTo(truth(where));

      const std::string name = cv::format("%s-%02d-%s", kind.c_str(), index, cutout.stem.c_str());
      WriteOrDie(out / "images" / (name + ".jpg"), image8, {cv::IMWRITE_JPEG_QUALITY, 95});
      WriteOrDie(out / "truth" / (name + ".png"), truth);
      manifest << name << '\t' << frame.width << '\t' << frame.height << '\t' << kind << '\t'
               << bg_name << '\t' << cutouts[ci].filename().string() << '\t'
               << cv::format("%.3f\t%.3f", fill, scale) << '\t' << x << '\t' << y << '\n';
      std::printf("%s %dx%d\n", name.c_str(), frame.width, frame.height);
      ++index;
    }
  }
  std::printf("%d composites in %s\n", index, out.c_str());
  return 0;
}

// ---------------------------------------------------------------------------------------------
// libcom

int Libcom(const Args& args) {
  if (args.positional.size() != 1) Die(std::string("libcom needs OUTDIR\n") + kUsage);
  const fs::path out = args.positional[0];
  const fs::path src = DataDir(args) / "c_seg_libcom";
  fs::create_directories(out / "images");
  fs::create_directories(out / "truth");
  int n = 0;
  // The accurate soft masks are the src* pairs; the others are coarse polygons.
  for (const fs::path& image : ListImages(src, "_image")) {
    std::string name = image.filename().string();
    if (name.rfind("src", 0) != 0) continue;
    std::string stem = name.substr(0, name.find("_image"));
    fs::path mask_path = src / (stem + "_mask.png");
    cv::Mat photo = ReadOrDie(image, cv::IMREAD_COLOR);
    cv::Mat mask = AsAlpha8(ReadOrDie(mask_path, cv::IMREAD_UNCHANGED));
    if (mask.size() != photo.size()) Die(mask_path.string() + " does not match its image's size");
    fs::path link = out / "images" / (stem + image.extension().string());
    fs::remove(link);
    fs::create_symlink(fs::canonical(image), link);
    WriteOrDie(out / "truth" / (stem + ".png"), mask);
    std::printf("%s %dx%d\n", stem.c_str(), photo.cols, photo.rows);
    ++n;
  }
  if (n == 0) Die("no src*_image files in " + src.string());
  return 0;
}

// ---------------------------------------------------------------------------------------------
// bigphoto

int BigPhoto(const Args& args) {
  if (args.positional.size() != 1) Die(std::string("bigphoto needs OUT.jpg\n") + kUsage);
  fs::path source = args.Get(
      "source", (DataDir(args) / "b_product_dreambooth" / "shiny_sneaker_02.jpg").string());
  int w = 0, h = 0;
  if (std::sscanf(args.Get("size", "6000x4000").c_str(), "%dx%d", &w, &h) != 2 || w < 1 || h < 1)
    Die("--size must be WxH");
  cv::Mat photo = ReadOrDie(source, cv::IMREAD_COLOR);
  // Centre crop to the target aspect, then resize.
  double aspect = static_cast<double>(w) / h;
  cv::Rect crop(0, 0, photo.cols, photo.rows);
  if (static_cast<double>(photo.cols) / photo.rows > aspect) {
    crop.width = cvRound(photo.rows * aspect);
    crop.x = (photo.cols - crop.width) / 2;
  } else {
    crop.height = cvRound(photo.cols / aspect);
    crop.y = (photo.rows - crop.height) / 2;
  }
  cv::Mat big;
  const fs::path out = args.positional[0];
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  cv::resize(photo(crop), big, cv::Size(w, h), 0, 0, cv::INTER_CUBIC);
  WriteOrDie(args.positional[0], big, {cv::IMWRITE_JPEG_QUALITY, 92});
  std::printf("%s %dx%d (%.1f MP) from %s\n", args.positional[0].c_str(), w, h, w * h / 1e6,
              source.c_str());
  return 0;
}

// ---------------------------------------------------------------------------------------------
// score

struct Scores {
  double iou = 0, mae = 0, edge_mae = 0;
  bool has_edge = false;
};

Scores Score(const cv::Mat& truth, const cv::Mat& pred, int band_px) {
  Scores s;
  cv::Mat t = truth >= 128, p = pred >= 128;
  double inter = cv::countNonZero(t & p), uni = cv::countNonZero(t | p);
  s.iou = uni > 0 ? inter / uni : 1.0;
  cv::Mat diff;
  cv::absdiff(truth, pred, diff);
  s.mae = cv::mean(diff)[0] / 255.0;
  // The band: pixels within band_px of the thresholded truth's edge, on either side.
  cv::Mat disc =
      cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * band_px + 1, 2 * band_px + 1));
  cv::Mat grown, shrunk;
  cv::dilate(t, grown, disc);
  cv::erode(t, shrunk, disc);
  cv::Mat band = grown & ~shrunk;
  if (cv::countNonZero(band) > 0) {
    s.edge_mae = cv::mean(diff, band)[0] / 255.0;
    s.has_edge = true;
  }
  return s;
}

struct Mean {
  double iou = 0, mae = 0, edge_mae = 0;
  int n = 0, n_edge = 0;
  std::vector<double> ious;
  void Add(const Scores& s) {
    iou += s.iou;
    ious.push_back(s.iou);
    mae += s.mae;
    ++n;
    if (s.has_edge) {
      edge_mae += s.edge_mae;
      ++n_edge;
    }
  }
  double MedianIou() const {
    if (ious.empty()) return 0;
    std::vector<double> v = ious;
    std::sort(v.begin(), v.end());
    size_t h = v.size() / 2;
    return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
  }
  nlohmann::json ToJson() const {
    return {{"images", n},
            {"iou", n ? iou / n : 0.0},
            {"median_iou", MedianIou()},
            {"mae", n ? mae / n : 0.0},
            {"edge_mae", n_edge ? edge_mae / n_edge : 0.0}};
  }
};

int ScoreCommand(const Args& args) {
  if (args.positional.size() != 2) Die(std::string("score needs TRUTH_DIR PRED_DIR\n") + kUsage);
  const fs::path truth_dir = args.positional[0], pred_dir = args.positional[1];
  const int band_px = std::stoi(args.Get("band", "8"));
  const bool json_out = args.Has("json");
  const std::string set = args.Get("set", truth_dir.parent_path().filename().string());

  nlohmann::json images = nlohmann::json::array(), missing = nlohmann::json::array();
  Mean all;
  std::map<std::string, Mean> groups;
  if (!json_out) {
    std::printf("%-44s %11s %7s %7s %8s\n", "image", "size", "IoU", "MAE", "edgeMAE");
  }
  for (const fs::path& truth_path : ListImages(truth_dir)) {
    const std::string stem = truth_path.stem().string();
    const fs::path pred_path = pred_dir / (stem + ".png");
    cv::Mat pred;
    if (fs::exists(pred_path)) pred = cv::imread(pred_path.string(), cv::IMREAD_UNCHANGED);
    cv::Mat truth = AsAlpha8(ReadOrDie(truth_path, cv::IMREAD_UNCHANGED));
    if (pred.empty()) {
      missing.push_back({{"image", stem}, {"reason", "no readable " + pred_path.string()}});
      if (!json_out) std::printf("%-44s MISSING\n", stem.c_str());
      continue;
    }
    pred = AsAlpha8(pred);
    if (pred.size() != truth.size()) {
      std::string why = cv::format("prediction is %dx%d, truth %dx%d", pred.cols, pred.rows,
                                   truth.cols, truth.rows);
      missing.push_back({{"image", stem}, {"reason", why}});
      if (!json_out) std::printf("%-44s WRONG SIZE: %s\n", stem.c_str(), why.c_str());
      continue;
    }
    Scores s = Score(truth, pred, band_px);
    all.Add(s);
    size_t dash = stem.find('-');
    if (dash != std::string::npos) groups[stem.substr(0, dash)].Add(s);
    images.push_back({{"image", stem},
                      {"width", truth.cols},
                      {"height", truth.rows},
                      {"iou", s.iou},
                      {"mae", s.mae},
                      {"edge_mae", s.has_edge ? nlohmann::json(s.edge_mae) : nlohmann::json()}});
    if (!json_out) {
      std::printf("%-44s %5dx%-5d %7.4f %7.4f %8.4f\n", stem.c_str(), truth.cols, truth.rows, s.iou,
                  s.mae, s.edge_mae);
    }
  }
  if (all.n + static_cast<int>(missing.size()) == 0)
    Die("no truth images in " + truth_dir.string());

  nlohmann::json report = {{"set", set},
                           {"truth_dir", truth_dir.string()},
                           {"pred_dir", pred_dir.string()},
                           {"band_px", band_px},
                           {"mean", all.ToJson()},
                           {"missing", missing},
                           {"images", images}};
  nlohmann::json g = nlohmann::json::object();
  for (const auto& [name, mean] : groups) g[name] = mean.ToJson();
  report["groups"] = g;
  if (json_out) {
    std::printf("%s\n", report.dump(2).c_str());
  } else {
    for (const auto& [name, mean] : groups) {
      nlohmann::json m = mean.ToJson();
      std::printf("%-44s %11s %7.4f %7.4f %8.4f  (%d images)\n", ("group " + name).c_str(), "",
                  m["iou"].get<double>(), m["mae"].get<double>(), m["edge_mae"].get<double>(),
                  mean.n);
    }
    nlohmann::json m = all.ToJson();
    std::printf("%-44s %11s %7.4f %7.4f %8.4f  (%d images, %zu missing or wrong size)\n",
                ("mean " + set).c_str(), "", m["iou"].get<double>(), m["mae"].get<double>(),
                m["edge_mae"].get<double>(), all.n, missing.size());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string command = argv[1];
  try {
    if (command == "composites") return Composites(Args::Parse(argc, argv, {}));
    if (command == "libcom") return Libcom(Args::Parse(argc, argv, {}));
    if (command == "bigphoto") return BigPhoto(Args::Parse(argc, argv, {}));
    if (command == "score") return ScoreCommand(Args::Parse(argc, argv, {"json"}));
  } catch (const std::exception& e) {
    Die(e.what());
  }
  std::fputs(kUsage, stderr);
  return 2;
}
