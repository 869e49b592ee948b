#include "common/encoding.h"

#include "gtest/gtest.h"

namespace privacity {
namespace {

TEST(Hex, RoundTripAndErrors) {
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(*HexDecode("00FF10"), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

TEST(Base32, Rfc4648Vectors) {
  // RFC 4648 section 10, lowercased and unpadded.
  EXPECT_EQ(Base32Encode(""), "");
  EXPECT_EQ(Base32Encode("f"), "my");
  EXPECT_EQ(Base32Encode("fo"), "mzxq");
  EXPECT_EQ(Base32Encode("foobar"), "mzxw6ytboi");
}

TEST(Utf8, AcceptsValidRejectsInvalid) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(
      IsValidUtf8("Stra\xc3\x9f"
                  "e \xe2\x82\xac \xf0\x9f\x9a\xb2"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
}

}  // namespace
}  // namespace privacity
