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
    cv::imwrite((out / name).string(),
                vitrine::testdata::AddSupplierOverlays(photo, i++, sku.price).bgr,
                {cv::IMWRITE_JPEG_QUALITY, 90});
    csv << sku.sku << "," << name << ",\"" << sku.title << "\",\"" << sku.size_cm << "\"\n";
  }
  std::printf("%zu SKUs with supplier overlays: %s\n", std::size(kSkus),
              fs::absolute(out / "skus.csv").c_str());
  return 0;
}
