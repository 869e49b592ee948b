#include "server/oidc_setup.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/http/http_client.h"

namespace privacity::server {

absl::StatusOr<std::unique_ptr<auth::OidcVerifier>> MakeOidcVerifier(
    const config::CityConfig& config, Clock& clock,
    std::shared_ptr<auth::KeySource> keys) {
  if (!config.oidc.has_value()) return std::unique_ptr<auth::OidcVerifier>();
  const config::Oidc& oidc = *config.oidc;
  if (keys == nullptr && !oidc.jwks_url.empty()) {
    HttpClientOptions options;
    options.timeout = absl::Seconds(10);
    options.max_response_bytes = auth::kMaxJwksBytes;
    options.headers.emplace_back("Accept", "application/json");
    auth::RefreshingKeySource::FetchFn fetch =
        [url = oidc.jwks_url, options]() -> absl::StatusOr<std::string> {
      absl::StatusOr<std::string> body = HttpGetOk(url, options);
      if (!body.ok()) {
        return absl::Status(
            body.status().code(),
            absl::StrCat("fetching the JWKS from 'jwks_url': ", body.status().message()));
      }
      return body;
    };
    ASSIGN_OR_RETURN(std::unique_ptr<auth::RefreshingKeySource> source,
                     auth::RefreshingKeySource::Create(
                         std::move(fetch), clock,
                         auth::RefreshOptions{oidc.jwks_refresh, absl::Seconds(30)}));
    keys = std::move(source);
  } else if (keys == nullptr) {
    ASSIGN_OR_RETURN(keys, auth::FileKeySource(oidc));
  }
  return auth::OidcVerifier::Create(config, std::move(keys), clock);
}

}  // namespace privacity::server
