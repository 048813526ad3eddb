// cutout_stages: where the CPU time of one cutout goes, stage by stage, on one thread (as each
// worker of `vitrine cutout` runs: one image per core).
//
//   cutout_stages FILE...
//
// Per image and as a mean, in CPU milliseconds of this thread (so other load on the machine
// inflates them less than wall time): decode; the whole cutout op, mask only and RGBA; and its
// parts: the net's view of the photo (resize), ISNet with FastConv layers and with OpenCV's own
// layers, the guided refinement, colour decontamination; PNG encoding of the mask and of the RGBA
// cutout. The op's total minus the parts is the rest (the alpha stretch, stray pieces, resizes).
#include <time.h>

#include <cstdio>
#include <map>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "io/image_io.h"
#include "models/runtime.h"
#include "ops/matting.h"
#include "ops/op.h"

namespace {

using namespace vitrine;

double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

template <typename F>
double Time(F&& f) {
  const double start = ThreadCpuMs();
  f();
  return ThreadCpuMs() - start;
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "cutout_stages: %s\n", message.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("usage: cutout_stages FILE...\n", stderr);
    return 2;
  }
  cv::setNumThreads(1);
  Result<Config> config = LoadConfig();
  if (!config.ok()) Die(config.status().message());
  models::Runtime runtime(*config);
  Result<const models::Segmenter*> fast = runtime.segmenter();
  if (!fast.ok()) Die(fast.status().message());
  const int size = (*fast)->input_size();
  Result<std::string> path = size == models::kDefaultSegmentSize
                                 ? runtime.catalog().PreparedPath("isnet")
                                 : runtime.catalog().PrepareVariant("isnet", {1, 3, size, size});
  if (!path.ok()) Die(path.status().message());
  models::Segmenter::Options plain_options{size};
  plain_options.fast_conv = false;
  Result<std::unique_ptr<models::Segmenter>> plain = models::Segmenter::Load(*path, plain_options);
  if (!plain.ok()) Die(plain.status().message());

  const ops::OpDef* op = ops::Registry::Global().Find("cutout");
  const nlohmann::json mask_params = *op->schema.Validate({{"output", "mask"}});
  const nlohmann::json rgba_params = *op->schema.Validate({});
  ops::OpContext context{&*config, &runtime};

  const std::vector<std::string> stages = {
      "decode",       "cutout mask", "cutout rgba",   "net view", "isnet fastconv",
      "isnet opencv", "refine",      "decontaminate", "png mask", "png rgba"};
  std::map<std::string, double> sum;
  std::printf("%-40s", "image (CPU ms)");
  for (const std::string& s : stages) std::printf(" %14s", s.c_str());
  std::printf("\n");
  // Warm-up: the first inference of each net sets up its buffers.
  cv::Mat warm(size, size, CV_8UC3, cv::Scalar(128, 128, 128));
  (void)(*fast)->Predict(warm);
  (void)(*plain)->Predict(warm);
  int n = 0;
  for (int i = 1; i < argc; ++i) {
    std::map<std::string, double> t;
    Result<Image> image = Status::Ok();
    t["decode"] = Time([&] { image = io::ReadImageFile(argv[i], config->limits); });
    if (!image.ok()) Die(image.status().message());
    Result<Image> mask = Status::Ok(), rgba = Status::Ok();
    t["cutout mask"] = Time([&] { mask = op->run(*image, mask_params, context); });
    t["cutout rgba"] = Time([&] { rgba = op->run(*image, rgba_params, context); });
    if (!mask.ok() || !rgba.ok()) Die(std::string(argv[i]) + ": cutout failed");
    const cv::Size work = ops::FitLongSide(image->bgr.size(), 2048);
    cv::Mat guide = image->bgr, view;
    if (work != guide.size()) cv::resize(image->bgr, guide, work, 0, 0, cv::INTER_AREA);
    t["net view"] = Time([&] { view = (*fast)->NetView(guide); });
    Result<cv::Mat> prob = Status::Ok();
    t["isnet fastconv"] = Time([&] { prob = (*fast)->Predict(view); });
    t["isnet opencv"] = Time([&] { (void)(*plain)->Predict(view); });
    if (!prob.ok()) Die(prob.status().message());
    t["refine"] = Time([&] { (void)ops::RefineAlpha(*prob, view, guide); });
    cv::Mat alpha;
    cv::extractChannel(mask->bgr, alpha, 0);
    t["decontaminate"] = Time([&] { (void)ops::EstimateForeground(image->bgr, alpha); });
    io::EncodeOptions grey;
    grey.grey = true;
    t["png mask"] = Time([&] { (void)io::EncodeImage(*mask, grey); });
    t["png rgba"] = Time([&] { (void)io::EncodeImage(*rgba, io::EncodeOptions{}); });
    std::printf("%-40.40s", argv[i]);
    for (const std::string& s : stages) {
      std::printf(" %14.0f", t[s]);
      sum[s] += t[s];
    }
    std::printf("\n");
    ++n;
  }
  std::printf("%-40s", ("mean of " + std::to_string(n)).c_str());
  for (const std::string& s : stages) std::printf(" %14.0f", sum[s] / n);
  std::printf("\n");
  return 0;
}
