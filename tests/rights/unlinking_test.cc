// Must-show: an expired epoch key is gone from the keyring and its
// pseudonyms cannot be recomputed; past the linkability window no key row,
// record or index names the subject; every sweep leaves a receipt leaf.
#include <limits>

#include "absl/strings/match.h"
#include "common/encoding.h"
#include "common/time_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rights/erasure.h"
#include "rights/retention.h"
#include "rights/subject_data.h"
#include "rights_test_util.h"
#include "server/record_access.h"

namespace privacity::rights {
namespace {

constexpr char kTrips[] = "mobility.trips";
constexpr char kBike[] = "24647";

class UnlinkingTest : public testing::DemoTrustTest {
 protected:
  void SetUp() override {
    DemoTrustTest::SetUp();
    ASSERT_EQ(IngestTrips(), 1500);
  }

  // The pseudonym the pipeline gives `id` under `key` ("ps_" + base32 of
  // the first 15 bytes of the HMAC).
  static std::string Pseudonym(const crypto::UnwrappedKey& key, const std::string& id) {
    auto mac = crypto::HmacSha256::Create(key.key);
    EXPECT_TRUE(mac.ok());
    const std::string tag = (*mac)->Mac(transform::NormalizeIdentifier(id));
    return "ps_" + Base32Encode(absl::string_view(tag).substr(0, 15));
  }

  SweepResult SweepAt(absl::Time t) {
    clock_.Set(t);
    auto result = SweepRetention(trust_->config(), trust_->store(), trust_->keyring(),
                                 clock_, random_, log_);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : SweepResult{};
  }

  static absl::Time At(int y, int m, int d) {
    return absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone());
  }
};

TEST_F(UnlinkingTest, ExpiredEpochKeyIsGoneAndItsPseudonymsCannotBeRecomputed) {
  auto mine = LoadSubjectData(trust_->store(), trust_->keyring(), Bi(kBike));
  ASSERT_TRUE(mine.ok());
  ASSERT_FALSE(mine->records.empty());
  auto stored = trust_->store().FindRecordsBySubject(Bi(kBike));
  ASSERT_TRUE(stored.ok());
  const int64_t epoch = stored->front().epoch;
  const std::string pseudonym =
      nlohmann::json::parse(mine->records.front().payload_json)["bike_id"];
  const crypto::KeyName name{
      .kind = crypto::KeyKind::kPseudonym, .scope = kTrips, .epoch = epoch};
  auto key = trust_->keyring().Get(name);
  ASSERT_TRUE(key.ok());
  // Within the window the trust can recompute it (that is what links).
  ASSERT_EQ(Pseudonym(*key, kBike), pseudonym);

  // 2016-03-01: every trip epoch ended more than 30 days ago.
  SweepResult sweep = SweepAt(At(2016, 3, 1));
  ASSERT_EQ(sweep.streams.size(), trust_->config().streams.size());
  EXPECT_TRUE(absl::IsNotFound(trust_->keyring().Get(name).status()));
  EXPECT_TRUE(absl::IsNotFound(trust_->keyring().GetById(key->id).status()));
  // Nothing can bring it back, not even with the master key: asking for a
  // key of that name makes a new random one, under which the pseudonym is
  // another.
  auto fresh = trust_->keyring().GetOrCreate(name);
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(fresh->id, key->id);
  EXPECT_NE(Pseudonym(*fresh, kBike), pseudonym);
}

TEST_F(UnlinkingTest, PastTheWindowNoKeyRowOrRecordNamesTheSubject) {
  const std::string bi = Bi(kBike);
  auto before = trust_->store().rights().ListSubjectKeyIds(bi);
  ASSERT_TRUE(before.ok());
  ASSERT_FALSE(before->empty());
  auto records = trust_->store().FindRecordsBySubject(bi);
  ASSERT_TRUE(records.ok());

  SweepResult sweep = SweepAt(At(2016, 3, 1));
  const RetentionReceipt* trips = nullptr;
  for (const RetentionReceipt& r : sweep.streams) {
    if (r.stream == kTrips) trips = &r;
  }
  ASSERT_NE(trips, nullptr);
  EXPECT_EQ(trips->records_unlinked, 1500);
  EXPECT_GE(trips->data_keys_unlinked, static_cast<int64_t>(before->size()));
  EXPECT_EQ(trips->records_deleted, 0);

  // No data key row carries the blind index any more ...
  auto after = trust_->store().rights().ListSubjectKeyIds(bi);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
  auto keys = trust_->store().keys().ListKeysBefore(crypto::KeyKind::kSubjectDek, kTrips,
                                                    std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(keys.ok());
  for (const crypto::WrappedKey& k : *keys) {
    EXPECT_TRUE(absl::StartsWith(k.name.subject, kUnlinkedSubjectPrefix));
  }
  // ... nor any byte of the store, after compaction.
  ASSERT_TRUE(sweep.compacted);
  std::string disk;
  for (const std::string& f : trust_->store().Files()) disk += testing::ReadAll(f);
  EXPECT_EQ(disk.find(bi), std::string::npos);
  // The records are anonymous but still readable for the party by key id.
  const config::Stream& stream = *trust_->config().FindStream(kTrips);
  server::PayloadOpener opener(trust_->keyring(), stream);
  for (const store::StoredRecord& r : *records) {
    auto opened = opener.Open(r);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_TRUE(opened->has_value());
  }
  // The subject's rights requests find nothing; an erasure destroys nothing.
  auto data = LoadSubjectData(trust_->store(), trust_->keyring(), bi);
  ASSERT_TRUE(data.ok());
  EXPECT_TRUE(data->records.empty());
  auto erased = EraseSubject(trust_->store(), trust_->keyring(), *desk_, clock_, bi);
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->keys_destroyed, 0);

  // A second sweep has nothing new to unlink.
  SweepResult again = SweepAt(At(2016, 3, 2));
  for (const RetentionReceipt& r : again.streams) {
    if (r.stream == kTrips) {
      EXPECT_EQ(r.data_keys_unlinked, 0);
    }
  }
}

TEST_F(UnlinkingTest, EachSweepLeavesAReceiptLeafPerStream) {
  SweepResult sweep = SweepAt(At(2017, 1, 8));
  const std::vector<std::string> leaves = log_.leaves();
  ASSERT_EQ(leaves.size(), sweep.streams.size());
  for (size_t i = 0; i < leaves.size(); ++i) {
    const RetentionReceipt& r = sweep.streams[i];
    EXPECT_EQ(r.log_index, i);
    auto leaf = nlohmann::json::parse(leaves[i]);
    EXPECT_EQ(leaf["type"], "retention_sweep");
    EXPECT_EQ(leaf["stream"], r.stream);
    EXPECT_EQ(leaf["records_deleted"], r.records_deleted);
    EXPECT_EQ(leaf["cutoff"], FormatTimestamp(r.retention_cutoff));
    EXPECT_EQ(leaf["time"], "2017-01-08T00:00:00Z");
    if (r.stream == kTrips) {
      EXPECT_EQ(r.records_deleted, 1500);
      EXPECT_EQ(leaf["cutoff"], "2016-01-09T00:00:00Z");
    }
  }
  // The receipt JSON carries the leaf index too.
  auto json = nlohmann::json::parse(RetentionReceiptJson(sweep.streams.back()));
  EXPECT_EQ(json["log_index"], leaves.size() - 1);
}

TEST_F(UnlinkingTest, KeyringRenameKeepsTheKeyAndBindsTheNewName) {
  auto records = trust_->store().FindRecordsBySubject(Bi(kBike));
  ASSERT_TRUE(records.ok());
  const int64_t id = records->front().key_id;
  auto key = trust_->keyring().GetById(id);
  ASSERT_TRUE(key.ok());
  crypto::KeyName renamed = key->name;
  renamed.subject = "unlinked:0123456789abcdef";
  ASSERT_TRUE(trust_->keyring().Rename(id, renamed).ok());
  auto again = trust_->keyring().GetById(id);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->name, renamed);
  EXPECT_EQ(again->key.view(), key->key.view());
  EXPECT_TRUE(absl::IsNotFound(trust_->keyring().Get(key->name).status()));

  crypto::KeyName other_epoch = renamed;
  other_epoch.epoch += 1;
  EXPECT_TRUE(absl::IsInvalidArgument(trust_->keyring().Rename(id, other_epoch)));
  // A name another live key holds is refused: find a second subject's key
  // in the same epoch and try to take its name.
  int64_t other = 0;
  ASSERT_TRUE(trust_->store()
                  .ScanRecords(store::RecordQuery{.stream = kTrips},
                               [&](const store::StoredRecord& r) {
                                 if (other == 0 && r.epoch == key->name.epoch &&
                                     r.key_id != id) {
                                   other = r.key_id;
                                 }
                                 return absl::OkStatus();
                               })
                  .ok());
  ASSERT_NE(other, 0);
  auto taken = trust_->keyring().GetById(other);
  ASSERT_TRUE(taken.ok());
  EXPECT_TRUE(absl::IsAlreadyExists(trust_->keyring().Rename(id, taken->name)));
  EXPECT_TRUE(absl::IsNotFound(trust_->keyring().Rename(1 << 30, renamed)));
}

}  // namespace
}  // namespace privacity::rights
