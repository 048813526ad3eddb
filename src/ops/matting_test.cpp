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

// A photo as the net sees it and the probability map it gave: concrete-grey backdrop with some
// grain, and whatever the test paints on both.
struct NetReading {
  cv::Mat view = cv::Mat(400, 400, CV_8UC3);
  cv::Mat prob = cv::Mat::zeros(400, 400, CV_32FC1);
  const cv::Scalar backdrop{118, 122, 128};
  const cv::Scalar product{230, 150, 60};  // a blue product

  NetReading() {
    cv::RNG rng(5);
    rng.fill(view, cv::RNG::NORMAL, backdrop, cv::Scalar(8, 8, 8));
  }
  // Paints a filled shape (or a stroke of `thickness`) of `colour` with probability `p`.
  void Ellipse(cv::Point centre, cv::Size axes, cv::Scalar colour, float p, int thickness = -1,
               double start = 0, double end = 360) {
    cv::ellipse(view, centre, axes, 0, start, end, colour, thickness, cv::LINE_AA);
    cv::ellipse(prob, centre, axes, 0, start, end, cv::Scalar(p), thickness, cv::LINE_AA);
  }
  void Bar(cv::Rect r, cv::Scalar colour, float p) {
    view(r).setTo(colour);
    prob(r).setTo(p);
  }
  // The net's soft edges.
  cv::Mat SoftProb() const {
    cv::Mat soft;
    cv::GaussianBlur(prob, soft, cv::Size(), 1.5);
    return soft;
  }
};

double MeanIn(const cv::Mat& m, cv::Rect r) { return cv::mean(m(r))[0]; }

TEST(CleanProbabilityTest, CutsAnUnsureStrayOnANeckAndKeepsARealHandle) {
  // A kettle-like product: a body, a handle loop on the left (certain, the product's colour), and
  // a wall's joint rising from its top (thinner than the body, grey like the backdrop, unsure).
  NetReading r;
  r.Ellipse({220, 260}, {110, 80}, r.product, 1.0f);
  r.Ellipse({100, 250}, {40, 45}, r.product, 0.99f, 10, 90, 270);  // handle
  const cv::Rect joint(250, 20, 10, 170);
  r.Bar(joint, cv::Scalar(150, 152, 156), 0.75f);
  const cv::Mat prob = r.SoftProb(), before = prob.clone();

  ProbabilityCleanup out = CleanProbability(prob, r.view);
  EXPECT_EQ(cv::norm(prob, before, cv::NORM_INF), 0) << "input modified";
  EXPECT_EQ(out.appendages, 1);
  EXPECT_EQ(out.holes, 0);
  EXPECT_LT(MeanIn(out.prob, {245, 20, 20, 150}), 0.01) << "the joint and its haze";
  EXPECT_GT(MeanIn(out.prob, {57, 245, 6, 10}), 0.95) << "the handle";
  EXPECT_GT(MeanIn(out.prob, {150, 220, 140, 80}), 0.99) << "the body";
  // The body's edge where the joint met it stays where it was.
  EXPECT_GT(out.prob.at<float>(192, 255), 0.9f);
}

TEST(CleanProbabilityTest, ACertainThinPartStaysAndAnUnsureOneGoesWhateverItsColour) {
  // Two straps hanging from a bag, both at 0.9: one in the bag's colour (a strap: kept), one in
  // the backdrop's colours (a plant stem: cut). A third, in the bag's colour but at 0.6, is cut.
  NetReading r;
  r.Ellipse({200, 140}, {120, 100}, r.product, 1.0f);
  r.Bar({110, 230, 8, 150}, r.product, 0.9f);
  r.Bar({200, 230, 8, 150}, cv::Scalar(120, 124, 126), 0.9f);
  r.Bar({290, 230, 8, 150}, r.product, 0.6f);
  ProbabilityCleanup out = CleanProbability(r.SoftProb(), r.view);
  EXPECT_EQ(out.appendages, 2);
  EXPECT_GT(MeanIn(out.prob, {112, 260, 4, 110}), 0.85) << "the strap";
  EXPECT_LT(MeanIn(out.prob, {196, 260, 16, 110}), 0.01) << "the stem";
  EXPECT_LT(MeanIn(out.prob, {286, 260, 16, 110}), 0.01) << "the unsure strap";
}

TEST(CleanProbabilityTest, OpensTheBackdropSeenThroughALoop) {
  // A clock with a handle loop on top: inside the loop the backdrop shows and the net is unsure
  // (0.3). A label inside the clock's face, in the product's colours, is as unsure but stays, and
  // so does a backdrop-coloured window the net is sure of (0.85).
  NetReading r;
  r.Bar({125, 135, 150, 60}, r.backdrop, 0.3f);  // inside the loop
  r.Ellipse({200, 270}, {110, 110}, r.product, 1.0f);
  r.Ellipse({200, 230}, {80, 100}, r.product, 1.0f, 8, 180, 360);  // the loop
  r.Bar({150, 220, 40, 30}, cv::Scalar(200, 120, 40), 0.35f);      // the label
  r.Bar({230, 300, 40, 30}, r.backdrop, 0.85f);                    // the window
  const cv::Mat prob = r.SoftProb();
  ProbabilityCleanup out = CleanProbability(prob, r.view);
  EXPECT_EQ(out.holes, 1);
  EXPECT_LT(MeanIn(out.prob, {180, 142, 40, 14}), 0.01) << "backdrop inside the loop";
  EXPECT_GT(MeanIn(out.prob, {196, 128, 8, 4}), 0.9) << "the loop itself";
  EXPECT_NEAR(MeanIn(out.prob, {155, 225, 30, 20}), MeanIn(prob, {155, 225, 30, 20}), 1e-6);
  EXPECT_NEAR(MeanIn(out.prob, {235, 305, 30, 20}), MeanIn(prob, {235, 305, 30, 20}), 1e-6);
}

TEST(CleanProbabilityTest, FadesTheHazeOfACutPartAndKeepsTheProductsSoftParts) {
  // A joint rising from the product into a faint haze over the wall (what the net reads of the
  // other joints): both go. An unsure spout on the other side, faint (0.4) but joined to nothing
  // that was cut, stays as the net gave it.
  NetReading r;
  r.Ellipse({200, 250}, {100, 90}, r.product, 1.0f);
  r.Bar({20, 20, 360, 40}, r.backdrop, 0.25f);
  r.Bar({150, 40, 10, 130}, r.backdrop, 0.75f);
  r.Bar({300, 240, 80, 12}, r.product, 0.4f);  // the spout
  const cv::Mat prob = r.SoftProb();
  ProbabilityCleanup out = CleanProbability(prob, r.view);
  EXPECT_EQ(out.appendages, 1);
  EXPECT_LT(MeanIn(out.prob, {20, 20, 360, 40}), 0.001);
  EXPECT_EQ(cv::norm(out.prob({320, 240, 60, 12}), prob({320, 240, 60, 12}), cv::NORM_INF), 0);
  // The product's soft edge (a few pixels wide) is left exactly as the net gave it.
  const cv::Rect edge(95, 240, 10, 20);
  EXPECT_EQ(cv::norm(out.prob(edge), prob(edge), cv::NORM_INF), 0);
}

TEST(FramedReadingTest, AsksForASecondReadingWhenTheNetLeftOutWhatTheFrameCuts) {
  // A fish on white whose tail fin runs off the right border: the net found the body only.
  cv::Mat view(300, 400, CV_8UC3, cv::Scalar(250, 250, 250));
  cv::Mat prob = cv::Mat::zeros(view.size(), CV_32FC1);
  cv::ellipse(view, {180, 150}, {110, 80}, 0, 0, 360, cv::Scalar(40, 120, 240), -1);
  cv::ellipse(prob, {180, 150}, {110, 80}, 0, 0, 360, cv::Scalar(1), -1);
  const cv::Rect fin(330, 40, 70, 220);
  view(fin).setTo(cv::Scalar(160, 40, 130));
  std::optional<cv::Scalar> backdrop = FramedReadingBackdrop(prob, view);
  ASSERT_TRUE(backdrop.has_value());
  EXPECT_EQ(*backdrop, cv::Scalar(250, 250, 250, 0)) << "the margin is the backdrop's colour";

  cv::Mat found = prob.clone();
  found(fin).setTo(0.9);
  EXPECT_FALSE(FramedReadingBackdrop(found, view).has_value()) << "the net found the fin";
  cv::Mat busy(view.size(), CV_8UC3);
  cv::randu(busy, cv::Scalar::all(0), cv::Scalar::all(255));
  view(cv::Rect(70, 70, 260, 160)).copyTo(busy(cv::Rect(70, 70, 260, 160)));
  EXPECT_FALSE(FramedReadingBackdrop(prob, busy).has_value()) << "no plain backdrop to add";
}

TEST(FramedReadingTest, MergeAddsOnlyWhatJoinsTheProduct) {
  cv::Mat prob = cv::Mat::zeros(300, 400, CV_32FC1);
  prob(cv::Rect(80, 80, 200, 140)).setTo(1.0);
  // The second reading: the body a little softer, the fin joined to it, and a lamp apart.
  cv::Mat framed = cv::Mat::zeros(prob.size(), CV_32FC1);
  framed(cv::Rect(80, 80, 200, 140)).setTo(0.95);
  const cv::Rect fin(280, 100, 120, 100), lamp(10, 10, 40, 40);
  framed(fin).setTo(0.9);
  framed(lamp).setTo(1.0);
  const cv::Mat before = prob.clone();
  cv::Mat merged = MergeFramedReading(prob, framed);
  EXPECT_EQ(cv::norm(prob, before, cv::NORM_INF), 0) << "input modified";
  EXPECT_NEAR(cv::mean(merged(fin))[0], 0.9, 1e-6) << "the fin is added";
  EXPECT_EQ(cv::countNonZero(merged(lamp)), 0) << "what does not join the product is not";
  EXPECT_EQ(
      cv::norm(merged(cv::Rect(0, 0, 270, 300)), prob(cv::Rect(0, 0, 270, 300)), cv::NORM_INF), 0)
      << "what the first reading found stays as it was";

  // A tail the second reading finds apart from the body (a gap of 5 px) but reaching the frame
  // is added too; the lamp, as much at the frame but farther, is not.
  cv::Mat apart = cv::Mat::zeros(prob.size(), CV_32FC1);
  apart(cv::Rect(80, 80, 200, 140)).setTo(0.95);
  const cv::Rect tail(285, 100, 115, 100);
  apart(tail).setTo(0.9);
  apart(lamp).setTo(1.0);
  cv::Mat with_tail = MergeFramedReading(prob, apart);
  EXPECT_NEAR(cv::mean(with_tail(tail))[0], 0.9, 1e-6);
  EXPECT_EQ(cv::countNonZero(with_tail(lamp)), 0);

  // A second reading that takes half the scene is another subject: ignored.
  cv::Mat other = framed.clone();
  other(cv::Rect(0, 0, 400, 300)).setTo(0.8);
  EXPECT_EQ(cv::norm(MergeFramedReading(prob, other), prob, cv::NORM_INF), 0);
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
