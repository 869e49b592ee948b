#include <bit>

#include "absl/strings/str_cat.h"
#include "audit/log_storage.h"
#include "common/status_macros.h"

namespace privacity::audit {

absl::Status MemoryLogStorage::Append(const LogAppend& batch) {
  absl::MutexLock lock(&mu_);
  if (batch.first_index != entries_.size()) {
    return absl::AbortedError(absl::StrCat("append at index ", batch.first_index,
                                           " but the log has ", entries_.size(),
                                           " entries"));
  }
  const uint64_t new_size = entries_.size() + batch.entries.size();
  if (batch.frontier.size != new_size ||
      batch.frontier.hashes.size() != static_cast<size_t>(std::popcount(new_size))) {
    return absl::InvalidArgumentError("append carries a frontier of the wrong size");
  }
  // Validate every node before writing anything: each must be the next node
  // of its level and complete at the new size.
  std::vector<uint64_t> next(nodes_.size());
  for (size_t l = 0; l < nodes_.size(); ++l) next[l] = nodes_[l].size();
  for (const StoredNode& node : batch.nodes) {
    const NodeId& id = node.id;
    if (id.level == 0 || id.level > 62) {
      return absl::InvalidArgumentError("append carries a node of a bad level");
    }
    if (next.size() <= id.level) next.resize(id.level + 1, 0);
    if (id.index != next[id.level] || id.end() > new_size) {
      return absl::InvalidArgumentError(absl::StrCat("append carries node (", id.level,
                                                     ", ", id.index, ") out of order"));
    }
    ++next[id.level];
  }
  entries_.insert(entries_.end(), batch.entries.begin(), batch.entries.end());
  if (nodes_.size() < next.size()) nodes_.resize(next.size());
  for (const StoredNode& node : batch.nodes) nodes_[node.id.level].push_back(node.hash);
  frontier_ = batch.frontier;
  return absl::OkStatus();
}

absl::StatusOr<LogFrontier> MemoryLogStorage::ReadFrontier() {
  absl::MutexLock lock(&mu_);
  return frontier_;
}

absl::StatusOr<std::vector<LogEntry>> MemoryLogStorage::ReadEntries(uint64_t begin,
                                                                    uint64_t end) {
  absl::MutexLock lock(&mu_);
  if (begin > end || end > entries_.size()) {
    return absl::OutOfRangeError(absl::StrCat("entries [", begin, ", ", end,
                                              ") are not in a log of ", entries_.size()));
  }
  return std::vector<LogEntry>(entries_.begin() + begin, entries_.begin() + end);
}

absl::Status MemoryLogStorage::CheckNode(const NodeId& id) const {
  const bool present =
      id.level == 0 ? id.index < entries_.size()
                    : id.level < nodes_.size() && id.index < nodes_[id.level].size();
  if (!present) {
    return absl::OutOfRangeError(absl::StrCat("node (", id.level, ", ", id.index,
                                              ") is not complete in a log of ",
                                              entries_.size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Hash>> MemoryLogStorage::ReadNodes(
    absl::Span<const NodeId> ids) {
  absl::MutexLock lock(&mu_);
  std::vector<Hash> out;
  out.reserve(ids.size());
  for (const NodeId& id : ids) {
    RETURN_IF_ERROR(CheckNode(id));
    out.push_back(id.level == 0 ? entries_[id.index].leaf_hash
                                : nodes_[id.level][id.index]);
  }
  return out;
}

absl::StatusOr<std::vector<Hash>> MemoryLogStorage::ReadNodeRange(int level,
                                                                  uint64_t begin,
                                                                  uint64_t end) {
  absl::MutexLock lock(&mu_);
  if (level < 0 || level > 62 || begin > end) {
    return absl::InvalidArgumentError("bad node range");
  }
  std::vector<Hash> out;
  if (begin == end) return out;
  RETURN_IF_ERROR(CheckNode(NodeId{static_cast<uint8_t>(level), end - 1}));
  out.reserve(end - begin);
  for (uint64_t i = begin; i < end; ++i) {
    out.push_back(level == 0 ? entries_[i].leaf_hash : nodes_[level][i]);
  }
  return out;
}

absl::Status MemoryLogStorage::OverwriteEntryForTesting(uint64_t index,
                                                        std::string data) {
  absl::MutexLock lock(&mu_);
  if (index >= entries_.size()) return absl::NotFoundError("no such entry");
  entries_[index].data = std::move(data);
  return absl::OkStatus();
}

absl::Status MemoryLogStorage::OverwriteNodeForTesting(const NodeId& id,
                                                       const Hash& hash) {
  absl::MutexLock lock(&mu_);
  if (!CheckNode(id).ok()) return absl::NotFoundError("no such node");
  (id.level == 0 ? entries_[id.index].leaf_hash : nodes_[id.level][id.index]) = hash;
  return absl::OkStatus();
}

}  // namespace privacity::audit
