#include "cli/cli_util.h"

#include <iostream>

#include "CLI/CLI.hpp"
#include "common/status_macros.h"
#include "config/loader.h"
#include "nlohmann/json.hpp"
#include "server/static_files.h"

namespace privacity::cli {

void AddTrustOptions(CLI::App& command, TrustOptions& options) {
  command.add_option("--config", options.config_path, "the city's config file")
      ->capture_default_str();
  command.add_option("--data-dir", options.data_dir, "the trust's data directory")
      ->capture_default_str();
}

void AddDpQueryFlags(CLI::App& command, DpQueryFlags& flags, MetricAndEpsilon presence) {
  const bool required = presence == MetricAndEpsilon::kRequired;
  command
      .add_option("--metric", flags.metric,
                  "count, distinct_subjects, sum, mean, quantiles or histogram")
      ->required(required);
  command.add_option("--group-by", flags.group_by,
                     "time:1h, time:1d, cell:LEVEL or an enum field");
  command.add_option("--from", flags.from, "start of the window (inclusive), RFC 3339");
  command.add_option("--to", flags.to, "end of the window (exclusive), RFC 3339");
  command.add_option("--epsilon", flags.epsilon, "privacy budget to spend")
      ->required(required);
  command.add_option("--delta", flags.delta,
                     "delta (gaussian noise, partition selection)");
  command.add_option("--mechanism", flags.mechanism, "laplace (default) or gaussian");
  command.add_option("--value", flags.value,
                     "the measured field (sum, mean, quantiles, histogram)");
  command.add_option("--lower", flags.lower,
                     "clamping lower bound (default: the field's min)");
  command.add_option("--upper", flags.upper,
                     "clamping upper bound (default: the field's max)");
  command.add_option("--quantiles", flags.quantiles,
                     "quantiles to estimate (default 0.5)");
  command.add_option("--max-partitions", flags.max_partitions,
                     "L0: partitions one subject may contribute to (default 1)");
  command.add_option(
      "--max-records-per-partition", flags.max_records_per_partition,
      "Linf: records one subject may contribute per partition (default 1)");
}

absl::StatusOr<std::unique_ptr<server::Trust>> OpenTrust(const TrustOptions& options,
                                                         Clock& clock,
                                                         RandomSource& random) {
  ASSIGN_OR_RETURN(config::CityConfig config,
                   config::LoadConfigFile(options.config_path));
  return server::Trust::Open(std::move(config), options.data_dir, clock, random);
}

int ReportDenial(const policy::Decision& decision) {
  const nlohmann::json error = {
      {"error",
       {{"code", std::string(policy::ReasonCode(decision.reason))},
        {"message", decision.detail}}}};
  std::cerr << error.dump() << '\n';
  return 1;
}

int ReportError(const absl::Status& status) {
  std::cerr << "privacity: " << status.message() << "\n";
  return 1;
}

std::string ResolveWebDir(const std::string& given) {
  if (given == "none") return "";
  if (!given.empty()) return given;
  return server::FindWebDir();
}

}  // namespace privacity::cli
