// SQLite-specific behaviour: URI dispatch, file modes, schema versioning
// and the settings the backend promises (WAL, page size).
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "crypto/key_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_util.h"

namespace privacity::store {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;

// Runs `sql` on the file directly (bypassing the store) and returns the
// first column of the first row as text.
std::string RawQuery(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
      if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
        out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

// Runs `sql` (any number of statements) on the file directly.
bool RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  bool ok = false;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    ok = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  sqlite3_close(db);
  return ok;
}

// The EXPLAIN QUERY PLAN details of `sql`, joined by " | ".
std::string QueryPlan(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    const std::string explain = "EXPLAIN QUERY PLAN " + sql;
    if (sqlite3_prepare_v2(db, explain.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        const unsigned char* detail = sqlite3_column_text(stmt, 3);
        if (detail != nullptr)
          out += std::string(reinterpret_cast<const char*>(detail)) + " | ";
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }
  std::string PathOf(const std::string& name) const { return dir_.path() + "/" + name; }
  TempDir dir_;
};

TEST_F(SqliteStoreTest, RelativePathIsUnderDataDirAndPrivate) {
  absl::StatusOr<StorePtr> store = OpenStore("sqlite:trust.db", dir_.path());
  ASSERT_TRUE(store.ok()) << store.status();
  const std::string path = PathOf("trust.db");
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ((*store)->Files(),
            (std::vector<std::string>{path, path + "-wal", path + "-shm"}));
  ASSERT_TRUE((*store)->PutMeta("k", "v").ok());
  for (const std::string& file : (*store)->Files()) {
    ASSERT_TRUE(std::filesystem::exists(file)) << file;
    EXPECT_EQ(ModeOf(file), 0600u) << file;
  }
}

TEST_F(SqliteStoreTest, CompactTruncatesTheWal) {
  absl::StatusOr<StorePtr> store = OpenStore("sqlite:wal.db", dir_.path());
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE((*store)->PutMeta("k" + std::to_string(i), std::string(1000, 'v')).ok());
  }
  const std::string wal = PathOf("wal.db-wal");
  ASSERT_GT(std::filesystem::file_size(wal), 0u);
  ASSERT_TRUE((*store)->Compact().ok());
  EXPECT_EQ(std::filesystem::file_size(wal), 0u);
  EXPECT_EQ((*store)->GetMeta("k19").value(), std::string(1000, 'v'));
}

TEST_F(SqliteStoreTest, AbsolutePathIgnoresDataDir) {
  const std::string path = PathOf("abs.db");
  absl::StatusOr<StorePtr> store = OpenStore("sqlite:" + path, "/nonexistent-data-dir");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Files().front(), path);
}

TEST_F(SqliteStoreTest, MissingDirectoryIsNotFound) {
  absl::StatusOr<StorePtr> store = OpenStore("sqlite:trust.db", PathOf("missing"));
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, UriDispatch) {
  // Nothing listens on port 1: the PostgreSQL backend is tried, fails to
  // connect, and says so without the password.
  absl::StatusOr<StorePtr> pg = OpenStore(
      "postgresql://privacity:s3cret@127.0.0.1:1/trust?connect_timeout=2", dir_.path());
  EXPECT_EQ(pg.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(pg.status().message(), HasSubstr("postgresql store: cannot connect"));
  EXPECT_THAT(pg.status().message(), Not(HasSubstr("s3cret")));

  absl::StatusOr<StorePtr> mysql = OpenStore("mysql://user:pw@host/db", dir_.path());
  EXPECT_EQ(mysql.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(mysql.status().message(), HasSubstr("'mysql'"));
  EXPECT_THAT(mysql.status().message(), Not(HasSubstr("pw@")));

  EXPECT_EQ(OpenStore("trust.db", dir_.path()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("", dir_.path()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("sqlite:", dir_.path()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, EmptyFileIsMigratedToTheLatestSchema) {
  const std::string path = PathOf("empty.db");
  { std::ofstream touch(path); }
  ASSERT_EQ(std::filesystem::file_size(path), 0u);
  absl::StatusOr<StorePtr> store = OpenStore("sqlite:empty.db", dir_.path());
  ASSERT_TRUE(store.ok()) << store.status();
  store->reset();

  EXPECT_EQ(RawQuery(path, "PRAGMA user_version"), "8");
  EXPECT_EQ(RawQuery(path, "PRAGMA application_id"), std::to_string(0x50525643));
  EXPECT_EQ(RawQuery(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(RawQuery(path, "PRAGMA page_size"), "16384");
  EXPECT_EQ(RawQuery(path,
                     "SELECT count(*) FROM sqlite_schema WHERE name IN "
                     "('records', 'keys', 'consent_events', 'budget_charges', "
                     "'meta', 'sequences', 'subject_records', 'subject_records_recent')"),
            "8");
  // Reopening a current file changes nothing.
  ASSERT_TRUE(OpenStore("sqlite:empty.db", dir_.path()).ok());
  EXPECT_EQ(RawQuery(path, "PRAGMA user_version"), "8");
}

TEST_F(SqliteStoreTest, ScanDoesNotSortPayloads) {
  // The scan walks the ids collected from the (stream, time_us) index and
  // fetches rows by primary key: no temporary b-tree holds row data.
  absl::StatusOr<StorePtr> store = OpenStore("sqlite:plan.db", dir_.path());
  ASSERT_TRUE(store.ok());
  store->reset();
  const std::string plan = QueryPlan(
      PathOf("plan.db"),
      "SELECT * FROM records WHERE id IN (SELECT id FROM records WHERE stream = 's' "
      "AND time_us >= 0 AND time_us <= 9 AND id > 0) ORDER BY id");
  EXPECT_THAT(plan, HasSubstr("records_by_stream_time"));
  EXPECT_THAT(plan, Not(HasSubstr("TEMP B-TREE")));
  // A subject's records: its data keys by index, the record ids listed
  // under them (by primary key in each run of the ordered list, the runs
  // found by primary key too; the recent list is short and scanned), and
  // rows fetched by primary key: the statement kFindRecordsBySubject runs.
  const std::string keys = "SELECT id FROM keys WHERE subject = x'00' AND kind = 4";
  const std::string runs =
      "WITH RECURSIVE runs(run) AS (SELECT min(run) FROM subject_records UNION ALL "
      "SELECT (SELECT min(s.run) FROM subject_records s WHERE s.run > runs.run) FROM "
      "runs WHERE runs.run IS NOT NULL) ";
  const std::string by_subject = QueryPlan(
      PathOf("plan.db"),
      "SELECT * FROM records WHERE id IN (" + runs +
          "SELECT s.record_id FROM runs JOIN subject_records s ON s.run = runs.run "
          "WHERE s.key_id IN (" +
          keys +
          ") UNION ALL SELECT record_id FROM subject_records_recent "
          "WHERE key_id IN (" +
          keys + ")) AND blind_index = x'00' ORDER BY id");
  EXPECT_THAT(by_subject,
              AllOf(HasSubstr("SEARCH s USING PRIMARY KEY (run=? AND key_id=?)"),
                    HasSubstr("SEARCH s USING PRIMARY KEY (run>?)"),
                    Not(HasSubstr("SCAN subject_records ")), HasSubstr("keys_by_subject"),
                    HasSubstr("SEARCH records USING INTEGER PRIMARY KEY"),
                    Not(HasSubstr("SCAN records")), Not(HasSubstr("SCAN s |"))));
  // Retention takes entries out of each run by a range of data keys.
  const std::string retention = QueryPlan(
      PathOf("plan.db"),
      runs +
          ", gone(key_id, id) AS MATERIALIZED (SELECT key_id, id FROM records WHERE "
          "stream = 's' AND time_us < 5 AND blind_index IS NOT NULL) "
          "DELETE FROM subject_records WHERE run IN (SELECT run FROM runs) AND key_id "
          "BETWEEN (SELECT min(key_id) FROM gone) AND (SELECT max(key_id) FROM gone) "
          "AND +record_id IN (SELECT id FROM gone)");
  EXPECT_THAT(retention,
              AllOf(HasSubstr("SEARCH subject_records USING PRIMARY KEY (run=? AND "
                              "key_id>? AND key_id<?)"),
                    HasSubstr("records_by_stream_time")));
  // Erasure lists a subject's data keys by index, whatever the number of keys.
  EXPECT_THAT(
      QueryPlan(PathOf("plan.db"),
                "SELECT id FROM keys WHERE kind = 1 AND subject = x'00' ORDER BY id"),
      HasSubstr("keys_by_subject"));
}

constexpr int kSubjects = 8;

// kSubjects subjects, each with a data key of stream "meters", epoch 1.
struct Subjects {
  std::vector<std::string> blind_indexes;
  std::vector<int64_t> key_ids;
};

Subjects CreateSubjects(Store& store) {
  Subjects out;
  for (int s = 0; s < kSubjects; ++s) {
    out.blind_indexes.push_back(std::string(32, static_cast<char>('a' + s)));
    crypto::WrappedKey key;
    key.name = crypto::KeyName{.kind = crypto::KeyKind::kSubjectDek,
                               .scope = "meters",
                               .epoch = 1,
                               .subject = out.blind_indexes.back()};
    key.wrapped = "wrapped";
    absl::StatusOr<crypto::WrappedKey> stored = store.keys().InsertKeyIfAbsent(key);
    EXPECT_TRUE(stored.ok()) << stored.status();
    out.key_ids.push_back(stored.ok() ? stored->id : 0);
  }
  return out;
}

// `batches` batches of 1,000 sealed records, the subjects in turn; batch b
// has time_us b.
void AppendBatches(Store& store, const Subjects& subjects, int batches) {
  for (int batch = 0; batch < batches; ++batch) {
    absl::StatusOr<int64_t> first = store.ReserveRecordIds(1000);
    ASSERT_TRUE(first.ok());
    std::vector<StoredRecord> records(1000);
    for (int i = 0; i < 1000; ++i) {
      StoredRecord& r = records[i];
      r.id = *first + i;
      r.stream = "meters";
      r.time_us = batch;
      r.epoch = 1;
      r.blind_index = subjects.blind_indexes[i % kSubjects];
      r.key_id = subjects.key_ids[i % kSubjects];
      r.payload = "sealed";
    }
    ASSERT_TRUE(store.AppendRecords(records).ok());
  }
}

// The recent list of a subject's records becomes a run of the ordered list
// once it holds 65,536 entries; lookups and erasure see both lists.
TEST_F(SqliteStoreTest, SubjectListsAreMergedAndBothAreSearchedAndCleared) {
  absl::StatusOr<StorePtr> store = OpenStore("sqlite:lists.db", dir_.path());
  ASSERT_TRUE(store.ok()) << store.status();
  const Subjects created = CreateSubjects(**store);
  const std::vector<std::string>& subjects = created.blind_indexes;
  const std::vector<int64_t>& key_ids = created.key_ids;
  // 70,000 records in batches of 1,000: the batch that takes the recent
  // list past 65,536 entries moves all 66,000; 4,000 are recent again.
  AppendBatches(**store, created, 70);
  const std::string path = PathOf("lists.db");
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM subject_records"), "66000");
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM subject_records_recent"), "4000");
  EXPECT_EQ(RawQuery(path, "SELECT min(run) || ',' || max(run) FROM subject_records"),
            "1,1");
  // 132,000 records: a second run.
  AppendBatches(**store, created, 62);
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM subject_records"), "132000");
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM subject_records_recent"), "0");
  EXPECT_EQ(RawQuery(path, "SELECT count(DISTINCT run) FROM subject_records"), "2");
  constexpr int kRecords = 132000;

  absl::StatusOr<std::vector<StoredRecord>> found =
      (*store)->FindRecordsBySubject(subjects[3]);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->size(), static_cast<size_t>(kRecords / kSubjects));
  for (size_t i = 1; i < found->size(); ++i)
    EXPECT_LT((*found)[i - 1].id, (*found)[i].id);

  absl::StatusOr<int64_t> deleted = (*store)->DeleteRecordsBySubject(subjects[3]);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, kRecords / kSubjects);
  EXPECT_TRUE((*store)->FindRecordsBySubject(subjects[3]).value().empty());
  EXPECT_EQ(
      RawQuery(path, absl::StrCat("SELECT count(*) FROM subject_records WHERE key_id = ",
                                  key_ids[3])),
      "0");
  EXPECT_EQ(RawQuery(path, absl::StrCat("SELECT count(*) FROM subject_records_recent "
                                        "WHERE key_id = ",
                                        key_ids[3])),
            "0");
  EXPECT_EQ((*store)->FindRecordsBySubject(subjects[4]).value().size(),
            static_cast<size_t>(kRecords / kSubjects));

  // Retention takes the deleted records out of the lists too: batches 0 to
  // 34 of both calls, in both runs.
  constexpr int kOld = 70000;
  ASSERT_EQ((*store)->DeleteRecordsBefore("meters", 35).value(), kOld - kOld / kSubjects);
  EXPECT_EQ(RawQuery(path,
                     "SELECT (SELECT count(*) FROM subject_records) + "
                     "(SELECT count(*) FROM subject_records_recent)"),
            std::to_string((kRecords - kOld) - (kRecords - kOld) / kSubjects));
  EXPECT_EQ((*store)->FindRecordsBySubject(subjects[4]).value().size(),
            static_cast<size_t>((kRecords - kOld) / kSubjects));
  // And unlinked records are no subject's.
  ASSERT_EQ((*store)->UnlinkRecordsBefore("meters", 2).value(),
            (kRecords - kOld) - (kRecords - kOld) / kSubjects);
  EXPECT_EQ(RawQuery(path,
                     "SELECT (SELECT count(*) FROM subject_records) + "
                     "(SELECT count(*) FROM subject_records_recent)"),
            "0");
  EXPECT_TRUE((*store)->FindRecordsBySubject(subjects[4]).value().empty());
}

// A schema 6 store (records found through records_by_key) moves to the
// subject lists with every record it holds listed.
TEST_F(SqliteStoreTest, ASchema6StoreIsMigratedWithItsRecordsListed) {
  const std::string path = PathOf("six.db");
  Subjects subjects;
  {
    absl::StatusOr<StorePtr> store = OpenStore("sqlite:six.db", dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    subjects = CreateSubjects(**store);
    AppendBatches(**store, subjects, 3);
  }
  // Back to schema 6 as it was: no lists, the index on key_id.
  ASSERT_TRUE(RawExec(path,
                      "DROP TABLE subject_records; DROP TABLE subject_records_recent; "
                      "CREATE INDEX records_by_key ON records (key_id) "
                      "WHERE blind_index IS NOT NULL; PRAGMA user_version = 6;"));
  ASSERT_EQ(RawQuery(path, "PRAGMA user_version"), "6");

  absl::StatusOr<StorePtr> store = OpenStore("sqlite:six.db", dir_.path());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(RawQuery(path, "PRAGMA user_version"), "8");
  EXPECT_EQ(RawQuery(path,
                     "SELECT count(*) FROM sqlite_schema WHERE name = "
                     "'records_by_key'"),
            "0");
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM subject_records"), "3000");
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM subject_records_recent"), "0");
  for (const std::string& subject : subjects.blind_indexes) {
    absl::StatusOr<std::vector<StoredRecord>> found =
        (*store)->FindRecordsBySubject(subject);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(found->size(), 3000u / kSubjects);
  }
}

// A schema 7 store (one ordered list, by key) becomes run 1 of the runs.
TEST_F(SqliteStoreTest, ASchema7StoreKeepsItsListsAsTheFirstRun) {
  const std::string path = PathOf("seven.db");
  Subjects subjects;
  {
    absl::StatusOr<StorePtr> store = OpenStore("sqlite:seven.db", dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    subjects = CreateSubjects(**store);
    AppendBatches(**store, subjects, 3);
  }
  // Back to schema 7 as it was: 2,000 entries in the ordered list, 1,000
  // still recent.
  ASSERT_TRUE(RawExec(
      path,
      "DROP TABLE subject_records; CREATE TABLE subject_records (key_id INTEGER NOT "
      "NULL, record_id INTEGER NOT NULL, PRIMARY KEY (key_id, record_id)) WITHOUT "
      "ROWID; INSERT INTO subject_records SELECT key_id, record_id FROM "
      "subject_records_recent WHERE rowid <= 2000; DELETE FROM subject_records_recent "
      "WHERE rowid <= 2000; PRAGMA user_version = 7;"));

  absl::StatusOr<StorePtr> store = OpenStore("sqlite:seven.db", dir_.path());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(RawQuery(path, "PRAGMA user_version"), "8");
  EXPECT_EQ(RawQuery(path,
                     "SELECT count(*) || ',' || min(run) || ',' || max(run) FROM "
                     "subject_records"),
            "2000,1,1");
  for (const std::string& subject : subjects.blind_indexes) {
    EXPECT_EQ((*store)->FindRecordsBySubject(subject).value().size(), 3000u / kSubjects);
  }
  // The next move is run 2; both runs and the recent list are searched.
  AppendBatches(**store, subjects, 65);
  EXPECT_EQ(RawQuery(path, "SELECT max(run) FROM subject_records"), "2");
  EXPECT_EQ((*store)->FindRecordsBySubject(subjects.blind_indexes[0]).value().size(),
            68000u / kSubjects);
}

TEST_F(SqliteStoreTest, FutureSchemaVersionIsRefused) {
  ASSERT_TRUE(OpenStore("sqlite:future.db", dir_.path()).ok());
  ASSERT_EQ(RawQuery(PathOf("future.db"), "PRAGMA user_version = 99; SELECT 1"), "");
  RawQuery(PathOf("future.db"), "PRAGMA user_version = 99");
  ASSERT_EQ(RawQuery(PathOf("future.db"), "PRAGMA user_version"), "99");
  absl::StatusOr<StorePtr> store = OpenStore("sqlite:future.db", dir_.path());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("99"));
  EXPECT_THAT(store.status().message(), HasSubstr("newer"));
  // Nothing was changed by the refusal.
  EXPECT_EQ(RawQuery(PathOf("future.db"), "PRAGMA user_version"), "99");
}

TEST_F(SqliteStoreTest, ForeignDatabaseIsRefused) {
  const std::string path = PathOf("other.db");
  { std::ofstream touch(path); }
  RawQuery(path, "CREATE TABLE notes (x)");
  absl::StatusOr<StorePtr> store = OpenStore("sqlite:other.db", dir_.path());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("not a privacity store"));

  RawQuery(path, "PRAGMA application_id = 1234");
  EXPECT_EQ(OpenStore("sqlite:other.db", dir_.path()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, NotADatabaseIsDataLoss) {
  const std::string path = PathOf("garbage.db");
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(4096, 'x');
  }
  absl::StatusOr<StorePtr> store = OpenStore("sqlite:garbage.db", dir_.path());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
}

}  // namespace
}  // namespace privacity::store
