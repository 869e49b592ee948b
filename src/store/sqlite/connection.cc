#include "store/sqlite/connection.h"

#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"

namespace privacity::store::sqlite_internal {
namespace {

// Busy timeout: the CLI and the server share the file, and a large ingest
// batch holds the write lock for a while.
constexpr int kBusyTimeoutMs = 10000;

// Connections kept open when idle; more may exist while busy.
constexpr size_t kMaxIdleConnections = 4;

// The record columns in StoredRecord order, as read by every record query.
#define PRIVACITY_RECORD_COLUMNS \
  "id, stream, time_us, cell, epoch, blind_index, key_id, payload, batch"

// The runs of the ordered subject list, by a skip scan of its leading
// column: one primary-key seek per run (schema.cc, 7 -> 8).
#define PRIVACITY_SUBJECT_RUNS                                                   \
  "WITH RECURSIVE runs(run) AS (SELECT min(run) FROM subject_records UNION ALL " \
  "SELECT (SELECT min(s.run) FROM subject_records s WHERE s.run > runs.run) "    \
  "FROM runs WHERE runs.run IS NOT NULL) "

// A subject's data keys (?1 blind index, ?2 the data key kind), and the ids
// of the records listed under them: in each run, and in the recent list.
#define PRIVACITY_SUBJECT_KEY_IDS "SELECT id FROM keys WHERE subject = ?1 AND kind = ?2"
#define PRIVACITY_SUBJECT_RECORD_IDS                                               \
  PRIVACITY_SUBJECT_RUNS                                                           \
  "SELECT s.record_id FROM runs JOIN subject_records s ON s.run = runs.run WHERE " \
  "s.key_id IN (" PRIVACITY_SUBJECT_KEY_IDS                                        \
  ") UNION ALL SELECT record_id FROM subject_records_recent WHERE key_id IN "      \
  "(" PRIVACITY_SUBJECT_KEY_IDS ")"

// Indexed by Sql. Times are bound as microseconds since 1970.
constexpr const char* kStatements[] = {
    // kBeginDeferred
    "BEGIN DEFERRED",
    // kBeginImmediate
    "BEGIN IMMEDIATE",
    // kCommit
    "COMMIT",
    // kRollback
    "ROLLBACK",
    // kNextRecordId
    "SELECT next_value FROM sequences WHERE name = 'records'",
    // kReserveRecordIds: ?1 = n. Refuses to overflow int64.
    "UPDATE sequences SET next_value = next_value + ?1 "
    "WHERE name = 'records' AND next_value <= 9223372036854775807 - ?1 "
    "RETURNING next_value - ?1",
    // kInsertRecord
    "INSERT INTO records (" PRIVACITY_RECORD_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    // kScanRecords: ?1 stream, ?2..?3 closed time range, ?4 cursor. The
    // subquery collects only ids from the (stream, time_us) index; the outer
    // query walks them in id order and fetches each row by primary key, so
    // no payload is ever sorted or buffered.
    "SELECT " PRIVACITY_RECORD_COLUMNS
    " FROM records WHERE id IN (SELECT id FROM records WHERE stream = ?1 AND "
    "time_us >= ?2 AND time_us <= ?3 AND id > ?4) ORDER BY id",
    // kScanRecordsLimit: as above with ?5 = limit (bounded sorter).
    "SELECT " PRIVACITY_RECORD_COLUMNS
    " FROM records WHERE id IN (SELECT id FROM records WHERE stream = ?1 AND "
    "time_us >= ?2 AND time_us <= ?3 AND id > ?4 ORDER BY id LIMIT ?5) ORDER BY id",
    // kFindRecordsBySubject: ?1 blind index, ?2 the subject data key kind.
    // Through the subject's data keys (keys_by_subject), then the record ids
    // listed under them (subject_records and subject_records_recent: see
    // schema.cc on why records are not indexed by subject), ids first so
    // that no payload is sorted.
    "SELECT " PRIVACITY_RECORD_COLUMNS
    " FROM records WHERE id IN (" PRIVACITY_SUBJECT_RECORD_IDS
    ") AND blind_index = ?1 "
    "ORDER BY id",
    // kDeleteRecordsBySubject: as above. REQUIRES: the data keys still exist.
    "DELETE FROM records WHERE id IN (" PRIVACITY_SUBJECT_RECORD_IDS
    ") AND blind_index = ?1",
    // kDeleteSubjectRecordIds, kDeleteRecentSubjectRecordIds: the lists of
    // the subject's records, after the records.
    PRIVACITY_SUBJECT_RUNS
    "DELETE FROM subject_records WHERE run IN (SELECT run FROM runs) AND key_id IN "
    "(" PRIVACITY_SUBJECT_KEY_IDS ")",
    "DELETE FROM subject_records_recent WHERE key_id IN (" PRIVACITY_SUBJECT_KEY_IDS ")",
    // kDeleteRecordsBefore
    "DELETE FROM records WHERE stream = ?1 AND time_us < ?2",
    // kDeleteRecordIdsBefore, kDeleteRecentRecordIdsBefore: the subject
    // lists' entries of those records, first. In each run, the range of
    // their data keys (old epochs' keys, mostly next to each other) is read
    // once, not sought key by key.
    PRIVACITY_SUBJECT_RUNS
    ", gone(key_id, id) AS MATERIALIZED (SELECT key_id, id FROM records WHERE "
    "stream = ?1 AND time_us < ?2 AND blind_index IS NOT NULL) "
    "DELETE FROM subject_records WHERE run IN (SELECT run FROM runs) AND key_id "
    "BETWEEN (SELECT min(key_id) FROM gone) AND (SELECT max(key_id) FROM gone) "
    "AND +record_id IN (SELECT id FROM gone)",
    "DELETE FROM subject_records_recent WHERE record_id IN (SELECT id FROM records "
    "WHERE stream = ?1 AND time_us < ?2 AND blind_index IS NOT NULL)",
    // kUnlinkRecordsBefore
    "UPDATE records SET blind_index = NULL "
    "WHERE stream = ?1 AND epoch < ?2 AND blind_index IS NOT NULL",
    // kUnlinkRecordIdsBefore, kUnlinkRecentRecordIdsBefore: unlinked records
    // are no subject's, so they leave the subject lists, first. A record's
    // data key is of its own stream and epoch, so the lists' entries go by
    // key (keys_by_name), without a scan of the stream's records. 4 is
    // KeyKind::kSubjectDek (stored, so fixed; sqlite_store.cc checks it).
    PRIVACITY_SUBJECT_RUNS
    ", unlinked(id) AS MATERIALIZED (SELECT id FROM keys WHERE kind = 4 AND "
    "scope = ?1 AND epoch < ?2) "
    "DELETE FROM subject_records WHERE run IN (SELECT run FROM runs) AND key_id "
    "BETWEEN (SELECT min(id) FROM unlinked) AND (SELECT max(id) FROM unlinked) "
    "AND +key_id IN (SELECT id FROM unlinked)",
    "DELETE FROM subject_records_recent WHERE key_id IN (SELECT id FROM keys WHERE "
    "kind = 4 AND scope = ?1 AND epoch < ?2)",
    // kListRecordIds: the records with ids in [?1, ?2] that have a subject.
    "INSERT INTO subject_records_recent (key_id, record_id) SELECT key_id, id FROM "
    "records WHERE id >= ?1 AND id <= ?2 AND blind_index IS NOT NULL",
    // kMergeRecentRecordIds (?1 the new run, one more than the largest),
    // kClearRecentRecordIds: moves the recent list into a new run of the
    // ordered one, after every other run and sorted, so its pages are
    // written once, in order.
    "INSERT INTO subject_records (run, key_id, record_id) SELECT ?1, key_id, record_id "
    "FROM subject_records_recent ORDER BY key_id, record_id",
    "DELETE FROM subject_records_recent",
    // kCountRecords
    "SELECT count(*) FROM records WHERE stream = ?1",
    // kInsertKey
    "INSERT INTO keys (kind, scope, epoch, subject, wrapped, created_us) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT (kind, scope, epoch, subject) DO NOTHING",
    // kFindKey
    "SELECT id, wrapped, created_us FROM keys "
    "WHERE kind = ?1 AND scope = ?2 AND epoch = ?3 AND subject = ?4",
    // kGetKey
    "SELECT kind, scope, epoch, subject, wrapped, created_us FROM keys WHERE id = ?1",
    // kDestroyKey
    "DELETE FROM keys WHERE id = ?1",
    // kCountKeyChange: the count is next_value - 1, 0 while the row is absent.
    "INSERT INTO sequences (name, next_value) VALUES ('key_changes', 2) "
    "ON CONFLICT (name) DO UPDATE SET next_value = next_value + 1",
    // kKeyChanges
    "SELECT next_value - 1 FROM sequences WHERE name = 'key_changes'",
    // kListKeysBefore
    "SELECT id, epoch, subject, wrapped, created_us FROM keys "
    "WHERE kind = ?1 AND scope = ?2 AND epoch < ?3 ORDER BY epoch, id",
    // kInsertConsent
    "INSERT INTO consent_events (blind_index, purpose, state, time_us, source) "
    "VALUES (?1, ?2, ?3, ?4, ?5)",
    // kConsentHistory
    "SELECT purpose, state, time_us, source FROM consent_events "
    "WHERE blind_index = ?1 ORDER BY time_us, id",
    // kDeleteConsent
    "DELETE FROM consent_events WHERE blind_index = ?1",
    // kFindCharge
    "SELECT epsilon, delta, time_us, result, rho, rho_delta FROM budget_charges "
    "WHERE agreement = ?1 AND period = ?2 AND query_key = ?3",
    // kSpentBudget
    "SELECT total(epsilon), total(delta), total(rho), total(rho_delta) "
    "FROM budget_charges "
    "WHERE agreement = ?1 AND period = ?2",
    // kInsertCharge
    "INSERT INTO budget_charges "
    "(agreement, period, query_key, epsilon, delta, time_us, result, rho, rho_delta) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    // kGetMeta
    "SELECT value FROM meta WHERE key = ?1",
    // kPutMeta
    "INSERT INTO meta (key, value) VALUES (?1, ?2) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    // kCheckpoint: returns (busy, wal frames, checkpointed frames).
    "PRAGMA wal_checkpoint(TRUNCATE)",
};
static_assert(std::size(kStatements) == static_cast<size_t>(Sql::kCount),
              "one SQL text per Sql value");

#undef PRIVACITY_RECORD_COLUMNS
#undef PRIVACITY_SUBJECT_RECORD_IDS
#undef PRIVACITY_SUBJECT_KEY_IDS

absl::StatusCode CodeFor(int rc) {
  switch (rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      return absl::StatusCode::kAlreadyExists;
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return absl::StatusCode::kInvalidArgument;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return absl::StatusCode::kPermissionDenied;
    case SQLITE_CANTOPEN:
      return absl::StatusCode::kNotFound;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view path,
                         absl::string_view op) {
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return absl::Status(CodeFor(rc),
                      absl::StrCat("sqlite store ", path, ": ", op, ": ", msg));
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& path) {
  // SQLite's memory statistics (unused here) put a process-wide mutex
  // around every allocation. Turning them off must precede the library's
  // initialisation; when something else initialised it first the call
  // fails harmlessly and the statistics stay on.
  static std::once_flag memstatus_off;
  std::call_once(memstatus_off, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(db, rc, path, "open");
    sqlite3_close_v2(db);
    return status;
  }
  std::unique_ptr<Connection> conn(new Connection(db, path));
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  sqlite3_extended_result_codes(db, 1);
  // Refuse writes to sqlite_schema and other foot-guns.
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  // synchronous=NORMAL is durable against application crashes in WAL mode
  // and loses at most the last transactions on power loss, never integrity.
  // secure_delete=ON zeroes deleted cells and freed pages; it is a
  // per-connection setting, so every connection sets it.
  // cache_size is in KiB when negative: 64 MiB keeps the hot index pages of
  // a large ingest in memory between batches.
  absl::Status s = conn->Exec(
      "PRAGMA synchronous = NORMAL;"
      "PRAGMA secure_delete = ON;"
      "PRAGMA foreign_keys = ON;"
      "PRAGMA trusted_schema = OFF;"
      "PRAGMA cache_size = -65536;",
      "configure connection");
  if (!s.ok()) return s;
  return conn;
}

Connection::~Connection() {
  for (sqlite3_stmt* stmt : statements_) sqlite3_finalize(stmt);
  for (const auto& [sql, stmt] : statements_by_text_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

absl::StatusOr<sqlite3_stmt*> Connection::Get(Sql sql) {
  const size_t i = static_cast<size_t>(sql);
  if (statements_[i] == nullptr) {
    const int rc = sqlite3_prepare_v3(db_, kStatements[i], -1, SQLITE_PREPARE_PERSISTENT,
                                      &statements_[i], nullptr);
    if (rc != SQLITE_OK) {
      statements_[i] = nullptr;
      return Error(rc, "prepare statement");
    }
  }
  return statements_[i];
}

absl::StatusOr<sqlite3_stmt*> Connection::GetByText(const char* sql,
                                                    absl::string_view op) {
  auto [it, inserted] = statements_by_text_.try_emplace(sql, nullptr);
  if (inserted) {
    const int rc =
        sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &it->second, nullptr);
    if (rc != SQLITE_OK) {
      statements_by_text_.erase(it);
      return Error(rc, op);
    }
  }
  return it->second;
}

absl::Status Connection::Exec(const char* sql, absl::string_view op) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, op);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Connection::QueryInt(const char* sql, absl::string_view op) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, op);
  rc = sqlite3_step(stmt);
  if (rc != SQLITE_ROW) {
    absl::Status status = rc == SQLITE_DONE
                              ? absl::InternalError(absl::StrCat("sqlite store ", path_,
                                                                 ": ", op, ": no result"))
                              : Error(rc, op);
    sqlite3_finalize(stmt);
    return status;
  }
  const int64_t value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return value;
}

absl::StatusOr<std::unique_ptr<Transaction>> Transaction::Begin(Connection& conn,
                                                                TransactionMode mode) {
  const Sql sql =
      mode == TransactionMode::kImmediate ? Sql::kBeginImmediate : Sql::kBeginDeferred;
  absl::StatusOr<sqlite3_stmt*> stmt = conn.Get(sql);
  if (!stmt.ok()) return stmt.status();
  StatementScope scope(*stmt);
  const int rc = sqlite3_step(*stmt);
  if (rc != SQLITE_DONE) return conn.Error(rc, "begin transaction");
  return std::unique_ptr<Transaction>(new Transaction(conn));
}

Transaction::~Transaction() {
  if (!open_) return;
  absl::StatusOr<sqlite3_stmt*> stmt = conn_.Get(Sql::kRollback);
  if (stmt.ok()) {
    StatementScope scope(*stmt);
    sqlite3_step(*stmt);
  }
  // If ROLLBACK could not run (or SQLite already rolled back on an I/O
  // error), make sure the connection is back in autocommit mode.
  if (!sqlite3_get_autocommit(conn_.db())) {
    sqlite3_exec(conn_.db(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

absl::Status Transaction::Commit() {
  absl::StatusOr<sqlite3_stmt*> stmt = conn_.Get(Sql::kCommit);
  if (!stmt.ok()) return stmt.status();
  StatementScope scope(*stmt);
  const int rc = sqlite3_step(*stmt);
  if (rc != SQLITE_DONE) return conn_.Error(rc, "commit");
  open_ = false;
  return absl::OkStatus();
}

ConnectionPool::ConnectionPool(std::string path, std::unique_ptr<Connection> first)
    : path_(std::move(path)) {
  idle_.push_back(std::move(first));
}

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(conn));
    }
  }
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(path_);
  if (!conn.ok()) return conn.status();
  return Lease(*this, *std::move(conn));
}

void ConnectionPool::Release(std::unique_ptr<Connection> conn) {
  absl::MutexLock lock(&mu_);
  if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(conn));
  // Otherwise `conn` closes here.
}

}  // namespace privacity::store::sqlite_internal
