// Ingest dedupe keys, on every backend: claimed in the records' transaction,
// found again, claimed once across instances (nodes), forgotten after their
// window.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_util.h"

namespace privacity::store {
namespace {

using testing::StoreBackend;
using testing::TempDir;

class IngestKeysConformanceTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (std::string reason = GetParam().skip(); !reason.empty()) GTEST_SKIP() << reason;
    ASSERT_TRUE(dir_.ok()) << "mkdtemp failed";
    auto store = GetParam().open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    GetParam().drop(dir_.path());
  }

  static StoredRecord Record(int64_t id) {
    StoredRecord r;
    r.id = id;
    r.stream = "s";
    r.time_us = id;
    r.payload = "{}";
    return r;
  }
  static IngestKey Key(char c, int64_t time_us = 100) {
    return IngestKey{"s", std::string(32, c), time_us};
  }

  TempDir dir_;
  StorePtr store_;
};

TEST_P(IngestKeysConformanceTest, ClaimedWithRecordsOrNotAtAll) {
  ASSERT_TRUE(store_->ReserveRecordIds(10).ok());
  ASSERT_TRUE(
      store_->AppendRecordsOnce({Record(1), Record(2)}, {Key('a'), Key('b')}).ok());
  auto found = store_->FindIngestKeys(
      {Key('a'), Key('c'), Key('b'), IngestKey{"t", std::string(32, 'a'), 0}});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, (std::vector<bool>{true, false, true, false}));

  // A key claimed before: nothing of the call is written.
  const absl::Status again = store_->AppendRecordsOnce({Record(3)}, {Key('c'), Key('a')});
  EXPECT_TRUE(absl::IsAlreadyExists(again)) << again;
  EXPECT_EQ(*store_->CountRecords("s"), 2);
  EXPECT_EQ(*store_->FindIngestKeys({Key('c')}), std::vector<bool>{false});

  // The same key twice in one call is a claim made before, too.
  EXPECT_TRUE(absl::IsAlreadyExists(store_->AppendRecordsOnce({}, {Key('d'), Key('d')})));
  EXPECT_EQ(*store_->FindIngestKeys({Key('d')}), std::vector<bool>{false});

  // Keys without records (messages whose records were all rejected).
  ASSERT_TRUE(store_->AppendRecordsOnce({}, {Key('c')}).ok());
  EXPECT_EQ(*store_->FindIngestKeys({Key('c')}), std::vector<bool>{true});

  // A malformed key is refused before anything is written.
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_->AppendRecordsOnce({Record(4)}, {IngestKey{"s", "short", 0}})));
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_->AppendRecordsOnce({Record(4)}, {IngestKey{"", std::string(32, 'e'), 0}})));
  EXPECT_EQ(*store_->CountRecords("s"), 2);
}

TEST_P(IngestKeysConformanceTest, ForgottenAfterTheirWindow) {
  ASSERT_TRUE(store_->AppendRecordsOnce({}, {Key('a', 100), Key('b', 200)}).ok());
  auto deleted = store_->DeleteIngestKeysBefore(150);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(*store_->FindIngestKeys({Key('a'), Key('b')}),
            (std::vector<bool>{false, true}));
  // Forgotten keys can be claimed again.
  EXPECT_TRUE(store_->AppendRecordsOnce({}, {Key('a', 300)}).ok());
}

// Two instances (as two nodes) race to claim the same keys with their
// records: exactly one claim of each key wins, and only its records stay.
TEST_P(IngestKeysConformanceTest, EachKeyIsClaimedOnceAcrossInstances) {
  auto other = GetParam().open(dir_.path());
  ASSERT_TRUE(other.ok()) << other.status();
  constexpr int kKeys = 20;
  std::atomic<int> wins{0};
  std::atomic<int> failures{0};
  auto claim_all = [&](Store& store) {
    auto first = store.ReserveRecordIds(kKeys);
    if (!first.ok()) {
      ++failures;
      return;
    }
    for (int i = 0; i < kKeys; ++i) {
      const absl::Status s = store.AppendRecordsOnce({Record(*first + i)},
                                                     {Key(static_cast<char>('A' + i))});
      if (s.ok()) {
        ++wins;
      } else if (!absl::IsAlreadyExists(s)) {
        ++failures;
      }
    }
  };
  std::thread a([&] { claim_all(*store_); });
  std::thread b([&] { claim_all(**other); });
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(wins.load(), kKeys);
  EXPECT_EQ(*store_->CountRecords("s"), kKeys);
}

INSTANTIATE_TEST_SUITE_P(Backends, IngestKeysConformanceTest,
                         ::testing::Values(testing::SqliteBackend(),
                                           testing::PostgresqlBackend()),
                         [](const ::testing::TestParamInfo<StoreBackend>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace privacity::store
