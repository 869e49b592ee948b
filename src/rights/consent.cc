#include "rights/consent.h"

#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/status_macros.h"

namespace privacity::rights {
namespace {

std::optional<store::ConsentState> LatestState(
    const std::vector<store::ConsentEvent>& history, const std::string& purpose,
    std::optional<absl::Time>* since = nullptr) {
  std::optional<store::ConsentState> state;
  for (const store::ConsentEvent& e : history) {
    if (e.purpose != purpose) continue;
    state = e.state;
    if (since != nullptr) *since = e.time;
  }
  return state;
}

}  // namespace

std::string_view ToString(ConsentAction action) {
  switch (action) {
    case ConsentAction::kGrant:
      return "grant";
    case ConsentAction::kWithdraw:
      return "withdraw";
    case ConsentAction::kObject:
      return "object";
  }
  return "unknown";
}

std::optional<ConsentAction> ParseConsentAction(std::string_view name) {
  for (ConsentAction a :
       {ConsentAction::kGrant, ConsentAction::kWithdraw, ConsentAction::kObject}) {
    if (name == ToString(a)) return a;
  }
  return std::nullopt;
}

absl::StatusOr<ConsentResult> ChangeConsent(const config::CityConfig& config,
                                            store::Store& store, RequestsDesk& desk,
                                            Clock& clock, const std::string& blind_index,
                                            const ConsentChange& change) {
  if (blind_index.empty())
    return absl::InvalidArgumentError("consent: blind index is empty");
  const config::Purpose* purpose = config.FindPurpose(change.purpose);
  if (purpose == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("consent: unknown purpose '", change.purpose, "'"));
  }
  const std::string where = absl::StrCat("consent: purpose '", change.purpose, "'");
  if (purpose->prohibited) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, " is prohibited city-wide; there is nothing to consent or object to"));
  }
  const bool consent_based = purpose->legal_basis == config::LegalBasis::kConsent;
  store::ConsentEvent event;
  event.blind_index = blind_index;
  event.purpose = change.purpose;
  event.source = change.source;
  switch (change.action) {
    case ConsentAction::kGrant:
      if (!consent_based) {
        return absl::FailedPreconditionError(absl::StrCat(
            where, " rests on ", std::string(config::ToString(purpose->legal_basis)),
            ", not consent; it cannot be granted (objection may be possible)"));
      }
      event.state = store::ConsentState::kGranted;
      break;
    case ConsentAction::kWithdraw:
      if (!consent_based) {
        ASSIGN_OR_RETURN(std::vector<store::ConsentEvent> history,
                         store.ConsentHistory(blind_index));
        if (LatestState(history, change.purpose) != store::ConsentState::kObjected) {
          return absl::FailedPreconditionError(
              absl::StrCat(where,
                           " does not rest on consent and there is no objection to "
                           "withdraw"));
        }
      }
      event.state = store::ConsentState::kWithdrawn;
      break;
    case ConsentAction::kObject:
      if (purpose->mandatory) {
        return absl::FailedPreconditionError(absl::StrCat(
            where, " is mandatory (", std::string(config::ToString(purpose->legal_basis)),
            "); objection does not apply"));
      }
      event.state = store::ConsentState::kObjected;
      break;
  }
  event.time = clock.Now();
  // A fresh version for cached answers first: an extra invalidation is
  // harmless, a missed one is not.
  RETURN_IF_ERROR(store.PutMeta(ConsentVersionKey(change.purpose),
                                HexEncode(desk.random().Bytes(16))));
  RETURN_IF_ERROR(store.AppendConsentEvent(event));
  const store::RightsRequestKind kind = change.action == ConsentAction::kObject
                                            ? store::RightsRequestKind::kObjection
                                            : store::RightsRequestKind::kConsent;
  RequestFacts facts;
  facts.purpose = change.purpose;
  facts.action = change.action == ConsentAction::kGrant ? audit::RightsAction::kConsent
                 : change.action == ConsentAction::kWithdraw
                     ? audit::RightsAction::kWithdraw
                     : audit::RightsAction::kObject;
  ASSIGN_OR_RETURN(
      LoggedRequest logged,
      desk.Record(kind, blind_index,
                  absl::StrCat(std::string(ToString(change.action)), " ", change.purpose),
                  facts));
  return ConsentResult{std::move(event), logged.request.id, logged.log_index};
}

std::string ConsentVersionKey(std::string_view purpose) {
  return absl::StrCat("rights.consent_version:", std::string(purpose));
}

absl::StatusOr<std::string> DataVersion(store::Store& store, std::string_view purpose) {
  ASSIGN_OR_RETURN(std::optional<std::string> consent,
                   store.GetMeta(ConsentVersionKey(purpose)));
  ASSIGN_OR_RETURN(std::optional<std::string> erasure, store.GetMeta(kErasureVersionKey));
  if (!consent.has_value() && !erasure.has_value()) return std::string();
  return absl::StrCat(consent.value_or("-"), "/", erasure.value_or("-"));
}

absl::StatusOr<std::vector<PurposeState>> CurrentConsents(
    const config::CityConfig& config, store::Store& store,
    const std::string& blind_index) {
  if (blind_index.empty())
    return absl::InvalidArgumentError("consent: blind index is empty");
  ASSIGN_OR_RETURN(std::vector<store::ConsentEvent> history,
                   store.ConsentHistory(blind_index));
  std::vector<PurposeState> out;
  for (const config::Purpose& p : config.purposes) {
    if (p.prohibited) continue;
    PurposeState s;
    s.purpose = p.id;
    s.legal_basis = p.legal_basis;
    s.mandatory = p.mandatory;
    s.state = LatestState(history, p.id, &s.since);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace privacity::rights
