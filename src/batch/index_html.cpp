#include "batch/index_html.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "batch/sku.h"
#include "core/file.h"
#include "core/text.h"
#include "io/image_io.h"

namespace vitrine::batch {
namespace fs = std::filesystem;
namespace {

constexpr const char* kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:24px;background:#fafafa;color:#222}
h1{font-size:20px} h2{font-size:16px;margin:28px 0 8px}
.sum{color:#555} .grid{display:flex;flex-wrap:wrap;gap:12px}
.c{width:230px;background:#fff;border:2px solid #cfd8dc;border-radius:6px;padding:6px}
.c.ok{border-color:#43a047} .c.no{border-color:#e53935;opacity:.85}
.c img{width:100%;height:230px;object-fit:contain;background:#eee;display:block}
.r{font-weight:600} .why{color:#b71c1c;font-size:12px} .meta{color:#666;font-size:12px}
.miss{color:#b71c1c} .warn{color:#8d6e00;font-size:12px}
)";

std::string SkuSection(const recipe::SkuInfo& sku, const std::string& folder,
                       const std::string& output_dir) {
  const fs::path report_path = fs::path(output_dir) / folder / "report.json";
  std::string html = "<section><h2>" + HtmlEscape(sku.sku);
  if (!sku.title.empty()) html += " — " + HtmlEscape(sku.title);
  html += "</h2>\n";
  Result<std::string> text = io::ReadFile(report_path.string(), 64 << 20);
  nlohmann::json report =
      text.ok() ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
  if (!report.is_object()) {
    return html + "<p class=miss>not processed yet (or failed): no report.json</p></section>\n";
  }
  html += "<p class=sum>" + std::to_string(report.value("accepted", 0)) + " accepted, " +
          std::to_string(report.value("rejected", 0)) + " rejected, " +
          std::to_string(report.value("exports", 0)) + " exports · " +
          FormatFixed(report.value("seconds", 0.0), 1) + " s · <a href=\"" + HtmlEscape(folder) +
          "/report.json\">report.json</a></p>\n";
  // What the SKU's steps warn about (a photo that cuts the product, a product enlarged to
  // softness).
  for (const auto& warning : report.value("warnings", nlohmann::json::array())) {
    if (warning.is_string())
      html += "<div class=warn>" + HtmlEscape(warning.get<std::string>()) + "</div>\n";
  }
  html += "<div class=grid>\n";
  for (const nlohmann::json& c : report["candidates"]) {
    const bool ok = c.value("accepted", false);
    html += std::string("<div class=\"c ") + (ok ? "ok" : "no") + "\">";
    if (c.contains("thumb")) {
      html += "<a href=\"" + HtmlEscape(folder + "/" + c["file"].get<std::string>()) +
              "\"><img loading=lazy src=\"" +
              HtmlEscape(folder + "/" + c["thumb"].get<std::string>()) + "\" alt=\"\"></a>";
    }
    html += "<div class=r>#" + std::to_string(c.value("rank", 0)) + " · " +
            (ok ? "accepted · score " + FormatFixed(c.value("score", 0.0), 2)
                : std::string("rejected")) +
            "</div>";
    html += "<div class=meta>" + HtmlEscape(c.value("label", "")) + "</div>";
    for (const auto& reason : c["reasons"]) {
      html += "<div class=why>" + HtmlEscape(reason.get<std::string>()) + "</div>";
    }
    for (const auto& check : c["checks"]) {
      if (!check.value("passed", true) && !check.value("hard", false)) {
        html += "<div class=warn>" + HtmlEscape(check.value("reason", "")) + "</div>";
      }
    }
    if (c.contains("duplicate_of")) {
      html += "<div class=meta>near-duplicate of #" +
              HtmlEscape(c["duplicate_of"].get<std::string>()) + "</div>";
    }
    for (const auto& [preset, e] : c["exports"].items()) {
      html += "<div class=meta>" + HtmlEscape(preset) + ": <a href=\"" +
              HtmlEscape(folder + "/" + e["file"].get<std::string>()) + "\">export</a> (" +
              std::to_string(e.value("bytes", 0) / 1024) + " KB)</div>";
    }
    html += "</div>\n";
  }
  return html + "</div></section>\n";
}

}  // namespace

std::string HtmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Result<std::string> WriteIndexHtml(const std::string& output_dir, const recipe::Recipe& recipe,
                                   const recipe::Manifest& manifest) {
  std::string html =
      "<!doctype html><html><head><meta charset=utf-8><title>vitrine: " + HtmlEscape(recipe.name) +
      "</title><style>" + kStyle + "</style></head><body>\n<h1>vitrine run: recipe " +
      HtmlEscape(recipe.name) + ", " + std::to_string(manifest.skus.size()) + " SKUs</h1>\n";
  for (const recipe::SkuInfo& sku : manifest.skus) {
    html += SkuSection(sku, SkuFolderName(sku.sku), output_dir);
  }
  html += "</body></html>\n";
  const std::string path = (fs::path(output_dir) / "index.html").string();
  RETURN_IF_ERROR(WriteFileAtomic(path, html, IfExists::kReplace));
  return fs::absolute(path).string();
}

}  // namespace vitrine::batch
