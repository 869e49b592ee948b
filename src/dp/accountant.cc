#include "dp/accountant.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace privacity::dp {

std::string_view ToString(Mechanism m) {
  return m == Mechanism::kGaussian ? "gaussian" : "laplace";
}

double PrivacyLoss::TotalEpsilon() const {
  return store::BudgetSpent{epsilon, delta, rho, rho_delta}.TotalEpsilon();
}

double EpsilonFromRho(double rho, double delta) {
  return rho + 2 * std::sqrt(rho * std::log(1 / delta));
}

absl::StatusOr<double> RhoFromEpsilonDelta(double epsilon, double delta) {
  if (!std::isfinite(epsilon) || epsilon <= 0) {
    return absl::InvalidArgumentError("epsilon must be positive");
  }
  if (!std::isfinite(delta) || delta <= 0 || delta >= 1) {
    return absl::InvalidArgumentError("gaussian noise needs 0 < delta < 1");
  }
  const double l = std::log(1 / delta);
  const double root = std::sqrt(l + epsilon) - std::sqrt(l);
  // Shave a relative 1e-9 so floating rounding never lands above epsilon.
  return root * root * (1 - 1e-9);
}

PrivacyLoss ComposeLosses(const std::vector<Release>& releases, double conversion_delta) {
  PrivacyLoss total;
  double rho = 0;
  bool gaussian = false;
  for (const Release& r : releases) {
    if (r.mechanism == Mechanism::kGaussian) {
      gaussian = true;
      rho += r.rho;
    } else {
      total.epsilon += r.epsilon;
    }
    total.delta += r.delta;
  }
  if (gaussian) {
    total.epsilon += EpsilonFromRho(rho, conversion_delta);
    total.delta += conversion_delta;
  }
  return total;
}

int64_t BudgetPeriod(absl::Time now, absl::Duration period) {
  if (period <= absl::ZeroDuration()) return 0;
  absl::Duration rem;
  int64_t q = absl::IDivDuration(now - absl::UnixEpoch(), period, &rem);
  if (rem < absl::ZeroDuration()) --q;  // floor before 1970
  return q;
}

absl::StatusOr<store::BudgetCharge> BudgetAccountant::Charge(const std::string& query_key,
                                                             PrivacyLoss loss,
                                                             const std::string& result) {
  store::BudgetCharge charge;
  charge.agreement = agreement_;
  charge.period = period_;
  charge.query_key = query_key;
  charge.epsilon = loss.epsilon;
  charge.delta = loss.delta;
  charge.rho = loss.rho;
  charge.rho_delta = loss.rho_delta;
  charge.time = now_;
  charge.result = result;
  // The store's ResourceExhausted already names what remains.
  return store_.ChargeBudget(charge, store::BudgetSpent{cap_.epsilon, cap_.delta});
}

absl::StatusOr<PrivacyLoss> BudgetAccountant::Remaining() {
  ASSIGN_OR_RETURN(BudgetStatus status, Status());
  return status.remaining;
}

absl::StatusOr<BudgetStatus> BudgetAccountant::Status() {
  ASSIGN_OR_RETURN(store::BudgetSpent spent, store_.SpentBudget(agreement_, period_));
  BudgetStatus s;
  s.agreement = agreement_;
  s.cap = cap_;
  s.period = period_;
  s.period_start = absl::UnixEpoch() + cap_.period * period_;
  s.period_end = s.period_start + cap_.period;
  s.spent = PrivacyLoss{spent.epsilon, spent.delta, spent.rho, spent.rho_delta};
  // Rounding dust (a cap spent exactly) shows as 0.
  auto left = [](double cap, double used) {
    const double l = cap - used;
    return l <= cap * 1e-10 ? 0.0 : l;
  };
  s.remaining = PrivacyLoss{left(cap_.epsilon, spent.TotalEpsilon()),
                            left(cap_.delta, spent.TotalDelta())};
  return s;
}

}  // namespace privacity::dp
