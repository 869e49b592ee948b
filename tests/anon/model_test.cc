// Privacy models on small tables with answers worked out by hand.
#include <cmath>
#include <string>

#include "anon/anonymizer.h"
#include "anon/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace privacity::anon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kData = std::string(PRIVACITY_TEST_DATA) + "/anon/";

// Salaries 3k..11k, uniform: the example of Li, Li and Venkatasubramanian,
// "t-Closeness" (ICDE 2007), Table 3.
internal::SensitiveDistribution NineSalaries() {
  return internal::MakeSensitiveDistribution({1, 1, 1, 1, 1, 1, 1, 1, 1});
}

TEST(EmdTest, OrderedDistanceMatchesThePaper) {
  const auto overall = NineSalaries();
  // {3k, 4k, 5k} -> 0.375; {6k, 8k, 11k} -> 0.167.
  EXPECT_NEAR(internal::OrderedDistanceEmd({0, 1, 2}, {1, 1, 1}, overall), 0.375, 1e-12);
  EXPECT_NEAR(internal::OrderedDistanceEmd({3, 5, 8}, {1, 1, 1}, overall), 1.0 / 6,
              1e-12);
  EXPECT_NEAR(internal::OrderedDistanceEmd({1, 4, 7}, {1, 1, 1}, overall), 1.0 / 12,
              1e-12);
  // The whole table is at distance 0; a point mass at one end at distance 1/2.
  EXPECT_NEAR(internal::OrderedDistanceEmd({0, 1, 2, 3, 4, 5, 6, 7, 8},
                                           {1, 1, 1, 1, 1, 1, 1, 1, 1}, overall),
              0, 1e-12);
  EXPECT_NEAR(internal::OrderedDistanceEmd({8}, {5}, overall), 0.5, 1e-12);
}

TEST(EmdTest, EqualDistance) {
  const auto overall = NineSalaries();
  // 1/2 (3 * |1/3 - 1/9| + 6 * 1/9) = 2/3.
  EXPECT_NEAR(internal::EqualDistanceEmd({0, 1, 2}, {1, 1, 1}, overall), 2.0 / 3, 1e-12);
  EXPECT_NEAR(internal::EqualDistanceEmd({4}, {2}, overall), 8.0 / 9, 1e-12);
  const auto skewed = internal::MakeSensitiveDistribution({3, 1});
  EXPECT_NEAR(internal::EqualDistanceEmd({0, 1}, {3, 1}, skewed), 0, 1e-12);
  EXPECT_NEAR(internal::EqualDistanceEmd({1}, {1}, skewed), 0.75, 1e-12);
}

TEST(EmdTest, Entropy) {
  EXPECT_NEAR(internal::Entropy({1, 1}), std::log(2.0), 1e-12);
  EXPECT_NEAR(internal::Entropy({5}), 0, 1e-12);
  EXPECT_NEAR(internal::Entropy({3, 1}), -(0.75 * std::log(0.75) + 0.25 * std::log(0.25)),
              1e-12);
}

// zip,disease: z1 {flu, flu}, z2 {flu, cancer}, z3 {cancer, hiv}; z1 and z2
// generalise to A, z3 to B, then *.
class DiseaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<CsvTable> t = ReadCsvTable(kData + "disease.csv");
    ASSERT_TRUE(t.ok()) << t.status();
    table_ = *std::move(t);
  }

  absl::StatusOr<AnonymizeResult> Run(PrivacyModel model, UtilityMetric metric) {
    AnonymizeOptions options;
    auto h = Hierarchy::FromCsvFile(kData + "disease_hierarchy_zip.csv");
    if (!h.ok()) return h.status();
    options.quasi_identifiers.push_back({"zip", *std::move(h)});
    options.sensitive_column = "disease";
    options.model = model;
    options.metric = metric;
    return Anonymize(table_, options);
  }

  CsvTable table_;
};

TEST_F(DiseaseTest, KAnonymityAloneKeepsRawValues) {
  PrivacyModel model;
  model.k = 2;
  absl::StatusOr<AnonymizeResult> r = Run(model, UtilityMetric::kPrecision);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->report.transformation[0].level, 0);
}

TEST_F(DiseaseTest, DistinctLDiversity) {
  PrivacyModel model;
  model.k = 2;
  model.l_diversity = LDiversity{2, LDiversityVariant::kDistinct};
  absl::StatusOr<AnonymizeResult> r = Run(model, UtilityMetric::kPrecision);
  ASSERT_TRUE(r.ok()) << r.status();
  // z1 holds only flu; at level 1, A = {flu x3, cancer} and B = {cancer, hiv}.
  EXPECT_EQ(r->report.transformation[0].level, 1);
  EXPECT_EQ(r->report.classes, 2);
  EXPECT_EQ(r->report.suppressed, 0);
  // With room to suppress z1's two records, the raw level wins.
  model.suppression_limit = 2.0 / 6;
  r = Run(model, UtilityMetric::kPrecision);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->report.transformation[0].level, 0);
  EXPECT_EQ(r->report.suppressed, 2);
  EXPECT_NEAR(r->report.metric_value, 2.0 / 6, 1e-12);
  for (size_t i = 0; i < r->output.num_rows(); ++i) EXPECT_NE(r->output.cell(i, 0), "z1");
}

TEST_F(DiseaseTest, EntropyLDiversityIsNotMonotoneWithSuppression) {
  PrivacyModel model;
  model.k = 2;
  model.l_diversity = LDiversity{2, LDiversityVariant::kEntropy};
  // No suppression: A = {flu x3, cancer} has entropy 0.56 < log 2, so only *.
  absl::StatusOr<AnonymizeResult> r = Run(model, UtilityMetric::kPrecision);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->report.transformation[0].level, 2);
  // Two records may go: the raw level suppresses z1 (2 records) and
  // satisfies; level 1 would need to suppress A (4 records) and does not.
  model.suppression_limit = 2.0 / 6;
  r = Run(model, UtilityMetric::kDiscernibility);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->report.transformation[0].level, 0);
  EXPECT_EQ(r->report.suppressed, 2);
  EXPECT_DOUBLE_EQ(r->report.metric_value, 4 + 4 + 2 * 6);
  // One record: neither the raw level nor level 1.
  model.suppression_limit = 1.0 / 6;
  r = Run(model, UtilityMetric::kPrecision);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->report.transformation[0].level, 2);
  // Four records: level 1 satisfies too, but the raw level costs less.
  model.suppression_limit = 4.0 / 6;
  r = Run(model, UtilityMetric::kPrecision);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->report.transformation[0].level, 0);
}

TEST_F(DiseaseTest, LLargerThanDistinctValuesIsAnError) {
  PrivacyModel model;
  model.l_diversity = LDiversity{4, LDiversityVariant::kDistinct};
  absl::StatusOr<AnonymizeResult> r = Run(model, UtilityMetric::kPrecision);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("exceeds the number of distinct values (3)"));
}

// The nine-record table of the t-closeness paper: zip (raw, 4767*, 476**, *)
// and age (raw, decade, <40 / >=40, *) as quasi-identifiers.
class SalaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<CsvTable> t = ReadCsvTable(kData + "salary.csv");
    ASSERT_TRUE(t.ok()) << t.status();
    table_ = *std::move(t);
  }

  AnonymizeOptions Options(PrivacyModel model) {
    AnonymizeOptions options;
    options.quasi_identifiers.push_back(
        {"zip", *Hierarchy::FromCsvFile(kData + "salary_hierarchy_zip.csv")});
    options.quasi_identifiers.push_back(
        {"age", *Hierarchy::FromCsvFile(kData + "salary_hierarchy_age.csv")});
    options.model = model;
    options.metric = UtilityMetric::kPrecision;
    return options;
  }

  std::vector<int> Levels(const AnonymizeResult& r) {
    std::vector<int> out;
    for (const ColumnLevel& c : r.report.transformation) out.push_back(c.level);
    return out;
  }

  CsvTable table_;
};

TEST_F(SalaryTest, ThreeAnonymity) {
  PrivacyModel model;
  model.k = 3;
  for (UtilityMetric metric :
       {UtilityMetric::kNonUniformEntropy, UtilityMetric::kLoss,
        UtilityMetric::kDiscernibility, UtilityMetric::kAverageClassSize,
        UtilityMetric::kPrecision}) {
    AnonymizeOptions options = Options(model);
    options.metric = metric;
    absl::StatusOr<AnonymizeResult> r = Anonymize(table_, options);
    ASSERT_TRUE(r.ok()) << r.status();
    // (4767*, 4760*, 4790*) x (<40, >=40): three classes of three records.
    EXPECT_THAT(Levels(*r), ElementsAre(1, 2)) << UtilityMetricName(metric);
    EXPECT_EQ(r->report.classes, 3);
    EXPECT_EQ(r->report.suppressed, 0);
  }
}

TEST_F(SalaryTest, OrderedTCloseness) {
  PrivacyModel model;
  model.k = 3;
  // At (1, 2) the salary classes are {3k,5k,9k}, {4k,7k,10k}, {6k,8k,11k},
  // at distances 1/6, 1/12 and 1/6.
  model.t_closeness = TCloseness{0.2, TClosenessDistance::kOrdered};
  AnonymizeOptions options = Options(model);
  options.sensitive_column = "salary";
  absl::StatusOr<AnonymizeResult> r = Anonymize(table_, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Levels(*r), ElementsAre(1, 2));
  // At 0.15 only the single class at the top is close enough.
  options.model.t_closeness->t = 0.15;
  r = Anonymize(table_, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Levels(*r), ElementsAre(3, 3));
  EXPECT_EQ(r->report.classes, 1);
}

TEST_F(SalaryTest, EqualTCloseness) {
  PrivacyModel model;
  model.k = 3;
  // Diseases at (1, 2) are at 5/9, 1/3 and 4/9 from the whole table; at
  // (2, 2) and (3, 2), the >=40 class {gastritis, flu, bronchitis} is at 4/9.
  // So t = 0.4 leaves only the top, one class at distance 0.
  model.t_closeness = TCloseness{0.4, TClosenessDistance::kEqual};
  AnonymizeOptions options = Options(model);
  options.sensitive_column = "disease";
  absl::StatusOr<AnonymizeResult> r = Anonymize(table_, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Levels(*r), ElementsAre(3, 3));
}

TEST_F(SalaryTest, SuppressionLimitCountsRecords) {
  PrivacyModel model;
  model.k = 3;
  model.suppression_limit = 2.0 / 9;
  AnonymizeOptions options = Options(model);
  options.metric = UtilityMetric::kNonUniformEntropy;
  absl::StatusOr<AnonymizeResult> r = Anonymize(table_, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LE(r->report.suppressed, 2);
  EXPECT_EQ(r->report.records_out + r->report.suppressed, 9);
  EXPECT_EQ(static_cast<int64_t>(r->output.num_rows()), r->report.records_out);
}

TEST_F(SalaryTest, NoSolutionIsFailedPrecondition) {
  PrivacyModel model;
  model.k = 3;
  model.t_closeness = TCloseness{0.0, TClosenessDistance::kOrdered};
  AnonymizeOptions options = Options(model);
  options.sensitive_column = "salary";
  // t = 0 holds at the top (one class, the whole table): a solution exists.
  EXPECT_TRUE(Anonymize(table_, options).ok());
  // With a hierarchy whose top is not a single value, none may exist.
  options.quasi_identifiers[0].hierarchy = *Hierarchy::FromCsv(
      "47677;a\n47602;b\n47678;a\n47905;b\n47909;a\n47906;b\n"
      "47605;a\n47673;b\n47607;a\n",
      "split.csv");
  absl::StatusOr<AnonymizeResult> r = Anonymize(table_, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace privacity::anon
