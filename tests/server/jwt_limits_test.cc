// JWT bearer tokens and rate limits through the API (ApiService::Handle),
// over the demo city with an oidc and a limits section. Keys are made at
// test time; the JWKS URL test serves the key set from an in-test server on
// a free loopback port.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "auth/jwt_test_util.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "demo_trust.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/http/http_server.h"
#include "server/oidc_setup.h"
#include "server/routes.h"
#include "server/trust.h"

namespace privacity::server {
namespace {

using auth::testing::Jwks;
using auth::testing::KeyKind;
using auth::testing::TestKey;
using nlohmann::json;

constexpr char kIssuer[] = "https://id.demo-city.example/realms/city";
constexpr char kMeters[] = "energy.meter_readings";
const absl::Time kNow = absl::FromUnixSeconds(1767225600);

TestKey& Key() {
  static TestKey* key = new TestKey(KeyKind::kEd25519, "city-1");
  return *key;
}

// A trust over the demo city with `edit` applied to its config.
class ConfiguredTrustTest : public ::testing::Test {
 protected:
  void Open(const std::function<void(config::CityConfig&)>& edit) {
    char tmpl[] = "/tmp/privacity-jwt-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    const std::filesystem::path city = std::filesystem::path(PRIVACITY_SOURCE_DIR) /
                                       "examples" / "demo-city" / "city.yaml";
    auto config = config::LoadConfigFile(city.string());
    ASSERT_TRUE(config.ok()) << config.status();
    edit(*config);
    ASSERT_TRUE(Trust::Initialize(*config, dir_, clock_, random_).ok());
    auto trust = Trust::Open(*config, dir_, clock_, random_);
    ASSERT_TRUE(trust.ok()) << trust.status();
    trust_ = std::move(*trust);
  }
  void OpenApi(ApiOptions options = {}) {
    auto api = ApiService::Create(*trust_, std::move(options));
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(*api);
  }
  void TearDown() override {
    api_.reset();
    trust_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  static config::Oidc OidcSection() {
    config::Oidc oidc;
    oidc.issuer = kIssuer;
    oidc.audience = "privacity";
    oidc.jwks_file = "jwks.json";
    oidc.jwks_json = Jwks({Key().Jwk()});
    oidc.party_claim = "azp";
    oidc.parties = {{"transport-portal", "transport-dept"},
                    {"utility-gateway", "energy-utility"}};
    return oidc;
  }

  std::string Jwt(const std::string& azp, TestKey& key = Key()) {
    return key.Token({{"iss", kIssuer},
                      {"aud", "privacity"},
                      {"azp", azp},
                      {"sub", "f3c1-personal-subject"},
                      {"exp", absl::ToUnixSeconds(clock_.Now()) + 300}});
  }

  std::string Issue(const std::string& party, const std::string& stream = "") {
    auto issued = IssueToken(trust_->config(), trust_->store().tokens(), clock_, random_,
                             party, stream, "test");
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? issued->token : std::string();
  }

  HttpResponse Call(const std::string& method, const std::string& path,
                    const std::string& token, const std::string& body = "",
                    std::map<std::string, std::string> query = {},
                    const std::string& address = "192.0.2.10") {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);
    request.body = body;
    request.remote_address = address;
    if (!token.empty()) request.headers["authorization"] = "Bearer " + token;
    if (!body.empty()) request.headers["content-type"] = "application/x-ndjson";
    return api_->Handle(request);
  }
  HttpResponse ReadMeters(const std::string& token,
                          const std::string& address = "192.0.2.10") {
    return Call("GET", absl::StrCat("/v1/streams/", kMeters, "/records"), token, "",
                {{"purpose", "grid-planning"}}, address);
  }

  static std::string Code(const HttpResponse& r) {
    return json::parse(r.body)["error"]["code"].get<std::string>();
  }
  static std::string Message(const HttpResponse& r) {
    return json::parse(r.body)["error"]["message"].get<std::string>();
  }
  static std::string HeaderOf(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  ManualClock clock_{kNow};
  InsecureDeterministicRandomForTesting random_{11};
  std::string dir_;
  std::unique_ptr<Trust> trust_;
  std::unique_ptr<ApiService> api_;
};

TEST_F(ConfiguredTrustTest, AJwtActsAsItsMappedPartyOnly) {
  Open([](config::CityConfig& c) { c.oidc = OidcSection(); });
  OpenApi();
  const std::string sensor = Issue("energy-utility", kMeters);
  ASSERT_EQ(Call("POST", absl::StrCat("/v1/streams/", kMeters, "/records"), sensor,
                 MeterNdjson(3))
                .status,
            200);
  // The utility's JWT reads its stream, as its opaque token does.
  HttpResponse utility = ReadMeters(Jwt("utility-gateway"));
  ASSERT_EQ(utility.status, 200) << utility.body;
  EXPECT_EQ(utility.body, ReadMeters(Issue("energy-utility")).body);
  // The transport department's JWT cannot read the utility's stream.
  HttpResponse transport = ReadMeters(Jwt("transport-portal"));
  EXPECT_EQ(transport.status, 403) << transport.body;
  // A JWT is never a sensor: it cannot push records.
  HttpResponse push = Call("POST", absl::StrCat("/v1/streams/", kMeters, "/records"),
                           Jwt("utility-gateway"), MeterNdjson(1));
  EXPECT_EQ(push.status, 403);
  EXPECT_EQ(Code(push), "sensor-token-required");
}

TEST_F(ConfiguredTrustTest, UnmappedForgedOrUnexpectedJwtsAreRefused) {
  Open([](config::CityConfig& c) { c.oidc = OidcSection(); });
  OpenApi();
  HttpResponse unmapped = ReadMeters(Jwt("someone-else"));
  EXPECT_EQ(unmapped.status, 403);
  EXPECT_NE(Message(unmapped).find("maps to no party"), std::string::npos);
  EXPECT_EQ(unmapped.body.find("someone-else"), std::string::npos);
  EXPECT_EQ(unmapped.body.find("f3c1"), std::string::npos);

  TestKey stranger(KeyKind::kEd25519, "city-1");
  HttpResponse forged = ReadMeters(Jwt("utility-gateway", stranger));
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(HeaderOf(forged, "WWW-Authenticate"), "Bearer");
  EXPECT_NE(Message(forged).find("signature does not verify"), std::string::npos);

  clock_.Advance(absl::Minutes(1));
  const std::string token = Jwt("utility-gateway");
  clock_.Advance(absl::Minutes(10));
  HttpResponse expired = ReadMeters(token);
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(Message(expired).find("expired"), std::string::npos);
}

TEST_F(ConfiguredTrustTest, WithoutOidcAJwtIsRefusedAndOpaqueTokensWork) {
  Open([](config::CityConfig&) {});
  OpenApi();
  EXPECT_EQ(api_->oidc(), nullptr);
  HttpResponse r = ReadMeters(Jwt("utility-gateway"));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(Message(r).find("no 'oidc' section"), std::string::npos);
  EXPECT_EQ(ReadMeters(Issue("energy-utility")).status, 200);
}

TEST_F(ConfiguredTrustTest, BadJwksStopsTheApiFromStarting) {
  Open([](config::CityConfig& c) {
    c.oidc = OidcSection();
    c.oidc->jwks_json = R"({"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]})";
  });
  const absl::Status s = ApiService::Create(*trust_, ApiOptions{}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(std::string(s.message()).find("jwks_file"), std::string::npos) << s;
}

TEST_F(ConfiguredTrustTest, PerPrincipalLimitGives429ThenRecovers) {
  Open([](config::CityConfig& c) {
    c.oidc = OidcSection();
    c.limits = config::Limits{};
    c.limits->per_principal = config::RateLimit{0.5, 3};  // 3 at once, one per 2 s
  });
  OpenApi();
  const std::string opaque = Issue("energy-utility");
  const std::string jwt = Jwt("utility-gateway");
  // A party's opaque token and its JWT share one bucket.
  EXPECT_EQ(ReadMeters(opaque).status, 200);
  EXPECT_EQ(ReadMeters(jwt).status, 200);
  EXPECT_EQ(ReadMeters(opaque, "198.51.100.1").status, 200);
  HttpResponse limited = ReadMeters(jwt);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(Code(limited), "rate-limited");
  EXPECT_EQ(HeaderOf(limited, "Retry-After"), "2");
  EXPECT_NE(Message(limited).find("retry in 2 s"), std::string::npos);
  // Another party has its own bucket.
  EXPECT_EQ(ReadMeters(Issue("transport-dept")).status, 403);  // no agreement, not 429
  // Open routes need no principal and are not limited per principal.
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);

  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(ReadMeters(opaque).status, 429);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(ReadMeters(opaque).status, 200);
  EXPECT_EQ(ReadMeters(opaque).status, 429);

  const std::string metrics = Call("GET", "/metrics", "").body;
  EXPECT_NE(metrics.find("privacity_http_rate_limited_total{scope=\"principal\"} 3"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("privacity_http_rate_limited_total{scope=\"address\"} 0"),
            std::string::npos);
  EXPECT_NE(metrics.find("status=\"429\""), std::string::npos);
}

TEST_F(ConfiguredTrustTest, PartyOverrideReplacesThePrincipalLimit) {
  Open([](config::CityConfig& c) {
    c.limits = config::Limits{};
    c.limits->per_principal = config::RateLimit{1, 1};
    c.limits->parties["energy-utility"] = config::RateLimit{1, 4};
  });
  OpenApi();
  const std::string utility = Issue("energy-utility");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ReadMeters(utility).status, 200) << i;
  EXPECT_EQ(ReadMeters(utility).status, 429);
  const std::string transport = Issue("transport-dept");
  EXPECT_EQ(ReadMeters(transport).status, 403);
  EXPECT_EQ(ReadMeters(transport).status, 429);
  // Sensor tokens have a bucket each (under their party's limit).
  const std::string sensor_a = Issue("energy-utility", kMeters);
  const std::string sensor_b = Issue("energy-utility", kMeters);
  const std::string path = absl::StrCat("/v1/streams/", kMeters, "/records");
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(Call("POST", path, sensor_a, MeterNdjson(1)).status, 200);
  EXPECT_EQ(Call("POST", path, sensor_a, MeterNdjson(1)).status, 429);
  EXPECT_EQ(Call("POST", path, sensor_b, MeterNdjson(1)).status, 200);
}

TEST_F(ConfiguredTrustTest, PerAddressLimitComesBeforeAuthentication) {
  Open([](config::CityConfig& c) {
    c.limits = config::Limits{};
    c.limits->per_address = config::RateLimit{1, 2};
  });
  OpenApi();
  // Guessing tokens from one address is slowed like anything else.
  EXPECT_EQ(ReadMeters("pvt_" + std::string(43, 'A')).status, 401);
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
  HttpResponse limited = ReadMeters(Issue("energy-utility"));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(HeaderOf(limited, "Retry-After"), "1");
  EXPECT_NE(Message(limited).find("from this address"), std::string::npos);
  EXPECT_EQ(limited.body.find("192.0.2.10"), std::string::npos);
  // Another address is not affected.
  EXPECT_EQ(ReadMeters(Issue("energy-utility"), "203.0.113.5").status, 200);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
  EXPECT_EQ(Call("GET", "/healthz", "").status, 429);
  const std::string metrics = Call("GET", "/metrics", "", "", {}, "203.0.113.5").body;
  EXPECT_NE(metrics.find("privacity_http_rate_limited_total{scope=\"address\"} 2"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("route=\"rate_limited\",status=\"429\"} 2"), std::string::npos)
      << metrics;
}

TEST_F(ConfiguredTrustTest, JwksUrlIsFetchedAtStartAndAfterRotation) {
  // An in-test identity provider on a free loopback port.
  std::string served = Jwks({Key().Jwk()});
  absl::Mutex mu;
  int fetches = 0;
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 1;
  auto idp = HttpServer::Start(options, [&](const HttpRequest& r) {
    absl::MutexLock lock(&mu);
    HttpResponse response;
    if (r.path != "/certs") {
      response.status = 404;
      return response;
    }
    ++fetches;
    response.body = served;
    return response;
  });
  ASSERT_TRUE(idp.ok()) << idp.status();
  const int port = (*idp)->port();
  Open([&](config::CityConfig& c) {
    c.oidc = OidcSection();
    c.oidc->jwks_file.clear();
    c.oidc->jwks_json.clear();
    c.oidc->jwks_url = absl::StrCat("http://127.0.0.1:", port, "/certs");
  });
  OpenApi();
  EXPECT_EQ(ReadMeters(Jwt("utility-gateway")).status, 200);

  // The provider rotates to a P-256 key; a token with the new kid makes the
  // trust fetch again (once the minimum interval has passed).
  TestKey rotated(KeyKind::kP256, "city-2");
  {
    absl::MutexLock lock(&mu);
    served = Jwks({Key().Jwk(), rotated.Jwk()});
  }
  clock_.Advance(absl::Seconds(30));
  EXPECT_EQ(ReadMeters(Jwt("utility-gateway", rotated)).status, 200);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(fetches, 2);
}

TEST_F(ConfiguredTrustTest, AnUnreachableJwksUrlStopsTheApiFromStarting) {
  Open([](config::CityConfig& c) {
    c.oidc = OidcSection();
    c.oidc->jwks_file.clear();
    c.oidc->jwks_url = "http://127.0.0.1:1/certs";  // nothing listens on port 1
  });
  const absl::Status s = ApiService::Create(*trust_, ApiOptions{}).status();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("jwks_url"), std::string::npos) << s;
}

// A citizen's token from the identity provider opens a session for the
// identifiers in its claim, as a claim code would, and for those only.
TEST_F(ConfiguredTrustTest, ACitizenJwtOpensASessionForItsIdentifiers) {
  Open([](config::CityConfig& c) {
    c.oidc = OidcSection();
    c.oidc->identifiers_claim = "city_ids";
  });
  OpenApi();
  const std::string sensor = Issue("energy-utility", kMeters);
  ASSERT_EQ(Call("POST", absl::StrCat("/v1/streams/", kMeters, "/records"), sensor,
                 MeterNdjson(3) + MeterNdjson(2, "MAC000099"))
                .status,
            200);
  auto citizen = [&](const std::string& meter) {
    return Key().Token({{"iss", kIssuer},
                        {"aud", "privacity"},
                        {"sub", "citizen"},
                        {"city_ids", json::array({{{"stream", kMeters}, {"id", meter}}})},
                        {"exp", absl::ToUnixSeconds(clock_.Now()) + 300}});
  };
  // The session covers the claim's stream and its token reads /v1/me.
  HttpResponse session = Call("POST", "/v1/me/session", citizen("MAC000002"));
  ASSERT_EQ(session.status, 201) << session.body;
  const json opened = json::parse(session.body);
  EXPECT_EQ(opened["streams"], json::array({kMeters}));
  const std::string token = opened["token"].get<std::string>();
  EXPECT_EQ(Call("GET", "/v1/me/records", token).status, 200);
  // It is a citizen token: no party route accepts it.
  EXPECT_EQ(ReadMeters(token).status, 401);

  // A party's token lists no identifiers; a forged one does not verify.
  HttpResponse party = Call("POST", "/v1/me/session", Jwt("utility-gateway"));
  EXPECT_EQ(party.status, 403) << party.body;
  EXPECT_EQ(Code(party), "no-identifiers");
  TestKey stranger(KeyKind::kEd25519, "city-1");
  HttpResponse forged =
      Call("POST", "/v1/me/session",
           stranger.Token({{"iss", kIssuer},
                           {"aud", "privacity"},
                           {"exp", absl::ToUnixSeconds(clock_.Now()) + 300}}));
  EXPECT_EQ(forged.status, 401) << forged.body;
  EXPECT_EQ(forged.body.find("MAC0000"), std::string::npos);
}

TEST_F(ConfiguredTrustTest, WithoutOidcACitizenJwtOpensNoSession) {
  Open([](config::CityConfig&) {});
  OpenApi();
  HttpResponse r = Call("POST", "/v1/me/session", Jwt("utility-gateway"));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_NE(Message(r).find("claim code"), std::string::npos);
}

}  // namespace
}  // namespace privacity::server
