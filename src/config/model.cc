#include "config/model.h"

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace privacity::config {
namespace {

// One table per enum keeps ToString and Parse* exact inverses.
template <typename E, size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr NameTable<LegalBasis, 6> kLegalBases{{
    {LegalBasis::kConsent, "consent"},
    {LegalBasis::kContract, "contract"},
    {LegalBasis::kLegalObligation, "legal-obligation"},
    {LegalBasis::kVitalInterest, "vital-interest"},
    {LegalBasis::kPublicTask, "public-task"},
    {LegalBasis::kLegitimateInterest, "legitimate-interest"},
}};

constexpr NameTable<FieldType, 7> kFieldTypes{{
    {FieldType::kString, "string"},
    {FieldType::kInt, "int"},
    {FieldType::kNumber, "number"},
    {FieldType::kBool, "bool"},
    {FieldType::kTime, "time"},
    {FieldType::kPoint, "point"},
    {FieldType::kEnum, "enum"},
}};

constexpr NameTable<FieldCategory, 9> kFieldCategories{{
    {FieldCategory::kDirectIdentifier, "direct-identifier"},
    {FieldCategory::kSubjectIdentifier, "subject-identifier"},
    {FieldCategory::kQuasiIdentifier, "quasi-identifier"},
    {FieldCategory::kLocation, "location"},
    {FieldCategory::kTime, "time"},
    {FieldCategory::kMeasurement, "measurement"},
    {FieldCategory::kSensitive, "sensitive"},
    {FieldCategory::kFreeText, "free-text"},
    {FieldCategory::kOther, "other"},
}};

constexpr NameTable<TransformKind, 10> kTransformKinds{{
    {TransformKind::kDrop, "drop"},
    {TransformKind::kKeep, "keep"},
    {TransformKind::kPseudonymize, "pseudonymize"},
    {TransformKind::kTimeBucket, "time_bucket"},
    {TransformKind::kCell, "cell"},
    {TransformKind::kRound, "round"},
    {TransformKind::kClamp, "clamp"},
    {TransformKind::kTruncate, "truncate"},
    {TransformKind::kMap, "map"},
    {TransformKind::kRedact, "redact"},
}};

constexpr NameTable<RedactPattern, 4> kRedactPatterns{{
    {RedactPattern::kPlate, "plate"},
    {RedactPattern::kEmail, "email"},
    {RedactPattern::kPhone, "phone"},
    {RedactPattern::kMac, "mac"},
}};

constexpr NameTable<PartyKind, 5> kPartyKinds{{
    {PartyKind::kDepartment, "department"},
    {PartyKind::kPartner, "partner"},
    {PartyKind::kResearcher, "researcher"},
    {PartyKind::kPublic, "public"},
    {PartyKind::kController, "controller"},
}};

constexpr NameTable<AccessLevel, 4> kAccessLevels{{
    {AccessLevel::kPublic, "public"},
    {AccessLevel::kAggregate, "aggregate"},
    {AccessLevel::kExtract, "extract"},
    {AccessLevel::kRecords, "records"},
}};

template <typename E, size_t N>
std::string_view NameOf(const NameTable<E, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "unknown";  // only reachable with a value cast from an int
}

template <typename E, size_t N>
std::optional<E> ValueOf(const NameTable<E, N>& table, std::string_view name) {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view ToString(LegalBasis v) { return NameOf(kLegalBases, v); }
std::string_view ToString(FieldType v) { return NameOf(kFieldTypes, v); }
std::string_view ToString(FieldCategory v) { return NameOf(kFieldCategories, v); }
std::string_view ToString(TransformKind v) { return NameOf(kTransformKinds, v); }
std::string_view ToString(RedactPattern v) { return NameOf(kRedactPatterns, v); }
std::string_view ToString(PartyKind v) { return NameOf(kPartyKinds, v); }
std::string_view ToString(AccessLevel v) { return NameOf(kAccessLevels, v); }
std::string_view ToString(MqttPayloadFormat v) {
  return v == MqttPayloadFormat::kNdjson ? "ndjson" : "json";
}

std::optional<LegalBasis> ParseLegalBasis(std::string_view name) {
  return ValueOf(kLegalBases, name);
}
std::optional<FieldType> ParseFieldType(std::string_view name) {
  return ValueOf(kFieldTypes, name);
}
std::optional<FieldCategory> ParseFieldCategory(std::string_view name) {
  return ValueOf(kFieldCategories, name);
}
std::optional<TransformKind> ParseTransformKind(std::string_view name) {
  return ValueOf(kTransformKinds, name);
}
std::optional<RedactPattern> ParseRedactPattern(std::string_view name) {
  return ValueOf(kRedactPatterns, name);
}
std::optional<PartyKind> ParsePartyKind(std::string_view name) {
  return ValueOf(kPartyKinds, name);
}
std::optional<AccessLevel> ParseAccessLevel(std::string_view name) {
  return ValueOf(kAccessLevels, name);
}

}  // namespace privacity::config
