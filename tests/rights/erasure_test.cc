#include "rights/erasure.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "policy/decision.h"
#include "rights/consent.h"
#include "rights/subject_data.h"
#include "rights_test_util.h"
#include "server/records_view.h"

namespace privacity::rights {
namespace {

class ErasureTest : public testing::DemoTrustTest {
 protected:
  void SetUp() override {
    DemoTrustTest::SetUp();
    ASSERT_EQ(IngestMeters(), 3360);
    ASSERT_EQ(IngestTrips(), 1500);
  }

  // All bytes of the store's files.
  std::string DiskBytes() {
    std::string all;
    for (const std::string& f : trust_->store().Files()) all += testing::ReadAll(f);
    return all;
  }

  int64_t ReadMeterRows() {
    policy::AccessRequest request{.party = "energy-utility",
                                  .purpose = "grid-planning",
                                  .stream = "energy.meter_readings",
                                  .level = config::AccessLevel::kRecords};
    auto result = server::ReadRecords(
        *trust_, request, {}, [](const std::string&) { return absl::OkStatus(); });
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->rows : -1;
  }
};

TEST_F(ErasureTest, NothingOfTheSubjectIsLeftOnDiskAndOthersAreUntouched) {
  const std::string bi = Bi("MAC000002");
  auto records = trust_->store().FindRecordsBySubject(bi);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 672u);
  ASSERT_TRUE(ChangeConsent(trust_->config(), trust_->store(), *desk_, clock_, bi,
                            ConsentChange{.purpose = "research"})
                  .ok());
  auto other_before =
      LoadSubjectData(trust_->store(), trust_->keyring(), Bi("MAC000003"));
  ASSERT_TRUE(other_before.ok());
  ASSERT_TRUE(trust_->store().Compact().ok());
  {
    // The scan can see them before erasure.
    const std::string disk = DiskBytes();
    ASSERT_NE(disk.find(bi), std::string::npos);
    ASSERT_NE(disk.find(records->front().payload), std::string::npos);
  }

  auto receipt = EraseSubject(trust_->store(), trust_->keyring(), *desk_, clock_, bi);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->records_erased, 672);
  ASSERT_EQ(receipt->streams.size(), 1u);
  EXPECT_EQ(receipt->streams[0].stream, "energy.meter_readings");
  EXPECT_EQ(receipt->streams[0].records, 672);
  // 14 days of readings in 30-day epochs: one or two data keys.
  EXPECT_GE(receipt->keys_destroyed, 1);
  EXPECT_LE(receipt->keys_destroyed, 2);
  EXPECT_EQ(receipt->consent_events_erased, 1);
  EXPECT_TRUE(receipt->compacted);
  EXPECT_EQ(receipt->time, clock_.Now());

  // Byte scan: no sealed payload and no blind index of the subject.
  const std::string disk = DiskBytes();
  EXPECT_EQ(disk.find(bi), std::string::npos);
  for (const store::StoredRecord& r : *records) {
    ASSERT_EQ(disk.find(r.payload), std::string::npos) << "record " << r.id;
  }
  // Their data keys are gone for good.
  for (const store::StoredRecord& r : *records) {
    EXPECT_TRUE(absl::IsNotFound(trust_->keyring().GetById(r.key_id).status()));
  }

  // Reads return nothing for them; the party sees everyone else.
  auto mine = LoadSubjectData(trust_->store(), trust_->keyring(), bi);
  ASSERT_TRUE(mine.ok());
  EXPECT_TRUE(mine->records.empty());
  EXPECT_EQ(ReadMeterRows(), 3360 - 672);
  auto other_after = LoadSubjectData(trust_->store(), trust_->keyring(), Bi("MAC000003"));
  ASSERT_TRUE(other_after.ok());
  ASSERT_EQ(other_after->records.size(), other_before->records.size());
  for (size_t i = 0; i < other_after->records.size(); ++i) {
    EXPECT_EQ(other_after->records[i].payload_json,
              other_before->records[i].payload_json);
  }
  auto trips = trust_->store().CountRecords("mobility.trips");
  ASSERT_TRUE(trips.ok());
  EXPECT_EQ(*trips, 1500);

  // The desk keeps the request, without the blind index.
  auto requests = desk_->List();
  ASSERT_TRUE(requests.ok());
  ASSERT_EQ(requests->size(), 2u);
  for (const auto& r : *requests) EXPECT_TRUE(r.blind_index.empty());
  auto erasure = trust_->store().rights().GetRequest(receipt->request_id);
  ASSERT_TRUE(erasure.ok());
  EXPECT_EQ(erasure->kind, store::RightsRequestKind::kErasure);
  EXPECT_EQ(erasure->status, store::RightsRequestStatus::kCompleted);
  EXPECT_EQ(erasure->detail,
            absl::StrCat("672 records, ", receipt->keys_destroyed, " keys"));
}

TEST_F(ErasureTest, ReceiptCarriesNoPersonalDataAndRepeatIsHarmless) {
  const std::string bi = Bi("24647");
  auto receipt = EraseSubject(trust_->store(), trust_->keyring(), *desk_, clock_, bi);
  ASSERT_TRUE(receipt.ok());
  EXPECT_GT(receipt->records_erased, 0);
  const std::string json = ErasureReceiptJson(*receipt);
  auto parsed = nlohmann::json::parse(json);
  EXPECT_EQ(parsed["kind"], "erasure");
  EXPECT_EQ(parsed["request_id"], receipt->request_id);
  EXPECT_EQ(parsed["streams"][0]["stream"], "mobility.trips");
  EXPECT_EQ(parsed["records_erased"], receipt->records_erased);
  EXPECT_EQ(json.find("24647"), std::string::npos);
  EXPECT_EQ(json.find(HexEncode(bi)), std::string::npos);

  auto again = EraseSubject(trust_->store(), trust_->keyring(), *desk_, clock_, bi);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->records_erased, 0);
  EXPECT_EQ(again->keys_destroyed, 0);
  EXPECT_NE(again->request_id, receipt->request_id);
  EXPECT_TRUE(absl::IsInvalidArgument(
      EraseSubject(trust_->store(), trust_->keyring(), *desk_, clock_, "").status()));
}

TEST_F(ErasureTest, KeysOfUnlinkedRecordsAreDestroyedToo) {
  const std::string bi = Bi("24647");
  auto records = trust_->store().FindRecordsBySubject(bi);
  ASSERT_TRUE(records.ok());
  ASSERT_FALSE(records->empty());
  // Unlink every trip (as the linkability window would).
  ASSERT_TRUE(trust_->store().UnlinkRecordsBefore("mobility.trips", 1 << 30).ok());
  auto receipt = EraseSubject(trust_->store(), trust_->keyring(), *desk_, clock_, bi);
  ASSERT_TRUE(receipt.ok());
  EXPECT_EQ(receipt->records_erased, 0);  // no longer theirs to find
  EXPECT_GT(receipt->keys_destroyed, 0);  // but now unreadable by anyone
  for (const store::StoredRecord& r : *records) {
    EXPECT_TRUE(absl::IsNotFound(trust_->keyring().GetById(r.key_id).status()));
  }
}

TEST_F(ErasureTest, EveryStepLeavesALeafWithoutPersonalData) {
  const std::string bi = Bi("MAC000002");
  ASSERT_TRUE(ChangeConsent(trust_->config(), trust_->store(), *desk_, clock_, bi,
                            ConsentChange{.purpose = "research"})
                  .ok());
  ASSERT_TRUE(ChangeConsent(trust_->config(), trust_->store(), *desk_, clock_, bi,
                            ConsentChange{.purpose = "research",
                                          .action = ConsentAction::kWithdraw})
                  .ok());
  ASSERT_TRUE(ServeSubjectData(trust_->store(), trust_->keyring(), *desk_, bi,
                               store::RightsRequestKind::kExport)
                  .ok());
  auto receipt = EraseSubject(trust_->store(), trust_->keyring(), *desk_, clock_, bi);
  ASSERT_TRUE(receipt.ok());

  const std::vector<std::string> leaves = log_.leaves();
  // grant, withdraw (served on the spot: one leaf each); export received and
  // completed; erasure received and completed.
  ASSERT_EQ(leaves.size(), 6u);
  std::vector<std::string> steps;
  for (const std::string& bytes : leaves) {
    EXPECT_EQ(bytes.find(bi), std::string::npos);
    EXPECT_EQ(bytes.find(HexEncode(bi)), std::string::npos);
    EXPECT_EQ(bytes.find("MAC"), std::string::npos);
    auto leaf = nlohmann::json::parse(bytes);
    EXPECT_EQ(leaf["type"], "rights_action");
    steps.push_back(absl::StrCat(leaf["action"].get<std::string>(), ":",
                                 leaf["status"].get<std::string>()));
  }
  EXPECT_EQ(steps, (std::vector<std::string>{"consent:completed", "withdraw:completed",
                                             "export:received", "export:completed",
                                             "erasure:received", "erasure:completed"}));
  auto withdraw = nlohmann::json::parse(leaves[1]);
  EXPECT_EQ(withdraw["purpose"], "research");
  EXPECT_EQ(nlohmann::json::parse(leaves[3])["records"], 672);
  // The receipt names the leaf that completed the erasure.
  ASSERT_EQ(receipt->log_index, 5u);
  auto completed = nlohmann::json::parse(leaves[receipt->log_index]);
  EXPECT_EQ(completed["request"], receipt->request_id);
  EXPECT_EQ(completed["records"], 672);
  EXPECT_EQ(completed["keys_destroyed"], receipt->keys_destroyed);
  EXPECT_EQ(nlohmann::json::parse(ErasureReceiptJson(*receipt))["log_index"], 5);
}

TEST_F(ErasureTest, OneErasureCoversEveryIdentifierOfTheSession) {
  const std::vector<std::string> bis = {Bi("MAC000002"), Bi("24647")};
  auto bike = trust_->store().FindRecordsBySubject(bis[1]);
  ASSERT_TRUE(bike.ok());
  auto receipt = EraseSubject(trust_->store(), trust_->keyring(), *desk_, clock_, bis);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->records_erased, 672 + static_cast<int64_t>(bike->size()));
  ASSERT_EQ(receipt->streams.size(), 2u);
  EXPECT_EQ(receipt->streams[0].stream, "energy.meter_readings");
  EXPECT_EQ(receipt->streams[1].stream, "mobility.trips");
  for (const std::string& bi : bis) {
    auto left = trust_->store().FindRecordsBySubject(bi);
    ASSERT_TRUE(left.ok());
    EXPECT_TRUE(left->empty());
  }
  EXPECT_TRUE(
      absl::IsInvalidArgument(EraseSubject(trust_->store(), trust_->keyring(), *desk_,
                                           clock_, std::vector<std::string>{})
                                  .status()));
}

}  // namespace
}  // namespace privacity::rights
