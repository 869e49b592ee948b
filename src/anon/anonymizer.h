// Anonymised microdata extracts: the library entry point.
//
// Anonymize() finds the optimal full-domain generalisation of a table's
// quasi-identifiers (one hierarchy level per column) under a utility
// metric, among the transformations that satisfy the privacy models
// (k-anonymity, optionally l-diversity and t-closeness over one sensitive
// column) after suppressing at most a given fraction of the records. It
// returns the released rows and a report (levels, metric, classes,
// suppression, re-identification risk before and after). See docs/anon.md.
//
//   AnonymizeOptions options;
//   options.quasi_identifiers.push_back({"age", std::move(age_hierarchy)});
//   options.model.k = 5;
//   options.model.suppression_limit = 0.04;
//   ASSIGN_OR_RETURN(AnonymizeResult result, Anonymize(table, options));
#ifndef PRIVACITY_ANON_ANONYMIZER_H_
#define PRIVACITY_ANON_ANONYMIZER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "anon/csv.h"
#include "anon/hierarchy.h"
#include "anon/risk.h"

namespace privacity::anon {

enum class LDiversityVariant {
  kDistinct,  // at least l distinct sensitive values per class
  kEntropy,   // entropy of the sensitive values per class at least log(l)
};

enum class TClosenessDistance {
  kEqual,    // categorical: every pair of values at distance 1
  kOrdered,  // ordinal: distance |i - j| / (m - 1) between the i-th and j-th values
};

// Information loss measures; every one is minimised.
enum class UtilityMetric {
  kNonUniformEntropy,  // ARX's default; bits lost, summed over cells
  kLoss,               // Iyengar's loss metric, in [0, 1]
  kDiscernibility,     // sum of squared class sizes; n per suppressed record
  kAverageClassSize,   // records / classes (suppressed records form one class)
  kPrecision,          // Sweeney's precision loss: mean relative level, in [0, 1]
};

// Parses "entropy", "loss", "discernibility", "aecs", "precision".
absl::StatusOr<UtilityMetric> ParseUtilityMetric(absl::string_view name);
absl::string_view UtilityMetricName(UtilityMetric metric);

struct LDiversity {
  double l = 2;
  LDiversityVariant variant = LDiversityVariant::kDistinct;
};

struct TCloseness {
  double t = 0.2;
  TClosenessDistance distance = TClosenessDistance::kEqual;
};

struct PrivacyModel {
  int64_t k = 2;
  std::optional<LDiversity> l_diversity;  // needs a sensitive column
  std::optional<TCloseness> t_closeness;  // needs a sensitive column
  // Fraction of records, in [0, 1], that may be suppressed (removed from
  // the output). Classes that fail the models are suppressed whole.
  double suppression_limit = 0;
};

struct QuasiIdentifier {
  std::string column;
  std::unique_ptr<Hierarchy> hierarchy;
};

struct AnonymizeOptions {
  std::vector<QuasiIdentifier> quasi_identifiers;
  std::optional<std::string> sensitive_column;
  PrivacyModel model;
  UtilityMetric metric = UtilityMetric::kNonUniformEntropy;
  // Columns removed from the output (e.g. direct identifiers). Columns that
  // are neither quasi-identifiers nor dropped are copied unchanged.
  std::vector<std::string> drop_columns;
  // Optional population table for journalist risk: it holds every
  // quasi-identifier column, with values in the hierarchies, and contains
  // the input's records. Not owned; must outlive the call.
  const CsvTable* population = nullptr;
};

struct SearchStats {
  int64_t lattice_nodes = 0;
  int64_t evaluated_nodes = 0;  // nodes whose classes were computed
};

struct ColumnLevel {
  std::string column;
  int level = 0;   // 0 = raw
  int levels = 1;  // depth of the column's hierarchy
};

struct AnonymizeReport {
  std::vector<ColumnLevel> transformation;
  UtilityMetric metric = UtilityMetric::kNonUniformEntropy;
  double metric_value = 0;
  int64_t records_in = 0;
  int64_t records_out = 0;
  int64_t suppressed = 0;
  int64_t classes = 0;  // equivalence classes in the output
  PrivacyModel model;
  std::optional<std::string> sensitive_column;
  RiskSummary risk_before;  // raw quasi-identifiers
  RiskSummary risk_after;   // released records
  SearchStats search;
};

struct AnonymizeResult {
  // The released table: same header (minus dropped columns), delimiter and
  // line ending as the input; quasi-identifiers generalised; suppressed
  // records removed. Records are grouped by equivalence class (classes in
  // hierarchy order), input order within a class.
  CsvTable output;
  AnonymizeReport report;
};

// Errors (InvalidArgument unless noted) name the file and line: an unknown
// column, a value missing from its hierarchy, k larger than the number of
// records, models that need a missing sensitive column, parameters out of
// range; FailedPrecondition when no transformation satisfies the models
// within the suppression limit; ResourceExhausted when the lattice has more
// than kMaxLatticeNodes nodes.
absl::StatusOr<AnonymizeResult> Anonymize(const CsvTable& input,
                                          const AnonymizeOptions& options);

inline constexpr int64_t kMaxLatticeNodes = int64_t{1} << 22;

// The report as a JSON object (chosen levels, metric, classes, suppressed
// records, risk before and after, search statistics). `elapsed_ms` values
// are added under "time_ms" when given.
struct ReportTiming {
  std::optional<double> anonymize_ms;
  std::optional<double> total_ms;
};
std::string FormatReportJson(const AnonymizeReport& report, const ReportTiming& timing);

}  // namespace privacity::anon

#endif  // PRIVACITY_ANON_ANONYMIZER_H_
