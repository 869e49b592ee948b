#include "audit/note.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/encoding.h"
#include "common/random.h"
#include "gtest/gtest.h"

namespace privacity::audit {
namespace {

// The example key and note of golang.org/x/mod/sumdb/note (BSD-3-Clause),
// the reference implementation of signed notes: signing with its private
// key must reproduce its published note byte for byte.
constexpr char kGoSignerKey[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr char kGoVerifierKey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr char kGoText[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr char kGoNote[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

std::string GoSeed() {
  // "PRIVATE+KEY+<name>+<id>+" then base64(0x01 || seed).
  const std::string key64 = std::string(kGoSignerKey).substr(34);
  const std::string typed = *Base64Decode(key64);
  EXPECT_EQ(typed.size(), 33u);
  EXPECT_EQ(typed[0], '\x01');
  return typed.substr(1);
}

std::unique_ptr<NoteSigner> TestSigner(absl::string_view name, uint64_t seed) {
  InsecureDeterministicRandomForTesting random(seed);
  return *NoteSigner::Create(name, random.Bytes(32));
}

TEST(Note, ReproducesTheGoReferenceNote) {
  auto signer = NoteSigner::Create("PeterNeumann", GoSeed());
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ((*signer)->verifier_key(), kGoVerifierKey);
  EXPECT_EQ((*signer)->key_id(), 0xc74f20a3u);
  auto note = SignNote(kGoText, **signer);
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(*note, kGoNote);

  auto verifier = NoteVerifier::FromVerifierKey(kGoVerifierKey);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  const NoteVerifier* keys[] = {verifier->get()};
  auto opened = OpenNote(kGoNote, keys);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->text, kGoText);
  ASSERT_EQ(opened->verified.size(), 1u);
  EXPECT_EQ(opened->verified[0].name, "PeterNeumann");
}

TEST(Note, RejectsTamperedText) {
  auto verifier = *NoteVerifier::FromVerifierKey(kGoVerifierKey);
  const NoteVerifier* keys[] = {verifier.get()};
  const std::string tampered =
      absl::StrReplaceAll(kGoNote, {{"cryptography", "cryptographY"}});
  const auto opened = OpenNote(tampered, keys);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(opened.status().message().find("does not verify"), std::string::npos);
}

TEST(Note, UnknownKeysAreIgnoredButSomeKnownKeyMustSign) {
  auto log = TestSigner("city.example/log", 1);
  auto witness = TestSigner("witness.example", 2);
  auto log_key = *log->Verifier();
  auto witness_key = *witness->Verifier();
  const std::string text = "hello\n";
  Note both;
  both.text = text;
  both.signatures = {*witness->Sign(text), *log->Sign(text)};
  const std::string note = *FormatNote(both);

  const NoteVerifier* only_log[] = {log_key.get()};
  auto opened = OpenNote(note, only_log);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->verified.size(), 1u);
  const NoteVerifier* both_keys[] = {log_key.get(), witness_key.get()};
  EXPECT_EQ(OpenNote(note, both_keys)->verified.size(), 2u);

  // Signed only by keys we do not know.
  auto stranger = *TestSigner("stranger.example", 3)->Verifier();
  const NoteVerifier* unknown[] = {stranger.get()};
  EXPECT_EQ(OpenNote(note, unknown).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(OpenNote(note, {}).status().code(), absl::StatusCode::kUnauthenticated);

  // Same name, other key (so another key ID): ignored, so not signed.
  auto impostor = *TestSigner("city.example/log", 4)->Verifier();
  const NoteVerifier* wrong_id[] = {impostor.get()};
  EXPECT_EQ(OpenNote(*SignNote(text, *log), wrong_id).status().code(),
            absl::StatusCode::kUnauthenticated);

  // A known key's bad signature rejects the note even beside a good one.
  Note bad = both;
  bad.signatures[0].signature[5] ^= 1;
  EXPECT_EQ(OpenNote(*FormatNote(bad), both_keys).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(Note, TextMayContainBlankLines) {
  auto signer = TestSigner("a.example", 9);
  auto verifier = *signer->Verifier();
  const NoteVerifier* keys[] = {verifier.get()};
  const std::string text = "one\n\ntwo\n";
  auto opened = OpenNote(*SignNote(text, *signer), keys);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->text, text);
}

TEST(Note, RejectsMalformedNotes) {
  const std::string sig_line =
      "\xe2\x80\x94 PeterNeumann "
      "x08go/ZJkuBS9UG/"
      "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
  const std::string text = kGoText;
  for (const std::string& bad : {
           text + sig_line,                                        // no blank line
           text + "\n",                                            // no signatures
           text + "\n" + sig_line.substr(0, sig_line.size() - 1),  // no final newline
           text + "\n" + absl::StrReplaceAll(sig_line, {{"\xe2\x80\x94", "-"}}),
           text + "\n" + absl::StrReplaceAll(sig_line, {{"x08go", "x08g!"}}),
           text + "\n" + absl::StrReplaceAll(sig_line, {{"AM=", "AM"}}),  // unpadded
           text + "\n" + "\xe2\x80\x94 PeterNeumann AAAA\n",  // no signature after ID
           text + "\n" + "\xe2\x80\x94 PeterNeumann\n",
           text + "\n" + "\xe2\x80\x94 Peter+Neumann AAAAAAA=\n",
           "tab\there\n\n" + sig_line,  // control character
           "bad \xff utf8\n\n" + sig_line,
       }) {
    EXPECT_EQ(ParseNote(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  // A blank line among signature lines makes what precedes it note text.
  const Note shifted = *ParseNote(text + "\n" + sig_line + "\n" + sig_line);
  EXPECT_EQ(shifted.text, text + "\n" + sig_line);
  EXPECT_EQ(shifted.signatures.size(), 1u);
  std::string many = text + "\n";
  for (size_t i = 0; i <= kMaxNoteSignatures; ++i) many += sig_line;
  EXPECT_FALSE(ParseNote(many).ok());
  std::string sixteen = text + "\n";
  for (int i = 0; i < 16; ++i) sixteen += sig_line;
  EXPECT_EQ(ParseNote(sixteen)->signatures.size(), 16u);
}

TEST(Note, KeyNames) {
  EXPECT_TRUE(ValidateKeyName("example.com/log42").ok());
  EXPECT_TRUE(ValidateKeyName("caf\u00e9.example").ok());
  for (const char* bad : {"", "a b", "a+b", "a\u3000b", "a\u00a0b", "a\nb", "\xff"}) {
    EXPECT_FALSE(ValidateKeyName(bad).ok()) << bad;
  }
  EXPECT_FALSE(NoteSigner::Create("a b", std::string(32, 'k')).ok());
  EXPECT_FALSE(NoteSigner::Create("ok", std::string(31, 'k')).ok());
}

TEST(VerifierKey, FormatAndParse) {
  auto signer = TestSigner("city.example/log", 5);
  const std::string vkey = signer->verifier_key();
  ASSERT_TRUE(absl::StartsWith(vkey, "city.example/log+"));
  auto verifier = NoteVerifier::FromVerifierKey(vkey);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_EQ((*verifier)->name(), "city.example/log");
  EXPECT_EQ((*verifier)->public_key(), signer->public_key());
  EXPECT_EQ((*verifier)->key_id(), signer->key_id());
  EXPECT_EQ((*verifier)->verifier_key(), vkey);
  EXPECT_EQ(*FormatVerifierKey("city.example/log", signer->public_key()), vkey);
  EXPECT_EQ(Ed25519KeyId("city.example/log", signer->public_key()), signer->key_id());

  // The Go verifier key with an upper-case key ID still parses.
  EXPECT_TRUE(NoteVerifier::FromVerifierKey(
                  "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
                  .ok());
  for (const char* bad : {
           "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  // wrong
                                                                                  // ID
           "PeterNeumenn+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  // wrong
                                                                                  // name
           "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",  // wrong
                                                                                  // key
           "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",   // short
           "PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",    // short
                                                                                  // ID
           "PeterNeumann+c74f20a3", "PeterNeumann",
           "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
           "PeterNeumann+c74f20a3+AhpcZ2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  // type
                                                                                   // 2
       }) {
    EXPECT_FALSE(NoteVerifier::FromVerifierKey(bad).ok()) << bad;
  }
  // Every proper substring of the key is rejected.
  const std::string go = kGoVerifierKey;
  for (size_t i = 0; i < go.size(); ++i) {
    for (size_t j = i + 1; j <= go.size(); ++j) {
      if (i == 0 && j == go.size()) continue;
      EXPECT_FALSE(NoteVerifier::FromVerifierKey(go.substr(i, j - i)).ok())
          << go.substr(i, j - i);
    }
  }
}

}  // namespace
}  // namespace privacity::audit
