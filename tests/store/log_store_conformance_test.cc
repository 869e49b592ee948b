// The conformance suite of store::LogStore (the transparency log's tables),
// parameterised over the same backend factories as the Store suite.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "store/log_store.h"
#include "store/store.h"
#include "store_test_util.h"

namespace privacity::store {

namespace {

using testing::StoreBackend;
using testing::TempDir;

// A distinct 32-byte hash per (tag, n); the store does not check hashes.
std::string H(char tag, uint64_t n) {
  std::string h(32, tag);
  for (int i = 0; i < 8; ++i) h[i] = static_cast<char>(n >> (8 * i));
  return h;
}

// A batch of `count` entries from `first`, with the level-1 nodes they
// complete and a frontier of the right size (its hashes are not a real
// compact range: the store keeps bytes, the audit module checks meaning).
LogBatch Batch(uint64_t first, uint64_t count) {
  LogBatch b;
  b.first_index = first;
  for (uint64_t i = first; i < first + count; ++i) {
    b.entries.push_back(LogEntryRow{"entry " + std::to_string(i), H('e', i)});
    if (i % 2 == 1) b.nodes.push_back(LogNodeRow{1, i / 2, H('n', i / 2)});
  }
  b.frontier.size = first + count;
  b.frontier.hashes = H('f', first + count);
  return b;
}

class LogStoreConformanceTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (std::string reason = GetParam().skip(); !reason.empty()) GTEST_SKIP() << reason;
    ASSERT_TRUE(dir_.ok());
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  void TearDown() override {
    store_.reset();
    GetParam().drop(dir_.path());
  }

  absl::StatusOr<StorePtr> Open() { return GetParam().open(dir_.path()); }
  LogStore& log() { return store_->log(); }

  TempDir dir_;
  StorePtr store_;
};

TEST_P(LogStoreConformanceTest, EmptyLog) {
  auto frontier = log().ReadFrontier();
  ASSERT_TRUE(frontier.ok()) << frontier.status();
  EXPECT_EQ(frontier->size, 0u);
  EXPECT_TRUE(frontier->hashes.empty());
  auto none = log().ReadEntries(0, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(log().ReadEntries(0, 1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(log().ReadNodes({{0, 0}}).status().code(), absl::StatusCode::kOutOfRange);
  auto latest = log().LatestCheckpoint();
  ASSERT_TRUE(latest.ok());
  EXPECT_FALSE(latest->has_value());
}

TEST_P(LogStoreConformanceTest, AppendsAndReadsBack) {
  ASSERT_TRUE(log().Append(Batch(0, 5)).ok());
  ASSERT_TRUE(log().Append(Batch(5, 3)).ok());
  auto frontier = log().ReadFrontier();
  ASSERT_TRUE(frontier.ok());
  EXPECT_EQ(frontier->size, 8u);
  EXPECT_EQ(frontier->hashes, H('f', 8));

  auto entries = log().ReadEntries(3, 7);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 4u);
  for (uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*entries)[i].data, "entry " + std::to_string(3 + i));
    EXPECT_EQ((*entries)[i].leaf_hash, H('e', 3 + i));
  }

  // Level 0 is the leaf hashes; interior levels are the stored nodes.
  auto nodes = log().ReadNodes({{1, 3}, {0, 7}, {1, 0}});
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_EQ(*nodes, (std::vector<std::string>{H('n', 3), H('e', 7), H('n', 0)}));
  auto range = log().ReadNodeRange(1, 1, 4);
  ASSERT_TRUE(range.ok()) << range.status();
  EXPECT_EQ(*range, (std::vector<std::string>{H('n', 1), H('n', 2), H('n', 3)}));
  auto leaves = log().ReadNodeRange(0, 6, 8);
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  EXPECT_EQ(*leaves, (std::vector<std::string>{H('e', 6), H('e', 7)}));

  // Nodes that are not complete at size 8 are out of range.
  EXPECT_EQ(log().ReadNodes({{0, 8}}).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(log().ReadNodes({{4, 0}}).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(log().ReadNodeRange(1, 3, 5).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(log().ReadEntries(7, 9).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(log().ReadEntries(5, 4).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_P(LogStoreConformanceTest, AppendAtTheWrongIndexIsAbortedAndWritesNothing) {
  ASSERT_TRUE(log().Append(Batch(0, 4)).ok());
  for (uint64_t first : {0u, 3u, 5u}) {
    EXPECT_EQ(log().Append(Batch(first, 2)).code(), absl::StatusCode::kAborted) << first;
  }
  auto frontier = log().ReadFrontier();
  ASSERT_TRUE(frontier.ok());
  EXPECT_EQ(frontier->size, 4u);
  EXPECT_EQ(frontier->hashes, H('f', 4));
  auto entries = log().ReadEntries(0, 4);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ((*entries)[0].data, "entry 0");
}

TEST_P(LogStoreConformanceTest, InvalidBatchesAreRejectedWhole) {
  LogBatch short_hash = Batch(0, 2);
  short_hash.entries[1].leaf_hash = "short";
  EXPECT_EQ(log().Append(short_hash).code(), absl::StatusCode::kInvalidArgument);
  LogBatch empty_entry = Batch(0, 2);
  empty_entry.entries[0].data.clear();
  EXPECT_EQ(log().Append(empty_entry).code(), absl::StatusCode::kInvalidArgument);
  LogBatch wrong_size = Batch(0, 2);
  wrong_size.frontier.size = 3;
  EXPECT_EQ(log().Append(wrong_size).code(), absl::StatusCode::kInvalidArgument);
  LogBatch ragged = Batch(0, 2);
  ragged.frontier.hashes += "x";
  EXPECT_EQ(log().Append(ragged).code(), absl::StatusCode::kInvalidArgument);
  LogBatch level0 = Batch(0, 2);
  level0.nodes.push_back(LogNodeRow{0, 0, H('x', 0)});
  EXPECT_EQ(log().Append(level0).code(), absl::StatusCode::kInvalidArgument);
  LogBatch incomplete = Batch(0, 2);
  incomplete.nodes.push_back(LogNodeRow{2, 0, H('x', 0)});
  EXPECT_EQ(log().Append(incomplete).code(), absl::StatusCode::kInvalidArgument);
  auto frontier = log().ReadFrontier();
  ASSERT_TRUE(frontier.ok());
  EXPECT_EQ(frontier->size, 0u);
}

TEST_P(LogStoreConformanceTest, AFailedBatchLeavesNoPartOfItBehind) {
  ASSERT_TRUE(log().Append(Batch(0, 2)).ok());
  // A batch whose last node is already stored fails after its entries were
  // written inside the transaction: none of them may remain.
  LogBatch clash = Batch(2, 2);
  clash.nodes.push_back(LogNodeRow{1, 0, H('n', 0)});
  EXPECT_EQ(log().Append(clash).code(), absl::StatusCode::kDataLoss);
  auto frontier = log().ReadFrontier();
  ASSERT_TRUE(frontier.ok());
  EXPECT_EQ(frontier->size, 2u);
  // The same index can then be appended properly.
  ASSERT_TRUE(log().Append(Batch(2, 2)).ok());
  auto entries = log().ReadEntries(2, 4);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_EQ((*entries)[0].data, "entry 2");
}

TEST_P(LogStoreConformanceTest, TwoInstancesShareTheLogAndCannotBothAppendAtAnIndex) {
  auto other = Open();
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE(log().Append(Batch(0, 3)).ok());
  auto seen = (*other)->log().ReadFrontier();
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->size, 3u);
  // Both believe the log has 3 entries; only the first append at 3 wins.
  ASSERT_TRUE((*other)->log().Append(Batch(3, 1)).ok());
  EXPECT_EQ(log().Append(Batch(3, 2)).code(), absl::StatusCode::kAborted);
  auto entries = log().ReadEntries(0, 4);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_EQ(entries->size(), 4u);
  EXPECT_EQ(log().ReadEntries(0, 5).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_P(LogStoreConformanceTest, Checkpoints) {
  ASSERT_TRUE(
      log().PutCheckpoint({.size = 3, .note = "note 3\n", .created_us = 30}).ok());
  ASSERT_TRUE(
      log().PutCheckpoint({.size = 9, .note = "note 9\n", .created_us = 90}).ok());
  ASSERT_TRUE(
      log().PutCheckpoint({.size = 5, .note = "note 5\n", .created_us = 50}).ok());
  EXPECT_EQ(log().PutCheckpoint({.size = 5, .note = "other\n", .created_us = 51}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(log().PutCheckpoint({.size = 6, .note = "", .created_us = 1}).code(),
            absl::StatusCode::kInvalidArgument);
  auto latest = log().LatestCheckpoint();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->size, 9u);
  EXPECT_EQ((*latest)->note, "note 9\n");
  EXPECT_EQ((*latest)->created_us, 90);
  auto five = log().GetCheckpoint(5);
  ASSERT_TRUE(five.ok() && five->has_value());
  EXPECT_EQ((*five)->note, "note 5\n");
  auto four = log().GetCheckpoint(4);
  ASSERT_TRUE(four.ok());
  EXPECT_FALSE(four->has_value());
}

TEST_P(LogStoreConformanceTest, NextCheckpointIsACompareAndSet) {
  ASSERT_TRUE(log().Append(Batch(0, 10)).ok());
  const LogCheckpointRow four{.size = 4, .note = "note 4\n", .created_us = 4};
  ASSERT_TRUE(log().PutNextCheckpoint(four, std::nullopt).ok());
  // A second signer that still believes no checkpoint exists loses.
  EXPECT_EQ(log().PutNextCheckpoint({.size = 6, .note = "n6\n"}, std::nullopt).code(),
            absl::StatusCode::kAborted);
  // So does one that checked against a checkpoint that is no longer the latest.
  ASSERT_TRUE(log().PutNextCheckpoint({.size = 7, .note = "n7\n"}, 4).ok());
  EXPECT_EQ(log().PutNextCheckpoint({.size = 9, .note = "n9\n"}, 4).code(),
            absl::StatusCode::kAborted);
  // Not after the previous one, or beyond the log.
  EXPECT_EQ(log().PutNextCheckpoint({.size = 7, .note = "again\n"}, 7).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(log().PutNextCheckpoint({.size = 11, .note = "n11\n"}, 7).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(log().PutNextCheckpoint({.size = 8, .note = ""}, 7).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(log().PutNextCheckpoint({.size = 10, .note = "n10\n"}, 7).ok());
  auto latest = log().LatestCheckpoint();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->size, 10u);
  EXPECT_FALSE(log().GetCheckpoint(6)->has_value());
  EXPECT_FALSE(log().GetCheckpoint(9)->has_value());
}

TEST_P(LogStoreConformanceTest, SurvivesReopening) {
  ASSERT_TRUE(log().Append(Batch(0, 6)).ok());
  ASSERT_TRUE(log().PutCheckpoint({.size = 6, .note = "n\n", .created_us = 1}).ok());
  store_.reset();
  auto reopened = Open();
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto frontier = (*reopened)->log().ReadFrontier();
  ASSERT_TRUE(frontier.ok());
  EXPECT_EQ(frontier->size, 6u);
  auto nodes = (*reopened)->log().ReadNodes({{1, 2}});
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ((*nodes)[0], H('n', 2));
  auto latest = (*reopened)->log().LatestCheckpoint();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->size, 6u);
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Backends, LogStoreConformanceTest,
                         ::testing::Values(testing::SqliteBackend(),
                                           testing::PostgresqlBackend()),
                         [](const ::testing::TestParamInfo<StoreBackend>& info) {
                           return info.param.name;
                         });

}  // namespace privacity::store
