#include "anon/csv.h"

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace privacity::anon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CsvTest, DetectsDelimiter) {
  EXPECT_EQ(DetectDelimiter("a;b;c\n1;2;3\n"), ';');
  EXPECT_EQ(DetectDelimiter("a,b,c\n1;2;3\n"), ',');
  EXPECT_EQ(DetectDelimiter("\"x;y\",b\n"), ',');
  EXPECT_EQ(DetectDelimiter("single\n"), ';');
}

TEST(CsvTest, ParsesCrlfAndLfAlike) {
  for (const char* text :
       {"a;b\r\n1;2\r\n3;4\r\n", "a;b\n1;2\n3;4", "a;b\n1;2\n\n3;4\n"}) {
    absl::StatusOr<CsvTable> t = ParseCsvTable(text, "t.csv");
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_THAT(t->header, ElementsAre("a", "b"));
    ASSERT_EQ(t->num_rows(), 2u);
    EXPECT_EQ(t->cell(1, 1), "4");
  }
  EXPECT_TRUE(ParseCsvTable("a;b\r\n1;2\r\n", "t.csv")->crlf);
  EXPECT_FALSE(ParseCsvTable("a;b\n1;2\n", "t.csv")->crlf);
}

TEST(CsvTest, LineNumbersCountSkippedAndQuotedLines) {
  absl::StatusOr<CsvTable> t = ParseCsvTable("a,b\n\n1,\"x\ny\"\n2,z\n", "t.csv");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->lines, ElementsAre(3, 5));
  EXPECT_EQ(t->cell(0, 1), "x\ny");
}

TEST(CsvTest, QuotedFieldsAndEscapedQuotes) {
  absl::StatusOr<CsvTable> t =
      ParseCsvTable("a,b\n\"1,5\",\"say \"\"hi\"\"\"\n", "t.csv");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->cell(0, 0), "1,5");
  EXPECT_EQ(t->cell(0, 1), "say \"hi\"");
}

TEST(CsvTest, ErrorsNameFileAndLine) {
  EXPECT_THAT(ParseCsvTable("a;b\n1;2\n3\n", "t.csv").status().message(),
              HasSubstr("t.csv:3: expected 2 fields"));
  EXPECT_THAT(ParseCsvTable("a;b\n1;\"2\n", "t.csv").status().message(),
              HasSubstr("t.csv:2: unterminated"));
  EXPECT_THAT(ParseCsvTable("", "t.csv").status().message(),
              HasSubstr("t.csv:1: the file is empty"));
  EXPECT_THAT(ParseCsvTable("a;a\n1;2\n", "t.csv").status().message(),
              HasSubstr("twice"));
  EXPECT_THAT(ParseCsvTable("a;b\n\"1\"x;2\n", "t.csv").status().message(),
              HasSubstr("t.csv:2: unexpected character"));
}

TEST(CsvTest, FormatRoundTripsWithSameDelimiterAndLineEnding) {
  const std::string text = "a,b\r\n\"1,5\",\"q\"\"\"\r\nplain,\r\n";
  absl::StatusOr<CsvTable> t = ParseCsvTable(text, "t.csv");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(FormatCsvTable(*t), text);
}

TEST(CsvTest, ReadMissingFileNamesIt) {
  absl::StatusOr<CsvTable> t = ReadCsvTable("/nonexistent/dir/x.csv");
  EXPECT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("/nonexistent/dir/x.csv"));
}

TEST(CsvTest, WriteFileAtomically) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "privacity_anon_csv_test.csv").string();
  ASSERT_TRUE(WriteFileAtomically(path, "a;b\n1;2\n").ok());
  absl::StatusOr<std::string> back = ReadFileToString(path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "a;b\n1;2\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove(path);
  EXPECT_FALSE(WriteFileAtomically("/nonexistent/dir/x.csv", "x").ok());
}

}  // namespace
}  // namespace privacity::anon
