#include "rights/retention.h"

#include <limits>

#include "common/time_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rights_test_util.h"

namespace privacity::rights {
namespace {

constexpr char kTrips[] = "mobility.trips";
constexpr int64_t kAllEpochs = std::numeric_limits<int64_t>::max();

class RetentionTest : public testing::DemoTrustTest {
 protected:
  void SetUp() override {
    DemoTrustTest::SetUp();
    ASSERT_EQ(IngestMeters(), 3360);
    ASSERT_EQ(IngestTrips(), 1500);
  }

  SweepResult Sweep() {
    auto result = SweepRetention(trust_->config(), trust_->store(), trust_->keyring(),
                                 clock_, random_, log_);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : SweepResult{};
  }
  static const RetentionReceipt& Of(const SweepResult& r, const std::string& stream) {
    for (const RetentionReceipt& s : r.streams) {
      if (s.stream == stream) return s;
    }
    ADD_FAILURE() << "no receipt for " << stream;
    static const RetentionReceipt* const kNone = new RetentionReceipt();
    return *kNone;
  }
  std::vector<crypto::WrappedKey> Keys(crypto::KeyKind kind) {
    auto keys = trust_->store().keys().ListKeysBefore(kind, kTrips, kAllEpochs);
    EXPECT_TRUE(keys.ok());
    return keys.ok() ? *keys : std::vector<crypto::WrappedKey>{};
  }
  int64_t Count(const std::string& stream) {
    auto n = trust_->store().CountRecords(stream);
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : -1;
  }
  static int64_t Day(int y, int m, int d) {
    return EpochNumber(absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone()),
                       absl::Hours(24));
  }
  static absl::Time At(int y, int m, int d) {
    return absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone());
  }
};

TEST_F(RetentionTest, LinkabilityThenRetention) {
  // The demo trips span 2016-01-01 to 2016-01-06, one epoch a day.
  const std::vector<crypto::WrappedKey> pseudonym_keys =
      Keys(crypto::KeyKind::kPseudonym);
  ASSERT_EQ(pseudonym_keys.size(), 6u);
  ASSERT_FALSE(Keys(crypto::KeyKind::kSubjectDek).empty());
  auto bike = trust_->store().FindRecordsBySubject(Bi("24647"));
  ASSERT_TRUE(bike.ok());
  ASSERT_FALSE(bike->empty());

  // 2016-01-10: within every window for the trips; the 2013 meter readings
  // are past their 2-year retention.
  SweepResult first = Sweep();
  EXPECT_TRUE(first.compacted);
  EXPECT_EQ(Of(first, kTrips).records_deleted, 0);
  EXPECT_EQ(Of(first, kTrips).pseudonym_keys_destroyed, 0);
  EXPECT_EQ(Of(first, kTrips).records_unlinked, 0);
  EXPECT_EQ(Of(first, "energy.meter_readings").records_deleted, 3360);
  EXPECT_GE(Of(first, "energy.meter_readings").data_keys_destroyed, 5);
  EXPECT_EQ(Count("energy.meter_readings"), 0);
  EXPECT_EQ(Keys(crypto::KeyKind::kPseudonym).size(), 6u);

  // 2016-02-04: epochs that ended 30 days ago (2016-01-01..04) are unlinked.
  clock_.Set(At(2016, 2, 4));
  SweepResult second = Sweep();
  const RetentionReceipt& trips = Of(second, kTrips);
  EXPECT_EQ(trips.unlinked_before_epoch, Day(2016, 1, 5));
  EXPECT_EQ(trips.pseudonym_keys_destroyed, 4);
  EXPECT_GT(trips.records_unlinked, 0);
  EXPECT_LT(trips.records_unlinked, 1500);
  EXPECT_EQ(trips.records_deleted, 0);
  for (const crypto::WrappedKey& k : Keys(crypto::KeyKind::kPseudonym)) {
    EXPECT_GE(k.name.epoch, Day(2016, 1, 5));
  }
  auto linked = trust_->store().FindRecordsBySubject(Bi("24647"));
  ASSERT_TRUE(linked.ok());
  for (const store::StoredRecord& r : *linked) EXPECT_GE(r.epoch, Day(2016, 1, 5));

  // 2016-03-01: every trip epoch is past the window. The pseudonym keys are
  // gone from the keyring, so those pseudonyms can never be recomputed,
  // and no record is linked to its subject any more.
  clock_.Set(At(2016, 3, 1));
  SweepResult third = Sweep();
  EXPECT_EQ(Of(third, kTrips).pseudonym_keys_destroyed, 2);
  EXPECT_TRUE(Keys(crypto::KeyKind::kPseudonym).empty());
  for (const crypto::WrappedKey& k : pseudonym_keys) {
    EXPECT_TRUE(absl::IsNotFound(trust_->keyring().GetById(k.id).status()));
    EXPECT_TRUE(absl::IsNotFound(trust_->keyring().Get(k.name).status()));
  }
  auto unlinked = trust_->store().FindRecordsBySubject(Bi("24647"));
  ASSERT_TRUE(unlinked.ok());
  EXPECT_TRUE(unlinked->empty());
  EXPECT_EQ(Count(kTrips), 1500);  // kept until retention, anonymous
  int64_t still_linked = 0;
  ASSERT_TRUE(trust_->store()
                  .ScanRecords(store::RecordQuery{.stream = kTrips},
                               [&](const store::StoredRecord& r) {
                                 still_linked += r.blind_index.empty() ? 0 : 1;
                                 return absl::OkStatus();
                               })
                  .ok());
  EXPECT_EQ(still_linked, 0);

  // 2017-01-07: one year after the last trip day began, all trips are past
  // retention: the records and their data keys are gone.
  clock_.Set(At(2017, 1, 7) + absl::Hours(1));
  SweepResult fourth = Sweep();
  EXPECT_EQ(Of(fourth, kTrips).records_deleted, 1500);
  EXPECT_EQ(Count(kTrips), 0);
  EXPECT_TRUE(Keys(crypto::KeyKind::kSubjectDek).empty());

  // Receipts are loggable: counts and cut-offs only.
  auto json = nlohmann::json::parse(RetentionReceiptJson(Of(fourth, kTrips)));
  EXPECT_EQ(json["kind"], "retention");
  EXPECT_EQ(json["stream"], kTrips);
  EXPECT_EQ(json["records_deleted"], 1500);
  EXPECT_EQ(json["retention_cutoff"], "2016-01-08T01:00:00Z");
}

}  // namespace
}  // namespace privacity::rights
