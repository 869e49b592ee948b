// Randomness comes in through RandomSource. Production code uses
// CryptoRandom (OpenSSL's CSPRNG); tests may use
// InsecureDeterministicRandomForTesting, which is NOT random and must never
// reach a release path.
#ifndef PRIVACITY_COMMON_RANDOM_H_
#define PRIVACITY_COMMON_RANDOM_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace privacity {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` with random bytes. Aborts the process if the underlying
  // generator fails: continuing without randomness is never safe.
  virtual void Fill(absl::Span<uint8_t> out) = 0;

  uint64_t NextUint64();
  // Returns `n` random bytes.
  std::string Bytes(size_t n);
};

// OpenSSL RAND_bytes. Thread-safe. Requests of at most kMaxBlockRequest
// bytes (nonces, samplers' draws) are served from a per-thread block of
// RAND_bytes output, discarded after fork(); larger ones (keys) are drawn
// directly.
class CryptoRandom final : public RandomSource {
 public:
  static constexpr size_t kMaxBlockRequest = 16;
  CryptoRandom();
  void Fill(absl::Span<uint8_t> out) override;
};

// Deterministic SplitMix64 stream for tests. NOT A SECURE RANDOM SOURCE:
// anything keyed or noised with it is predictable.
class InsecureDeterministicRandomForTesting final : public RandomSource {
 public:
  explicit InsecureDeterministicRandomForTesting(uint64_t seed) : state_(seed) {}
  void Fill(absl::Span<uint8_t> out) override;

 private:
  absl::Mutex mu_;
  uint64_t state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace privacity

#endif  // PRIVACITY_COMMON_RANDOM_H_
