#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "models/runtime.h"
#include "ops/op.h"
#include "tests/testdata.h"

namespace vitrine::ops {
namespace {

using testdata::Backdrop;

class CutoutTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static Config config = *LoadConfig();
    static models::Runtime runtime(config);
    context_ = OpContext{&config, &runtime};
    Result<const models::Segmenter*> segmenter = runtime.segmenter();
    ASSERT_TRUE(segmenter.ok()) << segmenter.status().ToString();
  }

  Image Run(const Image& input, const nlohmann::json& params) {
    Result<Image> out = Registry::Global().Run("cutout", input, params, context_);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : Image{};
  }

  static Image FromComposite(const testdata::Composite& c) { return Image{c.bgr, {}, "c"}; }

  static OpContext context_;
};
OpContext CutoutTest::context_;

TEST_F(CutoutTest, MatchesTheTrueAlphaOnEveryBackdrop) {
  for (Backdrop backdrop : {Backdrop::kFlat, Backdrop::kGradient, Backdrop::kBlurredRoom}) {
    testdata::Composite c = testdata::MakeComposite({800, 600}, backdrop, 7);
    Image input = FromComposite(c);
    const cv::Mat before = input.bgr.clone();
    Image out = Run(input, nullptr);
    ASSERT_EQ(out.bgr.size(), c.bgr.size());
    ASSERT_TRUE(out.has_alpha());
    EXPECT_GE(testdata::Iou(out.alpha, c.alpha), 0.95) << "backdrop " << static_cast<int>(backdrop);
    cv::Mat diff;
    cv::absdiff(out.alpha, c.alpha, diff);
    EXPECT_LT(cv::mean(diff)[0] / 255.0, 0.03) << "mean alpha error";
    EXPECT_EQ(cv::norm(input.bgr, before, cv::NORM_INF), 0) << "the op modified its input";
  }
}

TEST_F(CutoutTest, EdgesCarryNoFringeOfTheOldBackground) {
  // A product on a saturated green sweep: the soft edge pixels mix in green.
  testdata::Composite c = testdata::MakeComposite({640, 640}, Backdrop::kFlat, 4);
  // The product (grey at its edge) over green, with a wide soft edge mixing the two.
  cv::Mat photo(c.bgr.size(), CV_8UC3);
  cv::Mat soft;
  cv::GaussianBlur(c.alpha, soft, cv::Size(), 2.5);
  for (int y = 0; y < photo.rows; ++y) {
    for (int x = 0; x < photo.cols; ++x) {
      float a = soft.at<uchar>(y, x) / 255.0f;
      cv::Vec3b inner = c.bgr.at<cv::Vec3b>(y, x);
      photo.at<cv::Vec3b>(y, x) = a > 0.999f
                                      ? inner
                                      : cv::Vec3b(cv::saturate_cast<uchar>(a * 120 + (1 - a) * 40),
                                                  cv::saturate_cast<uchar>(a * 120 + (1 - a) * 220),
                                                  cv::saturate_cast<uchar>(a * 120 + (1 - a) * 40));
    }
  }
  Image out = Run(Image{photo, {}, "green"}, nullptr);
  ASSERT_TRUE(out.has_alpha());
  // Over the visible soft edge, green must not dominate the foreground colour.
  double excess = 0;
  int n = 0;
  for (int y = 0; y < photo.rows; ++y) {
    for (int x = 0; x < photo.cols; ++x) {
      uchar a = out.alpha.at<uchar>(y, x);
      if (a < 40 || a > 215) continue;
      cv::Vec3b f = out.bgr.at<cv::Vec3b>(y, x);
      excess += std::max(0, f[1] - std::max(f[0], f[2]));
      ++n;
    }
  }
  ASSERT_GT(n, 100) << "expected a soft edge";
  EXPECT_LT(excess / n, 25) << "mean green excess over the edge band";
}

TEST_F(CutoutTest, CropWhiteBackgroundAndMaskOptions) {
  testdata::Composite c = testdata::MakeComposite({900, 700}, Backdrop::kGradient, 3);
  Image input = FromComposite(c);
  cv::Rect truth = cv::boundingRect(c.alpha > 128);

  Image cropped = Run(input, {{"crop", true}, {"margin", 0.1}});
  int pad = cvRound(0.1 * std::max(truth.width, truth.height));
  EXPECT_NEAR(cropped.width(), std::min(900, truth.width + 2 * pad), 12);
  EXPECT_NEAR(cropped.height(), std::min(700, truth.height + 2 * pad), 12);

  Image white = Run(input, {{"background", "white"}});
  EXPECT_FALSE(white.has_alpha());
  ASSERT_EQ(white.bgr.size(), c.bgr.size());
  // Away from the product the background is pure white, as marketplaces require.
  cv::Mat near_product, not_white;
  cv::dilate(c.alpha > 0, near_product, cv::Mat::ones(41, 41, CV_8U));
  cv::inRange(white.bgr, cv::Scalar(255, 255, 255), cv::Scalar(255, 255, 255), not_white);
  cv::bitwise_not(not_white, not_white);
  EXPECT_EQ(cv::countNonZero(not_white & ~near_product), 0);

  Image mask = Run(input, {{"output", "mask"}});
  ASSERT_EQ(mask.bgr.size(), c.bgr.size());
  cv::Mat grey;
  cv::cvtColor(mask.bgr, grey, cv::COLOR_BGR2GRAY);
  EXPECT_GE(testdata::Iou(grey, c.alpha), 0.95);
}

TEST_F(CutoutTest, KeepsAPartThatRunsOffTheFrame) {
  // opencv-doc's cartoon fish: its purple tail fin reaches the right border. ISNet alone drops
  // the fin (it keeps the body and the lower fin); the cutout must keep it.
  const cv::Mat photo = testdata::SamplePhoto("HappyFish.jpg");
  Image out = Run(Image{photo, {}, "fish"}, nullptr);
  ASSERT_TRUE(out.has_alpha());
  // The fin: the colourful pixels (purple to red) in the right eighth of the photo.
  const cv::Rect right(photo.cols * 7 / 8, 0, photo.cols - photo.cols * 7 / 8, photo.rows);
  cv::Mat hsv, fin;
  cv::cvtColor(photo(right), hsv, cv::COLOR_BGR2HSV);
  cv::inRange(hsv, cv::Scalar(0, 80, 60), cv::Scalar(180, 255, 255), fin);
  ASSERT_GT(cv::countNonZero(fin), 300) << "expected the fin in the photo";
  const double kept = static_cast<double>(cv::countNonZero(fin & (out.alpha(right) >= 128))) /
                      cv::countNonZero(fin);
  EXPECT_GE(kept, 0.9) << "share of the tail fin kept";
  // And the white backdrop beside it stays out.
  EXPECT_LT(cv::countNonZero(~fin & (out.alpha(right) >= 128)), 0.2 * cv::countNonZero(~fin));
}

TEST_F(CutoutTest, EmptySceneIsAClearError) {
  Image blank{cv::Mat(300, 300, CV_8UC3, cv::Scalar(250, 250, 250)), {}, "blank"};
  Result<Image> out = Registry::Global().Run("cutout", blank, nullptr, context_);
  if (out.ok()) {
    // A net may see faint structure in a flat image; then it must at least not invent a product.
    double max_alpha;
    cv::minMaxLoc(out->alpha, nullptr, &max_alpha);
    EXPECT_LT(cv::countNonZero(out->alpha > 128), 300 * 300 / 20);
  } else {
    EXPECT_EQ(out.status().code(), Code::kInvalidArgument);
    EXPECT_NE(out.status().message().find("no subject"), std::string::npos);
  }
}

}  // namespace
}  // namespace vitrine::ops
