// Colour profiles, metadata written by the encoder, and the 4:4:4 JPEG encoder.
#include "io/colour_profile.h"

#include <gtest/gtest.h>
#include <lcms2.h>

#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "io/image_io.h"

namespace vitrine::io {
namespace {

// An Adobe RGB (1998)-like profile made here: its published primaries, D65 white, gamma 563/256.
std::string AdobeLikeProfile() {
  const cmsCIExyY white = {0.3127, 0.3290, 1.0};
  const cmsCIExyYTRIPLE primaries = {{0.64, 0.33, 1.0}, {0.21, 0.71, 1.0}, {0.15, 0.06, 1.0}};
  cmsToneCurve* gamma = cmsBuildGamma(nullptr, 563.0 / 256.0);
  cmsToneCurve* curves[3] = {gamma, gamma, gamma};
  cmsHPROFILE profile = cmsCreateRGBProfile(&white, &primaries, curves);
  cmsFreeToneCurve(gamma);
  cmsMLU* description = cmsMLUalloc(nullptr, 1);
  cmsMLUsetASCII(description, "en", "US", "Adobe RGB (1998) test");
  cmsWriteTag(profile, cmsSigProfileDescriptionTag, description);
  cmsMLUfree(description);
  cmsUInt32Number size = 0;
  cmsSaveProfileToMem(profile, nullptr, &size);
  std::string bytes(size, '\0');
  cmsSaveProfileToMem(profile, bytes.data(), &size);
  cmsCloseProfile(profile);
  return bytes;
}

// The sRGB value of an Adobe RGB (1998) colour, from the published matrices (D65 both ways), the
// 563/256 gamma and the sRGB transfer curve: an independent reference for LittleCMS.
cv::Vec3b AdobeToSrgb(cv::Vec3b bgr) {
  const double adobe_to_xyz[3][3] = {{0.5767309, 0.1855540, 0.1881852},
                                     {0.2973769, 0.6273491, 0.0752741},
                                     {0.0270343, 0.0706872, 0.9911085}};
  const double xyz_to_srgb[3][3] = {{3.2404542, -1.5371385, -0.4985314},
                                    {-0.9692660, 1.8760108, 0.0415560},
                                    {0.0556434, -0.2040259, 1.0572252}};
  const double rgb[3] = {std::pow(bgr[2] / 255.0, 563.0 / 256),
                         std::pow(bgr[1] / 255.0, 563.0 / 256),
                         std::pow(bgr[0] / 255.0, 563.0 / 256)};
  double xyz[3] = {0, 0, 0}, out[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) xyz[i] += adobe_to_xyz[i][j] * rgb[j];
  }
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) out[i] += xyz_to_srgb[i][j] * xyz[j];
    const double v = std::clamp(out[i], 0.0, 1.0);
    out[i] = 255 * (v <= 0.0031308 ? 12.92 * v : 1.055 * std::pow(v, 1 / 2.4) - 0.055);
  }
  return cv::Vec3b(cv::saturate_cast<uchar>(out[2]), cv::saturate_cast<uchar>(out[1]),
                   cv::saturate_cast<uchar>(out[0]));
}

// Patches of colours well inside both gamuts, and a grey.
cv::Mat Patches() {
  const cv::Vec3b colours[] = {{60, 140, 200}, {180, 90, 40}, {90, 170, 70}, {128, 128, 128}};
  cv::Mat bgr(32, 32 * 4, CV_8UC3);
  for (int i = 0; i < 4; ++i) bgr.colRange(32 * i, 32 * (i + 1)).setTo(cv::Scalar(colours[i]));
  return bgr;
}

TEST(ColourProfileTest, AdobeRgbPixelsAreConvertedToSrgbOnDecode) {
  const std::string adobe = AdobeLikeProfile();
  EXPECT_FALSE(DescribeIcc(adobe).srgb);
  EXPECT_EQ(DescribeIcc(adobe).description, "Adobe RGB (1998) test");
  const cv::Mat stored = Patches();
  for (Format format : {Format::kPng, Format::kJpeg}) {
    EncodeOptions options;
    options.format = format;
    options.quality = 100;
    options.icc_profile = adobe;
    Result<std::string> bytes = EncodeImage(Image{stored, {}, "adobe"}, options);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    Result<EmbeddedMetadata> metadata = ReadMetadata(*bytes);
    ASSERT_TRUE(metadata.ok());
    EXPECT_EQ(metadata->icc_profile, adobe);
    Result<Image> decoded = DecodeImage(*bytes, LimitsConfig{}, "adobe");
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    for (int i = 0; i < 4; ++i) {
      const cv::Vec3b in = stored.at<cv::Vec3b>(16, 32 * i + 16);
      const cv::Vec3b want = AdobeToSrgb(in);
      const cv::Vec3b got = decoded->bgr.at<cv::Vec3b>(16, 32 * i + 16);
      for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(got[c], want[c], 2)
            << FormatName(format) << " patch " << i << " channel " << c << ": stored " << in
            << ", want " << want << ", got " << got;
      }
    }
    // Adobe RGB's greens are more saturated: the same numbers mean a more saturated green.
    const cv::Vec3b green = decoded->bgr.at<cv::Vec3b>(16, 32 * 2 + 16);
    EXPECT_GT(green[1] - green[2], 170 - 90);
  }
}

TEST(ColourProfileTest, SrgbAndUnusableProfilesLeaveThePixelsAsStored) {
  const cv::Mat stored = Patches();
  for (const std::string& profile : {SrgbProfile(), std::string(300, 'x')}) {
    EncodeOptions options;
    options.icc_profile = profile;
    Result<std::string> bytes = EncodeImage(Image{stored, {}, "p"}, options);
    ASSERT_TRUE(bytes.ok());
    Result<Image> decoded = DecodeImage(*bytes, LimitsConfig{}, "p");
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(cv::norm(decoded->bgr, stored, cv::NORM_INF), 0);
  }
  EXPECT_TRUE(DescribeIcc(SrgbProfile()).srgb) << DescribeIcc(SrgbProfile()).description;
  Result<cv::Mat> refused = ConvertToSrgb(stored, std::string(300, 'x'));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("convert the image to sRGB"), std::string::npos);
}

// A little-endian TIFF structure whose first IFD holds orientation `value` and one more tag.
std::string ExifWithOrientation(int value) {
  std::string tiff("II*\0\x08\0\0\0", 8);
  tiff += std::string("\x02\0", 2);                          // two entries
  tiff += std::string("\x0f\x01\x02\0\x04\0\0\0Acm\0", 12);  // Make = "Acm"
  tiff += std::string("\x12\x01\x03\0\x01\0\0\0", 8) + char(value) + std::string(3, '\0');
  tiff += std::string(4, '\0');  // no next IFD
  return tiff;
}

TEST(MetadataTest, ExifXmpAndIccAreWrittenAndReadBack) {
  const std::string xmp = "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF/></x:xmpmeta>";
  const cv::Mat bgr = Patches();
  for (Format format : {Format::kPng, Format::kJpeg, Format::kWebp}) {
    EncodeOptions options;
    options.format = format;
    options.icc_profile = SrgbProfile();
    options.exif = ExifUpright(ExifWithOrientation(6));
    options.xmp = xmp;
    Result<std::string> bytes = EncodeImage(Image{bgr, {}, "m"}, options);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    Result<EmbeddedMetadata> metadata = ReadMetadata(*bytes);
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    EXPECT_TRUE(metadata->exif && metadata->xmp) << FormatName(format);
    EXPECT_EQ(metadata->xmp_packet, xmp);
    EXPECT_EQ(metadata->icc_profile, SrgbProfile());
    EXPECT_NE(metadata->exif_tiff.find("Acm"), std::string::npos);
    // The orientation was reset: the pixels are not turned again on decode.
    Result<Image> decoded = DecodeImage(*bytes, LimitsConfig{}, "m");
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->bgr.size(), bgr.size()) << FormatName(format);
    EXPECT_EQ(decoded->xmp, xmp);
    EXPECT_EQ(decoded->exif, options.exif);
  }
  // An image decoded from a file with orientation 6 carries EXIF that says upright.
  EXPECT_EQ(ExifUpright(ExifWithOrientation(6)), ExifWithOrientation(1));
}

TEST(JpegEncodeTest, FullChromaKeepsBlocksAwayFromAnEdgeExactlyWhite) {
  // A saturated red disc on pure white: with 4:2:0 chroma, ringing reaches 16x16 blocks and,
  // through chroma upsampling, their neighbours; with 4:4:4 only the 8x8 blocks the disc touches.
  cv::Mat bgr(128, 128, CV_8UC3, cv::Scalar::all(255));
  cv::circle(bgr, {61, 66}, 27, cv::Scalar(30, 20, 210), -1, cv::LINE_AA);
  for (int quality : {60, 92}) {
    EncodeOptions options;
    options.format = Format::kJpeg;
    options.quality = quality;
    Result<std::string> bytes = EncodeImage(Image{bgr, {}, "disc"}, options);
    ASSERT_TRUE(bytes.ok());
    Result<ImageHeader> header = ReadHeader(*bytes);
    ASSERT_TRUE(header.ok());
    EXPECT_EQ(header->mcu_width, 8);
    EXPECT_EQ(header->mcu_height, 8);
    Result<Image> decoded = DecodeImage(*bytes, LimitsConfig{}, "disc");
    ASSERT_TRUE(decoded.ok());
    int off_white = 0;
    for (int by = 0; by < 128; by += 8) {
      for (int bx = 0; bx < 128; bx += 8) {
        const cv::Rect block(bx, by, 8, 8);
        cv::Mat source_white;
        cv::inRange(bgr(block), cv::Scalar::all(255), cv::Scalar::all(255), source_white);
        if (cv::countNonZero(source_white) < 64) continue;  // the disc touches this block
        cv::Mat white;
        cv::inRange(decoded->bgr(block), cv::Scalar::all(255), cv::Scalar::all(255), white);
        off_white += 64 - cv::countNonZero(white);
      }
    }
    EXPECT_EQ(off_white, 0) << "quality " << quality;
  }
  // OpenCV's own encoder subsamples chroma: its blocks are 16x16.
  std::vector<uchar> cv_bytes;
  cv::imencode(".jpg", bgr, cv_bytes);
  Result<ImageHeader> cv_header = ReadHeader(std::string(cv_bytes.begin(), cv_bytes.end()));
  ASSERT_TRUE(cv_header.ok());
  EXPECT_EQ(cv_header->mcu_width, 16);
}

}  // namespace
}  // namespace vitrine::io
