#include "common/time_util.h"

#include <cstdint>
#include <string>
#include <vector>

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
// The hand-written formatter agrees with absl::FormatTime everywhere it is
// used: across the calendar (leap years, centuries, before 1970) and at the
// range's ends, where absl takes over. Below year 1000 it pads to four
// digits, as RFC 3339 requires, and round-trips through ParseTimestamp.
TEST(FormatTimestampTest, AgreesWithAbslAcrossTheCalendar) {
  auto absl_format = [](absl::Time t) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
  };
  std::vector<int64_t> seconds = {
      0,          -1,          86399,        86400,        951782400,    951868800,
      4107456000, -2203891200, -62135596800, 253402300799, 253402300800, -62135596801};
  uint64_t x = 12345;
  for (int i = 0; i < 200000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    seconds.push_back(static_cast<int64_t>(x % 315537897600ULL) - 62135596800);
  }
  constexpr int64_t kYear1 = -62135596800, kYear1000 = -30610224000;
  for (int64_t s : seconds) {
    const absl::Time t = absl::FromUnixSeconds(s);
    const std::string formatted = FormatTimestamp(t);
    if (s >= kYear1000 || s < kYear1) {
      ASSERT_EQ(formatted, absl_format(t)) << s;
    } else {
      // absl does not pad years below 1000; RFC 3339 wants four digits.
      ASSERT_EQ(formatted.size(), 20u) << s;
      auto parsed = ParseTimestamp(formatted);
      ASSERT_TRUE(parsed.ok()) << formatted;
      ASSERT_EQ(*parsed, t) << formatted;
    }
  }
}

}  // namespace privacity
