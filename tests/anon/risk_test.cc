#include "anon/risk.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace privacity::anon {
namespace {

TEST(RiskTest, WithoutPopulation) {
  // Classes of 1, 1, 2 and 6 records: 10 records, 4 classes.
  absl::StatusOr<RiskSummary> r = ComputeRisk({1, 1, 2, 6}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->records, 10);
  EXPECT_EQ(r->classes, 4);
  EXPECT_DOUBLE_EQ(r->prosecutor_average, 0.4);
  EXPECT_DOUBLE_EQ(r->prosecutor_max, 1.0);
  EXPECT_DOUBLE_EQ(r->journalist_average, 0.4);
  EXPECT_DOUBLE_EQ(r->journalist_max, 1.0);
  EXPECT_DOUBLE_EQ(r->marketer, 0.4);
  EXPECT_DOUBLE_EQ(r->unique_share, 0.2);
  EXPECT_FALSE(r->population);
}

TEST(RiskTest, WithPopulation) {
  // Sample classes 1 and 3 match 4 and 6 population records.
  absl::StatusOr<RiskSummary> r = ComputeRisk({1, 3}, {4, 6});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->prosecutor_average, 0.5);
  EXPECT_DOUBLE_EQ(r->prosecutor_max, 1.0);
  EXPECT_DOUBLE_EQ(r->journalist_max, 0.25);
  EXPECT_DOUBLE_EQ(r->journalist_average, (1.0 / 4 + 3.0 / 6) / 4);
  EXPECT_DOUBLE_EQ(r->marketer, (1.0 / 4 + 3.0 / 6) / 4);
  EXPECT_DOUBLE_EQ(r->unique_share, 0.25);
  EXPECT_TRUE(r->population);
}

TEST(RiskTest, EmptyTableHasNoRisk) {
  absl::StatusOr<RiskSummary> r = ComputeRisk({}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records, 0);
  EXPECT_EQ(r->prosecutor_max, 0);
}

TEST(RiskTest, Errors) {
  EXPECT_FALSE(ComputeRisk({1, 0}, {}).ok());
  EXPECT_FALSE(ComputeRisk({1, 2}, {3}).ok());
  absl::StatusOr<RiskSummary> r = ComputeRisk({1, 3}, {4, 2});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              ::testing::HasSubstr("must contain every input record"));
}

}  // namespace
}  // namespace privacity::anon
