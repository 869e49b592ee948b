// Verifying JSON Web Tokens (RFC 7519) signed as compact JWS (RFC 7515)
// with keys from a JSON Web Key Set (RFC 7517), so that a city's identity
// provider (Keycloak, FIWARE Keyrock, an eID) can vouch for parties and
// citizens.
//
// Algorithms (RFC 7518, RFC 8037), each bound to one key type:
//   RS256  RSASSA-PKCS1-v1_5 with SHA-256   kty "RSA" (n, e), modulus >= 2048 bits
//   ES256  ECDSA P-256 with SHA-256          kty "EC", crv "P-256" (x, y); the
//                                            signature is r || s, 64 bytes
//   EdDSA  Ed25519                           kty "OKP", crv "Ed25519" (x)
// Everything else, "none" and the HMAC algorithms included, is refused: a
// public key set can only ever verify, never be used as an HMAC secret.
//
// A token is accepted only when all of these hold: it is at most
// max_token_bytes long; it has exactly three base64url parts, canonical and
// unpadded; the header and the claims are JSON objects (nesting at most 32
// deep); the header names a supported "alg" and no "crit" extension; the
// key is found by "kid" (or is the one usable key when there is no kid), its
// type fits the algorithm and its own "alg"/"use"/"key_ops" allow it; the
// signature verifies; "exp" is present and not past, "nbf" and "iat" not in
// the future (each with `leeway`, time from the injected Clock); "iss"
// equals the issuer and "aud" (a string or a list) contains the audience.
//
// Every failure is Unauthenticated with a message naming the rule that
// failed. Messages never contain the token or a claim value (claims can be
// personal); the unknown "kid" is not echoed either.
#ifndef PRIVACITY_AUTH_JWT_H_
#define PRIVACITY_AUTH_JWT_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "nlohmann/json.hpp"

namespace privacity::auth {

enum class JwsAlgorithm { kRs256, kEs256, kEdDsa };

// "RS256", "ES256", "EdDSA".
std::string_view ToString(JwsAlgorithm alg);

inline constexpr size_t kDefaultMaxTokenBytes = 8192;
inline constexpr size_t kMaxJwksBytes = size_t{1} << 20;

// A public key from a JWKS.
class JsonWebKey {
 public:
  ~JsonWebKey();
  JsonWebKey(const JsonWebKey&) = delete;
  JsonWebKey& operator=(const JsonWebKey&) = delete;

  const std::string& kid() const { return kid_; }
  // The one algorithm this key's type verifies.
  JwsAlgorithm algorithm() const { return algorithm_; }

  // OK when `signature` is a valid signature of `signing_input` under this
  // key with its algorithm; Unauthenticated otherwise.
  absl::Status VerifySignature(std::string_view signing_input,
                               std::string_view signature) const;

 private:
  friend class JsonWebKeySet;
  struct Pkey;
  JsonWebKey(std::string kid, JwsAlgorithm algorithm, std::unique_ptr<Pkey> pkey);

  std::string kid_;
  JwsAlgorithm algorithm_;
  std::unique_ptr<Pkey> pkey_;
};

// The signing keys of a JWKS. Immutable once parsed; share it freely.
class JsonWebKeySet {
 public:
  // Parses a JWKS document ({"keys":[...]}). Keys that cannot verify
  // signatures here are skipped: unknown kty or crv (e.g. "oct", X25519),
  // "use" other than "sig", "key_ops" without "verify", or an "alg" outside
  // RS256/ES256/EdDSA. A key of a supported type that is malformed (bad
  // base64url, a point not on the curve, an RSA modulus under 2048 bits)
  // is an error, as are two usable keys with the same kid and type, and a
  // set with no usable key. InvalidArgument naming the key by position
  // (never its material).
  static absl::StatusOr<std::shared_ptr<const JsonWebKeySet>> Parse(
      std::string_view jwks_json);

  // The key named `kid` that verifies `alg`, or null. With an empty kid:
  // the only key that verifies `alg`, or null when there are none or several.
  const JsonWebKey* Find(std::string_view kid, JwsAlgorithm alg) const;

  size_t size() const { return keys_.size(); }

 private:
  JsonWebKeySet() = default;
  std::vector<std::unique_ptr<JsonWebKey>> keys_;
};

// Where a verifier gets its keys. Implementations are thread-safe.
class KeySource {
 public:
  virtual ~KeySource() = default;
  // The keys to verify with now; never null.
  virtual std::shared_ptr<const JsonWebKeySet> Keys() = 0;
  // Called when a token names a key that Keys() lacks (the provider may
  // have rotated its keys). A source that can fetch may refresh, rate
  // limited; the default returns Keys().
  virtual std::shared_ptr<const JsonWebKeySet> KeysAfterUnknownKid() { return Keys(); }
};

// A fixed key set (from a file).
class StaticKeySource final : public KeySource {
 public:
  // REQUIRES: keys != nullptr.
  explicit StaticKeySource(std::shared_ptr<const JsonWebKeySet> keys)
      : keys_(std::move(keys)) {}
  std::shared_ptr<const JsonWebKeySet> Keys() override { return keys_; }

 private:
  const std::shared_ptr<const JsonWebKeySet> keys_;
};

struct RefreshOptions {
  // Keys older than this are fetched again on the next use.
  absl::Duration refresh_every = absl::Hours(1);
  // At most one fetch per this interval, whatever the cause (a flood of
  // tokens with made-up kids cannot make the trust hammer the provider).
  absl::Duration min_interval = absl::Seconds(30);
};

// A key set fetched from a URL (through `fetch`, which returns the JWKS
// document), refreshed when older than refresh_every and when a token names
// an unknown kid, never more often than min_interval. A failed or invalid
// fetch keeps the keys it had (and is logged without the document).
// Thread-safe: one caller fetches at a time; the others keep verifying with
// the current keys meanwhile.
class RefreshingKeySource final : public KeySource {
 public:
  using FetchFn = std::function<absl::StatusOr<std::string>()>;

  // Fetches once; fails when that fetch fails or the set is invalid, so a
  // misconfigured URL stops `serve` at start. InvalidArgument for a
  // non-positive refresh_every or a negative min_interval.
  // REQUIRES: `clock` outlives the source.
  static absl::StatusOr<std::unique_ptr<RefreshingKeySource>> Create(
      FetchFn fetch, Clock& clock, RefreshOptions options = {});

  std::shared_ptr<const JsonWebKeySet> Keys() override;
  std::shared_ptr<const JsonWebKeySet> KeysAfterUnknownKid() override;

  // Successful fetches so far (the first included).
  int fetches() const;

 private:
  enum class Reason { kAge, kUnknownKid };
  RefreshingKeySource(FetchFn fetch, Clock& clock, RefreshOptions options,
                      std::shared_ptr<const JsonWebKeySet> keys);
  std::shared_ptr<const JsonWebKeySet> MaybeRefresh(Reason reason);

  const FetchFn fetch_;
  Clock& clock_;
  const RefreshOptions options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const JsonWebKeySet> keys_ ABSL_GUARDED_BY(mu_);
  absl::Time fetched_at_ ABSL_GUARDED_BY(mu_);  // last successful fetch
  absl::Time attempt_at_ ABSL_GUARDED_BY(mu_);  // last attempt, good or bad
  bool fetching_ ABSL_GUARDED_BY(mu_) = false;
  int fetches_ ABSL_GUARDED_BY(mu_) = 0;
};

// A token that passed every check.
struct VerifiedJwt {
  JwsAlgorithm algorithm = JwsAlgorithm::kRs256;
  std::string kid;
  nlohmann::json claims;  // a JSON object

  // The claim named `name`, or (when there is no such top-level claim and
  // the name has dots) the member at that path ("realm_access.roles");
  // null when absent.
  const nlohmann::json* Claim(std::string_view name) const;
};

// True when `token` has the shape of a compact JWS (three non-empty
// base64url-alphabet parts, the first starting with "eyJ", i.e. '{"'),
// so an opaque token can be told from a JWT without verifying anything.
bool LooksLikeJwt(std::string_view token);

class JwtVerifier {
 public:
  class Builder {
   public:
    Builder& SetIssuer(std::string issuer);
    Builder& SetAudience(std::string audience);
    Builder& SetKeySource(std::shared_ptr<KeySource> keys);
    // REQUIRES: `clock` outlives the verifier.
    Builder& SetClock(Clock& clock);
    // Tolerance for clock skew on exp, nbf and iat; 0 to 5 minutes.
    Builder& SetLeeway(absl::Duration leeway);
    // 256 bytes to 64 KiB.
    Builder& SetMaxTokenBytes(size_t bytes);
    // A subset of the three; all three by default.
    Builder& SetAlgorithms(std::vector<JwsAlgorithm> algorithms);

    // InvalidArgument naming the first missing or bad setting.
    absl::StatusOr<std::unique_ptr<JwtVerifier>> Build();

   private:
    friend class JwtVerifier;
    std::string issuer_;
    std::string audience_;
    std::shared_ptr<KeySource> keys_;
    Clock* clock_ = nullptr;
    absl::Duration leeway_ = absl::Seconds(60);
    size_t max_token_bytes_ = kDefaultMaxTokenBytes;
    std::vector<JwsAlgorithm> algorithms_ = {JwsAlgorithm::kRs256, JwsAlgorithm::kEs256,
                                             JwsAlgorithm::kEdDsa};
  };

  // See the file comment for the checks. Thread-safe.
  absl::StatusOr<VerifiedJwt> Verify(std::string_view token) const;

 private:
  explicit JwtVerifier(const Builder& b);

  std::string issuer_;
  std::string audience_;
  std::shared_ptr<KeySource> keys_;
  Clock& clock_;
  absl::Duration leeway_;
  size_t max_token_bytes_;
  std::vector<JwsAlgorithm> algorithms_;
};

// Strict unpadded base64url (RFC 4648 section 5): only the URL alphabet, no
// '=', no whitespace, and unused trailing bits zero, so each byte string
// has exactly one encoding. InvalidArgument otherwise (the text is not
// echoed).
absl::StatusOr<std::string> Base64UrlDecodeStrict(std::string_view text);

}  // namespace privacity::auth

#endif  // PRIVACITY_AUTH_JWT_H_
