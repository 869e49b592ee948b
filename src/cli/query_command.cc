#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
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

}  // namespace

void AddQueryCommand(CLI::App& app, int& exit_code) {
  CLI::App* query = app.add_subcommand("query", "read data as a party would");
  query->require_subcommand(1);
  auto o = std::make_shared<QueryOptions>();
  CLI::App* records = query->add_subcommand(
      "records", "pseudonymised rows under the party's agreement, as NDJSON on stdout");
  AddTrustOptions(*records, o->trust);
  records->add_option("--party", o->party, "the party asking")->required();
  records->add_option("--purpose", o->purpose, "the purpose it states")->required();
  records->add_option("--stream", o->stream, "the stream")->required();
  records->add_option("--from", o->from, "start of the window (inclusive), RFC 3339");
  records->add_option("--to", o->to, "end of the window (exclusive), RFC 3339");
  records->add_option("--fields", o->fields,
                      "comma-separated fields (default: all granted)");
  records->add_option("--after", o->after, "cursor: rows after this id");
  records->add_option("--limit", o->limit, "at most this many rows");
  records->callback([o, &exit_code] {
    SystemClock clock;
    CryptoRandom random;
    policy::AccessRequest request{.party = o->party,
                                  .purpose = o->purpose,
                                  .stream = o->stream,
                                  .level = config::AccessLevel::kRecords};
    if (!o->fields.empty()) {
      request.fields = absl::StrSplit(o->fields, ',', absl::SkipEmpty());
    }
    if (absl::Status s = ParseWindow(*o, request); !s.ok()) {
      exit_code = ReportError(s);
      return;
    }
    auto trust = OpenTrust(o->trust, clock, random);
    if (!trust.ok()) {
      exit_code = ReportError(trust.status());
      return;
    }
    auto result = server::ReadRecords(
        **trust, request,
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
  AddTrustOptions(*extract, x->trust);
  extract->add_option("--party", x->party, "the party asking")->required();
  extract->add_option("--purpose", x->purpose, "the purpose it states")->required();
  extract->add_option("--stream", x->stream, "the stream")->required();
  extract->add_option("--from", x->from, "start of the window (inclusive), RFC 3339");
  extract->add_option("--to", x->to, "end of the window (exclusive), RFC 3339");
  extract->add_option("--fields", x->fields,
                      "comma-separated fields (default: all granted)");
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
    policy::AccessRequest request{.party = x->party,
                                  .purpose = x->purpose,
                                  .stream = x->stream,
                                  .level = config::AccessLevel::kExtract};
    if (!x->fields.empty()) {
      request.fields = absl::StrSplit(x->fields, ',', absl::SkipEmpty());
    }
    if (absl::Status s = ParseWindow(*x, request); !s.ok()) {
      exit_code = ReportError(s);
      return;
    }
    auto trust = OpenTrust(x->trust, clock, random);
    if (!trust.ok()) {
      exit_code = ReportError(trust.status());
      return;
    }
    auto result = server::BuildExtract(
        **trust, request, server::ExtractOptions{.suppression_limit = *suppression});
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
