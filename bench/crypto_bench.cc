// Crypto kernels on the hot paths: the blind index / pseudonym HMAC of a
// 16-byte identifier, and sealing and opening a 64-byte record payload.
// Baseline: one-shot EVP_Digest SHA-256 of the same input, so the cost of
// keying (HMAC) and of authenticated encryption shows as a ratio. Seal
// includes drawing its nonce from CryptoRandom.
#include <openssl/evp.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "common/random.h"
#include "crypto/crypto.h"

namespace privacity::crypto {
namespace {

constexpr size_t kIdSize = 16;
constexpr size_t kPayloadSize = 64;

std::string Input(size_t n) {
  InsecureDeterministicRandomForTesting random(n);
  return random.Bytes(n);
}

// `md` is EVP_sha256() (OpenSSL 3 then fetches the implementation on every
// call) or a digest fetched once with EVP_MD_fetch (the bare hash cost).
void EvpDigestSha256(benchmark::State& state, const std::string& input,
                     const EVP_MD* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  for (auto _ : state) {
    if (EVP_Digest(input.data(), input.size(), out, &len, md, nullptr) != 1) {
      state.SkipWithError("EVP_Digest failed");
      break;
    }
    benchmark::DoNotOptimize(out);
  }
}

// Baseline for BM_HmacSha256Id.
void BM_BaselineEvpDigestSha256Id(benchmark::State& state) {
  EvpDigestSha256(state, Input(kIdSize), EVP_sha256());
}
BENCHMARK(BM_BaselineEvpDigestSha256Id);

// The same with the digest fetched once, as HmacSha256 does internally.
void BM_BaselineEvpDigestSha256IdPrefetched(benchmark::State& state) {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) {
    state.SkipWithError("EVP_MD_fetch failed");
    return;
  }
  EvpDigestSha256(state, Input(kIdSize), md);
  EVP_MD_free(md);
}
BENCHMARK(BM_BaselineEvpDigestSha256IdPrefetched);

// Baseline for BM_AeadSeal64 and BM_AeadOpen64.
void BM_BaselineEvpDigestSha256Payload(benchmark::State& state) {
  EvpDigestSha256(state, Input(kPayloadSize), EVP_sha256());
}
BENCHMARK(BM_BaselineEvpDigestSha256Payload);

void BM_HmacSha256Id(benchmark::State& state) {
  CryptoRandom random;
  auto hmac = HmacSha256::Create(SecretBytes(random.Bytes(kKeySize)));
  if (!hmac.ok()) {
    state.SkipWithError("HmacSha256::Create failed");
    return;
  }
  const std::string id = Input(kIdSize);
  for (auto _ : state) {
    benchmark::DoNotOptimize((*hmac)->Mac(id));
  }
}
BENCHMARK(BM_HmacSha256Id)->ThreadRange(1, 2);

void BM_AeadSeal64(benchmark::State& state) {
  CryptoRandom random;
  auto aead = Aead::Create(SecretBytes(random.Bytes(kKeySize)));
  if (!aead.ok()) {
    state.SkipWithError("Aead::Create failed");
    return;
  }
  const std::string payload = Input(kPayloadSize);
  for (auto _ : state) {
    auto sealed = (*aead)->Seal(payload, "stream|record", random);
    if (!sealed.ok()) {
      state.SkipWithError("Seal failed");
      break;
    }
    benchmark::DoNotOptimize(*sealed);
  }
}
BENCHMARK(BM_AeadSeal64);

void BM_AeadOpen64(benchmark::State& state) {
  CryptoRandom random;
  auto aead = Aead::Create(SecretBytes(random.Bytes(kKeySize)));
  if (!aead.ok()) {
    state.SkipWithError("Aead::Create failed");
    return;
  }
  auto sealed = (*aead)->Seal(Input(kPayloadSize), "stream|record", random);
  if (!sealed.ok()) {
    state.SkipWithError("Seal failed");
    return;
  }
  for (auto _ : state) {
    auto opened = (*aead)->Open(*sealed, "stream|record");
    if (!opened.ok()) {
      state.SkipWithError("Open failed");
      break;
    }
    benchmark::DoNotOptimize(*opened);
  }
}
BENCHMARK(BM_AeadOpen64);

}  // namespace
}  // namespace privacity::crypto

BENCHMARK_MAIN();
