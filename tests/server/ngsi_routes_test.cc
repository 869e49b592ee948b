// The NGSI-LD routes over the demo city, called through ApiService::Handle.
#include <map>
#include <string>

#include "absl/strings/str_split.h"
#include "demo_trust.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/routes.h"

namespace privacity::server {
namespace {

using nlohmann::json;

constexpr char kVehicles[] = "mobility.vehicles";
constexpr char kUpsert[] = "/ngsi-ld/v1/entityOperations/upsert";
constexpr char kLink[] =
    "<https://smart-data-models.github.io/dataModel.Transportation/context.jsonld>; "
    "rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";

std::string Vehicle(const std::string& plate, const std::string& speed = "50") {
  return R"({"id":"urn:ngsi-ld:Vehicle:fleet:)" + plate +
         R"(","type":"Vehicle",)"
         R"("vehiclePlateIdentifier":{"type":"Property","value":")" +
         plate + R"("},"speed":{"type":"Property","value":)" + speed +
         R"(,"observedAt":"2025-06-01T10:00:00Z"},)"
         R"("location":{"type":"GeoProperty","value":{"type":"Point",)"
         R"("coordinates":[4.9,52.37]}},)"
         R"("deviceSimNumber":{"type":"Property","value":"9942142573"}})";
}

class NgsiRoutesTest : public DemoTrustTest {
 protected:
  void SetUp() override {
    DemoTrustTest::SetUp();
    if (HasFatalFailure()) return;
    auto api = ApiService::Create(*trust_, ApiOptions{});
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(*api);
    sensor_ = Issue("transport-dept", kVehicles);
  }

  HttpResponse Post(const std::string& path, const std::string& body,
                    const std::string& token,
                    const std::string& content_type = "application/json",
                    const std::string& link = kLink,
                    std::map<std::string, std::string> query = {}) {
    HttpRequest request;
    request.method = "POST";
    request.path = path;
    request.body = body;
    request.query = std::move(query);
    if (!token.empty()) request.headers["authorization"] = "Bearer " + token;
    if (!content_type.empty()) request.headers["content-type"] = content_type;
    if (!link.empty()) request.headers["link"] = link;
    return api_->Handle(request);
  }
  static json Body(const HttpResponse& r) { return json::parse(r.body); }
  static std::string Code(const HttpResponse& r) {
    return Body(r)["error"]["code"].get<std::string>();
  }
  static std::string Message(const HttpResponse& r) {
    return Body(r)["error"]["message"].get<std::string>();
  }
  int64_t Stored(const std::string& stream = kVehicles) {
    auto n = trust_->store().CountRecords(stream);
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : -1;
  }

  std::unique_ptr<ApiService> api_;
  std::string sensor_;
};

TEST_F(NgsiRoutesTest, UpsertIngestsLogsAndPseudonymises) {
  const uint64_t leaves = trust_->audit().log().head().size;
  HttpResponse r =
      Post(kUpsert, "[" + Vehicle("3456ABC") + "," + Vehicle("9876XYZ") + "]", sensor_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["accepted"], 2);
  EXPECT_EQ(Body(r)["rejected"], 0);
  EXPECT_EQ(Stored(), 2);
  // The batch is logged (key-event leaves for new epoch keys may come too).
  EXPECT_GT(trust_->audit().log().head().size, leaves);

  HttpRequest read;
  read.method = "GET";
  read.path = std::string("/v1/streams/") + kVehicles + "/records";
  read.query = {{"purpose", "traffic-management"}};
  read.headers["authorization"] = "Bearer " + Issue("transport-dept");
  HttpResponse rows = api_->Handle(read);
  ASSERT_EQ(rows.status, 200) << rows.body;
  int n = 0;
  for (absl::string_view line : absl::StrSplit(rows.body, '\n', absl::SkipEmpty())) {
    json row = json::parse(std::string(line));
    ++n;
    EXPECT_EQ(row["plate"].get<std::string>().rfind("ps_", 0), 0u) << row;
    EXPECT_EQ(row["speed"], 50);
    EXPECT_EQ(row["time"], "2025-06-01T10:00:00Z");
    EXPECT_FALSE(row.contains("vehicle_id"));  // not granted
  }
  EXPECT_EQ(n, 2);
  EXPECT_EQ(rows.body.find("3456ABC"), std::string::npos);
  EXPECT_EQ(rows.body.find("9942142573"), std::string::npos);
}

TEST_F(NgsiRoutesTest, CreateAnswers201WithTheStreamAsLocation) {
  HttpResponse r = Post("/ngsi-ld/v1/entities", Vehicle("3456ABC"), sensor_);
  ASSERT_EQ(r.status, 201) << r.body;
  bool located = false;
  for (const auto& [k, v] : r.headers) {
    if (k == "Location") {
      located = true;
      EXPECT_EQ(v, "/v1/streams/mobility.vehicles/records");
    }
  }
  EXPECT_TRUE(located);
  // Creating the same entity again is another observation, not a conflict.
  EXPECT_EQ(Post("/ngsi-ld/v1/entities", Vehicle("3456ABC"), sensor_).status, 201);
  EXPECT_EQ(Stored(), 2);
}

TEST_F(NgsiRoutesTest, NotifyAndKeyValues) {
  const std::string notification =
      R"({"id":"urn:ngsi-ld:Notification:1","type":"Notification",)"
      R"("subscriptionId":"urn:ngsi-ld:Subscription:vehicles",)"
      R"("notifiedAt":"2025-06-01T11:00:00Z","data":[)" +
      Vehicle("3456ABC") + "]}";
  HttpResponse r = Post("/ngsi-ld/v1/notify", notification, sensor_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["accepted"], 1);
  const std::string simplified =
      R"([{"id":"v","type":"Vehicle","vehiclePlateIdentifier":"1234AAA","speed":30}])";
  HttpResponse kv = Post(kUpsert, simplified, sensor_, "application/json", "",
                         {{"options", "keyValues"}});
  ASSERT_EQ(kv.status, 200) << kv.body;
  EXPECT_EQ(Body(kv)["accepted"], 1);
  HttpResponse concise = Post(kUpsert, simplified, sensor_, "application/json", "",
                              {{"options", "concise"}});
  EXPECT_EQ(concise.status, 400);
  EXPECT_EQ(Stored(), 2);
}

TEST_F(NgsiRoutesTest, WrongTypesArePerEntityErrorsNamingTheField) {
  HttpResponse r =
      Post(kUpsert, "[" + Vehicle("3456ABC") + "," + Vehicle("9876XYZ", "\"fast\"") + "]",
           sensor_);
  ASSERT_EQ(r.status, 200) << r.body;
  json summary = Body(r);
  EXPECT_EQ(summary["accepted"], 1);
  ASSERT_EQ(summary["errors"].size(), 1u);
  EXPECT_EQ(summary["errors"][0]["entity"], 2);
  EXPECT_NE(summary["errors"][0]["message"].get<std::string>().find("speed"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(r.body.find("fast"), std::string::npos);
  EXPECT_EQ(r.body.find("9876XYZ"), std::string::npos);
  // All bad: 422 with the summary, nothing stored.
  HttpResponse bad = Post(kUpsert, "[" + Vehicle("1111AAA", "true") + "]", sensor_);
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(Stored(), 1);
}

TEST_F(NgsiRoutesTest, AuthenticationAndStreamBinding) {
  const std::string body = "[" + Vehicle("3456ABC") + "]";
  HttpResponse none = Post(kUpsert, body, "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(Code(none), "unauthenticated");
  HttpResponse party = Post(kUpsert, body, Issue("transport-dept"));
  EXPECT_EQ(party.status, 403);
  EXPECT_EQ(Code(party), "sensor-token-required");
  HttpResponse other = Post(kUpsert, body, Issue("transport-dept", "traffic.anpr"));
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(Code(other), "wrong-stream");
  EXPECT_NE(Message(other).find("'Vehicle'"), std::string::npos) << other.body;
  // One entity of another stream refuses the whole request.
  const std::string mixed =
      "[" + Vehicle("3456ABC") +
      R"(,{"id":"urn:ngsi-ld:ParkingSpot:1","type":"ParkingSpot","status":"free"}])";
  HttpResponse half = Post(kUpsert, mixed, sensor_);
  EXPECT_EQ(half.status, 403) << half.body;
  EXPECT_NE(Message(half).find("'ParkingSpot'"), std::string::npos) << half.body;
  EXPECT_EQ(Stored(), 0);
  EXPECT_EQ(Stored("parking.occupancy"), 0);
}

TEST_F(NgsiRoutesTest, BadRequestsGetClearStatuses) {
  HttpResponse malformed =
      Post(kUpsert, R"([{"id": "v", "type": "Vehicle" "x"}])", sensor_);
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(Code(malformed), "malformed-json");
  EXPECT_NE(Message(malformed).find("byte 34"), std::string::npos) << malformed.body;

  HttpResponse unknown = Post(
      kUpsert, R"([{"id":"urn:ngsi-ld:Bicycle:3456ABC","type":"Bicycle"}])", sensor_);
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(Code(unknown), "unknown-entity-type");
  EXPECT_NE(Message(unknown).find("'Bicycle'"), std::string::npos);
  EXPECT_EQ(unknown.body.find("3456ABC"), std::string::npos);

  HttpResponse media = Post(kUpsert, "[]", sensor_, "text/csv");
  EXPECT_EQ(media.status, 415);
  HttpResponse shape = Post(kUpsert, Vehicle("3456ABC"), sensor_);
  EXPECT_EQ(shape.status, 400);
  EXPECT_EQ(Code(shape), "invalid-ngsi-ld");

  std::string huge = "[" + Vehicle("3456ABC");
  while (huge.size() <= (4u << 20)) huge += "," + Vehicle("3456ABC");
  huge += "]";
  HttpResponse big = Post(kUpsert, huge, sensor_);
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(Code(big), "body-too-large");
  EXPECT_EQ(Stored(), 0);
}

}  // namespace
}  // namespace privacity::server
