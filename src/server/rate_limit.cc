#include "server/rate_limit.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/error_mapping.h"

namespace privacity::server {
namespace {

TokenBucket Bucket(const config::RateLimit& limit) {
  return TokenBucket{limit.rate, static_cast<double>(limit.burst)};
}

}  // namespace

std::string_view ToString(LimitScope scope) {
  return scope == LimitScope::kAddress ? "address" : "principal";
}

absl::StatusOr<std::unique_ptr<RequestLimiter>> RequestLimiter::Create(
    const std::optional<config::Limits>& limits, Clock& clock) {
  if (limits.has_value()) {
    if (limits->per_address)
      RETURN_IF_ERROR(ValidateTokenBucket(Bucket(*limits->per_address)));
    if (limits->per_principal) {
      RETURN_IF_ERROR(ValidateTokenBucket(Bucket(*limits->per_principal)));
    }
    for (const auto& [party, limit] : limits->parties) {
      RETURN_IF_ERROR(ValidateTokenBucket(Bucket(limit)));
    }
  }
  return std::unique_ptr<RequestLimiter>(new RequestLimiter(limits, clock));
}

RequestLimiter::RequestLimiter(const std::optional<config::Limits>& limits, Clock& clock)
    : address_buckets_(clock), principal_buckets_(clock) {
  if (!limits.has_value()) return;
  if (limits->per_address) per_address_ = Bucket(*limits->per_address);
  if (limits->per_principal) per_principal_ = Bucket(*limits->per_principal);
  for (const auto& [party, limit] : limits->parties) parties_[party] = Bucket(limit);
}

HttpResponse RequestLimiter::TooMany(LimitScope scope, absl::Duration retry_after) {
  const int64_t seconds = std::max<int64_t>(
      1, absl::ToInt64Seconds(absl::Ceil(retry_after, absl::Seconds(1))));
  HttpResponse response = ErrorResponse(
      429, "rate-limited",
      absl::StrCat("too many requests ",
                   scope == LimitScope::kAddress ? "from this address" : "for this token",
                   "; retry in ", seconds, " s"));
  response.headers.emplace_back("Retry-After", absl::StrCat(seconds));
  return response;
}

std::optional<HttpResponse> RequestLimiter::AdmitAddress(const HttpRequest& request) {
  if (!per_address_.has_value()) return std::nullopt;
  const KeyedTokenBuckets::Decision d =
      address_buckets_.TryTake(request.remote_address, *per_address_);
  if (d.allowed) return std::nullopt;
  return TooMany(LimitScope::kAddress, d.retry_after);
}

std::optional<HttpResponse> RequestLimiter::AdmitPrincipal(const Principal& principal) {
  const TokenBucket* bucket = per_principal_.has_value() ? &*per_principal_ : nullptr;
  if (auto it = parties_.find(principal.party); it != parties_.end())
    bucket = &it->second;
  if (bucket == nullptr) return std::nullopt;
  // A party's tokens and JWTs share its bucket; each sensor token has its own.
  const std::string key = principal.sensor()
                              ? absl::StrCat("sensor-token:", principal.token_id)
                              : absl::StrCat("party:", principal.party);
  const KeyedTokenBuckets::Decision d = principal_buckets_.TryTake(key, *bucket);
  if (d.allowed) return std::nullopt;
  return TooMany(LimitScope::kPrincipal, d.retry_after);
}

}  // namespace privacity::server
