// The keyring: every key privacity uses, stored wrapped (AES-256-GCM) under
// the master key, created on demand and destroyable for good.
//
// Destroying a key deletes its wrapped bytes from the store; because every
// key is random (never derived from the master key), nothing can recreate
// it. That is how unlinkability of old epochs and erasure become real.
#ifndef PRIVACITY_CRYPTO_KEYRING_H_
#define PRIVACITY_CRYPTO_KEYRING_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/clock.h"
#include "common/random.h"
#include "crypto/crypto.h"
#include "crypto/key_store.h"

namespace privacity::crypto {

// The 32-byte master key.
//   CreateMasterKeyFile writes a new random key (32 raw bytes) to `path` with
//   mode 0600, syncs the file and its directory, and fails with
//   AlreadyExists if the file exists (it never replaces a key).
//   LoadMasterKey reads it, refusing (PermissionDenied, telling to run
//   chmod 600) a file whose mode gives group or others any permission, and
//   (InvalidArgument) a file that is not exactly 32 bytes long; NotFound when
//   the file is missing. When the environment variable PRIVACITY_MASTER_KEY
//   is set and non-empty it is used instead of the file, and must hold
//   exactly 64 hex digits (InvalidArgument otherwise). This is the only
//   place the environment is read.
absl::Status CreateMasterKeyFile(const std::string& path, RandomSource& random);
absl::StatusOr<SecretBytes> LoadMasterKey(const std::string& path);

// Told of every key the keyring creates or destroys, so the transparency log
// can record key events (crypto cannot depend on the audit module). Called
// on the caller's thread after the store committed the change; a non-OK
// status is returned to the keyring's caller, the key change staying done.
// `name` may hold a subject's blind index: a listener must not record it.
class KeyEventListener {
 public:
  enum class Event { kCreated, kDestroyed };
  virtual ~KeyEventListener() = default;
  virtual absl::Status OnKeyEvent(Event event, const KeyName& name, int64_t id) = 0;
};

struct UnwrappedKey {
  int64_t id = 0;
  KeyName name;
  SecretBytes key;  // 32 bytes
};

// Key names are validated: each kind uses only its own coordinates and the
// others must be empty / 0. kIndex, kClaim and kLogSigning use none;
// kPseudonym needs a scope (stream id) and an epoch >= 0; kSubjectDek needs
// those and a subject. A bad name is InvalidArgument.
//
// The keyring keeps no cache, so a destroyed key is never handed out again;
// callers that cache keys check KeyChanges before each use. It is
// thread-safe when the KeyStore is.
class Keyring {
 public:
  // InvalidArgument unless master_key.size() == 32.
  // REQUIRES: `store`, `random` and `clock` outlive the keyring.
  static absl::StatusOr<std::unique_ptr<Keyring>> Create(const SecretBytes& master_key,
                                                         KeyStore& store,
                                                         RandomSource& random,
                                                         Clock& clock);

  // The key with this name, creating a random one when none exists. When two
  // callers race, both get the one the store kept. After Destroy, this
  // creates a new, unrelated key.
  absl::StatusOr<UnwrappedKey> GetOrCreate(const KeyName& name);
  // GetOrCreate for many names at once: one key per name, in order (a name
  // given twice gets the same key twice). The store is asked once for all
  // the names (KeyStore::FindKeys) and once more, only when some are
  // missing, to insert those (KeyStore::InsertKeysIfAbsent), so a batch of
  // new subjects costs two round trips to a database instead of two or
  // three per subject. Creations are reported as by GetOrCreate, once per
  // key this call created; a listener's error is returned after every
  // creation was reported.
  absl::StatusOr<std::vector<UnwrappedKey>> GetOrCreateAll(
      absl::Span<const KeyName> names);
  // The key with this name, or NotFound (e.g. after destruction).
  absl::StatusOr<UnwrappedKey> Get(const KeyName& name);
  // The key with this id, or NotFound (e.g. after destruction).
  absl::StatusOr<UnwrappedKey> GetById(int64_t id);
  // Destroys the key for good. NotFound when absent.
  absl::Status Destroy(int64_t id);
  // Re-wraps key `id` under `new_name` (same kind, scope and epoch; only the
  // subject may change) and stores it in place of the old name and bytes.
  // The key itself is unchanged, so what it sealed still opens by id.
  // InvalidArgument when more than the subject changes; NotFound when the
  // key is gone; AlreadyExists when `new_name` is taken.
  absl::Status Rename(int64_t id, const KeyName& new_name);
  // The store's count of destroyed and renamed keys (KeyStore::KeyChanges),
  // for callers that cache what this keyring returns.
  absl::StatusOr<int64_t> KeyChanges() { return store_.KeyChanges(); }

  // Reports each key created (by GetOrCreate, only by the caller whose key
  // the store kept) and destroyed from now on; nullptr stops reporting.
  // REQUIRES: `listener` outlives its registration.
  void SetListener(KeyEventListener* listener) { listener_.store(listener); }

  // Get, GetOrCreate and GetById return DataLoss when the stored bytes do
  // not verify under the master key (wrong master key, altered bytes, or
  // bytes moved from another key's row).

 private:
  Keyring(std::unique_ptr<Aead> wrapper, KeyStore& store, RandomSource& random,
          Clock& clock);
  absl::StatusOr<UnwrappedKey> Unwrap(const WrappedKey& wrapped) const;

  std::unique_ptr<Aead> wrapper_;
  KeyStore& store_;
  RandomSource& random_;
  Clock& clock_;
  std::atomic<KeyEventListener*> listener_{nullptr};
};

// The associated data that binds a wrapped key to its name, so a wrapped
// key cannot be moved to another name. Canonical and injective: a versioned
// label, the kind, scope, epoch and subject, each fixed-width (64-bit
// big-endian) or length-prefixed (64-bit big-endian length).
std::string WrapAssociatedData(const KeyName& name);

}  // namespace privacity::crypto

#endif  // PRIVACITY_CRYPTO_KEYRING_H_
