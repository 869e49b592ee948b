#include "common/random.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <set>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace privacity {
namespace {

TEST(CryptoRandom, ProducesDistinctOutputs) {
  CryptoRandom random;
  EXPECT_NE(random.Bytes(32), random.Bytes(32));
  EXPECT_EQ(random.Bytes(0).size(), 0u);
}

// Small draws come from a per-thread block: no byte may be served twice,
// across block refills and across threads.
TEST(CryptoRandom, SmallDrawsNeverRepeat) {
  CryptoRandom random;
  std::set<std::string> seen;
  std::string all;
  for (int i = 0; i < 2000; ++i) {
    const std::string nonce = random.Bytes(12);
    ASSERT_TRUE(seen.insert(nonce).second) << "a 12-byte draw repeated at " << i;
    all += nonce;
  }
  // Draws of every small size, straddling the block's end.
  for (size_t n = 1; n <= CryptoRandom::kMaxBlockRequest; ++n) {
    for (int i = 0; i < 100; ++i) all += random.Bytes(n);
  }
  std::string other;
  std::thread([&] { other = random.Bytes(12); }).join();
  EXPECT_EQ(all.find(other), std::string::npos);
  // Roughly uniform bytes: each value appears near 1/256 of the time.
  std::array<int, 256> counts{};
  for (unsigned char c : all) ++counts[c];
  const double expected = static_cast<double>(all.size()) / 256;
  for (int v = 0; v < 256; ++v) {
    EXPECT_GT(counts[v], expected * 0.5) << v;
    EXPECT_LT(counts[v], expected * 1.5) << v;
  }
}

// A forked child must not serve the bytes left in its parent's block (both
// would seal with the same nonces).
TEST(CryptoRandom, ForkedChildDrawsDifferentBytes) {
  CryptoRandom random;
  (void)random.Bytes(12);  // the parent's block now holds unserved bytes
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string drawn = random.Bytes(12);
    const ssize_t written = write(fds[1], drawn.data(), drawn.size());
    _exit(written == static_cast<ssize_t>(drawn.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string from_child(12, '\0');
  ASSERT_EQ(read(fds[0], from_child.data(), from_child.size()), 12);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(from_child, random.Bytes(12));
}

TEST(InsecureDeterministicRandom, IsReproducibleForASeed) {
  InsecureDeterministicRandomForTesting a(7), b(7), c(8);
  const std::string x = a.Bytes(19);
  EXPECT_EQ(x, b.Bytes(19));
  EXPECT_NE(x, c.Bytes(19));
}

}  // namespace
}  // namespace privacity
