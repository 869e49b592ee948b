// Canonical JSON for log leaves: one byte string per JSON value, so that a
// leaf's hash is a function of its content. The rules (docs/log_format.md,
// "Canonical JSON") are those of RFC 8785 (JCS) restricted to integers:
//   - no whitespace outside strings;
//   - object members sorted by key, comparing keys as sequences of UTF-16
//     code units (as JCS does; for ASCII keys this is byte order);
//   - strings in UTF-8, escaping only '"', '\\' and U+0000..U+001F, the
//     latter as \b \t \n \f \r or \u00xx (lowercase hex); nothing else is
//     escaped (not '/', not U+007F, not non-ASCII);
//   - numbers are integers in [-(2^53-1), 2^53-1] written in decimal with no
//     leading zeros, '+' or exponent; floating-point numbers are rejected,
//     even integral ones like 1.0, so no leaf depends on float formatting;
//   - true, false and null as literals; arrays keep their order.
// Within these rules the output equals RFC 8785's, so any JCS library can
// reproduce a leaf.
#ifndef PRIVACITY_AUDIT_CANONICAL_JSON_H_
#define PRIVACITY_AUDIT_CANONICAL_JSON_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json_fwd.hpp"

namespace privacity::audit {

// The largest magnitude of an integer in canonical JSON (2^53 - 1: beyond
// it, JCS implementations working in IEEE doubles would disagree).
inline constexpr int64_t kMaxCanonicalInteger = (int64_t{1} << 53) - 1;

// Nesting deeper than this is rejected (leaves are shallow; this bounds
// recursion on hostile input).
inline constexpr int kMaxCanonicalDepth = 32;

// The canonical bytes of `value`. InvalidArgument, naming the JSON pointer
// of the offending member (never its value), for a float, an integer out of
// range, a string or key that is not valid UTF-8, binary data, or nesting
// deeper than kMaxCanonicalDepth.
absl::StatusOr<std::string> CanonicalJson(const nlohmann::json& value);

// Parses `bytes` and checks they are exactly the canonical form of what
// they hold. InvalidArgument when they are not JSON, hold something
// CanonicalJson rejects (duplicate keys included), or are not canonical
// (the message gives the byte offset of the first difference).
absl::StatusOr<nlohmann::json> ParseCanonicalJson(absl::string_view bytes);

}  // namespace privacity::audit

#endif  // PRIVACITY_AUDIT_CANONICAL_JSON_H_
