// The leaves of the transparency log: one canonical JSON object per event
// (schemas in docs/log_format.md, "Leaves").
//
// A leaf carries no personal data: no identifiers, blind indexes,
// pseudonyms, payload values or free text. Every string member is either
// an enumerated word or a *token* (the ids of streams, sensors, parties,
// purposes, fields, releases and requests from city.yaml or generated at
// random; field paths; S2 cell tokens), which is 1 to 200 characters of
// [A-Za-z0-9._:/-]. Encoders reject anything else, so free text cannot slip
// into the log. Callers must still pass registry ids, never a subject's
// device id, as `sensor`.
//
// Every leaf has "v" (schema version, 1), "type" and "time" (UTC, whole
// seconds, "2024-05-01T12:00:00Z"); times are floored to the second.
#ifndef PRIVACITY_AUDIT_LEAVES_H_
#define PRIVACITY_AUDIT_LEAVES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "audit/merkle.h"
#include "nlohmann/json_fwd.hpp"

namespace privacity::audit {

inline constexpr int kLeafVersion = 1;
inline constexpr size_t kMaxTokenSize = 200;

// An ingest batch was accepted (in part or whole) and stored.
struct IngestBatchLeaf {
  absl::Time time;
  std::string stream;  // stream id
  std::string sensor;  // registered sensor or feed id; empty when none
  int64_t batch = 0;   // ingest batch id
  int64_t accepted = 0;
  int64_t rejected = 0;
  // SHA-256 over the batch as stored (sealed and transformed records),
  // never over raw input: a digest of raw readings could confirm a guess.
  Hash digest{};
};

enum class AccessLevel { kPublic, kAggregate, kExtract, kRecords };
enum class DecisionResult { kPermit, kDeny };

// An access decision (permit or deny), with what was asked.
struct DecisionLeaf {
  absl::Time time;
  std::string party;
  std::string purpose;
  std::string stream;
  AccessLevel level = AccessLevel::kRecords;
  std::vector<std::string> fields;  // field names asked for
  std::optional<absl::Time> from;   // time window asked for, if any
  std::optional<absl::Time> to;
  std::vector<std::string> area;  // S2 cell tokens; empty = no area limit
  DecisionResult result = DecisionResult::kDeny;
  std::string reason;  // a reason code, e.g. "no_agreement"; empty on permit
  int64_t rows = 0;    // rows (or cells) returned; 0 on deny
};

// kDpPublic: a DP table published for everyone (/public/releases).
enum class ReleaseKind { kDpAggregate, kExtract, kDpPublic };

// A release of data: a DP aggregate (public or to a party) or an extract.
struct ReleaseLeaf {
  absl::Time time;
  std::string release;  // release id
  std::string stream;
  std::string party;  // "public" for public releases
  ReleaseKind kind = ReleaseKind::kDpAggregate;
  // Privacy loss charged; written as the shortest decimal string that reads
  // back as the same double ("0.5", "1e-06"). Finite and >= 0.
  double epsilon = 0;
  double delta = 0;
  int64_t rows = 0;  // rows or cells released
  Hash digest{};     // SHA-256 of the released bytes
};

enum class RightsAction { kAccess, kExport, kConsent, kWithdraw, kObject, kErasure };
enum class RightsStatus { kReceived, kCompleted, kRefused };

// A step of a data subject's rights request. The request id is random and
// says nothing about the subject.
struct RightsActionLeaf {
  absl::Time time;
  std::string request;
  RightsAction action = RightsAction::kAccess;
  RightsStatus status = RightsStatus::kReceived;
  std::string stream;          // empty when all streams
  std::string purpose;         // consent, withdraw, object; else empty
  int64_t records = 0;         // records found, exported or erased
  int64_t keys_destroyed = 0;  // subject data keys destroyed (erasure)
};

// One stream's part of a retention sweep: records past retention deleted,
// and epochs past the linkability window unlinked. Counts and cut-offs only.
struct RetentionLeaf {
  absl::Time time;
  std::string stream;
  absl::Time cutoff;  // records with an event time before it were deleted
  int64_t records_deleted = 0;
  int64_t data_keys_destroyed = 0;    // subject data keys of deleted epochs
  int64_t unlinked_before_epoch = 0;  // epochs below it are unlinkable
  int64_t pseudonym_keys_destroyed = 0;
  int64_t records_unlinked = 0;    // blind indexes cleared
  int64_t data_keys_unlinked = 0;  // subject data keys stripped of the subject
};

// A new configuration took effect.
struct ConfigChangeLeaf {
  absl::Time time;
  Hash digest{};                     // SHA-256 of the new city.yaml
  std::optional<Hash> previous;      // of the one it replaced
  std::vector<std::string> changed;  // dotted paths of what changed
};

enum class KeyAction { kCreate, kDestroy, kRotate };
// Keys whose events are logged one by one. Subject data keys are not: an
// event per subject would be a trail of that subject; erasure and
// retention leaves count them instead.
// kOther: a trust-wide key of a kind this version of the log does not name.
enum class LoggedKeyKind { kMaster, kIndex, kClaim, kPseudonym, kLogSigning, kOther };

struct KeyEventLeaf {
  absl::Time time;
  KeyAction action = KeyAction::kCreate;
  LoggedKeyKind kind = LoggedKeyKind::kPseudonym;
  std::string scope;   // stream id for pseudonym keys; else empty
  int64_t epoch = 0;   // epoch number for pseudonym keys; else 0
  int64_t key_id = 0;  // keyring id; 0 for the master key
  // Log signing keys: the note verifier key, so a key rotation is itself
  // in the log; else empty.
  std::string verifier_key;
};

enum class RegisterAction { kAdd, kComment };
enum class SensorState { kProposed, kLive };

// A change to the sensor register: a sensor added (live, or proposed with
// a comment period), or a public comment received. Comment text and
// commenters never enter the log.
struct RegisterChangeLeaf {
  absl::Time time;
  RegisterAction action = RegisterAction::kAdd;
  std::string sensor;  // register id
  std::string stream;
  SensorState state = SensorState::kLive;
  std::optional<absl::Time> comments_until;  // proposed sensors
};

// The scheduled DPIA measured a re-identification risk above its
// threshold, or higher than at the last run while above it.
struct DpiaAlertLeaf {
  absl::Time time;
  std::string stream;
  std::string measure;    // "unicity_p2", "unicity_p4", "k_share"
  std::string agreement;  // the records-level view measured; empty: stored data
  double value = 0;       // shortest decimal, as epsilon in ReleaseLeaf
  double threshold = 0;
};

// Subject data keys created or destroyed, counted ("key_count"): a leaf per
// key would be a trail of its subject. Creations are counted per stream and
// epoch; destructions per stream only, so an erasure does not date the
// erased subject's data. Counts gather until the next leaf is appended and
// go into the same atomic batch.
struct KeyCountLeaf {
  absl::Time time;
  KeyAction action = KeyAction::kCreate;  // kCreate or kDestroy
  std::string stream;
  std::optional<int64_t> epoch;  // creations only
  int64_t count = 0;             // >= 1
};

// Canonical JSON leaf bytes. InvalidArgument naming the member that is
// not a token, a negative count, a non-finite epsilon, or a leaf over 65535
// bytes.
absl::StatusOr<std::string> EncodeLeaf(const IngestBatchLeaf& leaf);
absl::StatusOr<std::string> EncodeLeaf(const DecisionLeaf& leaf);
absl::StatusOr<std::string> EncodeLeaf(const ReleaseLeaf& leaf);
absl::StatusOr<std::string> EncodeLeaf(const RightsActionLeaf& leaf);
absl::StatusOr<std::string> EncodeLeaf(const RetentionLeaf& leaf);
absl::StatusOr<std::string> EncodeLeaf(const ConfigChangeLeaf& leaf);
absl::StatusOr<std::string> EncodeLeaf(const KeyEventLeaf& leaf);
absl::StatusOr<std::string> EncodeLeaf(const RegisterChangeLeaf& leaf);
absl::StatusOr<std::string> EncodeLeaf(const DpiaAlertLeaf& leaf);
absl::StatusOr<std::string> EncodeLeaf(const KeyCountLeaf& leaf);

// Checks that `leaf` is a leaf: canonical JSON, an object with "v" = 1, a
// "type" and a "time". Types unknown to this version are accepted (a
// verifier must not reject a log for a newer leaf type). Returns the object.
absl::StatusOr<nlohmann::json> ParseLeaf(absl::string_view leaf);

}  // namespace privacity::audit

#endif  // PRIVACITY_AUDIT_LEAVES_H_
