// privacity anonymize: a k-anonymous (optionally l-diverse, t-close)
// extract of a CSV file with optimal full-domain generalisation. See
// docs/anon.md.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "anon/anonymizer.h"
#include "anon/csv.h"
#include "anon/hierarchy.h"
#include "cli/commands.h"
#include "common/clock.h"
#include "common/status_macros.h"

namespace privacity::cli {
namespace {

struct AnonymizeFlags {
  std::string input;
  std::vector<std::string> qi;
  std::string sensitive;
  int64_t k = 0;
  double l = 0;
  std::string l_variant = "distinct";
  double t = -1;
  std::string t_distance = "equal";
  std::string suppression;
  std::string metric = "entropy";
  std::string output;
  std::string report;
  std::string population;
  std::vector<std::string> drop;
};

// A usage mistake (exit code 2) rather than bad data (exit code 1).
absl::Status Usage(absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("usage: ", message));
}

// "0.04" or "4%".
absl::StatusOr<double> ParseFraction(absl::string_view text) {
  double value;
  const bool percent = absl::ConsumeSuffix(&text, "%");
  if (!absl::SimpleAtod(text, &value)) {
    return Usage("--suppression takes a fraction (0.04) or a percentage (4%)");
  }
  return percent ? value / 100 : value;
}

// COLUMN=FILE, COLUMN=interval:WIDTH[:FACTOR] or COLUMN=date.
absl::StatusOr<anon::QuasiIdentifier> LoadQuasiIdentifier(const anon::CsvTable& input,
                                                          absl::string_view spec) {
  const size_t eq = spec.find('=');
  if (eq == absl::string_view::npos || eq == 0 || eq + 1 == spec.size()) {
    return Usage(absl::StrCat("--qi takes COLUMN=HIERARCHY.csv, got '", spec, "'"));
  }
  anon::QuasiIdentifier qi;
  qi.column = std::string(spec.substr(0, eq));
  absl::string_view source = spec.substr(eq + 1);
  if (!input.ColumnIndex(qi.column).has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(input.source, ":1: no column named '",
                                                   qi.column, "' (quasi-identifier)"));
  }
  if (source == "date") {
    ASSIGN_OR_RETURN(qi.hierarchy, anon::GenerateDateHierarchy(input, qi.column));
  } else if (absl::ConsumePrefix(&source, "interval:")) {
    std::vector<absl::string_view> parts = absl::StrSplit(source, ':');
    anon::IntervalOptions options;
    if (parts.size() > 2 || !absl::SimpleAtod(parts[0], &options.width) ||
        (parts.size() == 2 && !absl::SimpleAtoi(parts[1], &options.factor))) {
      return Usage(absl::StrCat("--qi ", qi.column, "=interval:WIDTH[:FACTOR], got '",
                                spec.substr(eq + 1), "'"));
    }
    ASSIGN_OR_RETURN(qi.hierarchy,
                     anon::GenerateIntervalHierarchy(input, qi.column, options));
  } else {
    ASSIGN_OR_RETURN(qi.hierarchy, anon::Hierarchy::FromCsvFile(std::string(source)));
  }
  return qi;
}

absl::Status RunAnonymize(const AnonymizeFlags& flags, const Clock& clock) {
  const absl::Time start = clock.Now();
  anon::AnonymizeOptions options;
  ASSIGN_OR_RETURN(options.model.suppression_limit, ParseFraction(flags.suppression));
  ASSIGN_OR_RETURN(options.metric, anon::ParseUtilityMetric(flags.metric));
  options.model.k = flags.k;
  if (!flags.sensitive.empty()) options.sensitive_column = flags.sensitive;
  if (flags.l > 0) {
    anon::LDiversity l;
    l.l = flags.l;
    l.variant = flags.l_variant == "entropy" ? anon::LDiversityVariant::kEntropy
                                             : anon::LDiversityVariant::kDistinct;
    options.model.l_diversity = l;
  }
  if (flags.t >= 0) {
    anon::TCloseness t;
    t.t = flags.t;
    t.distance = flags.t_distance == "ordered" ? anon::TClosenessDistance::kOrdered
                                               : anon::TClosenessDistance::kEqual;
    options.model.t_closeness = t;
  }
  options.drop_columns = flags.drop;

  ASSIGN_OR_RETURN(const anon::CsvTable input, anon::ReadCsvTable(flags.input));
  for (const std::string& spec : flags.qi) {
    ASSIGN_OR_RETURN(anon::QuasiIdentifier qi, LoadQuasiIdentifier(input, spec));
    options.quasi_identifiers.push_back(std::move(qi));
  }
  std::unique_ptr<anon::CsvTable> population;
  if (!flags.population.empty()) {
    ASSIGN_OR_RETURN(anon::CsvTable table, anon::ReadCsvTable(flags.population));
    population = std::make_unique<anon::CsvTable>(std::move(table));
    options.population = population.get();
  }

  const absl::Time search_start = clock.Now();
  ASSIGN_OR_RETURN(const anon::AnonymizeResult result, anon::Anonymize(input, options));
  const absl::Duration search_time = clock.Now() - search_start;

  RETURN_IF_ERROR(
      anon::WriteFileAtomically(flags.output, anon::FormatCsvTable(result.output)));
  anon::ReportTiming timing;
  timing.anonymize_ms = absl::ToDoubleMilliseconds(search_time);
  timing.total_ms = absl::ToDoubleMilliseconds(clock.Now() - start);
  const std::string report = anon::FormatReportJson(result.report, timing);
  if (!flags.report.empty()) {
    RETURN_IF_ERROR(anon::WriteFileAtomically(flags.report, report + "\n"));
    std::string levels;
    for (const anon::ColumnLevel& c : result.report.transformation) {
      absl::StrAppend(&levels, levels.empty() ? "" : ",", c.column, "=", c.level);
    }
    std::cout << "anonymized " << result.report.records_in
              << " records: " << result.report.records_out << " released in "
              << result.report.classes << " classes, " << result.report.suppressed
              << " suppressed; levels " << levels << "\n";
  } else {
    std::cout << report << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddAnonymizeCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<AnonymizeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "anonymize",
      "k-anonymous, l-diverse, t-close extract of a CSV file by optimal generalisation");
  cmd->add_option("--input", flags->input, "input CSV (';' or ',', header row)")
      ->required();
  cmd->add_option("--qi", flags->qi,
                  "quasi-identifier COLUMN=HIERARCHY.csv (ARX format), "
                  "COLUMN=interval:WIDTH[:FACTOR] or COLUMN=date; repeat per column")
      ->required();
  cmd->add_option("--sensitive", flags->sensitive,
                  "sensitive column for l-diversity and t-closeness");
  cmd->add_option("--k", flags->k, "k of k-anonymity")
      ->required()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--l", flags->l, "l of l-diversity (needs --sensitive)")
      ->check(CLI::Range(1.0, 1e9));
  cmd->add_option("--l-variant", flags->l_variant, "distinct (default) or entropy")
      ->check(CLI::IsMember({"distinct", "entropy"}));
  cmd->add_option("--t", flags->t, "t of t-closeness (needs --sensitive)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--t-distance", flags->t_distance,
                  "equal (categorical, default) or ordered (ordinal)")
      ->check(CLI::IsMember({"equal", "ordered"}));
  cmd->add_option("--suppression", flags->suppression,
                  "share of records that may be suppressed: 0.04 or 4%")
      ->required();
  cmd->add_option("--metric", flags->metric,
                  "entropy (default), loss, discernibility, aecs or precision")
      ->check(CLI::IsMember({"entropy", "loss", "discernibility", "aecs", "precision"}));
  cmd->add_option("--output", flags->output, "output CSV (same delimiter as the input)")
      ->required();
  cmd->add_option("--report", flags->report,
                  "write the JSON report here (else to stdout)");
  cmd->add_option("--population", flags->population,
                  "population CSV for journalist risk (default: the input itself)");
  cmd->add_option("--drop", flags->drop, "column to leave out of the output; repeatable");
  cmd->callback([flags, &exit_code] {
    const SystemClock clock;
    const absl::Status status = RunAnonymize(*flags, clock);
    if (status.ok()) {
      exit_code = 0;
      return;
    }
    std::cerr << "privacity: " << status.message() << "\n";
    exit_code = absl::StartsWith(status.message(), "usage: ") ? 2 : 1;
  });
}

}  // namespace privacity::cli
