// The access decision: may this party read this stream, for this purpose, at
// this level? A pure function of the city config, the request and the time.
// It reads no clock, keeps no state and performs no I/O, so the same inputs
// always give the same decision, and every rule below is tested as such.
//
// Deny by default: a request is permitted only when one agreement of the
// config grants exactly what was asked. A denial carries a stable reason code
// (ReasonCode) for HTTP 403 bodies and the transparency log; a permit carries
// the obligations the view must enforce. docs/policy.md describes the
// procedure step by step.
#ifndef PRIVACITY_POLICY_DECISION_H_
#define PRIVACITY_POLICY_DECISION_H_

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "config/model.h"

namespace privacity::policy {

// The party id of the anonymous public. It is always known, even when the
// config declares no party of that id, and it may only ever read public
// releases, whatever the config says.
inline constexpr std::string_view kPublicParty = "public";

struct AccessRequest {
  std::string party;    // authenticated party id, or kPublicParty
  std::string purpose;  // purpose id the party states
  std::string stream;   // stream id
  config::AccessLevel level = config::AccessLevel::kPublic;
  // Field names asked for; empty asks for every field the agreement grants.
  std::vector<std::string> fields;
  // Requested data window [from, to); either end may be open.
  std::optional<absl::Time> from;
  std::optional<absl::Time> to;
};

// Why a request was denied. Each value has a stable code (ReasonCode); never
// renumber or rename the codes, only add new ones.
enum class DenyReason {
  kUnknownParty,              // "unknown-party"
  kUnknownStream,             // "unknown-stream"
  kUnknownPurpose,            // "unknown-purpose"
  kPurposeProhibited,         // "purpose-prohibited"
  kPurposeNotServedByStream,  // "purpose-not-served-by-stream"
  kNoAgreement,               // "no-agreement"
  kAgreementNotYetValid,      // "agreement-not-yet-valid"
  kAgreementExpired,          // "agreement-expired"
  kPurposeNotGranted,         // "purpose-not-granted"
  kLevelNotGranted,           // "level-not-granted"
  kFieldNotGranted,           // "field-not-granted"
  kWindowOutsideAgreement,    // "window-outside-agreement"
};

// Every DenyReason, in declaration order (for tables and tests).
inline constexpr std::array<DenyReason, 12> kAllDenyReasons = {
    DenyReason::kUnknownParty,
    DenyReason::kUnknownStream,
    DenyReason::kUnknownPurpose,
    DenyReason::kPurposeProhibited,
    DenyReason::kPurposeNotServedByStream,
    DenyReason::kNoAgreement,
    DenyReason::kAgreementNotYetValid,
    DenyReason::kAgreementExpired,
    DenyReason::kPurposeNotGranted,
    DenyReason::kLevelNotGranted,
    DenyReason::kFieldNotGranted,
    DenyReason::kWindowOutsideAgreement,
};

// The stable, lower-case, dash-separated code of `reason` ("no-agreement").
// Codes go into HTTP 403 bodies and transparency-log leaves.
std::string_view ReasonCode(DenyReason reason);

// Inverse of ReasonCode; nullopt for an unknown code.
std::optional<DenyReason> ParseReasonCode(std::string_view code);

// What the view serving a permitted request must enforce. Copied from the
// permitting agreement, plus what the purpose's legal basis implies.
struct Obligations {
  std::string agreement_id;  // the agreement that permits, for the log
  config::AccessLevel level = config::AccessLevel::kPublic;
  // The fields to release, in the stream's declaration order, no duplicates.
  std::vector<std::string> fields;
  // Coarsest-allowed granularity: released times are floored to at least
  // this bucket, released locations to at most this cell level.
  std::optional<absl::Duration> time_granularity;
  std::optional<int> cell_level;
  int k_threshold = 0;                   // extract: minimum class size
  std::optional<config::Budget> budget;  // aggregate: charge this budget
  // Duties the party accepted; recorded in the log and shown publicly.
  std::optional<absl::Duration> delete_after;
  bool no_onward_sharing = false;
  // The purpose's legal basis is consent: release only records of subjects
  // who granted consent for this purpose. Never set for streams without a
  // subject field (there is nobody to ask).
  bool consent_required = false;
  // The purpose is not mandatory: leave out records of subjects who objected
  // to it. Never set for streams without a subject field.
  bool exclude_objectors = false;
};

// The outcome of Decide. A default-constructed Decision is a denial.
struct Decision {
  static Decision Permit(Obligations obligations, std::string detail);
  static Decision Deny(DenyReason reason, std::string detail);

  bool permitted() const { return permitted_; }

  Obligations obligations;                       // meaningful only when permitted()
  DenyReason reason = DenyReason::kNoAgreement;  // meaningful only when denied
  // Human-readable explanation. Names only ids found in the config (party,
  // stream, purpose, agreement, field) and never echoes a value of the
  // request that the config does not know, so it holds no personal data.
  std::string detail;

 private:
  bool permitted_ = false;
};

// Decides `request` under `config` at time `now`. Never fails: every request,
// however malformed, gets a permit or a denial with a reason. Does not
// require the config to have passed the loader (configs built in code are
// fine); references the config does not resolve are denials.
//
// In order (the first failing step decides):
//  1. The party must be declared, or be kPublicParty: kUnknownParty.
//  2. The stream must be declared: kUnknownStream.
//  3. The purpose must be declared: kUnknownPurpose.
//  4. A prohibited purpose is always denied, whatever agreements exist:
//     kPurposeProhibited.
//  5. The stream must serve the purpose: kPurposeNotServedByStream.
//  6. kPublicParty and parties of kind public read public releases only:
//     kLevelNotGranted for any higher level.
//  7. Candidates are the agreements on the stream that name the party, plus,
//     for a request at public level, every public-level agreement on the
//     stream (public releases are open to anyone). None: kNoAgreement.
//  8. Each candidate is checked in this order: it covers the purpose
//     (kPurposeNotGranted); its level equals the requested level, and an
//     aggregate agreement has a budget, an extract agreement k >= 2
//     (kLevelNotGranted); valid_from <= now (kAgreementNotYetValid);
//     now < valid_until (kAgreementExpired); every requested field is granted
//     (kFieldNotGranted); the window has from < to when both are given
//     (kWindowOutsideAgreement).
//  9. The first candidate in config order that passes every check permits.
//     Otherwise the denial of the candidate that got furthest in step 8 is
//     returned (a not-yet-valid agreement counts as further than an expired
//     one; ties: first in config order), so the reason is the most specific
//     one and does not depend on the order of agreements: "expired" rather
//     than "no agreement", "field not granted" when purpose and level
//     matched.
Decision Decide(const config::CityConfig& config, const AccessRequest& request,
                absl::Time now);

// The fields `agreement` lets its party read from `stream`, in the stream's
// declaration order. Fields listed by the agreement that the stream does not
// declare, or drops at ingest, are left out. At public and aggregate level an
// agreement that lists no fields grants every stored field except the
// subject field and direct or subject identifiers; at extract and records
// level it grants nothing.
std::vector<std::string> ReleasedFields(const config::Stream& stream,
                                        const config::Agreement& agreement);

}  // namespace privacity::policy

#endif  // PRIVACITY_POLICY_DECISION_H_
