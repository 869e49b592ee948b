// Persistence of wrapped keys. The keyring (crypto/keyring.h) wraps and
// unwraps; a KeyStore only keeps the wrapped bytes. The store module
// implements this interface on SQLite (and PostgreSQL).
#ifndef PRIVACITY_CRYPTO_KEY_STORE_H_
#define PRIVACITY_CRYPTO_KEY_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace privacity::crypto {

enum class KeyKind {
  kIndex = 1,         // blind index key (one per trust)
  kClaim = 2,         // claim-code key (one per trust)
  kPseudonym = 3,     // per stream and epoch
  kSubjectDek = 4,    // per subject, stream and epoch
  kLogSigning = 5,    // Ed25519 seed for checkpoints
  kIngestDedupe = 6,  // keyed digests of delivered messages (one per trust)
};

// The coordinates that name one key. Unused parts are empty / 0.
struct KeyName {
  KeyKind kind = KeyKind::kIndex;
  std::string scope;    // stream id for kPseudonym and kSubjectDek
  int64_t epoch = 0;    // epoch number for kPseudonym and kSubjectDek
  std::string subject;  // blind index (32 bytes) for kSubjectDek

  bool operator==(const KeyName&) const = default;
};

struct WrappedKey {
  int64_t id = 0;  // assigned by the KeyStore
  KeyName name;
  std::string wrapped;  // AEAD output under the master key
  absl::Time created;
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;

  // Inserts `key` unless a live key with the same name exists, and returns
  // the stored key either way (so two processes racing to create a key
  // agree on one). The id of `key` is ignored.
  virtual absl::StatusOr<WrappedKey> InsertKeyIfAbsent(const WrappedKey& key) = 0;

  // The live key with this name, or nullopt.
  virtual absl::StatusOr<std::optional<WrappedKey>> FindKey(const KeyName& name) = 0;

  // FindKey for many names at once: the result holds one entry per name, in
  // order (nullopt where no live key has that name). Backends on a server
  // answer in one round trip; the default asks FindKey once per name.
  virtual absl::StatusOr<std::vector<std::optional<WrappedKey>>> FindKeys(
      absl::Span<const KeyName> names) {
    std::vector<std::optional<WrappedKey>> out;
    out.reserve(names.size());
    for (const KeyName& name : names) {
      absl::StatusOr<std::optional<WrappedKey>> found = FindKey(name);
      if (!found.ok()) return found.status();
      out.push_back(*std::move(found));
    }
    return out;
  }

  // InsertKeyIfAbsent for many keys at once: one stored key per input key,
  // in order, each either the input (it was inserted) or the live key that
  // already had its name (another process won). Two processes inserting
  // overlapping batches concurrently end with one key per name, which both
  // get back. A name given twice gets the one stored key both times.
  // Backends on a server insert in one statement; the default calls
  // InsertKeyIfAbsent once per key.
  virtual absl::StatusOr<std::vector<WrappedKey>> InsertKeysIfAbsent(
      absl::Span<const WrappedKey> keys) {
    std::vector<WrappedKey> out;
    out.reserve(keys.size());
    for (const WrappedKey& key : keys) {
      absl::StatusOr<WrappedKey> stored = InsertKeyIfAbsent(key);
      if (!stored.ok()) return stored.status();
      out.push_back(*std::move(stored));
    }
    return out;
  }

  // The live key with this id; NotFound when absent or destroyed.
  virtual absl::StatusOr<WrappedKey> GetKey(int64_t id) = 0;

  // Deletes the key for good (the row and its bytes). NotFound when absent.
  // Counts as a key change (KeyChanges) in the same transaction.
  virtual absl::Status DestroyKey(int64_t id) = 0;

  // A count that grows each time a key is destroyed or renamed, by any
  // process sharing the store, committed with the change itself. A cache
  // of unwrapped keys reads it before each use and drops what it holds when
  // the count moved: a key destroyed or renamed before that read is then
  // never used again (transform::StreamPipeline::DropCachedKeysIfChanged).
  virtual absl::StatusOr<int64_t> KeyChanges() = 0;

  // Live keys of `kind` and `scope` with epoch < `before_epoch`.
  virtual absl::StatusOr<std::vector<WrappedKey>> ListKeysBefore(
      KeyKind kind, const std::string& scope, int64_t before_epoch) = 0;

  // Gives key `id` a new name and wrapped bytes in place, overwriting the
  // old ones (used to strip the subject from data keys past the
  // linkability window). NotFound when absent; AlreadyExists when a live
  // key has `name`. Counts as a key change (KeyChanges) in the same
  // transaction. Backends that cannot do this answer Unimplemented.
  virtual absl::Status RenameKey(int64_t id, const KeyName& name,
                                 const std::string& wrapped) {
    return absl::UnimplementedError("this key store cannot rename keys");
  }
};

}  // namespace privacity::crypto

#endif  // PRIVACITY_CRYPTO_KEY_STORE_H_
