#include "common/random.h"

#include "gtest/gtest.h"

namespace privacity {
namespace {

TEST(CryptoRandom, ProducesDistinctOutputs) {
  CryptoRandom random;
  EXPECT_NE(random.Bytes(32), random.Bytes(32));
  EXPECT_EQ(random.Bytes(0).size(), 0u);
}

TEST(InsecureDeterministicRandom, IsReproducibleForASeed) {
  InsecureDeterministicRandomForTesting a(7), b(7), c(8);
  const std::string x = a.Bytes(19);
  EXPECT_EQ(x, b.Bytes(19));
  EXPECT_NE(x, c.Bytes(19));
}

}  // namespace
}  // namespace privacity
