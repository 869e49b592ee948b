#include "config/model.h"

#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace privacity::config {
namespace {

// Every enumerator of E in declaration order, with ToString/Parse checked as
// exact inverses; returns the names seen.
template <typename E, typename Parse>
std::vector<std::string> CheckRoundTrip(E first, E last, Parse parse) {
  std::vector<std::string> names;
  for (int i = static_cast<int>(first); i <= static_cast<int>(last); ++i) {
    const E value = static_cast<E>(i);
    const std::string_view name = ToString(value);
    EXPECT_NE(name, "unknown") << i;
    EXPECT_EQ(parse(name), value) << name;
    names.emplace_back(name);
  }
  return names;
}

TEST(ModelTest, EnumNamesRoundTrip) {
  EXPECT_EQ(
      CheckRoundTrip(LegalBasis::kConsent, LegalBasis::kLegitimateInterest,
                     ParseLegalBasis),
      (std::vector<std::string>{"consent", "contract", "legal-obligation",
                                "vital-interest", "public-task", "legitimate-interest"}));
  EXPECT_EQ(CheckRoundTrip(FieldType::kString, FieldType::kEnum, ParseFieldType),
            (std::vector<std::string>{"string", "int", "number", "bool", "time", "point",
                                      "enum"}));
  EXPECT_EQ(CheckRoundTrip(FieldCategory::kDirectIdentifier, FieldCategory::kOther,
                           ParseFieldCategory),
            (std::vector<std::string>{"direct-identifier", "subject-identifier",
                                      "quasi-identifier", "location", "time",
                                      "measurement", "sensitive", "free-text", "other"}));
  EXPECT_EQ(
      CheckRoundTrip(TransformKind::kDrop, TransformKind::kRedact, ParseTransformKind),
      (std::vector<std::string>{"drop", "keep", "pseudonymize", "time_bucket", "cell",
                                "round", "clamp", "truncate", "map", "redact"}));
  EXPECT_EQ(
      CheckRoundTrip(RedactPattern::kPlate, RedactPattern::kMac, ParseRedactPattern),
      (std::vector<std::string>{"plate", "email", "phone", "mac"}));
  EXPECT_EQ(
      CheckRoundTrip(PartyKind::kDepartment, PartyKind::kController, ParsePartyKind),
      (std::vector<std::string>{"department", "partner", "researcher", "public",
                                "controller"}));
  EXPECT_EQ(CheckRoundTrip(AccessLevel::kPublic, AccessLevel::kRecords, ParseAccessLevel),
            (std::vector<std::string>{"public", "aggregate", "extract", "records"}));
}

TEST(ModelTest, ParseRejectsUnknownNames) {
  EXPECT_FALSE(ParseLegalBasis("Consent").has_value());
  EXPECT_FALSE(ParseLegalBasis("public_task").has_value());
  EXPECT_FALSE(ParseFieldType("").has_value());
  EXPECT_FALSE(ParseFieldCategory("identifier").has_value());
  EXPECT_FALSE(ParseTransformKind("time-bucket").has_value());
  EXPECT_FALSE(ParseRedactPattern("iban").has_value());
  EXPECT_FALSE(ParsePartyKind("company").has_value());
  EXPECT_FALSE(ParseAccessLevel("record").has_value());
}

TEST(ModelTest, FieldDroppedLooksAtTheFirstStep) {
  Field f;
  EXPECT_FALSE(f.dropped());
  f.transforms.push_back(Transform{.kind = TransformKind::kDrop});
  EXPECT_TRUE(f.dropped());
  f.transforms.front().kind = TransformKind::kPseudonymize;
  EXPECT_FALSE(f.dropped());
}

}  // namespace
}  // namespace privacity::config
