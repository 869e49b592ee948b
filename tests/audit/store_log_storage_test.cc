// audit::Log over the store (StoreLogStorage on SQLite) against the same log
// in memory: same roots and proofs, durable across reopening, and safe with
// two writers on one file.
#include "audit/store_log_storage.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "audit/log.h"
#include "audit/log_storage.h"
#include "audit/merkle.h"
#include "common/random.h"
#include "gtest/gtest.h"
#include "store/store.h"

namespace privacity::audit {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "privacity-auditlog-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Leaf(uint64_t n) { return absl::StrCat("{\"n\":", n, "}"); }

class StoreLogStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    store_ = OpenOne();
    ASSERT_NE(store_, nullptr);
    storage_ = std::make_unique<StoreLogStorage>(store_->log());
  }
  store::StorePtr OpenOne() {
    auto store = store::OpenStore("sqlite:log.db", dir_.path());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  std::string DbPath() const { return (fs::path(dir_.path()) / "log.db").string(); }

  TempDir dir_;
  store::StorePtr store_;
  std::unique_ptr<StoreLogStorage> storage_;
};

TEST_F(StoreLogStorageTest, SameRootsAndProofsAsInMemory) {
  MemoryLogStorage memory;
  auto mem_log = Log::Open(memory);
  auto db_log = Log::Open(*storage_);
  ASSERT_TRUE(mem_log.ok() && db_log.ok());
  InsecureDeterministicRandomForTesting random(7);
  uint64_t n = 0;
  std::vector<TreeHead> heads;
  while (n < 700) {
    const uint64_t count = 1 + random.NextUint64() % 40;
    std::vector<std::string> batch;
    for (uint64_t i = 0; i < count; ++i) batch.push_back(Leaf(n + i));
    auto a = (*mem_log)->Append(batch);
    auto b = (*db_log)->Append(batch);
    ASSERT_TRUE(a.ok() && b.ok()) << b.status();
    EXPECT_EQ(*a, n);
    EXPECT_EQ(*b, n);
    n += count;
    EXPECT_EQ((*db_log)->head(), (*mem_log)->head()) << n;
    heads.push_back((*db_log)->head());
  }
  for (uint64_t index : {0ul, 1ul, 255ul, 256ul, 511ul, n - 1}) {
    for (uint64_t size : {index + 1, n / 2 + 1, n}) {
      if (index >= size) continue;
      auto a = (*mem_log)->InclusionProof(index, size);
      auto b = InclusionProof(*storage_, index, size);
      ASSERT_TRUE(a.ok() && b.ok()) << b.status();
      EXPECT_EQ(*a, *b) << index << " " << size;
      auto leaf = LeafHashAt(*storage_, index);
      auto root = RootAt(*storage_, size);
      ASSERT_TRUE(leaf.ok() && root.ok());
      EXPECT_TRUE(VerifyInclusion(index, size, *leaf, *b, *root).ok());
    }
  }
  for (const TreeHead& old : heads) {
    auto a = (*mem_log)->ConsistencyProof(old.size, n);
    auto b = ConsistencyProof(*storage_, old.size, n);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(*a, *b);
    EXPECT_TRUE(
        VerifyConsistency(old.size, n, *b, old.root, (*db_log)->head().root).ok());
  }
  EXPECT_TRUE(VerifyStorage(*storage_).ok());
  EXPECT_EQ((*db_log)->head().root, RootFromLeafHashes([&] {
              std::vector<Hash> leaves;
              for (uint64_t i = 0; i < n; ++i) leaves.push_back(HashLeaf(Leaf(i)));
              return leaves;
            }()));
}

TEST_F(StoreLogStorageTest, SurvivesReopening) {
  TreeHead head;
  {
    auto log = Log::Open(*storage_);
    ASSERT_TRUE(log.ok());
    for (uint64_t i = 0; i < 300; i += 30) {
      std::vector<std::string> batch;
      for (uint64_t j = i; j < i + 30; ++j) batch.push_back(Leaf(j));
      ASSERT_TRUE((*log)->Append(batch).ok());
    }
    head = (*log)->head();
  }
  storage_.reset();
  store_.reset();
  store::StorePtr reopened = OpenOne();
  ASSERT_NE(reopened, nullptr);
  StoreLogStorage storage(reopened->log());
  auto log = Log::Open(storage);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->head(), head);
  auto next = (*log)->Append({Leaf(300)});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 300u);
  EXPECT_TRUE(VerifyStorage(storage).ok());
}

TEST_F(StoreLogStorageTest, TwoWritersOnOneFileNeverShareAnIndex) {
  store::StorePtr second = OpenOne();
  ASSERT_NE(second, nullptr);
  StoreLogStorage other(second->log());
  auto a = Log::Open(*storage_);
  auto b = Log::Open(other);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Append({"{\"w\":\"a0\"}"}).ok());
  // b still thinks the log is empty: its append at 0 must fail whole.
  auto lost = (*b)->Append({"{\"w\":\"b0\"}", "{\"w\":\"b1\"}"});
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kAborted);
  ASSERT_TRUE((*b)->Reload().ok());
  auto won = (*b)->Append({"{\"w\":\"b0\"}", "{\"w\":\"b1\"}"});
  ASSERT_TRUE(won.ok()) << won.status();
  EXPECT_EQ(*won, 1u);
  auto entries = storage_->ReadEntries(0, 3);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ((*entries)[0].data, "{\"w\":\"a0\"}");
  EXPECT_EQ((*entries)[2].data, "{\"w\":\"b1\"}");
  EXPECT_TRUE(VerifyStorage(*storage_).ok());
}

TEST_F(StoreLogStorageTest, ConcurrentWritersRetryWithoutGapsOrDuplicates) {
  constexpr int kPerWriter = 40;
  store::StorePtr second = OpenOne();
  ASSERT_NE(second, nullptr);
  StoreLogStorage other(second->log());
  auto write = [](LogStorage* storage, const std::string& name, absl::Status* result) {
    auto log = Log::Open(*storage);
    if (!log.ok()) {
      *result = log.status();
      return;
    }
    for (int i = 0; i < kPerWriter; ++i) {
      const std::string leaf = absl::StrCat("{\"w\":\"", name, i, "\"}");
      while (true) {
        auto index = (*log)->Append({leaf});
        if (index.ok()) break;
        if (!absl::IsAborted(index.status())) {
          *result = index.status();
          return;
        }
        if (absl::Status s = (*log)->Reload(); !s.ok()) {
          *result = s;
          return;
        }
      }
    }
  };
  absl::Status ra, rb;
  std::thread ta(write, storage_.get(), "a", &ra);
  std::thread tb(write, &other, "b", &rb);
  ta.join();
  tb.join();
  ASSERT_TRUE(ra.ok()) << ra;
  ASSERT_TRUE(rb.ok()) << rb;
  auto frontier = storage_->ReadFrontier();
  ASSERT_TRUE(frontier.ok());
  ASSERT_EQ(frontier->size, 2u * kPerWriter);
  auto entries = storage_->ReadEntries(0, frontier->size);
  ASSERT_TRUE(entries.ok());
  std::set<std::string> distinct;
  for (const LogEntry& e : *entries) distinct.insert(e.data);
  EXPECT_EQ(distinct.size(), 2u * kPerWriter);
  EXPECT_TRUE(VerifyStorage(*storage_).ok());
}

TEST_F(StoreLogStorageTest, TamperedRowsAreFoundByVerifyStorage) {
  auto log = Log::Open(*storage_);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*log)->Append({Leaf(i)}).ok());
  ASSERT_TRUE(VerifyStorage(*storage_).ok());

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE log_entries SET data = '{\"n\":99}' WHERE idx = 4",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  absl::Status entry = VerifyStorage(*storage_);
  EXPECT_EQ(entry.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(entry.message().find("4"), absl::string_view::npos) << entry;
  // Restore the entry, then corrupt an interior node instead.
  ASSERT_EQ(sqlite3_exec(db, "UPDATE log_entries SET data = '{\"n\":4}' WHERE idx = 4",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  ASSERT_TRUE(VerifyStorage(*storage_).ok());
  ASSERT_EQ(
      sqlite3_exec(db,
                   "UPDATE log_nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 2",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  EXPECT_EQ(VerifyStorage(*storage_).code(), absl::StatusCode::kDataLoss);
  // A hash of the wrong length is DataLoss too, never a crash.
  ASSERT_EQ(
      sqlite3_exec(db, "UPDATE log_nodes SET hash = x'0102' WHERE level = 1 AND idx = 2",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  EXPECT_EQ(storage_->ReadNodes({NodeId{1, 2}}).status().code(),
            absl::StatusCode::kDataLoss);
  sqlite3_close(db);
}

}  // namespace
}  // namespace privacity::audit
