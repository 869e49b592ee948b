// MigrateStore (store/store.h): SQLite -> PostgreSQL. Every table except
// records is copied row for row, ids included, with binary COPY in one
// PostgreSQL transaction; records then go through the PostgreSQL store's
// own AppendRecords, which creates their partitions.
#include <sqlite3.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/postgresql/connection.h"
#include "store/postgresql/postgresql_store.h"
#include "store/store.h"

namespace privacity::store {
namespace {

using postgresql_internal::Connection;
using postgresql_internal::CopyWriter;
using postgresql_internal::Params;
using postgresql_internal::Result;
using postgresql_internal::Transaction;
using postgresql_internal::TransactionMode;

// The SQLite schema version whose tables this file knows (opening the
// source migrates it to its latest). A newer source is refused rather than
// moved without the tables added since.
constexpr int64_t kKnownSqliteVersion = 8;
constexpr size_t kRecordBatch = 10000;

enum class Col { kInt64, kInt32, kFloat8, kBytes };

struct TableSpec {
  const char* name;
  std::vector<std::pair<const char*, Col>> columns;
};

// The tables copied as they are (records and log_frontier are handled
// apart). Column names are the same on both backends.
const std::vector<TableSpec>& Tables() {
  static const auto* tables = new std::vector<TableSpec>{
      {"meta", {{"key", Col::kBytes}, {"value", Col::kBytes}}},
      {"keys",
       {{"id", Col::kInt64},
        {"kind", Col::kInt32},
        {"scope", Col::kBytes},
        {"epoch", Col::kInt64},
        {"subject", Col::kBytes},
        {"wrapped", Col::kBytes},
        {"created_us", Col::kInt64}}},
      {"consent_events",
       {{"id", Col::kInt64},
        {"blind_index", Col::kBytes},
        {"purpose", Col::kBytes},
        {"state", Col::kBytes},
        {"time_us", Col::kInt64},
        {"source", Col::kBytes}}},
      {"budget_charges",
       {{"id", Col::kInt64},
        {"agreement", Col::kBytes},
        {"period", Col::kInt64},
        {"query_key", Col::kBytes},
        {"epsilon", Col::kFloat8},
        {"delta", Col::kFloat8},
        {"time_us", Col::kInt64},
        {"result", Col::kBytes},
        {"rho", Col::kFloat8},
        {"rho_delta", Col::kFloat8}}},
      {"tokens",
       {{"id", Col::kInt64},
        {"token_hash", Col::kBytes},
        {"party", Col::kBytes},
        {"stream", Col::kBytes},
        {"label", Col::kBytes},
        {"created_us", Col::kInt64},
        {"revoked_us", Col::kInt64}}},
      {"rights_requests",
       {{"id", Col::kBytes},
        {"kind", Col::kBytes},
        {"status", Col::kBytes},
        {"blind_index", Col::kBytes},
        {"created_us", Col::kInt64},
        {"deadline_us", Col::kInt64},
        {"completed_us", Col::kInt64},
        {"detail", Col::kBytes}}},
      {"log_entries",
       {{"idx", Col::kInt64}, {"data", Col::kBytes}, {"leaf_hash", Col::kBytes}}},
      {"log_nodes",
       {{"level", Col::kInt32}, {"idx", Col::kInt64}, {"hash", Col::kBytes}}},
      {"log_checkpoints",
       {{"size", Col::kInt64}, {"note", Col::kBytes}, {"created_us", Col::kInt64}}},
      {"ingest_keys",
       {{"stream", Col::kBytes}, {"digest", Col::kBytes}, {"time_us", Col::kInt64}}},
      {"releases",
       {{"id", Col::kBytes},
        {"agreement", Col::kBytes},
        {"stream", Col::kBytes},
        {"title", Col::kBytes},
        {"created_us", Col::kInt64},
        {"summary", Col::kBytes},
        {"body", Col::kBytes}}},
  };
  return *tables;
}

// Tables whose identity column must continue after the copied ids.
constexpr const char* kIdentityTables[] = {"keys", "consent_events", "budget_charges",
                                           "tokens"};

// A read-only SQLite handle and statement, closed on scope exit.
class SqliteReader {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteReader>> Open(const std::string& path) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    auto reader = std::unique_ptr<SqliteReader>(new SqliteReader(db, path));
    if (rc != SQLITE_OK) return reader->Error("open");
    sqlite3_busy_timeout(db, 30000);
    // One snapshot for the whole copy.
    RETURN_IF_ERROR(reader->Exec("BEGIN"));
    RETURN_IF_ERROR(reader->Exec("SELECT count(*) FROM sqlite_schema"));
    return reader;
  }
  ~SqliteReader() {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close_v2(db_);
  }

  absl::Status Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Error("read");
    }
    return absl::OkStatus();
  }

  absl::Status Prepare(const std::string& sql) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      return Error("read");
    }
    return absl::OkStatus();
  }
  // True with a row, false when done.
  absl::StatusOr<bool> Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Error("read");
  }
  sqlite3_stmt* stmt() const { return stmt_; }

  absl::Status Error(absl::string_view op) const {
    return absl::InternalError(absl::StrCat("migrate: sqlite store ", path_, ": ", op,
                                            ": ", sqlite3_errmsg(db_)));
  }

 private:
  SqliteReader(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* stmt_ = nullptr;
};

std::string ColumnBytes(sqlite3_stmt* stmt, int col) {
  const void* data = sqlite3_column_blob(stmt, col);
  const int size = sqlite3_column_bytes(stmt, col);
  if (data == nullptr || size <= 0) return "";
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

absl::StatusOr<int64_t> CopyTable(SqliteReader& from, Connection& to,
                                  const TableSpec& t) {
  std::string cols;
  for (const auto& [name, type] : t.columns) {
    absl::StrAppend(&cols, cols.empty() ? "" : ", ", name);
  }
  RETURN_IF_ERROR(from.Prepare(absl::StrCat("SELECT ", cols, " FROM ", t.name)));
  CopyWriter copy;
  int64_t rows = 0;
  while (true) {
    ASSIGN_OR_RETURN(bool row, from.Step());
    if (!row) break;
    ++rows;
    copy.BeginRow(static_cast<int16_t>(t.columns.size()));
    for (size_t i = 0; i < t.columns.size(); ++i) {
      const int c = static_cast<int>(i);
      if (sqlite3_column_type(from.stmt(), c) == SQLITE_NULL) {
        copy.Null();
        continue;
      }
      switch (t.columns[i].second) {
        case Col::kInt64:
          copy.Int64(sqlite3_column_int64(from.stmt(), c));
          break;
        case Col::kInt32:
          copy.Int32(sqlite3_column_int(from.stmt(), c));
          break;
        case Col::kFloat8:
          copy.Float8(sqlite3_column_double(from.stmt(), c));
          break;
        case Col::kBytes:
          copy.Bytes(ColumnBytes(from.stmt(), c));
          break;
      }
    }
  }
  if (rows == 0) return 0;
  const std::string sql =
      absl::StrCat("COPY ", t.name, " (", cols, ") FROM STDIN (FORMAT binary)");
  ASSIGN_OR_RETURN(int64_t copied, to.CopyIn(sql.c_str(), copy.Finish(),
                                             absl::StrCat("migrate: copy ", t.name)));
  return copied;
}

}  // namespace

absl::StatusOr<MigrationSummary> MigrateStore(const std::string& from_uri,
                                              const std::string& to_uri,
                                              const std::string& data_dir) {
  if (!absl::StartsWith(from_uri, "sqlite:")) {
    return absl::InvalidArgumentError("migrate: the source store must be sqlite:PATH");
  }
  if (!absl::StartsWith(to_uri, "postgresql://") &&
      !absl::StartsWith(to_uri, "postgres://")) {
    return absl::InvalidArgumentError("migrate: the target must be a postgresql:// URI");
  }
  // Opening migrates the source to the latest schema and checks it.
  std::string path;
  {
    ASSIGN_OR_RETURN(StorePtr source, OpenStore(from_uri, data_dir));
    const std::vector<std::string> files = source->Files();
    if (files.empty()) return absl::InternalError("migrate: the source has no file");
    path = files[0];
  }
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteReader> from, SqliteReader::Open(path));
  {
    RETURN_IF_ERROR(from->Prepare("PRAGMA user_version"));
    ASSIGN_OR_RETURN(bool row, from->Step());
    const int64_t version = row ? sqlite3_column_int64(from->stmt(), 0) : -1;
    if (version != kKnownSqliteVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat("migrate: the source has schema version ", version,
                       "; this build moves version ", kKnownSqliteVersion));
    }
  }

  ASSIGN_OR_RETURN(StorePtr target, postgresql_internal::OpenPostgresqlStore(to_uri));
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> to, Connection::Open(to_uri));
  {
    ASSIGN_OR_RETURN(
        Result n,
        to->Exec("SELECT (SELECT count(*) FROM streams) + (SELECT count(*) FROM "
                 "keys) + (SELECT count(*) FROM log_entries) + (SELECT count(*) "
                 "FROM meta) + (SELECT count(*) FROM tokens) + (SELECT count(*) "
                 "FROM consent_events) + (SELECT count(*) FROM budget_charges) + "
                 "(SELECT count(*) FROM rights_requests) + (SELECT count(*) FROM "
                 "ingest_keys)",
                 "migrate: inspect target"));
    if (n.Int64(0, 0) != 0) {
      return absl::FailedPreconditionError(
          "migrate: the target PostgreSQL store is not empty; migrate into a new "
          "database");
    }
  }

  MigrationSummary summary;
  {
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*to, TransactionMode::kReadCommitted));
    for (const TableSpec& t : Tables()) {
      ASSIGN_OR_RETURN(int64_t n, CopyTable(*from, *to, t));
      summary.tables.emplace_back(t.name, n);
    }
    for (const char* t : kIdentityTables) {
      RETURN_IF_ERROR(
          to->ExecOnce(absl::StrCat("SELECT setval(pg_get_serial_sequence('", t,
                                    "', 'id'), coalesce(max(id), 0) + 1, false) "
                                    "FROM ",
                                    t),
                       Params(), "migrate: continue ids")
              .status());
    }
    // A destroyed key's id is never reused: continue after SQLite's
    // AUTOINCREMENT counter too, which remembers ids of deleted rows.
    RETURN_IF_ERROR(from->Prepare("SELECT seq FROM sqlite_sequence WHERE name = 'keys'"));
    ASSIGN_OR_RETURN(bool has_seq, from->Step());
    if (has_seq) {
      RETURN_IF_ERROR(
          to->Exec("SELECT setval(pg_get_serial_sequence('keys', 'id'), "
                   "greatest((SELECT coalesce(max(id), 0) FROM keys), $1) + 1, "
                   "false)",
                   Params().Int64(sqlite3_column_int64(from->stmt(), 0)),
                   "migrate: continue key ids")
              .status());
    }
    RETURN_IF_ERROR(to->Exec("INSERT INTO budget_periods (agreement, period) "
                             "SELECT DISTINCT agreement, period FROM budget_charges",
                             "migrate: budget periods")
                        .status());
    RETURN_IF_ERROR(from->Prepare("SELECT size, hashes FROM log_frontier WHERE id = 1"));
    ASSIGN_OR_RETURN(bool row, from->Step());
    if (!row) return absl::DataLossError("migrate: the source has no log frontier");
    RETURN_IF_ERROR(
        to->Exec("UPDATE log_frontier SET size = $1, hashes = $2 WHERE id = 1",
                 Params()
                     .Int64(sqlite3_column_int64(from->stmt(), 0))
                     .Bytes(ColumnBytes(from->stmt(), 1)),
                 "migrate: log frontier")
            .status());
    RETURN_IF_ERROR(txn->Commit());
  }

  // Records: the target hands out ids up to the source's next id, so every
  // copied id counts as reserved and new ids continue after them.
  RETURN_IF_ERROR(
      from->Prepare("SELECT next_value FROM sequences WHERE name = 'records'"));
  ASSIGN_OR_RETURN(bool has_next, from->Step());
  const int64_t next = has_next ? sqlite3_column_int64(from->stmt(), 0) : 1;
  if (next > 1) RETURN_IF_ERROR(target->ReserveRecordIds(next - 1).status());
  RETURN_IF_ERROR(from->Prepare(
      "SELECT id, stream, time_us, cell, epoch, blind_index, key_id, payload, batch "
      "FROM records ORDER BY id"));
  std::vector<StoredRecord> batch;
  batch.reserve(kRecordBatch);
  int64_t records = 0;
  while (true) {
    ASSIGN_OR_RETURN(bool row, from->Step());
    if (row) {
      sqlite3_stmt* s = from->stmt();
      StoredRecord& r = batch.emplace_back();
      r.id = sqlite3_column_int64(s, 0);
      r.stream = ColumnBytes(s, 1);
      r.time_us = sqlite3_column_int64(s, 2);
      r.cell = static_cast<uint64_t>(sqlite3_column_int64(s, 3));
      r.epoch = sqlite3_column_int64(s, 4);
      r.blind_index = ColumnBytes(s, 5);
      r.key_id = sqlite3_column_int64(s, 6);
      r.payload = ColumnBytes(s, 7);
      r.batch = sqlite3_column_int64(s, 8);
    }
    if (batch.size() == kRecordBatch || (!row && !batch.empty())) {
      RETURN_IF_ERROR(target->AppendRecords(batch));
      records += static_cast<int64_t>(batch.size());
      batch.clear();
    }
    if (!row) break;
  }
  summary.tables.insert(summary.tables.begin(), {"records", records});
  return summary;
}

}  // namespace privacity::store
