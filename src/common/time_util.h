// Parsing and formatting of timestamps and durations as they appear in
// city.yaml and in sensor payloads. All times are UTC.
#ifndef PRIVACITY_COMMON_TIME_UTIL_H_
#define PRIVACITY_COMMON_TIME_UTIL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace privacity {

// Accepts RFC 3339 ("2013-01-01T00:30:00Z", "...+01:00", fractional
// seconds), "YYYY-MM-DD HH:MM:SS" (UTC) and "YYYY-MM-DD" (midnight UTC).
absl::StatusOr<absl::Time> ParseTimestamp(absl::string_view text);

// "2013-01-01T00:30:00Z" (fractional seconds only when non-zero).
std::string FormatTimestamp(absl::Time t);

// Durations in city.yaml: an integer followed by a unit, s, m, h, d, w
// (7 days) or y (365 days): "15m", "1h", "30d". Also "0" for none.
// Rejects negative, fractional, overflowing and unit-less values.
absl::StatusOr<absl::Duration> ParseDurationSpec(absl::string_view text);

// Inverse of ParseDurationSpec for whole units ("30d", "15m", "90s").
std::string FormatDurationSpec(absl::Duration d);

// Floors `t` to a multiple of `bucket` since the Unix epoch.
// REQUIRES: bucket > 0.
absl::Time FloorTime(absl::Time t, absl::Duration bucket);

// The epoch number of `t` for epochs of length `length` since 1970.
// REQUIRES: length > 0.
int64_t EpochNumber(absl::Time t, absl::Duration length);

}  // namespace privacity

#endif  // PRIVACITY_COMMON_TIME_UTIL_H_
