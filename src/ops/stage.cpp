// stage: places a cutout on a canvas — a studio colour, a gradient, or a scene photo — at a fill
// ratio or, in a scene, at the product's real size; adds a contact or cast shadow, matches the
// product gently to the scene's light, and composites with premultiplied alpha so edges carry no
// halo. docs/staging.md describes the parameters and the scene sidecar format.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "core/text.h"
#include "io/image_io.h"
#include "ops/harmonize.h"
#include "ops/matting.h"
#include "ops/op.h"
#include "ops/shadow.h"
#include "qa/checks.h"
#include "qa/qa_config.h"

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
  double min_share = 0.3;
  bool level = false;
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
    s.min_share = p["min_share"];
    s.level = p["level"];
    s.seed = p["seed"];
    return s;
  }
};

OpSchema StageSchema() {
  OpSchema s;
  s.name = "stage";
  s.version = 3;
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
      {"min_share",
       FieldType::kNumber,
       0.3,
       0.0,
       0.9,
       {},
       "in scenes: the least share of the frame's width or height the product takes; a closer "
       "view of the scene gives it that (0 = always the whole scene)"},
      {"level",
       FieldType::kBoolean,
       false,
       {},
       {},
       {},
       "in scenes: turn a product photographed tilted (4-50 degrees) until it rests on its base"},
      {"seed", FieldType::kInteger, 0, 0.0, 2147483647.0, {}, "seed of the gradient's dithering"},
  };
  return s;
}

// A scene's sidecar, in the scene photo's own pixels.
struct SceneSpec {
  bool from_sidecar = false;
  // The surface products stand on: a convex polygon, or (when empty) the row floor_y.
  std::vector<cv::Point2d> polygon;
  double floor_y = 0;
  cv::Point2d spot;        // where the product's base centre stands by preference
  cv::Point2d anchor;      // where px_per_cm was measured
  double px_per_cm = 0;    // at the anchor; 0 = unknown
  double perspective = 0;  // change of px_per_cm per row down
  std::optional<double> light_angle;
  std::optional<double> floor_squash;

  // Scale changes linearly with the floor row: nearer the camera, more pixels per cm.
  double PxPerCmAt(double y) const { return px_per_cm + perspective * (y - anchor.y); }
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

Result<SceneSpec> ReadSidecar(const std::string& path, cv::Size scene_size) {
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
  SceneSpec spec;
  spec.from_sidecar = true;
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
      spec.polygon.push_back(q);
    }
    const cv::Moments m = cv::moments(points);
    if (std::abs(m.m00) < 1) return bad("polygon has no area");
    if (!cv::isContourConvex(points)) {
      return bad(
          "polygon must be convex (the free surface seen in the photo); split the area or "
          "draw its convex part");
    }
    spot = cv::Point2d(m.m10 / m.m00, m.m01 / m.m00);
  }
  if (j.contains("floor_y")) {
    if (!j["floor_y"].is_number()) return bad("floor_y must be a number of pixels");
    spec.floor_y = j["floor_y"];
    if (!spot) spot = cv::Point2d(anchor ? anchor->x : scene_size.width / 2.0, spec.floor_y);
  }
  if (!spot && anchor) spot = anchor;
  if (!spot) return bad("give at least one of floor_y, polygon or anchor");
  if (spec.polygon.empty()) spec.floor_y = spot->y;
  spec.spot = *spot;
  spec.anchor = anchor ? *anchor : *spot;
  if (j.contains("px_per_cm")) {
    if (!j["px_per_cm"].is_number() || j["px_per_cm"].get<double>() <= 0) {
      return bad("px_per_cm must be a positive number");
    }
    spec.px_per_cm = j["px_per_cm"];
    if (j.contains("perspective")) {
      if (!j["perspective"].is_number()) return bad("perspective must be a number");
      spec.perspective = j["perspective"];
    }
    if (spec.PxPerCmAt(spec.spot.y) <= 0) {
      return bad("perspective makes px_per_cm negative at the spot");
    }
  }
  if (j.contains("floor_squash")) {
    const nlohmann::json& q = j["floor_squash"];
    if (!q.is_number() || q.get<double>() < 0.05 || q.get<double>() > 1) {
      return bad(
          "floor_squash must be a number from 0.05 to 1 (how much the floor's depth is "
          "foreshortened)");
    }
    spec.floor_squash = q.get<double>();
  }
  if (j.contains("light")) {
    const nlohmann::json& light = j["light"];
    if (light.is_number()) {
      spec.light_angle = light.get<double>();
    } else {
      // A vector: the direction the light travels in the image (x right, y down).
      ASSIGN_OR_RETURN(cv::Point2d v, ReadPoint(light, "light"));
      spec.light_angle = std::atan2(v.y, -v.x) * 180.0 / 3.14159265358979323846;
    }
  }
  return spec;
}

// The surface's columns [lo, hi] on row y; lo > hi when the row misses it.
std::pair<double, double> SpanAt(const SceneSpec& spec, double y) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (spec.polygon.empty()) {
    return std::abs(y - spec.floor_y) < 0.5 ? std::pair{-kInf, kInf} : std::pair{kInf, -kInf};
  }
  double lo = kInf, hi = -kInf;
  const size_t n = spec.polygon.size();
  for (size_t i = 0; i < n; ++i) {
    const cv::Point2d a = spec.polygon[i], b = spec.polygon[(i + 1) % n];
    if (y < std::min(a.y, b.y) || y > std::max(a.y, b.y)) continue;
    if (a.y == b.y) {
      lo = std::min({lo, a.x, b.x});
      hi = std::max({hi, a.x, b.x});
    } else {
      const double x = a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y);
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
  }
  return {lo, hi};
}

// The surface's back edge (its highest row) at column x; -inf for a floor row, which has none.
double BackEdgeAt(const SceneSpec& spec, double x) {
  double top = std::numeric_limits<double>::infinity();
  if (spec.polygon.empty()) return -top;
  const size_t n = spec.polygon.size();
  for (size_t i = 0; i < n; ++i) {
    const cv::Point2d a = spec.polygon[i], b = spec.polygon[(i + 1) % n];
    if (x < std::min(a.x, b.x) || x > std::max(a.x, b.x)) continue;
    top = std::min(top,
                   a.x == b.x ? std::min(a.y, b.y) : a.y + (x - a.x) * (b.y - a.y) / (b.x - a.x));
  }
  return top;
}

// A product stands with its base fully on the surface: a footprint this deep (as a share of its
// width, foreshortened by the floor) in front of the surface's back edge.
constexpr double kFootprintDepth = 0.5;
// Room kept in the frame above the product's top and below its base (for the shadow).
constexpr double kHeadroom = 0.03;
constexpr double kFootRoom = 0.03;
// How much a view may enlarge the scene, beyond what covering the canvas needs, to give the
// product its min_share of the frame: past this the photo turns to mush.
constexpr double kMaxSceneZoom = 4.0;

// Where the product's box stands in the scene: its base centre and its size, in scene pixels.
struct ScenePlacement {
  cv::Point2d base;
  cv::Size2d size;
};

// The product's base centre on row y: at the spot's column, moved sideways as little as needed
// for its width to stay on the surface and in the frame.
cv::Point2d BaseOnRow(const SceneSpec& spec, double y, double width, const cv::Rect2d& frame) {
  const auto [lo, hi] = SpanAt(spec, y);
  const double left = std::max(lo, frame.x) + width / 2,
               right = std::min(hi, frame.br().x) - width / 2;
  return {left <= right ? std::clamp(spec.spot.x, left, right) : (left + right) / 2, y};
}

// Whether a box of `size` with its base centred at `base` stands fully on the surface, in front
// of its back edge, and inside the frame with room above and below.
bool Fits(const SceneSpec& spec, cv::Point2d base, cv::Size2d size, const cv::Rect2d& frame,
          double squash) {
  constexpr double kSlack = 0.5;
  const auto [lo, hi] = SpanAt(spec, base.y);
  const double x0 = base.x - size.width / 2, x1 = base.x + size.width / 2;
  if (x0 < std::max(lo, frame.x) - kSlack || x1 > std::min(hi, frame.br().x) + kSlack) return false;
  const double depth = kFootprintDepth * size.width * squash;
  const double back =
      std::max(BackEdgeAt(spec, std::max(x0, lo)), BackEdgeAt(spec, std::min(x1, hi)));
  if (base.y - depth < back - kSlack) return false;
  if (base.y - size.height < frame.y + kHeadroom * frame.height - kSlack) return false;
  return base.y <= frame.br().y - kFootRoom * frame.height + kSlack;
}

// Rows the product's base may stand on, nearest the spot first.
std::vector<double> CandidateRows(const SceneSpec& spec) {
  if (spec.polygon.empty()) return {spec.floor_y};
  double top = spec.polygon[0].y, bottom = top;
  for (const cv::Point2d& p : spec.polygon) {
    top = std::min(top, p.y);
    bottom = std::max(bottom, p.y);
  }
  std::vector<double> rows;
  for (double y = std::ceil(top); y <= bottom; y += 1) rows.push_back(y);
  std::stable_sort(rows.begin(), rows.end(), [&](double a, double b) {
    return std::abs(a - spec.spot.y) < std::abs(b - spec.spot.y);
  });
  return rows;
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

// The largest part of the scene with the canvas's shape, centred: what the canvas shows unless
// the product needs a closer view.
cv::Rect2d CoverView(cv::Size scene, cv::Size canvas) {
  const double aspect = canvas.width / static_cast<double>(canvas.height);
  const double w = std::min<double>(scene.width, scene.height * aspect);
  const double h = w / aspect;
  return {(scene.width - w) / 2, (scene.height - h) / 2, w, h};
}

// The part `view` of the scene rendered at the canvas size. `origin` and `zoom` map scene pixels
// to canvas pixels: canvas = (scene - origin) * zoom.
cv::Mat RenderView(const cv::Mat& scene, const cv::Rect2d& view, cv::Size canvas,
                   cv::Point2d* origin, double* zoom) {
  const cv::Rect roi =
      cv::Rect(static_cast<int>(std::lround(view.x)), static_cast<int>(std::lround(view.y)),
               std::max(1, static_cast<int>(std::lround(view.width))),
               std::max(1, static_cast<int>(std::lround(view.height)))) &
      cv::Rect(cv::Point(0, 0), scene.size());
  *origin = roi.tl();
  *zoom = canvas.width / static_cast<double>(roi.width);
  if (roi.size() == canvas) return scene(roi).clone();
  cv::Mat out;
  cv::resize(scene(roi), out, canvas, 0, 0, *zoom < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
  return out;
}

// The largest scale (scene px per cutout px), at most `wanted`, at which a product box of `box`
// stands with its base on row y: fully on the surface, in front of its back edge, and inside the
// frame with room above and below. 0 when the row cannot hold it. `base` receives where.
double MaxScaleOnRow(const SceneSpec& spec, double y, cv::Size box, const cv::Rect2d& frame,
                     double squash, double wanted, cv::Point2d* base) {
  if (y > frame.br().y - kFootRoom * frame.height || y < frame.y) return 0;
  const auto [lo, hi] = SpanAt(spec, y);
  const double width = std::min(hi, frame.br().x) - std::max(lo, frame.x);
  if (width <= 0) return 0;
  const double upper =
      std::min({wanted, width / box.width, (y - frame.y - kHeadroom * frame.height) / box.height});
  auto fits = [&](double scale, cv::Point2d* at) {
    *at = BaseOnRow(spec, y, box.width * scale, frame);
    return Fits(spec, *at, cv::Size2d(box.width * scale, box.height * scale), frame, squash);
  };
  if (upper <= 0) return 0;
  if (fits(upper, base)) return upper;
  // On a convex surface a box that fits still fits smaller: bisect to a tenth of a percent.
  double low = 0, high = upper;
  cv::Point2d at;
  while (high - low > 1e-3 * upper) {
    const double mid = (low + high) / 2;
    (fits(mid, &at) ? low : high) = mid;
  }
  return low > 0 && fits(low, base) ? low : 0;
}

// Where the product stands in the scene. With a real size and the scene's scale it keeps that
// size and stands on the row nearest the spot that holds it, or is refused; without, it gets a
// default size (fill x 45% of the frame's width, fill x 55% of the height above the spot) shrunk
// as far as the surface at the spot needs.
Result<ScenePlacement> PlaceInScene(const SceneSpec& spec, cv::Size box,
                                    const std::optional<cv::Size2d>& size_cm, double fill,
                                    const cv::Rect2d& frame, double squash) {
  cv::Point2d base;
  if (size_cm && spec.px_per_cm > 0) {
    auto real_scale = [&](double y) {
      const double ppcm = spec.PxPerCmAt(y);
      return std::sqrt(size_cm->width * ppcm / box.width * size_cm->height * ppcm / box.height);
    };
    for (double y : CandidateRows(spec)) {
      if (spec.PxPerCmAt(y) <= 0) continue;
      const double scale = real_scale(y);
      if (MaxScaleOnRow(spec, y, box, frame, squash, scale, &base) >= scale * (1 - 1e-6)) {
        return ScenePlacement{base, {box.width * scale, box.height * scale}};
      }
    }
    // The largest this product can be at the spot, in cm, for the message.
    const double y = spec.spot.y, ppcm = spec.PxPerCmAt(y);
    const double fit = MaxScaleOnRow(spec, y, box, frame, squash, 1e9, &base);
    return InvalidArgument(
        "at its real size (" + FormatFixed(size_cm->width, 0) + "x" +
        FormatFixed(size_cm->height, 0) + " cm, " + FormatFixed(box.width * real_scale(y), 0) +
        "x" + FormatFixed(box.height * real_scale(y), 0) +
        " px here) the product does not fit on this scene's surface with its base on it, in "
        "front of its back edge and inside the frame: at the standing spot it can be at most "
        "about " +
        FormatFixed(box.width * fit / ppcm, 0) + "x" + FormatFixed(box.height * fit / ppcm, 0) +
        " cm. Stage it in a larger scene (a room for furniture), or leave out size_cm to have "
        "it scaled to fit");
  }
  const double wanted =
      fill * std::min(0.45 * frame.width / box.width, 0.55 * (spec.spot.y - frame.y) / box.height);
  double best = 0;
  cv::Point2d best_base;
  for (double y : CandidateRows(spec)) {
    const double scale = MaxScaleOnRow(spec, y, box, frame, squash, wanted, &base);
    if (scale > best * (1 + 1e-6)) {
      best = scale;
      best_base = base;
    }
    if (best >= wanted * (1 - 1e-6)) break;
  }
  if (best <= 0) {
    return InvalidArgument(
        "the scene's surface (polygon or floor_y in its sidecar) leaves no room for a product "
        "inside the frame; check the sidecar against the photo (docs/staging.md)");
  }
  return ScenePlacement{best_base, {box.width * best, box.height * best}};
}

// The share of the frame a product's box takes: the larger of its width and height shares.
double Share(const cv::Size2d& product, const cv::Rect2d& view) {
  return std::max(product.width / view.width, product.height / view.height);
}

// The part of the scene the canvas shows: `frame`, or, when the product would take less than
// `min_share` of it, a closer view with the product's base at 80% of its height (floor in front
// for the shadow, the room around and above). The scene is enlarged with the product, so their
// real scale is kept. Refused when that needs the scene enlarged more than kMaxSceneZoom x.
Result<cv::Rect2d> ChooseView(const ScenePlacement& placed, const cv::Rect2d& frame, cv::Size scene,
                              double min_share, const std::optional<cv::Size2d>& size_cm) {
  const double share = Share(placed.size, frame);
  if (min_share <= 0 || share >= min_share) return frame;
  const double aspect = frame.width / frame.height;
  const double h = std::max(placed.size.height, placed.size.width / aspect) / min_share;
  const double w = h * aspect;
  const double zoom = frame.height / h;
  if (zoom > kMaxSceneZoom) {
    return InvalidArgument(
        "the product" +
        (size_cm ? " (" + FormatFixed(size_cm->width, 0) + "x" + FormatFixed(size_cm->height, 0) +
                       " cm)"
                 : std::string()) +
        " takes " + FormatFixed(100 * share, 0) + "% of this scene's frame; to take the " +
        FormatFixed(100 * min_share, 0) +
        "% a listing image needs (min_share) the scene would be "
        "enlarged " +
        FormatFixed(zoom, 1) + "x, more than the " + FormatFixed(kMaxSceneZoom, 0) +
        "x at which it still looks like a photo. Stage it in a closer scene (a tabletop or shelf "
        "for small products), or lower min_share (0 shows the whole scene)");
  }
  const double x = std::clamp(placed.base.x - w / 2, 0.0, scene.width - w);
  const double y = std::clamp(placed.base.y - 0.8 * h, 0.0, scene.height - h);
  return cv::Rect2d(x, y, w, h);
}

// Tilts beyond this are a deliberate view (a product shown from below), not one to level.
constexpr double kMaxLevelTilt = 50;
// Tilts below this are left alone: a product's own slant, or hull noise.
constexpr double kMinLevelTilt = 4;

// The tilt in degrees (positive: its right end lower in the image) of the edge a product would
// rest on if put on a floor: the edge of its silhouette's convex hull straight below its centre
// of mass, where a rigid body settles. 0 for an empty matte.
double SupportTilt(const cv::Mat& alpha) {
  const double f = std::min(1.0, 256.0 / std::max(alpha.cols, alpha.rows));
  cv::Mat small;
  cv::resize(alpha, small, cv::Size(), f, f, cv::INTER_AREA);
  std::vector<cv::Point> points;
  const cv::Mat solid = small >= 128;
  cv::findNonZero(solid, points);
  if (points.size() < 10) return 0;
  const cv::Moments m = cv::moments(solid, true);
  const double cx = m.m10 / m.m00;
  std::vector<cv::Point> hull;
  cv::convexHull(points, hull);
  double lowest = -1, tilt = 0;
  for (size_t i = 0; i < hull.size(); ++i) {
    cv::Point a = hull[i], b = hull[(i + 1) % hull.size()];
    if (a.x == b.x || cx < std::min(a.x, b.x) || cx > std::max(a.x, b.x)) continue;
    if (a.x > b.x) std::swap(a, b);
    const double y = a.y + (cx - a.x) * (b.y - a.y) / (b.x - a.x);
    if (y > lowest) {
      lowest = y;
      tilt = std::atan2(b.y - a.y, b.x - a.x) * 180.0 / 3.14159265358979323846;
    }
  }
  return tilt;
}

// The affine map that turns an image of `size` by `degrees` (counter-clockwise as seen) about its
// centre onto a canvas, `turned`, just large enough for all of it.
cv::Mat TurnMap(cv::Size size, double degrees, cv::Size* turned) {
  const cv::Point2f centre(size.width / 2.0f, size.height / 2.0f);
  cv::Mat m = cv::getRotationMatrix2D(centre, degrees, 1.0);
  const cv::Rect2f bound = cv::RotatedRect(centre, size, -degrees).boundingRect2f();
  m.at<double>(0, 2) += bound.width / 2.0 - centre.x;
  m.at<double>(1, 2) += bound.height / 2.0 - centre.y;
  *turned =
      cv::Size(static_cast<int>(std::ceil(bound.width)), static_cast<int>(std::ceil(bound.height)));
  return m;
}

// The cutout turned by `degrees` (see TurnMap), with colour premultiplied while resampling so no
// hidden colour reaches the edge.
Image Rotated(const Image& input, double degrees) {
  cv::Size size;
  const cv::Mat m = TurnMap(input.bgr.size(), degrees, &size);
  cv::Mat premultiplied, alpha;
  input.alpha.convertTo(alpha, CV_32F, 1.0 / 255);
  input.bgr.convertTo(premultiplied, CV_32FC3);
  cv::Mat alpha3;
  cv::merge(std::vector<cv::Mat>{alpha, alpha, alpha}, alpha3);
  premultiplied = premultiplied.mul(alpha3);
  cv::Mat colour, turned_alpha;
  cv::warpAffine(premultiplied, colour, m, size, cv::INTER_LINEAR, cv::BORDER_CONSTANT);
  cv::warpAffine(alpha, turned_alpha, m, size, cv::INTER_LINEAR, cv::BORDER_CONSTANT);
  cv::merge(std::vector<cv::Mat>{turned_alpha, turned_alpha, turned_alpha}, alpha3);
  colour = colour / cv::max(alpha3, 1e-6f);
  Image out;
  out.name = input.name;
  colour.convertTo(out.bgr, CV_8UC3);
  turned_alpha.convertTo(out.alpha, CV_8UC1, 255);
  return out;
}

// The angle that levels a tilted product (see SupportTilt), settled over a few turns since
// turning moves the centre of mass over another edge; 0 when it is not tilted enough to level or
// tilted too much to be an accident. Works on the matte at most 256 px across.
double LevellingAngle(const cv::Mat& alpha) {
  const double f = std::min(1.0, 256.0 / std::max(alpha.cols, alpha.rows));
  cv::Mat small, turned;
  cv::resize(alpha, small, cv::Size(), f, f, cv::INTER_AREA);
  turned = small;
  double total = 0;
  for (int round = 0; round < 3; ++round) {
    const double tilt = SupportTilt(turned);
    if (std::abs(tilt) < 1) break;
    total += tilt;
    cv::Size size;
    const cv::Mat m = TurnMap(small.size(), total, &size);
    cv::warpAffine(small, turned, m, size, cv::INTER_LINEAR, cv::BORDER_CONSTANT);
  }
  return std::abs(total) >= kMinLevelTilt && std::abs(total) <= kMaxLevelTilt ? total : 0;
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

// A product its photo cuts bleeds off the canvas where it was cut: the cut edge goes on the canvas
// edge, never in mid-canvas, where it would show as a flat slice through the product (QA rejects
// that: qa::SourceFrameCut). Cut on two opposite sides, it spans the canvas between them.
// Otherwise the product keeps its scale and its place along the uncut direction. `cut` holds
// the sides of the cutout's own frame the product runs into (qa::CutSides); `box` its subject
// box; `scale` and `at` (the box's top-left on the canvas) are adjusted.
void BleedCutEdges(const qa::FrameSides& cut, cv::Size canvas, cv::Size box, double* scale,
                   cv::Point2d* at) {
  const double w = canvas.width, h = canvas.height;
  const cv::Point2d centre = *at + cv::Point2d(box.width, box.height) * (*scale / 2);
  double spanning = 0;
  if (cut.left && cut.right) spanning = std::max(spanning, w / box.width);
  if (cut.top && cut.bottom) spanning = std::max(spanning, h / box.height);
  if (spanning > 0) *scale = spanning;
  const double bw = box.width * *scale, bh = box.height * *scale;
  at->x = cut.left ? 0 : cut.right ? w - bw : std::clamp(centre.x - bw / 2, 0.0, w - bw);
  at->y = cut.top ? 0 : cut.bottom ? h - bh : std::clamp(centre.y - bh / 2, 0.0, h - bh);
}

Result<Image> RunStage(const Image& original, const nlohmann::json& json, OpContext& context) {
  if (!original.has_alpha()) {
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
  // In a scene a product photographed tilted is turned to rest on its base.
  const cv::Rect original_box = SubjectBox(original.alpha);
  const double level =
      !p.scene.empty() && p.level && !original_box.empty() ? LevellingAngle(original.alpha) : 0;
  const Image input = level != 0 ? Rotated(original, level) : original;
  if (level != 0) {
    Warn(context, "the product was turned " + FormatFixed(std::abs(level), 0) + " degrees " +
                      (level > 0 ? "counter-clockwise" : "clockwise") +
                      " to rest on its base; leave out level to keep it as photographed");
  }
  const cv::Rect box = level != 0 ? SubjectBox(input.alpha) : original_box;
  if (box.empty()) {
    return InvalidArgument(
        "the cutout is empty (fully transparent): there is no product to place; check the "
        "cutout");
  }
  const bool transparent = p.background[3] == 0 && p.scene.empty();

  // The canvas and the box's top-left on it, at `scale` canvas px per cutout px.
  cv::Mat canvas;
  double scale = 0;
  cv::Point2d at;
  if (!p.scene.empty()) {
    const LimitsConfig limits = context.config ? context.config->limits : LimitsConfig{};
    Result<Image> scene = io::ReadImageFile(p.scene, limits);
    if (!scene.ok()) return scene.status().WithContext("stage.scene");
    const cv::Size size(p.canvas.width > 0 ? p.canvas.width : scene->width(),
                        p.canvas.height > 0 ? p.canvas.height : scene->height());
    const cv::Rect2d frame = CoverView(scene->bgr.size(), size);
    const fs::path sidecar = fs::path(p.scene).replace_extension(".json");
    std::error_code ec;
    SceneSpec spec;
    if (fs::exists(sidecar, ec)) {
      ASSIGN_OR_RETURN(spec, ReadSidecar(sidecar.string(), scene->bgr.size()));
    } else {
      spec.spot = spec.anchor =
          cv::Point2d(frame.x + frame.width / 2, frame.y + 0.85 * frame.height);
      spec.floor_y = spec.spot.y;
      Warn(context, "scene " + p.scene + " has no sidecar " + sidecar.string() +
                        ": the product stands on the lower middle at a default size; write the "
                        "sidecar (floor_y, px_per_cm; docs/staging.md) to place it on the floor "
                        "at its real size");
    }
    if (spec.light_angle) p.shadow.light_angle = *spec.light_angle;
    if (spec.floor_squash) p.shadow.floor_squash = *spec.floor_squash;
    if (size_cm && spec.px_per_cm <= 0) {
      Warn(context,
           "size_cm is ignored: the scene's sidecar gives no px_per_cm; add it "
           "(docs/staging.md) to stage at real size");
    } else if (!size_cm && spec.from_sidecar && spec.px_per_cm > 0) {
      Warn(context,
           "no size_cm given: the product gets a default size in the scene; pass its "
           "real size (size_cm \"W,H\") to stage it at scale");
    }
    if (size_cm && spec.px_per_cm > 0) {
      const double sx = size_cm->width / box.width, sy = size_cm->height / box.height;
      if (std::abs(std::log(sx / sy)) > 0.15) {
        Warn(context, "size_cm " + p.size_cm + " has a width/height ratio of " +
                          FormatFixed(size_cm->width / size_cm->height, 2) +
                          " but the product's box has " +
                          FormatFixed(static_cast<double>(box.width) / box.height, 2) +
                          "; check the numbers (the product keeps its own proportions)");
      }
    }
    ASSIGN_OR_RETURN(ScenePlacement placed,
                     PlaceInScene(spec, box.size(), size_cm, p.fill, frame, p.shadow.floor_squash));
    ASSIGN_OR_RETURN(cv::Rect2d view,
                     ChooseView(placed, frame, scene->bgr.size(), p.min_share, size_cm));
    cv::Point2d origin;
    double zoom = 1;
    canvas = RenderView(scene->bgr, view, size, &origin, &zoom);
    if (zoom > kMaxCleanUpscale) {
      Warn(context, "the scene was enlarged " + FormatFixed(zoom, 1) + "x " +
                        (view == frame ? "to fill the " + std::to_string(size.width) + "x" +
                                             std::to_string(size.height) +
                                             " canvas and will look soft; use a larger scene "
                                             "photo or a smaller canvas"
                                       : "around the product so that it takes " +
                                             FormatFixed(100 * p.min_share, 0) +
                                             "% of the frame and will look soft; use a larger "
                                             "scene photo, or a closer scene for this product"));
    }
    scale = placed.size.width / box.width * zoom;
    at = (placed.base - cv::Point2d(placed.size.width / 2, placed.size.height) - origin) * zoom;
  } else {
    const cv::Size size(p.canvas.width > 0 ? p.canvas.width : kDefaultCanvas,
                        p.canvas.height > 0 ? p.canvas.height : kDefaultCanvas);
    canvas = transparent ? cv::Mat(size, CV_8UC3, cv::Scalar::all(0)) : MakeBackdrop(size, p);
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
    const qa::FrameSides cut = qa::CutSides(input.alpha, qa::QaConfig{}.max_border_contact);
    if (cut.any()) {
      BleedCutEdges(cut, size, box.size(), &scale, &at);
      Warn(context, "source photo cuts the product at the " + cut.Names() +
                        ": supply an uncut photo for a main image (here the product bleeds off "
                        "the canvas where the photo cut it)");
    }
  }
  const cv::Size size = canvas.size();
  const bool in_scene = !p.scene.empty();
  if (scale > kMaxCleanUpscale) {
    Warn(context, "the product was enlarged " + FormatFixed(scale, 1) + "x (its cutout is " +
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
  if (in_scene && p.harmonize > 0) {
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
    // A levelled product was turned first (degrees, counter-clockwise): the placement is the
    // turned cutout's.
    if (level != 0) (*context.facts)["rotation"] = level;
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
