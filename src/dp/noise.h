// Exact discrete noise for differential privacy.
//
// Every sampler here uses only integer and rational arithmetic on bits drawn
// from a RandomSource, following Canonne, Kamath and Steinke, "The Discrete
// Gaussian for Differential Privacy" (NeurIPS 2020), Algorithms 1-3:
//   1. Bernoulli(exp(-gamma)) for rational gamma, by the alternating-series
//      rejection method (and repeated Bernoulli(exp(-1)) for gamma > 1);
//   2. discrete Laplace, from a geometric variable built out of (1);
//   3. discrete Gaussian, by rejection from a discrete Laplace.
// No floating-point number is touched between the random bits and the
// returned integer, so the distribution is exactly the one the privacy proof
// is about (no Mironov 2012 floating-point attack surface).
//
// Production code samples through ExactNoise over CryptoRandom. Tests that
// need exact answers use ZeroNoiseForTestingNotPrivate, which adds nothing
// and therefore gives NO privacy at all.
#ifndef PRIVACITY_DP_NOISE_H_
#define PRIVACITY_DP_NOISE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "common/random.h"

namespace privacity::dp {

// A positive rational num/den. Noise scales are rationals so that sampling
// is exact; see RationalAtMost/RationalAtLeast for how a real becomes one.
struct Rational {
  uint64_t num = 0;
  uint64_t den = 1;
};

// Denominator used to turn a real privacy parameter into a rational.
inline constexpr uint64_t kRationalDenominator = 1'000'000;

// floor(x * kRationalDenominator) / kRationalDenominator (reduced). Used for
// epsilon and rho: rounding the privacy parameter DOWN makes the noise
// larger, so the released guarantee is never weaker than the one charged.
// InvalidArgument when x is not finite, is < 1/kRationalDenominator, or is
// too large to represent.
absl::StatusOr<Rational> RationalAtMost(double x);

// Samples Bernoulli(exp(-gamma)), gamma = num/den >= 0. Exact.
// REQUIRES: den > 0; num and den < 2^100.
bool SampleBernoulliExp(RandomSource& random, unsigned __int128 num,
                        unsigned __int128 den);

// Uniform integer in [0, n). Exact (rejection). REQUIRES: n > 0.
unsigned __int128 SampleUniformBelow(RandomSource& random, unsigned __int128 n);

// The source of noise of a release. Implementations are thread-compatible:
// one per release, or guard it.
class NoiseSource {
 public:
  virtual ~NoiseSource() = default;

  // Discrete Laplace with scale b = scale.num/scale.den:
  //   P(Y = y) proportional to exp(-|y| / b), y an integer.
  // Adding it to an integer query of L1 sensitivity D with b = D/epsilon is
  // epsilon-DP. InvalidArgument for a zero or unrepresentable scale.
  virtual absl::StatusOr<int64_t> DiscreteLaplace(Rational scale) = 0;

  // Discrete Gaussian with variance parameter sigma^2 = sigma2.num/sigma2.den:
  //   P(Y = y) proportional to exp(-y^2 / (2 sigma^2)).
  // Adding it to an integer query of L2 sensitivity D is
  // (D^2 / (2 sigma^2))-zCDP. InvalidArgument for a zero or unrepresentable
  // sigma2.
  virtual absl::StatusOr<int64_t> DiscreteGaussian(Rational sigma2) = 0;

  // Uniform integer in [0, n) for random orders (reservoir / first-k).
  // REQUIRES: n > 0.
  virtual uint64_t UniformBelow(uint64_t n) = 0;
};

// The real thing: exact samplers over `random` (CryptoRandom in production).
class ExactNoise final : public NoiseSource {
 public:
  // REQUIRES: `random` outlives this object.
  explicit ExactNoise(RandomSource& random) : random_(random) {}

  absl::StatusOr<int64_t> DiscreteLaplace(Rational scale) override;
  absl::StatusOr<int64_t> DiscreteGaussian(Rational sigma2) override;
  uint64_t UniformBelow(uint64_t n) override;

 private:
  RandomSource& random_;
};

// NOT PRIVATE. Adds no noise at all (every sample is 0), so answers are
// exact; only for tests that check the aggregation and bounding logic.
// Random orders still come from `random` so bounding is exercised.
class ZeroNoiseForTestingNotPrivate final : public NoiseSource {
 public:
  explicit ZeroNoiseForTestingNotPrivate(RandomSource& random) : random_(random) {}

  absl::StatusOr<int64_t> DiscreteLaplace(Rational scale) override;
  absl::StatusOr<int64_t> DiscreteGaussian(Rational sigma2) override;
  uint64_t UniformBelow(uint64_t n) override;

 private:
  RandomSource& random_;
};

}  // namespace privacity::dp

#endif  // PRIVACITY_DP_NOISE_H_
