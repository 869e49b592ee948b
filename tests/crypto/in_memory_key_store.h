// TEST ONLY. An in-memory crypto::KeyStore for unit tests of modules that
// need a Keyring without a database. It keeps wrapped keys in a map behind
// a mutex, deletes destroyed keys for good, counts calls, and offers hooks
// that let tests tamper with stored bytes the way an attacker with database
// access could.
// Never link it into a release path: it persists nothing.
#ifndef PRIVACITY_TESTS_CRYPTO_IN_MEMORY_KEY_STORE_H_
#define PRIVACITY_TESTS_CRYPTO_IN_MEMORY_KEY_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "crypto/key_store.h"

namespace privacity::crypto::testing {

class InMemoryKeyStore final : public KeyStore {
 public:
  absl::StatusOr<WrappedKey> InsertKeyIfAbsent(const WrappedKey& key) override {
    absl::MutexLock lock(&mu_);
    ++insert_calls_;
    if (const WrappedKey* existing = FindLocked(key.name)) return *existing;
    WrappedKey stored = key;
    stored.id = next_id_++;
    keys_.emplace(stored.id, stored);
    return stored;
  }

  absl::StatusOr<std::vector<WrappedKey>> InsertKeysIfAbsent(
      absl::Span<const WrappedKey> keys) override {
    absl::MutexLock lock(&mu_);
    ++insert_batches_;
    std::vector<WrappedKey> out;
    for (const WrappedKey& key : keys) {
      ++insert_calls_;
      if (const WrappedKey* existing = FindLocked(key.name)) {
        out.push_back(*existing);
        continue;
      }
      WrappedKey stored = key;
      stored.id = next_id_++;
      keys_.emplace(stored.id, stored);
      out.push_back(stored);
    }
    return out;
  }

  absl::StatusOr<std::optional<WrappedKey>> FindKey(const KeyName& name) override {
    absl::MutexLock lock(&mu_);
    if (const WrappedKey* existing = FindLocked(name)) return *existing;
    return std::nullopt;
  }

  absl::StatusOr<std::vector<std::optional<WrappedKey>>> FindKeys(
      absl::Span<const KeyName> names) override {
    absl::MutexLock lock(&mu_);
    ++find_batches_;
    std::vector<std::optional<WrappedKey>> out;
    for (const KeyName& name : names) {
      const WrappedKey* existing = FindLocked(name);
      out.push_back(existing != nullptr ? std::optional<WrappedKey>(*existing)
                                        : std::nullopt);
    }
    return out;
  }

  absl::StatusOr<WrappedKey> GetKey(int64_t id) override {
    absl::MutexLock lock(&mu_);
    auto it = keys_.find(id);
    if (it == keys_.end()) return absl::NotFoundError(absl::StrCat("no key ", id));
    return it->second;
  }

  absl::Status DestroyKey(int64_t id) override {
    absl::MutexLock lock(&mu_);
    if (keys_.erase(id) == 0) return absl::NotFoundError(absl::StrCat("no key ", id));
    ++changes_;
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> KeyChanges() override {
    absl::MutexLock lock(&mu_);
    return changes_;
  }

  absl::StatusOr<std::vector<WrappedKey>> ListKeysBefore(KeyKind kind,
                                                         const std::string& scope,
                                                         int64_t before_epoch) override {
    absl::MutexLock lock(&mu_);
    std::vector<WrappedKey> out;
    for (const auto& [id, key] : keys_) {
      if (key.name.kind == kind && key.name.scope == scope &&
          key.name.epoch < before_epoch) {
        out.push_back(key);
      }
    }
    return out;
  }

  // --- Test hooks -------------------------------------------------------

  // Number of live keys.
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return keys_.size();
  }

  // How many times InsertKeyIfAbsent was called.
  int insert_calls() const {
    absl::MutexLock lock(&mu_);
    return insert_calls_;
  }

  // How many times FindKeys and InsertKeysIfAbsent (batch calls) were called.
  int find_batches() const {
    absl::MutexLock lock(&mu_);
    return find_batches_;
  }
  int insert_batches() const {
    absl::MutexLock lock(&mu_);
    return insert_batches_;
  }

  // Number of live keys of `kind`.
  size_t CountKind(KeyKind kind) const {
    absl::MutexLock lock(&mu_);
    size_t n = 0;
    for (const auto& [id, key] : keys_) n += key.name.kind == kind ? 1 : 0;
    return n;
  }

  // Overwrites the stored wrapped bytes of key `id` (simulates tampering or
  // bytes copied from another row). NotFound when absent.
  absl::Status ReplaceWrappedBytes(int64_t id, std::string wrapped) {
    absl::MutexLock lock(&mu_);
    auto it = keys_.find(id);
    if (it == keys_.end()) return absl::NotFoundError(absl::StrCat("no key ", id));
    it->second.wrapped = std::move(wrapped);
    return absl::OkStatus();
  }

  // Stores `key` as given (its own name and bytes), bypassing the keyring;
  // returns the id assigned. Fails if a live key with that name exists.
  absl::StatusOr<int64_t> InsertRaw(const WrappedKey& key) {
    absl::MutexLock lock(&mu_);
    if (FindLocked(key.name) != nullptr) {
      return absl::AlreadyExistsError("a live key with this name exists");
    }
    WrappedKey stored = key;
    stored.id = next_id_++;
    keys_.emplace(stored.id, stored);
    return stored.id;
  }

 private:
  const WrappedKey* FindLocked(const KeyName& name) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const auto& [id, key] : keys_) {
      if (key.name == name) return &key;
    }
    return nullptr;
  }

  mutable absl::Mutex mu_;
  std::map<int64_t, WrappedKey> keys_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
  int insert_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int find_batches_ ABSL_GUARDED_BY(mu_) = 0;
  int insert_batches_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace privacity::crypto::testing

#endif  // PRIVACITY_TESTS_CRYPTO_IN_MEMORY_KEY_STORE_H_
