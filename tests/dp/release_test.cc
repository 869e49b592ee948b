// Public releases (server/release_view.h) and the DP routes over HTTP
// (server/release_routes.h): GET /v1/budget, POST /v1/admin/releases,
// /public/releases as JSON, CSV and GeoJSON; and the budget of the demo
// party uni-research through the HTTP API: five answers, five 429s, a free
// cached repeat, and eight racing threads that cannot overspend.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "audit/leaves.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/time_util.h"
#include "config/loader.h"
#include "gtest/gtest.h"
#include "ingest/ingester.h"
#include "nlohmann/json.hpp"
#include "s2/s2cell_id.h"
#include "s2/s2latlng.h"
#include "server/auth.h"
#include "server/release_view.h"
#include "server/routes.h"
#include "server/trust.h"

namespace privacity::server {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kDemo = fs::path(PRIVACITY_SOURCE_DIR) / "examples" / "demo-city";
constexpr char kFootfall[] = "footfall.counts";
constexpr char kMeters[] = "energy.meter_readings";

constexpr char kDailyPerCell[] =
    R"({"title":"Daily pedestrians per cell","stream":"footfall.counts",)"
    R"("metric":"sum","value":"count","lower":0,"upper":3000,)"
    R"("group_by":["time:1d","cell:14"],"from":"2014-01-01T00:00:00Z",)"
    R"("to":"2014-01-07T00:00:00Z","epsilon":1.0})";

class ReleaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/privacity-dp-release-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto config = config::LoadConfigFile((kDemo / "city.yaml").string());
    ASSERT_TRUE(config.ok()) << config.status();
    ASSERT_TRUE(Trust::Initialize(*config, dir_, clock_, random_).ok());
    auto trust = Trust::Open(*config, dir_, clock_, random_);
    ASSERT_TRUE(trust.ok()) << trust.status();
    trust_ = std::move(*trust);
    for (const char* stream : {kFootfall, kMeters}) {
      const std::string file = (kDemo / "data" /
                                (std::string(stream) +
                                 (std::string(stream) == kFootfall ? ".ndjson" : ".csv")))
                                   .string();
      auto summary = ingest::IngestFile(*trust_->config().FindStream(stream),
                                        trust_->store(), trust_->keyring(), random_,
                                        clock_, file, ingest::FileIngestOptions{});
      ASSERT_TRUE(summary.ok()) << summary.status();
      ASSERT_GT(summary->accepted, 0);
    }
    auto api = ApiService::Create(*trust_, ApiOptions{});
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(*api);
  }
  void TearDown() override {
    api_.reset();
    trust_.reset();
    fs::remove_all(dir_);
  }

  std::string Issue(const std::string& party, const std::string& stream = "") {
    auto issued = IssueToken(trust_->config(), trust_->store().tokens(), clock_, random_,
                             party, stream, "test");
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? issued->token : std::string();
  }

  HttpResponse Call(const std::string& method, const std::string& path,
                    const std::string& token = "", const std::string& body = "",
                    std::map<std::string, std::string> query = {}) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);
    request.body = body;
    if (!token.empty()) request.headers["authorization"] = "Bearer " + token;
    if (!body.empty()) request.headers["content-type"] = "application/json";
    return api_->Handle(request);
  }

  static std::string ErrorCode(const HttpResponse& r) {
    const json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }

  // The exact answer of kDailyPerCell, from the excerpt itself: the sum of
  // the counts, each clamped to [0, 3000], over the window.
  static double ExactFootfallSum() {
    std::ifstream in(kDemo / "data" / "footfall.counts.ndjson");
    std::string line;
    double total = 0;
    const absl::Time from =
        absl::FromCivil(absl::CivilDay(2014, 1, 1), absl::UTCTimeZone());
    const absl::Time to = from + absl::Hours(24 * 6);
    while (std::getline(in, line)) {
      const json r = json::parse(line);
      const absl::Time t = *ParseTimestamp(r["time"].get<std::string>());
      if (t < from || t >= to) continue;
      total += std::min(3000.0, std::max(0.0, r["count"].get<double>()));
    }
    return total;
  }

  std::string dir_;
  ManualClock clock_{absl::FromUnixSeconds(1767225600)};  // 2026-01-01
  CryptoRandom random_;
  std::unique_ptr<Trust> trust_;
  std::unique_ptr<ApiService> api_;
};

TEST_F(ReleaseTest, PublicReleaseCoversTheDeclaredAreaAndIsExact) {
  auto spec = ParseReleaseSpec(kDailyPerCell);
  ASSERT_TRUE(spec.ok()) << spec.status();
  dp::ZeroNoiseForTestingNotPrivate zero(random_);
  const uint64_t log_before = trust_->audit().log().head().size;
  auto r = PublishReleaseWithNoise(*trust_, *spec, zero);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->existing);
  const auto& body = r->body;
  EXPECT_EQ(body["stream"], kFootfall);
  EXPECT_EQ(body["epsilon"], 1.0);
  EXPECT_EQ(body["delta"], 0.0);
  EXPECT_EQ(body["bounds"]["upper"], 3000);
  EXPECT_EQ(body["method"]["partitions"], "public-domain");
  EXPECT_EQ(body["agreement"], "public-footfall-releases");
  EXPECT_EQ(body["unit_of_privacy"], "record");
  // Every (day, cell) of the area: six days times the same set of cells,
  // most of them without a sensor (released as zero here, noised for real).
  std::map<std::string, int> per_day;
  std::set<std::string> cells;
  double total = 0;
  int empty = 0;
  for (const auto& row : body["rows"]) {
    ++per_day[row["time:1d"].get<std::string>()];
    cells.insert(row["cell:14"].get<std::string>());
    total += row["sum"].get<double>();
    if (row["sum"] == 0) ++empty;
  }
  ASSERT_EQ(per_day.size(), 6u);
  for (const auto& [day, n] : per_day)
    EXPECT_EQ(n, static_cast<int>(cells.size())) << day;
  EXPECT_GT(cells.size(), 20u);
  EXPECT_GT(empty, 0);
  EXPECT_NEAR(total, ExactFootfallSum(), 1e-6);
  EXPECT_EQ(body["rows_count"], body["rows"].size());

  // A decision leaf and a release leaf of kind dp_public.
  const uint64_t log_after = trust_->audit().log().head().size;
  auto leaves = trust_->store().log().ReadEntries(log_before, log_after);
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  // Other leaves may come first (key_count of the keys made at ingest).
  json j;
  int releases = 0;
  for (const auto& l : *leaves) {
    const json leaf = json::parse(l.data);
    if (leaf["type"] == "release") {
      j = leaf;
      ++releases;
    }
  }
  ASSERT_EQ(releases, 1);
  EXPECT_EQ(j["type"], "release");
  EXPECT_EQ(j["kind"], "dp_public");
  EXPECT_EQ(j["release"], r->id);
  EXPECT_EQ(j["party"], "public");
  EXPECT_EQ(j["epsilon"], "1");
}

TEST_F(ReleaseTest, ChargedToThePublicBudgetAndRepeatsAreFree) {
  auto daily = ParseReleaseSpec(kDailyPerCell);
  ASSERT_TRUE(daily.ok());
  auto first = PublishRelease(*trust_, *daily);
  ASSERT_TRUE(first.ok()) << first.status();
  // The identical spec again: the same release, no charge, no new leaf.
  const uint64_t log_size = trust_->audit().log().head().size;
  auto again = PublishRelease(*trust_, *daily);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->existing);
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(again->body["rows"], first->body["rows"]);
  EXPECT_EQ(trust_->audit().log().head().size, log_size + 1);  // the decision only
  // 1.0 of the public agreement's 2.0 is spent: 0.8 more fits, 0.5 then not.
  ReleaseSpec hourly = *daily;
  hourly.title = "Hourly";
  hourly.query.group_by = {"time:1h"};
  hourly.query.epsilon = 0.8;
  ASSERT_TRUE(PublishRelease(*trust_, hourly).ok());
  hourly.query.group_by = {"time:1d"};
  hourly.query.epsilon = 0.5;
  auto over = PublishRelease(*trust_, hourly);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(over.status().message()).find("remaining epsilon 0.2"),
            std::string::npos)
      << over.status();
  auto list = ListReleases(*trust_);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)["releases"].size(), 2u);
  // A stream without a public agreement is denied.
  ReleaseSpec meters = *daily;
  meters.query.stream = kMeters;
  meters.query.group_by = {"time:1d"};
  meters.query.value = "energy_kwh";
  meters.query.upper = 5;
  EXPECT_EQ(PublishRelease(*trust_, meters).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(ReleaseTest, SpecsAreValidated) {
  auto expect = [](const std::string& body, const std::string& needle) {
    auto r = ParseReleaseSpecs(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(r.status().message()).find(needle), std::string::npos)
        << r.status().message();
  };
  expect("{", "malformed JSON");
  expect("[]", "empty");
  expect("7", "JSON object");
  expect(R"({"stream":"footfall.counts","metric":"count","epsilon":1})", "\"title\"");
  expect(R"({"title":"t","metric":"count","epsilon":1})", "\"stream\"");
  expect(R"({"title":"t","stream":"footfall.counts","metric":"count"})", "\"epsilon\"");
  expect(R"({"title":"a\nb","stream":"s","metric":"count","epsilon":1})",
         "control characters");
  expect(R"([{"title":"t","stream":"s","metric":"count","epsilon":1},{"title":"u"}])",
         "spec #2");
  expect(std::string(R"({"title":")") + std::string(300, 'x') +
             R"(","stream":"s","metric":"count","epsilon":1})",
         "longer than");
  auto ok =
      ParseReleaseSpecs(std::string("[") + kDailyPerCell + "," + kDailyPerCell + "]");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].query.party, "public");
  EXPECT_TRUE((*ok)[0].query.purpose.empty());  // the agreement's, when published
}

TEST_F(ReleaseTest, ServedAsJsonCsvAndGeoJson) {
  const std::string office = Issue("data-office");
  HttpResponse posted = Call("POST", "/v1/admin/releases", office, kDailyPerCell);
  ASSERT_EQ(posted.status, 201) << posted.body;
  const json summary = json::parse(posted.body);
  const std::string id = summary["id"];
  EXPECT_EQ(summary["links"]["csv"], "/public/releases/" + id + ".csv");
  EXPECT_EQ(Call("POST", "/v1/admin/releases", office, kDailyPerCell).status, 200);

  // Only a controller may publish.
  HttpResponse denied =
      Call("POST", "/v1/admin/releases", Issue("uni-research"), kDailyPerCell);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(ErrorCode(denied), "controller-required");
  EXPECT_EQ(Call("POST", "/v1/admin/releases", "", kDailyPerCell).status, 401);
  EXPECT_EQ(Call("POST", "/v1/admin/releases", office, "{nope").status, 400);
  EXPECT_EQ(Call("POST", "/v1/admin/releases", office,
                 R"({"title":"t","stream":"nowhere","metric":"count","epsilon":1})")
                .status,
            404);

  // Anyone lists and reads.
  HttpResponse list = Call("GET", "/public/releases");
  ASSERT_EQ(list.status, 200);
  const json releases = json::parse(list.body)["releases"];
  ASSERT_EQ(releases.size(), 1u);
  for (const char* key : {"id", "title", "stream", "metric", "group_by", "window",
                          "epsilon", "delta", "bounds", "method", "created"}) {
    EXPECT_TRUE(releases[0].contains(key)) << key;
  }
  EXPECT_FALSE(releases[0].contains("rows"));

  HttpResponse one = Call("GET", "/public/releases/" + id);
  ASSERT_EQ(one.status, 200);
  const json body = json::parse(one.body);
  const size_t rows = body["rows"].size();
  ASSERT_GT(rows, 0u);

  HttpResponse csv = Call("GET", "/public/releases/" + id + ".csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.content_type.rfind("text/csv", 0), 0u);
  EXPECT_EQ(Call("GET", "/public/releases/" + id, "", "", {{"format", "csv"}}).body,
            csv.body);
  std::vector<std::string> lines = absl::StrSplit(csv.body, "\r\n", absl::SkipEmpty());
  std::vector<std::string> meta, data;
  for (const std::string& l : lines) (l.rfind("# ", 0) == 0 ? meta : data).push_back(l);
  EXPECT_NE(csv.body.find("# epsilon: 1"), std::string::npos);
  EXPECT_NE(csv.body.find("# delta: 0"), std::string::npos);
  EXPECT_NE(csv.body.find("# bounds: {\"lower\":0"), std::string::npos);
  EXPECT_NE(csv.body.find("# method: "), std::string::npos);
  ASSERT_EQ(data.size(), rows + 1);
  EXPECT_EQ(data[0], "time:1d,cell:14,sum");

  HttpResponse geo = Call("GET", "/public/releases/" + id + ".geojson");
  ASSERT_EQ(geo.status, 200);
  EXPECT_EQ(geo.content_type, "application/geo+json");
  const json fc = json::parse(geo.body);
  EXPECT_EQ(fc["type"], "FeatureCollection");
  EXPECT_EQ(fc["epsilon"], 1.0);
  EXPECT_TRUE(fc.contains("method"));
  ASSERT_EQ(fc["features"].size(), rows);
  for (const json& f : fc["features"]) {
    const json& ring = f["geometry"]["coordinates"][0];
    ASSERT_EQ(ring.size(), 5u);
    EXPECT_EQ(ring[0], ring[4]);  // closed
    // The centroid is the cell's, inside the ring's box, in Melbourne.
    const S2CellId cell = S2CellId::FromToken(f["properties"]["cell:14"]);
    const S2LatLng c(cell.ToPoint());
    EXPECT_NEAR(f["properties"]["centroid"][0].get<double>(), c.lng().degrees(), 1e-9);
    EXPECT_NEAR(f["properties"]["centroid"][1].get<double>(), c.lat().degrees(), 1e-9);
    double min_lon = 999, max_lon = -999;
    for (const json& v : ring) {
      min_lon = std::min(min_lon, v[0].get<double>());
      max_lon = std::max(max_lon, v[0].get<double>());
    }
    EXPECT_LT(min_lon, c.lng().degrees());
    EXPECT_GT(max_lon, c.lng().degrees());
    EXPECT_NEAR(c.lat().degrees(), -37.81, 0.05);
  }
  EXPECT_EQ(Call("GET", "/public/releases/" + id, "", "", {{"format", "xml"}}).status,
            400);
  EXPECT_EQ(
      Call("GET", "/public/releases/" + id + ".csv", "", "", {{"format", "geojson"}})
          .status,
      400);
  EXPECT_EQ(Call("GET", "/public/releases/rel-nothing-here").status, 404);
}

TEST_F(ReleaseTest, BudgetRouteShowsEachAgreementOfTheParty) {
  const std::string research = Issue("uni-research");
  EXPECT_EQ(Call("GET", "/v1/budget").status, 401);
  EXPECT_EQ(Call("GET", "/v1/budget", Issue("energy-utility", kMeters)).status, 403);
  const std::string path = std::string("/v1/streams/") + kMeters + "/aggregate";
  ASSERT_EQ(Call("POST", path, research,
                 R"({"purpose":"research","metric":"count","group_by":["time:1d"],)"
                 R"("from":"2013-01-01T00:00:00Z","to":"2013-01-08T00:00:00Z",)"
                 R"("epsilon":0.3})")
                .status,
            200);
  HttpResponse r = Call("GET", "/v1/budget", research);
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  EXPECT_EQ(j["party"], "uni-research");
  // Every agreement of the party with a budget is listed; find the meter one.
  auto it = std::find_if(j["budgets"].begin(), j["budgets"].end(), [](const json& x) {
    return x["agreement"] == "research-meter-aggregate";
  });
  ASSERT_NE(it, j["budgets"].end()) << r.body;
  const json& b = *it;
  EXPECT_EQ(b["agreement"], "research-meter-aggregate");
  EXPECT_EQ(b["cap"]["epsilon"], 1.0);
  EXPECT_EQ(b["cap"]["period"], "30d");
  EXPECT_NEAR(b["spent"]["epsilon"].get<double>(), 0.3, 1e-12);
  EXPECT_EQ(b["spent"]["rho"], 0.0);
  EXPECT_NEAR(b["remaining"]["epsilon"].get<double>(), 0.7, 1e-12);
  const absl::Time start = *ParseTimestamp(b["period"]["start"].get<std::string>());
  const absl::Time end = *ParseTimestamp(b["period"]["end"].get<std::string>());
  EXPECT_LE(start, clock_.Now());
  EXPECT_GT(end, clock_.Now());
  EXPECT_EQ(end - start, absl::Hours(24 * 30));
  // The transport department has two budgets' worth of agreements.
  const json t = json::parse(Call("GET", "/v1/budget", Issue("transport-dept")).body);
  EXPECT_GE(t["budgets"].size(), 1u);
}

// The issue's budget scenario over HTTP: uni-research (epsilon 1.0 per 30
// days) asks ten different queries at epsilon 0.2 and gets five answers and
// five 429s naming what remains; the first query again is free and the same.
TEST_F(ReleaseTest, TenQueriesFiveAnswersFive429sAndAFreeRepeat) {
  const std::string research = Issue("uni-research");
  const std::string path = std::string("/v1/streams/") + kMeters + "/aggregate";
  auto body = [](int i) {
    return absl::StrFormat(
        R"({"purpose":"research","metric":"count","group_by":["time:1d"],)"
        R"("from":"2013-01-01T00:00:00Z","to":"2013-01-%02dT00:00:00Z","epsilon":0.2})",
        2 + i);
  };
  int ok = 0, refused = 0;
  json first;
  for (int i = 0; i < 10; ++i) {
    HttpResponse r = Call("POST", path, research, body(i));
    if (r.status == 200) {
      if (ok++ == 0) first = json::parse(r.body);
    } else {
      ASSERT_EQ(r.status, 429) << r.body;
      EXPECT_NE(r.body.find("remaining epsilon 0"), std::string::npos) << r.body;
      ++refused;
    }
  }
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(refused, 5);
  HttpResponse again = Call("POST", path, research, body(0));
  ASSERT_EQ(again.status, 200) << again.body;
  const json a = json::parse(again.body);
  EXPECT_EQ(a["cached"], true);
  EXPECT_EQ(a["charged"]["epsilon"], 0.0);
  EXPECT_EQ(a["rows"], first["rows"]);
  EXPECT_EQ(a["release_id"], first["release_id"]);
}

TEST_F(ReleaseTest, EightRacingThreadsCannotOverspend) {
  const std::string research = Issue("uni-research");
  const std::string path = std::string("/v1/streams/") + kMeters + "/aggregate";
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2; ++i) {
        const std::string b = absl::StrFormat(
            R"({"purpose":"research","metric":"count","group_by":["time:1d"],)"
            R"("from":"2013-01-01T00:00:00Z","to":"2013-01-%02dT%02d:00:00Z",)"
            R"("epsilon":0.2})",
            2 + t, i);
        const int status = Call("POST", path, research, b).status;
        (status == 200 ? ok : status == 429 ? refused : other)++;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ok.load(), 5);
  EXPECT_EQ(refused.load(), 11);
  const json j = json::parse(Call("GET", "/v1/budget", research).body);
  EXPECT_LE(j["budgets"][0]["spent"]["epsilon"].get<double>(), 1.0 + 1e-9);
}

}  // namespace
}  // namespace privacity::server
