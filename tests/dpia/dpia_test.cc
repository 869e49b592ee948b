// The DPIA's measures on constructed data whose unicity and k-share are
// worked out by hand in the comments.
#include "dpia/dpia.h"

#include <filesystem>
#include <string>
#include <vector>

#include "audit/leaves.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "config/loader.h"
#include "gtest/gtest.h"
#include "s2/s2cell_id.h"
#include "transform/field_transform.h"

namespace privacity::dpia {
namespace {

using nlohmann::json;

TEST(UnicityTest, CountsTracesSingledOutByTheirPoints) {
  // A and C share both points; B has one point of its own; D has one point.
  const std::vector<std::vector<TracePoint>> traces = {
      {{0, 1}, {1, 2}},          // A
      {{0, 1}, {1, 3}},          // B
      {{1, 2}, {0, 1}, {0, 1}},  // C: A's points, one repeated
      {{0, 1}},                  // D: too short for p = 2
  };
  InsecureDeterministicRandomForTesting random(1);
  auto u = MeasureUnicity(traces, 2, random);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->traces, 4);
  EXPECT_EQ(u->eligible, 3);  // D has fewer than 2 distinct points
  EXPECT_EQ(u->unique, 1);    // only B
  EXPECT_DOUBLE_EQ(u->unicity, 1.0 / 3);
  auto u4 = MeasureUnicity(traces, 4, random);
  ASSERT_TRUE(u4.ok());
  EXPECT_EQ(u4->eligible, 0);
  EXPECT_EQ(u4->unicity, 0);
  EXPECT_FALSE(MeasureUnicity(traces, 0, random).ok());
}

TEST(UnicityTest, FourPointsOfFourPointTracesAreTheWholeTrace) {
  // Three traces of 4 points; the first two are equal, the third differs in
  // one point: only the third is unique whatever points are drawn.
  std::vector<TracePoint> base = {{0, 1}, {1, 1}, {2, 1}, {3, 1}};
  std::vector<TracePoint> other = base;
  other[3].cell = 9;
  InsecureDeterministicRandomForTesting random(3);
  auto u = MeasureUnicity({base, base, other}, 4, random);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->unique, 1);
  EXPECT_DOUBLE_EQ(u->unicity, 1.0 / 3);
}

TEST(UnicityTest, GeneralisationMergesPoints) {
  const S2CellId parent = S2CellId::FromToken("89c25").parent(12);
  const uint64_t a = parent.child(0).child_begin(16).id();
  const uint64_t b = parent.child(3).child_begin(16).id();
  const int64_t t0 = absl::ToUnixMicros(absl::FromUnixSeconds(600));   // 00:10
  const int64_t t1 = absl::ToUnixMicros(absl::FromUnixSeconds(1200));  // 00:20
  // At level 16 and as stored both traces are unique; at 1h and level 12
  // they are the same trace.
  const std::vector<std::vector<TracePoint>> raw = {{{t0, a}, {t0 + 3600000000, a}},
                                                    {{t1, b}, {t1 + 3600000000, b}}};
  InsecureDeterministicRandomForTesting random(5);
  EXPECT_DOUBLE_EQ(MeasureUnicity(raw, 2, random)->unicity, 1.0);
  const Generalisation coarse{absl::Hours(1), 12};
  std::vector<std::vector<TracePoint>> general;
  for (const auto& trace : raw) {
    general.emplace_back();
    for (const TracePoint& p : trace) general.back().push_back(Generalise(p, coarse));
  }
  EXPECT_EQ(general[0], general[1]);
  EXPECT_DOUBLE_EQ(MeasureUnicity(general, 2, random)->unicity, 0.0);
}

TEST(KShareTest, RecordsInSmallClasses) {
  // Classes of 3, 1 and 2 records; with k = 3 the last two are small.
  const std::vector<std::vector<std::string>> rows = {{"x", "y"}, {"x", "y"}, {"x", "y"},
                                                      {"x", "z"}, {"w", "w"}, {"w", "w"}};
  auto ks = MeasureKShare(rows, 3);
  ASSERT_TRUE(ks.ok()) << ks.status();
  EXPECT_EQ(ks->classes, 3);
  EXPECT_EQ(ks->in_small_classes, 3);
  EXPECT_DOUBLE_EQ(ks->share, 0.5);
  EXPECT_DOUBLE_EQ(ks->risk.unique_share, 1.0 / 6);
  EXPECT_DOUBLE_EQ(ks->risk.prosecutor_max, 1.0);
  EXPECT_EQ(MeasureKShare(rows, 2)->in_small_classes, 1);
}

// Records handed to the DPIA as if stored.
class FakeSource final : public RecordSource {
 public:
  std::vector<StoredView> records;
  absl::Status Scan(const config::Stream&,
                    const std::function<absl::Status(const StoredView&)>& fn) override {
    for (const StoredView& r : records) RETURN_IF_ERROR(fn(r));
    return absl::OkStatus();
  }
};

class TripsDpiaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = config::LoadConfigFile(
        (std::filesystem::path(PRIVACITY_SOURCE_DIR) / "examples/demo-city/city.yaml")
            .string());
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *std::move(config);
    config_.dpia.k = 2;
    // Bikes 0 and 1 ride the same trips (P at T0, Q at T1). Bikes 2 and 3
    // ride at the same times from sibling level-14 cells (A and A', B and
    // B') under one level-13 parent each: distinct at level 14, the same at
    // level 13.
    const S2CellId a13 = S2CellId::FromToken("89c25").parent(13);
    const S2CellId b13 = a13.next().next();
    const S2CellId p = S2CellId::FromToken("89c3").parent(14);
    const S2CellId q = p.next().next().next();
    const absl::Time t0 = absl::FromUnixSeconds(1748764800);  // 2025-06-01T08:00Z
    const absl::Time t1 = t0 + absl::Hours(3);
    Add("ps_bike0", t0, p);
    Add("ps_bike0", t1, q);
    Add("ps_bike1", t0, p);
    Add("ps_bike1", t1, q);
    Add("ps_bike2", t0, a13.child(0));
    Add("ps_bike2", t1, b13.child(0));
    Add("ps_bike3", t0, a13.child(1));
    Add("ps_bike3", t1, b13.child(1));
  }

  void Add(const std::string& bike, absl::Time t, S2CellId cell14) {
    const uint64_t stored = cell14.child_begin(16).id();  // the stream keeps level 16
    const std::string token = transform::CellToken(transform::CellId{stored});
    StoredView v;
    v.time_us = absl::ToUnixMicros(t);
    v.cell = stored;
    v.pseudonym = bike;
    v.fields = {{"bike_id", bike},
                {"start_time", FormatTimestamp(t)},
                {"start_station", token},
                {"end_station", token},
                {"duration_s", 600}};
    source_.records.push_back(v);
  }

  const ViewMeasures* View(const DpiaReport& r, const std::string& agreement) {
    for (const ViewMeasures& v : r.views) {
      if (v.agreement == agreement) return &v;
    }
    return nullptr;
  }

  config::CityConfig config_;
  FakeSource source_;
  InsecureDeterministicRandomForTesting random_{11};
};

TEST_F(TripsDpiaTest, ReportsUnicityAndFlagsTheRecordsAgreement) {
  auto report = RunDpia(config_, *config_.FindStream("mobility.trips"), source_, random_,
                        absl::FromUnixSeconds(1767225600));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->records, 8);
  const ViewMeasures* records = View(*report, "transport-trips-records");
  ASSERT_NE(records, nullptr);
  EXPECT_EQ(records->generalisation, (Generalisation{absl::Minutes(15), 14}));
  ASSERT_TRUE(records->unicity_p2 && records->unicity_p4);
  // Bikes 2 and 3 are unique, 0 and 1 hide in each other.
  EXPECT_EQ(records->unicity_p2->eligible, 4);
  EXPECT_DOUBLE_EQ(records->unicity_p2->unicity, 0.5);
  EXPECT_EQ(records->unicity_p4->eligible, 0);  // no trace has 4 points
  // Quasi-identifiers start_time, start_station, end_station: classes of
  // 2, 2, 1, 1, 1, 1 records; with k = 2 four records are in small classes.
  ASSERT_TRUE(records->k_share.has_value());
  EXPECT_EQ(records->k_share->in_small_classes, 4);
  EXPECT_DOUBLE_EQ(records->k_share->share, 0.5);
  // Level 13 merges A with A' and B with B': p = 2 unicity 0.
  ASSERT_TRUE(records->recommended.has_value());
  EXPECT_EQ(*records->recommended, (Generalisation{absl::Minutes(15), 13}));
  EXPECT_EQ(records->recommended_p2->unicity, 0);
  // A high risk naming the agreement, first among the risks.
  ASSERT_FALSE(report->risks.empty());
  EXPECT_EQ(report->risks[0].severity, Severity::kHigh);
  bool named = false;
  for (const Risk& r : report->risks) {
    if (r.id == "unique-traces" && r.agreement == "transport-trips-records") {
      named = true;
      EXPECT_EQ(r.severity, Severity::kHigh);
      EXPECT_NE(r.mitigation.find("cell level 13"), std::string::npos) << r.mitigation;
    }
  }
  EXPECT_TRUE(named);
  const json j = ToJson(*report);
  EXPECT_EQ(j["inventory"]["subjects"]["field"], "bike_id");
  bool high = false;
  for (const json& m : j["measures"]) {
    if (m["agreement"] == "transport-trips-records") high = m["high_risk"].get<bool>();
  }
  EXPECT_TRUE(high);
  EXPECT_NE(ToMarkdown(*report).find("| agreement transport-trips-records |"),
            std::string::npos);
}

TEST_F(TripsDpiaTest, FinerCellsRaiseUnicity) {
  // Coarse enough (level 13) the agreement's traces all hide in a pair.
  for (config::Agreement& a : config_.agreements) {
    if (a.id == "transport-trips-records") a.cell_level = 13;
  }
  auto coarse = RunDpia(config_, *config_.FindStream("mobility.trips"), source_, random_,
                        absl::FromUnixSeconds(1767225600));
  ASSERT_TRUE(coarse.ok());
  EXPECT_EQ(View(*coarse, "transport-trips-records")->unicity_p2->unicity, 0);
  for (config::Agreement& a : config_.agreements) {
    if (a.id == "transport-trips-records") a.cell_level = 16;
  }
  auto fine = RunDpia(config_, *config_.FindStream("mobility.trips"), source_, random_,
                      absl::FromUnixSeconds(1767225600));
  ASSERT_TRUE(fine.ok());
  EXPECT_DOUBLE_EQ(View(*fine, "transport-trips-records")->unicity_p2->unicity, 0.5);
}

TEST_F(TripsDpiaTest, HostileConfigStringsAreEscapedInHtml) {
  config_.FindStream("mobility.trips");
  for (config::Stream& s : config_.streams) {
    if (s.id == "mobility.trips") s.description = "<script>alert(1)</script>";
  }
  auto report = RunDpia(config_, *config_.FindStream("mobility.trips"), source_, random_,
                        absl::FromUnixSeconds(1767225600));
  ASSERT_TRUE(report.ok());
  const std::string html = ToHtml(*report);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
}

TEST(DpiaNonPersonalTest, FootfallHasNoTracesAndNoSubjects) {
  auto config = config::LoadConfigFile(
      (std::filesystem::path(PRIVACITY_SOURCE_DIR) / "examples/demo-city/city.yaml")
          .string());
  ASSERT_TRUE(config.ok());
  FakeSource empty;
  InsecureDeterministicRandomForTesting random(1);
  auto report = RunDpia(*config, *config->FindStream("footfall.counts"), empty, random,
                        absl::FromUnixSeconds(1767225600));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->inventory["subjects"].is_null());
  ASSERT_EQ(report->views.size(), 1u);  // no records-level agreement
  EXPECT_FALSE(report->views[0].unicity_p2.has_value());
  for (const Risk& r : report->risks) EXPECT_NE(r.severity, Severity::kHigh) << r.id;
}

}  // namespace
}  // namespace privacity::dpia

namespace privacity::dpia {
namespace {

TEST(DpiaAlertLeafTest, EncodesValueAsShortestDecimal) {
  audit::DpiaAlertLeaf leaf;
  leaf.time = absl::FromUnixSeconds(1767225600);
  leaf.stream = "mobility.trips";
  leaf.measure = "unicity_p2";
  leaf.agreement = "transport-trips-records";
  leaf.value = 0.5;
  leaf.threshold = 0.05;
  auto encoded = audit::EncodeLeaf(leaf);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(
      *encoded,
      R"({"agreement":"transport-trips-records","measure":"unicity_p2",)"
      R"("stream":"mobility.trips","threshold":"0.05","time":"2026-01-01T00:00:00Z",)"
      R"("type":"dpia_alert","v":1,"value":"0.5"})");
  leaf.value = -1;
  EXPECT_FALSE(audit::EncodeLeaf(leaf).ok());
}

}  // namespace
}  // namespace privacity::dpia
