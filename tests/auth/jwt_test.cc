// JWT verification against keys made at test time (jwt_test_util.h): every
// algorithm, every rejection rule, JWKS parsing and refreshing.
#include "auth/jwt.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "gtest/gtest.h"
#include "jwt_test_util.h"

namespace privacity::auth {
namespace {

using nlohmann::json;
using testing::Jwks;
using testing::KeyKind;
using testing::TestKey;

constexpr char kIssuer[] = "https://id.example-city.eu/realms/city";
constexpr char kAudience[] = "privacity";
// A claim value standing for personal data: no message may contain it.
constexpr char kPersonal[] = "jane.doe@example.org";

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01

// Keys are slow to make (RSA); one set for the whole file.
class Keys {
 public:
  static Keys& Get() {
    static Keys* keys = new Keys();
    return *keys;
  }
  TestKey rsa{KeyKind::kRsa, "rsa-1"};
  TestKey ec{KeyKind::kP256, "ec-1"};
  TestKey ed{KeyKind::kEd25519, "ed-1"};
  TestKey other_rsa{KeyKind::kRsa, "rsa-1"};  // same kid, different key
};

json Claims(int64_t exp_offset = 300) {
  return {{"iss", kIssuer},
          {"aud", kAudience},
          {"sub", kPersonal},
          {"email", kPersonal},
          {"iat", absl::ToUnixSeconds(kNow) - 10},
          {"exp", absl::ToUnixSeconds(kNow) + exp_offset}};
}

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Keys& k = Keys::Get();
    auto set = JsonWebKeySet::Parse(Jwks({k.rsa.Jwk(), k.ec.Jwk(), k.ed.Jwk()}));
    ASSERT_TRUE(set.ok()) << set.status();
    verifier_ = Build(*set);
  }

  std::unique_ptr<JwtVerifier> Build(std::shared_ptr<const JsonWebKeySet> set) {
    auto v = JwtVerifier::Builder()
                 .SetIssuer(kIssuer)
                 .SetAudience(kAudience)
                 .SetKeySource(std::make_shared<StaticKeySource>(std::move(set)))
                 .SetClock(clock_)
                 .SetLeeway(absl::Seconds(60))
                 .Build();
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *std::move(v) : nullptr;
  }

  // Expects Unauthenticated whose message has `fragment` and never the
  // token or the personal claim value.
  void ExpectRefused(const std::string& token, const std::string& fragment) {
    absl::StatusOr<VerifiedJwt> v = verifier_->Verify(token);
    ASSERT_FALSE(v.ok()) << "accepted: " << fragment;
    EXPECT_TRUE(absl::IsUnauthenticated(v.status())) << v.status();
    const std::string message(v.status().message());
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
    EXPECT_EQ(message.find(kPersonal), std::string::npos) << message;
    if (token.size() > 10) {
      EXPECT_EQ(message.find(token.substr(0, 10)), std::string::npos) << message;
    }
  }

  ManualClock clock_{kNow};
  std::unique_ptr<JwtVerifier> verifier_;
};

TEST(Base64UrlStrictTest, Rfc4648VectorsAndRejections) {
  EXPECT_EQ(*Base64UrlDecodeStrict(""), "");
  EXPECT_EQ(*Base64UrlDecodeStrict("Zg"), "f");
  EXPECT_EQ(*Base64UrlDecodeStrict("Zm8"), "fo");
  EXPECT_EQ(*Base64UrlDecodeStrict("Zm9v"), "foo");
  EXPECT_EQ(*Base64UrlDecodeStrict("Zm9vYmFy"), "foobar");
  EXPECT_EQ(*Base64UrlDecodeStrict("-_8"), "\xfb\xff");
  for (const char* bad : {"Zg==", "Zm9v YmFy", "+/8", "Z", "Zh", "Zm9=", "Zm\n9v"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(Base64UrlDecodeStrict(bad).status())) << bad;
  }
}

TEST(LooksLikeJwtTest, TellsJwtsFromOpaqueTokens) {
  EXPECT_TRUE(LooksLikeJwt("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"));
  EXPECT_FALSE(LooksLikeJwt("pvt_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"));
  EXPECT_FALSE(LooksLikeJwt("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0"));
  EXPECT_FALSE(LooksLikeJwt("eyJhbGciOiJSUzI1NiJ9..c2ln"));
  EXPECT_FALSE(LooksLikeJwt("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0."));
  EXPECT_FALSE(LooksLikeJwt("eyJ.a.b.c"));
  EXPECT_FALSE(LooksLikeJwt("eyJ a.b.c"));
}

TEST_F(JwtTest, AcceptsEachAlgorithm) {
  Keys& k = Keys::Get();
  for (const TestKey* key : {&k.rsa, &k.ec, &k.ed}) {
    absl::StatusOr<VerifiedJwt> v = verifier_->Verify(key->Token(Claims()));
    ASSERT_TRUE(v.ok()) << key->alg() << ": " << v.status();
    EXPECT_EQ(ToString(v->algorithm), key->alg());
    EXPECT_EQ(v->kid, key->kid());
    ASSERT_NE(v->Claim("email"), nullptr);
    EXPECT_EQ(*v->Claim("email"), kPersonal);
  }
}

TEST_F(JwtTest, ClaimReadsDottedPaths) {
  json claims = Claims();
  claims["realm_access"] = {{"roles", {"a", "b"}}};
  claims["urn:x.party"] = "literal";
  auto v = verifier_->Verify(Keys::Get().ed.Token(claims));
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_NE(v->Claim("realm_access.roles"), nullptr);
  EXPECT_EQ(v->Claim("realm_access.roles")->size(), 2u);
  EXPECT_EQ(*v->Claim("urn:x.party"), "literal");
  EXPECT_EQ(v->Claim("realm_access.missing"), nullptr);
  EXPECT_EQ(v->Claim("email.x"), nullptr);
}

TEST_F(JwtTest, RefusesAlgNone) {
  const std::string unsigned_token = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") +
                                     "." + Base64UrlEncode(Claims().dump()) + ".";
  ExpectRefused(unsigned_token, "alg 'none'");
  const std::string with_sig = Base64UrlEncode(R"({"alg":"none"})") + "." +
                               Base64UrlEncode(Claims().dump()) + ".c2ln";
  ExpectRefused(with_sig, "alg 'none'");
  ExpectRefused(Base64UrlEncode(R"({"alg":"NONE"})") + "." +
                    Base64UrlEncode(Claims().dump()) + ".c2ln",
                "alg 'none'");
}

TEST_F(JwtTest, RefusesAnEmptySignature) {
  const std::string good = Keys::Get().ed.Token(Claims());
  ExpectRefused(good.substr(0, good.rfind('.') + 1), "signature is empty");
}

TEST_F(JwtTest, RefusesUnsupportedAlgorithmsIncludingHmacConfusion) {
  // HS256 "signed" with the public key's modulus as the secret: the classic
  // confusion attack. HMAC is never accepted.
  ExpectRefused(Keys::Get().rsa.Token(Claims(), {{"alg", "HS256"}}),
                "not an accepted algorithm");
  ExpectRefused(Keys::Get().rsa.Token(Claims(), {{"alg", "RS512"}}),
                "not an accepted algorithm");
  ExpectRefused(Keys::Get().rsa.Token(Claims(), {{"alg", 7}}), "names no 'alg'");
}

TEST_F(JwtTest, RefusesAlgorithmKeyTypeMismatch) {
  Keys& k = Keys::Get();
  // The RSA key's kid, but the token claims ES256 (and is signed by EC).
  ExpectRefused(k.ec.Token(Claims(), {{"kid", k.rsa.kid()}}), "fits its 'alg'");
  // An RS256 header over an Ed25519 signature with the Ed25519 kid.
  ExpectRefused(k.ed.Token(Claims(), {{"alg", "RS256"}}), "fits its 'alg'");
}

TEST_F(JwtTest, RefusesDisallowedAlgorithm) {
  Keys& k = Keys::Get();
  auto v = JwtVerifier::Builder()
               .SetIssuer(kIssuer)
               .SetAudience(kAudience)
               .SetKeySource(std::make_shared<StaticKeySource>(
                   *JsonWebKeySet::Parse(Jwks({k.rsa.Jwk(), k.ed.Jwk()}))))
               .SetClock(clock_)
               .SetAlgorithms({JwsAlgorithm::kEdDsa})
               .Build();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE((*v)->Verify(k.ed.Token(Claims())).ok());
  EXPECT_TRUE(absl::IsUnauthenticated((*v)->Verify(k.rsa.Token(Claims())).status()));
}

TEST_F(JwtTest, RefusesUnknownKidAndAnotherKeyWithTheSameKid) {
  Keys& k = Keys::Get();
  ExpectRefused(k.rsa.Token(Claims(), {{"kid", "rotated-away"}}), "'kid'");
  // Signed by a key the set does not hold, under a kid it does.
  ExpectRefused(k.other_rsa.Token(Claims()), "signature does not verify");
  ExpectRefused(k.rsa.Token(Claims(), {{"kid", 12}}), "'kid' is not a string");
}

TEST_F(JwtTest, NoKidNeedsASingleCandidateKey) {
  Keys& k = Keys::Get();
  // One Ed25519 key in the set: a token without kid finds it.
  EXPECT_TRUE(verifier_->Verify(k.ed.Token(Claims(), {{"kid", nullptr}})).ok());
  // Two RSA keys: ambiguous.
  verifier_ = Build(
      *JsonWebKeySet::Parse(Jwks({k.rsa.Jwk(), json{{"kty", "RSA"},
                                                    {"kid", "rsa-2"},
                                                    {"n", k.other_rsa.Jwk()["n"]},
                                                    {"e", k.other_rsa.Jwk()["e"]}}})));
  ExpectRefused(k.rsa.Token(Claims(), {{"kid", nullptr}}), "no single key");
}

TEST_F(JwtTest, RefusesBadBase64Url) {
  const std::string good = Keys::Get().ed.Token(Claims());
  const size_t dot1 = good.find('.'), dot2 = good.rfind('.');
  // Padding, the standard alphabet, whitespace, non-canonical trailing bits.
  ExpectRefused(good.substr(0, dot1) + "=" + good.substr(dot1), "header is not valid");
  std::string plus = good;
  plus[dot1 + 3] = '+';
  ExpectRefused(plus, "claims are not valid base64url");
  ExpectRefused(good + "=", "signature is not valid base64url");
  ExpectRefused(good.substr(0, dot2 + 5) + " " + good.substr(dot2 + 5),
                "signature is not valid base64url");
  // An Ed25519 signature is 64 bytes: 86 characters, the last carrying 4
  // unused bits. Setting one of them gives a non-canonical encoding.
  std::string stray = good;
  char& last = stray.back();
  last = last == 'A' ? 'B' : (last == 'Q' ? 'R' : 'B');
  ExpectRefused(stray, "signature is not valid base64url");
}

TEST_F(JwtTest, RefusesMalformedStructure) {
  const std::string good = Keys::Get().ed.Token(Claims());
  ExpectRefused("", "three parts");
  ExpectRefused(good.substr(0, good.rfind('.')), "three parts");
  ExpectRefused(good + ".x", "three parts");
  ExpectRefused(Base64UrlEncode("[1]") + good.substr(good.find('.')),
                "header is not a JSON object");
  ExpectRefused(Base64UrlEncode("{\"alg\":") + good.substr(good.find('.')),
                "header is not a JSON object");
  // Hostile nesting is refused before parsing.
  ExpectRefused(Base64UrlEncode(std::string(100, '[') + std::string(100, ']')) +
                    good.substr(good.find('.')),
                "header is not a JSON object");
  ExpectRefused(Keys::Get().ed.Token(Claims(), {{"crit", {"exp"}}}), "'crit'");
}

TEST_F(JwtTest, RefusesClaimsThatAreNotAnObject) {
  // Signed properly, but the payload is an array.
  TestKey& ed = Keys::Get().ed;
  const std::string input = Base64UrlEncode(R"({"alg":"EdDSA","kid":"ed-1"})") + "." +
                            Base64UrlEncode(R"(["x"])");
  ExpectRefused(input + "." + Base64UrlEncode(ed.Sign(input)),
                "claims are not a JSON object");
}

TEST_F(JwtTest, RefusesOversizedTokens) {
  json claims = Claims();
  claims["pad"] = std::string(9000, 'x');
  ExpectRefused(Keys::Get().ed.Token(claims), "longer than 8192 bytes");
}

TEST_F(JwtTest, RefusesTamperedTokens) {
  Keys& k = Keys::Get();
  for (const TestKey* key : {&k.rsa, &k.ec, &k.ed}) {
    const std::string good = key->Token(Claims());
    json other = Claims();
    other["sub"] = "someone-else";
    const std::string forged_claims = key->Token(other);
    // Swap in another payload under the first signature.
    const std::string spliced =
        good.substr(0, good.find('.')) +
        forged_claims.substr(forged_claims.find('.'),
                             forged_claims.rfind('.') - forged_claims.find('.')) +
        good.substr(good.rfind('.'));
    ExpectRefused(spliced, "signature does not verify");
    // Flip a signature byte.
    std::string sig = *Base64UrlDecodeStrict(good.substr(good.rfind('.') + 1));
    sig[5] ^= 1;
    ExpectRefused(good.substr(0, good.rfind('.') + 1) + Base64UrlEncode(sig),
                  "signature does not verify");
  }
  // ES256 needs r || s, not DER.
  const std::string ec = k.ec.Token(Claims());
  ExpectRefused(ec.substr(0, ec.rfind('.') + 1) + Base64UrlEncode(std::string(70, 'x')),
                "64 bytes");
}

TEST_F(JwtTest, ChecksExpiryNotBeforeAndIssuedAtWithLeeway) {
  TestKey& ed = Keys::Get().ed;
  json no_exp = Claims();
  no_exp.erase("exp");
  ExpectRefused(ed.Token(no_exp), "no 'exp'");
  // Expired 30 s ago: within the 60 s leeway. 61 s ago: refused.
  EXPECT_TRUE(verifier_->Verify(ed.Token(Claims(-30))).ok());
  ExpectRefused(ed.Token(Claims(-61)), "expired");
  // A valid token expires as the clock moves.
  const std::string token = ed.Token(Claims(100));
  EXPECT_TRUE(verifier_->Verify(token).ok());
  clock_.Advance(absl::Seconds(159));
  EXPECT_TRUE(verifier_->Verify(token).ok());
  clock_.Advance(absl::Seconds(1));
  ExpectRefused(token, "expired");
  clock_.Set(kNow);

  json nbf = Claims();
  nbf["nbf"] = absl::ToUnixSeconds(kNow) + 120;
  ExpectRefused(ed.Token(nbf), "not valid yet");
  nbf["nbf"] = absl::ToUnixSeconds(kNow) + 30;
  EXPECT_TRUE(verifier_->Verify(ed.Token(nbf)).ok());
  json iat = Claims();
  iat["iat"] = absl::ToUnixSeconds(kNow) + 3600;
  ExpectRefused(ed.Token(iat), "issued in the future");
  json text_exp = Claims();
  text_exp["exp"] = "tomorrow";
  ExpectRefused(ed.Token(text_exp), "'exp' claim is not a number");
  text_exp["exp"] = 1e300;
  ExpectRefused(ed.Token(text_exp), "out of range");
}

TEST_F(JwtTest, ChecksIssuerAndAudience) {
  TestKey& rsa = Keys::Get().rsa;
  json c = Claims();
  c["iss"] = "https://evil.example/realms/city";
  ExpectRefused(rsa.Token(c), "issuer");
  c.erase("iss");
  ExpectRefused(rsa.Token(c), "issuer");
  c = Claims();
  c["aud"] = "another-service";
  ExpectRefused(rsa.Token(c), "audience");
  c["aud"] = {"account", "another-service"};
  ExpectRefused(rsa.Token(c), "audience");
  c["aud"] = {"account", kAudience};
  EXPECT_TRUE(verifier_->Verify(rsa.Token(c)).ok());
  c.erase("aud");
  ExpectRefused(rsa.Token(c), "audience");
}

TEST(JsonWebKeySetTest, SkipsKeysItCannotUseAndRefusesMalformedOnes) {
  Keys& k = Keys::Get();
  json enc = k.rsa.Jwk();
  enc["use"] = "enc";
  enc["kid"] = "enc-1";
  json oct = {{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}};
  json x25519 = {{"kty", "OKP"}, {"crv", "X25519"}, {"x", k.ed.Jwk()["x"]}};
  json ps256 = k.rsa.Jwk();
  ps256["alg"] = "PS256";
  json verify_only = k.ec.Jwk();
  verify_only["key_ops"] = {"verify"};
  auto set = JsonWebKeySet::Parse(Jwks({enc, oct, x25519, ps256, verify_only}));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ((*set)->size(), 1u);
  EXPECT_NE((*set)->Find("ec-1", JwsAlgorithm::kEs256), nullptr);
  EXPECT_EQ((*set)->Find("hmac", JwsAlgorithm::kRs256), nullptr);

  const auto refused = [](const std::string& doc, const std::string& fragment) {
    auto s = JsonWebKeySet::Parse(doc);
    ASSERT_FALSE(s.ok()) << fragment;
    EXPECT_TRUE(absl::IsInvalidArgument(s.status()));
    EXPECT_NE(std::string(s.status().message()).find(fragment), std::string::npos)
        << s.status();
  };
  refused("not json", "not a JSON object");
  refused("{}", "'keys'");
  refused(Jwks({}), "no usable signing key");
  refused(Jwks({oct}), "no usable signing key");
  json short_rsa = k.rsa.Jwk();
  short_rsa["n"] = Base64UrlEncode(std::string(128, '\xc5'));  // 1024 bits
  refused(Jwks({short_rsa}), "key #1: the RSA modulus is shorter than 2048 bits");
  json bad_b64 = k.rsa.Jwk();
  bad_b64["n"] = "a+b=";
  refused(Jwks({k.ed.Jwk(), bad_b64}), "key #2: member 'n' is not valid base64url");
  json off_curve = k.ec.Jwk();
  std::string y = *Base64UrlDecodeStrict(off_curve["y"].get<std::string>());
  y[31] ^= 1;
  off_curve["y"] = Base64UrlEncode(y);
  refused(Jwks({off_curve}), "key #1:");
  json short_ed = k.ed.Jwk();
  short_ed["x"] = Base64UrlEncode(std::string(31, 'a'));
  refused(Jwks({short_ed}), "32 bytes");
  json wrong_alg = k.ec.Jwk();
  wrong_alg["alg"] = "RS256";
  refused(Jwks({wrong_alg}), "does not fit kty EC");
  refused(Jwks({k.rsa.Jwk(), k.other_rsa.Jwk()}), "same 'kid'");
  refused(Jwks({json{{"kid", "x"}}}), "'kty'");
  refused(std::string(kMaxJwksBytes + 1, ' '), "larger than 1 MiB");
}

TEST(JwtBuilderTest, ValidatesBeforeAVerifierExists) {
  ManualClock clock(kNow);
  auto keys = std::make_shared<StaticKeySource>(
      *JsonWebKeySet::Parse(Jwks({Keys::Get().ed.Jwk()})));
  const auto build = [&](auto&& edit) {
    JwtVerifier::Builder b;
    b.SetIssuer(kIssuer).SetAudience(kAudience).SetKeySource(keys).SetClock(clock);
    edit(b);
    return b.Build().status();
  };
  EXPECT_TRUE(build([](JwtVerifier::Builder&) {}).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(build([](auto& b) { b.SetIssuer(" "); })));
  EXPECT_TRUE(absl::IsInvalidArgument(build([](auto& b) { b.SetAudience(""); })));
  EXPECT_TRUE(absl::IsInvalidArgument(build([](auto& b) { b.SetKeySource(nullptr); })));
  EXPECT_TRUE(
      absl::IsInvalidArgument(build([](auto& b) { b.SetLeeway(absl::Minutes(6)); })));
  EXPECT_TRUE(
      absl::IsInvalidArgument(build([](auto& b) { b.SetLeeway(-absl::Seconds(1)); })));
  EXPECT_TRUE(absl::IsInvalidArgument(build([](auto& b) { b.SetMaxTokenBytes(10); })));
  EXPECT_TRUE(absl::IsInvalidArgument(build([](auto& b) { b.SetAlgorithms({}); })));
  JwtVerifier::Builder no_clock;
  no_clock.SetIssuer(kIssuer).SetAudience(kAudience).SetKeySource(keys);
  EXPECT_TRUE(absl::IsInvalidArgument(no_clock.Build().status()));
}

class RefreshingKeySourceTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<RefreshingKeySource>> Make() {
    return RefreshingKeySource::Create(
        [this]() -> absl::StatusOr<std::string> {
          ++calls_;
          if (!serve_.ok()) return serve_.status();
          return *serve_;
        },
        clock_, RefreshOptions{absl::Hours(1), absl::Seconds(30)});
  }
  ManualClock clock_{kNow};
  absl::StatusOr<std::string> serve_ = Jwks({Keys::Get().rsa.Jwk()});
  int calls_ = 0;
};

TEST_F(RefreshingKeySourceTest, FirstFetchMustSucceed) {
  serve_ = absl::UnavailableError("connection refused");
  EXPECT_TRUE(absl::IsUnavailable(Make().status()));
  serve_ = std::string("{\"keys\":[]}");
  EXPECT_TRUE(absl::IsInvalidArgument(Make().status()));
}

TEST_F(RefreshingKeySourceTest, RefreshesOnUnknownKidAtMostOncePerInterval) {
  auto source = Make();
  ASSERT_TRUE(source.ok()) << source.status();
  std::shared_ptr<RefreshingKeySource> keys = *std::move(source);
  auto verifier = JwtVerifier::Builder()
                      .SetIssuer(kIssuer)
                      .SetAudience(kAudience)
                      .SetKeySource(keys)
                      .SetClock(clock_)
                      .Build();
  ASSERT_TRUE(verifier.ok());
  Keys& k = Keys::Get();
  EXPECT_TRUE((*verifier)->Verify(k.rsa.Token(Claims())).ok());
  EXPECT_EQ(calls_, 1);

  // The provider rotates to the Ed25519 key. Within 30 s of the last fetch
  // an unknown kid cannot make the source fetch.
  serve_ = Jwks({k.rsa.Jwk(), k.ed.Jwk()});
  EXPECT_TRUE(
      absl::IsUnauthenticated((*verifier)->Verify(k.ed.Token(Claims())).status()));
  EXPECT_EQ(calls_, 1);
  clock_.Advance(absl::Seconds(30));
  EXPECT_TRUE((*verifier)->Verify(k.ed.Token(Claims())).ok());
  EXPECT_EQ(calls_, 2);
  EXPECT_EQ(keys->fetches(), 2);

  // A flood of made-up kids: one fetch per interval at most.
  clock_.Advance(absl::Seconds(30));
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(
        (*verifier)->Verify(k.ed.Token(Claims(), {{"kid", absl::StrCat("x", i)}})).ok());
  }
  EXPECT_EQ(calls_, 3);
}

TEST_F(RefreshingKeySourceTest, RefreshesWhenOldAndKeepsKeysWhenAFetchFails) {
  auto source = Make();
  ASSERT_TRUE(source.ok());
  EXPECT_NE((*source)->Keys()->Find("rsa-1", JwsAlgorithm::kRs256), nullptr);
  clock_.Advance(absl::Minutes(59));
  (*source)->Keys();
  EXPECT_EQ(calls_, 1);
  clock_.Advance(absl::Minutes(1));
  serve_ = absl::UnavailableError("down");
  // The fetch fails: the old keys stay.
  EXPECT_NE((*source)->Keys()->Find("rsa-1", JwsAlgorithm::kRs256), nullptr);
  EXPECT_EQ(calls_, 2);
  // An invalid document is refused the same way.
  clock_.Advance(absl::Seconds(30));
  serve_ = std::string("{\"keys\":\"nope\"}");
  EXPECT_NE((*source)->Keys()->Find("rsa-1", JwsAlgorithm::kRs256), nullptr);
  EXPECT_EQ(calls_, 3);
  // Back up with a new key set.
  clock_.Advance(absl::Seconds(30));
  serve_ = Jwks({Keys::Get().ec.Jwk()});
  EXPECT_NE((*source)->Keys()->Find("ec-1", JwsAlgorithm::kEs256), nullptr);
  EXPECT_EQ((*source)->fetches(), 2);
}

}  // namespace
}  // namespace privacity::auth
