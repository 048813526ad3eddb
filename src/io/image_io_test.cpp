#include "io/image_io.h"

#include <gif_lib.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/file.h"

namespace vitrine::io {
namespace {

using namespace std::string_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// ---- Test data, all made here.

// Smooth gradients (JPEG- and WebP-friendly) with a distinct value in each channel.
cv::Mat Pattern(int width, int height) {
  cv::Mat bgr(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>(255 * x / (width - 1)),
                                          static_cast<uint8_t>(255 * y / (height - 1)), 100);
    }
  }
  return bgr;
}

// Alpha ramping from 0 (left) to 254 (right): every pixel is partly transparent.
cv::Mat AlphaRamp(int width, int height) {
  cv::Mat alpha(height, width, CV_8UC1);
  for (int x = 0; x < width; ++x) alpha.col(x).setTo(254 * x / (width - 1));
  return alpha;
}

std::string CvEncode(const cv::Mat& m, const std::string& extension, std::vector<int> params = {}) {
  std::vector<uchar> out;
  EXPECT_TRUE(cv::imencode(extension, m, out, params));
  return std::string(out.begin(), out.end());
}

// A GIF written by giflib: a screen of `screen` size with a 4-colour global table (black, white,
// red, blue) and the given frames, each its colour indices placed at `at`.
struct GifFrame {
  cv::Mat1b indices;
  cv::Point at = {0, 0};
  int transparent = NO_TRANSPARENT_COLOR;
  bool interlace = false;
};
const GifColorType kGifColours[4] = {{0, 0, 0}, {255, 255, 255}, {255, 0, 0}, {0, 0, 255}};

std::string MakeGif(cv::Size screen, const std::vector<GifFrame>& frames) {
  std::string out;
  const OutputFunc write = [](GifFileType* gif, const GifByteType* data, int n) {
    static_cast<std::string*>(gif->UserData)->append(reinterpret_cast<const char*>(data), n);
    return n;
  };
  int error = 0;
  GifFileType* gif = EGifOpen(&out, write, &error);
  ColorMapObject* colours = GifMakeMapObject(4, kGifColours);
  EGifSetGifVersion(gif, true);
  EXPECT_EQ(EGifPutScreenDesc(gif, screen.width, screen.height, 2, 0, colours), GIF_OK);
  for (const GifFrame& f : frames) {
    GraphicsControlBlock control{};
    control.TransparentColor = f.transparent;
    GifByteType extension[4];
    EGifGCBToExtension(&control, extension);
    EXPECT_EQ(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, extension), GIF_OK);
    EXPECT_EQ(
        EGifPutImageDesc(gif, f.at.x, f.at.y, f.indices.cols, f.indices.rows, f.interlace, nullptr),
        GIF_OK);
    std::vector<int> rows;  // the order an interlaced GIF stores its rows in
    for (auto [start, step] : f.interlace
                                  ? std::vector<std::pair<int, int>>{{0, 8}, {4, 8}, {2, 4}, {1, 2}}
                                  : std::vector<std::pair<int, int>>{{0, 1}}) {
      for (int y = start; y < f.indices.rows; y += step) rows.push_back(y);
    }
    for (int y : rows) {
      EXPECT_EQ(EGifPutLine(gif, const_cast<uint8_t*>(f.indices.ptr<uint8_t>(y)), f.indices.cols),
                GIF_OK);
    }
  }
  EXPECT_EQ(EGifCloseFile(gif, &error), GIF_OK);
  GifFreeMapObject(colours);
  return out;
}

// Colour indices 0..3 in diagonal stripes.
cv::Mat1b GifStripes(int width, int height, int shift = 0) {
  cv::Mat1b indices(height, width);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) indices(y, x) = static_cast<uint8_t>((x + y + shift) / 3 % 4);
  }
  return indices;
}

// What a GIF frame's indices should decode to (BGR).
cv::Vec3b GifBgr(int index) {
  const GifColorType& c = kGifColours[index];
  return {c.Blue, c.Green, c.Red};
}

std::string Be16(uint32_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string Be32(uint32_t v) { return Be16(v >> 16) + Be16(v & 0xFFFF); }
std::string Le16(uint32_t v) { return {static_cast<char>(v), static_cast<char>(v >> 8)}; }
std::string Le24(uint32_t v) {
  return Le16(v & 0xFFFF) + std::string(1, static_cast<char>(v >> 16));
}
std::string Le32(uint32_t v) { return Le16(v & 0xFFFF) + Le16(v >> 16); }

std::string PngChunk(const std::string& type, const std::string& data) {
  std::string body = type + data;
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(body.data()), body.size());
  return Be32(static_cast<uint32_t>(data.size())) + body + Be32(static_cast<uint32_t>(crc));
}

const std::string kPngSignature = "\x89PNG\r\n\x1A\n"s;

std::string PngHeader(uint32_t width, uint32_t height, int depth, int color_type) {
  return kPngSignature + PngChunk("IHDR", Be32(width) + Be32(height) +
                                              std::string{static_cast<char>(depth),
                                                          static_cast<char>(color_type), 0, 0, 0});
}

// A PNG from raw scanlines (each starting with its filter byte), with `extra` chunks before IDAT.
std::string MakePng(uint32_t width, uint32_t height, int depth, int color_type,
                    const std::string& scanlines, const std::string& extra = "") {
  uLongf size = compressBound(scanlines.size());
  std::string compressed(size, '\0');
  EXPECT_EQ(compress(reinterpret_cast<Bytef*>(compressed.data()), &size,
                     reinterpret_cast<const Bytef*>(scanlines.data()), scanlines.size()),
            Z_OK);
  compressed.resize(size);
  return PngHeader(width, height, depth, color_type) + extra + PngChunk("IDAT", compressed) +
         PngChunk("IEND", "");
}

// A TIFF structure holding one IFD with only the orientation tag.
std::string ExifTiff(int orientation, bool little_endian) {
  if (little_endian) {
    return "II*\0"s + Le32(8) + Le16(1) + Le16(0x0112) + Le16(3) + Le32(1) + Le16(orientation) +
           Le16(0) + Le32(0);
  }
  return "MM\0*"s + Be32(8) + Be16(1) + Be16(0x0112) + Be16(3) + Be32(1) + Be16(orientation) +
         Be16(0) + Be32(0);
}

// Inserts an APP1 Exif segment right after SOI.
std::string WithJpegExif(const std::string& jpeg, const std::string& tiff) {
  std::string payload = "Exif\0\0"s + tiff;
  return jpeg.substr(0, 2) + "\xFF\xE1"s + Be16(static_cast<uint32_t>(payload.size() + 2)) +
         payload + jpeg.substr(2);
}

// Inserts an eXIf chunk right after IHDR (which ends at byte 33).
std::string WithPngExif(const std::string& png, const std::string& tiff) {
  return png.substr(0, 33) + PngChunk("eXIf", tiff) + png.substr(33);
}

std::string RiffChunk(const std::string& type, const std::string& data) {
  std::string chunk = type + Le32(static_cast<uint32_t>(data.size())) + data;
  if (data.size() % 2 == 1) chunk += '\0';
  return chunk;
}

std::string Riff(const std::string& chunks) {
  return "RIFF" + Le32(static_cast<uint32_t>(4 + chunks.size())) + "WEBP" + chunks;
}

// Turns a simple lossy WebP ("RIFF....WEBPVP8 ...") into the extended format with `flags`, its
// VP8 chunk and then `trailing` chunks.
std::string ExtendedWebp(const std::string& simple, int width, int height, uint8_t flags,
                         const std::string& trailing) {
  EXPECT_EQ(simple.substr(12, 4), "VP8 ");
  std::string vp8x =
      std::string{static_cast<char>(flags), 0, 0, 0} + Le24(width - 1) + Le24(height - 1);
  return Riff(RiffChunk("VP8X", vp8x) + simple.substr(12) + trailing);
}

double MeanAbsDiff(const cv::Mat& a, const cv::Mat& b) {
  return cv::norm(a, b, cv::NORM_L1) / static_cast<double>(a.total() * a.channels());
}

LimitsConfig Limits() { return LimitsConfig{}; }

// ---- Formats and sniffing.

TEST(FormatTest, NamesExtensionsAndParsing) {
  EXPECT_EQ(FormatName(Format::kJpeg), "jpeg");
  EXPECT_EQ(FormatName(Format::kPng), "png");
  EXPECT_EQ(FormatName(Format::kWebp), "webp");
  EXPECT_EQ(FormatExtension(Format::kJpeg), "jpg");
  EXPECT_EQ(FormatExtension(Format::kPng), "png");
  EXPECT_EQ(FormatExtension(Format::kWebp), "webp");
  EXPECT_EQ(FormatExtension(Format::kGif), "gif");
  for (const char* name : {"jpg", "JPEG", "Jpg"}) EXPECT_EQ(*ParseFormat(name), Format::kJpeg);
  EXPECT_EQ(*ParseFormat("PNG"), Format::kPng);
  EXPECT_EQ(*ParseFormat("WebP"), Format::kWebp);
  Result<Format> bad = ParseFormat("gif");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("'gif'"));
}

TEST(SniffTest, RecognisesMagicBytes) {
  cv::Mat bgr = Pattern(16, 8);
  EXPECT_EQ(SniffFormat(CvEncode(bgr, ".jpg")), Format::kJpeg);
  EXPECT_EQ(SniffFormat(CvEncode(bgr, ".png")), Format::kPng);
  EXPECT_EQ(SniffFormat(CvEncode(bgr, ".webp")), Format::kWebp);
  EXPECT_EQ(SniffFormat(""), Format::kUnknown);
  EXPECT_EQ(SniffFormat("GIF89a"), Format::kGif);
  EXPECT_EQ(SniffFormat("GIF90a"), Format::kUnknown);
  EXPECT_EQ(SniffFormat("RIFF\0\0\0\0WAVE"s), Format::kUnknown);
}

TEST(SniffTest, FileNameDoesNotDecideTheFormat) {
  std::string dir = ::testing::TempDir() + "vitrine_io_sniff_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/photo.jpg";  // PNG bytes behind a .jpg name
  cv::Mat bgr = Pattern(20, 10);
  ASSERT_TRUE(WriteFileAtomic(path, CvEncode(bgr, ".png")).ok());
  Result<Image> image = ReadImageFile(path, Limits());
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->name, "photo");
  EXPECT_EQ(MeanAbsDiff(image->bgr, bgr), 0.0);  // lossless: it was read as PNG
  std::filesystem::remove_all(dir);
}

// ---- Headers.

TEST(ReadHeaderTest, ReadsDimensionsOfEveryFormatAndVariant) {
  cv::Mat bgr = Pattern(37, 21);
  cv::Mat bgra;
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  bgra.col(0).setTo(cv::Scalar(0, 0, 0, 10));
  struct Case {
    std::string bytes;
    Format format;
    std::string what;
  };
  const std::vector<Case> cases = {
      {CvEncode(bgr, ".jpg"), Format::kJpeg, "baseline JPEG"},
      {CvEncode(bgr, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}), Format::kJpeg, "progressive"},
      {CvEncode(bgr, ".png"), Format::kPng, "PNG"},
      {CvEncode(bgr, ".webp", {cv::IMWRITE_WEBP_QUALITY, 80}), Format::kWebp, "VP8"},
      {CvEncode(bgr, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101}), Format::kWebp, "VP8L"},
      {CvEncode(bgra, ".webp", {cv::IMWRITE_WEBP_QUALITY, 80}), Format::kWebp, "VP8X"},
  };
  for (const Case& c : cases) {
    Result<ImageHeader> header = ReadHeader(c.bytes);
    ASSERT_TRUE(header.ok()) << c.what << ": " << header.status().ToString();
    EXPECT_EQ(header->format, c.format) << c.what;
    EXPECT_EQ(header->width, 37) << c.what;
    EXPECT_EQ(header->height, 21) << c.what;
  }
  EXPECT_EQ(cases[3].bytes.substr(12, 4), "VP8 ");
  EXPECT_EQ(cases[4].bytes.substr(12, 4), "VP8L");
  EXPECT_EQ(cases[5].bytes.substr(12, 4), "VP8X");
}

TEST(ReadHeaderTest, MalformedHeadersAreInvalidArgument) {
  std::string png = PngHeader(10, 10, 8, 2);
  std::string bad_crc = png;
  bad_crc[20] ^= 0x01;
  std::string zero_width = PngHeader(0, 10, 8, 2);
  std::string bad_depth = PngHeader(10, 10, 7, 2);
  std::string jpeg_without_frame = "\xFF\xD8\xFF\xD9"s;
  std::string jpeg_cut_in_segment = "\xFF\xD8\xFF\xE0\x00\x10JFIF"s;
  std::string webp_bad_chunk = Riff(RiffChunk("JUNK", "abcd"));
  for (const std::string& bytes : {bad_crc, zero_width, bad_depth, jpeg_without_frame,
                                   jpeg_cut_in_segment, webp_bad_chunk, "\x89PNG\r\n\x1A\n"s}) {
    Result<ImageHeader> header = ReadHeader(bytes);
    ASSERT_FALSE(header.ok());
    EXPECT_EQ(header.status().code(), Code::kInvalidArgument) << header.status().ToString();
    EXPECT_THAT(header.status().message(), StartsWith("file is truncated or corrupt ("));
  }
}

// ---- Round trips.

TEST(RoundTripTest, PngIsLosslessWithAndWithoutAlpha) {
  Image opaque{Pattern(40, 30), cv::Mat(), "a"};
  Result<std::string> png = EncodeImage(opaque, {Format::kPng});
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  Result<Image> back = DecodeImage(*png, Limits(), "back");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->name, "back");
  EXPECT_FALSE(back->has_alpha());
  EXPECT_EQ(MeanAbsDiff(back->bgr, opaque.bgr), 0.0);

  Image transparent{Pattern(40, 30), AlphaRamp(40, 30), "b"};
  png = EncodeImage(transparent, {Format::kPng});
  ASSERT_TRUE(png.ok());
  back = DecodeImage(*png, Limits(), "back");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(back->has_alpha());
  EXPECT_EQ(MeanAbsDiff(back->bgr, transparent.bgr), 0.0);
  EXPECT_EQ(MeanAbsDiff(back->alpha, transparent.alpha), 0.0);
}

TEST(RoundTripTest, FullyOpaqueAlphaIsDropped) {
  Image image{Pattern(16, 16), cv::Mat(16, 16, CV_8UC1, cv::Scalar(255)), "x"};
  Result<std::string> png = EncodeImage(image, {Format::kPng});
  ASSERT_TRUE(png.ok());
  Result<Image> back = DecodeImage(*png, Limits(), "x");
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->has_alpha());
}

TEST(RoundTripTest, JpegIsCloseAndAlphaIsCompositedOverWhite) {
  Image opaque{Pattern(64, 48), cv::Mat(), "a"};
  Result<std::string> jpeg = EncodeImage(opaque, {Format::kJpeg, 92});
  ASSERT_TRUE(jpeg.ok()) << jpeg.status().ToString();
  EXPECT_EQ(SniffFormat(*jpeg), Format::kJpeg);
  Result<Image> back = DecodeImage(*jpeg, Limits(), "a");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE(back->has_alpha());
  EXPECT_LT(MeanAbsDiff(back->bgr, opaque.bgr), 3.0);

  // Left half fully transparent, right half opaque.
  cv::Mat alpha(48, 64, CV_8UC1, cv::Scalar(255));
  alpha.colRange(0, 32).setTo(0);
  Image transparent{Pattern(64, 48), alpha, "b"};
  jpeg = EncodeImage(transparent, {Format::kJpeg, 92});
  ASSERT_TRUE(jpeg.ok());
  back = DecodeImage(*jpeg, Limits(), "b");
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->has_alpha());
  cv::Scalar left = cv::mean(back->bgr.colRange(0, 28));
  for (int c = 0; c < 3; ++c) EXPECT_GT(left[c], 250.0) << "transparent area must become white";
  EXPECT_LT(MeanAbsDiff(back->bgr.colRange(36, 64), transparent.bgr.colRange(36, 64)), 4.0);
}

TEST(RoundTripTest, WebpIsCloseAndKeepsAlpha) {
  Image opaque{Pattern(64, 48), cv::Mat(), "a"};
  Result<std::string> webp = EncodeImage(opaque, {Format::kWebp, 90});
  ASSERT_TRUE(webp.ok()) << webp.status().ToString();
  EXPECT_EQ(SniffFormat(*webp), Format::kWebp);
  Result<Image> back = DecodeImage(*webp, Limits(), "a");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE(back->has_alpha());
  EXPECT_LT(MeanAbsDiff(back->bgr, opaque.bgr), 4.0);

  Image transparent{Pattern(64, 48), AlphaRamp(64, 48), "b"};
  webp = EncodeImage(transparent, {Format::kWebp, 90});
  ASSERT_TRUE(webp.ok());
  back = DecodeImage(*webp, Limits(), "b");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(back->has_alpha());
  EXPECT_LE(MeanAbsDiff(back->alpha, transparent.alpha), 1.0);
}

TEST(DecodeTest, SixteenBitPngIsScaledToEightBits) {
  cv::Mat deep(8, 8, CV_16UC4, cv::Scalar(65535, 128 * 257, 0, 200 * 257));
  Result<Image> image = DecodeImage(CvEncode(deep, ".png"), Limits(), "deep");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  ASSERT_EQ(image->bgr.type(), CV_8UC3);
  EXPECT_EQ(image->bgr.at<cv::Vec3b>(3, 3), cv::Vec3b(255, 128, 0));
  ASSERT_TRUE(image->has_alpha());
  EXPECT_EQ(image->alpha.type(), CV_8UC1);
  EXPECT_EQ(image->alpha.at<uint8_t>(3, 3), 200);

  cv::Mat deep_rgb(8, 8, CV_16UC3, cv::Scalar(257 * 10, 257 * 20, 257 * 30));
  image = DecodeImage(CvEncode(deep_rgb, ".png"), Limits(), "deep");
  ASSERT_TRUE(image.ok());
  EXPECT_FALSE(image->has_alpha());
  EXPECT_EQ(image->bgr.at<cv::Vec3b>(0, 0), cv::Vec3b(10, 20, 30));
}

TEST(DecodeTest, GreyPngIsExpandedToBgr) {
  cv::Mat grey(6, 10, CV_8UC1);
  for (int x = 0; x < 10; ++x) grey.col(x).setTo(x * 25);
  Result<Image> image = DecodeImage(CvEncode(grey, ".png"), Limits(), "g");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  ASSERT_EQ(image->bgr.type(), CV_8UC3);
  EXPECT_FALSE(image->has_alpha());
  EXPECT_EQ(image->bgr.at<cv::Vec3b>(2, 4), cv::Vec3b(100, 100, 100));
}

TEST(DecodeTest, GreyWithAlphaPngKeepsAlpha) {
  // 2x1, grey+alpha, 8-bit: (grey 40, alpha 0), (grey 200, alpha 255).
  std::string png = MakePng(2, 1, 8, 4, "\0\x28\x00\xC8\xFF"s);
  Result<Image> image = DecodeImage(png, Limits(), "ga");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  ASSERT_TRUE(image->has_alpha());
  EXPECT_EQ(image->bgr.at<cv::Vec3b>(0, 1), cv::Vec3b(200, 200, 200));
  EXPECT_EQ(image->alpha.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(image->alpha.at<uint8_t>(0, 1), 255);
}

TEST(DecodeTest, PaletteWithTransparencyKeepsAlpha) {
  // 2x1, palette red + green, red is half transparent (tRNS).
  std::string extra = PngChunk("PLTE", "\xFF\x00\x00\x00\xFF\x00"s) + PngChunk("tRNS", "\x80"s);
  std::string png = MakePng(2, 1, 8, 3, "\0\x00\x01"s, extra);
  Result<Image> image = DecodeImage(png, Limits(), "p");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->bgr.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 255));
  EXPECT_EQ(image->bgr.at<cv::Vec3b>(0, 1), cv::Vec3b(0, 255, 0));
  ASSERT_TRUE(image->has_alpha());
  EXPECT_EQ(image->alpha.at<uint8_t>(0, 0), 0x80);
  EXPECT_EQ(image->alpha.at<uint8_t>(0, 1), 255);
}

// ---- Truncated and corrupt files.

TEST(CorruptTest, TruncatedJpegIsRefusedWithAClearMessage) {
  std::string jpeg = CvEncode(Pattern(64, 48), ".jpg");
  const std::string expected =
      "file is truncated or corrupt (JPEG ends before its end marker); re-export or re-download "
      "it";
  for (size_t keep : {jpeg.size() * 6 / 10, jpeg.size() - 2, jpeg.size() - 1}) {
    Result<Image> image = DecodeImage(jpeg.substr(0, keep), Limits(), "t");
    ASSERT_FALSE(image.ok()) << "kept " << keep << " of " << jpeg.size();
    EXPECT_EQ(image.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(image.status().message(), expected);
  }
  // Bytes after the end marker are harmless (some cameras append data).
  EXPECT_TRUE(DecodeImage(jpeg + "trailing", Limits(), "t").ok());
}

TEST(CorruptTest, JpegQuirksThatViewersAcceptAreAccepted) {
  cv::Mat bgr = Pattern(64, 48);
  // Restart markers inside the scan data.
  std::string with_restarts = CvEncode(bgr, ".jpg", {cv::IMWRITE_JPEG_RST_INTERVAL, 1});
  ASSERT_NE(with_restarts.find("\xFF\xD0"s), std::string::npos);
  Result<Image> image = DecodeImage(with_restarts, Limits(), "rst");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_LT(MeanAbsDiff(image->bgr, bgr), 3.0);
  // Stray padding between two segments (libjpeg skips it with a warning).
  std::string jpeg = CvEncode(bgr, ".jpg");
  ASSERT_EQ(jpeg.substr(2, 2), "\xFF\xE0"s);  // APP0 first
  const size_t after_app0 =
      4 + ((static_cast<uint8_t>(jpeg[4]) << 8) | static_cast<uint8_t>(jpeg[5]));
  std::string padded = jpeg.substr(0, after_app0) + "\0\0\0"s + jpeg.substr(after_app0);
  image = DecodeImage(padded, Limits(), "padded");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_LT(MeanAbsDiff(image->bgr, bgr), 3.0);
}

TEST(CorruptTest, JpegSamplePrecisionIsChecked) {
  std::string jpeg = CvEncode(Pattern(16, 16), ".jpg");
  const size_t sof = jpeg.find("\xFF\xC0"s);
  ASSERT_NE(sof, std::string::npos);
  std::string twelve = jpeg;
  twelve[sof + 4] = 12;
  Result<Image> image = DecodeImage(twelve, Limits(), "12");
  EXPECT_EQ(image.status().code(), Code::kUnsupported);
  EXPECT_THAT(image.status().message(), HasSubstr("12-bit JPEG is not supported"));
  std::string nonsense = jpeg;
  nonsense[sof + 4] = 104;
  image = DecodeImage(nonsense, Limits(), "104");
  EXPECT_EQ(image.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(image.status().message(), HasSubstr("invalid sample precision"));
}

TEST(CorruptTest, TruncatedPngIsRefused) {
  std::string png = CvEncode(Pattern(64, 48), ".png");
  for (size_t keep : {png.size() / 2, png.size() - 12, png.size() - 1}) {
    Result<Image> image = DecodeImage(png.substr(0, keep), Limits(), "t");
    ASSERT_FALSE(image.ok()) << "kept " << keep;
    EXPECT_EQ(image.status().code(), Code::kInvalidArgument);
    EXPECT_THAT(image.status().message(), HasSubstr("PNG ends before its IEND chunk"));
  }
  // Corrupt compressed data behind valid chunk framing: the decoder's refusal is reported.
  std::string bad_data =
      MakePng(4, 4, 8, 0, "\0\0\0\0\0\0\0\0\0\0"s);  // 2 scanlines' worth for 4 rows
  Result<Image> image = DecodeImage(bad_data, Limits(), "t");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(image.status().message(), HasSubstr("png decoder"));
}

TEST(CorruptTest, TruncatedWebpIsRefused) {
  std::string webp = CvEncode(Pattern(64, 48), ".webp", {cv::IMWRITE_WEBP_QUALITY, 80});
  for (size_t keep : {size_t{30}, webp.size() / 2, webp.size() - 1}) {
    Result<Image> image = DecodeImage(webp.substr(0, keep), Limits(), "t");
    ASSERT_FALSE(image.ok()) << "kept " << keep;
    EXPECT_EQ(image.status().code(), Code::kInvalidArgument);
    EXPECT_THAT(image.status().message(), HasSubstr("WebP ends before"));
  }
}

TEST(CorruptTest, AnimatedWebpIsUnsupported) {
  std::string simple = CvEncode(Pattern(16, 16), ".webp", {cv::IMWRITE_WEBP_QUALITY, 80});
  std::string frame =
      Le24(0) + Le24(0) + Le24(15) + Le24(15) + Le24(100) + "\0"s + simple.substr(12);
  std::string animated = Riff(RiffChunk("VP8X", "\x02\0\0\0"s + Le24(15) + Le24(15)) +
                              RiffChunk("ANIM", std::string(6, '\0')) + RiffChunk("ANMF", frame));
  Result<Image> image = DecodeImage(animated, Limits(), "anim");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), Code::kUnsupported);
  EXPECT_THAT(image.status().message(), HasSubstr("animated WebP"));
}

// ---- GIF: read (the first frame), never written.

TEST(GifTest, FrameIsPlacedOnItsScreenWithItsColoursAndTransparency) {
  GifFrame frame{GifStripes(20, 10), {5, 4}, /*transparent=*/2};
  const std::string gif = MakeGif({40, 30}, {frame});
  EXPECT_EQ(SniffFormat(gif), Format::kGif);
  Result<ImageHeader> header = ReadHeader(gif);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->format, Format::kGif);
  EXPECT_EQ(cv::Size(header->width, header->height), cv::Size(40, 30));

  Result<Image> image = DecodeImage(gif, Limits(), "g");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  ASSERT_EQ(image->bgr.size(), cv::Size(40, 30));
  ASSERT_TRUE(image->has_alpha());
  int wrong = 0;
  for (int y = 0; y < 30; ++y) {
    for (int x = 0; x < 40; ++x) {
      const cv::Point in_frame = cv::Point(x, y) - frame.at;
      const bool covered = cv::Rect(0, 0, 20, 10).contains(in_frame);
      const int index = covered ? frame.indices(in_frame) : -1;
      const bool opaque = covered && index != 2;
      if ((image->alpha.at<uint8_t>(y, x) == 255) != opaque ||
          (opaque && image->bgr.at<cv::Vec3b>(y, x) != GifBgr(index))) {
        ++wrong;
      }
    }
  }
  EXPECT_EQ(wrong, 0);
}

TEST(GifTest, InterlacedOpaqueGifDecodesRowsInOrderWithoutAlpha) {
  GifFrame frame{GifStripes(24, 19), {0, 0}, NO_TRANSPARENT_COLOR, /*interlace=*/true};
  Result<Image> image = DecodeImage(MakeGif({24, 19}, {frame}), Limits(), "g");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_FALSE(image->has_alpha());
  for (int y = 0; y < 19; ++y) {
    for (int x = 0; x < 24; ++x) {
      ASSERT_EQ(image->bgr.at<cv::Vec3b>(y, x), GifBgr(frame.indices(y, x))) << x << "," << y;
    }
  }
}

TEST(GifTest, AnimatedGifGivesItsFirstFrame) {
  const GifFrame first{GifStripes(16, 12)};
  const GifFrame second{GifStripes(16, 12, /*shift=*/5)};
  Result<Image> image = DecodeImage(MakeGif({16, 12}, {first, second}), Limits(), "anim");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  for (int y = 0; y < 12; ++y) {
    for (int x = 0; x < 16; ++x) {
      ASSERT_EQ(image->bgr.at<cv::Vec3b>(y, x), GifBgr(first.indices(y, x)));
    }
  }
}

TEST(GifTest, TruncatedGifIsRefusedAndGifIsNeverWritten) {
  const std::string gif =
      MakeGif({32, 32}, {GifFrame{GifStripes(32, 32)}, GifFrame{GifStripes(32, 32, 1)}});
  for (size_t keep : {size_t{8}, size_t{20}, gif.size() / 3, gif.size() - 1}) {
    Result<Image> image = DecodeImage(gif.substr(0, keep), Limits(), "t");
    ASSERT_FALSE(image.ok()) << "kept " << keep;
    EXPECT_EQ(image.status().code(), Code::kInvalidArgument);
    EXPECT_THAT(image.status().message(), HasSubstr("re-download"));
  }
  Image image;
  image.bgr = Pattern(8, 8);
  Result<std::string> written = EncodeImage(image, {.format = Format::kGif});
  ASSERT_FALSE(written.ok());
  EXPECT_THAT(written.status().message(), HasSubstr("use png, jpg or webp"));
}

// ---- Limits.

TEST(LimitsTest, HugePngIsRefusedFromItsHeaderBeforeDecoding) {
  // Only a signature and an IHDR: there are no pixels to decode at all, so anything but the
  // limit error shows the check did not come first.
  std::string png = PngHeader(60000, 60000, 8, 6);
  Result<ImageHeader> header = ReadHeader(png);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->width, 60000);
  EXPECT_EQ(header->height, 60000);
  Result<Image> image = DecodeImage(png, Limits(), "huge");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), Code::kResourceExhausted);
  EXPECT_EQ(image.status().message(),
            "image is 3600.0 MP (60000x60000); the limit is 50 MP (VITRINE_MAX_PIXELS)");
}

TEST(LimitsTest, ByteLimitIsCheckedFirst) {
  std::string png = CvEncode(Pattern(64, 48), ".png");
  LimitsConfig limits;
  limits.max_bytes = 1000;
  ASSERT_GT(png.size(), 1000u);
  Result<Image> image = DecodeImage(png, limits, "big");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), Code::kResourceExhausted);
  EXPECT_THAT(image.status().message(), HasSubstr("the limit is 0.001 MB (VITRINE_MAX_BYTES)"));

  limits = LimitsConfig{};
  limits.max_pixels = 64 * 48 - 1;
  image = DecodeImage(png, limits, "big");
  ASSERT_FALSE(image.ok());
  EXPECT_THAT(image.status().message(), HasSubstr("(64x48)"));
  limits.max_pixels = 64 * 48;
  EXPECT_TRUE(DecodeImage(png, limits, "ok").ok());
}

TEST(LimitsTest, CheckLimitsReadsOnlyTheHeader) {
  // A header with no pixels behind it passes when within the limits: nothing is decoded.
  Result<ImageHeader> header = CheckLimits(PngHeader(300, 200, 8, 6), Limits());
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->format, Format::kPng);
  EXPECT_EQ(header->width, 300);
  Result<ImageHeader> huge = CheckLimits(PngHeader(60000, 60000, 8, 6), Limits());
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), Code::kResourceExhausted);
  EXPECT_EQ(CheckLimits("II*\0"s + std::string(20, '\0'), Limits()).status().code(),
            Code::kUnsupported);
  // A GIF's screen size is its header: a huge one is refused before anything is decoded.
  EXPECT_EQ(CheckLimits("GIF89a"s + Le16(60000) + Le16(60000) + std::string(3, '\0'), Limits())
                .status()
                .code(),
            Code::kResourceExhausted);
}

// ---- Not images, or not ours.

TEST(UnsupportedTest, KnownFormatsAreNamed) {
  std::string bmp = "BM"s + Le32(70) + Le32(0) + Le32(54) + Le32(40) + std::string(50, '\0');
  std::string tiff = "II*\0"s + Le32(8) + std::string(20, '\0');
  std::string heic = "\0\0\0\x18"s + "ftypheic" + std::string(12, '\0');
  struct Case {
    std::string bytes;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {bmp, "BMP is not supported"},
           {tiff, "TIFF is not supported"},
           {heic, "HEIC/HEIF is not supported"},
           {"<!DOCTYPE html><html><body>404 Not Found</body></html>", "HTML page"},
           {"SKU,price\n123,9.99\n", "the file is text, not an image"},
           {"", "the file is empty"},
           {"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj"s, "the file is a PDF document, not an image"},
           {"RIFF\x24\0\0\0WAVEfmt "s, "the file is WAV audio, not an image"},
       }) {
    Result<ImageHeader> header = ReadHeader(c.bytes);
    ASSERT_FALSE(header.ok());
    EXPECT_EQ(header.status().code(), Code::kUnsupported);
    EXPECT_THAT(header.status().message(), HasSubstr(c.expected));
    EXPECT_THAT(header.status().message(), HasSubstr("JPEG, PNG, WebP and GIF"));
    EXPECT_EQ(DecodeImage(c.bytes, Limits(), "x").status().code(), Code::kUnsupported);
  }
}

TEST(UnsupportedTest, GarbageIsRefusedWithoutCrashing) {
  std::mt19937 rng(7);
  const std::vector<std::string> prefixes = {"", "\xFF\xD8\xFF"s, kPngSignature,
                                             "RIFF\x40\0\0\0WEBP"s};
  for (const std::string& prefix : prefixes) {
    for (int i = 0; i < 50; ++i) {
      std::string bytes = prefix;
      int length = std::uniform_int_distribution<int>(0, 2000)(rng);
      for (int j = 0; j < length; ++j) bytes += static_cast<char>(rng());
      Result<Image> image = DecodeImage(bytes, Limits(), "garbage");
      ASSERT_FALSE(image.ok());
      EXPECT_FALSE(image.status().message().empty());
    }
  }
}

// ---- EXIF orientation.

// Stored image: 48 wide, 32 tall, blue, with a red 8x8 block at the stored top-left corner.
cv::Mat MarkedImage() {
  cv::Mat bgr(32, 48, CV_8UC3, cv::Scalar(255, 0, 0));
  bgr(cv::Rect(0, 0, 8, 8)).setTo(cv::Scalar(0, 0, 255));
  return bgr;
}

// Which corner of the decoded image holds the red block: "TL", "TR", "BR", "BL" or "".
std::string RedCorner(const cv::Mat& bgr) {
  const int w = bgr.cols;
  const int h = bgr.rows;
  const std::vector<std::pair<std::string, cv::Point>> corners = {
      {"TL", {3, 3}}, {"TR", {w - 4, 3}}, {"BR", {w - 4, h - 4}}, {"BL", {3, h - 4}}};
  std::string found;
  for (const auto& [name, at] : corners) {
    cv::Vec3b p = bgr.at<cv::Vec3b>(at);
    if (p[2] > 200 && p[0] < 60) found += name;
  }
  return found;
}

struct OrientationCase {
  int orientation;
  bool swapped;
  std::string corner;
};
const std::vector<OrientationCase> kOrientations = {
    {1, false, "TL"}, {2, false, "TR"}, {3, false, "BR"}, {4, false, "BL"},
    {5, true, "TL"},  {6, true, "TR"},  {7, true, "BR"},  {8, true, "BL"},
};

TEST(OrientationTest, JpegExifOrientationSixIsRotatedOnce) {
  std::string jpeg = WithJpegExif(CvEncode(MarkedImage(), ".jpg"), ExifTiff(6, false));
  Result<ImageHeader> header = ReadHeader(jpeg);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->width, 48);  // the header is as stored
  Result<Image> image = DecodeImage(jpeg, Limits(), "o6");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->width(), 32);
  EXPECT_EQ(image->height(), 48);
  // Rotated 90 degrees clockwise: stored top-left ends at the top-right (twice would be BR).
  EXPECT_EQ(RedCorner(image->bgr), "TR");
}

TEST(OrientationTest, AllEightJpegOrientationsBothByteOrders) {
  std::string plain = CvEncode(MarkedImage(), ".jpg");
  for (bool little : {false, true}) {
    for (const OrientationCase& c : kOrientations) {
      Result<Image> image =
          DecodeImage(WithJpegExif(plain, ExifTiff(c.orientation, little)), Limits(), "o");
      ASSERT_TRUE(image.ok()) << image.status().ToString();
      EXPECT_EQ(image->width(), c.swapped ? 32 : 48) << "orientation " << c.orientation;
      EXPECT_EQ(image->height(), c.swapped ? 48 : 32) << "orientation " << c.orientation;
      EXPECT_EQ(RedCorner(image->bgr), c.corner) << "orientation " << c.orientation;
    }
  }
}

TEST(OrientationTest, PngExifAndWebpExifAreApplied) {
  cv::Mat bgra;
  cv::cvtColor(MarkedImage(), bgra, cv::COLOR_BGR2BGRA);
  bgra(cv::Rect(0, 0, 4, 4)).setTo(cv::Scalar(0, 0, 255, 0));  // transparent inside the block
  std::string png = WithPngExif(CvEncode(bgra, ".png"), ExifTiff(6, true));
  Result<Image> image = DecodeImage(png, Limits(), "p");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->width(), 32);
  EXPECT_EQ(RedCorner(image->bgr), "TR");
  ASSERT_TRUE(image->has_alpha());
  EXPECT_EQ(image->alpha.at<uint8_t>(0, 31), 0) << "alpha must be rotated with the pixels";
  EXPECT_EQ(image->alpha.at<uint8_t>(0, 0), 255);

  std::string simple = CvEncode(MarkedImage(), ".webp", {cv::IMWRITE_WEBP_QUALITY, 90});
  std::string webp = ExtendedWebp(simple, 48, 32, 0x08, RiffChunk("EXIF", ExifTiff(8, false)));
  image = DecodeImage(webp, Limits(), "w");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->width(), 32);
  EXPECT_EQ(RedCorner(image->bgr), "BL");
}

TEST(OrientationTest, BrokenExifMeansUpright) {
  std::string plain = CvEncode(MarkedImage(), ".jpg");
  std::string tiff = ExifTiff(6, false);
  const std::vector<std::string> broken = {
      "MM\0*"s + Be32(0xFFFFFFF0),                       // IFD offset far outside
      tiff.substr(0, 12),                                // IFD cut after the count
      "MM\0*"s + Be32(8) + Be16(0xFFFF) + Be16(0x0112),  // count larger than the data
      ExifTiff(9, false),                                // not a valid orientation
      "XX\0*garbage"s,
  };
  for (const std::string& exif : broken) {
    Result<Image> image = DecodeImage(WithJpegExif(plain, exif), Limits(), "b");
    ASSERT_TRUE(image.ok()) << image.status().ToString();
    EXPECT_EQ(image->width(), 48);
    EXPECT_EQ(RedCorner(image->bgr), "TL");
  }
}

// ---- Encoding errors.

TEST(EncodeTest, BadInputsAreInvalidArgument) {
  Image image{Pattern(8, 8), cv::Mat(), "e"};
  EXPECT_EQ(EncodeImage(image, {Format::kJpeg, 0}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(EncodeImage(image, {Format::kWebp, 101}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(EncodeImage(image, {Format::kUnknown}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(EncodeImage(Image{}, {Format::kPng}).status().code(), Code::kInvalidArgument);
  Image four{cv::Mat(8, 8, CV_8UC4), cv::Mat(), "e"};
  EXPECT_EQ(EncodeImage(four, {Format::kPng}).status().code(), Code::kInvalidArgument);
  Image mismatched{Pattern(8, 8), cv::Mat(4, 4, CV_8UC1), "e"};
  EXPECT_EQ(EncodeImage(mismatched, {Format::kPng}).status().code(), Code::kInvalidArgument);
  Image wide{cv::Mat(1, 16384, CV_8UC3, cv::Scalar::all(0)), cv::Mat(), "e"};
  Result<std::string> webp = EncodeImage(wide, {Format::kWebp});
  ASSERT_FALSE(webp.ok());
  EXPECT_THAT(webp.status().message(), HasSubstr("16383"));
  EXPECT_TRUE(EncodeImage(wide, {Format::kPng}).ok());
}

// ---- Files.

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "vitrine_io_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::set<std::string> Listing() const {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      names.insert(entry.path().filename().string());
    }
    return names;
  }

  std::string dir_;
};

TEST_F(FileTest, WriteFileAtomicReplacesAndLeavesNoTemporaryFiles) {
  const std::string path = dir_ + "/out.png";
  ASSERT_TRUE(WriteFileAtomic(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "second, longer").ok());
  Result<std::string> read = ReadFile(path, 100);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "second, longer");
  EXPECT_EQ(Listing(), std::set<std::string>{"out.png"});

  std::filesystem::create_directory(dir_ + "/folder");
  Status status = WriteFileAtomic(dir_ + "/folder", "x");  // rename over a folder fails
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr(dir_ + "/folder"));
  EXPECT_EQ(Listing(), (std::set<std::string>{"folder", "out.png"}));

  const std::string missing = dir_ + "/no/such/folder/out.png";
  status = WriteFileAtomic(missing, "x");
  EXPECT_EQ(status.code(), Code::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr(missing));
  EXPECT_EQ(Listing(), (std::set<std::string>{"folder", "out.png"}));
}

TEST_F(FileTest, ReadFileRefusesMissingAndOversizedFiles) {
  const std::string missing = dir_ + "/missing.jpg";
  Result<std::string> read = ReadFile(missing, 100);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Code::kNotFound);
  EXPECT_THAT(read.status().message(), HasSubstr(missing));

  // A sparse 1 GB file: refused from its size, without reading or allocating it.
  const std::string huge = dir_ + "/huge.jpg";
  { std::ofstream(huge).put('x'); }
  std::filesystem::resize_file(huge, int64_t{1} << 30);
  read = ReadFile(huge, 50'000'000);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Code::kResourceExhausted);
  EXPECT_THAT(read.status().message(), HasSubstr(huge));
  EXPECT_THAT(read.status().message(), HasSubstr("the limit is 50 MB"));
  Result<Image> image = ReadImageFile(huge, Limits());
  ASSERT_FALSE(image.ok());
  EXPECT_THAT(image.status().message(), HasSubstr("(VITRINE_MAX_BYTES)"));

  read = ReadFile(dir_, 100);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("folder"));
}

TEST_F(FileTest, ReadImageFileErrorsCarryThePath) {
  const std::string path = dir_ + "/broken.jpg";
  std::string jpeg = CvEncode(Pattern(32, 32), ".jpg");
  ASSERT_TRUE(WriteFileAtomic(path, jpeg.substr(0, jpeg.size() / 2)).ok());
  Result<Image> image = ReadImageFile(path, Limits());
  ASSERT_FALSE(image.ok());
  EXPECT_THAT(image.status().message(), StartsWith(path + ": file is truncated or corrupt"));
}

// ---- Fuzz-ish: random truncations and byte flips never crash, and truncation is never
// silently accepted.

void Mutate(const std::string& name, const std::string& valid) {
  std::mt19937 rng(std::hash<std::string>{}(name));
  int accepted = 0;
  for (int i = 0; i < 200; ++i) {
    std::string bytes = valid;
    const int kind = i % 4;  // 0 truncate, 1 flip bytes, 2 both, 3 overwrite a 32-bit field
    if (kind == 1 || kind == 2) {
      int flips = std::uniform_int_distribution<int>(1, 8)(rng);
      for (int f = 0; f < flips; ++f) {
        size_t at = std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng);
        bytes[at] = static_cast<char>(bytes[at] ^ std::uniform_int_distribution<int>(1, 255)(rng));
      }
    }
    if (kind == 3) {
      size_t at = std::uniform_int_distribution<size_t>(0, bytes.size() - 4)(rng);
      bytes.replace(at, 4, (rng() & 1) ? "\xFF\xFF\xFF\xFF"s : "\0\0\0\0"s);
    }
    if (kind == 0 || kind == 2) {
      bytes.resize(std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng));
    }
    Result<ImageHeader> header = ReadHeader(bytes);
    if (!header.ok()) {
      EXPECT_FALSE(header.status().message().empty());
    }
    Result<Image> image = DecodeImage(bytes, Limits(), name);
    if (image.ok()) {
      ++accepted;
      EXPECT_NE(kind, 0) << name << ": a truncated file was accepted";
      EXPECT_EQ(image->bgr.type(), CV_8UC3);
      EXPECT_GT(image->width(), 0);
      if (image->has_alpha()) {
        EXPECT_EQ(image->alpha.size(), image->bgr.size());
      }
    } else {
      EXPECT_FALSE(image.status().message().empty());
      EXPECT_NE(image.status().code(), Code::kInternal) << image.status().ToString();
    }
  }
  std::cout << name << ": " << accepted << " of 200 mutations decoded, the rest refused\n";
}

TEST(FuzzTest, MutatedFilesNeverCrash) {
  cv::Mat bgr = Pattern(64, 48);
  cv::Mat bgra;
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  bgra.col(5).setTo(cv::Scalar(0, 0, 0, 0));
  Mutate("jpeg", WithJpegExif(CvEncode(bgr, ".jpg"), ExifTiff(6, false)));
  Mutate("jpeg-progressive", CvEncode(bgr, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
  Mutate("png", WithPngExif(CvEncode(bgra, ".png"), ExifTiff(3, true)));
  Mutate("webp", CvEncode(bgra, ".webp", {cv::IMWRITE_WEBP_QUALITY, 80}));
  Mutate("webp-lossless", CvEncode(bgr, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101}));
  Mutate("gif", MakeGif({64, 48}, {GifFrame{GifStripes(40, 30), {3, 2}, 1, true}}));
}

}  // namespace
}  // namespace vitrine::io
