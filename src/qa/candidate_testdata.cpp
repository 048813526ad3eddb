#include "qa/candidate_testdata.h"

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

Staged Stage(const cv::Mat& bgr, const cv::Mat& alpha, cv::Size size, cv::Rect placement,
             Canvas canvas, int seed) {
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
  cv::Mat near;
  cv::dilate(product, near, cv::getStructuringElement(cv::MORPH_ELLIPSE, {61, 61}));
  cv::Mat keep_off;
  cv::dilate(product, keep_off,
             cv::getStructuringElement(cv::MORPH_ELLIPSE, {4 * radius + 9, 4 * radius + 9}));
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

}  // namespace vitrine::qa::testdata
