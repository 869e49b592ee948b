#include "audit/note.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "audit/merkle.h"
#include "common/encoding.h"
#include "common/status_macros.h"

namespace privacity::audit {
namespace {

// U+2014 EM DASH, then a space.
constexpr absl::string_view kSignaturePrefix = "\xe2\x80\x94 ";

// Unicode White_Space (what Go's unicode.IsSpace accepts).
bool IsUnicodeSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Code points of valid UTF-8.
std::vector<uint32_t> CodePoints(absl::string_view s) {
  std::vector<uint32_t> out;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = p[i];
    if (c < 0x80) {
      out.push_back(c);
      i += 1;
    } else if ((c & 0xE0) == 0xC0) {
      out.push_back((c & 0x1Fu) << 6 | (p[i + 1] & 0x3Fu));
      i += 2;
    } else if ((c & 0xF0) == 0xE0) {
      out.push_back((c & 0x0Fu) << 12 | (p[i + 1] & 0x3Fu) << 6 | (p[i + 2] & 0x3Fu));
      i += 3;
    } else {
      out.push_back((c & 0x07u) << 18 | (p[i + 1] & 0x3Fu) << 12 |
                    (p[i + 2] & 0x3Fu) << 6 | (p[i + 3] & 0x3Fu));
      i += 4;
    }
  }
  return out;
}

absl::StatusOr<std::string> StrictBase64Decode(absl::string_view text,
                                               absl::string_view what) {
  absl::StatusOr<std::string> bytes = Base64Decode(text);
  if (!bytes.ok() || Base64Encode(*bytes) != text) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is not canonical padded base64"));
  }
  return bytes;
}

uint32_t BigEndian32(absl::string_view b) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

std::string BigEndianBytes(uint32_t v) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (24 - 8 * i));
  return out;
}

std::string Hex32(uint32_t v) { return HexEncode(BigEndianBytes(v)); }

}  // namespace

absl::Status ValidateKeyName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("key name is empty");
  if (!IsValidUtf8(name))
    return absl::InvalidArgumentError("key name is not valid UTF-8");
  for (const uint32_t cp : CodePoints(name)) {
    if (cp == '+') return absl::InvalidArgumentError("key name contains '+'");
    if (IsUnicodeSpace(cp) || cp < 0x20 || cp == 0x7F) {
      return absl::InvalidArgumentError("key name contains a space or control character");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateNoteText(absl::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("note text must end in a newline");
  }
  if (!IsValidUtf8(text))
    return absl::InvalidArgumentError("note text is not valid UTF-8");
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') {
      return absl::InvalidArgumentError("note text contains a control character");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Note> ParseNote(absl::string_view note) {
  if (note.size() > kMaxNoteSize) return absl::InvalidArgumentError("note is too large");
  if (!IsValidUtf8(note)) return absl::InvalidArgumentError("note is not valid UTF-8");
  for (const char c : note) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') {
      return absl::InvalidArgumentError("note contains a control character");
    }
  }
  // The text ends at the last blank line.
  const size_t split = note.rfind("\n\n");
  if (split == absl::string_view::npos) {
    return absl::InvalidArgumentError("note has no blank line before its signatures");
  }
  Note out;
  out.text = std::string(note.substr(0, split + 1));
  absl::string_view sigs = note.substr(split + 2);
  if (sigs.empty()) return absl::InvalidArgumentError("note has no signatures");
  if (sigs.back() != '\n') {
    return absl::InvalidArgumentError("note does not end in a newline");
  }
  sigs.remove_suffix(1);
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(sigs, '\n')) {
    ++line_number;
    const std::string where = absl::StrCat("signature line ", line_number);
    if (out.signatures.size() >= kMaxNoteSignatures) {
      return absl::InvalidArgumentError("note has too many signatures");
    }
    if (!absl::ConsumePrefix(&line, kSignaturePrefix)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " does not start with an em dash and a space"));
    }
    const size_t space = line.find(' ');
    if (space == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(where, " has no signature"));
    }
    NoteSignature sig;
    sig.name = std::string(line.substr(0, space));
    if (absl::Status s = ValidateKeyName(sig.name); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", s.message()));
    }
    ASSIGN_OR_RETURN(const std::string blob,
                     StrictBase64Decode(line.substr(space + 1), where));
    if (blob.size() <= 4) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " has a signature too short"));
    }
    sig.key_id = BigEndian32(blob);
    sig.signature = blob.substr(4);
    out.signatures.push_back(std::move(sig));
  }
  return out;
}

absl::StatusOr<std::string> FormatNote(const Note& note) {
  RETURN_IF_ERROR(ValidateNoteText(note.text));
  if (note.signatures.empty())
    return absl::InvalidArgumentError("note has no signatures");
  std::string out = note.text;
  out += '\n';
  for (const NoteSignature& sig : note.signatures) {
    RETURN_IF_ERROR(ValidateKeyName(sig.name));
    if (sig.signature.empty()) return absl::InvalidArgumentError("empty signature");
    absl::StrAppend(&out, kSignaturePrefix, sig.name, " ",
                    Base64Encode(BigEndianBytes(sig.key_id) + sig.signature), "\n");
  }
  return out;
}

uint32_t Ed25519KeyId(absl::string_view name, absl::string_view public_key) {
  std::string input(name);
  input += '\n';
  input += static_cast<char>(kNoteSignatureTypeEd25519);
  input.append(public_key.data(), public_key.size());
  const Hash digest = Sha256Digest(input);
  return BigEndian32(HashBytes(digest));
}

absl::StatusOr<std::string> FormatVerifierKey(absl::string_view name,
                                              absl::string_view public_key) {
  RETURN_IF_ERROR(ValidateKeyName(name));
  if (public_key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError("an Ed25519 public key must be 32 bytes");
  }
  std::string typed(1, static_cast<char>(kNoteSignatureTypeEd25519));
  typed.append(public_key.data(), public_key.size());
  return absl::StrCat(name, "+", Hex32(Ed25519KeyId(name, public_key)), "+",
                      Base64Encode(typed));
}

// --- NoteVerifier ------------------------------------------------------------

struct NoteVerifier::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

NoteVerifier::NoteVerifier(std::string name, std::string public_key,
                           std::unique_ptr<Key> key)
    : name_(std::move(name)),
      public_key_(std::move(public_key)),
      key_id_(Ed25519KeyId(name_, public_key_)),
      key_(std::move(key)) {}

NoteVerifier::~NoteVerifier() = default;

absl::StatusOr<std::unique_ptr<NoteVerifier>> NoteVerifier::Create(
    absl::string_view name, absl::string_view public_key) {
  RETURN_IF_ERROR(ValidateKeyName(name));
  if (public_key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError("an Ed25519 public key must be 32 bytes");
  }
  auto key = std::make_unique<Key>();
  key->pkey = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(public_key.data()), public_key.size());
  if (key->pkey == nullptr) {
    return absl::InvalidArgumentError("OpenSSL rejects the Ed25519 public key");
  }
  return std::unique_ptr<NoteVerifier>(
      new NoteVerifier(std::string(name), std::string(public_key), std::move(key)));
}

absl::StatusOr<std::unique_ptr<NoteVerifier>> NoteVerifier::FromVerifierKey(
    absl::string_view verifier_key) {
  // The name and the key ID contain no '+'; the base64 may.
  const size_t first = verifier_key.find('+');
  if (first == absl::string_view::npos) {
    return absl::InvalidArgumentError("verifier key has no '+' after the name");
  }
  const size_t second = verifier_key.find('+', first + 1);
  if (second == absl::string_view::npos) {
    return absl::InvalidArgumentError("verifier key has no '+' after the key ID");
  }
  const absl::string_view name = verifier_key.substr(0, first);
  const absl::string_view id_hex = verifier_key.substr(first + 1, second - first - 1);
  const absl::string_view key64 = verifier_key.substr(second + 1);
  if (absl::Status s = ValidateKeyName(name); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("verifier key: ", s.message()));
  }
  absl::StatusOr<std::string> id_bytes = HexDecode(id_hex);
  if (id_hex.size() != 8 || !id_bytes.ok()) {
    return absl::InvalidArgumentError("verifier key ID is not 8 hex digits");
  }
  ASSIGN_OR_RETURN(const std::string typed, StrictBase64Decode(key64, "verifier key"));
  const absl::string_view key_bytes = typed;
  if (key_bytes.size() != 1 + kEd25519PublicKeySize ||
      static_cast<uint8_t>(key_bytes.front()) != kNoteSignatureTypeEd25519) {
    return absl::InvalidArgumentError(
        "verifier key is not a 32-byte Ed25519 key (type 0x01)");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<NoteVerifier> verifier,
                   Create(name, key_bytes.substr(1)));
  if (verifier->key_id() != BigEndian32(*id_bytes)) {
    return absl::InvalidArgumentError("verifier key ID does not match its name and key");
  }
  return verifier;
}

std::string NoteVerifier::verifier_key() const {
  return FormatVerifierKey(name_, public_key_).value();
}

bool NoteVerifier::Verify(absl::string_view text, absl::string_view signature) const {
  if (signature.size() != kEd25519SignatureSize) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key_->pkey) == 1 &&
      EVP_DigestVerify(
          ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
          reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// --- NoteSigner --------------------------------------------------------------

struct NoteSigner::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

NoteSigner::NoteSigner(std::string name, std::string public_key, std::unique_ptr<Key> key)
    : name_(std::move(name)),
      public_key_(std::move(public_key)),
      key_id_(Ed25519KeyId(name_, public_key_)),
      key_(std::move(key)) {}

NoteSigner::~NoteSigner() = default;

absl::StatusOr<std::unique_ptr<NoteSigner>> NoteSigner::Create(absl::string_view name,
                                                               absl::string_view seed) {
  RETURN_IF_ERROR(ValidateKeyName(name));
  if (seed.size() != kEd25519SeedSize) {
    return absl::InvalidArgumentError("an Ed25519 private key must be 32 bytes");
  }
  auto key = std::make_unique<Key>();
  key->pkey = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()),
      seed.size());
  if (key->pkey == nullptr) {
    return absl::InternalError("OpenSSL cannot load the Ed25519 private key");
  }
  std::string public_key(kEd25519PublicKeySize, '\0');
  size_t len = public_key.size();
  if (EVP_PKEY_get_raw_public_key(
          key->pkey, reinterpret_cast<unsigned char*>(public_key.data()), &len) != 1 ||
      len != kEd25519PublicKeySize) {
    return absl::InternalError("OpenSSL cannot derive the Ed25519 public key");
  }
  return std::unique_ptr<NoteSigner>(
      new NoteSigner(std::string(name), std::move(public_key), std::move(key)));
}

std::string NoteSigner::verifier_key() const {
  return FormatVerifierKey(name_, public_key_).value();
}

absl::StatusOr<std::unique_ptr<NoteVerifier>> NoteSigner::Verifier() const {
  return NoteVerifier::Create(name_, public_key_);
}

absl::StatusOr<NoteSignature> NoteSigner::Sign(absl::string_view text) const {
  RETURN_IF_ERROR(ValidateNoteText(text));
  std::string signature(kEd25519SignatureSize, '\0');
  size_t len = signature.size();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return absl::InternalError("OpenSSL is out of memory");
  const bool ok =
      EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_->pkey) == 1 &&
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(text.data()),
                     text.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || len != kEd25519SignatureSize) {
    return absl::InternalError("Ed25519 signing failed");
  }
  return NoteSignature{name_, key_id_, std::move(signature)};
}

absl::StatusOr<std::string> SignNote(absl::string_view text, const NoteSigner& signer) {
  ASSIGN_OR_RETURN(NoteSignature sig, signer.Sign(text));
  Note note;
  note.text = std::string(text);
  note.signatures.push_back(std::move(sig));
  return FormatNote(note);
}

absl::StatusOr<OpenedNote> OpenNote(absl::string_view note,
                                    absl::Span<const NoteVerifier* const> verifiers) {
  ASSIGN_OR_RETURN(Note parsed, ParseNote(note));
  OpenedNote out;
  for (const NoteSignature& sig : parsed.signatures) {
    const NoteVerifier* known = nullptr;
    for (const NoteVerifier* v : verifiers) {
      if (v != nullptr && v->name() == sig.name && v->key_id() == sig.key_id) known = v;
    }
    if (known == nullptr) continue;  // unknown keys are ignored
    if (!known->Verify(parsed.text, sig.signature)) {
      return absl::UnauthenticatedError(absl::StrCat(
          "the signature by key ", sig.name, "+", Hex32(sig.key_id), " does not verify"));
    }
    out.verified.push_back(sig);
  }
  if (out.verified.empty()) {
    return absl::UnauthenticatedError("the note is not signed by any known key");
  }
  out.text = std::move(parsed.text);
  return out;
}

}  // namespace privacity::audit
