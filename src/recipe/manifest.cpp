#include "recipe/manifest.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>

#include "core/text.h"
#include "io/image_io.h"
#include "ops/op.h"

namespace vitrine::recipe {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr double kMaxSizeCm = 10000;

// "40,60" or "40,60,25" -> {40, 60[, 25]}; nullopt when malformed.
std::optional<std::vector<double>> ParseSize(const std::string& text) {
  std::vector<std::string> parts = SplitList(text, ",");
  if (parts.size() < 2 || parts.size() > 3) return std::nullopt;
  std::vector<double> size;
  for (const std::string& part : parts) {
    char* end = nullptr;
    double v = std::strtod(part.c_str(), &end);
    if (end != part.c_str() + part.size() || !std::isfinite(v) || v <= 0 || v > kMaxSizeCm) {
      return std::nullopt;
    }
    size.push_back(v);
  }
  return size;
}

// Resolves '|'-separated paths against `base_dir`; the first missing one is reported.
Result<std::vector<std::string>> ResolvePaths(const std::string& column, const std::string& text,
                                              const std::string& base_dir) {
  std::vector<std::string> paths;
  for (const std::string& item : SplitList(text, "|")) {
    fs::path path(item);
    if (path.is_relative()) path = fs::path(base_dir) / path;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      return NotFound(column + ": '" + item + "' is not a file (looked for " + path.string() +
                      "); fix the path, which is relative to the manifest's folder");
    }
    paths.push_back(path.lexically_normal().string());
  }
  return paths;
}

// Fills `sku` from one CSV row; the error says what is wrong with the row.
Status ParseRow(const std::map<std::string, size_t>& columns, size_t header_size,
                const CsvRecord& record, const std::string& base_dir, SkuInfo* sku) {
  auto field = [&](const std::string& name) -> std::string {
    auto it = columns.find(name);
    if (it == columns.end() || it->second >= record.fields.size()) return "";
    return Trim(record.fields[it->second]);
  };
  sku->line = record.line;
  if (size_t extra = record.fields.size(); extra > header_size) {
    bool filled = std::any_of(record.fields.begin() + header_size, record.fields.end(),
                              [](const std::string& f) { return !Trim(f).empty(); });
    if (filled) {
      return InvalidArgument("the row has " + std::to_string(extra) + " fields but the header " +
                             std::to_string(header_size) +
                             "; quote values that hold commas, e.g. \"40,60\"");
    }
  }
  sku->sku = field("sku");
  if (sku->sku.empty()) return InvalidArgument("no sku; every row needs one");
  const std::string images = field("images");
  if (SplitList(images, "|").empty()) {
    return InvalidArgument("sku '" + sku->sku +
                           "': no images; list one or more paths separated by '|'");
  }
  Result<std::vector<std::string>> image_paths = ResolvePaths("images", images, base_dir);
  if (!image_paths.ok()) return image_paths.status().WithContext("sku '" + sku->sku + "'");
  sku->images = *image_paths;
  Result<std::vector<std::string>> scene_paths = ResolvePaths("scenes", field("scenes"), base_dir);
  if (!scene_paths.ok()) return scene_paths.status().WithContext("sku '" + sku->sku + "'");
  sku->scenes = *scene_paths;
  sku->category = field("category");
  sku->title = field("title");
  if (std::string size = field("size_cm"); !size.empty()) {
    std::optional<std::vector<double>> parsed = ParseSize(size);
    if (!parsed) {
      return InvalidArgument("sku '" + sku->sku + "': size_cm '" + size +
                             "' is not W,H or W,H,D in centimetres (numbers above 0, e.g. "
                             "\"40,60\" or \"40,60,25\")");
    }
    sku->size_cm = *parsed;
  }
  for (const std::string& color : SplitList(field("colors"), ",;")) {
    Result<cv::Scalar> parsed = ops::ParseColor(color);
    if (!parsed.ok() || (*parsed)[3] == 0) {
      return InvalidArgument("sku '" + sku->sku + "': colors: '" + color +
                             "' is not a colour; use #RRGGBB, #RGB or a name (white, black, "
                             "grey, navy, red, ...), separated by ',' or ';'");
    }
    sku->colors.push_back(color);
  }
  for (const std::string& preset : SplitList(field("presets"), ",;|")) {
    sku->presets.push_back(AsciiLower(preset));
  }
  return Status::Ok();
}

Result<Manifest> LoadFolder(const std::string& path) {
  Manifest manifest;
  manifest.path = path;
  std::vector<fs::path> folders;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name[0] != '.' && entry.is_directory(ec)) folders.push_back(entry.path());
  }
  if (ec) {
    return InvalidArgument("cannot list the folder " + path + " (" + ec.message() +
                           "); check its permissions");
  }
  std::sort(folders.begin(), folders.end());
  std::map<std::string, std::string> seen;  // sku -> where it came from
  auto add = [&](SkuInfo sku, const std::string& from) {
    if (auto it = seen.find(sku.sku); it != seen.end()) {
      manifest.problems.push_back(
          {0, from + ": sku '" + sku.sku + "' is also " + it->second + "; rename one of them"});
      return;
    }
    seen[sku.sku] = from;
    manifest.skus.push_back(std::move(sku));
  };
  for (const fs::path& folder : folders) {
    SkuInfo sku;
    sku.sku = folder.filename().string();
    sku.images = io::ListImageFiles(folder.string());
    if (sku.images.empty()) {
      manifest.problems.push_back({0, folder.string() +
                                          ": no image files inside; add photos (jpg, png, webp) "
                                          "or remove the folder"});
      continue;
    }
    add(std::move(sku), folder.string());
  }
  for (const std::string& file : io::ListImageFiles(path)) {
    SkuInfo sku;
    sku.sku = fs::path(file).stem().string();
    sku.images = {file};
    add(std::move(sku), file);
  }
  std::sort(manifest.skus.begin(), manifest.skus.end(),
            [](const SkuInfo& a, const SkuInfo& b) { return a.sku < b.sku; });
  if (manifest.skus.empty() && manifest.problems.empty()) {
    return InvalidArgument("the folder " + path +
                           " holds no images and no sub-folders; give a folder with one photo "
                           "or one sub-folder of photos per SKU, or a CSV manifest");
  }
  return manifest;
}

}  // namespace

std::string SkuInfo::SizeText() const {
  std::string text;
  for (double v : size_cm) {
    if (!text.empty()) text += ',';
    text += FormatNumber(v);
  }
  return text;
}

nlohmann::json SkuInfo::ToJson() const {
  nlohmann::json j = {{"sku", sku},         {"images", images},   {"category", category},
                      {"title", title},     {"size_cm", size_cm}, {"colors", colors},
                      {"presets", presets}, {"scenes", scenes}};
  if (line > 0) j["line"] = line;
  return j;
}

Result<std::vector<CsvRecord>> ParseCsv(std::string_view text) {
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  std::vector<CsvRecord> records;
  CsvRecord record{1, {}};
  std::string field;
  int line = 1;
  bool quoted = false;  // inside a quoted field
  int quote_line = 0;   // where that field opened
  bool row_started = false;
  auto end_field = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
  };
  auto end_record = [&](int next_line) {
    end_field();
    records.push_back(std::move(record));
    record = CsvRecord{next_line, {}};
    row_started = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\0') {
      return InvalidArgument("line " + std::to_string(line) +
                             ": the file holds binary data, not CSV text; export the sheet as CSV "
                             "(UTF-8)");
    }
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && field.empty()) {
      quoted = true;
      quote_line = line;
      row_started = true;
    } else if (c == ',') {
      end_field();
      row_started = true;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++line;
      end_record(line);
    } else {
      field += c;
      row_started = true;
    }
  }
  if (quoted) {
    return InvalidArgument("line " + std::to_string(quote_line) +
                           ": a quoted field is never closed; close it with '\"' (write a quote "
                           "inside a quoted field as \"\")");
  }
  if (row_started || !field.empty()) end_record(line + 1);
  return records;
}

Result<Manifest> ParseManifestCsv(std::string_view text, const std::string& base_dir,
                                  const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<CsvRecord> records, ParseCsv(text));
  if (!IsValidUtf8(text)) {
    return InvalidArgument(path +
                           " is not UTF-8 text (perhaps GBK or Latin-1); save it as \"CSV UTF-8\"");
  }
  auto blank = [](const CsvRecord& r) {
    return std::all_of(r.fields.begin(), r.fields.end(),
                       [](const std::string& f) { return Trim(f).empty(); });
  };
  auto first = std::find_if_not(records.begin(), records.end(), blank);
  if (first == records.end()) {
    return InvalidArgument(path +
                           " is empty; the first line must be a header such as "
                           "\"sku,images,size_cm,colors\"");
  }
  std::map<std::string, size_t> columns;
  for (size_t i = 0; i < first->fields.size(); ++i) {
    std::string name = AsciiLower(Trim(first->fields[i]));
    if (name.empty()) continue;
    if (!columns.emplace(name, i).second) {
      return InvalidArgument(path + ": line " + std::to_string(first->line) + ": the column '" +
                             name + "' appears twice in the header; keep one");
    }
  }
  for (const char* required : {"sku", "images"}) {
    if (!columns.count(required)) {
      return InvalidArgument(path + ": line " + std::to_string(first->line) +
                             ": the header has no '" + required +
                             "' column; the first line must name the columns, with at least "
                             "sku and images (e.g. \"sku,images\")");
    }
  }
  Manifest manifest;
  manifest.path = path;
  std::map<std::string, int> seen;  // sku -> line
  for (auto it = first + 1; it != records.end(); ++it) {
    if (blank(*it)) continue;
    SkuInfo sku;
    Status status = ParseRow(columns, first->fields.size(), *it, base_dir, &sku);
    if (status.ok()) {
      if (auto [where, added] = seen.emplace(sku.sku, it->line); !added) {
        status = InvalidArgument("sku '" + sku.sku + "' is already on line " +
                                 std::to_string(where->second) +
                                 "; each SKU must appear once (merge its images with '|')");
      }
    }
    if (!status.ok()) {
      manifest.problems.push_back({it->line, status.message()});
      continue;
    }
    manifest.skus.push_back(std::move(sku));
  }
  return manifest;
}

Result<Manifest> LoadManifest(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return LoadFolder(path);
  if (!fs::exists(path, ec)) {
    return NotFound("the manifest " + path +
                    " does not exist; give a CSV file or a folder of product photos");
  }
  ASSIGN_OR_RETURN(std::string text, io::ReadFile(path, kMaxManifestBytes));
  const std::string base_dir = fs::absolute(fs::path(path), ec).parent_path().string();
  return ParseManifestCsv(text, base_dir, path);
}

}  // namespace vitrine::recipe
