// Helpers shared by the subcommands: the --config/--data-dir pair, opening
// the trust, and reporting errors.
#ifndef PRIVACITY_CLI_CLI_UTIL_H_
#define PRIVACITY_CLI_CLI_UTIL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/random.h"
#include "ingest/ingester.h"
#include "policy/decision.h"
#include "server/trust.h"

namespace CLI {
class App;
}

namespace privacity::cli {

struct TrustOptions {
  std::string config_path = "city.yaml";
  std::string data_dir = "data";
};

// Adds --config and --data-dir to `command`.
void AddTrustOptions(CLI::App& command, TrustOptions& options);

// The query flags of `query aggregate` and `release` (docs/dp.md).
struct DpQueryFlags {
  std::string metric, mechanism, from, to, value;
  std::vector<std::string> group_by;
  std::vector<double> quantiles;
  std::optional<double> epsilon, delta, lower, upper;
  std::optional<int64_t> max_partitions, max_records_per_partition;
};
enum class MetricAndEpsilon { kRequired, kOptional };

// Adds --metric, --group-by, --from, --to, --epsilon, --delta, --mechanism,
// --value, --lower, --upper, --quantiles, --max-partitions and
// --max-records-per-partition to `command`.
void AddDpQueryFlags(CLI::App& command, DpQueryFlags& flags, MetricAndEpsilon presence);

// Loads the config and opens the initialised trust it names.
absl::StatusOr<std::unique_ptr<server::Trust>> OpenTrust(const TrustOptions& options,
                                                         Clock& clock,
                                                         RandomSource& random);

// Ingests `path` into `stream_id`, printing progress on stderr when
// `show_progress`. NotFound for an unknown stream (the error lists the
// configured ones).
absl::Status RunIngest(server::Trust& trust, const std::string& stream_id,
                       const std::string& path, ingest::InputFormat format,
                       bool show_progress, ingest::IngestSummary& summary);

// Prints a denial as {"error":{"code":REASON,"message":...}} on stderr
// and returns the exit code (1).
int ReportDenial(const policy::Decision& decision);

// The portal directory to serve: `given`, "" for "none", else
// server::FindWebDir() (which may be "": no portal).
std::string ResolveWebDir(const std::string& given);

// Prints "privacity: <message>" on stderr and returns the exit code for
// `status` (1).
int ReportError(const absl::Status& status);

}  // namespace privacity::cli

#endif  // PRIVACITY_CLI_CLI_UTIL_H_
