#include "recipe/recipe.h"

#include <gtest/gtest.h>

#include <set>

namespace vitrine::recipe {
namespace {
using nlohmann::json;

Result<Image> Identity(const Image& input, const json&, ops::OpContext&) { return input; }

// Ops with the shapes of the real ones, registered in a registry of the test's own.
ops::Registry TestRegistry() {
  using ops::Field;
  using ops::FieldType;
  ops::Registry registry;
  auto add = [&](const std::string& name, std::vector<Field> fields) {
    ops::OpDef def;
    def.schema.name = name;
    def.schema.doc = name;
    def.schema.fields = std::move(fields);
    def.run = Identity;
    registry.Add(std::move(def));
  };
  add("remove_text", {{"scope", FieldType::kEnum, "overlay", {}, {}, {"overlay", "all"}, "what"}});
  add("cutout", {{"crop", FieldType::kBoolean, false, {}, {}, {}, "crop"}});
  add("recolor", {{"color", FieldType::kColor, "#808080", {}, {}, {}, "colour"}});
  add("stage", {{"width", FieldType::kInteger, 2000, 16, 10000, {}, "px"},
                {"height", FieldType::kInteger, 2000, 16, 10000, {}, "px"},
                {"background", FieldType::kColor, "#ffffff", {}, {}, {}, "colour"},
                {"gradient", FieldType::kEnum, "none", {}, {}, {"none", "vertical", "radial"}, "g"},
                {"background2", FieldType::kColor, "#ffffff", {}, {}, {}, "second colour"},
                {"scene", FieldType::kString, "", {}, {}, {}, "path"},
                {"fill", FieldType::kNumber, 0.85, 0.1, 1.0, {}, "fill"},
                {"margin", FieldType::kNumber, 0.05, 0.0, 0.5, {}, "margin"},
                {"align", FieldType::kEnum, "center", {}, {}, {"center", "bottom"}, "align"},
                {"shadow", FieldType::kEnum, "contact", {}, {}, {"contact", "drop", "none"}, "s"},
                {"shadow_opacity", FieldType::kNumber, 0.3, 0.0, 1.0, {}, "opacity"},
                {"size_cm", FieldType::kString, "", {}, {}, {}, "W,H"},
                {"harmonize", FieldType::kNumber, 0.5, 0.0, 1.0, {}, "match the scene"}});
  add("export", {{"preset", FieldType::kString, "amazon", {}, {}, {}, "preset"}});
  return registry;
}

json LocalizeJson() {
  return json::parse(R"({
    "name": "localize",
    "steps": [{"op": "remove_text"}, {"op": "cutout"},
              {"op": "stage", "params": {"size_cm": "${sku.size_cm}"}}],
    "variants": {
      "background": [{"step": "stage", "params": {"background": "white"}},
                     {"step": "stage", "params": {"background": "#f0f0f0"}},
                     {"step": "stage", "params": {"background": "#e0d0c0"}},
                     {"step": "stage", "params": {"background": "navy"}}],
      "shadow": [{"step": "stage", "params": {"shadow": "contact"}},
                 {"step": "stage", "params": {"shadow": "drop"}},
                 {"step": "stage", "params": {"shadow": "none"}}]
    },
    "candidates": 8,
    "export": {"op": "export"},
    "presets": ["amazon"]
  })");
}

SkuInfo NamedSku(const std::string& name) {
  SkuInfo sku;
  sku.sku = name;
  return sku;
}

ExpandOptions Count(int candidates) {
  ExpandOptions options;
  options.candidates = candidates;
  return options;
}

Recipe Parse(const json& j) {
  Result<Recipe> r = ParseRecipe(j);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Recipe{};
}

std::string ParseError(const json& j) {
  Result<Recipe> r = ParseRecipe(j);
  EXPECT_FALSE(r.ok()) << j.dump();
  return r.ok() ? "" : r.status().message();
}

TEST(RecipeTest, ParseErrorsNameThePlace) {
  json j = LocalizeJson();
  j["stpes"] = j["steps"];
  EXPECT_NE(ParseError(j).find("recipe \"localize\": unknown key \"stpes\""), std::string::npos);

  j = LocalizeJson();
  j["steps"].push_back({{"op", "stage"}});
  EXPECT_NE(ParseError(j).find("steps[3]: a second 'stage' step needs an \"id\""),
            std::string::npos);

  j = LocalizeJson();
  j["variants"]["shadow"][1]["step"] = "stgae";
  EXPECT_NE(ParseError(j).find("variants.shadow[1]: \"step\": no step has the id 'stgae'"),
            std::string::npos);

  j = LocalizeJson();
  j["steps"][2]["params"]["size_cm"] = "${sku.weight}";
  EXPECT_NE(ParseError(j).find("steps[2].params.size_cm: unknown reference ${sku.weight}"),
            std::string::npos);

  j = LocalizeJson();
  j["candidates"] = 500;
  EXPECT_NE(ParseError(j).find("candidates: must be a whole number from 0"), std::string::npos);
  EXPECT_NE(ParseError(json::array()).find("must be a JSON object"), std::string::npos);
}

TEST(RecipeTest, ToJsonParsesBackToTheSameRecipe) {
  Recipe recipe = Parse(LocalizeJson());
  Recipe again = Parse(recipe.ToJson());
  EXPECT_EQ(again.ToJson(), recipe.ToJson());
  EXPECT_EQ(again.axes.size(), 2u);
  EXPECT_EQ(again.steps[2].params["size_cm"], "${sku.size_cm}");
}

TEST(RecipeTest, ValidateNamesStepFieldAndValue) {
  const ops::Registry registry = TestRegistry();
  EXPECT_TRUE(Validate(Parse(LocalizeJson()), registry).ok());

  json j = LocalizeJson();
  j["steps"][2]["params"]["fill"] = 1.7;
  Status status = Validate(Parse(j), registry);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "recipe \"localize\": steps[2] (stage): field \"fill\": 1.7 is above the maximum 1");

  // An override is checked on the step it changes, and the message says which option.
  j = LocalizeJson();
  j["variants"]["shadow"][2]["params"]["shadow"] = "soft";
  status = Validate(Parse(j), registry);
  EXPECT_NE(status.message().find("variants.shadow[2] -> steps[2] (stage): field \"shadow\": "
                                  "'soft' is not one of contact, drop, none"),
            std::string::npos)
      << status.message();

  j = LocalizeJson();
  j["steps"][1]["op"] = "cutuot";
  status = Validate(Parse(j), registry);
  EXPECT_NE(status.message().find("steps[1] (cutuot): unknown op 'cutuot'; known ops: cutout, "),
            std::string::npos)
      << status.message();

  j = LocalizeJson();
  j["variants"]["color"] = {{{"each", "sku.colors"}, {"step", "stage"}, {"param", "colour"}}};
  status = Validate(Parse(j), registry);
  EXPECT_NE(status.message().find("variants.color[0]: \"param\": steps[2] (stage) has no "
                                  "parameter 'colour'"),
            std::string::npos)
      << status.message();
}

TEST(RecipeTest, ExpandInterleavesAxesDeterministically) {
  const ops::Registry registry = TestRegistry();
  const Recipe recipe = Parse(LocalizeJson());
  SkuInfo sku = NamedSku("A1");
  sku.size_cm = {40, 60};
  Result<std::vector<CandidatePlan>> plans = Expand(recipe, sku, ExpandOptions{}, registry);
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  ASSERT_EQ(plans->size(), 8u);

  std::map<std::string, int> backgrounds, shadows;
  std::set<std::string> combos;
  for (const CandidatePlan& plan : *plans) {
    ++backgrounds[plan.choices.at("background")];
    ++shadows[plan.choices.at("shadow")];
    combos.insert(plan.label);
  }
  EXPECT_EQ(combos.size(), 8u) << "every candidate is a different combination";
  // 8 of 4 x 3: every background twice, every shadow at least twice; the first 8 of the
  // cartesian product would have used 3 backgrounds only.
  EXPECT_EQ(backgrounds.size(), 4u);
  for (const auto& [name, n] : backgrounds) EXPECT_EQ(n, 2) << name;
  for (const auto& [name, n] : shadows) EXPECT_GE(n, 2) << name;
  // The first four already show every background.
  std::set<std::string> first_four;
  for (int i = 0; i < 4; ++i) first_four.insert((*plans)[i].choices.at("background"));
  EXPECT_EQ(first_four.size(), 4u);

  Result<std::vector<CandidatePlan>> again = Expand(recipe, sku, ExpandOptions{}, registry);
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < plans->size(); ++i) {
    EXPECT_EQ((*again)[i].label, (*plans)[i].label);
    EXPECT_EQ((*again)[i].steps.back()->key, (*plans)[i].steps.back()->key);
  }
}

TEST(RecipeTest, PlansShareTheirCommonPrefixAndCarrySkuValues) {
  const ops::Registry registry = TestRegistry();
  SkuInfo sku = NamedSku("A1");
  sku.size_cm = {40, 60.5};
  ExpandOptions options;
  options.candidates = 3;
  options.presets = {"amazon", "noon", "amazon"};
  Result<std::vector<CandidatePlan>> plans = Expand(Parse(LocalizeJson()), sku, options, registry);
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  ASSERT_EQ(plans->size(), 3u);
  const CandidatePlan& a = (*plans)[0];
  const CandidatePlan& b = (*plans)[1];
  ASSERT_EQ(a.steps.size(), 3u);
  EXPECT_EQ(a.steps[0].get(), b.steps[0].get()) << "remove_text is computed once";
  EXPECT_EQ(a.steps[1].get(), b.steps[1].get()) << "cutout is computed once";
  EXPECT_NE(a.steps[2]->key, b.steps[2]->key);
  EXPECT_EQ(a.steps[2]->previous.get(), a.steps[1].get());
  EXPECT_EQ(a.steps[2]->params["size_cm"], "40,60.5");
  EXPECT_EQ(a.steps[2]->params["fill"], 0.85) << "defaults are filled in";
  ASSERT_EQ(a.exports.size(), 2u) << "one export per distinct preset";
  json report = a.ToJson();
  EXPECT_EQ(report["steps"][2]["params"]["size_cm"], "40,60.5");
  EXPECT_EQ(report["steps"][1]["key"], a.steps[1]->key);
  EXPECT_EQ(report["exports"]["noon"]["params"]["preset"], "noon");
  EXPECT_EQ(report["choices"]["background"], a.choices.at("background"));
  EXPECT_EQ(a.exports.at("noon")->params["preset"], "noon");
  EXPECT_EQ(a.exports.at("noon")->previous.get(), a.steps[2].get());

  // Without a size the op's default applies.
  sku.size_cm.clear();
  plans = Expand(Parse(LocalizeJson()), sku, options, registry);
  ASSERT_TRUE(plans.ok());
  EXPECT_EQ((*plans)[0].steps[2]->params["size_cm"], "");
}

TEST(RecipeTest, SkuColoursBecomeOneCandidateEach) {
  const ops::Registry registry = TestRegistry();
  Recipe recipe = Parse(json::parse(R"({
    "name": "variants",
    "steps": [{"op": "cutout"}, {"op": "recolor"}, {"op": "stage"}],
    "variants": {"color": [{"each": "sku.colors", "step": "recolor", "param": "color"}]},
    "candidates": 0
  })"));
  ASSERT_TRUE(Validate(recipe, registry).ok());
  SkuInfo sku = NamedSku("T-shirt");
  sku.colors = {"navy", "#cc0000", "#0a0"};
  Result<std::vector<CandidatePlan>> plans = Expand(recipe, sku, ExpandOptions{}, registry);
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  ASSERT_EQ(plans->size(), 3u);
  std::vector<std::string> colours;
  for (const CandidatePlan& plan : *plans) colours.push_back(plan.steps[1]->params["color"]);
  EXPECT_EQ(colours, sku.colors);
  EXPECT_EQ((*plans)[0].steps[0].get(), (*plans)[2].steps[0].get());

  sku.colors.clear();
  plans = Expand(recipe, sku, ExpandOptions{}, registry);
  ASSERT_FALSE(plans.ok());
  EXPECT_NE(plans.status().message().find("sku 'T-shirt': variants.color has no option"),
            std::string::npos)
      << plans.status().message();

  // A colour the op refuses is reported with the SKU and the option.
  sku.colors = {"#12345"};
  plans = Expand(recipe, sku, ExpandOptions{}, registry);
  ASSERT_FALSE(plans.ok());
  EXPECT_NE(plans.status().message().find(
                "sku 'T-shirt': variants.color[0] -> steps[1] (recolor): field \"color\""),
            std::string::npos)
      << plans.status().message();
}

TEST(RecipeTest, CandidateCountsAreBounded) {
  const ops::Registry registry = TestRegistry();
  const Recipe recipe = Parse(LocalizeJson());
  SkuInfo sku = NamedSku("A1");
  Result<std::vector<CandidatePlan>> plans = Expand(recipe, sku, Count(100), registry);
  ASSERT_FALSE(plans.ok());
  EXPECT_NE(plans.status().message().find("the most is 64"), std::string::npos);
  plans = Expand(recipe, sku, Count(30), registry);
  ASSERT_TRUE(plans.ok());
  EXPECT_EQ(plans->size(), 12u) << "no more candidates than combinations";

  json no_presets = LocalizeJson();
  no_presets.erase("presets");
  plans = Expand(Parse(no_presets), sku, {}, registry);
  ASSERT_FALSE(plans.ok());
  EXPECT_NE(plans.status().message().find("nothing to export to"), std::string::npos);
  sku.presets = {"etsy"};
  plans = Expand(Parse(no_presets), sku, {}, registry);
  ASSERT_TRUE(plans.ok());
  EXPECT_EQ((*plans)[0].exports.begin()->first, "etsy") << "the SKU's presets apply";
}

TEST(BuiltinRecipesTest, ParseAndMatchTheOpsThatExist) {
  std::set<std::string> names;
  int checked = 0;
  for (const BuiltinRecipe& builtin : BuiltinRecipes()) {
    names.insert(builtin.name);
    Result<Recipe> recipe = LoadRecipe(builtin.name);
    ASSERT_TRUE(recipe.ok()) << recipe.status().ToString();
    EXPECT_EQ(recipe->name, builtin.name);
    EXPECT_FALSE(recipe->doc.empty());
    EXPECT_TRUE(recipe->export_step.has_value()) << builtin.name;

    // Steps whose op is registered in this build must pass its schema now; the full Validate
    // needs remove_text, stage, recolor and export (other branches).
    bool all_present = true;
    for (const Step& step : recipe->steps) {
      const ops::OpDef* def = ops::Registry::Global().Find(step.op);
      if (!def) {
        all_present = false;
        continue;
      }
      EXPECT_TRUE(def->schema.Validate(step.params).ok()) << builtin.name << " " << step.op;
      ++checked;
    }
    Status status = Validate(*recipe, ops::Registry::Global());
    if (all_present) {
      EXPECT_TRUE(status.ok()) << status.ToString();
    } else {
      EXPECT_NE(status.message().find("unknown op"), std::string::npos) << status.ToString();
    }
  }
  EXPECT_EQ(names, (std::set<std::string>{"localize", "variants", "white-main"}));
  EXPECT_GE(checked, 3) << "cutout is in every built-in recipe";
}

TEST(BuiltinRecipesTest, ValidateAndExpandAgainstStandInSchemas) {
  // Stand-ins with the fields the brief gives the ops being written on other branches.
  const ops::Registry registry = TestRegistry();
  for (const BuiltinRecipe& builtin : BuiltinRecipes()) {
    Result<Recipe> recipe = LoadRecipe(builtin.name);
    ASSERT_TRUE(recipe.ok());
    EXPECT_TRUE(Validate(*recipe, registry).ok()) << Validate(*recipe, registry).ToString();
  }

  Result<Recipe> localize = LoadRecipe("localize");
  SkuInfo sku = NamedSku("lamp");
  sku.size_cm = {30, 45};
  Result<std::vector<CandidatePlan>> plans = Expand(*localize, sku, {}, registry);
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  ASSERT_EQ(plans->size(), 8u);
  std::set<std::string> backgrounds, shadows, compositions;
  for (const CandidatePlan& plan : *plans) {
    backgrounds.insert(plan.choices.at("background"));
    // The main image on white has no shadow (Amazon forbids one); studio colours a contact
    // shadow, gradients a drop shadow.
    shadows.insert(plan.steps.back()->params["shadow"].get<std::string>());
    compositions.insert(plan.choices.at("composition"));
    EXPECT_EQ(plan.steps.back()->params["size_cm"], "30,45");
    EXPECT_EQ(plan.exports.count("amazon"), 1u);
  }
  EXPECT_EQ(backgrounds.size(), 6u) << "every studio look is used";
  EXPECT_EQ(shadows, (std::set<std::string>{"none", "contact", "drop"}));
  EXPECT_EQ(compositions.size(), 2u);

  // With two room scenes, the 8 candidates are 6 studio looks and the 2 scenes.
  sku.scenes = {"/rooms/living.jpg", "/rooms/bedroom.jpg"};
  plans = Expand(*localize, sku, {}, registry);
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  backgrounds.clear();
  int scenes = 0;
  for (const CandidatePlan& plan : *plans) {
    backgrounds.insert(plan.choices.at("background"));
    if (!plan.steps.back()->params["scene"].get<std::string>().empty()) {
      ++scenes;
      EXPECT_EQ(plan.steps.back()->params["harmonize"], 0.5);
    }
  }
  EXPECT_EQ(backgrounds.size(), 8u);
  EXPECT_EQ(scenes, 2);
  EXPECT_EQ(backgrounds.count("scene living"), 1u);
}

TEST(RecipeTest, LoadRecipeReportsWhatIsWrong) {
  Result<Recipe> missing = LoadRecipe("no-such-recipe");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("built-in recipes: localize, variants, white-main"),
            std::string::npos);
}

}  // namespace
}  // namespace vitrine::recipe
