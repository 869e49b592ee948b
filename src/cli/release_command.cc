// `privacity release`: the controller publishes differentially private
// tables for everyone, charged to the public party's budget
// (server/release_view.h). The specs come from a JSON file (one object or
// an array) or from flags for a single release.
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "nlohmann/json.hpp"
#include "server/release_view.h"

namespace privacity::cli {
namespace {

struct ReleaseOptions {
  TrustOptions trust;
  std::string spec_file;
  std::string title, stream, purpose;
  DpQueryFlags query;
};

// The flags as one spec body, parsed like a spec file's.
std::string SpecFromFlags(const ReleaseOptions& options) {
  const DpQueryFlags& o = options.query;
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["title"] = options.title;
  j["stream"] = options.stream;
  if (!options.purpose.empty()) j["purpose"] = options.purpose;
  j["metric"] = o.metric;
  if (!o.mechanism.empty()) j["mechanism"] = o.mechanism;
  if (!o.group_by.empty()) j["group_by"] = o.group_by;
  if (!o.from.empty()) j["from"] = o.from;
  if (!o.to.empty()) j["to"] = o.to;
  if (!o.value.empty()) j["value"] = o.value;
  if (o.lower) j["lower"] = *o.lower;
  if (o.upper) j["upper"] = *o.upper;
  if (!o.quantiles.empty()) j["quantiles"] = o.quantiles;
  if (o.epsilon) j["epsilon"] = *o.epsilon;
  if (o.delta) j["delta"] = *o.delta;
  if (o.max_partitions) j["max_partitions"] = *o.max_partitions;
  if (o.max_records_per_partition) {
    j["max_records_per_partition"] = *o.max_records_per_partition;
  }
  return j.dump();
}

absl::StatusOr<std::vector<server::ReleaseSpec>> LoadSpecs(const ReleaseOptions& o) {
  if (o.spec_file.empty()) {
    if (o.title.empty() || o.stream.empty() || o.query.metric.empty() ||
        !o.query.epsilon) {
      return absl::InvalidArgumentError(
          "give --spec FILE, or --title, --stream, --metric and --epsilon");
    }
    return server::ParseReleaseSpecs(SpecFromFlags(o));
  }
  if (!o.title.empty() || !o.stream.empty() || !o.query.metric.empty()) {
    return absl::InvalidArgumentError("--spec cannot be combined with query flags");
  }
  std::ifstream in(o.spec_file, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", o.spec_file));
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto specs = server::ParseReleaseSpecs(buffer.str());
  if (!specs.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(o.spec_file, ": ", specs.status().message()));
  }
  return specs;
}

}  // namespace

void AddReleaseCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ReleaseOptions>();
  CLI::App* cmd = app.add_subcommand(
      "release",
      "publish differentially private tables at /public/releases, charged to the public "
      "budget");
  AddTrustOptions(*cmd, o->trust);
  cmd->add_option("--spec", o->spec_file,
                  "JSON file: one release spec or an array of them (docs/dp.md)");
  cmd->add_option("--title", o->title, "the release's title");
  cmd->add_option("--stream", o->stream, "the stream");
  cmd->add_option("--purpose", o->purpose,
                  "the purpose (default: the public agreement's first)");
  AddDpQueryFlags(*cmd, o->query, MetricAndEpsilon::kOptional);
  cmd->callback([o, &exit_code] {
    auto specs = LoadSpecs(*o);
    if (!specs.ok()) {
      exit_code = ReportError(specs.status());
      return;
    }
    SystemClock clock;
    CryptoRandom random;
    auto trust = OpenTrust(o->trust, clock, random);
    if (!trust.ok()) {
      exit_code = ReportError(trust.status());
      return;
    }
    for (const server::ReleaseSpec& spec : *specs) {
      auto published = server::PublishRelease(**trust, spec);
      if (!published.ok()) {
        // Over budget: the message names the remaining epsilon and delta.
        exit_code = ReportError(published.status());
        return;
      }
      nlohmann::ordered_json line = published->summary;
      line["existing"] = published->existing;
      std::cout << line.dump() << '\n';
    }
    exit_code = 0;
  });
}

}  // namespace privacity::cli
