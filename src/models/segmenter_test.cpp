#include "models/segmenter.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "models/test_runtime.h"

namespace vitrine::models {
namespace {

// ISNet at its smallest prepared size: the memory of answers does not depend on the size.
constexpr int kSize = 256;

// A red disc on a grey backdrop, at the net's own size (so the net view is the image itself and
// one changed pixel changes what the net sees).
cv::Mat Product(int shift) {
  cv::Mat bgr(kSize, kSize, CV_8UC3, cv::Scalar(200, 200, 200));
  cv::circle(bgr, {128 + shift, 128}, 70, cv::Scalar(40, 40, 220), cv::FILLED);
  return bgr;
}

class SegmenterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<const Segmenter*> segmenter = TestRuntime().segmenter(kSize);
    if (!segmenter.ok()) GTEST_SKIP() << segmenter.status().message();
    segmenter_ = *segmenter;
  }
  cv::Mat Predict(const cv::Mat& bgr) {
    Result<cv::Mat> prob = segmenter_->Predict(bgr);
    EXPECT_TRUE(prob.ok()) << prob.status().message();
    return prob.ok() ? *prob : cv::Mat();
  }
  const Segmenter* segmenter_ = nullptr;
};

TEST_F(SegmenterTest, TheSamePixelsAreAnsweredFromMemoryBitForBit) {
  const cv::Mat photo = Product(0);
  const cv::Mat first = Predict(photo);
  ASSERT_FALSE(first.empty());
  EXPECT_GT(first.at<float>(128, 128), 0.5f) << "the disc is the product";
  const int64_t runs = segmenter_->net_runs();
  // The same pixels in another buffer (as the main job's cutout gets the photo remove_text left
  // unchanged) are answered without the net, with the net's very answer.
  cv::Mat again = Predict(photo.clone());
  EXPECT_EQ(segmenter_->net_runs(), runs);
  EXPECT_EQ(cv::norm(again, first, cv::NORM_INF), 0);
  // The answer is the caller's own: writing into it changes nothing remembered.
  again.setTo(0);
  EXPECT_EQ(cv::norm(Predict(photo), first, cv::NORM_INF), 0);
  EXPECT_EQ(segmenter_->net_runs(), runs);
}

TEST_F(SegmenterTest, OneChangedPixelRunsTheNetAgain) {
  const cv::Mat photo = Product(3);
  const cv::Mat before = Predict(photo);
  const int64_t runs = segmenter_->net_runs();
  cv::Mat edited = photo.clone();
  edited.at<cv::Vec3b>(10, 10) = cv::Vec3b(199, 200, 200);
  const cv::Mat after = Predict(edited);
  EXPECT_EQ(segmenter_->net_runs(), runs + 1) << "a changed photo must be read by the net";
  // Both are remembered: the first photo is still answered as the net answered it.
  EXPECT_EQ(cv::norm(Predict(photo), before, cv::NORM_INF), 0);
  EXPECT_EQ(segmenter_->net_runs(), runs + 1);
  // The same photo at another size is another net view: read again.
  cv::Mat smaller;
  cv::resize(photo, smaller, {kSize - 32, kSize - 32}, 0, 0, cv::INTER_AREA);
  Predict(smaller);
  EXPECT_EQ(segmenter_->net_runs(), runs + 2);
}

TEST_F(SegmenterTest, OnlyTheLastFewAnswersAreKept) {
  const int64_t start = segmenter_->net_runs();
  const int photos = static_cast<int>(Segmenter::kRemembered) + 1;
  for (int shift = 0; shift < photos; ++shift) Predict(Product(10 + shift));
  EXPECT_EQ(segmenter_->net_runs(), start + photos);
  Predict(Product(10 + photos - 1));  // the last one: remembered
  EXPECT_EQ(segmenter_->net_runs(), start + photos);
  Predict(Product(10));  // asked kRemembered photos ago: forgotten, read again
  EXPECT_EQ(segmenter_->net_runs(), start + photos + 1);
}

}  // namespace
}  // namespace vitrine::models
