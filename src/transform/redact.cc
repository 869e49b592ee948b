#include "transform/redact.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace privacity::transform {
namespace {

using config::RedactPattern;

// See redact.h for what each pattern covers and misses.
constexpr absl::string_view kEmail =
    R"([A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)"
    R"((?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b)";

constexpr absl::string_view kMac =
    R"(\b(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})"
    R"(|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5})"
    R"(|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})\b)";

// Dutch sidecodes 1-14, then the UK format.
constexpr absl::string_view kPlate =
    R"(\b(?:[A-Z]{2}-[0-9]{2}-[0-9]{2}|[0-9]{2}-[0-9]{2}-[A-Z]{2})"
    R"(|[0-9]{2}-[A-Z]{2}-[0-9]{2}|[A-Z]{2}-[0-9]{2}-[A-Z]{2})"
    R"(|[A-Z]{2}-[A-Z]{2}-[0-9]{2}|[0-9]{2}-[A-Z]{2}-[A-Z]{2})"
    R"(|[0-9]{2}-[A-Z]{3}-[0-9]|[0-9]-[A-Z]{3}-[0-9]{2})"
    R"(|[A-Z]{2}-[0-9]{3}-[A-Z]|[A-Z]-[0-9]{3}-[A-Z]{2})"
    R"(|[A-Z]{3}-[0-9]{2}-[A-Z]|[A-Z]-[0-9]{2}-[A-Z]{3})"
    R"(|[0-9]-[A-Z]{2}-[0-9]{3}|[0-9]{3}-[A-Z]{2}-[0-9])"
    R"(|[A-Z]{2}[0-9]{2} ?[A-Z]{3})\b)";

// Checked after matching: at least one letter and one digit.
constexpr absl::string_view kGenericPlate =
    R"(\b[A-Z0-9]{1,3}-[A-Z0-9]{1,4}-[A-Z0-9]{1,3}\b)";

// Phone numbers. Digit groups are separated by one space, or '.' / '-'
// with optional spaces around it. \B before '+' and '(' means "not
// preceded by a letter or digit".
std::string PhonePattern() {
  constexpr absl::string_view kSep = R"((?: ?[.\-] ?| ))";
  return absl::StrCat(
      // International: +CC, optional (0), at least 7 more digits.
      R"(\B\+[1-9][0-9]{0,2}(?:)", kSep, R"(?\(0\))?(?:)", kSep, R"(?[0-9]){7,13}\b)",
      // Parenthesised area code.
      R"(|\B\((?:0[0-9]{1,4}|[1-9][0-9]{2})\) ?(?:[.\-] ?)?[0-9](?:)", kSep,
      R"(?[0-9]){5,10}\b)",
      // National, trunk prefix 0.
      R"(|\b0[0-9](?:)", kSep, R"(?[0-9]){6,12}\b)");
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// True when `text` at `pos` holds a date dd-mm-yyyy or dd.mm.yyyy that is
// not followed by another digit.
bool DateAt(std::string_view text, size_t pos) {
  if (pos + 10 > text.size()) return false;
  const std::string_view s = text.substr(pos, 10);
  const bool shape = IsDigit(s[0]) && IsDigit(s[1]) && (s[2] == '-' || s[2] == '.') &&
                     IsDigit(s[3]) && IsDigit(s[4]) && s[5] == s[2] && IsDigit(s[6]) &&
                     IsDigit(s[7]) && IsDigit(s[8]) && IsDigit(s[9]);
  return shape && (pos + 10 == text.size() || !IsDigit(text[pos + 10]));
}

// Past digit groups that follow a phone match after one space, '-' or '.':
// the regular expression stops at its length limit, or inside a run of
// numbers ("06-12345678 06" of two), which would leave digits of a number
// behind. Redaction errs towards removing too much.
size_t ExtendDigitRun(std::string_view text, size_t end) {
  while (end + 1 < text.size() &&
         (text[end] == ' ' || text[end] == '-' || text[end] == '.') &&
         IsDigit(text[end + 1])) {
    end += 2;
    while (end < text.size() && IsDigit(text[end])) ++end;
  }
  return end;
}

bool HasLetterAndDigit(std::string_view s) {
  int letters = 0, digits = 0;
  for (char c : s) {
    if (absl::ascii_isalpha(static_cast<unsigned char>(c))) ++letters;
    if (IsDigit(c)) ++digits;
  }
  return letters > 0 && digits > 0 && letters + digits >= 5;
}

}  // namespace

std::string_view RedactTag(RedactPattern pattern) {
  switch (pattern) {
    case RedactPattern::kPlate:
      return "[plate]";
    case RedactPattern::kEmail:
      return "[email]";
    case RedactPattern::kPhone:
      return "[phone]";
    case RedactPattern::kMac:
      return "[mac]";
  }
  return "[redacted]";
}

absl::StatusOr<std::unique_ptr<Redactor>> Redactor::Create(
    absl::Span<const RedactPattern> patterns) {
  if (patterns.empty()) {
    return absl::InvalidArgumentError("redact needs at least one pattern");
  }
  auto wants = [&](RedactPattern p) {
    return std::find(patterns.begin(), patterns.end(), p) != patterns.end();
  };
  // The order decides which pattern wins when two match at the same place:
  // e-mail before phone ("+31...@host"), MAC before phone and plate
  // ("00-11-22-33-44-55"), phone before the generic plate (digit-only
  // groups).
  std::vector<std::string> alternatives;
  std::vector<Group> groups;
  auto add = [&](absl::string_view re, RedactPattern p, Group::Check check) {
    alternatives.push_back(absl::StrCat("(", re, ")"));
    groups.push_back(Group{p, check});
  };
  if (wants(RedactPattern::kEmail))
    add(kEmail, RedactPattern::kEmail, Group::Check::kNone);
  if (wants(RedactPattern::kMac)) add(kMac, RedactPattern::kMac, Group::Check::kNone);
  if (wants(RedactPattern::kPlate))
    add(kPlate, RedactPattern::kPlate, Group::Check::kNone);
  if (wants(RedactPattern::kPhone))
    add(PhonePattern(), RedactPattern::kPhone, Group::Check::kPhone);
  if (wants(RedactPattern::kPlate)) {
    add(kGenericPlate, RedactPattern::kPlate, Group::Check::kGenericPlate);
  }

  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(absl::StrJoin(alternatives, "|"), options);
  if (!re->ok()) {
    return absl::InternalError(
        absl::StrCat("redaction patterns do not compile: ", re->error()));
  }
  if (re->NumberOfCapturingGroups() != static_cast<int>(groups.size())) {
    return absl::InternalError("redaction patterns have unexpected groups");
  }
  return std::unique_ptr<Redactor>(new Redactor(std::move(re), std::move(groups)));
}

std::string Redactor::Redact(std::string_view text) const {
  std::string out;
  const re2::StringPiece input(text.data(), text.size());
  std::vector<re2::StringPiece> sub(groups_.size() + 1);
  size_t copied = 0;  // text[0, copied) is in `out`
  size_t pos = 0;     // where the next search starts
  while (pos < text.size() && re_->Match(input, pos, text.size(), RE2::UNANCHORED,
                                         sub.data(), static_cast<int>(sub.size()))) {
    const size_t start = static_cast<size_t>(sub[0].data() - text.data());
    const size_t end = start + sub[0].size();
    if (end == start) {  // no pattern matches empty text; guard progress anyway
      pos = start + 1;
      continue;
    }
    size_t g = 0;
    while (g < groups_.size() && sub[g + 1].data() == nullptr) ++g;
    if (g == groups_.size()) {
      pos = end;
      continue;
    }
    size_t redact_end = end;
    switch (groups_[g].check) {
      case Group::Check::kNone:
        break;
      case Group::Check::kPhone:
        if (DateAt(text, start)) {
          pos = start + 10;  // resume after the date
          continue;
        }
        redact_end = ExtendDigitRun(text, end);
        break;
      case Group::Check::kGenericPlate:
        if (!HasLetterAndDigit(text.substr(start, end - start))) {
          pos = end;
          continue;
        }
        break;
    }
    out.append(text.substr(copied, start - copied));
    out.append(RedactTag(groups_[g].pattern));
    copied = redact_end;
    pos = redact_end;
  }
  if (copied == 0) return std::string(text);
  out.append(text.substr(copied));
  return out;
}

}  // namespace privacity::transform
