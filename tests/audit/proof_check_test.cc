#include "audit/proof_check.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "audit/log.h"
#include "audit/test_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace privacity::audit {
namespace {

using nlohmann::json;
using testing::EmbeddedMerkleDir;
using testing::JsonFilesUnder;
using testing::ReadJson;
using testing::SharedMerkleDir;

// Each vector file's verdict is 0 unless it says wantErr.
void CheckVectorFiles(const std::filesystem::path& dir, size_t min_count) {
  const auto files = JsonFilesUnder(dir);
  EXPECT_GE(files.size(), min_count);
  for (const auto& file : files) {
    const ProofCheck check = CheckProofFile(file.string());
    const bool want_err = ReadJson(file)["wantErr"].get<bool>();
    EXPECT_EQ(ExitCode(check.verdict), want_err ? 1 : 0) << file << ": " << check.message;
    EXPECT_EQ(check.message.find('\n'), std::string::npos);
  }
}

TEST(CheckProof, EmbeddedVectors) {
  CheckVectorFiles(EmbeddedMerkleDir() / "inclusion", 12);
  CheckVectorFiles(EmbeddedMerkleDir() / "consistency", 9);
}

TEST(CheckProof, EverySharedInclusionVector) {
  const auto dir = SharedMerkleDir();
  if (dir.empty()) GTEST_SKIP() << "shared data set not present (../shared/data/merkle)";
  CheckVectorFiles(dir / "inclusion", 98);
}

TEST(CheckProof, ProofsFromALog) {
  MemoryLogStorage storage;
  auto log = *Log::Open(storage);
  std::vector<std::string> leaves;
  for (int i = 0; i < 37; ++i) leaves.push_back(testing::TestLeaf(i));
  ASSERT_TRUE(log->Append(leaves).ok());
  const TreeHead head = log->head();
  json inclusion = {{"leafIdx", 11},
                    {"treeSize", head.size},
                    {"root", HashToBase64(head.root)},
                    {"leafHash", HashToBase64(HashLeaf(leaves[11]))},
                    {"proof", json::array()}};
  const std::vector<Hash> inclusion_proof = *log->InclusionProof(11, head.size);
  for (const Hash& h : inclusion_proof) {
    inclusion["proof"].push_back(HashToBase64(h));
  }
  ProofCheck check = CheckProofJson(inclusion.dump());
  EXPECT_EQ(check.verdict, ProofVerdict::kHolds) << check.message;
  EXPECT_EQ(check.message, "inclusion proof holds");
  inclusion["leafIdx"] = 12;
  check = CheckProofJson(inclusion.dump());
  EXPECT_EQ(check.verdict, ProofVerdict::kFails);
  EXPECT_EQ(check.message.rfind("inclusion proof does not hold: ", 0), 0u)
      << check.message;

  json consistency = {{"size1", 20},
                      {"size2", head.size},
                      {"root1", HashToBase64(*log->RootAt(20))},
                      {"root2", HashToBase64(head.root)},
                      {"proof", json::array()}};
  const std::vector<Hash> consistency_proof = *log->ConsistencyProof(20, head.size);
  for (const Hash& h : consistency_proof) {
    consistency["proof"].push_back(HashToBase64(h));
  }
  EXPECT_EQ(CheckProofJson(consistency.dump()).verdict, ProofVerdict::kHolds);
  consistency["size1"] = 21;
  EXPECT_EQ(CheckProofJson(consistency.dump()).verdict, ProofVerdict::kFails);
}

TEST(CheckProof, MalformedInput) {
  const std::string root = HashToBase64(EmptyRoot());
  for (const std::string& bad : {
           std::string("not json"),
           std::string("[1,2]"),
           std::string("{}"),
           std::string(R"({"leafIdx":0,"treeSize":1,"root":")") + root +
               R"(","leafHash":")" + root + R"(","size1":1})",  // both layouts
           std::string(R"({"leafIdx":0,"treeSize":1,"root":")") + root + R"("})",
           std::string(R"({"leafIdx":-1,"treeSize":1,"root":")") + root +
               R"(","leafHash":")" + root + R"("})",
           std::string(R"({"leafIdx":"0","treeSize":1,"root":")") + root +
               R"(","leafHash":")" + root + R"("})",
           std::string(R"({"leafIdx":0.5,"treeSize":1,"root":")") + root +
               R"(","leafHash":")" + root + R"("})",
           std::string(R"({"leafIdx":0,"treeSize":1,"root":"%%%","leafHash":")") + root +
               R"("})",
           std::string(R"({"leafIdx":0,"treeSize":1,"root":")") + root +
               R"(","leafHash":")" + root + R"(","proof":"abc"})",
           std::string(R"({"leafIdx":0,"treeSize":1,"root":")") + root +
               R"(","leafHash":")" + root + R"(","proof":[1]})",
           std::string(R"({"size1":1,"size2":2,"root1":")") + root + R"(","proof":[]})",
       }) {
    const ProofCheck check = CheckProofJson(bad);
    EXPECT_EQ(check.verdict, ProofVerdict::kMalformed) << bad << " -> " << check.message;
    EXPECT_EQ(ExitCode(check.verdict), 2);
  }
  EXPECT_EQ(CheckProofJson(std::string(500000, '[')).verdict, ProofVerdict::kMalformed);
  EXPECT_EQ(CheckProofFile("/nonexistent/proof.json").verdict, ProofVerdict::kMalformed);
  // Well-formed, but a hash of the wrong length: the proof fails.
  const ProofCheck short_hash = CheckProofJson(
      std::string(R"({"leafIdx":0,"treeSize":1,"root":"AAAA","leafHash":")") + root +
      R"("})");
  EXPECT_EQ(short_hash.verdict, ProofVerdict::kFails) << short_hash.message;
}

}  // namespace
}  // namespace privacity::audit
