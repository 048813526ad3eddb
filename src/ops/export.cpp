// export: a staged image made ready for one marketplace (see ops/export.h).
#include "ops/export.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "io/colour_profile.h"
#include "ops/op.h"

namespace vitrine::ops {
namespace {

constexpr int kBestQuality = 92;
// Below this JPEG/WebP quality artefacts show on product edges; export downscales instead.
constexpr int kLowestQuality = 50;
// How far from the pure background colour a background pixel may be and still be snapped to it.
constexpr int kSnapTolerance = 16;
// A cutout's haze: alpha at most this (6%), further than kHazeReach px from the product's solid
// part (alpha > 50%), is background.
constexpr int kHazeAlpha = 16;
constexpr int kHazeReach = 3;

// The frame, in the image's coordinates, that centres `box` at the preset's target fill with at
// least the preset's margins, at the canvas aspect. A couple of pixels of slack keep rounding at
// the final scale from landing on a limit.
cv::Rect IdealFrame(cv::Rect box, const qa::Preset& p) {
  const double aspect = static_cast<double>(p.canvas_width) / p.canvas_height;
  const double height =
      std::max({std::max(box.width / aspect, static_cast<double>(box.height)) / p.fill_target,
                box.width / (aspect * (1 - 2 * p.margin_horizontal)),
                box.height / (1 - 2 * p.margin_vertical)}) +
      2;
  const int h = static_cast<int>(std::ceil(height)),
            w = static_cast<int>(std::ceil(height * aspect));
  return {box.x + box.width / 2 - w / 2, box.y + box.height / 2 - h / 2, w, h};
}

// The frame at the canvas aspect that only adds background around the whole image.
cv::Rect PaddedFrame(cv::Size size, const qa::Preset& p) {
  const double aspect = static_cast<double>(p.canvas_width) / p.canvas_height;
  const int w = std::max(size.width, cvRound(size.height * aspect));
  const int h = std::max(size.height, cvRound(size.width / aspect));
  return {-(w - size.width) / 2, -(h - size.height) / 2, w, h};
}

// Conforms `image` to the preset's canvas: the frame is the image padded to the canvas aspect or,
// where the backdrop is plain (so the product can be found) and the product would miss its fill or
// margins in that frame, a frame re-cut around the product (only background is added or removed).
// The frame is then scaled uniformly to the canvas size. Padding is transparent when alpha is kept,
// else the preset's background where it requires a plain one, else the image's own border colour (a
// product staged on a studio colour gets no white bars). `coverage` receives the image's alpha
// conformed the same way (empty when the image has none), also when it is flattened.
Image ConformCanvas(const Image& image, const qa::Preset& preset, bool keep_alpha,
                    cv::Mat* coverage, std::vector<std::string>* notes) {
  Image flat;
  flat.name = image.name;
  if (keep_alpha) {
    flat = image;
  } else {
    flat.bgr = qa::FlattenOnto(image, preset.background);
    if (image.has_alpha()) notes->push_back("transparency flattened onto the background");
  }
  // Only background is ever cut: the product box lies inside a re-cut frame by construction.
  const cv::Vec3b pad = preset.plain_background ? preset.background : qa::BorderColour(flat.bgr);
  const cv::Scalar colour(pad[0], pad[1], pad[2]);

  const cv::Rect whole(0, 0, image.width(), image.height());
  cv::Rect frame = PaddedFrame(whole.size(), preset);
  bool reframed = false;
  // The pixels as they are before encoding (no compression ringing): a pale product's rim is
  // product.
  const qa::Layout layout = qa::FindLayout(
      flat.bgr,
      preset.pure_background || preset.plain_background ? std::optional(preset.background)
                                                        : std::nullopt,
      preset.pure_background ? qa::kPureTolerance : qa::kPlainTolerance);
  if (layout.found() && !layout.product.empty() &&
      !qa::MeasureFraming(layout.product - frame.tl(), frame.size()).Fits(preset)) {
    frame = IdealFrame(layout.product, preset);
    reframed = true;
    char note[96];
    std::snprintf(note, sizeof note, "reframed around the product: it fills %.0f%% of the frame",
                  preset.fill_target * 100);
    notes->push_back(note);
  }
  Image out;
  out.name = image.name;
  *coverage = cv::Mat();
  if (frame == whole) {
    out = flat.Clone();  // never share the input's buffers
    if (image.has_alpha()) *coverage = image.alpha.clone();
  } else {
    const cv::Rect inside = frame & whole;
    out.bgr = cv::Mat(frame.size(), CV_8UC3, colour);
    flat.bgr(inside).copyTo(out.bgr(inside - frame.tl()));
    if (image.has_alpha()) {
      *coverage = cv::Mat::zeros(frame.size(), CV_8UC1);
      image.alpha(inside).copyTo((*coverage)(inside - frame.tl()));
      if (flat.has_alpha()) out.alpha = coverage->clone();
    }
    if (!reframed) {
      notes->push_back("padded " + std::to_string(image.width()) + "x" +
                       std::to_string(image.height()) + " to the canvas aspect");
    }
  }
  const cv::Size canvas(preset.canvas_width, preset.canvas_height);
  if (out.bgr.size() != canvas) {
    const int interpolation = out.width() > canvas.width ? cv::INTER_AREA : cv::INTER_CUBIC;
    cv::resize(out.bgr, out.bgr, canvas, 0, 0, interpolation);
    if (!coverage->empty()) {
      cv::resize(*coverage, *coverage, canvas, 0, 0, interpolation);
      if (out.has_alpha()) out.alpha = coverage->clone();
    }
    if (interpolation == cv::INTER_CUBIC) {
      notes->push_back("upscaled to " + std::to_string(canvas.width) + "x" +
                       std::to_string(canvas.height) + ": details may look soft");
    }
  }
  return out;
}

// Where the preset requires a pure background, what is not the product becomes exactly the
// background colour; pixels further off are left alone and the gate reports them.
//  - With the product's coverage known: pixels it barely covers (alpha <= kHazeAlpha, a
//    cutout's faint haze) and away from its solid part become background, coverage 0, and so do
//    off-colour specks (qa::FindLayout's, at most 8 pixels, apart from the product).
//  - Without: background pixels (kPlainTolerance) within kSnapTolerance of the colour, outside
//    the edge band.
// Then no product pixel may pass for off-white background: a covered pixel within
// kPureTolerance of the colour in every channel, but not equal to it, has its channel nearest the
// colour moved one level further away (at most 2 levels in one channel: invisible, and the
// colour-only check then reads it as product).
void SnapBackground(Image* image, cv::Mat* coverage, const qa::Preset& preset,
                    const io::ImageHeader& header) {
  if (!preset.pure_background) return;
  const cv::Vec3b bg = preset.background;
  const cv::Scalar colour(bg[0], bg[1], bg[2]);
  cv::Mat snap;
  if (!coverage->empty()) {
    cv::Mat solid = *coverage > 127, far;
    cv::dilate(solid, far, cv::Mat::ones(2 * kHazeReach + 1, 2 * kHazeReach + 1, CV_8UC1));
    snap = (*coverage <= kHazeAlpha) & ~far;
    snap |= *coverage == 0;
  } else {
    const cv::Mat flat = qa::FlattenOnto(*image, bg);
    qa::Layout layout = qa::FindLayout(flat, bg, qa::kPlainTolerance);
    cv::Mat near;
    cv::absdiff(image->bgr, colour, near);
    cv::Mat channels[3];
    cv::split(near, channels);
    snap = (cv::max(cv::max(channels[0], channels[1]), channels[2]) <= kSnapTolerance) &
           qa::PureRegion(layout, preset, header);
  }
  image->bgr.setTo(colour, snap);
  if (image->has_alpha()) image->alpha.setTo(255, snap);
  if (coverage->empty()) return;
  coverage->setTo(0, snap);
  // Specks the gate would call dust (a cutout's stray blob of a few pixels, away from the
  // product) are background too.
  const qa::Layout layout = qa::FindLayout(image->bgr, bg, qa::kPureTolerance);
  const cv::Mat specks = ~layout.background & ~layout.product_mask;
  image->bgr.setTo(colour, specks);
  coverage->setTo(0, specks);
  for (int y = 0; y < image->height(); ++y) {
    cv::Vec3b* p = image->bgr.ptr<cv::Vec3b>(y);
    const uchar* c = coverage->ptr<uchar>(y);
    for (int x = 0; x < image->width(); ++x) {
      if (c[x] == 0 || p[x] == bg) continue;
      int nearest = 0, nearest_gap = 256;
      bool within = true;
      for (int k = 0; k < 3; ++k) {
        const int gap = std::abs(p[x][k] - bg[k]);
        within = within && gap <= qa::kPureTolerance;
        if (gap < nearest_gap) nearest = k, nearest_gap = gap;
      }
      if (!within) continue;
      const int away = bg[nearest] >= 128 ? -1 : 1;
      p[x][nearest] = cv::saturate_cast<uchar>(bg[nearest] + away * (qa::kPureTolerance + 1));
    }
  }
}

struct Encoded {
  std::string bytes;
  int quality = 0;
};

// The best encoding of `image` within max_bytes, or the smallest one tried when none fits.
// `options` gives the format and the metadata to write; quality is searched here.
Result<Encoded> EncodeWithin(const Image& image, io::EncodeOptions options, int64_t max_bytes) {
  const io::Format format = options.format;
  auto encode = [&](int quality) -> Result<Encoded> {
    if (format == io::Format::kPng) {
      options.png_compression = quality;
    } else {
      options.quality = quality;
    }
    ASSIGN_OR_RETURN(std::string bytes, io::EncodeImage(image, options));
    return Encoded{std::move(bytes), quality};
  };
  auto fits = [&](const Encoded& e) {
    return max_bytes <= 0 || static_cast<int64_t>(e.bytes.size()) <= max_bytes;
  };
  if (format == io::Format::kPng) {
    ASSIGN_OR_RETURN(Encoded fast, encode(3));
    if (fits(fast)) return fast;
    return encode(9);
  }
  ASSIGN_OR_RETURN(Encoded best, encode(kBestQuality));
  if (fits(best)) return best;
  // Highest quality in [kLowestQuality, kBestQuality) that fits: size grows with quality.
  ASSIGN_OR_RETURN(Encoded lowest, encode(kLowestQuality));
  if (!fits(lowest)) return lowest;
  int lo = kLowestQuality, hi = kBestQuality;  // lo fits, hi does not
  Encoded found = std::move(lowest);
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    ASSIGN_OR_RETURN(Encoded e, encode(mid));
    if (fits(e)) {
      lo = mid;
      found = std::move(e);
    } else {
      hi = mid;
    }
  }
  return found;
}

std::string FailureMessage(const qa::ComplianceReport& report) {
  std::string message = "the exported image fails the " + report.preset + " preset:";
  for (const qa::RuleResult* r : report.Failed()) {
    message += " " + r->id + ": " + r->message + " (measured " + r->measured + ", limit " +
               r->limit + ");";
  }
  message += " stage the product for this preset (vitrine stage --preset " + report.preset +
             ") and export again";
  return message;
}

}  // namespace

Result<ExportResult> Export(const Image& image, const qa::Preset& preset,
                            const ExportOptions& options) {
  if (image.bgr.empty()) return InvalidArgument("cannot export an empty image");
  ExportResult result;
  result.format = options.format.value_or(preset.formats.front());
  if (!preset.Accepts(result.format)) {
    return InvalidArgument("the " + preset.name + " preset does not accept " +
                           std::string(io::FormatName(result.format)) + "; use " +
                           preset.FormatNames());
  }
  const bool keep_alpha = preset.alpha && result.format != io::Format::kJpeg && image.has_alpha();
  cv::Mat coverage;
  result.image = ConformCanvas(image, preset, keep_alpha, &coverage, &result.notes);
  // Our JPEG encoder keeps chroma at full resolution: 8x8 blocks.
  const io::ImageHeader header{result.format, result.image.width(), result.image.height()};
  SnapBackground(&result.image, &coverage, preset, header);

  // Downscale as a last resort, keeping the aspect and the preset's minimum size.
  const double min_scale =
      std::max({preset.min_long_side > 0 ? static_cast<double>(preset.min_long_side) /
                                               std::max(preset.canvas_width, preset.canvas_height)
                                         : 0.0,
                static_cast<double>(preset.min_width) / preset.canvas_width,
                static_cast<double>(preset.min_height) / preset.canvas_height,
                16.0 / preset.canvas_width, 16.0 / preset.canvas_height});
  double scale = 1.0;
  Image encoded_image = result.image;
  cv::Mat encoded_coverage = coverage;
  io::EncodeOptions encode_options;
  encode_options.format = result.format;
  if (!preset.strip_metadata) {
    // The pixels are sRGB (decoding converted them) and upright (EXIF orientation is 1).
    encode_options.icc_profile = io::SrgbProfile();
    encode_options.exif = image.exif;
    encode_options.xmp = image.xmp;
  }
  while (true) {
    ASSIGN_OR_RETURN(Encoded e, EncodeWithin(encoded_image, encode_options, preset.max_bytes));
    const int64_t size = static_cast<int64_t>(e.bytes.size());
    if (preset.max_bytes <= 0 || size <= preset.max_bytes) {
      result.bytes = std::move(e.bytes);
      result.quality = e.quality;
      break;
    }
    if (scale <= min_scale + 1e-9) {
      return ResourceExhausted(
          "cannot fit the " + preset.name + " limit of " + std::to_string(preset.max_bytes) +
          " bytes: the smallest encoding within the preset's minimum size is " +
          std::to_string(size) +
          " bytes; the image is unusually detailed or noisy, so denoise "
          "it, or raise max_bytes in a user preset");
    }
    // Bytes grow about with the pixel count.
    scale =
        std::max(min_scale, scale * std::sqrt(static_cast<double>(preset.max_bytes) / size) * 0.95);
    const cv::Size size_now(std::max(1, cvRound(preset.canvas_width * scale)),
                            std::max(1, cvRound(preset.canvas_height * scale)));
    cv::resize(result.image.bgr, encoded_image.bgr, size_now, 0, 0, cv::INTER_AREA);
    if (result.image.has_alpha()) {
      cv::resize(result.image.alpha, encoded_image.alpha, size_now, 0, 0, cv::INTER_AREA);
    }
    if (!coverage.empty()) {
      cv::resize(coverage, encoded_coverage, size_now, 0, 0, cv::INTER_AREA);
    }
    // Resampling blends the product's edge into the background again.
    SnapBackground(&encoded_image, &encoded_coverage, preset,
                   io::ImageHeader{result.format, size_now.width, size_now.height});
  }
  if (scale < 1.0) {
    result.image = encoded_image;
    result.notes.push_back("downscaled to " + std::to_string(encoded_image.width()) + "x" +
                           std::to_string(encoded_image.height()) + " to fit " +
                           std::to_string(preset.max_bytes) + " bytes");
  }
  if (result.format != io::Format::kPng && result.quality < kBestQuality) {
    result.notes.push_back("quality " + std::to_string(result.quality) + " to fit " +
                           std::to_string(preset.max_bytes) + " bytes");
  }

  // The gate: what was written is what is checked.
  ASSIGN_OR_RETURN(Image decoded, io::DecodeImage(result.bytes, LimitsConfig{}, image.name));
  qa::ComplianceOptions compliance = options.compliance;
  compliance.coverage = encoded_coverage;
  compliance.text_only_if_rest_passes = true;  // refused anyway: spare the detector
  result.report = qa::CheckCompliance(result.bytes, decoded, preset, compliance);
  if (!result.report.passed()) {
    // JPEG's ringing can leave a few off-white pixels in a pure background; a lossless format the
    // preset also accepts keeps it pure, so try that before giving up.
    if (!options.format && result.format == io::Format::kJpeg && preset.pure_background) {
      for (io::Format next : preset.formats) {
        if (next == io::Format::kJpeg) continue;
        ExportOptions lossless = options;
        lossless.format = next;
        Result<ExportResult> retry = Export(image, preset, lossless);
        if (!retry.ok()) break;
        retry->notes.push_back("written as " + std::string(io::FormatName(next)) +
                               ": as JPEG the background was not pure (" +
                               result.report.FailedIds() + ")");
        return retry;
      }
    }
    return InvalidArgument(FailureMessage(result.report));
  }
  return result;
}

namespace {

OpSchema ExportSchema() {
  OpSchema s;
  s.name = "export";
  s.version = 1;
  s.doc =
      "Conforms a staged image to a marketplace preset (canvas, background, bytes) and "
      "refuses it unless it passes the preset's compliance check.";
  s.fields = {
      {"preset",
       FieldType::kString,
       "amazon",
       {},
       {},
       {},
       "marketplace preset (vitrine presets lists them)"},
      {"format",
       FieldType::kEnum,
       "preset",
       {},
       {},
       {"preset", "jpeg", "png", "webp"},
       "file format; preset = the preset's first format"},
  };
  return s;
}

Result<Image> RunExport(const Image& input, const nlohmann::json& params, OpContext& context) {
  const std::string presets_file = context.config ? context.config->qa.presets_file : "";
  ASSIGN_OR_RETURN(qa::PresetBook book, qa::LoadPresets(presets_file));
  const std::string name = params["preset"];
  const qa::Preset* preset = book.Find(name);
  if (!preset) {
    return InvalidArgument("export: unknown preset '" + name + "'; choose one of " + book.Names() +
                           " or add it to a presets file");
  }
  ExportOptions options;
  if (params["format"] != "preset") {
    ASSIGN_OR_RETURN(options.format, io::ParseFormat(params["format"].get<std::string>()));
  }
  ASSIGN_OR_RETURN(ExportResult result, Export(input, *preset, options));
  return std::move(result.image);
}

}  // namespace

VITRINE_REGISTER_OP((OpDef{ExportSchema(), RunExport}));

}  // namespace vitrine::ops
