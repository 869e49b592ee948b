#include "audit/merkle.h"

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audit/compact_range.h"
#include "audit/test_util.h"
#include "common/encoding.h"
#include "gtest/gtest.h"

namespace privacity::audit {
namespace {

using testing::EmbeddedMerkleDir;
using testing::JsonFilesUnder;
using testing::ReadJson;
using testing::SharedMerkleDir;
using testing::TestLeafHashes;

Hash HexHash(const std::string& hex) { return *HashFromBytes(*HexDecode(hex)); }

// --- RFC 6962 standard vectors -------------------------------------------

void CheckStandardVectors(const std::filesystem::path& file) {
  const nlohmann::json v = ReadJson(file);
  std::vector<Hash> leaves;
  for (const auto& hex : v["leaf_inputs_hex"]) {
    leaves.push_back(HashLeaf(*HexDecode(hex.get<std::string>())));
  }
  const auto& roots = v["root_hashes_by_tree_size_hex"];
  ASSERT_EQ(roots.size(), 9u);
  auto hasher = *TreeHasher::Create();
  CompactRange range;
  for (size_t size = 0; size < roots.size(); ++size) {
    const Hash want = HexHash(roots[size].get<std::string>());
    EXPECT_EQ(RootFromLeafHashes(absl::MakeConstSpan(leaves).subspan(0, size)), want)
        << "size " << size;
    EXPECT_EQ(range.Root(*hasher), want) << "compact range, size " << size;
    if (size < leaves.size()) range.Append(leaves[size], *hasher, nullptr);
  }
  // Every consistency and inclusion proof among these trees verifies
  // against the independently published roots.
  for (uint64_t m = 0; m <= 8; ++m) {
    for (uint64_t n = m; n <= 8; ++n) {
      auto proof =
          ConsistencyProofFromLeafHashes(absl::MakeConstSpan(leaves).subspan(0, n), m);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(VerifyConsistency(m, n, *proof, HexHash(roots[m].get<std::string>()),
                                    HexHash(roots[n].get<std::string>()))
                      .ok())
          << m << " -> " << n;
    }
    for (uint64_t i = 0; i < m; ++i) {
      auto proof =
          InclusionProofFromLeafHashes(absl::MakeConstSpan(leaves).subspan(0, m), i);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(
          VerifyInclusion(i, m, leaves[i], *proof, HexHash(roots[m].get<std::string>()))
              .ok());
    }
  }
}

TEST(StandardVectors, EmbeddedCopy) {
  CheckStandardVectors(EmbeddedMerkleDir() / "rfc6962_standard_vectors.json");
}

TEST(StandardVectors, SharedData) {
  const auto dir = SharedMerkleDir();
  if (dir.empty()) GTEST_SKIP() << "shared data set not present (../shared/data/merkle)";
  CheckStandardVectors(dir / "rfc6962_standard_vectors.json");
}

TEST(Hashing, EmptyAndDomainSeparation) {
  EXPECT_EQ(HashToHex(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 6962 leaf "" -> SHA-256(0x00).
  EXPECT_EQ(HashToHex(HashLeaf("")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  // A leaf and a node over the same bytes never collide.
  const Hash a = HashLeaf("a"), b = HashLeaf("b");
  const std::string concat = absl::StrCat(HashBytes(a), HashBytes(b));
  EXPECT_NE(HashChildren(a, b), HashLeaf(concat));
  auto hasher = *TreeHasher::Create();
  EXPECT_EQ(hasher->HashLeaf("x"), HashLeaf("x"));
  EXPECT_EQ(hasher->HashChildren(a, b), HashChildren(a, b));
  EXPECT_EQ(hasher->EmptyRoot(), EmptyRoot());
  EXPECT_EQ(hasher->Sha256("abc"), Sha256Digest("abc"));
  EXPECT_EQ(HashToHex(Sha256Digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Hashing, HashesMustBe32Bytes) {
  EXPECT_FALSE(HashFromBytes(std::string(31, 'a')).ok());
  EXPECT_FALSE(HashFromBytes(std::string(33, 'a')).ok());
  EXPECT_FALSE(HashFromBytes("").ok());
  EXPECT_TRUE(HashFromBytes(std::string(32, 'a')).ok());
  const Hash h = HashLeaf("x");
  EXPECT_EQ(*HashFromBase64(HashToBase64(h)), h);
  EXPECT_FALSE(HashFromBase64(HashToBase64(h).substr(0, 43)).ok());  // unpadded
  EXPECT_FALSE(HashFromBase64(Base64Encode(std::string(31, 'a'))).ok());
  EXPECT_FALSE(HashFromBase64("not base64!").ok());
}

// --- Inclusion vectors ----------------------------------------------------

// Runs every inclusion vector under `dir`; returns how many ran.
int CheckInclusionVectors(const std::filesystem::path& dir) {
  int count = 0;
  for (const auto& file : JsonFilesUnder(dir)) {
    const nlohmann::json v = ReadJson(file);
    std::vector<std::string> proof;
    if (v["proof"].is_array()) {
      for (const auto& p : v["proof"])
        proof.push_back(*Base64Decode(p.get<std::string>()));
    }
    const absl::Status s =
        VerifyInclusionBytes(v["leafIdx"].get<uint64_t>(), v["treeSize"].get<uint64_t>(),
                             *Base64Decode(v["leafHash"].get<std::string>()), proof,
                             *Base64Decode(v["root"].get<std::string>()));
    if (v["wantErr"].get<bool>()) {
      EXPECT_FALSE(s.ok()) << file << " should fail (" << v["desc"] << ")";
    } else {
      EXPECT_TRUE(s.ok()) << file << ": " << s;
    }
    ++count;
  }
  return count;
}

TEST(InclusionVectors, EmbeddedSubset) {
  EXPECT_EQ(CheckInclusionVectors(EmbeddedMerkleDir() / "inclusion"), 12);
}

TEST(InclusionVectors, EverySharedVector) {
  const auto dir = SharedMerkleDir();
  if (dir.empty()) GTEST_SKIP() << "shared data set not present (../shared/data/merkle)";
  const int count = CheckInclusionVectors(dir / "inclusion");
  std::cout << "checked " << count << " inclusion vectors\n";
  EXPECT_GE(count, 98);
}

// --- Generated inclusion proofs -------------------------------------------

TEST(Inclusion, AllIndexesUpTo64AndTampering) {
  const std::vector<Hash> leaves = TestLeafHashes(65);
  for (uint64_t size = 1; size <= 64; ++size) {
    const auto tree = absl::MakeConstSpan(leaves).subspan(0, size);
    const Hash root = RootFromLeafHashes(tree);
    const Hash next_root =
        RootFromLeafHashes(absl::MakeConstSpan(leaves).subspan(0, size + 1));
    for (uint64_t i = 0; i < size; ++i) {
      auto proof = InclusionProofFromLeafHashes(tree, i);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(proof->size(), InclusionProofSize(i, size));
      ASSERT_TRUE(VerifyInclusion(i, size, leaves[i], *proof, root).ok())
          << i << "/" << size;
      // Every single flipped hash breaks it.
      for (size_t k = 0; k < proof->size(); ++k) {
        std::vector<Hash> bad = *proof;
        bad[k][k % kHashSize] ^= 1;
        EXPECT_EQ(VerifyInclusion(i, size, leaves[i], bad, root).code(),
                  absl::StatusCode::kDataLoss);
      }
      // Wrong length, wrong leaf, wrong index, wrong size.
      if (!proof->empty()) {
        std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
        EXPECT_EQ(VerifyInclusion(i, size, leaves[i], shorter, root).code(),
                  absl::StatusCode::kInvalidArgument);
      }
      std::vector<Hash> longer = *proof;
      longer.push_back(root);
      EXPECT_EQ(VerifyInclusion(i, size, leaves[i], longer, root).code(),
                absl::StatusCode::kInvalidArgument);
      EXPECT_FALSE(VerifyInclusion(i, size,
                                   leaves[(i + 1) % size == i ? 64 : (i + 1) % size],
                                   *proof, root)
                       .ok());
      if (size > 1) {
        EXPECT_FALSE(VerifyInclusion((i + 1) % size, size, leaves[i], *proof, root).ok());
      }
      // Not a proof of inclusion in the next tree. (It may still "verify"
      // against this tree's root with size + 1 claimed: RFC 9162 binds the
      // size only through the signed checkpoint that carries the root.)
      EXPECT_FALSE(VerifyInclusion(i, size + 1, leaves[i], *proof, next_root).ok());
    }
    EXPECT_EQ(VerifyInclusion(size, size, leaves[0], {}, root).code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(Inclusion, RejectsWrongLengthHashesAsBytes) {
  const std::vector<Hash> leaves = TestLeafHashes(5);
  const Hash root = RootFromLeafHashes(leaves);
  auto proof = *InclusionProofFromLeafHashes(leaves, 1);
  std::vector<std::string> raw;
  for (const Hash& h : proof) raw.emplace_back(HashBytes(h));
  const std::string leaf(HashBytes(leaves[1]));
  const std::string root_bytes(HashBytes(root));
  EXPECT_TRUE(VerifyInclusionBytes(1, 5, leaf, raw, root_bytes).ok());
  EXPECT_EQ(VerifyInclusionBytes(1, 5, leaf.substr(1), raw, root_bytes).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusionBytes(1, 5, leaf, raw, root_bytes + "x").code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<std::string> bad = raw;
  bad[1] += '\0';
  const absl::Status s = VerifyInclusionBytes(1, 5, leaf, bad, root_bytes);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("proof hash 1"), std::string::npos) << s;
}

// --- Consistency proofs ---------------------------------------------------

TEST(Consistency, AllPairsUpTo64AndTampering) {
  const std::vector<Hash> leaves = TestLeafHashes(64);
  std::vector<Hash> roots;
  for (uint64_t n = 0; n <= 64; ++n) {
    roots.push_back(RootFromLeafHashes(absl::MakeConstSpan(leaves).subspan(0, n)));
  }
  for (uint64_t n = 0; n <= 64; ++n) {
    const auto tree = absl::MakeConstSpan(leaves).subspan(0, n);
    for (uint64_t m = 0; m <= n; ++m) {
      auto proof = ConsistencyProofFromLeafHashes(tree, m);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(proof->size(), ConsistencyProofSize(m, n)) << m << " -> " << n;
      ASSERT_TRUE(VerifyConsistency(m, n, *proof, roots[m], roots[n]).ok())
          << m << " -> " << n;
      for (size_t k = 0; k < proof->size(); ++k) {
        std::vector<Hash> bad = *proof;
        bad[k][0] ^= 0x80;
        EXPECT_EQ(VerifyConsistency(m, n, bad, roots[m], roots[n]).code(),
                  absl::StatusCode::kDataLoss)
            << m << " -> " << n << " element " << k;
      }
      if (!proof->empty()) {
        std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
        EXPECT_FALSE(VerifyConsistency(m, n, shorter, roots[m], roots[n]).ok());
      }
      std::vector<Hash> longer = *proof;
      longer.push_back(roots[n]);
      EXPECT_FALSE(VerifyConsistency(m, n, longer, roots[m], roots[n]).ok());
      // Wrong roots: any other tree's root fails.
      if (m > 0 && m < n) {
        EXPECT_FALSE(VerifyConsistency(m, n, *proof, roots[m - 1], roots[n]).ok());
        EXPECT_FALSE(VerifyConsistency(m, n, *proof, roots[m], roots[n - 1]).ok());
        EXPECT_FALSE(VerifyConsistency(m, n, *proof, roots[n], roots[m]).ok());
      }
    }
  }
  EXPECT_EQ(VerifyConsistency(5, 4, {}, roots[5], roots[4]).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(VerifyConsistency(4, 4, {}, roots[4], roots[5]).ok());
  EXPECT_FALSE(VerifyConsistency(0, 4, {}, roots[1], roots[4]).ok());
  EXPECT_TRUE(VerifyConsistency(0, 4, {}, roots[0], roots[4]).ok());
}

TEST(Consistency, EmbeddedVectors) {
  int count = 0;
  for (const auto& file : JsonFilesUnder(EmbeddedMerkleDir() / "consistency")) {
    const nlohmann::json v = ReadJson(file);
    std::vector<std::string> proof;
    for (const auto& p : v["proof"]) proof.push_back(*Base64Decode(p.get<std::string>()));
    const absl::Status s =
        VerifyConsistencyBytes(v["size1"].get<uint64_t>(), v["size2"].get<uint64_t>(),
                               proof, *Base64Decode(v["root1"].get<std::string>()),
                               *Base64Decode(v["root2"].get<std::string>()));
    EXPECT_EQ(s.ok(), !v["wantErr"].get<bool>()) << file << ": " << s;
    ++count;
  }
  EXPECT_EQ(count, 9);
}

// --- Proof plans ----------------------------------------------------------

TEST(RangeNodes, DecomposesRanges) {
  EXPECT_TRUE(RangeNodes(0, 0).empty());
  EXPECT_EQ(RangeNodes(0, 8), (std::vector<NodeId>{{3, 0}}));
  EXPECT_EQ(RangeNodes(0, 13), (std::vector<NodeId>{{3, 0}, {2, 2}, {0, 12}}));
  EXPECT_EQ(RangeNodes(8, 13), (std::vector<NodeId>{{2, 2}, {0, 12}}));
  EXPECT_EQ(RangeNodes(1, 4), (std::vector<NodeId>{{0, 1}, {1, 1}}));
}

TEST(ProofPlan, AssemblesTheReferenceProofs) {
  const std::vector<Hash> leaves = TestLeafHashes(100);
  auto hasher = *TreeHasher::Create();
  // Node hashes straight from the leaves, as a log's storage would hold.
  auto node_hash = [&](const NodeId& id) {
    return RootFromLeafHashes(
        absl::MakeConstSpan(leaves).subspan(id.begin(), id.end() - id.begin()));
  };
  auto assemble = [&](const ProofPlan& plan) {
    std::vector<Hash> hashes;
    for (const NodeId& id : plan.nodes) hashes.push_back(node_hash(id));
    return *AssembleProof(plan, hashes, *hasher);
  };
  for (uint64_t size = 1; size <= 100; size += 3) {
    const auto tree = absl::MakeConstSpan(leaves).subspan(0, size);
    for (uint64_t i = 0; i < size; i += 2) {
      EXPECT_EQ(assemble(*PlanInclusionProof(i, size)),
                *InclusionProofFromLeafHashes(tree, i));
    }
    for (uint64_t m = 0; m <= size; ++m) {
      EXPECT_EQ(assemble(*PlanConsistencyProof(m, size)),
                *ConsistencyProofFromLeafHashes(tree, m));
    }
    EXPECT_EQ(assemble(*PlanRoot(size))[0], RootFromLeafHashes(tree));
  }
  EXPECT_FALSE(PlanInclusionProof(5, 5).ok());
  EXPECT_FALSE(PlanConsistencyProof(6, 5).ok());
  EXPECT_FALSE(PlanRoot(kMaxTreeSize + 1).ok());
  const ProofPlan plan = *PlanInclusionProof(3, 10);
  EXPECT_FALSE(AssembleProof(plan, {}, *hasher).ok());
}

TEST(ProofSizes, LargeTrees) {
  // A proof in a tree of 2^40 + 5 leaves is about 41 hashes, not more.
  const uint64_t size = (uint64_t{1} << 40) + 5;
  EXPECT_EQ(PlanInclusionProof(12345, size)->element_sizes.size(),
            InclusionProofSize(12345, size));
  EXPECT_EQ(PlanConsistencyProof(999999, size)->element_sizes.size(),
            ConsistencyProofSize(999999, size));
  EXPECT_LE(InclusionProofSize(12345, size), 41u);
}

}  // namespace
}  // namespace privacity::audit
