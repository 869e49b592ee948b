#include "common/time_util.h"

#include <cctype>
#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

namespace privacity {
namespace {

bool Digits(absl::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// "YYYY-MM-DDTHH:MM:SSZ". REQUIRES: `t` is a whole second in years 1-9999.
std::string FormatWholeSecondUtc(absl::Time t) {
  const absl::CivilSecond c = absl::ToCivilSecond(t, absl::UTCTimeZone());
  std::string out = "0000-00-00T00:00:00Z";
  auto put = [&out](size_t pos, int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      out[pos + static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, c.year(), 4);
  put(5, c.month(), 2);
  put(8, c.day(), 2);
  put(11, c.hour(), 2);
  put(14, c.minute(), 2);
  put(17, c.second(), 2);
  return out;
}

}  // namespace

absl::StatusOr<absl::Time> ParseTimestamp(absl::string_view text) {
  const absl::string_view s = absl::StripAsciiWhitespace(text);
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!Digits(s, 0, 4, &year) || s.size() < 10 || s[4] != '-' ||
      !Digits(s, 5, 2, &month) || s[7] != '-' || !Digits(s, 8, 2, &day)) {
    return absl::InvalidArgumentError(
        "timestamp is not of the form YYYY-MM-DD[THH:MM:SS[.fff](Z|+HH:MM)]");
  }
  size_t pos = 10;
  int64_t nanos = 0;
  int offset_seconds = 0;
  if (pos < s.size()) {
    if ((s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') ||
        !Digits(s, pos + 1, 2, &hour) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &minute)) {
      return absl::InvalidArgumentError("timestamp has a malformed time of day");
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!Digits(s, pos + 1, 2, &second)) {
        return absl::InvalidArgumentError("timestamp has malformed seconds");
      }
      pos += 3;
    }
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int digits = 0;
      while (pos < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[pos]))) {
        if (digits < 9) {
          nanos = nanos * 10 + (s[pos] - '0');
          ++digits;
        }
        ++pos;
      }
      if (digits == 0) {
        return absl::InvalidArgumentError("timestamp has an empty fraction");
      }
      for (; digits < 9; ++digits) nanos *= 10;
    }
    if (pos < s.size()) {
      if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
      } else if (s[pos] == '+' || s[pos] == '-') {
        int oh, om;
        if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
          return absl::InvalidArgumentError("timestamp has a malformed UTC offset");
        }
        offset_seconds = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
      }
    }
    if (pos != s.size()) {
      return absl::InvalidArgumentError("timestamp has trailing characters");
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return absl::InvalidArgumentError("timestamp has an out-of-range component");
  }
  const absl::CivilSecond cs(year, month, day, hour, minute, second);
  if (cs.year() != year || cs.month() != month || cs.day() != day) {
    return absl::InvalidArgumentError("timestamp names a day that does not exist");
  }
  return absl::FromCivil(cs, absl::UTCTimeZone()) - absl::Seconds(offset_seconds) +
         absl::Nanoseconds(nanos);
}

std::string FormatTimestamp(absl::Time t) {
  const int64_t unix_seconds = absl::ToUnixSeconds(t);
  const absl::Time floored = absl::FromUnixSeconds(unix_seconds);
  if (floored == t) {
    // Years 1-9999 without absl::FormatTime, whose strftime engine costs
    // about a microsecond: every stored record carries a time.
    constexpr int64_t kYear1 = -62135596800, kYear10000 = 253402300800;
    if (unix_seconds >= kYear1 && unix_seconds < kYear10000) {
      return FormatWholeSecondUtc(t);
    }
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
  }
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<absl::Duration> ParseDurationSpec(absl::string_view text) {
  const absl::string_view s = absl::StripAsciiWhitespace(text);
  if (s == "0") return absl::ZeroDuration();
  if (s.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad duration '", s,
                     "': expected a number and a unit (s, m, h, d, w, y), e.g. 15m"));
  }
  const char unit = s.back();
  int64_t n;
  const absl::string_view digits = s.substr(0, s.size() - 1);
  bool all_digits = !digits.empty();
  for (char c : digits)
    all_digits &= absl::ascii_isdigit(static_cast<unsigned char>(c)) != 0;
  if (!all_digits || !absl::SimpleAtoi(digits, &n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad duration '", s, "': expected a whole number before the unit"));
  }
  int64_t unit_seconds;
  switch (unit) {
    case 's':
      unit_seconds = 1;
      break;
    case 'm':
      unit_seconds = 60;
      break;
    case 'h':
      unit_seconds = 3600;
      break;
    case 'd':
      unit_seconds = 86400;
      break;
    case 'w':
      unit_seconds = 7 * 86400;
      break;
    case 'y':
      unit_seconds = 365 * 86400;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("bad duration '", s, "': unknown unit '", std::string(1, unit),
                       "' (use s, m, h, d, w or y)"));
  }
  if (n > std::numeric_limits<int64_t>::max() / unit_seconds / 1000) {
    return absl::InvalidArgumentError(absl::StrCat("bad duration '", s, "': too long"));
  }
  return absl::Seconds(n * unit_seconds);
}

std::string FormatDurationSpec(absl::Duration d) {
  const int64_t s = absl::ToInt64Seconds(d);
  if (s == 0) return "0";
  if (s % (365 * 86400) == 0) return absl::StrCat(s / (365 * 86400), "y");
  if (s % 86400 == 0) return absl::StrCat(s / 86400, "d");
  if (s % 3600 == 0) return absl::StrCat(s / 3600, "h");
  if (s % 60 == 0) return absl::StrCat(s / 60, "m");
  return absl::StrCat(s, "s");
}

absl::Time FloorTime(absl::Time t, absl::Duration bucket) {
  const absl::Duration since = t - absl::UnixEpoch();
  const absl::Duration rem = absl::Floor(since, bucket);
  return absl::UnixEpoch() + rem;
}

int64_t EpochNumber(absl::Time t, absl::Duration length) {
  absl::Duration remainder;
  return absl::IDivDuration(absl::Floor(t - absl::UnixEpoch(), length), length,
                            &remainder);
}

}  // namespace privacity
