// C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures.
//
// A signed note is a text ending in '\n', a blank line, and one or more
// signature lines "— <key name> <base64(key ID || signature)>\n" (the dash
// is U+2014 EM DASH). The key ID of an Ed25519 key is the first four bytes,
// big-endian, of SHA-256(key name || 0x0A || 0x01 || 32-byte public key).
// A verifier key is published as "<name>+<8 hex digits of key ID>+<base64
// of 0x01 || public key>", e.g.
//   PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW
//
// Opening a note follows the spec: signatures by unknown keys (name and key
// ID not both matching a known key) are ignored; a signature by a known key
// that does not verify rejects the whole note; a note with no verified
// signature by a known key is rejected.
#ifndef PRIVACITY_AUDIT_NOTE_H_
#define PRIVACITY_AUDIT_NOTE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace privacity::audit {

inline constexpr uint8_t kNoteSignatureTypeEd25519 = 0x01;
inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;
// Bounds on what ParseNote accepts (the spec requires at least 16
// signatures to be accepted).
inline constexpr size_t kMaxNoteSize = 1 << 20;
inline constexpr size_t kMaxNoteSignatures = 100;

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;  // the bytes after the key ID
  bool operator==(const NoteSignature&) const = default;
};

struct Note {
  std::string text;  // ends in '\n'; excludes the blank separator line
  std::vector<NoteSignature> signatures;
};

// OK when `name` is a valid key name: non-empty UTF-8 without Unicode
// spaces, '+' or control characters.
absl::Status ValidateKeyName(absl::string_view name);

// OK when `text` can be the text of a note: non-empty, ending in '\n',
// valid UTF-8, no control characters other than '\n'.
absl::Status ValidateNoteText(absl::string_view text);

// Splits a signed note into text and signature lines, checking the syntax
// (not the signatures). InvalidArgument naming what is malformed.
absl::StatusOr<Note> ParseNote(absl::string_view note);
// The inverse of ParseNote. InvalidArgument for an invalid text or name, or
// no signatures.
absl::StatusOr<std::string> FormatNote(const Note& note);

// The key ID of an Ed25519 key. REQUIRES: public_key is 32 bytes.
uint32_t Ed25519KeyId(absl::string_view name, absl::string_view public_key);

// "<name>+<hex key ID>+<base64(0x01 || public key)>". InvalidArgument for a
// bad name or a key that is not 32 bytes.
absl::StatusOr<std::string> FormatVerifierKey(absl::string_view name,
                                              absl::string_view public_key);

class NoteVerifier {
 public:
  // From a verifier key string; InvalidArgument when it is malformed, not
  // Ed25519, or its key ID does not match its name and key.
  static absl::StatusOr<std::unique_ptr<NoteVerifier>> FromVerifierKey(
      absl::string_view verifier_key);
  // From a name and a raw 32-byte Ed25519 public key.
  static absl::StatusOr<std::unique_ptr<NoteVerifier>> Create(
      absl::string_view name, absl::string_view public_key);
  ~NoteVerifier();

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  const std::string& public_key() const { return public_key_; }
  std::string verifier_key() const;

  // True when `signature` (without the key ID) is a valid Ed25519 signature
  // of `text` by this key.
  bool Verify(absl::string_view text, absl::string_view signature) const;

 private:
  struct Key;
  NoteVerifier(std::string name, std::string public_key, std::unique_ptr<Key> key);
  std::string name_;
  std::string public_key_;
  uint32_t key_id_;
  std::unique_ptr<Key> key_;
};

class NoteSigner {
 public:
  // `seed` is the 32-byte Ed25519 private key of RFC 8032 (the keyring's
  // kLogSigning key). The signer keeps it inside OpenSSL only.
  static absl::StatusOr<std::unique_ptr<NoteSigner>> Create(absl::string_view name,
                                                            absl::string_view seed);
  ~NoteSigner();

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  const std::string& public_key() const { return public_key_; }
  std::string verifier_key() const;
  // A verifier for this signer's key.
  absl::StatusOr<std::unique_ptr<NoteVerifier>> Verifier() const;

  // Signs `text` (see ValidateNoteText). Ed25519 is deterministic: the same
  // text always gets the same signature.
  absl::StatusOr<NoteSignature> Sign(absl::string_view text) const;

 private:
  struct Key;
  NoteSigner(std::string name, std::string public_key, std::unique_ptr<Key> key);
  std::string name_;
  std::string public_key_;
  uint32_t key_id_;
  std::unique_ptr<Key> key_;
};

// The signed note of `text` with one signature by `signer`.
absl::StatusOr<std::string> SignNote(absl::string_view text, const NoteSigner& signer);

struct OpenedNote {
  std::string text;
  std::vector<NoteSignature> verified;  // signatures by known keys, all valid
};

// Parses and verifies `note` against the known keys `verifiers`.
// InvalidArgument when malformed; Unauthenticated when a known key's
// signature does not verify or no known key signed it.
absl::StatusOr<OpenedNote> OpenNote(absl::string_view note,
                                    absl::Span<const NoteVerifier* const> verifiers);

}  // namespace privacity::audit

#endif  // PRIVACITY_AUDIT_NOTE_H_
