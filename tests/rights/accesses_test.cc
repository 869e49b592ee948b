// Which parties accessed data covering a subject, from the decision leaves
// of the transparency log (rights/accesses.h documents the rule).
#include "rights/accesses.h"

#include <cstdio>

#include "gtest/gtest.h"
#include "policy/decision.h"
#include "rights_test_util.h"
#include "server/records_view.h"

namespace privacity::rights {
namespace {

// The S2 token of `cell`'s parent at `level`: the id in hex, trailing
// zeros dropped.
std::string ParentToken(uint64_t cell, int level) {
  const uint64_t lsb = uint64_t{1} << (2 * (30 - level));
  const uint64_t parent = (cell & (~lsb + 1)) | lsb;
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(parent));
  std::string token(hex);
  while (!token.empty() && token.back() == '0') token.pop_back();
  return token;
}

class AccessesTest : public testing::DemoTrustTest {
 protected:
  void SetUp() override {
    DemoTrustTest::SetUp();
    ASSERT_EQ(IngestMeters(), 3360);
    ASSERT_EQ(IngestTrips(), 1500);
  }

  int64_t Read(const std::string& party, const std::string& purpose,
               const std::string& stream, std::optional<absl::Time> from = {},
               std::optional<absl::Time> to = {}) {
    policy::AccessRequest request{.party = party,
                                  .purpose = purpose,
                                  .stream = stream,
                                  .level = config::AccessLevel::kRecords,
                                  .from = from,
                                  .to = to};
    auto result = server::ReadRecords(
        *trust_, request, {}, [](const std::string&) { return absl::OkStatus(); });
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->rows : -1;
  }

  std::vector<Access> Accesses(const std::string& id) {
    auto places = SubjectPlaces(trust_->store(), {Bi(id)});
    EXPECT_TRUE(places.ok());
    auto head = trust_->audit().storage().ReadFrontier();
    EXPECT_TRUE(head.ok());
    auto list = ListAccesses(trust_->audit().storage(), head->size, *places);
    EXPECT_TRUE(list.ok()) << list.status();
    return list.ok() ? *list : std::vector<Access>{};
  }

  static absl::Time Day(int y, int m, int d) {
    return absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone());
  }
};

TEST_F(AccessesTest, PermittedDecisionsWhoseWindowHoldsTheirRecords) {
  EXPECT_TRUE(Accesses("MAC000002").empty());
  // The whole stream: covers all 672 readings of the meter.
  ASSERT_EQ(Read("energy-utility", "grid-planning", "energy.meter_readings"), 3360);
  // One day: covers that day's 48.
  ASSERT_EQ(Read("energy-utility", "grid-planning", "energy.meter_readings",
                 Day(2013, 1, 3), Day(2013, 1, 4)),
            5 * 48);
  // A window without data, a denial, and another stream: none covers them.
  ASSERT_EQ(Read("energy-utility", "grid-planning", "energy.meter_readings",
                 Day(2014, 1, 1), Day(2014, 2, 1)),
            0);
  ASSERT_EQ(Read("uni-research", "research", "energy.meter_readings"), 0);
  ASSERT_GT(Read("transport-dept", "traffic-management", "mobility.trips"), 0);

  const std::vector<Access> list = Accesses("MAC000002");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].party, "energy-utility");
  EXPECT_EQ(list[0].purpose, "grid-planning");
  EXPECT_EQ(list[0].stream, "energy.meter_readings");
  EXPECT_EQ(list[0].level, "records");
  EXPECT_EQ(list[0].rows, 3360);
  EXPECT_EQ(list[0].records_covered, 672);
  EXPECT_FALSE(list[0].from.has_value());
  EXPECT_EQ(list[1].records_covered, 48);
  EXPECT_EQ(list[1].from, Day(2013, 1, 3));
  EXPECT_EQ(list[1].to, Day(2013, 1, 4));
  EXPECT_LT(list[0].log_index, list[1].log_index);

  // The bike's trips were read by the transport department only.
  const std::vector<Access> bike = Accesses("24647");
  ASSERT_EQ(bike.size(), 1u);
  EXPECT_EQ(bike[0].party, "transport-dept");
  EXPECT_EQ(bike[0].stream, "mobility.trips");
}

TEST_F(AccessesTest, AnAreaMustHoldOneOfTheirRecords) {
  auto records = trust_->store().FindRecordsBySubject(Bi("24647"));
  ASSERT_TRUE(records.ok());
  ASSERT_FALSE(records->empty());
  const uint64_t cell = records->front().cell;
  ASSERT_NE(cell, 0u);
  EXPECT_TRUE(CellTokenContains(ParentToken(cell, 10), cell));
  EXPECT_TRUE(CellTokenContains(ParentToken(cell, 16), cell));
  EXPECT_FALSE(CellTokenContains("zz", cell));
  EXPECT_FALSE(CellTokenContains("", cell));

  // A decision on an area holding one of their trips, and one elsewhere
  // (the parent's neighbour at level 10 on the other face).
  audit::DecisionLeaf leaf;
  leaf.time = clock_.Now();
  leaf.party = "transport-dept";
  leaf.purpose = "traffic-management";
  leaf.stream = "mobility.trips";
  leaf.level = audit::AccessLevel::kAggregate;
  leaf.result = audit::DecisionResult::kPermit;
  leaf.rows = 10;
  leaf.area = {ParentToken(cell, 10)};
  ASSERT_TRUE(trust_->audit().Append(leaf).ok());
  leaf.area = {ParentToken(cell ^ (uint64_t{1} << 63), 10)};
  ASSERT_TRUE(trust_->audit().Append(leaf).ok());
  const std::vector<Access> list = Accesses("24647");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].level, "aggregate");
  EXPECT_EQ(list[0].area, std::vector<std::string>{ParentToken(cell, 10)});
  EXPECT_GE(list[0].records_covered, 1);
}

TEST_F(AccessesTest, DecisionsBeforeTheRecordsExistedDoNotCount) {
  // A permit dated before the first meter reading.
  audit::DecisionLeaf leaf;
  leaf.time = Day(2012, 6, 1);
  leaf.party = "energy-utility";
  leaf.purpose = "grid-planning";
  leaf.stream = "energy.meter_readings";
  leaf.result = audit::DecisionResult::kPermit;
  leaf.rows = 5;
  ASSERT_TRUE(trust_->audit().Append(leaf).ok());
  EXPECT_TRUE(Accesses("MAC000002").empty());
}

}  // namespace
}  // namespace privacity::rights
