#include "rights/subject_data.h"

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rights_test_util.h"

namespace privacity::rights {
namespace {

class SubjectDataTest : public testing::DemoTrustTest {
 protected:
  void SetUp() override {
    DemoTrustTest::SetUp();
    ASSERT_EQ(IngestMeters(), 3360);
    ASSERT_EQ(IngestTrips(), 1500);
  }
};

// Trips of one bike in the demo file.
int TripsOfBike(const std::string& bike) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(
           testing::ReadAll(testing::kDemo / "data/mobility.trips.csv"), '\n')) {
    std::vector<absl::string_view> cols = absl::StrSplit(line, ',');
    if (cols.size() > 11 && cols[11] == bike) ++n;
  }
  return n;
}

TEST_F(SubjectDataTest, SubjectSeesAllTheirRecordsOpened) {
  auto data = LoadSubjectData(trust_->store(), trust_->keyring(), Bi("MAC000002"));
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ(data->records.size(), 672u);
  EXPECT_EQ(data->unreadable, 0);
  for (const SubjectRecord& r : data->records)
    EXPECT_EQ(r.stream, "energy.meter_readings");
  // The first half hour of 2013 read 0.219 kWh in the source file.
  auto first = nlohmann::json::parse(data->records.front().payload_json);
  EXPECT_DOUBLE_EQ(first["energy_kwh"].get<double>(), 0.219);
  EXPECT_EQ(data->records.front().time, absl::FromUnixSeconds(1356998400));
  // The meter id is the epoch pseudonym, not the raw identifier.
  EXPECT_EQ(data->records.front().payload_json.find("MAC000002"), std::string::npos);

  const int trips = TripsOfBike("24647");
  ASSERT_GT(trips, 0);
  auto bike = LoadSubjectData(trust_->store(), trust_->keyring(), Bi("24647"));
  ASSERT_TRUE(bike.ok());
  EXPECT_EQ(static_cast<int>(bike->records.size()), trips);

  auto nobody = LoadSubjectData(trust_->store(), trust_->keyring(), Bi("MAC999999"));
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE(nobody->records.empty());
}

TEST_F(SubjectDataTest, ExportJsonAndCsv) {
  auto data = LoadSubjectData(trust_->store(), trust_->keyring(), Bi("MAC000003"));
  ASSERT_TRUE(data.ok());
  const absl::Time now = clock_.Now();
  auto json = nlohmann::json::parse(ExportJson(*data, now));
  EXPECT_EQ(json["exported_at"], "2016-01-10T00:00:00Z");
  ASSERT_EQ(json["streams"].size(), 1u);
  EXPECT_EQ(json["streams"][0]["stream"], "energy.meter_readings");
  ASSERT_EQ(json["streams"][0]["records"].size(), 672u);
  const auto& rec = json["streams"][0]["records"][0];
  EXPECT_EQ(rec["record_id"], data->records[0].id);
  EXPECT_TRUE(rec["fields"].contains("energy_kwh"));

  auto files = ExportCsv(*data);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  std::vector<std::string> lines = absl::StrSplit((*files)[0].content, "\r\n");
  ASSERT_EQ(lines.size(), 672u + 2);  // header, rows, and the empty tail
  EXPECT_EQ(lines[0], "record_id,record_time,meter_id,time,energy_kwh");
  std::vector<std::string> cells = absl::StrSplit(lines[1], ',');
  ASSERT_EQ(cells.size(), 5u);
  EXPECT_EQ(cells[0], std::to_string(data->records[0].id));
  EXPECT_EQ(cells[3], rec["fields"]["time"].get<std::string>());
  const std::string sections = CsvSections(*files);
  EXPECT_EQ(sections.rfind("# stream: energy.meter_readings\r\nrecord_id,", 0), 0u);
}

TEST(SubjectDataCsvTest, QuotesAndMissingFields) {
  SubjectData data;
  data.records.push_back({1, "s", absl::FromUnixSeconds(0), R"({"a":"x,y","b":1})"});
  data.records.push_back({2, "s", absl::FromUnixSeconds(60), R"({"c":"say \"hi\"\n"})"});
  data.records.push_back({3, "t", absl::FromUnixSeconds(60), R"({"a":null,"b":true})"});
  auto files = ExportCsv(data);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].content,
            "record_id,record_time,a,b,c\r\n"
            "1,1970-01-01T00:00:00Z,\"x,y\",1,\r\n"
            "2,1970-01-01T00:01:00Z,,,\"say \"\"hi\"\"\n\"\r\n");
  EXPECT_EQ((*files)[1].content,
            "record_id,record_time,a,b\r\n3,1970-01-01T00:01:00Z,,true\r\n");
  data.records.push_back({4, "t", absl::FromUnixSeconds(60), "[1]"});
  EXPECT_TRUE(absl::IsDataLoss(ExportCsv(data).status()));
}

// Records under a destroyed data key are crypto-shredded: no longer shown,
// and no longer the subject's (Store::FindRecordsBySubject).
TEST_F(SubjectDataTest, RecordsWhoseKeyIsGoneAreNotShown) {
  auto before = trust_->store().FindRecordsBySubject(Bi("MAC000004"));
  ASSERT_TRUE(before.ok());
  ASSERT_FALSE(before->empty());
  const int64_t key = before->front().key_id;
  int64_t under_key = 0;
  for (const auto& r : *before) under_key += r.key_id == key ? 1 : 0;
  ASSERT_TRUE(trust_->keyring().Destroy(key).ok());
  auto data = LoadSubjectData(trust_->store(), trust_->keyring(), Bi("MAC000004"));
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->unreadable, 0);
  EXPECT_EQ(static_cast<int64_t>(data->records.size()),
            static_cast<int64_t>(before->size()) - under_key);
  for (const auto& r : data->records) EXPECT_NE(r.id, before->front().id);
  // Another subject's records are still there.
  auto other = LoadSubjectData(trust_->store(), trust_->keyring(), Bi("MAC000002"));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->records.empty());
}

TEST_F(SubjectDataTest, ServingIsRecordedOnTheDesk) {
  auto data = ServeSubjectData(trust_->store(), trust_->keyring(), *desk_,
                               Bi("MAC000002"), store::RightsRequestKind::kExport);
  ASSERT_TRUE(data.ok());
  auto requests = desk_->List();
  ASSERT_TRUE(requests.ok());
  ASSERT_EQ(requests->size(), 1u);
  EXPECT_EQ((*requests)[0].kind, store::RightsRequestKind::kExport);
  EXPECT_EQ((*requests)[0].status, store::RightsRequestStatus::kCompleted);
  EXPECT_EQ((*requests)[0].detail, "672 records");
  EXPECT_TRUE(absl::IsInvalidArgument(ServeSubjectData(trust_->store(), trust_->keyring(),
                                                       *desk_, Bi("MAC000002"),
                                                       store::RightsRequestKind::kErasure)
                                          .status()));
}

}  // namespace
}  // namespace privacity::rights
