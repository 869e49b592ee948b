// The core routes, called through ApiService::Handle without a network.
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "demo_trust.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/routes.h"

namespace privacity::server {
namespace {

using nlohmann::json;

constexpr char kMeters[] = "energy.meter_readings";

class ApiTest : public DemoTrustTest {
 protected:
  void SetUp() override {
    DemoTrustTest::SetUp();
    if (HasFatalFailure()) return;
    auto api = ApiService::Create(*trust_, ApiOptions{});
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(*api);
  }

  HttpResponse Call(const std::string& method, const std::string& path,
                    const std::string& token = "", const std::string& body = "",
                    std::map<std::string, std::string> query = {},
                    const std::string& content_type = "application/x-ndjson") {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);
    request.body = body;
    if (!token.empty()) request.headers["authorization"] = "Bearer " + token;
    if (!body.empty()) request.headers["content-type"] = content_type;
    return api_->Handle(request);
  }

  static std::string ErrorCode(const HttpResponse& r) {
    return json::parse(r.body)["error"]["code"].get<std::string>();
  }
  static std::string ErrorMessage(const HttpResponse& r) {
    return json::parse(r.body)["error"]["message"].get<std::string>();
  }
  static std::vector<json> Rows(const HttpResponse& r) {
    std::vector<json> rows;
    for (absl::string_view line : absl::StrSplit(r.body, '\n', absl::SkipEmpty())) {
      rows.push_back(json::parse(std::string(line)));
    }
    return rows;
  }
  static std::string HeaderOf(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  std::string RecordsPath() const {
    return std::string("/v1/streams/") + kMeters + "/records";
  }

  std::unique_ptr<ApiService> api_;
};

TEST_F(ApiTest, PostWithoutTokenIs401WithChallenge) {
  HttpResponse r = Call("POST", RecordsPath(), "", MeterNdjson(1));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorCode(r), "unauthenticated");
  EXPECT_EQ(HeaderOf(r, "WWW-Authenticate"), "Bearer");
}

TEST_F(ApiTest, BadTokensAre401) {
  EXPECT_EQ(Call("GET", RecordsPath(), "pvt_short").status, 401);
  // Well-formed but never issued.
  EXPECT_EQ(Call("GET", RecordsPath(), "pvt_" + std::string(43, 'A')).status, 401);
  HttpRequest basic;
  basic.method = "GET";
  basic.path = RecordsPath();
  basic.headers["authorization"] = "Basic dXNlcjpwYXNz";
  EXPECT_EQ(api_->Handle(basic).status, 401);
}

TEST_F(ApiTest, SensorTokenIngestsWithPerRecordErrors) {
  const std::string token = Issue("energy-utility", kMeters);
  std::string body = MeterNdjson(2);
  body +=
      "{\"LCLid\":\"MAC000003\",\"tstp\":\"2025-06-01T03:00:00Z\",\"energy(kWh/"
      "hh)\":\"x\"}\n";
  body += "{not json\n";
  HttpResponse r = Call("POST", RecordsPath(), token, body);
  ASSERT_EQ(r.status, 200) << r.body;
  json summary = json::parse(r.body);
  EXPECT_EQ(summary["accepted"], 2);
  EXPECT_EQ(summary["rejected"], 2);
  ASSERT_EQ(summary["errors"].size(), 2u);
  EXPECT_EQ(summary["errors"][0]["line"], 3);
  EXPECT_EQ(summary["errors"][1]["line"], 4);
  // No value of the bad records is echoed.
  EXPECT_EQ(r.body.find("MAC000003"), std::string::npos);
  auto stored = trust_->store().CountRecords(kMeters);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, 2);
}

TEST_F(ApiTest, JsonArrayBodyIsAccepted) {
  const std::string token = Issue("energy-utility", kMeters);
  const std::string body =
      R"J([{"LCLid":"MAC000009","tstp":"2025-06-01T00:00:00Z","energy(kWh/hh)":0.5},)J"
      R"J({"LCLid":"MAC000009","tstp":"2025-06-01T00:30:00Z","energy(kWh/hh)":0.25}])J";
  HttpResponse r = Call("POST", RecordsPath(), token, body, {}, "application/json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["accepted"], 2);
}

TEST_F(ApiTest, AllBadBodyIs422WithSummary) {
  const std::string token = Issue("energy-utility", kMeters);
  HttpResponse r =
      Call("POST", RecordsPath(), token, "{\"LCLid\":\"MAC1\"}\n{\"x\":1}\n");
  ASSERT_EQ(r.status, 422) << r.body;
  json summary = json::parse(r.body);
  EXPECT_EQ(summary["accepted"], 0);
  EXPECT_EQ(summary["rejected"], 2);
}

TEST_F(ApiTest, MalformedJsonArrayIs400) {
  const std::string token = Issue("energy-utility", kMeters);
  HttpResponse r =
      Call("POST", RecordsPath(), token, "[{\"LCLid\": ", {}, "application/json");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrorCode(r), "malformed-json") << r.body;
  EXPECT_NE(ErrorMessage(r).find("byte 12"), std::string::npos) << r.body;
  // NDJSON where no line is JSON: the offset counts from the body's start.
  HttpResponse nd = Call("POST", RecordsPath(), token, "{\"a\":1}x\n{oops\n");
  EXPECT_EQ(nd.status, 400) << nd.body;
  EXPECT_NE(ErrorMessage(nd).find("byte 8"), std::string::npos) << nd.body;
}

TEST_F(ApiTest, EmptyBodyAndWrongContentType) {
  const std::string token = Issue("energy-utility", kMeters);
  HttpRequest request;
  request.method = "POST";
  request.path = RecordsPath();
  request.headers["authorization"] = "Bearer " + token;
  HttpResponse empty = api_->Handle(request);
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(ErrorCode(empty), "empty-body");
  HttpResponse xml = Call("POST", RecordsPath(), token, "<a/>", {}, "application/xml");
  EXPECT_EQ(xml.status, 415);
}

TEST_F(ApiTest, SensorTokenOnAnotherStreamIs403) {
  const std::string token = Issue("transport-dept", "traffic.anpr");
  HttpResponse r = Call("POST", RecordsPath(), token, MeterNdjson(1));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "wrong-stream");
  EXPECT_EQ(*trust_->store().CountRecords(kMeters), 0);
}

TEST_F(ApiTest, PartyTokenCannotPushAndSensorTokenCannotRead) {
  const std::string party = Issue("energy-utility");
  EXPECT_EQ(Call("POST", RecordsPath(), party, MeterNdjson(1)).status, 403);
  const std::string sensor = Issue("energy-utility", kMeters);
  HttpResponse r = Call("GET", RecordsPath(), sensor, "", {{"purpose", "grid-planning"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "party-token-required");
}

TEST_F(ApiTest, UnknownStreamIs404WithoutEchoingThePath) {
  const std::string token = Issue("energy-utility");
  const std::string hostile = "<img src=x onerror=alert(1)>\xff";
  HttpResponse r = Call("GET", "/v1/streams/" + hostile + "/records", token, "",
                        {{"purpose", "grid-planning"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorCode(r), "unknown-stream");
  EXPECT_EQ(r.body.find("onerror"), std::string::npos);
  EXPECT_TRUE(json::accept(r.body));
  EXPECT_EQ(Call("GET", "/nowhere/" + hostile, token).status, 404);
  HttpResponse slash = Call("GET", "/v1/streams/a</script>/records", token);
  EXPECT_EQ(slash.status, 404);
  EXPECT_EQ(slash.body.find("script"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/streams//records", token).status, 404);
}

TEST_F(ApiTest, RevokedTokenIs401) {
  auto issued = IssueToken(trust_->config(), trust_->store().tokens(), clock_, random_,
                           "energy-utility", "", "");
  ASSERT_TRUE(issued.ok());
  HttpResponse ok =
      Call("GET", RecordsPath(), issued->token, "", {{"purpose", "grid-planning"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  ASSERT_TRUE(trust_->store().tokens().RevokeToken(issued->id, 1).ok());
  HttpResponse r =
      Call("GET", RecordsPath(), issued->token, "", {{"purpose", "grid-planning"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(ErrorMessage(r).find("revoked"), std::string::npos);
}

TEST_F(ApiTest, IngestedRecordsReadBackAsPartyWithCursor) {
  const std::string sensor = Issue("energy-utility", kMeters);
  ASSERT_EQ(Call("POST", RecordsPath(), sensor, MeterNdjson(5)).status, 200);
  const std::string party = Issue("energy-utility");

  HttpResponse all =
      Call("GET", RecordsPath(), party, "", {{"purpose", "grid-planning"}});
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.content_type, "application/x-ndjson");
  std::vector<json> rows = Rows(all);
  ASSERT_EQ(rows.size(), 5u);
  for (const json& row : rows) {
    EXPECT_TRUE(row.contains("id"));
    EXPECT_TRUE(row.contains("energy_kwh"));
    // The meter id leaves only as a pseudonym.
    EXPECT_EQ(row.dump().find("MAC000002"), std::string::npos);
  }
  EXPECT_EQ(HeaderOf(all, "X-Next-Cursor"), "");

  std::set<int64_t> seen;
  std::map<std::string, std::string> query = {{"purpose", "grid-planning"},
                                              {"limit", "2"}};
  for (int page = 0; page < 5; ++page) {
    HttpResponse r = Call("GET", RecordsPath(), party, "", query);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const json& row : Rows(r))
      EXPECT_TRUE(seen.insert(row["id"].get<int64_t>()).second);
    const std::string next = HeaderOf(r, "X-Next-Cursor");
    if (next.empty()) break;
    const std::string link = HeaderOf(r, "Link");
    EXPECT_NE(link.find("cursor=" + next), std::string::npos) << link;
    EXPECT_NE(link.find("rel=\"next\""), std::string::npos) << link;
    EXPECT_NE(link.find("purpose=grid-planning"), std::string::npos) << link;
    query["cursor"] = next;
  }
  EXPECT_EQ(seen.size(), 5u);
}

TEST_F(ApiTest, DenialsCarryTheReasonCode) {
  const std::string transport = Issue("transport-dept");
  HttpResponse r =
      Call("GET", RecordsPath(), transport, "", {{"purpose", "grid-planning"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "no-agreement");
  const std::string utility = Issue("energy-utility");
  EXPECT_EQ(
      ErrorCode(Call("GET", RecordsPath(), utility, "", {{"purpose", "marketing"}})),
      "purpose-prohibited");
  EXPECT_EQ(ErrorCode(Call("GET", RecordsPath(), utility, "", {{"purpose", "nope"}})),
            "unknown-purpose");
}

TEST_F(ApiTest, BadReadParametersAre400) {
  const std::string party = Issue("energy-utility");
  EXPECT_EQ(ErrorCode(Call("GET", RecordsPath(), party)), "missing-purpose");
  for (auto [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"limit", "0"},
                                                        {"limit", "10001"},
                                                        {"limit", "x"},
                                                        {"after", "-1"},
                                                        {"from", "yesterday"},
                                                        {"to", "2025-13-01"}}) {
    HttpResponse r = Call("GET", RecordsPath(), party, "",
                          {{"purpose", "grid-planning"}, {name, value}});
    EXPECT_EQ(r.status, 400) << name << "=" << value;
    EXPECT_NE(ErrorMessage(r).find(name), std::string::npos);
  }
}

TEST_F(ApiTest, PublicRoutesNeedNoToken) {
  HttpResponse streams = Call("GET", "/public/streams");
  ASSERT_EQ(streams.status, 200);
  json s = json::parse(streams.body);
  bool found = false;
  for (const json& stream : s["streams"]) {
    if (stream["id"] != kMeters) continue;
    found = true;
    EXPECT_EQ(stream["personal"], true);
    EXPECT_EQ(stream["subject_field"], "meter_id");
    EXPECT_EQ(stream["retention"], "2y");
    ASSERT_FALSE(stream["fields"].empty());
    EXPECT_EQ(stream["fields"][0]["category"], "subject-identifier");
    EXPECT_EQ(stream["fields"][0]["transforms"][0]["kind"], "pseudonymize");
    EXPECT_FALSE(stream["purposes"].empty());
  }
  EXPECT_TRUE(found);

  json agreements = json::parse(Call("GET", "/public/agreements").body)["agreements"];
  bool utility = false;
  for (const json& a : agreements) {
    if (a["id"] != "utility-meter-records") continue;
    utility = true;
    EXPECT_EQ(a["party"], "energy-utility");
    EXPECT_EQ(a["level"], "records");
    EXPECT_EQ(a["duties"]["no_onward_sharing"], true);
    EXPECT_EQ(a["time_granularity"], "1h");
  }
  EXPECT_TRUE(utility);

  json reg = json::parse(Call("GET", "/public/register").body);
  EXPECT_FALSE(reg["sensors"].empty());
  HttpResponse geo = Call("GET", "/public/register", "", "", {{"format", "geojson"}});
  EXPECT_EQ(geo.content_type, "application/geo+json");
  json g = json::parse(geo.body);
  EXPECT_EQ(g["type"], "FeatureCollection");
  EXPECT_EQ(g["features"].size(), reg["sensors"].size());
  HttpRequest accept;
  accept.method = "GET";
  accept.path = "/public/register";
  accept.headers["accept"] = "application/geo+json";
  EXPECT_EQ(api_->Handle(accept).content_type, "application/geo+json");
}

TEST_F(ApiTest, HealthzAndMetrics) {
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  const std::string sensor = Issue("energy-utility", kMeters);
  std::string body = MeterNdjson(3) + "{}\n";
  ASSERT_EQ(Call("POST", RecordsPath(), sensor, body).status, 200);
  Call("GET", "/v1/streams/x/records");  // 401
  HttpResponse m = Call("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.content_type.rfind("text/plain", 0), 0u);
  const std::string& t = m.body;
  EXPECT_NE(t.find("privacity_http_requests_total{method=\"GET\",route=\"/"
                   "healthz\",status=\"200\"} 1"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("privacity_http_requests_total{method=\"GET\",route=\"/v1/streams/"
                   "{stream}/records\",status=\"401\"} 1"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("privacity_ingest_records_total{stream=\"energy.meter_readings\","
                   "outcome=\"accepted\"} 3"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("privacity_ingest_records_total{stream=\"energy.meter_readings\","
                   "outcome=\"rejected\"} 1"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("privacity_store_records{stream=\"energy.meter_readings\"} 3"),
            std::string::npos);
  EXPECT_NE(t.find("privacity_http_request_duration_seconds_bucket{route=\"/"
                   "healthz\",le=\"+Inf\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace privacity::server

namespace privacity::server {
namespace {

using AggregateLogApiTest = ApiTest;

TEST_F(AggregateLogApiTest, AggregateIsChargedDeniedOrRefusedOverBudget) {
  const std::string research = Issue("uni-research");
  const std::string path = std::string("/v1/streams/") + kMeters + "/aggregate";
  const std::string body =
      R"({"purpose":"research","metric":"count","group_by":["time:1d"],)"
      R"("from":"2013-01-01T00:00:00Z","to":"2013-01-08T00:00:00Z","epsilon":0.6})";
  HttpResponse first = Call("POST", path, research, body, {}, "application/json");
  ASSERT_EQ(first.status, 200) << first.body;
  json answer = json::parse(first.body);
  EXPECT_TRUE(answer.contains("charged")) << first.body;
  EXPECT_TRUE(answer.contains("remaining")) << first.body;
  // The same query again is the cached answer, at no cost.
  HttpResponse again = Call("POST", path, research, body, {}, "application/json");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(json::parse(again.body)["rows"], answer["rows"]);
  // Another query would exceed the 1.0 budget.
  std::string other = body;
  other.replace(other.find("2013-01-08"), 10, "2013-01-09");
  HttpResponse over = Call("POST", path, research, other, {}, "application/json");
  EXPECT_EQ(over.status, 429) << over.body;
  // No aggregate agreement, malformed bodies, sensor tokens.
  EXPECT_EQ(ErrorCode(Call("POST", path, Issue("transport-dept"), body, {},
                           "application/json")),
            "no-agreement");
  EXPECT_EQ(Call("POST", path, research, "{not json", {}, "application/json").status,
            400);
  EXPECT_EQ(Call("POST", path, research,
                 R"({"purpose":"research","metric":"count","epsilon":"x"})", {},
                 "application/json")
                .status,
            400);
  EXPECT_EQ(
      Call("POST", path, Issue("energy-utility", kMeters), body, {}, "application/json")
          .status,
      403);
}

TEST_F(AggregateLogApiTest, IngestOverHttpIsLoggedAndTheLogIsServed) {
  const uint64_t before = trust_->audit().log().head().size;
  const std::string sensor = Issue("energy-utility", kMeters);
  ASSERT_EQ(Call("POST", RecordsPath(), sensor, MeterNdjson(3)).status, 200);
  // One ingest leaf, with the key events of the batch: the epoch's new
  // pseudonym key and the count of new subject data keys.
  ASSERT_TRUE(trust_->audit().Checkpoint().ok());
  const uint64_t after = trust_->audit().log().head().size;
  auto added = trust_->audit().storage().ReadEntries(before, after);
  ASSERT_TRUE(added.ok());
  std::multiset<std::string> types;
  for (const auto& e : *added) {
    types.insert(nlohmann::json::parse(e.data)["type"].get<std::string>());
  }
  EXPECT_EQ(types,
            (std::multiset<std::string>{"ingest_batch", "key_count", "key_event"}));

  HttpResponse checkpoint = Call("GET", "/log/checkpoint");
  ASSERT_EQ(checkpoint.status, 200) << checkpoint.body;
  EXPECT_NE(checkpoint.body.find(absl::StrCat("\n", after, "\n")), std::string::npos)
      << checkpoint.body;
  EXPECT_EQ(Call("GET", "/log/key").status, 200);
  HttpResponse tile = Call("GET", "/log/tile/entries/000.p/" + std::to_string(after));
  EXPECT_EQ(tile.status, 200) << tile.body;
  HttpResponse proof = Call("GET", "/log/proof/inclusion", "", "", {{"index", "0"}});
  EXPECT_EQ(proof.status, 200) << proof.body;
  EXPECT_EQ(Call("GET", "/log/tile/not/a/tile").status, 400);
}

}  // namespace
}  // namespace privacity::server
