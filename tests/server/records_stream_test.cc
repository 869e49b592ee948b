// GET /v1/streams/{stream}/records: NDJSON or JSON pages with an opaque
// cursor bound to the query, and the status every kind of bad request gets.
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_split.h"
#include "demo_trust.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/records_view.h"
#include "server/routes.h"

namespace privacity::server {
namespace {

using nlohmann::json;

constexpr char kMeters[] = "energy.meter_readings";

class RecordsStreamTest : public DemoTrustTest {
 protected:
  void SetUp() override {
    DemoTrustTest::SetUp();
    if (HasFatalFailure()) return;
    auto api = ApiService::Create(*trust_, ApiOptions{});
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(*api);
    HttpResponse pushed = Call("POST", Path(), Issue("energy-utility", kMeters),
                               MeterNdjson(7) + MeterNdjson(3, "MAC000003"));
    ASSERT_EQ(pushed.status, 200) << pushed.body;
    party_ = Issue("energy-utility");
  }

  static std::string Path(const std::string& stream = kMeters) {
    return "/v1/streams/" + stream + "/records";
  }

  HttpResponse Call(const std::string& method, const std::string& path,
                    const std::string& token, const std::string& body = "",
                    std::map<std::string, std::string> query = {},
                    const std::string& accept = "") {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);
    request.body = body;
    if (!token.empty()) request.headers["authorization"] = "Bearer " + token;
    if (!body.empty()) request.headers["content-type"] = "application/x-ndjson";
    if (!accept.empty()) request.headers["accept"] = accept;
    return api_->Handle(request);
  }
  static std::string Header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }
  static std::string Code(const HttpResponse& r) {
    return json::parse(r.body)["error"]["code"].get<std::string>();
  }
  static std::string Message(const HttpResponse& r) {
    return json::parse(r.body)["error"]["message"].get<std::string>();
  }

  std::unique_ptr<ApiService> api_;
  std::string party_;
};

TEST_F(RecordsStreamTest, NdjsonPagesFollowTheOpaqueCursor) {
  std::map<std::string, std::string> query = {{"purpose", "grid-planning"},
                                              {"limit", "3"}};
  std::set<int64_t> ids;
  int pages = 0;
  while (true) {
    HttpResponse r = Call("GET", Path(), party_, "", query);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.content_type, "application/x-ndjson");
    ++pages;
    for (absl::string_view line : absl::StrSplit(r.body, '\n', absl::SkipEmpty())) {
      EXPECT_TRUE(ids.insert(json::parse(std::string(line))["id"].get<int64_t>()).second);
    }
    const std::string next = Header(r, "X-Next-Cursor");
    if (next.empty()) break;
    // Opaque: no row id or identifier in clear.
    EXPECT_EQ(next.find("MAC"), std::string::npos);
    EXPECT_GT(next.size(), 20u);
    query["cursor"] = next;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_EQ(pages, 4);
}

TEST_F(RecordsStreamTest, JsonWhenAskedWithNextCursorInTheBody) {
  HttpResponse r =
      Call("GET", Path(), party_, "", {{"purpose", "grid-planning"}, {"limit", "4"}},
           "application/json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  json page = json::parse(r.body);
  EXPECT_EQ(page["records"].size(), 4u);
  EXPECT_EQ(page["withheld"], 0);
  ASSERT_TRUE(page["next_cursor"].is_string());
  EXPECT_EQ(page["next_cursor"], Header(r, "X-Next-Cursor"));
  HttpResponse rest =
      Call("GET", Path(), party_, "",
           {{"purpose", "grid-planning"}, {"cursor", page["next_cursor"]}},
           "application/json");
  ASSERT_EQ(rest.status, 200) << rest.body;
  json last = json::parse(rest.body);
  EXPECT_EQ(last["records"].size(), 6u);
  EXPECT_TRUE(last["next_cursor"].is_null());
  EXPECT_GT(last["records"][0]["id"], page["records"][3]["id"]);
  // Both, or NDJSON first: NDJSON.
  EXPECT_EQ(Call("GET", Path(), party_, "", {{"purpose", "grid-planning"}},
                 "application/x-ndjson, application/json")
                .content_type,
            "application/x-ndjson");
}

TEST_F(RecordsStreamTest, CursorIsBoundToItsQuery) {
  HttpResponse first =
      Call("GET", Path(), party_, "", {{"purpose", "grid-planning"}, {"limit", "2"}});
  const std::string cursor = Header(first, "X-Next-Cursor");
  ASSERT_FALSE(cursor.empty());
  // The same query continues.
  EXPECT_EQ(Call("GET", Path(), party_, "",
                 {{"purpose", "grid-planning"}, {"cursor", cursor}, {"limit", "5"}})
                .status,
            200);
  // Another window, field list, purpose, stream or party: refused.
  const std::string transport = Issue("transport-dept");
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> replays = {
      {party_, {{"purpose", "grid-planning"}, {"from", "2025-01-01T00:00:00Z"}}},
      {party_, {{"purpose", "grid-planning"}, {"fields", "energy_kwh"}}},
      {party_, {{"purpose", "billing"}}},
  };
  for (auto& [token, query] : replays) {
    query["cursor"] = cursor;
    HttpResponse r = Call("GET", Path(), token, "", query);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(Code(r), "invalid-cursor");
  }
  HttpResponse other_stream =
      Call("GET", Path("traffic.anpr"), transport, "",
           {{"purpose", "traffic-management"}, {"cursor", cursor}});
  EXPECT_EQ(Code(other_stream), "invalid-cursor");
  for (const std::string& bad : std::vector<std::string>{
           "x", "AAAA", std::string(200, 'A'), cursor + "A", std::string("\xff\xfe")}) {
    HttpResponse r =
        Call("GET", Path(), party_, "", {{"purpose", "grid-planning"}, {"cursor", bad}});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(Code(r), "invalid-cursor");
  }
  // The old numeric parameter is refused rather than silently ignored.
  HttpResponse after =
      Call("GET", Path(), party_, "", {{"purpose", "grid-planning"}, {"after", "3"}});
  EXPECT_EQ(after.status, 400);
  EXPECT_NE(Message(after).find("cursor"), std::string::npos);
}

TEST_F(RecordsStreamTest, CursorEncodingRoundTrips) {
  policy::AccessRequest a{.party = "p", .purpose = "u", .stream = "s"};
  for (int64_t id :
       {int64_t{0}, int64_t{1}, int64_t{1} << 40, int64_t{9007199254740993}}) {
    auto back = DecodeRecordsCursor(a, EncodeRecordsCursor(a, id));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, id);
  }
  policy::AccessRequest b = a;
  b.fields = {"x"};
  EXPECT_FALSE(DecodeRecordsCursor(b, EncodeRecordsCursor(a, 5)).ok());
  // Length-prefixed: moving a character between parts changes the binding.
  policy::AccessRequest c{.party = "pu", .purpose = "", .stream = "s"};
  EXPECT_FALSE(DecodeRecordsCursor(c, EncodeRecordsCursor(a, 5)).ok());
}

// The status of each kind of failure, with a clear message.
TEST_F(RecordsStreamTest, EachFailureHasItsStatusAndMessage) {
  HttpResponse no_token = Call("GET", Path(), "", "", {{"purpose", "grid-planning"}});
  EXPECT_EQ(no_token.status, 401);
  EXPECT_NE(Message(no_token).find("token"), std::string::npos) << no_token.body;

  // Another party's stream: the energy utility has no agreement on ANPR.
  HttpResponse other =
      Call("GET", Path("traffic.anpr"), party_, "", {{"purpose", "traffic-management"}});
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(Code(other), "no-agreement");
  EXPECT_FALSE(Message(other).empty());

  // A purpose the stream serves but the agreement does not grant.
  HttpResponse purpose = Call("GET", Path(), party_, "", {{"purpose", "research"}});
  EXPECT_EQ(purpose.status, 403);
  EXPECT_EQ(Code(purpose), "purpose-not-granted") << purpose.body;
  HttpResponse prohibited = Call("GET", Path(), party_, "", {{"purpose", "marketing"}});
  EXPECT_EQ(prohibited.status, 403);
  EXPECT_EQ(Code(prohibited), "purpose-prohibited");

  HttpResponse malformed = Call("POST", Path(), Issue("energy-utility", kMeters),
                                "{\"LCLid\": \"MAC000002\", oops}\n");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(Code(malformed), "malformed-json");
  EXPECT_NE(Message(malformed).find("byte 24"), std::string::npos) << malformed.body;
  EXPECT_EQ(malformed.body.find("MAC000002"), std::string::npos);

  HttpResponse unknown =
      Call("GET", Path("water.nowhere"), party_, "", {{"purpose", "grid-planning"}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Code(unknown), "unknown-stream");
  EXPECT_NE(Message(unknown).find("no stream"), std::string::npos);
  // 413 for bodies over the server's limit: http_server_test.cc
  // (OversizedBodyIs413) and, for NGSI-LD bodies over the adapter's limit,
  // ngsi_routes_test.cc.
}

}  // namespace
}  // namespace privacity::server
