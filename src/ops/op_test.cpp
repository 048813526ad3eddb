#include "ops/op.h"

#include <gtest/gtest.h>

namespace vitrine::ops {
namespace {

TEST(OpSchemaTest, FillsDefaultsAndRejectsBadParams) {
  const OpDef* cutout = Registry::Global().Find("cutout");
  ASSERT_NE(cutout, nullptr);
  Result<nlohmann::json> defaults = cutout->schema.Validate(nullptr);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ((*defaults)["background"], "transparent");
  EXPECT_EQ((*defaults)["crop"], false);

  auto message = [&](const nlohmann::json& params) {
    Result<nlohmann::json> r = cutout->schema.Validate(params);
    EXPECT_FALSE(r.ok()) << params.dump();
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(message({{"backgruond", "white"}}).find("unknown parameter 'backgruond'"),
            std::string::npos);
  EXPECT_NE(message({{"margin", 3}}).find("cutout: field \"margin\": 3 is above the maximum 1"),
            std::string::npos);
  EXPECT_NE(message({{"output", "alpha"}}).find("not one of cutout, mask"), std::string::npos);
  EXPECT_NE(message({{"background", "#12345"}}).find("not a colour"), std::string::npos);
  EXPECT_NE(message({{"crop", "yes"}}).find("true or false"), std::string::npos);
  EXPECT_FALSE(cutout->schema.Validate(nlohmann::json::array()).ok());
}

TEST(OpSchemaTest, EveryOpHasADocumentedSchema) {
  for (const OpDef* op : Registry::Global().All()) {
    nlohmann::json j = op->schema.ToJson();
    EXPECT_FALSE(j["doc"].get<std::string>().empty()) << op->schema.name;
    for (const auto& field : j["fields"]) {
      EXPECT_FALSE(field["doc"].get<std::string>().empty()) << field.dump();
      // Each default must pass the op's own validation.
      EXPECT_TRUE(op->schema.Validate({{field["name"], field["default"]}}).ok()) << field.dump();
    }
  }
}

TEST(ParseColorTest, HexNamesAndTransparent) {
  EXPECT_EQ(*ParseColor("#ff8000"), cv::Scalar(0, 128, 255, 255));
  EXPECT_EQ(*ParseColor("#FFF"), cv::Scalar(255, 255, 255, 255));
  EXPECT_EQ(*ParseColor("White"), cv::Scalar(255, 255, 255, 255));
  EXPECT_EQ((*ParseColor("transparent"))[3], 0);
  EXPECT_FALSE(ParseColor("#ggg").ok());
  EXPECT_FALSE(ParseColor("").ok());
}

TEST(RegistryTest, UnknownOpIsNotFound) {
  OpContext context;
  Result<Image> r = Registry::Global().Run("no_such_op", Image{}, nullptr, context);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace vitrine::ops
