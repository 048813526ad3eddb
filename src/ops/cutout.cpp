// cutout: background removal. ISNet finds the subject; the alpha is then refined at full
// resolution against the photo's own edges and the edge colours are decontaminated, so the
// cutout carries no fringe of the old background.
#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "models/runtime.h"
#include "ops/matting.h"
#include "ops/op.h"

namespace vitrine::ops {
namespace {

// Long side at which the alpha is refined; larger photos get the refined alpha upsampled.
constexpr int kRefineSide = 2048;
// The net leaves a faint haze (alpha of a few hundredths) over backgrounds and a slight
// transparency inside solid products; mattes are stretched so that these become exactly 0 and
// 255: a white export must be pure white where there is no product.
constexpr double kAlphaFloor = 0.015;
constexpr double kAlphaCeil = 0.985;
// Margin of backdrop added on every side for a second reading, as a share of the net view.
constexpr double kFrameMargin = 0.15;

struct CutoutParams {
  cv::Scalar background;  // [3] == 0 means transparent
  bool crop = false;
  double margin = 0.05;
  bool mask_only = false;
  bool refine = true;
  bool decontaminate = true;
  bool clean_pieces = true;

  static CutoutParams FromJson(const nlohmann::json& p) {
    CutoutParams params;
    params.background = *ParseColor(p["background"].get<std::string>());
    params.crop = p["crop"];
    params.margin = p["margin"];
    params.mask_only = p["output"] == "mask";
    params.refine = p["refine"];
    params.decontaminate = p["decontaminate"];
    params.clean_pieces = p["pieces"] == "clean";
    return params;
  }
};

// Reads the photo again with a margin of its backdrop when the net may have dropped a part of
// the product that the frame cuts (see FramedReadingBackdrop), and merges what it adds.
Result<cv::Mat> AddWhatTheFrameHid(const models::Segmenter& segmenter, const cv::Mat& prob,
                                   const cv::Mat& net_view, OpContext& context) {
  const std::optional<cv::Scalar> backdrop = FramedReadingBackdrop(prob, net_view);
  if (!backdrop) return prob;
  const int margin = cvRound(kFrameMargin * std::max(net_view.cols, net_view.rows));
  cv::Mat padded;
  cv::copyMakeBorder(net_view, padded, margin, margin, margin, margin, cv::BORDER_CONSTANT,
                     *backdrop);
  ASSIGN_OR_RETURN(cv::Mat framed, segmenter.Predict(segmenter.NetView(padded)));
  // Back to the photo's own frame, at the first reading's size.
  const double scale = static_cast<double>(framed.cols) / padded.cols;
  const cv::Rect photo(cvRound(margin * scale), cvRound(margin * scale),
                       cvRound(net_view.cols * scale), cvRound(net_view.rows * scale));
  cv::Mat back;
  cv::resize(framed(photo & cv::Rect(0, 0, framed.cols, framed.rows)), back, prob.size(), 0, 0,
             cv::INTER_LINEAR);
  cv::Mat merged = MergeFramedReading(prob, back);
  if (context.facts) {
    const double before = cv::countNonZero(prob >= 0.5f);
    (*context.facts)["framed_reading"] = {
        {"added", before > 0 ? (cv::countNonZero(merged >= 0.5f) - before) / before : 0}};
  }
  return merged;
}

OpSchema CutoutSchema() {
  OpSchema s;
  s.name = "cutout";
  s.version = 3;
  s.doc =
      "Removes the background: ISNet segmentation, stray parts and background holes removed, "
      "edge refinement, stray pieces dropped, colour decontamination.";
  s.models = {"isnet"};
  s.fields = {
      {"background",
       FieldType::kColor,
       "transparent",
       {},
       {},
       {},
       "transparent, or a colour (#RRGGBB or a name) to place the subject on"},
      {"crop", FieldType::kBoolean, false, {}, {}, {}, "crop to the subject plus the margin"},
      {"margin",
       FieldType::kNumber,
       0.05,
       0.0,
       1.0,
       {},
       "with crop: space around the subject, as a fraction of its longer side"},
      {"output",
       FieldType::kEnum,
       "cutout",
       {},
       {},
       {"cutout", "mask"},
       "cutout: the subject; mask: the alpha matte alone (white = subject)"},
      {"refine",
       FieldType::kBoolean,
       true,
       {},
       {},
       {},
       "snap the matte's edges to the photo's edges at full resolution"},
      {"decontaminate",
       FieldType::kBoolean,
       true,
       {},
       {},
       {},
       "remove the old background's colour from semi-transparent edges"},
      {"pieces",
       FieldType::kEnum,
       "clean",
       {},
       {},
       {"clean", "all"},
       "clean: drop stray pieces (small and away from the subject: remnants of removed text, "
       "specks), thin unsure or background-coloured parts joined by a neck (a wall's joint, "
       "plant stems), haze, and open background seen through loops; all: keep everything the "
       "segmenter found"},
  };
  return s;
}

Result<Image> RunCutout(const Image& input, const nlohmann::json& json, OpContext& context) {
  const CutoutParams params = CutoutParams::FromJson(json);
  if (!context.models) return Internal("cutout needs the model runtime");
  ASSIGN_OR_RETURN(const models::Segmenter* segmenter, context.models->segmenter());

  // Refine at a working size, then bring the matte to full resolution. The net is fed the very
  // image the refinement fits against, shrunk once from the working size.
  const cv::Size full = input.bgr.size();
  const cv::Size work = FitLongSide(full, kRefineSide);
  cv::Mat guide = input.bgr;
  if (work != full) cv::resize(input.bgr, guide, work, 0, 0, cv::INTER_AREA);
  const cv::Mat net_view = segmenter->NetView(guide);
  ASSIGN_OR_RETURN(cv::Mat prob, segmenter->Predict(net_view));
  if (params.clean_pieces) {
    const cv::Mat first = prob;
    ASSIGN_OR_RETURN(prob, AddWhatTheFrameHid(*segmenter, first, net_view, context));
    // What the second reading added is product by its own reading: not cut again below.
    cv::Mat added = (prob >= 0.5f) & (first < 0.5f);
    cv::dilate(added, added, cv::Mat::ones(5, 5, CV_8U));
    ProbabilityCleanup cleanup = CleanProbability(prob, net_view, {}, added);
    if (cleanup.appendages + cleanup.holes > 0 && context.facts) {
      (*context.facts)["cleanup"] = {{"appendages", cleanup.appendages},
                                     {"holes", cleanup.holes},
                                     {"removed", cleanup.removed}};
    }
    prob = cleanup.prob;
  }
  cv::Mat matte;
  if (params.refine) {
    matte = RefineAlpha(prob, net_view, guide);
  } else {
    cv::resize(prob, matte, work, 0, 0, cv::INTER_LINEAR);
  }
  cv::Mat alpha;
  const double stretch = 255.0 / (kAlphaCeil - kAlphaFloor);
  matte.convertTo(alpha, CV_8UC1, stretch, -kAlphaFloor * stretch);  // saturates to [0, 255]
  if (params.clean_pieces) {
    StrayPieces stray = DropStrayPieces(alpha);
    if ((stray.removed > 0 || stray.left_shattered) && context.facts) {
      (*context.facts)["stray_pieces"] = {{"removed", stray.removed},
                                          {"area", stray.removed_area},
                                          {"left_shattered", stray.left_shattered}};
    }
    alpha = stray.alpha;
  }
  if (work != full) cv::resize(alpha, alpha, full, 0, 0, cv::INTER_LINEAR);
  if (input.has_alpha()) cv::min(alpha, input.alpha, alpha);

  double max_alpha = 0;
  cv::minMaxLoc(alpha, nullptr, &max_alpha);
  if (max_alpha < 128) {
    return InvalidArgument(
        "found no subject in the image (nothing stands out from the background); check that "
        "the photo shows a product");
  }

  cv::Rect keep(0, 0, full.width, full.height);
  if (params.crop) {
    cv::Rect subject = SubjectBox(alpha);
    int pad = cvRound(params.margin * std::max(subject.width, subject.height));
    keep = cv::Rect(subject.x - pad, subject.y - pad, subject.width + 2 * pad,
                    subject.height + 2 * pad) &
           keep;
  }

  Image out;
  out.name = input.name;
  if (params.mask_only) {
    cv::cvtColor(alpha(keep), out.bgr, cv::COLOR_GRAY2BGR);
    return out;
  }
  cv::Mat foreground = params.decontaminate ? EstimateForeground(input.bgr, alpha) : input.bgr;
  if (params.background[3] == 0) {  // transparent
    out.bgr = foreground(keep).clone();
    out.alpha = alpha(keep).clone();
    return out;
  }
  // Composite over a solid colour: out = aF + (1-a)C.
  cv::Mat weight, inverse;
  alpha(keep).convertTo(weight, CV_32FC1, 1.0 / 255.0);
  cv::subtract(1.0, weight, inverse);
  cv::Mat colour(keep.size(), CV_8UC3, params.background);
  cv::blendLinear(foreground(keep), colour, weight, inverse, out.bgr);
  return out;
}

}  // namespace

VITRINE_REGISTER_OP((OpDef{CutoutSchema(), RunCutout}));

}  // namespace vitrine::ops
