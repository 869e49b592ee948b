// Durable storage of the transparency log (tables log_entries, log_nodes,
// log_frontier and log_checkpoints; docs/log_format.md, "Storage"). The
// store knows nothing of Merkle trees: it keeps the bytes the audit module
// computes (audit/log_storage.h describes what they mean) and enforces the
// one rule that makes concurrent writers safe: a batch is appended only at
// the stored size.
//
// Hashes are 32-byte strings. A node is (level, index): level 0 nodes are
// the entries' leaf hashes, levels >= 1 the stored interior nodes. A node is
// "complete" at size n when (index + 1) << level <= n.
#ifndef PRIVACITY_STORE_LOG_STORE_H_
#define PRIVACITY_STORE_LOG_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace privacity::store {

inline constexpr size_t kLogHashSize = 32;
// Indexes and sizes are below this (they are kept in signed 64-bit columns).
inline constexpr uint64_t kMaxLogSize = uint64_t{1} << 62;
inline constexpr int kMaxLogLevel = 62;

struct LogEntryRow {
  std::string data;       // the leaf bytes; non-empty
  std::string leaf_hash;  // 32 bytes
};

struct LogNodeKey {
  int level = 0;
  uint64_t index = 0;
};

struct LogNodeRow {
  int level = 1;  // >= 1
  uint64_t index = 0;
  std::string hash;  // 32 bytes
};

// The head of the stored tree: the size and the concatenated hashes of its
// compact range (one 32-byte hash per set bit of size, largest first).
struct LogFrontierRow {
  uint64_t size = 0;
  std::string hashes;
};

// One append: entries [first_index, first_index + entries.size()), the
// interior nodes they complete, and the frontier after them.
struct LogBatch {
  uint64_t first_index = 0;
  std::vector<LogEntryRow> entries;
  std::vector<LogNodeRow> nodes;
  LogFrontierRow frontier;
};

// Builds the batch to append after `stored`, the frontier as read inside
// the appending transaction (Store::AppendRecordsWithLog), so the batch is
// built against the log as it is at commit, whatever other writers did.
using LogBatchBuilder =
    absl::FunctionRef<absl::StatusOr<LogBatch>(const LogFrontierRow& stored)>;

// A signed checkpoint (a C2SP signed note) of the tree of `size`.
struct LogCheckpointRow {
  uint64_t size = 0;
  std::string note;
  int64_t created_us = 0;
};

class LogStore {
 public:
  virtual ~LogStore() = default;

  // Writes the whole batch in one transaction, durably. Aborted, writing
  // nothing, unless batch.first_index equals the stored size (another
  // writer got there first: re-read the frontier and retry).
  // InvalidArgument, writing nothing, for a hash that is not 32 bytes, an
  // empty entry, a frontier whose size is not first_index + entries.size()
  // or whose hashes are not a multiple of 32 bytes, or a node level outside
  // [1, kMaxLogLevel]. An interior node that is already stored is DataLoss.
  virtual absl::Status Append(const LogBatch& batch) = 0;

  // The frontier as of the last committed batch (size 0 and no hashes for
  // an empty log).
  virtual absl::StatusOr<LogFrontierRow> ReadFrontier() = 0;

  // Entries [begin, end). OutOfRange unless begin <= end <= stored size;
  // DataLoss when a row inside the size is missing.
  virtual absl::StatusOr<std::vector<LogEntryRow>> ReadEntries(uint64_t begin,
                                                               uint64_t end) = 0;

  // The hashes of `nodes`, in order, read in one snapshot. OutOfRange when a
  // node is not complete at the stored size; DataLoss when a complete node
  // is missing.
  virtual absl::StatusOr<std::vector<std::string>> ReadNodes(
      absl::Span<const LogNodeKey> nodes) = 0;

  // The hashes of nodes [begin, end) at `level`. OutOfRange unless all are
  // complete at the stored size.
  virtual absl::StatusOr<std::vector<std::string>> ReadNodeRange(int level,
                                                                 uint64_t begin,
                                                                 uint64_t end) = 0;

  // Stores a signed checkpoint. AlreadyExists when one of this size is
  // stored (the caller compares notes: the log signs deterministically).
  // InvalidArgument for an empty note.
  virtual absl::Status PutCheckpoint(const LogCheckpointRow& checkpoint) = 0;

  // Stores `checkpoint` as the next one, in one transaction, only when the
  // latest stored checkpoint is still the one of size `previous` (nullopt:
  // none is stored) and `checkpoint.size` is larger than `previous` and at
  // most the stored log size. The signer checks its tree against `previous`
  // before signing; this compare-and-set makes that check hold at the
  // moment of storing, so concurrent signers (two processes on one data
  // dir) can only ever store a chain of checkpoints each checked against
  // the one before. Aborted, storing nothing, when another checkpoint was
  // stored meanwhile (re-read and retry); FailedPrecondition when the size
  // is not above `previous` or beyond the stored log; InvalidArgument for
  // an empty note. The default answers Unimplemented: a backend must
  // implement it for the server to sign checkpoints.
  virtual absl::Status PutNextCheckpoint(const LogCheckpointRow& checkpoint,
                                         std::optional<uint64_t> previous) {
    return absl::UnimplementedError("this log store cannot store checkpoints atomically");
  }

  // The checkpoint of the largest size; nullopt when none.
  virtual absl::StatusOr<std::optional<LogCheckpointRow>> LatestCheckpoint() = 0;

  // The checkpoint of `size`; nullopt when none.
  virtual absl::StatusOr<std::optional<LogCheckpointRow>> GetCheckpoint(
      uint64_t size) = 0;
};

}  // namespace privacity::store

#endif  // PRIVACITY_STORE_LOG_STORE_H_
