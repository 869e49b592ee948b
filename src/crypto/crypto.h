// Primitives over OpenSSL 3 EVP. Byte strings are std::string.
#ifndef PRIVACITY_CRYPTO_CRYPTO_H_
#define PRIVACITY_CRYPTO_CRYPTO_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/random.h"

namespace privacity::crypto {

inline constexpr size_t kKeySize = 32;

// Key bytes that are wiped (OPENSSL_cleanse) when destroyed.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string bytes) : bytes_(std::move(bytes)) {}
  SecretBytes(const SecretBytes&) = default;
  SecretBytes& operator=(const SecretBytes&) = default;
  SecretBytes(SecretBytes&&) noexcept = default;
  SecretBytes& operator=(SecretBytes&&) noexcept = default;
  ~SecretBytes();
  absl::string_view view() const { return bytes_; }
  size_t size() const { return bytes_.size(); }

 private:
  std::string bytes_;
};

// SHA-256 digest (32 bytes).
std::string Sha256(absl::string_view data);

// HMAC-SHA256 with the key schedule computed once; Mac() is cheap and
// thread-safe (each call works on a copy of the keyed state).
class HmacSha256 {
 public:
  static absl::StatusOr<std::unique_ptr<HmacSha256>> Create(const SecretBytes& key);
  ~HmacSha256();
  std::string Mac(absl::string_view data) const;  // 32 bytes

 private:
  struct State;
  explicit HmacSha256(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Constant-time comparison of two byte strings (length is not secret).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// AES-256-GCM. Sealed form: 12-byte random nonce || ciphertext || 16-byte
// tag. Associated data is authenticated, not stored.
class Aead {
 public:
  static absl::StatusOr<std::unique_ptr<Aead>> Create(const SecretBytes& key);
  ~Aead();
  absl::StatusOr<std::string> Seal(absl::string_view plaintext,
                                   absl::string_view associated_data,
                                   RandomSource& random) const;
  // DataLoss when the tag does not verify (wrong key, tampering or wrong
  // associated data).
  absl::StatusOr<std::string> Open(absl::string_view sealed,
                                   absl::string_view associated_data) const;

 private:
  struct State;
  explicit Aead(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace privacity::crypto

#endif  // PRIVACITY_CRYPTO_CRYPTO_H_
