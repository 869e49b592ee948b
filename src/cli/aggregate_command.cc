// `privacity query aggregate`: a differentially private aggregate under the
// party's aggregate agreement, charged to its budget (server/aggregate_view.h).
#include <iostream>
#include <memory>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/time_util.h"
#include "nlohmann/json.hpp"
#include "policy/decision.h"
#include "server/aggregate_view.h"

namespace privacity::cli {
namespace {

struct AggregateOptions {
  TrustOptions trust;
  std::string party, purpose, stream;
  DpQueryFlags query;
};

absl::StatusOr<server::AggregateRequest> BuildRequest(const AggregateOptions& options) {
  const DpQueryFlags& o = options.query;
  server::AggregateRequest r;
  r.party = options.party;
  r.purpose = options.purpose;
  r.stream = options.stream;
  auto metric = dp::ParseMetric(o.metric);
  if (!metric) {
    return absl::InvalidArgumentError(
        "--metric: not one of count, distinct_subjects, sum, mean, quantiles, histogram");
  }
  r.metric = *metric;
  if (o.mechanism.empty() || o.mechanism == "laplace") {
    r.mechanism = dp::Mechanism::kLaplace;
  } else if (o.mechanism == "gaussian") {
    r.mechanism = dp::Mechanism::kGaussian;
  } else {
    return absl::InvalidArgumentError("--mechanism: not one of laplace, gaussian");
  }
  r.group_by = o.group_by;
  if (!o.from.empty()) {
    auto t = ParseTimestamp(o.from);
    if (!t.ok()) return absl::InvalidArgumentError("--from: not an RFC 3339 timestamp");
    r.from = *t;
  }
  if (!o.to.empty()) {
    auto t = ParseTimestamp(o.to);
    if (!t.ok()) return absl::InvalidArgumentError("--to: not an RFC 3339 timestamp");
    r.to = *t;
  }
  r.value = o.value;
  r.lower = o.lower;
  r.upper = o.upper;
  if (!o.quantiles.empty()) r.quantiles = o.quantiles;
  r.epsilon = o.epsilon.value_or(0);
  r.delta = o.delta.value_or(0);
  r.max_partitions = o.max_partitions.value_or(1);
  r.max_records_per_partition = o.max_records_per_partition.value_or(1);
  return r;
}

}  // namespace

void AddQueryAggregateCommand(CLI::App& query, int& exit_code) {
  auto o = std::make_shared<AggregateOptions>();
  CLI::App* cmd = query.add_subcommand(
      "aggregate",
      "a differentially private aggregate under the party's budget, as JSON");
  AddTrustOptions(*cmd, o->trust);
  cmd->add_option("--party", o->party, "the party asking")->required();
  cmd->add_option("--purpose", o->purpose, "the purpose it states")->required();
  cmd->add_option("--stream", o->stream, "the stream")->required();
  AddDpQueryFlags(*cmd, o->query, MetricAndEpsilon::kRequired);
  cmd->callback([o, &exit_code] {
    auto request = BuildRequest(*o);
    if (!request.ok()) {
      exit_code = ReportError(request.status());
      return;
    }
    SystemClock clock;
    CryptoRandom random;
    auto trust = OpenTrust(o->trust, clock, random);
    if (!trust.ok()) {
      exit_code = ReportError(trust.status());
      return;
    }
    auto result = server::RunAggregate(**trust, *request);
    if (!result.ok()) {
      // Over budget: the message names the remaining epsilon and delta.
      exit_code = ReportError(result.status());
      return;
    }
    if (!result->decision.permitted()) {
      exit_code = ReportDenial(result->decision);
      return;
    }
    std::cout << result->ToJson().dump() << '\n';
    exit_code = 0;
  });
}

}  // namespace privacity::cli
