#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/status_macros.h"
#include "ingest/ingester.h"

namespace privacity::cli {
namespace {

struct IngestCommandOptions {
  TrustOptions trust;
  std::string stream;
  std::string format = "auto";
  std::string file;
};

absl::StatusOr<ingest::InputFormat> ParseFormat(const std::string& name) {
  for (ingest::InputFormat f :
       {ingest::InputFormat::kAuto, ingest::InputFormat::kNdjson,
        ingest::InputFormat::kJsonArray, ingest::InputFormat::kCsv}) {
    if (ingest::InputFormatName(f) == name) return f;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--format: unknown format '", name, "' (use auto, ndjson, json-array or csv)"));
}

void PrintProgress(const ingest::IngestProgress& p) {
  std::string left;
  if (p.time_left > absl::ZeroDuration()) {
    left = absl::StrFormat("  ~%ds left",
                           static_cast<int>(absl::ToDoubleSeconds(p.time_left) + 1));
  }
  std::fprintf(stderr, "\r%12lld records  %10.0f records/s%s   ",
               static_cast<long long>(p.records), p.records_per_second, left.c_str());
  std::fflush(stderr);
}

}  // namespace

absl::Status RunIngest(server::Trust& trust, const std::string& stream_id,
                       const std::string& path, ingest::InputFormat format,
                       bool show_progress, ingest::IngestSummary& summary) {
  const config::Stream* stream = trust.config().FindStream(stream_id);
  if (stream == nullptr) {
    std::vector<std::string> ids;
    for (const config::Stream& s : trust.config().streams) ids.push_back(s.id);
    return absl::NotFoundError(absl::StrCat(
        "unknown stream '", stream_id, "' (streams: ", absl::StrJoin(ids, ", "), ")"));
  }
  ingest::FileIngestOptions options;
  options.format = format;
  if (show_progress) options.on_progress = PrintProgress;
  // One transparency-log leaf per ingest call, committed with its last batch.
  options.ingest.log_ingest = trust.audit().LoggerFor(stream->id);
  ASSIGN_OR_RETURN(
      summary, ingest::IngestFile(*stream, trust.store(), trust.keyring(), trust.random(),
                                  trust.clock(), path, options));
  if (show_progress) std::fputs("\n", stderr);
  return absl::OkStatus();
}

void AddIngestCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<IngestCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "ingest",
      "validate, transform, seal and store a file of records (NDJSON, JSON array, CSV)");
  AddTrustOptions(*cmd, o->trust);
  cmd->add_option("--stream", o->stream, "the stream the records belong to")->required();
  cmd->add_option("--format", o->format, "auto, ndjson, json-array or csv")
      ->capture_default_str();
  cmd->add_option("file", o->file, "the input file")->required();
  cmd->callback([o, &exit_code] {
    auto format = ParseFormat(o->format);
    if (!format.ok()) {
      exit_code = ReportError(format.status());
      return;
    }
    SystemClock clock;
    CryptoRandom random;
    auto trust = OpenTrust(o->trust, clock, random);
    if (!trust.ok()) {
      exit_code = ReportError(trust.status());
      return;
    }
    ingest::IngestSummary summary;
    const absl::Status s = RunIngest(**trust, o->stream, o->file, *format,
                                     ::isatty(STDERR_FILENO) == 1, summary);
    if (!s.ok()) {
      exit_code = ReportError(s);
      return;
    }
    std::cout << ingest::SummaryJson(summary) << "\n";
  });
}

}  // namespace privacity::cli
