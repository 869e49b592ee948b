// Real mobility data stays identifying under the generalisation a planner
// would accept: on Citi Bike Jersey City trips (January 2016, in
// ../shared/data), a bike's trips of one day (daily pseudonyms), as start
// and end points at 1 hour x S2 level 13 (about 1 km), are singled out by
// 4 random points for nearly every bike. Skips when the data is absent.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/random.h"
#include "common/time_util.h"
#include "dpia/dpia.h"
#include "gtest/gtest.h"
#include "transform/field_transform.h"

namespace privacity::dpia {
namespace {

TEST(CitiBikeUnicityTest, FourPointsSingleOutNearlyEveryBikeDay) {
  const std::string path =
      std::string(PRIVACITY_SHARED_DATA) + "/mobility/citibike_JC-201601-tripdata.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no Citi Bike data at " << path;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  const Generalisation g{absl::Hours(1), 13};
  std::map<std::string, std::vector<TracePoint>> traces;  // bike|day -> points
  auto point = [&](const std::string& time, const std::string& lat,
                   const std::string& lon) -> std::optional<TracePoint> {
    auto t =
        ParseTimestamp(std::string(time.substr(0, 10)) + "T" + time.substr(11) + "Z");
    double la = 0, lo = 0;
    if (!t.ok() || !absl::SimpleAtod(lat, &la) || !absl::SimpleAtod(lon, &lo)) {
      return std::nullopt;
    }
    const TracePoint p{absl::ToUnixMicros(*t), transform::CellOf({la, lo}, 30).id};
    return Generalise(p, g);
  };
  int64_t trips = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> c = absl::StrSplit(line, ',');
    if (c.size() != 15 || c[1].size() < 19 || c[2].size() < 19) continue;
    auto start = point(c[1], c[5], c[6]);
    auto end = point(c[2], c[9], c[10]);
    if (!start || !end) continue;
    std::vector<TracePoint>& trace = traces[c[11] + "|" + c[1].substr(0, 10)];
    trace.push_back(*start);
    trace.push_back(*end);
    ++trips;
  }
  ASSERT_GT(trips, 1000);
  std::vector<std::vector<TracePoint>> all;
  for (auto& [key, trace] : traces) all.push_back(std::move(trace));
  InsecureDeterministicRandomForTesting random(2013);
  auto p4 = MeasureUnicity(all, 4, random);
  auto p2 = MeasureUnicity(all, 2, random);
  ASSERT_TRUE(p4.ok() && p2.ok());
  std::printf(
      "Citi Bike JC 2016-01: %lld trips, %lld bike-days; 1h x level 13: "
      "p=2 unicity %.3f of %lld, p=4 unicity %.3f of %lld\n",
      static_cast<long long>(trips), static_cast<long long>(all.size()), p2->unicity,
      static_cast<long long>(p2->eligible), p4->unicity,
      static_cast<long long>(p4->eligible));
  EXPECT_GT(p4->eligible, 100);
  EXPECT_GT(p4->unicity, 0.9);
  EXPECT_GT(p2->unicity, 0.05);  // above the default threshold
}

}  // namespace
}  // namespace privacity::dpia
