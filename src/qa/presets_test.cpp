#include "qa/presets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace vitrine::qa {
namespace {

const std::string kAllBuiltIn[] = {"amazon",       "ebay", "etsy",    "generic-square",
                                   "mercadolibre", "noon", "shopify", "temu"};

TEST(PresetsTest, BuiltInsCarryThePublishedFigures) {
  Result<PresetBook> book = LoadPresets();
  ASSERT_TRUE(book.ok()) << book.status().ToString();
  ASSERT_EQ(book->All().size(), std::size(kAllBuiltIn));
  for (const std::string& name : kAllBuiltIn) EXPECT_NE(book->Find(name), nullptr) << name;

  const Preset& amazon = *book->Find("amazon");
  EXPECT_TRUE(amazon.pure_background);
  EXPECT_EQ(amazon.background, cv::Vec3b(255, 255, 255));
  EXPECT_DOUBLE_EQ(amazon.fill_min, 0.85);
  EXPECT_EQ(amazon.min_long_side, 1000);
  EXPECT_EQ(amazon.max_long_side, 10000);
  EXPECT_EQ(amazon.max_bytes, 10'000'000);
  EXPECT_FALSE(amazon.alpha);
  EXPECT_TRUE(amazon.no_text);
  EXPECT_EQ(amazon.formats, (std::vector<io::Format>{io::Format::kJpeg, io::Format::kPng}));

  const Preset& noon = *book->Find("noon");
  ASSERT_TRUE(noon.aspect.has_value());
  EXPECT_NEAR(*noon.aspect, 0.73, 0.01);
  EXPECT_EQ(noon.min_width, 660);
  EXPECT_EQ(noon.min_height, 900);
  EXPECT_DOUBLE_EQ(noon.margin_vertical, 0.10);
  EXPECT_DOUBLE_EQ(noon.margin_horizontal, 0.05);
  EXPECT_EQ(noon.formats, std::vector<io::Format>{io::Format::kJpeg});
  EXPECT_TRUE(noon.light_shadow);

  EXPECT_EQ(book->Find("temu")->max_bytes, 2'000'000);
  EXPECT_EQ(book->Find("shopify")->max_long_side, 4472);
  EXPECT_EQ(book->Find("nosuch"), nullptr);

  // Every built-in's export canvas passes its own size rules (export pads to it).
  for (const Preset& p : book->All()) {
    const int long_side = std::max(p.canvas_width, p.canvas_height);
    EXPECT_GE(long_side, p.min_long_side) << p.name;
    EXPECT_GE(p.canvas_width, p.min_width) << p.name;
    EXPECT_GE(p.canvas_height, p.min_height) << p.name;
    if (p.aspect) {
      EXPECT_NEAR(double(p.canvas_width) / p.canvas_height, *p.aspect,
                  *p.aspect * p.aspect_tolerance)
          << p.name;
    }
  }
}

TEST(PresetsTest, UserFileOverridesFieldsAndAddsPresets) {
  const std::string user = R"({
    "amazon": {"max_bytes": 5000000},
    "my-shop": {"canvas": [1200, 900], "background": "#F0F0F0", "fill": {"target": 0.7},
                "formats": ["webp", "png"], "alpha": true}
  })";
  Result<PresetBook> book = ParsePresets(BuiltInPresetsJson(), user, "presets file mine.json");
  ASSERT_TRUE(book.ok()) << book.status().ToString();
  const Preset& amazon = *book->Find("amazon");
  EXPECT_EQ(amazon.max_bytes, 5'000'000);
  EXPECT_TRUE(amazon.pure_background);  // untouched fields keep the built-in value
  EXPECT_DOUBLE_EQ(amazon.fill_min, 0.85);
  const Preset* mine = book->Find("my-shop");
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(mine->canvas_width, 1200);
  EXPECT_EQ(mine->background, cv::Vec3b(0xF0, 0xF0, 0xF0));
  EXPECT_EQ(mine->formats.front(), io::Format::kWebp);
  EXPECT_EQ(book->All().size(), std::size(kAllBuiltIn) + 1);
}

TEST(PresetsTest, ErrorsNameTheFilePresetAndField) {
  struct Case {
    std::string json;
    std::string field;
  };
  const Case cases[] = {
      {R"({"bad": {"canvas": [100, 100], "background": "#FFFFFF", "fill": {"target": 0.8, "min": 1.5}, "formats": ["png"]}})",
       "fill.min"},
      {R"({"bad": {"canvas": [100, 100], "background": "white", "fill": {"target": 0.8}, "formats": ["png"]}})",
       "background"},
      {R"({"bad": {"canvas": [100, 100], "background": "#FFFFFF", "fill": {"target": 0.8}, "formats": ["gif"]}})",
       "formats"},
      {R"({"bad": {"background": "#FFFFFF", "fill": {"target": 0.8}, "formats": ["png"]}})",
       "canvas"},
      {R"({"bad": {"canvas": [100, 100], "background": "#FFFFFF", "fill": {"target": 0.8}, "formats": ["png"], "colour": 1}})",
       "colour"},
      {R"({"bad": {"canvas": [100, 100], "background": "#FFFFFF", "fill": {"target": 0.8}, "formats": ["jpeg"], "alpha": true}})",
       "alpha"},
      {R"({"amazon": {"max_bytes": "10 MB"}})", "max_bytes"},
  };
  for (const Case& c : cases) {
    Result<PresetBook> book = ParsePresets(BuiltInPresetsJson(), c.json, "presets file x.json");
    ASSERT_FALSE(book.ok()) << c.json;
    EXPECT_EQ(book.status().code(), Code::kInvalidArgument);
    const std::string& m = book.status().message();
    EXPECT_NE(m.find("presets file x.json"), std::string::npos) << m;
    EXPECT_NE(m.find("'" + c.field + "'"), std::string::npos) << m;
    EXPECT_NE(m.find("preset '"), std::string::npos) << m;
  }
  Result<PresetBook> not_json = ParsePresets(BuiltInPresetsJson(), "{oops", "presets file y.json");
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.status().message().find("y.json is not valid JSON"), std::string::npos);
}

TEST(PresetsTest, MissingUserFileIsNotFoundWithItsPath) {
  Result<PresetBook> book = LoadPresets("/nonexistent/presets.json");
  ASSERT_FALSE(book.ok());
  EXPECT_EQ(book.status().code(), Code::kNotFound);
  EXPECT_NE(book.status().message().find("/nonexistent/presets.json"), std::string::npos)
      << book.status().message();
}

TEST(PresetsTest, LoadsAUserFileFromDisk) {
  const std::string path =
      ::testing::TempDir() + "/vitrine_presets_" + std::to_string(getpid()) + ".json";
  std::ofstream(path) << R"({"temu": {"max_bytes": 1500000}})";
  Result<PresetBook> book = LoadPresets(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(book.ok()) << book.status().ToString();
  EXPECT_EQ(book->Find("temu")->max_bytes, 1'500'000);
}

}  // namespace
}  // namespace vitrine::qa
