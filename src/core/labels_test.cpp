#include "core/labels.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

namespace vitrine {
namespace {

TEST(LabelsTest, CountsEachPieceWhereTheMaskIsAndKeepsTheChosenPieces) {
  cv::Mat pieces(20, 30, CV_8UC1, cv::Scalar(0));
  pieces(cv::Rect(2, 2, 5, 4)).setTo(255);     // 20 px
  pieces(cv::Rect(15, 10, 10, 6)).setTo(255);  // 60 px
  cv::Mat labels;
  const int n = cv::connectedComponents(pieces, labels, 8, CV_32S);
  ASSERT_EQ(n, 3);
  const int small = labels.at<int>(3, 3), large = labels.at<int>(12, 20);
  cv::Mat where(pieces.size(), CV_8UC1, cv::Scalar(0));
  where(cv::Rect(0, 0, 30, 4)).setTo(255);  // rows 0-3: 10 px of the small piece, none of the large
  const std::vector<int> counts = CountLabelsWhere(labels, n, where);
  EXPECT_EQ(counts[small], 10);
  EXPECT_EQ(counts[large], 0);
  EXPECT_EQ(counts[0], 30 * 4 - 10);

  std::vector<uchar> keep(n, 0);
  keep[large] = 1;
  const cv::Mat kept = LabelsKept(labels, keep);
  EXPECT_EQ(cv::countNonZero(kept), 60);
  EXPECT_EQ(kept.at<uchar>(12, 20), 255);
  EXPECT_EQ(kept.at<uchar>(3, 3), 0);
}

}  // namespace
}  // namespace vitrine
