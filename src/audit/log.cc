#include "audit/log.h"

#include <algorithm>
#include <bit>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace privacity::audit {
namespace {

std::string DescribeNode(const NodeId& id) {
  if (id.level == 0) return absl::StrCat("leaf hash ", id.index);
  return absl::StrCat("node (level ", id.level, ", index ", id.index, ") over entries [",
                      id.begin(), ", ", id.end(), ")");
}

absl::StatusOr<std::vector<Hash>> ReadPlan(LogStorage& storage, const ProofPlan& plan) {
  ASSIGN_OR_RETURN(std::vector<Hash> nodes, storage.ReadNodes(plan.nodes));
  ASSIGN_OR_RETURN(std::unique_ptr<TreeHasher> hasher, TreeHasher::Create());
  return AssembleProof(plan, nodes, *hasher);
}

// The frontier of the stored log, checked against the stored nodes.
absl::StatusOr<CompactRange> LoadRange(LogStorage& storage) {
  ASSIGN_OR_RETURN(LogFrontier frontier, storage.ReadFrontier());
  const std::vector<NodeId> ids = RangeNodes(0, frontier.size);
  ASSIGN_OR_RETURN(std::vector<Hash> stored, storage.ReadNodes(ids));
  ASSIGN_OR_RETURN(CompactRange range,
                   CompactRange::Create(frontier.size, std::move(frontier.hashes)));
  for (size_t i = 0; i < ids.size(); ++i) {
    if (stored[i] != range.hashes()[i]) {
      return absl::DataLossError(absl::StrCat(
          "the stored frontier disagrees with stored ", DescribeNode(ids[i])));
    }
  }
  return range;
}

absl::Status CheckEntries(const std::vector<std::string>& entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].empty() || entries[i].size() > kMaxEntrySize) {
      return absl::InvalidArgumentError(
          absl::StrCat("log entry ", i, " of the batch has ", entries[i].size(),
                       " bytes; entries have 1 to ", kMaxEntrySize));
    }
  }
  return absl::OkStatus();
}

}  // namespace

Log::Log(LogStorage& storage, std::unique_ptr<TreeHasher> hasher)
    : storage_(storage), hasher_(std::move(hasher)) {}

absl::StatusOr<std::unique_ptr<Log>> Log::Open(LogStorage& storage) {
  ASSIGN_OR_RETURN(std::unique_ptr<TreeHasher> hasher, TreeHasher::Create());
  std::unique_ptr<Log> log(new Log(storage, std::move(hasher)));
  RETURN_IF_ERROR(log->Reload());
  return log;
}

absl::Status Log::Reload() {
  ASSIGN_OR_RETURN(CompactRange range, LoadRange(storage_));
  absl::MutexLock lock(&mu_);
  // The stored log only grows, and Append updates range_ only after storing.
  // A smaller stored size therefore means this read raced with another
  // Reload or Append that saw a later state: keep that one, so head()
  // never goes backwards under a caller that has just read it.
  if (range.size() < range_.size()) return absl::OkStatus();
  head_ = TreeHead{range.size(), range.Root(*hasher_)};
  range_ = std::move(range);
  // The cache is an optimisation (see Append): the head above is what counts.
  ExtendCacheLocked(range_.size()).IgnoreError();
  return absl::OkStatus();
}

absl::Status Log::ExtendCacheLocked(uint64_t tree_size) {
  for (int level = kCachedLevel; level < 64 && (tree_size >> level) > 0; ++level) {
    const size_t l = static_cast<size_t>(level - kCachedLevel);
    if (upper_.size() <= l) upper_.resize(l + 1);
    const uint64_t have = upper_[l].size();
    const uint64_t want = tree_size >> level;
    if (have >= want) continue;
    ASSIGN_OR_RETURN(std::vector<Hash> nodes, storage_.ReadNodeRange(level, have, want));
    upper_[l].insert(upper_[l].end(), nodes.begin(), nodes.end());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Hash>> Log::ReadPlan(const ProofPlan& plan) const {
  std::vector<Hash> nodes(plan.nodes.size());
  std::vector<NodeId> uncached;
  std::vector<size_t> uncached_at;
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < plan.nodes.size(); ++i) {
      const NodeId& id = plan.nodes[i];
      const size_t l = static_cast<size_t>(id.level) - kCachedLevel;
      if (id.level >= kCachedLevel && l < upper_.size() && id.index < upper_[l].size()) {
        nodes[i] = upper_[l][id.index];
      } else {
        uncached.push_back(id);
        uncached_at.push_back(i);
      }
    }
  }
  if (!uncached.empty()) {
    ASSIGN_OR_RETURN(std::vector<Hash> read, storage_.ReadNodes(uncached));
    for (size_t j = 0; j < read.size(); ++j) nodes[uncached_at[j]] = read[j];
  }
  ASSIGN_OR_RETURN(std::unique_ptr<TreeHasher> hasher, TreeHasher::Create());
  return AssembleProof(plan, nodes, *hasher);
}

absl::StatusOr<uint64_t> Log::Append(std::vector<std::string> entries) {
  RETURN_IF_ERROR(CheckEntries(entries));
  absl::MutexLock lock(&mu_);
  // Built against the head in memory: the storage refuses it (Aborted) when
  // another writer appended since.
  const LogFrontier head{range_.size(), range_.hashes()};
  return AppendLocked(std::move(entries), [&](BatchBuilder build) -> absl::Status {
    ASSIGN_OR_RETURN(const LogAppend batch, build(head));
    return storage_.Append(batch);
  });
}

absl::StatusOr<uint64_t> Log::AppendWith(std::vector<std::string> entries,
                                         BatchWriter write) {
  RETURN_IF_ERROR(CheckEntries(entries));
  absl::MutexLock lock(&mu_);
  return AppendLocked(std::move(entries), write);
}

absl::StatusOr<uint64_t> Log::AppendLocked(std::vector<std::string> entries,
                                           BatchWriter write) {
  if (entries.empty()) return range_.size();
  // What the cache needs of the batch that `write` stored.
  std::optional<CompactRange> next;
  uint64_t first_index = 0;
  std::vector<StoredNode> nodes;
  // A named lambda: a FunctionRef does not keep a temporary alive.
  const auto build = [&](const LogFrontier& stored) -> absl::StatusOr<LogAppend> {
    CompactRange base = range_;
    if (stored.size < range_.size()) {
      return absl::DataLossError(absl::StrCat("the stored log has ", stored.size,
                                              " entries, fewer than the ", range_.size(),
                                              " already read"));
    }
    if (stored.size > range_.size()) {
      // Other writers appended: build on their entries, as stored.
      ASSIGN_OR_RETURN(base, CompactRange::Create(stored.size, stored.hashes));
    } else if (stored.hashes != range_.hashes()) {
      return absl::DataLossError(absl::StrCat("the stored log frontier at size ",
                                              stored.size,
                                              " differs from the one already read"));
    }
    if (entries.size() > kMaxTreeSize - base.size()) {
      return absl::ResourceExhaustedError("the log is full");
    }
    LogAppend out;
    out.first_index = base.size();
    out.entries.reserve(entries.size());
    const CompactRange::NodeVisitor visitor = [&out](const NodeId& id, const Hash& hash) {
      if (id.level > 0) out.nodes.push_back(StoredNode{id, hash});
    };
    for (const std::string& data : entries) {
      const Hash leaf_hash = hasher_->HashLeaf(data);
      base.Append(leaf_hash, *hasher_, &visitor);
      out.entries.push_back(LogEntry{data, leaf_hash});
    }
    out.frontier = LogFrontier{base.size(), base.hashes()};
    next = std::move(base);
    first_index = out.first_index;
    nodes = out.nodes;
    return out;
  };
  RETURN_IF_ERROR(write(build));
  if (!next.has_value()) {
    return absl::InternalError("the log's batch writer stored no batch");
  }
  head_ = TreeHead{next->size(), next->Root(*hasher_)};
  range_ = *std::move(next);
  // The batch's own upper nodes go straight into the cache; a node past a
  // gap (another writer's appends this log has not read) waits for the
  // read below.
  for (const StoredNode& node : nodes) {
    if (node.id.level < kCachedLevel) continue;
    const size_t l = static_cast<size_t>(node.id.level) - kCachedLevel;
    if (upper_.size() <= l) upper_.resize(l + 1);
    if (node.id.index == upper_[l].size()) upper_[l].push_back(node.hash);
  }
  // The batch is durable: a failed cache read must not report it as not
  // appended. Nodes the cache lacks are read from storage by proofs.
  ExtendCacheLocked(range_.size()).IgnoreError();
  return first_index;
}

TreeHead Log::head() const {
  absl::MutexLock lock(&mu_);
  return head_;
}

absl::Status Log::CheckSize(uint64_t tree_size) const {
  const uint64_t size = head().size;
  if (tree_size > size) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree size ", tree_size, " is beyond the log size ", size));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Hash>> Log::InclusionProof(uint64_t index,
                                                      uint64_t tree_size) const {
  RETURN_IF_ERROR(CheckSize(tree_size));
  ASSIGN_OR_RETURN(const ProofPlan plan, PlanInclusionProof(index, tree_size));
  return ReadPlan(plan);
}

absl::StatusOr<std::vector<Hash>> Log::ConsistencyProof(uint64_t size1,
                                                        uint64_t size2) const {
  RETURN_IF_ERROR(CheckSize(size2));
  ASSIGN_OR_RETURN(const ProofPlan plan, PlanConsistencyProof(size1, size2));
  return ReadPlan(plan);
}

absl::StatusOr<Hash> Log::RootAt(uint64_t tree_size) const {
  RETURN_IF_ERROR(CheckSize(tree_size));
  {
    absl::MutexLock lock(&mu_);
    if (tree_size == head_.size) return head_.root;
  }
  if (tree_size == 0) return EmptyRoot();
  ASSIGN_OR_RETURN(const ProofPlan plan, PlanRoot(tree_size));
  ASSIGN_OR_RETURN(std::vector<Hash> root, ReadPlan(plan));
  return root.at(0);
}

absl::StatusOr<std::vector<Hash>> InclusionProof(LogStorage& storage, uint64_t index,
                                                 uint64_t tree_size) {
  ASSIGN_OR_RETURN(const ProofPlan plan, PlanInclusionProof(index, tree_size));
  return ReadPlan(storage, plan);
}

absl::StatusOr<std::vector<Hash>> ConsistencyProof(LogStorage& storage, uint64_t size1,
                                                   uint64_t size2) {
  ASSIGN_OR_RETURN(const ProofPlan plan, PlanConsistencyProof(size1, size2));
  if (plan.nodes.empty()) {
    // No hashes needed, but a size beyond the log must still fail.
    ASSIGN_OR_RETURN(const LogFrontier frontier, storage.ReadFrontier());
    if (size2 > frontier.size) {
      return absl::OutOfRangeError(
          absl::StrCat("tree size ", size2, " is beyond the log size ", frontier.size));
    }
    return std::vector<Hash>();
  }
  return ReadPlan(storage, plan);
}

absl::StatusOr<Hash> RootAt(LogStorage& storage, uint64_t tree_size) {
  if (tree_size == 0) return EmptyRoot();
  ASSIGN_OR_RETURN(const ProofPlan plan, PlanRoot(tree_size));
  ASSIGN_OR_RETURN(std::vector<Hash> root, ReadPlan(storage, plan));
  return root.at(0);
}

absl::StatusOr<Hash> LeafHashAt(LogStorage& storage, uint64_t index) {
  const NodeId id{0, index};
  ASSIGN_OR_RETURN(std::vector<Hash> hashes,
                   storage.ReadNodes(absl::MakeConstSpan(&id, 1)));
  return hashes.at(0);
}

absl::Status VerifyStorage(LogStorage& storage) {
  constexpr uint64_t kChunk = 1 << 15;
  ASSIGN_OR_RETURN(std::unique_ptr<TreeHasher> hasher, TreeHasher::Create());
  ASSIGN_OR_RETURN(const LogFrontier frontier, storage.ReadFrontier());
  const uint64_t size = frontier.size;
  for (uint64_t begin = 0; begin < size; begin += kChunk) {
    const uint64_t end = std::min(size, begin + kChunk);
    ASSIGN_OR_RETURN(const std::vector<LogEntry> entries,
                     storage.ReadEntries(begin, end));
    ASSIGN_OR_RETURN(const std::vector<Hash> leaves,
                     storage.ReadNodeRange(0, begin, end));
    for (uint64_t i = begin; i < end; ++i) {
      if (hasher->HashLeaf(entries[i - begin].data) != entries[i - begin].leaf_hash ||
          leaves[i - begin] != entries[i - begin].leaf_hash) {
        return absl::DataLossError(
            absl::StrCat("entry ", i, " does not hash to its stored leaf hash"));
      }
    }
  }
  for (int level = 1; level < 63 && (size >> level) > 0; ++level) {
    const uint64_t count = size >> level;
    for (uint64_t begin = 0; begin < count; begin += kChunk) {
      const uint64_t end = std::min(count, begin + kChunk);
      ASSIGN_OR_RETURN(const std::vector<Hash> children,
                       storage.ReadNodeRange(level - 1, 2 * begin, 2 * end));
      ASSIGN_OR_RETURN(const std::vector<Hash> parents,
                       storage.ReadNodeRange(level, begin, end));
      for (uint64_t i = begin; i < end; ++i) {
        const size_t c = 2 * (i - begin);
        if (hasher->HashChildren(children[c], children[c + 1]) != parents[i - begin]) {
          return absl::DataLossError(absl::StrCat(
              "stored ", DescribeNode(NodeId{static_cast<uint8_t>(level), i}),
              " is not the hash of its two children"));
        }
      }
    }
  }
  return LoadRange(storage).status();
}

}  // namespace privacity::audit
