#include "ops/harmonize.h"

#include <gtest/gtest.h>

#include "ops/colour.h"
#include "tests/testdata.h"

namespace vitrine::ops {
namespace {

struct Product {
  cv::Mat bgr, alpha;
};

Product MakeProduct(int seed) {
  testdata::Composite c = testdata::MakeComposite({240, 200}, testdata::Backdrop::kFlat, seed);
  return {c.bgr, c.alpha};
}

// Mean colour of the opaque product pixels.
cv::Scalar MeanOf(const cv::Mat& bgr, const cv::Mat& alpha) { return cv::mean(bgr, alpha >= 128); }

TEST(HarmonizeTest, StaysWithinTheDocumentedDeltaEBoundEvenInAStrongCast) {
  const HarmonizeOptions defaults;
  for (int seed : {1, 2, 3}) {
    for (cv::Scalar cast : {cv::Scalar(40, 120, 235), cv::Scalar(230, 140, 60),
                            cv::Scalar(20, 20, 25), cv::Scalar(250, 250, 250)}) {
      Product p = MakeProduct(seed);
      if (seed == 3) p.bgr *= 0.25;  // dark colours: where a gain moves ΔE2000 the most
      const cv::Mat before = p.bgr.clone();
      HarmonizeOptions o;
      o.strength = 1;
      HarmonizeReport report;
      const cv::Mat out = Harmonize(p.bgr, p.alpha, cv::Mat(64, 64, CV_8UC3, cast), o, &report);
      ASSERT_EQ(out.size(), p.bgr.size());
      const DeltaEStats change = CompareColours(p.bgr, out, p.alpha);
      EXPECT_LE(change.mean, defaults.max_mean_delta_e) << "seed " << seed << " cast " << cast;
      EXPECT_LE(change.max, defaults.max_delta_e) << "seed " << seed << " cast " << cast;
      EXPECT_EQ(cv::norm(p.bgr, before, cv::NORM_INF), 0) << "input modified";
    }
  }
}

TEST(HarmonizeTest, MovesTowardAWarmSceneAndLeavesANeutralOneAlone) {
  Product p = MakeProduct(5);
  HarmonizeOptions o;
  o.strength = 1;
  const cv::Mat warm =
      Harmonize(p.bgr, p.alpha, cv::Mat(64, 64, CV_8UC3, cv::Scalar(60, 140, 230)), o);
  const cv::Scalar before = MeanOf(p.bgr, p.alpha), after = MeanOf(warm, p.alpha);
  EXPECT_GT(after[2] / after[0], 1.03 * before[2] / before[0])
      << "red/blue should rise in warm light";
  EXPECT_GT(CompareColours(p.bgr, warm, p.alpha).mean, 0.5) << "the match should be visible";

  // A neutral grey scene: no colour cast to match, so the product's hue balance stays.
  const cv::Mat neutral =
      Harmonize(p.bgr, p.alpha, cv::Mat(64, 64, CV_8UC3, cv::Scalar::all(128)), o);
  const cv::Scalar same = MeanOf(neutral, p.alpha);
  EXPECT_NEAR(same[2] / same[0], before[2] / before[0], 0.02 * before[2] / before[0]);
  EXPECT_NEAR(same[1] / same[0], before[1] / before[0], 0.02 * before[1] / before[0]);

  o.strength = 0;
  const cv::Mat off =
      Harmonize(p.bgr, p.alpha, cv::Mat(64, 64, CV_8UC3, cv::Scalar(60, 140, 230)), o);
  EXPECT_EQ(cv::norm(off, p.bgr, cv::NORM_INF), 0);
}

TEST(HarmonizeTest, DimSceneDarkensWithinTheBound) {
  Product p = MakeProduct(9);
  HarmonizeOptions o;
  o.strength = 1;
  const cv::Mat dim = Harmonize(p.bgr, p.alpha, cv::Mat(64, 64, CV_8UC3, cv::Scalar::all(30)), o);
  const cv::Scalar before = MeanOf(p.bgr, p.alpha), after = MeanOf(dim, p.alpha);
  EXPECT_LT(after[0] + after[1] + after[2], before[0] + before[1] + before[2]);
}

}  // namespace
}  // namespace vitrine::ops
