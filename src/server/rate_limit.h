// Request rate limits of the HTTP API, from the `limits` section of
// city.yaml (docs/config.md, docs/http.md): a token bucket per client
// address, checked before anything else, and one per principal (a party,
// whichever of its tokens or JWTs it uses; a sensor token on its own),
// checked right after authentication. A party may have its own limit
// instead of per_principal. A request over a limit gets 429 with
// Retry-After and the usual error body, and is counted in /metrics.
//
// Buckets live in memory (common/rate_limit.h) and are per process.
#ifndef PRIVACITY_SERVER_RATE_LIMIT_H_
#define PRIVACITY_SERVER_RATE_LIMIT_H_

#include <memory>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/rate_limit.h"
#include "config/model.h"
#include "server/auth.h"
#include "server/http_types.h"

namespace privacity::server {

enum class LimitScope { kAddress, kPrincipal };

// "address", "principal": the label of the 429 counter.
std::string_view ToString(LimitScope scope);

class RequestLimiter {
 public:
  // A limiter for `limits` (no limits at all when it is nullopt).
  // InvalidArgument when a configured limit is unusable.
  // REQUIRES: `clock` outlives the limiter.
  static absl::StatusOr<std::unique_ptr<RequestLimiter>> Create(
      const std::optional<config::Limits>& limits, Clock& clock);

  // nullopt when the request may go on; otherwise the 429 response. Takes a
  // token. Thread-safe.
  std::optional<HttpResponse> AdmitAddress(const HttpRequest& request);
  std::optional<HttpResponse> AdmitPrincipal(const Principal& principal);

 private:
  RequestLimiter(const std::optional<config::Limits>& limits, Clock& clock);
  static HttpResponse TooMany(LimitScope scope, absl::Duration retry_after);

  std::optional<TokenBucket> per_address_;
  std::optional<TokenBucket> per_principal_;
  std::map<std::string, TokenBucket> parties_;
  KeyedTokenBuckets address_buckets_;
  KeyedTokenBuckets principal_buckets_;
};

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_RATE_LIMIT_H_
