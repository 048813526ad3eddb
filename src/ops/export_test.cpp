#include "ops/export.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>

#include "io/colour_profile.h"
#include "models/runtime.h"
#include "ops/op.h"
#include "ops/remove_text.h"
#include "tests/testdata.h"
#include "tests/text_render.h"

namespace vitrine::ops {
namespace {

const cv::Vec3b kWhite(255, 255, 255);

qa::Preset Small(const std::string& name) {
  static const qa::PresetBook book = *qa::LoadPresets();
  qa::Preset p = *book.Find(name);
  p.min_long_side = 200;
  p.min_width = p.min_height = 0;
  p.canvas_width = 300;
  p.canvas_height = p.aspect ? cvRound(300 / *p.aspect) : 300;
  return p;
}

Image Staged(cv::Size size, double fill, int seed = 3) {
  testdata::Composite c = testdata::ProductOnColour(size, fill, kWhite, seed);
  return Image{c.bgr, {}, "staged"};
}

// A staged image that carries a supplier's EXIF (Make = "Acm") and an XMP packet.
Image StagedWithMetadata() {
  Image staged = Staged({300, 300}, 0.9);
  staged.exif = std::string("II*\0\x08\0\0\0\x01\0\x0f\x01\x02\0\x04\0\0\0Acm\0\0\0\0\0", 30);
  staged.xmp = "<x:xmpmeta xmlns:x='adobe:ns:meta/'/>";
  return staged;
}

Image Decode(const std::string& bytes) {
  Result<Image> image = io::DecodeImage(bytes, LimitsConfig{}, "out");
  EXPECT_TRUE(image.ok()) << image.status().ToString();
  return image.ok() ? *image : Image{};
}

// Box of the non-white pixels.
cv::Rect ProductBox(const cv::Mat& bgr) {
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  return cv::boundingRect(grey < 230);
}

TEST(ExportTest, PadsToTheCanvasWithoutStretchingAndPassesTheGate) {
  const Image input = Staged({300, 400}, 0.9);  // tall: padding keeps the fill
  const Image before = input.Clone();
  Result<ExportResult> result = Export(input, Small("amazon"));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->report.passed());
  EXPECT_EQ(result->format, io::Format::kJpeg);
  const Image out = Decode(result->bytes);
  EXPECT_EQ(out.bgr.size(), cv::Size(300, 300));
  // The product keeps its shape: same aspect, scaled by 300/400.
  const cv::Rect in_box = ProductBox(input.bgr), out_box = ProductBox(out.bgr);
  EXPECT_NEAR(double(out_box.width) / out_box.height, double(in_box.width) / in_box.height, 0.03);
  EXPECT_NEAR(out_box.width, in_box.width * 0.75, 3);
  // Pure white where there is no product, including the padding.
  EXPECT_EQ(out.bgr.at<cv::Vec3b>(150, 2), kWhite);
  EXPECT_EQ(out.bgr.at<cv::Vec3b>(150, 297), kWhite);
  // The input was not touched; no metadata was written.
  EXPECT_EQ(cv::norm(input.bgr, before.bgr, cv::NORM_INF), 0);
  Result<io::EmbeddedMetadata> metadata = io::ReadMetadata(result->bytes);
  ASSERT_TRUE(metadata.ok());
  EXPECT_FALSE(metadata->exif || metadata->xmp || metadata->iptc);
  EXPECT_TRUE(metadata->icc_profile.empty());
}

TEST(ExportTest, FlattensTransparencyOnlyWhereThePresetForbidsIt) {
  testdata::Composite c = testdata::ProductOnColour({300, 300}, 0.9, kWhite, 5);
  cv::Mat see_through = c.bgr.clone();
  see_through.setTo(cv::Scalar(0, 0, 255), c.alpha == 0);  // red where transparent
  const Image cutout{see_through, c.alpha, "cutout"};

  Result<ExportResult> amazon = Export(cutout, Small("amazon"));
  ASSERT_TRUE(amazon.ok()) << amazon.status().ToString();
  const Image flat = Decode(amazon->bytes);
  EXPECT_FALSE(flat.has_alpha());
  EXPECT_EQ(flat.bgr.at<cv::Vec3b>(2, 2), kWhite);  // not the hidden red

  qa::Preset shopify = Small("shopify");
  Result<ExportResult> kept = Export(cutout, shopify, {io::Format::kPng, {}});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  const Image png = Decode(kept->bytes);
  ASSERT_TRUE(png.has_alpha());
  EXPECT_GE(testdata::Iou(png.alpha, c.alpha), 0.98);
}

TEST(ExportTest, PadsAStudioColourWithItself) {
  const cv::Vec3b blue(200, 120, 40);
  testdata::Composite c = testdata::ProductOnColour({300, 400}, 0.8, blue, 6);
  Result<ExportResult> result = Export(Image{c.bgr, {}, "studio"}, Small("shopify"));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const Image out = Decode(result->bytes);
  ASSERT_EQ(out.bgr.size(), cv::Size(300, 300));
  // The padding at the sides is the studio colour (JPEG: within a few levels), not white.
  const cv::Vec3b side = out.bgr.at<cv::Vec3b>(150, 2);
  EXPECT_LE(cv::norm(cv::Vec3i(side) - cv::Vec3i(blue), cv::NORM_INF), 4) << side;
}

// A product covered in fine noise: expensive to compress.
Image Detailed() {
  Image image = Staged({300, 300}, 0.9, 7);
  cv::Mat noise(image.bgr.size(), CV_8UC3);
  cv::randu(noise, cv::Scalar::all(0), cv::Scalar::all(60));
  cv::Mat mask;
  cv::cvtColor(image.bgr, mask, cv::COLOR_BGR2GRAY);
  cv::subtract(image.bgr, noise, image.bgr, mask < 250);
  return image;
}

TEST(ExportTest, QualitySearchGetsUnderMaxBytes) {
  const Image input = Detailed();
  qa::Preset preset = Small("amazon");
  preset.max_bytes = 0;
  Result<ExportResult> unlimited = Export(input, preset);
  ASSERT_TRUE(unlimited.ok()) << unlimited.status().ToString();
  EXPECT_EQ(unlimited->quality, 92);

  preset.max_bytes = static_cast<int64_t>(unlimited->bytes.size() * 0.6);
  Result<ExportResult> limited = Export(input, preset);
  ASSERT_TRUE(limited.ok()) << limited.status().ToString();
  EXPECT_LE(static_cast<int64_t>(limited->bytes.size()), preset.max_bytes);
  EXPECT_LT(limited->quality, 92);
  EXPECT_GE(limited->quality, 50);
  EXPECT_TRUE(limited->report.passed());
  EXPECT_EQ(Decode(limited->bytes).bgr.size(), cv::Size(300, 300));  // quality, not size
  ASSERT_FALSE(limited->notes.empty());
  EXPECT_NE(limited->notes.back().find("quality"), std::string::npos);

  // One step higher quality would not have fitted: the search found the best that fits.
  io::EncodeOptions higher{io::Format::kJpeg, limited->quality + 1};
  Result<std::string> bigger = io::EncodeImage(limited->image, higher);
  ASSERT_TRUE(bigger.ok());
  EXPECT_GT(static_cast<int64_t>(bigger->size()), preset.max_bytes);
}

TEST(ExportTest, DownscalesAsALastResortWithinTheMinimumSize) {
  const Image input = Detailed();
  qa::Preset preset = Small("amazon");
  preset.min_long_side = 150;
  io::EncodeOptions lowest{io::Format::kJpeg, 50};
  const int64_t at_lowest = static_cast<int64_t>(io::EncodeImage(input, lowest)->size());
  preset.max_bytes = at_lowest / 2;
  Result<ExportResult> result = Export(input, preset);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_LE(static_cast<int64_t>(result->bytes.size()), preset.max_bytes);
  const Image out = Decode(result->bytes);
  EXPECT_LT(out.width(), 300);
  EXPECT_GE(out.width(), 150);
  EXPECT_EQ(out.width(), out.height());
  bool noted = false;
  for (const std::string& note : result->notes) noted |= note.find("downscaled") == 0;
  EXPECT_TRUE(noted);

  preset.min_long_side = 290;  // no room left to shrink
  preset.max_bytes = at_lowest / 4;
  Result<ExportResult> impossible = Export(input, preset);
  ASSERT_FALSE(impossible.ok());
  EXPECT_EQ(impossible.status().code(), Code::kResourceExhausted);
  EXPECT_NE(impossible.status().message().find("max_bytes"), std::string::npos);
}

TEST(ExportTest, ReframesAProductOffItsFillOrMargins) {
  const qa::Preset noon = Small("noon");  // 300x409, margins 5% / 10%, fill 60-90%
  for (double fill : {0.4, 0.98}) {
    Result<ExportResult> result = Export(Staged({300, 300}, fill), noon);
    ASSERT_TRUE(result.ok()) << fill << " " << result.status().ToString();
    const Image out = Decode(result->bytes);
    ASSERT_EQ(out.bgr.size(), cv::Size(noon.canvas_width, noon.canvas_height));
    // Independently: the product spans the target fill and clears Noon's margins.
    const cv::Rect box = ProductBox(out.bgr);
    const double span =
        std::max(double(box.width) / out.width(), double(box.height) / out.height());
    EXPECT_GE(span, noon.fill_min) << fill;
    EXPECT_LE(span, noon.fill_max) << fill;
    EXPECT_GE(std::min(box.y, out.height() - box.br().y), 0.1 * out.height()) << box;
    EXPECT_GE(std::min(box.x, out.width() - box.br().x), 0.05 * out.width()) << box;
    if (fill == 0.4) {  // far too small: re-cut to the target; 0.98 fits once padded to 0.73
      EXPECT_NEAR(span, noon.fill_target, 0.03);
      EXPECT_NE(result->notes.front().find("reframed"), std::string::npos);
    }
  }
}

TEST(ExportTest, RefusesAnImageThatFailsThePreset) {
  // Grey studio backdrop: export will not repaint a backdrop it cannot tell from a product.
  testdata::Composite grey = testdata::ProductOnColour({300, 300}, 0.9, {200, 200, 200}, 3);
  Result<ExportResult> result = Export(Image{grey.bgr, {}, "grey"}, Small("amazon"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kInvalidArgument);
  const std::string& m = result.status().message();
  EXPECT_NE(m.find("fails the amazon preset"), std::string::npos) << m;
  EXPECT_NE(m.find("background_plain:"), std::string::npos) << m;
  EXPECT_NE(m.find("limit >= 50.0%"), std::string::npos) << m;

  Result<ExportResult> webp =
      Export(Staged({300, 300}, 0.9), Small("amazon"), {io::Format::kWebp, {}});
  ASSERT_FALSE(webp.ok());
  EXPECT_NE(webp.status().message().find("does not accept webp"), std::string::npos);
}

TEST(ExportTest, OpUsesTheConfiguredPresetsFile) {
  const std::string path =
      ::testing::TempDir() + "/vitrine_export_presets_" + std::to_string(getpid()) + ".json";
  std::ofstream(path) << R"({"tiny-shop": {"canvas": [240, 320], "aspect": {"ratio": 0.75},
      "background": "#FFFFFF", "pure_background": true, "fill": {"target": 0.8, "min": 0.6},
      "formats": ["png"], "max_bytes": 200000}})";
  Config config;
  config.qa.presets_file = path;
  OpContext context{&config, nullptr};
  const Image input = Staged({300, 400}, 0.8);
  Result<Image> out = Registry::Global().Run("export", input, {{"preset", "tiny-shop"}}, context);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->bgr.size(), cv::Size(240, 320));

  Result<Image> unknown = Registry::Global().Run("export", input, {{"preset", "nope"}}, context);
  std::filesystem::remove(path);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown preset 'nope'"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("tiny-shop"), std::string::npos);
}

TEST(ExportTest, WebpForAKeepPresetCarriesExifXmpAndSrgbAndCheckAgrees) {
  const Image staged = StagedWithMetadata();
  qa::Preset keep = Small("shopify");
  keep.strip_metadata = false;
  ExportOptions webp;
  webp.format = io::Format::kWebp;
  Result<ExportResult> kept = Export(staged, keep, webp);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  ASSERT_EQ(io::SniffFormat(kept->bytes), io::Format::kWebp);
  Result<io::EmbeddedMetadata> metadata = io::ReadMetadata(kept->bytes);
  ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
  EXPECT_EQ(metadata->exif_tiff, staged.exif);
  EXPECT_EQ(metadata->xmp_packet, staged.xmp);
  EXPECT_TRUE(io::DescribeIcc(metadata->icc_profile).srgb);
  // The file still decodes to the staged pixels, and `vitrine check`'s rules agree: the keep
  // preset passes it (metadata kept, colour space sRGB), the strip preset fails only metadata.
  const Image back = Decode(kept->bytes);
  EXPECT_EQ(back.bgr.size(), cv::Size(300, 300));
  EXPECT_LT(cv::norm(back.bgr, kept->image.bgr, cv::NORM_L1) / back.bgr.total(), 6.0);
  EXPECT_TRUE(kept->report.passed()) << kept->report.ToJson().dump(1);
  const qa::ComplianceReport as_kept =
      qa::CheckCompliance(kept->bytes, back, keep, qa::ComplianceOptions{});
  EXPECT_TRUE(as_kept.passed()) << as_kept.ToJson().dump(1);
  const qa::ComplianceReport strict =
      qa::CheckCompliance(kept->bytes, back, Small("shopify"), qa::ComplianceOptions{});
  EXPECT_EQ(strict.FailedIds(), "metadata") << strict.ToJson().dump(1);
  // A strip preset writes a plain WebP with none of it.
  Result<ExportResult> stripped = Export(staged, Small("shopify"), webp);
  ASSERT_TRUE(stripped.ok()) << stripped.status().ToString();
  metadata = io::ReadMetadata(stripped->bytes);
  ASSERT_TRUE(metadata.ok());
  EXPECT_FALSE(metadata->exif || metadata->xmp || !metadata->icc_profile.empty());
}

}  // namespace
}  // namespace vitrine::ops

namespace vitrine::ops {
namespace {

// A white bowl cut out: a body a few levels off white, a highlight one level off, a soft rim.
Image PaleCutout() {
  cv::Mat alpha(300, 300, CV_8UC1, cv::Scalar(0));
  cv::ellipse(alpha, {150, 155}, {133, 115}, 0, 0, 360, 255, -1, cv::LINE_AA);
  cv::GaussianBlur(alpha, alpha, {0, 0}, 1.2);
  cv::Mat bgr(300, 300, CV_8UC3, cv::Scalar(247, 249, 250));
  cv::ellipse(bgr, {130, 120}, {60, 40}, 0, 0, 360, cv::Scalar(254, 255, 254), -1);
  return Image{bgr, alpha, "bowl"};
}

TEST(ExportTest, PaleProductWithItsAlphaPassesPureWhiteAndItsOwnCheck) {
  const Image bowl = PaleCutout();
  for (const auto& [name, format] :
       {std::pair{"amazon", io::Format::kPng}, std::pair{"amazon", io::Format::kJpeg},
        std::pair{"noon", io::Format::kJpeg}}) {
    const qa::Preset preset = Small(name);
    ExportOptions options;
    options.format = format;
    Result<ExportResult> result = Export(bowl, preset, options);
    ASSERT_TRUE(result.ok()) << name << " " << result.status().ToString();
    EXPECT_EQ(io::SniffFormat(result->bytes), format) << name;
    // What `vitrine check` does: the file alone, no alpha.
    const Image out = Decode(result->bytes);
    const qa::ComplianceReport bare =
        qa::CheckCompliance(result->bytes, out, preset, qa::ComplianceOptions{});
    EXPECT_TRUE(bare.passed()) << name << bare.ToJson().dump(1);
    // Independently: the outermost ring is pure white, and every 8x8 block away from the bowl
    // (in the output's frame: the bowl is centred, 88% of the shorter side) is exactly white.
    cv::Mat white;
    cv::inRange(out.bgr, cv::Scalar::all(255), cv::Scalar::all(255), white);
    EXPECT_EQ(cv::countNonZero(white.row(0)) + cv::countNonZero(white.row(out.height() - 1)),
              2 * out.width())
        << name;
    const cv::Rect box = cv::boundingRect(~white);
    EXPECT_GE(std::max(double(box.width) / out.width(), double(box.height) / out.height()),
              preset.fill_min)
        << name << " " << box;
    EXPECT_LE(std::max(double(box.width) / out.width(), double(box.height) / out.height()),
              preset.fill_max + 0.02)
        << name << " " << box;
  }
  // PNG keeps the bowl's own colours: at most 2 levels moved in one channel (the one-level-off
  // highlight is lowered one more level so that it cannot pass for off-white background).
  ExportOptions png;
  png.format = io::Format::kPng;
  Result<ExportResult> result = Export(bowl, Small("amazon"), png);
  ASSERT_TRUE(result.ok());
  const Image out = Decode(result->bytes);
  const cv::Mat flat = qa::FlattenOnto(bowl, kWhite);
  ASSERT_EQ(out.bgr.size(), flat.size());  // fill 88% fits: no reframing
  EXPECT_LE(cv::norm(out.bgr, flat, cv::NORM_INF), 2);
  cv::Mat body = bowl.alpha == 255;
  EXPECT_LE(cv::norm(out.bgr, flat, cv::NORM_L1, body) / cv::countNonZero(body), 0.5);
}

TEST(ExportTest, MetadataIsStrippedOrKeptAsThePresetSays) {
  const Image staged = StagedWithMetadata();
  qa::Preset keep = Small("amazon");
  keep.strip_metadata = false;
  for (const qa::Preset& preset : {Small("amazon"), keep}) {
    for (io::Format format : {io::Format::kPng, io::Format::kJpeg}) {
      ExportOptions options;
      options.format = format;
      Result<ExportResult> result = Export(staged, preset, options);
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      Result<io::EmbeddedMetadata> metadata = io::ReadMetadata(result->bytes);
      ASSERT_TRUE(metadata.ok());
      const std::string what =
          std::string(io::FormatName(format)) + (preset.strip_metadata ? " strip" : " keep");
      if (preset.strip_metadata) {
        EXPECT_FALSE(metadata->exif || metadata->xmp) << what;
        EXPECT_TRUE(metadata->icc_profile.empty()) << what;
      } else {
        EXPECT_EQ(metadata->exif_tiff, staged.exif) << what;
        EXPECT_EQ(metadata->xmp_packet, staged.xmp) << what;
        EXPECT_TRUE(io::DescribeIcc(metadata->icc_profile).srgb) << what;
      }
      EXPECT_TRUE(result->report.passed()) << what << result->report.ToJson().dump(1);
    }
  }
  // `vitrine check` reads a kept file against a preset that strips: the metadata rule fails.
  ExportOptions png;
  png.format = io::Format::kPng;
  Result<ExportResult> kept = Export(staged, keep, png);
  ASSERT_TRUE(kept.ok());
  const qa::ComplianceReport strict = qa::CheckCompliance(kept->bytes, Decode(kept->bytes),
                                                          Small("amazon"), qa::ComplianceOptions{});
  EXPECT_EQ(strict.FailedIds(), "metadata") << strict.ToJson().dump(1);
}

// The overlay_text rule's outcome and measure in `report`.
std::string TextRule(const qa::ComplianceReport& report) {
  for (const qa::RuleResult& r : report.rules) {
    if (r.id == "overlay_text") return (r.failed() ? "failed " : "passed ") + r.measured;
  }
  return "missing";
}

// On a pure-white main image the product is what the white does not reach: a caption drawn on
// the backdrop is overlay text, text printed on the product is not, and `vitrine check` (the
// file alone) and export's gate decide alike, without loading ISNet.
TEST(ExportTest, OverlayTextOnPureWhiteIsJudgedFromThePixelsAsCheckJudgesIt) {
  static const Config config = *LoadConfig();
  models::Runtime runtime(config);  // its own: it counts the ISNet sizes loaded
  qa::Preset preset = Small("amazon");
  preset.canvas_width = preset.canvas_height = 480;
  ExportOptions gate;
  gate.format = io::Format::kPng;
  gate.compliance.overlay_text_area = OverlayTextArea(runtime);
  ExportOptions no_text_rule;
  no_text_rule.format = io::Format::kPng;

  const testdata::Composite product = testdata::ProductOnColour({480, 480}, 0.7, kWhite, 5);
  const cv::Rect box = cv::boundingRect(product.alpha > 128);
  const cv::Point2f centre = (box.tl() + box.br()) / 2;
  // A supplier's caption on the white under the product.
  testdata::TextStyle caption;
  caption.text = "限时特价 包邮";
  caption.pixel_height = 30;
  caption.color = {0, 0, 210};
  caption.center = {centre.x, box.br().y + 30.0f};
  const Image captioned{testdata::RenderText(product.bgr, caption).bgr, {}, "captioned"};
  // The product's own print: dark, translucent over its texture, softened like a photo.
  testdata::TextStyle print;
  print.text = "ORGANIC TEA";
  print.bold = true;
  print.pixel_height = 28;
  print.color = {30, 40, 60};
  print.opacity = 0.8;
  print.center = centre;
  Image printed{testdata::RenderText(product.bgr, print).bgr, {}, "printed"};
  cv::GaussianBlur(printed.bgr, printed.bgr, cv::Size(3, 3), 0.7);

  for (const auto& [image, overlay] :
       {std::pair{&captioned, true}, std::pair{static_cast<const Image*>(&printed), false}}) {
    SCOPED_TRACE(image->name);
    // The file export writes when the text rule is left out: what check would be given.
    Result<ExportResult> plain = Export(*image, preset, no_text_rule);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    const Image file = Decode(plain->bytes);
    // The text is there to judge.
    Result<const models::TextDetector*> detector = runtime.text_detector();
    ASSERT_TRUE(detector.ok());
    Result<std::vector<models::TextRegion>> regions = (*detector)->Detect(file.bgr);
    ASSERT_TRUE(regions.ok());
    EXPECT_GE(regions->size(), 1u);
    const qa::ComplianceReport checked =
        qa::CheckCompliance(plain->bytes, file, preset, gate.compliance);
    Result<ExportResult> gated = Export(file, preset, gate);
    if (overlay) {
      EXPECT_EQ(checked.FailedIds(), "overlay_text") << checked.ToJson().dump(1);
      ASSERT_FALSE(gated.ok());
      EXPECT_NE(gated.status().message().find("overlay_text"), std::string::npos)
          << gated.status().message();
      // The gate measured what check measured.
      const std::string measured = TextRule(checked).substr(std::string("failed ").size());
      EXPECT_NE(gated.status().message().find("measured " + measured), std::string::npos)
          << measured << " vs " << gated.status().message();
    } else {
      EXPECT_TRUE(checked.passed()) << checked.ToJson().dump(1);
      ASSERT_TRUE(gated.ok()) << gated.status().ToString();
      EXPECT_EQ(TextRule(gated->report), TextRule(checked));
      const qa::ComplianceReport recheck =
          qa::CheckCompliance(gated->bytes, Decode(gated->bytes), preset, gate.compliance);
      EXPECT_TRUE(recheck.passed()) << recheck.ToJson().dump(1);
    }
  }
  // The product came from the pixels: no segmenter was needed.
  EXPECT_EQ(runtime.loaded_segmenters(), 0);
}

}  // namespace
}  // namespace vitrine::ops
