// privacity dpia STREAM [--format md|html|json]: the stream's data
// protection impact assessment (docs/register.md), measured on the stored
// data.
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/status_macros.h"
#include "server/dpia_routes.h"

namespace privacity::cli {
namespace {

struct DpiaCommandOptions {
  TrustOptions trust;
  std::string stream;
  std::string format = "md";
};

absl::Status RunDpiaCommand(const DpiaCommandOptions& o) {
  server::DpiaFormat format = server::DpiaFormat::kMarkdown;
  if (o.format == "html") {
    format = server::DpiaFormat::kHtml;
  } else if (o.format == "json") {
    format = server::DpiaFormat::kJson;
  } else if (o.format != "md") {
    return absl::InvalidArgumentError("dpia: --format must be md, html or json");
  }
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(std::unique_ptr<server::Trust> trust,
                   OpenTrust(o.trust, clock, random));
  const config::Stream* stream = trust->config().FindStream(o.stream);
  if (stream == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("dpia: no stream '", o.stream, "' is configured"));
  }
  server::StoreRecordSource source(*trust);
  ASSIGN_OR_RETURN(dpia::DpiaReport report,
                   dpia::RunDpia(trust->config(), *stream, source, random, clock.Now()));
  std::cout << server::RenderDpia(report, format);
  if (format == server::DpiaFormat::kJson) std::cout << "\n";
  return absl::OkStatus();
}

}  // namespace

void AddDpiaCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<DpiaCommandOptions>();
  CLI::App* cmd =
      app.add_subcommand("dpia", "the data protection impact assessment of a stream");
  AddTrustOptions(*cmd, o->trust);
  cmd->add_option("STREAM", o->stream, "the stream id")->required();
  cmd->add_option("--format", o->format, "md, html or json")->capture_default_str();
  cmd->callback([o, &exit_code] {
    if (absl::Status s = RunDpiaCommand(*o); !s.ok()) exit_code = ReportError(s);
  });
}

}  // namespace privacity::cli
