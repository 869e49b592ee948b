// The aggregate view on the demo city: parsing, decisions, consent, exact
// answers with the zero-noise fake, and the budget of uni-research's
// research agreement (epsilon 1.0 per 30 days).
#include "server/aggregate_view.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "gtest/gtest.h"
#include "ingest/ingester.h"
#include "server/trust.h"
#include "transform/pipeline.h"

namespace privacity::server {
namespace {

namespace fs = std::filesystem;

const fs::path kDemo = fs::path(PRIVACITY_SOURCE_DIR) / "examples" / "demo-city";

TEST(ParseAggregateRequestTest, AcceptsTheDocumentedShape) {
  auto r = ParseAggregateRequest(
      R"({"purpose":"research","metric":"count","group_by":["time:1d"],)"
      R"("from":"2013-01-01T00:00:00Z","to":"2013-02-01T00:00:00Z","epsilon":0.2})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->purpose, "research");
  EXPECT_EQ(r->metric, dp::Metric::kCount);
  EXPECT_EQ(r->group_by, std::vector<std::string>{"time:1d"});
  EXPECT_EQ(r->epsilon, 0.2);
  ASSERT_TRUE(r->from.has_value());
  auto g = ParseAggregateRequest(
      R"({"purpose":"p","metric":"mean","value":"v","lower":0,"upper":2,"epsilon":1,)"
      R"("delta":1e-6,"mechanism":"gaussian","max_partitions":3,"max_records_per_partition":4})");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->mechanism, dp::Mechanism::kGaussian);
  EXPECT_EQ(g->max_partitions, 3);
  EXPECT_EQ(*g->upper, 2);
}

TEST(ParseAggregateRequestTest, RejectsBadInputWithClearErrors) {
  auto expect = [](const std::string& body, const std::string& needle) {
    auto r = ParseAggregateRequest(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(r.status().message()).find(needle), std::string::npos)
        << r.status().message();
  };
  expect(R"({"purpose":)", "malformed JSON");
  expect(R"([1,2])", "must be a JSON object");
  expect(R"({"purpose":"r","metric":"count","epsilon":"0.2"})",
         "\"epsilon\" must be a number");
  expect(R"({"purpose":"r","metric":"median","epsilon":0.2})",
         "\"metric\" is not one of");
  expect(R"({"purpose":"r","metric":"count","epsilon":0.2,"colour":1})", "unknown key");
  expect(R"({"purpose":"r","metric":"count","epsilon":0.2,"from":"yesterday"})",
         "\"from\"");
  expect(R"({"purpose":"r","metric":"count","epsilon":0.2,"group_by":"time:1d"})",
         "\"group_by\"");
  expect(R"({"purpose":"r","metric":"count","epsilon":0.2,"mechanism":"cauchy"})",
         "\"mechanism\"");
  expect(R"({"purpose":"r","metric":"count","epsilon":0.2,"max_partitions":1.5})",
         "integer");
  expect(R"({"metric":"count","epsilon":0.2})", "\"purpose\" is required");
  expect(R"({"purpose":"r","epsilon":0.2})", "\"metric\" is required");
  expect(R"({"purpose":"r","metric":"count"})", "\"epsilon\" is required");
}

class AggregateViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/privacity-dp-view-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto config = config::LoadConfigFile((kDemo / "city.yaml").string());
    ASSERT_TRUE(config.ok()) << config.status();
    ASSERT_TRUE(Trust::Initialize(*config, dir_, clock_, random_).ok());
    auto trust = Trust::Open(*config, dir_, clock_, random_);
    ASSERT_TRUE(trust.ok()) << trust.status();
    trust_ = std::move(*trust);
    auto summary = ingest::IngestFile(
        *trust_->config().FindStream("energy.meter_readings"), trust_->store(),
        trust_->keyring(), random_, clock_,
        (kDemo / "data/energy.meter_readings.csv").string(), ingest::FileIngestOptions{});
    ASSERT_TRUE(summary.ok()) << summary.status();
    ASSERT_EQ(summary->accepted, 3360);
  }
  void TearDown() override {
    trust_.reset();
    fs::remove_all(dir_);
  }

  void Consent(const std::string& meter, store::ConsentState state) {
    auto indexer = transform::SubjectIndexer::Create(trust_->keyring());
    ASSERT_TRUE(indexer.ok());
    store::ConsentEvent e;
    e.blind_index = (*indexer)->BlindIndex(meter);
    e.purpose = "research";
    e.state = state;
    e.time = clock_.Now();
    e.source = "portal";
    ASSERT_TRUE(trust_->store().AppendConsentEvent(e).ok());
  }

  AggregateRequest DailyCount() {
    AggregateRequest r;
    r.party = "uni-research";
    r.purpose = "research";
    r.stream = "energy.meter_readings";
    r.metric = dp::Metric::kCount;
    r.group_by = {"time:1d"};
    r.from = absl::FromCivil(absl::CivilDay(2013, 1, 1), absl::UTCTimeZone());
    r.to = absl::FromCivil(absl::CivilDay(2013, 1, 15), absl::UTCTimeZone());
    r.epsilon = 0.2;
    r.max_partitions = 14;
    r.max_records_per_partition = 48;
    return r;
  }

  std::string dir_;
  ManualClock clock_{absl::FromUnixSeconds(1767225600)};  // 2026-01-01
  CryptoRandom random_;
  std::unique_ptr<Trust> trust_;
};

TEST_F(AggregateViewTest, OnlyConsentingSubjectsCount) {
  Consent("MAC000002", store::ConsentState::kGranted);
  Consent("MAC000003", store::ConsentState::kGranted);
  Consent("MAC000004", store::ConsentState::kGranted);
  Consent("MAC000004", store::ConsentState::kWithdrawn);  // latest wins
  dp::ZeroNoiseForTestingNotPrivate zero(random_);
  auto r = RunAggregateWithNoise(*trust_, DailyCount(), zero);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->decision.permitted());
  EXPECT_EQ(r->withheld, 3 * 672);
  const auto& rows = r->answer["rows"];
  ASSERT_EQ(rows.size(), 14u);
  EXPECT_EQ(rows[0]["time:1d"], "2013-01-01T00:00:00Z");
  for (const auto& row : rows) EXPECT_EQ(row["count"], 2 * 48) << row.dump();
  EXPECT_EQ(r->charged.epsilon, 0.2);
  EXPECT_NEAR(r->remaining.epsilon, 0.8, 1e-9);

  // Distinct subjects per day, and the mean reading within the bounds.
  AggregateRequest d = DailyCount();
  d.metric = dp::Metric::kDistinctSubjects;
  auto dr = RunAggregateWithNoise(*trust_, d, zero);
  ASSERT_TRUE(dr.ok()) << dr.status();
  for (const auto& row : dr->answer["rows"]) EXPECT_EQ(row["distinct_subjects"], 2);
  AggregateRequest m = DailyCount();
  m.metric = dp::Metric::kMean;
  m.value = "energy_kwh";
  auto mr = RunAggregateWithNoise(*trust_, m, zero);
  ASSERT_TRUE(mr.ok()) << mr.status();
  for (const auto& row : mr->answer["rows"]) {
    EXPECT_GT(row["mean"].get<double>(), 0);
    EXPECT_LT(row["mean"].get<double>(), 10);
  }
  EXPECT_EQ(mr->answer["lower"], 0);
  EXPECT_EQ(mr->answer["upper"], 10);
}

TEST_F(AggregateViewTest, BoundingAppliesInsideTheView) {
  Consent("MAC000002", store::ConsentState::kGranted);
  dp::ZeroNoiseForTestingNotPrivate zero(random_);
  AggregateRequest r = DailyCount();
  r.max_partitions = 2;
  r.max_records_per_partition = 5;
  auto res = RunAggregateWithNoise(*trust_, r, zero);
  ASSERT_TRUE(res.ok()) << res.status();
  int64_t total = 0;
  for (const auto& row : res->answer["rows"]) total += row["count"].get<int64_t>();
  EXPECT_EQ(total, 2 * 5);  // 672 records of one meter move the count by L0*Linf
}

TEST_F(AggregateViewTest, BudgetFiveAnswersThenRefusalsAndCachedRepeat) {
  Consent("MAC000002", store::ConsentState::kGranted);
  std::vector<AggregateRequest> queries;
  for (int i = 0; i < 10; ++i) {
    AggregateRequest q = DailyCount();
    q.to = *q.to - absl::Hours(24 * i);  // ten different queries
    queries.push_back(q);
  }
  int answered = 0, refused = 0;
  nlohmann::ordered_json first;
  for (const AggregateRequest& q : queries) {
    auto r = RunAggregate(*trust_, q);
    if (r.ok()) {
      ASSERT_TRUE(r->decision.permitted());
      EXPECT_FALSE(r->cached);
      if (answered == 0) first = r->answer;
      ++answered;
    } else {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
      EXPECT_NE(std::string(r.status().message()).find("remaining epsilon"),
                std::string::npos);
      ++refused;
    }
  }
  EXPECT_EQ(answered, 5);
  EXPECT_EQ(refused, 5);
  auto again = RunAggregate(*trust_, queries[0]);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->cached);
  EXPECT_EQ(again->charged.epsilon, 0);
  EXPECT_EQ(again->answer["rows"], first["rows"]);
  EXPECT_NEAR(again->remaining.epsilon, 0, 1e-9);
  EXPECT_EQ(again->ToJson()["cached"], true);
}

TEST_F(AggregateViewTest, DenialsAreResultsNotErrors) {
  AggregateRequest r = DailyCount();
  r.party = "nobody";
  auto res = RunAggregate(*trust_, r);
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_FALSE(res->decision.permitted());
  EXPECT_EQ(res->ToJson()["reason"], "unknown-party");
  r = DailyCount();
  r.purpose = "marketing";
  res = RunAggregate(*trust_, r);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->ToJson()["reason"], "purpose-prohibited");
}

TEST_F(AggregateViewTest, InvalidQueriesAreInvalidArgument) {
  AggregateRequest r = DailyCount();
  r.metric = dp::Metric::kSum;
  r.value = "energy_kwh";
  r.upper = 50;  // beyond the declared max of 10
  EXPECT_EQ(RunAggregate(*trust_, r).status().code(), absl::StatusCode::kInvalidArgument);
  r = DailyCount();
  r.group_by = {"time:fortnightly"};
  EXPECT_EQ(RunAggregate(*trust_, r).status().code(), absl::StatusCode::kInvalidArgument);
  // The agreement's delta is 0: Gaussian noise cannot fit the cap.
  r = DailyCount();
  r.mechanism = dp::Mechanism::kGaussian;
  r.delta = 1e-6;
  EXPECT_EQ(RunAggregate(*trust_, r).status().code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace privacity::server
