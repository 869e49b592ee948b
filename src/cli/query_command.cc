#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "nlohmann/json.hpp"
#include "policy/decision.h"
#include "server/extract_view.h"
#include "server/records_view.h"

namespace privacity::cli {
namespace {

struct QueryOptions {
  TrustOptions trust;
  std::string party, purpose, stream, from, to, fields;
  int64_t after = 0;
  int64_t limit = 0;
};

absl::Status ParseWindow(const QueryOptions& o, policy::AccessRequest& request) {
  if (!o.from.empty()) {
    auto t = ParseTimestamp(o.from);
    if (!t.ok())
      return absl::InvalidArgumentError(absl::StrCat("--from: ", t.status().message()));
    request.from = *t;
  }
  if (!o.to.empty()) {
    auto t = ParseTimestamp(o.to);
    if (!t.ok())
      return absl::InvalidArgumentError(absl::StrCat("--to: ", t.status().message()));
    request.to = *t;
  }
  return absl::OkStatus();
}

// --config, --data-dir and what names a request: party, purpose, stream,
// window and fields.
void AddRequestOptions(CLI::App& cmd, QueryOptions& o) {
  AddTrustOptions(cmd, o.trust);
  cmd.add_option("--party", o.party, "the party asking")->required();
  cmd.add_option("--purpose", o.purpose, "the purpose it states")->required();
  cmd.add_option("--stream", o.stream, "the stream")->required();
  cmd.add_option("--from", o.from, "start of the window (inclusive), RFC 3339");
  cmd.add_option("--to", o.to, "end of the window (exclusive), RFC 3339");
  cmd.add_option("--fields", o.fields, "comma-separated fields (default: all granted)");
}

absl::StatusOr<policy::AccessRequest> BuildRequest(const QueryOptions& o,
                                                   config::AccessLevel level) {
  policy::AccessRequest request{
      .party = o.party, .purpose = o.purpose, .stream = o.stream, .level = level};
  if (!o.fields.empty()) {
    request.fields = absl::StrSplit(o.fields, ',', absl::SkipEmpty());
  }
  RETURN_IF_ERROR(ParseWindow(o, request));
  return request;
}

}  // namespace

void AddQueryCommand(CLI::App& app, int& exit_code) {
  CLI::App* query = app.add_subcommand("query", "read data as a party would");
  query->require_subcommand(1);
  auto o = std::make_shared<QueryOptions>();
  CLI::App* records = query->add_subcommand(
      "records", "pseudonymised rows under the party's agreement, as NDJSON on stdout");
  AddRequestOptions(*records, *o);
  records->add_option("--after", o->after, "cursor: rows after this id");
  records->add_option("--limit", o->limit, "at most this many rows");
  records->callback([o, &exit_code] {
    SystemClock clock;
    CryptoRandom random;
    auto request = BuildRequest(*o, config::AccessLevel::kRecords);
    if (!request.ok()) {
      exit_code = ReportError(request.status());
      return;
    }
    auto trust = OpenTrust(o->trust, clock, random);
    if (!trust.ok()) {
      exit_code = ReportError(trust.status());
      return;
    }
    auto result = server::ReadRecords(
        **trust, *request,
        server::RecordsReadOptions{.after_id = o->after, .limit = o->limit},
        [](const std::string& row) {
          std::cout << row << '\n';
          return absl::OkStatus();
        });
    if (!result.ok()) {
      exit_code = ReportError(result.status());
      return;
    }
    if (!result->decision.permitted()) {
      exit_code = ReportDenial(result->decision);
      return;
    }
    nlohmann::json summary = {{"rows", result->rows},
                              {"withheld", result->withheld},
                              {"agreement", result->decision.obligations.agreement_id},
                              {"last_id", result->last_id},
                              {"more", result->more}};
    std::cerr << summary.dump() << '\n';
  });
  AddQueryAggregateCommand(*query, exit_code);

  auto x = std::make_shared<QueryOptions>();
  auto suppression = std::make_shared<double>(0.05);
  auto report_path = std::make_shared<std::string>();
  CLI::App* extract = query->add_subcommand(
      "extract", "a k-anonymous extract under the party's agreement, as CSV on stdout");
  AddRequestOptions(*extract, *x);
  extract
      ->add_option("--suppression", *suppression,
                   "share of records that may be suppressed")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  extract->add_option("--report", *report_path,
                      "write the anonymisation report (JSON) here");
  extract->callback([x, suppression, report_path, &exit_code] {
    SystemClock clock;
    CryptoRandom random;
    auto request = BuildRequest(*x, config::AccessLevel::kExtract);
    if (!request.ok()) {
      exit_code = ReportError(request.status());
      return;
    }
    auto trust = OpenTrust(x->trust, clock, random);
    if (!trust.ok()) {
      exit_code = ReportError(trust.status());
      return;
    }
    auto result = server::BuildExtract(
        **trust, *request, server::ExtractOptions{.suppression_limit = *suppression});
    if (!result.ok()) {
      exit_code = ReportError(result.status());
      return;
    }
    if (!result->decision.permitted()) {
      exit_code = ReportDenial(result->decision);
      return;
    }
    std::cout << anon::FormatCsvTable(result->extract->output);
    const std::string report = anon::FormatReportJson(result->extract->report, {});
    if (!report_path->empty()) {
      if (absl::Status s = anon::WriteFileAtomically(*report_path, report); !s.ok()) {
        exit_code = ReportError(s);
      }
    } else {
      std::cerr << report << '\n';
    }
  });
}

}  // namespace privacity::cli
