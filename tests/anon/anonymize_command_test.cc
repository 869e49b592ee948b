// `privacity anonymize` through CLI11, as main() runs it.
#include <filesystem>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "anon/csv.h"
#include "cli/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace privacity::cli {
namespace {

using ::testing::HasSubstr;

const std::string kData = std::string(PRIVACITY_TEST_DATA) + "/anon/";

class AnonymizeCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("privacity_anonymize_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `privacity anonymize ARGS`; returns the exit code and keeps stderr.
  int Run(const std::vector<std::string>& args) {
    CLI::App app;
    app.require_subcommand(1);
    int exit_code = -1;
    AddAnonymizeCommand(app, exit_code);
    std::vector<std::string> all = {"privacity", "anonymize"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    ::testing::internal::CaptureStderr();
    ::testing::internal::CaptureStdout();
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError&) {
      exit_code = 2;
    }
    stdout_ = ::testing::internal::GetCapturedStdout();
    stderr_ = ::testing::internal::GetCapturedStderr();
    return exit_code;
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::vector<std::string> SalaryArgs() const {
    return {"--input",  kData + "salary.csv",
            "--qi",     "zip=" + kData + "salary_hierarchy_zip.csv",
            "--qi",     "age=" + kData + "salary_hierarchy_age.csv",
            "--output", Path("out.csv")};
  }

  std::filesystem::path dir_;
  std::string stdout_;
  std::string stderr_;
};

TEST_F(AnonymizeCommandTest, WritesOutputAndReport) {
  std::vector<std::string> args = SalaryArgs();
  args.insert(args.end(), {"--k", "3", "--suppression", "0", "--report", Path("r.json")});
  ASSERT_EQ(Run(args), 0) << stderr_;
  absl::StatusOr<anon::CsvTable> out = anon::ReadCsvTable(Path("out.csv"));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->delimiter, ';');
  EXPECT_TRUE(out->crlf);
  ASSERT_EQ(out->num_rows(), 9u);
  EXPECT_EQ(out->cell(0, 0), "4767*");
  EXPECT_EQ(out->cell(0, 1), "<40");
  absl::StatusOr<std::string> report = anon::ReadFileToString(Path("r.json"));
  ASSERT_TRUE(report.ok());
  const nlohmann::json j = nlohmann::json::parse(*report);
  EXPECT_EQ(j["transformation"][0]["level"], 1);
  EXPECT_EQ(j["transformation"][1]["level"], 2);
  EXPECT_EQ(j["classes"], 3);
  EXPECT_EQ(j["metric"]["name"], "entropy");
  EXPECT_TRUE(j["time_ms"].contains("anonymize"));
  EXPECT_TRUE(j["time_ms"].contains("total"));
  EXPECT_THAT(stdout_, HasSubstr("anonymized 9 records"));
}

TEST_F(AnonymizeCommandTest, ReportOnStdoutWithoutReportFile) {
  std::vector<std::string> args = SalaryArgs();
  args.insert(args.end(),
              {"--k", "2", "--suppression", "4%", "--metric", "discernibility"});
  ASSERT_EQ(Run(args), 0) << stderr_;
  const nlohmann::json j = nlohmann::json::parse(stdout_);
  EXPECT_DOUBLE_EQ(j["model"]["suppression_limit"].get<double>(), 0.04);
  EXPECT_EQ(j["metric"]["name"], "discernibility");
}

TEST_F(AnonymizeCommandTest, CommaInputGivesCommaOutputWithModels) {
  ASSERT_EQ(Run({"--input",       kData + "disease.csv",
                 "--qi",          "zip=" + kData + "disease_hierarchy_zip.csv",
                 "--sensitive",   "disease",
                 "--k",           "2",
                 "--l",           "2",
                 "--l-variant",   "entropy",
                 "--t",           "0.9",
                 "--t-distance",  "ordered",
                 "--suppression", "0",
                 "--output",      Path("out.csv")}),
            0)
      << stderr_;
  absl::StatusOr<std::string> text = anon::ReadFileToString(Path("out.csv"));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->substr(0, 12), "zip,disease\n");
  EXPECT_THAT(*text, HasSubstr("*,flu\n"));
}

TEST_F(AnonymizeCommandTest, GeneratedHierarchies) {
  ASSERT_EQ(Run({"--input", kData + "salary.csv", "--qi",
                 "zip=" + kData + "salary_hierarchy_zip.csv", "--qi", "age=interval:5",
                 "--k", "3", "--suppression", "0", "--output", Path("out.csv")}),
            0)
      << stderr_;
  EXPECT_EQ(Run({"--input", kData + "salary.csv", "--qi", "age=interval:five", "--k", "3",
                 "--suppression", "0", "--output", Path("out.csv")}),
            2);
  EXPECT_THAT(stderr_, HasSubstr("interval:WIDTH"));
  EXPECT_EQ(Run({"--input", kData + "salary.csv", "--qi", "zip=date", "--k", "3",
                 "--suppression", "0", "--output", Path("out.csv")}),
            1);
  EXPECT_THAT(stderr_, HasSubstr("salary.csv:2: column 'zip'"));
}

TEST_F(AnonymizeCommandTest, BadInputGetsClearErrors) {
  // A value missing from its hierarchy.
  EXPECT_EQ(Run({"--input", kData + "bad_missing_value.csv", "--qi",
                 "zip=" + kData + "salary_hierarchy_zip.csv", "--k", "1", "--suppression",
                 "0", "--output", Path("out.csv")}),
            1);
  EXPECT_THAT(stderr_, HasSubstr("bad_missing_value.csv:4: column 'zip'"));
  EXPECT_FALSE(std::filesystem::exists(Path("out.csv")));
  // A ragged hierarchy.
  EXPECT_EQ(Run({"--input", kData + "salary.csv", "--qi",
                 "zip=" + kData + "bad_ragged_hierarchy.csv", "--k", "1", "--suppression",
                 "0", "--output", Path("out.csv")}),
            1);
  EXPECT_THAT(stderr_, HasSubstr("bad_ragged_hierarchy.csv:2: row has 3 levels"));
  // k larger than the data.
  std::vector<std::string> args = SalaryArgs();
  args.insert(args.end(), {"--k", "100", "--suppression", "0"});
  EXPECT_EQ(Run(args), 1);
  EXPECT_THAT(stderr_, HasSubstr("k (100) is larger than the number of records (9)"));
  // An unknown column.
  EXPECT_EQ(Run({"--input", kData + "salary.csv", "--qi",
                 "zipcode=" + kData + "salary_hierarchy_zip.csv", "--k", "1",
                 "--suppression", "0", "--output", Path("out.csv")}),
            1);
  EXPECT_THAT(stderr_, HasSubstr("salary.csv:1: no column named 'zipcode'"));
  // A missing input file.
  EXPECT_EQ(Run({"--input", Path("nope.csv"), "--qi", "zip=x.csv", "--k", "1",
                 "--suppression", "0", "--output", Path("out.csv")}),
            1);
  EXPECT_THAT(stderr_, HasSubstr("nope.csv"));
}

TEST_F(AnonymizeCommandTest, BadUsage) {
  std::vector<std::string> args = SalaryArgs();
  args.insert(args.end(), {"--k", "3", "--suppression", "lots"});
  EXPECT_EQ(Run(args), 2);
  args = SalaryArgs();
  args.insert(args.end(), {"--k", "3", "--suppression", "0", "--metric", "utility"});
  EXPECT_EQ(Run(args), 2);
  EXPECT_EQ(Run({"--input", kData + "salary.csv", "--qi", "zip", "--k", "3",
                 "--suppression", "0", "--output", Path("out.csv")}),
            2);
  EXPECT_THAT(stderr_, HasSubstr("COLUMN=HIERARCHY"));
  args = SalaryArgs();
  args.insert(args.end(), {"--suppression", "0"});  // no --k
  EXPECT_EQ(Run(args), 2);
}

}  // namespace
}  // namespace privacity::cli
