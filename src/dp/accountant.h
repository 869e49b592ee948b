// Privacy accounting: how much of an agreement's budget a release costs,
// and charging it.
//
// Two mechanisms are accounted, each with its own composition:
//  - Laplace releases are epsilon-DP (pure); pure DP composes by summing
//    epsilons.
//  - Gaussian releases are rho-zCDP with rho = D^2 / (2 sigma^2) for L2
//    sensitivity D (Bun and Steinke 2016; Canonne, Kamath, Steinke 2020 for
//    the discrete Gaussian). zCDP composes by summing rho, and rho-zCDP
//    implies (rho + 2 sqrt(rho ln(1/delta)), delta)-DP for every delta > 0.
// A release's loss (PrivacyLoss) keeps both parts: a pure epsilon (plus a
// delta for approximate steps such as partition selection) and a rho with
// the delta it is converted at. The ledger (store::Store::ChargeBudget)
// stores all four numbers per charge, sums each over the period, converts
// the summed rho once, and compares the total (epsilon, delta) with the
// agreement's cap. A Gaussian request is stated in (epsilon, delta): it
// gets the largest rho whose conversion at that delta is at most epsilon.
#ifndef PRIVACITY_DP_ACCOUNTANT_H_
#define PRIVACITY_DP_ACCOUNTANT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/model.h"
#include "store/store.h"

namespace privacity::dp {

enum class Mechanism { kLaplace, kGaussian };

// "laplace" / "gaussian".
std::string_view ToString(Mechanism m);

// The loss of one release (or a sum of them), as charged against a cap.
struct PrivacyLoss {
  double epsilon = 0;    // pure-DP epsilon
  double delta = 0;      // delta outside the zCDP conversion
  double rho = 0;        // zCDP part; 0 for pure releases
  double rho_delta = 0;  // the delta rho is converted at; > 0 when rho > 0

  // The (epsilon, delta)-DP guarantee: epsilon + EpsilonFromRho(rho,
  // rho_delta), and delta + rho_delta.
  double TotalEpsilon() const;
  double TotalDelta() const { return delta + rho_delta; }
};

// What a period of an agreement's budget looks like (GET /v1/budget).
struct BudgetStatus {
  std::string agreement;
  config::Budget cap;
  int64_t period = 0;
  absl::Time period_start;
  absl::Time period_end;
  PrivacyLoss spent;      // sums of the period's charges
  PrivacyLoss remaining;  // cap minus spent totals (epsilon, delta), >= 0
};

// rho + 2 sqrt(rho ln(1/delta)). REQUIRES: rho >= 0, 0 < delta < 1.
double EpsilonFromRho(double rho, double delta);

// The largest rho with EpsilonFromRho(rho, delta) <= epsilon:
//   rho = (sqrt(ln(1/delta) + epsilon) - sqrt(ln(1/delta)))^2.
// InvalidArgument unless epsilon > 0 and 0 < delta < 1.
absl::StatusOr<double> RhoFromEpsilonDelta(double epsilon, double delta);

// One release in a composition.
struct Release {
  Mechanism mechanism = Mechanism::kLaplace;
  double epsilon = 0;  // Laplace: its epsilon. Gaussian: unused.
  double rho = 0;      // Gaussian: its rho.
  double delta = 0;    // extra delta (partition selection), added as is
};

// The (epsilon, delta) of running all of `releases`: Laplace epsilons
// summed, Gaussian rhos summed and converted at `conversion_delta` (which
// is added to delta when any Gaussian release is present), extra deltas
// summed.
PrivacyLoss ComposeLosses(const std::vector<Release>& releases, double conversion_delta);

// The budget period a time falls in: floor(now / period) since 1970.
int64_t BudgetPeriod(absl::Time now, absl::Duration period);

// Charges releases of one agreement against its per-period cap.
class BudgetAccountant {
 public:
  // REQUIRES: `store` outlives the accountant.
  BudgetAccountant(store::Store& store, std::string agreement, config::Budget cap,
                   absl::Time now)
      : store_(store),
        agreement_(std::move(agreement)),
        cap_(cap),
        now_(now),
        period_(BudgetPeriod(now, cap.period)) {}

  int64_t period() const { return period_; }

  // Atomically charges `loss` for the query `query_key` with its released
  // answer `result`. Returns the stored charge: when the same query was
  // already charged this period, that earlier charge with its cached
  // answer, at no new cost. ResourceExhausted when the charge would exceed
  // the cap; the message names the remaining epsilon and delta.
  absl::StatusOr<store::BudgetCharge> Charge(const std::string& query_key,
                                             PrivacyLoss loss, const std::string& result);

  // What is left of this period's budget (never negative), as (epsilon,
  // delta).
  absl::StatusOr<PrivacyLoss> Remaining();

  // The cap, the period's bounds, what was spent and what remains.
  absl::StatusOr<BudgetStatus> Status();

 private:
  store::Store& store_;
  std::string agreement_;
  config::Budget cap_;
  absl::Time now_;
  int64_t period_;
};

}  // namespace privacity::dp

#endif  // PRIVACITY_DP_ACCOUNTANT_H_
