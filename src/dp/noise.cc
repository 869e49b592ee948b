#include "dp/noise.h"

#include <cmath>
#include <limits>
#include <numeric>

#include "absl/status/status.h"
#include "boost/multiprecision/cpp_int.hpp"

namespace privacity::dp {
namespace {

using u128 = unsigned __int128;
using boost::multiprecision::uint256_t;

constexpr u128 kOne = 1;
// Bounds that keep every product below 2^128 (see the comments at use).
constexpr u128 kMaxBernoulliOperand = kOne << 110;
constexpr uint64_t kMaxLaplaceOperand = uint64_t{1} << 62;
constexpr uint64_t kMaxGaussianSigma2 = uint64_t{1} << 50;
constexpr uint64_t kSmallSigma2 = uint64_t{1} << 10;
constexpr uint64_t kMaxSmallSigma2Den = uint64_t{1} << 20;

uint64_t Gcd(uint64_t a, uint64_t b) { return std::gcd(a, b); }

Rational Reduce(Rational r) {
  const uint64_t g = Gcd(r.num, r.den);
  if (g > 1) {
    r.num /= g;
    r.den /= g;
  }
  return r;
}

bool SampleBernoulli(RandomSource& random, u128 num, u128 den) {
  return SampleUniformBelow(random, den) < num;
}

uint64_t Isqrt(uint64_t n) {
  uint64_t r = static_cast<uint64_t>(std::sqrt(static_cast<long double>(n)));
  // Correct the floating estimate exactly with integer arithmetic.
  while (r > 0 && static_cast<u128>(r) * r > n) --r;
  while (static_cast<u128>(r + 1) * (r + 1) <= n) ++r;
  return r;
}

// Rounds sigma2 UP (more noise, never less privacy) to a rational the
// Gaussian sampler can handle in 128-bit arithmetic.
absl::StatusOr<Rational> NormalizeSigma2(Rational s) {
  s = Reduce(s);
  const uint64_t whole = s.num / s.den;
  if (whole >= kSmallSigma2) {
    // ceil(sigma2) as an integer: at most 0.1% more variance.
    const uint64_t up = whole + (s.num % s.den != 0 ? 1 : 0);
    if (up >= kMaxGaussianSigma2) {
      return absl::InvalidArgumentError(
          "gaussian noise scale too large: raise epsilon or delta, or narrow the bounds");
    }
    return Rational{up, 1};
  }
  while (s.den >= kMaxSmallSigma2Den) {
    // (num+1)/(den/2) > num/den: halving keeps rounding up.
    s.num = s.num / 2 + 1;
    s.den = s.den / 2;
    s = Reduce(s);
  }
  return s;
}

u128 ToU128(const uint256_t& v) {
  const uint64_t lo = static_cast<uint64_t>(v & std::numeric_limits<uint64_t>::max());
  const uint64_t hi =
      static_cast<uint64_t>((v >> 64) & std::numeric_limits<uint64_t>::max());
  return (static_cast<u128>(hi) << 64) | lo;
}

// CKS Algorithm 2: P(Y = y) proportional to exp(-|y| s / t).
int64_t SampleDiscreteLaplace(RandomSource& random, uint64_t s, uint64_t t) {
  while (true) {
    const u128 u = SampleUniformBelow(random, t);
    if (!SampleBernoulliExp(random, u, t)) continue;
    u128 v = 0;
    while (SampleBernoulliExp(random, 1, 1)) ++v;
    const u128 x = u + static_cast<u128>(t) * v;
    const u128 y = x / s;
    const bool negative = SampleBernoulli(random, 1, 2);
    if (negative && y == 0) continue;
    // |y| beyond int64 has probability below exp(-2^62 s/t); treat as a
    // rejection so the returned value is always representable.
    if (y > static_cast<u128>(std::numeric_limits<int64_t>::max())) continue;
    const int64_t value = static_cast<int64_t>(y);
    return negative ? -value : value;
  }
}

}  // namespace

absl::StatusOr<Rational> RationalAtMost(double x) {
  if (!std::isfinite(x))
    return absl::InvalidArgumentError("privacy parameter is not finite");
  const long double scaled = static_cast<long double>(x) * kRationalDenominator;
  if (scaled < 1) {
    return absl::InvalidArgumentError(
        "privacy parameter is below the smallest supported (1e-6)");
  }
  if (scaled > static_cast<long double>(uint64_t{1} << 52)) {
    return absl::InvalidArgumentError("privacy parameter is too large");
  }
  return Reduce(
      Rational{static_cast<uint64_t>(std::floor(scaled)), kRationalDenominator});
}

u128 SampleUniformBelow(RandomSource& random, u128 n) {
  if (n <= 1) return 0;
  if (n <= std::numeric_limits<uint64_t>::max()) {
    const uint64_t m = static_cast<uint64_t>(n);
    // Reject the top partial block so every residue is equally likely.
    const uint64_t limit =
        std::numeric_limits<uint64_t>::max() - (std::numeric_limits<uint64_t>::max() % m);
    while (true) {
      const uint64_t r = random.NextUint64();
      if (r < limit) return r % m;
    }
  }
  const u128 max = ~u128{0};
  const u128 limit = max - (max % n);
  while (true) {
    const u128 r = (static_cast<u128>(random.NextUint64()) << 64) | random.NextUint64();
    if (r < limit) return r % n;
  }
}

// CKS Algorithm 1.
bool SampleBernoulliExp(RandomSource& random, u128 num, u128 den) {
  if (num == 0) return true;
  if (num <= den) {
    // Alternating series: K is the first index at which Bernoulli(gamma/K)
    // fails; P(K odd) = exp(-gamma).
    u128 k = 1;
    while (true) {
      // den * k stays below 2^128: den < 2^110 and k < 2^17 with probability
      // 1 - 1/(2^17)!.
      if (!SampleBernoulli(random, num, den * k)) break;
      ++k;
    }
    return (k % 2) == 1;
  }
  const u128 whole = num / den;
  for (u128 i = 0; i < whole; ++i) {
    if (!SampleBernoulliExp(random, 1, 1)) return false;
  }
  return SampleBernoulliExp(random, num % den, den);
}

absl::StatusOr<int64_t> ExactNoise::DiscreteLaplace(Rational scale) {
  scale = Reduce(scale);
  if (scale.num == 0 || scale.den == 0) {
    return absl::InvalidArgumentError("laplace scale must be positive");
  }
  if (scale.num >= kMaxLaplaceOperand || scale.den >= kMaxLaplaceOperand) {
    return absl::InvalidArgumentError("laplace scale is not representable");
  }
  // Scale t/s: s = den, t = num.
  return SampleDiscreteLaplace(random_, scale.den, scale.num);
}

// CKS Algorithm 3.
absl::StatusOr<int64_t> ExactNoise::DiscreteGaussian(Rational sigma2) {
  if (sigma2.num == 0 || sigma2.den == 0) {
    return absl::InvalidArgumentError("gaussian variance must be positive");
  }
  Rational s2;
  {
    auto normalized = NormalizeSigma2(sigma2);
    if (!normalized.ok()) return normalized.status();
    s2 = *normalized;
  }
  const uint64_t n = s2.num;
  const uint64_t d = s2.den;
  const uint64_t t = Isqrt(n / d) + 1;  // floor(sigma) + 1
  // gamma = (|Y| t d - n)^2 / (2 d t^2 n); denominator < 2^(1+20+22+30) or
  // 2^(1+0+52+50) (see NormalizeSigma2), below kMaxBernoulliOperand.
  const u128 denom = static_cast<u128>(2) * d * t * t * n;
  if (denom >= kMaxBernoulliOperand) {
    return absl::InternalError("gaussian sampler operand out of range");
  }
  while (true) {
    const int64_t y = SampleDiscreteLaplace(random_, 1, t);
    const u128 abs_y = static_cast<u128>(y < 0 ? -static_cast<__int128>(y) : y);
    const u128 ytd = abs_y * d * t;  // < 2^63 * 2^20 * 2^26
    const u128 a = ytd >= n ? ytd - n : n - ytd;
    const uint256_t a2 = uint256_t(a) * uint256_t(a);
    const uint256_t q = a2 / uint256_t(denom);
    const u128 r = ToU128(a2 % uint256_t(denom));
    // Bernoulli(exp(-q - r/denom)) = Bernoulli(exp(-1))^q and then the rest.
    bool accept = true;
    for (uint256_t i = 0; i < q; ++i) {
      if (!SampleBernoulliExp(random_, 1, 1)) {
        accept = false;
        break;
      }
    }
    if (accept && SampleBernoulliExp(random_, r, denom)) return y;
  }
}

uint64_t ExactNoise::UniformBelow(uint64_t n) {
  return static_cast<uint64_t>(SampleUniformBelow(random_, n));
}

absl::StatusOr<int64_t> ZeroNoiseForTestingNotPrivate::DiscreteLaplace(Rational scale) {
  if (scale.num == 0 || scale.den == 0) {
    return absl::InvalidArgumentError("laplace scale must be positive");
  }
  return 0;
}

absl::StatusOr<int64_t> ZeroNoiseForTestingNotPrivate::DiscreteGaussian(Rational sigma2) {
  if (sigma2.num == 0 || sigma2.den == 0) {
    return absl::InvalidArgumentError("gaussian variance must be positive");
  }
  return 0;
}

uint64_t ZeroNoiseForTestingNotPrivate::UniformBelow(uint64_t n) {
  return static_cast<uint64_t>(SampleUniformBelow(random_, n));
}

}  // namespace privacity::dp
