// Test-time signing keys and tokens: RSA-2048, P-256 and Ed25519 keys made
// with OpenSSL when a test runs, their JWKs, and compact JWS tokens signed
// with them. Nothing here is a fixture file; every key is fresh.
#ifndef PRIVACITY_TESTS_AUTH_JWT_TEST_UTIL_H_
#define PRIVACITY_TESTS_AUTH_JWT_TEST_UTIL_H_

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <memory>
#include <string>

#include "common/encoding.h"
#include "nlohmann/json.hpp"

namespace privacity::auth::testing {

enum class KeyKind { kRsa, kP256, kEd25519 };

class TestKey {
 public:
  // A fresh key. Aborts the test binary if OpenSSL fails.
  TestKey(KeyKind kind, std::string kid) : kind_(kind), kid_(std::move(kid)) {
    switch (kind) {
      case KeyKind::kRsa:
        pkey_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
        break;
      case KeyKind::kP256:
        pkey_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
        break;
      case KeyKind::kEd25519:
        pkey_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
        break;
    }
    if (pkey_ == nullptr) std::abort();
  }
  ~TestKey() { EVP_PKEY_free(pkey_); }
  TestKey(const TestKey&) = delete;
  TestKey& operator=(const TestKey&) = delete;

  KeyKind kind() const { return kind_; }
  const std::string& kid() const { return kid_; }
  std::string alg() const {
    return kind_ == KeyKind::kRsa ? "RS256" : kind_ == KeyKind::kP256 ? "ES256" : "EdDSA";
  }

  // The public JWK (with kid; no alg or use unless added by the caller).
  nlohmann::json Jwk() const {
    nlohmann::json j;
    if (!kid_.empty()) j["kid"] = kid_;
    switch (kind_) {
      case KeyKind::kRsa:
        j["kty"] = "RSA";
        j["n"] = Base64UrlEncode(BnParam(OSSL_PKEY_PARAM_RSA_N, 0));
        j["e"] = Base64UrlEncode(BnParam(OSSL_PKEY_PARAM_RSA_E, 0));
        break;
      case KeyKind::kP256:
        j["kty"] = "EC";
        j["crv"] = "P-256";
        j["x"] = Base64UrlEncode(BnParam(OSSL_PKEY_PARAM_EC_PUB_X, 32));
        j["y"] = Base64UrlEncode(BnParam(OSSL_PKEY_PARAM_EC_PUB_Y, 32));
        break;
      case KeyKind::kEd25519: {
        unsigned char raw[32];
        size_t len = sizeof raw;
        if (EVP_PKEY_get_raw_public_key(pkey_, raw, &len) != 1) std::abort();
        j["kty"] = "OKP";
        j["crv"] = "Ed25519";
        j["x"] = Base64UrlEncode(std::string(reinterpret_cast<char*>(raw), len));
        break;
      }
    }
    return j;
  }

  // The raw JWS signature of `input` (r || s for ES256).
  std::string Sign(const std::string& input) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const EVP_MD* md = kind_ == KeyKind::kEd25519 ? nullptr : EVP_sha256();
    size_t len = 0;
    if (EVP_DigestSignInit(ctx, nullptr, md, nullptr, pkey_) != 1 ||
        EVP_DigestSign(ctx, nullptr, &len,
                       reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) != 1) {
      std::abort();
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) != 1) {
      std::abort();
    }
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    if (kind_ != KeyKind::kP256) return sig;
    // DER ECDSA-Sig-Value -> r || s.
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    if (es == nullptr) std::abort();
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32,
                 32);
    ECDSA_SIG_free(es);
    return raw;
  }

  // A compact JWS of `claims` with header {"alg", "kid", "typ":"JWT"} plus
  // `extra_header` members (which may override them).
  std::string Token(const nlohmann::json& claims,
                    const nlohmann::json& extra_header = nlohmann::json::object()) const {
    nlohmann::json header = {{"alg", alg()}, {"typ", "JWT"}};
    if (!kid_.empty()) header["kid"] = kid_;
    for (auto it = extra_header.begin(); it != extra_header.end(); ++it) {
      if (it.value().is_null()) {
        header.erase(it.key());
      } else {
        header[it.key()] = it.value();
      }
    }
    const std::string input =
        Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
    return input + "." + Base64UrlEncode(Sign(input));
  }

 private:
  std::string BnParam(const char* name, int pad) const {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(pkey_, name, &bn) != 1) std::abort();
    const int n = pad > 0 ? pad : BN_num_bytes(bn);
    std::string out(static_cast<size_t>(n), '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), n);
    BN_free(bn);
    return out;
  }

  KeyKind kind_;
  std::string kid_;
  EVP_PKEY* pkey_ = nullptr;
};

// {"keys":[jwk...]}
inline std::string Jwks(std::initializer_list<nlohmann::json> jwks) {
  nlohmann::json doc = {{"keys", nlohmann::json::array()}};
  for (const nlohmann::json& j : jwks) doc["keys"].push_back(j);
  return doc.dump();
}

}  // namespace privacity::auth::testing

#endif  // PRIVACITY_TESTS_AUTH_JWT_TEST_UTIL_H_
