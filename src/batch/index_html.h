// OUT/index.html: the reviewer's contact sheet. One section per SKU (manifest order) with its
// candidates in rank order: thumbnail (linking to the full image), rank, score, accepted or
// rejected with the reasons, exports per preset. It reads each SKU's report.json, is
// self-contained (inline CSS, relative links) and opens from the file system.
#pragma once

#include <string>

#include "core/status.h"
#include "recipe/manifest.h"
#include "recipe/recipe.h"

namespace vitrine::batch {

// Writes OUT/index.html atomically and returns its path.
Result<std::string> WriteIndexHtml(const std::string& output_dir, const recipe::Recipe& recipe,
                                   const recipe::Manifest& manifest);

// `text` with &, <, >, " and ' escaped for HTML.
std::string HtmlEscape(const std::string& text);

}  // namespace vitrine::batch
