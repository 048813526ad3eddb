#include "models/text_detector.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "models/test_runtime.h"
#include "tests/testdata.h"
#include "tests/text_render.h"

namespace vitrine::models {
namespace {

using testdata::RenderedText;
using testdata::RenderText;
using testdata::TextStyle;

class TextDetectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<const TextDetector*> detector = TestRuntime().text_detector();
    ASSERT_TRUE(detector.ok()) << detector.status().ToString();
    detector_ = *detector;
  }

  static std::vector<TextRegion> Detect(const cv::Mat& image) {
    Result<std::vector<TextRegion>> regions = detector_->Detect(image);
    EXPECT_TRUE(regions.ok()) << regions.status().ToString();
    return regions.ok() ? *regions : std::vector<TextRegion>{};
  }

  // Share of the glyph pixels inside the detected regions.
  static double Coverage(const std::vector<TextRegion>& regions, const cv::Mat& text_mask) {
    cv::Mat covered = RegionMask(text_mask.size(), regions) & text_mask;
    return static_cast<double>(cv::countNonZero(covered)) / cv::countNonZero(text_mask);
  }

  // Share of the image detected as text away from the graphic (more than `margin` px from it).
  static double FalseArea(const std::vector<TextRegion>& regions, const cv::Mat& graphic_mask,
                          int margin) {
    cv::Mat near;
    cv::dilate(graphic_mask, near,
               cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * margin + 1, 2 * margin + 1}));
    cv::Mat stray = RegionMask(graphic_mask.size(), regions) & ~near;
    return static_cast<double>(cv::countNonZero(stray)) / graphic_mask.total();
  }

  static const TextDetector* detector_;
};
const TextDetector* TextDetectorTest::detector_ = nullptr;

struct Case {
  std::string label;
  TextStyle style;
};

std::vector<Case> PromotionCases() {
  return {
      {"red 48px", {.text = "厂家直销", .pixel_height = 48, .color = {0, 0, 230}}},
      {"dark 16px",
       {.text = "包邮", .pixel_height = 16, .color = {20, 20, 20}, .center = {140, 60}}},
      {"price on a red banner",
       {.text = "¥99",
        .bold = true,
        .pixel_height = 72,
        .color = {0, 230, 255},
        .center = {560, 420},
        .banner = true,
        .banner_color = {30, 30, 210}}},
      {"white outlined, rotated 20°",
       {.text = "SALE 50% OFF",
        .pixel_height = 36,
        .color = {255, 255, 255},
        .rotation_deg = 20,
        .outline_width = 3,
        .outline_color = {0, 0, 0}}},
      {"dark watermark at 40%",
       {.text = "正品包邮",
        .bold = true,
        .pixel_height = 56,
        .color = {30, 30, 30},
        .center = {400, 150},
        .opacity = 0.4}},
      {"white watermark at 40%",
       {.text = "SALE ¥99",
        .bold = true,
        .pixel_height = 56,
        .color = {255, 255, 255},
        .center = {250, 330},
        .opacity = 0.4}},
      {"white outlined watermark at 50%",
       {.text = "SALE 50% OFF",
        .pixel_height = 44,
        .color = {255, 255, 255},
        .center = {400, 120},
        .opacity = 0.5,
        .outline_width = 2,
        .outline_color = {0, 0, 0}}},
      {"orange 24px with a drop shadow",
       {.text = "SALE 50% OFF",
        .pixel_height = 24,
        .color = {0, 140, 255},
        .center = {200, 520},
        .shadow_offset = {3, 3},
        .shadow_blur = 2,
        .shadow_opacity = 0.7}},
      {"rotated -35° on a green banner",
       {.text = "包邮",
        .bold = true,
        .pixel_height = 40,
        .color = {255, 255, 255},
        .center = {620, 140},
        .rotation_deg = -35,
        .banner = true,
        .banner_color = {0, 120, 0}}},
  };
}

TEST_F(TextDetectorTest, CoversPromotionTextOnPhotos) {
  for (const char* photo : {"fruits.jpg", "orange.jpg", "home.jpg"}) {
    const cv::Mat clean = testdata::SamplePhoto(photo, {800, 600});
    for (const Case& c : PromotionCases()) {
      SCOPED_TRACE(std::string(photo) + ": " + c.label);
      const RenderedText rendered = RenderText(clean, c.style);
      const std::vector<TextRegion> regions = Detect(rendered.bgr);
      // Glyphs drawn at 40% over a background of their own colour are not there to see.
      EXPECT_GE(Coverage(regions, testdata::VisibleTextMask(clean, rendered)), 0.9);
      EXPECT_LE(FalseArea(regions, rendered.mask, 12), 0.005);
    }
  }
}

TEST_F(TextDetectorTest, FindsTinyAndHugeText) {
  const cv::Mat clean = testdata::SamplePhoto("orange.jpg", {800, 600});
  const std::vector<TextStyle> styles = {
      {.text = "包邮 ¥99", .pixel_height = 12, .color = {255, 255, 255}, .center = {120, 40}},
      {.text = "SALE 50% OFF", .pixel_height = 13, .color = {0, 0, 0}, .center = {600, 570}},
      {.text = "¥99", .bold = true, .pixel_height = 220, .color = {0, 0, 230}},
      {.text = "包邮",
       .pixel_height = 300,
       .color = {255, 255, 255},
       .outline_width = 4,
       .outline_color = {0, 0, 0}},
  };
  for (const TextStyle& style : styles) {
    SCOPED_TRACE(style.text + " at " + std::to_string(style.pixel_height) + " px");
    const RenderedText rendered = RenderText(clean, style);
    const std::vector<TextRegion> regions = Detect(rendered.bgr);
    EXPECT_GE(Coverage(regions, testdata::VisibleTextMask(clean, rendered)), 0.9);
    // A region spans the gaps between a big glyph's strokes; count only what lies further out.
    EXPECT_LE(FalseArea(regions, rendered.mask, std::max(12, style.pixel_height / 4)), 0.005);
  }
}

TEST_F(TextDetectorTest, FindsFewRegionsOnCleanPhotos) {
  for (const char* photo : {"fruits.jpg", "orange.jpg", "apple.jpg", "home.jpg"}) {
    SCOPED_TRACE(photo);
    const cv::Mat clean = testdata::SamplePhoto(photo);
    const std::vector<TextRegion> regions = Detect(clean);
    const double area =
        static_cast<double>(cv::countNonZero(RegionMask(clean.size(), regions))) / clean.total();
    EXPECT_LE(area, 0.005);
    EXPECT_LE(regions.size(), 2u);
  }
}

TEST_F(TextDetectorTest, FindsTextOnImagesOfSeveralSizesInSequence) {
  // One net serves every size; an OpenCV 4.6 net reused across sizes once went blind silently.
  const std::vector<cv::Size> sizes = {{640, 480},  {1200, 800}, {300, 2000},
                                       {400, 4000}, {4000, 400}, {640, 480}};
  for (const cv::Size& size : sizes) {
    SCOPED_TRACE(std::to_string(size.width) + "x" + std::to_string(size.height));
    cv::Mat photo = testdata::SamplePhoto("fruits.jpg", size);
    RenderedText rendered;
    rendered.bgr = photo;
    rendered.text_mask = cv::Mat(size, CV_8UC1, cv::Scalar(0));
    rendered.mask = rendered.text_mask.clone();
    // Lines spread along the long side, one near each end, in the middle, and (on the banners)
    // across where the detector's tiles meet.
    const bool tall = size.height > size.width;
    const int length = std::max(size.width, size.height);
    for (double at : {0.06, 0.3, 0.5, 0.7, 0.94}) {
      TextStyle s;
      s.text = at == 0.5 ? "SALE" : "包邮";
      s.pixel_height = 28;
      s.color = {255, 255, 255};
      s.outline_width = 2;
      s.outline_color = {40, 40, 40};
      s.center = tall ? cv::Point2f(size.width / 2.0f, static_cast<float>(at * length))
                      : cv::Point2f(static_cast<float>(at * length), size.height / 2.0f);
      RenderedText next = RenderText(rendered.bgr, s);
      rendered.bgr = next.bgr;
      rendered.text_mask |= next.text_mask;
      rendered.mask |= next.mask;
    }
    const std::vector<TextRegion> regions = Detect(rendered.bgr);
    EXPECT_GE(Coverage(regions, rendered.text_mask), 0.9);
    EXPECT_LE(FalseArea(regions, rendered.mask, 12), 0.005);
    EXPECT_GE(regions.size(), 5u);
  }
}

TEST_F(TextDetectorTest, ProbabilityMapHasTheImageSizeAndMarksTheText) {
  TextStyle s;
  s.text = "厂家直销";
  s.pixel_height = 40;
  const RenderedText rendered = RenderText(testdata::SamplePhoto("orange.jpg", {500, 375}), s);
  Result<cv::Mat> map = detector_->ProbabilityMap(rendered.bgr);
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  ASSERT_EQ(map->size(), rendered.bgr.size());
  ASSERT_EQ(map->type(), CV_32FC1);
  // DB marks a shrunk kernel of each line strongly and fades towards the glyphs' edges.
  const double on_text = cv::mean(*map, rendered.text_mask)[0];
  EXPECT_GT(on_text, 0.3);
  cv::Mat far;
  cv::dilate(rendered.mask, far, cv::getStructuringElement(cv::MORPH_RECT, {41, 41}));
  EXPECT_LT(cv::mean(*map, ~far)[0], on_text / 20);
}

TEST_F(TextDetectorTest, RegionsAreScoredAndLieInsideTheImage) {
  TextStyle s;
  s.text = "SALE 50% OFF";
  s.pixel_height = 30;
  s.center = {60, 20};  // partly outside the top-left corner
  const RenderedText rendered = RenderText(testdata::SamplePhoto("fruits.jpg", {320, 240}), s);
  const std::vector<TextRegion> regions = Detect(rendered.bgr);
  ASSERT_FALSE(regions.empty());
  for (size_t i = 0; i < regions.size(); ++i) {
    EXPECT_GE(regions[i].score, detector_->options().box_threshold);
    EXPECT_LE(regions[i].score, 1.0f);
    if (i > 0) {
      EXPECT_LE(regions[i].score, regions[i - 1].score);
    }
    EXPECT_GE(regions[i].polygon.size(), 4u);
    for (const cv::Point2f& p : regions[i].polygon) {
      EXPECT_TRUE(p.x >= 0 && p.y >= 0 && p.x <= 319 && p.y <= 239) << p;
    }
  }
}

TEST_F(TextDetectorTest, GreyBgraAndTinyImagesDoNotFail) {
  TextStyle s;
  s.text = "包邮";
  s.pixel_height = 36;
  s.color = {0, 0, 0};
  const RenderedText rendered = RenderText(testdata::SamplePhoto("orange.jpg", {300, 200}), s);
  cv::Mat grey, bgra;
  cv::cvtColor(rendered.bgr, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(rendered.bgr, bgra, cv::COLOR_BGR2BGRA);
  EXPECT_GE(Coverage(Detect(grey), rendered.text_mask), 0.9);
  EXPECT_GE(Coverage(Detect(bgra), rendered.text_mask), 0.9);

  for (const cv::Size& size : {cv::Size(32, 32), cv::Size(1, 1), cv::Size(7, 300)}) {
    Result<TextDetector::Output> out = detector_->Run(testdata::SamplePhoto("fruits.jpg", size));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->probability.size(), size);
    EXPECT_TRUE(out->regions.empty());
  }
  EXPECT_EQ(detector_->Detect(cv::Mat()).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(detector_->Detect(cv::Mat(10, 10, CV_32FC3)).status().code(), Code::kInvalidArgument);
}

TEST_F(TextDetectorTest, DetectionDoesNotModifyItsInput) {
  const cv::Mat image =
      RenderText(testdata::SamplePhoto("fruits.jpg", {320, 240}), TextStyle{}).bgr;
  const cv::Mat before = image.clone();
  ASSERT_TRUE(detector_->Run(image).ok());
  EXPECT_EQ(cv::norm(image, before, cv::NORM_INF), 0);
}

TEST_F(TextDetectorTest, ThreadsDetectingAtOnceGetWhatOneThreadGets) {
  const cv::Mat a = RenderText(testdata::SamplePhoto("fruits.jpg", {480, 360}),
                               {.text = "厂家直销", .pixel_height = 40, .color = {0, 0, 230}})
                        .bgr;
  const cv::Mat b = RenderText(testdata::SamplePhoto("orange.jpg", {300, 900}),
                               {.text = "SALE 50% OFF", .pixel_height = 28, .rotation_deg = 90})
                        .bgr;
  const cv::Mat expected_a = RegionMask(a.size(), Detect(a));
  const cv::Mat expected_b = RegionMask(b.size(), Detect(b));
  ASSERT_GT(cv::countNonZero(expected_a), 0);
  ASSERT_GT(cv::countNonZero(expected_b), 0);
  std::vector<cv::Mat> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const cv::Mat& image = t % 2 == 0 ? a : b;
      Result<std::vector<TextRegion>> regions = detector_->Detect(image);
      if (regions.ok()) got[t] = RegionMask(image.size(), *regions);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) {
    const cv::Mat& expected = t % 2 == 0 ? expected_a : expected_b;
    ASSERT_EQ(got[t].size(), expected.size());
    EXPECT_EQ(cv::norm(got[t], expected, cv::NORM_L1), 0) << "thread " << t;
  }
}

TEST_F(TextDetectorTest, ASmallWholePhotoIsEnlargedAndItsWindowsAreSeenAsThePhotoIs) {
  // A thumbnail-sized supplier photo (260x195) with a 7 px caption, in three colours. RunPhoto()
  // enlarges the photo to a 320 px short side and finds the caption; Run() never enlarges.
  EXPECT_EQ(detector_->WorkSize({260, 195}), cv::Size(256, 192));
  EXPECT_EQ(detector_->PhotoWorkSize({260, 195}), cv::Size(416, 320));
  EXPECT_EQ(detector_->PhotoWorkSize({800, 600}), detector_->WorkSize({800, 600}));
  EXPECT_EQ(detector_->PhotoScale({640, 320}), 1.0);
  EXPECT_EQ(detector_->PhotoScale({100, 100}), detector_->options().max_photo_enlargement);
  const cv::Mat clean = testdata::SamplePhoto("fruits.jpg", {260, 195});
  for (const cv::Scalar& colour :
       {cv::Scalar(0, 200, 255), cv::Scalar(255, 255, 255), cv::Scalar(0, 0, 200)}) {
    const RenderedText rendered = RenderText(clean, {.text = "包邮 ¥39",
                                                     .bold = true,
                                                     .pixel_height = 7,
                                                     .color = colour,
                                                     .center = {190, 40}});
    const cv::Mat visible = testdata::VisibleTextMask(clean, rendered);
    Result<TextDetector::Output> photo = detector_->RunPhoto(rendered.bgr);
    // At its own size the net sees none of it in the photo itself (Detect(): no chroma view,
    // which finds the yellow and red captions even at this size).
    Result<std::vector<TextRegion>> as_is = detector_->Detect(rendered.bgr);
    // A window around the caption, as remove_text's verify step makes it.
    const cv::Rect window = cv::boundingRect(rendered.mask) + cv::Size(64, 64) - cv::Point(32, 32);
    Result<TextDetector::Output> around = detector_->RunPhotoAround(rendered.bgr, {window});
    ASSERT_TRUE(photo.ok() && as_is.ok() && around.ok());
    EXPECT_GE(Coverage(photo->regions, visible), 0.9);   // measured 1.00 in each colour
    EXPECT_LE(Coverage(*as_is, visible), 0.1);           // measured 0.00
    EXPECT_GE(Coverage(around->regions, visible), 0.9);  // measured 1.00

    // The same pixels as part of a larger photo (640x480): the whole photo is seen as it is,
    // where the caption is out of reach, and so is a small window around the caption; enlarging
    // that window for its own size would report text the first pass never saw.
    cv::Mat large, large_visible, large_mask;
    cv::copyMakeBorder(rendered.bgr, large, 0, 285, 0, 380, cv::BORDER_REFLECT);
    cv::copyMakeBorder(visible, large_visible, 0, 285, 0, 380, cv::BORDER_CONSTANT, 0);
    cv::copyMakeBorder(rendered.mask, large_mask, 0, 285, 0, 380, cv::BORDER_CONSTANT, 0);
    const cv::Rect large_window =
        cv::boundingRect(large_mask) + cv::Size(64, 64) - cv::Point(32, 32);
    Result<TextDetector::Output> whole = detector_->RunPhoto(large);
    Result<TextDetector::Output> large_around = detector_->RunPhotoAround(large, {large_window});
    ASSERT_TRUE(whole.ok() && large_around.ok());
    // What the window shows enlarged as a small photo would be (the reverted ec0af41).
    cv::Mat enlarged;
    cv::resize(large(large_window), enlarged, {}, 320.0 / 195, 320.0 / 195, cv::INTER_LINEAR);
    Result<TextDetector::Output> crop = detector_->Run(enlarged);
    ASSERT_TRUE(crop.ok());
    cv::Mat crop_visible;
    cv::resize(large_visible(large_window), crop_visible, enlarged.size(), 0, 0, cv::INTER_NEAREST);
    // Enlarged, the window shows the caption in each colour; as the photo is seen, no more of it
    // than the whole photo's pass found (yellow 0.99 and white 1.00 with the photo's context
    // around them, the window 0.00; red 0.00 in both).
    EXPECT_GE(Coverage(crop->regions, crop_visible), 0.9);
    EXPECT_LE(Coverage(large_around->regions, large_visible),
              Coverage(whole->regions, large_visible) + 0.05);
  }
}

TEST_F(TextDetectorTest, SmallTilesFindWhatOnePassFinds) {
  // Tiles of 320 px on both axes: lines cross vertical and horizontal tile borders.
  Result<std::string> path = TestRuntime().catalog().PreparedPath("ppocr_det");
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  TextDetector::Options options;
  options.tile_size = 320;
  options.tile_overlap = 96;
  Result<std::unique_ptr<TextDetector>> tiled = TextDetector::Load(*path, options);
  ASSERT_TRUE(tiled.ok()) << tiled.status().ToString();

  const cv::Mat clean = testdata::SamplePhoto("fruits.jpg", {800, 600});
  RenderedText r = RenderText(clean, {.text = "厂家直销 SALE 50% OFF",
                                      .pixel_height = 40,
                                      .color = {255, 255, 255},
                                      .center = {400, 290},
                                      .outline_width = 2,
                                      .outline_color = {0, 0, 0}});
  const RenderedText second = RenderText(r.bgr, {.text = "包邮 ¥99",
                                                 .pixel_height = 32,
                                                 .color = {0, 0, 230},
                                                 .center = {300, 450},
                                                 .rotation_deg = 60,
                                                 .banner = true,
                                                 .banner_color = {255, 255, 255}});
  r.bgr = second.bgr;
  r.text_mask |= second.text_mask;
  r.mask |= second.mask;
  Result<std::vector<TextRegion>> regions = (*tiled)->Detect(r.bgr);
  ASSERT_TRUE(regions.ok()) << regions.status().ToString();
  const cv::Mat visible = testdata::VisibleTextMask(clean, r);
  EXPECT_GE(Coverage(*regions, visible), 0.9);
  EXPECT_GE(Coverage(Detect(r.bgr), visible), 0.9);
  EXPECT_LE(FalseArea(*regions, r.mask, 12), 0.005);

  options.tile_overlap = 200;  // not a multiple of 32, and over half a tile
  EXPECT_EQ(TextDetector::Load(*path, options).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(TextDetector::Load("/nonexistent.onnx").status().code(), Code::kNotFound);
}

TEST_F(TextDetectorTest, BothPlaneOrdersFindAtLeastWhatBgrFinds) {
  Result<std::string> path = TestRuntime().catalog().PreparedPath("ppocr_det");
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  TextDetector::Options options;
  options.planes = TextDetector::Options::Planes::kBoth;
  Result<std::unique_ptr<TextDetector>> both = TextDetector::Load(*path, options);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  const cv::Mat clean = testdata::SamplePhoto("fruits.jpg", {800, 600});
  for (const Case& c : PromotionCases()) {
    SCOPED_TRACE(c.label);
    const RenderedText rendered = RenderText(clean, c.style);
    const cv::Mat visible = testdata::VisibleTextMask(clean, rendered);
    Result<std::vector<TextRegion>> regions = (*both)->Detect(rendered.bgr);
    ASSERT_TRUE(regions.ok()) << regions.status().ToString();
    const double with_both = Coverage(*regions, visible);
    EXPECT_GE(with_both, 0.9);
    EXPECT_GE(with_both, Coverage(Detect(rendered.bgr), visible) - 0.02);
    EXPECT_LE(FalseArea(*regions, rendered.mask, 12), 0.005);
  }
}

TEST(TextDetectorOptionsTest, WorkSizeKeepsSmallTextReadable) {
  Result<const TextDetector*> detector = TestRuntime().text_detector();
  ASSERT_TRUE(detector.ok()) << detector.status().ToString();
  const TextDetector& d = **detector;
  EXPECT_EQ(d.WorkSize({640, 480}), cv::Size(640, 480));
  EXPECT_EQ(d.WorkSize({4000, 3000}), cv::Size(1280, 960));
  // A banner keeps its short side (not shrunk to 128 px) and is tiled.
  EXPECT_EQ(d.WorkSize({400, 4000}), cv::Size(416, 4000));
  const cv::Size huge = d.WorkSize({2000, 20000});
  EXPECT_LE(static_cast<int64_t>(huge.area()), d.options().max_work_pixels + 64 * 20000);
  EXPECT_EQ(d.WorkSize({1, 1}), cv::Size(32, 32));
}

TEST(OffsetPolygonTest, GrowsConvexAndConcaveOutlinesByTheDistance) {
  // A 20x10 rectangle grown by 3 with round corners: area 200 + 2·3·(20 + 10) + π·9.
  const std::vector<cv::Point2f> rect = {{0, 0}, {20, 0}, {20, 10}, {0, 10}};
  const std::vector<cv::Point2f> grown = OffsetPolygon(rect, 3);
  EXPECT_NEAR(cv::contourArea(grown), 200 + 180 + CV_PI * 9, 8);
  const cv::Rect bounds = cv::boundingRect(grown);
  EXPECT_NEAR(bounds.x, -3, 0.5);
  EXPECT_NEAR(bounds.width, 26, 1);

  // An L shape: the inner corner fills in with a round arc, nothing self-intersects.
  const std::vector<cv::Point2f> l_shape = {{0, 0}, {10, 0}, {10, 20}, {30, 20}, {30, 30}, {0, 30}};
  const std::vector<cv::Point2f> l_grown = OffsetPolygon(l_shape, 2);
  // Area 500, perimeter 120: 500 + 2·120 + π·4 for the convex turns − 2² at the concave corner.
  EXPECT_NEAR(cv::contourArea(l_grown), 500 + 240 + CV_PI * 4 - 4, 8);
  for (const cv::Point2f& p : l_shape) EXPECT_GT(cv::pointPolygonTest(l_grown, p, true), 1.5);
}

TEST(RegionMaskTest, FillsPolygonsAndGrows) {
  TextRegion region;
  region.polygon = {{10, 10}, {29, 10}, {29, 19}, {10, 19}};
  const cv::Mat mask = RegionMask({50, 40}, {region});
  EXPECT_EQ(cv::countNonZero(mask), 20 * 10);
  const cv::Mat grown = RegionMask({50, 40}, {region}, 2);
  EXPECT_EQ(grown.at<uchar>(8, 20), 255);
  EXPECT_EQ(grown.at<uchar>(7, 20), 0);
}

TEST_F(TextDetectorTest, ColourOnlyCaptionIsFoundInTheChromaView) {
  // A saturated yellow caption with a drop shadow on a grey printed box of nearly its lightness
  // (opencv-doc's box.png, as the demo catalogue's BOX-CEREAL), through a JPEG round trip: the
  // net sees only a part of it in the photo itself, run into the box's print beside it; the
  // chroma view finds it as a line of its own. A grey photo is not run through the view at all.
  const cv::Mat box = testdata::SamplePhoto("box.png");
  ASSERT_EQ(box.channels(), 3);
  const RenderedText rendered = RenderText(box, {.text = "包邮",
                                                 .bold = true,
                                                 .pixel_height = 18,
                                                 .color = {0, 200, 255},
                                                 .center = {0.15f * box.cols, 0.3f * box.rows},
                                                 .rotation_deg = 12,
                                                 .shadow_offset = {2, 2},
                                                 .shadow_blur = 2,
                                                 .shadow_opacity = 0.6});
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", rendered.bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, 90});
  const cv::Mat photo = cv::imdecode(jpeg, cv::IMREAD_COLOR);
  Result<std::string> path = TestRuntime().catalog().PreparedPath("ppocr_det");
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  TextDetector::Options options;
  options.chroma_pass = false;
  Result<std::unique_ptr<TextDetector>> plain = TextDetector::Load(*path, options);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  Result<TextDetector::Output> photo_only = (*plain)->RunPhoto(photo);
  Result<TextDetector::Output> with_chroma = detector_->RunPhoto(photo);
  ASSERT_TRUE(photo_only.ok() && with_chroma.ok());
  // The caption's line: a region whose centre lies on the caption's glyphs' bounding box.
  const cv::Rect caption = cv::boundingRect(rendered.text_mask);
  auto caption_lines = [&](const std::vector<TextRegion>& regions) {
    int n = 0;
    for (const TextRegion& r : regions) n += caption.contains(cv::Point(r.box.center));
    return n;
  };
  std::printf(
      "yellow on the grey box: caption lines: photo's own pass %d, with the chroma view %d\n",
      caption_lines(photo_only->regions), caption_lines(with_chroma->regions));
  EXPECT_EQ(caption_lines(photo_only->regions), 0);
  EXPECT_EQ(caption_lines(with_chroma->regions), 1);

  cv::Mat grey;
  cv::cvtColor(cv::Mat(photo), grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(grey, grey, cv::COLOR_GRAY2BGR);
  Result<TextDetector::Output> grey_pass = detector_->RunPhoto(grey);
  Result<TextDetector::Output> grey_only = (*plain)->RunPhoto(grey);
  ASSERT_TRUE(grey_pass.ok() && grey_only.ok());
  EXPECT_EQ(grey_pass->regions.size(), grey_only->regions.size());
}

}  // namespace
}  // namespace vitrine::models
