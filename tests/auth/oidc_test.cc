// What verified tokens mean: party mapping and citizen identifiers, over
// the demo city with an oidc section added.
#include "auth/oidc.h"

#include <filesystem>

#include "config/loader.h"
#include "gtest/gtest.h"
#include "jwt_test_util.h"

namespace privacity::auth {
namespace {

using nlohmann::json;
using testing::Jwks;
using testing::KeyKind;
using testing::TestKey;

constexpr char kIssuer[] = "https://id.example-city.eu/realms/city";
const absl::Time kNow = absl::FromUnixSeconds(1767225600);

class OidcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { key_ = new TestKey(KeyKind::kP256, "city-2026"); }
  static void TearDownTestSuite() { delete key_; }

  void SetUp() override {
    const std::filesystem::path city = std::filesystem::path(PRIVACITY_SOURCE_DIR) /
                                       "examples" / "demo-city" / "city.yaml";
    auto config = config::LoadConfigFile(city.string());
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *std::move(config);
    config::Oidc oidc;
    oidc.issuer = kIssuer;
    oidc.audience = "privacity";
    oidc.jwks_file = "jwks.json";
    oidc.jwks_json = Jwks({key_->Jwk()});
    oidc.party_claim = "azp";
    oidc.parties = {{"transport-portal", "transport-dept"},
                    {"utility-gateway", "energy-utility"},
                    {"group:transport", "transport-dept"},
                    {"group:energy", "energy-utility"}};
    oidc.identifiers_claim = "privacity_ids";
    config_.oidc = oidc;
    Rebuild();
  }

  void Rebuild() {
    auto keys = FileKeySource(*config_.oidc);
    ASSERT_TRUE(keys.ok()) << keys.status();
    auto v = OidcVerifier::Create(config_, *keys, clock_);
    ASSERT_TRUE(v.ok()) << v.status();
    oidc_ = *std::move(v);
  }

  std::string Token(json extra) {
    json claims = {
        {"iss", kIssuer}, {"aud", "privacity"}, {"exp", absl::ToUnixSeconds(kNow) + 300}};
    for (auto it = extra.begin(); it != extra.end(); ++it) claims[it.key()] = it.value();
    return key_->Token(claims);
  }

  void ExpectDenied(const absl::Status& s, const std::string& fragment) {
    EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
    EXPECT_NE(std::string(s.message()).find(fragment), std::string::npos) << s;
    for (const char* value : {"transport-portal", "group:", "MAC000", "24647"}) {
      EXPECT_EQ(std::string(s.message()).find(value), std::string::npos) << s;
    }
  }

  static TestKey* key_;
  ManualClock clock_{kNow};
  config::CityConfig config_;
  std::unique_ptr<OidcVerifier> oidc_;
};

TestKey* OidcTest::key_ = nullptr;

TEST_F(OidcTest, MapsAStringClaimToItsParty) {
  auto party = oidc_->PartyOf(Token({{"azp", "transport-portal"}}));
  ASSERT_TRUE(party.ok()) << party.status();
  EXPECT_EQ(*party, "transport-dept");
  EXPECT_EQ(*oidc_->PartyOf(Token({{"azp", "utility-gateway"}})), "energy-utility");
}

TEST_F(OidcTest, MapsAListClaimWhenItNamesOneParty) {
  config_.oidc->party_claim = "realm_access.roles";
  Rebuild();
  const auto roles = [&](json list) {
    return oidc_->PartyOf(Token({{"realm_access", {{"roles", list}}}}));
  };
  EXPECT_EQ(*roles({"offline_access", "group:energy"}), "energy-utility");
  // Two values of the same party are fine; two parties never.
  config_.oidc->parties["group:energy-admins"] = "energy-utility";
  Rebuild();
  EXPECT_EQ(*roles({"group:energy", "group:energy-admins"}), "energy-utility");
  ExpectDenied(roles({"group:energy", "group:transport"}).status(),
               "more than one party");
  ExpectDenied(roles({"offline_access"}).status(), "maps to no party");
  ExpectDenied(roles(json::array()).status(), "maps to no party");
}

TEST_F(OidcTest, RefusesUnmappedMissingOrMistypedClaims) {
  ExpectDenied(oidc_->PartyOf(Token({{"azp", "someone-else"}})).status(),
               "maps to no party");
  ExpectDenied(oidc_->PartyOf(Token({{"sub", "x"}})).status(), "lacks the configured");
  ExpectDenied(oidc_->PartyOf(Token({{"azp", {{"a", 1}}}})).status(),
               "neither a string nor a list");
  config_.oidc->party_claim.clear();
  config_.oidc->parties.clear();
  Rebuild();
  ExpectDenied(oidc_->PartyOf(Token({{"azp", "transport-portal"}})).status(),
               "no 'party_claim'");
}

TEST_F(OidcTest, VerificationFailuresStayUnauthenticated) {
  TestKey stranger(KeyKind::kEd25519, "city-2026");
  json claims = {{"iss", kIssuer},
                 {"aud", "privacity"},
                 {"exp", absl::ToUnixSeconds(kNow) + 300},
                 {"azp", "transport-portal"}};
  EXPECT_TRUE(absl::IsUnauthenticated(oidc_->PartyOf(stranger.Token(claims)).status()));
  clock_.Advance(absl::Minutes(10));
  EXPECT_TRUE(absl::IsUnauthenticated(
      oidc_->PartyOf(Token({{"azp", "transport-portal"}})).status()));
}

TEST_F(OidcTest, CitizenIdentifiersAreReadFilteredAndDeduplicated) {
  auto ids = oidc_->VerifyCitizenJwt(
      Token({{"privacity_ids",
              {{{"stream", "energy.meter_readings"}, {"id", "MAC000002"}},
               {{"stream", "mobility.trips"}, {"id", "24647"}},
               {{"stream", "energy.meter_readings"}, {"id", "MAC000002"}},
               {{"stream", "footfall.counts"}, {"id", "x"}},      // no subjects
               {{"stream", "water.readings"}, {"id", "y"}}}}}));  // undeclared
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_EQ((*ids)[0], (SubjectIdentifier{"energy.meter_readings", "MAC000002"}));
  EXPECT_EQ((*ids)[1], (SubjectIdentifier{"mobility.trips", "24647"}));
}

TEST_F(OidcTest, CitizenTokensThatVouchForNoOneAreRefused) {
  const auto ids = [&](json value) {
    return oidc_->VerifyCitizenJwt(Token({{"privacity_ids", value}})).status();
  };
  ExpectDenied(oidc_->VerifyCitizenJwt(Token({{"sub", "x"}})).status(),
               "lacks the configured identifiers claim");
  ExpectDenied(ids("MAC000002"), "not a list");
  ExpectDenied(ids({"MAC000002"}), "object");
  ExpectDenied(ids({{{"stream", "energy.meter_readings"}}}), "object");
  ExpectDenied(ids({{{"stream", "energy.meter_readings"}, {"id", 24647}}}), "object");
  ExpectDenied(
      ids({{{"stream", "energy.meter_readings"}, {"id", "MAC000002"}, {"extra", 1}}}),
      "object");
  ExpectDenied(ids({{{"stream", "energy.meter_readings"}, {"id", ""}}}), "empty");
  ExpectDenied(
      ids({{{"stream", "energy.meter_readings"}, {"id", std::string(257, 'a')}}}),
      "longer than 256");
  ExpectDenied(ids({{{"stream", "footfall.counts"}, {"id", "x"}}}),
               "names no stream of this trust with data subjects");
  json many = json::array();
  for (int i = 0; i < 33; ++i) {
    many.push_back({{"stream", "mobility.trips"}, {"id", std::to_string(i)}});
  }
  ExpectDenied(ids(many), "more than 32");
  config_.oidc->identifiers_claim.clear();
  Rebuild();
  ExpectDenied(ids({{{"stream", "mobility.trips"}, {"id", "24647"}}}),
               "no 'identifiers_claim'");
}

TEST(OidcConfigTest, FileKeySourceAndCreateValidate) {
  config::Oidc url;
  url.jwks_url = "https://id.example/certs";
  EXPECT_TRUE(absl::IsFailedPrecondition(FileKeySource(url).status()));
  config::Oidc bad;
  bad.jwks_file = "jwks.json";
  bad.jwks_json = "{\"keys\":[]}";
  const absl::Status s = FileKeySource(bad).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(std::string(s.message()).find("jwks.json"), std::string::npos) << s;

  config::CityConfig no_oidc;
  ManualClock clock(kNow);
  EXPECT_TRUE(
      absl::IsInvalidArgument(OidcVerifier::Create(no_oidc, nullptr, clock).status()));
}

}  // namespace
}  // namespace privacity::auth
