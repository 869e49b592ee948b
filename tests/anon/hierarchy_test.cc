#include "anon/hierarchy.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace privacity::anon {
namespace {

using ::testing::HasSubstr;

const std::string kData = std::string(PRIVACITY_TEST_DATA) + "/anon/";

TEST(HierarchyTest, ReadsArxFormat) {
  absl::StatusOr<std::unique_ptr<Hierarchy>> h =
      Hierarchy::FromCsvFile(kData + "salary_hierarchy_zip.csv");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ((*h)->depth(), 4);
  EXPECT_EQ((*h)->size(), 9);
  std::optional<uint32_t> row = (*h)->Find("47905");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ((*h)->label(1, (*h)->code(*row, 1)), "4790*");
  EXPECT_EQ((*h)->label(2, (*h)->code(*row, 2)), "479**");
  EXPECT_EQ((*h)->label(3, (*h)->code(*row, 3)), "*");
  EXPECT_EQ((*h)->cardinality(0), 9u);
  EXPECT_EQ((*h)->cardinality(1), 3u);
  EXPECT_EQ((*h)->cardinality(2), 2u);
  EXPECT_EQ((*h)->cardinality(3), 1u);
  EXPECT_EQ((*h)->leaves(2, (*h)->code(*row, 2)), 3u);
  EXPECT_EQ((*h)->leaves(3, 0), 9u);
  EXPECT_FALSE((*h)->Find("12345").has_value());
}

TEST(HierarchyTest, CommaAndCrlf) {
  absl::StatusOr<std::unique_ptr<Hierarchy>> h =
      Hierarchy::FromCsvFile(kData + "disease_hierarchy_zip.csv");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ((*h)->depth(), 3);
  EXPECT_EQ((*h)->label(1, (*h)->code(*(*h)->Find("z3"), 1)), "B");
}

TEST(HierarchyTest, EmptyFileIsAnError) {
  absl::StatusOr<std::unique_ptr<Hierarchy>> h =
      Hierarchy::FromCsvFile(kData + "bad_empty_hierarchy.csv");
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.status().message(),
              HasSubstr("bad_empty_hierarchy.csv:1: the hierarchy is empty"));
}

TEST(HierarchyTest, RowsOfDifferentDepthNameTheLine) {
  absl::StatusOr<std::unique_ptr<Hierarchy>> h =
      Hierarchy::FromCsvFile(kData + "bad_ragged_hierarchy.csv");
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.status().message(),
              HasSubstr("bad_ragged_hierarchy.csv:2: row has 3 levels, expected 4"));
}

TEST(HierarchyTest, LevelsMustRefine) {
  absl::StatusOr<std::unique_ptr<Hierarchy>> h =
      Hierarchy::FromCsvFile(kData + "bad_refine_hierarchy.csv");
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.status().message(), HasSubstr("bad_refine_hierarchy.csv:4:"));
  EXPECT_THAT(h.status().message(), HasSubstr("line 3"));
}

TEST(HierarchyTest, RepeatedRawValue) {
  absl::StatusOr<std::unique_ptr<Hierarchy>> h =
      Hierarchy::FromCsv("a;*\nb;*\na;*\n", "h.csv");
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.status().message(), HasSubstr("h.csv:3: raw value repeats line 1"));
}

TEST(HierarchyTest, ErrorsCarryNoValues) {
  absl::StatusOr<std::unique_ptr<Hierarchy>> h =
      Hierarchy::FromCsv("secret-a;*\nsecret-b\n", "h.csv");
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(std::string(h.status().message()), ::testing::Not(HasSubstr("secret")));
}

absl::StatusOr<CsvTable> Table(const std::string& text) {
  return ParseCsvTable(text, "in.csv");
}

TEST(HierarchyTest, IntervalsForIntegers) {
  absl::StatusOr<CsvTable> t = Table("age\n17\n23\n39\n90\n");
  ASSERT_TRUE(t.ok());
  absl::StatusOr<std::unique_ptr<Hierarchy>> h = GenerateIntervalHierarchy(*t, "age", {});
  ASSERT_TRUE(h.ok()) << h.status();
  // Origin 15; widths 5, 10, 20, 40 split the values; 80 would hold all.
  EXPECT_EQ((*h)->depth(), 6);
  const uint32_t r = *(*h)->Find("39");
  EXPECT_EQ((*h)->label(1, (*h)->code(r, 1)), "35-39");
  EXPECT_EQ((*h)->label(2, (*h)->code(r, 2)), "35-44");
  EXPECT_EQ((*h)->label(3, (*h)->code(r, 3)), "35-54");
  EXPECT_EQ((*h)->label(4, (*h)->code(r, 4)), "15-54");
  EXPECT_EQ((*h)->label(5, (*h)->code(r, 5)), "*");
  EXPECT_EQ((*h)->label(4, (*h)->code(*(*h)->Find("90"), 4)), "55-94");
}

TEST(HierarchyTest, IntervalsForDecimalsAreHalfOpen) {
  absl::StatusOr<CsvTable> t = Table("x\n0.5\n1.7\n2.2\n");
  ASSERT_TRUE(t.ok());
  IntervalOptions options;
  options.width = 1;
  absl::StatusOr<std::unique_ptr<Hierarchy>> h =
      GenerateIntervalHierarchy(*t, "x", options);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ((*h)->label(1, (*h)->code(*(*h)->Find("1.7"), 1)), "[1, 2)");
  EXPECT_EQ((*h)->label(2, (*h)->code(*(*h)->Find("1.7"), 2)), "[0, 2)");
  EXPECT_EQ((*h)->label(3, 0), "*");
}

TEST(HierarchyTest, IntervalErrors) {
  absl::StatusOr<CsvTable> t = Table("age\n17\nold\n");
  ASSERT_TRUE(t.ok());
  absl::StatusOr<std::unique_ptr<Hierarchy>> h = GenerateIntervalHierarchy(*t, "age", {});
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.status().message(), HasSubstr("in.csv:3: column 'age'"));
  EXPECT_FALSE(GenerateIntervalHierarchy(*t, "nope", {}).ok());
  IntervalOptions bad;
  bad.width = 0;
  EXPECT_FALSE(GenerateIntervalHierarchy(*t, "age", bad).ok());
}

TEST(HierarchyTest, Dates) {
  absl::StatusOr<CsvTable> t = Table("d\n2013-01-05\n2013-02-10\n2014-07-01\n");
  ASSERT_TRUE(t.ok());
  absl::StatusOr<std::unique_ptr<Hierarchy>> h = GenerateDateHierarchy(*t, "d");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ((*h)->depth(), 4);
  const uint32_t r = *(*h)->Find("2013-02-10");
  EXPECT_EQ((*h)->label(1, (*h)->code(r, 1)), "2013-02");
  EXPECT_EQ((*h)->label(2, (*h)->code(r, 2)), "2013");
  EXPECT_EQ((*h)->label(3, (*h)->code(r, 3)), "*");
  EXPECT_EQ((*h)->cardinality(2), 2u);
}

TEST(HierarchyTest, DatesWithTimesGetADayLevel) {
  absl::StatusOr<CsvTable> t =
      Table("d\n2013-01-05T10:00:00Z\n2013-01-05 11:30\n2013-01-06\n");
  ASSERT_TRUE(t.ok());
  absl::StatusOr<std::unique_ptr<Hierarchy>> h = GenerateDateHierarchy(*t, "d");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ((*h)->depth(), 5);
  EXPECT_EQ((*h)->code(*(*h)->Find("2013-01-05T10:00:00Z"), 1),
            (*h)->code(*(*h)->Find("2013-01-05 11:30"), 1));
}

TEST(HierarchyTest, DateErrors) {
  for (const char* text : {"d\n2013-01-05\n2013-02-30\n", "d\n2013-01-05\n05/01/2013\n",
                           "d\n2013-01-05\n2013-01-05x\n"}) {
    absl::StatusOr<CsvTable> t = Table(text);
    ASSERT_TRUE(t.ok());
    absl::StatusOr<std::unique_ptr<Hierarchy>> h = GenerateDateHierarchy(*t, "d");
    ASSERT_FALSE(h.ok()) << text;
    EXPECT_THAT(h.status().message(), HasSubstr("in.csv:3:"));
  }
}

}  // namespace
}  // namespace privacity::anon
