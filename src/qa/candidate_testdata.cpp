#include "qa/candidate_testdata.h"

#include <functional>
#include <opencv2/imgproc.hpp>

#include "tests/testdata.h"

namespace vitrine::qa::testdata {

Source MakeSource(int seed, cv::Size size) {
  const vitrine::testdata::Backdrop backdrops[] = {vitrine::testdata::Backdrop::kFlat,
                                                   vitrine::testdata::Backdrop::kGradient,
                                                   vitrine::testdata::Backdrop::kBlurredRoom};
  auto c = vitrine::testdata::MakeComposite(size, backdrops[seed % 3], seed);
  return Source{c.bgr, c.alpha, c.alpha.clone()};
}

cv::Rect FitPlacement(const cv::Mat& alpha, cv::Size canvas, double fill, int seed) {
  cv::Rect box = cv::boundingRect(alpha > 0);
  double s = fill * std::min(canvas.width, canvas.height) / std::max(box.width, box.height);
  cv::Size size(cvRound(box.width * s), cvRound(box.height * s));
  cv::RNG rng(seed);
  int slack_x = std::max(0, canvas.width - size.width) / 2;
  int slack_y = std::max(0, canvas.height - size.height) / 2;
  int x = slack_x + cvRound(rng.uniform(-0.5, 0.5) * slack_x);
  int y = slack_y + cvRound(rng.uniform(-0.5, 0.5) * slack_y);
  return {x, y, size.width, size.height};
}

cv::Mat MakeCanvas(cv::Size size, Canvas canvas, int seed) {
  cv::RNG rng(seed);
  cv::Mat out(size, CV_8UC3, cv::Scalar(255, 255, 255));
  switch (canvas) {
    case Canvas::kWhite:
      break;
    case Canvas::kLightGrey:
      out.setTo(cv::Scalar(236, 236, 236));
      break;
    case Canvas::kStudioColour:
      out.setTo(cv::Scalar(rng.uniform(120, 240), rng.uniform(120, 240), rng.uniform(120, 240)));
      break;
    case Canvas::kGradient:
      for (int y = 0; y < size.height; ++y) {
        double t = static_cast<double>(y) / size.height;
        out.row(y).setTo(cv::Scalar(250 - 60 * t, 235 - 40 * t, 225 - 20 * t));
      }
      break;
    case Canvas::kScene: {
      cv::Mat room = vitrine::testdata::SamplePhoto(seed % 2 ? "home.jpg" : "building.jpg");
      cv::resize(room, out, size, 0, 0, cv::INTER_AREA);
      cv::GaussianBlur(out, out, cv::Size(), size.width / 100.0);
      break;
    }
  }
  return out;
}

Staged Stage(const cv::Mat& bgr, const cv::Mat& alpha, cv::Size size, cv::Rect placement,
             Canvas canvas, int seed) {
  return StageOn(bgr, alpha, MakeCanvas(size, canvas, seed), placement);
}

Staged StageOn(const cv::Mat& bgr, const cv::Mat& alpha, const cv::Mat& backdrop,
               cv::Rect placement) {
  const cv::Size size = backdrop.size();
  cv::Mat out = backdrop.clone();
  cv::Rect box = cv::boundingRect(alpha > 0);
  int interpolation = placement.area() < box.area() ? cv::INTER_AREA : cv::INTER_CUBIC;
  cv::Mat product, matte;
  cv::resize(bgr(box), product, placement.size(), 0, 0, interpolation);
  cv::resize(alpha(box), matte, placement.size(), 0, 0, interpolation);

  Staged staged;
  staged.placement = placement;
  staged.alpha = cv::Mat::zeros(size, CV_8UC1);
  cv::Rect visible = placement & cv::Rect(cv::Point(0, 0), size);
  matte(visible - placement.tl()).copyTo(staged.alpha(visible));
  cv::Mat placed = cv::Mat::zeros(size, CV_8UC3);
  product(visible - placement.tl()).copyTo(placed(visible));

  // Contact shadow: a blurred ellipse under the product's base.
  cv::Mat shadow = cv::Mat::zeros(size, CV_32FC1);
  cv::ellipse(shadow, cv::Point(placement.x + placement.width / 2, placement.br().y),
              cv::Size(placement.width / 2, std::max(2, placement.height / 14)), 0, 0, 360,
              cv::Scalar(0.35), -1);
  cv::GaussianBlur(shadow, shadow, cv::Size(), std::max(2.0, placement.width / 25.0));
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      cv::Vec3b& p = out.at<cv::Vec3b>(y, x);
      float a = staged.alpha.at<uchar>(y, x) / 255.0f, s = shadow.at<float>(y, x);
      const cv::Vec3b& f = placed.at<cv::Vec3b>(y, x);
      for (int c = 0; c < 3; ++c) {
        float bg = p[c] * (1 - s);
        p[c] = cv::saturate_cast<uchar>(a * f[c] + (1 - a) * bg);
      }
    }
  }
  staged.bgr = out;
  return staged;
}

cv::Mat DropHalf(const cv::Mat& alpha) {
  cv::Rect box = cv::boundingRect(alpha > 0);
  cv::Mat out = alpha.clone();
  int mid = box.x + box.width / 2;
  out(cv::Rect(mid, 0, alpha.cols - mid, alpha.rows)).setTo(0);
  return out;
}

cv::Mat AddCrumbs(const cv::Mat& alpha, int count, int radius, int seed) {
  cv::RNG rng(seed);
  cv::Mat out = alpha.clone();
  cv::Mat product = alpha > 0;
  // Centres between 2r+4 and 2r+34 px from the product: close, but never touching it.
  const int inner = 4 * radius + 9, outer = inner + 60;
  cv::Mat near, keep_off;
  cv::dilate(product, near, cv::getStructuringElement(cv::MORPH_ELLIPSE, {outer, outer}));
  cv::dilate(product, keep_off, cv::getStructuringElement(cv::MORPH_ELLIPSE, {inner, inner}));
  cv::Mat ring = near & ~keep_off;
  std::vector<cv::Point> spots;
  cv::findNonZero(ring, spots);
  for (int i = 0; i < count && !spots.empty(); ++i) {
    cv::circle(out, spots[rng.uniform(0, static_cast<int>(spots.size()))], radius, 255, -1,
               cv::LINE_AA);
  }
  return out;
}

cv::Mat ShiftProductColour(const Staged& staged, cv::Vec3f shift) {
  cv::Mat unit, lab, shifted;
  staged.bgr.convertTo(unit, CV_32FC3, 1.0 / 255);
  cv::cvtColor(unit, lab, cv::COLOR_BGR2Lab);
  lab += cv::Scalar(shift[0], shift[1], shift[2]);
  cv::cvtColor(lab, shifted, cv::COLOR_Lab2BGR);
  shifted.convertTo(shifted, CV_8UC3, 255);
  cv::Mat out = staged.bgr.clone();
  for (int y = 0; y < out.rows; ++y) {
    for (int x = 0; x < out.cols; ++x) {
      float a = staged.alpha.at<uchar>(y, x) / 255.0f;
      if (a == 0) continue;
      cv::Vec3b& p = out.at<cv::Vec3b>(y, x);
      const cv::Vec3b& s = shifted.at<cv::Vec3b>(y, x);
      for (int c = 0; c < 3; ++c) p[c] = cv::saturate_cast<uchar>(a * s[c] + (1 - a) * p[c]);
    }
  }
  return out;
}

cv::Mat AddCaption(const cv::Mat& bgr, const char* text) {
  cv::Mat out = bgr.clone();
  double scale = out.cols / 420.0;
  cv::putText(out, text, cv::Point(out.cols / 12, out.rows / 8), cv::FONT_HERSHEY_SIMPLEX, scale,
              cv::Scalar(255, 0, 255), std::max(2, cvRound(2 * scale)), cv::LINE_8);
  return out;
}

double MagentaShare(const cv::Mat& bgr) {
  cv::Mat magenta;
  cv::inRange(bgr, cv::Scalar(250, 0, 250), cv::Scalar(255, 5, 255), magenta);
  cv::dilate(magenta, magenta, cv::getStructuringElement(cv::MORPH_RECT, {5, 5}));
  return static_cast<double>(cv::countNonZero(magenta)) / magenta.total();
}

std::vector<Defective> MakeDefects(const Source& source, const cv::Mat& backdrop, double fill,
                                   int seed) {
  const cv::Size size = backdrop.size();
  std::vector<Defective> out;
  // Stages `alpha` (the cutout QA will be given) of `from` as the stage op would.
  auto add = [&](const char* defect, std::vector<std::string> checks, const Source& from,
                 const cv::Mat& alpha, const std::function<cv::Mat(const Staged&)>& damage,
                 cv::Rect placement) {
    Staged staged = StageOn(from.bgr, alpha, backdrop, placement);
    out.push_back(
        {defect, std::move(checks), from, alpha, damage ? damage(staged) : staged.bgr, placement});
  };
  auto fit = [&](const cv::Mat& alpha) { return FitPlacement(alpha, size, fill, seed); };
  const cv::Rect placement = fit(source.alpha);

  cv::Mat half = DropHalf(source.alpha);
  add("half missing", {"cutout.source_iou"}, source, half, nullptr, fit(half));

  add(
      "text left", {"text.left"}, source, source.alpha,
      [](const Staged& s) { return AddCaption(s.bgr, "NEW 2024"); }, placement);

  // Euclidean 15 in CIELAB, in a different direction per seed.
  const cv::Vec3f shifts[] = {{15, 0, 0}, {-15, 0, 0},        {0, 15, 0},
                              {0, 0, 15}, {0, -10.6f, 10.6f}, {8.7f, 8.7f, -8.7f}};
  const cv::Vec3f shift = shifts[seed % 6];
  add(
      "colour shifted", {"colour"}, source, source.alpha,
      [&](const Staged& s) { return ShiftProductColour(s, shift); }, placement);

  add(
      "blurred", {"sharpness"}, source, source.alpha,
      [](const Staged& s) {
        cv::Mat blurred;
        cv::GaussianBlur(s.bgr, blurred, cv::Size(), 3);
        return blurred;
      },
      placement);

  // A third of the product past the right or the bottom edge.
  cv::Rect cut = placement;
  if (seed % 2) {
    cut.x = size.width - cut.width * 2 / 3;
  } else {
    cut.y = size.height - cut.height * 2 / 3;
  }
  add("frame cut", {"cutout.frame_cut", "cutout.outside_frame"}, source, source.alpha, nullptr,
      cut);

  cv::Mat crumbs = AddCrumbs(source.alpha, 6, std::max(3, source.alpha.cols / 45), seed);
  add("fragments", {"cutout.fragments"}, source, crumbs, nullptr, fit(crumbs));

  // The supplier photo itself cuts the product: the photo ends 70% of the way down the product.
  cv::Rect box = cv::boundingRect(source.alpha > 0);
  cv::Rect kept(0, 0, source.bgr.cols, box.y + box.height * 7 / 10);
  Source cropped{source.bgr(kept).clone(), source.alpha(kept).clone(),
                 source.segmenter_mask(kept).clone()};
  add("source cut", {"cutout.source_frame_cut"}, cropped, cropped.alpha, nullptr,
      fit(cropped.alpha));
  return out;
}

bool CaughtForTheRightReason(const CandidateQa& qa, const Defective& defective) {
  for (const Check& c : qa.checks) {
    if (!c.hard || c.passed) continue;
    for (const std::string& id : defective.checks) {
      if (c.id.rfind(id, 0) == 0) return qa.rejected;
    }
  }
  return false;
}

}  // namespace vitrine::qa::testdata
