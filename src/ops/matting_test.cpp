#include "ops/matting.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "tests/testdata.h"

namespace vitrine::ops {
namespace {

TEST(PushPullFillTest, FillsHolesWithTheKnownColour) {
  cv::Mat bgr(200, 300, CV_8UC3, cv::Scalar(10, 200, 30));
  cv::Mat weight(bgr.size(), CV_32FC1, cv::Scalar(1));
  weight(cv::Rect(50, 50, 150, 100)).setTo(0);
  bgr(cv::Rect(50, 50, 150, 100)).setTo(cv::Scalar(255, 0, 255));  // unknown: must not leak
  cv::Mat filled = PushPullFill(bgr, weight);
  cv::Vec3b centre = filled.at<cv::Vec3b>(100, 125);
  EXPECT_NEAR(centre[0], 10, 2);
  EXPECT_NEAR(centre[1], 200, 2);
  EXPECT_NEAR(centre[2], 30, 2);
}

TEST(RefineAlphaTest, SnapsALowResolutionMatteToThePhotoEdges) {
  testdata::Composite c = testdata::MakeComposite({1024, 768}, testdata::Backdrop::kGradient, 2);
  // What a net gives: a matte at a quarter of the size, its edge a little soft.
  cv::Mat truth_f, low, net_view, plain;
  c.alpha.convertTo(truth_f, CV_32FC1, 1 / 255.0);
  cv::resize(truth_f, low, {256, 192}, 0, 0, cv::INTER_AREA);
  cv::GaussianBlur(low, low, cv::Size(), 0.7);
  cv::resize(c.bgr, net_view, low.size(), 0, 0, cv::INTER_AREA);
  cv::resize(low, plain, c.alpha.size(), 0, 0, cv::INTER_LINEAR);
  const cv::Mat low_before = low.clone();
  cv::Mat refined = RefineAlpha(low, net_view, c.bgr);
  ASSERT_EQ(refined.size(), c.alpha.size());
  EXPECT_EQ(cv::norm(low, low_before, cv::NORM_INF), 0) << "input modified";
  double plain_error = cv::norm(plain, truth_f, cv::NORM_L1);
  double refined_error = cv::norm(refined, truth_f, cv::NORM_L1);
  EXPECT_LT(refined_error, 0.8 * plain_error);
  cv::Mat refined8;
  refined.convertTo(refined8, CV_8UC1, 255);
  EXPECT_GE(testdata::Iou(refined8, c.alpha), 0.98);
}

TEST(EstimateForegroundTest, RemovesTheOldBackgroundFromSoftEdges) {
  // Red object on a green backdrop with a wide soft edge: the edge pixels are red+green mixes.
  cv::Mat alpha(200, 200, CV_8UC1, cv::Scalar(0));
  cv::circle(alpha, {100, 100}, 60, 255, -1);
  cv::GaussianBlur(alpha, alpha, cv::Size(), 6);
  cv::Mat bgr(200, 200, CV_8UC3);
  for (int y = 0; y < 200; ++y) {
    for (int x = 0; x < 200; ++x) {
      float a = alpha.at<uchar>(y, x) / 255.0f;
      bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(20, cv::saturate_cast<uchar>((1 - a) * 220),
                                          cv::saturate_cast<uchar>(a * 220 + (1 - a) * 20));
    }
  }
  const cv::Mat before = bgr.clone();
  cv::Mat fg = EstimateForeground(bgr, alpha);
  EXPECT_EQ(cv::norm(bgr, before, cv::NORM_INF), 0) << "input modified";
  double worst_green = 0;
  for (int y = 0; y < 200; ++y) {
    for (int x = 0; x < 200; ++x) {
      uchar a = alpha.at<uchar>(y, x);
      if (a > 25 && a < 230) worst_green = std::max<double>(worst_green, fg.at<cv::Vec3b>(y, x)[1]);
    }
  }
  EXPECT_LT(worst_green, 40) << "green fringe left in the edge colours";
}

}  // namespace
}  // namespace vitrine::ops
