#include "ops/op.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "core/text.h"

namespace vitrine::ops {
namespace {

std::string_view TypeName(FieldType type) {
  switch (type) {
    case FieldType::kBoolean:
      return "boolean";
    case FieldType::kInteger:
      return "integer";
    case FieldType::kNumber:
      return "number";
    case FieldType::kString:
      return "string";
    case FieldType::kEnum:
      return "enum";
    case FieldType::kColor:
      return "color";
  }
  return "string";
}

Status CheckField(const OpSchema& op, const Field& field, const nlohmann::json& value) {
  auto fail = [&](const std::string& what) {
    return InvalidArgument(op.name + ": field \"" + field.name + "\": " + what);
  };
  switch (field.type) {
    case FieldType::kBoolean:
      if (!value.is_boolean()) return fail("expected true or false, got " + value.dump());
      return Status::Ok();
    case FieldType::kInteger:
    case FieldType::kNumber: {
      if (!value.is_number()) return fail("expected a number, got " + value.dump());
      if (field.type == FieldType::kInteger && !value.is_number_integer()) {
        return fail("expected a whole number, got " + value.dump());
      }
      double v = value.get<double>();
      if (field.min && v < *field.min) {
        return fail(value.dump() + " is below the minimum " + FormatNumber(*field.min));
      }
      if (field.max && v > *field.max) {
        return fail(value.dump() + " is above the maximum " + FormatNumber(*field.max));
      }
      return Status::Ok();
    }
    case FieldType::kString:
      if (!value.is_string()) return fail("expected a string, got " + value.dump());
      return Status::Ok();
    case FieldType::kEnum: {
      if (!value.is_string()) return fail("expected one of " + Join(field.choices, ", "));
      const auto& s = value.get_ref<const std::string&>();
      if (std::find(field.choices.begin(), field.choices.end(), s) == field.choices.end()) {
        return fail("'" + s + "' is not one of " + Join(field.choices, ", "));
      }
      return Status::Ok();
    }
    case FieldType::kColor: {
      if (!value.is_string()) return fail("expected a colour such as \"#ffffff\"");
      Result<cv::Scalar> color = ParseColor(value.get<std::string>());
      if (!color.ok()) return fail(color.status().message());
      return Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace

nlohmann::json OpSchema::ToJson() const {
  nlohmann::json fields_json = nlohmann::json::array();
  for (const Field& f : fields) {
    nlohmann::json j = {
        {"name", f.name}, {"type", TypeName(f.type)}, {"default", f.default_value}, {"doc", f.doc}};
    if (f.min) j["min"] = *f.min;
    if (f.max) j["max"] = *f.max;
    if (!f.choices.empty()) j["enum"] = f.choices;
    fields_json.push_back(std::move(j));
  }
  return {{"name", name},
          {"version", version},
          {"doc", doc},
          {"fields", fields_json},
          {"models", models},
          {"flags",
           {{"deterministic", deterministic},
            {"needs_alpha", needs_alpha},
            {"generative", generative}}}};
}

Result<nlohmann::json> OpSchema::Validate(const nlohmann::json& params) const {
  if (!params.is_null() && !params.is_object()) {
    return InvalidArgument(name + ": params must be a JSON object, got " + params.dump());
  }
  nlohmann::json out = nlohmann::json::object();
  for (const Field& field : fields) out[field.name] = field.default_value;
  if (params.is_null()) return out;
  for (const auto& [key, value] : params.items()) {
    auto it =
        std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.name == key; });
    if (it == fields.end()) {
      std::vector<std::string> names;
      for (const Field& f : fields) names.push_back(f.name);
      return InvalidArgument(name + ": unknown parameter '" + key +
                             "'; known: " + Join(names, ", "));
    }
    RETURN_IF_ERROR(CheckField(*this, *it, value));
    out[key] = value;
  }
  return out;
}

Registry& Registry::Global() {
  static Registry* registry = new Registry();
  return *registry;
}

bool Registry::Add(OpDef def) {
  if (Find(def.schema.name)) {
    std::fprintf(stderr, "vitrine: op '%s' registered twice\n", def.schema.name.c_str());
    std::abort();
  }
  ops_.push_back(std::move(def));
  return true;
}

const OpDef* Registry::Find(const std::string& name) const {
  for (const OpDef& op : ops_) {
    if (op.schema.name == name) return &op;
  }
  return nullptr;
}

std::vector<const OpDef*> Registry::All() const {
  std::vector<const OpDef*> all;
  for (const OpDef& op : ops_) all.push_back(&op);
  std::sort(all.begin(), all.end(),
            [](const OpDef* a, const OpDef* b) { return a->schema.name < b->schema.name; });
  return all;
}

Result<Image> Registry::Run(const std::string& name, const Image& input,
                            const nlohmann::json& params, OpContext& context) const {
  const OpDef* op = Find(name);
  if (!op) return NotFound("unknown op '" + name + "'; `vitrine ops` lists them");
  ASSIGN_OR_RETURN(nlohmann::json validated, op->schema.Validate(params));
  return op->run(input, validated, context);
}

void Warn(OpContext& context, std::string message) {
  if (context.warnings) context.warnings->push_back(std::move(message));
}

Result<cv::Scalar> ParseColor(const std::string& text) {
  static const std::map<std::string, cv::Scalar> kNamed = {
      {"white", {255, 255, 255}},    {"black", {0, 0, 0}},      {"red", {0, 0, 255}},
      {"green", {0, 128, 0}},        {"blue", {255, 0, 0}},     {"navy", {128, 0, 0}},
      {"grey", {128, 128, 128}},     {"gray", {128, 128, 128}}, {"lightgrey", {211, 211, 211}},
      {"lightgray", {211, 211, 211}}};
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "transparent") return cv::Scalar(0, 0, 0, 0);
  if (auto it = kNamed.find(lower); it != kNamed.end()) {
    cv::Scalar named = it->second;
    named[3] = 255;
    return named;
  }
  auto bad = [&] {
    return InvalidArgument("'" + text + "' is not a colour; use #RRGGBB, #RGB, transparent or a " +
                           "name (white, black, grey, navy, ...)");
  };
  if (lower.size() != 4 && lower.size() != 7) return bad();
  if (lower[0] != '#') return bad();
  for (size_t i = 1; i < lower.size(); ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(lower[i]))) return bad();
  }
  auto hex = [&](size_t pos, size_t len) {
    int v = static_cast<int>(std::strtol(lower.substr(pos, len).c_str(), nullptr, 16));
    return len == 1 ? v * 17 : v;
  };
  if (lower.size() == 4) return cv::Scalar(hex(3, 1), hex(2, 1), hex(1, 1), 255);
  return cv::Scalar(hex(5, 2), hex(3, 2), hex(1, 2), 255);
}

}  // namespace vitrine::ops
