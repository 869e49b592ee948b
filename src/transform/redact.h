// Redaction of identifying tokens in free text (the `redact` transform).
//
// Every match of a chosen pattern is replaced by a tag: "[email]", "[mac]",
// "[plate]" or "[phone]". The patterns are compiled once, as one RE2
// alternation, so redaction runs in time linear in the text whatever the
// input (no backtracking).
//
// Patterns and their known limits (ASCII only: RE2's \b is ASCII):
//
//  email  local@domain.tld: local part of letters, digits and ._%+-, domain
//         labels of letters, digits and '-', a TLD of 2..24 letters.
//         Misses obfuscated addresses ("jan at example dot nl") and
//         internationalised domains written in non-ASCII.
//  mac    six hex pairs separated by ':' or by '-' (one separator
//         throughout), and the Cisco form 0011.2233.4455. A run of seven or
//         more pairs is redacted up to the sixth pair. Unseparated
//         "001122334455" is not caught (it is indistinguishable from a
//         number).
//  plate  Upper case only, so that ordinary words never match.
//         - Dutch sidecodes 1-14 with dashes: AB-12-34, 12-34-AB, 12-AB-34,
//           AB-12-CD, AB-CD-12, 12-AB-CD, 12-ABC-3, 1-ABC-23, AB-123-C,
//           A-123-BC, ABC-12-D, A-12-BCD, 1-AB-234, 123-AB-4.
//         - UK current format: AB12 CDE (the space is optional).
//         - Generic: three dash-separated groups of letters and digits
//           (1-3, 1-4, 1-3 characters) with at least one letter, one digit
//           and five characters in all, e.g. French AB-123-CD, Belgian
//           1-ABC-123. This also catches codes of that shape that are not
//           plates ("12-MAR-24").
//         Misses lower-case plates, plates written without separators
//         ("AB123C"), and other national formats with spaces.
//  phone  At least 8 digits:
//         - international: +CC then digits, optionally "(0)", e.g.
//           +31 6 12345678, +44 (0)20 7946 0958, +1-555-123-4567;
//         - national with a trunk prefix 0: 0612345678, 06-12345678,
//           020 123 4567, 07700 900123, 06.12.34.56.78;
//         - a parenthesised area code: (020) 123 4567, (555) 123-4567.
//         Groups are separated by one space, '.' or '-' (spaces allowed
//         around '.' and '-'). A date dd-mm-yyyy or dd.mm.yyyy is never
//         taken for a phone number. Misses national numbers without a
//         trunk prefix ("555-123-4567"). Over-redacts rather than leaks: a
//         number followed by more digit groups (after one space, '-' or
//         '.') takes them along ("0612345678 2 times" loses the "2"), and other
//         long digit strings that start with 0 (order or account numbers)
//         are redacted as phones.
#ifndef PRIVACITY_TRANSFORM_REDACT_H_
#define PRIVACITY_TRANSFORM_REDACT_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "config/model.h"
#include "re2/re2.h"

namespace privacity::transform {

// "[plate]", "[email]", "[phone]", "[mac]".
std::string_view RedactTag(config::RedactPattern pattern);

// Immutable and thread-safe after Create.
class Redactor {
 public:
  // Fails with InvalidArgument when `patterns` is empty.
  static absl::StatusOr<std::unique_ptr<Redactor>> Create(
      absl::Span<const config::RedactPattern> patterns);

  // Returns `text` with every match replaced by its tag.
  std::string Redact(std::string_view text) const;

 private:
  // One capturing group of the alternation.
  struct Group {
    config::RedactPattern pattern;
    // kPhone: never a date, and swallows digit groups glued on with '-' or
    // '.'; kGenericPlate: needs a letter and a digit.
    enum class Check { kNone, kPhone, kGenericPlate } check;
  };

  Redactor(std::unique_ptr<RE2> re, std::vector<Group> groups)
      : re_(std::move(re)), groups_(std::move(groups)) {}

  std::unique_ptr<RE2> re_;
  std::vector<Group> groups_;
};

}  // namespace privacity::transform

#endif  // PRIVACITY_TRANSFORM_REDACT_H_
