// make_catalogue OUT_DIR: a sample supplier catalogue for `make demo`. Product-like photos from
// Debian's opencv-doc examples get the overlays a Chinese supplier adds (a red price banner,
// "factory direct" and "free shipping" captions, a translucent tiled shop watermark), and a
// manifest OUT_DIR/skus.csv lists them as SKUs for `vitrine run`.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/testdata.h"
#include "tests/text_render.h"

namespace {
namespace fs = std::filesystem;
using vitrine::testdata::RenderText;
using vitrine::testdata::TextStyle;

struct Sku {
  const char* sku;
  const char* photo;
  const char* title;
  const char* size_cm;
  const char* price;
};

constexpr Sku kSkus[] = {
    {"FRUIT-APPLE", "apple.jpg", "Red apple (display model)", "9,9", "¥12.8"},
    {"FRUIT-ORANGE", "orange.jpg", "Navel orange (display model)", "8,8", "¥9.9"},
    {"TOY-FISH", "HappyFish.jpg", "Plush fish toy", "30,18", "¥39"},
    {"BOX-CEREAL", "box.png", "Gift box", "20,28", "¥59"},
    {"CANDY-MIX", "smarties.png", "Candy assortment", "25,18", "¥19.9"},
};

// The overlays of one listing; `i` varies their placement and colours between SKUs.
cv::Mat AddSupplierOverlays(const cv::Mat& photo, int i, const std::string& price) {
  const float w = static_cast<float>(photo.cols), h = static_cast<float>(photo.rows);
  const int unit = std::max(14, std::min(photo.cols, photo.rows) / 12);
  TextStyle watermark;
  watermark.text = "优品旗舰店";
  watermark.pixel_height = unit;
  watermark.color = cv::Scalar(200, 200, 200);
  watermark.opacity = 0.35;
  watermark.rotation_deg = 25;
  watermark.tile = true;
  cv::Mat out = RenderText(photo, watermark).bgr;

  TextStyle caption;
  caption.text = i % 2 ? "厂家直销" : "工厂直供 品质保证";
  caption.bold = true;
  caption.pixel_height = unit;
  caption.color = cv::Scalar(0, 0, 230);
  caption.outline_width = std::max(2, unit / 10);
  caption.outline_color = cv::Scalar(255, 255, 255);
  caption.center = {w * 0.5f, unit * 0.9f};
  out = RenderText(out, caption).bgr;

  TextStyle banner;
  banner.text = price;
  banner.bold = true;
  banner.pixel_height = unit;
  banner.color = cv::Scalar(255, 255, 255);
  banner.banner = true;
  banner.banner_color = i % 2 ? cv::Scalar(30, 30, 220) : cv::Scalar(0, 120, 255);
  banner.center = {w * (i % 2 ? 0.78f : 0.22f), h - unit * 1.2f};
  out = RenderText(out, banner).bgr;

  TextStyle shipping;
  shipping.text = "包邮";
  shipping.bold = true;
  shipping.pixel_height = unit;
  shipping.color = cv::Scalar(0, 200, 255);
  shipping.shadow_offset = {unit / 12 + 1, unit / 12 + 1};
  shipping.shadow_blur = 2;
  shipping.shadow_opacity = 0.6;
  shipping.center = {w * (i % 2 ? 0.15f : 0.85f), h * 0.3f};
  shipping.rotation_deg = 12;
  return RenderText(out, shipping).bgr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_catalogue OUT_DIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  fs::create_directories(out / "photos");
  std::ofstream csv(out / "skus.csv");
  csv << "sku,images,title,size_cm\n";
  int i = 0;
  for (const Sku& sku : kSkus) {
    cv::Mat photo = vitrine::testdata::SamplePhoto(sku.photo);
    const std::string name = std::string("photos/") + sku.sku + ".jpg";
    cv::imwrite((out / name).string(), AddSupplierOverlays(photo, i++, sku.price),
                {cv::IMWRITE_JPEG_QUALITY, 90});
    csv << sku.sku << "," << name << ",\"" << sku.title << "\",\"" << sku.size_cm << "\"\n";
  }
  std::printf("%zu SKUs with supplier overlays: %s\n", std::size(kSkus),
              fs::absolute(out / "skus.csv").c_str());
  return 0;
}
