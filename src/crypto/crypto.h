// Primitives over OpenSSL 3 EVP. Byte strings are std::string.
#ifndef PRIVACITY_CRYPTO_CRYPTO_H_
#define PRIVACITY_CRYPTO_CRYPTO_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/random.h"

namespace privacity::crypto {

inline constexpr size_t kKeySize = 32;

// Key bytes that are wiped (OPENSSL_cleanse) when destroyed. Assignment and
// moves wipe the buffer they leave behind too (including a moved-from
// object's short-string buffer), so no copy of the key outlives its owners.
// The std::string handed to the constructor is moved in; copies the caller
// made before are the caller's to wipe.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string bytes) : bytes_(std::move(bytes)) {}
  SecretBytes(const SecretBytes& other);
  SecretBytes& operator=(const SecretBytes& other);
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();
  absl::string_view view() const { return bytes_; }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

 private:
  std::string bytes_;
};

inline constexpr size_t kSha256Size = 32;

// SHA-256 digest (32 bytes). Aborts the process if OpenSSL fails (only on
// allocation failure): a wrong digest is never returned.
std::string Sha256(absl::string_view data);

// HMAC-SHA256 (RFC 2104) with the key schedule computed once: Create absorbs
// key^ipad and key^opad into two hash states; Mac() copies them, so it is
// cheap (two compression calls for short messages) and thread-safe.
class HmacSha256 {
 public:
  // Any non-empty key; keys longer than 64 bytes are hashed first, as HMAC
  // specifies. InvalidArgument for an empty key.
  static absl::StatusOr<std::unique_ptr<HmacSha256>> Create(const SecretBytes& key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  // The 32-byte tag of `data`. Safe to call from many threads at once.
  // Aborts the process if OpenSSL fails (only on allocation failure).
  std::string Mac(absl::string_view data) const;

 private:
  struct State;
  explicit HmacSha256(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Constant-time comparison of two byte strings (length is not secret).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// AES-256-GCM. Sealed form: 12-byte random nonce || ciphertext || 16-byte
// tag. Associated data is authenticated, not stored.
//
// Nonces are random, so one key should seal well under 2^32 messages (the
// NIST SP 800-38D bound for random 96-bit nonces); keyring keys are per
// subject and epoch, far below that. Seal and Open are thread-safe.
class Aead {
 public:
  static constexpr size_t kNonceSize = 12;
  static constexpr size_t kTagSize = 16;
  static constexpr size_t kOverhead = kNonceSize + kTagSize;

  // InvalidArgument unless key.size() == kKeySize.
  static absl::StatusOr<std::unique_ptr<Aead>> Create(const SecretBytes& key);
  ~Aead();
  Aead(const Aead&) = delete;
  Aead& operator=(const Aead&) = delete;

  // Draws a fresh nonce from `random`. InvalidArgument for a plaintext
  // beyond GCM's limit (about 64 GiB); Internal if OpenSSL fails.
  absl::StatusOr<std::string> Seal(absl::string_view plaintext,
                                   absl::string_view associated_data,
                                   RandomSource& random) const;
  // InvalidArgument when `sealed` is shorter than kOverhead; DataLoss when
  // the tag does not verify (wrong key, tampering or wrong associated data).
  absl::StatusOr<std::string> Open(absl::string_view sealed,
                                   absl::string_view associated_data) const;

 private:
  struct State;
  explicit Aead(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace privacity::crypto

#endif  // PRIVACITY_CRYPTO_CRYPTO_H_
