#include "core/morphology.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <random>

namespace vitrine {
namespace {

// Sparse dots and a few blobs, some touching the border, so borders and overlaps both matter.
cv::Mat RandomMask(cv::Size size, int seed) {
  std::mt19937 rng(seed);
  cv::Mat mask(size, CV_8UC1, cv::Scalar(0));
  for (int i = 0; i < 40; ++i) {
    mask.at<uchar>(rng() % size.height, rng() % size.width) = 255;
  }
  for (int i = 0; i < 4; ++i) {
    cv::circle(mask, {static_cast<int>(rng() % size.width), static_cast<int>(rng() % size.height)},
               3 + static_cast<int>(rng() % 20), cv::Scalar(255), cv::FILLED);
  }
  cv::rectangle(mask, {0, size.height - 6}, {size.width / 3, size.height - 1}, cv::Scalar(255),
                cv::FILLED);
  return mask;
}

TEST(MorphologyTest, DiscGrowthAndShrinkageAreOpenCvsEllipseKernelExactly) {
  for (int seed = 1; seed <= 3; ++seed) {
    const cv::Mat mask = RandomMask({173, 121}, seed);
    const cv::Mat inverse = ~mask;
    for (int radius : {0, 1, 3, 5, 8, 13, 30, 61, 150}) {
      const cv::Mat disc = cv::getStructuringElement(
          cv::MORPH_ELLIPSE, {2 * std::max(radius, 0) + 1, 2 * std::max(radius, 0) + 1});
      cv::Mat dilated, eroded;
      cv::dilate(mask, dilated, disc);
      cv::erode(inverse, eroded, disc);
      EXPECT_EQ(cv::countNonZero(DilateDisc(mask, radius) != dilated), 0) << radius;
      EXPECT_EQ(cv::countNonZero(ErodeDisc(inverse, radius) != eroded), 0) << radius;
    }
  }
}

TEST(MorphologyTest, ARegionOfALargerImageSeesItsNeighboursAsOpenCvDoes) {
  const cv::Mat whole = RandomMask({200, 160}, 9);
  const cv::Mat part = whole(cv::Rect(30, 20, 120, 100));
  cv::Mat expected;
  for (int radius : {3, 12, 40}) {
    const cv::Mat disc =
        cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * radius + 1, 2 * radius + 1});
    cv::dilate(part, expected, disc);
    EXPECT_EQ(cv::countNonZero(DilateDisc(part, radius) != expected), 0) << radius;
    cv::erode(part, expected, disc);
    EXPECT_EQ(cv::countNonZero(ErodeDisc(part, radius) != expected), 0) << radius;
  }
}

}  // namespace
}  // namespace vitrine
