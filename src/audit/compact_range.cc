#include "audit/compact_range.h"

#include <bit>

#include "absl/strings/str_cat.h"

namespace privacity::audit {

absl::StatusOr<CompactRange> CompactRange::Create(uint64_t size,
                                                  std::vector<Hash> hashes) {
  if (size > kMaxTreeSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree size ", size, " exceeds the maximum 2^62"));
  }
  const auto want = static_cast<size_t>(std::popcount(size));
  if (hashes.size() != want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a compact range of size ", size, " has ", want, " hashes, got ", hashes.size()));
  }
  CompactRange range;
  range.size_ = size;
  range.hashes_ = std::move(hashes);
  return range;
}

void CompactRange::Append(const Hash& leaf_hash, TreeHasher& hasher,
                          const NodeVisitor* visitor) {
  if (visitor != nullptr) (*visitor)(NodeId{0, size_}, leaf_hash);
  hashes_.push_back(leaf_hash);
  // Each trailing one bit of the old size is a perfect subtree of the same
  // height as the one just completed: merge them pairwise.
  uint64_t index = size_;
  uint8_t level = 0;
  while ((index & 1) != 0) {
    const Hash right = hashes_.back();
    hashes_.pop_back();
    Hash& left = hashes_.back();
    left = hasher.HashChildren(left, right);
    index >>= 1;
    ++level;
    if (visitor != nullptr) (*visitor)(NodeId{level, index}, left);
  }
  ++size_;
}

Hash CompactRange::Root(TreeHasher& hasher) const {
  if (hashes_.empty()) return hasher.EmptyRoot();
  Hash root = hashes_.back();
  for (size_t i = hashes_.size() - 1; i-- > 0;)
    root = hasher.HashChildren(hashes_[i], root);
  return root;
}

}  // namespace privacity::audit
