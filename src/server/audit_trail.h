// The trust's transparency log: every ingest, access decision, config change
// and key event becomes a leaf (audit/leaves.h) of the Merkle log kept in
// the store (audit/store_log_storage.h), and the log's head is signed as a
// C2SP checkpoint with the keyring's log signing key.
//
// Several processes may hold an AuditTrail over the same store (the server
// and the CLI): an append that loses the race to another writer reloads the
// head and retries, so the log has neither gaps nor duplicates, and a
// checkpoint is only ever signed for a size at least the latest stored and
// with a root consistent with it.
#ifndef PRIVACITY_SERVER_AUDIT_TRAIL_H_
#define PRIVACITY_SERVER_AUDIT_TRAIL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "audit/checkpoint.h"
#include "audit/leaves.h"
#include "audit/log.h"
#include "audit/note.h"
#include "audit/store_log_storage.h"
#include "common/clock.h"
#include "config/model.h"
#include "crypto/keyring.h"
#include "ingest/ingester.h"
#include "policy/decision.h"
#include "store/store.h"

namespace privacity::server {

// The log's origin (and key name) for `city`: the city name lower-cased,
// with every run of characters other than [a-z0-9.-] turned into '-',
// followed by "/privacity-log"; "privacity-log" when the name has none.
// "Demo City" -> "demo-city/privacity-log".
std::string LogOrigin(const config::City& city);

// Key events: the trail is the keyring's KeyEventListener (Trust::Open
// registers it). A trust-wide or per-stream key (index, claim, pseudonym,
// log signing, other kinds) created or destroyed gets its own key_event
// leaf at once, before the keyring call returns. Subject data keys are only
// counted (key_count leaves: creations per stream and epoch, destructions
// per stream) and the counts go into the batch of the next leaf appended
// (an ingest batch's, an erasure's) or at the next Checkpoint(); nothing
// about a subject reaches the log. Counts not yet appended when a process
// dies are lost; the keys they counted are not.
class AuditTrail final : public crypto::KeyEventListener {
 public:
  // Opens the log kept in `store`. The log signing key is the keyring's
  // kLogSigning key (created when missing), used as the Ed25519 seed.
  // REQUIRES: every argument outlives the trail.
  static absl::StatusOr<std::unique_ptr<AuditTrail>> Open(store::Store& store,
                                                          crypto::Keyring& keyring,
                                                          Clock& clock,
                                                          std::string origin);

  // Encodes `leaf` and appends it durably; returns its index. Retries when
  // another writer appended first. InvalidArgument when the leaf does not
  // encode (a member that is not a token, a negative count).
  absl::StatusOr<uint64_t> Append(const audit::IngestBatchLeaf& leaf);
  absl::StatusOr<uint64_t> Append(const audit::DecisionLeaf& leaf);
  absl::StatusOr<uint64_t> Append(const audit::ReleaseLeaf& leaf);
  absl::StatusOr<uint64_t> Append(const audit::RightsActionLeaf& leaf);
  absl::StatusOr<uint64_t> Append(const audit::RetentionLeaf& leaf);
  absl::StatusOr<uint64_t> Append(const audit::ConfigChangeLeaf& leaf);
  absl::StatusOr<uint64_t> Append(const audit::KeyEventLeaf& leaf);
  absl::StatusOr<uint64_t> Append(const audit::RegisterChangeLeaf& leaf);
  absl::StatusOr<uint64_t> Append(const audit::DpiaAlertLeaf& leaf);

  // crypto::KeyEventListener: see the class comment.
  absl::Status OnKeyEvent(Event event, const crypto::KeyName& name, int64_t id) override;

  // Appends the pending subject-key counts, if any.
  absl::Status FlushKeyCounts();

  // The leaf of one ingest call into `stream`, timed now, appended (with the
  // pending key counts) through `write`, in the transaction of the ingest's
  // last batch. `digest` is the SHA-256 the ingester computed over the rows
  // it stored. `write` builds the batch against the log as stored in its
  // transaction, so other writers' appends are no conflict.
  absl::StatusOr<uint64_t> AppendIngest(const std::string& stream, int64_t accepted,
                                        int64_t rejected, const std::string& digest,
                                        ingest::LastBatchWriter write);

  // How ingests into `stream` log themselves (IngestOptions::log_ingest):
  // through AppendIngest. REQUIRES: the trail outlives the ingests.
  ingest::IngestLogger LoggerFor(const std::string& stream);

  // The leaf of an access decision, timed now. Ids the config does not know
  // (an unknown party, stream, purpose or field: request text) are written
  // as "-", so a request can never put free text in the log.
  absl::StatusOr<uint64_t> AppendDecision(const config::CityConfig& config,
                                          const policy::AccessRequest& request,
                                          const policy::Decision& decision, int64_t rows);

  // Signs a checkpoint of the current tree when it is larger than the
  // latest stored checkpoint, stores it, and returns the latest signed note
  // (the new one, or the stored one when the log has not grown). First
  // appends pending key counts. Signs nothing and fails with DataLoss when
  // the tree does not extend the latest stored checkpoint (its root at that
  // size differs, or the stored log is shorter). The note is stored only if
  // that checkpoint is still the latest (LogStore::PutNextCheckpoint);
  // when another signer stored one meanwhile, the tree is checked against
  // that one and signed again. So the log never signs two checkpoints that
  // were not checked against each other, even with several signers.
  absl::StatusOr<std::string> Checkpoint();

  // The latest stored checkpoint note; NotFound when none was signed yet.
  absl::StatusOr<std::string> LatestCheckpoint();

  // "<origin>+<key id>+<base64 key>" (audit/note.h).
  std::string VerifierKey() const { return signer_->verifier_key(); }
  const std::string& origin() const { return origin_; }
  const audit::NoteVerifier& verifier() const { return *verifier_; }

  // The log itself (proofs, head) and its storage (tiles, verification).
  // Call Reload on the log first to see what other processes appended.
  audit::Log& log() { return *log_; }
  audit::LogStorage& storage() { return *storage_; }

 private:
  AuditTrail(store::Store& store, Clock& clock, std::string origin)
      : store_(store), clock_(clock), origin_(std::move(origin)) {}
  // Appends `entry` (when set) and the pending key counts in one batch;
  // returns the index of the first entry appended.
  absl::StatusOr<uint64_t> AppendEncoded(absl::StatusOr<std::string> entry);
  // Appends `entry` and the pending key counts, through `write` when given.
  absl::StatusOr<uint64_t> AppendWithCounts(
      std::optional<std::string> entry, const ingest::LastBatchWriter* write = nullptr);

  // Pending subject-key counts: (action, stream, epoch of creations) -> count.
  using KeyCountKey = std::tuple<audit::KeyAction, std::string, std::optional<int64_t>>;
  absl::Mutex counts_mu_;
  std::map<KeyCountKey, int64_t> pending_counts_ ABSL_GUARDED_BY(counts_mu_);

  store::Store& store_;
  Clock& clock_;
  const std::string origin_;
  std::unique_ptr<audit::StoreLogStorage> storage_;
  std::unique_ptr<audit::Log> log_;
  std::unique_ptr<audit::NoteSigner> signer_;
  std::unique_ptr<audit::NoteVerifier> verifier_;
  absl::Mutex checkpoint_mu_;
};

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_AUDIT_TRAIL_H_
