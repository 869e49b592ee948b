// RFC 9162 (and RFC 6962) Merkle tree hashing, proofs and their verification.
//
// The hash of a leaf is SHA-256(0x00 || leaf); the hash of an interior node
// is SHA-256(0x01 || left || right); the root of the empty tree is
// SHA-256(""). The tree over n leaves splits at the largest power of two
// smaller than n (RFC 9162 section 2.1.1).
//
// Two families of functions live here:
//   - verification (VerifyInclusion, VerifyConsistency): what an auditor runs
//     on proofs handed to them; every length, index and size is checked;
//   - proof *plans* (PlanInclusionProof, PlanConsistencyProof, PlanRoot): the
//     list of stored perfect-subtree hashes a proof is made of, so a log
//     produces proofs from O(log n) stored hashes instead of rehashing.
// The *FromLeafHashes functions rehash a whole list of leaves. They are the
// reference the tests compare against; the log never uses them.
#ifndef PRIVACITY_AUDIT_MERKLE_H_
#define PRIVACITY_AUDIT_MERKLE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace privacity::audit {

inline constexpr size_t kHashSize = 32;

// A SHA-256 value. Being a fixed-size array, a Hash is 32 bytes by
// construction; bytes from outside become a Hash only through HashFromBytes
// or HashFromBase64, which reject any other length.
using Hash = std::array<uint8_t, kHashSize>;

// The 32 bytes of `hash` (a view into it).
absl::string_view HashBytes(const Hash& hash);
// InvalidArgument unless `bytes` is exactly 32 bytes long.
absl::StatusOr<Hash> HashFromBytes(absl::string_view bytes);
// Standard padded base64 (RFC 4648 section 4), as in checkpoints and the
// test vectors. Decoding is strict: the text must be the canonical encoding
// of exactly 32 bytes.
std::string HashToBase64(const Hash& hash);
absl::StatusOr<Hash> HashFromBase64(absl::string_view text);
std::string HashToHex(const Hash& hash);

// SHA-256 over OpenSSL EVP with the digest fetched once and the context
// reused, which is about three times faster than one-shot EVP_Digest for the
// 65-byte inputs of a Merkle tree. Not thread-safe: use one per thread.
class TreeHasher {
 public:
  static absl::StatusOr<std::unique_ptr<TreeHasher>> Create();
  ~TreeHasher();
  TreeHasher(const TreeHasher&) = delete;
  TreeHasher& operator=(const TreeHasher&) = delete;

  Hash EmptyRoot();                                        // SHA-256("")
  Hash HashLeaf(absl::string_view leaf);                   // SHA-256(0x00 || leaf)
  Hash HashChildren(const Hash& left, const Hash& right);  // SHA-256(0x01 || l || r)
  Hash Sha256(absl::string_view data);                     // plain SHA-256

 private:
  struct State;
  explicit TreeHasher(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// One-shot forms of the above (slower; for tests and occasional use). They
// abort the process if OpenSSL cannot compute SHA-256 at all.
Hash EmptyRoot();
Hash HashLeaf(absl::string_view leaf);
Hash HashChildren(const Hash& left, const Hash& right);
Hash Sha256Digest(absl::string_view data);  // plain SHA-256

// A perfect subtree: the 2^level leaves [index * 2^level, (index+1) * 2^level).
// Level 0 nodes are leaf hashes. Levels are at most 63.
struct NodeId {
  uint8_t level = 0;
  uint64_t index = 0;

  uint64_t begin() const { return index << level; }
  uint64_t end() const { return (index + 1) << level; }
  bool operator==(const NodeId&) const = default;
};

// The largest tree size this module handles (leaf indexes are below it).
inline constexpr uint64_t kMaxTreeSize = uint64_t{1} << 62;

// The perfect subtrees that tile [begin, end), left to right, each as large
// as its alignment allows. For the ranges proofs use (begin aligned to a
// power of two at least end - begin, or end == tree size) sizes decrease
// from left to right, and folding them right to left gives MTH(D[begin:end]).
std::vector<NodeId> RangeNodes(uint64_t begin, uint64_t end);

// A proof (or root) described by the stored node hashes it is made of.
// Element i of the result is the MTH of the nodes
// nodes[offset_i, offset_i + element_sizes[i]), folded right to left:
// h = last; h = HashChildren(previous, h) ...; most elements are one node.
struct ProofPlan {
  std::vector<NodeId> nodes;
  std::vector<size_t> element_sizes;
};

// The plan of the inclusion proof of leaf `index` in the tree of `size`.
// InvalidArgument unless index < size <= kMaxTreeSize.
absl::StatusOr<ProofPlan> PlanInclusionProof(uint64_t index, uint64_t size);
// The plan of the consistency proof from `size1` to `size2` (RFC 9162
// section 2.1.4.1). Empty when size1 is 0 or equals size2. InvalidArgument
// unless size1 <= size2 <= kMaxTreeSize.
absl::StatusOr<ProofPlan> PlanConsistencyProof(uint64_t size1, uint64_t size2);
// The plan of the root of the tree of `size` (one element; none when 0).
absl::StatusOr<ProofPlan> PlanRoot(uint64_t size);

// Folds `node_hashes` (one per plan.nodes, in order) into the proof
// elements. InvalidArgument when the counts disagree.
absl::StatusOr<std::vector<Hash>> AssembleProof(const ProofPlan& plan,
                                                absl::Span<const Hash> node_hashes,
                                                TreeHasher& hasher);

// Reference implementations over the full list of leaf hashes (O(n) hashing).
Hash RootFromLeafHashes(absl::Span<const Hash> leaf_hashes);
absl::StatusOr<std::vector<Hash>> InclusionProofFromLeafHashes(
    absl::Span<const Hash> leaf_hashes, uint64_t index);
absl::StatusOr<std::vector<Hash>> ConsistencyProofFromLeafHashes(
    absl::Span<const Hash> leaf_hashes, uint64_t size1);

// The number of hashes in a valid inclusion proof / consistency proof.
// REQUIRES: index < size (inclusion); size1 <= size2 (consistency).
size_t InclusionProofSize(uint64_t index, uint64_t size);
size_t ConsistencyProofSize(uint64_t size1, uint64_t size2);

// Verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2). OK when the proof
// holds. InvalidArgument when it cannot hold by its shape (index not below
// size, size1 > size2, a proof of the wrong length, a hash that is not 32
// bytes); DataLoss when the hashes do not lead to the given root(s).
absl::Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root);
// The root that `proof` leads to for leaf `index` of a tree of `size`.
absl::StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size,
                                            const Hash& leaf_hash,
                                            absl::Span<const Hash> proof);
// From size 0, any tree is consistent with the empty tree when the proof is
// empty (root1 must then be the empty root). Equal sizes need an empty proof
// and equal roots.
absl::Status VerifyConsistency(uint64_t size1, uint64_t size2,
                               absl::Span<const Hash> proof, const Hash& root1,
                               const Hash& root2);

// The same on untyped bytes as received from outside: every hash must be
// exactly 32 bytes, or the proof is rejected (InvalidArgument).
absl::Status VerifyInclusionBytes(uint64_t index, uint64_t size,
                                  absl::string_view leaf_hash,
                                  absl::Span<const std::string> proof,
                                  absl::string_view root);
absl::Status VerifyConsistencyBytes(uint64_t size1, uint64_t size2,
                                    absl::Span<const std::string> proof,
                                    absl::string_view root1, absl::string_view root2);

}  // namespace privacity::audit

#endif  // PRIVACITY_AUDIT_MERKLE_H_
