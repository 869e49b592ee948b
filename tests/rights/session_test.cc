#include "rights/session.h"

#include "gtest/gtest.h"
#include "rights_test_util.h"

namespace privacity::rights {
namespace {

TEST(SessionManagerTest, IssuedTokenAuthenticatesUntilItExpires) {
  ManualClock clock(absl::FromUnixSeconds(1000));
  InsecureDeterministicRandomForTesting random(7);
  SessionManager sessions(clock, random);
  const std::string bi(32, 'b');
  auto issued = sessions.Issue(bi);
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(issued->token.size(), 43u);
  EXPECT_EQ(issued->expires, clock.Now() + absl::Minutes(15));
  auto session = sessions.Authenticate(issued->token);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(session->blind_index, bi);
  clock.Advance(absl::Minutes(15) - absl::Seconds(1));
  EXPECT_TRUE(sessions.Authenticate(issued->token).ok());
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(absl::IsUnauthenticated(sessions.Authenticate(issued->token).status()));
  EXPECT_EQ(sessions.size(), 0u);  // dropped on sight
}

TEST(SessionManagerTest, UnknownAlteredAndRevokedTokensAreRefused) {
  ManualClock clock(absl::FromUnixSeconds(1000));
  InsecureDeterministicRandomForTesting random(7);
  SessionManager sessions(clock, random);
  auto a = sessions.Issue(std::string(32, 'a'));
  auto b = sessions.Issue(std::string(32, 'b'));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->token, b->token);
  std::string altered = a->token;
  altered[0] = altered[0] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(absl::IsUnauthenticated(sessions.Authenticate(altered).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(sessions.Authenticate("").status()));
  EXPECT_TRUE(
      absl::IsUnauthenticated(sessions.Authenticate(std::string(10000, 'x')).status()));
  sessions.Revoke(a->token);
  EXPECT_TRUE(absl::IsUnauthenticated(sessions.Authenticate(a->token).status()));
  EXPECT_EQ(sessions.Authenticate(b->token)->blind_index, std::string(32, 'b'));
  sessions.RevokeSubject(std::string(32, 'b'));
  EXPECT_TRUE(absl::IsUnauthenticated(sessions.Authenticate(b->token).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(sessions.Issue("").status()));
}

TEST(SessionManagerTest, PruneDropsOnlyExpired) {
  ManualClock clock(absl::FromUnixSeconds(1000));
  InsecureDeterministicRandomForTesting random(7);
  SessionManager sessions(clock, random);
  ASSERT_TRUE(sessions.Issue("x").ok());
  clock.Advance(absl::Minutes(10));
  auto later = sessions.Issue("y");
  ASSERT_TRUE(later.ok());
  clock.Advance(absl::Minutes(6));
  EXPECT_EQ(sessions.PruneExpired(), 1u);
  EXPECT_TRUE(sessions.Authenticate(later->token).ok());
}

class CitizenSessionTest : public testing::DemoTrustTest {};

TEST_F(CitizenSessionTest, ClaimCodeOpensASessionForThatSubjectOnly) {
  auto verifier = ClaimVerifier::Create(trust_->config(), trust_->keyring(), clock_);
  ASSERT_TRUE(verifier.ok());
  auto codes = ClaimCodes::Create(trust_->keyring());
  ASSERT_TRUE(codes.ok());
  SessionManager sessions(clock_, random_);
  ClaimAttempt attempt{.stream = "energy.meter_readings",
                       .identifier = "MAC000002",
                       .code = *(*codes)->Compute("energy.meter_readings", "MAC000002"),
                       .source = "192.0.2.1"};
  auto issued = OpenCitizenSession(**verifier, sessions, attempt);
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(sessions.Authenticate(issued->token)->blind_index, Bi("MAC000002"));

  attempt.identifier = "MAC000003";  // someone else's meter with this code
  EXPECT_TRUE(absl::IsPermissionDenied(
      OpenCitizenSession(**verifier, sessions, attempt).status()));
  EXPECT_EQ(sessions.size(), 1u);
}

}  // namespace
}  // namespace privacity::rights
