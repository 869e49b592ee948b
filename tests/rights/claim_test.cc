#include "rights/claim.h"

#include <set>

#include "gtest/gtest.h"
#include "rights_test_util.h"

namespace privacity::rights {
namespace {

using testing::DemoTrustTest;

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

class ClaimTest : public DemoTrustTest {
 protected:
  void SetUp() override {
    DemoTrustTest::SetUp();
    auto codes = ClaimCodes::Create(trust_->keyring());
    ASSERT_TRUE(codes.ok()) << codes.status();
    codes_ = std::move(*codes);
  }
  std::string Code(const std::string& stream, const std::string& id) {
    auto code = codes_->Compute(stream, id);
    EXPECT_TRUE(code.ok()) << code.status();
    return code.ok() ? *code : "";
  }
  std::unique_ptr<ClaimCodes> codes_;
};

TEST_F(ClaimTest, CodeHasTheDocumentedShape) {
  const std::string code = Code("energy.meter_readings", "MAC000002");
  ASSERT_EQ(code.size(), 13u);
  EXPECT_EQ(code[5], '-');
  EXPECT_EQ(code[11], '-');
  auto canonical = ParseClaimCode(code);
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  EXPECT_EQ(FormatClaimCode(*canonical), code);
}

TEST_F(ClaimTest, CodeDependsOnStreamAndNormalisedIdentifier) {
  const std::string a = Code("energy.meter_readings", "MAC000002");
  EXPECT_EQ(a, Code("energy.meter_readings", " mac-000002 "));
  EXPECT_NE(a, Code("energy.meter_readings", "MAC000003"));
  EXPECT_NE(a, Code("mobility.trips", "MAC000002"));
  std::set<std::string> distinct;
  for (int i = 0; i < 200; ++i)
    distinct.insert(Code("mobility.trips", std::to_string(24000 + i)));
  EXPECT_EQ(distinct.size(), 200u);
}

TEST_F(ClaimTest, CodeIsStableAcrossInstancesOfTheSameKey) {
  auto again = ClaimCodes::Create(trust_->keyring());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*(*again)->Compute("mobility.trips", "24647"),
            Code("mobility.trips", "24647"));
}

TEST_F(ClaimTest, VerifyAcceptsTheCodeAsPeopleTypeIt) {
  const std::string code = Code("mobility.trips", "24647");
  EXPECT_TRUE(codes_->Verify("mobility.trips", "24647", code).ok());
  std::string sloppy;
  for (char c : code) {
    if (c == '-') continue;
    char t = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c == '0') t = 'o';
    if (c == '1') t = 'l';
    sloppy.push_back(t);
    if (sloppy.size() % 4 == 0) sloppy.push_back(' ');
  }
  EXPECT_TRUE(codes_->Verify("mobility.trips", "24647", sloppy).ok()) << sloppy;
}

TEST_F(ClaimTest, EverySingleTypoAndNeighbourSwapIsCaughtByTheCheck) {
  auto canonical = ParseClaimCode(Code("mobility.trips", "24647"));
  ASSERT_TRUE(canonical.ok());
  for (int i = 0; i < 10; ++i) {
    for (int s = 0; s < 32; ++s) {
      std::string typo = *canonical;
      if (typo[i] == kAlphabet[s]) continue;
      typo[i] = kAlphabet[s];
      EXPECT_TRUE(absl::IsInvalidArgument(ParseClaimCode(typo).status()))
          << i << " " << s;
    }
  }
  for (int i = 0; i + 1 < 10; ++i) {
    std::string swapped = *canonical;
    if (swapped[i] == swapped[i + 1]) continue;
    std::swap(swapped[i], swapped[i + 1]);
    EXPECT_TRUE(absl::IsInvalidArgument(ParseClaimCode(swapped).status())) << i;
  }
}

TEST_F(ClaimTest, MalformedCodesAreInvalidArgument) {
  for (const char* bad :
       {"", "ABCDE", "ABCDE-FGHJK-MN", "ABCDE-FGHJU-0", "ABCDE-FGHJ!-0"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseClaimCode(bad).status())) << bad;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(codes_->Compute("mobility.trips", " - ").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(codes_->Compute("", "24647").status()));
}

TEST_F(ClaimTest, AWellFormedWrongCodeIsRefused) {
  // The right code for another identifier is well-formed but wrong.
  const std::string other = Code("mobility.trips", "24605");
  EXPECT_TRUE(absl::IsPermissionDenied(codes_->Verify("mobility.trips", "24647", other)));
  EXPECT_TRUE(absl::IsPermissionDenied(
      codes_->Verify("energy.meter_readings", "24647", Code("mobility.trips", "24647"))));
}

class ClaimVerifierTest : public ClaimTest {
 protected:
  void SetUp() override {
    ClaimTest::SetUp();
    auto verifier = ClaimVerifier::Create(trust_->config(), trust_->keyring(), clock_);
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    verifier_ = std::move(*verifier);
  }
  absl::Status Try(const std::string& id, const std::string& code,
                   const std::string& source) {
    return verifier_
        ->Verify(ClaimAttempt{
            .stream = "mobility.trips", .identifier = id, .code = code, .source = source})
        .status();
  }
  std::unique_ptr<ClaimVerifier> verifier_;
};

TEST_F(ClaimVerifierTest, RightCodeGivesTheBlindIndex) {
  auto bi = verifier_->Verify(ClaimAttempt{.stream = "mobility.trips",
                                           .identifier = "24647",
                                           .code = Code("mobility.trips", "24647"),
                                           .source = "192.0.2.1"});
  ASSERT_TRUE(bi.ok()) << bi.status();
  EXPECT_EQ(*bi, Bi("24647"));
}

TEST_F(ClaimVerifierTest, UnknownAndSubjectlessStreamsAreRefused) {
  ClaimAttempt a{.stream = "nope", .identifier = "1", .code = "x", .source = "s"};
  EXPECT_TRUE(absl::IsNotFound(verifier_->Verify(a).status()));
  a.stream = "footfall.counts";
  EXPECT_TRUE(absl::IsFailedPrecondition(verifier_->Verify(a).status()));
}

TEST_F(ClaimVerifierTest, BurstOfWrongCodesFromOneSourceIsThrottled) {
  const std::string wrong = Code("mobility.trips", "99999");
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(
        absl::IsPermissionDenied(Try(std::to_string(24000 + i), wrong, "198.51.100.7")));
  }
  // Locked: even a right code from that source is refused, for any identifier.
  const absl::Status locked =
      Try("24647", Code("mobility.trips", "24647"), "198.51.100.7");
  EXPECT_TRUE(absl::IsResourceExhausted(locked)) << locked;
  EXPECT_EQ(std::string(locked.message()).find("24647"), std::string::npos);
  // Another source is not affected.
  EXPECT_TRUE(Try("24647", Code("mobility.trips", "24647"), "203.0.113.9").ok());
  // After the window, the source may try again.
  clock_.Advance(absl::Minutes(15));
  EXPECT_TRUE(Try("24647", Code("mobility.trips", "24647"), "198.51.100.7").ok());
}

TEST_F(ClaimVerifierTest, WrongCodesFromManySourcesLockTheIdentifier) {
  const std::string wrong = Code("mobility.trips", "99999");
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(
        absl::IsPermissionDenied(Try("24647", wrong, absl::StrCat("10.0.0.", i))));
  }
  EXPECT_TRUE(absl::IsResourceExhausted(
      Try("24647", Code("mobility.trips", "24647"), "10.0.0.99")));
  // The same identifier however typed is the same subject.
  EXPECT_TRUE(absl::IsResourceExhausted(Try(" 24-647", wrong, "10.0.0.100")));
  // Other identifiers are not affected.
  EXPECT_TRUE(Try("24605", Code("mobility.trips", "24605"), "10.0.0.99").ok());
  clock_.Advance(absl::Minutes(14));
  EXPECT_TRUE(absl::IsResourceExhausted(
      Try("24647", Code("mobility.trips", "24647"), "10.0.0.99")));
  clock_.Advance(absl::Minutes(1));
  EXPECT_TRUE(Try("24647", Code("mobility.trips", "24647"), "10.0.0.99").ok());
}

TEST_F(ClaimVerifierTest, TyposAreNotCountedAsFailures) {
  std::string code = Code("mobility.trips", "24647");
  std::string typo = code;
  typo[0] = typo[0] == 'A' ? 'B' : 'A';
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(absl::IsInvalidArgument(Try("24647", typo, "192.0.2.5")));
  }
  EXPECT_TRUE(Try("24647", code, "192.0.2.5").ok());
}

TEST(FailureLimiterTest, SlidingWindow) {
  ManualClock clock(absl::FromUnixSeconds(1000));
  FailureLimiter limiter(
      clock, FailureLimitOptions{.max_failures = 3, .window = absl::Minutes(10)});
  limiter.RecordFailure("k");
  clock.Advance(absl::Minutes(5));
  limiter.RecordFailure("k");
  limiter.RecordFailure("k");
  EXPECT_TRUE(absl::IsResourceExhausted(limiter.Check("k")));
  EXPECT_TRUE(limiter.Check("other").ok());
  // The first failure leaves the window after 10 minutes: unlocked.
  clock.Advance(absl::Minutes(5));
  EXPECT_TRUE(limiter.Check("k").ok());
  limiter.RecordFailure("k");
  EXPECT_TRUE(absl::IsResourceExhausted(limiter.Check("k")));
}

TEST(FailureLimiterTest, FailsClosedWhenFull) {
  ManualClock clock(absl::FromUnixSeconds(1000));
  FailureLimiter limiter(
      clock,
      FailureLimitOptions{.max_failures = 3, .window = absl::Minutes(10), .max_keys = 2});
  limiter.RecordFailure("a");
  limiter.RecordFailure("b");
  EXPECT_TRUE(absl::IsResourceExhausted(limiter.Check("c")));
  EXPECT_TRUE(limiter.Check("a").ok());
  clock.Advance(absl::Minutes(10));
  EXPECT_TRUE(limiter.Check("c").ok());  // expired entries were dropped
}

}  // namespace
}  // namespace privacity::rights
