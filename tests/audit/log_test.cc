#include "audit/log.h"

#include <optional>
#include <string>
#include <vector>

#include "audit/test_util.h"
#include "common/status_macros.h"
#include "gtest/gtest.h"

namespace privacity::audit {
namespace {

using testing::TestLeaf;
using testing::TestLeafHashes;

std::vector<std::string> Leaves(uint64_t begin, uint64_t end) {
  std::vector<std::string> out;
  for (uint64_t i = begin; i < end; ++i) out.push_back(TestLeaf(i));
  return out;
}

// A log of `n` test leaves appended in batches of varying size.
std::unique_ptr<Log> MakeLog(MemoryLogStorage& storage, uint64_t n) {
  auto log = *Log::Open(storage);
  uint64_t done = 0;
  for (uint64_t batch = 1; done < n; batch = batch % 7 + 1) {
    const uint64_t end = std::min(n, done + batch);
    EXPECT_EQ(*log->Append(Leaves(done, end)), done);
    done = end;
  }
  return log;
}

TEST(Log, EmptyLog) {
  MemoryLogStorage storage;
  auto log = Log::Open(storage);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->head(), (TreeHead{0, EmptyRoot()}));
  EXPECT_EQ(*(*log)->RootAt(0), EmptyRoot());
  EXPECT_EQ(*(*log)->Append({}), 0u);
  EXPECT_FALSE((*log)->InclusionProof(0, 0).ok());
  EXPECT_TRUE((*log)->ConsistencyProof(0, 0)->empty());
}

TEST(Log, RootsAndProofsMatchTheReference) {
  constexpr uint64_t kSize = 100;
  MemoryLogStorage storage;
  auto log = MakeLog(storage, kSize);
  const std::vector<Hash> leaves = TestLeafHashes(kSize);
  EXPECT_EQ(log->head(), (TreeHead{kSize, RootFromLeafHashes(leaves)}));
  for (uint64_t n = 0; n <= kSize; ++n) {
    const auto tree = absl::MakeConstSpan(leaves).subspan(0, n);
    ASSERT_EQ(*log->RootAt(n), RootFromLeafHashes(tree)) << n;
    for (uint64_t i = 0; i < n; i += 7) {
      ASSERT_EQ(*log->InclusionProof(i, n), *InclusionProofFromLeafHashes(tree, i));
    }
    for (uint64_t m = 0; m <= n; m += 5) {
      ASSERT_EQ(*log->ConsistencyProof(m, n), *ConsistencyProofFromLeafHashes(tree, m));
    }
  }
  EXPECT_EQ(*LeafHashAt(storage, 42), leaves[42]);
  EXPECT_EQ(log->InclusionProof(3, kSize + 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->ConsistencyProof(3, kSize + 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(log->RootAt(kSize + 1).ok());
  // The storage-level readers refuse sizes beyond the stored log.
  EXPECT_EQ(InclusionProof(storage, 3, kSize + 1).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ConsistencyProof(storage, kSize + 1, kSize + 1).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(VerifyStorage(storage).ok());
}

TEST(Log, ConsistencyBetweenAllPairsUpTo64FromStorage) {
  MemoryLogStorage storage;
  auto log = MakeLog(storage, 64);
  for (uint64_t n = 0; n <= 64; ++n) {
    const Hash root_n = *log->RootAt(n);
    for (uint64_t m = 0; m <= n; ++m) {
      const std::vector<Hash> proof = *log->ConsistencyProof(m, n);
      ASSERT_TRUE(VerifyConsistency(m, n, proof, *log->RootAt(m), root_n).ok())
          << m << " -> " << n;
    }
  }
}

TEST(Log, ReopenRestoresTheHead) {
  MemoryLogStorage storage;
  TreeHead head;
  {
    auto log = MakeLog(storage, 1000);
    head = log->head();
  }
  auto reopened = *Log::Open(storage);
  EXPECT_EQ(reopened->head(), head);
  EXPECT_EQ(*reopened->Append(Leaves(1000, 1001)), 1000u);
  EXPECT_EQ(reopened->head().root, RootFromLeafHashes(TestLeafHashes(1001)));
}

TEST(Log, RejectsBadEntriesWithoutAppending) {
  MemoryLogStorage storage;
  auto log = *Log::Open(storage);
  EXPECT_EQ(log->Append({"ok", ""}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->Append({std::string(kMaxEntrySize + 1, 'x')}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->head().size, 0u);
  EXPECT_EQ(*log->Append({std::string(kMaxEntrySize, 'x')}), 0u);
}

TEST(Log, SecondWriterIsCaughtAndCanReload) {
  MemoryLogStorage storage;
  auto a = *Log::Open(storage);
  auto b = *Log::Open(storage);
  ASSERT_TRUE(a->Append(Leaves(0, 3)).ok());
  EXPECT_EQ(b->Append(Leaves(3, 4)).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(b->head().size, 0u);
  ASSERT_TRUE(b->Reload().ok());
  EXPECT_EQ(b->head(), a->head());
  EXPECT_EQ(*b->Append(Leaves(3, 4)), 3u);
  EXPECT_EQ(b->head().root, RootFromLeafHashes(TestLeafHashes(4)));
}

// A storage whose appends fail on demand, and whose frontier reads can
// return an older frontier (a read that raced with a later append).
class FlakyStorage final : public LogStorage {
 public:
  bool fail = false;
  bool fail_range_reads = false;
  std::optional<LogFrontier> stale_frontier;
  absl::Status Append(const LogAppend& batch) override {
    if (fail) return absl::UnavailableError("disk full");
    return inner_.Append(batch);
  }
  absl::StatusOr<LogFrontier> ReadFrontier() override {
    if (stale_frontier.has_value()) return *stale_frontier;
    return inner_.ReadFrontier();
  }
  absl::StatusOr<std::vector<LogEntry>> ReadEntries(uint64_t b, uint64_t e) override {
    return inner_.ReadEntries(b, e);
  }
  absl::StatusOr<std::vector<Hash>> ReadNodes(absl::Span<const NodeId> ids) override {
    return inner_.ReadNodes(ids);
  }
  absl::StatusOr<std::vector<Hash>> ReadNodeRange(int l, uint64_t b,
                                                  uint64_t e) override {
    if (fail_range_reads) return absl::UnavailableError("disk error");
    return inner_.ReadNodeRange(l, b, e);
  }

 private:
  MemoryLogStorage inner_;
};

TEST(Log, FailedAppendLeavesTheHeadUnchanged) {
  FlakyStorage storage;
  auto log = *Log::Open(storage);
  ASSERT_TRUE(log->Append(Leaves(0, 5)).ok());
  const TreeHead before = log->head();
  storage.fail = true;
  EXPECT_EQ(log->Append(Leaves(5, 9)).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(log->head(), before);
  storage.fail = false;
  EXPECT_EQ(*log->Append(Leaves(5, 9)), 5u);
  EXPECT_EQ(log->head().root, RootFromLeafHashes(TestLeafHashes(9)));
  EXPECT_TRUE(VerifyStorage(storage).ok());
}

// A writer that builds the batch against the frontier it reads from
// storage, then stores it, as a transaction of other rows would.
absl::Status StoreBuilt(MemoryLogStorage& storage, Log::BatchBuilder build) {
  ASSIGN_OR_RETURN(const LogFrontier stored, storage.ReadFrontier());
  ASSIGN_OR_RETURN(const LogAppend batch, build(stored));
  return storage.Append(batch);
}

TEST(Log, AppendWithHandsTheBatchToTheWriterInsteadOfTheStorage) {
  MemoryLogStorage storage;
  auto log = *Log::Open(storage);
  ASSERT_TRUE(log->Append(Leaves(0, 3)).ok());
  const TreeHead before = log->head();
  // A writer whose transaction fails after building: nothing is appended,
  // and the index is not used up.
  int calls = 0;
  auto failing = [&](Log::BatchBuilder build) -> absl::Status {
    ++calls;
    absl::StatusOr<LogAppend> batch = build(*storage.ReadFrontier());
    EXPECT_TRUE(batch.ok()) << batch.status();
    EXPECT_EQ(batch->first_index, 3u);
    EXPECT_EQ(batch->entries.size(), 2u);
    return absl::UnavailableError("the records' transaction rolled back");
  };
  EXPECT_EQ(log->AppendWith(Leaves(3, 5), failing).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(log->head(), before);
  EXPECT_EQ(storage.ReadFrontier()->size, 3u);
  // A writer that stores it: the head moves, exactly as for Append.
  auto storing = [&storage](Log::BatchBuilder build) {
    return StoreBuilt(storage, build);
  };
  EXPECT_EQ(*log->AppendWith(Leaves(3, 5), storing), 3u);
  EXPECT_EQ(log->head().root, RootFromLeafHashes(TestLeafHashes(5)));
  EXPECT_EQ(*log->Append(Leaves(5, 6)), 5u);
  // A writer that stores nothing is an error, not an append.
  EXPECT_EQ(
      log->AppendWith(Leaves(6, 7), [](Log::BatchBuilder) { return absl::OkStatus(); })
          .status()
          .code(),
      absl::StatusCode::kInternal);
  EXPECT_EQ(log->head().size, 6u);
  EXPECT_TRUE(VerifyStorage(storage).ok());
}

// What another writer appended meanwhile is built upon, not a conflict: the
// batch starts at the stored size, and the head covers both.
TEST(Log, AppendWithBuildsOnWhatOtherWritersStored) {
  MemoryLogStorage storage;
  auto a = *Log::Open(storage);
  auto b = *Log::Open(storage);
  ASSERT_TRUE(a->Append(Leaves(0, 3)).ok());
  ASSERT_TRUE(b->Reload().ok());
  ASSERT_TRUE(b->Append(Leaves(3, 300)).ok());  // past a cached level
  // `a` still has 3 entries in memory.
  auto storing = [&storage](Log::BatchBuilder build) {
    return StoreBuilt(storage, build);
  };
  EXPECT_EQ(*a->AppendWith(Leaves(300, 302), storing), 300u);
  EXPECT_EQ(a->head().size, 302u);
  EXPECT_EQ(a->head().root, RootFromLeafHashes(TestLeafHashes(302)));
  auto proof = a->InclusionProof(299, 302);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_TRUE(VerifyStorage(storage).ok());
  // A stored log smaller than the head already read is refused.
  auto shrunk = [](Log::BatchBuilder build) -> absl::Status {
    return build(LogFrontier{}).status();
  };
  EXPECT_EQ(a->AppendWith(Leaves(302, 303), shrunk).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(Log, ReloadThatReadsAnOlderFrontierKeepsTheHead) {
  FlakyStorage storage;
  auto log = *Log::Open(storage);
  ASSERT_TRUE(log->Append(Leaves(0, 5)).ok());
  const LogFrontier at5 = *storage.ReadFrontier();
  ASSERT_TRUE(log->Append(Leaves(5, 9)).ok());
  const TreeHead at9 = log->head();
  storage.stale_frontier = at5;
  ASSERT_TRUE(log->Reload().ok());
  EXPECT_EQ(log->head(), at9);
  EXPECT_TRUE(log->ConsistencyProof(5, 9).ok());
}

// Two writers on one storage, in batches that complete nodes above the
// in-memory level (256 leaves and up) on both sides of gaps: each log's
// proofs and roots equal those read from storage alone, and verify.
TEST(Log, ProofsAboveTheCachedLevelMatchStorageAcrossWriters) {
  MemoryLogStorage storage;
  std::unique_ptr<Log> logs[] = {*Log::Open(storage), *Log::Open(storage)};
  uint64_t size = 0;
  for (uint64_t batch = 37, turn = 0; size < 2100; batch = batch * 7 % 311 + 1, ++turn) {
    Log& log = *logs[turn % 3 == 0 ? 0 : 1];
    absl::StatusOr<uint64_t> first = log.Append(Leaves(size, size + batch));
    if (absl::IsAborted(first.status())) {
      ASSERT_TRUE(log.Reload().ok());
      first = log.Append(Leaves(size, size + batch));
    }
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_EQ(*first, size);
    size += batch;
  }
  const std::vector<Hash> leaf_hashes = TestLeafHashes(size);
  for (auto& log : logs) {
    ASSERT_TRUE(log->Reload().ok());
    ASSERT_EQ(log->head().size, size);
    for (uint64_t n : {uint64_t{1}, uint64_t{256}, uint64_t{257}, uint64_t{1023},
                       uint64_t{1024}, uint64_t{1500}, size}) {
      const Hash root = RootFromLeafHashes(absl::MakeConstSpan(leaf_hashes).first(n));
      EXPECT_EQ(*log->RootAt(n), root);
      for (uint64_t index : {uint64_t{0}, n / 3, n - 1}) {
        const auto proof = log->InclusionProof(index, n);
        ASSERT_TRUE(proof.ok());
        EXPECT_EQ(*proof, *InclusionProof(storage, index, n));
        EXPECT_TRUE(VerifyInclusion(index, n, leaf_hashes[index], *proof, root).ok());
      }
      const auto consistency = log->ConsistencyProof(n, size);
      ASSERT_TRUE(consistency.ok());
      EXPECT_EQ(*consistency, *ConsistencyProof(storage, n, size));
      EXPECT_TRUE(VerifyConsistency(n, size, *consistency, root, log->head().root).ok());
    }
  }
}

// The nodes kept in memory are an optimisation: when reading them fails, the
// log still opens, appends and proves, from storage.
TEST(Log, FailedReadsOfUpperNodesFallBackToStorage) {
  FlakyStorage storage;
  ASSERT_TRUE((*Log::Open(storage))->Append(Leaves(0, 700)).ok());
  storage.fail_range_reads = true;
  auto log = Log::Open(storage);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(*(*log)->Append(Leaves(700, 800)), 700u);
  const std::vector<Hash> leaf_hashes = TestLeafHashes(800);
  const auto proof = (*log)->InclusionProof(3, 800);
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(
      VerifyInclusion(3, 800, leaf_hashes[3], *proof, RootFromLeafHashes(leaf_hashes))
          .ok());
}

TEST(MemoryLogStorage, RejectsMalformedBatches) {
  MemoryLogStorage storage;
  LogAppend batch;
  batch.first_index = 1;
  EXPECT_EQ(storage.Append(batch).code(), absl::StatusCode::kAborted);
  batch.first_index = 0;
  batch.entries.push_back(LogEntry{"a", HashLeaf("a")});
  batch.frontier = LogFrontier{2, {HashLeaf("a")}};
  EXPECT_FALSE(storage.Append(batch).ok());  // frontier of the wrong size
  batch.frontier = LogFrontier{1, {HashLeaf("a")}};
  batch.nodes.push_back(StoredNode{NodeId{1, 0}, HashLeaf("a")});
  EXPECT_FALSE(storage.Append(batch).ok());  // node (1, 0) is not complete at 1
  batch.nodes.clear();
  EXPECT_TRUE(storage.Append(batch).ok());
  EXPECT_EQ(storage.ReadEntries(0, 2).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(storage.ReadNodeRange(0, 0, 2).status().code(),
            absl::StatusCode::kOutOfRange);
  const NodeId missing{1, 0};
  EXPECT_EQ(storage.ReadNodes(absl::MakeConstSpan(&missing, 1)).status().code(),
            absl::StatusCode::kOutOfRange);
}

// --- Corruption: the verifier fails and says where -----------------------

TEST(VerifyStorage, NamesTheCorruptedEntry) {
  MemoryLogStorage storage;
  MakeLog(storage, 50);
  ASSERT_TRUE(storage.OverwriteEntryForTesting(17, TestLeaf(1017)).ok());
  const absl::Status s = VerifyStorage(storage);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("entry 17 "), std::string::npos) << s;
}

TEST(VerifyStorage, NamesTheCorruptedNode) {
  MemoryLogStorage storage;
  MakeLog(storage, 50);
  ASSERT_TRUE(storage.OverwriteNodeForTesting(NodeId{3, 2}, HashLeaf("forged")).ok());
  const absl::Status s = VerifyStorage(storage);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("level 3, index 2"), std::string::npos) << s;
  EXPECT_NE(s.message().find("[16, 24)"), std::string::npos) << s;
}

TEST(VerifyStorage, NamesTheCorruptedLeafHash) {
  MemoryLogStorage storage;
  MakeLog(storage, 50);
  ASSERT_TRUE(storage.OverwriteNodeForTesting(NodeId{0, 33}, HashLeaf("forged")).ok());
  const absl::Status s = VerifyStorage(storage);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("entry 33 "), std::string::npos) << s;
}

TEST(VerifyStorage, CorruptedFrontierNodeFailsOpenAndVerify) {
  MemoryLogStorage storage;
  MakeLog(storage, 50);  // frontier nodes: (5, 0), (4, 2), (1, 24)
  ASSERT_TRUE(storage.OverwriteNodeForTesting(NodeId{1, 24}, HashLeaf("forged")).ok());
  const auto log = Log::Open(storage);
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(log.status().message().find("level 1, index 24"), std::string::npos)
      << log.status();
  EXPECT_EQ(VerifyStorage(storage).code(), absl::StatusCode::kDataLoss);
}

TEST(VerifyStorage, ProofsFromCorruptedStorageDoNotVerify) {
  MemoryLogStorage storage;
  auto log = MakeLog(storage, 50);
  const TreeHead head = log->head();
  ASSERT_TRUE(storage.OverwriteNodeForTesting(NodeId{2, 1}, HashLeaf("forged")).ok());
  const std::vector<Hash> proof = *log->InclusionProof(0, head.size);
  EXPECT_FALSE(
      VerifyInclusion(0, head.size, HashLeaf(TestLeaf(0)), proof, head.root).ok());
}

}  // namespace
}  // namespace privacity::audit
