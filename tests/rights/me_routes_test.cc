// The citizen routes (/v1/me/...), called through ApiService::Handle
// without a network, over the demo city.
#include "server/me_routes.h"

#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rights/claim.h"
#include "rights_test_util.h"
#include "server/auth.h"
#include "server/routes.h"

namespace privacity::rights {
namespace {

using nlohmann::json;
using server::HttpRequest;
using server::HttpResponse;

constexpr char kMeters[] = "energy.meter_readings";

class MeRoutesTest : public testing::DemoTrustTest {
 protected:
  void SetUp() override {
    DemoTrustTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_EQ(IngestMeters(), 3360);
    auto api = server::ApiService::Create(*trust_, server::ApiOptions{});
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(*api);
    auto codes = ClaimCodes::Create(trust_->keyring());
    ASSERT_TRUE(codes.ok());
    codes_ = std::move(*codes);
  }

  HttpResponse Call(const std::string& method, const std::string& path,
                    const std::string& token = "", const std::string& body = "",
                    std::map<std::string, std::string> query = {},
                    const std::string& source = "192.0.2.10") {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);
    request.body = body;
    request.remote_address = source;
    if (!token.empty()) request.headers["authorization"] = "Bearer " + token;
    if (!body.empty()) request.headers["content-type"] = "application/json";
    return api_->Handle(request);
  }

  std::string Code(const std::string& id, const std::string& stream = kMeters) {
    auto code = codes_->Compute(stream, id);
    EXPECT_TRUE(code.ok());
    return code.ok() ? *code : "";
  }
  static std::string SessionBody(const std::string& stream, const std::string& id,
                                 const std::string& code) {
    return json{{"stream", stream}, {"id", id}, {"code", code}}.dump();
  }
  std::string Login(const std::string& id = "MAC000002") {
    HttpResponse r =
        Call("POST", "/v1/me/session", "", SessionBody(kMeters, id, Code(id)));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body)["token"].get<std::string>() : "";
  }

  static std::string ErrorCode(const HttpResponse& r) {
    auto j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"]["code"].get<std::string>()
                                                : "(no error: " + r.body + ")";
  }
  static std::string ErrorMessage(const HttpResponse& r) {
    return json::parse(r.body)["error"]["message"].get<std::string>();
  }
  static std::string HeaderOf(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }
  json LeafAt(uint64_t index) {
    auto entries = trust_->audit().storage().ReadEntries(index, index + 1);
    EXPECT_TRUE(entries.ok()) << entries.status();
    return entries.ok() ? json::parse(entries->front().data) : json();
  }

  std::unique_ptr<server::ApiService> api_;
  std::unique_ptr<ClaimCodes> codes_;
};

TEST_F(MeRoutesTest, ClaimCodeGivesAShortLivedCitizenToken) {
  HttpResponse r = Call("POST", "/v1/me/session", "",
                        SessionBody(kMeters, "mac-000002", Code("MAC000002")));
  ASSERT_EQ(r.status, 201) << r.body;
  const json body = json::parse(r.body);
  EXPECT_EQ(body["token"].get<std::string>().rfind("pvc_", 0), 0u);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 15 * 60);
  EXPECT_EQ(body["streams"], json::array({kMeters}));
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-store");
  // The response names no identifier.
  EXPECT_EQ(r.body.find("000002"), std::string::npos);
}

TEST_F(MeRoutesTest, BadSessionRequestsSayWhatIsWrong) {
  const std::string good = Code("MAC000002");
  struct Case {
    std::string body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"{\"stream\":", 400, "malformed-json"},
      {"[1,2]", 400, "invalid-argument"},
      {R"({"stream":"energy.meter_readings","id":2,"code":"x"})", 400,
       "invalid-argument"},
      {R"({"stream":"energy.meter_readings","id":"MAC000002"})", 400, "invalid-argument"},
      {R"({"stream":"energy.meter_readings","id":"MAC000002","code":"x","pin":1})", 400,
       "invalid-argument"},
      {SessionBody(kMeters, std::string(300, 'A'), good), 400, "invalid-argument"},
      {SessionBody("no.such.stream", "MAC000002", good), 404, "unknown-stream"},
      {SessionBody("footfall.counts", "MAC000002", good), 422, "no-subjects"},
      {SessionBody(kMeters, "MAC000002", "12345"), 400, "malformed-code"},
      {std::string(5000, ' '), 413, "body-too-large"},
  };
  for (const Case& c : cases) {
    HttpResponse r = Call("POST", "/v1/me/session", "", c.body);
    EXPECT_EQ(r.status, c.status) << c.body.substr(0, 80) << " -> " << r.body;
    EXPECT_EQ(ErrorCode(r), c.code) << c.body.substr(0, 80);
  }
  HttpResponse wrong_type =
      Call("POST", "/v1/me/session", "",
           R"({"stream":"energy.meter_readings","id":2,"code":"x"})");
  EXPECT_NE(ErrorMessage(wrong_type).find("'id'"), std::string::npos);
  // A well-formed code of another meter is refused, and echoes nothing.
  HttpResponse wrong =
      Call("POST", "/v1/me/session", "", SessionBody(kMeters, "MAC000003", good));
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(ErrorCode(wrong), "wrong-code");
  EXPECT_EQ(wrong.body.find("MAC000003"), std::string::npos);
}

TEST_F(MeRoutesTest, BurstOfWrongCodesIsThrottledPerSourceAndPerIdentifier) {
  const std::string right = Code("MAC000002");
  const std::string wrong = Code("MAC000004");  // well-formed, someone else's
  for (int i = 0; i < 5; ++i) {
    HttpResponse r =
        Call("POST", "/v1/me/session", "", SessionBody(kMeters, "MAC000002", wrong));
    ASSERT_EQ(r.status, 403) << i;
  }
  HttpResponse throttled =
      Call("POST", "/v1/me/session", "", SessionBody(kMeters, "MAC000002", wrong));
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(ErrorCode(throttled), "too-many-attempts");
  int64_t retry = 0;
  ASSERT_TRUE(absl::SimpleAtoi(HeaderOf(throttled, "Retry-After"), &retry));
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 15 * 60);
  // Locked for the identifier even with the right code from a new address,
  // and for the address even for another identifier.
  EXPECT_EQ(Call("POST", "/v1/me/session", "", SessionBody(kMeters, "MAC000002", right),
                 {}, "198.51.100.7")
                .status,
            429);
  EXPECT_EQ(Call("POST", "/v1/me/session", "",
                 SessionBody(kMeters, "MAC000003", Code("MAC000003")))
                .status,
            429);
  // Once the window has passed, the right code works again.
  clock_.Advance(absl::Minutes(15));
  EXPECT_EQ(
      Call("POST", "/v1/me/session", "", SessionBody(kMeters, "MAC000002", right)).status,
      201);
}

TEST_F(MeRoutesTest, CitizenAndPartyTokensNeverCross) {
  const std::string citizen = Login();
  auto party = server::IssueToken(trust_->config(), trust_->store().tokens(), clock_,
                                  random_, "energy-utility", "", "test");
  ASSERT_TRUE(party.ok());
  // A citizen token on a party route.
  HttpResponse on_party = Call("GET", absl::StrCat("/v1/streams/", kMeters, "/records"),
                               citizen, "", {{"purpose", "grid-planning"}});
  EXPECT_EQ(on_party.status, 401);
  EXPECT_EQ(HeaderOf(on_party, "WWW-Authenticate"), "Bearer");
  // A party token on citizen routes.
  for (const char* path : {"/v1/me/records", "/v1/me/accesses", "/v1/me/consents"}) {
    HttpResponse r = Call("GET", path, party->token);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(ErrorCode(r), "unauthenticated");
  }
  EXPECT_EQ(Call("POST", "/v1/me/erasure", party->token).status, 401);
  EXPECT_EQ(Call("GET", "/v1/me/records").status, 401);
  EXPECT_EQ(Call("GET", "/v1/me/records", "pvc_forged").status, 401);
  // The citizen token works, until it expires.
  EXPECT_EQ(Call("GET", "/v1/me/records", citizen).status, 200);
  clock_.Advance(absl::Minutes(15));
  HttpResponse expired = Call("GET", "/v1/me/records", citizen);
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(ErrorCode(expired), "unauthenticated");
}

TEST_F(MeRoutesTest, RecordsAndExportAreTheSubjectsOwn) {
  const std::string token = Login();
  HttpResponse records = Call("GET", "/v1/me/records", token);
  ASSERT_EQ(records.status, 200) << records.body;
  const json body = json::parse(records.body);
  ASSERT_EQ(body["streams"].size(), 1u);
  EXPECT_EQ(body["streams"][0]["stream"], kMeters);
  EXPECT_EQ(body["streams"][0]["records"].size(), 672u);
  EXPECT_EQ(body["unreadable"], 0);
  EXPECT_TRUE(body["streams"][0]["records"][0]["fields"].contains("energy_kwh"));

  HttpResponse as_json = Call("GET", "/v1/me/export", token, "", {{"format", "json"}});
  ASSERT_EQ(as_json.status, 200);
  EXPECT_EQ(HeaderOf(as_json, "Content-Disposition"),
            "attachment; filename=\"privacity-export-20160110.json\"");
  EXPECT_EQ(json::parse(as_json.body)["streams"][0]["records"].size(), 672u);
  HttpResponse as_csv = Call("GET", "/v1/me/export", token, "", {{"format", "csv"}});
  ASSERT_EQ(as_csv.status, 200);
  EXPECT_EQ(as_csv.content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(
      as_csv.body.rfind("# stream: energy.meter_readings\r\nrecord_id,record_time,", 0),
      0u);
  EXPECT_NE(HeaderOf(as_csv, "Content-Disposition").find(".csv\""), std::string::npos);
  HttpResponse bad = Call("GET", "/v1/me/export", token, "", {{"format", "xml"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(ErrorMessage(bad).find("json or csv"), std::string::npos);

  // Each served request is on the desk, completed.
  auto requests = desk_->List();
  ASSERT_TRUE(requests.ok());
  ASSERT_EQ(requests->size(), 3u);
  for (const auto& r : *requests) {
    EXPECT_EQ(r.status, store::RightsRequestStatus::kCompleted);
    EXPECT_EQ(r.detail, "672 records");
  }
}

TEST_F(MeRoutesTest, ConsentChangesAreValidatedKeptAndLogged) {
  const std::string token = Login();
  const std::string path = "/v1/me/consents/research";
  HttpResponse granted = Call("PUT", path, token, R"({"action":"grant"})");
  ASSERT_EQ(granted.status, 200) << granted.body;
  json body = json::parse(granted.body);
  EXPECT_EQ(body["state"], "granted");
  const json leaf = LeafAt(body["log_index"].get<uint64_t>());
  EXPECT_EQ(leaf["type"], "rights_action");
  EXPECT_EQ(leaf["action"], "consent");
  EXPECT_EQ(leaf["purpose"], "research");
  EXPECT_EQ(leaf["request"], body["request_ids"][0]);
  clock_.Advance(absl::Minutes(1));
  HttpResponse withdrawn = Call("PUT", path, token, R"({"action":"withdraw"})");
  ASSERT_EQ(withdrawn.status, 200);
  EXPECT_EQ(json::parse(withdrawn.body)["state"], "withdrawn");

  HttpResponse current = Call("GET", "/v1/me/consents", token);
  ASSERT_EQ(current.status, 200);
  bool seen = false;
  const json consents = json::parse(current.body)["consents"];
  for (const json& c : consents) {
    if (c["purpose"] != "research") continue;
    seen = true;
    EXPECT_EQ(c["state"], "withdrawn");
    EXPECT_EQ(c["legal_basis"], "consent");
  }
  EXPECT_TRUE(seen);
  auto history = trust_->store().ConsentHistory(Bi("MAC000002"));
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 2u);  // kept, not overwritten

  struct Case {
    std::string path, body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"/v1/me/consents/astrology", R"({"action":"grant"})", 404, "unknown-purpose"},
      {path, R"({"action":"delete"})", 400, "invalid-argument"},
      {path, R"({"action":true})", 400, "invalid-argument"},
      {path, R"({"state":"grant"})", 400, "invalid-argument"},
      {path, "grant", 400, "malformed-json"},
      {"/v1/me/consents/grid-planning", R"({"action":"grant"})", 422,
       "consent-not-applicable"},
      {"/v1/me/consents/billing", R"({"action":"object"})", 422,
       "consent-not-applicable"},
  };
  for (const Case& c : cases) {
    HttpResponse r = Call("PUT", c.path, token, c.body);
    EXPECT_EQ(r.status, c.status) << c.path << " " << c.body << " -> " << r.body;
    EXPECT_EQ(ErrorCode(r), c.code) << c.path << " " << c.body;
  }
  EXPECT_EQ(Call("PUT", path, "", R"({"action":"grant"})").status, 401);
  auto after = trust_->store().ConsentHistory(Bi("MAC000002"));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 2u);  // nothing written by the refused ones
}

TEST_F(MeRoutesTest, AccessesListThePartiesThatReadTheirData) {
  auto party = server::IssueToken(trust_->config(), trust_->store().tokens(), clock_,
                                  random_, "energy-utility", "", "test");
  ASSERT_TRUE(party.ok());
  ASSERT_EQ(Call("GET", absl::StrCat("/v1/streams/", kMeters, "/records"), party->token,
                 "", {{"purpose", "grid-planning"}, {"limit", "10000"}})
                .status,
            200);
  const std::string token = Login();
  HttpResponse r = Call("GET", "/v1/me/accesses", token);
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = json::parse(r.body);
  ASSERT_EQ(body["accesses"].size(), 1u) << r.body;
  const json& a = body["accesses"][0];
  EXPECT_EQ(a["party"], "energy-utility");
  EXPECT_EQ(a["purpose"], "grid-planning");
  EXPECT_EQ(a["stream"], kMeters);
  EXPECT_EQ(a["level"], "records");
  EXPECT_EQ(a["records_covered"], 672);
  EXPECT_TRUE(a["from"].is_null());
  EXPECT_EQ(LeafAt(a["log_index"].get<uint64_t>())["type"], "decision");
}

TEST_F(MeRoutesTest, ErasureReturnsAReceiptWithItsLeafAndEndsTheSession) {
  const std::string token = Login();
  EXPECT_EQ(Call("POST", "/v1/me/erasure", token, "[1]").status, 400);
  EXPECT_EQ(Call("POST", "/v1/me/erasure", token, R"({"confirm":1})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/me/erasure", token, "{").status, 400);
  HttpResponse r = Call("POST", "/v1/me/erasure", token, "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  const json receipt = json::parse(r.body);
  EXPECT_EQ(receipt["kind"], "erasure");
  EXPECT_EQ(receipt["records_erased"], 672);
  EXPECT_EQ(receipt["streams"][0]["stream"], kMeters);
  EXPECT_EQ(receipt["time"], "2016-01-10T00:00:00Z");
  EXPECT_TRUE(receipt["compacted"].get<bool>());
  const json leaf = LeafAt(receipt["log_index"].get<uint64_t>());
  EXPECT_EQ(leaf["action"], "erasure");
  EXPECT_EQ(leaf["status"], "completed");
  EXPECT_EQ(leaf["request"], receipt["request_id"]);
  EXPECT_EQ(leaf["records"], 672);
  // Nothing of theirs is left to see, and the token is spent.
  EXPECT_EQ(Call("GET", "/v1/me/records", token).status, 401);
  const std::string again = Login();
  HttpResponse empty = Call("GET", "/v1/me/records", again);
  ASSERT_EQ(empty.status, 200);
  EXPECT_TRUE(json::parse(empty.body)["streams"].empty());
}

TEST_F(MeRoutesTest, LogoutEndsTheSession) {
  const std::string token = Login();
  HttpResponse r = Call("DELETE", "/v1/me/session", token);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(Call("GET", "/v1/me/records", token).status, 401);
  EXPECT_EQ(Call("DELETE", "/v1/me/session", token).status, 401);
}

TEST_F(MeRoutesTest, PeriodicSweeperRunsWhenDueByTheTrustsClock) {
  server::PeriodicSweeper sweeper(*trust_, absl::Hours(1));
  auto first = sweeper.MaybeSweep();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->has_value());
  // The 2013 readings are past their two-year retention on 2016-01-10.
  int64_t deleted = 0;
  for (const RetentionReceipt& r : (*first)->streams) deleted += r.records_deleted;
  EXPECT_EQ(deleted, 3360);
  const json leaf = LeafAt((*first)->streams.front().log_index);
  EXPECT_EQ(leaf["type"], "retention_sweep");
  clock_.Advance(absl::Minutes(59));
  auto early = sweeper.MaybeSweep();
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->has_value());
  clock_.Advance(absl::Minutes(1));
  auto due = sweeper.MaybeSweep();
  ASSERT_TRUE(due.ok());
  EXPECT_TRUE(due->has_value());
}

}  // namespace
}  // namespace privacity::rights
