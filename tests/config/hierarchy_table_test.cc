#include "config/hierarchy_table.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace privacity::config {
namespace {

using ::testing::HasSubstr;

TEST(HierarchyTableTest, ParsesRowsAndLevels) {
  const absl::StatusOr<HierarchyTable> table = ParseHierarchyTable(
      "\xEF\xBB\xBF"
      "34;30-34;30-39;*\r\n35;35-39;30-39;*\r\n\r\n");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->depth, 3);
  ASSERT_EQ(table->rows.size(), 2u);
  EXPECT_EQ(table->rows[0][0], "34");  // the byte order mark is not part of it
  EXPECT_EQ(table->AtLevel(1).at("35"), "35-39");
  EXPECT_EQ(table->AtLevel(2).at("34"), "30-39");
  EXPECT_EQ(table->AtLevel(3).at("35"), "*");
}

TEST(HierarchyTableTest, DepthIsThatOfTheShortestRow) {
  const absl::StatusOr<HierarchyTable> table = ParseHierarchyTable("a;x;*\nb;*\n");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->depth, 1);
}

TEST(HierarchyTableTest, EmptyRawValueIsAValue) {
  const absl::StatusOr<HierarchyTable> table = ParseHierarchyTable(";unknown\nx;known\n");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->AtLevel(1).at(""), "unknown");
}

TEST(HierarchyTableTest, RejectsRepeatsAndEmptyTables) {
  const absl::StatusOr<HierarchyTable> repeated = ParseHierarchyTable("a;*\nb;*\na;*\n");
  EXPECT_EQ(repeated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(repeated.status().message(),
              HasSubstr("row 3 repeats the raw value of row 1"));
  EXPECT_FALSE(ParseHierarchyTable("\n\r\n").ok());
  EXPECT_FALSE(ParseHierarchyTable("").ok());
}

TEST(HierarchyTableTest, ReadsOnlyRegularFiles) {
  EXPECT_EQ(
      ReadHierarchyTable(::testing::TempDir() + "/no-such-table.csv").status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadHierarchyTable(::testing::TempDir()).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::string path = ::testing::TempDir() + "/hierarchy_table_test.csv";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "Male;*\nFemale;*\n";
  }
  const absl::StatusOr<HierarchyTable> table = ReadHierarchyTable(path);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->AtLevel(1).size(), 2u);
}

}  // namespace
}  // namespace privacity::config
