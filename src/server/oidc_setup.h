// Building the OIDC verifier of a running trust from city.yaml: keys from
// the JWKS file the loader read, or fetched from `jwks_url` with the HTTP
// client (server/http/http_client.h) and refreshed (auth::RefreshingKeySource).
#ifndef PRIVACITY_SERVER_OIDC_SETUP_H_
#define PRIVACITY_SERVER_OIDC_SETUP_H_

#include <memory>

#include "absl/status/statusor.h"
#include "auth/jwt.h"
#include "auth/oidc.h"
#include "common/clock.h"
#include "config/model.h"

namespace privacity::server {

// Null when `config` has no oidc section. `keys`, when given, replaces the
// configured file or URL (tests). Fails when the key set is invalid or,
// for a URL, cannot be fetched now.
// REQUIRES: `config` and `clock` outlive the verifier.
absl::StatusOr<std::unique_ptr<auth::OidcVerifier>> MakeOidcVerifier(
    const config::CityConfig& config, Clock& clock,
    std::shared_ptr<auth::KeySource> keys = nullptr);

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_OIDC_SETUP_H_
