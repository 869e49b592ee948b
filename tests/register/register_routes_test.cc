// The register routes through ApiService::Handle: JSON and GeoJSON, the
// controller-only admin routes, and public comments with their limits.
#include <string>

#include "audit/leaves.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/demo_trust.h"
#include "server/routes.h"

namespace privacity::server {
namespace {

using nlohmann::json;

constexpr char kProposed[] = "footfall-proposed-station-sq";

class RegisterRoutesTest : public DemoTrustTest {
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
                    const std::string& address = "192.0.2.1") {
    HttpRequest r;
    r.method = method;
    r.path = path;
    r.body = body;
    r.remote_address = address;
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    if (!body.empty()) r.headers["content-type"] = "application/json";
    return api_->Handle(r);
  }

  static std::string Code(const HttpResponse& r) {
    return json::parse(r.body)["error"]["code"].get<std::string>();
  }

  // The types of the log's leaves, in order.
  std::vector<std::string> LeafTypes() {
    std::vector<std::string> out;
    EXPECT_TRUE(trust_->audit().log().Reload().ok());
    const uint64_t size = trust_->audit().log().head().size;
    auto entries = trust_->audit().storage().ReadEntries(0, size);
    EXPECT_TRUE(entries.ok());
    for (const auto& e : *entries) out.push_back(json::parse(e.data)["type"]);
    return out;
  }

  json Sensor(const std::string& id) {
    json all = json::parse(Call("GET", "/public/register").body);
    for (const json& s : all["sensors"]) {
      if (s["id"] == id) return s;
    }
    return nullptr;
  }

  std::unique_ptr<ApiService> api_;
};

TEST_F(RegisterRoutesTest, RegisterAsJsonAndGeoJson) {
  HttpResponse r = Call("GET", "/public/register");
  ASSERT_EQ(r.status, 200);
  json j = json::parse(r.body);
  EXPECT_EQ(j["sensors"].size(), trust_->config().sensors.size());
  json meter = Sensor("smart-meter-fleet");
  EXPECT_EQ(meter["status"], "live");
  EXPECT_EQ(meter["dtpr"]["processing"]["pseudonymised"][0], "meter_id");
  EXPECT_EQ(Sensor(kProposed)["status"], "proposed");

  HttpRequest accept;
  accept.method = "GET";
  accept.path = "/public/register";
  accept.headers["accept"] = "application/geo+json";
  HttpResponse g = api_->Handle(accept);
  EXPECT_EQ(g.content_type, "application/geo+json");
  EXPECT_EQ(json::parse(g.body)["type"], "FeatureCollection");
  HttpRequest query = accept;
  query.headers.clear();
  query.query["format"] = "geojson";
  EXPECT_EQ(json::parse(api_->Handle(query).body)["features"].size(),
            trust_->config().sensors.size());
  query.query["format"] = "kml";
  EXPECT_EQ(api_->Handle(query).status, 400);
}

TEST_F(RegisterRoutesTest, OnlyAControllerAddsSensors) {
  const std::string body =
      R"({"id":"anpr-ring","stream":"traffic.anpr","name":"ANPR Ring","lat":52.3,)"
      R"("lon":4.9,"comments_until":"2026-03-01"})";
  EXPECT_EQ(Call("POST", "/v1/admin/sensors", "", body).status, 401);
  HttpResponse party = Call("POST", "/v1/admin/sensors", Issue("transport-dept"), body);
  EXPECT_EQ(party.status, 403);
  EXPECT_EQ(Code(party), "controller-required");
  const std::string admin = Issue("data-office");
  HttpResponse ok = Call("POST", "/v1/admin/sensors", admin, body);
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(json::parse(ok.body)["status"], "proposed");
  EXPECT_EQ(Sensor("anpr-ring")["origin"], "admin");
  EXPECT_EQ(LeafTypes().back(), "register_change");
  EXPECT_EQ(Call("POST", "/v1/admin/sensors", admin, body).status, 409);
  EXPECT_EQ(Call("POST", "/v1/admin/sensors", admin, "{not json").status, 400);
  EXPECT_EQ(
      Call("POST", "/v1/admin/sensors", admin, R"({"id":"x","stream":"nope","name":"n"})")
          .status,
      400);
}

TEST_F(RegisterRoutesTest, CitizensCommentAndTheControllerReads) {
  const std::string path = std::string("/public/register/") + kProposed + "/comments";
  HttpResponse r = Call("POST", path, "",
                        R"({"kind":"objection","text":"<script>alert(1)</script>"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["comment_count"], 1);
  json pub = Sensor(kProposed);
  EXPECT_EQ(pub["comment_count"], 1);
  EXPECT_EQ(pub["objection_count"], 1);
  // The text is not public.
  EXPECT_EQ(Call("GET", "/public/register").body.find("alert(1)"), std::string::npos);
  EXPECT_EQ(LeafTypes().back(), "register_change");

  const std::string read = std::string("/v1/admin/sensors/") + kProposed + "/comments";
  EXPECT_EQ(Call("GET", read, Issue("energy-utility")).status, 403);
  HttpResponse comments = Call("GET", read, Issue("data-office"));
  ASSERT_EQ(comments.status, 200);
  EXPECT_EQ(json::parse(comments.body)["comments"][0]["text"],
            "<script>alert(1)</script>");

  EXPECT_EQ(Call("POST", path, "", "{").status, 400);
  EXPECT_EQ(Call("POST", path, "", R"({"text":5})").status, 400);
  EXPECT_EQ(Call("POST", path, "", R"({"kind":"vote","text":"x"})").status, 400);
  EXPECT_EQ(Call("POST", path, "", std::string(9000, ' ')).status, 413);
  EXPECT_EQ(Call("POST", path, "", R"({"text":"a\u0000b"})").status, 400);
  EXPECT_EQ(
      Call("POST", "/public/register/footfall-22/comments", "", R"({"text":"x"})").status,
      422);
  EXPECT_EQ(Call("POST", "/public/register/nope/comments", "", R"({"text":"x"})").status,
            404);
}

TEST_F(RegisterRoutesTest, CommentsAreRateLimitedPerAddress) {
  const std::string path = std::string("/public/register/") + kProposed + "/comments";
  int accepted = 0;
  for (int i = 0; i < 8; ++i) {
    HttpResponse r = Call("POST", path, "", R"({"text":"again"})", "198.51.100.7");
    if (r.status == 201) ++accepted;
    if (i >= 5) {
      EXPECT_EQ(r.status, 429);
    }
  }
  EXPECT_EQ(accepted, 5);
  // Another address is not limited by the first one.
  EXPECT_EQ(Call("POST", path, "", R"({"text":"me"})", "198.51.100.8").status, 201);
  // The window passes.
  clock_.Advance(absl::Minutes(11));
  EXPECT_EQ(Call("POST", path, "", R"({"text":"later"})", "198.51.100.7").status, 201);
}

}  // namespace
}  // namespace privacity::server
