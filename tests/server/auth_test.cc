// Tokens: the store's token table and issuing, verifying, revoking.
#include "server/auth.h"

#include <fstream>
#include <sstream>

#include "common/encoding.h"
#include "crypto/crypto.h"
#include "demo_trust.h"
#include "gtest/gtest.h"

namespace privacity::server {
namespace {

class AuthTest : public DemoTrustTest {
 protected:
  HttpRequest WithAuth(const std::string& value) {
    HttpRequest r;
    r.method = "GET";
    r.path = "/v1/x";
    r.headers["authorization"] = value;
    return r;
  }
};

TEST_F(AuthTest, TokenStoreInsertFindRevokeList) {
  store::TokenStore& tokens = trust_->store().tokens();
  store::TokenRecord t;
  t.token_hash = std::string(32, 'h');
  t.party = "energy-utility";
  t.stream = "energy.meter_readings";
  t.label = "meter gateway";
  t.created_us = 10;
  auto id = tokens.InsertToken(t);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_TRUE(absl::IsAlreadyExists(tokens.InsertToken(t).status()));
  t.token_hash = "short";
  EXPECT_TRUE(absl::IsInvalidArgument(tokens.InsertToken(t).status()));
  t.token_hash = std::string(32, 'i');
  t.party = "";
  EXPECT_TRUE(absl::IsInvalidArgument(tokens.InsertToken(t).status()));

  auto found = tokens.FindTokenByHash(std::string(32, 'h'));
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, *id);
  EXPECT_EQ((*found)->stream, "energy.meter_readings");
  EXPECT_EQ((*found)->label, "meter gateway");
  EXPECT_FALSE((*found)->revoked());
  EXPECT_FALSE(tokens.FindTokenByHash(std::string(32, 'z'))->has_value());

  ASSERT_TRUE(tokens.RevokeToken(*id, 100).ok());
  ASSERT_TRUE(tokens.RevokeToken(*id, 200).ok());  // keeps the first time
  EXPECT_EQ(*(*tokens.FindTokenByHash(std::string(32, 'h')))->revoked_us, 100);
  EXPECT_TRUE(absl::IsNotFound(tokens.RevokeToken(*id + 100, 1)));
  auto list = tokens.ListTokens();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE((*list)[0].revoked());
}

TEST_F(AuthTest, IssueStoresOnlyTheHash) {
  auto issued = IssueToken(trust_->config(), trust_->store().tokens(), clock_, random_,
                           "energy-utility", "", "desk");
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->token.rfind("pvt_", 0), 0u);
  EXPECT_EQ(issued->token.size(), 47u);
  auto list = trust_->store().tokens().ListTokens();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].token_hash, crypto::Sha256(issued->token));
  EXPECT_EQ((*list)[0].created_us, absl::ToUnixMicros(clock_.Now()));
  // The token's value is nowhere on disk.
  for (const std::string& file : trust_->store().Files()) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str().find(issued->token.substr(4)), std::string::npos) << file;
  }
  // Two tokens differ.
  auto second = IssueToken(trust_->config(), trust_->store().tokens(), clock_, random_,
                           "energy-utility", "", "");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->token, issued->token);
}

TEST_F(AuthTest, IssueRejectsUnknownPartyAndStream) {
  auto& tokens = trust_->store().tokens();
  EXPECT_TRUE(absl::IsNotFound(
      IssueToken(trust_->config(), tokens, clock_, random_, "nobody", "", "").status()));
  EXPECT_TRUE(absl::IsNotFound(IssueToken(trust_->config(), tokens, clock_, random_,
                                          "energy-utility", "no.such.stream", "")
                                   .status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      IssueToken(trust_->config(), tokens, clock_, random_, "public", "", "").status()));
  EXPECT_TRUE(tokens.ListTokens()->empty());
}

TEST_F(AuthTest, AuthenticateChecksHeaderTokenAndRevocation) {
  Authenticator auth(trust_->config(), trust_->store().tokens());
  auto issued = IssueToken(trust_->config(), trust_->store().tokens(), clock_, random_,
                           "transport-dept", "traffic.anpr", "camera 1");
  ASSERT_TRUE(issued.ok());

  auto ok = auth.Authenticate(WithAuth("Bearer " + issued->token));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->party, "transport-dept");
  EXPECT_EQ(ok->stream, "traffic.anpr");
  EXPECT_TRUE(ok->sensor());
  EXPECT_TRUE(auth.Authenticate(WithAuth("bearer  " + issued->token + " ")).ok());

  HttpRequest none;
  EXPECT_TRUE(absl::IsUnauthenticated(auth.Authenticate(none).status()));
  for (const std::string& bad :
       {std::string("Basic abc"), std::string("Bearer"), "Bearer " + issued->token + "x",
        "Bearer " + issued->token.substr(4), "Bearer pvt_" + std::string(43, '!'),
        "Bearer pvt_" + std::string(43, 'a')}) {
    absl::Status s = auth.Authenticate(WithAuth(bad)).status();
    EXPECT_TRUE(absl::IsUnauthenticated(s)) << bad;
    EXPECT_EQ(std::string(s.message()).find(issued->token.substr(4)), std::string::npos);
  }

  ASSERT_TRUE(RevokeTokenByValue(trust_->store().tokens(), clock_, issued->token).ok());
  EXPECT_TRUE(absl::IsUnauthenticated(
      auth.Authenticate(WithAuth("Bearer " + issued->token)).status()));
  EXPECT_TRUE(absl::IsNotFound(RevokeTokenByValue(trust_->store().tokens(), clock_,
                                                  "pvt_" + std::string(43, 'b'))));
}

TEST_F(AuthTest, TokenOfAPartyRemovedFromConfigIsRefused) {
  const std::string token = Issue("uni-research");
  config::CityConfig smaller = trust_->config();
  std::erase_if(smaller.parties,
                [](const config::Party& p) { return p.id == "uni-research"; });
  Authenticator auth(smaller, trust_->store().tokens());
  EXPECT_TRUE(
      absl::IsUnauthenticated(auth.Authenticate(WithAuth("Bearer " + token)).status()));
}

}  // namespace
}  // namespace privacity::server
