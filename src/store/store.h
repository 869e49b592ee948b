// The Store: everything privacity keeps, behind one interface so the
// embedded SQLite backend and the PostgreSQL backend are interchangeable.
// A backend is chosen by URI scheme: "sqlite:PATH" (PATH relative to the
// data dir) or "postgresql://...".
//
// Every method is atomic: on error nothing of the call is written.
// Implementations are thread-safe, and several processes may open the same
// store at once (the CLI runs while the server runs). Times are kept with
// microsecond precision. The on-disk layout is described in docs/storage.md.
#ifndef PRIVACITY_STORE_STORE_H_
#define PRIVACITY_STORE_STORE_H_

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "crypto/key_store.h"
#include "store/log_store.h"
#include "store/rights_store.h"
#include "store/token_store.h"

namespace privacity::store {

// One stored observation. Raw identifiers never appear here: the subject is
// present only as its blind index, and for personal streams the payload is
// sealed under the subject's data key.
struct StoredRecord {
  int64_t id = 0;  // from ReserveRecordIds; bound into the AEAD
  std::string stream;
  int64_t time_us = 0;      // event time after the stream's transforms
  uint64_t cell = 0;        // S2 cell id of the location; 0 when none
  int64_t epoch = 0;        // pseudonym epoch of the record
  std::string blind_index;  // 32 bytes; empty when none or unlinked
  int64_t key_id = 0;       // subject DEK sealing the payload; 0 = plain
  std::string payload;      // sealed bytes, or canonical JSON when plain
  int64_t batch = 0;        // ingest batch the record arrived in
};

// A claimed ingest dedupe key (docs/storage.md, ingest_keys): a keyed
// digest of one delivered message, never its content. It lets a message
// that is delivered again (MQTT QoS 1 redelivery) be recognised and dropped.
struct IngestKey {
  std::string stream;
  std::string digest;   // 32 bytes
  int64_t time_us = 0;  // when the message was received (for retention)
};

struct RecordQuery {
  std::string stream;
  std::optional<int64_t> from_us;  // inclusive
  std::optional<int64_t> to_us;    // exclusive
  // Keep records whose cell lies in one of these closed ranges of S2 cell
  // ids (a region's covering). Empty means everywhere.
  std::vector<std::pair<uint64_t, uint64_t>> cell_ranges;
  int64_t after_id = 0;  // cursor: records with id > after_id, by id
  int64_t limit = 0;     // 0 = no limit
};

enum class ConsentState { kGranted, kWithdrawn, kObjected };

struct ConsentEvent {
  std::string blind_index;
  std::string purpose;
  ConsentState state = ConsentState::kGranted;
  absl::Time time;
  std::string source;  // "portal", "controller", ...
};

// One charge against a DP budget. A release's loss has a pure-DP part
// (epsilon, plus delta for approximate steps such as partition selection)
// and a zCDP part (rho, converted to (epsilon, delta)-DP at rho_delta); see
// docs/dp.md, "Accounting".
struct BudgetCharge {
  std::string agreement;
  int64_t period = 0;     // period number since 1970
  std::string query_key;  // canonical hash of the query, for caching
  double epsilon = 0;     // pure-DP epsilon (Laplace)
  double delta = 0;       // delta outside the zCDP conversion
  double rho = 0;         // zCDP (Gaussian); 0 when none
  double rho_delta = 0;   // delta the rho is converted at; > 0 when rho > 0
  absl::Time time;
  std::string result;  // cached released answer (already noised)
};

// Sums of a period's charges, or a cap (epsilon and delta only). Pure
// epsilons add, rhos add (zCDP composition) and are converted once.
struct BudgetSpent {
  double epsilon = 0;
  double delta = 0;
  double rho = 0;
  double rho_delta = 0;

  // The (epsilon, delta)-DP guarantee of the sums: epsilon + rho +
  // 2 sqrt(rho ln(1/rho_delta)), and delta + rho_delta.
  double TotalEpsilon() const {
    if (rho <= 0) return epsilon;
    if (rho_delta <= 0) return std::numeric_limits<double>::infinity();
    return epsilon + rho + 2 * std::sqrt(rho * std::log(1 / rho_delta));
  }
  double TotalDelta() const { return delta + rho_delta; }
};

// A published DP release (public portal). `summary` is the JSON listed at
// /public/releases, `body` the whole release with its rows.
struct ReleaseRow {
  std::string id;
  std::string agreement;
  std::string stream;
  std::string title;
  absl::Time created;
  std::string summary;
  std::string body;
};

// Published releases, in the `releases` table. Reached through
// Store::releases(); atomic and thread-safe like the rest of the Store.
class ReleaseStore {
 public:
  virtual ~ReleaseStore() = default;
  // Stores `release`. AlreadyExists when its id is taken (releases are
  // immutable once published); InvalidArgument for an empty id, stream or
  // title, or oversized text.
  virtual absl::Status InsertRelease(const ReleaseRow& release) = 0;
  // The release with this id, or nullopt.
  virtual absl::StatusOr<std::optional<ReleaseRow>> FindRelease(
      const std::string& id) = 0;
  // Every release, oldest first, without bodies.
  virtual absl::StatusOr<std::vector<ReleaseRow>> ListReleases() = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- Records ---------------------------------------------------------
  // Reserves `n` consecutive record ids and returns the first. Ids are
  // unique across processes sharing the store, and increase within one
  // instance; there may be gaps between reservations. n in [1, 2^40].
  virtual absl::StatusOr<int64_t> ReserveRecordIds(int64_t n) = 0;

  // Appends all of `records` in one transaction, or none. Every id must
  // come from ReserveRecordIds (InvalidArgument otherwise, as for an empty
  // stream or an id <= 0); an id already stored is AlreadyExists.
  virtual absl::Status AppendRecords(absl::Span<const StoredRecord> records) = 0;

  // Calls `fn` for each matching record in id order. Stops at the first
  // non-OK status from `fn` and returns it. Records are streamed, not
  // loaded; `limit` counts records passed to `fn` (after the cell filter).
  // `fn` may call the store (e.g. keys()), but not Compact().
  virtual absl::Status ScanRecords(
      const RecordQuery& query,
      const std::function<absl::Status(const StoredRecord&)>& fn) = 0;

  // Records linked to `blind_index`, across streams, in id order: those
  // whose subject data key still exists (a record whose key was destroyed
  // is crypto-shredded, and no longer the subject's).
  virtual absl::StatusOr<std::vector<StoredRecord>> FindRecordsBySubject(
      const std::string& blind_index) = 0;

  // Deletes every record linked to `blind_index`; returns how many.
  // REQUIRES: the subject's data keys are not yet destroyed (the SQLite
  // store finds a subject's records through them).
  virtual absl::StatusOr<int64_t> DeleteRecordsBySubject(
      const std::string& blind_index) = 0;

  // Deletes records of `stream` with time_us < `before_us` (retention).
  virtual absl::StatusOr<int64_t> DeleteRecordsBefore(const std::string& stream,
                                                      int64_t before_us) = 0;

  // Clears the blind index of records of `stream` with epoch < `before_epoch`
  // (end of the linkability window); returns how many were unlinked.
  virtual absl::StatusOr<int64_t> UnlinkRecordsBefore(const std::string& stream,
                                                      int64_t before_epoch) = 0;

  virtual absl::StatusOr<int64_t> CountRecords(const std::string& stream) = 0;

  // --- Ingest dedupe keys -------------------------------------------------
  // Appends `records` (which may be empty) and claims `keys` in one
  // transaction, or neither. AlreadyExists when a key was claimed before.
  // The default implementation is Unimplemented.
  virtual absl::Status AppendRecordsOnce(absl::Span<const StoredRecord> records,
                                         absl::Span<const IngestKey> keys);
  // Appends `records` and claims `keys` (either may be empty; as
  // AppendRecordsOnce) and appends to the transparency log the batch that
  // `build` makes for the log's frontier as read in the same transaction
  // (written as log().Append does, with its checks; on PostgreSQL the
  // frontier row stays locked until the commit): all of it is durable, or
  // none of it. An ingest's last batch and the leaf that logs the ingest
  // commit together this way, however many writers append to the log.
  virtual absl::Status AppendRecordsWithLog(absl::Span<const StoredRecord> records,
                                            absl::Span<const IngestKey> keys,
                                            LogBatchBuilder build) = 0;
  // For each of `keys` (stream and digest), whether it is claimed.
  virtual absl::StatusOr<std::vector<bool>> FindIngestKeys(
      absl::Span<const IngestKey> keys);
  // Forgets keys received before `before_us`; returns how many.
  virtual absl::StatusOr<int64_t> DeleteIngestKeysBefore(int64_t before_us);

  // --- Keys --------------------------------------------------------------
  virtual crypto::KeyStore& keys() = 0;

  // --- Rights requests (store/rights_store.h) -----------------------------
  virtual RightsStore& rights() = 0;

  // --- Bearer tokens of the HTTP API (store/token_store.h) -----------------
  virtual TokenStore& tokens() = 0;

  // --- Transparency log storage (store/log_store.h) -------------------------
  virtual LogStore& log() = 0;

  // --- Published DP releases ----------------------------------------------
  virtual ReleaseStore& releases() = 0;

  // --- Consent -----------------------------------------------------------
  virtual absl::Status AppendConsentEvent(const ConsentEvent& event) = 0;
  // The subject's consent events, oldest first (ties in insertion order):
  // the last event of each purpose is its current state.
  virtual absl::StatusOr<std::vector<ConsentEvent>> ConsentHistory(
      const std::string& blind_index) = 0;
  virtual absl::Status DeleteConsentHistory(const std::string& blind_index) = 0;

  // --- DP budget ledger ---------------------------------------------------
  // Atomically: if a charge with the same (agreement, period, query_key)
  // exists, returns it (a cached answer, no new cost). Otherwise, if the
  // period's spend plus `charge` stays within `cap` (TotalEpsilon() and
  // TotalDelta() of the sums against cap.epsilon and cap.delta), records
  // `charge` and returns it; if not, returns ResourceExhausted naming what
  // remains. Epsilon, delta, rho and rho_delta must be finite and >= 0,
  // rho_delta < 1, and rho_delta > 0 when rho > 0. Sums are compared with a
  // relative tolerance of 1e-10 of the cap, so rounding (0.1 + 0.2) does
  // not refuse a charge that fits exactly.
  virtual absl::StatusOr<BudgetCharge> ChargeBudget(const BudgetCharge& charge,
                                                    const BudgetSpent& cap) = 0;
  virtual absl::StatusOr<BudgetSpent> SpentBudget(const std::string& agreement,
                                                  int64_t period) = 0;

  // --- Meta --------------------------------------------------------------
  virtual absl::StatusOr<std::optional<std::string>> GetMeta(const std::string& key) = 0;
  virtual absl::Status PutMeta(const std::string& key, const std::string& value) = 0;

  // Makes deletions physical: checkpoints and truncates the WAL so freed
  // pages holding old plaintext or keys are overwritten (secure_delete).
  // Unavailable when another connection keeps reading past the busy
  // timeout; the deletions are then durable but not yet physical: retry.
  virtual absl::Status Compact() = 0;

  // Paths of files this store writes (for byte-scan tests); empty if none.
  virtual std::vector<std::string> Files() const = 0;
};

using StorePtr = std::unique_ptr<Store>;

// Opens (creating and migrating when needed) the store named by `uri`.
// "sqlite:PATH" resolves PATH against `data_dir` unless absolute; a new file
// gets mode 0600 and its directory must exist (NotFound otherwise). A file
// written by a newer build is FailedPrecondition. "postgresql://..." (or
// "postgres://...") is a libpq URI; the database must exist, and its schema
// is created or migrated. Any other scheme is InvalidArgument. Errors name
// the scheme, never the rest of the URI (it may hold a password).
absl::StatusOr<StorePtr> OpenStore(const std::string& uri, const std::string& data_dir);

// What MigrateStore moved, row counts per table ("records", "keys", ...).
struct MigrationSummary {
  std::vector<std::pair<std::string, int64_t>> tables;
};

// Moves the SQLite store `from_uri` (resolved against `data_dir`) into the
// PostgreSQL store `to_uri`, which must be empty (FailedPrecondition
// otherwise): records, keys (still wrapped), consent, the budget ledger,
// tokens, rights requests, the transparency log and meta, with their ids,
// so the log verifies and sealed payloads open after the move. Tables go
// across in one transaction, then records in batches; if it fails, drop
// and recreate the target database and run it again. The source is only
// read (and migrated to the latest schema first).
absl::StatusOr<MigrationSummary> MigrateStore(const std::string& from_uri,
                                              const std::string& to_uri,
                                              const std::string& data_dir);

}  // namespace privacity::store

#endif  // PRIVACITY_STORE_STORE_H_
