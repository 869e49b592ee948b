#include "policy/decision.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace privacity::policy {
namespace {

using config::AccessLevel;
using config::Agreement;
using config::CityConfig;
using config::Field;
using config::FieldCategory;
using config::LegalBasis;
using config::Party;
using config::PartyKind;
using config::Purpose;
using config::Stream;
using config::TransformKind;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const absl::Time kValidFrom = absl::FromUnixSeconds(1704067200);   // 2024-01-01
const absl::Time kValidUntil = absl::FromUnixSeconds(1735689600);  // 2025-01-01
const absl::Time kNow = absl::FromUnixSeconds(1717200000);         // 2024-06-01

Purpose MakePurpose(std::string id, LegalBasis basis, bool mandatory = false,
                    bool prohibited = false) {
  Purpose p;
  p.id = std::move(id);
  p.legal_basis = basis;
  p.mandatory = mandatory;
  p.prohibited = prohibited;
  return p;
}

Field MakeField(std::string name, FieldCategory category,
                TransformKind transform = TransformKind::kKeep) {
  Field f;
  f.name = std::move(name);
  f.category = category;
  config::Transform t;
  t.kind = transform;
  f.transforms.push_back(t);
  return f;
}

Party MakeParty(std::string id, PartyKind kind) {
  Party p;
  p.id = std::move(id);
  p.kind = kind;
  return p;
}

Agreement MakeAgreement(std::string id, std::string party, std::string stream,
                        AccessLevel level, std::vector<std::string> purposes,
                        std::vector<std::string> fields = {}) {
  Agreement a;
  a.id = std::move(id);
  a.party = std::move(party);
  a.stream = std::move(stream);
  a.level = level;
  a.purposes = std::move(purposes);
  a.fields = std::move(fields);
  return a;
}

// A small city: a personal stream (energy) and a non-personal one
// (footfall), purposes of every kind, and one agreement per level.
CityConfig MakeCity() {
  CityConfig c;
  c.city.name = "Testville";
  c.purposes = {
      MakePurpose("planning", LegalBasis::kPublicTask),
      MakePurpose("research", LegalBasis::kConsent),
      MakePurpose("billing", LegalBasis::kLegalObligation, /*mandatory=*/true),
      MakePurpose("marketing", LegalBasis::kLegitimateInterest, false,
                  /*prohibited=*/true),
      MakePurpose("safety", LegalBasis::kVitalInterest),
      MakePurpose("open-data", LegalBasis::kPublicTask),
  };

  Stream energy;
  energy.id = "energy.meter_readings";
  energy.subject_field = "meter_id";
  energy.time_field = "reading_time";
  energy.location_field = "location";
  energy.fields = {
      MakeField("meter_id", FieldCategory::kSubjectIdentifier,
                TransformKind::kPseudonymize),
      MakeField("customer_name", FieldCategory::kDirectIdentifier, TransformKind::kDrop),
      MakeField("reading_time", FieldCategory::kTime, TransformKind::kTimeBucket),
      MakeField("kwh", FieldCategory::kMeasurement),
      MakeField("postcode", FieldCategory::kQuasiIdentifier, TransformKind::kTruncate),
      MakeField("location", FieldCategory::kLocation, TransformKind::kCell),
  };
  energy.purposes = {"planning", "research", "billing", "marketing", "open-data"};

  Stream footfall;
  footfall.id = "footfall.counts";
  footfall.time_field = "time";
  footfall.fields = {
      MakeField("sensor", FieldCategory::kOther),
      MakeField("time", FieldCategory::kTime, TransformKind::kTimeBucket),
      MakeField("count", FieldCategory::kMeasurement),
  };
  footfall.purposes = {"planning", "open-data"};
  c.streams = {energy, footfall};

  c.parties = {
      MakeParty("energy-dept", PartyKind::kDepartment),
      MakeParty("uni", PartyKind::kResearcher),
      MakeParty("partner", PartyKind::kPartner),
      MakeParty("nobody", PartyKind::kDepartment),
      MakeParty("press", PartyKind::kPublic),
  };

  Agreement records = MakeAgreement("a-records", "energy-dept", "energy.meter_readings",
                                    AccessLevel::kRecords, {"planning", "billing"},
                                    {"meter_id", "reading_time", "kwh"});
  records.valid_from = kValidFrom;
  records.valid_until = kValidUntil;
  records.time_granularity = absl::Hours(1);
  records.delete_after = absl::Hours(24 * 30);
  records.no_onward_sharing = true;

  Agreement extract = MakeAgreement("a-extract", "uni", "energy.meter_readings",
                                    AccessLevel::kExtract, {"research", "planning"},
                                    {"reading_time", "kwh", "postcode", "location"});
  extract.k_threshold = 10;
  extract.cell_level = 12;

  Agreement aggregate = MakeAgreement("a-aggregate", "partner", "energy.meter_readings",
                                      AccessLevel::kAggregate, {"planning", "billing"});
  aggregate.budget = config::Budget{1.0, 1e-6, absl::Hours(24 * 30)};

  Agreement pub = MakeAgreement("a-public", "public", "footfall.counts",
                                AccessLevel::kPublic, {"open-data"});

  c.agreements = {records, extract, aggregate, pub};
  return c;
}

AccessRequest Request(std::string party, std::string purpose, std::string stream,
                      AccessLevel level, std::vector<std::string> fields = {}) {
  AccessRequest r;
  r.party = std::move(party);
  r.purpose = std::move(purpose);
  r.stream = std::move(stream);
  r.level = level;
  r.fields = std::move(fields);
  return r;
}

AccessRequest RecordsRequest(std::vector<std::string> fields = {}) {
  return Request("energy-dept", "planning", "energy.meter_readings",
                 AccessLevel::kRecords, std::move(fields));
}

// Field-by-field equality (config::Budget has no operator==).
void ExpectSameDecision(const Decision& a, const Decision& b) {
  ASSERT_EQ(a.permitted(), b.permitted());
  EXPECT_EQ(a.detail, b.detail);
  if (!a.permitted()) {
    EXPECT_EQ(a.reason, b.reason);
    return;
  }
  const Obligations& x = a.obligations;
  const Obligations& y = b.obligations;
  EXPECT_EQ(x.agreement_id, y.agreement_id);
  EXPECT_EQ(x.level, y.level);
  EXPECT_EQ(x.fields, y.fields);
  EXPECT_EQ(x.time_granularity, y.time_granularity);
  EXPECT_EQ(x.cell_level, y.cell_level);
  EXPECT_EQ(x.k_threshold, y.k_threshold);
  ASSERT_EQ(x.budget.has_value(), y.budget.has_value());
  if (x.budget.has_value()) {
    EXPECT_EQ(x.budget->epsilon, y.budget->epsilon);
    EXPECT_EQ(x.budget->delta, y.budget->delta);
    EXPECT_EQ(x.budget->period, y.budget->period);
  }
  EXPECT_EQ(x.delete_after, y.delete_after);
  EXPECT_EQ(x.no_onward_sharing, y.no_onward_sharing);
  EXPECT_EQ(x.consent_required, y.consent_required);
  EXPECT_EQ(x.exclude_objectors, y.exclude_objectors);
}

#define EXPECT_DENIED(decision, why)                                \
  do {                                                              \
    const Decision& d_ = (decision);                                \
    EXPECT_FALSE(d_.permitted()) << d_.detail;                      \
    EXPECT_EQ(ReasonCode(d_.reason), ReasonCode(why)) << d_.detail; \
  } while (0)

// ---------------------------------------------------------------- codes

TEST(ReasonCode, CodesAreStable) {
  EXPECT_EQ(ReasonCode(DenyReason::kUnknownParty), "unknown-party");
  EXPECT_EQ(ReasonCode(DenyReason::kUnknownStream), "unknown-stream");
  EXPECT_EQ(ReasonCode(DenyReason::kUnknownPurpose), "unknown-purpose");
  EXPECT_EQ(ReasonCode(DenyReason::kPurposeProhibited), "purpose-prohibited");
  EXPECT_EQ(ReasonCode(DenyReason::kPurposeNotServedByStream),
            "purpose-not-served-by-stream");
  EXPECT_EQ(ReasonCode(DenyReason::kNoAgreement), "no-agreement");
  EXPECT_EQ(ReasonCode(DenyReason::kAgreementNotYetValid), "agreement-not-yet-valid");
  EXPECT_EQ(ReasonCode(DenyReason::kAgreementExpired), "agreement-expired");
  EXPECT_EQ(ReasonCode(DenyReason::kPurposeNotGranted), "purpose-not-granted");
  EXPECT_EQ(ReasonCode(DenyReason::kLevelNotGranted), "level-not-granted");
  EXPECT_EQ(ReasonCode(DenyReason::kFieldNotGranted), "field-not-granted");
  EXPECT_EQ(ReasonCode(DenyReason::kWindowOutsideAgreement), "window-outside-agreement");
}

TEST(ReasonCode, CodesAreDistinctAndRoundTrip) {
  std::set<std::string_view> seen;
  for (DenyReason reason : kAllDenyReasons) {
    std::string_view code = ReasonCode(reason);
    EXPECT_TRUE(seen.insert(code).second) << code;
    std::optional<DenyReason> parsed = ParseReasonCode(code);
    ASSERT_TRUE(parsed.has_value()) << code;
    EXPECT_EQ(*parsed, reason);
  }
  EXPECT_FALSE(ParseReasonCode("").has_value());
  EXPECT_FALSE(ParseReasonCode("No-Agreement").has_value());
  EXPECT_FALSE(ParseReasonCode("denied").has_value());
}

TEST(DecisionType, DefaultIsADenial) {
  Decision d;
  EXPECT_FALSE(d.permitted());
}

// ------------------------------------------------- one test per denial

TEST(Decide, UnknownParty) {
  CityConfig c = MakeCity();
  AccessRequest r = RecordsRequest();
  r.party = "stranger";
  Decision d = Decide(c, r, kNow);
  EXPECT_DENIED(d, DenyReason::kUnknownParty);
  EXPECT_THAT(d.detail, Not(HasSubstr("stranger")));
}

TEST(Decide, UnknownStream) {
  CityConfig c = MakeCity();
  AccessRequest r = RecordsRequest();
  r.stream = "energy.meter_readings_v2";
  Decision d = Decide(c, r, kNow);
  EXPECT_DENIED(d, DenyReason::kUnknownStream);
  EXPECT_THAT(d.detail, Not(HasSubstr("v2")));
}

TEST(Decide, UnknownPurpose) {
  CityConfig c = MakeCity();
  AccessRequest r = RecordsRequest();
  r.purpose = "curiosity";
  Decision d = Decide(c, r, kNow);
  EXPECT_DENIED(d, DenyReason::kUnknownPurpose);
  EXPECT_THAT(d.detail, Not(HasSubstr("curiosity")));
  r.purpose = "";
  EXPECT_DENIED(Decide(c, r, kNow), DenyReason::kUnknownPurpose);
}

TEST(Decide, PurposeProhibited) {
  CityConfig c = MakeCity();
  EXPECT_DENIED(Decide(c,
                       Request("partner", "marketing", "energy.meter_readings",
                               AccessLevel::kAggregate),
                       kNow),
                DenyReason::kPurposeProhibited);
}

TEST(Decide, PurposeNotServedByStream) {
  CityConfig c = MakeCity();
  Decision d = Decide(
      c, Request("energy-dept", "safety", "energy.meter_readings", AccessLevel::kRecords),
      kNow);
  EXPECT_DENIED(d, DenyReason::kPurposeNotServedByStream);
  EXPECT_THAT(d.detail, HasSubstr("safety"));
}

TEST(Decide, NoAgreement) {
  CityConfig c = MakeCity();
  // "nobody" is declared but named by no agreement.
  EXPECT_DENIED(Decide(c,
                       Request("nobody", "planning", "energy.meter_readings",
                               AccessLevel::kRecords),
                       kNow),
                DenyReason::kNoAgreement);
  // energy-dept has agreements, but none on footfall.
  EXPECT_DENIED(
      Decide(c,
             Request("energy-dept", "planning", "footfall.counts", AccessLevel::kRecords),
             kNow),
      DenyReason::kNoAgreement);
}

TEST(Decide, APublicAgreementIsNoAgreementForHigherLevels) {
  CityConfig c = MakeCity();
  // footfall has a public agreement, which does not count as an agreement
  // with "nobody" for any level above public.
  for (AccessLevel level :
       {AccessLevel::kAggregate, AccessLevel::kExtract, AccessLevel::kRecords}) {
    EXPECT_DENIED(
        Decide(c, Request("nobody", "open-data", "footfall.counts", level), kNow),
        DenyReason::kNoAgreement);
  }
}

TEST(Decide, AgreementNotYetValid) {
  CityConfig c = MakeCity();
  EXPECT_DENIED(Decide(c, RecordsRequest(), kValidFrom - absl::Hours(1)),
                DenyReason::kAgreementNotYetValid);
}

TEST(Decide, AgreementExpired) {
  CityConfig c = MakeCity();
  EXPECT_DENIED(Decide(c, RecordsRequest(), kValidUntil + absl::Hours(24 * 100)),
                DenyReason::kAgreementExpired);
}

TEST(Decide, PurposeNotGranted) {
  CityConfig c = MakeCity();
  // The stream serves research, but energy-dept's agreement does not cover it.
  Decision d = Decide(
      c,
      Request("energy-dept", "research", "energy.meter_readings", AccessLevel::kRecords),
      kNow);
  EXPECT_DENIED(d, DenyReason::kPurposeNotGranted);
  EXPECT_THAT(d.detail, HasSubstr("a-records"));
}

TEST(Decide, LevelNotGranted) {
  CityConfig c = MakeCity();
  EXPECT_DENIED(Decide(c,
                       Request("energy-dept", "planning", "energy.meter_readings",
                               AccessLevel::kExtract),
                       kNow),
                DenyReason::kLevelNotGranted);
}

TEST(Decide, FieldNotGranted) {
  CityConfig c = MakeCity();
  Decision d = Decide(c, RecordsRequest({"kwh", "postcode"}), kNow);
  EXPECT_DENIED(d, DenyReason::kFieldNotGranted);
  EXPECT_THAT(d.detail, HasSubstr("postcode"));
}

TEST(Decide, FieldNotDeclaredIsNotGrantedAndNotEchoed) {
  CityConfig c = MakeCity();
  Decision d = Decide(c, RecordsRequest({"kwh", "jane.doe@example.org"}), kNow);
  EXPECT_DENIED(d, DenyReason::kFieldNotGranted);
  EXPECT_THAT(d.detail, Not(HasSubstr("jane")));
}

TEST(Decide, DroppedFieldIsNeverGrantedEvenIfListed) {
  CityConfig c = MakeCity();
  c.agreements[0].fields.push_back("customer_name");
  EXPECT_DENIED(Decide(c, RecordsRequest({"customer_name"}), kNow),
                DenyReason::kFieldNotGranted);
  Decision all = Decide(c, RecordsRequest(), kNow);
  ASSERT_TRUE(all.permitted()) << all.detail;
  EXPECT_THAT(all.obligations.fields, ElementsAre("meter_id", "reading_time", "kwh"));
}

TEST(Decide, WindowOutsideAgreement) {
  CityConfig c = MakeCity();
  AccessRequest r = RecordsRequest();
  r.from = kValidFrom + absl::Hours(48);
  r.to = kValidFrom + absl::Hours(24);
  EXPECT_DENIED(Decide(c, r, kNow), DenyReason::kWindowOutsideAgreement);
  r.to = r.from;  // empty half-open window
  EXPECT_DENIED(Decide(c, r, kNow), DenyReason::kWindowOutsideAgreement);
}

TEST(Decide, WindowsThatAreWellFormedOrOpenArePermitted) {
  CityConfig c = MakeCity();
  AccessRequest r = RecordsRequest();
  r.from = kValidFrom;
  r.to = kValidFrom + absl::Seconds(1);
  EXPECT_TRUE(Decide(c, r, kNow).permitted());
  // Data time is not bounded by the agreement's validity: a window before
  // valid_from reads data collected before the agreement began.
  r.from = kValidFrom - absl::Hours(24 * 365);
  r.to = std::nullopt;
  EXPECT_TRUE(Decide(c, r, kNow).permitted());
  r.from = std::nullopt;
  r.to = kValidFrom - absl::Hours(24 * 365);
  EXPECT_TRUE(Decide(c, r, kNow).permitted());
}

// ------------------------------------------- permits and obligations

TEST(Decide, RecordsPermitCarriesAgreementObligations) {
  CityConfig c = MakeCity();
  Decision d = Decide(c, RecordsRequest(), kNow);
  ASSERT_TRUE(d.permitted()) << d.detail;
  const Obligations& o = d.obligations;
  EXPECT_EQ(o.agreement_id, "a-records");
  EXPECT_EQ(o.level, AccessLevel::kRecords);
  EXPECT_THAT(o.fields, ElementsAre("meter_id", "reading_time", "kwh"));
  EXPECT_EQ(o.time_granularity, absl::Hours(1));
  EXPECT_FALSE(o.cell_level.has_value());
  EXPECT_FALSE(o.budget.has_value());
  EXPECT_EQ(o.delete_after, absl::Hours(24 * 30));
  EXPECT_TRUE(o.no_onward_sharing);
  EXPECT_FALSE(o.consent_required);  // planning is public-task
  EXPECT_TRUE(o.exclude_objectors);  // and not mandatory
  EXPECT_THAT(d.detail, HasSubstr("a-records"));
}

TEST(Decide, RequestedFieldsAreReleasedInStreamOrderWithoutDuplicates) {
  CityConfig c = MakeCity();
  Decision d = Decide(c, RecordsRequest({"kwh", "meter_id", "kwh"}), kNow);
  ASSERT_TRUE(d.permitted()) << d.detail;
  EXPECT_THAT(d.obligations.fields, ElementsAre("meter_id", "kwh"));
}

TEST(Decide, ExtractPermitCarriesKAndCellLevel) {
  CityConfig c = MakeCity();
  Decision d = Decide(c,
                      Request("uni", "planning", "energy.meter_readings",
                              AccessLevel::kExtract, {"postcode", "kwh"}),
                      kNow);
  ASSERT_TRUE(d.permitted()) << d.detail;
  EXPECT_EQ(d.obligations.agreement_id, "a-extract");
  EXPECT_EQ(d.obligations.level, AccessLevel::kExtract);
  EXPECT_EQ(d.obligations.k_threshold, 10);
  EXPECT_EQ(d.obligations.cell_level, 12);
  EXPECT_FALSE(d.obligations.time_granularity.has_value());
  EXPECT_FALSE(d.obligations.delete_after.has_value());
  EXPECT_FALSE(d.obligations.no_onward_sharing);
  EXPECT_THAT(d.obligations.fields, ElementsAre("kwh", "postcode"));
}

TEST(Decide, AggregatePermitCarriesBudgetAndDefaultFields) {
  CityConfig c = MakeCity();
  Decision d = Decide(
      c, Request("partner", "planning", "energy.meter_readings", AccessLevel::kAggregate),
      kNow);
  ASSERT_TRUE(d.permitted()) << d.detail;
  ASSERT_TRUE(d.obligations.budget.has_value());
  EXPECT_EQ(d.obligations.budget->epsilon, 1.0);
  EXPECT_EQ(d.obligations.budget->delta, 1e-6);
  EXPECT_EQ(d.obligations.budget->period, absl::Hours(24 * 30));
  // No fields listed at aggregate level: every stored field but identifiers.
  EXPECT_THAT(d.obligations.fields,
              ElementsAre("reading_time", "kwh", "postcode", "location"));
}

TEST(Decide, AggregateAgreementWithoutBudgetGrantsNothing) {
  CityConfig c = MakeCity();
  c.agreements[2].budget.reset();
  EXPECT_DENIED(Decide(c,
                       Request("partner", "planning", "energy.meter_readings",
                               AccessLevel::kAggregate),
                       kNow),
                DenyReason::kLevelNotGranted);
  c.agreements[2].budget = config::Budget{0.0, 0.0, absl::Hours(1)};
  EXPECT_DENIED(Decide(c,
                       Request("partner", "planning", "energy.meter_readings",
                               AccessLevel::kAggregate),
                       kNow),
                DenyReason::kLevelNotGranted);
}

TEST(Decide, ExtractAgreementWithoutKThresholdGrantsNothing) {
  CityConfig c = MakeCity();
  c.agreements[1].k_threshold = 1;
  EXPECT_DENIED(
      Decide(c,
             Request("uni", "planning", "energy.meter_readings", AccessLevel::kExtract),
             kNow),
      DenyReason::kLevelNotGranted);
}

TEST(Decide, RecordsAgreementListingNoFieldsGrantsNothing) {
  CityConfig c = MakeCity();
  c.agreements[0].fields.clear();
  EXPECT_DENIED(Decide(c, RecordsRequest(), kNow), DenyReason::kFieldNotGranted);
  EXPECT_DENIED(Decide(c, RecordsRequest({"kwh"}), kNow), DenyReason::kFieldNotGranted);
}

TEST(Decide, ConsentBasedPurposeRequiresConsent) {
  CityConfig c = MakeCity();
  Decision d = Decide(
      c, Request("uni", "research", "energy.meter_readings", AccessLevel::kExtract),
      kNow);
  ASSERT_TRUE(d.permitted()) << d.detail;
  EXPECT_TRUE(d.obligations.consent_required);
  EXPECT_TRUE(d.obligations.exclude_objectors);
}

TEST(Decide, NonMandatoryPurposeExcludesObjectorsMandatoryDoesNot) {
  CityConfig c = MakeCity();
  Decision planning = Decide(c, RecordsRequest(), kNow);
  ASSERT_TRUE(planning.permitted()) << planning.detail;
  EXPECT_TRUE(planning.obligations.exclude_objectors);
  EXPECT_FALSE(planning.obligations.consent_required);

  Decision billing = Decide(
      c,
      Request("energy-dept", "billing", "energy.meter_readings", AccessLevel::kRecords),
      kNow);
  ASSERT_TRUE(billing.permitted()) << billing.detail;
  EXPECT_FALSE(billing.obligations.exclude_objectors);
  EXPECT_FALSE(billing.obligations.consent_required);
}

TEST(Decide, StreamWithoutSubjectsHasNoConsentOrObjectionFilter) {
  CityConfig c = MakeCity();
  c.agreements.push_back(MakeAgreement("a-foot", "energy-dept", "footfall.counts",
                                       AccessLevel::kRecords, {"planning"},
                                       {"time", "count"}));
  Decision d = Decide(
      c, Request("energy-dept", "planning", "footfall.counts", AccessLevel::kRecords),
      kNow);
  ASSERT_TRUE(d.permitted()) << d.detail;
  EXPECT_FALSE(d.obligations.consent_required);
  EXPECT_FALSE(d.obligations.exclude_objectors);
}

// ---------------------------------------- prohibited and level rules

TEST(Decide, ProhibitedPurposeOverridesAnAgreement) {
  CityConfig c = MakeCity();
  c.agreements[0].purposes.push_back("marketing");
  AccessRequest r = RecordsRequest();
  r.purpose = "marketing";
  EXPECT_DENIED(Decide(c, r, kNow), DenyReason::kPurposeProhibited);
  // The same agreement still permits its other purposes.
  EXPECT_TRUE(Decide(c, RecordsRequest(), kNow).permitted());
}

TEST(Decide, AggregateAgreementDoesNotGiveRecords) {
  CityConfig c = MakeCity();
  Decision d = Decide(
      c, Request("partner", "planning", "energy.meter_readings", AccessLevel::kRecords),
      kNow);
  EXPECT_DENIED(d, DenyReason::kLevelNotGranted);
  EXPECT_THAT(d.detail, HasSubstr("aggregate"));
}

TEST(Decide, RecordsAgreementDoesNotGiveAggregatesOrWeakerLevels) {
  CityConfig c = MakeCity();
  for (AccessLevel level :
       {AccessLevel::kAggregate, AccessLevel::kExtract, AccessLevel::kPublic}) {
    AccessRequest r = RecordsRequest();
    r.level = level;
    EXPECT_DENIED(Decide(c, r, kNow), DenyReason::kLevelNotGranted);
  }
}

TEST(Decide, PublicReadsPublicReleases) {
  CityConfig c = MakeCity();
  // The anonymous public, undeclared in the config.
  Decision anon = Decide(
      c, Request("public", "open-data", "footfall.counts", AccessLevel::kPublic), kNow);
  ASSERT_TRUE(anon.permitted()) << anon.detail;
  EXPECT_EQ(anon.obligations.agreement_id, "a-public");
  EXPECT_EQ(anon.obligations.level, AccessLevel::kPublic);
  EXPECT_THAT(anon.obligations.fields, ElementsAre("sensor", "time", "count"));
  // Any declared party, whether or not an agreement names it.
  for (const char* party : {"press", "nobody", "energy-dept"}) {
    Decision d = Decide(
        c, Request(party, "open-data", "footfall.counts", AccessLevel::kPublic), kNow);
    EXPECT_TRUE(d.permitted()) << party << ": " << d.detail;
  }
}

TEST(Decide, NoPublicReleaseWithoutAPublicAgreementOnTheStream) {
  CityConfig c = MakeCity();
  EXPECT_DENIED(Decide(c,
                       Request("public", "open-data", "energy.meter_readings",
                               AccessLevel::kPublic),
                       kNow),
                DenyReason::kNoAgreement);
}

TEST(Decide, PublicNeverReadsAboveThePublicLevel) {
  CityConfig c = MakeCity();
  // Even an agreement naming them at a higher level does not help.
  c.agreements.push_back(MakeAgreement("a-bad", "public", "footfall.counts",
                                       AccessLevel::kRecords, {"open-data"},
                                       {"time", "count"}));
  c.agreements.push_back(MakeAgreement("a-bad2", "press", "footfall.counts",
                                       AccessLevel::kRecords, {"open-data"},
                                       {"time", "count"}));
  for (const char* party : {"public", "press"}) {
    for (AccessLevel level :
         {AccessLevel::kAggregate, AccessLevel::kExtract, AccessLevel::kRecords}) {
      EXPECT_DENIED(
          Decide(c, Request(party, "open-data", "footfall.counts", level), kNow),
          DenyReason::kLevelNotGranted);
    }
  }
  // A config that declares "public" as a department does not change that.
  c.parties.push_back(MakeParty("public", PartyKind::kDepartment));
  EXPECT_DENIED(
      Decide(c, Request("public", "open-data", "footfall.counts", AccessLevel::kRecords),
             kNow),
      DenyReason::kLevelNotGranted);
}

// --------------------------------------------- most specific reason

TEST(Decide, ExpiredRatherThanNoAgreement) {
  CityConfig c = MakeCity();
  Decision d = Decide(c, RecordsRequest(), kValidUntil);
  EXPECT_DENIED(d, DenyReason::kAgreementExpired);
  EXPECT_THAT(d.detail, HasSubstr("a-records"));
}

TEST(Decide, FieldNotGrantedWhenPurposeAndLevelMatchedElsewhere) {
  CityConfig c = MakeCity();
  // Three agreements for energy-dept on energy: wrong purpose, wrong level,
  // and one that matches purpose and level but lacks the field.
  c.agreements.push_back(MakeAgreement("a-p", "energy-dept", "energy.meter_readings",
                                       AccessLevel::kRecords, {"billing"}, {"postcode"}));
  Agreement wrong_level =
      MakeAgreement("a-l", "energy-dept", "energy.meter_readings", AccessLevel::kExtract,
                    {"planning"}, {"postcode"});
  wrong_level.k_threshold = 5;
  c.agreements.push_back(wrong_level);
  Decision d = Decide(c, RecordsRequest({"postcode"}), kNow);
  EXPECT_DENIED(d, DenyReason::kFieldNotGranted);
  EXPECT_THAT(d.detail, HasSubstr("a-records"));
}

TEST(Decide, MostSpecificReasonIndependentOfAgreementOrder) {
  CityConfig c = MakeCity();
  c.agreements.clear();
  Agreement purpose_only =
      MakeAgreement("x-purpose", "energy-dept", "energy.meter_readings",
                    AccessLevel::kRecords, {"billing"}, {"kwh"});
  Agreement level_only = MakeAgreement("x-level", "energy-dept", "energy.meter_readings",
                                       AccessLevel::kAggregate, {"planning"});
  level_only.budget = config::Budget{1, 0, absl::Hours(1)};
  Agreement expired = MakeAgreement("x-expired", "energy-dept", "energy.meter_readings",
                                    AccessLevel::kRecords, {"planning"}, {"kwh"});
  expired.valid_until = kNow - absl::Seconds(1);
  c.agreements = {purpose_only, level_only, expired};
  EXPECT_DENIED(Decide(c, RecordsRequest({"kwh"}), kNow), DenyReason::kAgreementExpired);
  c.agreements = {expired, level_only, purpose_only};
  EXPECT_DENIED(Decide(c, RecordsRequest({"kwh"}), kNow), DenyReason::kAgreementExpired);
  c.agreements = {purpose_only, level_only};
  EXPECT_DENIED(Decide(c, RecordsRequest({"kwh"}), kNow), DenyReason::kLevelNotGranted);
  c.agreements = {level_only, purpose_only};
  EXPECT_DENIED(Decide(c, RecordsRequest({"kwh"}), kNow), DenyReason::kLevelNotGranted);
  c.agreements = {purpose_only};
  EXPECT_DENIED(Decide(c, RecordsRequest({"kwh"}), kNow), DenyReason::kPurposeNotGranted);
}

TEST(Decide, TiesBetweenEquallySpecificDenialsGoToTheFirstAgreement) {
  CityConfig c = MakeCity();
  Agreement second = c.agreements[0];
  second.id = "a-records-second";
  c.agreements.push_back(second);
  Decision d = Decide(c, RecordsRequest(), kValidUntil);
  EXPECT_DENIED(d, DenyReason::kAgreementExpired);
  EXPECT_THAT(d.detail, HasSubstr("a-records "));
  EXPECT_THAT(d.detail, Not(HasSubstr("a-records-second")));
}

TEST(Decide, NotYetValidRenewalRanksAboveExpiredInAnyOrder) {
  CityConfig c = MakeCity();
  Agreement renewal = c.agreements[0];
  renewal.id = "a-records-renewal";
  renewal.valid_from = kValidUntil + absl::Hours(24 * 30);
  renewal.valid_until = std::nullopt;
  const absl::Time gap = kValidUntil + absl::Hours(24);
  c.agreements.push_back(renewal);
  Decision d = Decide(c, RecordsRequest(), gap);
  EXPECT_DENIED(d, DenyReason::kAgreementNotYetValid);
  EXPECT_THAT(d.detail, HasSubstr("a-records-renewal"));
  std::swap(c.agreements.front(), c.agreements.back());
  EXPECT_DENIED(Decide(c, RecordsRequest(), gap), DenyReason::kAgreementNotYetValid);
}

TEST(Decide, AValidAgreementWinsOverAnExpiredOne) {
  CityConfig c = MakeCity();
  Agreement renewed = c.agreements[0];
  renewed.id = "a-records-2025";
  renewed.valid_from = kValidUntil;
  renewed.valid_until = std::nullopt;
  renewed.delete_after = absl::Hours(24 * 7);
  c.agreements.push_back(renewed);
  Decision before = Decide(c, RecordsRequest(), kNow);
  ASSERT_TRUE(before.permitted());
  EXPECT_EQ(before.obligations.agreement_id, "a-records");
  Decision after = Decide(c, RecordsRequest(), kValidUntil + absl::Hours(1));
  ASSERT_TRUE(after.permitted());
  EXPECT_EQ(after.obligations.agreement_id, "a-records-2025");
  EXPECT_EQ(after.obligations.delete_after, absl::Hours(24 * 7));
}

TEST(Decide, FirstPermittingAgreementInConfigOrderWins) {
  CityConfig c = MakeCity();
  Agreement twin = c.agreements[0];
  twin.id = "a-records-twin";
  c.agreements.insert(c.agreements.begin(), twin);
  Decision d = Decide(c, RecordsRequest(), kNow);
  ASSERT_TRUE(d.permitted());
  EXPECT_EQ(d.obligations.agreement_id, "a-records-twin");
}

// ---------------------------------------------------- boundary instants

TEST(Decide, ValidFromIsInclusive) {
  CityConfig c = MakeCity();
  EXPECT_DENIED(Decide(c, RecordsRequest(), kValidFrom - absl::Nanoseconds(1)),
                DenyReason::kAgreementNotYetValid);
  EXPECT_TRUE(Decide(c, RecordsRequest(), kValidFrom).permitted());
  EXPECT_TRUE(Decide(c, RecordsRequest(), kValidFrom + absl::Nanoseconds(1)).permitted());
}

TEST(Decide, ValidUntilIsExclusive) {
  CityConfig c = MakeCity();
  EXPECT_TRUE(
      Decide(c, RecordsRequest(), kValidUntil - absl::Nanoseconds(1)).permitted());
  EXPECT_DENIED(Decide(c, RecordsRequest(), kValidUntil), DenyReason::kAgreementExpired);
  EXPECT_DENIED(Decide(c, RecordsRequest(), kValidUntil + absl::Nanoseconds(1)),
                DenyReason::kAgreementExpired);
}

TEST(Decide, OpenEndedValidityHoldsAtExtremeTimes) {
  CityConfig c = MakeCity();
  AccessRequest r =
      Request("partner", "planning", "energy.meter_readings", AccessLevel::kAggregate);
  EXPECT_TRUE(Decide(c, r, absl::InfinitePast()).permitted());
  EXPECT_TRUE(Decide(c, r, absl::InfiniteFuture()).permitted());
  EXPECT_DENIED(Decide(c, RecordsRequest(), absl::InfinitePast()),
                DenyReason::kAgreementNotYetValid);
  EXPECT_DENIED(Decide(c, RecordsRequest(), absl::InfiniteFuture()),
                DenyReason::kAgreementExpired);
}

// ------------------------------------------------------- table-driven

// Every combination of party, purpose, stream, level, fields, window and
// time over the test city: Decide gives the same decision twice and on a
// copy of the config, the same outcome and reason whatever the order of the
// agreements, denies whenever no agreement names the party (except
// public releases, which are open to anyone), and every permit is backed by
// an agreement that grants exactly what the permit says.
TEST(Decide, TableIsDeterministicAndDeniesWithoutAnAgreement) {
  CityConfig c = MakeCity();
  // Extra agreements so that the table exercises each reason.
  Agreement future = MakeAgreement("a-future", "nobody-yet", "footfall.counts",
                                   AccessLevel::kRecords, {"planning"}, {"count"});
  future.valid_from = kValidUntil;
  c.parties.push_back(MakeParty("nobody-yet", PartyKind::kPartner));
  c.agreements.push_back(future);
  const CityConfig copy = c;
  CityConfig reversed = c;
  std::reverse(reversed.agreements.begin(), reversed.agreements.end());

  const std::vector<std::string> parties = {"energy-dept", "uni",   "partner",
                                            "nobody",      "press", "public",
                                            "nobody-yet",  "ghost", ""};
  const std::vector<std::string> purposes = {
      "planning", "research", "billing", "marketing", "safety", "open-data", "nope"};
  const std::vector<std::string> streams = {"energy.meter_readings", "footfall.counts",
                                            "nope"};
  const std::vector<AccessLevel> levels = {AccessLevel::kPublic, AccessLevel::kAggregate,
                                           AccessLevel::kExtract, AccessLevel::kRecords};
  const std::vector<std::vector<std::string>> field_sets = {
      {}, {"kwh"}, {"meter_id", "kwh"}, {"postcode"}, {"count"}, {"ghost"}};
  const std::vector<absl::Time> times = {kValidFrom - absl::Seconds(1), kValidFrom, kNow,
                                         kValidUntil, kValidUntil + absl::Hours(1)};
  struct Window {
    std::optional<absl::Time> from, to;
  };
  const std::vector<Window> windows = {
      {std::nullopt, std::nullopt}, {kValidFrom, kValidUntil}, {kValidUntil, kValidFrom}};

  std::set<std::string> reasons_seen;
  int permits = 0;
  int cases = 0;
  for (const std::string& party : parties) {
    const bool named = std::any_of(c.agreements.begin(), c.agreements.end(),
                                   [&](const Agreement& a) { return a.party == party; });
    for (const std::string& purpose : purposes) {
      for (const std::string& stream : streams) {
        for (AccessLevel level : levels) {
          for (const auto& fields : field_sets) {
            for (absl::Time now : times) {
              for (const Window& w : windows) {
                AccessRequest r = Request(party, purpose, stream, level, fields);
                r.from = w.from;
                r.to = w.to;
                ++cases;
                const Decision d = Decide(c, r, now);
                ExpectSameDecision(d, Decide(c, r, now));
                ExpectSameDecision(d, Decide(copy, r, now));
                // Agreement order may change which agreement is named, not
                // whether the request is permitted or why it is denied.
                const Decision other = Decide(reversed, r, now);
                ASSERT_EQ(d.permitted(), other.permitted());
                if (!d.permitted()) {
                  EXPECT_EQ(d.reason, other.reason);
                }
                if (!d.permitted()) {
                  reasons_seen.insert(std::string(ReasonCode(d.reason)));
                  EXPECT_FALSE(d.detail.empty());
                  continue;
                }
                ++permits;
                const bool public_read = level == AccessLevel::kPublic;
                if (!named) {
                  EXPECT_TRUE(public_read) << party << " permitted without an agreement";
                }
                // The permit is backed by the agreement it names.
                const Agreement* a = nullptr;
                for (const Agreement& x : c.agreements) {
                  if (x.id == d.obligations.agreement_id) a = &x;
                }
                ASSERT_NE(a, nullptr);
                EXPECT_EQ(a->stream, stream);
                EXPECT_EQ(a->level, level);
                EXPECT_TRUE(a->party == party || a->level == AccessLevel::kPublic);
                EXPECT_THAT(a->purposes, testing::Contains(purpose));
                EXPECT_FALSE(a->valid_from.has_value() && now < *a->valid_from);
                EXPECT_FALSE(a->valid_until.has_value() && now >= *a->valid_until);
                EXPECT_THAT(d.obligations.fields, Not(IsEmpty()));
                const std::vector<std::string> granted =
                    ReleasedFields(*c.FindStream(stream), *a);
                for (const std::string& f : d.obligations.fields) {
                  EXPECT_THAT(granted, testing::Contains(f));
                  if (!fields.empty()) {
                    EXPECT_THAT(fields, testing::Contains(f));
                  }
                }
                EXPECT_FALSE(c.FindPurpose(purpose)->prohibited);
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(cases, 10000);
  EXPECT_GT(permits, 0);
  // The table reaches every denial reason.
  for (DenyReason reason : kAllDenyReasons) {
    EXPECT_TRUE(reasons_seen.count(std::string(ReasonCode(reason))))
        << ReasonCode(reason);
  }
}

// ------------------------------------------------------- ReleasedFields

TEST(ReleasedFields, ListedFieldsInStreamOrderMinusUnknownAndDropped) {
  CityConfig c = MakeCity();
  Agreement a =
      MakeAgreement("x", "uni", "energy.meter_readings", AccessLevel::kRecords,
                    {"planning"}, {"kwh", "ghost", "customer_name", "meter_id"});
  EXPECT_THAT(ReleasedFields(c.streams[0], a), ElementsAre("meter_id", "kwh"));
}

TEST(ReleasedFields, EmptyListDependsOnLevel) {
  CityConfig c = MakeCity();
  Agreement a = MakeAgreement("x", "uni", "energy.meter_readings", AccessLevel::kRecords,
                              {"planning"});
  EXPECT_THAT(ReleasedFields(c.streams[0], a), IsEmpty());
  a.level = AccessLevel::kExtract;
  EXPECT_THAT(ReleasedFields(c.streams[0], a), IsEmpty());
  a.level = AccessLevel::kAggregate;
  EXPECT_THAT(ReleasedFields(c.streams[0], a),
              ElementsAre("reading_time", "kwh", "postcode", "location"));
  a.level = AccessLevel::kPublic;
  EXPECT_THAT(ReleasedFields(c.streams[0], a),
              ElementsAre("reading_time", "kwh", "postcode", "location"));
}

}  // namespace
}  // namespace privacity::policy
