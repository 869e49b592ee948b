#include "rights/requests.h"

#include <string>
#include <vector>

#include "common/encoding.h"
#include "gtest/gtest.h"
#include "rights_test_util.h"

namespace privacity::rights {
namespace {

class RequestsTest : public testing::DemoTrustTest {};

TEST_F(RequestsTest, OpenCompleteAndList) {
  auto opened_a = desk_->Open(store::RightsRequestKind::kAccess, Bi("MAC000002"));
  ASSERT_TRUE(opened_a.ok()) << opened_a.status();
  const store::RightsRequest* a = &opened_a->request;
  EXPECT_EQ(a->id.rfind("rq-", 0), 0u);
  EXPECT_EQ(a->id.size(), 29u);
  EXPECT_EQ(a->deadline - a->created, absl::Hours(24 * 30));
  clock_.Advance(absl::Hours(1));
  auto opened_b = desk_->Open(store::RightsRequestKind::kErasure, Bi("MAC000003"));
  ASSERT_TRUE(opened_b.ok());
  const store::RightsRequest* b = &opened_b->request;
  EXPECT_NE(a->id, b->id);
  ASSERT_TRUE(desk_->Complete(a->id, "12 records").ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(desk_->Complete(a->id, "again").status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(desk_->Refuse(a->id, "no").status()));
  EXPECT_TRUE(absl::IsNotFound(desk_->Complete("rq-none", "").status()));
  // Three status changes, three leaves; failed ones leave none.
  const std::vector<std::string> leaves = log_.leaves();
  ASSERT_EQ(leaves.size(), 3u);
  EXPECT_NE(leaves[0].find("\"status\":\"received\""), std::string::npos);
  EXPECT_NE(leaves[2].find("\"status\":\"completed\""), std::string::npos);
  EXPECT_NE(leaves[2].find(a->id), std::string::npos);
  EXPECT_EQ(opened_b->log_index, 1u);
  ASSERT_TRUE(desk_->Refuse(b->id, "not the subject's data").ok());
  ASSERT_EQ(log_.leaves().size(), 4u);
  EXPECT_NE(log_.leaves()[3].find("\"status\":\"refused\""), std::string::npos);
  EXPECT_NE(log_.leaves()[3].find("\"action\":\"erasure\""), std::string::npos);
  // The refusal reason (free text) stays on the desk, out of the log.
  EXPECT_EQ(log_.leaves()[3].find("subject"), std::string::npos);

  auto all = desk_->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, a->id);
  EXPECT_EQ((*all)[0].status, store::RightsRequestStatus::kCompleted);
  EXPECT_EQ((*all)[0].completed, clock_.Now());
  EXPECT_EQ((*all)[0].detail, "12 records");
  EXPECT_EQ((*all)[0].blind_index, Bi("MAC000002"));
  EXPECT_EQ((*all)[1].kind, store::RightsRequestKind::kErasure);

  auto refused = desk_->List({.status = store::RightsRequestStatus::kRefused});
  ASSERT_TRUE(refused.ok());
  ASSERT_EQ(refused->size(), 1u);
  EXPECT_EQ((*refused)[0].id, b->id);
  auto limited = desk_->List({.limit = 1});
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 1u);
}

TEST_F(RequestsTest, UnlinkSubjectClearsOnlyThatSubject) {
  ASSERT_TRUE(
      desk_->Record(store::RightsRequestKind::kConsent, Bi("A1"), "grant research").ok());
  ASSERT_TRUE(desk_->Open(store::RightsRequestKind::kAccess, Bi("A1")).ok());
  ASSERT_TRUE(desk_->Open(store::RightsRequestKind::kAccess, Bi("B2")).ok());
  auto n = trust_->store().rights().UnlinkSubject(Bi("A1"));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  auto all = desk_->List();
  ASSERT_TRUE(all.ok());
  int linked = 0;
  for (const auto& r : *all) linked += r.blind_index.empty() ? 0 : 1;
  EXPECT_EQ(linked, 1);
}

TEST_F(RequestsTest, TableShowsNoBlindIndexAndFlagsOverdue) {
  auto a = desk_->Open(store::RightsRequestKind::kExport, Bi("MAC000002"));
  ASSERT_TRUE(a.ok());
  auto all = desk_->List();
  ASSERT_TRUE(all.ok());
  const std::string now_table = FormatRequestsTable(*all, clock_.Now());
  EXPECT_NE(now_table.find(a->request.id), std::string::npos);
  EXPECT_NE(now_table.find("open"), std::string::npos);
  EXPECT_EQ(now_table.find(Bi("MAC000002")), std::string::npos);
  EXPECT_EQ(now_table.find(HexEncode(Bi("MAC000002"))), std::string::npos);
  const std::string later =
      FormatRequestsTable(*all, clock_.Now() + absl::Hours(24 * 31));
  EXPECT_NE(later.find("OVERDUE"), std::string::npos);
}

TEST_F(RequestsTest, StoreRejectsBadInput) {
  store::RightsRequest r;
  EXPECT_TRUE(absl::IsInvalidArgument(trust_->store().rights().InsertRequest(r)));
  r.id = "rq-x";
  ASSERT_TRUE(trust_->store().rights().InsertRequest(r).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(trust_->store().rights().InsertRequest(r)));
  EXPECT_TRUE(absl::IsInvalidArgument(trust_->store().rights().CloseRequest(
      "rq-x", store::RightsRequestStatus::kOpen, clock_.Now(), "")));
  EXPECT_TRUE(absl::IsNotFound(trust_->store().rights().GetRequest("rq-y").status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(trust_->store().rights().UnlinkSubject("").status()));
}

}  // namespace
}  // namespace privacity::rights
