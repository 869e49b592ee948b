// What a verified OIDC/JWT bearer token means to this trust, from the
// `oidc` section of city.yaml (docs/config.md): which party it acts as, or
// which data subjects (stream, identifier) a citizen proved to be.
//
//   ASSIGN_OR_RETURN(auto keys, FileKeySource(*config.oidc));
//   ASSIGN_OR_RETURN(auto oidc, OidcVerifier::Create(config, keys, clock));
//   ASSIGN_OR_RETURN(std::string party, oidc->PartyOf(token));
//
// Signature, expiry, issuer and audience are checked first (auth/jwt.h);
// those failures are Unauthenticated. A valid token that maps to no one is
// PermissionDenied. No message holds the token or a claim value.
#ifndef PRIVACITY_AUTH_OIDC_H_
#define PRIVACITY_AUTH_OIDC_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/jwt.h"
#include "common/clock.h"
#include "config/model.h"

namespace privacity::auth {

// At most this many identifiers are read from one citizen token.
inline constexpr size_t kMaxCitizenIdentifiers = 32;
inline constexpr size_t kMaxIdentifierBytes = 256;

// An identifier a citizen's token vouches for, in one stream. `id` is raw
// (a meter number as the identity provider knows it): personal, so it is
// only ever turned into a blind index, never logged or stored.
struct SubjectIdentifier {
  std::string stream;
  std::string id;

  bool operator==(const SubjectIdentifier&) const = default;
};

// The key source for an `oidc` section with a `jwks_file` (its contents,
// read by the config loader). InvalidArgument naming what is wrong with the
// key set; FailedPrecondition when the section uses a URL instead (the
// server fetches those, see server/oidc_setup.h).
absl::StatusOr<std::shared_ptr<KeySource>> FileKeySource(const config::Oidc& oidc);

class OidcVerifier {
 public:
  // InvalidArgument when `config` has no oidc section or the verifier
  // cannot be built (see JwtVerifier::Builder).
  // REQUIRES: `config` and `clock` outlive the verifier.
  static absl::StatusOr<std::unique_ptr<OidcVerifier>> Create(
      const config::CityConfig& config, std::shared_ptr<KeySource> keys, Clock& clock);

  // The party `token` acts as: the party_claim's value (a string, or a list
  // of strings of which the mapped ones must all name the same party) looked
  // up in `parties`. PermissionDenied when the city maps no party claims,
  // the claim is absent or of another type, no value is mapped, or the
  // values map to more than one party (a token never acts as two parties).
  absl::StatusOr<std::string> PartyOf(std::string_view token) const;

  // The identifiers a citizen's token vouches for: the identifiers_claim, a
  // list of {"stream": S, "id": X} objects. Entries for streams that are not
  // declared or have no data subjects are skipped, repeats are dropped.
  // PermissionDenied when the city reads no identifiers claim, the claim is
  // absent or malformed (not a list, an entry that is not an object of two
  // non-empty strings, an id over kMaxIdentifierBytes, more than
  // kMaxCitizenIdentifiers entries), or no entry names a stream with data
  // subjects.
  absl::StatusOr<std::vector<SubjectIdentifier>> VerifyCitizenJwt(
      std::string_view token) const;

  const JwtVerifier& jwt() const { return *jwt_; }

 private:
  OidcVerifier(const config::CityConfig& config, std::unique_ptr<JwtVerifier> jwt)
      : config_(config), oidc_(*config.oidc), jwt_(std::move(jwt)) {}

  const config::CityConfig& config_;
  const config::Oidc& oidc_;
  std::unique_ptr<JwtVerifier> jwt_;
};

}  // namespace privacity::auth

#endif  // PRIVACITY_AUTH_OIDC_H_
