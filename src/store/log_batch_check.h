// Private to the store module: the checks every LogStore backend applies
// to a batch before writing it (store/log_store.h states the rules).
#ifndef PRIVACITY_STORE_LOG_BATCH_CHECK_H_
#define PRIVACITY_STORE_LOG_BATCH_CHECK_H_

#include <climits>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "store/log_store.h"

namespace privacity::store {

// Whether node (level, index) is complete in a tree of `size` entries.
inline bool Complete(int level, uint64_t index, uint64_t size) {
  if (level < 0 || level > kMaxLogLevel) return false;
  if (index >= (kMaxLogSize >> level)) return false;
  return ((index + 1) << level) <= size;
}

inline absl::Status CheckHash(const std::string& hash, absl::string_view what) {
  if (hash.size() != kLogHashSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("append log: ", what, " is not a 32-byte hash"));
  }
  return absl::OkStatus();
}

inline absl::Status ValidateBatch(const LogBatch& batch) {
  if (batch.first_index >= kMaxLogSize ||
      batch.entries.size() > kMaxLogSize - batch.first_index) {
    return absl::InvalidArgumentError("append log: index beyond the largest log size");
  }
  if (batch.frontier.size != batch.first_index + batch.entries.size()) {
    return absl::InvalidArgumentError(
        "append log: frontier size is not first_index plus the entry count");
  }
  if (batch.frontier.hashes.size() % kLogHashSize != 0) {
    return absl::InvalidArgumentError(
        "append log: frontier hashes are not a multiple of 32 bytes");
  }
  for (size_t i = 0; i < batch.entries.size(); ++i) {
    const LogEntryRow& e = batch.entries[i];
    if (e.data.empty() || e.data.size() > INT_MAX) {
      return absl::InvalidArgumentError(absl::StrCat(
          "append log: entry ", batch.first_index + i, " is empty or too long"));
    }
    RETURN_IF_ERROR(CheckHash(
        e.leaf_hash, absl::StrCat("entry ", batch.first_index + i, " leaf hash")));
  }
  for (const LogNodeRow& n : batch.nodes) {
    if (n.level < 1 || n.level > kMaxLogLevel || n.index >= (kMaxLogSize >> n.level)) {
      return absl::InvalidArgumentError("append log: node level or index out of range");
    }
    if (!Complete(n.level, n.index, batch.frontier.size)) {
      return absl::InvalidArgumentError(absl::StrCat("append log: node (", n.level, ", ",
                                                     n.index,
                                                     ") is not complete in the batch"));
    }
    RETURN_IF_ERROR(
        CheckHash(n.hash, absl::StrCat("node (", n.level, ", ", n.index, ")")));
  }
  return absl::OkStatus();
}

}  // namespace privacity::store

#endif  // PRIVACITY_STORE_LOG_BATCH_CHECK_H_
