// The declared areas of city.yaml that become public cell domains: a
// stream's area as a bounding box or a polygon, its validation (line and
// column, no half-read area), and writing it back.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/loader.h"
#include "gtest/gtest.h"

namespace privacity::config {
namespace {

const std::filesystem::path kDemo =
    std::filesystem::path(PRIVACITY_SOURCE_DIR) / "examples" / "demo-city";
constexpr char kDemoArea[] =
    "area: {min_lat: -37.826, min_lon: 144.938, max_lat: -37.800, max_lon: 144.976}";

std::string DemoWithArea(const std::string& area) {
  std::ifstream in(kDemo / "city.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  const size_t at = s.find(kDemoArea);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) s.replace(at, sizeof(kDemoArea) - 1, area);
  return s;
}

absl::StatusOr<CityConfig> Parse(const std::string& text) {
  return ParseConfig(text, "city.yaml", kDemo.string());
}

TEST(AreaConfigTest, DemoFootfallDeclaresItsArea) {
  auto c = Parse(DemoWithArea(kDemoArea));
  ASSERT_TRUE(c.ok()) << c.status();
  const Stream* s = c->FindStream("footfall.counts");
  ASSERT_TRUE(s != nullptr && s->area.has_value());
  EXPECT_EQ(s->area->min_latitude, -37.826);
  EXPECT_TRUE(s->area->polygon.empty());
  EXPECT_FALSE(c->FindStream("energy.meter_readings")->area.has_value());
}

TEST(AreaConfigTest, PolygonIsReadWithItsBoundingBoxAndWrittenBack) {
  auto c = Parse(DemoWithArea(
      "area: {polygon: [[-37.826, 144.938], [-37.826, 144.976], [-37.800, 144.960]]}"));
  ASSERT_TRUE(c.ok()) << c.status();
  const Area& a = *c->FindStream("footfall.counts")->area;
  ASSERT_EQ(a.polygon.size(), 3u);
  EXPECT_EQ(a.polygon[2], std::make_pair(-37.8, 144.96));
  EXPECT_EQ(a.min_latitude, -37.826);
  EXPECT_EQ(a.max_latitude, -37.8);
  EXPECT_EQ(a.min_longitude, 144.938);
  EXPECT_EQ(a.max_longitude, 144.976);
  auto again = Parse(ToYaml(*c));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->FindStream("footfall.counts")->area->polygon, a.polygon);
  EXPECT_EQ(ToYaml(*again), ToYaml(*c));
}

TEST(AreaConfigTest, BadAreasNameTheProblemAndPlace) {
  auto expect = [](const std::string& area, const std::string& needle) {
    auto c = Parse(DemoWithArea(area));
    ASSERT_FALSE(c.ok()) << area;
    const std::string m(c.status().message());
    EXPECT_NE(m.find(needle), std::string::npos) << m;
    EXPECT_NE(m.find("city.yaml:"), std::string::npos) << m;  // line:column
  };
  // A bow tie crosses itself.
  expect("area: {polygon: [[0, 0], [1, 1], [0, 1], [1, 0]]}", "not a simple polygon");
  expect("area: {polygon: [[0, 0], [1, 1]]}", "at least three");
  expect("area: {polygon: [[0, 0], [1, 1], [95, 1]]}", "latitude");
  expect("area: {polygon: [[0, 0], [1, 1], [1]]}", "pair");
  expect("area: {polygon: [[0, 0], [1, 1], [0, 1]], min_lat: 0}", "cannot be combined");
  expect("area: {min_lat: 1, min_lon: 0, max_lat: 0, max_lon: 1}", "max_lat");
  expect("area: {min_lat: 0, min_lon: 0, max_lat: 1}", "max_lon");
  expect("area: {min_lat: 0, min_lon: 0, max_lat: 1, max_lon: 1, radius: 3}", "radius");
}

TEST(AreaConfigTest, AnAreaNeedsALocation) {
  std::ifstream in(kDemo / "city.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  // Move the area onto the meter stream, which has no location field.
  const size_t at = s.find(kDemoArea);
  ASSERT_NE(at, std::string::npos);
  s.erase(at, sizeof(kDemoArea) - 1);
  const std::string anchor = "    subject: meter_id\n";
  s.replace(s.find(anchor), anchor.size(),
            anchor + "    area: {min_lat: 0, min_lon: 0, max_lat: 1, max_lon: 1}\n");
  auto c = Parse(s);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("'area' needs a 'location'"),
            std::string::npos)
      << c.status();
}

}  // namespace
}  // namespace privacity::config
