// Three privacity nodes against one PostgreSQL, ingesting and answering
// DP queries at once; afterwards the log is one consistent tree, no budget
// is overspent and record counts are exact.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "postgres_trust_fixture.h"

namespace privacity::testing {
namespace {

// Three nodes ingest and answer DP queries at once for
// PRIVACITY_MULTINODE_SECONDS (default 20; the run uses 60).
TEST_F(PostgresqlTrustTest, ThreeNodesIngestAndQueryConcurrently) {
  const char* env = std::getenv("PRIVACITY_MULTINODE_SECONDS");
  const int seconds = env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 20;
  ASSERT_TRUE(server::Trust::Initialize(PgConfig(), dir_, clock_, random_).ok());
  for (int i = 0; i < 3; ++i) AddNode(PgConfig());
  // Subjects for the DP queries, consenting.
  ASSERT_EQ(
      Ingest(*nodes_[0], "energy.meter_readings", "energy.meter_readings.csv").accepted,
      3360);
  Consent(*nodes_[0], "MAC000002");
  Consent(*nodes_[0], "MAC000003");

  constexpr double kEpsilon = 0.05;  // the agreement's cap is 1.0 per period
  std::atomic<int64_t> ingested{0};
  std::atomic<int> answered{0};
  std::atomic<int> refused{0};
  std::atomic<int> query_no{0};
  absl::Mutex mu;
  std::vector<uint64_t> leaves;
  std::vector<std::string> errors;
  const absl::Time deadline = absl::Now() + absl::Seconds(seconds);
  std::vector<std::thread> threads;
  for (auto& node : nodes_) {
    server::Trust* trust = node.get();
    // One thread ingests, one asks DP queries and signs checkpoints.
    threads.emplace_back([&, trust] {
      while (absl::Now() < deadline) {
        std::vector<uint64_t> mine;
        ingested +=
            Ingest(*trust, "footfall.counts", "footfall.counts.ndjson", &mine).accepted;
        absl::MutexLock lock(&mu);
        leaves.insert(leaves.end(), mine.begin(), mine.end());
      }
    });
    threads.emplace_back([&, trust] {
      CryptoRandom random;
      dp::ExactNoise noise(random);
      while (absl::Now() < deadline) {
        // Each query differs (window, epsilon), so none is a cached answer.
        const int q = query_no.fetch_add(1);
        auto r = server::RunAggregateWithNoise(
            *trust, MeanKwh(1 + q % 13, kEpsilon + q * 1e-9), noise);
        absl::StatusOr<std::string> cp = trust->audit().Checkpoint();
        absl::MutexLock lock(&mu);
        if (r.ok()) {
          ++answered;
        } else if (absl::IsResourceExhausted(r.status())) {
          ++refused;
        } else {
          errors.push_back(r.status().ToString());
        }
        if (!cp.ok()) errors.push_back(cp.status().ToString());
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const std::string& e : errors) ADD_FAILURE() << e;
  std::printf("%d s, 3 nodes: %lld records ingested, %d queries answered, %d refused\n",
              seconds, static_cast<long long>(ingested.load()), answered.load(),
              refused.load());

  store::Store& s = nodes_[1]->store();
  // Record counts are exact.
  EXPECT_EQ(s.CountRecords("footfall.counts").value_or(-1), ingested.load());
  EXPECT_EQ(s.CountRecords("energy.meter_readings").value_or(-1), 3360);
  EXPECT_GT(ingested.load(), 5376);
  // One log: every ingest leaf has its own index, none lost.
  std::set<uint64_t> unique(leaves.begin(), leaves.end());
  EXPECT_EQ(unique.size(), leaves.size());
  auto frontier = s.log().ReadFrontier();
  ASSERT_TRUE(frontier.ok());
  EXPECT_LT(*unique.rbegin(), frontier->size);
  ExpectLogVerifies(*nodes_[2]);
  // Checkpoints of all nodes are consistent with each other.
  auto latest = s.log().LatestCheckpoint();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  audit::StoreLogStorage storage(s.log());
  for (uint64_t size : {uint64_t{1}, frontier->size / 2, (*latest)->size}) {
    if (size == 0) continue;
    EXPECT_TRUE(audit::ConsistencyProof(storage, size, frontier->size).ok());
  }
  // No budget overspent: exactly the answered queries were charged.
  auto spent = s.SpentBudget("research-meter-aggregate",
                             dp::BudgetPeriod(clock_.Now(), absl::Hours(24 * 30)));
  ASSERT_TRUE(spent.ok()) << spent.status();
  EXPECT_LE(spent->epsilon, 1.0 * (1 + 1e-10));
  EXPECT_NEAR(spent->epsilon, answered.load() * kEpsilon, 1e-6);
  EXPECT_GE(answered.load(), 19);  // 1.0 / 0.05, less rounding
  EXPECT_GT(refused.load(), 0);
}

}  // namespace
}  // namespace privacity::testing
