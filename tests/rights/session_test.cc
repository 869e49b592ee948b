#include "rights/session.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rights_test_util.h"

namespace privacity::rights {
namespace {

TEST(SessionManagerTest, IssuedTokenAuthenticatesUntilItExpires) {
  ManualClock clock(absl::FromUnixSeconds(1000));
  InsecureDeterministicRandomForTesting random(7);
  SessionManager sessions(clock, random);
  const std::string bi(32, 'b');
  auto issued = sessions.Issue(SessionSubject{{bi}, {"s"}});
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(issued->token.size(), 47u);
  EXPECT_EQ(issued->token.rfind("pvc_", 0), 0u);
  EXPECT_EQ(issued->expires, clock.Now() + absl::Minutes(15));
  auto session = sessions.Authenticate(issued->token);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(session->subject.blind_indexes, std::vector<std::string>{bi});
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
  auto a = sessions.Issue(SessionSubject{{std::string(32, 'a')}, {}});
  auto b = sessions.Issue(SessionSubject{{std::string(32, 'b')}, {}});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->token, b->token);
  std::string altered = a->token;
  altered[10] = altered[10] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(absl::IsUnauthenticated(sessions.Authenticate(altered).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(sessions.Authenticate("").status()));
  EXPECT_TRUE(
      absl::IsUnauthenticated(sessions.Authenticate(std::string(10000, 'x')).status()));
  sessions.Revoke(a->token);
  EXPECT_TRUE(absl::IsUnauthenticated(sessions.Authenticate(a->token).status()));
  // The same random part under a party token's prefix is not a session.
  EXPECT_TRUE(absl::IsUnauthenticated(
      sessions.Authenticate("pvt_" + b->token.substr(4)).status()));
  EXPECT_EQ(sessions.Authenticate(b->token)->subject.blind_indexes.front(),
            std::string(32, 'b'));
  sessions.RevokeSubject(std::string(32, 'b'));
  EXPECT_TRUE(absl::IsUnauthenticated(sessions.Authenticate(b->token).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(sessions.Issue(SessionSubject{{""}, {}}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(sessions.Issue(SessionSubject{}).status()));
}

TEST(SessionManagerTest, FullManagerDropsExpiredThenRefuses) {
  ManualClock clock(absl::FromUnixSeconds(1000));
  InsecureDeterministicRandomForTesting random(7);
  SessionManager sessions(clock, random, SessionOptions{.max_sessions = 2});
  ASSERT_TRUE(sessions.Issue(SessionSubject{{"a"}, {}}).ok());
  ASSERT_TRUE(sessions.Issue(SessionSubject{{"b"}, {}}).ok());
  EXPECT_TRUE(
      absl::IsResourceExhausted(sessions.Issue(SessionSubject{{"c"}, {}}).status()));
  clock.Advance(absl::Minutes(16));
  EXPECT_TRUE(sessions.Issue(SessionSubject{{"c"}, {}}).ok());
  EXPECT_EQ(sessions.size(), 1u);
}

TEST(SessionManagerTest, PruneDropsOnlyExpired) {
  ManualClock clock(absl::FromUnixSeconds(1000));
  InsecureDeterministicRandomForTesting random(7);
  SessionManager sessions(clock, random);
  ASSERT_TRUE(sessions.Issue(SessionSubject{{"x"}, {}}).ok());
  clock.Advance(absl::Minutes(10));
  auto later = sessions.Issue(SessionSubject{{"y"}, {}});
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
  EXPECT_EQ(sessions.Authenticate(issued->token)->subject.blind_indexes,
            std::vector<std::string>{Bi("MAC000002")});

  attempt.identifier = "MAC000003";  // someone else's meter with this code
  EXPECT_TRUE(absl::IsPermissionDenied(
      OpenCitizenSession(**verifier, sessions, attempt).status()));
  EXPECT_EQ(sessions.size(), 1u);
}

TEST_F(CitizenSessionTest, VerifiedIdentifiersBecomeOneSession) {
  SessionManager sessions(clock_, random_);
  const std::vector<SubjectIdentifier> ids = {{"energy.meter_readings", "MAC000002"},
                                              {"mobility.trips", "24647"},
                                              {"energy.meter_readings", " mac000002 "}};
  auto issued = OpenSessionForIdentifiers(trust_->config(), *indexer_, sessions, ids);
  ASSERT_TRUE(issued.ok()) << issued.status();
  auto session = sessions.Authenticate(issued->token);
  ASSERT_TRUE(session.ok());
  // The same meter twice (normalised) is one identifier.
  EXPECT_EQ(session->subject.blind_indexes,
            (std::vector<std::string>{Bi("MAC000002"), Bi("24647")}));
  EXPECT_EQ(session->subject.streams,
            (std::vector<std::string>{"energy.meter_readings", "mobility.trips"}));

  const std::vector<SubjectIdentifier> unknown = {{"no.such.stream", "x"}};
  EXPECT_TRUE(absl::IsNotFound(
      OpenSessionForIdentifiers(trust_->config(), *indexer_, sessions, unknown)
          .status()));
  const std::vector<SubjectIdentifier> anonymous = {{"footfall.counts", "x"}};
  EXPECT_TRUE(absl::IsFailedPrecondition(
      OpenSessionForIdentifiers(trust_->config(), *indexer_, sessions, anonymous)
          .status()));
  const std::vector<SubjectIdentifier> blank = {{"mobility.trips", "  "}};
  EXPECT_TRUE(absl::IsInvalidArgument(
      OpenSessionForIdentifiers(trust_->config(), *indexer_, sessions, blank).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      OpenSessionForIdentifiers(trust_->config(), *indexer_, sessions, {}).status()));
  EXPECT_EQ(sessions.size(), 1u);
}

}  // namespace
}  // namespace privacity::rights
