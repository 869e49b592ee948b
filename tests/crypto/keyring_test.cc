#include "crypto/keyring.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "common/random.h"
#include "crypto/in_memory_key_store.h"
#include "gtest/gtest.h"

namespace privacity::crypto {
namespace {

using ::privacity::crypto::testing::InMemoryKeyStore;

constexpr char kEnv[] = "PRIVACITY_MASTER_KEY";

// Clears PRIVACITY_MASTER_KEY for the test and restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv() {
    if (const char* v = getenv(kEnv)) saved_ = v, had_ = true;
    unsetenv(kEnv);
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(kEnv, saved_.c_str(), 1);
    } else {
      unsetenv(kEnv);
    }
  }
  void Set(const std::string& value) { setenv(kEnv, value.c_str(), 1); }

 private:
  std::string saved_;
  bool had_ = false;
};

// A fresh directory per test under the GoogleTest temp dir.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "privacity_keyring_XXXXXX";
    char* made = mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(absl::string_view name) const {
    return absl::StrCat(path_, "/", name);
  }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& bytes, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  ASSERT_EQ(chmod(path.c_str(), mode), 0);
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

// ---------------------------------------------------------------- master key

class MasterKeyTest : public ::testing::Test {
 protected:
  ScopedEnv env_;
  TempDir dir_;
};

TEST_F(MasterKeyTest, CreatedFileHasMode0600And32RandomBytesThatLoadBack) {
  const std::string path = dir_.File("master.key");
  InsecureDeterministicRandomForTesting random(9), same(9);
  ASSERT_TRUE(CreateMasterKeyFile(path, random).ok());
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(std::filesystem::file_size(path), kKeySize);

  absl::StatusOr<SecretBytes> key = LoadMasterKey(path);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->view(), same.Bytes(kKeySize));
}

TEST_F(MasterKeyTest, CreatedFileIs0600EvenUnderAPermissiveUmask) {
  const mode_t old_umask = umask(0);
  const std::string path = dir_.File("master.key");
  CryptoRandom random;
  const absl::Status status = CreateMasterKeyFile(path, random);
  umask(old_umask);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(ModeOf(path), 0600u);
}

TEST_F(MasterKeyTest, CreateRefusesToReplaceAnExistingFile) {
  const std::string path = dir_.File("master.key");
  CryptoRandom random;
  ASSERT_TRUE(CreateMasterKeyFile(path, random).ok());
  absl::StatusOr<SecretBytes> before = LoadMasterKey(path);
  ASSERT_TRUE(before.ok());

  const absl::Status again = CreateMasterKeyFile(path, random);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  absl::StatusOr<SecretBytes> after = LoadMasterKey(path);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->view(), before->view());
}

TEST_F(MasterKeyTest, CreateRefusesToFollowASymlink) {
  const std::string target = dir_.File("elsewhere");
  const std::string link = dir_.File("master.key");
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  CryptoRandom random;
  EXPECT_FALSE(CreateMasterKeyFile(link, random).ok());
  EXPECT_FALSE(std::filesystem::exists(target));
}

TEST_F(MasterKeyTest, CreateInAMissingDirectoryFails) {
  CryptoRandom random;
  EXPECT_FALSE(CreateMasterKeyFile(dir_.File("no/such/dir/master.key"), random).ok());
}

TEST_F(MasterKeyTest, LoadRefusesFilesOpenToGroupOrOthers) {
  const std::string path = dir_.File("master.key");
  for (mode_t mode : {0640, 0604, 0660, 0644, 0620, 0602, 0610, 0601, 0700 | 0040}) {
    WriteFile(path, std::string(kKeySize, 'k'), mode);
    absl::StatusOr<SecretBytes> key = LoadMasterKey(path);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kPermissionDenied)
        << std::oct << mode;
    EXPECT_TRUE(absl::StrContains(key.status().message(), "chmod 600")) << key.status();
    EXPECT_TRUE(absl::StrContains(key.status().message(), path)) << key.status();
  }
}

TEST_F(MasterKeyTest, LoadAcceptsOwnerOnlyModes) {
  const std::string path = dir_.File("master.key");
  for (mode_t mode : {0600, 0400}) {
    WriteFile(path, std::string(kKeySize, 'k'), mode);
    absl::StatusOr<SecretBytes> key = LoadMasterKey(path);
    ASSERT_TRUE(key.ok()) << std::oct << mode << " " << key.status();
    EXPECT_EQ(key->view(), std::string(kKeySize, 'k'));
    ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  }
}

TEST_F(MasterKeyTest, LoadRefusesWrongLength) {
  const std::string path = dir_.File("master.key");
  for (size_t len : {size_t{0}, size_t{16}, kKeySize - 1, kKeySize + 1, 2 * kKeySize}) {
    WriteFile(path, std::string(len, 'k'), 0600);
    absl::StatusOr<SecretBytes> key = LoadMasterKey(path);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument) << len;
    ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  }
}

TEST_F(MasterKeyTest, LoadOfAMissingFileIsNotFound) {
  EXPECT_EQ(LoadMasterKey(dir_.File("absent.key")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(MasterKeyTest, LoadRefusesADirectory) {
  const std::string path = dir_.File("keydir");
  ASSERT_EQ(mkdir(path.c_str(), 0700), 0);
  EXPECT_EQ(LoadMasterKey(path).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(MasterKeyTest, EnvironmentKeyTakesPrecedenceOverTheFile) {
  const std::string path = dir_.File("master.key");
  WriteFile(path, std::string(kKeySize, 'f'), 0600);
  const std::string env_key(kKeySize, '\xab');
  env_.Set(HexEncode(env_key));
  absl::StatusOr<SecretBytes> key = LoadMasterKey(path);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->view(), env_key);

  // Upper-case hex too, and no file needed at all.
  env_.Set("ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB");
  key = LoadMasterKey(dir_.File("absent.key"));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->view(), env_key);
}

TEST_F(MasterKeyTest, MalformedEnvironmentKeyIsRefusedWithoutEchoingIt) {
  const std::string path = dir_.File("master.key");
  WriteFile(path, std::string(kKeySize, 'f'), 0600);
  const std::string valid(64, '7');
  for (const std::string& bad :
       {valid.substr(0, 63), valid + "7", valid + "77", std::string(63, '7') + "g",
        std::string(" ") + valid.substr(1), std::string("zz")}) {
    env_.Set(bad);
    absl::StatusOr<SecretBytes> key = LoadMasterKey(path);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument) << bad.size();
    EXPECT_TRUE(absl::StrContains(key.status().message(), kEnv));
    EXPECT_FALSE(absl::StrContains(key.status().message(), bad));
  }
}

TEST_F(MasterKeyTest, EmptyEnvironmentVariableFallsBackToTheFile) {
  const std::string path = dir_.File("master.key");
  WriteFile(path, std::string(kKeySize, 'f'), 0600);
  env_.Set("");
  absl::StatusOr<SecretBytes> key = LoadMasterKey(path);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->view(), std::string(kKeySize, 'f'));
}

// ------------------------------------------------------- WrapAssociatedData

KeyName Name(KeyKind kind, std::string scope = "", int64_t epoch = 0,
             std::string subject = "") {
  KeyName name;
  name.kind = kind;
  name.scope = std::move(scope);
  name.epoch = epoch;
  name.subject = std::move(subject);
  return name;
}

TEST(WrapAssociatedData, IsDeterministicAndDistinguishesEveryField) {
  const std::vector<KeyName> names = {
      Name(KeyKind::kIndex),
      Name(KeyKind::kClaim),
      Name(KeyKind::kLogSigning),
      Name(KeyKind::kPseudonym, "energy", 1),
      Name(KeyKind::kPseudonym, "energy", 2),
      Name(KeyKind::kPseudonym, "energy", -1),
      Name(KeyKind::kPseudonym, "traffic", 1),
      Name(KeyKind::kSubjectDek, "energy", 1),
      Name(KeyKind::kSubjectDek, "energy", 1, "s"),
      // Boundaries between length-prefixed fields must not be ambiguous.
      Name(KeyKind::kSubjectDek, "ab", 1, "c"),
      Name(KeyKind::kSubjectDek, "a", 1, "bc"),
      Name(KeyKind::kSubjectDek, "", 1, "abc"),
      Name(KeyKind::kSubjectDek, "abc", 1, ""),
      Name(KeyKind::kSubjectDek, std::string("a\0", 2), 1, "b"),
      Name(KeyKind::kSubjectDek, "a", 1, std::string("\0b", 2)),
      // Without length prefixes these two would both encode as "ab" followed
      // by eight zero bytes: "ab" + epoch 0 vs "a" + epoch 0x62<<56 + "\0".
      Name(KeyKind::kSubjectDek, "ab", 0, ""),
      Name(KeyKind::kSubjectDek, "a", int64_t{0x62} << 56, std::string(1, '\0')),
  };
  std::set<std::string> seen;
  for (const KeyName& name : names) {
    EXPECT_EQ(WrapAssociatedData(name), WrapAssociatedData(name));
    seen.insert(WrapAssociatedData(name));
  }
  EXPECT_EQ(seen.size(), names.size());
}

// ------------------------------------------------------------------- Keyring

class KeyringTest : public ::testing::Test {
 protected:
  KeyringTest()
      : master_(std::string(kKeySize, '\x5a')),
        random_(1),
        clock_(absl::FromUnixSeconds(1700000000)) {}

  void SetUp() override { keyring_ = MakeKeyring(master_); }

  std::unique_ptr<Keyring> MakeKeyring(const SecretBytes& master) {
    auto keyring = Keyring::Create(master, store_, random_, clock_);
    EXPECT_TRUE(keyring.ok()) << keyring.status();
    return keyring.ok() ? *std::move(keyring) : nullptr;
  }

  UnwrappedKey MustGetOrCreate(const KeyName& name) {
    absl::StatusOr<UnwrappedKey> key = keyring_->GetOrCreate(name);
    EXPECT_TRUE(key.ok()) << key.status();
    return key.ok() ? *std::move(key) : UnwrappedKey{};
  }

  SecretBytes master_;
  InMemoryKeyStore store_;
  InsecureDeterministicRandomForTesting random_;
  ManualClock clock_;
  std::unique_ptr<Keyring> keyring_;
};

TEST_F(KeyringTest, CreateRefusesAMasterKeyOfTheWrongLength) {
  for (size_t len : {size_t{0}, size_t{16}, kKeySize - 1, kKeySize + 1}) {
    auto keyring =
        Keyring::Create(SecretBytes(std::string(len, 'm')), store_, random_, clock_);
    EXPECT_EQ(keyring.status().code(), absl::StatusCode::kInvalidArgument) << len;
  }
}

TEST_F(KeyringTest, GetOrCreateStoresAWrappedRandomKeyAndReturnsItAgain) {
  const KeyName name = Name(KeyKind::kPseudonym, "energy", 7);
  const UnwrappedKey created = MustGetOrCreate(name);
  EXPECT_GT(created.id, 0);
  EXPECT_EQ(created.name, name);
  EXPECT_EQ(created.key.size(), kKeySize);
  EXPECT_EQ(store_.size(), 1u);

  // Stored wrapped, not in the clear, stamped with the clock's time.
  absl::StatusOr<WrappedKey> stored = store_.GetKey(created.id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->wrapped.size(), kKeySize + Aead::kOverhead);
  EXPECT_FALSE(absl::StrContains(stored->wrapped, created.key.view()));
  EXPECT_EQ(stored->created, clock_.Now());

  clock_.Advance(absl::Hours(1));
  const UnwrappedKey again = MustGetOrCreate(name);
  EXPECT_EQ(again.id, created.id);
  EXPECT_EQ(again.key.view(), created.key.view());
  EXPECT_EQ(store_.size(), 1u);

  absl::StatusOr<UnwrappedKey> got = keyring_->Get(name);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->key.view(), created.key.view());
  absl::StatusOr<UnwrappedKey> by_id = keyring_->GetById(created.id);
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  EXPECT_EQ(by_id->key.view(), created.key.view());
  EXPECT_EQ(by_id->name, name);
}

TEST_F(KeyringTest, KeysAreDistinctPerName) {
  const std::vector<KeyName> names = {
      Name(KeyKind::kIndex),
      Name(KeyKind::kClaim),
      Name(KeyKind::kLogSigning),
      Name(KeyKind::kPseudonym, "energy", 1),
      Name(KeyKind::kPseudonym, "energy", 2),
      Name(KeyKind::kPseudonym, "traffic", 1),
      Name(KeyKind::kSubjectDek, "energy", 1, std::string(32, '\x01')),
      Name(KeyKind::kSubjectDek, "energy", 1, std::string(32, '\x02')),
      Name(KeyKind::kSubjectDek, "energy", 2, std::string(32, '\x01')),
  };
  std::set<std::string> keys;
  std::set<int64_t> ids;
  for (const KeyName& name : names) {
    const UnwrappedKey key = MustGetOrCreate(name);
    keys.insert(std::string(key.key.view()));
    ids.insert(key.id);
  }
  EXPECT_EQ(keys.size(), names.size());
  EXPECT_EQ(ids.size(), names.size());
  // Each still resolves to its own key.
  for (const KeyName& name : names) {
    absl::StatusOr<UnwrappedKey> key = keyring_->Get(name);
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(key->name, name);
  }
}

TEST_F(KeyringTest, KeysSurviveANewKeyringWithTheSameMasterKey) {
  const KeyName name = Name(KeyKind::kIndex);
  const UnwrappedKey created = MustGetOrCreate(name);
  std::unique_ptr<Keyring> reopened =
      MakeKeyring(SecretBytes(std::string(kKeySize, '\x5a')));
  ASSERT_NE(reopened, nullptr);
  absl::StatusOr<UnwrappedKey> got = reopened->Get(name);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->key.view(), created.key.view());
}

TEST_F(KeyringTest, AnotherMasterKeyCannotUnwrap) {
  const KeyName name = Name(KeyKind::kIndex);
  const UnwrappedKey created = MustGetOrCreate(name);
  std::unique_ptr<Keyring> other =
      MakeKeyring(SecretBytes(std::string(kKeySize, '\x5b')));
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->Get(name).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(other->GetById(created.id).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(other->GetOrCreate(name).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(KeyringTest, GetOfAnUnknownKeyIsNotFoundAndCreatesNothing) {
  EXPECT_EQ(keyring_->Get(Name(KeyKind::kClaim)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(keyring_->GetById(12345).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(KeyringTest, ADestroyedKeyCannotBeObtainedAgainEvenWithTheMasterKey) {
  const KeyName name = Name(KeyKind::kPseudonym, "energy", 3);
  const UnwrappedKey created = MustGetOrCreate(name);
  ASSERT_TRUE(keyring_->Destroy(created.id).ok());
  EXPECT_EQ(store_.size(), 0u);

  EXPECT_EQ(keyring_->Get(name).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(keyring_->GetById(created.id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(keyring_->Destroy(created.id).code(), absl::StatusCode::kNotFound);

  // A new keyring holding the same master key finds nothing either.
  std::unique_ptr<Keyring> reopened =
      MakeKeyring(SecretBytes(std::string(kKeySize, '\x5a')));
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->Get(name).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(reopened->GetById(created.id).status().code(), absl::StatusCode::kNotFound);

  // GetOrCreate makes an unrelated key: the old one is gone for good.
  absl::StatusOr<UnwrappedKey> fresh = reopened->GetOrCreate(name);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_NE(fresh->id, created.id);
  EXPECT_NE(fresh->key.view(), created.key.view());
}

TEST_F(KeyringTest, AWrappedKeyCopiedToAnotherNameFailsToUnwrap) {
  const KeyName victim = Name(KeyKind::kSubjectDek, "energy", 1, std::string(32, 'a'));
  const KeyName other = Name(KeyKind::kSubjectDek, "energy", 1, std::string(32, 'b'));
  const UnwrappedKey created = MustGetOrCreate(victim);
  absl::StatusOr<WrappedKey> stored = store_.GetKey(created.id);
  ASSERT_TRUE(stored.ok());

  WrappedKey copy = *stored;
  copy.name = other;
  absl::StatusOr<int64_t> copy_id = store_.InsertRaw(copy);
  ASSERT_TRUE(copy_id.ok()) << copy_id.status();

  absl::StatusOr<UnwrappedKey> got = keyring_->Get(other);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
  EXPECT_EQ(keyring_->GetById(*copy_id).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(keyring_->GetOrCreate(other).status().code(), absl::StatusCode::kDataLoss);
  // The message names neither subject.
  EXPECT_FALSE(absl::StrContains(got.status().message(), std::string(32, 'b')));
  EXPECT_FALSE(absl::StrContains(got.status().message(), std::string(32, 'a')));

  // The original still unwraps.
  EXPECT_TRUE(keyring_->Get(victim).ok());
}

TEST_F(KeyringTest, BytesMovedBetweenRowsFailToUnwrap) {
  const UnwrappedKey a = MustGetOrCreate(Name(KeyKind::kPseudonym, "energy", 1));
  const UnwrappedKey b = MustGetOrCreate(Name(KeyKind::kPseudonym, "energy", 2));
  absl::StatusOr<WrappedKey> stored_a = store_.GetKey(a.id);
  ASSERT_TRUE(stored_a.ok());
  ASSERT_TRUE(store_.ReplaceWrappedBytes(b.id, stored_a->wrapped).ok());
  EXPECT_EQ(keyring_->GetById(b.id).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(keyring_->Get(Name(KeyKind::kPseudonym, "energy", 2)).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(KeyringTest, TamperedOrTruncatedWrappedBytesAreDataLoss) {
  const UnwrappedKey key = MustGetOrCreate(Name(KeyKind::kClaim));
  absl::StatusOr<WrappedKey> stored = store_.GetKey(key.id);
  ASSERT_TRUE(stored.ok());

  std::string flipped = stored->wrapped;
  flipped[Aead::kNonceSize + 1] ^= 0x01;
  ASSERT_TRUE(store_.ReplaceWrappedBytes(key.id, flipped).ok());
  EXPECT_EQ(keyring_->GetById(key.id).status().code(), absl::StatusCode::kDataLoss);

  ASSERT_TRUE(store_.ReplaceWrappedBytes(key.id, stored->wrapped.substr(0, 10)).ok());
  EXPECT_EQ(keyring_->GetById(key.id).status().code(), absl::StatusCode::kDataLoss);

  ASSERT_TRUE(store_.ReplaceWrappedBytes(key.id, "").ok());
  EXPECT_EQ(keyring_->GetById(key.id).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(KeyringTest, AWrappedValueOfTheWrongLengthIsDataLoss) {
  // Correctly sealed under the master key and bound to the name, but not a
  // 32-byte key: refused rather than handed out.
  auto wrapper = Aead::Create(master_);
  ASSERT_TRUE(wrapper.ok());
  const KeyName name = Name(KeyKind::kLogSigning);
  absl::StatusOr<std::string> sealed =
      (*wrapper)->Seal(std::string(16, 'x'), WrapAssociatedData(name), random_);
  ASSERT_TRUE(sealed.ok());
  WrappedKey raw;
  raw.name = name;
  raw.wrapped = *sealed;
  absl::StatusOr<int64_t> id = store_.InsertRaw(raw);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(keyring_->GetById(*id).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(KeyringTest, MalformedNamesAreRefusedBeforeTouchingTheStore) {
  const std::vector<KeyName> bad = {
      Name(KeyKind::kIndex, "energy"),
      Name(KeyKind::kClaim, "", 3),
      Name(KeyKind::kLogSigning, "", 0, "subject"),
      Name(KeyKind::kPseudonym, "", 1),
      Name(KeyKind::kPseudonym, "energy", -1),
      Name(KeyKind::kPseudonym, "energy", 1, "subject"),
      Name(KeyKind::kSubjectDek, "energy", 1, ""),
      Name(KeyKind::kSubjectDek, "", 1, "subject"),
      Name(static_cast<KeyKind>(99)),
  };
  for (const KeyName& name : bad) {
    absl::StatusOr<UnwrappedKey> created = keyring_->GetOrCreate(name);
    EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument)
        << static_cast<int>(name.kind) << " '" << name.scope << "' " << name.epoch;
    EXPECT_EQ(keyring_->Get(name).status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(store_.insert_calls(), 0);
  EXPECT_EQ(store_.size(), 0u);
}

// A store in which the key appears only at insert time, as when another
// process created it between our lookup and our insert.
class RacingKeyStore final : public KeyStore {
 public:
  explicit RacingKeyStore(InMemoryKeyStore& inner) : inner_(inner) {}
  absl::StatusOr<WrappedKey> InsertKeyIfAbsent(const WrappedKey& key) override {
    return inner_.InsertKeyIfAbsent(key);
  }
  absl::StatusOr<std::optional<WrappedKey>> FindKey(const KeyName&) override {
    return std::nullopt;
  }
  absl::StatusOr<WrappedKey> GetKey(int64_t id) override { return inner_.GetKey(id); }
  absl::Status DestroyKey(int64_t id) override { return inner_.DestroyKey(id); }
  absl::StatusOr<int64_t> KeyChanges() override { return inner_.KeyChanges(); }
  absl::StatusOr<std::vector<WrappedKey>> ListKeysBefore(KeyKind kind,
                                                         const std::string& scope,
                                                         int64_t before) override {
    return inner_.ListKeysBefore(kind, scope, before);
  }

 private:
  InMemoryKeyStore& inner_;
};

TEST_F(KeyringTest, LosingACreationRaceYieldsTheStoredKey) {
  const KeyName name = Name(KeyKind::kPseudonym, "energy", 4);
  const UnwrappedKey winner = MustGetOrCreate(name);

  RacingKeyStore racing(store_);
  auto loser = Keyring::Create(master_, racing, random_, clock_);
  ASSERT_TRUE(loser.ok());
  absl::StatusOr<UnwrappedKey> got = (*loser)->GetOrCreate(name);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->id, winner.id);
  EXPECT_EQ(got->key.view(), winner.key.view());
  EXPECT_EQ(store_.size(), 1u);
}

TEST_F(KeyringTest, ConcurrentGetOrCreateAgreesOnOneKey) {
  const KeyName name = Name(KeyKind::kSubjectDek, "energy", 9, std::string(32, '\x09'));
  constexpr int kThreads = 6;
  std::vector<std::string> keys(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      absl::StatusOr<UnwrappedKey> key = keyring_->GetOrCreate(name);
      if (!key.ok()) {
        failures.fetch_add(1);
        return;
      }
      keys[t] = std::string(key->key.view());
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 1u);
  EXPECT_EQ(store_.size(), 1u);
}

// ------------------------------------------------- GetOrCreateAll (batches)

// Records the creations a keyring reports.
class RecordingListener final : public KeyEventListener {
 public:
  absl::Status OnKeyEvent(Event event, const KeyName& name, int64_t id) override {
    absl::MutexLock lock(&mu_);
    if (event == Event::kCreated) created_.push_back(id);
    return absl::OkStatus();
  }
  std::vector<int64_t> created() const {
    absl::MutexLock lock(&mu_);
    return created_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<int64_t> created_ ABSL_GUARDED_BY(mu_);
};

KeyName Dek(int subject, int64_t epoch = 3) {
  return Name(KeyKind::kSubjectDek, "energy", epoch,
              std::string(32, static_cast<char>('A' + subject)));
}

TEST_F(KeyringTest, GetOrCreateAllCreatesEachNewKeyOnceAndReportsEachCreation) {
  const UnwrappedKey old0 = MustGetOrCreate(Dek(0));
  const UnwrappedKey old1 = MustGetOrCreate(Dek(1));
  RecordingListener listener;
  keyring_->SetListener(&listener);

  // Two known keys, eight new ones (Dek(2) asked for twice).
  std::vector<KeyName> names = {Dek(0), Dek(2), Dek(1), Dek(2)};
  for (int i = 3; i < 10; ++i) names.push_back(Dek(i));
  absl::StatusOr<std::vector<UnwrappedKey>> all = keyring_->GetOrCreateAll(names);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), names.size());
  EXPECT_EQ(store_.find_batches(), 1);
  EXPECT_EQ(store_.insert_batches(), 1);
  EXPECT_EQ(store_.size(), 10u);
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ((*all)[i].name, names[i]);
  EXPECT_EQ((*all)[0].id, old0.id);
  EXPECT_EQ((*all)[0].key.view(), old0.key.view());
  EXPECT_EQ((*all)[2].id, old1.id);
  EXPECT_EQ((*all)[1].id, (*all)[3].id);
  EXPECT_EQ((*all)[1].key.view(), (*all)[3].key.view());

  // Exactly the eight new keys were reported, each once.
  std::set<int64_t> expected;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i != 0 && i != 2) expected.insert((*all)[i].id);
  }
  EXPECT_EQ(expected.size(), 8u);
  EXPECT_EQ(listener.created().size(), 8u);
  EXPECT_EQ(
      [&] {
        const std::vector<int64_t> c = listener.created();
        return std::set<int64_t>(c.begin(), c.end());
      }(),
      expected);
  // They are the keys the keyring hands out one at a time too.
  for (size_t i = 0; i < names.size(); ++i) {
    absl::StatusOr<UnwrappedKey> one = keyring_->Get(names[i]);
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_EQ(one->id, (*all)[i].id);
    EXPECT_EQ(one->key.view(), (*all)[i].key.view());
  }

  // Asked again: one lookup, nothing created, nothing reported.
  absl::StatusOr<std::vector<UnwrappedKey>> again = keyring_->GetOrCreateAll(names);
  ASSERT_TRUE(again.ok()) << again.status();
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ((*again)[i].id, (*all)[i].id);
  EXPECT_EQ(store_.find_batches(), 2);
  EXPECT_EQ(store_.insert_batches(), 1);
  EXPECT_EQ(listener.created().size(), 8u);
  EXPECT_EQ(store_.size(), 10u);
  keyring_->SetListener(nullptr);
}

TEST_F(KeyringTest, GetOrCreateAllOfNothingAsksNothing) {
  absl::StatusOr<std::vector<UnwrappedKey>> none = keyring_->GetOrCreateAll({});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(store_.find_batches(), 0);
  EXPECT_EQ(store_.insert_batches(), 0);
}

TEST_F(KeyringTest, GetOrCreateAllWithAMalformedNameTouchesNothing) {
  absl::StatusOr<std::vector<UnwrappedKey>> all =
      keyring_->GetOrCreateAll({Dek(0), Name(KeyKind::kSubjectDek, "energy", 1, "")});
  EXPECT_EQ(all.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.find_batches(), 0);
  EXPECT_EQ(store_.insert_calls(), 0);
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(KeyringTest, GetOrCreateAllLosingARaceYieldsTheStoredKeysAndReportsOnlyItsOwn) {
  // The winner created two of the three keys; the loser's lookup missed them.
  const UnwrappedKey won0 = MustGetOrCreate(Dek(0));
  const UnwrappedKey won1 = MustGetOrCreate(Dek(1));
  RacingKeyStore racing(store_);
  auto loser = Keyring::Create(master_, racing, random_, clock_);
  ASSERT_TRUE(loser.ok());
  RecordingListener listener;
  (*loser)->SetListener(&listener);
  absl::StatusOr<std::vector<UnwrappedKey>> got =
      (*loser)->GetOrCreateAll({Dek(0), Dek(1), Dek(2)});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ((*got)[0].id, won0.id);
  EXPECT_EQ((*got)[0].key.view(), won0.key.view());
  EXPECT_EQ((*got)[1].id, won1.id);
  EXPECT_EQ((*got)[1].key.view(), won1.key.view());
  EXPECT_EQ(store_.size(), 3u);
  EXPECT_EQ(listener.created(), std::vector<int64_t>{(*got)[2].id});
}

TEST_F(KeyringTest, ConcurrentGetOrCreateAllAgreesOnOneKeyPerName) {
  constexpr int kThreads = 4;
  constexpr int kNames = 40;
  RecordingListener listener;
  keyring_->SetListener(&listener);
  std::vector<std::vector<std::pair<int64_t, std::string>>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<KeyName> names;
      for (int i = 0; i < kNames; ++i) {
        names.push_back(Dek(t % 2 == 0 ? i : kNames - 1 - i));
      }
      absl::StatusOr<std::vector<UnwrappedKey>> keys = keyring_->GetOrCreateAll(names);
      ASSERT_TRUE(keys.ok()) << keys.status();
      seen[t].resize(kNames);
      for (int i = 0; i < kNames; ++i) {
        const int subject = t % 2 == 0 ? i : kNames - 1 - i;
        seen[t][subject] = {(*keys)[i].id, std::string((*keys)[i].key.view())};
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 1; t < kThreads; ++t) EXPECT_EQ(seen[t], seen[0]) << t;
  EXPECT_EQ(store_.size(), static_cast<size_t>(kNames));
  EXPECT_EQ(listener.created().size(), static_cast<size_t>(kNames));
  keyring_->SetListener(nullptr);
}

}  // namespace
}  // namespace privacity::crypto
