#include "policy/decision.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/time_util.h"

namespace privacity::policy {
namespace {

using config::AccessLevel;
using config::Agreement;
using config::FieldCategory;
using config::Stream;

// Local names so that the policy library needs no symbol of the config
// library; they match config::ToString(AccessLevel).
const char* LevelName(AccessLevel level) {
  switch (level) {
    case AccessLevel::kPublic:
      return "public";
    case AccessLevel::kAggregate:
      return "aggregate";
    case AccessLevel::kExtract:
      return "extract";
    case AccessLevel::kRecords:
      return "records";
  }
  return "unknown";
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// How far a candidate agreement got through the per-agreement checks. Higher
// is more specific; the denial of the furthest candidate is reported.
int Rank(DenyReason reason) {
  switch (reason) {
    case DenyReason::kPurposeNotGranted:
      return 1;
    case DenyReason::kLevelNotGranted:
      return 2;
    case DenyReason::kAgreementExpired:
      return 3;
    // An agreement still to come says more than one that has ended: it is
    // the one that will apply.
    case DenyReason::kAgreementNotYetValid:
      return 4;
    case DenyReason::kFieldNotGranted:
      return 5;
    case DenyReason::kWindowOutsideAgreement:
      return 6;
    default:
      return 0;
  }
}

struct Denial {
  DenyReason reason;
  std::string detail;
};

// Checks one candidate agreement; nullopt when it permits the request.
std::optional<Denial> CheckAgreement(const Stream& stream, const Agreement& agreement,
                                     const AccessRequest& request, absl::Time now,
                                     std::vector<std::string>* released) {
  if (!Contains(agreement.purposes, request.purpose)) {
    return Denial{DenyReason::kPurposeNotGranted,
                  absl::StrCat("agreement ", agreement.id, " does not cover purpose ",
                               request.purpose)};
  }
  if (agreement.level != request.level) {
    return Denial{DenyReason::kLevelNotGranted,
                  absl::StrCat("agreement ", agreement.id, " grants level ",
                               LevelName(agreement.level), " only")};
  }
  if (agreement.level == AccessLevel::kAggregate &&
      !(agreement.budget.has_value() && agreement.budget->epsilon > 0)) {
    return Denial{DenyReason::kLevelNotGranted,
                  absl::StrCat("agreement ", agreement.id,
                               " grants aggregate level without a privacy budget")};
  }
  if (agreement.level == AccessLevel::kExtract && agreement.k_threshold < 2) {
    return Denial{
        DenyReason::kLevelNotGranted,
        absl::StrCat("agreement ", agreement.id,
                     " grants extract level without a k threshold of at least 2")};
  }
  if (agreement.valid_from.has_value() && now < *agreement.valid_from) {
    return Denial{DenyReason::kAgreementNotYetValid,
                  absl::StrCat("agreement ", agreement.id, " is not valid before ",
                               FormatTimestamp(*agreement.valid_from))};
  }
  if (agreement.valid_until.has_value() && now >= *agreement.valid_until) {
    return Denial{DenyReason::kAgreementExpired,
                  absl::StrCat("agreement ", agreement.id, " expired at ",
                               FormatTimestamp(*agreement.valid_until))};
  }
  std::vector<std::string> granted = ReleasedFields(stream, agreement);
  if (request.fields.empty()) {
    if (granted.empty()) {
      return Denial{DenyReason::kFieldNotGranted,
                    absl::StrCat("agreement ", agreement.id,
                                 " grants no field of stream ", stream.id)};
    }
    *released = std::move(granted);
  } else {
    for (const std::string& name : request.fields) {
      if (Contains(granted, name)) continue;
      // Name the field only when the stream declares it: a name the config
      // does not know is the requester's text and is not echoed.
      if (stream.FindField(name) != nullptr) {
        return Denial{
            DenyReason::kFieldNotGranted,
            absl::StrCat("agreement ", agreement.id, " does not grant field ", name)};
      }
      return Denial{
          DenyReason::kFieldNotGranted,
          absl::StrCat("a requested field is not declared by stream ", stream.id)};
    }
    // Stream order, no duplicates: filter the granted list by the request.
    released->clear();
    for (std::string& name : granted) {
      if (Contains(request.fields, name)) released->push_back(std::move(name));
    }
  }
  if (request.from.has_value() && request.to.has_value() &&
      *request.from >= *request.to) {
    return Denial{DenyReason::kWindowOutsideAgreement,
                  "the requested window does not start before it ends"};
  }
  return std::nullopt;
}

}  // namespace

std::string_view ReasonCode(DenyReason reason) {
  switch (reason) {
    case DenyReason::kUnknownParty:
      return "unknown-party";
    case DenyReason::kUnknownStream:
      return "unknown-stream";
    case DenyReason::kUnknownPurpose:
      return "unknown-purpose";
    case DenyReason::kPurposeProhibited:
      return "purpose-prohibited";
    case DenyReason::kPurposeNotServedByStream:
      return "purpose-not-served-by-stream";
    case DenyReason::kNoAgreement:
      return "no-agreement";
    case DenyReason::kAgreementNotYetValid:
      return "agreement-not-yet-valid";
    case DenyReason::kAgreementExpired:
      return "agreement-expired";
    case DenyReason::kPurposeNotGranted:
      return "purpose-not-granted";
    case DenyReason::kLevelNotGranted:
      return "level-not-granted";
    case DenyReason::kFieldNotGranted:
      return "field-not-granted";
    case DenyReason::kWindowOutsideAgreement:
      return "window-outside-agreement";
  }
  return "denied";
}

std::optional<DenyReason> ParseReasonCode(std::string_view code) {
  for (DenyReason reason : kAllDenyReasons) {
    if (ReasonCode(reason) == code) return reason;
  }
  return std::nullopt;
}

Decision Decision::Permit(Obligations obligations, std::string detail) {
  Decision d;
  d.permitted_ = true;
  d.obligations = std::move(obligations);
  d.detail = std::move(detail);
  return d;
}

Decision Decision::Deny(DenyReason reason, std::string detail) {
  Decision d;
  d.permitted_ = false;
  d.reason = reason;
  d.detail = std::move(detail);
  return d;
}

std::vector<std::string> ReleasedFields(const Stream& stream,
                                        const Agreement& agreement) {
  std::vector<std::string> out;
  const bool open_default =
      agreement.fields.empty() && (agreement.level == AccessLevel::kPublic ||
                                   agreement.level == AccessLevel::kAggregate);
  for (const config::Field& field : stream.fields) {
    if (field.dropped()) continue;  // never stored, so never released
    if (open_default) {
      if (field.name == stream.subject_field ||
          field.category == FieldCategory::kDirectIdentifier ||
          field.category == FieldCategory::kSubjectIdentifier) {
        continue;
      }
      out.push_back(field.name);
    } else if (Contains(agreement.fields, field.name)) {
      out.push_back(field.name);
    }
  }
  return out;
}

Decision Decide(const config::CityConfig& config, const AccessRequest& request,
                absl::Time now) {
  const bool anonymous_public = request.party == kPublicParty;
  const config::Party* party = config.FindParty(request.party);
  if (party == nullptr && !anonymous_public) {
    return Decision::Deny(DenyReason::kUnknownParty, "the party is not declared");
  }
  const Stream* stream = config.FindStream(request.stream);
  if (stream == nullptr) {
    return Decision::Deny(DenyReason::kUnknownStream, "the stream is not declared");
  }
  const config::Purpose* purpose = config.FindPurpose(request.purpose);
  if (purpose == nullptr) {
    return Decision::Deny(DenyReason::kUnknownPurpose, "the purpose is not declared");
  }
  if (purpose->prohibited) {
    return Decision::Deny(DenyReason::kPurposeProhibited,
                          absl::StrCat("purpose ", purpose->id, " is prohibited"));
  }
  if (!Contains(stream->purposes, purpose->id)) {
    return Decision::Deny(
        DenyReason::kPurposeNotServedByStream,
        absl::StrCat("stream ", stream->id, " does not serve purpose ", purpose->id));
  }
  // Whatever agreements say, the public reads public releases only. The id
  // is checked as well as the kind so that a config declaring a party
  // "public" of another kind cannot open anonymous access.
  const bool public_reader =
      anonymous_public || party->kind == config::PartyKind::kPublic;
  if (public_reader && request.level != AccessLevel::kPublic) {
    return Decision::Deny(
        DenyReason::kLevelNotGranted,
        absl::StrCat("party ", request.party, " may read public releases only"));
  }

  std::optional<Denial> best;
  bool any_candidate = false;
  for (const Agreement& agreement : config.agreements) {
    if (agreement.stream != stream->id) continue;
    const bool names_party = agreement.party == request.party;
    const bool open_public =
        request.level == AccessLevel::kPublic && agreement.level == AccessLevel::kPublic;
    if (!names_party && !open_public) continue;
    any_candidate = true;
    std::vector<std::string> released;
    std::optional<Denial> denial =
        CheckAgreement(*stream, agreement, request, now, &released);
    if (!denial.has_value()) {
      Obligations o;
      o.agreement_id = agreement.id;
      o.level = agreement.level;
      o.fields = std::move(released);
      o.time_granularity = agreement.time_granularity;
      o.cell_level = agreement.cell_level;
      o.k_threshold = agreement.k_threshold;
      o.budget = agreement.budget;
      o.delete_after = agreement.delete_after;
      o.no_onward_sharing = agreement.no_onward_sharing;
      if (stream->personal()) {
        o.consent_required = purpose->legal_basis == config::LegalBasis::kConsent;
        o.exclude_objectors = !purpose->mandatory;
      }
      return Decision::Permit(std::move(o),
                              absl::StrCat("permitted by agreement ", agreement.id));
    }
    if (!best.has_value() || Rank(denial->reason) > Rank(best->reason)) {
      best = std::move(denial);
    }
  }
  if (!any_candidate) {
    return Decision::Deny(DenyReason::kNoAgreement,
                          absl::StrCat("no agreement of party ", request.party,
                                       " covers stream ", stream->id));
  }
  return Decision::Deny(best->reason, std::move(best->detail));
}

}  // namespace privacity::policy
