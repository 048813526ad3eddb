#include "tests/testdata.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace vitrine::testdata {

std::string OpenCvSamples() { return "/usr/share/doc/opencv-doc/examples/data/"; }

cv::Mat SamplePhoto(const std::string& name) {
  cv::Mat image = cv::imread(OpenCvSamples() + name, cv::IMREAD_COLOR);
  if (image.empty()) {
    std::fprintf(stderr, "missing %s%s: run scripts/setup (it installs opencv-doc)\n",
                 OpenCvSamples().c_str(), name.c_str());
    std::abort();
  }
  return image;
}

cv::Mat SamplePhoto(const std::string& name, cv::Size size) {
  const cv::Mat photo = SamplePhoto(name);
  cv::Mat resized;
  const bool shrinking = size.width <= photo.cols && size.height <= photo.rows;
  cv::resize(photo, resized, size, 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  return resized;
}

Composite MakeComposite(cv::Size size, Backdrop backdrop, int seed) {
  cv::RNG rng(seed);
  Composite out;
  // Backdrop.
  cv::Vec3b base(static_cast<uchar>(rng.uniform(170, 250)),
                 static_cast<uchar>(rng.uniform(170, 250)),
                 static_cast<uchar>(rng.uniform(170, 250)));
  out.backdrop = base;
  out.bgr = cv::Mat(size, CV_8UC3, cv::Scalar(base[0], base[1], base[2]));
  if (backdrop == Backdrop::kGradient) {
    for (int y = 0; y < size.height; ++y) {
      double t = static_cast<double>(y) / size.height;
      out.bgr.row(y).setTo(
          cv::Scalar(base[0] * (1 - 0.3 * t), base[1] * (1 - 0.3 * t), base[2] * (1 - 0.3 * t)));
    }
  } else if (backdrop == Backdrop::kBlurredRoom) {
    cv::resize(SamplePhoto("home.jpg"), out.bgr, size, 0, 0, cv::INTER_LINEAR);
    cv::GaussianBlur(out.bgr, out.bgr, cv::Size(), size.width / 80.0);
  }

  // The object: a rounded box with a photo's texture, shaded like a lit solid.
  cv::Mat texture = SamplePhoto(seed % 2 == 0 ? "orange.jpg" : "fruits.jpg");
  int w = size.width * rng.uniform(40, 60) / 100, h = size.height * rng.uniform(50, 70) / 100;
  int x0 = (size.width - w) / 2 + rng.uniform(-size.width / 10, size.width / 10);
  int y0 = (size.height - h) / 2 + rng.uniform(-size.height / 12, size.height / 12);
  // Draw the shape at 4x and shrink, for an anti-aliased edge.
  cv::Mat big(size * 4, CV_8UC1, cv::Scalar(0));
  int r = std::min(w, h) / 5 * 4;
  cv::Rect body(x0 * 4, y0 * 4, w * 4, h * 4);
  cv::rectangle(big, cv::Rect(body.x + r, body.y, body.width - 2 * r, body.height), 255, -1);
  cv::rectangle(big, cv::Rect(body.x, body.y + r, body.width, body.height - 2 * r), 255, -1);
  for (int cx : {body.x + r, body.x + body.width - r}) {
    for (int cy : {body.y + r, body.y + body.height - r}) cv::circle(big, {cx, cy}, r, 255, -1);
  }
  cv::resize(big, out.alpha, size, 0, 0, cv::INTER_AREA);

  cv::Mat object;
  cv::resize(texture, object, size, 0, 0, cv::INTER_LINEAR);
  cv::Mat shade(size, CV_32FC1);
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      double dx = (x - x0 - w / 2.0) / w, dy = (y - y0 - h / 2.0) / h;
      shade.at<float>(y, x) = static_cast<float>(1.05 - 0.5 * (dx * dx + dy * dy));
    }
  }
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      float a = out.alpha.at<uchar>(y, x) / 255.0f;
      if (a == 0) continue;
      cv::Vec3b& p = out.bgr.at<cv::Vec3b>(y, x);
      const cv::Vec3b& o = object.at<cv::Vec3b>(y, x);
      for (int c = 0; c < 3; ++c) {
        float fg = std::min(255.0f, o[c] * shade.at<float>(y, x));
        p[c] = cv::saturate_cast<uchar>(a * fg + (1 - a) * p[c]);
      }
    }
  }
  return out;
}

Composite RoundFruit(cv::Size size, cv::Point centre, int radius, int seed) {
  Composite out{cv::Mat(size, CV_8UC3), cv::Mat(size, CV_8UC1, cv::Scalar(0)),
                cv::Vec3b(80, 150, 100)};
  cv::circle(out.alpha, centre, radius, cv::Scalar(255), cv::FILLED, cv::LINE_AA);
  const cv::Point light = centre - cv::Point(radius / 2, radius / 2);
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      const double shade = 1.0 - 0.35 * std::hypot(x - light.x, y - light.y) / radius;
      const cv::Vec3d fruit(30 * shade, 120 * shade, 235 * shade);
      const double a = out.alpha.at<uchar>(y, x) / 255.0;
      cv::Vec3b& p = out.bgr.at<cv::Vec3b>(y, x);
      for (int c = 0; c < 3; ++c) {
        p[c] = cv::saturate_cast<uchar>(a * fruit[c] + (1 - a) * out.backdrop[c]);
      }
    }
  }
  cv::Mat noise(size, CV_8UC3);
  cv::RNG rng(static_cast<uint64_t>(seed));
  rng.fill(noise, cv::RNG::NORMAL, 0, 6);
  out.bgr += noise;
  return out;
}

Composite ProductOnColour(cv::Size canvas, double fill, cv::Vec3b background, int seed) {
  Composite source = MakeComposite(canvas, Backdrop::kFlat, seed);
  const cv::Rect box = cv::boundingRect(source.alpha);
  const double scale = fill * std::min(static_cast<double>(canvas.width) / box.width,
                                       static_cast<double>(canvas.height) / box.height);
  const cv::Size size(cvRound(box.width * scale), cvRound(box.height * scale));
  const cv::Rect at((canvas.width - size.width) / 2, (canvas.height - size.height) / 2, size.width,
                    size.height);
  Composite out;
  out.backdrop = background;
  out.bgr = cv::Mat(canvas, CV_8UC3, cv::Scalar(background[0], background[1], background[2]));
  out.alpha = cv::Mat::zeros(canvas, CV_8UC1);
  cv::Mat object;
  cv::resize(source.bgr(box), object, size, 0, 0, cv::INTER_AREA);
  cv::resize(source.alpha(box), out.alpha(at), size, 0, 0, cv::INTER_AREA);
  cv::Mat weight, inverse;
  out.alpha(at).convertTo(weight, CV_32FC1, 1.0 / 255.0);
  cv::subtract(1.0, weight, inverse);
  cv::Mat blended;
  cv::blendLinear(object, out.bgr(at), weight, inverse, blended);
  blended.copyTo(out.bgr(at));
  return out;
}

double Iou(const cv::Mat& a, const cv::Mat& b) {
  CV_Assert(a.size() == b.size() && a.type() == CV_8UC1 && b.type() == CV_8UC1);
  cv::Mat fa = a >= 128, fb = b >= 128;
  double inter = cv::countNonZero(fa & fb), uni = cv::countNonZero(fa | fb);
  return uni == 0 ? 1.0 : inter / uni;
}

std::string FreshTestDir(const std::string& prefix) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / (prefix + "_" + std::to_string(getpid()) + "_" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

}  // namespace vitrine::testdata
