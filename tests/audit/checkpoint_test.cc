#include "audit/checkpoint.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "audit/log.h"
#include "audit/test_util.h"
#include "common/random.h"
#include "gtest/gtest.h"

namespace privacity::audit {
namespace {

constexpr char kOrigin[] = "city.example/privacity";

std::unique_ptr<NoteSigner> TestSigner(absl::string_view name, uint64_t seed) {
  InsecureDeterministicRandomForTesting random(seed);
  return *NoteSigner::Create(name, random.Bytes(32));
}

TEST(Checkpoint, FormatAndParse) {
  Checkpoint cp{kOrigin, 20852163, HashLeaf("x"), {}};
  const std::string text = *FormatCheckpoint(cp);
  EXPECT_EQ(text, absl::StrCat(kOrigin, "\n20852163\n", HashToBase64(cp.root), "\n"));
  EXPECT_EQ(*ParseCheckpoint(text), cp);
  cp.extensions = {"ext one", "\u00e9two"};
  const std::string with_ext = *FormatCheckpoint(cp);
  EXPECT_EQ(with_ext, absl::StrCat(text, "ext one\n\u00e9two\n"));
  EXPECT_EQ(*ParseCheckpoint(with_ext), cp);
  cp.size = 0;
  cp.root = EmptyRoot();
  cp.extensions.clear();
  EXPECT_EQ(ParseCheckpoint(*FormatCheckpoint(cp))->size, 0u);
}

TEST(Checkpoint, FormatRejectsBadLines) {
  EXPECT_FALSE(FormatCheckpoint(Checkpoint{"", 1, {}, {}}).ok());
  EXPECT_FALSE(FormatCheckpoint(Checkpoint{"a\nb", 1, {}, {}}).ok());
  EXPECT_FALSE(FormatCheckpoint(Checkpoint{kOrigin, 1, {}, {""}}).ok());
  EXPECT_FALSE(FormatCheckpoint(Checkpoint{kOrigin, 1, {}, {"x\ny"}}).ok());
}

TEST(Checkpoint, ParseRejectsMalformedText) {
  const std::string root = HashToBase64(HashLeaf("x"));
  for (const std::string& bad : {
           absl::StrCat(kOrigin, "\n5\n"),               // no root
           absl::StrCat(kOrigin, "\n05\n", root, "\n"),  // leading zero
           absl::StrCat(kOrigin, "\n-5\n", root, "\n"),
           absl::StrCat(kOrigin, "\n+5\n", root, "\n"),
           absl::StrCat(kOrigin, "\n 5\n", root, "\n"),
           absl::StrCat(kOrigin, "\nfive\n", root, "\n"),
           absl::StrCat(kOrigin, "\n18446744073709551616\n", root, "\n"),  // overflow
           absl::StrCat(kOrigin, "\n4611686018427387905\n", root, "\n"),   // > 2^62
           absl::StrCat(kOrigin, "\n5\n", root.substr(0, 43), "\n"),       // unpadded
           absl::StrCat(kOrigin, "\n5\n", HashToBase64(HashLeaf("x")).substr(4), "\n"),
           absl::StrCat(kOrigin, "\n5\n", root, "\n\next\n"),  // empty extension line
           absl::StrCat(kOrigin, "\n5\n", root),               // no final newline
           absl::StrCat("\n5\n", root, "\n"),                  // empty origin
       }) {
    EXPECT_EQ(ParseCheckpoint(bad).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(Checkpoint, SignOpenAndTamper) {
  auto signer = TestSigner(kOrigin, 11);
  auto key = *NoteVerifier::FromVerifierKey(signer->verifier_key());
  const Checkpoint cp{kOrigin, 1234, HashLeaf("root"), {}};
  const std::string note = *SignCheckpoint(cp, *signer);
  ASSERT_TRUE(
      absl::StartsWith(note, *FormatCheckpoint(cp) + "\n\xe2\x80\x94 " + kOrigin + " "));

  auto opened = OpenCheckpoint(note, *key, kOrigin);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, cp);

  // Wrong origin, other key, tampered size, stripped signature.
  EXPECT_EQ(OpenCheckpoint(note, *key, "other.example/log").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto other = *TestSigner(kOrigin, 12)->Verifier();
  EXPECT_EQ(OpenCheckpoint(note, *other, kOrigin).status().code(),
            absl::StatusCode::kUnauthenticated);
  const std::string bigger = absl::StrReplaceAll(note, {{"\n1234\n", "\n1235\n"}});
  EXPECT_EQ(OpenCheckpoint(bigger, *key, kOrigin).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_FALSE(OpenCheckpoint(*FormatCheckpoint(cp), *key, kOrigin).ok());

  // A checkpoint of another origin signed by a key of the expected name is
  // still refused.
  auto foreign =
      *SignCheckpoint(Checkpoint{"other.example/log", 1, HashLeaf("r"), {}}, *signer);
  EXPECT_EQ(OpenCheckpoint(foreign, *key, kOrigin).status().code(),
            absl::StatusCode::kInvalidArgument);

  // A witness cosignature by an unknown key does not disturb the log's.
  auto witness = TestSigner("witness.example", 13);
  Note parsed = *ParseNote(note);
  parsed.signatures.push_back(*witness->Sign(parsed.text));
  EXPECT_EQ(*OpenCheckpoint(*FormatNote(parsed), *key, kOrigin), cp);
}

// The example of docs/log_format.md section 3, so the document stays true.
TEST(Checkpoint, DocumentationExample) {
  constexpr char kVerifierKey[] =
      "city.example/privacity+5e236b6a+Ae16P6BB+XBn+ZGLnPXOaaVcfFawDK2mrR6mOh8L7YMR";
  constexpr char kNote[] =
      "city.example/privacity\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n"
      "\xe2\x80\x94 city.example/privacity "
      "XiNralzX9Ipjxw+S5LjThezQyaE0hlRoqMIISjh+FV0sYFoVC0EdlVmYeHkbOWSHNpAMvKKoORjITu+"
      "DmZZYLc1yawE=\n";
  const Hash seed = Sha256Digest("privacity documentation example key");
  auto signer = *NoteSigner::Create(kOrigin, HashBytes(seed));
  EXPECT_EQ(signer->verifier_key(), kVerifierKey);
  // The root of the 8 RFC 6962 test leaves.
  const Checkpoint cp{
      kOrigin, 8, *HashFromBase64("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="), {}};
  EXPECT_EQ(*SignCheckpoint(cp, *signer), kNote);
  auto key = *NoteVerifier::FromVerifierKey(kVerifierKey);
  EXPECT_EQ(*OpenCheckpoint(kNote, *key, kOrigin), cp);
}

TEST(Checkpoint, ProofsAgainstSignedCheckpointsOfALog) {
  MemoryLogStorage storage;
  auto log = *Log::Open(storage);
  auto signer = TestSigner(kOrigin, 21);
  auto key = *signer->Verifier();
  std::vector<std::string> notes;
  for (uint64_t i = 0; i < 1000; i += 100) {
    std::vector<std::string> batch;
    for (uint64_t j = i; j < i + 100; ++j) batch.push_back(testing::TestLeaf(j));
    ASSERT_TRUE(log->Append(batch).ok());
    const TreeHead head = log->head();
    notes.push_back(
        *SignCheckpoint(Checkpoint{kOrigin, head.size, head.root, {}}, *signer));
  }
  const Checkpoint first = *OpenCheckpoint(notes[2], *key, kOrigin);
  const Checkpoint last = *OpenCheckpoint(notes.back(), *key, kOrigin);
  EXPECT_EQ(first.size, 300u);
  EXPECT_EQ(last.size, 1000u);
  EXPECT_TRUE(VerifyConsistency(first.size, last.size,
                                *log->ConsistencyProof(first.size, last.size), first.root,
                                last.root)
                  .ok());
  EXPECT_TRUE(VerifyInclusion(257, last.size, HashLeaf(testing::TestLeaf(257)),
                              *log->InclusionProof(257, last.size), last.root)
                  .ok());
}

}  // namespace
}  // namespace privacity::audit
