// Where the transparency log keeps its entries and tree. The log (audit/log.h)
// computes hashes; a LogStorage only persists and returns them. The store
// module implements this on SQLite and PostgreSQL; MemoryLogStorage below is
// for tests and tools.
//
// What is stored, for a log of n entries:
//   - the entries (leaf data, canonical JSON) with their leaf hashes, which
//     are the level-0 nodes;
//   - every complete interior node (perfect subtree) at levels >= 1, written
//     once, in the batch that completes it, and never changed;
//   - the frontier: the size and the compact range of [0, n) (see
//     compact_range.h), so a restarted log knows its head in one read.
// Tiles (C2SP tlog-tiles) are the nodes at levels 0, 8, 16, ...; proofs use
// nodes at any level. A backend that keeps only the tile levels must
// recompute the other levels on read; the contract below is on what reads
// return, not on the layout.
#ifndef PRIVACITY_AUDIT_LOG_STORAGE_H_
#define PRIVACITY_AUDIT_LOG_STORAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "audit/merkle.h"

namespace privacity::audit {

struct LogEntry {
  std::string data;  // the leaf bytes
  Hash leaf_hash;    // HashLeaf(data)
};

struct StoredNode {
  NodeId id;  // level >= 1
  Hash hash;
};

// The head of the stored tree: its size and the compact range of [0, size)
// (hashes of RangeNodes(0, size), largest first).
struct LogFrontier {
  uint64_t size = 0;
  std::vector<Hash> hashes;
};

// One append: entries [first_index, first_index + entries.size()), the
// interior nodes they complete, and the new frontier.
struct LogAppend {
  uint64_t first_index = 0;
  std::vector<LogEntry> entries;
  std::vector<StoredNode> nodes;
  LogFrontier frontier;
};

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // Writes the whole batch atomically and durably (the batch is on disk when
  // this returns OK; on error nothing of it is visible). Fails with Aborted,
  // writing nothing, unless batch.first_index equals the stored size: that
  // is how two writers racing on one log are caught.
  virtual absl::Status Append(const LogAppend& batch) = 0;

  // The frontier as of the last committed batch.
  virtual absl::StatusOr<LogFrontier> ReadFrontier() = 0;

  // Entries [begin, end), with their stored leaf hashes. OutOfRange unless
  // begin <= end <= size.
  virtual absl::StatusOr<std::vector<LogEntry>> ReadEntries(uint64_t begin,
                                                            uint64_t end) = 0;

  // The hashes of the given complete nodes, in order (level 0 are leaf
  // hashes). OutOfRange when a node is not complete at the stored size.
  virtual absl::StatusOr<std::vector<Hash>> ReadNodes(absl::Span<const NodeId> ids) = 0;

  // The hashes of nodes [begin, end) at `level`. OutOfRange unless all are
  // complete.
  virtual absl::StatusOr<std::vector<Hash>> ReadNodeRange(int level, uint64_t begin,
                                                          uint64_t end) = 0;
};

// Everything in memory. Thread-safe. Not durable: for tests, benchmarks and
// tools that build a tree to check it.
class MemoryLogStorage final : public LogStorage {
 public:
  absl::Status Append(const LogAppend& batch) override;
  absl::StatusOr<LogFrontier> ReadFrontier() override;
  absl::StatusOr<std::vector<LogEntry>> ReadEntries(uint64_t begin,
                                                    uint64_t end) override;
  absl::StatusOr<std::vector<Hash>> ReadNodes(absl::Span<const NodeId> ids) override;
  absl::StatusOr<std::vector<Hash>> ReadNodeRange(int level, uint64_t begin,
                                                  uint64_t end) override;

  // Tests of the verifiers overwrite stored data behind the log's back, as
  // a corrupted row would. The frontier is a separate record and is left as
  // it was. NotFound when the entry or node does not exist.
  absl::Status OverwriteEntryForTesting(uint64_t index, std::string data);
  absl::Status OverwriteNodeForTesting(const NodeId& id, const Hash& hash);

 private:
  absl::Status CheckNode(const NodeId& id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::vector<LogEntry> entries_ ABSL_GUARDED_BY(mu_);
  // nodes_[l][i] is node (l, i) for l >= 1; level 0 lives in entries_.
  std::vector<std::vector<Hash>> nodes_ ABSL_GUARDED_BY(mu_);
  LogFrontier frontier_ ABSL_GUARDED_BY(mu_);
};

}  // namespace privacity::audit

#endif  // PRIVACITY_AUDIT_LOG_STORAGE_H_
