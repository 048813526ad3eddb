#include "qa/compliance.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "core/text.h"
#include "io/colour_profile.h"
#include "io/image_io.h"

namespace vitrine::qa {
namespace {

// Below this share of the border being background, the product cannot be told from the backdrop.
constexpr double kMinBorderBackground = 0.5;
// Off-colour blobs of at most this many pixels are specks (dust, noise), not product.
constexpr int kSpeckPixels = 8;
// Pixels this close to the product are its anti-aliased edge, exempt from the purity rule: at
// least kEdgeBand pixels, and kEdgeBandShare of the image's shorter side, since a product scaled
// up (an export of a small cutout) has a proportionally wider soft edge (20 px at 2000x2000).
constexpr int kEdgeBand = 4;
constexpr double kEdgeBandShare = 0.01;
// With light shadows allowed, the shadow may reach this far from the product, as a fraction of
// the product's longer side.
constexpr double kShadowReach = 0.15;

std::string Percent(double share) {
  char text[32];
  const double p = share * 100;
  if (p > 0 && p < 0.01) return "<0.01%";  // a few pixels: still a failure where the limit is 0
  std::snprintf(text, sizeof text, p != 0 && p < 1 ? "%.2f%%" : "%.1f%%", p);
  return text;
}

std::string Hex(cv::Vec3b bgr) {
  char text[8];
  std::snprintf(text, sizeof text, "#%02X%02X%02X", bgr[2], bgr[1], bgr[0]);
  return text;
}

RuleResult Rule(std::string id, bool passed, std::string measured, std::string limit,
                std::string message) {
  return {std::move(id), passed ? Outcome::kPassed : Outcome::kFailed, std::move(measured),
          std::move(limit), std::move(message)};
}

RuleResult NotChecked(std::string id, std::string why) {
  return {std::move(id), Outcome::kNotChecked, "", "", "not checked: " + std::move(why)};
}

// Pixels of the one-pixel frame around the image, in a mask.
cv::Mat BorderMask(cv::Size size, int width) {
  cv::Mat mask(size, CV_8UC1, cv::Scalar(255));
  cv::Rect inner(width, width, size.width - 2 * width, size.height - 2 * width);
  inner &= cv::Rect(0, 0, size.width, size.height);
  if (inner.area() > 0) mask(inner).setTo(0);
  return mask;
}

// 255 where a pixel differs from `colour` in any channel.
cv::Mat DiffersFrom(const cv::Mat& bgr, cv::Vec3b colour, int tolerance) {
  cv::Mat diff;
  cv::absdiff(bgr, cv::Scalar(colour[0], colour[1], colour[2]), diff);
  cv::Mat channels[3];
  cv::split(diff, channels);
  cv::Mat largest = cv::max(cv::max(channels[0], channels[1]), channels[2]);
  return largest > tolerance;
}

double Share(const cv::Mat& mask, const cv::Mat& within) {
  const int total = cv::countNonZero(within);
  if (total == 0) return 0;
  cv::Mat both;
  cv::bitwise_and(mask, within, both);
  return static_cast<double>(cv::countNonZero(both)) / total;
}

std::string Size(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

void CheckDimensions(const Preset& p, int w, int h, ComplianceReport* report) {
  const int long_side = std::max(w, h);
  std::vector<std::string> limits;
  std::string problem;
  if (p.min_long_side > 0) {
    limits.push_back("longest side >= " + std::to_string(p.min_long_side));
    if (long_side < p.min_long_side) {
      problem = "the longest side is " + std::to_string(long_side) + " px, under the minimum " +
                std::to_string(p.min_long_side) + " px; export a larger image";
    }
  }
  if (p.max_long_side > 0) {
    limits.push_back("longest side <= " + std::to_string(p.max_long_side));
    if (long_side > p.max_long_side) {
      problem = "the longest side is " + std::to_string(long_side) + " px, over the maximum " +
                std::to_string(p.max_long_side) + " px; downscale it";
    }
  }
  if (p.min_width > 0 || p.min_height > 0) {
    limits.push_back("at least " + Size(p.min_width, p.min_height));
    if (w < p.min_width || h < p.min_height) {
      problem = "the image is " + Size(w, h) + ", smaller than the minimum " +
                Size(p.min_width, p.min_height) + "; export a larger image";
    }
  }
  std::string limit;
  for (const std::string& l : limits) limit += (limit.empty() ? "" : ", ") + l;
  report->rules.push_back(
      Rule("dimensions", problem.empty(), Size(w, h), limit,
           problem.empty() ? "size " + Size(w, h) + " is within limits" : problem));
}

void CheckAspect(const Preset& p, int w, int h, ComplianceReport* report) {
  if (!p.aspect) return;
  const double ratio = static_cast<double>(w) / h;
  const bool ok = std::abs(ratio - *p.aspect) <= p.aspect_tolerance * *p.aspect;
  const std::string limit =
      FormatFixed(*p.aspect, 3) + " +/- " + FormatFixed(p.aspect_tolerance * 100, 0) + "%";
  report->rules.push_back(Rule("aspect", ok, FormatFixed(ratio, 3), limit,
                               ok ? "aspect ratio (width/height) " + FormatFixed(ratio, 3) +
                                        " matches " + FormatFixed(*p.aspect, 3)
                                  : "aspect ratio (width/height) is " + FormatFixed(ratio, 3) +
                                        "; the preset needs " + limit + " (for example " +
                                        Size(p.canvas_width, p.canvas_height) +
                                        "); pad the image, do not stretch it"));
}

void CheckFormatAndBytes(const Preset& p, std::string_view bytes, io::Format format,
                         ComplianceReport* report) {
  const std::string allowed = p.FormatNames();
  const bool format_ok = p.Accepts(format);
  const std::string name(io::FormatName(format));
  report->rules.push_back(Rule("format", format_ok, name, allowed,
                               format_ok
                                   ? "format " + name + " is accepted"
                                   : "format " + name + " is not accepted; export as " + allowed));
  if (p.max_bytes > 0) {
    const int64_t size = static_cast<int64_t>(bytes.size());
    const bool ok = size <= p.max_bytes;
    report->rules.push_back(Rule(
        "bytes", ok, std::to_string(size), "<= " + std::to_string(p.max_bytes),
        ok ? "file size " + std::to_string(size) + " bytes is within the limit"
           : "file is " + std::to_string(size) + " bytes, over the limit of " +
                 std::to_string(p.max_bytes) + "; export with a lower quality or a smaller size"));
  }
}

// What the file carries besides pixels, against the preset's metadata policy: "strip" allows no
// EXIF, XMP or IPTC (they can hold the supplier's name, a camera serial, GPS); "keep" reports
// what is there. ICC profiles are the colour_space rule's.
void CheckMetadata(const Preset& p, const Result<io::EmbeddedMetadata>& metadata,
                   ComplianceReport* report) {
  if (!metadata.ok()) {
    report->rules.push_back(NotChecked("metadata", metadata.status().message()));
    return;
  }
  std::string found;
  for (const auto& [present, name] :
       {std::pair{metadata->exif, "EXIF"}, std::pair{metadata->xmp, "XMP"},
        std::pair{metadata->iptc, "IPTC"}}) {
    if (present) found += (found.empty() ? "" : ", ") + std::string(name);
  }
  const std::string measured = found.empty() ? "none" : found;
  if (!p.strip_metadata) {
    report->rules.push_back(
        Rule("metadata", true, measured, "kept", "metadata kept as the preset asks: " + measured));
    return;
  }
  report->rules.push_back(
      Rule("metadata", found.empty(), measured, "none (strip)",
           found.empty() ? "no EXIF, XMP or IPTC metadata, as the preset asks"
                         : "the file carries " + found +
                               " metadata, which the preset strips (it can name the supplier, "
                               "the camera or a location); export it again with vitrine export"));
}

void CheckColourSpace(const Preset& p, const Result<io::EmbeddedMetadata>& metadata,
                      ComplianceReport* report) {
  if (!p.srgb) return;
  if (!metadata.ok()) {
    report->rules.push_back(NotChecked("color_space", metadata.status().message()));
    return;
  }
  if (metadata->icc_profile.empty()) {
    report->rules.push_back(Rule("color_space", true, metadata->srgb_chunk ? "sRGB chunk" : "none",
                                 "sRGB or none",
                                 "no ICC profile: viewers and marketplaces assume sRGB"));
    return;
  }
  const io::IccInfo icc = io::DescribeIcc(metadata->icc_profile);
  if (icc.description.empty()) {
    report->rules.push_back(Rule("color_space", false, "unreadable ICC profile", "sRGB",
                                 "the embedded ICC profile cannot be read, so its colours are "
                                 "unknown; convert the image to sRGB"));
    return;
  }
  report->rules.push_back(
      Rule("color_space", icc.srgb, icc.description, "sRGB",
           icc.srgb ? "ICC profile is sRGB (" + icc.description + ")"
                    : "ICC profile is " + icc.description + " (" + icc.colour_space +
                          "), not sRGB: colours will shift on the marketplace; convert to sRGB"));
}

// Checks background, fill and margins; returns the layout they were measured on.
Layout CheckLayout(const Preset& p, const cv::Mat& bgr, const io::ImageHeader& header,
                   const cv::Mat& coverage, ComplianceReport* report) {
  const int w = bgr.cols, h = bgr.rows;
  const Layout layout =
      p.pure_background
          ? FindPureLayout(bgr, p.background, header)
          : FindLayout(bgr, p.plain_background ? std::optional(p.background) : std::nullopt,
                       kPlainTolerance);
  const std::string colour = Hex(layout.background_colour);
  const bool found = layout.found();

  if (p.plain_background) {
    const bool ok = found;
    report->rules.push_back(Rule(
        "background_plain", ok, Percent(layout.border_background),
        ">= " + Percent(kMinBorderBackground),
        ok ? Percent(layout.border_background) + " of border pixels are close to " + colour
           : "background is not plain " + colour + ": only " + Percent(layout.border_background) +
                 " of border pixels are close to it; remove the background (vitrine cutout) "
                 "and place the product on " +
                 colour));
  }
  if (p.pure_background) {
    // Away from the product (and its edge, its allowed shadow, its compression blocks) every
    // pixel must be exactly the background colour; a raw photo's backdrop is not found, so the
    // whole border ring is judged.
    const cv::Mat away = PureRegion(layout, p, header);
    const cv::Mat impure = DiffersFrom(bgr, p.background, 0);
    const int band = std::max(2, std::min(w, h) / 200);
    cv::Mat border = BorderMask(bgr.size(), band);
    if (layout.found()) border &= away;
    const double border_share = Share(impure, border);
    report->rules.push_back(Rule(
        "background_border", border_share == 0, Percent(border_share), "0%",
        border_share == 0
            ? "the border is pure " + colour
            : "background is not pure " + colour + ": " + Percent(border_share) +
                  " of border pixels differ from it (limit 0%); set the background to exactly " +
                  colour));

    if (!layout.found()) {
      report->rules.push_back(Rule("background_pure", false, "no background found", "0%",
                                   "background is not pure " + colour +
                                       ": no background of that colour surrounds the product; "
                                       "remove the background and place the product on " +
                                       colour));
    } else {
      const double share = Share(impure, away);
      report->rules.push_back(Rule(
          "background_pure", share == 0, Percent(share), "0%",
          share == 0 ? "the background is pure " + colour
                     : "background is not pure " + colour + ": " + Percent(share) +
                           " of background pixels differ from it (limit 0%" +
                           (p.light_shadow ? ", a light shadow near the product is allowed" : "") +
                           "); set the background to exactly " + colour));
    }
    if (!coverage.empty()) {
      // The product's alpha is known: every pixel it leaves uncovered is background, whatever
      // its colour; only the compression blocks the product reaches into (and an allowed light
      // shadow) are exempt.
      cv::Mat uncovered;
      cv::bitwise_not(EdgeExemption(coverage > 0, p, header, true), uncovered);
      const double share = Share(impure, uncovered);
      report->rules.push_back(
          Rule("background_uncovered", share == 0, Percent(share), "0%",
               share == 0 ? "every pixel the product does not cover is " + colour
                          : "background is not pure " + colour + ": " + Percent(share) +
                                " of the pixels the product does not cover differ from it (limit "
                                "0%); flatten the cutout onto exactly " +
                                colour));
    }
  }

  if (!found && !p.plain_background) {
    report->rules.push_back(NotChecked("fill",
                                       "the backdrop is not plain, so the product cannot "
                                       "be told from it"));
    report->rules.push_back(NotChecked("margins", "the backdrop is not plain"));
    return layout;
  }
  const cv::Rect box = found ? layout.product : cv::Rect(0, 0, w, h);
  if (box.empty()) {
    report->rules.push_back(Rule("fill", false, "0%", FormatFixed(p.fill_min * 100, 0) + "%",
                                 "no product found: the image is all background"));
    return layout;
  }
  const Framing framing = MeasureFraming(box, bgr.size());
  const double fill = framing.fill;
  const std::string range = Percent(p.fill_min) + " to " + Percent(p.fill_max);
  const bool fill_ok = fill >= p.fill_min && fill <= p.fill_max;
  std::string fill_message = "the product fills " + Percent(fill) + " of the frame";
  if (!found) {
    fill_message = "the product cannot be told from the background, so it fills " + Percent(fill) +
                   " of the frame (allowed " + range +
                   "); remove the background and place the "
                   "product at " +
                   Percent(p.fill_target);
  } else if (!fill_ok) {
    fill_message += " (allowed " + range + "); " +
                    (fill < p.fill_min ? "enlarge the product or crop the background"
                                       : "shrink the product so it is not cut off") +
                    " (target " + Percent(p.fill_target) + ")";
  }
  report->rules.push_back(Rule("fill", fill_ok, Percent(fill), range, fill_message));

  const double horizontal = framing.margin_horizontal, vertical = framing.margin_vertical;
  const bool touches = framing.touches;
  const bool margins_ok =
      !touches && horizontal >= p.margin_horizontal - 1e-9 && vertical >= p.margin_vertical - 1e-9;
  const std::string measured = Percent(horizontal) + " / " + Percent(vertical);
  const std::string limit = ">= " + Percent(p.margin_horizontal) + " / " +
                            Percent(p.margin_vertical) + " (horizontal / vertical), not touching";
  std::string margins_message = "smallest margins " + measured + " (horizontal / vertical)";
  if (touches) {
    margins_message =
        "the product touches the edge of the frame and may be cut off; leave a "
        "margin around it";
  } else if (!margins_ok) {
    margins_message += " are under " + Percent(p.margin_horizontal) + " / " +
                       Percent(p.margin_vertical) + "; shrink or centre the product";
  }
  report->rules.push_back(Rule("margins", margins_ok, measured, limit, margins_message));
  return layout;
}

bool Passed(const ComplianceReport& report, std::string_view id) {
  return std::any_of(report.rules.begin(), report.rules.end(), [&](const RuleResult& r) {
    return r.id == id && r.outcome == Outcome::kPassed;
  });
}

// `product`: ProductPieces() when the pure background passed, else empty.
void CheckText(const Preset& p, const cv::Mat& bgr, const cv::Mat& product,
               const ComplianceOptions& options, ComplianceReport* report) {
  if (!p.no_text) return;
  if (!options.overlay_text_area) {
    report->rules.push_back(NotChecked("overlay_text", "no text detector is configured"));
    return;
  }
  if (options.text_only_if_rest_passes && !report->passed()) {
    report->rules.push_back(
        NotChecked("overlay_text", "not measured: the image already fails " + report->FailedIds()));
    return;
  }
  Result<double> area = options.overlay_text_area(bgr, product);
  if (!area.ok()) {
    report->rules.push_back(NotChecked("overlay_text", area.status().message()));
    return;
  }
  const bool ok = *area <= options.max_text_area;
  const std::string how = product.empty() ? " (product found by the segmenter)"
                                          : " (product found from the pure background)";
  report->rules.push_back(
      Rule("overlay_text", ok, Percent(*area), "<= " + Percent(options.max_text_area),
           ok ? "no overlay text found" + how
              : "overlay text, logos or watermarks cover " + Percent(*area) + " of the image" +
                    how + "; the preset allows none: remove them (vitrine remove-text)"));
}

}  // namespace

bool Layout::found() const { return border_background >= kMinBorderBackground; }

Framing MeasureFraming(cv::Rect box, cv::Size size) {
  const double w = size.width, h = size.height;
  Framing f;
  f.fill = std::max(box.width / w, box.height / h);
  f.margin_horizontal = std::min(box.x / w, (w - box.br().x) / w);
  f.margin_vertical = std::min(box.y / h, (h - box.br().y) / h);
  f.touches = box.x <= 0 || box.y <= 0 || box.br().x >= size.width || box.br().y >= size.height;
  return f;
}

bool Framing::Fits(const Preset& p) const {
  return fill >= p.fill_min && fill <= p.fill_max && !touches &&
         margin_horizontal >= p.margin_horizontal - 1e-9 &&
         margin_vertical >= p.margin_vertical - 1e-9;
}

bool ComplianceReport::passed() const {
  return std::none_of(rules.begin(), rules.end(), [](const RuleResult& r) { return r.failed(); });
}

std::vector<const RuleResult*> ComplianceReport::Failed() const {
  std::vector<const RuleResult*> failed;
  for (const RuleResult& r : rules) {
    if (r.failed()) failed.push_back(&r);
  }
  return failed;
}

std::string ComplianceReport::FailedIds() const {
  std::string ids;
  for (const RuleResult* r : Failed()) ids += (ids.empty() ? "" : ", ") + r->id;
  return ids;
}

nlohmann::json ComplianceReport::ToJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const RuleResult& r : rules) {
    const char* outcome = r.outcome == Outcome::kPassed   ? "passed"
                          : r.outcome == Outcome::kFailed ? "failed"
                                                          : "not_checked";
    list.push_back({{"id", r.id},
                    {"outcome", outcome},
                    {"measured", r.measured},
                    {"limit", r.limit},
                    {"message", r.message}});
  }
  return {{"preset", preset}, {"passed", passed()}, {"rules", list}};
}

cv::Vec3b BorderColour(const cv::Mat& bgr) {
  cv::Mat border = BorderMask(bgr.size(), 1);
  cv::Vec3b median;
  for (int c = 0; c < 3; ++c) {
    cv::Mat channel;
    cv::extractChannel(bgr, channel, c);
    cv::Mat hist;
    const int channels[] = {0};
    const int bins[] = {256};
    const float range[] = {0, 256};
    const float* ranges[] = {range};
    cv::calcHist(&channel, 1, channels, border, hist, 1, bins, ranges);
    const double half = cv::sum(hist)[0] / 2;
    double seen = 0;
    int v = 0;
    while (v < 255 && (seen += hist.at<float>(v)) < half) ++v;
    median[c] = static_cast<uchar>(v);
  }
  return median;
}

Layout FindLayout(const cv::Mat& bgr, std::optional<cv::Vec3b> colour, int tolerance) {
  Layout layout;
  layout.background_colour = colour ? *colour : BorderColour(bgr);
  cv::Mat near;
  cv::bitwise_not(DiffersFrom(bgr, layout.background_colour, tolerance), near);
  cv::Mat labels;
  const int count = cv::connectedComponents(near, labels, 4, CV_32S);
  // Components that reach the border are background.
  std::vector<uchar> touches(count, 0);
  const int w = bgr.cols, h = bgr.rows;
  int border_total = 0, border_near = 0;
  auto visit = [&](int y, int x) {
    ++border_total;
    if (near.at<uchar>(y, x)) {
      ++border_near;
      touches[labels.at<int>(y, x)] = 255;
    }
  };
  for (int x = 0; x < w; ++x) {
    visit(0, x);
    if (h > 1) visit(h - 1, x);
  }
  for (int y = 1; y + 1 < h; ++y) {
    visit(y, 0);
    if (w > 1) visit(y, w - 1);
  }
  layout.border_background = border_total ? static_cast<double>(border_near) / border_total : 0;
  layout.background.create(bgr.size(), CV_8UC1);
  for (int y = 0; y < h; ++y) {
    const int* l = labels.ptr<int>(y);
    uchar* out = layout.background.ptr<uchar>(y);
    for (int x = 0; x < w; ++x) out[x] = l[x] > 0 ? touches[l[x]] : 0;
  }
  // Product: what is not background, without isolated specks (noise, dust): parts of at most
  // kSpeckPixels. Thin parts of a product (a sunglasses' temple, a glass's rim) stay product.
  cv::bitwise_not(layout.background, layout.product_mask);
  cv::Mat parts, stats, centroids;
  const int n =
      cv::connectedComponentsWithStats(layout.product_mask, parts, stats, centroids, 8, CV_32S);
  std::vector<uchar> keep(n, 0);
  for (int i = 1; i < n; ++i) keep[i] = stats.at<int>(i, cv::CC_STAT_AREA) > kSpeckPixels ? 255 : 0;
  for (int y = 0; y < h; ++y) {
    const int* l = parts.ptr<int>(y);
    uchar* out = layout.product_mask.ptr<uchar>(y);
    for (int x = 0; x < w; ++x) out[x] = keep[l[x]];
  }
  layout.product = cv::boundingRect(layout.product_mask);
  return layout;
}

namespace {

// The blocks of a `block` grid that hold a nonzero pixel of `mask`, as a mask.
cv::Mat BlocksTouching(const cv::Mat& mask, cv::Size block) {
  const int w = mask.cols, h = mask.rows;
  const int bw = block.width, bh = block.height;
  const int columns = (w + bw - 1) / bw, rows = (h + bh - 1) / bh;
  std::vector<uchar> touched(static_cast<size_t>(columns) * rows, 0);
  for (int y = 0; y < h; ++y) {
    const uchar* m = mask.ptr<uchar>(y);
    uchar* row = touched.data() + static_cast<size_t>(y / bh) * columns;
    for (int x = 0; x < w; ++x) {
      if (m[x]) row[x / bw] = 255;
    }
  }
  cv::Mat out(mask.size(), CV_8UC1);
  for (int y = 0; y < h; ++y) {
    const uchar* row = touched.data() + static_cast<size_t>(y / bh) * columns;
    uchar* o = out.ptr<uchar>(y);
    for (int x = 0; x < w; ++x) o[x] = row[x / bw];
  }
  // Subsampled chroma is upsampled by interpolating with the neighbouring block's samples, so a
  // block beside one the product reaches into can be off by a level along the shared side.
  if (bw > 8 || bh > 8) cv::dilate(out, out, cv::Mat::ones(5, 5, CV_8UC1));
  return out;
}

}  // namespace

cv::Mat EdgeExemption(const cv::Mat& product, const Preset& preset, const io::ImageHeader& header,
                      bool alpha_known) {
  cv::Mat exempt = product.clone();
  double reach =
      alpha_known
          ? 0.0
          : std::max<double>(kEdgeBand, kEdgeBandShare * std::min(product.cols, product.rows));
  const cv::Rect box = cv::boundingRect(product);
  if (preset.light_shadow && !box.empty()) {
    reach = std::max(reach, kShadowReach * std::max(box.width, box.height));
  }
  if (reach > 0) {
    cv::Mat background, distance;
    cv::bitwise_not(product, background);
    cv::distanceTransform(background, distance, cv::DIST_L2, 3);
    exempt = distance <= reach;
  }
  if (header.format == io::Format::kJpeg || header.format == io::Format::kWebp) {
    const cv::Size block = header.format == io::Format::kWebp
                               ? cv::Size(16, 16)
                               : cv::Size(header.mcu_width, header.mcu_height);
    exempt |= BlocksTouching(exempt, block);  // the blocks holding the edge can ring
  }
  return exempt;
}

Layout FindPureLayout(const cv::Mat& bgr, cv::Vec3b colour, const io::ImageHeader& header) {
  Layout strict = FindLayout(bgr, colour, kPureTolerance);
  if (header.format != io::Format::kJpeg && header.format != io::Format::kWebp) return strict;
  // Lossy: near-background pixels within a block of the clearly-product ones are ringing.
  const Layout tolerant = FindLayout(bgr, colour, kPlainTolerance);
  const int block =
      header.format == io::Format::kWebp ? 16 : std::max(header.mcu_width, header.mcu_height);
  cv::Mat near_product;
  cv::dilate(tolerant.product_mask, near_product,
             cv::Mat::ones(2 * block + 1, 2 * block + 1, CV_8UC1));
  cv::Mat ringing =
      near_product & ~DiffersFrom(bgr, colour, kPlainTolerance) & ~tolerant.product_mask;
  cv::Mat product = strict.product_mask & ~ringing;
  strict.product = cv::boundingRect(product);
  return strict;
}

cv::Mat ProductPieces(const cv::Mat& background) {
  // The background that reaches the border (as FindLayout's, 4-connected); the rest is product.
  cv::Mat labels;
  const int count = cv::connectedComponents(background, labels, 4, CV_32S);
  std::vector<uchar> outside(count, 0);
  const int w = background.cols, h = background.rows;
  for (int x = 0; x < w; ++x) outside[labels.at<int>(0, x)] = outside[labels.at<int>(h - 1, x)] = 1;
  for (int y = 0; y < h; ++y) outside[labels.at<int>(y, 0)] = outside[labels.at<int>(y, w - 1)] = 1;
  cv::Mat filled(background.size(), CV_8UC1);
  for (int y = 0; y < h; ++y) {
    const int* l = labels.ptr<int>(y);
    const uchar* b = background.ptr<uchar>(y);
    uchar* out = filled.ptr<uchar>(y);
    for (int x = 0; x < w; ++x) out[x] = b[x] && outside[l[x]] ? 0 : 255;
  }
  cv::Mat stats, centroids;
  const int n = cv::connectedComponentsWithStats(filled, labels, stats, centroids, 8, CV_32S);
  int largest = 0;
  for (int i = 1; i < n; ++i) largest = std::max(largest, stats.at<int>(i, cv::CC_STAT_AREA));
  std::vector<uchar> keep(n, 0);
  for (int i = 1; i < n; ++i) {
    keep[i] = stats.at<int>(i, cv::CC_STAT_AREA) >= kProductPieceShare * largest ? 255 : 0;
  }
  for (int y = 0; y < h; ++y) {
    const int* l = labels.ptr<int>(y);
    uchar* out = filled.ptr<uchar>(y);
    for (int x = 0; x < w; ++x) out[x] = keep[l[x]];
  }
  return filled;
}

cv::Mat PureRegion(const Layout& layout, const Preset& preset, const io::ImageHeader& header) {
  cv::Mat region;
  cv::bitwise_not(EdgeExemption(layout.product_mask, preset, header, false), region);
  return region;
}

cv::Mat FlattenOnto(const Image& image, cv::Vec3b colour) {
  if (!image.has_alpha()) return image.bgr;
  cv::Mat weight, inverse, out;
  image.alpha.convertTo(weight, CV_32FC1, 1.0 / 255.0);
  cv::subtract(1.0, weight, inverse);
  cv::Mat backdrop(image.bgr.size(), CV_8UC3, cv::Scalar(colour[0], colour[1], colour[2]));
  cv::blendLinear(image.bgr, backdrop, weight, inverse, out);
  return out;
}

ComplianceReport CheckCompliance(std::string_view bytes, const Image& decoded, const Preset& preset,
                                 const ComplianceOptions& options) {
  ComplianceReport report;
  report.preset = preset.name;
  const io::Format format = io::SniffFormat(bytes);
  const int w = decoded.width(), h = decoded.height();
  CheckDimensions(preset, w, h, &report);
  CheckAspect(preset, w, h, &report);
  CheckFormatAndBytes(preset, bytes, format, &report);
  if (!preset.alpha) {
    report.rules.push_back(
        Rule("alpha", !decoded.has_alpha(), decoded.has_alpha() ? "transparent pixels" : "opaque",
             "opaque",
             decoded.has_alpha()
                 ? "the image has transparent pixels, which the preset does not allow; flatten "
                   "it onto the background (vitrine export does)"
                 : "the image is opaque"));
  }
  // The container is walked once for both rules.
  const Result<io::EmbeddedMetadata> metadata = io::ReadMetadata(bytes);
  CheckColourSpace(preset, metadata, &report);
  CheckMetadata(preset, metadata, &report);
  // Transparent pixels show the page behind them, which is white on every marketplace.
  const cv::Mat bgr = FlattenOnto(decoded, preset.background);
  Result<io::ImageHeader> header = io::ReadHeader(bytes);
  const Layout layout =
      CheckLayout(preset, bgr, header.ok() ? *header : io::ImageHeader{format, w, h},
                  options.coverage, &report);
  // On a pure background that passes its rules the product is exactly what the background does
  // not reach: the text rule needs no segmenter, and check and export's gate agree by
  // construction.
  const bool pure = preset.pure_background && layout.found() &&
                    Passed(report, "background_border") && Passed(report, "background_pure");
  CheckText(preset, bgr, pure ? ProductPieces(layout.background) : cv::Mat(), options, &report);
  return report;
}

Result<ComplianceReport> CheckFile(const std::string& path, const LimitsConfig& limits,
                                   const Preset& preset, const ComplianceOptions& options) {
  Result<std::string> bytes = io::ReadFile(path, limits.max_bytes);
  if (!bytes.ok()) return bytes.status();
  Result<Image> image = io::DecodeImage(*bytes, limits, path);
  if (!image.ok()) return image.status().WithContext(path);
  return CheckCompliance(*bytes, *image, preset, options);
}

}  // namespace vitrine::qa
