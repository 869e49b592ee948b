#include "common/random.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace privacity {

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

void CryptoRandom::Fill(absl::Span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    // RAND_bytes takes an int length.
    const size_t chunk = std::min<size_t>(out.size() - done, 1 << 20);
    if (RAND_bytes(out.data() + done, static_cast<int>(chunk)) != 1) {
      std::fputs("privacity: CSPRNG failure, aborting\n", stderr);
      std::abort();
    }
    done += chunk;
  }
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
