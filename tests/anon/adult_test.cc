// The Adult census extract with its ARX hierarchies: all nine columns as
// quasi-identifiers, k = 5 and 100, 0% and 4% suppression, every metric.
// The search's choice is checked against a brute force over all 12,960
// transformations, and its output and metric are re-derived from strings.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "anon/anonymizer.h"
#include "anon/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace privacity::anon {
namespace {

const std::string kAdult = std::string(PRIVACITY_SHARED_DATA) + "/adult/";
const std::vector<std::string> kColumns = {"sex",         "age",
                                           "race",        "marital-status",
                                           "education",   "native-country",
                                           "workclass",   "occupation",
                                           "salary-class"};
constexpr UtilityMetric kMetrics[] = {
    UtilityMetric::kNonUniformEntropy, UtilityMetric::kLoss,
    UtilityMetric::kDiscernibility, UtilityMetric::kAverageClassSize,
    UtilityMetric::kPrecision};
constexpr int64_t kKs[] = {5, 100};
constexpr double kLimits[] = {0.0, 0.04};

bool HaveAdult() { return std::filesystem::exists(kAdult + "adult.csv"); }

AnonymizeOptions AdultOptions(int64_t k, double limit, UtilityMetric metric) {
  AnonymizeOptions options;
  for (const std::string& c : kColumns) {
    absl::StatusOr<std::unique_ptr<Hierarchy>> h =
        Hierarchy::FromCsvFile(kAdult + "adult_hierarchy_" + c + ".csv");
    EXPECT_TRUE(h.ok()) << h.status();
    if (!h.ok()) return options;
    options.quasi_identifiers.push_back({c, *std::move(h)});
  }
  options.model.k = k;
  options.model.suppression_limit = limit;
  options.metric = metric;
  return options;
}

// Hierarchy rows as plain strings, read without the library.
struct PlainHierarchy {
  std::map<std::string, std::vector<std::string>> rows;
  std::vector<std::map<std::string, int>> leaves;  // [level][label]
  int depth = 0;
};

PlainHierarchy ReadPlain(const std::string& path) {
  PlainHierarchy h;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> parts = absl::StrSplit(line, ';');
    h.depth = static_cast<int>(parts.size());
    h.leaves.resize(parts.size());
    for (size_t l = 0; l < parts.size(); ++l) ++h.leaves[l][parts[l]];
    h.rows[parts[0]] = parts;
  }
  return h;
}

struct BruteForce {
  // best[k index][limit index][metric index]
  double best[2][2][5];
  // Per node, per configuration and metric: satisfied and value.
  std::vector<std::array<std::pair<bool, double>, 20>> nodes;
  std::unique_ptr<internal::Lattice> lattice;
};

struct Shared {
  CsvTable table;
  std::vector<PlainHierarchy> plain;
  BruteForce brute;
};

int ConfigIndex(int k, int s, int metric) { return (k * 2 + s) * 5 + metric; }

void RunBruteForce(const internal::Prepared& p, BruteForce& out) {
  const internal::EncodedData& data = p.data;
  const size_t m = data.num_qis;
  std::vector<int> heights;
  for (const auto& c : data.columns) heights.push_back(c.depth);
  out.lattice = std::make_unique<internal::Lattice>(heights);
  out.nodes.resize(out.lattice->size());
  for (auto& k : out.best) {
    for (auto& s : k) {
      for (double& v : s) v = std::numeric_limits<double>::infinity();
    }
  }
  internal::ModelSpec specs[2][2];
  for (int k = 0; k < 2; ++k) {
    for (int s = 0; s < 2; ++s) {
      specs[k][s].k = kKs[k];
      specs[k][s].max_suppressed = static_cast<int64_t>(
          std::floor(kLimits[s] * static_cast<double>(data.num_records) + 1e-9));
    }
  }
  // Depth-first over the lattice; the classes at depth j are grouped at
  // (l_0..l_j, 0..0), which lies below every node further down.
  internal::Grouper grouper;
  std::vector<internal::ClassSet> stack(m);
  std::vector<int> levels(m, 0);
  auto recurse = [&](auto& self, size_t j, const internal::ClassSet& parent) -> void {
    for (int l = 0; l < heights[j]; ++l) {
      levels[j] = l;
      grouper.Group(data, parent, levels, stack[j], nullptr);
      if (j + 1 < m) {
        self(self, j + 1, stack[j]);
        continue;
      }
      const uint32_t node = out.lattice->Index(levels);
      for (int k = 0; k < 2; ++k) {
        for (int s = 0; s < 2; ++s) {
          for (int metric = 0; metric < 5; ++metric) {
            const internal::Evaluation e =
                internal::Evaluate(data, stack[j], levels, specs[k][s], kMetrics[metric]);
            out.nodes[node][ConfigIndex(k, s, metric)] = {e.anonymous, e.metric};
            if (e.anonymous) {
              out.best[k][s][metric] = std::min(out.best[k][s][metric], e.metric);
            }
          }
        }
      }
    }
    levels[j] = 0;
  };
  recurse(recurse, 0, p.bottom);
}

// Recomputes the metric of a released table from strings.
double NaiveMetric(const Shared& s, const AnonymizeResult& r, UtilityMetric metric) {
  const CsvTable& in = s.table;
  const CsvTable& out = r.output;
  const size_t n = in.num_rows();
  const size_t m = kColumns.size();
  std::set<int> released_lines(out.lines.begin(), out.lines.end());
  std::map<std::vector<std::string>, int64_t> classes;
  for (size_t i = 0; i < out.num_rows(); ++i) {
    std::vector<std::string> key;
    for (size_t j = 0; j < m; ++j)
      key.push_back(out.cell(i, *out.ColumnIndex(kColumns[j])));
    ++classes[key];
  }
  const int64_t suppressed = static_cast<int64_t>(n - out.num_rows());
  switch (metric) {
    case UtilityMetric::kDiscernibility: {
      double sum = static_cast<double>(suppressed) * static_cast<double>(n);
      for (const auto& [key, size] : classes) sum += static_cast<double>(size * size);
      return sum;
    }
    case UtilityMetric::kAverageClassSize:
      return static_cast<double>(n) /
             static_cast<double>(classes.size() + (suppressed > 0 ? 1 : 0));
    default:
      break;
  }
  double total = 0;
  for (size_t j = 0; j < m; ++j) {
    const PlainHierarchy& h = s.plain[j];
    const int level = r.report.transformation[j].level;
    const size_t col = *in.ColumnIndex(kColumns[j]);
    std::map<std::string, int64_t> raw_freq;
    std::map<std::string, int64_t> gen_freq;
    for (size_t i = 0; i < n; ++i) {
      const std::string& v = in.cell(i, col);
      ++raw_freq[v];
      ++gen_freq[h.rows.at(v)[level]];
    }
    for (size_t i = 0; i < n; ++i) {
      const std::string& v = in.cell(i, col);
      const std::string& g = h.rows.at(v)[level];
      const bool released = released_lines.count(in.lines[i]) > 0;
      switch (metric) {
        case UtilityMetric::kNonUniformEntropy:
          total += std::log2(static_cast<double>(released ? gen_freq[g] : n) /
                             static_cast<double>(raw_freq[v]));
          break;
        case UtilityMetric::kLoss:
          total += released ? static_cast<double>(h.leaves[level].at(g) - 1) /
                                  static_cast<double>(h.rows.size() - 1)
                            : 1.0;
          break;
        case UtilityMetric::kPrecision:
          total += released ? static_cast<double>(level) / (h.depth - 1) : 1.0;
          break;
        default:
          break;
      }
    }
  }
  if (metric == UtilityMetric::kNonUniformEntropy) return total;
  return total / static_cast<double>(n * m);
}

void ExpectClose(double actual, double expected, const std::string& what) {
  EXPECT_NEAR(actual, expected, 1e-9 * std::max(1.0, std::abs(expected))) << what;
}

void CheckConfiguration(const Shared& s, int ki, int si, int mi) {
  const int64_t k = kKs[ki];
  const double limit = kLimits[si];
  const UtilityMetric metric = kMetrics[mi];
  const size_t n = s.table.num_rows();
  absl::StatusOr<AnonymizeResult> r = Anonymize(s.table, AdultOptions(k, limit, metric));
  ASSERT_TRUE(r.ok()) << r.status();
  const AnonymizeReport& report = r->report;

  // Every released class has at least k records; suppression within the limit.
  std::map<std::vector<std::string>, int64_t> classes;
  for (size_t i = 0; i < r->output.num_rows(); ++i) {
    std::vector<std::string> key;
    for (const std::string& c : kColumns)
      key.push_back(r->output.cell(i, *r->output.ColumnIndex(c)));
    ++classes[key];
  }
  for (const auto& [key, size] : classes) {
    EXPECT_GE(size, k) << absl::StrJoin(key, ";");
  }
  EXPECT_EQ(static_cast<int64_t>(classes.size()), report.classes);
  EXPECT_EQ(report.records_in, static_cast<int64_t>(n));
  EXPECT_EQ(report.records_out, static_cast<int64_t>(r->output.num_rows()));
  EXPECT_EQ(report.suppressed, report.records_in - report.records_out);
  EXPECT_LE(report.suppressed, static_cast<int64_t>(std::floor(limit * n + 1e-9)));
  EXPECT_GE(report.risk_after.prosecutor_max, 0);
  EXPECT_LE(report.risk_after.prosecutor_max, 1.0 / static_cast<double>(k));

  // Released cells are the hierarchy labels at the chosen levels.
  absl::flat_hash_map<int, size_t> row_of_line;
  for (size_t i = 0; i < n; ++i) row_of_line[s.table.lines[i]] = i;
  for (size_t i = 0; i < r->output.num_rows(); i += 97) {
    const size_t row = row_of_line.at(r->output.lines[i]);
    for (size_t j = 0; j < kColumns.size(); ++j) {
      const size_t col = *s.table.ColumnIndex(kColumns[j]);
      EXPECT_EQ(r->output.cell(i, col), s.plain[j].rows.at(s.table.cell(
                                            row, col))[report.transformation[j].level]);
    }
  }

  // The metric, re-derived from strings.
  ExpectClose(report.metric_value, NaiveMetric(s, *r, metric), "naive metric");

  // Optimal: equal to the brute-force minimum, and the chosen node satisfies
  // the model there with the same value.
  std::vector<int> levels;
  for (const ColumnLevel& c : report.transformation) levels.push_back(c.level);
  const auto& node =
      s.brute.nodes[s.brute.lattice->Index(levels)][ConfigIndex(ki, si, mi)];
  EXPECT_TRUE(node.first);
  ExpectClose(node.second, report.metric_value, "brute force at the chosen node");
  ExpectClose(report.metric_value, s.brute.best[ki][si][mi], "brute-force optimum");
  EXPECT_EQ(report.search.lattice_nodes, 12960);
  EXPECT_LT(report.search.evaluated_nodes, 12960);
}

TEST(AdultTest, OptimalAndKAnonymousInEveryConfiguration) {
  if (!HaveAdult()) {
    GTEST_SKIP() << "Adult data set not found at " << kAdult
                 << " (see the shared data's SOURCES.md)";
  }
  auto shared = std::make_unique<Shared>();
  absl::StatusOr<CsvTable> table = ReadCsvTable(kAdult + "adult.csv");
  ASSERT_TRUE(table.ok()) << table.status();
  shared->table = *std::move(table);
  for (const std::string& c : kColumns) {
    shared->plain.push_back(ReadPlain(kAdult + "adult_hierarchy_" + c + ".csv"));
  }
  const AnonymizeOptions options = AdultOptions(1, 0, UtilityMetric::kPrecision);
  absl::StatusOr<internal::Prepared> p = internal::Prepare(shared->table, options);
  ASSERT_TRUE(p.ok()) << p.status();
  RunBruteForce(*p, shared->brute);
  for (int k = 0; k < 2; ++k) {
    for (int s = 0; s < 2; ++s) {
      for (int m = 0; m < 5; ++m) {
        SCOPED_TRACE(absl::StrCat("k=", kKs[k], " suppression=", kLimits[s],
                                  " metric=", UtilityMetricName(kMetrics[m])));
        CheckConfiguration(*shared, k, s, m);
      }
    }
  }
}

TEST(AdultRiskTest, RawProsecutorRiskIsClassesOverRows) {
  if (!HaveAdult()) {
    GTEST_SKIP() << "Adult data set not found at " << kAdult;
  }
  absl::StatusOr<CsvTable> table = ReadCsvTable(kAdult + "adult.csv");
  ASSERT_TRUE(table.ok()) << table.status();
  std::set<std::vector<std::string>> distinct;
  std::map<std::vector<std::string>, int> sizes;
  for (size_t i = 0; i < table->num_rows(); ++i) {
    std::vector<std::string> key;
    for (const std::string& c : kColumns)
      key.push_back(table->cell(i, *table->ColumnIndex(c)));
    ++sizes[key];
  }
  int64_t uniques = 0;
  for (const auto& [key, size] : sizes) uniques += size == 1 ? 1 : 0;
  absl::StatusOr<AnonymizeResult> r =
      Anonymize(*table, AdultOptions(5, 0.04, UtilityMetric::kNonUniformEntropy));
  ASSERT_TRUE(r.ok()) << r.status();
  const RiskSummary& before = r->report.risk_before;
  const double rows = static_cast<double>(table->num_rows());
  EXPECT_EQ(before.records, static_cast<int64_t>(table->num_rows()));
  EXPECT_EQ(before.classes, static_cast<int64_t>(sizes.size()));
  EXPECT_DOUBLE_EQ(before.prosecutor_average, static_cast<double>(sizes.size()) / rows);
  EXPECT_DOUBLE_EQ(before.prosecutor_max, 1.0);
  EXPECT_DOUBLE_EQ(before.unique_share, static_cast<double>(uniques) / rows);
  EXPECT_DOUBLE_EQ(before.journalist_average, before.prosecutor_average);
  EXPECT_DOUBLE_EQ(before.marketer, before.prosecutor_average);
  // After: classes of at least 5.
  EXPECT_LE(r->report.risk_after.prosecutor_max, 0.2);
  EXPECT_DOUBLE_EQ(r->report.risk_after.prosecutor_average,
                   static_cast<double>(r->report.classes) /
                       static_cast<double>(r->report.records_out));
}

}  // namespace
}  // namespace privacity::anon
