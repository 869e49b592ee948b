#include "anon/anonymizer.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "anon/engine.h"
#include "common/status_macros.h"

namespace privacity::anon {
namespace {

using internal::ClassSet;
using internal::ClassVerdict;
using internal::EncodedData;
using internal::ModelSpec;

absl::Status CheckParameters(const CsvTable& input, const AnonymizeOptions& options) {
  const PrivacyModel& model = options.model;
  if (options.quasi_identifiers.empty()) {
    return absl::InvalidArgumentError("at least one quasi-identifier is required");
  }
  if (model.k < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("k must be at least 1, got ", model.k));
  }
  if (!(model.suppression_limit >= 0 && model.suppression_limit <= 1)) {
    return absl::InvalidArgumentError(
        "the suppression limit must be a fraction in [0, 1]");
  }
  if (model.l_diversity.has_value()) {
    if (!options.sensitive_column.has_value()) {
      return absl::InvalidArgumentError("l-diversity needs a sensitive column");
    }
    if (!(model.l_diversity->l >= 1) || !std::isfinite(model.l_diversity->l)) {
      return absl::InvalidArgumentError("l must be a number of at least 1");
    }
  }
  if (model.t_closeness.has_value()) {
    if (!options.sensitive_column.has_value()) {
      return absl::InvalidArgumentError("t-closeness needs a sensitive column");
    }
    if (!(model.t_closeness->t >= 0 && model.t_closeness->t <= 1)) {
      return absl::InvalidArgumentError("t must be in [0, 1]");
    }
  }
  absl::flat_hash_set<std::string> qis;
  for (const QuasiIdentifier& qi : options.quasi_identifiers) {
    if (qi.hierarchy == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("quasi-identifier '", qi.column, "' has no hierarchy"));
    }
    if (!input.ColumnIndex(qi.column).has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          input.source, ":1: no column named '", qi.column, "' (quasi-identifier)"));
    }
    if (!qis.insert(qi.column).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("column '", qi.column, "' is named twice as a quasi-identifier"));
    }
  }
  if (options.sensitive_column.has_value()) {
    if (!input.ColumnIndex(*options.sensitive_column).has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(input.source, ":1: no column named '", *options.sensitive_column,
                       "' (sensitive)"));
    }
    if (qis.contains(*options.sensitive_column)) {
      return absl::InvalidArgumentError(
          absl::StrCat("column '", *options.sensitive_column,
                       "' cannot be both sensitive and a quasi-identifier"));
    }
  }
  for (const std::string& drop : options.drop_columns) {
    if (!input.ColumnIndex(drop).has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(input.source, ":1: no column named '", drop, "' (to drop)"));
    }
    if (qis.contains(drop)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "column '", drop, "' is a quasi-identifier and cannot be dropped"));
    }
  }
  if (input.num_rows() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(input.source, ": no records"));
  }
  if (input.num_rows() >= (size_t{1} << 31)) {
    return absl::InvalidArgumentError(absl::StrCat(input.source, ": too many records"));
  }
  if (model.k > static_cast<int64_t>(input.num_rows())) {
    return absl::InvalidArgumentError(
        absl::StrCat("k (", model.k, ") is larger than the number of records (",
                     input.num_rows(), ") in ", input.source));
  }
  return absl::OkStatus();
}

// Raw codes of the quasi-identifiers, num_qis per row.
absl::StatusOr<std::vector<uint32_t>> EncodeTuples(const CsvTable& table,
                                                   const AnonymizeOptions& options) {
  const size_t m = options.quasi_identifiers.size();
  std::vector<size_t> columns(m);
  for (size_t j = 0; j < m; ++j) {
    std::optional<size_t> c = table.ColumnIndex(options.quasi_identifiers[j].column);
    if (!c.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(table.source, ":1: no column named '",
                       options.quasi_identifiers[j].column, "' (quasi-identifier)"));
    }
    columns[j] = *c;
  }
  std::vector<uint32_t> tuples(table.num_rows() * m);
  for (size_t r = 0; r < table.num_rows(); ++r) {
    for (size_t j = 0; j < m; ++j) {
      const QuasiIdentifier& qi = options.quasi_identifiers[j];
      std::optional<uint32_t> code = qi.hierarchy->Find(table.cell(r, columns[j]));
      if (!code.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(
            table.source, ":", table.lines[r], ": column '", qi.column,
            "' has a value that is not in its hierarchy (", qi.hierarchy->source(), ")"));
      }
      tuples[r * m + j] = *code;
    }
  }
  return tuples;
}

// Sensitive values numbered in their order: numeric when every value is a
// number, byte order otherwise.
std::vector<uint32_t> EncodeSensitive(const CsvTable& table, size_t column,
                                      uint32_t& domain) {
  std::vector<std::string> distinct;
  {
    absl::flat_hash_set<absl::string_view> seen;
    for (size_t r = 0; r < table.num_rows(); ++r) {
      if (seen.insert(table.cell(r, column)).second)
        distinct.push_back(table.cell(r, column));
    }
  }
  std::vector<double> numbers(distinct.size());
  bool numeric = true;
  for (size_t i = 0; i < distinct.size() && numeric; ++i) {
    numeric = absl::SimpleAtod(distinct[i], &numbers[i]) && std::isfinite(numbers[i]);
  }
  std::vector<size_t> order(distinct.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (numeric && numbers[a] != numbers[b]) return numbers[a] < numbers[b];
    return distinct[a] < distinct[b];
  });
  absl::flat_hash_map<absl::string_view, uint32_t> code;
  for (size_t i = 0; i < order.size(); ++i) {
    code.emplace(distinct[order[i]], static_cast<uint32_t>(i));
  }
  std::vector<uint32_t> out(table.num_rows());
  for (size_t r = 0; r < table.num_rows(); ++r) out[r] = code.at(table.cell(r, column));
  domain = static_cast<uint32_t>(distinct.size());
  return out;
}

// Generalised codes of tuple `rep` at `levels`.
std::vector<uint32_t> GeneralTuple(const EncodedData& data, uint32_t rep,
                                   absl::Span<const int> levels) {
  std::vector<uint32_t> out(data.num_qis);
  for (size_t j = 0; j < data.num_qis; ++j) {
    out[j] = data.columns[j].level_map[levels[j]][data.tuples[rep * data.num_qis + j]];
  }
  return out;
}

// Journalist risk needs, per class, the number of population records with
// the same generalised tuple.
std::vector<int64_t> PopulationSizes(const EncodedData& population,
                                     const EncodedData& data, const ClassSet& classes,
                                     absl::Span<const int> levels) {
  absl::flat_hash_map<std::vector<uint32_t>, int64_t> counts;
  for (size_t r = 0; r < population.num_records; ++r) {
    ++counts[GeneralTuple(population, static_cast<uint32_t>(r), levels)];
  }
  std::vector<int64_t> out;
  for (size_t c = 0; c < classes.size(); ++c) {
    auto it = counts.find(GeneralTuple(data, classes.rep[c], levels));
    out.push_back(it == counts.end() ? 0 : it->second);
  }
  return out;
}

}  // namespace

absl::StatusOr<UtilityMetric> ParseUtilityMetric(absl::string_view name) {
  if (name == "entropy" || name == "non-uniform-entropy") {
    return UtilityMetric::kNonUniformEntropy;
  }
  if (name == "loss") return UtilityMetric::kLoss;
  if (name == "discernibility") return UtilityMetric::kDiscernibility;
  if (name == "aecs") return UtilityMetric::kAverageClassSize;
  if (name == "precision") return UtilityMetric::kPrecision;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown metric '", name,
                   "'; expected entropy, loss, discernibility, aecs or precision"));
}

absl::string_view UtilityMetricName(UtilityMetric metric) {
  switch (metric) {
    case UtilityMetric::kNonUniformEntropy:
      return "entropy";
    case UtilityMetric::kLoss:
      return "loss";
    case UtilityMetric::kDiscernibility:
      return "discernibility";
    case UtilityMetric::kAverageClassSize:
      return "aecs";
    case UtilityMetric::kPrecision:
      return "precision";
  }
  return "unknown";
}

namespace internal {

absl::StatusOr<Prepared> Prepare(const CsvTable& input, const AnonymizeOptions& options) {
  RETURN_IF_ERROR(CheckParameters(input, options));
  const PrivacyModel& model = options.model;
  const size_t n = input.num_rows();
  const size_t m = options.quasi_identifiers.size();
  Prepared p;
  for (const QuasiIdentifier& qi : options.quasi_identifiers) {
    p.hierarchies.push_back(qi.hierarchy.get());
  }
  ASSIGN_OR_RETURN(std::vector<uint32_t> tuples, EncodeTuples(input, options));

  ModelSpec& spec = p.model;
  spec.k = model.k;
  spec.max_suppressed = static_cast<int64_t>(
      std::floor(model.suppression_limit * static_cast<double>(n) + 1e-9));
  std::vector<uint32_t> sensitive;
  uint32_t sensitive_domain = 0;
  if (options.sensitive_column.has_value() &&
      (model.l_diversity.has_value() || model.t_closeness.has_value())) {
    sensitive = EncodeSensitive(input, *input.ColumnIndex(*options.sensitive_column),
                                sensitive_domain);
    if (model.l_diversity.has_value()) {
      spec.l = model.l_diversity->l;
      spec.l_kind = model.l_diversity->variant == LDiversityVariant::kDistinct
                        ? ModelSpec::L::kDistinct
                        : ModelSpec::L::kEntropy;
      if (spec.l > sensitive_domain) {
        return absl::InvalidArgumentError(absl::StrCat(
            "l (", spec.l, ") exceeds the number of distinct values (", sensitive_domain,
            ") of sensitive column '", *options.sensitive_column, "' in ", input.source));
      }
    }
    if (model.t_closeness.has_value()) {
      spec.t = model.t_closeness->t;
      spec.t_kind = model.t_closeness->distance == TClosenessDistance::kEqual
                        ? ModelSpec::T::kEqual
                        : ModelSpec::T::kOrdered;
    }
  }
  p.data = EncodeData(p.hierarchies, std::move(tuples), std::move(sensitive),
                      sensitive_domain);
  Grouper grouper;
  const ClassSet records = RecordClasses(p.data, spec.NeedsHistograms());
  grouper.Group(p.data, records, std::vector<int>(m, 0), p.bottom, &p.record_class);
  return p;
}

}  // namespace internal

absl::StatusOr<AnonymizeResult> Anonymize(const CsvTable& input,
                                          const AnonymizeOptions& options) {
  ASSIGN_OR_RETURN(internal::Prepared prepared, internal::Prepare(input, options));
  const ModelSpec& spec = prepared.model;
  const EncodedData& data = prepared.data;
  const ClassSet& bottom = prepared.bottom;
  const std::vector<uint32_t>& record_class = prepared.record_class;
  const std::vector<const Hierarchy*>& hierarchies = prepared.hierarchies;
  const PrivacyModel& model = options.model;
  const size_t n = input.num_rows();
  const size_t m = options.quasi_identifiers.size();
  const std::vector<int> raw_levels(m, 0);
  internal::Grouper grouper;

  ASSIGN_OR_RETURN(internal::SearchOutcome outcome,
                   internal::FindOptimum(data, bottom, spec, options.metric));

  ClassSet final_classes;
  std::vector<uint32_t> bottom_to_final;
  grouper.Group(data, bottom, outcome.levels, final_classes, &bottom_to_final);
  std::vector<ClassVerdict> verdicts;
  internal::ClassVerdicts(data, final_classes, spec, verdicts);

  // Kept classes in the order of their generalised tuples.
  std::vector<uint32_t> kept;
  std::vector<uint8_t> keep(final_classes.size(), 0);
  for (uint32_t c = 0; c < final_classes.size(); ++c) {
    if (verdicts[c] == ClassVerdict::kPasses) {
      kept.push_back(c);
      keep[c] = 1;
    }
  }
  {
    std::vector<std::vector<uint32_t>> keys(final_classes.size());
    for (uint32_t c : kept)
      keys[c] = GeneralTuple(data, final_classes.rep[c], outcome.levels);
    std::sort(kept.begin(), kept.end(),
              [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });
  }
  std::vector<uint32_t> position(final_classes.size(), 0);
  for (uint32_t i = 0; i < kept.size(); ++i) position[kept[i]] = i;
  // Records bucketed by class position, input order within a class.
  std::vector<uint32_t> start(kept.size() + 1, 0);
  for (uint32_t c : kept) start[position[c] + 1] = final_classes.count[c];
  for (size_t i = 0; i < kept.size(); ++i) start[i + 1] += start[i];
  std::vector<uint32_t> ordered(start.back());
  {
    std::vector<uint32_t> fill(start.begin(), start.end() - 1);
    for (size_t r = 0; r < n; ++r) {
      const uint32_t c = bottom_to_final[record_class[r]];
      if (keep[c]) ordered[fill[position[c]]++] = static_cast<uint32_t>(r);
    }
  }

  AnonymizeResult result;
  CsvTable& out = result.output;
  out.source = input.source;
  out.delimiter = input.delimiter;
  out.crlf = input.crlf;
  // For each output column: the input column, and the QI index or -1.
  std::vector<std::pair<size_t, int>> out_columns;
  for (size_t c = 0; c < input.num_columns(); ++c) {
    const std::string& name = input.header[c];
    if (std::find(options.drop_columns.begin(), options.drop_columns.end(), name) !=
        options.drop_columns.end()) {
      continue;
    }
    int qi = -1;
    for (size_t j = 0; j < m; ++j) {
      if (options.quasi_identifiers[j].column == name) qi = static_cast<int>(j);
    }
    out.header.push_back(name);
    out_columns.emplace_back(c, qi);
  }
  out.cells.reserve(ordered.size() * out_columns.size());
  out.lines.reserve(ordered.size());
  for (uint32_t r : ordered) {
    for (const auto& [c, qi] : out_columns) {
      if (qi < 0) {
        out.cells.push_back(input.cell(r, c));
      } else {
        const int level = outcome.levels[qi];
        const uint32_t raw = data.tuples[static_cast<size_t>(r) * m + qi];
        out.cells.push_back(
            hierarchies[qi]->label(level, hierarchies[qi]->code(raw, level)));
      }
    }
    out.lines.push_back(input.lines[r]);
  }

  // Risk before (raw quasi-identifiers) and after (released records).
  std::vector<int64_t> sizes_before(bottom.count.begin(), bottom.count.end());
  std::vector<int64_t> sizes_after;
  for (uint32_t c : kept) sizes_after.push_back(final_classes.count[c]);
  std::vector<int64_t> population_before;
  std::vector<int64_t> population_after;
  if (options.population != nullptr) {
    ASSIGN_OR_RETURN(std::vector<uint32_t> population_tuples,
                     EncodeTuples(*options.population, options));
    const EncodedData population =
        internal::EncodeData(hierarchies, std::move(population_tuples), {}, 0);
    population_before = PopulationSizes(population, data, bottom, raw_levels);
    const std::vector<int64_t> by_class =
        PopulationSizes(population, data, final_classes, outcome.levels);
    for (uint32_t c : kept) population_after.push_back(by_class[c]);
  }
  ASSIGN_OR_RETURN(result.report.risk_before,
                   ComputeRisk(sizes_before, population_before));
  ASSIGN_OR_RETURN(result.report.risk_after, ComputeRisk(sizes_after, population_after));

  AnonymizeReport& report = result.report;
  for (size_t j = 0; j < m; ++j) {
    report.transformation.push_back({options.quasi_identifiers[j].column,
                                     outcome.levels[j], hierarchies[j]->depth()});
  }
  report.metric = options.metric;
  report.metric_value = outcome.evaluation.metric;
  report.records_in = static_cast<int64_t>(n);
  report.records_out = static_cast<int64_t>(ordered.size());
  report.suppressed = report.records_in - report.records_out;
  report.classes = static_cast<int64_t>(kept.size());
  report.model = model;
  report.sensitive_column = options.sensitive_column;
  report.search.lattice_nodes = outcome.lattice_nodes;
  report.search.evaluated_nodes = outcome.evaluated_nodes;
  return result;
}

}  // namespace privacity::anon
