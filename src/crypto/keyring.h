// The keyring: every key privacity uses, stored wrapped (AES-256-GCM) under
// the master key, created on demand and destroyable for good.
//
// Destroying a key deletes its wrapped bytes from the store; because every
// key is random (never derived from the master key), nothing can recreate
// it. That is how unlinkability of old epochs and erasure become real.
#ifndef PRIVACITY_CRYPTO_KEYRING_H_
#define PRIVACITY_CRYPTO_KEYRING_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/random.h"
#include "crypto/crypto.h"
#include "crypto/key_store.h"

namespace privacity::crypto {

// The 32-byte master key.
//   CreateMasterKeyFile writes a new random key to `path` with mode 0600 and
//   fails if the file exists.
//   LoadMasterKey reads it, refusing a file readable or writable by group or
//   others; when the environment variable PRIVACITY_MASTER_KEY holds 64 hex
//   digits, that is used instead of the file.
absl::Status CreateMasterKeyFile(const std::string& path, RandomSource& random);
absl::StatusOr<SecretBytes> LoadMasterKey(const std::string& path);

struct UnwrappedKey {
  int64_t id = 0;
  KeyName name;
  SecretBytes key;  // 32 bytes
};

class Keyring {
 public:
  // REQUIRES: master_key.size() == 32; `store`, `random` and `clock` outlive
  // the keyring.
  static absl::StatusOr<std::unique_ptr<Keyring>> Create(
      const SecretBytes& master_key, KeyStore& store, RandomSource& random,
      Clock& clock);

  // The key with this name, creating a random one when none exists.
  absl::StatusOr<UnwrappedKey> GetOrCreate(const KeyName& name);
  // The key with this name, or NotFound (e.g. after destruction).
  absl::StatusOr<UnwrappedKey> Get(const KeyName& name);
  absl::StatusOr<UnwrappedKey> GetById(int64_t id);
  // Destroys the key for good.
  absl::Status Destroy(int64_t id);

 private:
  Keyring(std::unique_ptr<Aead> wrapper, KeyStore& store, RandomSource& random,
          Clock& clock);
  absl::StatusOr<UnwrappedKey> Unwrap(const WrappedKey& wrapped) const;

  std::unique_ptr<Aead> wrapper_;
  KeyStore& store_;
  RandomSource& random_;
  Clock& clock_;
};

// The associated data that binds a wrapped key to its name, so a wrapped
// key cannot be moved to another name.
std::string WrapAssociatedData(const KeyName& name);

}  // namespace privacity::crypto

#endif  // PRIVACITY_CRYPTO_KEYRING_H_
