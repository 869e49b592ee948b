// The city.yaml keys the register and the DPIA added: a sensor's
// comments_until, the controller party kind and the dpia section, with a
// round trip through ToYaml and the errors for bad values.
#include <string>

#include "absl/strings/str_cat.h"
#include "config/loader.h"
#include "gtest/gtest.h"

namespace privacity::config {
namespace {

constexpr char kBase[] =
    R"(city: {name: Town, controller: Office, contact: dpo@town.example}
purposes:
  - {id: counting, description: Counting people, legal_basis: public-task}
parties:
  - {id: office, name: Data office, kind: controller}
streams:
  - id: counts
    time: time
    purposes: [counting]
    fields:
      - {name: time, type: time, category: time}
)";

TEST(RegisterConfigTest, ProposedSensorControllerAndDpiaSettings) {
  const std::string yaml = absl::StrCat(kBase, R"(sensors:
  - {id: s1, stream: counts, name: Counter, lat: 1, lon: 2, comments_until: 2026-03-01}
dpia: {k: 3, unicity_threshold: 0.1, k_share_threshold: 0.2, interval: 6h}
)");
  auto config = ParseConfig(yaml, "town.yaml", "");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->parties[0].kind, PartyKind::kController);
  ASSERT_TRUE(config->sensors[0].comments_until.has_value());
  // A bare date means the end of that day.
  EXPECT_EQ(*config->sensors[0].comments_until, absl::FromUnixSeconds(1772409600));
  EXPECT_EQ(config->dpia.k, 3);
  EXPECT_EQ(config->dpia.unicity_threshold, 0.1);
  EXPECT_EQ(config->dpia.k_share_threshold, 0.2);
  EXPECT_EQ(config->dpia.interval, absl::Hours(6));
  auto again = ParseConfig(ToYaml(*config), "again.yaml", "");
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << ToYaml(*config);
  EXPECT_EQ(again->sensors[0].comments_until, config->sensors[0].comments_until);
  EXPECT_EQ(again->dpia.k, 3);
  EXPECT_EQ(again->dpia.interval, absl::Hours(6));
  EXPECT_EQ(again->parties[0].kind, PartyKind::kController);
}

TEST(RegisterConfigTest, DefaultDpiaSettingsAreNotWritten) {
  auto config = ParseConfig(kBase, "town.yaml", "");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->dpia.k, 5);
  EXPECT_EQ(ToYaml(*config).find("dpia"), std::string::npos);
}

TEST(RegisterConfigTest, BadValuesAreNamed) {
  for (const auto& [extra, needle] : std::vector<std::pair<std::string, std::string>>{
           {"dpia: {k: 1}\n", "'k'"},
           {"dpia: {unicity_threshold: 2}\n", "'unicity_threshold'"},
           {"dpia: {interval: soon}\n", "interval"},
           {"dpia: {colour: red}\n", "colour"},
           {"sensors:\n  - {id: s, stream: counts, name: n, comments_until: someday}\n",
            "comments_until"}}) {
    auto config = ParseConfig(absl::StrCat(kBase, extra), "town.yaml", "");
    ASSERT_FALSE(config.ok()) << extra;
    EXPECT_NE(config.status().message().find(needle), absl::string_view::npos)
        << config.status();
  }
}

}  // namespace
}  // namespace privacity::config
