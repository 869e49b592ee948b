// The aggregate view: differentially private statistics of one stream under
// an aggregate agreement's budget (src/dp/, docs/dp.md).
//
// RunAggregate decides at the aggregate level, scans the stream, opens the
// sealed payloads, leaves out subjects without consent (consent-based
// purposes) or with an objection, bounds each subject's contribution, adds
// exact discrete noise, and charges the agreement's budget for the period
// atomically together with the noised answer. Nothing leaves before the
// charge is recorded; an identical query in the same period returns the
// cached answer and costs nothing. Transport-independent: an HTTP route
// parses the body with ParseAggregateRequest, sets the party from its
// authentication and the stream from its path, and calls RunAggregate.
#ifndef PRIVACITY_SERVER_AGGREGATE_VIEW_H_
#define PRIVACITY_SERVER_AGGREGATE_VIEW_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dp/accountant.h"
#include "dp/aggregate.h"
#include "nlohmann/json.hpp"
#include "policy/decision.h"
#include "server/trust.h"

namespace privacity::server {

struct AggregateRequest {
  std::string party;  // from authentication, never from the body
  std::string purpose;
  std::string stream;
  dp::Metric metric = dp::Metric::kCount;
  dp::Mechanism mechanism = dp::Mechanism::kLaplace;
  std::vector<std::string> group_by;  // "time:1d", "cell:12", an enum field
  std::optional<absl::Time> from;     // inclusive
  std::optional<absl::Time> to;       // exclusive
  std::string value;                  // measured field (sum, mean, quantiles, histogram)
  std::optional<double> lower;
  std::optional<double> upper;
  std::vector<double> quantiles = {0.5};
  double epsilon = 0;
  double delta = 0;
  int64_t max_partitions = 1;             // L0
  int64_t max_records_per_partition = 1;  // Linf
};

// Parses a request body:
//   {"purpose":"research","metric":"count","group_by":["time:1d"],
//    "from":"2013-01-01T00:00:00Z","to":"2013-02-01T00:00:00Z","epsilon":0.2}
// with optional "stream", "mechanism" ("laplace" | "gaussian"), "delta",
// "value", "lower", "upper", "quantiles", "max_partitions",
// "max_records_per_partition". The party is not part of the body.
// InvalidArgument names the key and the reason for malformed JSON, a
// non-object, a wrong type, an unknown key, an unknown metric or mechanism,
// a bad timestamp, or a missing purpose, metric or epsilon. Error messages
// never echo values.
absl::StatusOr<AggregateRequest> ParseAggregateRequest(std::string_view body);

struct AggregateResult {
  policy::Decision decision;
  // When permitted: the answer (rows, columns, method, bounds), as charged
  // or as cached.
  nlohmann::ordered_json answer;
  bool cached = false;        // an identical earlier query's answer
  dp::PrivacyLoss charged;    // zero when cached
  dp::PrivacyLoss remaining;  // of the agreement's budget this period
  int64_t withheld = 0;       // records left out for consent or objection

  // The response body: the answer plus "cached", "charged" and
  // "remaining"; or, for a denial, {"error":"denied","reason":CODE,
  // "detail":...}.
  nlohmann::ordered_json ToJson() const;
};

// Decides (a denial is returned in the result, not as an error) and, when
// permitted, computes and charges the release. InvalidArgument for a query
// the stream or agreement does not allow (unknown field, bounds outside the
// declared ones, a grouping finer than the agreement's granularity);
// ResourceExhausted, naming the remaining budget, when the charge would
// exceed the cap. Every decision is logged in the transparency log.
// Noise is drawn exactly from trust.random() (dp::ExactNoise).
absl::StatusOr<AggregateResult> RunAggregate(Trust& trust,
                                             const AggregateRequest& request);

// The same with the noise source given; tests pass
// dp::ZeroNoiseForTestingNotPrivate to check exact answers. Never use a
// non-private source on a release path.
absl::StatusOr<AggregateResult> RunAggregateWithNoise(Trust& trust,
                                                      const AggregateRequest& request,
                                                      dp::NoiseSource& noise);

// The same at access level `level`: kAggregate for parties' queries,
// kPublic for public releases (server/release_view.h), which are charged to
// the public party's agreement.
absl::StatusOr<AggregateResult> RunAggregateAtLevel(Trust& trust,
                                                    const AggregateRequest& request,
                                                    config::AccessLevel level,
                                                    dp::NoiseSource& noise);

// What the party's budgets look like this period: one entry per agreement
// of `party` with a budget, as served by GET /v1/budget:
//   {"party":P,"time":T,"budgets":[{"agreement","stream","level","purposes",
//    "mechanisms","cap":{"epsilon","delta","period"},"period":{"number",
//    "start","end"},"spent":{"epsilon","delta","rho"},"remaining":{"epsilon",
//    "delta"}}]}
absl::StatusOr<nlohmann::ordered_json> BudgetOverview(Trust& trust,
                                                      const std::string& party);

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_AGGREGATE_VIEW_H_
