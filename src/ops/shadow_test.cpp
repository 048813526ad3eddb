#include "ops/shadow.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

namespace vitrine::ops {
namespace {

// A product standing in a 400x400 canvas: a rounded box whose base is at row 300.
struct Scene {
  cv::Mat alpha = cv::Mat::zeros(400, 400, CV_8UC1);
  cv::Rect box{150, 100, 100, 200};
  Scene() { cv::rectangle(alpha, box, cv::Scalar(255), cv::FILLED, cv::LINE_AA); }
};

// Centre of mass of the darkness, in canvas coordinates.
cv::Point2d Centroid(const ShadowLayer& layer) {
  const cv::Moments m = cv::moments(layer.darkness);  // 8-bit: weights in grey levels
  return {layer.bound.x + m.m10 / m.m00, layer.bound.y + m.m01 / m.m00};
}

TEST(ShadowTest, NoneAndZeroOpacityPaintNothing) {
  Scene s;
  ShadowOptions none;
  none.kind = ShadowKind::kNone;
  EXPECT_TRUE(MakeShadow(s.alpha(s.box), s.box, s.alpha.size(), none).bound.empty());
  ShadowOptions clear;
  clear.opacity = 0;
  EXPECT_TRUE(MakeShadow(s.alpha(s.box), s.box, s.alpha.size(), clear).bound.empty());
}

TEST(ShadowTest, ContactIsDarkestAtTheBaseAndFadesAway) {
  Scene s;
  ShadowOptions o;
  o.opacity = 0.5;
  const ShadowLayer layer = MakeShadow(s.alpha(s.box), s.box, s.alpha.size(), o);
  ASSERT_FALSE(layer.bound.empty());
  ASSERT_EQ(layer.darkness.size(), layer.bound.size());
  double max = 0;
  cv::Point at;
  cv::minMaxLoc(layer.darkness, nullptr, &max, nullptr, &at);
  EXPECT_LE(max, 0.5 * 255 + 0.5);
  EXPECT_GE(max, 0.3 * 255) << "a contact shadow must be clearly visible where the product stands";
  at += layer.bound.tl();
  EXPECT_NEAR(at.y, 300, 8) << "darkest on the floor line";
  // Below the base, under the product's centre, darkness falls off with distance.
  auto dark = [&](int x, int y) {
    return layer.darkness.at<uchar>(y - layer.bound.y, x - layer.bound.x);
  };
  EXPECT_GT(dark(200, 302), dark(200, 310));
  EXPECT_GT(dark(200, 310), dark(200, 325));
  // Beside the product the shadow is lighter than right at its foot, and it ends.
  EXPECT_GT(dark(245, 302), dark(270, 302));
  EXPECT_EQ(dark(200, layer.bound.br().y - 1), 0);
  // The shadow stays near the floor: nothing above the lower quarter of the product.
  EXPECT_GE(layer.bound.y, 300 - 0.25 * 200 - 1);
}

TEST(ShadowTest, ABodyWhoseStrapHangsLowerStillHasItsContactRightUnderIt) {
  // A bag: its body's bottom is row 290; a thin strap on the left hangs to row 300 (in front, on
  // the floor). The body rests on the floor too, behind the strap: the floor just under its
  // bottom must be dark, not lit with the shadow 10 rows lower.
  cv::Mat alpha = cv::Mat::zeros(400, 400, CV_8UC1);
  cv::rectangle(alpha, cv::Rect(170, 100, 130, 190), cv::Scalar(255), cv::FILLED);
  cv::rectangle(alpha, cv::Rect(150, 200, 8, 100), cv::Scalar(255), cv::FILLED);
  const cv::Rect box(150, 100, 150, 200);
  ShadowOptions o;
  o.opacity = 0.5;
  const ShadowLayer layer = MakeShadow(alpha(box), box, alpha.size(), o);
  auto dark = [&](int x, int y) {
    return layer.darkness.at<uchar>(y - layer.bound.y, x - layer.bound.x);
  };
  EXPECT_GE(dark(235, 291), 0.2 * 255) << "contact right under the body";
  EXPECT_GE(dark(235, 291), dark(235, 296)) << "darkest where the body meets the floor";
}

TEST(ShadowTest, NeverPaintsOutsideItsBound) {
  Scene s;
  for (ShadowKind kind : {ShadowKind::kContact, ShadowKind::kDrop}) {
    ShadowOptions o;
    o.kind = kind;
    o.softness = 1;
    const ShadowLayer layer = MakeShadow(s.alpha(s.box), s.box, s.alpha.size(), o);
    EXPECT_EQ(layer.bound, ShadowBound(s.box, s.alpha.size(), o));
    EXPECT_EQ(layer.bound & cv::Rect(0, 0, 400, 400), layer.bound);
    cv::Mat canvas(400, 400, CV_8UC3, cv::Scalar::all(255));
    DarkenWithShadow(layer, canvas);
    cv::Mat changed;
    cv::inRange(canvas, cv::Scalar::all(0), cv::Scalar::all(254), changed);
    const cv::Rect touched = cv::boundingRect(changed);
    EXPECT_EQ(touched & layer.bound, touched);
    EXPECT_GT(touched.area(), 0);
  }
}

TEST(ShadowTest, DropShadowFallsAwayFromTheLight) {
  Scene s;
  ShadowOptions o;
  o.kind = ShadowKind::kDrop;
  o.light_angle = 180;  // from the left
  const cv::Point2d left_lit = Centroid(MakeShadow(s.alpha(s.box), s.box, s.alpha.size(), o));
  o.light_angle = 0;  // from the right
  const cv::Point2d right_lit = Centroid(MakeShadow(s.alpha(s.box), s.box, s.alpha.size(), o));
  EXPECT_GT(left_lit.x, 200 + 8) << "light from the left casts to the right";
  EXPECT_LT(right_lit.x, 200 - 8) << "light from the right casts to the left";
  o.light_angle = 90;  // from behind: the shadow comes toward the camera, below the base
  const cv::Point2d back_lit = Centroid(MakeShadow(s.alpha(s.box), s.box, s.alpha.size(), o));
  EXPECT_GT(back_lit.y, 300);
  EXPECT_NEAR(back_lit.x, 200, 3);
}

TEST(ShadowTest, SofterSpreadsWider) {
  Scene s;
  auto spread = [&](double softness) {
    ShadowOptions o;
    o.softness = softness;
    const ShadowLayer layer = MakeShadow(s.alpha(s.box), s.box, s.alpha.size(), o);
    return cv::countNonZero(layer.darkness > 5);
  };
  EXPECT_GT(spread(1.0), 1.3 * spread(0.0));
}

}  // namespace
}  // namespace vitrine::ops
