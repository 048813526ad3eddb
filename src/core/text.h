// Small string helpers shared by the parsers and messages (manifests, recipes, op schemas).
// ASCII only: case folding and trimming leave UTF-8 bytes above 0x7f alone. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vitrine {

std::string AsciiLower(std::string_view text);
// Without leading and trailing white space.
std::string Trim(std::string_view text);
// Splits on any of `separators`, trims each item and drops empty ones: "a; b,,c" -> a, b, c.
std::vector<std::string> SplitList(std::string_view text, std::string_view separators);
std::string Join(const std::vector<std::string>& items, std::string_view separator);
// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF). JSON output needs it; spreadsheets exported as GBK or Latin-1 fail it.
bool IsValidUtf8(std::string_view text);
// Code points of UTF-8 text (a malformed sequence decodes to some code point, never fails).
std::u32string DecodeUtf8(std::string_view utf8);
// Levenshtein distance between two UTF-8 texts, in code points.
size_t EditDistance(std::string_view a_utf8, std::string_view b_utf8);
// Shortest readable form for messages: 1, 0.85, 1e+06 (printf %g).
std::string FormatNumber(double value);
// Fixed-point with `digits` decimals: FormatFixed(0.856, 1) == "0.9" (printf %.*f).
std::string FormatFixed(double value, int digits);

}  // namespace vitrine
