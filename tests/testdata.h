// Test images made by the tests themselves: composites with an exactly known alpha, built from
// photos that Debian's opencv-doc package installs (scripts/setup installs it).
#pragma once

#include <opencv2/core.hpp>
#include <string>

namespace vitrine::testdata {

// Folder of opencv-doc's sample photos.
std::string OpenCvSamples();
// Reads one of those photos (CV_8UC3); aborts the test binary with a message if it is missing.
cv::Mat SamplePhoto(const std::string& name);
// The same photo resized to `size` (area averaging when shrinking).
cv::Mat SamplePhoto(const std::string& name, cv::Size size);

enum class Backdrop { kFlat, kGradient, kBlurredRoom };

struct Composite {
  cv::Mat bgr;         // the photo a seller would have
  cv::Mat alpha;       // CV_8UC1 true alpha of the product
  cv::Vec3b backdrop;  // dominant backdrop colour (for kFlat and kGradient)
};

// A product-like object (a textured rounded shape cut from a real photo, with a soft shading
// and an anti-aliased edge) placed on a backdrop. Deterministic for a given seed.
Composite MakeComposite(cv::Size size, Backdrop backdrop, int seed);

// An empty folder for the running test, under the system's temporary folder, named from
// `prefix`, the process id and the test's name (so parallel tests never share one). The caller
// removes it.
std::string FreshTestDir(const std::string& prefix);
// A staged product: MakeComposite's object cut out with its true alpha, scaled so its bounding
// box spans `fill` of the canvas along its limiting axis, centred on a flat `background` (BGR).
// `alpha` is the product's alpha on the canvas.
Composite ProductOnColour(cv::Size canvas, double fill, cv::Vec3b background, int seed);

// A round product (an orange lit from the upper left, anti-aliased outline) of `radius` px at
// `centre` on a green cloth, with sensor noise from `seed`; `alpha` is the disc.
Composite RoundFruit(cv::Size size, cv::Point centre, int radius, int seed);

// Intersection over union of two mattes thresholded at 128.
double Iou(const cv::Mat& a, const cv::Mat& b);

}  // namespace vitrine::testdata
