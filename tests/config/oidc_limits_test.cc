// The `oidc` and `limits` sections of city.yaml: what they read, every
// mistake they report (with line:column), and the round trip through ToYaml.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/loader.h"
#include "config/model.h"
#include "gtest/gtest.h"

namespace privacity::config {
namespace {

const std::string kDataDir = std::string(PRIVACITY_TEST_DATA) + "/config";

std::string BaseText() {
  std::ifstream in(kDataDir + "/city.yaml", std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class OidcLimitsConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/privacity-oidc-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    jwks_path_ = dir_ + "/jwks.json";
    std::ofstream(jwks_path_) << R"({"keys":[]})";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Oidc(const std::string& body) const {
    return absl::StrCat(BaseText(), "\noidc:\n", body);
  }
  std::string Valid() const {
    return Oidc(absl::StrCat(
        "  issuer: https://id.example/realms/city\n", "  audience: privacity\n",
        "  jwks_file: ", jwks_path_, "\n", "  party_claim: azp\n", "  parties:\n",
        "    planning-portal: planning-dept\n", "    \"lab-client\": lab\n",
        "  identifiers_claim: privacity_ids\n"));
  }

  // The only error's line, column and message.
  static std::string OnlyError(const std::string& text) {
    const std::vector<ConfigError> errors = CheckConfig(text, kDataDir);
    std::vector<std::string> lines;
    for (const ConfigError& e : errors) {
      lines.push_back(absl::StrCat(e.line, ":", e.column, ": ", e.message));
    }
    EXPECT_EQ(errors.size(), 1u) << absl::StrJoin(lines, "\n");
    return lines.empty() ? "" : lines.front();
  }
  // 1-based line of the only line of `text` containing `needle`.
  static int LineOf(const std::string& text, const std::string& needle) {
    const size_t pos = text.find(needle);
    EXPECT_NE(pos, std::string::npos) << needle;
    EXPECT_EQ(text.find(needle, pos + 1), std::string::npos) << needle;
    return static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n')) + 1;
  }

  std::string dir_;
  std::string jwks_path_;
};

TEST_F(OidcLimitsConfigTest, ReadsAnOidcSectionWithAJwksFile) {
  auto config = ParseConfig(Valid(), "city.yaml", kDataDir);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->oidc.has_value());
  const config::Oidc& o = *config->oidc;
  EXPECT_EQ(o.issuer, "https://id.example/realms/city");
  EXPECT_EQ(o.audience, "privacity");
  EXPECT_EQ(o.jwks_file, jwks_path_);
  EXPECT_EQ(o.jwks_json, R"({"keys":[]})");
  EXPECT_TRUE(o.jwks_url.empty());
  EXPECT_EQ(o.leeway, absl::Seconds(60));
  EXPECT_EQ(o.party_claim, "azp");
  EXPECT_EQ(o.parties.size(), 2u);
  EXPECT_EQ(o.parties.at("planning-portal"), "planning-dept");
  EXPECT_EQ(o.parties.at("lab-client"), "lab");
  EXPECT_EQ(o.identifiers_claim, "privacity_ids");
  EXPECT_FALSE(config->limits.has_value());
}

TEST_F(OidcLimitsConfigTest, ReadsAUrlWithRefreshAndLeeway) {
  const std::string text = Oidc(
      "  issuer: https://id.example/realms/city\n"
      "  audience: privacity\n"
      "  jwks_url: https://id.example/realms/city/protocol/openid-connect/certs\n"
      "  jwks_refresh: 15m\n"
      "  leeway: 0\n"
      "  identifiers_claim: privacity_ids\n");
  auto config = ParseConfig(text, "city.yaml", kDataDir);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->oidc->jwks_refresh, absl::Minutes(15));
  EXPECT_EQ(config->oidc->leeway, absl::ZeroDuration());
  EXPECT_TRUE(config->oidc->party_claim.empty());
}

TEST_F(OidcLimitsConfigTest, ReportsEachOidcMistakeWhereItIs) {
  const std::string issuer = "  issuer: https://id.example/realms/city\n";
  const std::string audience = "  audience: privacity\n";
  const std::string file = absl::StrCat("  jwks_file: ", jwks_path_, "\n");
  const std::string ids = "  identifiers_claim: privacity_ids\n";
  struct Case {
    std::string body;
    std::string marker;  // a text on the error's line; "" for the section's first
    std::string message;
  };
  const std::vector<Case> cases = {
      {audience + file + ids, "", "missing required key 'issuer'"},
      {issuer + audience + ids, "", "exactly one of 'jwks_file' and 'jwks_url'"},
      {issuer + audience + file + "  jwks_url: https://x.example/certs\n" + ids, "",
       "exactly one of"},
      {issuer + audience + "  jwks_file: no-such-jwks.json\n" + ids, "no-such-jwks",
       "'jwks_file' 'no-such-jwks.json' cannot be read"},
      {issuer + audience + "  jwks_url: ftp://x.example/certs\n" + ids, "ftp://",
       "must be an https://"},
      {issuer + audience + file + "  jwks_refresh: 1h\n" + ids, "jwks_refresh",
       "applies only with 'jwks_url'"},
      {issuer + audience + "  jwks_url: https://x.example/c\n  jwks_refresh: 30s\n" + ids,
       "jwks_refresh", "at least 1m"},
      {issuer + audience + file + "  leeway: 10m\n" + ids, "leeway", "from 0s to 5m"},
      {issuer + audience + file, "", "maps no token to anyone"},
      {issuer + audience + file + "  party_claim: azp\n", "",
       "'party_claim' and 'parties' go together"},
      {issuer + audience + file + "  party_claim: azp\n  parties:\n    portal: nobody\n",
       "portal: nobody", "maps to undeclared party 'nobody'"},
      {issuer + audience + file +
           "  party_claim: azp\n  parties:\n    portal: everyone\n",
       "portal: everyone", "is the public"},
      {issuer + audience + file + ids + "  scopes: [a]\n", "scopes",
       "unknown key 'scopes'"},
      {"  issuer: \"\"\n" + audience + file + ids, "issuer",
       "'issuer' must not be empty"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    const std::string text = Oidc(c.body);
    const std::string error = OnlyError(text);
    const int line =
        c.marker.empty() ? LineOf(text, "oidc:") + 1 : LineOf(text, c.marker);
    EXPECT_EQ(error.rfind(absl::StrCat(line, ":"), 0), 0u) << error;
    EXPECT_NE(error.find(c.message), std::string::npos) << error;
  }
}

TEST_F(OidcLimitsConfigTest, ReadsLimits) {
  const std::string text =
      absl::StrCat(BaseText(),
                   "\nlimits:\n"
                   "  per_principal: {requests_per_second: 20, burst: 40}\n"
                   "  per_address: {requests_per_second: 0.5, burst: 3}\n"
                   "  parties:\n"
                   "    lab: {requests_per_second: 2, burst: 4}\n");
  auto config = ParseConfig(text, "city.yaml", kDataDir);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->limits.has_value());
  EXPECT_EQ(config->limits->per_principal->rate, 20);
  EXPECT_EQ(config->limits->per_principal->burst, 40);
  EXPECT_EQ(config->limits->per_address->rate, 0.5);
  EXPECT_EQ(config->limits->per_address->burst, 3);
  EXPECT_EQ(config->limits->parties.at("lab").rate, 2);
  EXPECT_EQ(config->limits->parties.at("lab").burst, 4);
}

TEST_F(OidcLimitsConfigTest, ReportsEachLimitsMistakeWhereItIs) {
  struct Case {
    std::string body;
    std::string marker;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"  per_principal: {requests_per_second: 0, burst: 4}\n", "per_principal",
       "must be above 0"},
      {"  per_principal: {requests_per_second: 5}\n", "per_principal",
       "missing required key 'burst'"},
      {"  per_address: {requests_per_second: 5, burst: 0}\n", "per_address",
       "'burst' must be between 1 and 1000000"},
      {"  per_address: {requests_per_second: fast, burst: 2}\n", "per_address",
       "must be a finite number"},
      {"  per_address: {requests_per_second: 5, burst: 2, rps: 1}\n", "per_address",
       "limits per_address: unknown key 'rps'"},
      {"  parties:\n    nobody: {requests_per_second: 1, burst: 1}\n", "nobody",
       "party 'nobody' is not declared"},
      {"  per_everything: {requests_per_second: 1, burst: 1}\n", "per_everything",
       "unknown key 'per_everything'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    const std::string text = absl::StrCat(BaseText(), "\nlimits:\n", c.body);
    const std::string error = OnlyError(text);
    EXPECT_EQ(error.rfind(absl::StrCat(LineOf(text, c.marker), ":"), 0), 0u) << error;
    EXPECT_NE(error.find(c.message), std::string::npos) << error;
  }
}

TEST_F(OidcLimitsConfigTest, RoundTripsThroughToYaml) {
  const std::string text =
      absl::StrCat(Valid(), "  leeway: 30s\n",
                   "limits:\n"
                   "  per_principal: {requests_per_second: 2.5, burst: 5}\n"
                   "  parties:\n"
                   "    lab: {requests_per_second: 1, burst: 2}\n");
  auto first = ParseConfig(text, "city.yaml", kDataDir);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string written = ToYaml(*first);
  auto second = ParseConfig(written, "written.yaml", kDataDir);
  ASSERT_TRUE(second.ok()) << second.status() << "\n" << written;
  EXPECT_EQ(ToYaml(*second), written);
  EXPECT_EQ(second->oidc->parties, first->oidc->parties);
  EXPECT_EQ(second->oidc->leeway, absl::Seconds(30));
  EXPECT_EQ(second->oidc->jwks_json, first->oidc->jwks_json);
  EXPECT_EQ(second->limits->per_principal->rate, 2.5);
  EXPECT_FALSE(second->limits->per_address.has_value());
  EXPECT_EQ(second->limits->parties.at("lab").burst, 2);
}

}  // namespace
}  // namespace privacity::config
