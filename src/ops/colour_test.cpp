#include "ops/colour.h"

#include <gtest/gtest.h>

namespace vitrine::ops {
namespace {

// Reference pairs from Sharma, Wu and Dalal (2005), "The CIEDE2000 color-difference formula:
// implementation notes, supplementary test data".
TEST(ColourTest, DeltaE2000MatchesThePublishedTestData) {
  struct Pair {
    cv::Vec3f a, b;
    double expected;
  };
  const Pair pairs[] = {
      {{50.0f, 2.6772f, -79.7751f}, {50.0f, 0.0f, -82.7485f}, 2.0425},
      {{50.0f, 0.0f, 0.0f}, {50.0f, -1.0f, 2.0f}, 2.3669},
      {{50.0f, 2.5f, 0.0f}, {73.0f, 25.0f, -18.0f}, 27.1492},
      {{60.2574f, -34.0099f, 36.2677f}, {60.4626f, -34.1751f, 39.4387f}, 1.2644},
      {{22.7233f, 20.0904f, -46.694f}, {23.0331f, 14.973f, -42.5619f}, 2.0373},
      {{2.0776f, 0.0795f, -1.135f}, {0.9033f, -0.0636f, -0.5514f}, 0.9082},
  };
  for (const Pair& p : pairs) {
    EXPECT_NEAR(DeltaE2000(p.a, p.b), p.expected, 1e-3) << p.a << " vs " << p.b;
    EXPECT_NEAR(DeltaE2000(p.b, p.a), p.expected, 1e-3) << "not symmetric";
  }
}

TEST(ColourTest, LabRoundTripAndKnownColours) {
  const cv::Vec3f white = BgrToLab(cv::Vec3b(255, 255, 255));
  EXPECT_NEAR(white[0], 100, 0.1);
  EXPECT_NEAR(white[1], 0, 0.1);
  EXPECT_NEAR(white[2], 0, 0.1);
  const cv::Vec3f red = BgrToLab(cv::Vec3b(0, 0, 255));
  EXPECT_NEAR(red[0], 53.2, 0.3);
  EXPECT_NEAR(red[1], 80.1, 0.5);
  EXPECT_NEAR(red[2], 67.2, 0.5);

  cv::Mat bgr(16, 16, CV_8UC3);
  cv::randu(bgr, 0, 256);
  const cv::Mat back = LabToBgr(BgrToLab(bgr));
  EXPECT_LE(cv::norm(bgr, back, cv::NORM_INF), 1);
  const DeltaEStats same = CompareColours(bgr, back, cv::Mat());
  EXPECT_LT(same.mean, 0.3);
  EXPECT_EQ(same.pixels, 256);
}

TEST(ColourTest, SrgbTransferRoundTripsEveryCode) {
  for (int i = 0; i < 256; ++i) {
    EXPECT_EQ(LinearToSrgb(SrgbToLinear(static_cast<uchar>(i))), i);
  }
  EXPECT_NEAR(SrgbToLinear(128), 0.2159, 1e-3);
}

}  // namespace
}  // namespace vitrine::ops
