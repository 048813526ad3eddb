// stage: places a cutout on a canvas — a studio colour, a gradient, or a scene photo — at a fill
// ratio or, in a scene, at the product's real size; adds a contact or cast shadow, matches the
// product gently to the scene's light, and composites with premultiplied alpha so edges carry no
// halo. docs/staging.md describes the parameters and the scene sidecar format.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "io/image_io.h"
#include "ops/harmonize.h"
#include "ops/matting.h"
#include "ops/op.h"
#include "ops/shadow.h"

namespace vitrine::ops {
namespace {

namespace fs = std::filesystem;

constexpr int kDefaultCanvas = 2000;
// Upscaling beyond this makes a product visibly soft: the user is told.
constexpr double kMaxCleanUpscale = 2.05;
// Default shadow darkness: light on studio colours, deeper on real floors, whose texture and
// ambient light need more to ground a product.
constexpr double kStudioShadow = 0.35;
constexpr double kSceneShadow = 0.55;
// A product's crop keeps this many pixels around its box, for its soft edge.
constexpr int kEdgePad = 2;

struct StageParams {
  cv::Size canvas;  // 0 = default (scene size, or kDefaultCanvas)
  cv::Scalar background;
  cv::Scalar background2;
  std::string gradient;
  std::string scene;
  double fill = 0.85;
  double margin_x = 0.03;
  double margin_y = 0.03;
  std::string align;
  ShadowOptions shadow;
  std::string size_cm;
  double harmonize = 0.5;
  int seed = 0;

  static StageParams FromJson(const nlohmann::json& p) {
    StageParams s;
    s.canvas = {p["width"].get<int>(), p["height"].get<int>()};
    s.background = *ParseColor(p["background"].get<std::string>());
    s.background2 = *ParseColor(p["background2"].get<std::string>());
    s.gradient = p["gradient"];
    s.scene = p["scene"];
    s.fill = p["fill"];
    const double margin = p["margin"];
    s.margin_x = p["margin_x"].get<double>() < 0 ? margin : p["margin_x"].get<double>();
    s.margin_y = p["margin_y"].get<double>() < 0 ? margin : p["margin_y"].get<double>();
    s.align = p["align"];
    const std::string shadow = p["shadow"];
    s.shadow.kind = shadow == "none"   ? ShadowKind::kNone
                    : shadow == "drop" ? ShadowKind::kDrop
                                       : ShadowKind::kContact;
    s.shadow.opacity = p["shadow_opacity"].get<double>() >= 0
                           ? p["shadow_opacity"].get<double>()
                           : (s.scene.empty() ? kStudioShadow : kSceneShadow);
    s.shadow.softness = p["shadow_softness"];
    s.shadow.light_angle = p["shadow_angle"];
    s.size_cm = p["size_cm"];
    s.harmonize = p["harmonize"];
    s.seed = p["seed"];
    return s;
  }
};

OpSchema StageSchema() {
  OpSchema s;
  s.name = "stage";
  s.version = 1;
  s.doc = "Places a cutout on a colour, gradient or scene with a shadow; scenes at real scale.";
  s.needs_alpha = true;
  s.fields = {
      {"width",
       FieldType::kInteger,
       0,
       0.0,
       10000.0,
       {},
       "canvas width in px; 0 = the scene's width, or 2000"},
      {"height",
       FieldType::kInteger,
       0,
       0.0,
       10000.0,
       {},
       "canvas height in px; 0 = the scene's height, or 2000"},
      {"background",
       FieldType::kColor,
       "white",
       {},
       {},
       {},
       "canvas colour, or transparent (keeps alpha); the gradient's first colour"},
      {"gradient",
       FieldType::kEnum,
       "none",
       {},
       {},
       {"none", "vertical", "radial"},
       "vertical: background at the top to background2 at the bottom; radial: from the centre"},
      {"background2", FieldType::kColor, "#d9d9d9", {}, {}, {}, "the gradient's second colour"},
      {"scene",
       FieldType::kString,
       "",
       {},
       {},
       {},
       "path of a scene photo; its sidecar <stem>.json beside it gives floor, anchor and scale"},
      {"fill",
       FieldType::kNumber,
       0.85,
       0.05,
       1.0,
       {},
       "share of the canvas's limiting dimension the product's box fills"},
      {"margin",
       FieldType::kNumber,
       0.03,
       0.0,
       0.45,
       {},
       "minimum margin on every side, as a fraction of the canvas side"},
      {"margin_x",
       FieldType::kNumber,
       -1.0,
       -1.0,
       0.45,
       {},
       "minimum left and right margin; -1 = margin"},
      {"margin_y",
       FieldType::kNumber,
       -1.0,
       -1.0,
       0.45,
       {},
       "minimum top and bottom margin; -1 = margin"},
      {"align",
       FieldType::kEnum,
       "center",
       {},
       {},
       {"center", "bottom", "top"},
       "vertical placement on a colour or gradient (scenes use their anchor)"},
      {"shadow",
       FieldType::kEnum,
       "contact",
       {},
       {},
       {"contact", "drop", "none"},
       "contact: soft shadow where the product meets the floor; drop: plus a cast shadow"},
      {"shadow_opacity",
       FieldType::kNumber,
       -1.0,
       -1.0,
       1.0,
       {},
       "darkness of the shadow where the product touches the floor; -1 = 0.35 on colours, 0.55 "
       "in scenes"},
      {"shadow_softness", FieldType::kNumber, 0.5, 0.0, 1.0, {}, "0 = crisp, 1 = very soft"},
      {"shadow_angle",
       FieldType::kNumber,
       120.0,
       -360.0,
       360.0,
       {},
       "light direction in degrees (0 = from the right, 90 = from the top, 180 = from the left); a "
       "scene's sidecar light overrides it"},
      {"size_cm",
       FieldType::kString,
       "",
       {},
       {},
       {},
       "real product size \"W,H\" in cm; with a scene's px_per_cm the product gets its real size"},
      {"harmonize",
       FieldType::kNumber,
       0.5,
       0.0,
       1.0,
       {},
       "in scenes: strength of the match to the scene's light (colour change stays within "
       "mean ΔE2000 3, max 6)"},
      {"seed", FieldType::kInteger, 0, 0.0, 2147483647.0, {}, "seed of the gradient's dithering"},
  };
  return s;
}

// Where and how big a product goes in a scene, in canvas pixels.
struct SceneLayout {
  bool from_sidecar = false;
  cv::Point2d spot;         // the product's base centre stands here
  double px_per_cm = 0;     // at the spot; 0 = unknown
  double region_width = 0;  // width available at the spot (polygon), 0 = unbounded
  std::optional<double> light_angle;
  std::optional<double> floor_squash;
};

Result<cv::Point2d> ReadPoint(const nlohmann::json& j, const std::string& what) {
  if (j.is_array() && j.size() == 2 && j[0].is_number() && j[1].is_number()) {
    return cv::Point2d(j[0].get<double>(), j[1].get<double>());
  }
  if (j.is_object() && j.contains("x") && j.contains("y") && j["x"].is_number() &&
      j["y"].is_number()) {
    return cv::Point2d(j["x"].get<double>(), j["y"].get<double>());
  }
  return InvalidArgument(what + " must be [x, y] or {\"x\": .., \"y\": ..} in pixels, got " +
                         j.dump());
}

// Reads the sidecar (coordinates in the scene photo's pixels) and maps it onto the canvas: the
// scene is scaled by `scale` and shifted by `offset` (cover crop).
Result<SceneLayout> ReadSidecar(const std::string& path, cv::Size scene_size, double scale,
                                cv::Point2d offset) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read scene sidecar " + path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument("scene sidecar " + path + " is not valid JSON (" + e.what() +
                           "); see docs/staging.md for the format");
  }
  auto bad = [&](const std::string& what) {
    return InvalidArgument("scene sidecar " + path + ": " + what + "; see docs/staging.md");
  };
  if (!j.is_object()) return bad("expected a JSON object");
  static const std::set<std::string> kKnown = {"floor_y", "polygon",     "anchor",      "px_per_cm",
                                               "light",   "perspective", "floor_squash"};
  for (const auto& [key, value] : j.items()) {
    if (!key.empty() && key[0] != '_' && !kKnown.count(key)) {
      return bad("unknown key '" + key +
                 "' (known: floor_y, polygon, anchor, px_per_cm, perspective, light, "
                 "floor_squash; keys starting with _ are comments)");
    }
  }
  SceneLayout layout;
  layout.from_sidecar = true;
  std::optional<cv::Point2d> anchor, spot;
  if (j.contains("anchor")) {
    ASSIGN_OR_RETURN(cv::Point2d a, ReadPoint(j["anchor"], "anchor"));
    anchor = a;
  }
  if (j.contains("polygon")) {
    const nlohmann::json& poly = j["polygon"];
    if (!poly.is_array() || poly.size() < 3) return bad("polygon needs at least 3 [x, y] points");
    std::vector<cv::Point2f> points;
    for (const auto& p : poly) {
      ASSIGN_OR_RETURN(cv::Point2d q, ReadPoint(p, "a polygon point"));
      points.emplace_back(static_cast<float>(q.x), static_cast<float>(q.y));
    }
    const cv::Moments m = cv::moments(points);
    if (std::abs(m.m00) < 1) return bad("polygon has no area");
    spot = cv::Point2d(m.m10 / m.m00, m.m01 / m.m00);
    layout.region_width = cv::boundingRect(points).width * scale;
  }
  if (j.contains("floor_y")) {
    if (!j["floor_y"].is_number()) return bad("floor_y must be a number of pixels");
    const double floor_y = j["floor_y"];
    if (!spot) spot = cv::Point2d(anchor ? anchor->x : scene_size.width / 2.0, floor_y);
  }
  if (!spot && anchor) spot = anchor;
  if (!spot) return bad("give at least one of floor_y, polygon or anchor");
  if (!anchor) anchor = spot;
  if (j.contains("px_per_cm")) {
    if (!j["px_per_cm"].is_number() || j["px_per_cm"].get<double>() <= 0) {
      return bad("px_per_cm must be a positive number");
    }
    double perspective = 0;
    if (j.contains("perspective")) {
      if (!j["perspective"].is_number()) return bad("perspective must be a number");
      perspective = j["perspective"];
    }
    // Scale changes linearly with the floor row: nearer the camera, more pixels per cm.
    layout.px_per_cm = (j["px_per_cm"].get<double>() + perspective * (spot->y - anchor->y)) * scale;
    if (layout.px_per_cm <= 0) return bad("perspective makes px_per_cm negative at the spot");
  }
  if (j.contains("floor_squash")) {
    const nlohmann::json& q = j["floor_squash"];
    if (!q.is_number() || q.get<double>() < 0.05 || q.get<double>() > 1) {
      return bad(
          "floor_squash must be a number from 0.05 to 1 (how much the floor's depth is "
          "foreshortened)");
    }
    layout.floor_squash = q.get<double>();
  }
  if (j.contains("light")) {
    const nlohmann::json& light = j["light"];
    if (light.is_number()) {
      layout.light_angle = light.get<double>();
    } else {
      // A vector: the direction the light travels in the image (x right, y down).
      ASSIGN_OR_RETURN(cv::Point2d v, ReadPoint(light, "light"));
      layout.light_angle = std::atan2(v.y, -v.x) * 180.0 / 3.14159265358979323846;
    }
  }
  layout.spot = *spot * scale + offset;
  return layout;
}

Result<cv::Size2d> ParseSizeCm(const std::string& text) {
  std::string s = text;
  std::replace(s.begin(), s.end(), 'x', ',');
  std::replace(s.begin(), s.end(), 'X', ',');
  std::istringstream in(s);
  double w = 0, h = 0;
  char comma = 0;
  if (!(in >> w >> comma >> h) || comma != ',' || w <= 0 || h <= 0 || !(in >> std::ws).eof()) {
    return InvalidArgument("stage.size_cm: '" + text +
                           "' is not a size; give the product's width and height in cm as "
                           "\"W,H\", e.g. \"45,60\"");
  }
  return cv::Size2d(w, h);
}

cv::Vec3f Bgr(const cv::Scalar& s) {
  return {static_cast<float>(s[0]), static_cast<float>(s[1]), static_cast<float>(s[2])};
}

// Solid colour or gradient, dithered (gradients only) so that 8 bits show no bands.
cv::Mat MakeBackdrop(cv::Size size, const StageParams& p) {
  if (p.gradient == "none") return cv::Mat(size, CV_8UC3, p.background);
  const cv::Vec3f c1 = Bgr(p.background), c2 = Bgr(p.background2);
  cv::Mat out(size, CV_8UC3);
  cv::RNG rng(static_cast<uint64_t>(p.seed) * 2654435761u + 1);
  const double cx = size.width / 2.0, cy = size.height * 0.45;
  const double reach = std::hypot(std::max(cx, size.width - cx), std::max(cy, size.height - cy));
  for (int y = 0; y < size.height; ++y) {
    cv::Vec3b* row = out.ptr<cv::Vec3b>(y);
    const double ty = size.height > 1 ? y / (size.height - 1.0) : 0;
    for (int x = 0; x < size.width; ++x) {
      const double t = p.gradient == "vertical" ? ty : std::hypot(x - cx, y - cy) / reach;
      const float noise = rng.uniform(-0.5f, 0.5f) + rng.uniform(-0.5f, 0.5f);
      for (int c = 0; c < 3; ++c) {
        row[x][c] = cv::saturate_cast<uchar>(c1[c] + (c2[c] - c1[c]) * t + noise);
      }
    }
  }
  return out;
}

// The scene scaled to cover `canvas` and centre-cropped. Returns the scale and offset used.
cv::Mat CoverScene(const cv::Mat& scene, cv::Size canvas, double* scale, cv::Point2d* offset) {
  *scale = std::max(canvas.width / static_cast<double>(scene.cols),
                    canvas.height / static_cast<double>(scene.rows));
  const cv::Size scaled(
      std::max(canvas.width, static_cast<int>(std::lround(scene.cols * *scale))),
      std::max(canvas.height, static_cast<int>(std::lround(scene.rows * *scale))));
  cv::Mat resized;
  cv::resize(scene, resized, scaled, 0, 0, *scale < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
  const cv::Point crop((scaled.width - canvas.width) / 2, (scaled.height - canvas.height) / 2);
  *offset = cv::Point2d(-crop.x, -crop.y);
  return resized(cv::Rect(crop, canvas)).clone();
}

// The product resampled to `size` with premultiplied alpha, as CV_16UC4: colour x alpha in
// [0, 255 * 255] and alpha x 257 in [0, 65535]. Premultiplying first keeps the colours hidden
// under alpha 0 out of the edge; 16 bits keep the precision at half the memory of floats.
cv::Mat ResamplePremultiplied(const cv::Mat& bgr, const cv::Mat& alpha, cv::Size size) {
  cv::Mat packed(bgr.size(), CV_16UC4);
  for (int y = 0; y < bgr.rows; ++y) {
    const cv::Vec3b* p = bgr.ptr<cv::Vec3b>(y);
    const uchar* a = alpha.ptr<uchar>(y);
    cv::Vec4w* q = packed.ptr<cv::Vec4w>(y);
    for (int x = 0; x < bgr.cols; ++x) {
      q[x] = cv::Vec4w(static_cast<ushort>(p[x][0] * a[x]), static_cast<ushort>(p[x][1] * a[x]),
                       static_cast<ushort>(p[x][2] * a[x]), static_cast<ushort>(a[x] * 257));
    }
  }
  cv::Mat out;
  const bool shrink = size.width < bgr.cols;
  cv::resize(packed, out, size, 0, 0, shrink ? cv::INTER_AREA : cv::INTER_CUBIC);
  return out;
}

// out = P + (1 - a) * background, over the part of `dest` inside the canvas (`packed` from
// ResamplePremultiplied). Cubic overshoot is clamped so colour never exceeds alpha. With a
// background alpha plane (transparent canvas), alpha composes the same way and colour is
// un-premultiplied.
void CompositeOver(const cv::Mat& packed, cv::Point dest, cv::Mat& canvas, cv::Mat* canvas_alpha) {
  const cv::Rect placed(dest, packed.size());
  const cv::Rect visible = placed & cv::Rect(cv::Point(0, 0), canvas.size());
  // Below half a grey level of alpha, nothing is drawn: no faint haze over a pure background.
  constexpr int kMinAlpha = 128;
  for (int y = visible.y; y < visible.y + visible.height; ++y) {
    const cv::Vec4w* p = packed.ptr<cv::Vec4w>(y - dest.y) + (visible.x - dest.x);
    cv::Vec3b* out = canvas.ptr<cv::Vec3b>(y) + visible.x;
    uchar* out_a = canvas_alpha ? canvas_alpha->ptr<uchar>(y) + visible.x : nullptr;
    for (int x = 0; x < visible.width; ++x) {
      if (p[x][3] < kMinAlpha) continue;
      const float w = p[x][3] / 65535.0f;
      const float rest = 1.0f - w;
      const float limit = 255.0f * w;
      float colour[3];
      for (int c = 0; c < 3; ++c) colour[c] = std::min(p[x][c] / 255.0f, limit);
      if (!out_a) {
        for (int c = 0; c < 3; ++c)
          out[x][c] = cv::saturate_cast<uchar>(colour[c] + rest * out[x][c]);
        continue;
      }
      const float below = out_a[x] / 255.0f;
      const float total = w + rest * below;
      for (int c = 0; c < 3; ++c) {
        const float premult = colour[c] + rest * below * out[x][c];
        out[x][c] = cv::saturate_cast<uchar>(total > 0 ? premult / total : 0);
      }
      out_a[x] = cv::saturate_cast<uchar>(255.0f * total);
    }
  }
}

std::string Fixed(double v, int digits = 1) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(digits);
  s << v;
  return s.str();
}

Result<Image> RunStage(const Image& input, const nlohmann::json& json, OpContext& context) {
  if (!input.has_alpha()) {
    return InvalidArgument(
        "stage needs a cutout (an image with transparency) and this image has none; run "
        "`vitrine cutout` first, or use `vitrine stage`, which cuts out opaque photos itself");
  }
  StageParams p = StageParams::FromJson(json);
  std::optional<cv::Size2d> size_cm;
  if (!p.size_cm.empty()) {
    ASSIGN_OR_RETURN(cv::Size2d s, ParseSizeCm(p.size_cm));
    size_cm = s;
  }
  const cv::Rect box = SubjectBox(input.alpha);
  if (box.empty()) {
    return InvalidArgument(
        "the cutout is empty (fully transparent): there is no product to place; check the "
        "cutout");
  }
  const bool transparent = p.background[3] == 0 && p.scene.empty();

  // The canvas and, in a scene, where the product stands.
  cv::Mat canvas;
  std::optional<SceneLayout> layout;
  if (!p.scene.empty()) {
    const LimitsConfig limits = context.config ? context.config->limits : LimitsConfig{};
    Result<Image> scene = io::ReadImageFile(p.scene, limits);
    if (!scene.ok()) return scene.status().WithContext("stage.scene");
    const cv::Size size(p.canvas.width > 0 ? p.canvas.width : scene->width(),
                        p.canvas.height > 0 ? p.canvas.height : scene->height());
    double scale = 1;
    cv::Point2d offset(0, 0);
    canvas = size == scene->bgr.size() ? scene->bgr.clone()
                                       : CoverScene(scene->bgr, size, &scale, &offset);
    if (scale > kMaxCleanUpscale) {
      Warn(context, "the scene was enlarged " + Fixed(scale) + "x to fill the " +
                        std::to_string(size.width) + "x" + std::to_string(size.height) +
                        " canvas and will look soft; use a larger scene photo or a smaller canvas");
    }
    const fs::path sidecar = fs::path(p.scene).replace_extension(".json");
    std::error_code ec;
    if (fs::exists(sidecar, ec)) {
      ASSIGN_OR_RETURN(SceneLayout l,
                       ReadSidecar(sidecar.string(), scene->bgr.size(), scale, offset));
      layout = l;
    } else {
      SceneLayout l;
      l.spot = cv::Point2d(size.width / 2.0, size.height * 0.85);
      layout = l;
      Warn(context, "scene " + p.scene + " has no sidecar " + sidecar.string() +
                        ": the product stands on the lower middle at a default size; write the "
                        "sidecar (floor_y, px_per_cm; docs/staging.md) to place it on the floor "
                        "at its real size");
    }
    if (layout->light_angle) p.shadow.light_angle = *layout->light_angle;
    if (layout->floor_squash) p.shadow.floor_squash = *layout->floor_squash;
  } else {
    const cv::Size size(p.canvas.width > 0 ? p.canvas.width : kDefaultCanvas,
                        p.canvas.height > 0 ? p.canvas.height : kDefaultCanvas);
    canvas = transparent ? cv::Mat(size, CV_8UC3, cv::Scalar::all(0)) : MakeBackdrop(size, p);
  }
  const cv::Size size = canvas.size();

  // Scale, and the box's top-left on the canvas.
  double scale = 0;
  cv::Point2d at;
  if (layout) {
    if (size_cm && layout->px_per_cm > 0) {
      const double sx = size_cm->width * layout->px_per_cm / box.width;
      const double sy = size_cm->height * layout->px_per_cm / box.height;
      scale = std::sqrt(sx * sy);
      if (std::abs(std::log(sx / sy)) > 0.15) {
        Warn(context, "size_cm " + p.size_cm + " has a width/height ratio of " +
                          Fixed(size_cm->width / size_cm->height, 2) +
                          " but the product's box has " +
                          Fixed(static_cast<double>(box.width) / box.height, 2) +
                          "; check the numbers (the product keeps its own proportions)");
      }
    } else {
      if (size_cm) {
        Warn(context,
             "size_cm is ignored: the scene's sidecar gives no px_per_cm; add it "
             "(docs/staging.md) to stage at real size");
      } else if (layout->from_sidecar && layout->px_per_cm > 0) {
        Warn(context,
             "no size_cm given: the product gets a default size in the scene; pass its "
             "real size (size_cm \"W,H\") to stage it at scale");
      }
      scale = p.fill * std::min(0.45 * size.width / box.width, 0.55 * layout->spot.y / box.height);
    }
    if (layout->region_width > 0 && box.width * scale > layout->region_width) {
      Warn(context, "the product (" + Fixed(box.width * scale, 0) +
                        " px wide) is wider than the scene's placement polygon (" +
                        Fixed(layout->region_width, 0) + " px) and was shrunk to fit");
      scale = layout->region_width / box.width;
    }
    at = cv::Point2d(layout->spot.x - box.width * scale / 2, layout->spot.y - box.height * scale);
    if (at.y < 0) {
      Warn(context,
           "the product is taller than the scene above its floor spot and is cut off at "
           "the top; use a taller canvas or check size_cm");
    }
  } else {
    if (size_cm) {
      Warn(context,
           "size_cm is ignored on a colour or gradient (there is nothing to be to scale "
           "with); the product fills the canvas by fill. Use it with a scene");
    }
    const double w = size.width, h = size.height;
    scale = p.fill * std::min(w / box.width, h / box.height);
    scale = std::min(
        {scale, (1 - 2 * p.margin_x) * w / box.width, (1 - 2 * p.margin_y) * h / box.height});
    const double bw = box.width * scale, bh = box.height * scale;
    const double top = p.align == "top"      ? p.margin_y * h
                       : p.align == "bottom" ? h - p.margin_y * h - bh
                                             : (h - bh) / 2;
    at = cv::Point2d((w - bw) / 2, top);
  }
  if (scale > kMaxCleanUpscale) {
    Warn(context, "the product was enlarged " + Fixed(scale) + "x (its cutout is " +
                      std::to_string(box.width) + "x" + std::to_string(box.height) +
                      " px) and will look soft; use a larger photo or a smaller canvas");
  }

  // The product crop, resampled to its place.
  const cv::Rect crop = cv::Rect(box.x - kEdgePad, box.y - kEdgePad, box.width + 2 * kEdgePad,
                                 box.height + 2 * kEdgePad) &
                        cv::Rect(cv::Point(0, 0), input.bgr.size());
  const cv::Point2d crop_at = at + cv::Point2d(crop.x - box.x, crop.y - box.y) * scale;
  const cv::Point dest(static_cast<int>(std::lround(crop_at.x)),
                       static_cast<int>(std::lround(crop_at.y)));
  const cv::Size placed_size(std::max(1, static_cast<int>(std::lround(crop.width * scale))),
                             std::max(1, static_cast<int>(std::lround(crop.height * scale))));
  cv::Mat product = input.bgr(crop);
  if (layout && p.harmonize > 0) {
    const cv::Rect around =
        cv::Rect(dest.x - placed_size.width / 4, dest.y - placed_size.height / 4,
                 placed_size.width * 3 / 2, placed_size.height * 3 / 2) &
        cv::Rect(cv::Point(0, 0), size);
    if (!around.empty()) {
      HarmonizeOptions options;
      options.strength = p.harmonize;
      product = Harmonize(product, input.alpha(crop), canvas(around), options);
    }
  }
  const cv::Mat packed = ResamplePremultiplied(product, input.alpha(crop), placed_size);

  // The shadow, under the product: darkens the background, or is the only alpha of a
  // transparent one.
  cv::Mat canvas_alpha;
  if (transparent) canvas_alpha = cv::Mat::zeros(size, CV_8UC1);
  const cv::Rect placed_box(
      cv::Point(static_cast<int>(std::lround(at.x)), static_cast<int>(std::lround(at.y))),
      cv::Size(static_cast<int>(std::lround(box.width * scale)),
               static_cast<int>(std::lround(box.height * scale))));
  const ShadowLayer shadow = MakeShadow(input.alpha(box), placed_box, size, p.shadow);
  if (transparent) {
    if (!shadow.bound.empty()) shadow.darkness.copyTo(canvas_alpha(shadow.bound));
  } else {
    DarkenWithShadow(shadow, canvas);
  }
  CompositeOver(packed, dest, canvas, transparent ? &canvas_alpha : nullptr);
  if (context.facts) {
    // Where the cutout's subject box landed: QA compares the product before and after with it.
    // QA's convention: the box of every non-zero alpha pixel, mapped as the subject box was.
    const cv::Rect nonzero = cv::boundingRect(input.alpha);
    const cv::Point2d corner = at + cv::Point2d(nonzero.x - box.x, nonzero.y - box.y) * scale;
    (*context.facts)["placement"] = {std::lround(corner.x), std::lround(corner.y),
                                     std::lround(nonzero.width * scale),
                                     std::lround(nonzero.height * scale)};
  }

  Image out;
  out.name = input.name;
  out.bgr = canvas;
  if (transparent) out.alpha = canvas_alpha;
  return out;
}

}  // namespace

VITRINE_REGISTER_OP((OpDef{StageSchema(), RunStage}));

}  // namespace vitrine::ops
