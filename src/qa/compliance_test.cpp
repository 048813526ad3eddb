#include "qa/compliance.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/testdata.h"

namespace vitrine::qa {
namespace {

const cv::Vec3b kWhite(255, 255, 255);

const Preset& Builtin(const std::string& name) {
  static const PresetBook book = *LoadPresets();
  return *book.Find(name);
}

// A preset with Amazon's rules but small enough for fast tests.
Preset SmallAmazon() {
  Preset p = Builtin("amazon");
  p.min_long_side = 200;
  p.canvas_width = p.canvas_height = 300;
  return p;
}

Image Staged(cv::Size canvas, double fill, cv::Vec3b background = kWhite, int seed = 3) {
  testdata::Composite c = testdata::ProductOnColour(canvas, fill, background, seed);
  return Image{c.bgr, {}, "staged"};
}

std::string Encode(const Image& image, io::Format format = io::Format::kPng, int quality = 92) {
  io::EncodeOptions options;
  options.format = format;
  options.quality = quality;
  Result<std::string> bytes = io::EncodeImage(image, options);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : "";
}

ComplianceReport CheckBytes(const std::string& bytes, const Preset& preset,
                            const ComplianceOptions& options = {}) {
  Result<Image> decoded = io::DecodeImage(bytes, LimitsConfig{}, "x");
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  return CheckCompliance(bytes, *decoded, preset, options);
}

const RuleResult& RuleOf(const ComplianceReport& report, const std::string& id) {
  for (const RuleResult& r : report.rules) {
    if (r.id == id) return r;
  }
  ADD_FAILURE() << "no rule " << id << " in " << report.ToJson().dump(1);
  static const RuleResult none;
  return none;
}

std::string Dump(const ComplianceReport& report) { return report.ToJson().dump(1); }

TEST(ComplianceTest, StagedProductOnPureWhitePassesAmazon) {
  for (io::Format format : {io::Format::kPng, io::Format::kJpeg}) {
    const ComplianceReport report =
        CheckBytes(Encode(Staged({300, 300}, 0.9), format), SmallAmazon());
    EXPECT_TRUE(report.passed()) << Dump(report);
    EXPECT_NEAR(std::stod(RuleOf(report, "fill").measured), 90, 1.5) << Dump(report);
    // Without a detector the text rule says so rather than pass silently.
    EXPECT_EQ(RuleOf(report, "overlay_text").outcome, Outcome::kNotChecked);
  }
}

TEST(ComplianceTest, NearWhiteBackgroundFailsPureWhite) {
  const ComplianceReport report =
      CheckBytes(Encode(Staged({300, 300}, 0.9, cv::Vec3b(254, 254, 254))), SmallAmazon());
  EXPECT_FALSE(report.passed());
  const RuleResult& border = RuleOf(report, "background_border");
  EXPECT_TRUE(border.failed()) << Dump(report);
  EXPECT_EQ(border.measured, "100.0%");
  EXPECT_NE(border.message.find("not pure #FFFFFF"), std::string::npos) << border.message;
  EXPECT_TRUE(RuleOf(report, "background_pure").failed());
  // The product is still found against a near-white backdrop.
  EXPECT_FALSE(RuleOf(report, "fill").failed()) << Dump(report);
}

TEST(ComplianceTest, SmallProductFailsFill) {
  const ComplianceReport report = CheckBytes(Encode(Staged({300, 300}, 0.5)), SmallAmazon());
  const RuleResult& fill = RuleOf(report, "fill");
  EXPECT_TRUE(fill.failed()) << Dump(report);
  EXPECT_NEAR(std::stod(fill.measured), 50, 1.5);
  EXPECT_NE(fill.message.find("enlarge"), std::string::npos) << fill.message;
  EXPECT_EQ(report.FailedIds(), "fill");
}

TEST(ComplianceTest, ProductTouchingTheFrameFailsMargins) {
  const ComplianceReport report = CheckBytes(Encode(Staged({300, 300}, 1.0)), SmallAmazon());
  EXPECT_TRUE(RuleOf(report, "margins").failed()) << Dump(report);
  EXPECT_TRUE(RuleOf(report, "fill").failed()) << Dump(report);  // 100% > 98%
}

TEST(ComplianceTest, NoonNeedsItsAspectAndMargins) {
  Preset noon = Builtin("noon");
  noon.min_width = noon.min_height = 0;
  // Square: wrong aspect.
  ComplianceReport square = CheckBytes(Encode(Staged({300, 300}, 0.8), io::Format::kJpeg), noon);
  EXPECT_TRUE(RuleOf(square, "aspect").failed()) << Dump(square);
  EXPECT_EQ(RuleOf(square, "aspect").measured, "1.000");
  // Right aspect, product at 80% (10% margins top and bottom): passes.
  ComplianceReport good = CheckBytes(Encode(Staged({220, 300}, 0.78), io::Format::kJpeg), noon);
  EXPECT_TRUE(good.passed()) << Dump(good);
  // Product at 90%: 5% vertical margins, under Noon's 10%.
  ComplianceReport tight = CheckBytes(Encode(Staged({220, 300}, 0.9), io::Format::kJpeg), noon);
  EXPECT_TRUE(RuleOf(tight, "margins").failed()) << Dump(tight);
  // PNG is not a Noon format.
  ComplianceReport png = CheckBytes(Encode(Staged({220, 300}, 0.78)), noon);
  EXPECT_TRUE(RuleOf(png, "format").failed()) << Dump(png);
  EXPECT_EQ(RuleOf(png, "format").limit, "jpeg");
}

TEST(ComplianceTest, TransparencyFailsWhereNotAllowed) {
  testdata::Composite c = testdata::ProductOnColour({300, 300}, 0.9, kWhite, 4);
  Image cutout{c.bgr, c.alpha, "cutout"};
  const std::string png = Encode(cutout);
  ComplianceReport amazon = CheckBytes(png, SmallAmazon());
  EXPECT_TRUE(RuleOf(amazon, "alpha").failed()) << Dump(amazon);
  Preset shopify = Builtin("shopify");
  shopify.min_long_side = 200;
  ComplianceReport allowed = CheckBytes(png, shopify);
  EXPECT_TRUE(allowed.passed()) << Dump(allowed);
}

TEST(ComplianceTest, BytesOverTheLimitFail) {
  Preset tiny = SmallAmazon();
  tiny.max_bytes = 10'000;
  ComplianceReport report = CheckBytes(Encode(Staged({300, 300}, 0.9)), tiny);
  const RuleResult& bytes = RuleOf(report, "bytes");
  EXPECT_TRUE(bytes.failed()) << Dump(report);
  EXPECT_EQ(bytes.limit, "<= 10000");
}

TEST(ComplianceTest, LightShadowAllowedOnlyWherePresetSaysSo) {
  testdata::Composite c = testdata::ProductOnColour({300, 300}, 0.8, kWhite, 3);
  Image image{c.bgr.clone(), {}, "staged"};
  // A soft grey shadow under the product, as stage draws one, where the product does not cover.
  cv::Mat shadow(image.bgr.size(), CV_8UC1, cv::Scalar(0));
  cv::ellipse(shadow, {150, 275}, {100, 8}, 0, 0, 360, 255, -1);
  cv::GaussianBlur(shadow, shadow, {0, 0}, 4);
  for (int y = 0; y < 300; ++y) {
    for (int x = 0; x < 300; ++x) {
      cv::Vec3b& p = image.bgr.at<cv::Vec3b>(y, x);
      if (c.alpha.at<uchar>(y, x) == 0) p = cv::Vec3b::all(255 - shadow.at<uchar>(y, x) / 20);
    }
  }
  // Export knows the product's alpha: the shadow is on pixels the product does not cover.
  ComplianceOptions known;
  known.coverage = c.alpha;
  ComplianceReport amazon = CheckBytes(Encode(image), SmallAmazon(), known);
  EXPECT_TRUE(RuleOf(amazon, "background_uncovered").failed()) << Dump(amazon);
  Preset light = SmallAmazon();
  light.light_shadow = true;
  ComplianceReport allowed = CheckBytes(Encode(image), light, known);
  EXPECT_FALSE(RuleOf(allowed, "background_uncovered").failed()) << Dump(allowed);
  EXPECT_FALSE(RuleOf(allowed, "background_pure").failed()) << Dump(allowed);
}

// A white bowl: a body a few levels off white with a highlight one level off, a soft rim, on
// pure white; `alpha` receives where it is.
Image PaleProduct(cv::Mat* alpha) {
  cv::Mat cover(300, 300, CV_8UC1, cv::Scalar(0));
  cv::ellipse(cover, {150, 155}, {133, 115}, 0, 0, 360, 255, -1, cv::LINE_AA);
  cv::GaussianBlur(cover, cover, {0, 0}, 1.2);
  cv::Mat body(300, 300, CV_8UC3, cv::Scalar(247, 249, 250));
  cv::ellipse(body, {130, 120}, {60, 40}, 0, 0, 360, cv::Scalar(254, 254, 254), -1);
  cv::Mat white(300, 300, CV_8UC3, cv::Scalar::all(255)), weight, inverse, bgr;
  cover.convertTo(weight, CV_32FC1, 1.0 / 255);
  cv::subtract(1.0, weight, inverse);
  cv::blendLinear(body, white, weight, inverse, bgr);
  *alpha = cover;
  return Image{bgr, {}, "bowl"};
}

TEST(ComplianceTest, PaleProductOnPureWhitePassesWithOrWithoutItsAlpha) {
  cv::Mat alpha;
  Image bowl = PaleProduct(&alpha);
  // The highlight is one level off white over 120x80 px: export lowers such pixels by one level
  // (ops::Export); here the bowl is as a careful retoucher would deliver it.
  cv::Mat highlight;
  cv::inRange(bowl.bgr, cv::Scalar::all(254), cv::Scalar::all(254), highlight);
  bowl.bgr.setTo(cv::Scalar(253, 254, 254), highlight & (alpha > 0));
  cv::Mat near_white;
  cv::inRange(bowl.bgr, cv::Scalar(253, 253, 253), cv::Scalar(254, 254, 254), near_white);
  ASSERT_GT(cv::countNonZero(near_white & (alpha > 0)), 5000);  // a wide pale area
  ComplianceOptions known;
  known.coverage = alpha;
  for (io::Format format : {io::Format::kPng, io::Format::kJpeg}) {
    const std::string bytes = Encode(bowl, format);
    ComplianceReport bare = CheckBytes(bytes, SmallAmazon());
    EXPECT_TRUE(bare.passed()) << io::FormatName(format) << Dump(bare);
    ComplianceReport with_alpha = CheckBytes(bytes, SmallAmazon(), known);
    EXPECT_TRUE(with_alpha.passed()) << io::FormatName(format) << Dump(with_alpha);
  }
  // The same bowl on a backdrop one level off white fails, at the border and around the bowl.
  Image tinted{bowl.bgr.clone(), {}, "tinted"};
  tinted.bgr.setTo(cv::Scalar(254, 255, 255), alpha == 0);
  ComplianceReport report = CheckBytes(Encode(tinted), SmallAmazon(), known);
  EXPECT_TRUE(RuleOf(report, "background_border").failed()) << Dump(report);
  EXPECT_TRUE(RuleOf(report, "background_pure").failed()) << Dump(report);
  EXPECT_TRUE(RuleOf(report, "background_uncovered").failed()) << Dump(report);
}

TEST(ComplianceTest, AStrayOffWhitePixelFarFromTheProductFails) {
  Image image = Staged({300, 300}, 0.7);
  image.bgr.at<cv::Vec3b>(12, 150) = cv::Vec3b(250, 250, 250);  // dust, in the top margin
  ComplianceReport report = CheckBytes(Encode(image), SmallAmazon());
  EXPECT_TRUE(RuleOf(report, "background_pure").failed()) << Dump(report);
  EXPECT_EQ(RuleOf(report, "background_pure").measured, "<0.01%");
}

TEST(ComplianceTest, OverlayTextRuleUsesTheDetectorHook) {
  const std::string bytes = Encode(Staged({300, 300}, 0.9));
  ComplianceOptions options;
  double area = 0.04;
  cv::Size seen;
  options.overlay_text_area = [&](const cv::Mat& bgr, const cv::Mat&) -> Result<double> {
    seen = bgr.size();
    return area;
  };
  ComplianceReport with_text = CheckBytes(bytes, SmallAmazon(), options);
  EXPECT_EQ(seen, cv::Size(300, 300));
  EXPECT_TRUE(RuleOf(with_text, "overlay_text").failed()) << Dump(with_text);
  EXPECT_EQ(RuleOf(with_text, "overlay_text").measured, "4.0%");
  area = 0;
  EXPECT_TRUE(CheckBytes(bytes, SmallAmazon(), options).passed());
  options.overlay_text_area = [](const cv::Mat&, const cv::Mat&) -> Result<double> {
    return Unavailable("text detector model is not prepared");
  };
  ComplianceReport broken = CheckBytes(bytes, SmallAmazon(), options);
  EXPECT_EQ(RuleOf(broken, "overlay_text").outcome, Outcome::kNotChecked);
  EXPECT_NE(RuleOf(broken, "overlay_text").message.find("not prepared"), std::string::npos);
  // Presets without the rule do not run it.
  Preset shopify = Builtin("shopify");
  for (const RuleResult& r : CheckBytes(bytes, shopify, options).rules) {
    EXPECT_NE(r.id, "overlay_text");
  }
}

TEST(ComplianceTest, ProductPiecesKeepsLargePiecesWithTheirHolesAndDropsSmallIslands) {
  cv::Mat bgr(300, 300, CV_8UC3, cv::Scalar::all(255));
  // A pair of shoes (two large pieces), one of them a ring with a white hole; a caption's
  // glyphs and a price tag on the backdrop (small islands); a one-pixel speck.
  cv::rectangle(bgr, cv::Rect(30, 60, 100, 140), cv::Scalar(40, 60, 120), cv::FILLED);
  cv::circle(bgr, {210, 130}, 60, cv::Scalar(40, 60, 120), cv::FILLED);
  cv::circle(bgr, {210, 130}, 25, cv::Scalar::all(255), cv::FILLED);
  cv::putText(bgr, "SALE", {40, 260}, cv::FONT_HERSHEY_SIMPLEX, 1.2, cv::Scalar(0, 0, 200), 3);
  cv::rectangle(bgr, cv::Rect(240, 240, 30, 18), cv::Scalar(0, 200, 255), cv::FILLED);
  bgr.at<cv::Vec3b>(20, 20) = cv::Vec3b(0, 0, 0);
  const Layout layout = FindLayout(bgr, kWhite, kPureTolerance);
  const cv::Mat product = ProductPieces(layout.background);
  ASSERT_EQ(product.size(), bgr.size());
  EXPECT_EQ(product.at<uchar>(100, 80), 255);   // the first shoe
  EXPECT_EQ(product.at<uchar>(130, 170), 255);  // the second
  EXPECT_EQ(product.at<uchar>(130, 210), 255);  // its hole is product
  cv::Mat caption(bgr.size(), CV_8UC1, cv::Scalar(0));
  caption(cv::Rect(30, 225, 260, 50)).setTo(255);
  EXPECT_EQ(cv::countNonZero(product & caption), 0) << "the caption and the tag are not product";
  EXPECT_EQ(product.at<uchar>(20, 20), 0);
  EXPECT_EQ(product.at<uchar>(10, 150), 0);  // background
  // From a cutout's alpha alike: a ring's hole (alpha 0, not reaching the border) is product, a
  // caption the cutout kept as an island is not.
  cv::Mat alpha(200, 200, CV_8UC1, cv::Scalar(0));
  cv::circle(alpha, {100, 90}, 70, cv::Scalar(255), cv::FILLED);
  cv::circle(alpha, {100, 90}, 30, cv::Scalar(0), cv::FILLED);
  cv::rectangle(alpha, cv::Rect(60, 180, 20, 10), cv::Scalar(255), cv::FILLED);
  const cv::Mat pieces = ProductPieces(alpha < 128);
  EXPECT_EQ(pieces.at<uchar>(90, 100), 255);
  EXPECT_EQ(pieces.at<uchar>(185, 70), 0);
  EXPECT_EQ(pieces.at<uchar>(5, 5), 0);
}

TEST(ComplianceTest, TextRuleGetsTheProductFromThePixelsOnlyWhenThePureBackgroundPasses) {
  cv::Mat seen;
  int calls = 0;
  ComplianceOptions options;
  options.overlay_text_area = [&](const cv::Mat&, const cv::Mat& product) -> Result<double> {
    seen = product.clone();
    ++calls;
    return 0.0;
  };
  // A staged product on pure white: the product is what the white does not reach.
  const testdata::Composite composite = testdata::ProductOnColour({300, 300}, 0.9, kWhite, 3);
  const Image staged{composite.bgr, {}, "staged"};
  ComplianceReport report = CheckBytes(Encode(staged), SmallAmazon(), options);
  EXPECT_TRUE(report.passed()) << Dump(report);
  ASSERT_EQ(calls, 1);
  ASSERT_EQ(seen.size(), cv::Size(300, 300));
  // Every solid pixel of the product, and nothing beyond its soft edge.
  EXPECT_EQ(cv::countNonZero((composite.alpha > 128) & ~seen), 0);
  cv::Mat reach;
  cv::dilate(composite.alpha > 0, reach, cv::Mat::ones(3, 3, CV_8UC1));
  EXPECT_EQ(cv::countNonZero(seen & ~reach), 0);
  EXPECT_NE(RuleOf(report, "overlay_text").message.find("from the pure background"),
            std::string::npos);
  // A background that fails purity does not say where the product is: the hook finds it.
  Image dusty = staged;
  dusty.bgr = staged.bgr.clone();
  dusty.bgr.at<cv::Vec3b>(1, 150) = cv::Vec3b(250, 250, 250);  // in the border ring
  report = CheckBytes(Encode(dusty), SmallAmazon(), options);
  EXPECT_TRUE(RuleOf(report, "background_border").failed()) << Dump(report);
  EXPECT_TRUE(seen.empty());
  EXPECT_NE(RuleOf(report, "overlay_text").message.find("by the segmenter"), std::string::npos);
  // Export's gate spares the measure when the image fails anyway.
  ComplianceOptions gate = options;
  gate.text_only_if_rest_passes = true;
  report = CheckBytes(Encode(dusty), SmallAmazon(), gate);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(RuleOf(report, "overlay_text").outcome, Outcome::kNotChecked);
  EXPECT_NE(RuleOf(report, "overlay_text").message.find("background_border"), std::string::npos);
  // Nor does a preset that does not require a pure background.
  Preset temu = Builtin("temu");
  temu.min_long_side = 200;
  temu.canvas_width = temu.canvas_height = 300;
  report = CheckBytes(Encode(staged), temu, options);
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(seen.empty());
}

// ---- ICC profiles, built here: a v2 profile whose only tag is its description.

void Put32(std::string& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>(v >> (24 - 8 * i));
}

std::string IccProfile(const std::string& description, const std::string& space = "RGB ") {
  std::string tag = "desc" + std::string(4, '\0') + std::string(4, '\0') + description + '\0' +
                    std::string(8 + 70, '\0');
  Put32(tag, 8, static_cast<uint32_t>(description.size() + 1));
  std::string b(128 + 4 + 12, '\0');
  b.replace(12, 4, "mntr");
  b.replace(16, 4, space);
  b.replace(20, 4, "XYZ ");
  b.replace(36, 4, "acsp");
  Put32(b, 128, 1);
  b.replace(132, 4, "desc");
  Put32(b, 136, static_cast<uint32_t>(b.size()));
  Put32(b, 140, static_cast<uint32_t>(tag.size()));
  b += tag;
  Put32(b, 0, static_cast<uint32_t>(b.size()));
  return b;
}

std::string WithPngIcc(const std::string& png, const std::string& profile) {
  uLongf size = compressBound(profile.size());
  std::string z(size, '\0');
  compress(reinterpret_cast<Bytef*>(z.data()), &size,
           reinterpret_cast<const Bytef*>(profile.data()), profile.size());
  z.resize(size);
  std::string data = std::string("icc\0\0", 5) + z;
  std::string chunk(4, '\0');
  Put32(chunk, 0, static_cast<uint32_t>(data.size()));
  chunk += "iCCP" + data;
  std::string crc(4, '\0');
  Put32(crc, 0, crc32(0, reinterpret_cast<const Bytef*>(chunk.data() + 4), data.size() + 4));
  return png.substr(0, 33) + chunk + crc + png.substr(33);
}

std::string WithJpegIcc(const std::string& jpeg, const std::string& profile) {
  std::string segment =
      "\xFF\xE2" + std::string(2, '\0') + std::string("ICC_PROFILE\0\x01\x01", 14) + profile;
  segment[2] = static_cast<char>((segment.size() - 2) >> 8);
  segment[3] = static_cast<char>((segment.size() - 2) & 0xFF);
  return jpeg.substr(0, 2) + segment + jpeg.substr(2);
}

TEST(ComplianceTest, ColourSpaceMustBeSrgb) {
  const Image image = Staged({300, 300}, 0.9);
  const std::string png = Encode(image), jpeg = Encode(image, io::Format::kJpeg);
  for (const auto& [name, srgb] : {std::pair<std::string, bool>{"sRGB IEC61966-2.1", true},
                                   {"Display P3", false},
                                   {"Adobe RGB (1998)", false}}) {
    for (const std::string& bytes :
         {WithPngIcc(png, IccProfile(name)), WithJpegIcc(jpeg, IccProfile(name))}) {
      ComplianceReport report = CheckBytes(bytes, SmallAmazon());
      const RuleResult& rule = RuleOf(report, "color_space");
      EXPECT_EQ(rule.failed(), !srgb) << name << Dump(report);
      EXPECT_EQ(rule.measured, name);
      EXPECT_EQ(report.passed(), srgb) << Dump(report);
    }
  }
  ComplianceReport cmyk =
      CheckBytes(WithJpegIcc(jpeg, IccProfile("U.S. Web Coated (SWOP) v2", "CMYK")), SmallAmazon());
  EXPECT_TRUE(RuleOf(cmyk, "color_space").failed());
  EXPECT_NE(RuleOf(cmyk, "color_space").message.find("CMYK"), std::string::npos);
  ComplianceReport garbage = CheckBytes(WithJpegIcc(jpeg, std::string(200, 'x')), SmallAmazon());
  EXPECT_TRUE(RuleOf(garbage, "color_space").failed());
  EXPECT_EQ(RuleOf(garbage, "color_space").measured, "unreadable ICC profile");
  // No profile at all: sRGB is assumed.
  EXPECT_FALSE(RuleOf(CheckBytes(png, SmallAmazon()), "color_space").failed());
}

TEST(ComplianceTest, BusyPhotoFailsBackgroundAndFill) {
  cv::Mat photo;
  cv::resize(testdata::SamplePhoto("home.jpg"), photo, {400, 300}, 0, 0, cv::INTER_AREA);
  ComplianceReport report =
      CheckBytes(Encode(Image{photo, {}, "home"}, io::Format::kJpeg), SmallAmazon());
  EXPECT_TRUE(RuleOf(report, "background_plain").failed()) << Dump(report);
  EXPECT_TRUE(RuleOf(report, "background_border").failed());
  EXPECT_TRUE(RuleOf(report, "fill").failed());
  EXPECT_NE(RuleOf(report, "fill").message.find("cannot be told"), std::string::npos);
  // Where any backdrop is allowed, fill is not guessed.
  Preset ebay = Builtin("ebay");
  ebay.min_long_side = 200;
  ComplianceReport lifestyle =
      CheckBytes(Encode(Image{photo, {}, "home"}, io::Format::kJpeg), ebay);
  EXPECT_EQ(RuleOf(lifestyle, "fill").outcome, Outcome::kNotChecked) << Dump(lifestyle);
  EXPECT_TRUE(lifestyle.passed()) << Dump(lifestyle);
}

TEST(ComplianceTest, ReportJsonListsEveryRule) {
  ComplianceReport report = CheckBytes(Encode(Staged({300, 300}, 0.5)), SmallAmazon());
  nlohmann::json j = report.ToJson();
  EXPECT_EQ(j["preset"], "amazon");
  EXPECT_FALSE(j["passed"].get<bool>());
  EXPECT_EQ(j["rules"].size(), report.rules.size());
  for (const auto& rule : j["rules"]) {
    EXPECT_TRUE(rule.contains("measured") && rule.contains("limit") && rule.contains("message"));
  }
}

}  // namespace
}  // namespace vitrine::qa
