// Statistical tests of the exact samplers: each is compared with its exact
// distribution by a chi-square test over 10^6 draws, with a threshold that
// still rejects the same draws against a scale 10% off.
#include "dp/noise.h"

#include <cmath>
#include <map>
#include <vector>

#include "common/random.h"
#include "gtest/gtest.h"

namespace privacity::dp {
namespace {

constexpr int kDraws = 1'000'000;
// Chi-square critical value far in the tail for ~20-40 degrees of freedom
// (p < 1e-6 at 40 dof is about 95): a correct sampler passes with a fixed
// seed, a 10% scale error exceeds it by orders of magnitude.
constexpr double kChiSquareLimit = 110;

// pmf over the integers, truncated to |y| <= kMax (tails lumped).
using Pmf = std::function<double(int64_t)>;
constexpr int64_t kMax = 15;

double ChiSquare(const std::map<int64_t, int64_t>& counts, const Pmf& pmf) {
  // Normalise over a wide range; lump |y| > kMax into two tail bins.
  double z = 0;
  for (int64_t y = -2000; y <= 2000; ++y) z += pmf(y);
  double chi = 0;
  double tail_lo_p = 0, tail_hi_p = 0;
  for (int64_t y = -2000; y < -kMax; ++y) tail_lo_p += pmf(y) / z;
  for (int64_t y = kMax + 1; y <= 2000; ++y) tail_hi_p += pmf(y) / z;
  int64_t tail_lo = 0, tail_hi = 0;
  for (const auto& [y, c] : counts) {
    if (y < -kMax) tail_lo += c;
    if (y > kMax) tail_hi += c;
  }
  auto term = [&](double observed, double p) {
    const double expected = p * kDraws;
    if (expected < 5) return 0.0;  // too small to test, standard practice
    return (observed - expected) * (observed - expected) / expected;
  };
  for (int64_t y = -kMax; y <= kMax; ++y) {
    auto it = counts.find(y);
    chi += term(it == counts.end() ? 0 : static_cast<double>(it->second), pmf(y) / z);
  }
  chi += term(static_cast<double>(tail_lo), tail_lo_p);
  chi += term(static_cast<double>(tail_hi), tail_hi_p);
  return chi;
}

std::map<int64_t, int64_t> Draw(const std::function<int64_t()>& f) {
  std::map<int64_t, int64_t> counts;
  for (int i = 0; i < kDraws; ++i) ++counts[f()];
  return counts;
}

Pmf LaplacePmf(double b) {
  return [b](int64_t y) { return std::exp(-std::fabs(static_cast<double>(y)) / b); };
}
Pmf GaussianPmf(double sigma2) {
  return [sigma2](int64_t y) {
    return std::exp(-static_cast<double>(y) * static_cast<double>(y) / (2 * sigma2));
  };
}

TEST(BernoulliExpTest, MatchesExpMinusGamma) {
  InsecureDeterministicRandomForTesting random(7);
  for (auto [num, den] :
       std::vector<std::pair<int, int>>{{1, 3}, {1, 1}, {5, 2}, {0, 1}}) {
    constexpr int n = 200'000;
    int hits = 0;
    for (int i = 0; i < n; ++i) hits += SampleBernoulliExp(random, num, den) ? 1 : 0;
    const double p = std::exp(-static_cast<double>(num) / den);
    const double se = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(static_cast<double>(hits) / n, p, 5 * se + 1e-9) << num << "/" << den;
  }
}

TEST(UniformTest, EveryResidueEquallyLikely) {
  InsecureDeterministicRandomForTesting random(3);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70'000; ++i)
    ++counts[static_cast<int>(SampleUniformBelow(random, 7))];
  for (int c : counts) EXPECT_NEAR(c, 10'000, 500);
}

TEST(DiscreteLaplaceTest, ChiSquareAgainstExactDistribution) {
  for (Rational scale : {Rational{2, 1}, Rational{5, 3}}) {
    InsecureDeterministicRandomForTesting random(11);
    ExactNoise noise(random);
    const auto counts = Draw([&] { return *noise.DiscreteLaplace(scale); });
    const double b = static_cast<double>(scale.num) / scale.den;
    EXPECT_LT(ChiSquare(counts, LaplacePmf(b)), kChiSquareLimit) << b;
    EXPECT_GT(ChiSquare(counts, LaplacePmf(b * 1.1)), kChiSquareLimit) << b;
    EXPECT_GT(ChiSquare(counts, LaplacePmf(b / 1.1)), kChiSquareLimit) << b;

    // Mean, variance and the ratio P(k)/P(k+1) = exp(1/b).
    double sum = 0, sq = 0;
    for (const auto& [y, c] : counts) {
      sum += static_cast<double>(y) * c;
      sq += static_cast<double>(y) * y * c;
    }
    const double p = std::exp(-1 / b);
    const double var = 2 * p / ((1 - p) * (1 - p));
    EXPECT_NEAR(sum / kDraws, 0, 5 * std::sqrt(var / kDraws));
    EXPECT_NEAR(sq / kDraws, var, 0.03 * var);
    for (int64_t k = 0; k < 3; ++k) {
      const double ratio = static_cast<double>(counts.at(k)) / counts.at(k + 1);
      EXPECT_NEAR(ratio, std::exp(1 / b), 0.05 * std::exp(1 / b)) << k;
    }
  }
}

TEST(DiscreteGaussianTest, ChiSquareAgainstExactDistribution) {
  for (Rational sigma2 : {Rational{4, 1}, Rational{7, 3}, Rational{2000, 1}}) {
    InsecureDeterministicRandomForTesting random(13);
    ExactNoise noise(random);
    const auto counts = Draw([&] { return *noise.DiscreteGaussian(sigma2); });
    const double s2 = static_cast<double>(sigma2.num) / sigma2.den;
    if (s2 < 100) {
      EXPECT_LT(ChiSquare(counts, GaussianPmf(s2)), kChiSquareLimit) << s2;
      EXPECT_GT(ChiSquare(counts, GaussianPmf(s2 * 1.21)), kChiSquareLimit)
          << s2;  // sigma +10%
      EXPECT_GT(ChiSquare(counts, GaussianPmf(s2 / 1.21)), kChiSquareLimit) << s2;
      for (int64_t k = 0; k < 2; ++k) {
        const double ratio = static_cast<double>(counts.at(k)) / counts.at(k + 1);
        const double expected = std::exp((2 * k + 1) / (2 * s2));
        EXPECT_NEAR(ratio, expected, 0.03 * expected) << k;
      }
    }
    double sum = 0, sq = 0;
    for (const auto& [y, c] : counts) {
      sum += static_cast<double>(y) * c;
      sq += static_cast<double>(y) * y * c;
    }
    EXPECT_NEAR(sum / kDraws, 0, 5 * std::sqrt(s2 / kDraws));
    // The discrete Gaussian's variance is at most sigma^2 and close to it.
    EXPECT_NEAR(sq / kDraws, s2, 0.03 * s2);
  }
}

TEST(NoiseTest, RejectsZeroScale) {
  InsecureDeterministicRandomForTesting random(1);
  ExactNoise noise(random);
  EXPECT_FALSE(noise.DiscreteLaplace(Rational{0, 1}).ok());
  EXPECT_FALSE(noise.DiscreteGaussian(Rational{0, 1}).ok());
  EXPECT_FALSE(noise.DiscreteGaussian(Rational{uint64_t{1} << 60, 1}).ok());
}

TEST(NoiseTest, ZeroNoiseIsZero) {
  InsecureDeterministicRandomForTesting random(1);
  ZeroNoiseForTestingNotPrivate noise(random);
  EXPECT_EQ(*noise.DiscreteLaplace(Rational{3, 1}), 0);
  EXPECT_EQ(*noise.DiscreteGaussian(Rational{3, 1}), 0);
}

TEST(RationalTest, RoundsDown) {
  auto r = RationalAtMost(0.2);
  ASSERT_TRUE(r.ok());
  EXPECT_LE(static_cast<double>(r->num) / r->den, 0.2);
  EXPECT_NEAR(static_cast<double>(r->num) / r->den, 0.2, 1e-6);
  auto third = RationalAtMost(1.0 / 3);
  ASSERT_TRUE(third.ok());
  EXPECT_LE(static_cast<long double>(third->num) / third->den, 1.0L / 3);
  EXPECT_FALSE(RationalAtMost(1e-9).ok());
  EXPECT_FALSE(RationalAtMost(std::nan("")).ok());
  EXPECT_FALSE(RationalAtMost(-1).ok());
}

}  // namespace
}  // namespace privacity::dp
