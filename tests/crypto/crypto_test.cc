#include "crypto/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/random.h"
#include "gtest/gtest.h"

namespace privacity::crypto {
namespace {

std::string Hex(absl::string_view bytes) { return HexEncode(bytes); }

std::string Unhex(absl::string_view hex) {
  absl::StatusOr<std::string> bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::string();
}

// Hands out preset bytes, so a test can choose the nonce Seal draws.
class FixedRandom final : public RandomSource {
 public:
  explicit FixedRandom(std::string bytes) : bytes_(bytes.begin(), bytes.end()) {}
  void Fill(absl::Span<uint8_t> out) override {
    for (uint8_t& b : out) {
      if (bytes_.empty()) {
        ADD_FAILURE() << "FixedRandom ran out of bytes";
        b = 0;
        continue;
      }
      b = static_cast<uint8_t>(bytes_.front());
      bytes_.pop_front();
    }
  }

 private:
  std::deque<char> bytes_;
};

std::unique_ptr<HmacSha256> MakeHmac(absl::string_view key) {
  auto hmac = HmacSha256::Create(SecretBytes(std::string(key)));
  EXPECT_TRUE(hmac.ok()) << hmac.status();
  return hmac.ok() ? *std::move(hmac) : nullptr;
}

std::unique_ptr<Aead> MakeAead(absl::string_view key) {
  auto aead = Aead::Create(SecretBytes(std::string(key)));
  EXPECT_TRUE(aead.ok()) << aead.status();
  return aead.ok() ? *std::move(aead) : nullptr;
}

// ---------------------------------------------------------------- SecretBytes

TEST(SecretBytes, HoldsCopiesAndMovesItsBytes) {
  const std::string raw(40, 'k');
  SecretBytes a(raw);
  EXPECT_EQ(a.view(), raw);
  EXPECT_EQ(a.size(), 40u);
  EXPECT_FALSE(a.empty());

  SecretBytes copy(a);
  EXPECT_EQ(copy.view(), raw);
  SecretBytes assigned(std::string("short"));
  assigned = a;
  EXPECT_EQ(assigned.view(), raw);
  const SecretBytes& alias = assigned;
  assigned = alias;  // self-assignment keeps the bytes
  EXPECT_EQ(assigned.view(), raw);

  SecretBytes moved(std::move(copy));
  EXPECT_EQ(moved.view(), raw);
  EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): moved-from is wiped

  SecretBytes target(std::string(3, 'x'));
  target = std::move(moved);
  EXPECT_EQ(target.view(), raw);
  EXPECT_TRUE(moved.empty());  // NOLINT(bugprone-use-after-move)

  // A short (in-place) string moved out is wiped too.
  SecretBytes small(std::string("abc"));
  SecretBytes small_moved(std::move(small));
  EXPECT_EQ(small_moved.view(), "abc");
  EXPECT_TRUE(small.empty());  // NOLINT(bugprone-use-after-move)

  EXPECT_TRUE(SecretBytes().empty());
}

// --------------------------------------------------------------------- Sha256

TEST(Sha256, MatchesFips180Vectors) {
  EXPECT_EQ(Hex(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

// ----------------------------------------------------------------- HmacSha256

struct Rfc4231Case {
  const char* name;
  std::string key;
  std::string data;
  const char* mac_hex;  // truncated for case 5
};

std::vector<Rfc4231Case> Rfc4231Cases() {
  std::string key4;
  for (int i = 1; i <= 25; ++i) key4.push_back(static_cast<char>(i));
  return {
      {"case1", std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"case2", "Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"case3", std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"case4", key4, std::string(50, '\xcd'),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"case5", std::string(20, '\x0c'), "Test With Truncation",
       "a3b6167473100ee06e0c796c2955552b"},
      {"case6", std::string(131, '\xaa'),
       "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"case7", std::string(131, '\xaa'),
       "This is a test using a larger than block-size key and a larger than "
       "block-size data. The key needs to be hashed before being used by the HMAC "
       "algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
}

TEST(HmacSha256, MatchesRfc4231Vectors) {
  for (const Rfc4231Case& c : Rfc4231Cases()) {
    SCOPED_TRACE(c.name);
    auto hmac = MakeHmac(c.key);
    ASSERT_NE(hmac, nullptr);
    const std::string mac = hmac->Mac(c.data);
    ASSERT_EQ(mac.size(), kSha256Size);
    const std::string expected = c.mac_hex;
    EXPECT_EQ(Hex(mac).substr(0, expected.size()), expected);
    // The keyed state is reused: a second call gives the same tag.
    EXPECT_EQ(hmac->Mac(c.data), mac);
  }
}

TEST(HmacSha256, RefusesAnEmptyKey) {
  auto hmac = HmacSha256::Create(SecretBytes());
  EXPECT_EQ(hmac.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HmacSha256, AgreesWithOpenSslOneShotHmacAcrossKeyAndMessageLengths) {
  InsecureDeterministicRandomForTesting random(42);
  for (size_t key_len : {1, 16, 32, 63, 64, 65, 128, 200}) {
    const std::string key = random.Bytes(key_len);
    auto hmac = MakeHmac(key);
    ASSERT_NE(hmac, nullptr);
    for (size_t msg_len : {0, 1, 16, 55, 56, 63, 64, 65, 119, 120, 1000}) {
      const std::string msg = random.Bytes(msg_len);
      unsigned char expected[EVP_MAX_MD_SIZE];
      unsigned int expected_len = 0;
      ASSERT_NE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                     reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                     expected, &expected_len),
                nullptr);
      EXPECT_EQ(hmac->Mac(msg),
                std::string(reinterpret_cast<const char*>(expected), expected_len))
          << "key " << key_len << " bytes, message " << msg_len << " bytes";
    }
  }
}

TEST(HmacSha256, DifferentKeysGiveDifferentTags) {
  auto a = MakeHmac(std::string(32, 'a'));
  auto b = MakeHmac(std::string(32, 'b'));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->Mac("subject-0001"), b->Mac("subject-0001"));
  EXPECT_NE(a->Mac("subject-0001"), a->Mac("subject-0002"));
}

TEST(HmacSha256, MacIsThreadSafe) {
  auto hmac = MakeHmac(std::string(32, '\x42'));
  ASSERT_NE(hmac, nullptr);
  constexpr int kMessages = 64;
  std::vector<std::string> messages, expected;
  for (int i = 0; i < kMessages; ++i) {
    messages.push_back(absl::StrCat("meter-", i, std::string(i % 17, 'x')));
    expected.push_back(hmac->Mac(messages.back()));
  }
  constexpr int kThreads = 8;
  constexpr int kRounds = 500;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const int i = (t * 7 + r) % kMessages;
        if (hmac->Mac(messages[i]) != expected[i]) mismatches.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// ---------------------------------------------------------- ConstantTimeEquals

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "Abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

// ----------------------------------------------------------------------- Aead

TEST(Aead, RefusesKeysOfTheWrongLength) {
  for (size_t len : {0, 16, 24, 31, 33}) {
    auto aead = Aead::Create(SecretBytes(std::string(len, 'k')));
    EXPECT_EQ(aead.status().code(), absl::StatusCode::kInvalidArgument) << len;
  }
}

struct GcmCase {
  const char* name;
  const char* key;
  const char* iv;
  const char* plaintext;
  const char* aad;
  const char* ciphertext;
  const char* tag;
};

// AES-256 cases 13-16 of the GCM specification (McGrew and Viega), as used
// in NIST's validation of SP 800-38D.
constexpr GcmCase kGcmCases[] = {
    {"case13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"case14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"case15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"case16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(Aead, MatchesGcmSpecificationVectors) {
  for (const GcmCase& c : kGcmCases) {
    SCOPED_TRACE(c.name);
    auto aead = MakeAead(Unhex(c.key));
    ASSERT_NE(aead, nullptr);
    FixedRandom nonce(Unhex(c.iv));
    absl::StatusOr<std::string> sealed =
        aead->Seal(Unhex(c.plaintext), Unhex(c.aad), nonce);
    ASSERT_TRUE(sealed.ok()) << sealed.status();
    EXPECT_EQ(Hex(*sealed), absl::StrCat(c.iv, c.ciphertext, c.tag));

    absl::StatusOr<std::string> opened =
        aead->Open(Unhex(absl::StrCat(c.iv, c.ciphertext, c.tag)), Unhex(c.aad));
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(Hex(*opened), c.plaintext);
  }
}

TEST(Aead, RoundTripsWithFreshNonces) {
  auto aead = MakeAead(std::string(32, '\x07'));
  ASSERT_NE(aead, nullptr);
  CryptoRandom random;
  for (size_t len : {0, 1, 15, 16, 17, 64, 1000}) {
    const std::string plaintext = random.Bytes(len);
    absl::StatusOr<std::string> a = aead->Seal(plaintext, "stream|record-7", random);
    absl::StatusOr<std::string> b = aead->Seal(plaintext, "stream|record-7", random);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(a->size(), len + Aead::kOverhead);
    EXPECT_NE(a->substr(0, Aead::kNonceSize), b->substr(0, Aead::kNonceSize));
    EXPECT_NE(*a, *b);
    absl::StatusOr<std::string> opened = aead->Open(*a, "stream|record-7");
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(*opened, plaintext);
  }
}

class AeadTamperingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    aead_ = MakeAead(std::string(32, '\x11'));
    ASSERT_NE(aead_, nullptr);
    InsecureDeterministicRandomForTesting random(3);
    absl::StatusOr<std::string> sealed = aead_->Seal(kPlaintext, kAd, random);
    ASSERT_TRUE(sealed.ok()) << sealed.status();
    sealed_ = *sealed;
  }

  static constexpr absl::string_view kPlaintext = "reading: 42.5 kWh at meter 17";
  static constexpr absl::string_view kAd = "energy|record-17";
  std::unique_ptr<Aead> aead_;
  std::string sealed_;
};

TEST_F(AeadTamperingTest, EveryFlippedBitOfNonceCiphertextOrTagIsRejected) {
  ASSERT_TRUE(aead_->Open(sealed_, kAd).ok());
  for (size_t i = 0; i < sealed_.size(); ++i) {
    for (int bit : {0, 7}) {
      std::string tampered = sealed_;
      tampered[i] = static_cast<char>(tampered[i] ^ (1 << bit));
      const char* part = i < Aead::kNonceSize                  ? "nonce"
                         : i < sealed_.size() - Aead::kTagSize ? "ciphertext"
                                                               : "tag";
      EXPECT_EQ(aead_->Open(tampered, kAd).status().code(), absl::StatusCode::kDataLoss)
          << part << " byte " << i << " bit " << bit;
    }
  }
}

TEST_F(AeadTamperingTest, TruncationAndExtensionAreRejected) {
  EXPECT_EQ(aead_->Open(sealed_.substr(0, sealed_.size() - 1), kAd).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(aead_->Open(sealed_ + "x", kAd).status().code(), absl::StatusCode::kDataLoss);
  // Dropping a ciphertext byte from the middle.
  std::string shortened = sealed_;
  shortened.erase(Aead::kNonceSize + 3, 1);
  EXPECT_EQ(aead_->Open(shortened, kAd).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(AeadTamperingTest, WrongAssociatedDataIsRejected) {
  EXPECT_EQ(aead_->Open(sealed_, "energy|record-18").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(aead_->Open(sealed_, "").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(aead_->Open(sealed_, absl::StrCat(kAd, std::string(1, '\0'))).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(AeadTamperingTest, WrongKeyIsRejected) {
  auto other = MakeAead(std::string(32, '\x12'));
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->Open(sealed_, kAd).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(AeadTamperingTest, TooShortInputIsInvalidArgument) {
  for (size_t len : {size_t{0}, size_t{1}, Aead::kNonceSize, Aead::kOverhead - 1}) {
    EXPECT_EQ(aead_->Open(sealed_.substr(0, len), kAd).status().code(),
              absl::StatusCode::kInvalidArgument)
        << len;
  }
}

TEST(Aead, EmptyPlaintextStillAuthenticatesAssociatedData) {
  auto aead = MakeAead(std::string(32, '\x21'));
  ASSERT_NE(aead, nullptr);
  InsecureDeterministicRandomForTesting random(5);
  absl::StatusOr<std::string> sealed = aead->Seal("", "ad", random);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->size(), Aead::kOverhead);
  absl::StatusOr<std::string> opened = aead->Open(*sealed, "ad");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "");
  EXPECT_EQ(aead->Open(*sealed, "ae").status().code(), absl::StatusCode::kDataLoss);
}

TEST(Aead, SealAndOpenAreThreadSafe) {
  auto aead = MakeAead(std::string(32, '\x33'));
  ASSERT_NE(aead, nullptr);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      InsecureDeterministicRandomForTesting random(100 + t);
      for (int i = 0; i < 300; ++i) {
        const std::string plaintext = absl::StrCat("payload ", t, "/", i);
        const std::string ad = absl::StrCat("ad", i);
        absl::StatusOr<std::string> sealed = aead->Seal(plaintext, ad, random);
        if (!sealed.ok()) {
          failures.fetch_add(1);
          continue;
        }
        absl::StatusOr<std::string> opened = aead->Open(*sealed, ad);
        if (!opened.ok() || *opened != plaintext) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace privacity::crypto
