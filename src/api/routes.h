// The route table's row type. server.cpp holds the one table: it drives the router, the OpenAPI
// document (openapi.h) and the tests that walk every route.
#pragma once

#include <string_view>

namespace vitrine::api {

enum class Body { kNone, kJson, kMultipart, kJsonOrMultipart };

struct RouteSpec {
  std::string_view method;        // "GET", "POST", "DELETE"
  std::string_view path;          // OpenAPI template: "/v1/jobs/{id}"
  std::string_view operation_id;  // camelCase, unique
  std::string_view summary;       // one line
  bool needs_key = true;
  Body body = Body::kNone;
  int success_status = 200;
  std::string_view response_type = "application/json";
  std::string_view response_schema;  // a components.schemas name, or empty
};

}  // namespace vitrine::api
