#include "audit/merkle.h"

#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/status_macros.h"

namespace privacity::audit {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

[[noreturn]] void DigestFailure() {
  std::fputs("privacity: SHA-256 failed in OpenSSL, aborting\n", stderr);
  std::abort();
}

// The largest power of two strictly smaller than n. REQUIRES: n >= 2.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

}  // namespace

absl::string_view HashBytes(const Hash& hash) {
  return absl::string_view(reinterpret_cast<const char*>(hash.data()), hash.size());
}

absl::StatusOr<Hash> HashFromBytes(absl::string_view bytes) {
  if (bytes.size() != kHashSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("a hash must be 32 bytes, got ", bytes.size()));
  }
  Hash hash;
  std::memcpy(hash.data(), bytes.data(), kHashSize);
  return hash;
}

std::string HashToBase64(const Hash& hash) { return Base64Encode(HashBytes(hash)); }

absl::StatusOr<Hash> HashFromBase64(absl::string_view text) {
  absl::StatusOr<std::string> bytes = Base64Decode(text);
  if (!bytes.ok() || Base64Encode(*bytes) != text) {
    return absl::InvalidArgumentError("a hash is not canonical padded base64");
  }
  return HashFromBytes(*bytes);
}

std::string HashToHex(const Hash& hash) { return HexEncode(HashBytes(hash)); }

// --- TreeHasher ------------------------------------------------------------

struct TreeHasher::State {
  EVP_MD* md = nullptr;
  EVP_MD_CTX* ctx = nullptr;
  ~State() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
};

TreeHasher::TreeHasher(std::unique_ptr<State> state) : state_(std::move(state)) {}
TreeHasher::~TreeHasher() = default;

absl::StatusOr<std::unique_ptr<TreeHasher>> TreeHasher::Create() {
  auto state = std::make_unique<State>();
  state->md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  state->ctx = EVP_MD_CTX_new();
  if (state->md == nullptr || state->ctx == nullptr) {
    return absl::InternalError("OpenSSL provides no SHA-256");
  }
  return std::unique_ptr<TreeHasher>(new TreeHasher(std::move(state)));
}

namespace {

// SHA-256 of the concatenation of up to three pieces.
void Digest(EVP_MD_CTX* ctx, const EVP_MD* md, absl::string_view a, absl::string_view b,
            absl::string_view c, Hash& out) {
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx, a.data(), a.size()) != 1 ||
      (!b.empty() && EVP_DigestUpdate(ctx, b.data(), b.size()) != 1) ||
      (!c.empty() && EVP_DigestUpdate(ctx, c.data(), c.size()) != 1) ||
      EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != kHashSize) {
    DigestFailure();
  }
}

constexpr char kLeafPrefixChar[1] = {static_cast<char>(kLeafPrefix)};
constexpr char kNodePrefixChar[1] = {static_cast<char>(kNodePrefix)};

}  // namespace

Hash TreeHasher::EmptyRoot() { return Sha256(""); }

Hash TreeHasher::HashLeaf(absl::string_view leaf) {
  Hash out;
  Digest(state_->ctx, state_->md, absl::string_view(kLeafPrefixChar, 1), leaf, "", out);
  return out;
}

Hash TreeHasher::HashChildren(const Hash& left, const Hash& right) {
  // One contiguous buffer: a single update is measurably faster than three.
  char buf[1 + 2 * kHashSize];
  buf[0] = static_cast<char>(kNodePrefix);
  std::memcpy(buf + 1, left.data(), kHashSize);
  std::memcpy(buf + 1 + kHashSize, right.data(), kHashSize);
  Hash out;
  Digest(state_->ctx, state_->md, absl::string_view(buf, sizeof(buf)), "", "", out);
  return out;
}

Hash TreeHasher::Sha256(absl::string_view data) {
  Hash out;
  Digest(state_->ctx, state_->md, data, "", "", out);
  return out;
}

// --- One-shot forms ----------------------------------------------------------

namespace {

Hash OneShot(absl::string_view prefix, absl::string_view a, absl::string_view b) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) DigestFailure();
  Hash out;
  Digest(ctx, EVP_sha256(), prefix, a, b, out);
  EVP_MD_CTX_free(ctx);
  return out;
}

}  // namespace

Hash EmptyRoot() { return OneShot("", "", ""); }

Hash Sha256Digest(absl::string_view data) { return OneShot(data, "", ""); }

Hash HashLeaf(absl::string_view leaf) {
  return OneShot(absl::string_view(kLeafPrefixChar, 1), leaf, "");
}

Hash HashChildren(const Hash& left, const Hash& right) {
  return OneShot(absl::string_view(kNodePrefixChar, 1), HashBytes(left),
                 HashBytes(right));
}

// --- Proof plans -------------------------------------------------------------

std::vector<NodeId> RangeNodes(uint64_t begin, uint64_t end) {
  std::vector<NodeId> nodes;
  while (begin < end) {
    const int by_size = std::bit_width(end - begin) - 1;
    const int by_alignment = begin == 0 ? 63 : std::countr_zero(begin);
    const int level = std::min(by_size, by_alignment);
    nodes.push_back(NodeId{static_cast<uint8_t>(level), begin >> level});
    begin += uint64_t{1} << level;
  }
  return nodes;
}

namespace {

void AddElement(uint64_t begin, uint64_t end, ProofPlan& plan) {
  const std::vector<NodeId> nodes = RangeNodes(begin, end);
  plan.nodes.insert(plan.nodes.end(), nodes.begin(), nodes.end());
  plan.element_sizes.push_back(nodes.size());
}

// RFC 9162 PATH(m, D[begin:end]) with absolute indexes.
void PlanPath(uint64_t m, uint64_t begin, uint64_t end, ProofPlan& plan) {
  const uint64_t n = end - begin;
  if (n <= 1) return;
  const uint64_t k = SplitPoint(n);
  if (m < begin + k) {
    PlanPath(m, begin, begin + k, plan);
    AddElement(begin + k, end, plan);
  } else {
    PlanPath(m, begin + k, end, plan);
    AddElement(begin, begin + k, plan);
  }
}

// RFC 9162 SUBPROOF(m, D[begin:end], whole) with absolute indexes.
void PlanSubproof(uint64_t m, uint64_t begin, uint64_t end, bool whole, ProofPlan& plan) {
  if (m == end) {
    if (!whole) AddElement(begin, end, plan);
    return;
  }
  const uint64_t k = SplitPoint(end - begin);
  if (m <= begin + k) {
    PlanSubproof(m, begin, begin + k, whole, plan);
    AddElement(begin + k, end, plan);
  } else {
    PlanSubproof(m, begin + k, end, false, plan);
    AddElement(begin, begin + k, plan);
  }
}

absl::Status CheckTreeSize(uint64_t size) {
  if (size > kMaxTreeSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree size ", size, " exceeds the maximum 2^62"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProofPlan> PlanInclusionProof(uint64_t index, uint64_t size) {
  RETURN_IF_ERROR(CheckTreeSize(size));
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf index ", index, " is not below tree size ", size));
  }
  ProofPlan plan;
  PlanPath(index, 0, size, plan);
  return plan;
}

absl::StatusOr<ProofPlan> PlanConsistencyProof(uint64_t size1, uint64_t size2) {
  RETURN_IF_ERROR(CheckTreeSize(size2));
  if (size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree size ", size1, " is larger than tree size ", size2));
  }
  ProofPlan plan;
  if (size1 > 0 && size1 < size2) PlanSubproof(size1, 0, size2, true, plan);
  return plan;
}

absl::StatusOr<ProofPlan> PlanRoot(uint64_t size) {
  RETURN_IF_ERROR(CheckTreeSize(size));
  ProofPlan plan;
  if (size > 0) AddElement(0, size, plan);
  return plan;
}

absl::StatusOr<std::vector<Hash>> AssembleProof(const ProofPlan& plan,
                                                absl::Span<const Hash> node_hashes,
                                                TreeHasher& hasher) {
  if (node_hashes.size() != plan.nodes.size()) {
    return absl::InvalidArgumentError(absl::StrCat("proof plan needs ", plan.nodes.size(),
                                                   " hashes, got ", node_hashes.size()));
  }
  std::vector<Hash> proof;
  proof.reserve(plan.element_sizes.size());
  size_t offset = 0;
  for (const size_t count : plan.element_sizes) {
    if (count == 0 || offset + count > node_hashes.size()) {
      return absl::InvalidArgumentError("malformed proof plan");
    }
    Hash h = node_hashes[offset + count - 1];
    for (size_t i = count - 1; i-- > 0;)
      h = hasher.HashChildren(node_hashes[offset + i], h);
    proof.push_back(h);
    offset += count;
  }
  return proof;
}

// --- Reference implementations ----------------------------------------------

namespace {

Hash Mth(absl::Span<const Hash> leaves, TreeHasher& hasher) {
  if (leaves.empty()) return hasher.EmptyRoot();
  if (leaves.size() == 1) return leaves[0];
  const size_t k = SplitPoint(leaves.size());
  return hasher.HashChildren(Mth(leaves.subspan(0, k), hasher),
                             Mth(leaves.subspan(k), hasher));
}

void Path(uint64_t m, absl::Span<const Hash> leaves, TreeHasher& hasher,
          std::vector<Hash>& out) {
  if (leaves.size() <= 1) return;
  const size_t k = SplitPoint(leaves.size());
  if (m < k) {
    Path(m, leaves.subspan(0, k), hasher, out);
    out.push_back(Mth(leaves.subspan(k), hasher));
  } else {
    Path(m - k, leaves.subspan(k), hasher, out);
    out.push_back(Mth(leaves.subspan(0, k), hasher));
  }
}

void Subproof(uint64_t m, absl::Span<const Hash> leaves, bool whole, TreeHasher& hasher,
              std::vector<Hash>& out) {
  if (m == leaves.size()) {
    if (!whole) out.push_back(Mth(leaves, hasher));
    return;
  }
  const size_t k = SplitPoint(leaves.size());
  if (m <= k) {
    Subproof(m, leaves.subspan(0, k), whole, hasher, out);
    out.push_back(Mth(leaves.subspan(k), hasher));
  } else {
    Subproof(m - k, leaves.subspan(k), false, hasher, out);
    out.push_back(Mth(leaves.subspan(0, k), hasher));
  }
}

std::unique_ptr<TreeHasher> MustCreateHasher() {
  absl::StatusOr<std::unique_ptr<TreeHasher>> hasher = TreeHasher::Create();
  if (!hasher.ok()) DigestFailure();
  return std::move(hasher).value();
}

}  // namespace

Hash RootFromLeafHashes(absl::Span<const Hash> leaf_hashes) {
  return Mth(leaf_hashes, *MustCreateHasher());
}

absl::StatusOr<std::vector<Hash>> InclusionProofFromLeafHashes(
    absl::Span<const Hash> leaf_hashes, uint64_t index) {
  if (index >= leaf_hashes.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf index ", index, " is not below tree size ", leaf_hashes.size()));
  }
  std::vector<Hash> proof;
  Path(index, leaf_hashes, *MustCreateHasher(), proof);
  return proof;
}

absl::StatusOr<std::vector<Hash>> ConsistencyProofFromLeafHashes(
    absl::Span<const Hash> leaf_hashes, uint64_t size1) {
  if (size1 > leaf_hashes.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tree size ", size1, " is larger than tree size ", leaf_hashes.size()));
  }
  std::vector<Hash> proof;
  if (size1 > 0 && size1 < leaf_hashes.size()) {
    Subproof(size1, leaf_hashes, true, *MustCreateHasher(), proof);
  }
  return proof;
}

// --- Verification ------------------------------------------------------------

size_t InclusionProofSize(uint64_t index, uint64_t size) {
  const int inner = std::bit_width(index ^ (size - 1));
  const int border = std::popcount(index >> inner);
  return static_cast<size_t>(inner + border);
}

size_t ConsistencyProofSize(uint64_t size1, uint64_t size2) {
  if (size1 == 0 || size1 >= size2) return 0;
  // The proof is an inclusion proof of the last perfect subtree of the old
  // tree in the new one, at that subtree's level, plus that subtree's hash
  // unless the old tree is itself perfect (its root is then the seed).
  const int level = std::countr_zero(size1);
  const uint64_t index = (size1 - 1) >> level;
  const uint64_t size = ((size2 - 1) >> level) + 1;
  return InclusionProofSize(index, size) + (index == 0 ? 0 : 1);
}

namespace {

absl::Status Mismatch(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("proof does not hold: ", what));
}

}  // namespace

absl::StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size,
                                            const Hash& leaf_hash,
                                            absl::Span<const Hash> proof) {
  RETURN_IF_ERROR(CheckTreeSize(size));
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf index ", index, " is not below tree size ", size));
  }
  const size_t want = InclusionProofSize(index, size);
  if (proof.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("inclusion proof has ", proof.size(), " hashes, want ", want));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<TreeHasher> hasher, TreeHasher::Create());
  // RFC 9162 section 2.1.3.2.
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return absl::InvalidArgumentError("inclusion proof is too long");
    if ((fn & 1) != 0 || fn == sn) {
      r = hasher->HashChildren(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = hasher->HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return absl::InvalidArgumentError("inclusion proof is too short");
  return r;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root) {
  ASSIGN_OR_RETURN(const Hash computed,
                   RootFromInclusionProof(index, size, leaf_hash, proof));
  if (computed != root) return Mismatch("the leaf does not lead to the root");
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t size1, uint64_t size2,
                               absl::Span<const Hash> proof, const Hash& root1,
                               const Hash& root2) {
  RETURN_IF_ERROR(CheckTreeSize(size2));
  if (size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree size ", size1, " is larger than tree size ", size2));
  }
  const size_t want = ConsistencyProofSize(size1, size2);
  if (proof.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("consistency proof has ", proof.size(), " hashes, want ", want));
  }
  if (size1 == 0) {
    if (root1 != EmptyRoot()) return Mismatch("the first root is not the empty root");
    return absl::OkStatus();
  }
  if (size1 == size2) {
    if (root1 != root2) return Mismatch("equal tree sizes with different roots");
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::unique_ptr<TreeHasher> hasher, TreeHasher::Create());
  // RFC 9162 section 2.1.4.2. When size1 is a power of two its root is the
  // first node of the path.
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(size1)) path.push_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return absl::InvalidArgumentError("consistency proof is too long");
    if ((fn & 1) != 0 || fn == sn) {
      fr = hasher->HashChildren(c, fr);
      sr = hasher->HashChildren(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = hasher->HashChildren(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return absl::InvalidArgumentError("consistency proof is too short");
  if (fr != root1) return Mismatch("the proof does not lead to the first root");
  if (sr != root2) return Mismatch("the proof does not lead to the second root");
  return absl::OkStatus();
}

namespace {

absl::StatusOr<std::vector<Hash>> ProofFromBytes(absl::Span<const std::string> proof) {
  std::vector<Hash> out;
  out.reserve(proof.size());
  for (size_t i = 0; i < proof.size(); ++i) {
    absl::StatusOr<Hash> h = HashFromBytes(proof[i]);
    if (!h.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("proof hash ", i, ": ", h.status().message()));
    }
    out.push_back(*h);
  }
  return out;
}

absl::StatusOr<Hash> NamedHash(absl::string_view bytes, absl::string_view name) {
  absl::StatusOr<Hash> h = HashFromBytes(bytes);
  if (!h.ok())
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", h.status().message()));
  return h;
}

}  // namespace

absl::Status VerifyInclusionBytes(uint64_t index, uint64_t size,
                                  absl::string_view leaf_hash,
                                  absl::Span<const std::string> proof,
                                  absl::string_view root) {
  ASSIGN_OR_RETURN(const Hash leaf, NamedHash(leaf_hash, "leaf hash"));
  ASSIGN_OR_RETURN(const Hash root_hash, NamedHash(root, "root"));
  ASSIGN_OR_RETURN(const std::vector<Hash> path, ProofFromBytes(proof));
  return VerifyInclusion(index, size, leaf, path, root_hash);
}

absl::Status VerifyConsistencyBytes(uint64_t size1, uint64_t size2,
                                    absl::Span<const std::string> proof,
                                    absl::string_view root1, absl::string_view root2) {
  ASSIGN_OR_RETURN(const Hash first, NamedHash(root1, "first root"));
  ASSIGN_OR_RETURN(const Hash second, NamedHash(root2, "second root"));
  ASSIGN_OR_RETURN(const std::vector<Hash> path, ProofFromBytes(proof));
  return VerifyConsistency(size1, size2, path, first, second);
}

}  // namespace privacity::audit
