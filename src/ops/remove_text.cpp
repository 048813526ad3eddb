// remove_text: promotion text, banners and watermarks removed, product text kept (remove_text.h).
#include "ops/remove_text.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <opencv2/imgproc.hpp>

#include "ops/inpaint.h"
#include "ops/matting.h"
#include "ops/op.h"
#include "ops/text_scope.h"

namespace vitrine::ops {
namespace {

// Smaller images hold no readable text; they come back unchanged.
constexpr int kMinSide = 32;
// Long side of the product mask the classification works on (ISNet's own resolution).
constexpr int kClassifySide = 1024;
// A residual region counts when this share of it overlaps what was removed.
constexpr double kResidualOverlap = 0.3;

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The product mask of `bgr` at `work` size (255 = product), from ISNet.
Result<cv::Mat> ProductMask(models::Runtime& runtime, const cv::Mat& bgr, cv::Size work) {
  ASSIGN_OR_RETURN(const models::Segmenter* segmenter, runtime.segmenter());
  ASSIGN_OR_RETURN(cv::Mat prob, segmenter->Predict(segmenter->NetView(bgr)));
  cv::Mat resized, mask;
  cv::resize(prob, resized, work, 0, 0, cv::INTER_LINEAR);
  cv::compare(resized, 0.5, mask, cv::CMP_GT);
  return mask;
}

// Adds to `mask` (image size) what removing `region` takes: the region grown by `grow` (its
// outline and shadow) and the banner behind it.
void AddRemoval(const cv::Mat& bgr, const models::TextRegion& region, int grow, cv::Mat* mask) {
  const double h = LineHeight(region);
  const cv::Rect roi = BannerWindow(region, grow + 1.5 * h, bgr.size());
  if (roi.empty()) return;
  cv::Mat part = RegionMaskIn(roi, region, grow);
  const cv::Mat banner = BannerMask(bgr, region, roi);
  if (!banner.empty()) part |= banner;
  cv::Mat target = (*mask)(roi);
  target |= part;
}

// Grow for a region: the option, or a share of the line height (outlines, drop shadows).
int GrowFor(const models::TextRegion& region, int grow) {
  return grow >= 0 ? grow : std::max(2, cvRound(0.15 * LineHeight(region)));
}

// Share of `region`'s pixels that `mask` (image size) covers.
double Overlap(const models::TextRegion& region, const cv::Mat& mask) {
  const cv::Rect roi = Window(region, 0, mask.size());
  if (roi.empty()) return 0;
  const cv::Mat inside = RegionMaskIn(roi, region, 0);
  const int area = cv::countNonZero(inside);
  if (area == 0) return 0;
  cv::Mat both;
  cv::bitwise_and(inside, mask(roi), both);
  return static_cast<double>(cv::countNonZero(both)) / area;
}

double MaskedSum(const cv::Mat& probability, const cv::Mat& mask) {
  cv::Mat weight;
  mask.convertTo(weight, CV_32FC1, 1.0 / 255);
  return cv::sum(probability.mul(weight))[0];
}

// The removal mask of `regions`, each grown by its own amount.
cv::Mat RemovalMask(const cv::Mat& bgr, const std::vector<models::TextRegion>& regions,
                    const std::vector<int>& grows) {
  cv::Mat mask(bgr.size(), CV_8UC1, cv::Scalar(0));
  for (size_t i = 0; i < regions.size(); ++i) AddRemoval(bgr, regions[i], grows[i], &mask);
  return mask;
}

}  // namespace

nlohmann::json RemoveTextReport::FactsJson() const {
  auto polygon_json = [](const std::vector<cv::Point2f>& polygon) {
    nlohmann::json points = nlohmann::json::array();
    for (const cv::Point2f& p : polygon) {
      points.push_back({std::round(p.x * 10) / 10, std::round(p.y * 10) / 10});
    }
    return points;
  };
  nlohmann::json facts;
  facts["regions"] = nlohmann::json::array();
  for (const TextFinding& f : regions) {
    facts["regions"].push_back({{"polygon", polygon_json(f.polygon)},
                                {"text", f.text},
                                {"confidence", std::round(f.confidence * 1000) / 1000},
                                {"score", std::round(f.score * 1000) / 1000},
                                {"kind", f.overlay ? "overlay" : "product"},
                                {"why", f.why},
                                {"removed", f.removed}});
  }
  nlohmann::json left = nlohmann::json::array();
  for (const auto& polygon : residual) left.push_back(polygon_json(polygon));
  facts["residual"] = {{"regions", left}, {"share", std::round(residual_share * 10000) / 10000}};
  if (!note.empty()) facts["note"] = note;
  return facts;
}

Result<Image> RemoveText(const Image& input, const RemoveTextOptions& options,
                         models::Runtime& runtime, RemoveTextReport* report) {
  RemoveTextReport local;
  RemoveTextReport& r = report ? *report : local;
  r = RemoveTextReport{};
  if (input.bgr.empty()) return InvalidArgument("remove_text: the image is empty");
  if (std::min(input.width(), input.height()) < kMinSide) {
    r.note = "image under " + std::to_string(kMinSide) + " px on a side: left unchanged";
    return input;
  }
  try {
    const cv::Mat& bgr = input.bgr;
    Clock::time_point start = Clock::now();
    ASSIGN_OR_RETURN(const models::TextDetector* detector, runtime.text_detector());
    ASSIGN_OR_RETURN(models::TextDetector::Output first, detector->Run(bgr));
    r.timings.detect = Since(start);
    if (first.regions.empty()) return input;

    start = Clock::now();
    r.regions.resize(first.regions.size());
    if (options.recognize) {
      ASSIGN_OR_RETURN(const models::TextRecognizer* recognizer, runtime.text_recognizer());
      ASSIGN_OR_RETURN(std::vector<models::RecognizedText> texts,
                       recognizer->RecognizeAll(bgr, first.regions));
      for (size_t i = 0; i < texts.size(); ++i) {
        r.regions[i].text = texts[i].text;
        r.regions[i].confidence = texts[i].confidence;
      }
    }
    r.timings.recognise = Since(start);

    start = Clock::now();
    const cv::Size work = FitLongSide(bgr.size(), kClassifySide);
    cv::Mat product;
    if (options.scope == TextScope::kOverlay) {
      ASSIGN_OR_RETURN(product, ProductMask(runtime, bgr, work));
    }
    ClassifyText(bgr, product, first.regions, options.recognize, &r.regions);
    if (options.scope == TextScope::kAll) {
      for (TextFinding& f : r.regions) {
        if (!f.overlay) f.why = "printed on the product; removed (scope all)";
      }
    }
    std::vector<models::TextRegion> targets;
    std::vector<int> grows;
    for (size_t i = 0; i < first.regions.size(); ++i) {
      if (options.scope == TextScope::kAll || r.regions[i].overlay) {
        r.regions[i].removed = true;
        targets.push_back(first.regions[i]);
        grows.push_back(GrowFor(first.regions[i], options.grow));
      }
    }
    cv::Mat mask = RemovalMask(bgr, targets, grows);
    r.timings.classify = Since(start);
    if (targets.empty()) return input;

    InpaintOptions fill;
    fill.seed = options.seed;
    start = Clock::now();
    ASSIGN_OR_RETURN(cv::Mat result, Inpaint(bgr, mask, fill));
    r.timings.inpaint = Since(start);
    if (!options.verify) {
      Image out = input;
      out.bgr = result;
      return out;
    }

    // Verify: what the detector still finds where text was removed.
    start = Clock::now();
    const double signal = MaskedSum(first.probability, mask);
    // Only where text was removed: text elsewhere was judged by the first pass, and a region that
    // appears elsewhere only now is the detector wavering on the product's texture.
    auto residual = [&](const models::TextDetector::Output& after) {
      std::vector<models::TextRegion> left;
      for (const models::TextRegion& region : after.regions) {
        if (Overlap(region, mask) >= kResidualOverlap) left.push_back(region);
      }
      return left;
    };
    ASSIGN_OR_RETURN(models::TextDetector::Output after, detector->Run(result));
    std::vector<models::TextRegion> left = residual(after);
    if (!left.empty()) {
      // Once more, from the original, with the leftovers grown twice as much.
      for (const models::TextRegion& region : left) {
        AddRemoval(bgr, region, 2 * GrowFor(region, options.grow), &mask);
      }
      ASSIGN_OR_RETURN(result, Inpaint(bgr, mask, fill));
      ASSIGN_OR_RETURN(after, detector->Run(result));
      left = residual(after);
    }
    r.residual_share =
        signal > 0 ? std::min(1.0, MaskedSum(after.probability, mask) / signal) : 0.0;
    for (const models::TextRegion& region : left) r.residual.push_back(region.polygon);
    r.timings.verify = Since(start);
    Image out = input;
    out.bgr = result;
    return out;
  } catch (const cv::Exception& e) {
    return Internal(std::string("remove_text: OpenCV failed: ") + e.what());
  }
}

Result<cv::Mat> OverlayTextMask(models::Runtime& runtime, const cv::Mat& bgr) {
  if (bgr.empty()) return cv::Mat();
  const cv::Size work = FitLongSide(bgr.size(), kClassifySide);
  if (std::min(bgr.cols, bgr.rows) < kMinSide) return cv::Mat(cv::Mat::zeros(work, CV_8UC1));
  try {
    ASSIGN_OR_RETURN(const models::TextDetector* detector, runtime.text_detector());
    ASSIGN_OR_RETURN(std::vector<models::TextRegion> regions, detector->Detect(bgr));
    if (regions.empty()) return cv::Mat(cv::Mat::zeros(work, CV_8UC1));
    ASSIGN_OR_RETURN(const models::TextRecognizer* recognizer, runtime.text_recognizer());
    ASSIGN_OR_RETURN(std::vector<models::RecognizedText> texts,
                     recognizer->RecognizeAll(bgr, regions));
    std::vector<TextFinding> findings(regions.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      findings[i].text = texts[i].text;
      findings[i].confidence = texts[i].confidence;
    }
    ASSIGN_OR_RETURN(cv::Mat product, ProductMask(runtime, bgr, work));
    ClassifyText(bgr, product, regions, true, &findings);
    const double sx = static_cast<double>(work.width) / bgr.cols;
    const double sy = static_cast<double>(work.height) / bgr.rows;
    std::vector<models::TextRegion> overlay;
    for (size_t i = 0; i < regions.size(); ++i) {
      if (findings[i].overlay) overlay.push_back(Scaled(regions[i], sx, sy, cv::Point2f(0, 0)));
    }
    if (overlay.empty()) return cv::Mat(cv::Mat::zeros(work, CV_8UC1));
    return models::RegionMask(work, overlay);
  } catch (const cv::Exception& e) {
    return Internal(std::string("overlay text check: OpenCV failed: ") + e.what());
  }
}

std::function<Result<double>(const cv::Mat& bgr)> OverlayTextArea(models::Runtime& runtime) {
  return [&runtime](const cv::Mat& bgr) -> Result<double> {
    ASSIGN_OR_RETURN(cv::Mat covered, OverlayTextMask(runtime, bgr));
    return covered.empty() ? 0.0 : static_cast<double>(cv::countNonZero(covered)) / covered.total();
  };
}

namespace {

OpSchema RemoveTextSchema() {
  OpSchema s;
  s.name = "remove_text";
  s.version = 2;
  s.doc =
      "Removes overlay text, banners and watermarks (PP-OCRv4 detection, exemplar inpainting), "
      "keeping the product's own printed text";
  s.models = {"ppocr_det", "ppocr_rec", "isnet"};
  s.fields = {
      {"scope",
       FieldType::kEnum,
       "overlay",
       {},
       {},
       {"overlay", "all"},
       "overlay: text added on the photo; all: every text, the product's own too"},
      {"seed",
       FieldType::kInteger,
       0,
       0.0,
       2147483647.0,
       {},
       "inpainting seed (same seed, same "
       "bytes)"},
      {"grow",
       FieldType::kInteger,
       -1,
       -1.0,
       200.0,
       {},
       "px added around each text region; -1: scaled with the line height"},
      {"recognize", FieldType::kBoolean, true, {}, {}, {}, "read the text for the report"},
      {"verify",
       FieldType::kBoolean,
       true,
       {},
       {},
       {},
       "detect again after removal; retry once, then warn about text left"},
  };
  return s;
}

Result<Image> RunRemoveText(const Image& input, const nlohmann::json& params, OpContext& context) {
  if (!context.models) return Internal("remove_text needs the model runtime");
  RemoveTextOptions options;
  options.scope = params["scope"] == "all" ? TextScope::kAll : TextScope::kOverlay;
  options.seed = params["seed"].get<uint64_t>();
  options.grow = params["grow"];
  options.recognize = params["recognize"];
  options.verify = params["verify"];
  RemoveTextReport report;
  ASSIGN_OR_RETURN(Image out, RemoveText(input, options, *context.models, &report));
  if (!report.note.empty()) Warn(context, report.note);
  if (!report.residual.empty()) {
    std::string where;
    for (const std::vector<cv::Point2f>& polygon : report.residual) {
      const cv::Rect box = cv::boundingRect(polygon);
      where += (where.empty() ? "" : ", ") + std::to_string(box.width) + "x" +
               std::to_string(box.height) + " at (" + std::to_string(box.x) + ", " +
               std::to_string(box.y) + ")";
    }
    Warn(context, "overlay text left: " + where + " — marked for QA");
  }
  if (context.facts) {
    const nlohmann::json facts = report.FactsJson();
    for (const auto& [key, value] : facts.items()) (*context.facts)[key] = value;
  }
  return out;
}

}  // namespace

VITRINE_REGISTER_OP((OpDef{RemoveTextSchema(), RunRemoveText}));

}  // namespace vitrine::ops
