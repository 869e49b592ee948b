// Must-show: withdrawing consent removes the subject from the next
// aggregate for a consent-based purpose, even when that next query is
// identical to one whose answer the budget ledger cached.
#include "dp/noise.h"
#include "gtest/gtest.h"
#include "rights/consent.h"
#include "rights/erasure.h"
#include "rights_test_util.h"
#include "server/aggregate_view.h"

namespace privacity::rights {
namespace {

class ConsentAggregateTest : public testing::DemoTrustTest {
 protected:
  void SetUp() override {
    DemoTrustTest::SetUp();
    ASSERT_EQ(IngestMeters(), 3360);
  }

  absl::Status Change(const std::string& id, ConsentAction action) {
    return ChangeConsent(trust_->config(), trust_->store(), *desk_, clock_, Bi(id),
                         ConsentChange{.purpose = "research", .action = action})
        .status();
  }

  // Distinct subjects over the first week, one partition: with zero noise
  // the answer is exactly the number of subjects included.
  int64_t Subjects(int64_t* withheld = nullptr, bool* cached = nullptr) {
    server::AggregateRequest r;
    r.party = "uni-research";
    r.purpose = "research";
    r.stream = "energy.meter_readings";
    r.metric = dp::Metric::kDistinctSubjects;
    r.from = absl::FromCivil(absl::CivilDay(2013, 1, 1), absl::UTCTimeZone());
    r.to = absl::FromCivil(absl::CivilDay(2013, 1, 8), absl::UTCTimeZone());
    r.epsilon = 0.1;
    dp::ZeroNoiseForTestingNotPrivate zero(random_);
    auto result = server::RunAggregateWithNoise(*trust_, r, zero);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return -1;
    EXPECT_TRUE(result->decision.permitted());
    if (withheld != nullptr) *withheld = result->withheld;
    if (cached != nullptr) *cached = result->cached;
    const auto& rows = result->answer["rows"];
    EXPECT_EQ(rows.size(), 1u) << result->answer.dump();
    return rows.empty() ? -1 : rows[0]["distinct_subjects"].get<int64_t>();
  }
};

TEST_F(ConsentAggregateTest, WithdrawalRemovesTheSubjectFromTheNextAggregate) {
  ASSERT_TRUE(Change("MAC000002", ConsentAction::kGrant).ok());
  ASSERT_TRUE(Change("MAC000003", ConsentAction::kGrant).ok());
  ASSERT_TRUE(Change("MAC000004", ConsentAction::kGrant).ok());
  EXPECT_EQ(Subjects(), 3);
  // Unchanged data: the identical query is the cached answer, at no cost.
  bool cached = false;
  EXPECT_EQ(Subjects(nullptr, &cached), 3);
  EXPECT_TRUE(cached);

  ASSERT_TRUE(Change("MAC000003", ConsentAction::kWithdraw).ok());
  int64_t withheld = 0;
  EXPECT_EQ(Subjects(&withheld, &cached), 2);
  EXPECT_FALSE(cached);
  // 7 days of half-hourly readings of the three meters (of five) without
  // consent now.
  EXPECT_EQ(withheld, 3 * 7 * 48);

  // An objection to a consent-based purpose also leaves them out.
  ASSERT_TRUE(Change("MAC000004", ConsentAction::kObject).ok());
  EXPECT_EQ(Subjects(), 1);

  // An erasure changes the data too: the next identical query is fresh.
  ASSERT_TRUE(Change("MAC000003", ConsentAction::kGrant).ok());
  EXPECT_EQ(Subjects(), 2);
  ASSERT_TRUE(
      EraseSubject(trust_->store(), trust_->keyring(), *desk_, clock_, Bi("MAC000003"))
          .ok());
  EXPECT_EQ(Subjects(nullptr, &cached), 1);
  EXPECT_FALSE(cached);
}

}  // namespace
}  // namespace privacity::rights
