#include "rights/claim.h"

#include <cstdint>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace privacity::rights {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
// Crockford's check symbols: the 32 above, then values 32..36.
constexpr char kCheckExtra[] = "*~$=U";
constexpr int kCheckModulus = 37;
constexpr size_t kCanonicalSize = kClaimCodeDataSymbols + 1;

// The value of a data symbol already upper-cased and aliased, or -1.
int SymbolValue(char c) {
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

int CheckValue(char c) {
  const int v = SymbolValue(c);
  if (v >= 0) return v;
  for (int i = 0; i < 5; ++i) {
    if (kCheckExtra[i] == c) return 32 + i;
  }
  return -1;
}

char CheckSymbol(uint64_t value) {
  const int v = static_cast<int>(value % kCheckModulus);
  return v < 32 ? kAlphabet[v] : kCheckExtra[v - 32];
}

void AppendLengthPrefixed(std::string_view s, std::string& out) {
  const uint64_t n = s.size();
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
  out.append(s.data(), s.size());
}

constexpr char kRetryAfterPayload[] = "privacity/retry-after-seconds";

absl::Status Throttled(absl::string_view message, int64_t seconds) {
  absl::Status status = absl::ResourceExhaustedError(message);
  status.SetPayload(kRetryAfterPayload, absl::Cord(absl::StrCat(seconds)));
  return status;
}

}  // namespace

std::optional<int64_t> RetryAfterSeconds(const absl::Status& status) {
  const auto payload = status.GetPayload(kRetryAfterPayload);
  int64_t seconds = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &seconds)) {
    return std::nullopt;
  }
  return seconds;
}

absl::StatusOr<std::string> ParseClaimCode(std::string_view typed) {
  std::string out;
  for (char c : typed) {
    if (c == ' ' || c == '-' || c == '\t') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == 'O') c = '0';
    if (c == 'I' || c == 'L') c = '1';
    if (out.size() >= kCanonicalSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("claim code: too long (expected ", kCanonicalSize, " symbols)"));
    }
    out.push_back(c);
  }
  if (out.size() != kCanonicalSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "claim code: expected ", kCanonicalSize, " symbols, got ", out.size()));
  }
  uint64_t value = 0;
  for (size_t i = 0; i < kClaimCodeDataSymbols; ++i) {
    const int v = SymbolValue(out[i]);
    if (v < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("claim code: symbol ", i + 1, " is not a code character"));
    }
    value = (value << 5) | static_cast<uint64_t>(v);
  }
  const int check = CheckValue(out.back());
  if (check < 0) {
    return absl::InvalidArgumentError(
        "claim code: the last symbol is not a check character");
  }
  if (static_cast<uint64_t>(check) != value % kCheckModulus) {
    return absl::InvalidArgumentError(
        "claim code: the check character does not match; the code was probably mistyped");
  }
  return out;
}

std::string FormatClaimCode(std::string_view canonical) {
  std::string out(canonical.substr(0, 5));
  out.push_back('-');
  out.append(canonical.substr(5, 5));
  out.push_back('-');
  out.append(canonical.substr(10));
  return out;
}

absl::StatusOr<std::unique_ptr<ClaimCodes>> ClaimCodes::Create(crypto::Keyring& keyring) {
  ASSIGN_OR_RETURN(crypto::UnwrappedKey key,
                   keyring.GetOrCreate(crypto::KeyName{.kind = crypto::KeyKind::kClaim}));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::HmacSha256> mac,
                   crypto::HmacSha256::Create(key.key));
  return std::unique_ptr<ClaimCodes>(new ClaimCodes(std::move(mac)));
}

absl::StatusOr<std::string> ClaimCodes::Canonical(std::string_view stream,
                                                  std::string_view raw_identifier) const {
  if (stream.empty()) return absl::InvalidArgumentError("claim code: stream is empty");
  const std::string id = transform::NormalizeIdentifier(raw_identifier);
  if (id.empty()) return absl::InvalidArgumentError("claim code: identifier is empty");
  std::string message = "privacity-claim-v1";
  AppendLengthPrefixed(stream, message);
  AppendLengthPrefixed(id, message);
  const std::string tag = mac_->Mac(message);
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<uint8_t>(tag[i]);
  const uint64_t value = bits >> (64 - 5 * kClaimCodeDataSymbols);
  std::string out(kCanonicalSize, '0');
  for (int i = kClaimCodeDataSymbols - 1, shift = 0; i >= 0; --i, shift += 5) {
    out[i] = kAlphabet[(value >> shift) & 31];
  }
  out[kClaimCodeDataSymbols] = CheckSymbol(value);
  return out;
}

absl::StatusOr<std::string> ClaimCodes::Compute(std::string_view stream,
                                                std::string_view raw_identifier) const {
  ASSIGN_OR_RETURN(std::string canonical, Canonical(stream, raw_identifier));
  return FormatClaimCode(canonical);
}

absl::Status ClaimCodes::Verify(std::string_view stream, std::string_view raw_identifier,
                                std::string_view typed) const {
  ASSIGN_OR_RETURN(std::string given, ParseClaimCode(typed));
  ASSIGN_OR_RETURN(std::string expected, Canonical(stream, raw_identifier));
  if (!crypto::ConstantTimeEquals(given, expected)) {
    return absl::PermissionDeniedError("claim code does not match");
  }
  return absl::OkStatus();
}

void FailureLimiter::PruneLocked(const std::string& key, absl::Time now) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return;
  std::deque<absl::Time>& times = it->second;
  while (!times.empty() && times.front() + options_.window <= now) times.pop_front();
  if (times.empty()) failures_.erase(it);
}

absl::Status FailureLimiter::Check(const std::string& key) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  PruneLocked(key, now);
  auto it = failures_.find(key);
  if (it == failures_.end() ||
      static_cast<int>(it->second.size()) < options_.max_failures) {
    if (it == failures_.end() && failures_.size() >= options_.max_keys) {
      for (auto e = failures_.begin(); e != failures_.end();) {
        auto next = std::next(e);
        while (!e->second.empty() && e->second.front() + options_.window <= now) {
          e->second.pop_front();
        }
        if (e->second.empty()) failures_.erase(e);
        e = next;
      }
      if (failures_.size() >= options_.max_keys) {
        return Throttled("too many failed claim attempts are being tracked; retry later",
                         options_.window / absl::Seconds(1));
      }
    }
    return absl::OkStatus();
  }
  // Locked until enough failures leave the window.
  const absl::Time until =
      it->second[it->second.size() - options_.max_failures] + options_.window;
  const int64_t seconds = absl::ToInt64Seconds(absl::Ceil(until - now, absl::Seconds(1)));
  return Throttled(absl::StrCat("too many wrong claim codes; retry in ", seconds, " s"),
                   seconds);
}

void FailureLimiter::RecordFailure(const std::string& key) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  PruneLocked(key, now);
  std::deque<absl::Time>& times = failures_[key];
  times.push_back(now);
  // Only the last max_failures matter for the lock.
  while (static_cast<int>(times.size()) > options_.max_failures) times.pop_front();
}

absl::StatusOr<std::unique_ptr<ClaimVerifier>> ClaimVerifier::Create(
    const config::CityConfig& config, crypto::Keyring& keyring, Clock& clock,
    FailureLimitOptions options) {
  if (options.max_failures < 1 || options.window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "claim verifier: max_failures must be >= 1 and the window positive");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<ClaimCodes> codes, ClaimCodes::Create(keyring));
  ASSIGN_OR_RETURN(std::unique_ptr<transform::SubjectIndexer> indexer,
                   transform::SubjectIndexer::Create(keyring));
  return std::unique_ptr<ClaimVerifier>(
      new ClaimVerifier(config, std::move(codes), std::move(indexer), clock, options));
}

absl::StatusOr<std::string> ClaimVerifier::Verify(const ClaimAttempt& attempt) {
  const config::Stream* stream = config_.FindStream(attempt.stream);
  if (stream == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("claim: unknown stream '", attempt.stream, "'"));
  }
  if (!stream->personal()) {
    return absl::FailedPreconditionError(
        absl::StrCat("claim: stream '", attempt.stream, "' has no data subjects"));
  }
  if (transform::NormalizeIdentifier(attempt.identifier).empty()) {
    return absl::InvalidArgumentError("claim: identifier is empty");
  }
  const std::string blind_index = indexer_->BlindIndex(attempt.identifier);
  const std::string source_key = absl::StrCat("src\n", attempt.source);
  RETURN_IF_ERROR(by_source_.Check(source_key));
  RETURN_IF_ERROR(by_subject_.Check(blind_index));
  const absl::Status verified =
      codes_->Verify(attempt.stream, attempt.identifier, attempt.code);
  if (absl::IsPermissionDenied(verified)) {
    by_source_.RecordFailure(source_key);
    by_subject_.RecordFailure(blind_index);
  }
  RETURN_IF_ERROR(verified);
  return blind_index;
}

}  // namespace privacity::rights
