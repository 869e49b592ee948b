// The lattice search against a brute force on random tables, over every
// combination of models (monotone or not) and metrics.
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "anon/engine.h"
#include "common/random.h"
#include "gtest/gtest.h"

namespace privacity::anon::internal {
namespace {

// Raw values 0..size-1; level l groups values by `divisor^l`; the top is *.
std::unique_ptr<Hierarchy> MakeHierarchy(int size, int divisor, int depth) {
  std::vector<std::vector<std::string>> rows;
  for (int v = 0; v < size; ++v) {
    std::vector<std::string> row;
    int group = v;
    for (int l = 0; l + 1 < depth; ++l) {
      row.push_back(absl::StrCat("g", l, "_", group));
      group /= divisor;
    }
    row.push_back("*");
    rows.push_back(row);
  }
  return *Hierarchy::FromRows(rows, "generated");
}

struct Case {
  int64_t k;
  double limit;
  ModelSpec::L l_kind;
  double l;
  ModelSpec::T t_kind;
  double t;
};

TEST(SearchTest, MatchesBruteForceOnRandomTables) {
  InsecureDeterministicRandomForTesting random(7);
  const std::vector<std::unique_ptr<Hierarchy>> owned = [] {
    std::vector<std::unique_ptr<Hierarchy>> h;
    h.push_back(MakeHierarchy(8, 2, 4));
    h.push_back(MakeHierarchy(6, 3, 3));
    h.push_back(MakeHierarchy(4, 2, 3));
    return h;
  }();
  const std::vector<const Hierarchy*> hierarchies = {owned[0].get(), owned[1].get(),
                                                     owned[2].get()};
  const std::vector<Case> cases = [] {
    std::vector<Case> out;
    for (int64_t k : {1, 2, 3, 5}) {
      for (double limit : {0.0, 0.05, 0.2}) {
        out.push_back({k, limit, ModelSpec::L::kNone, 1, ModelSpec::T::kNone, 1});
        out.push_back({k, limit, ModelSpec::L::kDistinct, 2, ModelSpec::T::kNone, 1});
        out.push_back({k, limit, ModelSpec::L::kEntropy, 2, ModelSpec::T::kNone, 1});
        out.push_back({k, limit, ModelSpec::L::kEntropy, 1.5, ModelSpec::T::kEqual, 0.3});
        out.push_back({k, limit, ModelSpec::L::kNone, 1, ModelSpec::T::kOrdered, 0.15});
        out.push_back({k, limit, ModelSpec::L::kNone, 1, ModelSpec::T::kEqual, 0.25});
        // Stricter than the whole table: at most a few nodes, with suppression.
        out.push_back({k, limit, ModelSpec::L::kEntropy, 4.5, ModelSpec::T::kNone, 1});
      }
    }
    return out;
  }();
  const UtilityMetric metrics[] = {UtilityMetric::kNonUniformEntropy,
                                   UtilityMetric::kLoss, UtilityMetric::kDiscernibility,
                                   UtilityMetric::kAverageClassSize,
                                   UtilityMetric::kPrecision};
  int solved = 0;
  int unsolved = 0;
  for (int seed = 0; seed < 25; ++seed) {
    const size_t n = 40 + random.NextUint64() % 60;
    std::vector<uint32_t> tuples;
    std::vector<uint32_t> sensitive;
    for (size_t r = 0; r < n; ++r) {
      // Skewed values so that classes differ in size and diversity.
      tuples.push_back(
          static_cast<uint32_t>(random.NextUint64() % 8 * (random.NextUint64() % 2)));
      tuples.push_back(static_cast<uint32_t>(random.NextUint64() % 6));
      tuples.push_back(static_cast<uint32_t>(random.NextUint64() % 4));
      const uint64_t s = random.NextUint64() % 10;
      sensitive.push_back(static_cast<uint32_t>(s < 5 ? 0 : s - 5));
    }
    const EncodedData data = EncodeData(hierarchies, tuples, sensitive, 5);
    Grouper grouper;
    ClassSet bottom;
    grouper.Group(data, RecordClasses(data, true), std::vector<int>{0, 0, 0}, bottom,
                  nullptr);
    // Classes of every node, grouped from the raw level.
    const Lattice lattice({4, 3, 3});
    std::vector<ClassSet> classes(lattice.size());
    std::vector<int> levels;
    for (uint32_t v = 0; v < lattice.size(); ++v) {
      lattice.Levels(v, levels);
      grouper.Group(data, bottom, levels, classes[v], nullptr);
    }
    for (const Case& c : cases) {
      ModelSpec model;
      model.k = c.k;
      model.max_suppressed = static_cast<int64_t>(std::floor(c.limit * n + 1e-9));
      model.l_kind = c.l_kind;
      model.l = c.l;
      model.t_kind = c.t_kind;
      model.t = c.t;
      for (UtilityMetric metric : metrics) {
        SCOPED_TRACE(absl::StrCat("seed ", seed, " k ", c.k, " limit ", c.limit, " l ",
                                  static_cast<int>(c.l_kind), "/", c.l, " t ",
                                  static_cast<int>(c.t_kind), "/", c.t, " metric ",
                                  UtilityMetricName(metric)));
        double best = std::numeric_limits<double>::infinity();
        std::vector<Evaluation> all(lattice.size());
        for (uint32_t v = 0; v < lattice.size(); ++v) {
          lattice.Levels(v, levels);
          all[v] = Evaluate(data, classes[v], levels, model, metric);
          if (all[v].anonymous) best = std::min(best, all[v].metric);
          // The bounds the search relies on.
          EXPECT_LE(LowerBound(data, levels, metric), all[v].bound * (1 + 1e-12) + 1e-12);
          EXPECT_LE(all[v].bound, all[v].metric * (1 + 1e-12) + 1e-12);
        }
        absl::StatusOr<SearchOutcome> found = FindOptimum(data, bottom, model, metric);
        if (std::isinf(best)) {
          ++unsolved;
          ASSERT_FALSE(found.ok());
          EXPECT_EQ(found.status().code(), absl::StatusCode::kFailedPrecondition);
          continue;
        }
        ++solved;
        ASSERT_TRUE(found.ok()) << found.status();
        const Evaluation& chosen = all[lattice.Index(found->levels)];
        EXPECT_TRUE(chosen.anonymous);
        EXPECT_NEAR(found->evaluation.metric, best, 1e-9 * std::max(1.0, std::abs(best)));
        EXPECT_NEAR(chosen.metric, best, 1e-9 * std::max(1.0, std::abs(best)));
      }
    }
  }
  // The cases must exercise both outcomes.
  EXPECT_GT(solved, 1000);
  EXPECT_GT(unsolved, 10);
}

TEST(SearchTest, MonotonicityFlags) {
  ModelSpec m;
  EXPECT_TRUE(m.Monotone());
  m.max_suppressed = 3;
  EXPECT_TRUE(m.Monotone());
  m.l_kind = ModelSpec::L::kDistinct;
  EXPECT_TRUE(m.Monotone());
  m.l_kind = ModelSpec::L::kEntropy;
  EXPECT_FALSE(m.Monotone());
  m.l_kind = ModelSpec::L::kNone;
  m.t_kind = ModelSpec::T::kOrdered;
  EXPECT_FALSE(m.Monotone());
  m.max_suppressed = 0;
  EXPECT_TRUE(m.Monotone());
}

TEST(SearchTest, LatticeIndexing) {
  const Lattice lattice({2, 5, 3});
  EXPECT_EQ(lattice.size(), 30u);
  std::vector<int> levels;
  for (uint32_t v = 0; v < lattice.size(); ++v) {
    lattice.Levels(v, levels);
    EXPECT_EQ(lattice.Index(levels), v);
  }
  EXPECT_EQ(lattice.Index(std::vector<int>{1, 4, 2}), 29u);
}

}  // namespace
}  // namespace privacity::anon::internal
