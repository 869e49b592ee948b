#include "server/auth.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/status_macros.h"
#include "crypto/crypto.h"
#include "policy/decision.h"

namespace privacity::server {
namespace {

// "pvt_" + 43 base64url characters.
constexpr size_t kTokenLength = 4 + 43;

bool WellFormed(std::string_view token) {
  if (token.size() != kTokenLength ||
      token.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    return false;
  }
  for (char c : token.substr(kTokenPrefix.size())) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string HashToken(std::string_view token) {
  return crypto::Sha256(absl::string_view(token.data(), token.size()));
}

absl::StatusOr<IssuedToken> IssueToken(const config::CityConfig& config,
                                       store::TokenStore& tokens, Clock& clock,
                                       RandomSource& random, const std::string& party,
                                       const std::string& stream,
                                       const std::string& label) {
  if (party == policy::kPublicParty) {
    return absl::InvalidArgumentError("the public needs no token: its routes are open");
  }
  if (config.FindParty(party) == nullptr) {
    return absl::NotFoundError("token issue: the party is not declared in the config");
  }
  if (!stream.empty() && config.FindStream(stream) == nullptr) {
    return absl::NotFoundError("token issue: the stream is not declared in the config");
  }
  IssuedToken issued;
  issued.token = absl::StrCat(std::string(kTokenPrefix),
                              Base64UrlEncode(random.Bytes(kTokenRandomBytes)));
  store::TokenRecord record;
  record.token_hash = HashToken(issued.token);
  record.party = party;
  record.stream = stream;
  record.label = label;
  record.created_us = absl::ToUnixMicros(clock.Now());
  ASSIGN_OR_RETURN(issued.id, tokens.InsertToken(record));
  return issued;
}

absl::Status RevokeTokenByValue(store::TokenStore& tokens, Clock& clock,
                                std::string_view token) {
  if (!WellFormed(token))
    return absl::InvalidArgumentError("token revoke: not a privacity token");
  ASSIGN_OR_RETURN(std::optional<store::TokenRecord> found,
                   tokens.FindTokenByHash(HashToken(token)));
  if (!found.has_value()) return absl::NotFoundError("token revoke: no such token");
  return tokens.RevokeToken(found->id, absl::ToUnixMicros(clock.Now()));
}

absl::StatusOr<Principal> Authenticator::Authenticate(const HttpRequest& request) const {
  const std::string header = request.Header("authorization");
  if (header.empty()) {
    return absl::UnauthenticatedError(
        "this route needs a bearer token (Authorization: Bearer ...)");
  }
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(header.substr(0, kScheme.size()),
                              absl::string_view(kScheme.data(), kScheme.size()))) {
    return absl::UnauthenticatedError(
        "the Authorization header must use the Bearer scheme");
  }
  const absl::string_view stripped =
      absl::StripAsciiWhitespace(absl::string_view(header).substr(kScheme.size()));
  const std::string_view token(stripped.data(), stripped.size());
  if (auth::LooksLikeJwt(token)) {
    if (oidc_ == nullptr) {
      return absl::UnauthenticatedError(
          "this trust accepts no JWT bearer tokens (city.yaml has no 'oidc' section)");
    }
    ASSIGN_OR_RETURN(std::string party, oidc_->PartyOf(token));
    if (config_.FindParty(party) == nullptr) {
      return absl::PermissionDeniedError("the JWT's party is no longer in the config");
    }
    return Principal{0, std::move(party), ""};
  }
  if (!WellFormed(token)) {
    return absl::UnauthenticatedError("the bearer token is malformed");
  }
  const std::string hash = HashToken(token);
  ASSIGN_OR_RETURN(std::optional<store::TokenRecord> found,
                   tokens_.FindTokenByHash(hash));
  if (!found.has_value() || !crypto::ConstantTimeEquals(found->token_hash, hash)) {
    return absl::UnauthenticatedError("the bearer token is not valid");
  }
  if (found->revoked()) return absl::UnauthenticatedError("the bearer token was revoked");
  if (config_.FindParty(found->party) == nullptr ||
      (found->sensor() && config_.FindStream(found->stream) == nullptr)) {
    return absl::UnauthenticatedError(
        "the bearer token's party or stream is no longer in the config");
  }
  return Principal{found->id, found->party, found->stream};
}

}  // namespace privacity::server
