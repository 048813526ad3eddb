#include "ops/text_scope.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "models/test_runtime.h"
#include "ops/inpaint.h"
#include "ops/remove_text.h"
#include "tests/testdata.h"
#include "tests/text_render.h"

namespace vitrine::ops {
namespace {

using testdata::RenderedText;
using testdata::RenderText;
using testdata::TextStyle;

const cv::Size kSize(560, 420);

const models::TextDetector& Detector() {
  Result<const models::TextDetector*> detector = models::TestRuntime().text_detector();
  EXPECT_TRUE(detector.ok()) << detector.status().message();
  return **detector;
}

// The detected regions of `bgr` that cover pixels of `mask`.
std::vector<models::TextRegion> RegionsOn(const cv::Mat& bgr, const cv::Mat& mask) {
  Result<std::vector<models::TextRegion>> regions = Detector().Detect(bgr);
  EXPECT_TRUE(regions.ok());
  std::vector<models::TextRegion> out;
  for (const models::TextRegion& region : *regions) {
    if (cv::countNonZero(models::RegionMask(bgr.size(), {region}) & mask) > 0) {
      out.push_back(region);
    }
  }
  return out;
}

// What the recogniser reads in the regions of `bgr` over `mask`, one line each.
std::string ReadOn(const cv::Mat& bgr, const cv::Mat& mask) {
  Result<const models::TextRecognizer*> recognizer = models::TestRuntime().text_recognizer();
  EXPECT_TRUE(recognizer.ok());
  std::string text;
  for (const models::TextRegion& region : RegionsOn(bgr, mask)) {
    Result<models::RecognizedText> read = (*recognizer)->Recognize(bgr, region);
    if (read.ok()) text += read->text + "\n";
  }
  return text;
}

// The demo's orange: a red caption with a white outline and a white price on a red banner, both
// drawn across the middle of the product, as a supplier adds them.
RenderedText DemoOverlays(const testdata::Composite& scene, RenderedText* caption_out) {
  const cv::Rect product = cv::boundingRect(scene.alpha > 128);
  const cv::Point2f centre = (product.tl() + product.br()) / 2;
  TextStyle caption;
  caption.text = "包邮 正品";
  caption.bold = true;
  caption.pixel_height = 34;
  caption.color = {0, 0, 230};
  caption.outline_width = 3;
  caption.outline_color = {255, 255, 255};
  caption.center = {centre.x, centre.y - 40};
  *caption_out = RenderText(scene.bgr, caption);
  TextStyle banner;
  banner.text = "¥59";
  banner.bold = true;
  banner.pixel_height = 34;
  banner.color = {255, 255, 255};
  banner.banner = true;
  banner.banner_color = {30, 30, 220};
  banner.center = {centre.x, centre.y + 45};
  return RenderText(caption_out->bgr, banner);
}

TEST(TextScopeTest, OverlayDrawnOverTheProductIsRemovedUnderOverlayScope) {
  const testdata::Composite scene = testdata::MakeComposite(kSize, testdata::Backdrop::kFlat, 12);
  RenderedText caption;
  const RenderedText both = DemoOverlays(scene, &caption);
  // Both graphics lie on the product, so the old rule (text on the product is product text)
  // kept them.
  cv::Mat on_product = caption.mask | both.mask;
  ASSERT_EQ(cv::countNonZero(on_product & (scene.alpha < 128)), 0);

  RemoveTextReport report;
  Result<Image> out = RemoveText(Image{both.bgr}, {}, models::TestRuntime(), &report);
  ASSERT_TRUE(out.ok()) << out.status().message();
  int drawn = 0;
  for (const TextFinding& f : report.regions) {
    SCOPED_TRACE(f.text + ": " + f.why);
    models::TextRegion region;
    region.polygon = f.polygon;
    if (cv::countNonZero(models::RegionMask(kSize, {region}) & on_product) == 0) continue;
    EXPECT_TRUE(f.overlay);
    EXPECT_TRUE(f.removed);
    drawn += f.why.rfind("drawn over the product", 0) == 0;
  }
  EXPECT_GE(drawn, 2) << "the caption and the price are decided by the drawn-over cues";
  // Caption, outline, banner and its text are gone: nothing there reads as them any more (the
  // orange's texture gives the detector some signal of its own, so the test reads what is left).
  const std::string left = ReadOn(out->bgr, on_product);
  EXPECT_EQ(left.find("包邮"), std::string::npos) << left;
  EXPECT_EQ(left.find("59"), std::string::npos) << left;
  // The product around them is untouched.
  cv::Mat outside;
  cv::bitwise_not(on_product, outside);
  EXPECT_GE(MaskedPsnr(out->bgr, scene.bgr, outside), 40.0);
  // The banner box went whole: no patch of its red is left.
  cv::Mat red;
  cv::inRange(out->bgr, cv::Scalar(0, 0, 180), cv::Scalar(70, 70, 255), red);
  EXPECT_LT(cv::countNonZero(red & both.mask), 20);

  // QA's "text left" measure sees the overlay before and nothing after.
  const auto area = OverlayTextArea(models::TestRuntime());
  Result<double> area_before = area(both.bgr, cv::Mat());
  Result<double> area_after = area(out->bgr, cv::Mat());
  ASSERT_TRUE(area_before.ok() && area_after.ok());
  EXPECT_GT(*area_before, 0.005);
  EXPECT_EQ(*area_after, 0.0);
}

TEST(TextScopeTest, CuesTellDrawnGraphicsFromPhotographedPrint) {
  const testdata::Composite scene = testdata::MakeComposite(kSize, testdata::Backdrop::kFlat, 14);
  RenderedText caption;
  const RenderedText both = DemoOverlays(scene, &caption);
  for (const models::TextRegion& region : RegionsOn(both.bgr, both.text_mask)) {
    const OverlayCues cues = MeasureOverlayCues(both.bgr, region);
    SCOPED_TRACE(cues.Describe());
    EXPECT_GE(cues.score, kDrawnOverScore);
    EXPECT_TRUE(cues.outline || cues.banner);
    EXPECT_TRUE(cues.flat);
  }

  // The same words printed on the product and photographed: shaded with the product's light and
  // softened by the lens.
  TextStyle print;
  print.text = "有机茶 ORGANIC";
  print.pixel_height = 30;
  print.color = {40, 40, 150};
  const cv::Rect product = cv::boundingRect(scene.alpha > 128);
  print.center = (product.tl() + product.br()) / 2;
  const RenderedText flat_print = RenderText(scene.bgr, print);
  cv::Mat photographed;
  cv::GaussianBlur(flat_print.bgr, photographed, cv::Size(), 1.0);
  photographed.convertTo(photographed, CV_32FC3);
  cv::Mat light(kSize, CV_32FC1);
  for (int y = 0; y < kSize.height; ++y) {
    for (int x = 0; x < kSize.width; ++x) light.at<float>(y, x) = 0.8f + 0.4f * x / kSize.width;
  }
  cv::Mat light3;
  cv::merge(std::vector<cv::Mat>{light, light, light}, light3);
  photographed = photographed.mul(light3);
  cv::RNG rng(3);
  cv::Mat noise(kSize, CV_32FC3);
  rng.fill(noise, cv::RNG::NORMAL, 0, 3);
  photographed += noise;
  photographed.convertTo(photographed, CV_8UC3);
  const std::vector<models::TextRegion> printed = RegionsOn(photographed, flat_print.text_mask);
  ASSERT_FALSE(printed.empty());
  for (const models::TextRegion& region : printed) {
    const OverlayCues cues = MeasureOverlayCues(photographed, region);
    SCOPED_TRACE(cues.Describe());
    EXPECT_LT(cues.score, kDrawnOverScore);
    EXPECT_FALSE(cues.banner);
    EXPECT_FALSE(cues.outline);
  }
}

TEST(TextScopeTest, BannerRunningOffTheEdgeIsRemovedWhole) {
  const testdata::Composite scene =
      testdata::MakeComposite(kSize, testdata::Backdrop::kGradient, 16);
  // A bar across the lower third, from mid-image to past the right edge, over the product and
  // the backdrop, with a price on it.
  cv::Mat bar = scene.bgr.clone();
  const cv::Rect box(200, 300, kSize.width - 200, 64);
  cv::rectangle(bar, box, cv::Scalar(40, 40, 200), cv::FILLED, cv::LINE_AA);
  TextStyle price;
  price.text = "今日下单 188元";
  price.bold = true;
  price.pixel_height = 38;
  price.color = {255, 255, 255};
  price.center = {box.x + box.width / 2.0f, box.y + box.height / 2.0f};
  const RenderedText rendered = RenderText(bar, price);
  cv::Mat graphic(kSize, CV_8UC1, cv::Scalar(0));
  graphic(box).setTo(255);
  graphic |= rendered.mask;

  RemoveTextReport report;
  Result<Image> out = RemoveText(Image{rendered.bgr}, {}, models::TestRuntime(), &report);
  ASSERT_TRUE(out.ok()) << out.status().message();
  bool removed = false;
  for (const TextFinding& f : report.regions) removed |= f.removed;
  ASSERT_TRUE(removed);
  // None of the bar is left: its red is gone everywhere, up to the image's edge.
  cv::Mat red;
  cv::inRange(out->bgr, cv::Scalar(0, 0, 150), cv::Scalar(90, 90, 255), red);
  EXPECT_LT(cv::countNonZero(red & graphic), box.area() / 100)
      << "pixels of the bar left (of " << box.area() << ")";
  const std::string left = ReadOn(out->bgr, graphic);
  EXPECT_EQ(left.find("188"), std::string::npos) << left;
}

// The region a finding was decided on.
models::TextRegion RegionOf(const TextFinding& f) {
  models::TextRegion region;
  region.polygon = f.polygon;
  region.box = cv::minAreaRect(f.polygon);
  return region;
}

// Plain `text` of `colour` (BGR) centred at `centre`.
TextStyle Lettering(const std::string& text, int height, cv::Scalar colour, cv::Point2f centre) {
  TextStyle style;
  style.text = text;
  style.pixel_height = height;
  style.color = colour;
  style.center = centre;
  return style;
}

// White `text` with a 2 px outline of `outline`, as suppliers draw captions.
TextStyle WhiteOutlined(const std::string& text, int height, cv::Scalar outline,
                        cv::Point2f centre) {
  TextStyle style = Lettering(text, height, {255, 255, 255}, centre);
  style.outline_width = 2;
  style.outline_color = outline;
  return style;
}

// Every region of `bgr` over `mask`, read by the recogniser and classified against `product`.
std::vector<TextFinding> ClassifiedOn(const cv::Mat& bgr, const cv::Mat& mask,
                                      const cv::Mat& product) {
  const std::vector<models::TextRegion> regions = RegionsOn(bgr, mask);
  Result<const models::TextRecognizer*> recognizer = models::TestRuntime().text_recognizer();
  EXPECT_TRUE(recognizer.ok());
  std::vector<TextFinding> findings(regions.size());
  for (size_t i = 0; i < regions.size(); ++i) {
    Result<models::RecognizedText> read = (*recognizer)->Recognize(bgr, regions[i]);
    EXPECT_TRUE(read.ok());
    findings[i].text = read->text;
    findings[i].confidence = read->confidence;
  }
  ClassifyText(bgr, product, regions, true, &findings);
  return findings;
}

// `clean` photographed: softened by the lens and with sensor noise.
cv::Mat Photographed(const cv::Mat& clean, int seed) {
  cv::Mat out;
  cv::GaussianBlur(clean, out, cv::Size(), 0.7);
  out.convertTo(out, CV_32FC3);
  cv::Mat noise(clean.size(), CV_32FC3);
  cv::RNG rng(seed);
  rng.fill(noise, cv::RNG::NORMAL, 0, 1.5);
  out += noise;
  out.convertTo(out, CV_8UC3);
  return out;
}

// A red toy's body (an ellipse) on grey, with `print` (BGR, drawn where `print_mask` is set)
// printed on it, then lit from the top left as a curved plastic body is: the print is shaded with
// the body. `body` gets the body's mask.
cv::Mat ShadedToy(cv::Size size, const cv::Mat& print, const cv::Mat& print_mask, cv::Mat* body) {
  cv::Mat bgr(size, CV_8UC3, cv::Scalar(200, 205, 210));
  *body = cv::Mat::zeros(size, CV_8UC1);
  const cv::Point centre(size.width / 2, size.height / 2);
  cv::ellipse(*body, centre, cv::Size(size.width * 2 / 5, size.height / 3), 0, 0, 360,
              cv::Scalar(255), cv::FILLED, cv::LINE_AA);
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      if (!body->at<uchar>(y, x)) continue;
      const double light = 1.25 - 0.6 * (x + y) / (size.width + size.height);
      cv::Vec3d colour(35, 40, 190);
      if (!print_mask.empty() && print_mask.at<uchar>(y, x)) colour = print.at<cv::Vec3b>(y, x);
      for (int c = 0; c < 3; ++c) {
        bgr.at<cv::Vec3b>(y, x)[c] = cv::saturate_cast<uchar>(colour[c] * light);
      }
    }
  }
  return bgr;
}

TEST(TextScopeTest, PrintedDigitInADiscOnAShadedToyStays) {
  // The toy car's door: a white disc seen at an angle with a black "1" printed in it, shaded with
  // the body. Flat-coloured and sharp like a drawn graphic, and the disc around the glyph looks
  // like a white outline; it is the product's own print.
  const cv::Size size(420, 320);
  const cv::Point centre(size.width / 2 + 20, size.height / 2);
  cv::Mat decal(size, CV_8UC3, cv::Scalar(0, 0, 0)), decal_mask(size, CV_8UC1, cv::Scalar(0));
  cv::ellipse(decal, centre, cv::Size(40, 47), 10, 0, 360, cv::Scalar(225, 225, 225), cv::FILLED,
              cv::LINE_AA);
  cv::ellipse(decal_mask, centre, cv::Size(40, 47), 10, 0, 360, cv::Scalar(255), cv::FILLED);
  TextStyle digit;
  digit.text = "1";
  digit.bold = true;
  digit.pixel_height = 64;
  digit.color = {20, 20, 20};
  digit.center = centre;
  const RenderedText printed = RenderText(decal, digit);
  cv::Mat body;
  const cv::Mat photo = Photographed(ShadedToy(size, printed.bgr, decal_mask, &body), 5);
  const std::vector<TextFinding> findings = ClassifiedOn(photo, printed.text_mask, body);
  ASSERT_FALSE(findings.empty()) << "the detector should find the printed digit";
  bool read_well = false;
  for (const TextFinding& f : findings) {
    SCOPED_TRACE(f.text + " " + std::to_string(f.confidence) + ": " + f.why);
    EXPECT_FALSE(f.overlay);
    const OverlayCues cues = MeasureOverlayCues(photo, RegionOf(f));
    SCOPED_TRACE(cues.Describe());
    EXPECT_FALSE(cues.outline) << "the disc around the digit is not an outline";
    EXPECT_LT(cues.score, kDrawnOverScore);
    read_well |= f.text == "1" && f.confidence >= 0.8;
  }
  // Kept by the cues, not because it reads poorly.
  EXPECT_TRUE(read_well);

  // The same digit drawn over the toy's photo with a white outline is still outlined.
  TextStyle drawn = digit;
  drawn.text = "1 包邮";
  drawn.outline_width = 4;
  drawn.outline_color = {255, 255, 255};
  drawn.color = {0, 0, 230};
  const RenderedText overlay = RenderText(Photographed(ShadedToy(size, {}, {}, &body), 5), drawn);
  const std::vector<models::TextRegion> drawn_regions = RegionsOn(overlay.bgr, overlay.text_mask);
  ASSERT_FALSE(drawn_regions.empty());
  for (const models::TextRegion& region : drawn_regions) {
    const OverlayCues cues = MeasureOverlayCues(overlay.bgr, region);
    SCOPED_TRACE(cues.Describe());
    EXPECT_TRUE(cues.outline);
    EXPECT_GE(cues.score, kDrawnOverScore);
  }
}

TEST(TextScopeTest, HandleLikeRingIsNotText) {
  // A teapot on white, as exported: its handle is a closed loop with the backdrop inside, which
  // the detector takes for a glyph and the recogniser reads as "O" or "a" with low confidence.
  const cv::Size size(420, 320);
  cv::Mat bgr(size, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::Mat teapot = cv::Mat::zeros(size, CV_8UC1);
  cv::ellipse(teapot, cv::Point(250, 170), cv::Size(95, 75), 0, 0, 360, cv::Scalar(255), cv::FILLED,
              cv::LINE_AA);
  cv::ellipse(teapot, cv::Point(140, 165), cv::Size(42, 52), 0, 0, 360, cv::Scalar(255), 14,
              cv::LINE_AA);
  bgr.setTo(cv::Scalar(40, 60, 110), teapot);
  const cv::Mat photo = Photographed(bgr, 6);
  cv::Mat handle = cv::Mat::zeros(size, CV_8UC1);
  cv::rectangle(handle, cv::Rect(90, 105, 70, 120), cv::Scalar(255), cv::FILLED);
  const std::vector<TextFinding> findings = ClassifiedOn(photo, handle & teapot, teapot);
  for (const TextFinding& f : findings) {
    SCOPED_TRACE(f.text + " " + std::to_string(f.confidence) + ": " + f.why);
    EXPECT_FALSE(f.overlay);
  }
  // QA's and the export gate's "text left" measure finds none.
  Result<double> area = OverlayTextArea(models::TestRuntime())(photo, cv::Mat());
  ASSERT_TRUE(area.ok()) << area.status().message();
  EXPECT_EQ(*area, 0.0);
}

TEST(TextScopeTest, PrintOnAPaleSurfaceTheMaskMissesStays) {
  // A white bowl on a white backdrop with gold script printed on its side; the segmenter finds
  // the bowl's dark rim, its grid lines and the print, but not its pale body.
  const cv::Size size(480, 360);
  cv::Mat bgr(size, CV_8UC3, cv::Scalar(255, 255, 255));
  const std::vector<cv::Point> bowl = {{70, 60}, {410, 60}, {360, 320}, {120, 320}};
  cv::fillConvexPoly(bgr, bowl, cv::Scalar(244, 245, 246), cv::LINE_AA);
  cv::ellipse(bgr, cv::Point(240, 62), cv::Size(170, 22), 0, 0, 360, cv::Scalar(90, 60, 60),
              cv::FILLED, cv::LINE_AA);
  cv::Mat found(size, CV_8UC1, cv::Scalar(0));  // what the segmenter finds
  cv::ellipse(found, cv::Point(240, 62), cv::Size(170, 22), 0, 0, 360, cv::Scalar(255), cv::FILLED);
  for (int x = 130; x <= 350; x += 110) {
    cv::line(bgr, {x, 84}, {x + (240 - x) / 5, 318}, cv::Scalar(70, 70, 70), 2, cv::LINE_AA);
    cv::line(found, {x, 84}, {x + (240 - x) / 5, 318}, cv::Scalar(255), 5);
  }
  const RenderedText printed =
      RenderText(bgr, Lettering("Bon Appetit", 46, {60, 150, 205}, {240, 190}));
  cv::Mat print;
  cv::dilate(printed.text_mask, print, cv::Mat());
  found |= print;
  const cv::Mat photo = Photographed(printed.bgr, 7);
  // The region mostly lies on what the mask misses.
  const std::vector<TextFinding> findings = ClassifiedOn(photo, printed.text_mask, found);
  ASSERT_FALSE(findings.empty());
  for (const TextFinding& f : findings) {
    SCOPED_TRACE(f.text + ": " + f.why);
    EXPECT_FALSE(f.overlay);
  }

  // White text with a black outline drawn across the bowl's edge onto the backdrop is still
  // overlay: on the white backdrop its glyphs vanish, so its ink is only where the bowl is.
  const RenderedText overlay =
      RenderText(photo, WhiteOutlined("NEW 2024", 40, {0, 0, 0}, {400, 150}));
  cv::Mat bowl_mask(size, CV_8UC1, cv::Scalar(0));
  cv::fillConvexPoly(bowl_mask, bowl, cv::Scalar(255));
  const std::vector<TextFinding> drawn_findings =
      ClassifiedOn(overlay.bgr, overlay.text_mask, bowl_mask);
  ASSERT_FALSE(drawn_findings.empty());
  for (const TextFinding& f : drawn_findings) {
    SCOPED_TRACE(f.text + ": " + f.why);
    EXPECT_TRUE(f.overlay);
  }
}

// A pale, rough ground (a rock) of `size`, photographed.
cv::Mat PaleGround(cv::Size size, int seed) {
  cv::Mat ground(size, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(ground, cv::RNG::NORMAL, cv::Scalar::all(205), cv::Scalar::all(40));
  cv::GaussianBlur(ground, ground, cv::Size(), 2.5);
  return ground;
}

TEST(TextScopeTest, OutlinedCaptionAcrossTheProductsEdgeIsOverlay) {
  // backpack_02's case: a white caption with a near-black outline drawn along the bottom edge of
  // a dark red bag, over its shadowed bottom and onto the pale rock it stands on. The segmenter
  // takes the bright glyphs in with the bag, so the caption lies on the product mask; over the
  // shadow the outline is nearly the shadow's colour, and the dark bottom reads as a box shaded
  // like the product. The outline is still a third colour: no blur of white into the shadow.
  const cv::Size size(480, 360);
  cv::Mat bgr = PaleGround(size, 8);
  cv::Mat bag(size, CV_8UC1, cv::Scalar(0));
  cv::rectangle(bag, cv::Rect(40, 10, 400, 250), cv::Scalar(255), cv::FILLED);
  for (int y = 10; y < 260; ++y) {
    // Lit from above; its last 60 px in a deep shadow, about 13 ΔE76 from the outline's colour.
    const double light = y < 200 ? 1.0 - 0.3 * (y - 10) / 190.0 : 1.25 - 0.5 * (y - 200) / 60.0;
    bgr.row(y).colRange(40, 440).setTo(y < 200 ? cv::Scalar(45 * light, 35 * light, 150 * light)
                                               : cv::Scalar(22 * light, 18 * light, 42 * light));
  }
  const cv::Mat photo = Photographed(bgr, 9);
  const RenderedText drawn =
      RenderText(photo, WhiteOutlined("全国包邮", 40, {20, 20, 20}, {300, 242}));
  cv::Mat product;
  cv::dilate(drawn.text_mask, product, cv::Mat(), cv::Point(-1, -1), 3);
  product |= bag;
  const std::vector<TextFinding> findings = ClassifiedOn(drawn.bgr, drawn.text_mask, product);
  ASSERT_FALSE(findings.empty());
  for (const TextFinding& f : findings) {
    SCOPED_TRACE(f.text + ": " + f.why);
    EXPECT_TRUE(f.overlay);
    EXPECT_TRUE(MeasureOverlayCues(drawn.bgr, RegionOf(f)).outline);
  }

  // A dark digit printed on a pale dial that shades towards the dial's edge, softened by the
  // lens: the blurred rim around its strokes is a mix of digit and dial, not an outline.
  cv::Mat dial(size, CV_8UC3, cv::Scalar(40, 200, 240));
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      const double r = std::hypot(x - 240.0, y - 150.0) / 170;
      if (r <= 1) dial.at<cv::Vec3b>(y, x) = cv::Vec3b::all(cv::saturate_cast<uchar>(245 - 40 * r));
    }
  }
  const RenderedText printed = RenderText(dial, Lettering("6", 44, {25, 25, 25}, {240, 285}));
  cv::Mat soft;
  cv::GaussianBlur(printed.bgr, soft, cv::Size(), 1.3);
  for (const models::TextRegion& region : RegionsOn(soft, printed.text_mask)) {
    const OverlayCues cues = MeasureOverlayCues(soft, region);
    SCOPED_TRACE(cues.Describe());
    EXPECT_FALSE(cues.outline) << "rim " << cues.rim_contrast;
  }
}

TEST(TextScopeTest, LogoInAShadedDiscOnTheProductStays) {
  // instantmesh_earphone's earcup: a flat-lit blue cup with a silver disc set in it, the disc lit
  // on its own (bright at one side, darker at the other), and a blue "b" printed in the disc. The
  // disc is a box behind the text, flat enough to pass for a drawn banner, but it is shaded: part
  // of the product.
  const cv::Size size(420, 420);
  cv::Mat bgr(size, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::Mat cup(size, CV_8UC1, cv::Scalar(0));
  const cv::Point centre(210, 210);
  cv::circle(cup, centre, 170, cv::Scalar(255), cv::FILLED, cv::LINE_AA);
  bgr.setTo(cv::Scalar(170, 70, 25), cup);
  const int radius = 72;
  for (int y = centre.y - radius; y <= centre.y + radius; ++y) {
    for (int x = centre.x - radius; x <= centre.x + radius; ++x) {
      if (std::hypot(x - centre.x, y - centre.y) > radius) continue;
      const double light = 1.0 - 0.07 * (x - centre.x + radius) / (2.0 * radius);
      bgr.at<cv::Vec3b>(y, x) = cv::Vec3b::all(cv::saturate_cast<uchar>(215 * light));
    }
  }
  TextStyle logo = Lettering("b", 110, {170, 70, 25}, centre);
  logo.bold = true;
  const RenderedText printed = RenderText(bgr, logo);
  const cv::Mat photo = Photographed(printed.bgr, 10);
  const std::vector<TextFinding> findings = ClassifiedOn(photo, printed.text_mask, cup);
  ASSERT_FALSE(findings.empty()) << "the detector should find the logo";
  for (const TextFinding& f : findings) {
    SCOPED_TRACE(f.text + " " + std::to_string(f.confidence) + ": " + f.why);
    EXPECT_FALSE(f.overlay);
    const OverlayCues cues = MeasureOverlayCues(photo, RegionOf(f));
    SCOPED_TRACE(cues.Describe());
    EXPECT_FALSE(cues.banner);
  }

  // The same letter on a flat silver disc drawn over the cup's photo is on a banner.
  TextStyle badge = logo;
  badge.banner = true;
  badge.banner_color = {200, 200, 200};
  badge.pixel_height = 80;
  const cv::Mat plain_cup = Photographed(bgr.setTo(cv::Scalar(170, 70, 25), cup), 10);
  const RenderedText drawn = RenderText(plain_cup, badge);
  const std::vector<models::TextRegion> drawn_regions = RegionsOn(drawn.bgr, drawn.text_mask);
  ASSERT_FALSE(drawn_regions.empty());
  for (const models::TextRegion& region : drawn_regions) {
    const OverlayCues cues = MeasureOverlayCues(drawn.bgr, region);
    SCOPED_TRACE(cues.Describe());
    EXPECT_TRUE(cues.banner);
  }
}

TEST(TextScopeTest, GiantLettersThatBarelyReadAreATexture) {
  // The detector takes a brick wall's courses for one line of giant letters (600 px tall in a
  // 2048 px photo) that reads as "WH" at 0.4: a texture, kept. A caption as large that reads
  // clearly is text, and overlay off the product.
  const cv::Size size(400, 400);
  const cv::Mat bgr = Photographed(cv::Mat(size, CV_8UC3, cv::Scalar(60, 80, 150)), 3);
  cv::Mat product = cv::Mat::zeros(size, CV_8UC1);
  cv::rectangle(product, cv::Rect(20, 250, 120, 130), cv::Scalar(255), cv::FILLED);
  models::TextRegion giant;
  giant.box = cv::RotatedRect(cv::Point2f(250, 130), cv::Size2f(260, 120), 0);
  cv::Point2f corners[4];
  giant.box.points(corners);
  giant.polygon.assign(corners, corners + 4);
  giant.score = 0.9f;
  std::vector<TextFinding> findings(2);
  findings[0].text = "WH";
  findings[0].confidence = 0.4f;
  findings[1].text = "SALE";
  findings[1].confidence = 0.95f;
  ClassifyText(bgr, product, {giant, giant}, true, &findings);
  EXPECT_FALSE(findings[0].overlay) << findings[0].why;
  EXPECT_TRUE(findings[1].overlay) << findings[1].why;
  // The same line a tenth as tall, read as poorly, is still judged as text.
  giant.box = cv::RotatedRect(cv::Point2f(250, 130), cv::Size2f(120, 20), 0);
  giant.box.points(corners);
  giant.polygon.assign(corners, corners + 4);
  findings.assign(1, TextFinding{});
  findings[0].text = "WH";
  findings[0].confidence = 0.4f;
  ClassifyText(bgr, product, {giant}, true, &findings);
  EXPECT_TRUE(findings[0].overlay) << findings[0].why;
}

TEST(TextScopeTest, CleanProductPhotosHaveNoOverlayText) {
  const auto area = OverlayTextArea(models::TestRuntime());
  int seed = 20;
  for (testdata::Backdrop backdrop : {testdata::Backdrop::kFlat, testdata::Backdrop::kGradient,
                                      testdata::Backdrop::kBlurredRoom}) {
    for (int i = 0; i < 2; ++i) {
      const testdata::Composite scene = testdata::MakeComposite(kSize, backdrop, seed++);
      Result<double> overlay = area(scene.bgr, cv::Mat());
      ASSERT_TRUE(overlay.ok()) << overlay.status().message();
      EXPECT_EQ(*overlay, 0.0) << "seed " << seed - 1;
    }
  }
}

// An orange-like fruit on a pale backdrop, 512 px: a sphere lit from the top left (its light falls
// by half across it) with a pitted peel, and `print` (BGR where `print_mask` is set) printed on
// the peel before it is lit, then photographed. `fruit` gets the fruit's mask.
cv::Mat TexturedFruit(const cv::Mat& print, const cv::Mat& print_mask, cv::Mat* fruit,
                      cv::Vec3d peel_colour = {30, 125, 235}) {
  const cv::Size size(512, 512);
  const cv::Point2d centre(256, 266);
  const double radius = 200;
  cv::Mat peel(size, CV_32FC1);
  cv::RNG rng(7);
  rng.fill(peel, cv::RNG::NORMAL, 0, 1);
  cv::GaussianBlur(peel, peel, cv::Size(), 1.5);
  cv::Mat bgr(size, CV_8UC3, cv::Scalar(228, 230, 232));
  *fruit = cv::Mat::zeros(size, CV_8UC1);
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      const double dx = (x - centre.x) / radius, dy = (y - centre.y) / radius;
      const double r2 = dx * dx + dy * dy;
      if (r2 >= 1) continue;
      fruit->at<uchar>(y, x) = 255;
      const double dz = std::sqrt(1 - r2);
      // Lambert shading from the top left, plus ambient light.
      const double light = 0.35 + 0.75 * std::max(0.0, (-0.45 * dx - 0.45 * dy + 0.77 * dz));
      cv::Vec3d colour = peel_colour;
      if (!print_mask.empty() && print_mask.at<uchar>(y, x)) colour = print.at<cv::Vec3b>(y, x);
      const double texture = 1 + 0.08 * peel.at<float>(y, x);
      for (int c = 0; c < 3; ++c) {
        bgr.at<cv::Vec3b>(y, x)[c] = cv::saturate_cast<uchar>(colour[c] * light * texture);
      }
    }
  }
  return Photographed(bgr, 9);
}

// Share of the detector's signal over `mask` in `before` that is left in `after`.
double SignalLeft(const cv::Mat& before, const cv::Mat& after, const cv::Mat& mask) {
  Result<const models::TextDetector*> detector = models::TestRuntime().text_detector();
  EXPECT_TRUE(detector.ok());
  auto signal = [&](const cv::Mat& bgr) {
    Result<cv::Mat> map = (*detector)->ProbabilityMap(bgr);
    EXPECT_TRUE(map.ok());
    cv::Mat weight;
    mask.convertTo(weight, CV_32FC1, 1.0 / 255);
    return map.ok() ? cv::sum(map->mul(weight))[0] : 0.0;
  };
  const double total = signal(before);
  EXPECT_GT(total, 0) << "no text signal to remove";
  return total > 0 ? signal(after) / total : 1.0;
}

// The demo's shop name across the fruit's middle, level, in `colour` at `opacity`.
TextStyle ShopName(cv::Scalar colour, double opacity) {
  TextStyle style = Lettering("优品旗舰店", 52, colour, {256, 250});
  style.opacity = opacity;
  return style;
}

TEST(TextScopeTest, TranslucentWatermarkOverATexturedFruitIsOverlayAndRemoved) {
  // One 35% white copy of a shop's watermark over the fruit: no second copy to match, no flat
  // colour, no outline, not tilted. Its glyphs are the peel lightened towards white, following the
  // peel's shading and keeping its hue.
  cv::Mat fruit;
  const cv::Mat photo = TexturedFruit({}, {}, &fruit);
  const RenderedText marked = RenderText(photo, ShopName({255, 255, 255}, 0.35));
  ASSERT_EQ(cv::countNonZero(marked.mask & ~fruit), 0) << "the watermark lies on the fruit";
  const std::vector<TextFinding> findings = ClassifiedOn(marked.bgr, marked.text_mask, fruit);
  ASSERT_FALSE(findings.empty()) << "the detector should find the watermark";
  for (const TextFinding& f : findings) {
    const OverlayCues cues = MeasureOverlayCues(marked.bgr, RegionOf(f));
    SCOPED_TRACE(f.text + ": " + f.why + " | " + cues.Describe());
    EXPECT_TRUE(f.overlay);
    EXPECT_TRUE(cues.translucent);
    EXPECT_NEAR(cues.opacity, 0.35, 0.15);
    EXPECT_GE(cues.overlay_white, 200);
  }

  // Removed: the detector's signal over the watermark is gone, the fruit around it untouched.
  RemoveTextReport report;
  Image input;
  input.bgr = marked.bgr;
  Result<Image> out = RemoveText(input, {}, models::TestRuntime(), &report);
  ASSERT_TRUE(out.ok()) << out.status().message();
  const double left = SignalLeft(marked.bgr, out->bgr, marked.mask);
  EXPECT_LE(left, 0.05) << "share of the watermark's text signal left";
  cv::Mat outside;
  cv::dilate(marked.mask, outside, cv::Mat(), cv::Point(-1, -1), 8);
  cv::bitwise_not(outside, outside);
  EXPECT_GE(MaskedPsnr(out->bgr, photo, outside), 40.0);
  std::printf("translucent line: signal left %.3f, PSNR in %.1f dB, outside %.1f dB\n", left,
              MaskedPsnr(out->bgr, photo, marked.mask), MaskedPsnr(out->bgr, photo, outside));
}

TEST(TextScopeTest, OpaqueLinePrintedOnTheSameFruitStays) {
  // The same line printed on the peel in opaque cream ink: shaded with the fruit, but its colour
  // does not follow the peel under it.
  cv::Mat fruit;
  const RenderedText ink = RenderText(cv::Mat(512, 512, CV_8UC3, cv::Scalar(30, 125, 235)),
                                      ShopName({225, 240, 250}, 1.0));
  const cv::Mat photo = TexturedFruit(ink.bgr, ink.mask, &fruit);
  const std::vector<TextFinding> findings = ClassifiedOn(photo, ink.text_mask, fruit);
  ASSERT_FALSE(findings.empty()) << "the detector should find the printed line";
  for (const TextFinding& f : findings) {
    const OverlayCues cues = MeasureOverlayCues(photo, RegionOf(f));
    SCOPED_TRACE(f.text + ": " + f.why + " | " + cues.Describe());
    EXPECT_FALSE(cues.translucent);
    EXPECT_FALSE(f.overlay);
  }
}

// A yellow caption as suppliers draw "包邮" on a yellow rubber duck: bold, in a flat yellow close
// to the product's own, with a soft dark drop shadow offset down and right.
TextStyle ShadowedCaption() {
  TextStyle style = Lettering("包邮", 64, {0, 200, 255}, {250, 250});
  style.bold = true;
  style.shadow_offset = {6, 6};
  style.shadow_blur = 3;
  style.shadow_opacity = 0.6;
  return style;
}
// A duck-yellow peel (BGR): under the fruit's light the caption's yellow is part of its shading.
const cv::Vec3d kYellowPeel(40, 205, 240);

TEST(TextScopeTest, YellowCaptionWithADropShadowOverAYellowProductIsOverlayAndRemoved) {
  // The glyphs hardly stand out from the yellow peel; their shadow does, so the shadow is what
  // reads as the text's ink: soft, dark and not flat, it has no overlay cue (the labelled set's
  // duck was kept so, score 1.0). A dark copy of the glyphs offset to one side is drawn, not
  // printed: the caption goes.
  cv::Mat fruit;
  const cv::Mat photo = TexturedFruit({}, {}, &fruit, kYellowPeel);
  const RenderedText caption = RenderText(photo, ShadowedCaption());
  ASSERT_EQ(cv::countNonZero(caption.mask & ~fruit), 0) << "the caption lies on the fruit";
  const std::vector<TextFinding> findings = ClassifiedOn(caption.bgr, caption.text_mask, fruit);
  ASSERT_FALSE(findings.empty()) << "the detector should find the caption";
  for (const TextFinding& f : findings) {
    const OverlayCues cues = MeasureOverlayCues(caption.bgr, RegionOf(f));
    SCOPED_TRACE(f.text + ": " + f.why + " | " + cues.Describe());
    EXPECT_TRUE(f.overlay);
    EXPECT_TRUE(cues.drop_shadow);
    EXPECT_EQ(cues.shadow_direction, cv::Point(1, 1)) << "the shadow falls down and right";
  }

  // Removed with its shadow; the fruit around it untouched.
  RemoveTextReport report;
  Image input;
  input.bgr = caption.bgr;
  Result<Image> out = RemoveText(input, {}, models::TestRuntime(), &report);
  ASSERT_TRUE(out.ok()) << out.status().message();
  const double left = SignalLeft(caption.bgr, out->bgr, caption.mask);
  EXPECT_LE(left, 0.05) << "share of the caption's text signal left";
  cv::Mat shadow_left = caption.mask & ~caption.text_mask;
  const double in_shadow = MaskedPsnr(out->bgr, photo, shadow_left);
  EXPECT_GE(in_shadow, 20.0) << "the shadow is filled with the peel, not left dark";
  cv::Mat outside;
  cv::dilate(caption.mask, outside, cv::Mat(), cv::Point(-1, -1), 8);
  cv::bitwise_not(outside, outside);
  EXPECT_GE(MaskedPsnr(out->bgr, photo, outside), 40.0);
  std::printf(
      "shadowed caption: signal left %.3f, PSNR in %.1f dB (shadow %.1f), outside %.1f dB\n", left,
      MaskedPsnr(out->bgr, photo, caption.mask), in_shadow, MaskedPsnr(out->bgr, photo, outside));
}

TEST(TextScopeTest, SameYellowLinePrintedWithoutAShadowStays) {
  // The same line printed on the yellow peel, shaded with it and photographed: no dark copy beside
  // the glyphs, so the product keeps it, in overlay scope's removal too.
  cv::Mat fruit;
  TextStyle print = ShadowedCaption();
  print.shadow_opacity = 0;
  print.shadow_offset = {0, 0};
  const RenderedText ink = RenderText(cv::Mat(512, 512, CV_8UC3, cv::Scalar(kYellowPeel)), print);
  const cv::Mat photo = TexturedFruit(ink.bgr, ink.mask, &fruit, kYellowPeel);
  const std::vector<TextFinding> findings = ClassifiedOn(photo, ink.text_mask, fruit);
  ASSERT_FALSE(findings.empty()) << "the detector should find the printed line";
  for (const TextFinding& f : findings) {
    const OverlayCues cues = MeasureOverlayCues(photo, RegionOf(f));
    SCOPED_TRACE(f.text + ": " + f.why + " | " + cues.Describe());
    EXPECT_FALSE(cues.drop_shadow);
    EXPECT_FALSE(f.overlay);
  }
  Image input;
  input.bgr = photo;
  Result<Image> out = RemoveText(input, {}, models::TestRuntime(), nullptr);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(MaskedPsnr(out->bgr, photo, ink.mask), 100.0) << "the print is untouched";
}

// A three-pack as listings show one: three identical cans side by side on a plain backdrop, each
// with the same label printed on its white band ("COLA", "330ml"), shaded with the can's curve,
// then photographed. `cans` gets the cans' mask, `labels` the printed glyphs' mask.
cv::Mat ThreePack(cv::Mat* cans, cv::Mat* labels) {
  const cv::Size size(420, 300);
  const int half_width = 52, top = 45, bottom = 255;
  const int centres[] = {84, 210, 336};
  cv::Mat band(size, CV_8UC3, cv::Scalar(235, 240, 245));
  *labels = cv::Mat::zeros(size, CV_8UC1);
  for (int cx : centres) {
    TextStyle name = Lettering("COLA", 30, {110, 40, 20}, {static_cast<float>(cx), 138});
    name.bold = true;
    RenderedText printed = RenderText(band, name);
    *labels |= printed.text_mask;
    printed = RenderText(printed.bgr,
                         Lettering("330ml", 18, {110, 40, 20}, {static_cast<float>(cx), 172}));
    *labels |= printed.text_mask;
    band = printed.bgr;
  }
  cv::Mat bgr(size, CV_8UC3, cv::Scalar(232, 232, 232));
  *cans = cv::Mat::zeros(size, CV_8UC1);
  for (int cx : centres) {
    cv::rectangle(*cans, cv::Point(cx - half_width, top), cv::Point(cx + half_width, bottom),
                  cv::Scalar(255), cv::FILLED);
    for (int y : {top, bottom}) {
      cv::ellipse(*cans, cv::Point(cx, y), cv::Size(half_width, 10), 0, 0, 360, cv::Scalar(255),
                  cv::FILLED, cv::LINE_AA);
    }
  }
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      if (!cans->at<uchar>(y, x)) continue;
      int cx = centres[0];
      for (int c : centres) cx = std::abs(x - c) < std::abs(x - cx) ? c : cx;
      const double dx = std::clamp((x - cx) / static_cast<double>(half_width), -1.0, 1.0);
      // A cylinder lit from the left: Lambert on its normal, plus ambient light.
      const double light = 0.35 + 0.8 * std::max(0.0, 0.95 * std::sqrt(1 - dx * dx) - 0.3 * dx);
      cv::Vec3d colour(40, 45, 185);                                // the can's red
      if (y < top + 6 || y > bottom - 6) colour = {190, 190, 195};  // the lids' metal
      if (y >= 112 && y <= 188) colour = band.at<cv::Vec3b>(y, x);  // the label band
      for (int c = 0; c < 3; ++c) {
        bgr.at<cv::Vec3b>(y, x)[c] = cv::saturate_cast<uchar>(colour[c] * light);
      }
    }
  }
  return Photographed(bgr, 11);
}

TEST(TextScopeTest, ThreePacksIdenticalPrintedLabelsStayUnderOverlayScope) {
  // The same label read three times is not a tiled watermark when each copy sits level and
  // opaque at the same place on its own can: overlay scope keeps all three, scope all takes them.
  cv::Mat cans, labels;
  const cv::Mat photo = ThreePack(&cans, &labels);
  Image input;
  input.bgr = photo;
  RemoveTextReport report;
  Result<Image> kept = RemoveText(input, {}, models::TestRuntime(), &report);
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  int names = 0;
  for (const TextFinding& f : report.regions) {
    SCOPED_TRACE(f.text + ": " + f.why);
    if (ShareIn(RegionOf(f), labels) == 0) continue;
    EXPECT_FALSE(f.overlay);
    EXPECT_FALSE(f.removed);
    names += f.text == "COLA";
  }
  EXPECT_EQ(names, 3) << "each can's name read once";
  cv::Mat around;
  cv::dilate(labels, around, cv::Mat(), cv::Point(-1, -1), 6);
  EXPECT_GE(MaskedPsnr(kept->bgr, photo, around), 40.0) << "the labels are untouched";

  RemoveTextOptions all;
  all.scope = TextScope::kAll;
  Result<Image> wiped = RemoveText(input, all, models::TestRuntime(), nullptr);
  ASSERT_TRUE(wiped.ok()) << wiped.status().message();
  const std::string left = ReadOn(wiped->bgr, labels);
  EXPECT_EQ(left.find("COLA"), std::string::npos) << left;
  // The labels' blue ink is gone (the can is red, its band white).
  auto ink = [&labels](const cv::Mat& bgr) {
    int count = 0;
    for (int y = 0; y < bgr.rows; ++y) {
      for (int x = 0; x < bgr.cols; ++x) {
        const cv::Vec3b& p = bgr.at<cv::Vec3b>(y, x);
        count += labels.at<uchar>(y, x) && p[0] > p[2] + 40;
      }
    }
    return count;
  };
  EXPECT_LE(ink(wiped->bgr), ink(photo) / 20) << "of " << ink(photo) << " ink pixels";
  cv::Mat outside;
  cv::bitwise_not(around, outside);
  std::printf("three-pack: labels PSNR kept %.1f dB, wiped %.1f dB; outside wiped %.1f dB\n",
              MaskedPsnr(kept->bgr, photo, around), MaskedPsnr(wiped->bgr, photo, around),
              MaskedPsnr(wiped->bgr, photo, outside));
}

TEST(TextScopeTest, TiledTranslucentWatermarkOverAThreePackStillGoes) {
  // A shop's 40% white watermark tiled over the same three-pack, tilted as shops tile them: its
  // copies repeat like the labels and some lie within the cans, but they are tilted, translucent
  // and cross the backdrop too.
  cv::Mat cans, labels;
  const cv::Mat photo = ThreePack(&cans, &labels);
  TextStyle mark = Lettering("样品 SAMPLE", 22, {255, 255, 255}, {110, 60});
  mark.opacity = 0.4;
  mark.rotation_deg = 20;
  mark.tile = true;
  mark.tile_gap = {40, 70};
  const RenderedText marked = RenderText(photo, mark);
  const cv::Mat glyphs = marked.text_mask & ~labels;
  ASSERT_GT(cv::countNonZero(glyphs & cans), 0) << "copies lie on the cans";
  ASSERT_GT(cv::countNonZero(glyphs & ~cans), 0) << "and on the backdrop";
  Image input;
  input.bgr = marked.bgr;
  RemoveTextReport report;
  Result<Image> out = RemoveText(input, {}, models::TestRuntime(), &report);
  ASSERT_TRUE(out.ok()) << out.status().message();
  int on_cans = 0;
  for (const TextFinding& f : report.regions) {
    SCOPED_TRACE(f.text + ": " + f.why);
    const models::TextRegion region = RegionOf(f);
    if (ShareIn(region, glyphs) == 0 || ShareIn(region, labels) > 0) continue;
    EXPECT_TRUE(f.overlay);
    EXPECT_TRUE(f.removed);
    on_cans += ShareIn(region, cans) >= 0.75;
  }
  EXPECT_GE(on_cans, 2) << "copies within the cans were judged too";
  const double left = SignalLeft(marked.bgr, out->bgr, glyphs);
  EXPECT_LE(left, 0.05) << "share of the watermark's text signal left";
  std::printf("tiled over the three-pack: signal left %.3f, PSNR in %.1f dB\n", left,
              MaskedPsnr(out->bgr, photo, marked.mask));
}

// Sunglasses on a pale sheet: a lens in each of `shapes`, a smooth saturated rose, darker at the
// top (a gradient lens) with a soft highlight, in a thin gold rim; a photo's blur and noise.
// `lenses` gets their pixels.
cv::Mat Sunglasses(cv::Size size, const std::vector<cv::RotatedRect>& shapes, cv::Mat* lenses) {
  cv::Mat clean(size, CV_8UC3);
  for (int y = 0; y < size.height; ++y) {  // a sheet lit from the left
    for (int x = 0; x < size.width; ++x) {
      clean.at<cv::Vec3b>(y, x) = cv::Vec3b::all(cv::saturate_cast<uchar>(236 - x / 20 - y / 30));
    }
  }
  *lenses = cv::Mat::zeros(size, CV_8UC1);
  for (const cv::RotatedRect& shape : shapes) {
    cv::Mat lens = cv::Mat::zeros(size, CV_8UC1);
    cv::ellipse(lens, shape, cv::Scalar(255), cv::FILLED, cv::LINE_AA);
    const cv::Rect box = shape.boundingRect() & cv::Rect(cv::Point(0, 0), size);
    for (int y = box.y; y < box.br().y; ++y) {
      for (int x = box.x; x < box.br().x; ++x) {
        const double a = lens.at<uchar>(y, x) / 255.0;
        if (a == 0) continue;
        const double t = static_cast<double>(y - box.y) / box.height;  // 0 at the top
        const double glint = std::exp(
            -std::pow(std::hypot(x - box.x - 0.3 * box.width, y - box.y - 0.35 * box.height) /
                          (0.2 * box.width),
                      2));
        const cv::Vec3d rose(90 + 70 * t + 60 * glint, 60 + 60 * t + 60 * glint,
                             150 + 70 * t + 40 * glint);
        cv::Vec3b& p = clean.at<cv::Vec3b>(y, x);
        for (int c = 0; c < 3; ++c) p[c] = cv::saturate_cast<uchar>((1 - a) * p[c] + a * rose[c]);
      }
    }
    cv::ellipse(clean, shape, cv::Scalar(60, 150, 200), 3, cv::LINE_AA);  // the gold rim
    *lenses |= lens;
  }
  return Photographed(clean, 9);
}

// A region whose rectangle is `box`, as the detector outlines one.
models::TextRegion RegionFor(const cv::RotatedRect& box, bool chroma_view) {
  models::TextRegion region;
  region.box = box;
  cv::Point2f corners[4];
  box.points(corners);
  region.polygon.assign(corners, corners + 4);
  region.score = 0.7f;
  region.chroma_view = chroma_view;
  return region;
}

TEST(TextScopeTest, ColouredLensSeenOnlyInTheChromaViewIsNotOverlay) {
  // The main job's QA on pink_sunglasses_03: the chroma view outlined a rose lens, which read
  // "90" at 0.69, and the lens counted as overlay text covering a tenth of the image. A region
  // seen only in that view is text only when it differs from its surroundings in colour and not
  // in lightness (a yellow caption on a grey patch of its lightness, which the photo's own pass
  // may miss); a lens is darker than the sheet. With no product mask (every line that reads
  // counts) and with the lens as the product, the lens stays and the colour-only caption goes.
  const cv::Size size(400, 300);
  const cv::RotatedRect lens_shape(cv::Point2f(140, 150), cv::Size2f(170, 120), -8);
  cv::Mat lenses;
  const cv::Mat sunglasses = Sunglasses(size, {lens_shape}, &lenses);
  cv::Mat photo = sunglasses.clone();
  cv::Mat yellow_lab;
  cv::cvtColor(cv::Mat(1, 1, CV_8UC3, cv::Scalar(0, 200, 255)), yellow_lab, cv::COLOR_BGR2Lab);
  int grey_level = 0;  // the grey whose L* is the yellow's
  for (int g = 0, gap = 256; g < 256; ++g) {
    cv::Mat lab;
    cv::cvtColor(cv::Mat(1, 1, CV_8UC3, cv::Scalar::all(g)), lab, cv::COLOR_BGR2Lab);
    const int d = std::abs(lab.at<cv::Vec3b>(0, 0)[0] - yellow_lab.at<cv::Vec3b>(0, 0)[0]);
    if (d < gap) gap = d, grey_level = g;
  }
  photo(cv::Rect(250, 50, 120, 60)).setTo(cv::Scalar::all(grey_level));
  const RenderedText caption = RenderText(photo, {.text = "包邮",
                                                  .bold = true,
                                                  .pixel_height = 26,
                                                  .color = {0, 200, 255},
                                                  .center = {310, 80}});
  const cv::Mat& drawn = caption.bgr;

  // What the chroma view outlines on the lens, as on the real photo (found on the sunglasses
  // alone: with the caption beside the lens, the view outlined nothing on it at this size).
  Result<models::TextDetector::Output> detected = Detector().RunPhoto(sunglasses);
  ASSERT_TRUE(detected.ok()) << detected.status().message();
  std::vector<models::TextRegion> regions;
  for (const models::TextRegion& region : detected->regions) {
    if (region.chroma_view && lenses.at<uchar>(cv::Point(region.box.center)) > 0) {
      regions.push_back(region);
    }
  }
  ASSERT_FALSE(regions.empty()) << "the chroma view outlines the lens";
  const size_t lens_regions = regions.size();
  // The caption as the chroma view outlines such a line (TextDetectorTest's yellow on the box).
  cv::Mat glyph_points;
  cv::findNonZero(caption.text_mask, glyph_points);
  cv::RotatedRect caption_box = cv::minAreaRect(glyph_points);
  caption_box.size += cv::Size2f(10, 10);  // the detector's margin, a fifth of the line height
  regions.push_back(RegionFor(caption_box, true));
  const OverlayCues lens_cues = MeasureOverlayCues(drawn, regions[0]);
  const OverlayCues caption_cues = MeasureOverlayCues(drawn, regions.back());
  std::printf("lens (%zu chroma-view regions): %s\ncaption: %s\n", lens_regions,
              lens_cues.Describe().c_str(), caption_cues.Describe().c_str());
  EXPECT_FALSE(lens_cues.colour_only);
  ASSERT_TRUE(caption_cues.colour_only) << "the caption is told from the patch by colour alone";
  for (const cv::Mat& product : {cv::Mat(), lenses}) {
    std::vector<TextFinding> findings(regions.size());
    for (TextFinding& f : findings) f.text = "90", f.confidence = 0.69f;
    findings.back().text = "包邮";
    findings.back().confidence = 0.95f;
    ClassifyText(drawn, product, regions, true, &findings);
    for (size_t i = 0; i < lens_regions; ++i) {
      EXPECT_FALSE(findings[i].overlay) << "the lens: " << findings[i].why;
    }
    EXPECT_TRUE(findings.back().overlay) << "the caption: " << findings.back().why;
  }
}

TEST(TextScopeTest, TiltedColouredPartsSeenOnlyInTheChromaViewAreNoWatermark) {
  // Three tilted lenses of one size (three pairs of glasses laid alike) that the chroma view
  // outlined as lines of one tilt and height: the photo's own tilted lines would be a tiled
  // watermark's copies, overlay whatever the product; the chroma view's are not
  // (WatermarkCandidate), and on the product they stay.
  const cv::Size size(480, 300);
  std::vector<cv::RotatedRect> shapes;
  for (int i = 0; i < 3; ++i) {
    shapes.emplace_back(cv::Point2f(90.0f + 150 * i, 150), cv::Size2f(120, 60), -25);
  }
  cv::Mat lenses;
  const cv::Mat photo = Sunglasses(size, shapes, &lenses);
  std::vector<models::TextRegion> regions;
  for (const cv::RotatedRect& shape : shapes) regions.push_back(RegionFor(shape, true));
  ASSERT_TRUE(TiltedFromAxes(regions[0]));
  ASSERT_TRUE(TiltedAlike(regions[0], regions[2]));
  EXPECT_FALSE(WatermarkCandidate(regions[0]));
  std::vector<TextFinding> findings(3);
  for (TextFinding& f : findings) f.confidence = 0.6f;
  findings[0].text = "90", findings[1].text = "OO", findings[2].text = "C0";
  ClassifyText(photo, lenses, regions, true, &findings);
  for (const TextFinding& f : findings) EXPECT_FALSE(f.overlay) << f.text << ": " << f.why;
  // The same lines seen in the photo itself are a watermark's copies.
  for (models::TextRegion& region : regions) region.chroma_view = false;
  EXPECT_TRUE(WatermarkCandidate(regions[0]));
  ClassifyText(photo, lenses, regions, true, &findings);
  for (const TextFinding& f : findings) EXPECT_TRUE(f.overlay) << f.text << ": " << f.why;
}

}  // namespace
}  // namespace vitrine::ops
