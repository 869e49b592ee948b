// Aggregations with ZeroNoiseForTestingNotPrivate (exact answers after
// bounding), validation of queries, and an empirical privacy test with the
// real samplers on neighbouring datasets.
#include "dp/aggregate.h"

#include <cmath>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/random.h"
#include "common/time_util.h"
#include "gtest/gtest.h"
#include "s2/s2cell_id.h"
#include "s2/s2latlng.h"

namespace privacity::dp {
namespace {

using json = nlohmann::json;

config::Stream MeterStream() {
  config::Stream s;
  s.id = "test.meters";
  s.subject_field = "meter";
  s.time_field = "time";
  config::Field meter{.name = "meter", .type = config::FieldType::kString};
  config::Field time{.name = "time", .type = config::FieldType::kTime};
  config::Field kwh{.name = "kwh", .type = config::FieldType::kNumber};
  kwh.min = 0;
  kwh.max = 10;
  config::Field kind{.name = "kind", .type = config::FieldType::kEnum};
  kind.values = {"a", "b", "c"};
  config::Field loc{.name = "loc", .type = config::FieldType::kPoint};
  s.location_field = "loc";
  s.fields = {meter, time, kwh, kind, loc};
  return s;
}

absl::Time Day(int d, int hour = 0) {
  return absl::FromCivil(absl::CivilSecond(2013, 1, d, hour, 0, 0), absl::UTCTimeZone());
}
int64_t Us(absl::Time t) { return absl::ToUnixMicros(t); }

AggregateSpec DailyCount() {
  AggregateSpec spec;
  spec.metric = Metric::kCount;
  spec.group_by = {GroupBy{
      .kind = GroupBy::Kind::kTime, .bucket = absl::Hours(24), .spec = "time:1d"}};
  spec.from = Day(1);
  spec.to = Day(4);
  spec.epsilon = 1;
  return spec;
}

std::map<std::string, json> Rows(const AggregateRelease& r) {
  std::map<std::string, json> out;
  for (const AggregateRow& row : r.rows) {
    std::string key;
    for (const std::string& k : row.key) key += k + "|";
    out[key] = row.value;
  }
  return out;
}

class AggregateTest : public ::testing::Test {
 protected:
  absl::StatusOr<AggregateRelease> Run(const AggregateSpec& spec,
                                       const std::function<void(Aggregator&)>& fill) {
    auto agg = Aggregator::Create(stream_, spec);
    if (!agg.ok()) return agg.status();
    fill(**agg);
    ZeroNoiseForTestingNotPrivate noise(random_);
    return (*agg)->Release(noise);
  }
  config::Stream stream_ = MeterStream();
  InsecureDeterministicRandomForTesting random_{42};
};

TEST_F(AggregateTest, DailyCountIncludesEmptyDays) {
  auto r = Run(DailyCount(), [](Aggregator& a) {
    for (int s = 0; s < 5; ++s) {
      ASSERT_TRUE(
          a.Add(absl::StrCat("subject", s), Us(Day(1, s)), 0, json::object()).ok());
    }
    ASSERT_TRUE(a.Add("subject9", Us(Day(3, 1)), 0, json::object()).ok());
    ASSERT_TRUE(
        a.Add("subject9", Us(Day(5)), 0, json::object()).ok());  // outside [from, to)
  });
  ASSERT_TRUE(r.ok()) << r.status();
  auto rows = Rows(*r);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows["2013-01-01T00:00:00Z|"], 5);
  EXPECT_EQ(rows["2013-01-02T00:00:00Z|"], 0);
  EXPECT_EQ(rows["2013-01-03T00:00:00Z|"], 1);
  EXPECT_FALSE(r->partition_selection);
  EXPECT_EQ(r->loss.epsilon, 1);
  EXPECT_EQ(r->loss.delta, 0);
}

TEST_F(AggregateTest, BoundingLimitsOneSubject) {
  AggregateSpec spec = DailyCount();
  spec.max_partitions = 2;
  spec.max_records_per_partition = 3;
  auto r = Run(spec, [](Aggregator& a) {
    // 1000 records spread over three days from one subject.
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(a.Add("heavy", Us(Day(1 + i % 3, i % 24)), 0, json::object()).ok());
    }
    ASSERT_TRUE(a.Add("light", Us(Day(2)), 0, json::object()).ok());
  });
  ASSERT_TRUE(r.ok()) << r.status();
  int64_t total = 0;
  int nonzero_heavy_days = 0;
  for (const auto& [k, v] : Rows(*r)) {
    const int64_t heavy = v.get<int64_t>() - (k == "2013-01-02T00:00:00Z|" ? 1 : 0);
    EXPECT_TRUE(heavy == 0 || heavy == 3) << k << " " << heavy;
    nonzero_heavy_days += heavy > 0 ? 1 : 0;
    total += heavy;
  }
  EXPECT_EQ(total, spec.max_partitions * spec.max_records_per_partition);
  EXPECT_EQ(nonzero_heavy_days, 2);
  EXPECT_EQ(r->dropped_by_bounding, 1000 - 6);
}

TEST_F(AggregateTest, BoundingIsPerSubjectNotPerRecordForDistinct) {
  AggregateSpec spec = DailyCount();
  spec.metric = Metric::kDistinctSubjects;
  spec.max_partitions = 3;
  spec.max_records_per_partition = 10;
  auto r = Run(spec, [](Aggregator& a) {
    for (int i = 0; i < 50; ++i)
      ASSERT_TRUE(a.Add("s1", Us(Day(1, i % 24)), 0, json::object()).ok());
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(a.Add("s2", Us(Day(1, i)), 0, json::object()).ok());
    ASSERT_TRUE(a.Add("s3", Us(Day(2)), 0, json::object()).ok());
  });
  ASSERT_TRUE(r.ok()) << r.status();
  auto rows = Rows(*r);
  EXPECT_EQ(rows["2013-01-01T00:00:00Z|"], 2);
  EXPECT_EQ(rows["2013-01-02T00:00:00Z|"], 1);
}

TEST_F(AggregateTest, SumClampsToQueryBoundsAndMeanDivides) {
  AggregateSpec spec = DailyCount();
  spec.metric = Metric::kSum;
  spec.value_field = "kwh";
  spec.lower = 0;
  spec.upper = 5;
  auto fill = [](Aggregator& a) {
    ASSERT_TRUE(a.Add("s1", Us(Day(1)), 0, json{{"kwh", 1.25}}).ok());
    ASSERT_TRUE(a.Add("s2", Us(Day(1)), 0, json{{"kwh", 9.0}}).ok());   // clamped to 5
    ASSERT_TRUE(a.Add("s3", Us(Day(1)), 0, json{{"kwh", -3.0}}).ok());  // clamped to 0
    ASSERT_TRUE(a.Add("s4", Us(Day(2)), 0, json::object()).ok());  // no value: skipped
  };
  auto r = Run(spec, fill);
  ASSERT_TRUE(r.ok()) << r.status();
  auto rows = Rows(*r);
  EXPECT_DOUBLE_EQ(rows["2013-01-01T00:00:00Z|"].get<double>(), 6.25);
  EXPECT_DOUBLE_EQ(rows["2013-01-02T00:00:00Z|"].get<double>(), 0);

  spec.metric = Metric::kMean;
  r = Run(spec, fill);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(Rows(*r)["2013-01-01T00:00:00Z|"].get<double>(), 6.25 / 3, 1e-3);
}

TEST_F(AggregateTest, HistogramOverEnumIsPublicDomain) {
  AggregateSpec spec;
  spec.metric = Metric::kHistogram;
  spec.value_field = "kind";
  spec.epsilon = 1;
  auto r = Run(spec, [](Aggregator& a) {
    ASSERT_TRUE(a.Add("s1", 0, 0, json{{"kind", "a"}}).ok());
    ASSERT_TRUE(a.Add("s2", 0, 0, json{{"kind", "a"}}).ok());
    ASSERT_TRUE(a.Add("s3", 0, 0, json{{"kind", "c"}}).ok());
  });
  ASSERT_TRUE(r.ok()) << r.status();
  auto rows = Rows(*r);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows["a|"], 2);
  EXPECT_EQ(rows["b|"], 0);
  EXPECT_EQ(rows["c|"], 1);
}

TEST_F(AggregateTest, MedianWithinOneBin) {
  AggregateSpec spec;
  spec.metric = Metric::kQuantiles;
  spec.value_field = "kwh";
  spec.quantiles = {0.5, 0.9};
  spec.quantile_bins = 100;
  spec.epsilon = 1;
  auto r = Run(spec, [](Aggregator& a) {
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(a.Add(absl::StrCat("s", i), 0, 0, json{{"kwh", i / 100.0}}).ok());
    }
  });
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_NEAR(r->rows[0].value["0.5"].get<double>(), 5.0, 0.1);
  EXPECT_NEAR(r->rows[0].value["0.9"].get<double>(), 9.0, 0.1);
}

TEST_F(AggregateTest, CellsUsePartitionSelection) {
  AggregateSpec spec;
  spec.metric = Metric::kCount;
  spec.group_by = {
      GroupBy{.kind = GroupBy::Kind::kCell, .cell_level = 10, .spec = "cell:10"}};
  spec.epsilon = 1;
  spec.delta = 1e-6;
  const uint64_t busy = S2CellId(S2LatLng::FromDegrees(51.5, -0.12)).id();
  const uint64_t lonely = S2CellId(S2LatLng::FromDegrees(40.7, -74.0)).id();
  auto r = Run(spec, [&](Aggregator& a) {
    for (int i = 0; i < 200; ++i)
      ASSERT_TRUE(a.Add(absl::StrCat("s", i), 0, busy, json::object()).ok());
    ASSERT_TRUE(a.Add("alone", 0, lonely, json::object()).ok());
    ASSERT_TRUE(a.Add("nowhere", 0, 0, json::object()).ok());  // no cell: not counted
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->partition_selection);
  EXPECT_EQ(r->loss.delta, 1e-6);
  ASSERT_EQ(r->rows.size(), 1u);  // the single-subject cell is not released
  EXPECT_EQ(r->rows[0].key[0], S2CellId(busy).parent(10).ToToken());
  EXPECT_EQ(r->rows[0].value, 200);
}

TEST_F(AggregateTest, RecordsWithoutSubjectAreTheirOwnContributors) {
  AggregateSpec spec = DailyCount();
  auto r = Run(spec, [](Aggregator& a) {
    for (int i = 0; i < 7; ++i)
      ASSERT_TRUE(a.Add("", Us(Day(1)), 0, json::object()).ok());
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Rows(*r)["2013-01-01T00:00:00Z|"], 7);
}

// The area's cells are the public domain: every cell of the level covering
// it is released, empty ones included, no delta needed; records in cells
// outside the area are not counted.
TEST_F(AggregateTest, CellsOfADeclaredAreaArePublicDomain) {
  AggregateSpec spec;
  spec.metric = Metric::kCount;
  spec.group_by = {
      GroupBy{.kind = GroupBy::Kind::kCell, .cell_level = 12, .spec = "cell:12"}};
  spec.epsilon = 1;
  spec.cell_area = config::Area{.min_latitude = 51.49,
                                .min_longitude = -0.15,
                                .max_latitude = 51.52,
                                .max_longitude = -0.10};
  const uint64_t inside = S2CellId(S2LatLng::FromDegrees(51.5, -0.12)).id();
  const uint64_t outside = S2CellId(S2LatLng::FromDegrees(40.7, -74.0)).id();
  auto r = Run(spec, [&](Aggregator& a) {
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(a.Add(absl::StrCat("s", i), 0, inside, json::object()).ok());
    ASSERT_TRUE(a.Add("far", 0, outside, json::object()).ok());
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->partition_selection);
  EXPECT_EQ(r->loss.TotalDelta(), 0);
  // A 3.5 km by 3.3 km box touches a handful of level-12 cells (a few km^2
  // each), every one released.
  ASSERT_GE(r->rows.size(), 2u);
  ASSERT_LE(r->rows.size(), 40u);
  const std::string busy = S2CellId(inside).parent(12).ToToken();
  int64_t total = 0;
  bool saw_busy = false;
  std::set<std::string> cells;
  for (const AggregateRow& row : r->rows) {
    cells.insert(row.key[0]);
    const S2LatLng c(S2CellId::FromToken(row.key[0]).ToPoint());
    EXPECT_NEAR(c.lat().degrees(), 51.505, 0.05);
    total += row.value.get<int64_t>();
    if (row.key[0] == busy) {
      saw_busy = true;
      EXPECT_EQ(row.value, 3);
    } else {
      EXPECT_EQ(row.value, 0) << row.key[0];  // empty cells are released too
    }
  }
  EXPECT_TRUE(saw_busy);
  EXPECT_EQ(total, 3);  // the record outside the area is not counted
  EXPECT_EQ(cells.size(), r->rows.size());
}

TEST_F(AggregateTest, PolygonAreaCoversLessThanItsBox) {
  const config::Area box{.min_latitude = 51.40,
                         .min_longitude = -0.30,
                         .max_latitude = 51.60,
                         .max_longitude = 0.00};
  config::Area triangle = box;
  triangle.polygon = {{51.40, -0.30}, {51.40, 0.00}, {51.60, -0.30}};
  auto cells = [&](const config::Area& area) -> size_t {
    AggregateSpec spec;
    spec.metric = Metric::kCount;
    spec.group_by = {
        GroupBy{.kind = GroupBy::Kind::kCell, .cell_level = 11, .spec = "cell:11"}};
    spec.epsilon = 1;
    spec.cell_area = area;
    auto r = Run(spec, [](Aggregator&) {});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->rows.size() : 0;
  };
  const size_t in_box = cells(box), in_triangle = cells(triangle);
  EXPECT_GT(in_triangle, 0u);
  EXPECT_LT(in_triangle, in_box);
  EXPECT_GT(in_triangle, in_box / 4);  // about half of the box
}

TEST_F(AggregateTest, TooManyAreaCellsAreRefused) {
  AggregateSpec spec;
  spec.metric = Metric::kCount;
  spec.group_by = {
      GroupBy{.kind = GroupBy::Kind::kCell, .cell_level = 20, .spec = "cell:20"}};
  spec.epsilon = 1;
  spec.cell_area = config::Area{
      .min_latitude = 51, .min_longitude = -1, .max_latitude = 52, .max_longitude = 0};
  auto a = Aggregator::Create(stream_, spec);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(std::string(a.status().message()).find("coarser"), std::string::npos);
}

// The bounding guarantee of the issue: one subject with 10,000 records
// moves a count by at most L0 * Linf, whatever it does.
TEST_F(AggregateTest, TenThousandRecordsMoveACountByAtMostL0TimesLinf) {
  AggregateSpec spec = DailyCount();
  spec.max_partitions = 2;
  spec.max_records_per_partition = 7;
  auto fill_base = [](Aggregator& a) {
    for (int s = 0; s < 40; ++s) {
      ASSERT_TRUE(
          a.Add(absl::StrCat("base", s), Us(Day(1 + s % 3, s % 24)), 0, json::object())
              .ok());
    }
  };
  auto without = Run(spec, fill_base);
  auto with = Run(spec, [&](Aggregator& a) {
    fill_base(a);
    for (int i = 0; i < 10'000; ++i) {
      ASSERT_TRUE(
          a.Add("heavy", Us(Day(1 + i % 3, (i / 3) % 24)), 0, json::object()).ok());
    }
  });
  ASSERT_TRUE(without.ok() && with.ok());
  auto a = Rows(*without), b = Rows(*with);
  int64_t moved = 0;
  for (const auto& [k, v] : b) {
    const int64_t d = v.get<int64_t>() - a[k].get<int64_t>();
    EXPECT_GE(d, 0);
    EXPECT_LE(d, spec.max_records_per_partition) << k;  // Linf per partition
    moved += d;
  }
  EXPECT_LE(moved, spec.max_partitions * spec.max_records_per_partition);
  EXPECT_EQ(moved, spec.max_partitions * spec.max_records_per_partition);
  EXPECT_EQ(with->dropped_by_bounding, 10'000 - 14);
}

TEST(GaussianLossTest, RhoIsChargedAndConvertsWithinEpsilon) {
  const config::Stream stream = MeterStream();
  AggregateSpec spec = DailyCount();
  spec.mechanism = Mechanism::kGaussian;
  spec.delta = 1e-6;
  auto a = Aggregator::Create(stream, spec);
  ASSERT_TRUE(a.ok()) << a.status();
  const PrivacyLoss loss = (*a)->loss();
  EXPECT_EQ(loss.epsilon, 0);
  EXPECT_GT(loss.rho, 0);
  EXPECT_EQ(loss.rho_delta, 1e-6);
  EXPECT_LE(loss.TotalEpsilon(), spec.epsilon);
  EXPECT_NEAR(loss.TotalEpsilon(), spec.epsilon, 1e-6);
  // With partition selection: half the epsilon is pure, half converted rho.
  spec.from.reset();
  a = Aggregator::Create(stream, spec);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_DOUBLE_EQ((*a)->loss().epsilon, spec.epsilon / 2);
  EXPECT_DOUBLE_EQ((*a)->loss().TotalDelta(), spec.delta);
  EXPECT_LE((*a)->loss().TotalEpsilon(), spec.epsilon);
  InsecureDeterministicRandomForTesting random(3);
  ExactNoise noise(random);
  auto r = (*a)->Release(noise);
  ASSERT_TRUE(r.ok()) << r.status();
}

TEST(AggregateSpecTest, RejectsBadQueries) {
  const config::Stream stream = MeterStream();
  auto invalid = [&](AggregateSpec spec, const std::string& needle) {
    auto a = Aggregator::Create(stream, spec);
    ASSERT_FALSE(a.ok()) << needle;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(a.status().message()).find(needle), std::string::npos)
        << a.status().message();
  };
  AggregateSpec s = DailyCount();
  s.epsilon = 0;
  invalid(s, "epsilon");
  s = DailyCount();
  s.metric = Metric::kSum;
  invalid(s, "needs a value field");
  s.value_field = "nope";
  invalid(s, "unknown field");
  s.value_field = "kind";
  invalid(s, "not a numeric field");
  s.value_field = "kwh";
  s.upper = 20;
  invalid(s, "within the field's declared");
  s = DailyCount();
  s.mechanism = Mechanism::kGaussian;
  invalid(s, "delta > 0");
  s = DailyCount();
  s.from.reset();
  invalid(s, "partition selection");
  s = DailyCount();
  s.max_records_per_partition = 0;
  invalid(s, "max_records_per_partition");
  s = DailyCount();
  s.group_by[0].bucket = absl::Seconds(1);
  s.group_by[0].spec = "time:1s";
  invalid(s, "partitions");

  EXPECT_FALSE(ParseGroupBy("time:often", stream).ok());
  EXPECT_FALSE(ParseGroupBy("cell:31", stream).ok());
  EXPECT_FALSE(ParseGroupBy("kwh", stream).ok());
  EXPECT_FALSE(ParseGroupBy("missing", stream).ok());
  ASSERT_TRUE(ParseGroupBy("kind", stream).ok());
  auto g = ParseGroupBy("time:1h", stream);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->bucket, absl::Hours(1));
}

// Empirical privacy test in the spirit of a stochastic DP tester: run the
// real mechanism many times on two neighbouring datasets (one subject
// added) and check, for every output value seen often enough, that the
// frequencies' ratio stays within e^epsilon plus sampling error.
void ExpectDpInequality(Metric metric, double epsilon) {
  const config::Stream stream = MeterStream();
  AggregateSpec spec;
  spec.metric = metric;
  spec.epsilon = epsilon;
  spec.max_records_per_partition = 2;
  if (metric == Metric::kSum) {
    spec.value_field = "kwh";
    spec.lower = 0;
    spec.upper = 0.002;  // 2 fixed-point units: a small domain keeps many hits per bucket
  }
  InsecureDeterministicRandomForTesting random(99);
  ExactNoise noise(random);
  constexpr int kRuns = 60'000;
  auto histogram = [&](bool with_extra) {
    std::map<std::string, int> h;
    for (int run = 0; run < kRuns; ++run) {
      auto a = Aggregator::Create(stream, spec);
      EXPECT_TRUE(a.ok());
      for (int s = 0; s < 3; ++s) {
        EXPECT_TRUE((*a)->Add(absl::StrCat("s", s), 0, 0, json{{"kwh", 0.001}}).ok());
      }
      if (with_extra) {
        // The extra subject tries to contribute far more than Linf.
        for (int i = 0; i < 50; ++i)
          EXPECT_TRUE((*a)->Add("extra", 0, 0, json{{"kwh", 5.0}}).ok());
      }
      auto r = (*a)->Release(noise);
      EXPECT_TRUE(r.ok());
      ++h[r->rows[0].value.dump()];
    }
    return h;
  };
  const auto h0 = histogram(false);
  const auto h1 = histogram(true);
  const double bound = std::exp(epsilon);
  int checked = 0;
  for (const auto& [value, c0] : h0) {
    auto it = h1.find(value);
    const int c1 = it == h1.end() ? 0 : it->second;
    if (c0 < 500 && c1 < 500) continue;  // too rare to estimate
    ++checked;
    // Allow 4 standard errors of each frequency.
    const double slack0 = 4 * std::sqrt(c0 + 1.0), slack1 = 4 * std::sqrt(c1 + 1.0);
    EXPECT_LE(c0 - slack0, bound * (c1 + slack1)) << value;
    EXPECT_LE(c1 - slack1, bound * (c0 + slack0)) << value;
  }
  EXPECT_GT(checked, 3);
}

TEST(EmpiricalPrivacyTest, CountOnNeighbouringDatasets) {
  ExpectDpInequality(Metric::kCount, 0.5);
}
TEST(EmpiricalPrivacyTest, SumOnNeighbouringDatasets) {
  ExpectDpInequality(Metric::kSum, 0.5);
}

// A tester must be able to fail: with the bounding made ineffective (Linf
// far above the extra subject's records) but noise still calibrated to the
// declared sensitivity, the count shifts by 50 and the ratio explodes.
TEST(EmpiricalPrivacyTest, DetectsAnUnboundedShift) {
  const config::Stream stream = MeterStream();
  InsecureDeterministicRandomForTesting random(5);
  ExactNoise noise(random);
  Rational b{2, 1};  // scale for epsilon 0.5 at sensitivity 1
  std::map<int64_t, int> h0, h1;
  for (int i = 0; i < 20'000; ++i) {
    ++h0[3 + *noise.DiscreteLaplace(b)];
    ++h1[3 + 50 + *noise.DiscreteLaplace(b)];
  }
  bool violated = false;
  for (const auto& [v, c0] : h0) {
    if (c0 > 500 && h1[v] * std::exp(0.5) + 4 * std::sqrt(h1[v] + 1.0) < c0)
      violated = true;
  }
  EXPECT_TRUE(violated);
}

}  // namespace
}  // namespace privacity::dp
