// Every FIWARE Smart Data Models example in ../shared/data/fiware-sdm whose
// type the demo city maps goes in through the NGSI-LD routes, in both the
// normalized and the keyValues form, three ways each: one entity with the
// @context in the body (application/ld+json), an upsert with the context in
// a Link header, and an Orion-LD notification. Then the store is scanned
// byte by byte for the personal values those examples carry.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/auth.h"
#include "server/routes.h"
#include "server/trust.h"
#include "transform/pipeline.h"

namespace privacity {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDemo = fs::path(PRIVACITY_SOURCE_DIR) / "examples" / "demo-city";
const fs::path kSdm = fs::path(PRIVACITY_SHARED_DATA) / "fiware-sdm";

// Attributes of the Smart Data Models that identify a person or a vehicle
// (directly or through a device a person carries or owns). In entities of
// personal streams (households, vehicles) the address is personal too.
const std::set<std::string> kPersonalAttributes = {
    "vehiclePlateIdentifier", "license_plate", "deviceSimNumber", "ipAddress", "owner"};

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The strings inside a JSON value (an attribute's value, in either form).
void Strings(const json& v, std::set<std::string>& out) {
  if (v.is_string()) {
    if (v.get<std::string>().size() >= 4) out.insert(v.get<std::string>());
  } else if (v.is_structured()) {
    for (const json& e : v) Strings(e, out);
  }
}

class NgsiIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/privacity-ngsi-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto config = config::LoadConfigFile((kDemo / "city.yaml").string());
    ASSERT_TRUE(config.ok()) << config.status();
    ASSERT_TRUE(server::Trust::Initialize(*config, dir_, clock_, random_).ok());
    auto trust = server::Trust::Open(*config, dir_, clock_, random_);
    ASSERT_TRUE(trust.ok()) << trust.status();
    trust_ = std::move(*trust);
    auto api = server::ApiService::Create(*trust_, server::ApiOptions{});
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(*api);
  }
  void TearDown() override {
    api_.reset();
    trust_.reset();
    fs::remove_all(dir_);
  }

  const config::Stream* StreamOf(const std::string& type) const {
    for (const config::Stream& s : trust_->config().streams) {
      for (const config::NgsiLdMapping& m : s.ngsi_ld) {
        if (m.entity_type == type) return &s;
      }
    }
    return nullptr;
  }

  std::string Token(const std::string& stream) {
    auto& token = tokens_[stream];
    if (token.empty()) {
      auto issued = server::IssueToken(trust_->config(), trust_->store().tokens(), clock_,
                                       random_, "transport-dept", stream, "ngsi test");
      EXPECT_TRUE(issued.ok()) << issued.status();
      if (issued.ok()) token = issued->token;
    }
    return token;
  }

  server::HttpResponse Post(const std::string& path, const std::string& stream,
                            const std::string& body, const std::string& content_type,
                            const std::string& link, bool key_values) {
    server::HttpRequest request;
    request.method = "POST";
    request.path = path;
    request.body = body;
    request.headers["authorization"] = "Bearer " + Token(stream);
    request.headers["content-type"] = content_type;
    if (!link.empty()) request.headers["link"] = link;
    if (key_values) request.query["options"] = "keyValues";
    return api_->Handle(request);
  }

  std::string dir_;
  ManualClock clock_{absl::FromUnixSeconds(1767225600)};  // 2026-01-01
  CryptoRandom random_;
  std::unique_ptr<server::Trust> trust_;
  std::unique_ptr<server::ApiService> api_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(NgsiIntegrationTest, EveryMappedSmartDataModelExampleIngestsInBothForms) {
  if (!fs::exists(kSdm)) {
    GTEST_SKIP() << "FIWARE Smart Data Models examples not present at " << kSdm;
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kSdm)) {
    if (entry.path().extension() == ".jsonld") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());

  std::map<std::string, int64_t> expected;             // stream -> records
  std::map<std::string, std::set<std::string>> forms;  // type -> forms ingested
  std::set<std::string> unmapped;
  std::set<std::string> personal;  // raw values that must not reach disk
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.filename().string());
    json entity = json::parse(ReadAll(file));
    const std::string type = entity["type"];
    const config::Stream* stream = StreamOf(type);
    if (stream == nullptr) {
      unmapped.insert(type);
      continue;
    }
    const bool normalized =
        file.filename().string().find("-normalized") != std::string::npos;
    const bool key_values = !normalized;
    for (const auto& [key, value] : entity.items()) {
      if (kPersonalAttributes.count(key) > 0 ||
          (stream->personal() && key == "address")) {
        Strings(value, personal);
      }
    }
    if (stream->personal()) {
      personal.insert(entity["id"].get<std::string>());
      personal.insert(transform::NormalizeIdentifier(entity["id"].get<std::string>()));
    }

    // 1. One entity, @context in the body.
    server::HttpResponse created = Post("/ngsi-ld/v1/entities", stream->id, entity.dump(),
                                        "application/ld+json", "", key_values);
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(json::parse(created.body)["accepted"], 1) << created.body;

    // 2. An upsert, the @context in a Link header.
    const json context = entity["@context"];
    const std::string url = context.is_array() ? context.back().get<std::string>()
                                               : context.get<std::string>();
    const std::string link = "<" + url +
                             ">; rel=\"http://www.w3.org/ns/json-ld#context\"; "
                             "type=\"application/ld+json\"";
    json bare = entity;
    bare.erase("@context");
    server::HttpResponse upserted =
        Post("/ngsi-ld/v1/entityOperations/upsert", stream->id,
             json::array({bare}).dump(), "application/json", link, key_values);
    ASSERT_EQ(upserted.status, 200) << upserted.body;
    EXPECT_EQ(json::parse(upserted.body)["accepted"], 1) << upserted.body;

    // 3. A subscription's notification (the form is detected).
    json notification = {{"id", "urn:ngsi-ld:Notification:" + type},
                         {"type", "Notification"},
                         {"subscriptionId", "urn:ngsi-ld:Subscription:demo"},
                         {"notifiedAt", "2025-06-01T12:00:00.000Z"},
                         {"data", json::array({bare})}};
    server::HttpResponse notified = Post("/ngsi-ld/v1/notify", stream->id,
                                         notification.dump(), "application/json", link,
                                         /*key_values=*/false);
    ASSERT_EQ(notified.status, 200) << notified.body;
    EXPECT_EQ(json::parse(notified.body)["accepted"], 1) << notified.body;

    expected[stream->id] += 3;
    forms[type].insert(normalized ? "normalized" : "keyValues");
  }
  // The demo city maps every type the examples hold, each in both forms.
  EXPECT_TRUE(unmapped.empty()) << "unmapped types: " << *unmapped.begin();
  EXPECT_GE(forms.size(), 13u);
  for (const auto& [type, f] : forms) EXPECT_EQ(f.size(), 2u) << type;
  for (const auto& [stream, n] : expected) {
    EXPECT_EQ(*trust_->store().CountRecords(stream), n) << stream;
  }

  // Personal values come out pseudonymised or not at all: the store's files
  // (database and WAL, scanned while open) never hold them.
  ASSERT_GT(personal.count("3456ABC"), 0u);
  ASSERT_GT(personal.count("KA052134"), 0u);
  std::string bytes;
  for (const std::string& f : trust_->store().Files()) {
    if (fs::exists(f)) bytes += ReadAll(f);
  }
  ASSERT_GT(bytes.size(), 10000u);
  for (const std::string& value : personal) {
    EXPECT_EQ(bytes.find(value), std::string::npos) << "raw personal value on disk";
  }
  // Non-personal streams are stored plain, and only their mapped fields.
  EXPECT_NE(bytes.find("urn:ngsi-ld:OffStreetParking:porto-ParkingLot-23889"),
            std::string::npos);
  EXPECT_EQ(bytes.find("Parque de estacionamento Trindade"), std::string::npos);

  // The transport department reads vehicles with pseudonymous plates.
  server::HttpRequest read;
  read.method = "GET";
  read.path = "/v1/streams/mobility.vehicles/records";
  read.query = {{"purpose", "traffic-management"}};
  auto party = server::IssueToken(trust_->config(), trust_->store().tokens(), clock_,
                                  random_, "transport-dept", "", "reader");
  ASSERT_TRUE(party.ok());
  read.headers["authorization"] = "Bearer " + party->token;
  server::HttpResponse rows = api_->Handle(read);
  ASSERT_EQ(rows.status, 200) << rows.body;
  int n = 0;
  for (absl::string_view line : absl::StrSplit(rows.body, '\n', absl::SkipEmpty())) {
    json row = json::parse(std::string(line));
    ++n;
    EXPECT_EQ(row["plate"].get<std::string>().rfind("ps_", 0), 0u) << row;
  }
  EXPECT_EQ(n, 6);
  for (const std::string& value : personal) {
    EXPECT_EQ(rows.body.find(value), std::string::npos);
  }
}

}  // namespace
}  // namespace privacity
