#include "crypto/keyring.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace privacity::crypto {
namespace {

constexpr char kMasterKeyEnv[] = "PRIVACITY_MASTER_KEY";
// Versioned label: a future wrapping scheme gets a new label.
constexpr absl::string_view kWrapLabel = "privacity.keyring.wrap.v1";

absl::Status ErrnoError(int err, absl::string_view what, const std::string& path) {
  return absl::ErrnoToStatus(err, absl::StrCat(what, " ", path));
}

// Decodes exactly 2 * kKeySize hex digits into a key without leaving
// partial copies behind on failure.
absl::StatusOr<SecretBytes> DecodeHexKey(absl::string_view hex) {
  const auto bad = [] {
    return absl::InvalidArgumentError(
        absl::StrCat("environment variable ", kMasterKeyEnv, " must hold exactly ",
                     2 * kKeySize, " hex digits (a ", kKeySize, "-byte key)"));
  };
  if (hex.size() != 2 * kKeySize) return bad();
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string key(kKeySize, '\0');
  for (size_t i = 0; i < kKeySize; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      OPENSSL_cleanse(key.data(), key.size());
      return bad();
    }
    key[i] = static_cast<char>(hi << 4 | lo);
  }
  return SecretBytes(std::move(key));
}

// Flushes the directory holding `path`, so a new file's entry is durable.
absl::Status SyncParentDirectory(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "cannot open directory", dir);
  const int sync_result = ::fsync(fd);
  const int sync_errno = errno;
  ::close(fd);
  if (sync_result != 0) return ErrnoError(sync_errno, "cannot sync directory", dir);
  return absl::OkStatus();
}

absl::string_view KindName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kIndex:
      return "index";
    case KeyKind::kClaim:
      return "claim";
    case KeyKind::kPseudonym:
      return "pseudonym";
    case KeyKind::kSubjectDek:
      return "subject data";
    case KeyKind::kLogSigning:
      return "log signing";
    case KeyKind::kIngestDedupe:
      return "ingest dedupe";
  }
  return "unknown";
}

// For error messages: kind, stream and epoch. Never the subject (a blind
// index is personal data).
std::string Describe(const KeyName& name) {
  switch (name.kind) {
    case KeyKind::kPseudonym:
    case KeyKind::kSubjectDek:
      return absl::StrCat(KindName(name.kind), " key of stream '", name.scope,
                          "', epoch ", name.epoch);
    default:
      return absl::StrCat(KindName(name.kind), " key");
  }
}

// Each kind uses only its own coordinates (see KeyName); the rest must be
// empty, so that one key cannot be reached under two names.
absl::Status ValidateKeyName(const KeyName& name) {
  bool uses_scope_and_epoch = false;
  bool uses_subject = false;
  switch (name.kind) {
    case KeyKind::kIndex:
    case KeyKind::kClaim:
    case KeyKind::kLogSigning:
    case KeyKind::kIngestDedupe:
      break;
    case KeyKind::kPseudonym:
      uses_scope_and_epoch = true;
      break;
    case KeyKind::kSubjectDek:
      uses_scope_and_epoch = true;
      uses_subject = true;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unknown key kind ", static_cast<int>(name.kind)));
  }
  const std::string what = absl::StrCat("key name for a ", KindName(name.kind), " key");
  if (uses_scope_and_epoch) {
    if (name.scope.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(what, " has no stream (scope)"));
    }
    if (name.epoch < 0) {
      return absl::InvalidArgumentError(absl::StrCat(what, " has a negative epoch"));
    }
  } else if (!name.scope.empty() || name.epoch != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must have an empty scope and epoch 0"));
  }
  if (uses_subject) {
    if (name.subject.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(what, " has no subject"));
    }
  } else if (!name.subject.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must have an empty subject"));
  }
  return absl::OkStatus();
}

void AppendUint64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void AppendLengthPrefixed(std::string& out, absl::string_view bytes) {
  AppendUint64(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}

}  // namespace

// ------------------------------------------------------------------ master key

absl::Status CreateMasterKeyFile(const std::string& path, RandomSource& random) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat(
          "master key file ", path, " already exists; refusing to replace it"));
    }
    return ErrnoError(errno, "cannot create master key file", path);
  }
  // From here on, any failure removes the incomplete file.
  bool done = false;
  absl::Cleanup remove_on_failure = [&] {
    ::close(fd);
    if (!done) ::unlink(path.c_str());
  };
  // The umask may only have narrowed 0600; make the mode exact.
  if (::fchmod(fd, 0600) != 0) return ErrnoError(errno, "cannot chmod", path);

  const SecretBytes key(random.Bytes(kKeySize));
  size_t written = 0;
  while (written < key.size()) {
    const ssize_t n = ::write(fd, key.view().data() + written, key.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "cannot write master key file", path);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return ErrnoError(errno, "cannot sync master key file", path);
  done = true;
  std::move(remove_on_failure).Invoke();
  return SyncParentDirectory(path);
}

absl::StatusOr<SecretBytes> LoadMasterKey(const std::string& path) {
  // The only place privacity reads its key from the environment.
  if (const char* env = std::getenv(kMasterKeyEnv); env != nullptr && env[0] != '\0') {
    return DecodeHexKey(env);
  }

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("master key file ", path,
                       " does not exist (create it with `privacity init`, or set ",
                       kMasterKeyEnv, ")"));
    }
    return ErrnoError(errno, "cannot open master key file", path);
  }
  absl::Cleanup close_fd = [fd] { ::close(fd); };

  struct stat st;
  if (::fstat(fd, &st) != 0)
    return ErrnoError(errno, "cannot stat master key file", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("master key file ", path, " is not a regular file"));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "master key file %s has mode %04o, which gives group or others access; run "
        "`chmod 600 %s`",
        path, st.st_mode & 07777, path));
  }

  // One byte more than a key, to notice a longer file.
  std::array<char, kKeySize + 1> buffer;
  absl::Cleanup wipe_buffer = [&buffer] {
    OPENSSL_cleanse(buffer.data(), buffer.size());
  };
  size_t got = 0;
  while (got < buffer.size()) {
    const ssize_t n = ::read(fd, buffer.data() + got, buffer.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "cannot read master key file", path);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got != kKeySize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "master key file ", path, " has ", got == buffer.size() ? "more than " : "", got,
        " bytes, expected exactly ", kKeySize));
  }
  return SecretBytes(std::string(buffer.data(), kKeySize));
}

// --------------------------------------------------------------------- keyring

std::string WrapAssociatedData(const KeyName& name) {
  // label || kind (u64) || scope || epoch (i64, two's complement) || subject,
  // strings length-prefixed (u64), integers big-endian: every field has a
  // fixed width or a prefix, so distinct names never share an encoding.
  std::string out;
  out.reserve(8 + kWrapLabel.size() + 8 + 8 + name.scope.size() + 8 + 8 +
              name.subject.size());
  AppendLengthPrefixed(out, kWrapLabel);
  AppendUint64(out, static_cast<uint64_t>(static_cast<int64_t>(name.kind)));
  AppendLengthPrefixed(out, name.scope);
  AppendUint64(out, static_cast<uint64_t>(name.epoch));
  AppendLengthPrefixed(out, name.subject);
  return out;
}

Keyring::Keyring(std::unique_ptr<Aead> wrapper, KeyStore& store, RandomSource& random,
                 Clock& clock)
    : wrapper_(std::move(wrapper)), store_(store), random_(random), clock_(clock) {}

absl::StatusOr<std::unique_ptr<Keyring>> Keyring::Create(const SecretBytes& master_key,
                                                         KeyStore& store,
                                                         RandomSource& random,
                                                         Clock& clock) {
  if (master_key.size() != kKeySize) {
    return absl::InvalidArgumentError(absl::StrCat("master key has ", master_key.size(),
                                                   " bytes, expected ", kKeySize));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Aead> wrapper, Aead::Create(master_key));
  return std::unique_ptr<Keyring>(new Keyring(std::move(wrapper), store, random, clock));
}

absl::StatusOr<UnwrappedKey> Keyring::GetOrCreate(const KeyName& name) {
  RETURN_IF_ERROR(ValidateKeyName(name));
  ASSIGN_OR_RETURN(std::optional<WrappedKey> found, store_.FindKey(name));
  if (found.has_value()) {
    if (!(found->name == name)) {
      return absl::InternalError(absl::StrCat("key store answered a lookup of a ",
                                              Describe(name),
                                              " with a key of another name"));
    }
    return Unwrap(*found);
  }

  const SecretBytes key(random_.Bytes(kKeySize));
  WrappedKey fresh;
  fresh.name = name;
  ASSIGN_OR_RETURN(fresh.wrapped,
                   wrapper_->Seal(key.view(), WrapAssociatedData(name), random_));
  fresh.created = clock_.Now();
  // Another process may have created the key meanwhile: the store keeps
  // the first one and returns it, and both then use that one.
  ASSIGN_OR_RETURN(WrappedKey stored, store_.InsertKeyIfAbsent(fresh));
  if (!(stored.name == name)) {
    return absl::InternalError(absl::StrCat("key store answered an insert of a ",
                                            Describe(name),
                                            " with a key of another name"));
  }
  // The wrapped bytes carry a random nonce: equal bytes mean ours was kept.
  if (KeyEventListener* listener = listener_.load();
      listener != nullptr && stored.wrapped == fresh.wrapped) {
    RETURN_IF_ERROR(
        listener->OnKeyEvent(KeyEventListener::Event::kCreated, stored.name, stored.id));
  }
  return Unwrap(stored);
}

absl::StatusOr<std::vector<UnwrappedKey>> Keyring::GetOrCreateAll(
    absl::Span<const KeyName> names) {
  for (const KeyName& name : names) RETURN_IF_ERROR(ValidateKeyName(name));
  std::vector<UnwrappedKey> out(names.size());
  if (names.empty()) return out;
  ASSIGN_OR_RETURN(std::vector<std::optional<WrappedKey>> found, store_.FindKeys(names));
  if (found.size() != names.size()) {
    return absl::InternalError(absl::StrCat("key store answered a lookup of ",
                                            names.size(), " keys with ", found.size()));
  }

  // The missing names, each once (the associated data is injective, so it
  // serves as the map key), with the fresh key made for it.
  std::vector<WrappedKey> fresh;
  absl::flat_hash_map<std::string, size_t> fresh_index;
  // (position in `names`, position in `fresh`) for each missing name.
  std::vector<std::pair<size_t, size_t>> waiting;
  for (size_t i = 0; i < names.size(); ++i) {
    if (found[i].has_value()) {
      if (!(found[i]->name == names[i])) {
        return absl::InternalError(absl::StrCat("key store answered a lookup of a ",
                                                Describe(names[i]),
                                                " with a key of another name"));
      }
      ASSIGN_OR_RETURN(out[i], Unwrap(*found[i]));
      continue;
    }
    std::string ad = WrapAssociatedData(names[i]);
    if (auto it = fresh_index.find(ad); it != fresh_index.end()) {
      waiting.emplace_back(i, it->second);
      continue;
    }
    waiting.emplace_back(i, fresh.size());
    const SecretBytes key(random_.Bytes(kKeySize));
    WrappedKey& k = fresh.emplace_back();
    k.name = names[i];
    ASSIGN_OR_RETURN(k.wrapped, wrapper_->Seal(key.view(), ad, random_));
    k.created = clock_.Now();
    fresh_index.emplace(std::move(ad), fresh.size() - 1);
  }
  if (fresh.empty()) return out;

  // Another process may have created some of them meanwhile: the store
  // keeps the first of each and returns it, and both then use that one.
  ASSIGN_OR_RETURN(std::vector<WrappedKey> stored, store_.InsertKeysIfAbsent(fresh));
  if (stored.size() != fresh.size()) {
    return absl::InternalError(absl::StrCat("key store answered an insert of ",
                                            fresh.size(), " keys with ", stored.size()));
  }
  std::vector<UnwrappedKey> unwrapped(fresh.size());
  for (size_t j = 0; j < fresh.size(); ++j) {
    if (!(stored[j].name == fresh[j].name)) {
      return absl::InternalError(absl::StrCat("key store answered an insert of a ",
                                              Describe(fresh[j].name),
                                              " with a key of another name"));
    }
    ASSIGN_OR_RETURN(unwrapped[j], Unwrap(stored[j]));
  }
  for (const auto& [i, j] : waiting) out[i] = unwrapped[j];
  // The wrapped bytes carry a random nonce: equal bytes mean ours was kept.
  absl::Status reported;
  if (KeyEventListener* listener = listener_.load(); listener != nullptr) {
    for (size_t j = 0; j < fresh.size(); ++j) {
      if (stored[j].wrapped != fresh[j].wrapped) continue;
      reported.Update(listener->OnKeyEvent(KeyEventListener::Event::kCreated,
                                           stored[j].name, stored[j].id));
    }
  }
  RETURN_IF_ERROR(reported);
  return out;
}

absl::StatusOr<UnwrappedKey> Keyring::Get(const KeyName& name) {
  RETURN_IF_ERROR(ValidateKeyName(name));
  ASSIGN_OR_RETURN(std::optional<WrappedKey> found, store_.FindKey(name));
  if (!found.has_value()) {
    return absl::NotFoundError(absl::StrCat("no live ", Describe(name)));
  }
  if (!(found->name == name)) {
    return absl::InternalError(absl::StrCat("key store answered a lookup of a ",
                                            Describe(name),
                                            " with a key of another name"));
  }
  return Unwrap(*found);
}

absl::StatusOr<UnwrappedKey> Keyring::GetById(int64_t id) {
  ASSIGN_OR_RETURN(WrappedKey wrapped, store_.GetKey(id));
  if (wrapped.id != id) {
    return absl::InternalError(absl::StrCat("key store answered a lookup of key ", id,
                                            " with key ", wrapped.id));
  }
  return Unwrap(wrapped);
}

absl::Status Keyring::Destroy(int64_t id) {
  KeyEventListener* listener = listener_.load();
  if (listener == nullptr) return store_.DestroyKey(id);
  ASSIGN_OR_RETURN(const WrappedKey key, store_.GetKey(id));
  RETURN_IF_ERROR(store_.DestroyKey(id));
  return listener->OnKeyEvent(KeyEventListener::Event::kDestroyed, key.name, id);
}

absl::Status Keyring::Rename(int64_t id, const KeyName& new_name) {
  RETURN_IF_ERROR(ValidateKeyName(new_name));
  ASSIGN_OR_RETURN(UnwrappedKey key, GetById(id));
  if (key.name.kind != new_name.kind || key.name.scope != new_name.scope ||
      key.name.epoch != new_name.epoch) {
    return absl::InvalidArgumentError(
        absl::StrCat("renaming key ", id, ": only the subject may change"));
  }
  ASSIGN_OR_RETURN(std::string wrapped,
                   wrapper_->Seal(key.key.view(), WrapAssociatedData(new_name), random_));
  return store_.RenameKey(id, new_name, wrapped);
}

absl::StatusOr<UnwrappedKey> Keyring::Unwrap(const WrappedKey& wrapped) const {
  absl::StatusOr<std::string> key =
      wrapper_->Open(wrapped.wrapped, WrapAssociatedData(wrapped.name));
  if (!key.ok()) {
    if (key.status().code() == absl::StatusCode::kDataLoss ||
        key.status().code() == absl::StatusCode::kInvalidArgument) {
      return absl::DataLossError(absl::StrCat(
          "wrapped key ", wrapped.id, " (", Describe(wrapped.name),
          ") does not verify under the master key: wrong master key, or its bytes were "
          "altered or moved from another key"));
    }
    return key.status();
  }
  UnwrappedKey out;
  out.id = wrapped.id;
  out.name = wrapped.name;
  out.key = SecretBytes(*std::move(key));
  if (out.key.size() != kKeySize) {
    return absl::DataLossError(absl::StrCat("wrapped key ", wrapped.id, " unwraps to ",
                                            out.key.size(), " bytes, expected ",
                                            kKeySize));
  }
  return out;
}

}  // namespace privacity::crypto
