// The append-only transparency log: entries (canonical JSON leaves, see
// docs/log_format.md) in an RFC 9162 Merkle tree kept in a LogStorage.
//
// Appending hashes only the new leaves and the nodes they complete (a
// compact range; amortised two hashes per leaf) and writes them in one
// atomic batch. Proofs and past roots are assembled from O(log n) stored
// nodes; nothing ever rehashes the log.
//
//   ASSIGN_OR_RETURN(auto log, audit::Log::Open(storage));
//   ASSIGN_OR_RETURN(uint64_t first, log->Append({leaf1, leaf2}));
//   audit::TreeHead head = log->head();
//   ASSIGN_OR_RETURN(auto proof, log->InclusionProof(first, head.size));
#ifndef PRIVACITY_AUDIT_LOG_H_
#define PRIVACITY_AUDIT_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "audit/compact_range.h"
#include "audit/log_storage.h"
#include "audit/merkle.h"

namespace privacity::audit {

// Entry bundles (C2SP tlog-tiles) prefix each entry with a uint16 length.
inline constexpr size_t kMaxEntrySize = 65535;

struct TreeHead {
  uint64_t size = 0;
  Hash root{};
  bool operator==(const TreeHead&) const = default;
};

class Log {
 public:
  // Opens the log kept in `storage` and checks that the stored frontier is
  // made of the stored nodes (DataLoss naming the node when not).
  // REQUIRES: `storage` outlives the log.
  static absl::StatusOr<std::unique_ptr<Log>> Open(LogStorage& storage);

  // Appends `entries` as one batch and returns the index of the first. When
  // this returns OK the batch is durable; on error nothing was appended.
  // InvalidArgument when an entry is empty or longer than kMaxEntrySize;
  // Aborted when another writer appended meanwhile (call Reload, then
  // retry). An empty batch appends nothing and returns the size.
  absl::StatusOr<uint64_t> Append(std::vector<std::string> entries);

  // Makes the batch of the entries being appended for `stored`, a frontier
  // of this log as read from storage (see AppendWith). DataLoss when it is
  // smaller than the head this log has read, or disagrees with it at the
  // same size.
  using BatchBuilder =
      absl::FunctionRef<absl::StatusOr<LogAppend>(const LogFrontier& stored)>;

  // As Append, but `write` stores the batch, in the transaction of other
  // rows of the same database, so that they and the entries are durable
  // together. Inside that transaction `write` reads the stored frontier
  // (keeping other writers out until its commit), calls `build` with it,
  // and stores the batch as LogStorage::Append does; or it fails having
  // stored none of it. Appends by other writers since this log last read
  // the head are therefore no conflict, however long the transaction.
  // Appends and head() wait while `write` runs.
  using BatchWriter = absl::FunctionRef<absl::Status(BatchBuilder build)>;
  absl::StatusOr<uint64_t> AppendWith(std::vector<std::string> entries,
                                      BatchWriter write);

  // The current size and root.
  TreeHead head() const;

  // Proofs and roots for any tree size up to head().size (InvalidArgument
  // beyond it), from stored nodes. Nodes at levels >= kCachedLevel are kept
  // in memory (64 bytes per 256 leaves: 2.5 MB at 10^7 leaves), so a proof
  // reads at most kCachedLevel nodes from storage, in one call.
  absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index,
                                                   uint64_t tree_size) const;
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t size1,
                                                     uint64_t size2) const;
  absl::StatusOr<Hash> RootAt(uint64_t tree_size) const;

  // Re-reads the head from storage, e.g. after another writer appended.
  // The head never moves backwards: a read older than the head in memory
  // (a concurrent Reload or Append got further) is ignored.
  absl::Status Reload();

 private:
  static constexpr int kCachedLevel = 8;

  Log(LogStorage& storage, std::unique_ptr<TreeHasher> hasher);
  absl::StatusOr<uint64_t> AppendLocked(std::vector<std::string> entries,
                                        BatchWriter write)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckSize(uint64_t tree_size) const;
  // Reads what the upper-level cache lacks of a tree of `tree_size`.
  absl::Status ExtendCacheLocked(uint64_t tree_size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The plan's nodes from the cache, or else from storage.
  absl::StatusOr<std::vector<Hash>> ReadPlan(const ProofPlan& plan) const;

  LogStorage& storage_;
  mutable absl::Mutex mu_;
  std::unique_ptr<TreeHasher> hasher_ ABSL_GUARDED_BY(mu_);
  CompactRange range_ ABSL_GUARDED_BY(mu_);
  TreeHead head_ ABSL_GUARDED_BY(mu_);
  // upper_[l][i] is the hash of node (kCachedLevel + l, i); every level
  // holds the complete nodes of a prefix of the log.
  std::vector<std::vector<Hash>> upper_ ABSL_GUARDED_BY(mu_);
};

// Readers that need no Log (e.g. a command running beside the server): the
// same proofs straight from storage. A tree size beyond the stored size
// fails with OutOfRange.
absl::StatusOr<std::vector<Hash>> InclusionProof(LogStorage& storage, uint64_t index,
                                                 uint64_t tree_size);
absl::StatusOr<std::vector<Hash>> ConsistencyProof(LogStorage& storage, uint64_t size1,
                                                   uint64_t size2);
absl::StatusOr<Hash> RootAt(LogStorage& storage, uint64_t tree_size);
// The stored leaf hash of entry `index` (for inclusion proofs of an entry).
absl::StatusOr<Hash> LeafHashAt(LogStorage& storage, uint64_t index);

// Checks everything stored, reading it once: each entry hashes to its leaf
// hash, each interior node is the hash of its two children, and the
// frontier is made of the stored nodes. OK, or DataLoss naming the first
// entry or node that disagrees.
absl::Status VerifyStorage(LogStorage& storage);

}  // namespace privacity::audit

#endif  // PRIVACITY_AUDIT_LOG_H_
