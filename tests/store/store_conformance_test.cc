// The conformance suite every Store backend must pass. It is parameterised
// over a factory (StoreBackend) so that another backend (PostgreSQL) joins
// by adding one INSTANTIATE_TEST_SUITE_P line.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/random.h"
#include "crypto/key_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_util.h"

namespace privacity::store {
namespace {

using crypto::KeyKind;
using crypto::KeyName;
using crypto::WrappedKey;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ReadWholeFile;
using testing::StoreBackend;
using testing::TempDir;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

class StoreConformanceTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (std::string reason = GetParam().skip(); !reason.empty()) GTEST_SKIP() << reason;
    ASSERT_TRUE(dir_.ok()) << "mkdtemp failed";
    absl::StatusOr<StorePtr> store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  void TearDown() override {
    store_.reset();
    GetParam().drop(dir_.path());
  }

  // Another instance on the same store, as a second process would open it.
  absl::StatusOr<StorePtr> Open() { return GetParam().open(dir_.path()); }

  StoredRecord Record(int64_t id, std::string stream, int64_t time_us, uint64_t cell = 0,
                      std::string blind_index = "", int64_t epoch = 0) {
    StoredRecord r;
    r.id = id;
    r.stream = std::move(stream);
    r.time_us = time_us;
    r.cell = cell;
    r.epoch = epoch;
    r.blind_index = std::move(blind_index);
    r.key_id = r.blind_index.empty() ? 0 : DataKeyId(r.stream, r.epoch, r.blind_index);
    r.payload = "payload-" + std::to_string(id);
    r.batch = 3;
    return r;
  }

  // The id of the subject data key a record of `subject` would be sealed
  // under, created when missing: stores may find a subject's records
  // through its data keys.
  int64_t DataKeyId(const std::string& stream, int64_t epoch,
                    const std::string& subject) {
    WrappedKey key;
    key.name = KeyName{.kind = KeyKind::kSubjectDek,
                       .scope = stream,
                       .epoch = epoch,
                       .subject = subject};
    key.wrapped = "wrapped";
    key.created = absl::UnixEpoch();
    absl::StatusOr<WrappedKey> stored = store_->keys().InsertKeyIfAbsent(key);
    if (!stored.ok()) {
      ADD_FAILURE() << "data key: " << stored.status();
      return 0;
    }
    return stored->id;
  }

  // Reserves ids 1..n.
  void Reserve(int64_t n) {
    absl::StatusOr<int64_t> first = store_->ReserveRecordIds(n);
    ASSERT_TRUE(first.ok()) << first.status();
  }

  std::vector<int64_t> ScanIds(const RecordQuery& q) {
    std::vector<int64_t> ids;
    absl::Status s = store_->ScanRecords(q, [&](const StoredRecord& r) {
      ids.push_back(r.id);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return ids;
  }

  static RecordQuery Query(std::string stream) {
    RecordQuery q;
    q.stream = std::move(stream);
    return q;
  }

  TempDir dir_;
  StorePtr store_;
};

// --- Records ---------------------------------------------------------------

TEST_P(StoreConformanceTest, AppendedRecordsRoundTrip) {
  Reserve(2);
  StoredRecord a = Record(1, "s", 100, 0xb000000000000001ULL, std::string(32, '\x01'), 5);
  a.payload = std::string("\0sealed\xff", 8);  // binary, with a NUL
  StoredRecord b = Record(2, "s", 200);
  b.payload.clear();  // an empty payload is still a payload
  ASSERT_TRUE(store_->AppendRecords({a, b}).ok());

  std::vector<StoredRecord> got;
  ASSERT_TRUE(store_
                  ->ScanRecords(Query("s"),
                                [&](const StoredRecord& r) {
                                  got.push_back(r);
                                  return absl::OkStatus();
                                })
                  .ok());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, 1);
  EXPECT_EQ(got[0].stream, "s");
  EXPECT_EQ(got[0].time_us, 100);
  EXPECT_EQ(got[0].cell, 0xb000000000000001ULL);
  EXPECT_EQ(got[0].epoch, 5);
  EXPECT_EQ(got[0].blind_index, std::string(32, '\x01'));
  EXPECT_EQ(got[0].key_id, a.key_id);
  EXPECT_NE(a.key_id, 0);
  EXPECT_EQ(got[0].payload, a.payload);
  EXPECT_EQ(got[0].batch, 3);
  EXPECT_EQ(got[1].blind_index, "");
  EXPECT_EQ(got[1].payload, "");
  EXPECT_EQ(store_->CountRecords("s").value_or(-1), 2);
  EXPECT_EQ(store_->CountRecords("other").value_or(-1), 0);
}

TEST_P(StoreConformanceTest, ScanHonoursEveryFilterAndReturnsIdOrder) {
  Reserve(12);
  const uint64_t kHigh = 0xf000000000000000ULL;  // top bit set (face 5)
  // Appended out of id order and out of time order.
  std::vector<StoredRecord> batch = {
      Record(5, "a", 500, 10), Record(1, "a", 100, 20),        Record(3, "a", 300, kHigh),
      Record(2, "a", 200, 30), Record(4, "a", 400, kHigh + 5), Record(6, "b", 100, 10),
      Record(9, "a", 50, 40),  Record(8, "a", 1000, 20),       Record(7, "b", 300, 10),
  };
  ASSERT_TRUE(store_->AppendRecords(batch).ok());

  EXPECT_THAT(ScanIds(Query("a")), ElementsAre(1, 2, 3, 4, 5, 8, 9));
  EXPECT_THAT(ScanIds(Query("b")), ElementsAre(6, 7));
  EXPECT_TRUE(ScanIds(Query("none")).empty());

  RecordQuery q = Query("a");
  q.from_us = 200;  // inclusive
  EXPECT_THAT(ScanIds(q), ElementsAre(2, 3, 4, 5, 8));
  q.to_us = 500;  // exclusive
  EXPECT_THAT(ScanIds(q), ElementsAre(2, 3, 4));
  q.from_us.reset();
  EXPECT_THAT(ScanIds(q), ElementsAre(1, 2, 3, 4, 9));
  q.from_us = 500;  // empty window
  EXPECT_TRUE(ScanIds(q).empty());

  q = Query("a");
  q.cell_ranges = {{kHigh, kHigh + 10}};
  EXPECT_THAT(ScanIds(q), ElementsAre(3, 4));
  q.cell_ranges = {{kHigh + 5, UINT64_MAX}, {15, 20}, {18, 30}};  // overlapping
  EXPECT_THAT(ScanIds(q), ElementsAre(1, 2, 4, 8));
  q.cell_ranges = {{10, 10}};
  EXPECT_THAT(ScanIds(q), ElementsAre(5));
  q.cell_ranges = {{0, UINT64_MAX}};
  EXPECT_THAT(ScanIds(q), ElementsAre(1, 2, 3, 4, 5, 8, 9));

  q = Query("a");
  q.after_id = 3;
  EXPECT_THAT(ScanIds(q), ElementsAre(4, 5, 8, 9));
  q.limit = 2;
  EXPECT_THAT(ScanIds(q), ElementsAre(4, 5));

  // The limit counts records that pass the cell filter.
  q = Query("a");
  q.cell_ranges = {{20, 40}};
  q.limit = 2;
  EXPECT_THAT(ScanIds(q), ElementsAre(1, 2));
  q.after_id = 2;
  EXPECT_THAT(ScanIds(q), ElementsAre(8, 9));

  // All filters together.
  q = Query("a");
  q.from_us = 100;
  q.to_us = 1001;
  q.cell_ranges = {{20, 30}, {kHigh, kHigh}};
  q.after_id = 1;
  q.limit = 2;
  EXPECT_THAT(ScanIds(q), ElementsAre(2, 3));
}

TEST_P(StoreConformanceTest, CursorPagesThroughEverythingOnce) {
  constexpr int kN = 250;
  ASSERT_EQ(store_->ReserveRecordIds(kN).value_or(-1), 1);
  std::vector<StoredRecord> batch;
  for (int i = 1; i <= kN; ++i) batch.push_back(Record(i, "p", (i * 7919) % 1000));
  ASSERT_TRUE(store_->AppendRecords(batch).ok());

  for (int64_t page : {1, 7, 100, 1000}) {
    std::vector<int64_t> all;
    RecordQuery q = Query("p");
    q.from_us = 100;
    q.limit = page;
    while (true) {
      std::vector<int64_t> ids = ScanIds(q);
      ASSERT_LE(static_cast<int64_t>(ids.size()), page);
      if (ids.empty()) break;
      all.insert(all.end(), ids.begin(), ids.end());
      q.after_id = ids.back();
    }
    std::vector<int64_t> expected;
    for (int i = 1; i <= kN; ++i) {
      if ((i * 7919) % 1000 >= 100) expected.push_back(i);
    }
    EXPECT_EQ(all, expected) << "page size " << page;
  }
}

TEST_P(StoreConformanceTest, ScanStopsAtCallbackError) {
  Reserve(3);
  ASSERT_TRUE(
      store_->AppendRecords({Record(1, "s", 1), Record(2, "s", 2), Record(3, "s", 3)})
          .ok());
  int calls = 0;
  absl::Status s = store_->ScanRecords(Query("s"), [&](const StoredRecord& r) {
    ++calls;
    return r.id == 2 ? absl::CancelledError("enough") : absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 2);
}

TEST_P(StoreConformanceTest, ScanCallbackMayCallTheStore) {
  Reserve(2);
  ASSERT_TRUE(store_->AppendRecords({Record(1, "s", 1), Record(2, "s", 2)}).ok());
  WrappedKey key;
  key.name = {KeyKind::kIndex, "", 0, ""};
  key.wrapped = "w";
  key.created = kT0;
  absl::StatusOr<WrappedKey> stored = store_->keys().InsertKeyIfAbsent(key);
  ASSERT_TRUE(stored.ok()) << stored.status();
  absl::Status s = store_->ScanRecords(Query("s"), [&](const StoredRecord& r) {
    // A reader unwrapping keys or writing while it scans must not deadlock.
    absl::StatusOr<WrappedKey> k = store_->keys().GetKey(stored->id);
    if (!k.ok()) return k.status();
    return store_->PutMeta("last", std::to_string(r.id));
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(store_->GetMeta("last").value_or(std::nullopt), "2");
}

TEST_P(StoreConformanceTest, InvalidQueriesAreRejected) {
  auto code = [&](const RecordQuery& q) {
    return store_->ScanRecords(q, [](const StoredRecord&) { return absl::OkStatus(); })
        .code();
  };
  EXPECT_EQ(code(Query("")), absl::StatusCode::kInvalidArgument);
  RecordQuery q = Query("s");
  q.limit = -1;
  EXPECT_EQ(code(q), absl::StatusCode::kInvalidArgument);
  q = Query("s");
  q.cell_ranges = {{5, 4}};
  EXPECT_EQ(code(q), absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreConformanceTest, AppendIsAllOrNothing) {
  Reserve(10);
  ASSERT_TRUE(store_->AppendRecords({Record(1, "s", 1)}).ok());

  // Duplicate id within the batch: the valid rows before it are not kept.
  absl::Status dup_in_batch =
      store_->AppendRecords({Record(2, "s", 2), Record(3, "s", 3), Record(2, "s", 4)});
  EXPECT_EQ(dup_in_batch.code(), absl::StatusCode::kAlreadyExists) << dup_in_batch;
  EXPECT_EQ(store_->CountRecords("s").value_or(-1), 1);

  // Collides with a stored record.
  absl::Status dup_stored = store_->AppendRecords({Record(4, "s", 4), Record(1, "s", 5)});
  EXPECT_EQ(dup_stored.code(), absl::StatusCode::kAlreadyExists) << dup_stored;
  EXPECT_EQ(store_->CountRecords("s").value_or(-1), 1);

  // Invalid records are refused before anything is written.
  StoredRecord no_stream = Record(5, "", 5);
  EXPECT_EQ(store_->AppendRecords({Record(5, "s", 5), no_stream}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->AppendRecords({Record(0, "s", 5)}).code(),
            absl::StatusCode::kInvalidArgument);
  // Ids that were never reserved would collide with a later reservation.
  EXPECT_EQ(
      store_->AppendRecords({Record(5, "s", 5), Record(int64_t{1} << 50, "s", 6)}).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CountRecords("s").value_or(-1), 1);

  // The store is still usable, and the failed ids can be written.
  EXPECT_TRUE(store_->AppendRecords({Record(2, "s", 2), Record(3, "s", 3)}).ok());
  EXPECT_EQ(store_->CountRecords("s").value_or(-1), 3);
  EXPECT_TRUE(store_->AppendRecords({}).ok());
}

// An ingest's last batch, its dedupe claims and the log leaf that logs it
// commit together, or none of them does; the leaf is built against the log
// as stored in that transaction.
TEST_P(StoreConformanceTest, RecordsAndTheirLogBatchCommitTogether) {
  Reserve(10);
  auto leaf_at = [](uint64_t index) {
    LogBatch b;
    b.first_index = index;
    b.entries.push_back(
        LogEntryRow{"leaf " + std::to_string(index), std::string(32, 'e')});
    b.frontier.size = index + 1;
    b.frontier.hashes = std::string(32, 'f');
    return b;
  };
  std::vector<uint64_t> built_at;
  auto leaf = [&](const LogFrontierRow& stored) -> absl::StatusOr<LogBatch> {
    built_at.push_back(stored.size);
    return leaf_at(stored.size);
  };
  auto log_size = [this] { return store_->log().ReadFrontier().value().size; };
  auto claimed = [this](const IngestKey& key) -> bool {
    const std::vector<bool> found = store_->FindIngestKeys({key}).value();
    return found.at(0);
  };
  auto found_ids = [this](const std::string& subject) {
    const std::vector<StoredRecord> found = store_->FindRecordsBySubject(subject).value();
    std::vector<int64_t> ids;
    for (const StoredRecord& r : found) ids.push_back(r.id);
    return ids;
  };
  const std::string alice(32, 'A');
  const uint64_t start = log_size();
  const IngestKey first_claim{"s", std::string(32, 'k'), 0};
  const IngestKey second_claim{"s", std::string(32, 'l'), 0};
  ASSERT_TRUE(store_
                  ->AppendRecordsWithLog({Record(1, "s", 1), Record(2, "s", 2, 0, alice)},
                                         {first_claim}, leaf)
                  .ok());
  EXPECT_EQ(built_at, (std::vector<uint64_t>{start}));
  EXPECT_EQ(store_->CountRecords("s").value_or(-1), 2);
  EXPECT_EQ(log_size(), start + 1);
  EXPECT_TRUE(claimed(first_claim));
  EXPECT_EQ(store_->log().ReadEntries(start, start + 1).value().at(0).data,
            "leaf " + std::to_string(start));
  EXPECT_EQ(found_ids(alice), (std::vector<int64_t>{2}));

  // Another writer appends to the log: the next leaf is built after it.
  ASSERT_TRUE(store_->log().Append(leaf_at(start + 1)).ok());
  ASSERT_TRUE(store_->AppendRecordsWithLog({Record(3, "s", 3)}, {}, leaf).ok());
  EXPECT_EQ(built_at.back(), start + 2);
  EXPECT_EQ(log_size(), start + 3);

  // A batch that does not start at the stored size is Aborted, and takes the
  // records and claims with it.
  auto stale = [&](const LogFrontierRow&) -> absl::StatusOr<LogBatch> {
    return leaf_at(start);
  };
  EXPECT_EQ(
      store_->AppendRecordsWithLog({Record(4, "s", 4)}, {second_claim}, stale).code(),
      absl::StatusCode::kAborted);
  // So does a builder that fails, and a claim taken before.
  auto failing = [](const LogFrontierRow&) -> absl::StatusOr<LogBatch> {
    return absl::UnavailableError("no signer");
  };
  EXPECT_EQ(
      store_->AppendRecordsWithLog({Record(4, "s", 4)}, {second_claim}, failing).code(),
      absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->AppendRecordsWithLog({Record(4, "s", 4)}, {first_claim}, leaf).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CountRecords("s").value_or(-1), 3);
  EXPECT_EQ(log_size(), start + 3);
  EXPECT_FALSE(claimed(second_claim));

  // An ingest whose records were all rejected still logs itself.
  ASSERT_TRUE(store_->AppendRecordsWithLog({}, {}, leaf).ok());
  EXPECT_EQ(log_size(), start + 4);
  EXPECT_EQ(store_->CountRecords("s").value_or(-1), 3);
}

TEST_P(StoreConformanceTest, ReserveRecordIdsIsUniqueAcrossInstances) {
  absl::StatusOr<StorePtr> other = Open();
  ASSERT_TRUE(other.ok()) << other.status();
  std::vector<Store*> stores = {store_.get(), other->get()};

  absl::Mutex mu;
  std::vector<std::pair<int64_t, int64_t>> ranges;  // [first, first + n)
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Store& s = *stores[t % 2];
      for (int i = 0; i < 50; ++i) {
        // Mostly small, sometimes larger than any internal block.
        const int64_t n = i % 10 == 9 ? 100000 + t : 1 + (t * 50 + i) % 17;
        absl::StatusOr<int64_t> first = s.ReserveRecordIds(n);
        if (!first.ok()) {
          ++failures;
          continue;
        }
        absl::MutexLock lock(&mu);
        ranges.emplace_back(*first, *first + n);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(ranges.size(), 200u);
  std::sort(ranges.begin(), ranges.end());
  EXPECT_GE(ranges.front().first, 1);
  for (size_t i = 1; i < ranges.size(); ++i) {
    EXPECT_LE(ranges[i - 1].second, ranges[i].first) << "overlapping reservations";
  }
  EXPECT_EQ(store_->ReserveRecordIds(0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ReserveRecordIds(-3).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreConformanceTest, ConcurrentWritersAndReadersAcrossInstances) {
  absl::StatusOr<StorePtr> other = Open();
  ASSERT_TRUE(other.ok()) << other.status();
  std::vector<Store*> stores = {store_.get(), other->get()};
  constexpr int kWriters = 4, kBatches = 15, kBatchSize = 100;
  std::atomic<int> errors{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      Store& s = *stores[t % 2];
      for (int b = 0; b < kBatches; ++b) {
        absl::StatusOr<int64_t> first = s.ReserveRecordIds(kBatchSize);
        if (!first.ok()) {
          ++errors;
          continue;
        }
        std::vector<StoredRecord> batch;
        for (int i = 0; i < kBatchSize; ++i) {
          batch.push_back(
              Record(*first + i, "c", b * 1000 + i, 0, std::string(32, 'a' + t)));
        }
        if (!s.AppendRecords(batch).ok()) ++errors;
      }
    });
  }
  // A reader scanning while the writers write sees whole batches only.
  std::thread reader([&] {
    while (!done.load()) {
      int64_t n = 0;
      absl::Status st = stores[1]->ScanRecords(Query("c"), [&](const StoredRecord&) {
        ++n;
        return absl::OkStatus();
      });
      if (!st.ok() || n % kBatchSize != 0) ++errors;
    }
  });
  for (std::thread& t : threads) t.join();
  done = true;
  reader.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(store_->CountRecords("c").value_or(-1), kWriters * kBatches * kBatchSize);
  std::set<int64_t> ids;
  for (int64_t id : ScanIds(Query("c"))) ids.insert(id);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kWriters * kBatches * kBatchSize));
}

// A record whose data key is destroyed is crypto-shredded: it is no longer
// the subject's, in either backend.
TEST_P(StoreConformanceTest, RecordsWhoseDataKeyIsDestroyedAreNotTheSubjects) {
  const std::string alice(32, 'A');
  Reserve(3);
  ASSERT_TRUE(
      store_
          ->AppendRecords({Record(1, "s", 1, 0, alice, 1), Record(2, "s", 2, 0, alice, 2),
                           Record(3, "t", 3, 0, alice, 1)})
          .ok());
  ASSERT_EQ(store_->FindRecordsBySubject(alice).value().size(), 3u);
  ASSERT_TRUE(store_->keys().DestroyKey(DataKeyId("s", 1, alice)).ok());
  absl::StatusOr<std::vector<StoredRecord>> found = store_->FindRecordsBySubject(alice);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].id, 2);
  EXPECT_EQ((*found)[1].id, 3);
}

// A batch need not be in id order, nor its ids consecutive.
TEST_P(StoreConformanceTest, EveryRecordOfABatchInAnyIdOrderIsFoundBySubject) {
  const std::string alice(32, 'A'), bob(32, 'B');
  Reserve(10);
  ASSERT_TRUE(
      store_
          ->AppendRecords({Record(5, "s", 5, 0, alice), Record(7, "s", 7, 0, alice),
                           Record(8, "s", 8, 0, bob), Record(6, "s", 6, 0, alice),
                           Record(2, "s", 2), Record(3, "s", 3, 0, alice)})
          .ok());
  const std::vector<StoredRecord> found = store_->FindRecordsBySubject(alice).value();
  std::vector<int64_t> ids;
  for (const StoredRecord& r : found) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<int64_t>{3, 5, 6, 7}));
  ASSERT_EQ(store_->FindRecordsBySubject(bob).value().size(), 1u);
  EXPECT_EQ(store_->DeleteRecordsBySubject(alice).value_or(-1), 4);
  EXPECT_EQ(store_->CountRecords("s").value_or(-1), 2);
}

TEST_P(StoreConformanceTest, FindAndDeleteBySubject) {
  const std::string alice(32, 'A'), bob(32, 'B');
  Reserve(5);
  ASSERT_TRUE(store_
                  ->AppendRecords({Record(1, "s", 1, 0, alice), Record(2, "t", 2, 0, bob),
                                   Record(3, "t", 3, 0, alice), Record(4, "s", 4)})
                  .ok());
  absl::StatusOr<std::vector<StoredRecord>> found = store_->FindRecordsBySubject(alice);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].id, 1);
  EXPECT_EQ((*found)[1].id, 3);
  EXPECT_EQ((*found)[1].stream, "t");

  EXPECT_EQ(store_->DeleteRecordsBySubject(alice).value_or(-1), 2);
  EXPECT_TRUE(store_->FindRecordsBySubject(alice).value().empty());
  EXPECT_EQ(store_->FindRecordsBySubject(bob).value().size(), 1u);
  EXPECT_EQ(store_->DeleteRecordsBySubject(alice).value_or(-1), 0);
  EXPECT_EQ(store_->CountRecords("s").value_or(-1), 1);
  EXPECT_EQ(store_->FindRecordsBySubject("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreConformanceTest, RetentionDeletesAndUnlinks) {
  const std::string alice(32, 'A');
  Reserve(6);
  ASSERT_TRUE(store_
                  ->AppendRecords(
                      {Record(1, "s", 100, 0, alice, 1), Record(2, "s", 200, 0, alice, 2),
                       Record(3, "s", 300, 0, alice, 3), Record(4, "t", 100, 0, alice, 1),
                       Record(5, "s", 50, 0, "", 1)})
                  .ok());
  // Unlink epochs < 3 of stream s: the records stay, their link goes.
  EXPECT_EQ(store_->UnlinkRecordsBefore("s", 3).value_or(-1), 2);
  EXPECT_EQ(store_->UnlinkRecordsBefore("s", 3).value_or(-1), 0);
  std::vector<int64_t> linked;
  const std::vector<StoredRecord> still_linked =
      store_->FindRecordsBySubject(alice).value();
  for (const StoredRecord& r : still_linked) {
    linked.push_back(r.id);
  }
  EXPECT_THAT(linked, ElementsAre(3, 4));
  EXPECT_EQ(store_->CountRecords("s").value_or(-1), 4);
  std::vector<StoredRecord> s_records;
  ASSERT_TRUE(store_
                  ->ScanRecords(Query("s"),
                                [&](const StoredRecord& r) {
                                  s_records.push_back(r);
                                  return absl::OkStatus();
                                })
                  .ok());
  ASSERT_EQ(s_records.size(), 4u);
  EXPECT_EQ(s_records[0].blind_index, "");
  EXPECT_EQ(s_records[1].blind_index, "");
  EXPECT_EQ(s_records[2].blind_index, alice);

  // Delete time_us < 200 of stream s only.
  EXPECT_EQ(store_->DeleteRecordsBefore("s", 200).value_or(-1), 2);
  EXPECT_THAT(ScanIds(Query("s")), ElementsAre(2, 3));
  EXPECT_THAT(ScanIds(Query("t")), ElementsAre(4));
  EXPECT_EQ(store_->DeleteRecordsBefore("s", 200).value_or(-1), 0);
  EXPECT_EQ(store_->DeleteRecordsBefore("", 200).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- Keys ------------------------------------------------------------------

WrappedKey Key(KeyKind kind, std::string scope, int64_t epoch, std::string subject,
               std::string wrapped) {
  WrappedKey k;
  k.id = 999;  // ignored by InsertKeyIfAbsent
  k.name = {kind, std::move(scope), epoch, std::move(subject)};
  k.wrapped = std::move(wrapped);
  k.created = kT0;
  return k;
}

TEST_P(StoreConformanceTest, KeysInsertFindGetList) {
  crypto::KeyStore& keys = store_->keys();
  absl::StatusOr<WrappedKey> a =
      keys.InsertKeyIfAbsent(Key(KeyKind::kPseudonym, "s", 1, "", "w1"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_NE(a->id, 999);
  EXPECT_EQ(a->wrapped, "w1");
  EXPECT_EQ(a->created, kT0);

  // Same name: the stored key comes back, the new bytes are ignored.
  absl::StatusOr<WrappedKey> again =
      keys.InsertKeyIfAbsent(Key(KeyKind::kPseudonym, "s", 1, "", "other"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, a->id);
  EXPECT_EQ(again->wrapped, "w1");

  ASSERT_TRUE(keys.InsertKeyIfAbsent(Key(KeyKind::kPseudonym, "s", 2, "", "w2")).ok());
  ASSERT_TRUE(keys.InsertKeyIfAbsent(Key(KeyKind::kPseudonym, "t", 0, "", "w3")).ok());
  const std::string subject(32, '\0');  // binary subject
  absl::StatusOr<WrappedKey> dek =
      keys.InsertKeyIfAbsent(Key(KeyKind::kSubjectDek, "s", 1, subject, "w4"));
  ASSERT_TRUE(dek.ok());

  absl::StatusOr<std::optional<WrappedKey>> found =
      keys.FindKey({KeyKind::kSubjectDek, "s", 1, subject});
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, dek->id);
  EXPECT_EQ((*found)->name.subject, subject);
  EXPECT_FALSE(keys.FindKey({KeyKind::kSubjectDek, "s", 2, subject}).value().has_value());

  absl::StatusOr<WrappedKey> got = keys.GetKey(dek->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, (KeyName{KeyKind::kSubjectDek, "s", 1, subject}));
  EXPECT_EQ(got->wrapped, "w4");
  EXPECT_EQ(keys.GetKey(123456).status().code(), absl::StatusCode::kNotFound);

  absl::StatusOr<std::vector<WrappedKey>> before =
      keys.ListKeysBefore(KeyKind::kPseudonym, "s", 2);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ((*before)[0].id, a->id);
  EXPECT_EQ(keys.ListKeysBefore(KeyKind::kPseudonym, "s", 3).value().size(), 2u);
  EXPECT_TRUE(keys.ListKeysBefore(KeyKind::kClaim, "s", 3).value().empty());

  EXPECT_EQ(keys.InsertKeyIfAbsent(Key(KeyKind::kIndex, "", 0, "", "")).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Renaming in place (unlinking a data key from its subject).
  const KeyName unlinked{KeyKind::kSubjectDek, "s", 1, "unlinked:x"};
  ASSERT_TRUE(keys.RenameKey(dek->id, unlinked, "w5").ok());
  EXPECT_FALSE(keys.FindKey({KeyKind::kSubjectDek, "s", 1, subject}).value().has_value());
  absl::StatusOr<WrappedKey> renamed = keys.GetKey(dek->id);
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->name, unlinked);
  EXPECT_EQ(renamed->wrapped, "w5");
  EXPECT_EQ(keys.RenameKey(a->id, unlinked, "w6").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(keys.GetKey(a->id)->wrapped, "w1");  // untouched
  EXPECT_EQ(keys.RenameKey(123456, unlinked, "w7").code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, KeyInsertRaceAgreesOnOneKey) {
  absl::StatusOr<StorePtr> other = Open();
  ASSERT_TRUE(other.ok()) << other.status();
  std::vector<Store*> stores = {store_.get(), other->get()};
  for (int round = 0; round < 5; ++round) {
    absl::Mutex mu;
    std::vector<WrappedKey> results;
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&, t] {
        absl::StatusOr<WrappedKey> k = stores[t % 2]->keys().InsertKeyIfAbsent(Key(
            KeyKind::kPseudonym, "race", round, "", "candidate-" + std::to_string(t)));
        ASSERT_TRUE(k.ok()) << k.status();
        absl::MutexLock lock(&mu);
        results.push_back(*k);
      });
    }
    for (std::thread& t : threads) t.join();
    ASSERT_EQ(results.size(), 6u);
    for (const WrappedKey& k : results) {
      EXPECT_EQ(k.id, results[0].id);
      EXPECT_EQ(k.wrapped, results[0].wrapped);
    }
    EXPECT_EQ(store_->keys()
                  .ListKeysBefore(KeyKind::kPseudonym, "race", round + 1)
                  .value()
                  .size(),
              static_cast<size_t>(round + 1));
  }
}

TEST_P(StoreConformanceTest, KeysFoundAndInsertedInBatches) {
  crypto::KeyStore& keys = store_->keys();
  const std::string a(32, 'a'), b(32, 'b');
  absl::StatusOr<WrappedKey> a1 =
      keys.InsertKeyIfAbsent(Key(KeyKind::kSubjectDek, "s", 1, a, "wa1"));
  ASSERT_TRUE(a1.ok()) << a1.status();

  const std::vector<KeyName> names = {{KeyKind::kSubjectDek, "s", 1, a},
                                      {KeyKind::kSubjectDek, "s", 1, b},
                                      {KeyKind::kSubjectDek, "s", 2, a}};
  absl::StatusOr<std::vector<std::optional<WrappedKey>>> found = keys.FindKeys(names);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 3u);
  ASSERT_TRUE((*found)[0].has_value());
  EXPECT_EQ((*found)[0]->id, a1->id);
  EXPECT_EQ((*found)[0]->name, names[0]);
  EXPECT_EQ((*found)[0]->wrapped, "wa1");
  EXPECT_EQ((*found)[0]->created, kT0);
  EXPECT_FALSE((*found)[1].has_value());
  EXPECT_FALSE((*found)[2].has_value());

  // The known name keeps its key; new names are inserted; a name given
  // twice gets one key.
  absl::StatusOr<std::vector<WrappedKey>> stored =
      keys.InsertKeysIfAbsent({Key(KeyKind::kSubjectDek, "s", 1, a, "other"),
                               Key(KeyKind::kSubjectDek, "s", 1, b, "wb1"),
                               Key(KeyKind::kSubjectDek, "s", 2, a, "wa2"),
                               Key(KeyKind::kSubjectDek, "s", 1, b, "wb1-again")});
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 4u);
  EXPECT_EQ((*stored)[0].id, a1->id);
  EXPECT_EQ((*stored)[0].wrapped, "wa1");
  EXPECT_EQ((*stored)[1].wrapped, "wb1");
  EXPECT_EQ((*stored)[1].name, names[1]);
  EXPECT_EQ((*stored)[1].created, kT0);
  EXPECT_EQ((*stored)[2].wrapped, "wa2");
  EXPECT_EQ((*stored)[2].name, names[2]);
  EXPECT_EQ((*stored)[3].id, (*stored)[1].id);
  EXPECT_EQ((*stored)[3].wrapped, "wb1");
  EXPECT_NE((*stored)[1].id, (*stored)[2].id);
  EXPECT_EQ(keys.ListKeysBefore(KeyKind::kSubjectDek, "s", 3).value().size(), 3u);

  found = keys.FindKeys(names);
  ASSERT_TRUE(found.ok()) << found.status();
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_TRUE((*found)[i].has_value()) << i;
    EXPECT_EQ((*found)[i]->id, (*stored)[i].id) << i;
    EXPECT_EQ((*found)[i]->wrapped, (*stored)[i].wrapped) << i;
  }

  EXPECT_TRUE(keys.FindKeys({}).value().empty());
  EXPECT_TRUE(keys.InsertKeysIfAbsent({}).value().empty());
  // A bad key refuses the whole batch: nothing of it is stored.
  EXPECT_EQ(keys.InsertKeysIfAbsent({Key(KeyKind::kSubjectDek, "s", 5, a, "w"),
                                     Key(KeyKind::kSubjectDek, "s", 5, b, "")})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(keys.FindKey({KeyKind::kSubjectDek, "s", 5, a}).value().has_value());
}

// Nodes sealing batches for the same new subjects at once, each batch in
// its own order: one key per name, and every node gets that one.
TEST_P(StoreConformanceTest, ConcurrentBatchInsertsAgreeOnOneKeyPerName) {
  absl::StatusOr<StorePtr> other = Open();
  ASSERT_TRUE(other.ok()) << other.status();
  std::vector<Store*> stores = {store_.get(), other->get()};
  constexpr int kThreads = 4;
  constexpr int kNames = 300;
  for (int round = 0; round < 3; ++round) {
    std::vector<std::vector<std::pair<int64_t, std::string>>> seen(
        kThreads, std::vector<std::pair<int64_t, std::string>>(kNames));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        // Thread t starts at a different subject and half go backwards.
        std::vector<int> order(kNames);
        for (int i = 0; i < kNames; ++i) {
          const int j = (i + 71 * t) % kNames;
          order[i] = t % 2 == 0 ? j : kNames - 1 - j;
        }
        std::vector<WrappedKey> batch;
        for (int subject : order) {
          batch.push_back(Key(KeyKind::kSubjectDek, "race", round,
                              absl::StrCat("subject-", subject),
                              absl::StrCat("candidate-", t, "-", subject)));
        }
        absl::StatusOr<std::vector<WrappedKey>> stored =
            stores[t % 2]->keys().InsertKeysIfAbsent(batch);
        ASSERT_TRUE(stored.ok()) << stored.status();
        ASSERT_EQ(stored->size(), batch.size());
        for (int i = 0; i < kNames; ++i) {
          EXPECT_EQ((*stored)[i].name, batch[i].name);
          seen[t][order[i]] = {(*stored)[i].id, (*stored)[i].wrapped};
        }
      });
    }
    for (std::thread& t : threads) t.join();
    for (int t = 1; t < kThreads; ++t) EXPECT_EQ(seen[t], seen[0]) << t;
    std::vector<WrappedKey> listed =
        store_->keys().ListKeysBefore(KeyKind::kSubjectDek, "race", round + 1).value();
    EXPECT_EQ(listed.size(), static_cast<size_t>(kNames * (round + 1)));
  }
}

TEST_P(StoreConformanceTest, DestroyedKeyIsGoneAndItsIdNeverReused) {
  crypto::KeyStore& keys = store_->keys();
  WrappedKey k = Key(KeyKind::kSubjectDek, "s", 1, std::string(32, 'S'), "wrapped");
  absl::StatusOr<WrappedKey> a = keys.InsertKeyIfAbsent(k);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(keys.DestroyKey(a->id).ok());
  EXPECT_EQ(keys.GetKey(a->id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(keys.FindKey(k.name).value().has_value());
  EXPECT_TRUE(keys.ListKeysBefore(KeyKind::kSubjectDek, "s", 10).value().empty());
  EXPECT_EQ(keys.DestroyKey(a->id).code(), absl::StatusCode::kNotFound);

  // A new key under the same name is a different key with a new id, so a
  // record sealed under the destroyed id can never find it.
  absl::StatusOr<WrappedKey> b = keys.InsertKeyIfAbsent(k);
  ASSERT_TRUE(b.ok());
  EXPECT_GT(b->id, a->id);
}

// Caches of unwrapped keys rely on this count (crypto/key_store.h): it must
// move with every destruction and rename, be seen by another instance at
// once, and not move for anything else.
TEST_P(StoreConformanceTest, KeyChangesCountDestructionsAndRenamesForEveryInstance) {
  crypto::KeyStore& keys = store_->keys();
  absl::StatusOr<StorePtr> other = Open();
  ASSERT_TRUE(other.ok()) << other.status();
  absl::StatusOr<int64_t> start = keys.KeyChanges();
  ASSERT_TRUE(start.ok()) << start.status();
  EXPECT_EQ(*start, 0);

  const std::string subject(32, 'C');
  absl::StatusOr<WrappedKey> a =
      keys.InsertKeyIfAbsent(Key(KeyKind::kSubjectDek, "s", 1, subject, "wa"));
  absl::StatusOr<WrappedKey> b =
      keys.InsertKeyIfAbsent(Key(KeyKind::kSubjectDek, "s", 2, subject, "wb"));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(keys.FindKeys({a->name, b->name}).ok());
  EXPECT_EQ(keys.KeyChanges().value(), 0) << "creating and finding keys is no change";

  ASSERT_TRUE((*other)->keys().DestroyKey(a->id).ok());
  EXPECT_EQ(keys.KeyChanges().value(), 1) << "a destruction by another instance";
  EXPECT_EQ((*other)->keys().KeyChanges().value(), 1);

  KeyName unlinked = b->name;
  unlinked.subject = std::string(32, 'U');
  ASSERT_TRUE(keys.RenameKey(b->id, unlinked, "wb2").ok());
  EXPECT_EQ((*other)->keys().KeyChanges().value(), 2) << "a rename";

  // Failed changes change nothing.
  EXPECT_EQ(keys.DestroyKey(a->id).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(keys.RenameKey(a->id, unlinked, "w").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(keys.KeyChanges().value(), 2);

  // The count survives a reopen.
  other->reset();
  store_.reset();
  absl::StatusOr<StorePtr> reopened = Open();
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->keys().KeyChanges().value(), 2);
  store_ = *std::move(reopened);
}

// --- Consent ---------------------------------------------------------------

TEST_P(StoreConformanceTest, ConsentHistoryInTimeOrderPerSubject) {
  const std::string alice(32, 'A'), bob(32, 'B');
  auto event = [](const std::string& bi, std::string purpose, ConsentState state,
                  int64_t minute, std::string source) {
    return ConsentEvent{bi, std::move(purpose), state, kT0 + absl::Minutes(minute),
                        std::move(source)};
  };
  ASSERT_TRUE(store_
                  ->AppendConsentEvent(
                      event(alice, "research", ConsentState::kWithdrawn, 5, "portal"))
                  .ok());
  ASSERT_TRUE(store_
                  ->AppendConsentEvent(
                      event(alice, "research", ConsentState::kGranted, 1, "portal"))
                  .ok());
  ASSERT_TRUE(store_
                  ->AppendConsentEvent(
                      event(bob, "research", ConsentState::kGranted, 2, "portal"))
                  .ok());
  ASSERT_TRUE(store_
                  ->AppendConsentEvent(
                      event(alice, "planning", ConsentState::kObjected, 3, "controller"))
                  .ok());

  absl::StatusOr<std::vector<ConsentEvent>> history = store_->ConsentHistory(alice);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].purpose, "research");
  EXPECT_EQ((*history)[0].state, ConsentState::kGranted);
  EXPECT_EQ((*history)[0].time, kT0 + absl::Minutes(1));
  EXPECT_EQ((*history)[1].purpose, "planning");
  EXPECT_EQ((*history)[1].state, ConsentState::kObjected);
  EXPECT_EQ((*history)[1].source, "controller");
  EXPECT_EQ((*history)[2].state, ConsentState::kWithdrawn);
  EXPECT_EQ((*history)[2].blind_index, alice);

  ASSERT_TRUE(store_->DeleteConsentHistory(alice).ok());
  EXPECT_TRUE(store_->ConsentHistory(alice).value().empty());
  EXPECT_EQ(store_->ConsentHistory(bob).value().size(), 1u);
  EXPECT_EQ(
      store_
          ->AppendConsentEvent(event("", "research", ConsentState::kGranted, 1, "portal"))
          .code(),
      absl::StatusCode::kInvalidArgument);
}

// --- Budget ----------------------------------------------------------------

BudgetCharge Charge(std::string query_key, double epsilon, double delta = 0,
                    int64_t period = 7) {
  BudgetCharge c;
  c.agreement = "research-2024";
  c.period = period;
  c.query_key = std::move(query_key);
  c.epsilon = epsilon;
  c.delta = delta;
  c.time = kT0;
  c.result = "{\"count\":42}";
  return c;
}

TEST_P(StoreConformanceTest, BudgetCapIsEnforced) {
  const BudgetSpent cap{1.0, 1e-6};
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<BudgetCharge> c =
        store_->ChargeBudget(Charge("q" + std::to_string(i), 0.1), cap);
    ASSERT_TRUE(c.ok()) << i << ": " << c.status();
  }
  absl::StatusOr<BudgetCharge> over = store_->ChargeBudget(Charge("q10", 0.1), cap);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(over.status().message(), HasSubstr("remaining epsilon 0,"));
  EXPECT_THAT(over.status().message(), HasSubstr("delta 1e-06"));

  // Delta is capped too.
  absl::StatusOr<BudgetCharge> d = store_->ChargeBudget(Charge("d", 0, 2e-6), cap);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kResourceExhausted);

  absl::StatusOr<BudgetSpent> spent = store_->SpentBudget("research-2024", 7);
  ASSERT_TRUE(spent.ok());
  EXPECT_NEAR(spent->epsilon, 1.0, 1e-9);
  EXPECT_EQ(spent->delta, 0);
  // Another period has its own budget.
  EXPECT_TRUE(store_->ChargeBudget(Charge("q10", 0.5, 0, 8), cap).ok());
  EXPECT_EQ(store_->SpentBudget("research-2024", 9).value().epsilon, 0);

  EXPECT_EQ(store_->ChargeBudget(Charge("bad", -1), cap).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ChargeBudget(Charge("bad", std::nan("")), cap).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreConformanceTest, ExhaustedMessageStatesWhatRemains) {
  const BudgetSpent cap{1.0, 1e-5};
  ASSERT_TRUE(store_->ChargeBudget(Charge("a", 0.75, 4e-6), cap).ok());
  absl::StatusOr<BudgetCharge> over = store_->ChargeBudget(Charge("b", 0.5), cap);
  ASSERT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(over.status().message(), HasSubstr("remaining epsilon 0.25, delta 6e-06"));
  EXPECT_THAT(over.status().message(), HasSubstr("research-2024"));
}

TEST_P(StoreConformanceTest, IdenticalQueryIsCachedAtNoCost) {
  const BudgetSpent cap{1.0, 0};
  BudgetCharge first = Charge("same", 0.6);
  first.result = "{\"noised\":17}";
  absl::StatusOr<BudgetCharge> a = store_->ChargeBudget(first, cap);
  ASSERT_TRUE(a.ok());
  BudgetCharge second = Charge("same", 0.6);
  second.result = "{\"noised\":99}";
  second.time = kT0 + absl::Hours(1);
  absl::StatusOr<BudgetCharge> b = store_->ChargeBudget(second, cap);
  ASSERT_TRUE(b.ok()) << b.status();  // 1.2 > cap, yet free: it is cached
  EXPECT_EQ(b->result, "{\"noised\":17}");
  EXPECT_EQ(b->time, kT0);
  EXPECT_NEAR(store_->SpentBudget("research-2024", 7).value().epsilon, 0.6, 1e-12);
}

TEST_P(StoreConformanceTest, ConcurrentChargesNeverOverspend) {
  absl::StatusOr<StorePtr> other = Open();
  ASSERT_TRUE(other.ok()) << other.status();
  std::vector<Store*> stores = {store_.get(), other->get()};
  const BudgetSpent cap{1.0, 0};
  std::atomic<int> granted{0}, refused{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        absl::StatusOr<BudgetCharge> c = stores[t % 2]->ChargeBudget(
            Charge("t" + std::to_string(t) + "-" + std::to_string(i), 0.1), cap);
        if (c.ok()) {
          ++granted;
        } else if (c.status().code() == absl::StatusCode::kResourceExhausted) {
          ++refused;
        } else {
          ++errors;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(granted.load(), 10);
  EXPECT_EQ(refused.load(), 20);
  EXPECT_LE(store_->SpentBudget("research-2024", 7).value().epsilon, 1.0 + 1e-9);
}

TEST_P(StoreConformanceTest, RhoChargesComposeUnderZcdp) {
  // Ten Gaussian releases of rho 0.002 each, converted at delta 1e-6 each.
  // One alone is (0.334, 1e-6)-DP, so summing epsilons would allow two;
  // summing rho and converting once allows all ten within (1, 1e-5).
  const BudgetSpent cap{1.0, 1e-5};
  auto gaussian = [](std::string key) {
    BudgetCharge c = Charge(std::move(key), 0);
    c.rho = 0.002;
    c.rho_delta = 1e-6;
    return c;
  };
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<BudgetCharge> c =
        store_->ChargeBudget(gaussian("g" + std::to_string(i)), cap);
    ASSERT_TRUE(c.ok()) << i << ": " << c.status();
  }
  // The eleventh needs delta beyond the cap.
  EXPECT_EQ(store_->ChargeBudget(gaussian("g10"), cap).status().code(),
            absl::StatusCode::kResourceExhausted);
  absl::StatusOr<BudgetSpent> spent = store_->SpentBudget("research-2024", 7);
  ASSERT_TRUE(spent.ok());
  EXPECT_NEAR(spent->rho, 0.02, 1e-12);
  EXPECT_NEAR(spent->rho_delta, 1e-5, 1e-15);
  EXPECT_LE(spent->TotalEpsilon(), 1.0);
  EXPECT_GT(spent->TotalEpsilon(), 0.95);
  // A cached repeat returns its rho.
  absl::StatusOr<BudgetCharge> again = store_->ChargeBudget(gaussian("g3"), cap);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rho, 0.002);
  EXPECT_EQ(again->rho_delta, 1e-6);
  // Pure epsilon and converted rho share the epsilon cap.
  EXPECT_EQ(store_->ChargeBudget(Charge("pure", 0.05), cap).status().code(),
            absl::StatusCode::kResourceExhausted);
  BudgetCharge bad = gaussian("bad");
  bad.rho_delta = 0;
  EXPECT_EQ(store_->ChargeBudget(bad, cap).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- Releases ----------------------------------------------------------------

TEST_P(StoreConformanceTest, ReleasesArePublishedOnceAndListed) {
  ReleaseRow r;
  r.id = "rel-b";
  r.agreement = "public-footfall";
  r.stream = "footfall.counts";
  r.title = "Hourly pedestrians";
  r.created = kT0;
  r.summary = "{\"id\":\"rel-b\"}";
  r.body = "{\"rows\":[]}";
  ASSERT_TRUE(store_->releases().InsertRelease(r).ok());
  EXPECT_EQ(store_->releases().InsertRelease(r).code(), absl::StatusCode::kAlreadyExists);
  ReleaseRow earlier = r;
  earlier.id = "rel-a";
  earlier.created = kT0 - absl::Hours(1);
  ASSERT_TRUE(store_->releases().InsertRelease(earlier).ok());
  ReleaseRow empty = r;
  empty.id = "";
  EXPECT_EQ(store_->releases().InsertRelease(empty).code(),
            absl::StatusCode::kInvalidArgument);

  absl::StatusOr<std::optional<ReleaseRow>> found =
      store_->releases().FindRelease("rel-b");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->body, r.body);
  EXPECT_EQ((*found)->summary, r.summary);
  EXPECT_EQ((*found)->created, kT0);
  EXPECT_FALSE(store_->releases().FindRelease("nope").value().has_value());
  absl::StatusOr<std::vector<ReleaseRow>> all = store_->releases().ListReleases();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "rel-a");
  EXPECT_EQ((*all)[1].id, "rel-b");
  EXPECT_EQ((*all)[1].title, "Hourly pedestrians");
}

// --- Meta ------------------------------------------------------------------

TEST_P(StoreConformanceTest, MetaPutGet) {
  EXPECT_FALSE(store_->GetMeta("k").value().has_value());
  ASSERT_TRUE(store_->PutMeta("k", "v1").ok());
  ASSERT_TRUE(store_->PutMeta("k", std::string("v\0two", 5)).ok());
  EXPECT_EQ(store_->GetMeta("k").value(), std::string("v\0two", 5));
  EXPECT_EQ(store_->PutMeta("", "x").code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreConformanceTest, ReopenKeepsEverything) {
  Reserve(1);
  ASSERT_TRUE(store_->AppendRecords({Record(1, "s", 1, 0, std::string(32, 'A'))}).ok());
  absl::StatusOr<WrappedKey> key =
      store_->keys().InsertKeyIfAbsent(Key(KeyKind::kClaim, "", 0, "", "claim"));
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(store_->PutMeta("trust", "x").ok());
  ASSERT_TRUE(store_->ChargeBudget(Charge("q", 0.25), {1, 0}).ok());
  store_.reset();

  absl::StatusOr<StorePtr> reopened = Open();
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  Store& s = **reopened;
  EXPECT_EQ(s.CountRecords("s").value_or(-1), 1);
  EXPECT_EQ(s.keys().GetKey(key->id).value().wrapped, "claim");
  EXPECT_EQ(s.GetMeta("trust").value(), "x");
  EXPECT_NEAR(s.SpentBudget("research-2024", 7).value().epsilon, 0.25, 1e-12);
  // The id sequence continues: a new id never collides with a stored one.
  absl::StatusOr<int64_t> next = s.ReserveRecordIds(1);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_GT(*next, 1);
  StoredRecord r = Record(*next, "s", 2);
  EXPECT_TRUE(s.AppendRecords({r}).ok());
}

// --- Erasure leaves nothing on disk -----------------------------------------

TEST_P(StoreConformanceTest, DeletedSubjectLeavesNoBytesAfterCompact) {
  if (store_->Files().empty()) GTEST_SKIP() << "backend writes no local files";
  InsecureDeterministicRandomForTesting random(20240611);
  const std::string victim = random.Bytes(32);
  constexpr int kRecords = 3000;  // many pages, so pages split and move
  ASSERT_EQ(store_->ReserveRecordIds(kRecords).value_or(-1), 1);

  std::vector<std::string> victim_payloads, kept_payloads;
  std::vector<StoredRecord> batch;
  for (int i = 1; i <= kRecords; ++i) {
    const bool is_victim = i % 10 == 0;
    StoredRecord r = Record(i, i % 3 == 0 ? "energy" : "mobility", i * 1000, 0,
                            is_victim ? victim : random.Bytes(32), 1);
    r.payload = random.Bytes(48 + i % 64);
    (is_victim ? victim_payloads : kept_payloads).push_back(r.payload);
    batch.push_back(std::move(r));
    if (batch.size() == 500) {
      ASSERT_TRUE(store_->AppendRecords(batch).ok());
      batch.clear();
    }
  }
  ASSERT_TRUE(store_
                  ->AppendConsentEvent(
                      {victim, "research", ConsentState::kGranted, kT0, "portal"})
                  .ok());
  const std::string wrapped_dek = random.Bytes(60);
  absl::StatusOr<WrappedKey> dek = store_->keys().InsertKeyIfAbsent(
      Key(KeyKind::kSubjectDek, "energy", 2, victim, wrapped_dek));
  ASSERT_TRUE(dek.ok());

  // Erasure, in its order: rows and consent history, then every data key of
  // the subject.
  EXPECT_EQ(store_->DeleteRecordsBySubject(victim).value_or(-1), kRecords / 10);
  ASSERT_TRUE(store_->DeleteConsentHistory(victim).ok());
  absl::StatusOr<std::vector<int64_t>> keys = store_->rights().ListSubjectKeyIds(victim);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 3u);  // energy and mobility in epoch 1, energy in 2
  for (int64_t id : *keys) ASSERT_TRUE(store_->keys().DestroyKey(id).ok());
  absl::Status compact = store_->Compact();
  ASSERT_TRUE(compact.ok()) << compact;

  std::string bytes;
  for (const std::string& file : store_->Files()) bytes += ReadWholeFile(file);
  ASSERT_FALSE(bytes.empty());
  for (size_t i = 0; i < victim_payloads.size(); ++i) {
    EXPECT_EQ(bytes.find(victim_payloads[i]), std::string::npos)
        << "deleted payload " << i << " still on disk";
  }
  EXPECT_EQ(bytes.find(victim), std::string::npos) << "blind index still on disk";
  EXPECT_EQ(bytes.find(wrapped_dek), std::string::npos) << "destroyed key still on disk";
  // The scan does see what was kept, so a miss above is meaningful.
  size_t kept_found = 0;
  for (const std::string& p : kept_payloads)
    kept_found += bytes.find(p) != std::string::npos;
  EXPECT_EQ(kept_found, kept_payloads.size());
}

TEST_P(StoreConformanceTest, UnlinkedBlindIndexLeavesNoBytesAfterCompact) {
  if (store_->Files().empty()) GTEST_SKIP() << "backend writes no local files";
  InsecureDeterministicRandomForTesting random(7);
  const std::string subject = random.Bytes(32);
  ASSERT_EQ(store_->ReserveRecordIds(1000).value_or(-1), 1);
  std::vector<StoredRecord> batch;
  for (int i = 1; i <= 1000; ++i) {
    StoredRecord r = Record(i, "s", i, 0, i % 2 ? subject : random.Bytes(32), 1);
    r.payload = random.Bytes(40);
    batch.push_back(std::move(r));
  }
  ASSERT_TRUE(store_->AppendRecords(batch).ok());
  EXPECT_EQ(store_->UnlinkRecordsBefore("s", 2).value_or(-1), 1000);
  EXPECT_TRUE(store_->FindRecordsBySubject(subject).value().empty());
  // Retention unlinks the epoch's data keys as well (rights/retention.cc);
  // here they go, so that only the records' bytes are in question.
  absl::StatusOr<std::vector<int64_t>> keys = store_->rights().ListSubjectKeyIds(subject);
  ASSERT_TRUE(keys.ok());
  for (int64_t id : *keys) ASSERT_TRUE(store_->keys().DestroyKey(id).ok());
  ASSERT_TRUE(store_->Compact().ok());
  std::string bytes;
  for (const std::string& file : store_->Files()) bytes += ReadWholeFile(file);
  EXPECT_EQ(bytes.find(subject), std::string::npos) << "unlinked blind index on disk";
  EXPECT_EQ(store_->CountRecords("s").value_or(-1), 1000);
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformanceTest,
                         ::testing::Values(testing::SqliteBackend(),
                                           testing::PostgresqlBackend()),
                         [](const ::testing::TestParamInfo<StoreBackend>& info) {
                           return info.param.name;
                         });

}  // namespace privacity::store
