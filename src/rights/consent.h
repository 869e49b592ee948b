// Consent and objection, per subject and purpose, as an append-only history
// in the store (Store::AppendConsentEvent); the latest event of a purpose
// is its state. Record reads (server/records_view.cc) apply it at once:
// consent-based purposes see only subjects whose state is granted; other
// non-mandatory purposes leave out subjects whose state is objected.
//
// What a citizen may do, per purpose in city.yaml:
//   grant     only purposes whose legal basis is consent;
//   withdraw  consent-based purposes (withdraws consent), or any purpose
//             the subject currently objects to (withdraws the objection);
//   object    any purpose that is not mandatory.
// Unknown purposes are NotFound; prohibited purposes and the cases above
// are FailedPrecondition with the reason.
//
// Immediate effect: views build their consent cache per request
// (server/record_access.h), so the next read sees the change. Answers the
// DP ledger caches (an identical aggregate query in the same period) would
// not: every change therefore writes a new random value under the
// purpose's version key in store meta, and the aggregate view puts
// DataVersion() into its cache key, so the next query is computed afresh
// (and charged).
#ifndef PRIVACITY_RIGHTS_CONSENT_H_
#define PRIVACITY_RIGHTS_CONSENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/model.h"
#include "rights/requests.h"
#include "store/store.h"

namespace privacity::rights {

enum class ConsentAction { kGrant, kWithdraw, kObject };

// "grant", "withdraw", "object" and back (nullopt for anything else).
std::string_view ToString(ConsentAction action);
std::optional<ConsentAction> ParseConsentAction(std::string_view name);

struct ConsentChange {
  std::string purpose;
  ConsentAction action = ConsentAction::kGrant;
  std::string source = "portal";  // "portal", "controller", ...
};

struct ConsentResult {
  store::ConsentEvent event;  // as stored
  std::string request_id;     // the desk's record of this change
  uint64_t log_index = 0;     // of its transparency-log leaf
};

// Store meta key of `purpose`'s consent version, and of the erasure version
// (changed by every erasure).
std::string ConsentVersionKey(std::string_view purpose);
inline constexpr char kErasureVersionKey[] = "rights.erasure_version";

// The versions that a cached answer for `purpose` depends on, as one string
// ("" before any change).
absl::StatusOr<std::string> DataVersion(store::Store& store, std::string_view purpose);

// Validates and appends the change, recording a consent (grant, withdraw)
// or objection request on the desk. REQUIRES: the references outlive the
// call.
absl::StatusOr<ConsentResult> ChangeConsent(const config::CityConfig& config,
                                            store::Store& store, RequestsDesk& desk,
                                            Clock& clock, const std::string& blind_index,
                                            const ConsentChange& change);

// The current state of every purpose the city declares (not prohibited),
// for the subject's consent page.
struct PurposeState {
  std::string purpose;
  config::LegalBasis legal_basis = config::LegalBasis::kPublicTask;
  bool mandatory = false;
  std::optional<store::ConsentState> state;  // nullopt: never set
  std::optional<absl::Time> since;
};
absl::StatusOr<std::vector<PurposeState>> CurrentConsents(
    const config::CityConfig& config, store::Store& store,
    const std::string& blind_index);

}  // namespace privacity::rights

#endif  // PRIVACITY_RIGHTS_CONSENT_H_
