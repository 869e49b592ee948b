#include "audit/canonical_json.h"

#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace privacity::audit {
namespace {

using nlohmann::json;

std::string Canon(const json& j) {
  auto s = CanonicalJson(j);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : "";
}

TEST(CanonicalJson, SortsKeysAndDropsWhitespace) {
  const json j = json::parse(
      R"({ "b": 1, "a": [ true, false, null ], "A": {"z": "", "y": -3}, "aa": 0 })");
  EXPECT_EQ(Canon(j), R"({"A":{"y":-3,"z":""},"a":[true,false,null],"aa":0,"b":1})");
  EXPECT_EQ(Canon(json::array()), "[]");
  EXPECT_EQ(Canon(json::object()), "{}");
  EXPECT_EQ(Canon(json(nullptr)), "null");
}

TEST(CanonicalJson, SortsKeysByUtf16CodeUnits) {
  // RFC 8785 section 3.2.3: U+1F600 (a surrogate pair, 0xD83D...) sorts
  // before U+FB33, unlike in UTF-8 byte order.
  json j = json::object();
  for (const char* key :
       {"\u20ac", "\r", "\ufb33", "1", "\U0001F600", "\u0080", "\u00f6"}) {
    j[key] = 0;
  }
  EXPECT_EQ(Canon(j),
            "{\"\\r\":0,\"1\":0,\"\u0080\":0,\"\u00f6\":0,\"\u20ac\":0,\"\U0001F600\":0,"
            "\"\ufb33\":0}");
}

TEST(CanonicalJson, EscapesOnlyWhatItMust) {
  const std::string s =
      std::string("\0\x01\x1f", 3) + "\b\t\n\f\r\"\\/\x7f" + "\u00e9\u2028";
  EXPECT_EQ(Canon(json(s)),
            "\"\\u0000\\u0001\\u001f\\b\\t\\n\\f\\r\\\"\\\\/\x7f\u00e9\u2028\"");
}

TEST(CanonicalJson, IntegersOnly) {
  EXPECT_EQ(Canon(json(0)), "0");
  EXPECT_EQ(Canon(json(-17)), "-17");
  EXPECT_EQ(Canon(json(kMaxCanonicalInteger)), "9007199254740991");
  EXPECT_EQ(Canon(json(-kMaxCanonicalInteger)), "-9007199254740991");
  EXPECT_EQ(Canon(json(uint64_t{9007199254740991})), "9007199254740991");
  EXPECT_FALSE(CanonicalJson(json(kMaxCanonicalInteger + 1)).ok());
  EXPECT_FALSE(CanonicalJson(json(-kMaxCanonicalInteger - 1)).ok());
  EXPECT_FALSE(CanonicalJson(json(uint64_t{1} << 63)).ok());
  EXPECT_FALSE(CanonicalJson(json(1.0)).ok());
  EXPECT_FALSE(CanonicalJson(json(0.5)).ok());
  const auto s = CanonicalJson(json::parse(R"({"a":{"b":[1,2.5]}})"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/a/b/1"), std::string::npos) << s.status();
  EXPECT_NE(s.status().message().find("floating"), std::string::npos) << s.status();
  EXPECT_EQ(s.status().message().find("2.5"), std::string::npos) << "no values in errors";
}

TEST(CanonicalJson, RejectsInvalidUtf8AndBinary) {
  EXPECT_FALSE(CanonicalJson(json(std::string("\xff"))).ok());
  EXPECT_FALSE(CanonicalJson(json(std::string("\xed\xa0\x80"))).ok());  // surrogate
  json bad_key = json::object();
  bad_key[std::string("\xc0\xaf")] = 1;
  EXPECT_FALSE(CanonicalJson(bad_key).ok());
  EXPECT_FALSE(CanonicalJson(json::binary({1, 2, 3})).ok());
}

TEST(CanonicalJson, BoundsNesting) {
  json deep = 0;
  for (int i = 0; i < kMaxCanonicalDepth; ++i) deep = json::array({deep});
  EXPECT_TRUE(CanonicalJson(deep).ok());
  deep = json::array({deep});
  EXPECT_FALSE(CanonicalJson(deep).ok());
  EXPECT_FALSE(ParseCanonicalJson(std::string(100000, '[')).ok());
}

TEST(ParseCanonicalJson, AcceptsOnlyCanonicalBytes) {
  EXPECT_TRUE(ParseCanonicalJson(R"({"a":1,"b":[true]})").ok());
  EXPECT_EQ(*ParseCanonicalJson(R"({"a":1})"), json::parse(R"({"a":1})"));
  for (const char* bad : {
           R"({"b":1,"a":2})",  // unsorted
           R"({"a": 1})",       // whitespace
           R"({"a":1,"a":1})",  // duplicate key
           R"({"a":1.0})",      // float
           R"({"a":1e2})",      // exponent
           R"(["\u00e9"])",     // needless escape
           R"(["\/"])",         // needless escape
           R"(-0)",             // negative zero
           R"({"a":1})"
           "\n",        // trailing newline
           R"({"a":)",  // not JSON
           "",          // empty
       }) {
    EXPECT_FALSE(ParseCanonicalJson(bad).ok()) << bad;
  }
  const auto s = ParseCanonicalJson(R"({"a":1, "b":2})");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("byte 7"), std::string::npos) << s.status();
}

TEST(ParseCanonicalJson, RoundTripsCanonicalOutput) {
  const json j = json::parse(
      R"({"zeta":[1,-2,{"q":"\u0007x"}],"alpha":"\ud83d\ude00 \u00fc","n":null})");
  const std::string bytes = Canon(j);
  auto back = ParseCanonicalJson(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, j);
}

}  // namespace
}  // namespace privacity::audit
