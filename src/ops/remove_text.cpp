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

namespace vitrine::ops {
namespace {

// Smaller images hold no readable text; they come back unchanged.
constexpr int kMinSide = 32;
// Long side of the product mask the classification works on (ISNet's own resolution).
constexpr int kClassifySide = 1024;
// A region is product text when at least this share of it lies on the product.
constexpr double kInsideProduct = 0.75;
// ...unless it is this large a share of the "product" it lies on: the segmenter took the graphic
// itself (a banner, a sticker) for an object.
constexpr double kLargeForProduct = 0.5;
// Recognition confidence above which a region reads as text.
constexpr double kReadable = 0.5;
// Below this recognition confidence a region is not text at all: the detector fires on some
// textures (fruit, foliage, fabric), and what it finds there reads as nothing.
constexpr double kNotText = 0.35;
// Recognised text seen this many times is a tiled watermark.
constexpr int kTiledCopies = 3;
// A residual region counts when this share of it overlaps what was removed.
constexpr double kResidualOverlap = 0.3;

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Line height of a region: the short side of its rectangle.
double LineHeight(const models::TextRegion& region) {
  return std::max(1.0f, std::min(region.box.size.width, region.box.size.height));
}

models::TextRegion Scaled(const models::TextRegion& region, double sx, double sy, cv::Point2f off) {
  models::TextRegion out = region;
  for (cv::Point2f& p : out.polygon) p = cv::Point2f(p.x * sx - off.x, p.y * sy - off.y);
  return out;
}

// The region's pixels inside `roi` (a CV_8UC1 mask of roi's size), grown by `grow` px.
cv::Mat RegionMaskIn(cv::Rect roi, const models::TextRegion& region, int grow) {
  return models::RegionMask(roi.size(), {Scaled(region, 1, 1, cv::Point2f(roi.tl()))}, grow);
}

// Bounding box of the region grown by `margin`, clipped to `size`.
cv::Rect Window(const models::TextRegion& region, double margin, cv::Size size) {
  cv::Rect box = cv::boundingRect(region.polygon);
  const int m = static_cast<int>(std::ceil(margin)) + 1;
  return cv::Rect(box.x - m, box.y - m, box.width + 2 * m, box.height + 2 * m) &
         cv::Rect(cv::Point(0, 0), size);
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

// The flat-coloured box behind a text line (a red rounded rectangle behind a price), as a mask of
// `roi`'s size, or an empty Mat when the text sits on something else. The region's dominant
// colour (the box shows between the glyphs) is the candidate; the pixels of that colour connected
// to it, holes filled, must contain the region, must not reach the window's edge (that is a
// backdrop, not a box) and must differ from what surrounds them.
cv::Mat BannerMask(const cv::Mat& bgr, const models::TextRegion& region, cv::Rect roi) {
  const double h = LineHeight(region);
  const cv::Mat inside = RegionMaskIn(roi, region, 0);
  const int area = cv::countNonZero(inside);
  if (area < 16) return {};
  const cv::Mat pixels = bgr(roi);
  // Mode of the region's colours, 16 levels a channel.
  std::vector<int> histogram(16 * 16 * 16, 0);
  auto bin = [](const cv::Vec3b& p) { return (p[0] >> 4) * 256 + (p[1] >> 4) * 16 + (p[2] >> 4); };
  for (int y = 0; y < inside.rows; ++y) {
    for (int x = 0; x < inside.cols; ++x) {
      if (inside.at<uchar>(y, x)) ++histogram[bin(pixels.at<cv::Vec3b>(y, x))];
    }
  }
  const int mode =
      static_cast<int>(std::max_element(histogram.begin(), histogram.end()) - histogram.begin());
  cv::Mat in_mode(roi.size(), CV_8UC1, cv::Scalar(0));
  for (int y = 0; y < inside.rows; ++y) {
    for (int x = 0; x < inside.cols; ++x) {
      if (inside.at<uchar>(y, x) && bin(pixels.at<cv::Vec3b>(y, x)) == mode) {
        in_mode.at<uchar>(y, x) = 255;
      }
    }
  }
  if (cv::countNonZero(in_mode) < area / 5) return {};  // no dominant colour: text on a texture
  const cv::Scalar colour = cv::mean(pixels, in_mode);
  cv::Mat similar;
  cv::inRange(pixels, colour - cv::Scalar::all(28), colour + cv::Scalar::all(28), similar);
  cv::Mat labels;
  cv::connectedComponents(similar, labels, 8, CV_32S);
  std::vector<bool> seeded(static_cast<size_t>(labels.rows) * labels.cols + 1, false);
  for (int y = 0; y < labels.rows; ++y) {
    for (int x = 0; x < labels.cols; ++x) {
      if (in_mode.at<uchar>(y, x)) seeded[labels.at<int>(y, x)] = true;
    }
  }
  cv::Mat banner(roi.size(), CV_8UC1, cv::Scalar(0));
  for (int y = 0; y < labels.rows; ++y) {
    for (int x = 0; x < labels.cols; ++x) {
      const int label = labels.at<int>(y, x);
      if (label == 0 || !seeded[label]) continue;
      if (x == 0 || y == 0 || x == labels.cols - 1 || y == labels.rows - 1) return {};
      banner.at<uchar>(y, x) = 255;
    }
  }
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(banner, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  cv::drawContours(banner, contours, -1, cv::Scalar(255), cv::FILLED);
  cv::Mat covered;
  cv::bitwise_and(banner, inside, covered);
  if (cv::countNonZero(covered) < 0.6 * area) return {};  // the colour does not hold the text
  if (cv::countNonZero(banner) > 4 * area) return {};
  // A banner stands out from its surroundings; a band of a smooth gradient does not.
  const int reach = std::max(3, cvRound(h / 4));
  cv::Mat outside;
  cv::dilate(banner, outside,
             cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * reach + 1, 2 * reach + 1)));
  outside.setTo(0, banner);
  if (cv::countNonZero(outside) < 8) return {};
  if (cv::norm(cv::mean(pixels, outside) - colour) < 40) return {};
  // The banner's anti-aliased rim and its own shadow.
  const int rim = 2 + cvRound(h / 20);
  cv::dilate(banner, banner,
             cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * rim + 1, 2 * rim + 1)));
  return banner;
}

// Adds to `mask` (image size) what removing `region` takes: the region grown by `grow` (its
// outline and shadow) and the banner behind it.
void AddRemoval(const cv::Mat& bgr, const models::TextRegion& region, int grow, cv::Mat* mask) {
  const double h = LineHeight(region);
  const cv::Rect roi = Window(region, grow + 1.5 * h, bgr.size());
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

void ClassifyText(const cv::Mat& bgr, const cv::Mat& product,
                  const std::vector<models::TextRegion>& regions, bool recognised,
                  std::vector<TextFinding>* findings) {
  findings->resize(regions.size());
  std::map<std::string, int> copies;
  for (const TextFinding& f : *findings) {
    if (!f.text.empty()) ++copies[f.text];
  }
  cv::Mat labels, stats, centroids;
  double sx = 1, sy = 1;
  if (!product.empty()) {
    cv::connectedComponentsWithStats(product, labels, stats, centroids, 8, CV_32S);
    sx = static_cast<double>(product.cols) / bgr.cols;
    sy = static_cast<double>(product.rows) / bgr.rows;
  }
  for (size_t i = 0; i < regions.size(); ++i) {
    TextFinding& f = (*findings)[i];
    f.polygon = regions[i].polygon;
    f.score = regions[i].score;
    if (!f.text.empty() && copies[f.text] >= kTiledCopies) {
      f.overlay = true;
      f.why = "repeated across the image like a watermark";
      continue;
    }
    if (recognised && f.confidence < kNotText) {
      f.overlay = false;
      f.why = "does not read as text (texture or pattern)";
      continue;
    }
    if (product.empty()) {
      f.overlay = true;
      f.why = "no product mask: all text counts";
      continue;
    }
    const models::TextRegion small = Scaled(regions[i], sx, sy, cv::Point2f(0, 0));
    const cv::Rect roi = Window(small, 0, product.size());
    const cv::Mat inside = roi.empty() ? cv::Mat() : RegionMaskIn(roi, small, 0);
    const int area = inside.empty() ? 0 : cv::countNonZero(inside);
    if (area == 0) {
      f.overlay = true;
      f.why = "too small to place";
      continue;
    }
    std::map<int, int> on_product;  // component label -> region pixels on it
    for (int y = 0; y < inside.rows; ++y) {
      for (int x = 0; x < inside.cols; ++x) {
        const int label = labels.at<int>(y + roi.y, x + roi.x);
        if (inside.at<uchar>(y, x) && label > 0) ++on_product[label];
      }
    }
    int total = 0, best = 0, best_label = 0;
    for (const auto& [label, count] : on_product) {
      total += count;
      if (count > best) best = count, best_label = label;
    }
    const double share = static_cast<double>(total) / area;
    if (share < kInsideProduct) {
      f.overlay = true;
      f.why = share < 0.1 ? "over the background" : "spans the product and the background";
      continue;
    }
    const int component = stats.at<int>(best_label, cv::CC_STAT_AREA);
    // Only for text that reads: the detector also fires on whole products with printed
    // texture, and such a blob covers most of its "component" too.
    const bool reads = !f.text.empty() && f.confidence >= kReadable;
    if (reads && best > kLargeForProduct * component) {
      f.overlay = true;
      f.why = "the graphic itself is what the segmenter found";
      continue;
    }
    f.overlay = false;
    f.why = "printed on the product";
  }
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
  s.version = 1;
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
