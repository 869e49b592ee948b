#include "crypto/crypto.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "crypto/internal/openssl_util.h"

namespace privacity::crypto {
namespace {

using internal::CipherCtxPtr;
using internal::MdCtxPtr;
using internal::MdPtr;
using internal::OpenSslError;

constexpr size_t kHmacBlockSize = 64;  // SHA-256 block size
// OpenSSL takes int lengths; longer inputs are fed in pieces of this size.
constexpr size_t kMaxChunk = size_t{1} << 30;
// NIST SP 800-38D: at most 2^39 - 256 bits of plaintext per invocation.
constexpr uint64_t kMaxGcmPlaintext = (uint64_t{1} << 36) - 32;

// Wipes the whole buffer of `s` (its capacity, not only the live bytes).
void Wipe(std::string& s) {
  s.resize(s.capacity());  // no reallocation: size <= capacity
  OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

[[noreturn]] void DieOnOpenSslFailure(const char* what) {
  std::fprintf(stderr, "privacity: OpenSSL failure in %s, aborting\n", what);
  std::abort();
}

unsigned char* Bytes(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}
const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Feeds `data` to an EVP_{Encrypt,Decrypt}Update-like function in int-sized
// pieces, writing output at `out` (nullptr for associated data).
template <typename UpdateFn>
bool UpdateInChunks(UpdateFn update, EVP_CIPHER_CTX* ctx, unsigned char* out,
                    absl::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    const size_t chunk = std::min(data.size() - done, kMaxChunk);
    int out_len = 0;
    if (update(ctx, out == nullptr ? nullptr : out + done, &out_len, Bytes(data) + done,
               static_cast<int>(chunk)) != 1) {
      return false;
    }
    // GCM is a stream mode: every input byte yields one output byte at once.
    if (out != nullptr && static_cast<size_t>(out_len) != chunk) return false;
    done += chunk;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------- SecretBytes

SecretBytes::SecretBytes(const SecretBytes& other) : bytes_(other.bytes_) {}

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) {
    Wipe(bytes_);
    bytes_ = other.bytes_;
  }
  return *this;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
  Wipe(other.bytes_);
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe(bytes_);
    bytes_ = std::move(other.bytes_);
    Wipe(other.bytes_);
  }
  return *this;
}

SecretBytes::~SecretBytes() { Wipe(bytes_); }

// --------------------------------------------------------------------- Sha256

std::string Sha256(absl::string_view data) {
  std::string out(kSha256Size, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), Bytes(out), &len, EVP_sha256(), nullptr) !=
          1 ||
      len != kSha256Size) {
    DieOnOpenSslFailure("SHA-256");
  }
  return out;
}

// ----------------------------------------------------------------- HmacSha256

struct HmacSha256::State {
  MdCtxPtr inner;  // SHA-256 after absorbing key ^ ipad
  MdCtxPtr outer;  // SHA-256 after absorbing key ^ opad
};

HmacSha256::HmacSha256(std::unique_ptr<State> state) : state_(std::move(state)) {}
HmacSha256::~HmacSha256() = default;

absl::StatusOr<std::unique_ptr<HmacSha256>> HmacSha256::Create(const SecretBytes& key) {
  if (key.empty()) return absl::InvalidArgumentError("HMAC key is empty");
  MdPtr md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (md == nullptr) return OpenSslError("fetching SHA-256");

  // K0: the key padded with zeros to the block size, or its digest when longer.
  std::array<unsigned char, kHmacBlockSize> k0{};
  std::array<unsigned char, kHmacBlockSize> pad{};
  auto cleanse = [&] {
    OPENSSL_cleanse(k0.data(), k0.size());
    OPENSSL_cleanse(pad.data(), pad.size());
  };
  if (key.size() > kHmacBlockSize) {
    unsigned int len = 0;
    if (EVP_Digest(key.view().data(), key.size(), k0.data(), &len, md.get(), nullptr) !=
        1) {
      cleanse();
      return OpenSslError("hashing a long HMAC key");
    }
  } else {
    std::memcpy(k0.data(), key.view().data(), key.size());
  }

  auto state = std::make_unique<State>();
  auto absorb = [&](unsigned char pad_byte, MdCtxPtr& ctx) -> bool {
    for (size_t i = 0; i < kHmacBlockSize; ++i) pad[i] = k0[i] ^ pad_byte;
    ctx.reset(EVP_MD_CTX_new());
    return ctx != nullptr && EVP_DigestInit_ex2(ctx.get(), md.get(), nullptr) == 1 &&
           EVP_DigestUpdate(ctx.get(), pad.data(), pad.size()) == 1;
  };
  const bool ok = absorb(0x36, state->inner) && absorb(0x5c, state->outer);
  cleanse();
  if (!ok) return OpenSslError("keying HMAC-SHA256");
  return std::unique_ptr<HmacSha256>(new HmacSha256(std::move(state)));
}

std::string HmacSha256::Mac(absl::string_view data) const {
  std::array<unsigned char, kSha256Size> inner_hash;
  std::string out(kSha256Size, '\0');
  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned int inner_len = 0, outer_len = 0;
  // Both copies go into the same context; copy_ex resets it first.
  const bool ok =
      ctx != nullptr && EVP_MD_CTX_copy_ex(ctx.get(), state_->inner.get()) == 1 &&
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1 &&
      EVP_DigestFinal_ex(ctx.get(), inner_hash.data(), &inner_len) == 1 &&
      inner_len == kSha256Size &&
      EVP_MD_CTX_copy_ex(ctx.get(), state_->outer.get()) == 1 &&
      EVP_DigestUpdate(ctx.get(), inner_hash.data(), inner_hash.size()) == 1 &&
      EVP_DigestFinal_ex(ctx.get(), Bytes(out), &outer_len) == 1 &&
      outer_len == kSha256Size;
  if (!ok) DieOnOpenSslFailure("HMAC-SHA256");
  return out;
}

// ---------------------------------------------------------- ConstantTimeEquals

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// ----------------------------------------------------------------------- Aead

namespace {

// AES-256-GCM, fetched once per process (a fetch costs about 0.6 µs, and a
// pipeline creates an Aead for every subject's data key it loads). Fetched
// algorithm objects are reference counted and safe to share across threads.
const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

}  // namespace

struct Aead::State {
  SecretBytes key;
  const EVP_CIPHER* cipher;  // Aes256Gcm(), never null
};

Aead::Aead(std::unique_ptr<State> state) : state_(std::move(state)) {}
Aead::~Aead() = default;

absl::StatusOr<std::unique_ptr<Aead>> Aead::Create(const SecretBytes& key) {
  if (key.size() != kKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("AEAD key has ", key.size(), " bytes, expected ", kKeySize));
  }
  auto state = std::make_unique<State>();
  state->key = key;
  state->cipher = Aes256Gcm();
  if (state->cipher == nullptr) return OpenSslError("fetching AES-256-GCM");
  if (EVP_CIPHER_get_iv_length(state->cipher) != static_cast<int>(kNonceSize)) {
    return absl::InternalError("AES-256-GCM has an unexpected default nonce length");
  }
  return std::unique_ptr<Aead>(new Aead(std::move(state)));
}

absl::StatusOr<std::string> Aead::Seal(absl::string_view plaintext,
                                       absl::string_view associated_data,
                                       RandomSource& random) const {
  if (plaintext.size() > kMaxGcmPlaintext) {
    return absl::InvalidArgumentError("plaintext exceeds the AES-GCM length limit");
  }
  std::string out(kNonceSize + plaintext.size() + kTagSize, '\0');
  random.Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(out.data()), kNonceSize));
  unsigned char* const nonce = Bytes(out);
  unsigned char* const ciphertext = nonce + kNonceSize;
  unsigned char* const tag = ciphertext + plaintext.size();

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return OpenSslError("allocating a cipher context");
  if (EVP_EncryptInit_ex2(ctx.get(), state_->cipher, Bytes(state_->key.view()), nonce,
                          nullptr) != 1) {
    return OpenSslError("initialising AES-256-GCM encryption");
  }
  if (!UpdateInChunks(EVP_EncryptUpdate, ctx.get(), nullptr, associated_data)) {
    return OpenSslError("authenticating associated data");
  }
  if (!UpdateInChunks(EVP_EncryptUpdate, ctx.get(), ciphertext, plaintext)) {
    return OpenSslError("encrypting");
  }
  int final_len = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), tag, &final_len) != 1 || final_len != 0) {
    return OpenSslError("finishing encryption");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize),
                          tag) != 1) {
    return OpenSslError("reading the GCM tag");
  }
  return out;
}

absl::StatusOr<std::string> Aead::Open(absl::string_view sealed,
                                       absl::string_view associated_data) const {
  if (sealed.size() < kOverhead) {
    return absl::InvalidArgumentError(absl::StrCat("sealed data has ", sealed.size(),
                                                   " bytes, fewer than the ", kOverhead,
                                                   " of nonce and tag"));
  }
  const absl::string_view nonce = sealed.substr(0, kNonceSize);
  const absl::string_view ciphertext =
      sealed.substr(kNonceSize, sealed.size() - kOverhead);
  std::array<unsigned char, kTagSize> tag;
  std::memcpy(tag.data(), sealed.data() + sealed.size() - kTagSize, kTagSize);

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return OpenSslError("allocating a cipher context");
  if (EVP_DecryptInit_ex2(ctx.get(), state_->cipher, Bytes(state_->key.view()),
                          Bytes(nonce), nullptr) != 1) {
    return OpenSslError("initialising AES-256-GCM decryption");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize),
                          tag.data()) != 1) {
    return OpenSslError("setting the GCM tag");
  }
  if (!UpdateInChunks(EVP_DecryptUpdate, ctx.get(), nullptr, associated_data)) {
    return OpenSslError("authenticating associated data");
  }
  std::string plaintext(ciphertext.size(), '\0');
  if (!UpdateInChunks(EVP_DecryptUpdate, ctx.get(), Bytes(plaintext), ciphertext)) {
    Wipe(plaintext);
    return OpenSslError("decrypting");
  }
  std::array<unsigned char, kTagSize> no_output;  // GCM emits nothing at the end
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), no_output.data(), &final_len) != 1 ||
      final_len != 0) {
    // Unverified plaintext must not linger.
    Wipe(plaintext);
    ERR_clear_error();
    return absl::DataLossError(
        "sealed data failed authentication (wrong key, wrong associated data or "
        "tampering)");
  }
  return plaintext;
}

}  // namespace privacity::crypto
