// Text scope: overlay vs product text (text_scope.h).
#include "ops/text_scope.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <opencv2/imgproc.hpp>
#include <string>
#include <tuple>

#include "core/morphology.h"
#include "ops/colour.h"

namespace vitrine::ops {
namespace {

// A region is product text when at least this share of it lies on the product.
constexpr double kInsideProduct = 0.75;
// ...unless it is this large a share of the "product" it lies on: the segmenter took the graphic
// itself (a banner, a sticker) for an object.
constexpr double kLargeForProduct = 0.5;
// Recognition confidence above which a region reads as text.
constexpr double kReadable = 0.5;
// Below this recognition confidence a region is not text at all: the detector fires on some
// textures (fruit, foliage, fabric), and what it finds there reads as nothing.
constexpr double kNotText = 0.35;
// A line this tall against the image's shorter side that reads below kReadable is a texture
// the detector took for giant letters (a brick wall's courses read as "WH" at 0.4, a line
// 600 px tall in a 2048 px photo), not a caption: drawn captions that large read clearly.
constexpr double kGiantLine = 0.15;
// A lone glyph (one character) read with less confidence than this is a shape, not text: a
// handle's loop, a wheel or a spout reads as "O", "a" or "K" at 0.35-0.6, while a printed or
// drawn character reads at 0.9 or more.
constexpr double kLoneGlyphReadable = 0.8;
// ...unless it continues a line of text: boxes overlapping by this share of the smaller one across
// the line.
constexpr double kSameLine = 0.6;
// A region that spans the product and the background is on the product after all when this share
// of its ink lies on the product: the segmenter missed a pale part of the product (a white bowl's
// body around its printed script on a white backdrop) but not the print itself.
constexpr double kInkOnProduct = 0.75;
// ...with its ink running across the region: this share of the region off the product lies
// within half a line height of ink.
constexpr double kInkAcross = 0.6;
// ...and the region lies within the product's outline: the convex hull of its pieces of at least
// this share of the largest one's area.
constexpr double kSilhouettePiece = 0.02;
// Recognised text seen this many times is a tiled watermark.
constexpr int kTiledCopies = 3;
// ...unless each copy is printed on its own instance of one product (a multi-pack's cans, a set
// of identical boxes): every copy level, opaque, on the product, and the product around each copy
// alike, its mask in a window around the copies aligned on their centres overlapping the first
// copy's by this IoU. The window is each copy's box grown by up to kAlikeMargin line heights and
// at most half the gap to the nearest copy (so it holds one instance's outline, not a neighbour's).
constexpr double kAlikeSurroundings = 0.8;
constexpr double kAlikeMargin = 2;
// So are kTiledCopies lines tilted at least kWatermarkTilt degrees from the axes and
// TiltedAlike().
constexpr double kSameTilt = 4;
// A region shorter than this many line heights has no meaningful direction (LineAngle() = 0).
constexpr double kMinAngleAspect = 1.5;

// Drawn-over cues (OverlayCues), measured on bench/text_scope_labels.tsv (bench/README.md).
// Ink is what differs from the region's surroundings by at least this ΔE76 (and Otsu's split).
constexpr double kMinInkContrast = 12;
// Ink colours: the main colour's cell and tolerance (MainColour()). The ink is flat when half of
// the pixels within kFillTolerance of its main colour lie within kFlatSpread of it and they are
// at least kMinFillShare of the ink: rendered text is flat up to JPEG noise and anti-aliasing;
// print photographed on a product is shaded and noisy.
constexpr double kFillTolerance = 10;
constexpr double kFlatSpread = 4.0;
constexpr double kMinFillShare = 0.3;
// Outline: the rim around the fill, this share of the line height wide (at least 2 px), its main
// colour flat (kRimSpread as kFlatSpread) and a third colour: kRimContrast ΔE76 from every mix of
// the fill's and the surroundings' colours (MixDistance). A soft edge between fill and
// surroundings (a lens-blurred digit on a shaded dial) is such a mix, however far it is from
// both; a drawn outline is not, even where it crosses a surface of nearly its own colour (a dark
// outline over a bag's shadow: 12 ΔE76 from those mixes; a dial's blurred rim: 1).
constexpr double kRimWidth = 0.08;
constexpr double kRimSpread = 4;
constexpr double kRimContrast = 6;
// Steps of the mixes MixDistance tries, in sRGB and in linear light.
constexpr int kMixSteps = 32;
// ...and only around strokes: a fill at most this many line heights thick (drawn glyph strokes and
// outlines measured 0.04-0.17 on the labelled set; a flat disc holding a printed digit 0.35).
constexpr double kMaxStroke = 0.25;
// ...and the rim ends: at most this share of the band as wide again beyond it has its colour.
constexpr double kMaxRimBeyond = 0.5;
// A banner box counts as drawn when no more than this share of it lies farther than
// kBannerTolerance ΔE76 from its median colour.
constexpr double kBannerOffShare = 0.2;
constexpr double kBannerTolerance = 6;
// A box is printed on the product, not drawn, when the product's light changes by at least
// kMinShading (a share of its luminance) across the box, the box's own light changes by at least
// kShadingAlike of that, and both fall the same way (cosine at least kShadingAlignment).
constexpr double kMinShading = 0.08;
constexpr double kShadingAlike = 0.5;
constexpr double kShadingAlignment = 0.7;
// ...or when its own light changes by at least kOwnShading across it, whatever the product around
// it does: a disc or plate of the product lit on its own (headphones' logo disc: 0.20 where the
// earcup around it is flat-lit); a drawn box is filled with one flat colour. Measured on the box's
// pixels within kShadingTolerance ΔE76 of its median colour (not the glyphs of another line on
// the same banner).
constexpr double kOwnShading = 0.12;
constexpr double kShadingTolerance = 15;
// Promotional colours: chroma at least this, hue (CIELAB, degrees) from red to yellow.
constexpr double kPromoChroma = 45;
constexpr double kPromoHueFrom = -20;
constexpr double kPromoHueTo = 100;
// Colour-only ink: its main colour at least kColourOnlyChroma ΔE76 in a*b* from the surroundings
// and within kColourOnlyLight in L*. Print on a product is laid out to be read in luminance; a
// caption in a saturated colour over a surface of its lightness (yellow 包邮 on a grey box) is
// not, and JPEG's halved chroma resolution makes such small glyphs fail `flat` (spread 5-6.5 for
// 18-20 px glyphs against 2.7-3.4 for 45 px ones on the demo catalogue). It counts in a
// promotional colour only: a product's own coloured parts differ from their surroundings in colour
// alone too (an iridescent blue shoe upper on grey asphalt, same lightness, was inpainted).
constexpr double kColourOnlyChroma = 40;
constexpr double kColourOnlyLight = 10;
// L range under which a region has no edge to measure.
constexpr double kMinEdgeContrast = 15;
// Edge sharpness of a glyph drawn on the pixel grid (strong colour gradients over the ink's step
// from its surroundings; an anti-aliased step gives about 0.5), and how much sharper than the
// product's own edges around it (Sharpness()) text must be to count as drawn on the photo.
constexpr double kSharpText = 0.3;
constexpr double kSharperThanProduct = 1.5;
// Degrees from the image axes from which a line counts as tilted.
constexpr double kMinTilt = 4;
// ...for lines at least this many line heights long.
constexpr double kMinLineAspect = 2.5;
// A banner covers at most this many times the text region's area (a line of a two-line banner
// shares it).
constexpr int kMaxBannerArea = 8;
// BGR levels around a box's mode colour that still count as that colour.
constexpr int kModeTolerance = 16;
// Lines tilted more than this (degrees) are not searched for a bar along the image.
constexpr double kMaxBarTilt = 10;
// Translucency (a watermark laid over the product): the glyph cores are the surface under them
// blended towards one light colour W, I = (1 - a)·B + a·W. B is the surface around the glyphs,
// smoothed over this many line heights (Gaussian sigma) from the pixels at least
// kGlyphClearance line heights (and 2 px) away from the ink.
constexpr double kSurfaceSigma = 0.25;
constexpr double kGlyphClearance = 0.06;
// Only text whose ink is mostly (this share) lighter than its surroundings is measured.
constexpr double kMinLightInk = 0.5;
// Glyph pixels: lighter than the surface's median around them by this many grey levels.
constexpr double kGlyphStep = 12;
// The fit of I on B over the cores' pixels and channels: opacity a = 1 - slope within
// [kMinOpacity, kMaxOpacity], W = intercept / a at least kMinOverlayWhite (white or light grey:
// a dark print shaded with the surface fits I = r·B, a "black overlay", so dark overlays are not
// claimed here) and at most kMaxOverlayWhite (over a narrow range of surface the slope is loose:
// the demo orange's 35% white line fits a = 0.17, W = 329), at least kMinFitShare of the samples
// within kFitTolerance levels of it ("one a fits the glyphs": rendered translucent lines 0.97-1.0,
// white print on cnocr_shupai's bottles 0.61-0.71, the tests' opaque cream print 0.44).
constexpr double kMinOpacity = 0.1;
constexpr double kMaxOpacity = 0.9;
constexpr double kMinOverlayWhite = 170;
constexpr double kMaxOverlayWhite = 350;
constexpr double kFitTolerance = 14;
constexpr double kMinFitShare = 0.85;
// ...and the glyphs follow the surface across the region: the surface under the cores varies by
// at least kMinSurfaceVariation levels (standard deviation within each channel), the cores'
// values correlate with it by at least kMinFollow, with a slope (within each channel) within
// kSlopeTolerance of 1 - a. Opaque print keeps its colour, or is shaded in proportion (a slope
// of ink / surface, far from 1 - a), whatever the surface does.
constexpr double kMinSurfaceVariation = 5;
constexpr double kMinFollow = 0.5;
constexpr double kSlopeTolerance = 0.3;
// ...and the glyph pixels' opacities (their kTopOpacityQuantile) reach at most kOpacityReach
// above the fitted one.
constexpr double kTopOpacityQuantile = 0.9;
constexpr double kOpacityReach = 0.1;
// Glyph cores measured: at least this many pixels.
constexpr int kMinCorePixels = 40;
// Drop shadow: dark pixels are at least kShadowStep grey levels below the surface's median around
// them (as the translucency cue's surface, a line wide), in strokes at most kMaxShadowStroke line
// heights thick (a crescent beside each glyph stroke: 0.12-0.18 on the labelled set's and the
// tests' captions; not a dark box behind white text, nor a teapot handle's 0.25 ring around the
// pale backdrop). The glyphs are sampled kShadowProbe line heights (at least 2 px) from them
// against the shadow's direction, past the crescents' anti-aliased rim and inside the region (not
// the product around a box), and what lies beyond the shadow as far along it. A shadow:
// - at least kShadowGlyphShare of the glyph samples within kFillTolerance of their main colour,
//   that colour flat (kFlatSpread), in thin strokes (kMaxStroke) and kShadowContrast ΔE76 from
//   the surroundings' median;
// - the glyphs and the surroundings as many L units lighter than the dark pixels (a shadow darkens
//   what it falls on; the rim of an orange box behind white text is dark against the yellow
//   product beside it, but the box's own colour is beside it; white text on a narrow red bar
//   makes the bar dark against a median that mixes in the glyphs, but the bar is its
//   surroundings);
// - a share of the samples beyond the shadow in the glyph colour at least kShadowOneSided lower
//   (CJK strokes close together put the next stroke beyond a shadow: the duck's 包邮 0.96 against
//   0.49). A dark print on a flat label has the label on both sides of its strokes; a blurred
//   dark edge is dark all around.
constexpr double kShadowStep = 20;
constexpr double kMaxShadowStroke = 0.2;
constexpr double kShadowProbe = 0.05;
constexpr double kShadowGlyphShare = 0.7;
constexpr double kShadowOneSided = 0.35;
constexpr double kShadowContrast = 10;
// Weights: a box behind the text alone decides; the others need company.
constexpr double kBannerWeight = 2;
constexpr double kOutlineWeight = 1;
constexpr double kFlatWeight = 0.5;
constexpr double kPromoWeight = 1;
constexpr double kSharpWeight = 1;
constexpr double kTiltWeight = 0.5;
constexpr double kColourOnlyWeight = 1.5;
constexpr double kShadowWeight = 1.5;
// A translucent overlay decides alone.
constexpr double kTranslucentWeight = kDrawnOverScore;

// Lab pixels of `lab` (CV_32FC3) where `mask` is set.
std::vector<cv::Vec3f> Pixels(const cv::Mat& lab, const cv::Mat& mask) {
  std::vector<cv::Vec3f> out;
  for (int y = 0; y < mask.rows; ++y) {
    for (int x = 0; x < mask.cols; ++x) {
      if (mask.at<uchar>(y, x)) out.push_back(lab.at<cv::Vec3f>(y, x));
    }
  }
  return out;
}

// Per-channel median.
cv::Vec3f Median(std::vector<cv::Vec3f> pixels) {
  cv::Vec3f out;
  for (int c = 0; c < 3; ++c) {
    std::vector<float> values(pixels.size());
    for (size_t i = 0; i < pixels.size(); ++i) values[i] = pixels[i][c];
    std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
    out[c] = values[values.size() / 2];
  }
  return out;
}

// The main colour of `pixels` (CIELAB): the mean of the most populated 4 ΔE-unit cell (L, a
// and b quantised alike), refined once as the mean of the pixels within kFillTolerance of it.
cv::Vec3f MainColour(const std::vector<cv::Vec3f>& pixels) {
  std::map<std::tuple<int, int, int>, std::pair<cv::Vec3d, int>> cells;
  auto key = [](const cv::Vec3f& p) {
    return std::make_tuple(cvFloor(p[0] / 4), cvFloor(p[1] / 4), cvFloor(p[2] / 4));
  };
  for (const cv::Vec3f& p : pixels) {
    auto& [sum, count] = cells[key(p)];
    sum += cv::Vec3d(p);
    ++count;
  }
  auto best = std::max_element(cells.begin(), cells.end(), [](const auto& a, const auto& b) {
    return a.second.second < b.second.second;
  });
  const cv::Vec3f mode(best->second.first * (1.0 / best->second.second));
  cv::Vec3d sum(0, 0, 0);
  int count = 0;
  for (const cv::Vec3f& p : pixels) {
    if (cv::norm(p - mode) <= kFillTolerance) sum += cv::Vec3d(p), ++count;
  }
  return cv::Vec3f(sum * (1.0 / count));
}

// Median of the distances of `pixels` to `colour` that are within `tolerance` of it, and the
// share of `pixels` within it.
std::pair<double, double> SpreadAround(const std::vector<cv::Vec3f>& pixels, cv::Vec3f colour,
                                       double tolerance) {
  std::vector<float> near;
  for (const cv::Vec3f& p : pixels) {
    const float d = static_cast<float>(cv::norm(p - colour));
    if (d <= tolerance) near.push_back(d);
  }
  if (near.empty()) return {tolerance, 0.0};
  std::nth_element(near.begin(), near.begin() + near.size() / 2, near.end());
  return {near[near.size() / 2], static_cast<double>(near.size()) / pixels.size()};
}

// ΔE76 from `colour` to the nearest mix of `a` and `b` (CIELAB): mixed in sRGB (anti-aliasing,
// JPEG) and in linear light (lens blur), both ends included.
double MixDistance(const cv::Vec3f& colour, const cv::Vec3f& a, const cv::Vec3f& b) {
  cv::Mat ends(1, 2, CV_32FC3);
  ends.at<cv::Vec3f>(0, 0) = a;
  ends.at<cv::Vec3f>(0, 1) = b;
  const cv::Mat bgr = LabToBgr(ends);
  const cv::Vec3b from = bgr.at<cv::Vec3b>(0, 0), to = bgr.at<cv::Vec3b>(0, 1);
  cv::Mat mixes(2, kMixSteps + 1, CV_8UC3);
  for (int i = 0; i <= kMixSteps; ++i) {
    const float t = static_cast<float>(i) / kMixSteps;
    for (int c = 0; c < 3; ++c) {
      mixes.at<cv::Vec3b>(0, i)[c] = cv::saturate_cast<uchar>((1 - t) * from[c] + t * to[c]);
      mixes.at<cv::Vec3b>(1, i)[c] =
          LinearToSrgb((1 - t) * SrgbToLinear(from[c]) + t * SrgbToLinear(to[c]));
    }
  }
  const cv::Mat lab = BgrToLab(mixes);
  double nearest = cv::norm(colour - a);
  for (int y = 0; y < lab.rows; ++y) {
    for (int x = 0; x < lab.cols; ++x) {
      nearest = std::min(nearest, cv::norm(colour - lab.at<cv::Vec3f>(y, x)));
    }
  }
  return nearest;
}

// Edge sharpness where `mask` is set: the strong gradients of L (Sobel, in L per pixel) against
// the L range there. An anti-aliased step drawn on the pixel grid gives about 0.5; the same edge
// through a lens (blur σ ≈ 1 px) about 0.2.
double Sharpness(const cv::Mat& gradient, const cv::Mat& light, const cv::Mat& mask) {
  std::vector<float> g, l;
  for (int y = 0; y < mask.rows; ++y) {
    for (int x = 0; x < mask.cols; ++x) {
      if (!mask.at<uchar>(y, x)) continue;
      g.push_back(gradient.at<float>(y, x));
      l.push_back(light.at<float>(y, x));
    }
  }
  if (g.size() < 16) return 0;
  auto quantile = [](std::vector<float>& v, double q) {
    const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * v.size()));
    std::nth_element(v.begin(), v.begin() + k, v.end());
    return static_cast<double>(v[k]);
  };
  const double range = quantile(l, 0.98) - quantile(l, 0.02);
  if (range < kMinEdgeContrast) return 0;
  return quantile(g, 0.97) / range;
}

// Thickness of the strokes of `mask` (CV_8UC1) in line heights `h`: twice the 98th percentile of
// its pixels' distance to its edge; 0 for an empty mask.
double StrokeThickness(const cv::Mat& mask, double h) {
  cv::Mat inward;
  cv::distanceTransform(mask, inward, cv::DIST_L2, 3);
  std::vector<float> depths;
  for (int y = 0; y < mask.rows; ++y) {
    for (int x = 0; x < mask.cols; ++x) {
      if (mask.at<uchar>(y, x)) depths.push_back(inward.at<float>(y, x));
    }
  }
  if (depths.empty()) return 0;
  const size_t k = std::min(depths.size() - 1, static_cast<size_t>(0.98 * depths.size()));
  std::nth_element(depths.begin(), depths.begin() + k, depths.end());
  return 2 * depths[k] / h;
}

// `mask` moved by −`by`: out(p) = mask(p + by), 0 where p + by is off the mask.
cv::Mat Shifted(const cv::Mat& mask, cv::Point by) {
  cv::Mat out(mask.size(), mask.type(), cv::Scalar(0));
  const cv::Rect all(cv::Point(0, 0), mask.size());
  const cv::Rect from = all & (all + by);
  if (!from.empty()) mask(from).copyTo(out(from - by));
  return out;
}

// Grey levels of `bgr` (CV_8UC3) above the surface's median around them, over a window a line of
// height `h` wide (CV_16SC1): light glyphs are positive, dark ones and shadows negative.
cv::Mat AboveSurface(const cv::Mat& bgr, double h) {
  cv::Mat grey, surface, out;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::medianBlur(grey, surface, std::max(3, 2 * cvRound(0.4 * h) + 1));
  cv::subtract(grey, surface, out, cv::noArray(), CV_16S);
  return out;
}

}  // namespace

double LineAngle(const models::TextRegion& region) {
  const float length = std::max(region.box.size.width, region.box.size.height);
  if (length < kMinAngleAspect * LineHeight(region)) return 0;
  double angle = region.box.angle + (region.box.size.width < region.box.size.height ? 90 : 0);
  angle = std::fmod(angle + 90, 180.0);
  if (angle < 0) angle += 180;
  return angle - 90;
}

// Line height of a region: the short side of its rectangle.
double LineHeight(const models::TextRegion& region) {
  return std::max(1.0f, std::min(region.box.size.width, region.box.size.height));
}

models::TextRegion Scaled(const models::TextRegion& region, double sx, double sy, cv::Point2f off) {
  models::TextRegion out = region;
  for (cv::Point2f& p : out.polygon) p = cv::Point2f(p.x * sx - off.x, p.y * sy - off.y);
  return out;
}

// The region's pixels inside `roi` (a CV_8UC1 mask of roi's size), grown by `grow` px.
cv::Mat RegionMaskIn(cv::Rect roi, const models::TextRegion& region, int grow) {
  const models::TextRegion local = Scaled(region, 1, 1, cv::Point2f(roi.tl()));
  cv::Mat mask = models::RegionMask(roi.size(), {local});
  if (grow <= 0) return mask;
  // Grown as models::RegionMask grows (a disc), but only over the region's box and `grow` around
  // it, where the disc can reach: the same pixels as growing the whole window, which is several
  // times larger (FindInk's window reaches three rings out).
  const cv::Rect reach = Window(local, grow, roi.size());
  DilateDisc(mask(reach), grow).copyTo(mask(reach));
  return mask;
}

// Bounding box of the region grown by `margin`, clipped to `size`.
cv::Rect Window(const models::TextRegion& region, double margin, cv::Size size) {
  cv::Rect box = cv::boundingRect(region.polygon);
  const int m = static_cast<int>(std::ceil(margin)) + 1;
  return cv::Rect(box.x - m, box.y - m, box.width + 2 * m, box.height + 2 * m) &
         cv::Rect(cv::Point(0, 0), size);
}

// The flat-coloured box behind a text line (a red rounded rectangle behind a price), as a mask of
// `roi`'s size, or an empty Mat when the text sits on something else. The region's dominant
// colour (the box shows between the glyphs) is the candidate; the pixels of that colour connected
// to it, holes filled, must contain the region, must not reach the window's edge unless it is the
// image's (reaching it inside the image means a backdrop; a bar may run off the photo) (that is a
// backdrop, not a box) and must differ from what surrounds them.
cv::Rect BannerWindow(const models::TextRegion& region, double margin, cv::Size size) {
  const cv::Rect window = Window(region, margin, size);
  const double angle = std::fmod(std::abs(region.box.angle), 90.0);
  if (std::min(angle, 90 - angle) > kMaxBarTilt || window.empty()) return window;
  // Along the line: a horizontal line's box is wider than tall.
  const cv::Rect box = cv::boundingRect(region.polygon);
  if (box.width >= box.height) return cv::Rect(0, window.y, size.width, window.height);
  return cv::Rect(window.x, 0, window.width, size.height);
}

cv::Mat BannerMask(const cv::Mat& bgr, const models::TextRegion& region, cv::Rect roi) {
  const double h = LineHeight(region);
  const cv::Mat inside = RegionMaskIn(roi, region, 0);
  const int area = cv::countNonZero(inside);
  if (area < 16) return {};
  const cv::Mat pixels = bgr(roi);
  // Mode of the region's colours, 16 levels a channel.
  std::vector<int> histogram(16 * 16 * 16, 0);
  auto bin = [](const cv::Vec3b& p) { return (p[0] >> 4) * 256 + (p[1] >> 4) * 16 + (p[2] >> 4); };
  for (int y = 0; y < inside.rows; ++y) {
    for (int x = 0; x < inside.cols; ++x) {
      if (inside.at<uchar>(y, x)) ++histogram[bin(pixels.at<cv::Vec3b>(y, x))];
    }
  }
  const int mode =
      static_cast<int>(std::max_element(histogram.begin(), histogram.end()) - histogram.begin());
  cv::Mat in_mode(roi.size(), CV_8UC1, cv::Scalar(0));
  for (int y = 0; y < inside.rows; ++y) {
    for (int x = 0; x < inside.cols; ++x) {
      if (inside.at<uchar>(y, x) && bin(pixels.at<cv::Vec3b>(y, x)) == mode) {
        in_mode.at<uchar>(y, x) = 255;
      }
    }
  }
  // The mode's pixels and those close to them (a flat colour with JPEG noise straddles bins).
  cv::Mat near_mode;
  const cv::Scalar mode_colour = cv::mean(pixels, in_mode);
  cv::inRange(pixels, mode_colour - cv::Scalar::all(kModeTolerance),
              mode_colour + cv::Scalar::all(kModeTolerance), near_mode);
  in_mode = near_mode & inside;
  if (cv::countNonZero(in_mode) < area / 5) return {};  // no dominant colour: text on a texture
  const cv::Scalar colour = cv::mean(pixels, in_mode);
  cv::Mat similar;
  cv::inRange(pixels, colour - cv::Scalar::all(28), colour + cv::Scalar::all(28), similar);
  cv::Mat labels;
  cv::connectedComponents(similar, labels, 8, CV_32S);
  std::vector<bool> seeded(static_cast<size_t>(labels.rows) * labels.cols + 1, false);
  for (int y = 0; y < labels.rows; ++y) {
    for (int x = 0; x < labels.cols; ++x) {
      if (in_mode.at<uchar>(y, x)) seeded[labels.at<int>(y, x)] = true;
    }
  }
  cv::Mat banner(roi.size(), CV_8UC1, cv::Scalar(0));
  for (int y = 0; y < labels.rows; ++y) {
    for (int x = 0; x < labels.cols; ++x) {
      const int label = labels.at<int>(y, x);
      if (label == 0 || !seeded[label]) continue;
      // Reaching the window's edge means a backdrop, unless that edge is the image's: a bar
      // running off the photo.
      if ((x == 0 && roi.x > 0) || (y == 0 && roi.y > 0) ||
          (x == labels.cols - 1 && roi.br().x < bgr.cols) ||
          (y == labels.rows - 1 && roi.br().y < bgr.rows)) {
        return {};
      }
      banner.at<uchar>(y, x) = 255;
    }
  }
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(banner, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  cv::drawContours(banner, contours, -1, cv::Scalar(255), cv::FILLED);
  cv::Mat covered;
  cv::bitwise_and(banner, inside, covered);
  if (cv::countNonZero(covered) < 0.6 * area) return {};  // the colour does not hold the text
  if (cv::countNonZero(banner) > kMaxBannerArea * area) return {};
  // A banner stands out from its surroundings; a band of a smooth gradient does not.
  const int reach = std::max(3, cvRound(h / 4));
  cv::Mat outside;
  cv::dilate(banner, outside,
             cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * reach + 1, 2 * reach + 1)));
  outside.setTo(0, banner);
  if (cv::countNonZero(outside) < 8) return {};
  if (cv::norm(cv::mean(pixels, outside) - colour) < 40) return {};
  // The banner's anti-aliased rim and its own shadow.
  const int rim = 2 + cvRound(h / 20);
  cv::dilate(banner, banner,
             cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * rim + 1, 2 * rim + 1)));
  return banner;
}

bool TiltedFromAxes(const models::TextRegion& region) {
  const double tilt = std::abs(LineAngle(region));
  return tilt >= kWatermarkTilt && tilt <= 90 - kWatermarkTilt;
}

bool WatermarkCandidate(const models::TextRegion& region) { return !region.chroma_view; }

bool TiltedAlike(const models::TextRegion& reference, const models::TextRegion& line) {
  const double ratio = LineHeight(line) / LineHeight(reference);
  return std::abs(LineAngle(line) - LineAngle(reference)) <= kSameTilt && ratio >= 0.75 &&
         ratio <= 1.0 / 0.75;
}

double ShareIn(const models::TextRegion& region, const cv::Mat& mask) {
  const cv::Rect roi = Window(region, 0, mask.size());
  if (roi.empty()) return 0;
  const cv::Mat inside = RegionMaskIn(roi, region, 0);
  const int area = cv::countNonZero(inside);
  return area ? static_cast<double>(cv::countNonZero(inside & mask(roi))) / area : 0.0;
}

namespace {

// The ink of `region` in `bgr`: the region's pixels that stand out from what surrounds it (Otsu
// on their ΔE76 from the surroundings' median colour, at least 2 · kMinInkContrast), in the window
// `roi`. Empty when the region is too small, off the image or holds too little ink to measure.
struct Ink {
  cv::Rect roi;    // window of the image the masks below cover
  cv::Mat lab;     // CIELAB of bgr(roi), CV_32FC3
  cv::Mat inside;  // the region, CV_8UC1
  cv::Mat grown;   // the region grown by `ring`, CV_8UC1
  cv::Mat ink;     // its ink, CV_8UC1
  cv::Vec3f backdrop;
  int ring = 0;  // px of surroundings measured around the region
  bool empty() const { return ink.empty(); }
};

Ink FindInk(const cv::Mat& bgr, const models::TextRegion& region) {
  Ink out;
  const double h = LineHeight(region);
  out.ring = std::max(3, cvRound(0.4 * h));
  out.roi = Window(region, 3 * out.ring, bgr.size());
  if (out.roi.empty()) return out;
  out.inside = RegionMaskIn(out.roi, region, 0);
  if (cv::countNonZero(out.inside) < 32) return out;
  out.lab = BgrToLab(bgr(out.roi));
  out.grown = RegionMaskIn(out.roi, region, out.ring);
  const cv::Mat near = out.grown & ~out.inside;
  const std::vector<cv::Vec3f> around = Pixels(out.lab, near);
  if (around.size() < 16) return out;
  out.backdrop = Median(around);
  cv::Mat distance(out.roi.size(), CV_8UC1, cv::Scalar(0));
  std::vector<uchar> inside_distances;
  for (int y = 0; y < out.roi.height; ++y) {
    for (int x = 0; x < out.roi.width; ++x) {
      if (!out.inside.at<uchar>(y, x)) continue;
      const double d = std::min(255.0, 2 * cv::norm(out.lab.at<cv::Vec3f>(y, x) - out.backdrop));
      distance.at<uchar>(y, x) = static_cast<uchar>(d);
      inside_distances.push_back(static_cast<uchar>(d));
    }
  }
  cv::Mat unused, ink;
  const double otsu =
      cv::threshold(cv::Mat(inside_distances), unused, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  cv::compare(distance, std::max(otsu, 2.0 * kMinInkContrast), ink, cv::CMP_GT);
  if (cv::countNonZero(ink) < 0.03 * inside_distances.size()) return out;
  out.ink = ink;
  return out;
}

// Fills the translucency cues of `cues` from the ink `found` of a region of line height `h` in
// `bgr` (`above`: AboveSurface() of bgr(found.roi)): fits I = (1 - a)·B + a·W over the glyph cores
// (the ink shrunk by a pixel, where the glyph's coverage is full) against the surface B around them
// (TranslucentFit below).
void MeasureTranslucency(const cv::Mat& bgr, const Ink& found, const cv::Mat& above, double h,
                         OverlayCues* cues) {
  // The text is the light part: most of its ink is lighter than its surroundings (the paper
  // between a dark script's strokes is lighter than their mix, and follows it).
  int ink = 0, lighter_ink = 0;
  for (int y = 0; y < found.ink.rows; ++y) {
    for (int x = 0; x < found.ink.cols; ++x) {
      if (!found.ink.at<uchar>(y, x)) continue;
      ++ink;
      lighter_ink += found.lab.at<cv::Vec3f>(y, x)[0] > found.backdrop[0];
    }
  }
  if (lighter_ink < kMinLightInk * ink) return;
  cv::Mat image;
  bgr(found.roi).convertTo(image, CV_32FC3);
  // A light overlay's glyphs: brighter than the surface's median around them by kGlyphStep.
  cv::Mat glyphs = above > kGlyphStep;
  const int clearance = std::max(2, cvRound(kGlyphClearance * h));
  cv::Mat near_ink, surface_mask, weight, surface;
  cv::dilate(glyphs, near_ink,
             cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * clearance + 1, 2 * clearance + 1}));
  cv::bitwise_not(near_ink, surface_mask);
  surface_mask.convertTo(weight, CV_32FC1, 1.0 / 255);
  // Normalised convolution: the surface's pixels averaged over a Gaussian, the ink's left out.
  const double sigma = std::max(2.0, kSurfaceSigma * h);
  cv::Mat weighted;
  cv::Mat weight3;
  cv::merge(std::vector<cv::Mat>(3, weight), weight3);
  cv::GaussianBlur(image.mul(weight3), weighted, cv::Size(), sigma);
  cv::GaussianBlur(weight, weight, cv::Size(), sigma);
  cv::Mat cores;
  cv::erode(glyphs, cores, cv::Mat());
  cores &= found.inside;
  if (cv::countNonZero(cores) < kMinCorePixels) cores = glyphs & found.inside;
  // Samples: (B, I) per core pixel and channel, and their channel for the spatial fit.
  std::vector<cv::Vec3f> glyph, under;
  for (int y = 0; y < cores.rows; ++y) {
    for (int x = 0; x < cores.cols; ++x) {
      const float w = weight.at<float>(y, x);
      if (!cores.at<uchar>(y, x) || w < 0.05f) continue;
      glyph.push_back(image.at<cv::Vec3f>(y, x));
      under.push_back(weighted.at<cv::Vec3f>(y, x) / w);
    }
  }
  if (static_cast<int>(glyph.size()) < kMinCorePixels) return;
  // I = c0 + c1·B over every channel (W grey: one intercept), refitted once on the samples
  // within kFitTolerance of the first fit (ink the region's box took from the product's own
  // marks does not follow the overlay).
  const size_t n = glyph.size();
  std::vector<bool> used(3 * n, true);
  double c0 = 0, c1 = 0;
  for (int pass = 0; pass < 2; ++pass) {
    double sb = 0, si = 0, sbb = 0, sbi = 0, count = 0;
    for (size_t k = 0; k < 3 * n; ++k) {
      if (!used[k]) continue;
      const double b = under[k / 3][k % 3], i = glyph[k / 3][k % 3];
      sb += b, si += i, sbb += b * b, sbi += b * i, count += 1;
    }
    const double det = count * sbb - sb * sb;
    if (count < kMinCorePixels || det <= 1e-6) return;
    c1 = (count * sbi - sb * si) / det;
    c0 = (si - c1 * sb) / count;
    for (size_t k = 0; k < 3 * n; ++k) {
      const double b = under[k / 3][k % 3], i = glyph[k / 3][k % 3];
      used[k] = std::abs(i - (c0 + c1 * b)) <= kFitTolerance;
    }
  }
  cues->opacity = 1 - c1;
  cues->overlay_white = cues->opacity > 1e-3 ? c0 / cues->opacity : 0;
  cues->fit_share = std::count(used.begin(), used.end(), true) / (3.0 * n);
  // The glyphs follow the surface: within each channel (means removed), across the fitted
  // samples.
  cv::Vec3d mean_b(0, 0, 0), mean_i(0, 0, 0), counts(0, 0, 0);
  for (size_t k = 0; k < 3 * n; ++k) {
    if (!used[k]) continue;
    const int c = static_cast<int>(k % 3);
    mean_b[c] += under[k / 3][c], mean_i[c] += glyph[k / 3][c], counts[c] += 1;
  }
  double sbb = 0, sii = 0, sbi = 0, count = 0;
  for (size_t k = 0; k < 3 * n; ++k) {
    const int c = static_cast<int>(k % 3);
    if (!used[k] || counts[c] < 2) continue;
    const double b = under[k / 3][c] - mean_b[c] / counts[c];
    const double i = glyph[k / 3][c] - mean_i[c] / counts[c];
    sbb += b * b, sii += i * i, sbi += b * i, count += 1;
  }
  if (count < kMinCorePixels) return;
  // One opacity: the glyph pixels' own opacities (the least squares α of I − B on W − B over the
  // channels) reach little above the fitted one. Opaque print softened by the lens or
  // anti-aliased has a continuum of partial pixels up to full coverage; the fit lands in its
  // middle.
  std::vector<float> alphas;
  const cv::Vec3f white = cv::Vec3f::all(static_cast<float>(cues->overlay_white));
  for (int y = 0; y < glyphs.rows; ++y) {
    for (int x = 0; x < glyphs.cols; ++x) {
      const float w = weight.at<float>(y, x);
      if (!glyphs.at<uchar>(y, x) || !found.inside.at<uchar>(y, x) || w < 0.05f) continue;
      const cv::Vec3f b = weighted.at<cv::Vec3f>(y, x) / w;
      const double span = (white - b).dot(white - b);
      if (span > 1) alphas.push_back((image.at<cv::Vec3f>(y, x) - b).dot(white - b) / span);
    }
  }
  if (alphas.size() < static_cast<size_t>(kMinCorePixels)) return;
  const size_t top = static_cast<size_t>(kTopOpacityQuantile * (alphas.size() - 1));
  std::nth_element(alphas.begin(), alphas.begin() + top, alphas.end());
  cues->top_opacity = alphas[top];
  cues->surface_variation = std::sqrt(sbb / count);
  cues->follow = sbb > 0 && sii > 0 ? sbi / std::sqrt(sbb * sii) : 0;
  cues->follow_slope = sbb > 0 ? sbi / sbb : 0;
  cues->translucent = cues->opacity >= kMinOpacity && cues->opacity <= kMaxOpacity &&
                      cues->overlay_white >= kMinOverlayWhite &&
                      cues->overlay_white <= kMaxOverlayWhite && cues->fit_share >= kMinFitShare &&
                      cues->surface_variation >= kMinSurfaceVariation &&
                      cues->follow >= kMinFollow &&
                      std::abs(cues->follow_slope - (1 - cues->opacity)) <= kSlopeTolerance &&
                      cues->top_opacity <= cues->opacity + kOpacityReach;
}

// Fills the drop-shadow cues of `cues` for a region of line height `h`, from its ink `found` and
// `above` (AboveSurface() of its window): the dark pixels around the region (found.grown), and for
// each of the eight directions the shadow may be offset in, the pixels beside them against it (the
// glyphs) and beyond them along it (the surface); the direction whose glyph side is most one colour
// that the far side lacks is the shadow's.
void MeasureDropShadow(const Ink& found, const cv::Mat& above, double h, OverlayCues* cues) {
  const cv::Mat& zone = found.grown;
  const cv::Mat dark = (above < -kShadowStep) & zone;
  if (cv::countNonZero(dark) < kMinCorePixels) return;
  // A shadow is a thin crescent beside each stroke, not a dark box or area.
  cues->shadow_thickness = StrokeThickness(dark, h);
  if (cues->shadow_thickness > kMaxShadowStroke) return;
  cv::Mat near_dark;
  cv::dilate(dark, near_dark, cv::Mat());
  const cv::Mat clear = zone & ~near_dark;
  const int probe = std::max(2, cvRound(kShadowProbe * h));
  double best = 0;
  cv::Vec3f glyph_colour;
  double glyph_spread = 0;
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      if (dx == 0 && dy == 0) continue;
      const cv::Point step(dx * probe, dy * probe);
      const std::vector<cv::Vec3f> glyph =
          Pixels(found.lab, Shifted(dark, step) & clear & found.inside);
      const std::vector<cv::Vec3f> far = Pixels(found.lab, Shifted(dark, -step) & clear);
      if (std::min(glyph.size(), far.size()) < static_cast<size_t>(kMinCorePixels)) continue;
      const cv::Vec3f colour = MainColour(glyph);
      const auto [spread, share] = SpreadAround(glyph, colour, kFillTolerance);
      const double far_share = SpreadAround(far, colour, kFillTolerance).second;
      if (share - far_share <= best) continue;
      best = share - far_share;
      cues->shadow_direction = cv::Point(dx, dy);
      cues->shadow_glyph_share = share;
      cues->shadow_far_share = far_share;
      glyph_colour = colour;
      glyph_spread = spread;
    }
  }
  if (best <= 0) return;
  cues->shadow_contrast = cv::norm(glyph_colour - found.backdrop);
  if (cues->shadow_glyph_share < kShadowGlyphShare || best < kShadowOneSided ||
      cues->shadow_contrast < kShadowContrast || glyph_spread > kFlatSpread ||
      std::min(glyph_colour[0], found.backdrop[0]) - Median(Pixels(found.lab, dark))[0] <
          kShadowContrast) {
    return;
  }
  // The glyphs' colour lies in strokes, not in a flat area of the product beside a dark edge.
  cv::Mat glyphs(found.roi.size(), CV_8UC1, cv::Scalar(0));
  for (int y = 0; y < glyphs.rows; ++y) {
    for (int x = 0; x < glyphs.cols; ++x) {
      glyphs.at<uchar>(y, x) = zone.at<uchar>(y, x) && cv::norm(found.lab.at<cv::Vec3f>(y, x) -
                                                                glyph_colour) <= kFillTolerance
                                   ? 255
                                   : 0;
    }
  }
  if (StrokeThickness(glyphs, h) > kMaxStroke) return;
  cues->drop_shadow = true;
  cues->flat = true;
  cues->chroma = std::hypot(glyph_colour[1], glyph_colour[2]);
  cues->hue = std::atan2(glyph_colour[2], glyph_colour[1]) * 180 / CV_PI;
  cues->promo_colour =
      cues->chroma >= kPromoChroma && cues->hue >= kPromoHueFrom && cues->hue <= kPromoHueTo;
}

// Whether `region` (in `bgr`'s coordinates) is print on a pale product surface the segmenter
// missed: at least kInkOnProduct of its ink lies on the product (pixels of `labels`, the product
// mask's components, at (x · sx, y · sy), above 0) and the ink runs across the part of the region
// off the product too (kInkAcross of it lies within half a line height of ink). Overlay text whose
// glyphs vanish on the background (white text on white) has ink only over the product.
bool InkOnPaleSurface(const cv::Mat& bgr, const models::TextRegion& region, const cv::Mat& labels,
                      double sx, double sy) {
  const Ink found = FindInk(bgr, region);
  if (found.empty()) return false;
  const int reach = std::max(2, cvRound(0.5 * LineHeight(region)));
  cv::Mat inked;
  cv::dilate(found.ink, inked,
             cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * reach + 1, 2 * reach + 1}));
  int ink = 0, on = 0, off = 0, off_inked = 0;
  for (int y = 0; y < found.ink.rows; ++y) {
    for (int x = 0; x < found.ink.cols; ++x) {
      if (!found.inside.at<uchar>(y, x)) continue;
      const int py = std::min(labels.rows - 1, cvFloor((y + found.roi.y + 0.5) * sy));
      const int px = std::min(labels.cols - 1, cvFloor((x + found.roi.x + 0.5) * sx));
      const bool on_product = labels.at<int>(py, px) > 0;
      if (found.ink.at<uchar>(y, x)) ink += 1, on += on_product;
      if (!on_product) off += 1, off_inked += inked.at<uchar>(y, x) > 0;
    }
  }
  return ink > 0 && on >= kInkOnProduct * ink && off_inked >= kInkAcross * off;
}

// The product's outline: the convex hull of the product mask's components (`labels` and `stats`
// as connectedComponentsWithStats gives them) of at least kSilhouettePiece of the largest one's
// area (specks left out), CV_8UC1 of labels' size; all 0 without a product.
cv::Mat Silhouette(const cv::Mat& labels, const cv::Mat& stats) {
  int largest = 0;
  for (int i = 1; i < stats.rows; ++i)
    largest = std::max(largest, stats.at<int>(i, cv::CC_STAT_AREA));
  std::vector<bool> kept(stats.rows, false);
  for (int i = 1; i < stats.rows; ++i) {
    kept[i] = stats.at<int>(i, cv::CC_STAT_AREA) >= kSilhouettePiece * largest;
  }
  std::vector<cv::Point> points, hull;
  for (int y = 0; y < labels.rows; ++y) {
    for (int x = 0; x < labels.cols; ++x) {
      if (kept[labels.at<int>(y, x)]) points.emplace_back(x, y);
    }
  }
  cv::Mat out(labels.size(), CV_8UC1, cv::Scalar(0));
  if (points.empty()) return out;
  cv::convexHull(points, hull);
  cv::fillConvexPoly(out, hull, cv::Scalar(255));
  return out;
}

// How linear-light luminance changes per pixel across `mask` of `bgr` (CV_8UC3), relative to its
// mean: (∂Y/∂x, ∂Y/∂y) / mean Y of the least-squares plane fitted to Y. Zero for fewer than 16
// pixels or a black area.
cv::Vec2d RelativeLightSlope(const cv::Mat& bgr, const cv::Mat& mask) {
  cv::Matx33d normal = cv::Matx33d::zeros();
  cv::Vec3d right(0, 0, 0);
  int count = 0;
  for (int y = 0; y < mask.rows; ++y) {
    for (int x = 0; x < mask.cols; ++x) {
      if (!mask.at<uchar>(y, x)) continue;
      const cv::Vec3b& p = bgr.at<cv::Vec3b>(y, x);
      const double light =
          0.0722 * SrgbToLinear(p[0]) + 0.7152 * SrgbToLinear(p[1]) + 0.2126 * SrgbToLinear(p[2]);
      const cv::Vec3d row(1, x, y);
      normal += row * row.t();
      right += row * light;
      ++count;
    }
  }
  if (count < 16) return {0, 0};
  cv::Vec3d plane;
  if (!cv::solve(normal, right, plane, cv::DECOMP_SVD)) return {0, 0};
  const double mean = right[0] / count;
  if (mean <= 1e-4) return {0, 0};
  return cv::Vec2d(plane[1], plane[2]) / mean;
}

// Characters (UTF-8 code points) in `text`, spaces not counted.
int Characters(const std::string& text) {
  int count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 && c != ' ';
  return count;
}

// Whether a region that reads as text (kReadable, and not a lone glyph read poorly) continues the
// line of region `i`: their boxes overlap by most of the smaller one across the line and lie at
// most the smaller line height apart along it. Then `i` is part of that text (a "¥" the detector
// split off a price), not a lone shape (a wheel next to a printed number is not on its line).
bool BesideText(const std::vector<models::TextRegion>& regions,
                const std::vector<TextFinding>& findings, size_t i) {
  const cv::Rect a = cv::boundingRect(regions[i].polygon);
  for (size_t j = 0; j < regions.size(); ++j) {
    const TextFinding& other = findings[j];
    if (j == i || other.text.empty() || other.confidence < kReadable) continue;
    if (Characters(other.text) == 1 && other.confidence < kLoneGlyphReadable) continue;
    const cv::Rect b = cv::boundingRect(regions[j].polygon);
    const double apart = std::min(LineHeight(regions[i]), LineHeight(regions[j]));
    const int overlap_x = std::min(a.br().x, b.br().x) - std::max(a.x, b.x);
    const int overlap_y = std::min(a.br().y, b.br().y) - std::max(a.y, b.y);
    const bool on_a_row =
        overlap_y >= kSameLine * std::min(a.height, b.height) && -overlap_x <= apart;
    const bool in_a_column =
        overlap_x >= kSameLine * std::min(a.width, b.width) && -overlap_y <= apart;
    if (on_a_row || in_a_column) return true;
  }
  return false;
}

// Whether the copies `group` (indices into `regions`, image coordinates) of one repeated text are
// each printed on an instance of one product rather than a tiled watermark: every copy level (not
// TiltedFromAxes), opaque (its cues, measured into `cues` if not there yet, not translucent),
// within the product (kInsideProduct of it on `product`, CV_8UC1 at `sx`, `sy` of the image), and
// at the same place on the product around it (kAlikeSurroundings). A tiled watermark is
// translucent, usually tilted, and crosses backdrop and product alike.
bool OnAlikeProducts(const cv::Mat& bgr, const cv::Mat& product,
                     const std::vector<models::TextRegion>& regions,
                     const std::vector<size_t>& group, double sx, double sy,
                     std::vector<std::optional<OverlayCues>>* cues) {
  if (product.empty() || group.size() < 2) return false;
  std::vector<cv::Point2d> centres;
  double width = 0, height = 0, line = 0;
  for (size_t i : group) {
    if (TiltedFromAxes(regions[i])) return false;
    const models::TextRegion small = Scaled(regions[i], sx, sy, cv::Point2f(0, 0));
    if (ShareIn(small, product) < kInsideProduct) return false;
    const cv::Rect box = cv::boundingRect(small.polygon);
    centres.emplace_back(box.x + box.width / 2.0, box.y + box.height / 2.0);
    width = std::max(width, static_cast<double>(box.width));
    height = std::max(height, static_cast<double>(box.height));
    line = std::max(line, LineHeight(regions[i]) * std::min(sx, sy));
  }
  for (size_t i : group) {
    std::optional<OverlayCues>& measured = (*cues)[i];
    if (!measured) measured = MeasureOverlayCues(bgr, regions[i]);
    if (measured->translucent) return false;
  }
  double gap = std::numeric_limits<double>::max();
  for (size_t a = 0; a < centres.size(); ++a) {
    for (size_t b = a + 1; b < centres.size(); ++b) {
      gap = std::min(gap, std::max(std::abs(centres[a].x - centres[b].x) - width,
                                   std::abs(centres[a].y - centres[b].y) - height));
    }
  }
  const int margin = static_cast<int>(std::clamp(gap / 2, 0.0, kAlikeMargin * line));
  const cv::Size window(static_cast<int>(std::ceil(width)) + 2 * margin,
                        static_cast<int>(std::ceil(height)) + 2 * margin);
  // Off the image the product continues as at its border: a copy near the edge is not unlike the
  // others for that alone.
  const int pad = window.width + window.height;
  cv::Mat padded;
  cv::copyMakeBorder(product > 0, padded, pad, pad, pad, pad, cv::BORDER_REPLICATE);
  auto around = [&](const cv::Point2d& centre) {
    return padded(cv::Rect(static_cast<int>(std::lround(centre.x - window.width / 2.0)) + pad,
                           static_cast<int>(std::lround(centre.y - window.height / 2.0)) + pad,
                           window.width, window.height));
  };
  const cv::Mat first = around(centres[0]);
  for (size_t k = 1; k < centres.size(); ++k) {
    const cv::Mat other = around(centres[k]);
    const int joined = cv::countNonZero(first | other);
    if (joined == 0 || cv::countNonZero(first & other) < kAlikeSurroundings * joined) return false;
  }
  return true;
}

}  // namespace

OverlayCues MeasureOverlayCues(const cv::Mat& bgr, const models::TextRegion& region) {
  OverlayCues cues;
  const double h = LineHeight(region);
  const Ink found = FindInk(bgr, region);
  if (found.empty()) return cues;
  const cv::Rect roi = found.roi;
  const cv::Mat& lab = found.lab;
  const cv::Mat& inside = found.inside;
  const cv::Mat& ink = found.ink;
  const cv::Vec3f backdrop = found.backdrop;
  const std::vector<cv::Vec3f> ink_pixels = Pixels(lab, ink);
  const cv::Vec3f fill = MainColour(ink_pixels);
  const auto [spread, fill_share] = SpreadAround(ink_pixels, fill, kFillTolerance);
  cues.ink_spread = spread;
  cues.flat = spread <= kFlatSpread && fill_share >= kMinFillShare;
  cues.chroma = std::hypot(fill[1], fill[2]);
  cues.hue = std::atan2(fill[2], fill[1]) * 180 / CV_PI;
  const cv::Vec3f apart = fill - backdrop;
  cues.colour_only =
      std::hypot(apart[1], apart[2]) >= kColourOnlyChroma && std::abs(apart[0]) <= kColourOnlyLight;
  cues.promo_colour = (cues.flat || cues.colour_only) && cues.chroma >= kPromoChroma &&
                      cues.hue >= kPromoHueFrom && cues.hue <= kPromoHueTo;

  // Outline: a thin rim around the fill's pixels in one colour that is neither the fill's nor the
  // surroundings'.
  cv::Mat filled(roi.size(), CV_8UC1, cv::Scalar(0));
  for (int y = 0; y < roi.height; ++y) {
    for (int x = 0; x < roi.width; ++x) {
      if (ink.at<uchar>(y, x) && cv::norm(lab.at<cv::Vec3f>(y, x) - fill) <= kFillTolerance) {
        filled.at<uchar>(y, x) = 255;
      }
    }
  }
  // An outline runs around glyph strokes; a fill as thick as the line is the flat label the
  // glyphs sit in (a printed number in a disc), whose rim is the glyphs themselves.
  cues.fill_thickness = StrokeThickness(filled, h);
  const int rim_width = std::max(2, cvRound(kRimWidth * h));
  cv::Mat inner, outer;
  cv::dilate(filled, inner, cv::Mat());
  cv::dilate(filled, outer,
             cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * rim_width + 1, 2 * rim_width + 1}));
  outer.setTo(0, inner);
  const std::vector<cv::Vec3f> rim = Pixels(lab, outer);
  if (rim.size() >= 16) {
    const cv::Vec3f rim_colour = MainColour(rim);
    cues.rim_spread = SpreadAround(rim, rim_colour, kFillTolerance).first;
    cues.rim_contrast = MixDistance(rim_colour, fill, backdrop);
    // An outline ends: the band as wide again beyond it is mostly something else. A glyph
    // printed in a disc or on a label has its "rim" colour all around, far beyond the strokes.
    cv::Mat beyond;
    cv::dilate(
        filled, beyond,
        cv::getStructuringElement(cv::MORPH_ELLIPSE, {4 * rim_width + 1, 4 * rim_width + 1}));
    cv::dilate(outer, outer, cv::Mat());
    beyond.setTo(0, outer | inner);
    const std::vector<cv::Vec3f> band = Pixels(lab, beyond);
    cues.rim_beyond =
        band.size() >= 16 ? SpreadAround(band, rim_colour, kFillTolerance).second : 1.0;
    cues.outline = cues.flat && cues.fill_thickness <= kMaxStroke &&
                   cues.rim_beyond <= kMaxRimBeyond && cues.rim_spread <= kRimSpread &&
                   cues.rim_contrast >= kRimContrast;
  }

  // Sharpness of the text's edges (colour gradient against the ink-to-surroundings step) and of
  // the product's own edges around it.
  std::vector<cv::Mat> planes;
  cv::split(lab, planes);
  cv::Mat squared(roi.size(), CV_32FC1, cv::Scalar(0)), light_gradient;
  for (int c = 0; c < 3; ++c) {
    cv::Mat gx, gy, magnitude;
    cv::Sobel(planes[c], gx, CV_32F, 1, 0, 3, 1.0 / 8);
    cv::Sobel(planes[c], gy, CV_32F, 0, 1, 3, 1.0 / 8);
    cv::magnitude(gx, gy, magnitude);
    if (c == 0) light_gradient = magnitude.clone();
    squared += magnitude.mul(magnitude);
  }
  cv::Mat colour_gradient;
  cv::sqrt(squared, colour_gradient);
  const double step = cv::norm(fill - backdrop);
  if (step >= kMinEdgeContrast) {
    std::vector<float> g;
    for (int y = 0; y < roi.height; ++y) {
      for (int x = 0; x < roi.width; ++x) {
        if (inside.at<uchar>(y, x)) g.push_back(colour_gradient.at<float>(y, x));
      }
    }
    const size_t k = std::min(g.size() - 1, static_cast<size_t>(0.97 * g.size()));
    std::nth_element(g.begin(), g.begin() + k, g.end());
    cues.sharpness = g[k] / step;
  }
  cv::Mat wide;
  cv::bitwise_not(found.grown, wide);
  cues.product_sharpness = Sharpness(light_gradient, planes[0], wide);
  cues.sharp = cues.sharpness >= kSharpText &&
               cues.sharpness >= kSharperThanProduct * cues.product_sharpness;

  // Tilt means something only for a line (a single glyph's box has any angle).
  const double angle = std::fmod(std::abs(region.box.angle), 90.0);
  const double length = std::max(region.box.size.width, region.box.size.height);
  cues.tilt = length >= kMinLineAspect * h ? std::min(angle, 90 - angle) : 0;
  cues.tilted = cues.tilt >= kMinTilt;

  // A box behind the text, flat as drawn boxes are (a photographed surface is shaded).
  const cv::Rect window = BannerWindow(region, 1.5 * h, bgr.size());
  cv::Mat banner = BannerMask(bgr, region, window);
  if (!banner.empty()) {
    // The product around the box: a band as wide as half the line, outside the box's rim.
    const int reach = std::max(3, cvRound(h / 2));
    cv::Mat around_box, rimmed;
    cv::dilate(banner, around_box,
               cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * reach + 1, 2 * reach + 1}));
    cv::dilate(banner, rimmed, cv::Mat());
    around_box.setTo(0, rimmed);
    const int rim_px = 3 + cvRound(h / 20);
    cv::erode(banner, banner,
              cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * rim_px + 1, 2 * rim_px + 1}));
    banner.setTo(0, RegionMaskIn(window, region, 0));
    // Share of the box within kBannerTolerance of its median colour (robust to product pixels of
    // a similar colour that join a box lying on the product).
    const cv::Mat box_lab = BgrToLab(bgr(window));
    std::vector<cv::Vec3f> box = Pixels(box_lab, banner);
    cv::Mat even(window.size(), CV_8UC1, cv::Scalar(0));  // the box without glyphs on it
    if (box.size() >= 16) {
      const cv::Vec3f colour = Median(box);
      int close = 0;
      for (const cv::Vec3f& p : box) close += cv::norm(p - colour) <= kBannerTolerance;
      cues.banner_spread = 1.0 - static_cast<double>(close) / box.size();
      for (int y = 0; y < even.rows; ++y) {
        for (int x = 0; x < even.cols; ++x) {
          even.at<uchar>(y, x) = banner.at<uchar>(y, x) && cv::norm(box_lab.at<cv::Vec3f>(y, x) -
                                                                    colour) <= kShadingTolerance;
        }
      }
    }
    // Light across the box and across the product around it: a box printed on the product is
    // shaded as the product is (its light falls the same way, by a similar share); a drawn one
    // is flat whatever the product's light does.
    const cv::Rect extent = cv::boundingRect(banner);
    const double across = std::hypot(extent.width, extent.height);
    const cv::Vec2d box_light = RelativeLightSlope(bgr(window), banner);
    const cv::Vec2d product_light = RelativeLightSlope(bgr(window), around_box);
    const double product_change = cv::norm(product_light) * across;
    cues.box_shading = cv::norm(box_light) * across;
    cues.own_shading = cv::norm(RelativeLightSlope(bgr(window), even)) * across;
    cues.shaded_box =
        cues.own_shading >= kOwnShading ||
        (product_change >= kMinShading && cues.box_shading >= kShadingAlike * product_change &&
         box_light.dot(product_light) >=
             kShadingAlignment * cv::norm(box_light) * cv::norm(product_light));
    cues.banner = cues.banner_spread <= kBannerOffShare && !cues.shaded_box;
  }

  const cv::Mat above = AboveSurface(bgr(roi), h);
  MeasureTranslucency(bgr, found, above, h, &cues);
  MeasureDropShadow(found, above, h, &cues);

  cues.score = (cues.translucent ? kTranslucentWeight : 0) + (cues.banner ? kBannerWeight : 0) +
               (cues.outline ? kOutlineWeight : 0) + (cues.flat ? kFlatWeight : 0) +
               (cues.promo_colour ? kPromoWeight : 0) + (cues.sharp ? kSharpWeight : 0) +
               (cues.tilted ? kTiltWeight : 0) + (cues.drop_shadow ? kShadowWeight : 0) +
               (cues.colour_only && cues.promo_colour ? kColourOnlyWeight : 0);
  return cues;
}

std::string OverlayCues::Describe() const {
  std::string out;
  auto add = [&out](bool on, const char* name) {
    if (on) out += (out.empty() ? "" : ", ") + std::string(name);
  };
  if (translucent) {
    char text[96];
    std::snprintf(text, sizeof(text), "translucent (opacity %.2f towards %.0f)", opacity,
                  overlay_white);
    add(true, text);
  }
  add(banner, "banner box");
  add(shaded_box, "a shaded box (print)");
  add(outline, "outline");
  add(drop_shadow, "drop shadow");
  add(flat, "flat colour");
  add(colour_only, "colour only (the lightness of the product)");
  add(promo_colour, "promotional colour");
  add(sharp, "sharper than the product");
  add(tilted, "tilted");
  char score_text[32];
  std::snprintf(score_text, sizeof(score_text), "score %.1f", score);
  return (out.empty() ? std::string("no overlay cue") : out) + "; " + score_text;
}

void ClassifyText(const cv::Mat& bgr, const cv::Mat& product,
                  const std::vector<models::TextRegion>& regions, bool recognised,
                  std::vector<TextFinding>* findings,
                  std::vector<std::optional<OverlayCues>>* cues) {
  findings->resize(regions.size());
  std::vector<std::optional<OverlayCues>> own;
  if (cues == nullptr) cues = &own;
  cues->resize(regions.size());
  std::map<std::string, std::vector<size_t>> copies;  // text -> the regions that read it
  for (size_t i = 0; i < findings->size(); ++i) {
    if (!(*findings)[i].text.empty()) copies[(*findings)[i].text].push_back(i);
  }
  // Lines tilted alike and of one height: the copies of a tiled watermark (recognition reads
  // translucent copies differently, so their text does not repeat exactly).
  std::vector<int> alike(regions.size(), 0);
  for (size_t i = 0; i < regions.size(); ++i) {
    const double tilt = LineAngle(regions[i]);
    if (std::abs(tilt) < kWatermarkTilt || std::abs(tilt) > 90 - kWatermarkTilt) continue;
    if (!WatermarkCandidate(regions[i])) continue;
    for (size_t j = 0; j < regions.size(); ++j) {
      alike[i] += WatermarkCandidate(regions[j]) && TiltedAlike(regions[i], regions[j]);
    }
  }
  cv::Mat labels, stats, centroids;
  double sx = 1, sy = 1;
  if (!product.empty()) {
    cv::connectedComponentsWithStats(product, labels, stats, centroids, 8, CV_32S);
    sx = static_cast<double>(product.cols) / bgr.cols;
    sy = static_cast<double>(product.rows) / bgr.rows;
  }
  // Text repeated kTiledCopies times is a tiled watermark unless each copy is on its own instance
  // of one product (a multi-pack's identical labels).
  std::map<std::string, bool> watermark;
  for (const auto& [text, group] : copies) {
    watermark[text] = group.size() >= static_cast<size_t>(kTiledCopies) &&
                      !OnAlikeProducts(bgr, product, regions, group, sx, sy, cues);
  }
  cv::Mat silhouette;  // the product's outline, the same for every region: made on first need
  auto outline = [&]() -> const cv::Mat& {
    if (silhouette.empty()) silhouette = Silhouette(labels, stats);
    return silhouette;
  };
  for (size_t i = 0; i < regions.size(); ++i) {
    TextFinding& f = (*findings)[i];
    f.polygon = regions[i].polygon;
    f.score = regions[i].score;
    if (!f.text.empty() && watermark[f.text]) {
      f.overlay = true;
      f.why = "repeated across the image like a watermark";
      continue;
    }
    if (alike[i] >= kTiledCopies) {
      f.overlay = true;
      f.why = "tilted like " + std::to_string(alike[i] - 1) + " other lines: a tiled watermark";
      continue;
    }
    if (recognised && f.confidence < kNotText) {
      f.overlay = false;
      f.why = "does not read as text (texture or pattern)";
      continue;
    }
    if (regions[i].chroma_view) {
      // Seen only in the chroma view: text there differs from its surroundings in colour, not in
      // lightness; otherwise it is a coloured part of the product (pink sunglasses' lens read
      // "90" at 0.69, a 622x397 region) that the photo's own pass rightly did not take for text.
      std::optional<OverlayCues>& measured = (*cues)[i];
      if (!measured) measured = MeasureOverlayCues(bgr, regions[i]);
      if (!measured->colour_only) {
        f.overlay = false;
        f.why = "seen only in colour, yet not colour-only text: a coloured part of the product";
        continue;
      }
    }
    if (recognised && f.confidence < kReadable &&
        LineHeight(regions[i]) >= kGiantLine * std::min(bgr.cols, bgr.rows)) {
      f.overlay = false;
      f.why = "giant letters that barely read (a texture such as bricks, not text)";
      continue;
    }
    if (recognised && Characters(f.text) == 1 && f.confidence < kLoneGlyphReadable &&
        !BesideText(regions, *findings, i)) {
      f.overlay = false;
      f.why = "a lone glyph read with low confidence (a shape, not text)";
      continue;
    }
    if (product.empty()) {
      f.overlay = true;
      f.why = "no product mask: all text counts";
      continue;
    }
    const models::TextRegion small = Scaled(regions[i], sx, sy, cv::Point2f(0, 0));
    const cv::Rect roi = Window(small, 0, product.size());
    const cv::Mat inside = roi.empty() ? cv::Mat() : RegionMaskIn(roi, small, 0);
    const int area = inside.empty() ? 0 : cv::countNonZero(inside);
    if (area == 0) {
      f.overlay = true;
      f.why = "too small to place";
      continue;
    }
    std::map<int, int> on_product;  // component label -> region pixels on it
    for (int y = 0; y < inside.rows; ++y) {
      for (int x = 0; x < inside.cols; ++x) {
        const int label = labels.at<int>(y + roi.y, x + roi.x);
        if (inside.at<uchar>(y, x) && label > 0) ++on_product[label];
      }
    }
    int total = 0, best = 0, best_label = 0;
    for (const auto& [label, count] : on_product) {
      total += count;
      if (count > best) best = count, best_label = label;
    }
    const double share = static_cast<double>(total) / area;
    if (share < 0.1) {
      f.overlay = true;
      f.why = "over the background";
      continue;
    }
    // Text that spans the product and the background is on the product after all when its ink
    // lies on the product and the region within the product's outline: the segmenter found the
    // print but missed the pale surface around it.
    const bool pale_surface = share < kInsideProduct &&
                              InkOnPaleSurface(bgr, regions[i], labels, sx, sy) &&
                              ShareIn(small, outline()) >= kInsideProduct;
    if (share < kInsideProduct && !pale_surface) {
      f.overlay = true;
      f.why = "spans the product and the background";
      continue;
    }
    const int component = stats.at<int>(best_label, cv::CC_STAT_AREA);
    // Only for text that reads: the detector also fires on whole products with printed
    // texture, and such a blob covers most of its "component" too. (Print on a pale surface the
    // segmenter missed is a component of its own, with the product around it.)
    const bool reads = !f.text.empty() && f.confidence >= kReadable;
    if (reads && !pale_surface && best > kLargeForProduct * component) {
      f.overlay = true;
      f.why = "the graphic itself is what the segmenter found";
      continue;
    }
    std::optional<OverlayCues>& measured = (*cues)[i];
    if (!measured) measured = MeasureOverlayCues(bgr, regions[i]);
    if (measured->score >= kDrawnOverScore) {
      f.overlay = true;
      f.why = "drawn over the product: " + measured->Describe();
      continue;
    }
    f.overlay = false;
    f.why = "printed on the product";
    const size_t repeated = f.text.empty() ? 0 : copies[f.text].size();
    if (repeated >= static_cast<size_t>(kTiledCopies)) {
      f.why += " (the same on " + std::to_string(repeated) +
               " alike products, level and opaque: a multi-pack, not a watermark)";
    }
  }
}

}  // namespace vitrine::ops
