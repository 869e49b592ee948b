// Bearer tokens: issuing, verifying, revoking. A token is "pvt_" followed by
// 256 random bits in unpadded base64url (47 characters in all). The store
// keeps only its SHA-256; a presented token is hashed, looked up by hash,
// and the stored hash compared with it in constant time.
//
// A party token acts as its party; a sensor token (bound to a stream) acts
// as its party's sensor and may only push records to that stream.
//
// When city.yaml has an `oidc` section, a bearer that is a JWT
// (auth::LooksLikeJwt) is verified instead (auth/oidc.h) and acts as the
// party its claim maps to; it is never a sensor. Unauthenticated (401) when
// it fails verification, PermissionDenied (403) when it maps to no party.
#ifndef PRIVACITY_SERVER_AUTH_H_
#define PRIVACITY_SERVER_AUTH_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "auth/oidc.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/model.h"
#include "server/http_types.h"
#include "store/token_store.h"

namespace privacity::server {

inline constexpr std::string_view kTokenPrefix = "pvt_";
inline constexpr size_t kTokenRandomBytes = 32;

// Who a request acts as.
struct Principal {
  int64_t token_id = 0;  // 0 for a JWT
  std::string party;
  std::string stream;  // non-empty for a sensor token

  bool sensor() const { return !stream.empty(); }
};

struct IssuedToken {
  int64_t id = 0;
  std::string token;  // shown once, never stored
};

// SHA-256 of a token, the form kept in the store.
std::string HashToken(std::string_view token);

// Issues a new token for `party` (a party token when `stream` is empty, a
// sensor token bound to `stream` otherwise). NotFound when the party or the
// stream is not declared in `config`; the party "public" gets no token.
absl::StatusOr<IssuedToken> IssueToken(const config::CityConfig& config,
                                       store::TokenStore& tokens, Clock& clock,
                                       RandomSource& random, const std::string& party,
                                       const std::string& stream,
                                       const std::string& label);

// Revokes the token whose value is `token`. NotFound when no such token.
absl::Status RevokeTokenByValue(store::TokenStore& tokens, Clock& clock,
                                std::string_view token);

class Authenticator {
 public:
  // REQUIRES: `config`, `tokens` and `oidc` (null: no JWTs) outlive the
  // authenticator.
  Authenticator(const config::CityConfig& config, store::TokenStore& tokens,
                const auth::OidcVerifier* oidc = nullptr)
      : config_(config), tokens_(tokens), oidc_(oidc) {}

  // The principal of `request`'s `Authorization: Bearer <token>` header.
  // Unauthenticated when the header is missing or malformed, or the token is
  // unknown, revoked, or names a party or stream no longer in the config.
  // The message never echoes the token.
  absl::StatusOr<Principal> Authenticate(const HttpRequest& request) const;

 private:
  const config::CityConfig& config_;
  store::TokenStore& tokens_;
  const auth::OidcVerifier* oidc_;
};

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_AUTH_H_
