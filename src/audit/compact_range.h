// A compact range over the leaves [0, size): the roots of the perfect
// subtrees that the binary representation of `size` decomposes the tree into
// (one per set bit, largest and leftmost first). It is all a log needs to
// know to append a leaf and compute the new root, in O(log n) memory and
// amortised O(1) hashes per leaf, without reading the log.
//
// Every hash in a compact range is a complete ("perfect") subtree, so it is
// also a node the log has stored: a compact range can be rebuilt from
// storage after a restart (RangeNodes(0, size) names its nodes).
#ifndef PRIVACITY_AUDIT_COMPACT_RANGE_H_
#define PRIVACITY_AUDIT_COMPACT_RANGE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "audit/merkle.h"

namespace privacity::audit {

class CompactRange {
 public:
  // Called for every node that becomes complete during an append, level 0
  // (the leaf itself) first, then each parent it completes.
  using NodeVisitor = std::function<void(const NodeId& id, const Hash& hash)>;

  // The empty range (size 0).
  CompactRange() = default;

  // A range of `size` leaves from its subtree roots, largest first.
  // InvalidArgument unless there is exactly one hash per set bit of size.
  static absl::StatusOr<CompactRange> Create(uint64_t size, std::vector<Hash> hashes);

  uint64_t size() const { return size_; }
  const std::vector<Hash>& hashes() const { return hashes_; }
  // The nodes hashes() stands for, in the same order.
  std::vector<NodeId> nodes() const { return RangeNodes(0, size_); }

  // Appends one leaf hash. `visitor` may be null.
  // REQUIRES: size() < kMaxTreeSize.
  void Append(const Hash& leaf_hash, TreeHasher& hasher, const NodeVisitor* visitor);

  // The Merkle tree hash of [0, size); the empty root when size is 0.
  Hash Root(TreeHasher& hasher) const;

  bool operator==(const CompactRange&) const = default;

 private:
  uint64_t size_ = 0;
  std::vector<Hash> hashes_;
};

}  // namespace privacity::audit

#endif  // PRIVACITY_AUDIT_COMPACT_RANGE_H_
