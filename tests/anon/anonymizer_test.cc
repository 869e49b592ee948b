#include "anon/anonymizer.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace privacity::anon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kData = std::string(PRIVACITY_TEST_DATA) + "/anon/";

class AnonymizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<CsvTable> t = ReadCsvTable(kData + "salary.csv");
    ASSERT_TRUE(t.ok()) << t.status();
    table_ = *std::move(t);
  }

  AnonymizeOptions Options(int64_t k) {
    AnonymizeOptions options;
    options.quasi_identifiers.push_back(
        {"zip", *Hierarchy::FromCsvFile(kData + "salary_hierarchy_zip.csv")});
    options.quasi_identifiers.push_back(
        {"age", *Hierarchy::FromCsvFile(kData + "salary_hierarchy_age.csv")});
    options.model.k = k;
    return options;
  }

  std::string Error(const CsvTable& table, const AnonymizeOptions& options) {
    absl::StatusOr<AnonymizeResult> r = Anonymize(table, options);
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : std::string(r.status().message());
  }

  CsvTable table_;
};

TEST_F(AnonymizerTest, OutputIsGeneralisedAndGroupedByClass) {
  absl::StatusOr<AnonymizeResult> r = Anonymize(table_, Options(3));
  ASSERT_TRUE(r.ok()) << r.status();
  const CsvTable& out = r->output;
  EXPECT_THAT(out.header, ElementsAre("zip", "age", "salary", "disease"));
  EXPECT_EQ(out.delimiter, ';');
  EXPECT_TRUE(out.crlf);
  ASSERT_EQ(out.num_rows(), 9u);
  // Classes in hierarchy order: 4767*, 4760*, 4790*; input order inside.
  const std::vector<std::string> expected = {
      "4767*;<40;3000;gastric ulcer", "4767*;<40;5000;stomach cancer",
      "4767*;<40;9000;pneumonia",     "4760*;<40;4000;gastritis",
      "4760*;<40;7000;bronchitis",    "4760*;<40;10000;stomach cancer",
      "4790*;>=40;6000;gastritis",    "4790*;>=40;11000;flu",
      "4790*;>=40;8000;bronchitis"};
  for (size_t i = 0; i < out.num_rows(); ++i) {
    EXPECT_EQ(absl::StrCat(out.cell(i, 0), ";", out.cell(i, 1), ";", out.cell(i, 2), ";",
                           out.cell(i, 3)),
              expected[i]);
  }
  EXPECT_EQ(FormatCsvTable(out).substr(0, 24), "zip;age;salary;disease\r\n");
}

TEST_F(AnonymizerTest, RiskBeforeAndAfter) {
  absl::StatusOr<AnonymizeResult> r = Anonymize(table_, Options(3));
  ASSERT_TRUE(r.ok()) << r.status();
  // Every zip code is unique in the raw data.
  EXPECT_EQ(r->report.risk_before.classes, 9);
  EXPECT_DOUBLE_EQ(r->report.risk_before.prosecutor_average, 1.0);
  EXPECT_DOUBLE_EQ(r->report.risk_before.unique_share, 1.0);
  EXPECT_EQ(r->report.risk_after.classes, 3);
  EXPECT_DOUBLE_EQ(r->report.risk_after.prosecutor_average, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r->report.risk_after.prosecutor_max, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r->report.risk_after.journalist_max, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r->report.risk_after.marketer, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r->report.risk_after.unique_share, 0);
}

TEST_F(AnonymizerTest, JournalistRiskAgainstAPopulation) {
  // The population holds every input record twice.
  std::string text = "zip;age\n";
  for (size_t i = 0; i < table_.num_rows(); ++i) {
    absl::StrAppend(&text, table_.cell(i, 0), ";", table_.cell(i, 1), "\n");
    absl::StrAppend(&text, table_.cell(i, 0), ";", table_.cell(i, 1), "\n");
  }
  absl::StatusOr<CsvTable> population = ParseCsvTable(text, "population.csv");
  ASSERT_TRUE(population.ok());
  AnonymizeOptions options = Options(3);
  options.population = &*population;
  absl::StatusOr<AnonymizeResult> r = Anonymize(table_, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->report.risk_before.population);
  EXPECT_DOUBLE_EQ(r->report.risk_before.prosecutor_average, 1.0);
  EXPECT_DOUBLE_EQ(r->report.risk_before.journalist_max, 0.5);
  EXPECT_DOUBLE_EQ(r->report.risk_before.journalist_average, 0.5);
  EXPECT_DOUBLE_EQ(r->report.risk_after.journalist_max, 1.0 / 6);
  EXPECT_DOUBLE_EQ(r->report.risk_after.marketer, 1.0 / 6);

  // A population missing part of the sample is rejected.
  absl::StatusOr<CsvTable> small = ParseCsvTable("zip;age\n47677;29\n", "small.csv");
  ASSERT_TRUE(small.ok());
  options.population = &*small;
  EXPECT_THAT(Error(table_, options), HasSubstr("must contain every input record"));
  // A population value outside the hierarchy names its line.
  absl::StatusOr<CsvTable> odd =
      ParseCsvTable("zip;age\n47677;29\n47677;99\n", "odd.csv");
  ASSERT_TRUE(odd.ok());
  options.population = &*odd;
  EXPECT_THAT(Error(table_, options), HasSubstr("odd.csv:3: column 'age'"));
}

TEST_F(AnonymizerTest, DropColumns) {
  AnonymizeOptions options = Options(3);
  options.drop_columns = {"salary"};
  absl::StatusOr<AnonymizeResult> r = Anonymize(table_, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->output.header, ElementsAre("zip", "age", "disease"));
  EXPECT_EQ(r->output.cell(0, 2), "gastric ulcer");
}

TEST_F(AnonymizerTest, ValueMissingFromHierarchyNamesFileAndLine) {
  absl::StatusOr<CsvTable> bad = ReadCsvTable(kData + "bad_missing_value.csv");
  ASSERT_TRUE(bad.ok());
  const std::string message = Error(*bad, Options(1));
  EXPECT_THAT(message,
              HasSubstr("bad_missing_value.csv:4: column 'zip' has a value that is "
                        "not in its hierarchy"));
  EXPECT_THAT(message, HasSubstr("salary_hierarchy_zip.csv"));
  EXPECT_THAT(message, Not(HasSubstr("47999")));
}

TEST_F(AnonymizerTest, KLargerThanTheData) {
  EXPECT_THAT(Error(table_, Options(10)),
              HasSubstr("k (10) is larger than the number of records (9)"));
}

TEST_F(AnonymizerTest, UnknownColumns) {
  AnonymizeOptions options = Options(2);
  options.quasi_identifiers[0].column = "zipcode";
  EXPECT_THAT(Error(table_, options),
              HasSubstr("salary.csv:1: no column named 'zipcode'"));
  options = Options(2);
  options.sensitive_column = "income";
  options.model.l_diversity = LDiversity{};
  EXPECT_THAT(Error(table_, options), HasSubstr("no column named 'income'"));
  options = Options(2);
  options.drop_columns = {"name"};
  EXPECT_THAT(Error(table_, options), HasSubstr("no column named 'name'"));
}

TEST_F(AnonymizerTest, BadParameters) {
  AnonymizeOptions options = Options(0);
  EXPECT_THAT(Error(table_, options), HasSubstr("k must be at least 1"));
  options = Options(2);
  options.model.suppression_limit = 1.5;
  EXPECT_THAT(Error(table_, options), HasSubstr("suppression limit"));
  options = Options(2);
  options.model.l_diversity = LDiversity{};
  EXPECT_THAT(Error(table_, options), HasSubstr("needs a sensitive column"));
  options = Options(2);
  options.model.t_closeness = TCloseness{};
  EXPECT_THAT(Error(table_, options), HasSubstr("needs a sensitive column"));
  options.sensitive_column = "disease";
  options.model.t_closeness->t = 2;
  EXPECT_THAT(Error(table_, options), HasSubstr("t must be in [0, 1]"));
  options = Options(2);
  options.sensitive_column = "zip";
  EXPECT_THAT(Error(table_, options), HasSubstr("both sensitive and a quasi-identifier"));
  options = Options(2);
  options.quasi_identifiers.push_back(
      {"zip", *Hierarchy::FromCsvFile(kData + "salary_hierarchy_zip.csv")});
  EXPECT_THAT(Error(table_, options), HasSubstr("named twice"));
  options = Options(2);
  options.drop_columns = {"age"};
  EXPECT_THAT(Error(table_, options), HasSubstr("cannot be dropped"));
  options = Options(2);
  options.quasi_identifiers.clear();
  EXPECT_THAT(Error(table_, options), HasSubstr("at least one quasi-identifier"));
}

TEST_F(AnonymizerTest, NoRecords) {
  absl::StatusOr<CsvTable> empty = ParseCsvTable("zip;age\n", "empty.csv");
  ASSERT_TRUE(empty.ok());
  EXPECT_THAT(Error(*empty, Options(1)), HasSubstr("empty.csv: no records"));
}

TEST_F(AnonymizerTest, ReportJson) {
  AnonymizeOptions options = Options(3);
  options.sensitive_column = "disease";
  options.model.l_diversity = LDiversity{2, LDiversityVariant::kEntropy};
  options.model.suppression_limit = 0.1;
  options.metric = UtilityMetric::kLoss;
  absl::StatusOr<AnonymizeResult> r = Anonymize(table_, options);
  ASSERT_TRUE(r.ok()) << r.status();
  ReportTiming timing;
  timing.anonymize_ms = 1.5;
  const nlohmann::json j = nlohmann::json::parse(FormatReportJson(r->report, timing));
  EXPECT_EQ(j["model"]["k"], 3);
  EXPECT_EQ(j["model"]["l_variant"], "entropy");
  EXPECT_EQ(j["model"]["sensitive"], "disease");
  EXPECT_EQ(j["metric"]["name"], "loss");
  EXPECT_DOUBLE_EQ(j["metric"]["value"].get<double>(), r->report.metric_value);
  ASSERT_EQ(j["transformation"].size(), 2u);
  EXPECT_EQ(j["transformation"][0]["column"], "zip");
  EXPECT_EQ(j["transformation"][1]["levels"], 4);
  EXPECT_EQ(j["records_in"], 9);
  EXPECT_EQ(j["suppressed"].get<int64_t>() + j["records_out"].get<int64_t>(), 9);
  EXPECT_EQ(j["risk"]["before"]["classes"], 9);
  EXPECT_EQ(j["search"]["lattice_nodes"], 16);
  EXPECT_DOUBLE_EQ(j["time_ms"]["anonymize"].get<double>(), 1.5);
  EXPECT_FALSE(j["time_ms"].contains("total"));
}

TEST(MetricNamesTest, RoundTrip) {
  for (UtilityMetric m : {UtilityMetric::kNonUniformEntropy, UtilityMetric::kLoss,
                          UtilityMetric::kDiscernibility,
                          UtilityMetric::kAverageClassSize, UtilityMetric::kPrecision}) {
    absl::StatusOr<UtilityMetric> back = ParseUtilityMetric(UtilityMetricName(m));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, m);
  }
  EXPECT_FALSE(ParseUtilityMetric("utility").ok());
}

}  // namespace
}  // namespace privacity::anon
