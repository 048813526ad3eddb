#include "recipe/manifest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/testdata.h"

namespace vitrine::recipe {
namespace {
namespace fs = std::filesystem;

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testdata::FreshTestDir("vitrine_manifest");
    fs::create_directories(dir_ / "photos");
    for (const char* name : {"a.jpg", "b.png", "c.webp", "room.jpg"}) {
      Write("photos/" + std::string(name), "x");
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  fs::path dir_;
};

TEST_F(ManifestTest, ReadsQuotedFieldsBomAndCrlf) {
  const std::string csv =
      "\xEF\xBB\xBFSKU, Images ,title,size_cm,colors,presets,scenes,price\r\n"
      "A1,photos/a.jpg|photos/b.png,\"Lamp, brass \"\"Nordic\"\"\",\"30,45\",\"navy; #cc0000\","
      "Amazon;noon,photos/room.jpg,12\r\n"
      "B2,photos/c.webp,\"two\r\nlines\",\"40,60,25\",,,,\r\n"
      "\r\n"
      "C3,photos/a.jpg,,,,,,\r\n";
  Result<Manifest> m = LoadManifest(Write("m.csv", csv));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->problems.empty()) << m->problems[0].message;
  ASSERT_EQ(m->skus.size(), 3u);
  const SkuInfo& a = m->skus[0];
  EXPECT_EQ(a.sku, "A1");
  EXPECT_EQ(a.line, 2);
  ASSERT_EQ(a.images.size(), 2u);
  EXPECT_EQ(a.images[0], (dir_ / "photos/a.jpg").string()) << "relative to the CSV's folder";
  EXPECT_EQ(a.title, "Lamp, brass \"Nordic\"");
  EXPECT_EQ(a.size_cm, (std::vector<double>{30, 45}));
  EXPECT_EQ(a.colors, (std::vector<std::string>{"navy", "#cc0000"}));
  EXPECT_EQ(a.presets, (std::vector<std::string>{"amazon", "noon"}));
  EXPECT_EQ(a.scenes, (std::vector<std::string>{(dir_ / "photos/room.jpg").string()}));
  EXPECT_EQ(m->skus[1].title, "two\r\nlines");
  EXPECT_EQ(m->skus[1].SizeText(), "40,60,25");
  EXPECT_EQ(m->skus[2].line, 6) << "the quoted line break counts as a line";
}

TEST_F(ManifestTest, BadRowsAreReportedWithTheirLinesAndSkipped) {
  const std::string csv =
      "sku,images,size_cm,colors\n"
      "A1,photos/a.jpg,30x45,\n"       // 2: bad size
      ",photos/a.jpg,,\n"              // 3: no sku
      "B2,,,\n"                        // 4: no images
      "C3,photos/missing.jpg,,\n"      // 5: missing file
      "D4,photos/b.png,,beige\n"       // 6: unknown colour
      "E5,photos/c.webp,\"10,20\",\n"  // 7: good
      "E5,photos/a.jpg,,\n"            // 8: duplicate
      "F6,photos/a.jpg,\"0,20\",\n"    // 9: size must be above 0
      "G7,photos/a.jpg,40,60,red\n";   // 10: unquoted size spills into more fields
  Result<Manifest> m = LoadManifest(Write("m.csv", csv));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->skus.size(), 1u);
  EXPECT_EQ(m->skus[0].sku, "E5");
  ASSERT_EQ(m->problems.size(), 8u);
  std::vector<int> lines;
  for (const ManifestProblem& p : m->problems) lines.push_back(p.line);
  EXPECT_EQ(lines, (std::vector<int>{2, 3, 4, 5, 6, 8, 9, 10}));
  auto has = [&](size_t i, const std::string& text) {
    EXPECT_NE(m->problems[i].message.find(text), std::string::npos) << m->problems[i].message;
  };
  has(0, "sku 'A1': size_cm '30x45' is not W,H or W,H,D in centimetres");
  has(1, "no sku; every row needs one");
  has(2, "sku 'B2': no images");
  has(3, "sku 'C3': images: 'photos/missing.jpg' is not a file");
  has(4, "sku 'D4': colors: 'beige' is not a colour");
  has(5, "sku 'E5' is already on line 7");
  has(6, "size_cm '0,20'");
  has(7, "the row has 5 fields but the header 4; quote values that hold commas");
}

TEST_F(ManifestTest, UnusableFilesAreErrors) {
  auto error = [&](const std::string& text) {
    Result<Manifest> m = LoadManifest(Write("bad.csv", text));
    EXPECT_FALSE(m.ok()) << text;
    EXPECT_EQ(m.status().code(), Code::kInvalidArgument);
    return m.ok() ? std::string() : m.status().message();
  };
  EXPECT_NE(error("sku,photo\nA,a.jpg\n").find("the header has no 'images' column"),
            std::string::npos);
  EXPECT_NE(error("").find("is empty"), std::string::npos);
  EXPECT_NE(error(std::string("\x89PNG\r\n\x1a\n\0\0", 10)).find("binary data, not CSV"),
            std::string::npos);
  EXPECT_NE(error("sku,images\nA,\"photos/a.jpg\n").find("line 2: a quoted field is never closed"),
            std::string::npos);
  EXPECT_NE(error("sku,images,SKU\n").find("the column 'sku' appears twice"), std::string::npos);
  EXPECT_NE(error("sku,images,title\nA,photos/a.jpg,\xcc\xa8\xb5\xc6\n").find("not UTF-8"),
            std::string::npos);
  Result<Manifest> missing = LoadManifest((dir_ / "nope.csv").string());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST_F(ManifestTest, FolderGivesOneSkuPerSubFolderAndPerImage) {
  Write("shop/lamp/front.jpg", "x");
  Write("shop/lamp/side.png", "x");
  Write("shop/lamp/notes.txt", "x");
  Write("shop/empty/readme.txt", "x");
  Write("shop/vase.jpg", "x");
  Write("shop/.hidden.jpg", "x");
  Result<Manifest> m = LoadManifest((dir_ / "shop").string());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->skus.size(), 2u);
  EXPECT_EQ(m->skus[0].sku, "lamp");
  EXPECT_EQ(m->skus[0].images.size(), 2u) << "image files only";
  EXPECT_EQ(m->skus[1].sku, "vase");
  ASSERT_EQ(m->problems.size(), 1u);
  EXPECT_NE(m->problems[0].message.find("empty: no image files inside"), std::string::npos);

  fs::create_directories(dir_ / "nothing");
  EXPECT_FALSE(LoadManifest((dir_ / "nothing").string()).ok());
}

TEST(CsvTest, RecordsAndLines) {
  Result<std::vector<CsvRecord>> r = ParseCsv("a,\"b\"\"c\",\nd\r\n\"e\nf\",g");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].fields, (std::vector<std::string>{"a", "b\"c", ""}));
  EXPECT_EQ((*r)[1].line, 2);
  EXPECT_EQ((*r)[2].fields, (std::vector<std::string>{"e\nf", "g"}));
  EXPECT_EQ((*r)[2].line, 3);
}

}  // namespace
}  // namespace vitrine::recipe
