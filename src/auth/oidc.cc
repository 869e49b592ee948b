#include "auth/oidc.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/status_macros.h"

namespace privacity::auth {
namespace {

absl::Status Denied(std::string_view why) {
  return absl::PermissionDeniedError(
      absl::StrCat("bearer JWT: ", absl::string_view(why.data(), why.size())));
}

}  // namespace

absl::StatusOr<std::shared_ptr<KeySource>> FileKeySource(const config::Oidc& oidc) {
  if (oidc.jwks_file.empty()) {
    return absl::FailedPreconditionError(
        "oidc: the keys come from 'jwks_url', not from a file");
  }
  absl::StatusOr<std::shared_ptr<const JsonWebKeySet>> keys =
      JsonWebKeySet::Parse(oidc.jwks_json);
  if (!keys.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("oidc 'jwks_file' '", oidc.jwks_file,
                     "': ", std::string(keys.status().message())));
  }
  return std::shared_ptr<KeySource>(std::make_shared<StaticKeySource>(*std::move(keys)));
}

absl::StatusOr<std::unique_ptr<OidcVerifier>> OidcVerifier::Create(
    const config::CityConfig& config, std::shared_ptr<KeySource> keys, Clock& clock) {
  if (!config.oidc.has_value()) {
    return absl::InvalidArgumentError("oidc: the config has no 'oidc' section");
  }
  const config::Oidc& oidc = *config.oidc;
  ASSIGN_OR_RETURN(std::unique_ptr<JwtVerifier> jwt, JwtVerifier::Builder()
                                                         .SetIssuer(oidc.issuer)
                                                         .SetAudience(oidc.audience)
                                                         .SetKeySource(std::move(keys))
                                                         .SetClock(clock)
                                                         .SetLeeway(oidc.leeway)
                                                         .Build());
  return std::unique_ptr<OidcVerifier>(new OidcVerifier(config, std::move(jwt)));
}

absl::StatusOr<std::string> OidcVerifier::PartyOf(std::string_view token) const {
  ASSIGN_OR_RETURN(VerifiedJwt verified, jwt_->Verify(token));
  if (oidc_.party_claim.empty()) {
    return Denied("this trust maps no token to a party (no 'party_claim' in the config)");
  }
  const nlohmann::json* claim = verified.Claim(oidc_.party_claim);
  if (claim == nullptr) return Denied("the token lacks the configured party claim");
  std::vector<std::string> values;
  if (claim->is_string()) {
    values.push_back(claim->get<std::string>());
  } else if (claim->is_array()) {
    for (const nlohmann::json& v : *claim) {
      if (v.is_string()) values.push_back(v.get<std::string>());
    }
  } else {
    return Denied("the party claim is neither a string nor a list of strings");
  }
  std::set<std::string> parties;
  for (const std::string& v : values) {
    if (auto it = oidc_.parties.find(v); it != oidc_.parties.end()) {
      parties.insert(it->second);
    }
  }
  if (parties.empty()) {
    return Denied("the token's party claim maps to no party of this trust");
  }
  if (parties.size() > 1) {
    return Denied(
        "the token's party claim maps to more than one party; a token acts as one");
  }
  return *parties.begin();
}

absl::StatusOr<std::vector<SubjectIdentifier>> OidcVerifier::VerifyCitizenJwt(
    std::string_view token) const {
  ASSIGN_OR_RETURN(VerifiedJwt verified, jwt_->Verify(token));
  if (oidc_.identifiers_claim.empty()) {
    return Denied(
        "this trust reads no citizen identifiers from tokens (no 'identifiers_claim')");
  }
  const nlohmann::json* claim = verified.Claim(oidc_.identifiers_claim);
  if (claim == nullptr) return Denied("the token lacks the configured identifiers claim");
  if (!claim->is_array()) return Denied("the identifiers claim is not a list");
  if (claim->size() > kMaxCitizenIdentifiers) {
    return Denied(absl::StrCat("the identifiers claim lists more than ",
                               kMaxCitizenIdentifiers, " entries"));
  }
  std::vector<SubjectIdentifier> out;
  for (const nlohmann::json& entry : *claim) {
    const auto stream = entry.is_object() ? entry.find("stream") : entry.end();
    const auto id = entry.is_object() ? entry.find("id") : entry.end();
    if (!entry.is_object() || entry.size() != 2 || stream == entry.end() ||
        id == entry.end() || !stream->is_string() || !id->is_string()) {
      return Denied(
          "each entry of the identifiers claim must be an object {\"stream\", \"id\"} of "
          "two strings");
    }
    SubjectIdentifier s{stream->get<std::string>(), id->get<std::string>()};
    if (s.stream.empty() || s.id.empty() || s.id.size() > kMaxIdentifierBytes ||
        !IsValidUtf8(s.id)) {
      return Denied(absl::StrCat(
          "an identifier in the identifiers claim is empty, not UTF-8 or longer than ",
          kMaxIdentifierBytes, " bytes"));
    }
    const config::Stream* declared = config_.FindStream(s.stream);
    if (declared == nullptr || !declared->personal()) continue;
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  }
  if (out.empty()) {
    return Denied(
        "the identifiers claim names no stream of this trust with data subjects");
  }
  return out;
}

}  // namespace privacity::auth
