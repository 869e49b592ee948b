#include "audit/compact_range.h"

#include <vector>

#include "audit/test_util.h"
#include "gtest/gtest.h"

namespace privacity::audit {
namespace {

using testing::TestLeafHashes;

TEST(CompactRange, RootEqualsFullRecomputationUpTo300) {
  const std::vector<Hash> leaves = TestLeafHashes(300);
  auto hasher = *TreeHasher::Create();
  CompactRange range;
  for (uint64_t size = 0; size <= 300; ++size) {
    ASSERT_EQ(range.size(), size);
    ASSERT_EQ(range.hashes().size(), static_cast<size_t>(__builtin_popcountll(size)));
    ASSERT_EQ(range.Root(*hasher),
              RootFromLeafHashes(absl::MakeConstSpan(leaves).subspan(0, size)))
        << "size " << size;
    if (size < 300) range.Append(leaves[size], *hasher, nullptr);
  }
}

TEST(CompactRange, HashesAreTheNodesOfTheRange) {
  const std::vector<Hash> leaves = TestLeafHashes(77);
  auto hasher = *TreeHasher::Create();
  CompactRange range;
  for (const Hash& leaf : leaves) range.Append(leaf, *hasher, nullptr);
  const std::vector<NodeId> nodes = range.nodes();
  ASSERT_EQ(nodes.size(), range.hashes().size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_EQ(range.hashes()[i],
              RootFromLeafHashes(absl::MakeConstSpan(leaves).subspan(
                  nodes[i].begin(), nodes[i].end() - nodes[i].begin())));
  }
}

TEST(CompactRange, VisitorReportsEveryCompletedNodeOnce) {
  const std::vector<Hash> leaves = TestLeafHashes(40);
  auto hasher = *TreeHasher::Create();
  CompactRange range;
  std::vector<std::pair<NodeId, Hash>> seen;
  const CompactRange::NodeVisitor visitor = [&](const NodeId& id, const Hash& h) {
    seen.emplace_back(id, h);
  };
  for (const Hash& leaf : leaves) range.Append(leaf, *hasher, &visitor);
  // 40 leaves complete 40 + 20 + 10 + 5 + 2 + 1 nodes.
  EXPECT_EQ(seen.size(), 78u);
  for (const auto& [id, h] : seen) {
    ASSERT_LE(id.end(), 40u);
    EXPECT_EQ(h, RootFromLeafHashes(absl::MakeConstSpan(leaves).subspan(
                     id.begin(), id.end() - id.begin())));
  }
}

TEST(CompactRange, CreateChecksTheHashCount) {
  const std::vector<Hash> leaves = TestLeafHashes(3);
  auto hasher = *TreeHasher::Create();
  CompactRange range;
  for (const Hash& leaf : leaves) range.Append(leaf, *hasher, nullptr);
  auto copy = CompactRange::Create(3, range.hashes());
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(*copy, range);
  EXPECT_FALSE(CompactRange::Create(4, range.hashes()).ok());
  EXPECT_FALSE(CompactRange::Create(3, {}).ok());
  EXPECT_TRUE(CompactRange::Create(0, {}).ok());
  EXPECT_FALSE(CompactRange::Create(kMaxTreeSize + 1, {}).ok());
}

}  // namespace
}  // namespace privacity::audit
