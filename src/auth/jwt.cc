#include "auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace privacity::auth {
namespace {

using nlohmann::json;

constexpr int kMaxJsonDepth = 32;
constexpr int kMinRsaBits = 2048;
constexpr size_t kP256CoordinateBytes = 32;
constexpr size_t kEd25519KeyBytes = 32;

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status Unauthenticated(std::string_view what) {
  return absl::UnauthenticatedError(absl::StrCat("bearer JWT: ", Sv(what)));
}

// -- OpenSSL ownership -------------------------------------------------------

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BnDeleter {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamDeleter>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

BnPtr ToBignum(std::string_view big_endian) {
  return BnPtr(
      BN_bin2bn(Bytes(big_endian), static_cast<int>(big_endian.size()), nullptr));
}

// A public key from OSSL_PARAMs, checked (for EC: the point is on the curve).
absl::StatusOr<PkeyPtr> PkeyFromParams(const char* type, OSSL_PARAM_BLD& bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(&bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the key parameters do not form a public key");
  }
  PkeyPtr pkey(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the public key fails its validity check");
  }
  return pkey;
}

// -- JSON --------------------------------------------------------------------

// The deepest nesting of arrays and objects in `text` (strings skipped), so
// hostile input is refused before a parser recurses into it.
int NestingDepth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

// A JSON object, or nullopt (never throws).
std::optional<json> ParseObject(std::string_view text) {
  if (NestingDepth(text) > kMaxJsonDepth) return std::nullopt;
  json parsed =
      json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
}

const json* Member(const json& object, const char* name) {
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

std::optional<std::string> StringMember(const json& object, const char* name) {
  const json* m = Member(object, name);
  if (m == nullptr || !m->is_string()) return std::nullopt;
  return m->get<std::string>();
}

std::optional<JwsAlgorithm> ParseAlgorithm(std::string_view name) {
  if (name == "RS256") return JwsAlgorithm::kRs256;
  if (name == "ES256") return JwsAlgorithm::kEs256;
  if (name == "EdDSA") return JwsAlgorithm::kEdDsa;
  return std::nullopt;
}

bool IsBase64UrlChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// -- keys --------------------------------------------------------------------

absl::StatusOr<std::string> KeyBytes(const json& jwk, const char* name) {
  std::optional<std::string> text = StringMember(jwk, name);
  if (!text.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("member '", name, "' is missing or not a string"));
  }
  absl::StatusOr<std::string> bytes = Base64UrlDecodeStrict(*text);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("member '", name, "' is not valid base64url"));
  }
  return bytes;
}

absl::StatusOr<PkeyPtr> RsaKey(const json& jwk) {
  ASSIGN_OR_RETURN(std::string n, KeyBytes(jwk, "n"));
  ASSIGN_OR_RETURN(std::string e, KeyBytes(jwk, "e"));
  if (!n.empty() && n.front() == '\0') {
    return absl::InvalidArgumentError("'n' has a leading zero byte");
  }
  if (static_cast<int>(n.size()) * 8 < kMinRsaBits) {
    return absl::InvalidArgumentError(
        absl::StrCat("the RSA modulus is shorter than ", kMinRsaBits, " bits"));
  }
  if (e.empty() || e.size() > 8) {
    return absl::InvalidArgumentError("'e' must be 1 to 8 bytes");
  }
  BnPtr bn_n = ToBignum(n), bn_e = ToBignum(e);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bn_n == nullptr || bn_e == nullptr || bld == nullptr ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL could not hold the RSA parameters");
  }
  return PkeyFromParams("RSA", *bld);
}

absl::StatusOr<PkeyPtr> P256Key(const json& jwk) {
  ASSIGN_OR_RETURN(std::string x, KeyBytes(jwk, "x"));
  ASSIGN_OR_RETURN(std::string y, KeyBytes(jwk, "y"));
  if (x.size() != kP256CoordinateBytes || y.size() != kP256CoordinateBytes) {
    return absl::InvalidArgumentError("P-256 coordinates must be 32 bytes each");
  }
  const std::string point = absl::StrCat("\x04", x, y);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1",
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL could not hold the EC parameters");
  }
  return PkeyFromParams("EC", *bld);
}

absl::StatusOr<PkeyPtr> Ed25519Key(const json& jwk) {
  ASSIGN_OR_RETURN(std::string x, KeyBytes(jwk, "x"));
  if (x.size() != kEd25519KeyBytes) {
    return absl::InvalidArgumentError("an Ed25519 key 'x' must be 32 bytes");
  }
  PkeyPtr pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(x), x.size()));
  if (pkey == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("'x' is not an Ed25519 public key");
  }
  return pkey;
}

// ECDSA r || s (32 bytes each) as the DER SEQUENCE OpenSSL verifies.
std::optional<std::string> EcdsaRawToDer(std::string_view raw) {
  if (raw.size() != 2 * kP256CoordinateBytes) return std::nullopt;
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BnPtr r = ToBignum(raw.substr(0, kP256CoordinateBytes));
  BnPtr s = ToBignum(raw.substr(kP256CoordinateBytes));
  if (sig == nullptr || r == nullptr || s == nullptr ||
      ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  r.release();  // owned by sig now
  s.release();
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

}  // namespace

// -- algorithms and encodings ------------------------------------------------

std::string_view ToString(JwsAlgorithm alg) {
  switch (alg) {
    case JwsAlgorithm::kRs256:
      return "RS256";
    case JwsAlgorithm::kEs256:
      return "ES256";
    case JwsAlgorithm::kEdDsa:
      return "EdDSA";
  }
  return "?";
}

absl::StatusOr<std::string> Base64UrlDecodeStrict(std::string_view text) {
  if (text.size() % 4 == 1) {
    return absl::InvalidArgumentError("base64url text has an impossible length");
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = Base64UrlValue(c);
    if (v < 0) {
      return absl::InvalidArgumentError(
          "base64url text holds a character outside the URL alphabet");
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  if ((buffer & ((1u << bits) - 1)) != 0) {
    return absl::InvalidArgumentError("base64url text is not canonical (stray bits)");
  }
  return out;
}

bool LooksLikeJwt(std::string_view token) {
  if (!token.starts_with("eyJ")) return false;
  int dots = 0;
  size_t part = 0;
  for (char c : token) {
    if (c == '.') {
      if (part == 0) return false;
      ++dots;
      part = 0;
    } else if (IsBase64UrlChar(c)) {
      ++part;
    } else {
      return false;
    }
  }
  return dots == 2 && part > 0;
}

// -- JsonWebKey ---------------------------------------------------------------

struct JsonWebKey::Pkey {
  PkeyPtr pkey;
};

JsonWebKey::JsonWebKey(std::string kid, JwsAlgorithm algorithm,
                       std::unique_ptr<Pkey> pkey)
    : kid_(std::move(kid)), algorithm_(algorithm), pkey_(std::move(pkey)) {}

JsonWebKey::~JsonWebKey() = default;

absl::Status JsonWebKey::VerifySignature(std::string_view signing_input,
                                         std::string_view signature) const {
  std::string der;
  std::string_view presented = signature;
  const EVP_MD* md = EVP_sha256();
  switch (algorithm_) {
    case JwsAlgorithm::kRs256:
      break;
    case JwsAlgorithm::kEs256: {
      std::optional<std::string> converted = EcdsaRawToDer(signature);
      if (!converted.has_value()) {
        return Unauthenticated("an ES256 signature must be 64 bytes (r || s)");
      }
      der = *std::move(converted);
      presented = der;
      break;
    }
    case JwsAlgorithm::kEdDsa:
      md = nullptr;  // Ed25519 hashes internally
      if (signature.size() != 64) {
        return Unauthenticated("an EdDSA signature must be 64 bytes");
      }
      break;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pkey_->pkey.get()) != 1) {
    ERR_clear_error();
    return absl::InternalError("bearer JWT: OpenSSL could not start a verification");
  }
  const int ok = EVP_DigestVerify(ctx.get(), Bytes(presented), presented.size(),
                                  Bytes(signing_input), signing_input.size());
  ERR_clear_error();
  if (ok != 1) return Unauthenticated("the signature does not verify");
  return absl::OkStatus();
}

// -- JsonWebKeySet ------------------------------------------------------------

absl::StatusOr<std::shared_ptr<const JsonWebKeySet>> JsonWebKeySet::Parse(
    std::string_view jwks_json) {
  if (jwks_json.size() > kMaxJwksBytes) {
    return absl::InvalidArgumentError("JWKS: the document is larger than 1 MiB");
  }
  std::optional<json> doc = ParseObject(jwks_json);
  if (!doc.has_value()) {
    return absl::InvalidArgumentError("JWKS: the document is not a JSON object");
  }
  const json* keys = Member(*doc, "keys");
  if (keys == nullptr || !keys->is_array()) {
    return absl::InvalidArgumentError("JWKS: 'keys' is missing or not a list");
  }
  std::shared_ptr<JsonWebKeySet> set(new JsonWebKeySet());
  size_t index = 0;
  for (const json& jwk : *keys) {
    ++index;
    const auto fail = [&](std::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWKS: key #", index, ": ", Sv(why)));
    };
    if (!jwk.is_object()) return fail("not a JSON object");
    const std::optional<std::string> kty = StringMember(jwk, "kty");
    if (!kty.has_value()) return fail("'kty' is missing or not a string");
    // Only signature keys that this build can verify with.
    if (const json* use = Member(jwk, "use")) {
      if (!use->is_string()) return fail("'use' is not a string");
      if (use->get<std::string>() != "sig") continue;
    }
    if (const json* ops = Member(jwk, "key_ops")) {
      if (!ops->is_array()) return fail("'key_ops' is not a list");
      if (std::find(ops->begin(), ops->end(), json("verify")) == ops->end()) continue;
    }
    std::optional<JwsAlgorithm> declared;
    if (const json* alg = Member(jwk, "alg")) {
      if (!alg->is_string()) return fail("'alg' is not a string");
      declared = ParseAlgorithm(alg->get<std::string>());
      if (!declared.has_value()) continue;  // e.g. RS384, PS256, RSA-OAEP
    }
    std::string kid;
    if (const json* k = Member(jwk, "kid")) {
      if (!k->is_string()) return fail("'kid' is not a string");
      kid = k->get<std::string>();
    }
    JwsAlgorithm algorithm;
    absl::StatusOr<PkeyPtr> pkey = absl::InternalError("unset");
    if (*kty == "RSA") {
      algorithm = JwsAlgorithm::kRs256;
      pkey = RsaKey(jwk);
    } else if (*kty == "EC") {
      if (StringMember(jwk, "crv") != "P-256") continue;  // P-384, secp256k1 ...
      algorithm = JwsAlgorithm::kEs256;
      pkey = P256Key(jwk);
    } else if (*kty == "OKP") {
      if (StringMember(jwk, "crv") != "Ed25519") continue;  // X25519, Ed448
      algorithm = JwsAlgorithm::kEdDsa;
      pkey = Ed25519Key(jwk);
    } else {
      continue;  // "oct" and anything else: never a public verification key
    }
    if (declared.has_value() && *declared != algorithm) {
      return fail(
          absl::StrCat("'alg' ", Sv(ToString(*declared)), " does not fit kty ", *kty));
    }
    if (!pkey.ok()) return fail(std::string(pkey.status().message()));
    if (set->Find(kid, algorithm) != nullptr && !kid.empty()) {
      return fail("another usable key of this type has the same 'kid'");
    }
    auto holder = std::make_unique<JsonWebKey::Pkey>();
    holder->pkey = *std::move(pkey);
    set->keys_.push_back(std::unique_ptr<JsonWebKey>(
        new JsonWebKey(std::move(kid), algorithm, std::move(holder))));
  }
  if (set->keys_.empty()) {
    return absl::InvalidArgumentError(
        "JWKS: no usable signing key (RSA, EC P-256 or Ed25519 with use 'sig')");
  }
  return std::shared_ptr<const JsonWebKeySet>(std::move(set));
}

const JsonWebKey* JsonWebKeySet::Find(std::string_view kid, JwsAlgorithm alg) const {
  const JsonWebKey* only = nullptr;
  int candidates = 0;
  for (const auto& key : keys_) {
    if (key->algorithm() != alg) continue;
    if (!kid.empty() && key->kid() == kid) return key.get();
    ++candidates;
    only = key.get();
  }
  return kid.empty() && candidates == 1 ? only : nullptr;
}

// -- RefreshingKeySource --------------------------------------------------------

RefreshingKeySource::RefreshingKeySource(FetchFn fetch, Clock& clock,
                                         RefreshOptions options,
                                         std::shared_ptr<const JsonWebKeySet> keys)
    : fetch_(std::move(fetch)), clock_(clock), options_(options), keys_(std::move(keys)) {
  fetched_at_ = attempt_at_ = clock_.Now();
  fetches_ = 1;
}

absl::StatusOr<std::unique_ptr<RefreshingKeySource>> RefreshingKeySource::Create(
    FetchFn fetch, Clock& clock, RefreshOptions options) {
  if (!fetch) return absl::InvalidArgumentError("JWKS source: no fetch function");
  if (options.refresh_every <= absl::ZeroDuration() ||
      options.min_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "JWKS source: refresh_every must be positive and min_interval not negative");
  }
  ASSIGN_OR_RETURN(std::string document, fetch());
  ASSIGN_OR_RETURN(std::shared_ptr<const JsonWebKeySet> keys,
                   JsonWebKeySet::Parse(document));
  return std::unique_ptr<RefreshingKeySource>(
      new RefreshingKeySource(std::move(fetch), clock, options, std::move(keys)));
}

std::shared_ptr<const JsonWebKeySet> RefreshingKeySource::Keys() {
  return MaybeRefresh(Reason::kAge);
}

std::shared_ptr<const JsonWebKeySet> RefreshingKeySource::KeysAfterUnknownKid() {
  return MaybeRefresh(Reason::kUnknownKid);
}

int RefreshingKeySource::fetches() const {
  absl::MutexLock lock(&mu_);
  return fetches_;
}

std::shared_ptr<const JsonWebKeySet> RefreshingKeySource::MaybeRefresh(Reason reason) {
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    const bool due =
        reason == Reason::kUnknownKid || now - fetched_at_ >= options_.refresh_every;
    if (!due || fetching_ || now - attempt_at_ < options_.min_interval) return keys_;
    fetching_ = true;
    attempt_at_ = now;
  }
  // Fetch without the lock: other requests keep the current keys.
  absl::StatusOr<std::string> document = fetch_();
  absl::StatusOr<std::shared_ptr<const JsonWebKeySet>> parsed =
      document.ok()
          ? JsonWebKeySet::Parse(*document)
          : absl::StatusOr<std::shared_ptr<const JsonWebKeySet>>(document.status());
  absl::MutexLock lock(&mu_);
  fetching_ = false;
  if (parsed.ok()) {
    keys_ = *std::move(parsed);
    fetched_at_ = now;
    ++fetches_;
  } else {
    spdlog::warn("JWKS refresh failed, keeping the previous keys: {}",
                 std::string(parsed.status().message()));
  }
  return keys_;
}

// -- VerifiedJwt ----------------------------------------------------------------

const nlohmann::json* VerifiedJwt::Claim(std::string_view name) const {
  const std::string key(name);
  if (auto it = claims.find(key); it != claims.end()) return &*it;
  if (name.find('.') == std::string_view::npos) return nullptr;
  const json* at = &claims;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(name.data(), name.size()), '.')) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(std::string(part));
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

// -- JwtVerifier ----------------------------------------------------------------

JwtVerifier::Builder& JwtVerifier::Builder::SetIssuer(std::string issuer) {
  issuer_ = std::move(issuer);
  return *this;
}
JwtVerifier::Builder& JwtVerifier::Builder::SetAudience(std::string audience) {
  audience_ = std::move(audience);
  return *this;
}
JwtVerifier::Builder& JwtVerifier::Builder::SetKeySource(
    std::shared_ptr<KeySource> keys) {
  keys_ = std::move(keys);
  return *this;
}
JwtVerifier::Builder& JwtVerifier::Builder::SetClock(Clock& clock) {
  clock_ = &clock;
  return *this;
}
JwtVerifier::Builder& JwtVerifier::Builder::SetLeeway(absl::Duration leeway) {
  leeway_ = leeway;
  return *this;
}
JwtVerifier::Builder& JwtVerifier::Builder::SetMaxTokenBytes(size_t bytes) {
  max_token_bytes_ = bytes;
  return *this;
}
JwtVerifier::Builder& JwtVerifier::Builder::SetAlgorithms(
    std::vector<JwsAlgorithm> algorithms) {
  algorithms_ = std::move(algorithms);
  return *this;
}

absl::StatusOr<std::unique_ptr<JwtVerifier>> JwtVerifier::Builder::Build() {
  if (absl::StripAsciiWhitespace(issuer_).empty()) {
    return absl::InvalidArgumentError("JWT verifier: the issuer is not set");
  }
  if (absl::StripAsciiWhitespace(audience_).empty()) {
    return absl::InvalidArgumentError("JWT verifier: the audience is not set");
  }
  if (keys_ == nullptr) return absl::InvalidArgumentError("JWT verifier: no key source");
  if (clock_ == nullptr) return absl::InvalidArgumentError("JWT verifier: no clock");
  if (leeway_ < absl::ZeroDuration() || leeway_ > absl::Minutes(5)) {
    return absl::InvalidArgumentError(
        "JWT verifier: the leeway must be between 0 and 5 minutes");
  }
  if (max_token_bytes_ < 256 || max_token_bytes_ > 65536) {
    return absl::InvalidArgumentError(
        "JWT verifier: the maximum token size must be between 256 bytes and 64 KiB");
  }
  if (algorithms_.empty()) {
    return absl::InvalidArgumentError("JWT verifier: no algorithm is allowed");
  }
  return std::unique_ptr<JwtVerifier>(new JwtVerifier(*this));
}

JwtVerifier::JwtVerifier(const Builder& b)
    : issuer_(b.issuer_),
      audience_(b.audience_),
      keys_(b.keys_),
      clock_(*b.clock_),
      leeway_(b.leeway_),
      max_token_bytes_(b.max_token_bytes_),
      algorithms_(b.algorithms_) {}

absl::StatusOr<VerifiedJwt> JwtVerifier::Verify(std::string_view token) const {
  if (token.size() > max_token_bytes_) {
    return Unauthenticated(
        absl::StrCat("the token is longer than ", max_token_bytes_, " bytes"));
  }
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos ||
      token.find('.', dot2 + 1) != std::string_view::npos) {
    return Unauthenticated(
        "the token is not a compact JWS (three parts separated by '.')");
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view claims_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);

  absl::StatusOr<std::string> header_text = Base64UrlDecodeStrict(header_b64);
  if (!header_text.ok()) return Unauthenticated("the header is not valid base64url");
  std::optional<json> header = ParseObject(*header_text);
  if (!header.has_value()) return Unauthenticated("the header is not a JSON object");

  const std::optional<std::string> alg_name = StringMember(*header, "alg");
  if (!alg_name.has_value()) return Unauthenticated("the header names no 'alg'");
  if (absl::AsciiStrToLower(*alg_name) == "none") {
    return Unauthenticated("unsigned tokens (alg 'none') are refused");
  }
  const std::optional<JwsAlgorithm> alg = ParseAlgorithm(*alg_name);
  if (!alg.has_value() ||
      std::find(algorithms_.begin(), algorithms_.end(), *alg) == algorithms_.end()) {
    return Unauthenticated("the header's 'alg' is not an accepted algorithm");
  }
  if (Member(*header, "crit") != nullptr) {
    return Unauthenticated("the header has critical extensions ('crit'), none supported");
  }
  std::string kid;
  if (const json* k = Member(*header, "kid")) {
    if (!k->is_string()) return Unauthenticated("the header's 'kid' is not a string");
    kid = k->get<std::string>();
  }

  absl::StatusOr<std::string> claims_text = Base64UrlDecodeStrict(claims_b64);
  if (!claims_text.ok()) return Unauthenticated("the claims are not valid base64url");
  absl::StatusOr<std::string> signature = Base64UrlDecodeStrict(signature_b64);
  if (!signature.ok()) return Unauthenticated("the signature is not valid base64url");
  if (signature->empty()) return Unauthenticated("the signature is empty");

  std::shared_ptr<const JsonWebKeySet> keys = keys_->Keys();
  const JsonWebKey* key = keys->Find(kid, *alg);
  if (key == nullptr && !kid.empty()) {
    keys = keys_->KeysAfterUnknownKid();
    key = keys->Find(kid, *alg);
  }
  if (key == nullptr) {
    return Unauthenticated(
        kid.empty()
            ? "the token names no key ('kid') and the key set has no single key for its "
              "'alg'"
            : "no key in the key set has the token's 'kid' and fits its 'alg'");
  }
  // The signature covers the two encoded parts as sent.
  RETURN_IF_ERROR(key->VerifySignature(token.substr(0, dot2), *signature));

  // Only a verified payload is parsed.
  std::optional<json> claims = ParseObject(*claims_text);
  if (!claims.has_value()) return Unauthenticated("the claims are not a JSON object");

  const absl::Time now = clock_.Now();
  const auto numeric_date =
      [&](const char* name) -> absl::StatusOr<std::optional<absl::Time>> {
    const json* m = Member(*claims, name);
    if (m == nullptr) return std::optional<absl::Time>();
    if (!m->is_number()) {
      return Unauthenticated(absl::StrCat("the '", name, "' claim is not a number"));
    }
    const double seconds = m->get<double>();
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e11) {
      return Unauthenticated(absl::StrCat("the '", name, "' claim is out of range"));
    }
    return std::optional<absl::Time>(
        absl::FromUnixMicros(static_cast<int64_t>(std::floor(seconds * 1e6))));
  };
  ASSIGN_OR_RETURN(std::optional<absl::Time> exp, numeric_date("exp"));
  ASSIGN_OR_RETURN(std::optional<absl::Time> nbf, numeric_date("nbf"));
  ASSIGN_OR_RETURN(std::optional<absl::Time> iat, numeric_date("iat"));
  if (!exp.has_value()) return Unauthenticated("the token has no 'exp' (expiry) claim");
  if (now >= *exp + leeway_) return Unauthenticated("the token has expired");
  if (nbf.has_value() && now + leeway_ < *nbf) {
    return Unauthenticated("the token is not valid yet ('nbf')");
  }
  if (iat.has_value() && now + leeway_ < *iat) {
    return Unauthenticated("the token was issued in the future ('iat')");
  }

  if (StringMember(*claims, "iss") != issuer_) {
    return Unauthenticated("the token's issuer ('iss') is not the configured one");
  }
  bool audience_ok = false;
  if (const json* aud = Member(*claims, "aud")) {
    if (aud->is_string()) {
      audience_ok = aud->get<std::string>() == audience_;
    } else if (aud->is_array()) {
      for (const json& a : *aud) {
        if (a.is_string() && a.get<std::string>() == audience_) audience_ok = true;
      }
    }
  }
  if (!audience_ok) {
    return Unauthenticated("the token's audience ('aud') does not include this trust");
  }
  VerifiedJwt verified;
  verified.algorithm = *alg;
  verified.kid = std::move(kid);
  verified.claims = *std::move(claims);
  return verified;
}

}  // namespace privacity::auth
