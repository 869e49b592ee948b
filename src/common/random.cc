#include "common/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace privacity {
namespace {

[[noreturn]] void DieOnCsprngFailure() {
  std::fputs("privacity: CSPRNG failure, aborting\n", stderr);
  std::abort();
}

void RandBytes(uint8_t* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    // RAND_bytes takes an int length.
    const size_t chunk = std::min<size_t>(n - done, 1 << 20);
    if (RAND_bytes(out + done, static_cast<int>(chunk)) != 1) DieOnCsprngFailure();
    done += chunk;
  }
}

// Bumped in a forked child, so that the child never serves bytes its parent
// drew (both would hand out the same nonces).
std::atomic<uint64_t> fork_generation{0};

void RegisterForkHandlerOnce() {
  static const bool registered = [] {
    return pthread_atfork(nullptr, nullptr, [] {
             fork_generation.fetch_add(1, std::memory_order_relaxed);
           }) == 0;
  }();
  if (!registered) DieOnCsprngFailure();
}

// A per-thread block of RAND_bytes output for small requests. One RAND_bytes
// call costs about the same for 512 bytes as for 12 (about 0.8 µs: the DRBG
// re-keys on every call), and sealing a record needs a 12-byte nonce. Bytes
// are wiped from the block as they are served, and the block when the
// thread ends.
class RandomBlock {
 public:
  ~RandomBlock() { OPENSSL_cleanse(block_.data(), block_.size()); }

  void Fill(uint8_t* out, size_t n) {
    const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
    if (generation != generation_ || block_.size() - next_ < n) {
      RandBytes(block_.data(), block_.size());
      next_ = 0;
      generation_ = generation;
    }
    std::memcpy(out, block_.data() + next_, n);
    OPENSSL_cleanse(block_.data() + next_, n);
    next_ += n;
  }

 private:
  std::array<uint8_t, 512> block_{};
  size_t next_ = 512;  // empty: the first request fills it
  uint64_t generation_ = 0;
};

}  // namespace

uint64_t RandomSource::NextUint64() {
  uint8_t buf[8];
  Fill(absl::MakeSpan(buf));
  uint64_t v;
  std::memcpy(&v, buf, sizeof(v));
  return v;
}

std::string RandomSource::Bytes(size_t n) {
  std::string out(n, '\0');
  Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(out.data()), n));
  return out;
}

CryptoRandom::CryptoRandom() { RegisterForkHandlerOnce(); }

void CryptoRandom::Fill(absl::Span<uint8_t> out) {
  // Keys (32 bytes and more) come straight from RAND_bytes and never sit in
  // a block.
  if (out.size() > kMaxBlockRequest) {
    RandBytes(out.data(), out.size());
    return;
  }
  thread_local RandomBlock block;
  block.Fill(out.data(), out.size());
}

void InsecureDeterministicRandomForTesting::Fill(absl::Span<uint8_t> out) {
  absl::MutexLock lock(&mu_);
  size_t i = 0;
  while (i < out.size()) {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    for (int b = 0; b < 8 && i < out.size(); ++b, ++i) {
      out[i] = static_cast<uint8_t>(z >> (8 * b));
    }
  }
}

}  // namespace privacity
