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

// Opaque pixels of a matte inside `box`.
int OpaqueIn(const cv::Mat& alpha, cv::Rect box) { return cv::countNonZero(alpha(box) >= 128); }

TEST(DropStrayPiecesTest, DropsRemnantsFarFromASetOfBottles) {
  // Three bottles of different sizes (a set: every one is kept), a lid just beside the first one
  // (small but near: kept), and, far to the left, the outline a removed caption left behind,
  // with its soft halo, and a speck.
  cv::Mat alpha = cv::Mat::zeros(500, 800, CV_8UC1);
  const cv::Rect bottles[] = {{300, 100, 120, 330}, {450, 150, 100, 280}, {580, 200, 80, 230}};
  for (const cv::Rect& b : bottles) alpha(b).setTo(255);
  const cv::Rect lid(260, 400, 30, 25);
  alpha(lid).setTo(255);
  const cv::Rect halo(30, 100, 40, 300), outline(40, 110, 20, 280), speck(150, 450, 6, 6);
  alpha(halo).setTo(60);
  cv::rectangle(alpha, outline, cv::Scalar(255), 1);
  alpha(speck).setTo(200);
  const cv::Mat before = alpha.clone();

  StrayPieces result = DropStrayPieces(alpha);
  EXPECT_EQ(cv::norm(alpha, before, cv::NORM_INF), 0) << "input modified";
  EXPECT_EQ(result.removed, 2);
  for (const cv::Rect& b : bottles) EXPECT_EQ(OpaqueIn(result.alpha, b), b.area());
  EXPECT_EQ(OpaqueIn(result.alpha, lid), lid.area()) << "a small part beside the product";
  EXPECT_EQ(cv::countNonZero(result.alpha(halo)), 0) << "the remnant and its halo";
  EXPECT_EQ(cv::countNonZero(result.alpha(speck)), 0);
  EXPECT_GT(result.removed_area, 0.005);
  EXPECT_LT(result.removed_area, 0.05);
}

TEST(DropStrayPiecesTest, LeavesAMatteWithMuchStrayMatterForQa) {
  // A person cut out of a street photo: the segmenter also kept bits of the car behind, 60 small
  // pieces far from her that add up to 6% of her area. That is not a subject with specks but a
  // failed cutout: it stays as it is, and QA rejects it for its fragments.
  cv::Mat alpha = cv::Mat::zeros(500, 800, CV_8UC1);
  alpha(cv::Rect(450, 50, 150, 400)).setTo(255);
  for (int i = 0; i < 60; ++i)
    alpha(cv::Rect(20 + 30 * (i % 10), 40 + 60 * (i / 10), 10, 6)).setTo(255);
  StrayPieces result = DropStrayPieces(alpha);
  EXPECT_TRUE(result.left_shattered);
  EXPECT_EQ(result.removed, 0);
  EXPECT_NEAR(result.removed_area, 0.06, 0.001);
  EXPECT_EQ(cv::norm(result.alpha, alpha, cv::NORM_INF), 0);
}

TEST(DropStrayPiecesTest, LeavesAShatteredMatteForQa) {
  // A product broken into many mid-sized pieces scattered around it: none is small enough to
  // be a speck, so nothing is hidden from QA's fragment check.
  cv::Mat alpha = cv::Mat::zeros(500, 800, CV_8UC1);
  alpha(cv::Rect(300, 150, 200, 200)).setTo(255);
  for (int i = 0; i < 12; ++i) {
    alpha(cv::Rect(30 + 60 * i, i % 2 ? 20 : 420, 30, 40)).setTo(255);  // 3% of the largest
  }
  StrayPieces result = DropStrayPieces(alpha);
  EXPECT_EQ(result.removed, 0);
  EXPECT_EQ(cv::norm(result.alpha, alpha, cv::NORM_INF), 0);
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
