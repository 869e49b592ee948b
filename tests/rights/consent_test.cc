#include "rights/consent.h"

#include "gtest/gtest.h"
#include "policy/decision.h"
#include "rights_test_util.h"
#include "server/records_view.h"

namespace privacity::rights {
namespace {

// The demo city plus a records agreement for the consent-based purpose
// "research" on the energy stream, given to a new party.
class ConsentTest : public testing::DemoTrustTest {
 protected:
  void AdjustConfig(config::CityConfig& config) override {
    config.parties.push_back(config::Party{.id = "consent-lab", .name = "Consent Lab"});
    config::Agreement a;
    a.id = "consent-lab-meters";
    a.party = "consent-lab";
    a.stream = "energy.meter_readings";
    a.level = config::AccessLevel::kRecords;
    a.purposes = {"research"};
    a.fields = {"meter_id", "time", "energy_kwh"};
    config.agreements.push_back(a);
  }

  absl::StatusOr<ConsentResult> Change(const std::string& id, const std::string& purpose,
                                       ConsentAction action) {
    return ChangeConsent(trust_->config(), trust_->store(), *desk_, clock_, Bi(id),
                         ConsentChange{.purpose = purpose, .action = action});
  }

  server::RecordsReadResult Read(const std::string& party, const std::string& purpose) {
    policy::AccessRequest request{.party = party,
                                  .purpose = purpose,
                                  .stream = "energy.meter_readings",
                                  .level = config::AccessLevel::kRecords};
    auto result = server::ReadRecords(
        *trust_, request, {}, [](const std::string&) { return absl::OkStatus(); });
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : server::RecordsReadResult{};
  }
};

TEST_F(ConsentTest, OnlyWhatThePurposeAllows) {
  EXPECT_TRUE(Change("MAC000002", "research", ConsentAction::kGrant).ok());
  EXPECT_TRUE(Change("MAC000002", "research", ConsentAction::kWithdraw).ok());
  EXPECT_TRUE(Change("MAC000002", "research", ConsentAction::kObject).ok());
  EXPECT_TRUE(Change("MAC000002", "grid-planning", ConsentAction::kObject).ok());
  EXPECT_TRUE(Change("MAC000002", "grid-planning", ConsentAction::kWithdraw).ok());

  const absl::Status grant_public =
      Change("MAC000002", "grid-planning", ConsentAction::kGrant).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(grant_public)) << grant_public;
  EXPECT_NE(grant_public.message().find("public-task"), absl::string_view::npos);
  // Nothing to withdraw: no objection stands any more.
  EXPECT_TRUE(absl::IsFailedPrecondition(
      Change("MAC000002", "grid-planning", ConsentAction::kWithdraw).status()));
  const absl::Status object_billing =
      Change("MAC000002", "billing", ConsentAction::kObject).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(object_billing)) << object_billing;
  EXPECT_NE(object_billing.message().find("mandatory"), absl::string_view::npos);
  EXPECT_TRUE(absl::IsFailedPrecondition(
      Change("MAC000002", "marketing", ConsentAction::kGrant).status()));
  EXPECT_TRUE(
      absl::IsNotFound(Change("MAC000002", "astrology", ConsentAction::kGrant).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ChangeConsent(trust_->config(), trust_->store(),
                                                    *desk_, clock_, "",
                                                    ConsentChange{.purpose = "research"})
                                          .status()));
  EXPECT_EQ(ParseConsentAction("object"), ConsentAction::kObject);
  EXPECT_EQ(ParseConsentAction("delete"), std::nullopt);
}

TEST_F(ConsentTest, HistoryIsKeptAndCurrentStateIsTheLatest) {
  ASSERT_TRUE(Change("MAC000002", "research", ConsentAction::kGrant).ok());
  clock_.Advance(absl::Hours(1));
  auto withdrawn = Change("MAC000002", "research", ConsentAction::kWithdraw);
  ASSERT_TRUE(withdrawn.ok());
  ASSERT_TRUE(Change("MAC000002", "grid-planning", ConsentAction::kObject).ok());

  auto history = trust_->store().ConsentHistory(Bi("MAC000002"));
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].state, store::ConsentState::kGranted);
  EXPECT_EQ((*history)[1].state, store::ConsentState::kWithdrawn);

  auto current = CurrentConsents(trust_->config(), trust_->store(), Bi("MAC000002"));
  ASSERT_TRUE(current.ok());
  std::map<std::string, PurposeState> by_purpose;
  for (const PurposeState& p : *current) by_purpose[p.purpose] = p;
  EXPECT_EQ(by_purpose.count("marketing"), 0u);  // prohibited: not offered
  EXPECT_EQ(by_purpose["research"].state, store::ConsentState::kWithdrawn);
  EXPECT_EQ(by_purpose["research"].since, clock_.Now());
  EXPECT_EQ(by_purpose["grid-planning"].state, store::ConsentState::kObjected);
  EXPECT_FALSE(by_purpose["billing"].state.has_value());
  EXPECT_TRUE(by_purpose["billing"].mandatory);

  // Each change is on the desk, completed.
  auto requests = desk_->List();
  ASSERT_TRUE(requests.ok());
  ASSERT_EQ(requests->size(), 3u);
  int objections = 0;
  for (const auto& r : *requests) {
    EXPECT_EQ(r.status, store::RightsRequestStatus::kCompleted);
    if (r.kind == store::RightsRequestKind::kObjection) ++objections;
    if (r.id == withdrawn->request_id) {
      EXPECT_EQ(r.kind, store::RightsRequestKind::kConsent);
      EXPECT_EQ(r.detail, "withdraw research");
    }
  }
  EXPECT_EQ(objections, 1);
  auto found = trust_->store().rights().GetRequest(withdrawn->request_id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->detail, "withdraw research");
}

TEST_F(ConsentTest, ConsentAndObjectionChangeTheNextReadAtOnce) {
  ASSERT_EQ(IngestMeters(), 3360);
  // Consent-based: nobody has granted yet.
  EXPECT_EQ(Read("consent-lab", "research").rows, 0);
  ASSERT_TRUE(Change("MAC000002", "research", ConsentAction::kGrant).ok());
  ASSERT_TRUE(Change("MAC000003", "research", ConsentAction::kGrant).ok());
  EXPECT_EQ(Read("consent-lab", "research").rows, 2 * 672);
  ASSERT_TRUE(Change("MAC000002", "research", ConsentAction::kWithdraw).ok());
  server::RecordsReadResult after = Read("consent-lab", "research");
  EXPECT_EQ(after.rows, 672);
  EXPECT_EQ(after.withheld, 3360 - 672);

  // Public task: objectors are left out, and back once they withdraw.
  EXPECT_EQ(Read("energy-utility", "grid-planning").rows, 3360);
  ASSERT_TRUE(Change("MAC000004", "grid-planning", ConsentAction::kObject).ok());
  EXPECT_EQ(Read("energy-utility", "grid-planning").rows, 3360 - 672);
  ASSERT_TRUE(Change("MAC000004", "grid-planning", ConsentAction::kWithdraw).ok());
  EXPECT_EQ(Read("energy-utility", "grid-planning").rows, 3360);
}

}  // namespace
}  // namespace privacity::rights
