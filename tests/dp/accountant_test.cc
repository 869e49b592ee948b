// The accountant: conversions, composition, and charging a real store.
#include "dp/accountant.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace privacity::dp {
namespace {

TEST(ConversionTest, RhoRoundTripsToEpsilon) {
  for (double eps : {0.1, 0.5, 1.0, 3.0}) {
    for (double delta : {1e-5, 1e-9}) {
      auto rho = RhoFromEpsilonDelta(eps, delta);
      ASSERT_TRUE(rho.ok());
      const double back = EpsilonFromRho(*rho, delta);
      EXPECT_LE(back, eps);
      EXPECT_NEAR(back, eps, 1e-6 * eps);
    }
  }
  EXPECT_FALSE(RhoFromEpsilonDelta(1, 0).ok());
  EXPECT_FALSE(RhoFromEpsilonDelta(0, 1e-5).ok());
  EXPECT_FALSE(RhoFromEpsilonDelta(1, 1).ok());
}

TEST(ComposeTest, PureSumsAndZcdpComposesTighter) {
  EXPECT_DOUBLE_EQ(
      ComposeLosses({{Mechanism::kLaplace, 0.2}, {Mechanism::kLaplace, 0.3}}, 0).epsilon,
      0.5);
  // Ten Gaussian releases of rho: zCDP total beats summing converted epsilons.
  const double delta = 1e-6;
  std::vector<Release> gaussians(10, Release{Mechanism::kGaussian, 0, 0.001, 0});
  const PrivacyLoss total = ComposeLosses(gaussians, delta);
  EXPECT_NEAR(total.epsilon, EpsilonFromRho(0.01, delta), 1e-12);
  EXPECT_LT(total.epsilon, 10 * EpsilonFromRho(0.001, delta / 10));
  EXPECT_DOUBLE_EQ(total.delta, delta);
  // Partition-selection deltas add.
  const PrivacyLoss mixed = ComposeLosses({{Mechanism::kLaplace, 0.5, 0, 1e-7}}, delta);
  EXPECT_DOUBLE_EQ(mixed.epsilon, 0.5);
  EXPECT_DOUBLE_EQ(mixed.delta, 1e-7);
}

TEST(BudgetPeriodTest, FloorsSinceEpoch) {
  const absl::Duration month = absl::Hours(24 * 30);
  EXPECT_EQ(BudgetPeriod(absl::UnixEpoch(), month), 0);
  EXPECT_EQ(BudgetPeriod(absl::UnixEpoch() + month - absl::Seconds(1), month), 0);
  EXPECT_EQ(BudgetPeriod(absl::UnixEpoch() + month, month), 1);
}

class AccountantTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/privacity-dp-acct-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = store::OpenStore("sqlite:budget.db", dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  config::Budget cap_{.epsilon = 1.0, .delta = 0, .period = absl::Hours(24 * 30)};
  absl::Time now_ = absl::FromUnixSeconds(1'357'000'000);
  std::string dir_;
  store::StorePtr store_;
};

TEST_F(AccountantTest, ChargesAddUpAndTheOverflowingQueryIsRefused) {
  BudgetAccountant acct(*store_, "a1", cap_, now_);
  for (int i = 0; i < 5; ++i) {
    auto c =
        acct.Charge(absl::StrCat("q", i), PrivacyLoss{0.2, 0}, absl::StrCat("answer", i));
    ASSERT_TRUE(c.ok()) << i << c.status();
  }
  auto left = acct.Remaining();
  ASSERT_TRUE(left.ok());
  EXPECT_NEAR(left->epsilon, 0, 1e-9);
  auto refused = acct.Charge("q5", PrivacyLoss{0.2, 0}, "answer5");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(refused.status().message()).find("remaining epsilon"),
            std::string::npos);
  // The identical query is free and returns the cached answer.
  auto again = acct.Charge("q0", PrivacyLoss{0.2, 0}, "fresh");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->result, "answer0");
  // The next period starts afresh.
  BudgetAccountant next(*store_, "a1", cap_, now_ + cap_.period);
  EXPECT_TRUE(next.Charge("q5", PrivacyLoss{0.2, 0}, "x").ok());
}

TEST_F(AccountantTest, DeltaCapIsEnforced) {
  config::Budget cap{.epsilon = 10, .delta = 1e-6, .period = absl::Hours(24)};
  BudgetAccountant acct(*store_, "a2", cap, now_);
  EXPECT_TRUE(acct.Charge("g1", PrivacyLoss{1, 6e-7}, "r").ok());
  EXPECT_EQ(acct.Charge("g2", PrivacyLoss{1, 6e-7}, "r").status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(AccountantTest, StatusShowsThePeriodSpentAndRemaining) {
  BudgetAccountant acct(*store_, "a3", cap_, now_);
  ASSERT_TRUE(acct.Charge("q1", PrivacyLoss{0.25, 0}, "r").ok());
  auto st = acct.Status();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->agreement, "a3");
  EXPECT_LE(st->period_start, now_);
  EXPECT_GT(st->period_end, now_);
  EXPECT_EQ(st->period_end - st->period_start, cap_.period);
  EXPECT_DOUBLE_EQ(st->spent.TotalEpsilon(), 0.25);
  EXPECT_DOUBLE_EQ(st->remaining.epsilon, 0.75);
}

// Gaussian releases compose under zCDP: more of them fit than summing each
// release's own (epsilon, delta) would allow, and the converted total never
// exceeds the cap.
TEST_F(AccountantTest, GaussianReleasesComposeUnderZcdp) {
  config::Budget cap{.epsilon = 1.0, .delta = 1e-5, .period = absl::Hours(24)};
  BudgetAccountant acct(*store_, "zcdp", cap, now_);
  const double eps = 0.3, delta = 1e-6;
  auto rho = RhoFromEpsilonDelta(eps, delta);
  ASSERT_TRUE(rho.ok());
  int granted = 0;
  for (int i = 0; i < 20; ++i) {
    auto c = acct.Charge(absl::StrCat("g", i), PrivacyLoss{0, 0, *rho, delta}, "r");
    if (!c.ok()) {
      EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
      break;
    }
    ++granted;
  }
  EXPECT_GT(granted, 3);  // basic composition: floor(1.0 / 0.3) = 3
  auto st = acct.Status();
  ASSERT_TRUE(st.ok());
  EXPECT_LE(st->spent.TotalEpsilon(), cap.epsilon * (1 + 1e-9));
  EXPECT_LE(st->spent.TotalDelta(), cap.delta * (1 + 1e-9));
  EXPECT_NEAR(st->spent.rho, granted * *rho, 1e-12);
  // The ledger's total is the zCDP composition of the releases.
  EXPECT_DOUBLE_EQ(
      ComposeLosses({{Mechanism::kGaussian, 0, st->spent.rho, 0}}, st->spent.rho_delta)
          .epsilon,
      st->spent.TotalEpsilon());
}

TEST_F(AccountantTest, ConcurrentChargesNeverOverspend) {
  std::vector<std::thread> threads;
  std::atomic<int> granted{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      // Each thread opens its own store handle, as separate processes would.
      auto store = store::OpenStore("sqlite:budget.db", dir_);
      ASSERT_TRUE(store.ok()) << store.status();
      BudgetAccountant acct(**store, "race", cap_, now_);
      for (int i = 0; i < 5; ++i) {
        auto c = acct.Charge(absl::StrCat("t", t, "q", i), PrivacyLoss{0.1, 0}, "r");
        if (c.ok()) {
          ++granted;
        } else {
          EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted)
              << c.status();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), 10);
  auto spent = store_->SpentBudget("race", BudgetPeriod(now_, cap_.period));
  ASSERT_TRUE(spent.ok());
  EXPECT_LE(spent->epsilon, cap_.epsilon + 1e-9);
}

}  // namespace
}  // namespace privacity::dp
