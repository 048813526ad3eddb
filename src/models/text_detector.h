// TextDetector: where text is in a photo, with PP-OCRv4 detection (DB) through OpenCV DNN.
//
// What the model sees, with no editing. The net maps an image to a per-pixel text probability;
// DB post-processing turns that map into regions: binarize (binary_threshold) → contours → score
// each contour by the mean probability inside it (drop below box_threshold) → unclip (DB's
// shrunk kernels are expanded back outward by D = area · unclip_ratio / perimeter, plus
// unclip_margin for the soft edges of glyphs the kernel does not reach) → polygon and
// minimum-area rectangle in image coordinates.
//
// Resolution. The image is scaled so that its long side is at most max_side, except that a very
// tall or wide image (a 400×4000 banner) is instead scaled so that its short side is at least
// min_short_side (never enlarged), and at most max_work_pixels are processed in all; each side is
// rounded to a multiple of 32, as the net needs (WorkSize()). When that does not fit in
// tile_size × tile_size it is cut into overlapping tiles; each tile's map is kept away from its
// borders and the maps are stitched into one, so a line crossing a tile boundary is one region.
//
// Small photos. A whole photo can be detected with RunPhoto() instead: one whose short side is
// under small_photo_side is first enlarged to it (at most max_photo_enlargement times,
// PhotoScale()), because at its own size the net misses a thumbnail's small captions (the demo
// fish's 16 px tilted 包邮 at 259×194 was seen in part and read as 'P'; 7 px captions not at
// all). Run() and Detect() never enlarge: a crop of a larger photo (remove_text's verify step)
// must be seen at its photo's resolution, not at one the crop's own size would pick
// (RunPhotoAround()).
//
// Preprocessing as PaddleOCR does it: pixels scaled to [0, 1], then ImageNet mean/std applied to
// the planes in the order they are stored, BGR (PaddleOCR reads with cv2). The net also responds
// to RGB planes, and each order finds lines the other misses (on real listings RGB found the
// white 今 opening 今日下单188元 that BGR dropped; on rendered text BGR found a dark 40% watermark
// that RGB missed), so Options::planes can ask for both: the maps' maximum, at twice the time
// (bench/text_detect_bench, lines whose glyphs are ≥ 90% covered: both 82%, BGR 78%, RGB 80%).
//
// Colour-only text. The net responds to luminance edges: a saturated yellow caption on a mid-grey
// box (both near the same luminance) gives it almost no signal in the photo itself (the demo
// box's 包邮 was not found at all). RunPhoto() therefore also detects
// on a chroma view of the photo (255 - (max - min) of B, G, R, as grey: saturated pixels dark,
// greys white), when Options::chroma_pass is set and the photo holds saturated pixels, and add
// the regions of that view that are not a line the photo's own pass found (outline IoU below
// 1 - chroma_overlap with each of its regions); the map takes the chroma view's probability
// inside them; they come after the photo's own regions (each group best score first) and are
// marked chroma_view. The view also shows line-like coloured parts of a product (an iridescent shoe
// upper on asphalt made a 428x144 region at 800 px): whether a region is text drawn over the
// product is the caller's question (ops/text_scope). Grey
// text (a white or grey watermark) has no chroma and is left to the photo's own pass. Detect(),
// ProbabilityMap(), Run() and RunPhotoAround()'s windows run the photo's own pass only (what the
// net sees in the photo; remove_text's residual checks measure that).
//
// Known limits (bench/text_detect_bench): translucent (30-60%) light text over a pale, busy
// background is often missed (the net gives it no signal), and a sparse glyph opening a line
// ("厂" of 厂家直销) can be left out of the line's region at low contrast. Callers that must
// remove text should grow RegionMask() a little and re-detect after editing.
//
// Thread-safe: const methods may run from many threads; each inference borrows its own net
// (NetPool). One net is reused across input sizes; the prepared model allows that (the rewrite
// folds what broke it in OpenCV 4.6) and the tests check detections on several sizes in sequence.
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "models/net_pool.h"

namespace vitrine::models {

struct TextRegion {
  // Unclipped outline of the text, image coordinates (pixel centres), clockwise or not; at least
  // 4 points. Covers the glyphs with a margin of about a fifth of the line height.
  std::vector<cv::Point2f> polygon;
  // Minimum-area rectangle around `polygon`, image coordinates.
  cv::RotatedRect box;
  // Mean text probability inside the region before unclipping, in [box_threshold, 1].
  float score = 0;
  // Found in RunPhoto()'s chroma view only (colour-only text, or a coloured part of the product).
  bool chroma_view = false;
};

class TextDetector {
 public:
  struct Options {
    int max_side = 1280;                  // long side cap for ordinary photos
    int min_short_side = 640;             // short side floor for elongated images
    int small_photo_side = 320;           // RunPhoto: a shorter short side is enlarged to it
    double max_photo_enlargement = 2.0;   // RunPhoto: at most this factor (>= 1)
    int tile_size = 1280;                 // larger scaled images are tiled
    int tile_overlap = 160;               // pixels (scaled) shared by neighbouring tiles
    int64_t max_work_pixels = 8'000'000;  // bound on the scaled image's area
    float binary_threshold = 0.3f;        // probability above which a pixel is text
    float box_threshold = 0.6f;           // mean probability a region needs
    float unclip_ratio = 1.5f;            // D = area · ratio / perimeter, as PaddleOCR
    float unclip_margin = 2;              // scaled pixels added to D: anti-aliased glyph edges
    float min_box_side = 3;               // in scaled pixels; smaller regions are noise
    int max_regions = 1000;               // the best-scored ones are kept
    enum class Planes { kBgr, kRgb, kBoth };
    Planes planes = Planes::kBgr;  // what the net is fed (see the header comment)
    bool chroma_pass = true;       // also detect colour-only text (see the header comment)
    int chroma_saturated = 96;     // chroma (max - min) of a saturated pixel; none: no pass
    float chroma_overlap = 0.5f;   // IoU >= 1 - this with a photo region: the same line
  };

  // Reads the prepared model (ModelCatalog::PreparedPath("ppocr_det")). InvalidArgument for
  // options out of range; NotFound / ModelFailure as NetPool::Load.
  static Result<std::unique_ptr<TextDetector>> Load(const std::string& onnx_path, Options options);
  static Result<std::unique_ptr<TextDetector>> Load(const std::string& onnx_path) {
    return Load(onnx_path, Options{});
  }

  // Text regions of `bgr` (CV_8UC3, CV_8UC1 or CV_8UC4, any size ≥ 1×1), best score first.
  // InvalidArgument for an empty image or another type; ModelFailure if inference fails.
  Result<std::vector<TextRegion>> Detect(const cv::Mat& bgr) const;

  // The detector's signal: CV_32FC1 text probability in [0, 1] at the image's size. Same inputs
  // and errors as Detect().
  Result<cv::Mat> ProbabilityMap(const cv::Mat& bgr) const;

  // Both at once (one inference): the map at the image's size and the regions, at WorkSize().
  struct Output {
    cv::Mat probability;  // CV_32FC1, image size
    std::vector<TextRegion> regions;
  };
  Result<Output> Run(const cv::Mat& bgr) const;

  // As Run(), for a whole photo: processed at PhotoWorkSize(), so a small photo is enlarged by
  // PhotoScale() first. Same as Run() for a photo whose short side is at least small_photo_side.
  // Regions and map are in the photo's own coordinates. Same inputs and errors as Detect().
  Result<Output> RunPhoto(const cv::Mat& bgr) const;

  // RunPhoto() only in `windows` of the photo (remove_text's verify step: text can only be left
  // where text was removed). Each window is scaled as RunPhoto() scales the whole photo (shrunk
  // as a large photo is, enlarged by PhotoScale() as a small one is, and never enlarged for its
  // own small size), so the text in it is seen at the resolution the whole photo's pass saw it
  // at. The map has the photo's size and is 0 outside the windows; regions are in photo
  // coordinates. Windows are clipped to the photo and should not overlap (where they do, the
  // later one's map is kept). When they cover more than 60% of the photo, the whole photo is run
  // at once (as RunPhoto(), without its chroma view). Same inputs and errors as Detect().
  Result<Output> RunPhotoAround(const cv::Mat& bgr, const std::vector<cv::Rect>& windows) const;

  // What RunPhoto() enlarges a photo of `image` size by before WorkSize(): 1 for a short side of
  // at least small_photo_side, else small_photo_side / short side, at most max_photo_enlargement.
  // A caller detecting on crops of that photo scales them by it to see them as RunPhoto() did.
  double PhotoScale(cv::Size image) const;

  // The scaled size RunPhoto() processes a photo of `image` size at: WorkSize() of the photo
  // enlarged by PhotoScale().
  cv::Size PhotoWorkSize(cv::Size image) const;

  // DB post-processing alone, on a probability map (CV_32FC1, values in [0, 1]) of an image of
  // `image_size` (the map may be smaller or larger; regions come back in image coordinates).
  // Exposed for tests and for callers that already hold a map.
  std::vector<TextRegion> RegionsFromMap(const cv::Mat& probability, cv::Size image_size) const;

  // The scaled size Run() and Detect() process the image at (each side a multiple of 32).
  cv::Size WorkSize(cv::Size image) const;

  // Makes sure `count` nets exist (see NetPool::Reserve).
  Status Reserve(int count) const { return nets_->Reserve(count); }

  const Options& options() const { return options_; }

 private:
  TextDetector(std::unique_ptr<NetPool> nets, Options options)
      : nets_(std::move(nets)), options_(options) {}
  // Probability at `work`, CV_32FC1.
  Result<cv::Mat> WorkMap(const cv::Mat& bgr, cv::Size work) const;
  // Adds to `out` (regions of `bgr` detected at `work`, `work_map` its map) the chroma view's
  // regions it does not cover, and their probability to `work_map`.
  Status AddChromaRegions(const cv::Mat& bgr, cv::Size work, cv::Mat* work_map,
                          std::vector<TextRegion>* regions) const;
  // Run() (whole_photo false) or RunPhoto(); `chroma`: with the chroma view (RunPhoto()).
  Result<Output> RunAt(const cv::Mat& image, bool whole_photo, bool chroma) const;
  // Probability of `bgr` resized to `work`, tiled if larger than a tile, fed as RGB or BGR.
  Result<cv::Mat> MapAt(const cv::Mat& bgr, cv::Size work, bool rgb) const;
  Result<cv::Mat> Infer(const cv::Mat& bgr_tile, bool rgb) const;

  std::unique_ptr<NetPool> nets_;
  Options options_;
};

// Filled CV_8UC1 mask (255 inside) of `regions`' polygons at `size`, each grown by `grow_px`
// pixels (0: as detected). Thread-safe (pure).
cv::Mat RegionMask(cv::Size size, const std::vector<TextRegion>& regions, int grow_px = 0);

// Outward offset of a simple polygon by `distance` pixels with round joins (the Minkowski sum
// with a disc, as Clipper's JT_ROUND does): exact for convex and concave outlines. Returns the
// outer boundary, approximated within a fraction of a pixel. Pure.
std::vector<cv::Point2f> OffsetPolygon(const std::vector<cv::Point2f>& polygon, double distance);

}  // namespace vitrine::models
