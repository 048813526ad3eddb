#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "ops/colour.h"
#include "ops/op.h"

namespace vitrine::ops {
namespace {

// A shaded, textured green ball (lit from the upper left, with fine noise texture and one
// specular highlight) on a blue backdrop hidden by alpha.
struct Ball {
  Image image;
  cv::Mat highlight;  // CV_8UC1: the specular spot
};

Ball MakeBall() {
  const int size = 240;
  Ball ball;
  ball.image.name = "ball";
  ball.image.bgr = cv::Mat(size, size, CV_8UC3, cv::Scalar(200, 80, 30));
  ball.image.alpha = cv::Mat::zeros(size, size, CV_8UC1);
  cv::circle(ball.image.alpha, {120, 120}, 100, cv::Scalar(255), cv::FILLED, cv::LINE_AA);
  ball.highlight = cv::Mat::zeros(size, size, CV_8UC1);
  cv::circle(ball.highlight, {85, 80}, 9, cv::Scalar(255), cv::FILLED);
  cv::RNG rng(3);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      if (ball.image.alpha.at<uchar>(y, x) == 0) continue;
      const double dx = (x - 120) / 100.0, dy = (y - 120) / 100.0;
      const double nz = std::sqrt(std::max(0.0, 1 - dx * dx - dy * dy));
      const double light = std::clamp(0.25 + 0.75 * (-0.5 * dx - 0.5 * dy + 0.7 * nz), 0.1, 1.0);
      const double texture = rng.gaussian(4);
      cv::Vec3b& p = ball.image.bgr.at<cv::Vec3b>(y, x);
      p = cv::Vec3b(cv::saturate_cast<uchar>(50 * light + texture),
                    cv::saturate_cast<uchar>(170 * light + texture),
                    cv::saturate_cast<uchar>(60 * light + texture));
      const double spot = std::hypot(x - 85, y - 80);
      if (spot < 12) {
        const double w = std::clamp((12 - spot) / 4, 0.0, 1.0);
        p = p * (1 - w) + cv::Vec3b(250, 252, 252) * w;
      }
    }
  }
  return ball;
}

Result<Image> Recolor(const Image& input, const std::string& colour) {
  OpContext context;
  return Registry::Global().Run("recolor", input, {{"color", colour}}, context);
}

// Correlation of the lightness gradients of two images over a mask: the x and y derivatives of
// L (at a scale of a couple of pixels, so 8-bit rounding does not count as structure), pooled.
double GradientCorrelation(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask) {
  auto gradients = [](const cv::Mat& bgr) {
    std::vector<cv::Mat> lab;
    cv::split(BgrToLab(bgr), lab);
    cv::Mat smooth, gx, gy;
    cv::GaussianBlur(lab[0], smooth, cv::Size(), 1.0);
    cv::Sobel(smooth, gx, CV_32F, 1, 0);
    cv::Sobel(smooth, gy, CV_32F, 0, 1);
    return std::pair{gx, gy};
  };
  const auto [ax, ay] = gradients(a);
  const auto [bx, by] = gradients(b);
  double ab = 0, aa = 0, bb = 0;
  for (int y = 0; y < mask.rows; ++y) {
    for (int x = 0; x < mask.cols; ++x) {
      if (!mask.at<uchar>(y, x)) continue;
      for (const auto& [p, q] : {std::pair{&ax, &bx}, std::pair{&ay, &by}}) {
        const double u = p->at<float>(y, x), v = q->at<float>(y, x);
        ab += u * v;
        aa += u * u;
        bb += v * v;
      }
    }
  }
  return ab / std::sqrt(aa * bb);
}

TEST(RecolorTest, ProductTakesTheTargetColourAndKeepsItsShading) {
  const Ball ball = MakeBall();
  const cv::Mat before = ball.image.bgr.clone();
  for (const std::string colour : {"#aa0000", "navy", "#e0c020", "#303030"}) {
    Result<Image> out = Recolor(ball.image, colour);
    ASSERT_TRUE(out.ok()) << out.status().ToString();

    const cv::Vec3f target = BgrToLab([&] {
      cv::Scalar s = *ParseColor(colour);
      return cv::Vec3b(s[0], s[1], s[2]);
    }());
    // Mid-tone region: product pixels whose original lightness is near the product's median.
    const cv::Mat lab = BgrToLab(ball.image.bgr);
    std::vector<float> ls;
    for (int y = 0; y < lab.rows; ++y)
      for (int x = 0; x < lab.cols; ++x)
        if (ball.image.alpha.at<uchar>(y, x) == 255) ls.push_back(lab.at<cv::Vec3f>(y, x)[0]);
    std::nth_element(ls.begin(), ls.begin() + ls.size() / 2, ls.end());
    const float median = ls[ls.size() / 2];
    const cv::Mat out_lab = BgrToLab(out->bgr);
    double sum = 0;
    int n = 0;
    for (int y = 0; y < lab.rows; ++y) {
      for (int x = 0; x < lab.cols; ++x) {
        if (ball.image.alpha.at<uchar>(y, x) < 255) continue;
        if (std::abs(lab.at<cv::Vec3f>(y, x)[0] - median) > 4) continue;
        sum += DeltaE2000(out_lab.at<cv::Vec3f>(y, x), target);
        ++n;
      }
    }
    ASSERT_GT(n, 500);
    EXPECT_LT(sum / n, 4.0) << colour << ": mid-tones must be the target colour";

    // Inside the product, away from its outline (where the old backdrop meets it) and from the
    // highlight (which keeps its own lightness, so its rim gets steeper on a darker colour).
    cv::Mat inside, rim;
    cv::erode(ball.image.alpha == 255, inside, cv::Mat(), cv::Point(-1, -1), 3);
    cv::dilate(ball.highlight, rim, cv::Mat(), cv::Point(-1, -1), 6);
    inside.setTo(0, rim);
    EXPECT_GT(GradientCorrelation(ball.image.bgr, out->bgr, inside), 0.9) << colour;

    // The hidden backdrop and the alpha are untouched.
    cv::Mat diff;
    cv::absdiff(out->bgr, ball.image.bgr, diff);
    cv::Mat outside_changed;
    cv::transform(diff, outside_changed, cv::Matx13f(1, 1, 1));
    EXPECT_EQ(cv::countNonZero((outside_changed > 0) & (ball.image.alpha == 0)), 0) << colour;
    EXPECT_EQ(cv::norm(out->alpha, ball.image.alpha, cv::NORM_INF), 0);

    // The specular highlight stays bright and nearly neutral.
    const cv::Mat spot = ball.highlight & (ball.image.alpha == 255);
    cv::Mat channels[3];
    cv::split(out_lab, channels);
    EXPECT_GT(cv::mean(channels[0], spot)[0], 90) << colour;
    cv::Mat chroma;
    cv::magnitude(channels[1], channels[2], chroma);
    EXPECT_LT(cv::mean(chroma, spot)[0], 10) << colour;
  }
  EXPECT_EQ(cv::norm(ball.image.bgr, before, cv::NORM_INF), 0) << "input modified";
}

TEST(RecolorTest, WithoutAlphaTheWholeImageIsRecoloured) {
  Image flat{cv::Mat(40, 40, CV_8UC3, cv::Scalar(60, 140, 90)), {}, "flat"};
  Result<Image> out = Recolor(flat, "#2050c0");
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->has_alpha());
  const cv::Vec3f target = BgrToLab(cv::Vec3b(0xc0, 0x50, 0x20));
  EXPECT_LT(DeltaE2000(BgrToLab(out->bgr.at<cv::Vec3b>(20, 20)), target), 2.0);
}

TEST(RecolorTest, MissingOrTransparentColourIsRefusedWithAHint) {
  Image flat{cv::Mat(8, 8, CV_8UC3, cv::Scalar(60, 140, 90)), {}, "flat"};
  OpContext context;
  Result<Image> none = Registry::Global().Run("recolor", flat, {}, context);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("#aa0000"), std::string::npos);
  Result<Image> clear = Recolor(flat, "transparent");
  ASSERT_FALSE(clear.ok());
  EXPECT_EQ(clear.status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace vitrine::ops
