#include "api/openapi.h"

#include <string>

namespace vitrine::api {
namespace {

using nlohmann::json;

json Ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

json FieldSchema(const ops::Field& field) {
  json schema;
  switch (field.type) {
    case ops::FieldType::kBoolean:
      schema["type"] = "boolean";
      break;
    case ops::FieldType::kInteger:
      schema["type"] = "integer";
      break;
    case ops::FieldType::kNumber:
      schema["type"] = "number";
      break;
    case ops::FieldType::kString:
      schema["type"] = "string";
      break;
    case ops::FieldType::kEnum:
      schema["type"] = "string";
      schema["enum"] = field.choices;
      break;
    case ops::FieldType::kColor:
      schema["type"] = "string";
      schema["format"] = "color";  // "#RRGGBB", "#RGB", a colour name or "transparent"
      break;
  }
  if (field.min) schema["minimum"] = *field.min;
  if (field.max) schema["maximum"] = *field.max;
  if (!field.default_value.is_null()) schema["default"] = field.default_value;
  schema["description"] = field.doc;
  return schema;
}

json StringArray() { return {{"type", "array"}, {"items", {{"type", "string"}}}}; }

json BodySchemas(const std::vector<ops::OpSchema>& ops) {
  json params = {{"type", "object"},
                 {"description", "Per-op parameter overrides, keyed by op name"},
                 {"additionalProperties", false},
                 {"properties", json::object()}};
  for (const ops::OpSchema& op : ops) params["properties"][op.name] = Ref("op_" + op.name);
  json recipe = {{"description", "A built-in recipe name (GET /v1/recipes) or a recipe object"},
                 {"oneOf", {{{"type", "string"}}, {{"type", "object"}}}}};
  json url = {{"type", "string"}, {"format", "uri"}};
  json schemas;
  schemas["Error"] = {
      {"type", "object"},
      {"required", {"error"}},
      {"properties",
       {{"error",
         {{"type", "object"},
          {"required", {"code", "message", "retryable"}},
          {"properties",
           {{"code", {{"type", "string"}}},
            {"message", {{"type", "string"}, {"description", "What was wrong and what to do"}}},
            {"retryable", {{"type", "boolean"}}}}}}}}}};
  schemas["OpParams"] = params;
  schemas["JobRequest"] = {
      {"type", "object"},
      {"required", {"images", "recipe"}},
      {"properties",
       {{"images",
         {{"type", "array"},
          {"minItems", 1},
          {"items", {{"type", "string"}}},
          {"description", "Upload ids (POST /v1/uploads) or public http(s) URLs"}}},
        {"recipe", recipe},
        {"params", Ref("OpParams")},
        {"presets", StringArray()},
        {"sku", {{"type", "string"}}},
        {"priority", {{"type", "integer"}}},
        {"webhook_url", url}}}};
  schemas["BatchRequest"] = {
      {"type", "object"},
      {"required", {"manifest", "recipe"}},
      {"properties",
       {{"manifest",
         {{"type", "array"},
          {"minItems", 1},
          {"items",
           {{"type", "object"},
            {"required", {"sku", "images"}},
            {"properties", {{"sku", {{"type", "string"}}}, {"images", StringArray()}}}}}}},
        {"recipe", recipe},
        {"params", Ref("OpParams")},
        {"presets", StringArray()},
        {"priority", {{"type", "integer"}}},
        {"webhook_url", url},
        {"schedule",
         {{"type", "object"},
          {"description", "When the batch may run (RFC 3339 times)"},
          {"properties",
           {{"not_before", {{"type", "string"}, {"format", "date-time"}}},
            {"not_after", {{"type", "string"}, {"format", "date-time"}}}}}}}}}};
  schemas["Links"] = {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}};
  schemas["Job"] = {
      {"type", "object"},
      {"required", {"id", "status", "links"}},
      {"properties",
       {{"id", {{"type", "string"}}},
        {"status", {{"type", "string"}}},
        {"progress", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}}},
        {"sku", {{"type", "string"}}},
        {"batch_id", {{"type", "string"}}},
        {"attempts", {{"type", "integer"}}},
        {"candidates",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties",
             {{"index", {{"type", "integer"}}},
              {"qa", {{"type", "object"}}},
              {"url", {{"type", "string"}}}}}}}}},
        {"exports", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}},
        {"error", {{"type", "object"}}},
        {"created_at", {{"type", "integer"}}},
        {"updated_at", {{"type", "integer"}}},
        {"links", Ref("Links")}}}};
  schemas["Batch"] = {{"type", "object"},
                      {"required", {"id", "status", "links"}},
                      {"properties",
                       {{"id", {{"type", "string"}}},
                        {"status", {{"type", "string"}}},
                        {"jobs", {{"type", "object"}}},
                        {"job_ids", StringArray()},
                        {"links", Ref("Links")}}}};
  schemas["Uploads"] = {{"type", "object"},
                        {"properties",
                         {{"uploads",
                           {{"type", "array"},
                            {"items",
                             {{"type", "object"},
                              {"properties",
                               {{"id", {{"type", "string"}}},
                                {"filename", {{"type", "string"}}},
                                {"format", {{"type", "string"}}},
                                {"width", {{"type", "integer"}}},
                                {"height", {{"type", "integer"}}},
                                {"bytes", {{"type", "integer"}}}}}}}}}}}};
  schemas["Recipes"] = {{"type", "object"}, {"properties", {{"recipes", {{"type", "array"}}}}}};
  json op_list = json::array();
  for (const ops::OpSchema& op : ops) op_list.push_back(Ref("op_" + op.name));
  schemas["Ops"] = {{"type", "object"},
                    {"description", "Each op's schema; op_<name> holds its params as JSON Schema"},
                    {"properties", {{"ops", {{"type", "array"}, {"items", {{"type", "object"}}}}}}},
                    {"x-vitrine-ops", op_list}};
  return schemas;
}

json ErrorResponse(const std::string& description) {
  return {{"description", description},
          {"content", {{"application/json", {{"schema", Ref("Error")}}}}}};
}

json MultipartBody(const RouteSpec& route) {
  json properties = {
      {"image",
       {{"type", "array"}, {"items", {{"type", "string"}, {"contentMediaType", "image/*"}}}}}};
  if (route.path == "/v1/jobs") {
    properties["recipe"] = {{"type", "string"}, {"description", "A recipe name or recipe JSON"}};
    properties["params"] = {{"type", "string"}, {"description", "OpParams as JSON"}};
    properties["presets"] = {{"type", "string"}, {"description", "Comma-separated names"}};
    properties["sku"] = {{"type", "string"}};
    properties["webhook_url"] = {{"type", "string"}};
  }
  return {{"schema", {{"type", "object"}, {"properties", properties}}}};
}

}  // namespace

json OpParamsSchema(const ops::OpSchema& op) {
  json schema = {{"type", "object"},
                 {"title", op.name},
                 {"description", op.doc},
                 {"additionalProperties", false},
                 {"properties", json::object()},
                 {"x-vitrine-version", op.version},
                 {"x-vitrine-models", op.models}};
  for (const ops::Field& field : op.fields) schema["properties"][field.name] = FieldSchema(field);
  return schema;
}

json BuildOpenApi(std::span<const RouteSpec> routes, const std::vector<ops::OpSchema>& ops) {
  json doc = {{"openapi", "3.1.0"},
              {"info",
               {{"title", "vitrine API"},
                {"version", "1"},
                {"description",
                 "Product photos in, marketplace-ready images out. Send the API key in "
                 "X-API-Key (or Authorization: Bearer). Errors are "
                 "{\"error\":{\"code\",\"message\",\"retryable\"}}; POSTs accept an "
                 "Idempotency-Key header."}}},
              {"paths", json::object()}};
  doc["components"]["schemas"] = BodySchemas(ops);
  for (const ops::OpSchema& op : ops) {
    doc["components"]["schemas"]["op_" + op.name] = OpParamsSchema(op);
  }
  doc["components"]["securitySchemes"] = {
      {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}},
      {"bearer", {{"type", "http"}, {"scheme", "bearer"}}}};

  for (const RouteSpec& route : routes) {
    json operation = {{"operationId", route.operation_id}, {"summary", route.summary}};
    json parameters = json::array();
    const std::string path(route.path);
    for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
      const std::string name = path.substr(open + 1, path.find('}', open) - open - 1);
      parameters.push_back({{"name", name},
                            {"in", "path"},
                            {"required", true},
                            {"schema", {{"type", name == "n" ? "integer" : "string"}}}});
    }
    if (route.method == "POST") {
      parameters.push_back({{"name", "Idempotency-Key"},
                            {"in", "header"},
                            {"required", false},
                            {"schema", {{"type", "string"}, {"maxLength", 255}}}});
    }
    if (!parameters.empty()) operation["parameters"] = parameters;

    json content;
    if (route.body == Body::kJson || route.body == Body::kJsonOrMultipart) {
      const std::string schema = route.path == "/v1/batches" ? "BatchRequest" : "JobRequest";
      content["application/json"] = {{"schema", Ref(schema)}};
    }
    if (route.body == Body::kMultipart || route.body == Body::kJsonOrMultipart) {
      content["multipart/form-data"] = MultipartBody(route);
    }
    if (!content.is_null()) operation["requestBody"] = {{"required", true}, {"content", content}};

    json success = {{"description", route.summary}};
    if (route.response_type == "application/json") {
      success["content"]["application/json"]["schema"] =
          route.response_schema.empty() ? json{{"type", "object"}}
                                        : Ref(std::string(route.response_schema));
    } else {
      success["content"][std::string(route.response_type)] = {
          {"schema", {{"type", "string"}, {"contentMediaType", route.response_type}}}};
    }
    json responses = {{std::to_string(route.success_status), success}};
    if (route.needs_key) {
      operation["security"] = {{{"apiKey", json::array()}}, {{"bearer", json::array()}}};
      responses["401"] = ErrorResponse("Missing, unknown or revoked API key");
      responses["429"] = ErrorResponse("Rate limit reached; see Retry-After");
    } else {
      operation["security"] = json::array();
    }
    if (route.path.find('{') != std::string_view::npos) {
      responses["404"] = ErrorResponse("No such object for this tenant");
    }
    if (route.method == "POST") {
      responses["400"] = ErrorResponse("Invalid request");
      responses["409"] = ErrorResponse("A request with this Idempotency-Key is in progress");
      responses["413"] = ErrorResponse("Body or image over the size limits");
      responses["422"] = ErrorResponse(
          "Idempotency-Key reused with another body, or an "
          "unsupported image");
    }
    if (route.method == "DELETE") responses["409"] = ErrorResponse("The job already finished");
    operation["responses"] = responses;
    std::string method(route.method);
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    doc["paths"][path][method] = operation;
  }
  return doc;
}

}  // namespace vitrine::api
