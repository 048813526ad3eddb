// The OpenAPI 3.1 document, generated from the route table and the op schemas (so it cannot
// drift from the router). Pure function; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "api/routes.h"
#include "ops/op.h"

namespace vitrine::api {

// Paths from `routes` (path parameters from the {name} segments, the API-key security on routes
// that need it, the error responses each can give); components.schemas holds one JSON Schema per
// op ("op_<name>": its params), the request and response bodies, and Error.
nlohmann::json BuildOpenApi(std::span<const RouteSpec> routes,
                            const std::vector<ops::OpSchema>& ops);

// One op's params as a JSON Schema object (types, defaults, ranges, enums, docs).
nlohmann::json OpParamsSchema(const ops::OpSchema& op);

}  // namespace vitrine::api
