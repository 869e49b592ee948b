// PostgreSQL-specific behaviour of the store: migrations, partitions and
// retention, and errors. Shared behaviour is in the conformance suites.
#include <libpq-fe.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/postgres_test_util.h"
#include "store/store.h"

namespace privacity::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::TestDatabase;

constexpr int64_t kWeekUs = int64_t{7} * 24 * 3600 * 1000000;

class PostgresqlStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::TestPostgresUrl().has_value()) {
      GTEST_SKIP() << testing::PostgresSkipReason();
    }
    absl::StatusOr<std::unique_ptr<TestDatabase>> db = TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
  }

  absl::StatusOr<StorePtr> Open() { return OpenStore(db_->uri(), ""); }

  // Runs `sql` on the test database; returns the first column of the first
  // row as text ("" when no row).
  std::string Query(const std::string& sql) {
    PGconn* conn = PQconnectdb(db_->uri().c_str());
    EXPECT_EQ(PQstatus(conn), CONNECTION_OK);
    PGresult* res = PQexec(conn, sql.c_str());
    const ExecStatusType st = PQresultStatus(res);
    EXPECT_TRUE(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) << PQerrorMessage(conn);
    std::string out = PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "";
    PQclear(res);
    PQfinish(conn);
    return out;
  }

  StoredRecord Record(int64_t id, const std::string& stream, int64_t time_us) {
    StoredRecord r;
    r.id = id;
    r.stream = stream;
    r.time_us = time_us;
    r.payload = "p" + std::to_string(id);
    return r;
  }

  std::unique_ptr<TestDatabase> db_;
};

TEST_F(PostgresqlStoreTest, NewDatabaseIsMigratedOnceEvenWhenNodesStartTogether) {
  std::vector<absl::StatusOr<StorePtr>> stores(4);
  std::vector<std::thread> threads;
  for (auto& s : stores) threads.emplace_back([&s, this] { s = Open(); });
  for (auto& t : threads) t.join();
  for (auto& s : stores) ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(Query("SELECT version FROM privacity_schema"), "5");
  EXPECT_EQ(Query("SELECT count(*) FROM privacity_schema"), "1");
}

TEST_F(PostgresqlStoreTest, FutureSchemaVersionIsRefused) {
  ASSERT_TRUE(Open().ok());
  Query("UPDATE privacity_schema SET version = 99");
  absl::StatusOr<StorePtr> store = Open();
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("newer"));
}

TEST_F(PostgresqlStoreTest, ForeignDatabaseIsRefused) {
  Query("CREATE TABLE records (x integer)");
  absl::StatusOr<StorePtr> store = Open();
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("not a privacity store"));
}

TEST_F(PostgresqlStoreTest, RecordsArePartitionedByStreamAndWeek) {
  absl::StatusOr<StorePtr> store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_EQ((*store)->ReserveRecordIds(4).value_or(-1), 1);
  ASSERT_TRUE((*store)
                  ->AppendRecords({Record(1, "a", 0), Record(2, "a", kWeekUs + 5),
                                   Record(3, "b", -1), Record(4, "a", kWeekUs + 6)})
                  .ok());
  EXPECT_EQ(Query("SELECT count(*) FROM record_partitions"), "3");
  EXPECT_EQ(Query("SELECT count(*) FROM records_s1_b1"), "2");
  EXPECT_EQ(Query("SELECT count(*) FROM records_s2_bm1"), "1");
  EXPECT_EQ(Query("SELECT relkind FROM pg_class WHERE relname = 'records'"), "p");
}

TEST_F(PostgresqlStoreTest, RetentionDropsWholePartitionsAndTrimsTheCutOne) {
  absl::StatusOr<StorePtr> store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->ReserveRecordIds(6).ok());
  ASSERT_TRUE((*store)
                  ->AppendRecords({Record(1, "a", 10), Record(2, "a", kWeekUs + 1),
                                   Record(3, "a", 2 * kWeekUs + 1),
                                   Record(4, "a", 2 * kWeekUs + 9),
                                   Record(5, "a", 3 * kWeekUs), Record(6, "b", 10)})
                  .ok());
  // Weeks 0 and 1 go whole; week 2 loses the record before the cut.
  absl::StatusOr<int64_t> deleted = (*store)->DeleteRecordsBefore("a", 2 * kWeekUs + 5);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 3);
  EXPECT_EQ(Query("SELECT (to_regclass('records_s1_b0') IS NULL)::text"), "true");
  EXPECT_EQ(Query("SELECT (to_regclass('records_s1_b1') IS NULL)::text"), "true");
  EXPECT_EQ(Query("SELECT count(*) FROM records_s1_b2"), "1");
  EXPECT_EQ((*store)->CountRecords("a").value_or(-1), 2);
  EXPECT_EQ((*store)->CountRecords("b").value_or(-1), 1);
}

TEST_F(PostgresqlStoreTest, AppendRecreatesAPartitionAnotherNodeDropped) {
  absl::StatusOr<StorePtr> a = Open();
  absl::StatusOr<StorePtr> b = Open();
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->ReserveRecordIds(2).ok());
  ASSERT_TRUE((*a)->AppendRecords({Record(1, "s", 5)}).ok());
  // Node b's retention drops the partition node a has cached.
  ASSERT_EQ((*b)->DeleteRecordsBefore("s", kWeekUs).value_or(-1), 1);
  absl::Status late = (*a)->AppendRecords({Record(2, "s", 6)});
  EXPECT_TRUE(late.ok()) << late;
  EXPECT_EQ((*b)->CountRecords("s").value_or(-1), 1);
}

TEST_F(PostgresqlStoreTest, ConcurrentFirstAppendsToANewPartitionAllSucceed) {
  std::vector<StorePtr> nodes;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<StorePtr> s = Open();
    ASSERT_TRUE(s.ok()) << s.status();
    nodes.push_back(*std::move(s));
  }
  std::vector<absl::Status> results(nodes.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < nodes.size(); ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<int64_t> id = nodes[i]->ReserveRecordIds(1);
      results[i] =
          id.ok() ? nodes[i]->AppendRecords({Record(*id, "new", 77)}) : id.status();
    });
  }
  for (auto& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(nodes[0]->CountRecords("new").value_or(-1), 3);
}

TEST_F(PostgresqlStoreTest, ServerErrorsNameNoValues) {
  absl::StatusOr<StorePtr> store = Open();
  ASSERT_TRUE(store.ok());
  // PostgreSQL text cannot hold NUL: the server refuses it, and the error
  // carries the SQLSTATE, not the value.
  const std::string hostile = std::string("secret-name\0x", 13);
  absl::Status s = (*store)->PutMeta("k", "v");
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<std::optional<std::string>> got = (*store)->GetMeta(hostile);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(got.status().message(), HasSubstr("SQLSTATE"));
  EXPECT_THAT(got.status().message(), Not(HasSubstr("secret")));
}

TEST(PostgresqlOpenTest, UnreachableServerIsUnavailableWithoutTheUri) {
  absl::StatusOr<StorePtr> store =
      OpenStore("postgresql://alice:pw-123@127.0.0.1:1/db?connect_timeout=2", "");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(store.status().message(), Not(HasSubstr("pw-123")));
  EXPECT_THAT(store.status().message(), Not(HasSubstr("alice")));
}

}  // namespace
}  // namespace privacity::store
