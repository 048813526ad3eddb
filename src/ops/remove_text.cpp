// remove_text: promotion text, banners and watermarks removed, product text kept (remove_text.h).
#include "ops/remove_text.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "ops/inpaint.h"
#include "ops/matting.h"
#include "ops/op.h"
#include "ops/text_scope.h"
#include "ops/watermark.h"

namespace vitrine::ops {
namespace {

// Smaller images hold no readable text; they come back unchanged.
constexpr int kMinSide = 32;
// Long side of the product mask the classification works on (ISNet's own resolution).
constexpr int kClassifySide = 1024;
// The screen's product (ClassifyAgainstProduct) is trusted only when it covers this share of the
// image: none is a miss, nearly all is the segmenter taking the whole listing for the product.
constexpr double kScreenProductMin = 0.02;
constexpr double kScreenProductMax = 0.85;
// A residual region counts when this share of it overlaps what was removed.
constexpr double kResidualOverlap = 0.3;
// A detected region is a watermark copy when this share of it lies on the copies.
constexpr double kInMark = 0.5;

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
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

// Why a watermark copy was removed, for the report.
std::string WatermarkWhy(const TiledWatermark& mark) {
  char text[96];
  std::snprintf(text, sizeof(text), "tiled watermark: %zu copies at %.0f%% opacity, inverted",
                mark.copies.size(), 100 * mark.opacity);
  return text;
}

// Grow for a region: the option, or a share of the line height (outlines, drop shadows).
int GrowFor(const models::TextRegion& region, int grow) {
  return grow >= 0 ? grow : std::max(2, cvRound(0.15 * LineHeight(region)));
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

// Windows that together cover `mask`'s nonzero pixels with `margin` px of context around each
// group: the bounding boxes of the mask's connected components, grown, merged while they
// overlap, clipped to the image.
std::vector<cv::Rect> WindowsAround(const cv::Mat& mask, int margin) {
  cv::Mat labels, stats, centroids;
  const int count = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
  const cv::Rect image(cv::Point(0, 0), mask.size());
  std::vector<cv::Rect> windows;
  for (int i = 1; i < count; ++i) {
    const cv::Rect box(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                       stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
    windows.push_back(
        cv::Rect(box.x - margin, box.y - margin, box.width + 2 * margin, box.height + 2 * margin) &
        image);
  }
  for (bool merged = true; merged;) {
    merged = false;
    for (size_t i = 0; i < windows.size() && !merged; ++i) {
      for (size_t j = i + 1; j < windows.size() && !merged; ++j) {
        if ((windows[i] & windows[j]).empty()) continue;
        windows[i] |= windows[j];
        windows.erase(windows.begin() + static_cast<std::ptrdiff_t>(j));
        merged = true;
      }
    }
  }
  return windows;
}

// Detection on `image` only around `mask` (verify: text can only be left where text was
// removed). Each window is scaled as the whole image would be, so text is seen at the first
// pass's resolution. The probability map has the image's size and is 0 outside the windows;
// regions are in image coordinates. When the windows cover most of the image, the whole image
// is run at once.
Result<models::TextDetector::Output> DetectAround(const models::TextDetector& detector,
                                                  const cv::Mat& image, const cv::Mat& mask,
                                                  int margin) {
  const std::vector<cv::Rect> windows = WindowsAround(mask, margin);
  double covered = 0;
  for (const cv::Rect& w : windows) covered += w.area();
  if (covered > 0.6 * image.total()) return detector.Run(image);
  const cv::Size work = detector.WorkSize(image.size());
  const double scale = std::min(1.0, static_cast<double>(work.width) / image.cols);
  models::TextDetector::Output out;
  out.probability = cv::Mat::zeros(image.size(), CV_32FC1);
  for (const cv::Rect& w : windows) {
    cv::Mat crop = image(w);
    if (scale < 1) {
      const cv::Size scaled(std::max(1, cvRound(w.width * scale)),
                            std::max(1, cvRound(w.height * scale)));
      cv::Mat smaller;
      cv::resize(image(w), smaller, scaled, 0, 0, cv::INTER_AREA);
      crop = smaller;
    }
    ASSIGN_OR_RETURN(models::TextDetector::Output part, detector.Run(crop));
    cv::resize(part.probability, out.probability(w), w.size(), 0, 0, cv::INTER_LINEAR);
    const double sx = static_cast<double>(w.width) / crop.cols;
    const double sy = static_cast<double>(w.height) / crop.rows;
    for (models::TextRegion& region : part.regions) {
      for (cv::Point2f& p : region.polygon) {
        p = cv::Point2f(static_cast<float>((p.x + 0.5) * sx - 0.5 + w.x),
                        static_cast<float>((p.y + 0.5) * sy - 0.5 + w.y));
      }
      region.box = cv::minAreaRect(region.polygon);
      out.regions.push_back(std::move(region));
    }
  }
  return out;
}

}  // namespace

Result<cv::Mat> TextProductMask(const models::Segmenter& segmenter, const cv::Mat& bgr) {
  ASSIGN_OR_RETURN(cv::Mat prob, segmenter.Predict(segmenter.NetView(bgr)));
  cv::Mat resized, mask;
  cv::resize(prob, resized, FitLongSide(bgr.size(), kClassifySide), 0, 0, cv::INTER_LINEAR);
  cv::compare(resized, 0.5, mask, cv::CMP_GT);
  return mask;
}

Result<ProductMaskUsed> ClassifyAgainstProduct(const cv::Mat& bgr,
                                               const std::vector<models::TextRegion>& regions,
                                               bool recognised, int screen_size,
                                               models::Runtime& runtime,
                                               std::vector<TextFinding>* findings) {
  // The decisions against `product`, in a copy of `findings` (text and confidence as read); the
  // regions' drawn-over cues do not depend on the mask and are measured once.
  std::vector<std::optional<OverlayCues>> cues;
  auto decide = [&](const cv::Mat& product, std::vector<TextFinding>* out) {
    *out = *findings;
    ClassifyText(bgr, product, regions, recognised, out, &cues);
  };
  auto same = [](const std::vector<TextFinding>& a, const std::vector<TextFinding>& b) {
    return std::equal(
        a.begin(), a.end(), b.begin(), b.end(),
        [](const TextFinding& x, const TextFinding& y) { return x.overlay == y.overlay; });
  };
  const cv::Size work = FitLongSide(bgr.size(), kClassifySide);
  std::vector<TextFinding> nothing, everything;
  decide(cv::Mat::zeros(work, CV_8UC1), &nothing);
  decide(cv::Mat(work, CV_8UC1, cv::Scalar(255)), &everything);
  if (same(nothing, everything)) {
    // Where the region lies is unknown: say why it goes (or stays) either way.
    for (size_t i = 0; i < everything.size(); ++i) {
      if (everything[i].why != nothing[i].why) {
        everything[i].why += "; or, if not on the product: " + nothing[i].why;
      }
    }
    *findings = std::move(everything);
    return ProductMaskUsed::kNone;
  }
  ASSIGN_OR_RETURN(const models::Segmenter* full, runtime.segmenter());
  if (screen_size > 0 && screen_size < full->input_size()) {
    ASSIGN_OR_RETURN(const models::Segmenter* screen, runtime.segmenter(screen_size));
    ASSIGN_OR_RETURN(cv::Mat product, TextProductMask(*screen, bgr));
    // How far the product may move before the screen's decisions are not trusted: a line
    // height (the small net may take the rock a bag stands on, or a banner touching the bag,
    // in or out) and at least two of the screen's net pixels, in work pixels.
    const double to_work = static_cast<double>(work.width) / bgr.cols;
    double line = 0;
    for (const models::TextRegion& region : regions) line = std::max(line, LineHeight(region));
    const int stray = static_cast<int>(
        std::ceil(std::max(line * to_work, 2.0 * std::max(work.width, work.height) / screen_size)));
    const cv::Mat disc =
        cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * stray + 1, 2 * stray + 1));
    cv::Mat grown, shrunk;
    cv::dilate(product, grown, disc);
    cv::erode(product, shrunk, disc);
    std::vector<TextFinding> plain, wide, narrow;
    decide(product, &plain);
    decide(grown, &wide);
    decide(shrunk, &narrow);
    // Trusted only to say "overlay": keeping text is what a wrong product mask costs most (at
    // 384 px ISNet took whole listings for the product), so any region the screen calls product
    // text goes to the full-size ISNet, as does a screen that finds no product or takes nearly
    // the whole image for it.
    bool all_overlay = true;
    for (size_t i = 0; i < plain.size(); ++i) {
      const bool depends = nothing[i].overlay != everything[i].overlay;
      if (depends && !plain[i].overlay) all_overlay = false;
    }
    const double found = static_cast<double>(cv::countNonZero(product)) / product.total();
    if (all_overlay && found >= kScreenProductMin && found <= kScreenProductMax &&
        same(plain, wide) && same(plain, narrow)) {
      *findings = std::move(plain);
      return ProductMaskUsed::kScreen;
    }
  }
  ASSIGN_OR_RETURN(cv::Mat product, TextProductMask(*full, bgr));
  ClassifyText(bgr, product, regions, recognised, findings, &cues);
  return ProductMaskUsed::kFull;
}

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
  if (watermark_copies > 0) {
    for (size_t i = 0; i < regions.size(); ++i) {
      if (regions[i].watermark) facts["regions"][i]["watermark"] = true;
    }
    facts["watermark"] = {{"copies", watermark_copies},
                          {"opacity", std::round(watermark_opacity * 1000) / 1000},
                          {"colour",
                           {std::round(watermark_colour[0]), std::round(watermark_colour[1]),
                            std::round(watermark_colour[2])}}};
  }
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

    // A tiled watermark goes by inversion; the other regions are classified.
    start = Clock::now();
    const std::optional<TiledWatermark> mark = FindTiledWatermark(bgr, first.regions);
    cv::Mat base = bgr;
    cv::Mat mark_area(bgr.size(), CV_8UC1, cv::Scalar(0)), opaque;
    std::vector<bool> in_mark(first.regions.size(), false), fragment(first.regions.size(), false);
    if (mark) {
      cv::Mat changed;
      base = InvertWatermark(bgr, *mark, &changed, &opaque);
      // The copies' strokes with a third of a line around them (the detector's regions reach
      // past the glyphs).
      const int reach = std::max(2, cvRound(LineHeight(first.regions[mark->seed]) / 3));
      cv::dilate(changed, mark_area,
                 cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * reach + 1, 2 * reach + 1}));
      for (size_t i = 0; i < first.regions.size(); ++i) {
        in_mark[i] =
            static_cast<int>(i) == mark->seed || ShareIn(first.regions[i], mark_area) >= kInMark;
      }
      // Lines tilted and sized like the watermark's (the rest of a line the template held only
      // part of) are its too: they are inpainted.
      const models::TextRegion& seed = first.regions[mark->seed];
      const bool tilted = std::abs(LineAngle(seed)) >= kWatermarkTilt;
      for (size_t i = 0; i < first.regions.size(); ++i) {
        fragment[i] = !in_mark[i] && tilted && TiltedAlike(seed, first.regions[i]);
      }
    }
    std::vector<models::TextRegion> others;
    std::vector<TextFinding> other_findings;
    for (size_t i = 0; i < first.regions.size(); ++i) {
      if (in_mark[i]) continue;
      others.push_back(first.regions[i]);
      other_findings.push_back(r.regions[i]);
    }
    if (others.empty()) {
      r.product_mask = ProductMaskUsed::kNone;
    } else if (options.scope == TextScope::kOverlay) {
      ASSIGN_OR_RETURN(r.product_mask, ClassifyAgainstProduct(bgr, others, options.recognize,
                                                              options.screen_segment_size, runtime,
                                                              &other_findings));
    } else {
      ClassifyText(bgr, cv::Mat(), others, options.recognize, &other_findings);
    }
    if (options.scope == TextScope::kAll) {
      for (TextFinding& f : other_findings) {
        if (!f.overlay) f.why = "printed on the product; removed (scope all)";
      }
    }
    std::vector<models::TextRegion> targets;
    std::vector<int> grows;
    for (size_t i = 0, k = 0; i < first.regions.size(); ++i) {
      TextFinding& f = r.regions[i];
      if (in_mark[i]) {
        f.polygon = first.regions[i].polygon;
        f.score = first.regions[i].score;
        f.overlay = f.removed = f.watermark = true;
        f.why = WatermarkWhy(*mark);
        continue;
      }
      f = std::move(other_findings[k++]);
      if (fragment[i]) {
        f.overlay = f.watermark = true;
        f.why = "tilted and sized like the tiled watermark's copies: part of it";
      }
      if (options.scope == TextScope::kAll || f.overlay) {
        f.removed = true;
        targets.push_back(first.regions[i]);
        grows.push_back(GrowFor(first.regions[i], options.grow));
      }
    }
    if (mark) {
      // Copies the detector did not see are reported too: they were removed.
      r.watermark_copies = static_cast<int>(mark->copies.size());
      r.watermark_opacity = mark->opacity;
      r.watermark_colour = mark->colour;
      const std::string seed_text = r.regions[mark->seed].text;
      for (size_t i = 0; i < mark->copies.size(); ++i) {
        const std::vector<cv::Point2f> polygon = mark->CopyPolygon(i);
        models::TextRegion copy;
        copy.polygon = polygon;
        const cv::Mat area = models::RegionMask(bgr.size(), {copy});
        bool seen = false;
        for (size_t j = 0; j < first.regions.size() && !seen; ++j) {
          seen = in_mark[j] && ShareIn(first.regions[j], area) > 0;
        }
        if (seen) continue;
        TextFinding f;
        f.polygon = polygon;
        f.text = seed_text;
        f.overlay = f.removed = f.watermark = true;
        f.why = WatermarkWhy(*mark) + " (matched, not detected)";
        r.regions.push_back(std::move(f));
      }
    }
    cv::Mat mask = RemovalMask(base, targets, grows);
    if (mark) {
      // The anti-aliased rim of glyphs too opaque to invert.
      cv::Mat rim;
      cv::dilate(opaque, rim, cv::Mat());
      mask |= rim;
      // What a copy's detected line holds beyond the template (the rest of a line the detector
      // saw whole) is inpainted.
      for (size_t i = 0; i < first.regions.size(); ++i) {
        if (!in_mark[i]) continue;
        cv::Mat beyond = models::RegionMask(bgr.size(), {first.regions[i]},
                                            GrowFor(first.regions[i], options.grow));
        beyond.setTo(0, mark_area);
        mask |= beyond;
      }
    }
    r.timings.classify = Since(start);
    if (targets.empty() && !mark) return input;

    InpaintOptions fill;
    fill.seed = options.seed;
    start = Clock::now();
    ASSIGN_OR_RETURN(cv::Mat result, Inpaint(base, mask, fill));
    r.timings.inpaint = Since(start);
    if (!options.verify) {
      Image out = input;
      out.bgr = result;
      return out;
    }
    // What was removed, for verify: the inpainted mask and the watermark's copies.
    cv::Mat removed = mask | mark_area;

    // Verify: what the detector still finds where text was removed.
    start = Clock::now();
    const double signal = MaskedSum(first.probability, removed);
    // Only where text was removed: text elsewhere was judged by the first pass, and a region that
    // appears elsewhere only now is the detector wavering on the product's texture.
    auto residual = [&](const models::TextDetector::Output& after) {
      std::vector<models::TextRegion> left;
      for (const models::TextRegion& region : after.regions) {
        if (ShareIn(region, removed) >= kResidualOverlap) left.push_back(region);
      }
      return left;
    };
    // Context around each removal for the detector: a few lines' worth.
    int margin = 32;
    for (const models::TextRegion& region : targets) {
      margin = std::max(margin, cvRound(2 * LineHeight(region)));
    }
    ASSIGN_OR_RETURN(models::TextDetector::Output after,
                     DetectAround(*detector, result, removed, margin));
    std::vector<models::TextRegion> left = residual(after);
    if (!left.empty()) {
      // Once more, from the original, with the leftovers grown twice as much.
      for (const models::TextRegion& region : left) {
        AddRemoval(base, region, 2 * GrowFor(region, options.grow), &mask);
      }
      removed |= mask;
      ASSIGN_OR_RETURN(result, Inpaint(base, mask, fill));
      ASSIGN_OR_RETURN(after, DetectAround(*detector, result, removed, margin));
      left = residual(after);
    }
    r.residual_share =
        signal > 0 ? std::min(1.0, MaskedSum(after.probability, removed) / signal) : 0.0;
    for (const models::TextRegion& region : left) r.residual.push_back(region.polygon);
    r.timings.verify = Since(start);
    Image out = input;
    out.bgr = result;
    return out;
  } catch (const cv::Exception& e) {
    return Internal(std::string("remove_text: OpenCV failed: ") + e.what());
  }
}

namespace {

// Where OverlayTextArea's overlay text is: CV_8UC1, 255 on overlay text, at `bgr`'s size fitted
// into a 1024 px long side; empty for an empty `bgr`. `product`: the product mask to classify
// against, or empty to find it with ISNet.
Result<cv::Mat> OverlayTextMask(models::Runtime& runtime, const cv::Mat& bgr,
                                const cv::Mat& product) {
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
    if (product.empty()) {
      RETURN_IF_ERROR(
          ClassifyAgainstProduct(bgr, regions, true, kDefaultScreenSegmentSize, runtime, &findings)
              .status());
    } else {
      ClassifyText(bgr, product, regions, true, &findings);
    }
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

}  // namespace

qa::OverlayTextFn OverlayTextArea(models::Runtime& runtime) {
  return [&runtime](const cv::Mat& bgr, const cv::Mat& product) -> Result<double> {
    ASSIGN_OR_RETURN(cv::Mat covered, OverlayTextMask(runtime, bgr, product));
    return covered.empty() ? 0.0 : static_cast<double>(cv::countNonZero(covered)) / covered.total();
  };
}

namespace {

OpSchema RemoveTextSchema() {
  OpSchema s;
  s.name = "remove_text";
  s.version = 5;
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
