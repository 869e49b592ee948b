#include "common/time_util.h"

#include "gtest/gtest.h"

namespace privacity {
namespace {

TEST(ParseTimestamp, AcceptsRfc3339AndSpaceSeparated) {
  auto a = ParseTimestamp("2013-01-01T00:30:00Z");
  auto b = ParseTimestamp("2013-01-01 00:30:00");
  auto c = ParseTimestamp("2013-01-01T01:30:00+01:00");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
  EXPECT_EQ(absl::ToUnixSeconds(*a), 1357000200);
}

TEST(ParseTimestamp, KeepsFractionalSeconds) {
  auto t = ParseTimestamp("2016-01-01T00:02:52.250Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(absl::ToUnixMillis(*t) % 1000, 250);
  EXPECT_EQ(FormatTimestamp(*t), "2016-01-01T00:02:52.25Z");
}

TEST(ParseTimestamp, RejectsMalformed) {
  for (const char* bad :
       {"", "2013", "2013-13-01", "2013-02-30", "2013-01-01T25:00:00Z",
        "2013-01-01T00:00:00Zjunk", "01-Jan-2014", "2013-01-01T00:00:00.Z"}) {
    EXPECT_FALSE(ParseTimestamp(bad).ok()) << bad;
  }
}

TEST(ParseDurationSpec, UnitsAndErrors) {
  EXPECT_EQ(*ParseDurationSpec("15m"), absl::Minutes(15));
  EXPECT_EQ(*ParseDurationSpec("1d"), absl::Hours(24));
  EXPECT_EQ(*ParseDurationSpec("2w"), absl::Hours(24 * 14));
  EXPECT_EQ(*ParseDurationSpec("0"), absl::ZeroDuration());
  for (const char* bad : {"", "d", "1.5h", "-1d", "10", "5x", "99999999999999999999d"}) {
    auto d = ParseDurationSpec(bad);
    EXPECT_FALSE(d.ok()) << bad;
  }
  EXPECT_NE(ParseDurationSpec("5x").status().message().find("unknown unit"),
            std::string::npos);
}

TEST(FormatDurationSpec, RoundTrips) {
  for (const char* s : {"15m", "1h", "30d", "1y", "90s"}) {
    EXPECT_EQ(FormatDurationSpec(*ParseDurationSpec(s)), s);
  }
}

TEST(EpochNumber, FloorsIncludingBeforeUnixEpoch) {
  EXPECT_EQ(EpochNumber(absl::FromUnixSeconds(86400 * 3 + 5), absl::Hours(24)), 3);
  EXPECT_EQ(EpochNumber(absl::FromUnixSeconds(-1), absl::Hours(24)), -1);
  EXPECT_EQ(FloorTime(absl::FromUnixSeconds(3599), absl::Hours(1)),
            absl::FromUnixSeconds(0));
}

}  // namespace
}  // namespace privacity
