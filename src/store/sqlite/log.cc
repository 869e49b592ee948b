// The SQLite LogStore over log_entries, log_nodes, log_frontier and
// log_checkpoints (schema migration 2). Statements are prepared per call
// and reused for every row of that call; reads run in one deferred
// transaction so the size they check against and the rows they return come
// from the same snapshot.
#include <sqlite3.h>

#include <climits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "store/log_batch_check.h"
#include "store/log_store.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/sqlite_store.h"

namespace privacity::store::sqlite_internal {
namespace {

// A statement from the connection's cache, reset (and its bindings
// cleared) when it goes out of scope.
class Stmt {
 public:
  static absl::StatusOr<Stmt> Prepare(Connection& conn, const char* sql,
                                      absl::string_view op) {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn.GetByText(sql, op));
    return Stmt(stmt);
  }
  Stmt(Stmt&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() {
    if (stmt_ != nullptr) Reset();
  }
  sqlite3_stmt* get() const { return stmt_; }
  // Ready for the next row's bindings.
  void Reset() const {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite3_stmt* stmt_;
};

void BindBlob(sqlite3_stmt* stmt, int col, const std::string& bytes) {
  // A zero-length blob must still be a blob, not NULL (NOT NULL columns).
  sqlite3_bind_blob(stmt, col, bytes.empty() ? "" : bytes.data(),
                    static_cast<int>(bytes.size()), SQLITE_STATIC);
}

std::string ColumnBlob(sqlite3_stmt* stmt, int col) {
  const void* data = sqlite3_column_blob(stmt, col);
  const int size = sqlite3_column_bytes(stmt, col);
  if (data == nullptr || size <= 0) return "";
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

absl::StatusOr<LogFrontierRow> ReadFrontierRow(Connection& conn, absl::string_view op) {
  ASSIGN_OR_RETURN(
      Stmt stmt,
      Stmt::Prepare(conn, "SELECT size, hashes FROM log_frontier WHERE id = 1", op));
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) {
    return absl::DataLossError(absl::StrCat(op, ": the log frontier row is missing"));
  }
  if (rc != SQLITE_ROW) return conn.Error(rc, op);
  const int64_t size = sqlite3_column_int64(stmt.get(), 0);
  if (size < 0) {
    return absl::DataLossError(absl::StrCat(op, ": the stored log size is negative"));
  }
  LogFrontierRow row;
  row.size = static_cast<uint64_t>(size);
  row.hashes = ColumnBlob(stmt.get(), 1);
  return row;
}

constexpr absl::string_view kAppendOp = "append log";

// Writes `batch` in the caller's write transaction on `conn`, where the
// log's frontier was read as `stored`.
absl::Status WriteBatch(Connection& conn, const LogFrontierRow& stored,
                        const LogBatch& batch) {
  constexpr absl::string_view kOp = kAppendOp;
  RETURN_IF_ERROR(ValidateBatch(batch));
  if (stored.size != batch.first_index) {
    return absl::AbortedError(absl::StrCat("append log: batch starts at ",
                                           batch.first_index, " but the log has ",
                                           stored.size, " entries"));
  }
  if (!batch.entries.empty()) {
    ASSIGN_OR_RETURN(Stmt stmt,
                     Stmt::Prepare(conn,
                                   "INSERT INTO log_entries (idx, data, leaf_hash) "
                                   "VALUES (?, ?, ?)",
                                   kOp));
    for (size_t i = 0; i < batch.entries.size(); ++i) {
      stmt.Reset();
      sqlite3_bind_int64(stmt.get(), 1, static_cast<int64_t>(batch.first_index + i));
      BindBlob(stmt.get(), 2, batch.entries[i].data);
      BindBlob(stmt.get(), 3, batch.entries[i].leaf_hash);
      const int rc = sqlite3_step(stmt.get());
      if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        return absl::DataLossError(absl::StrCat(
            "append log: entry ", batch.first_index + i, " is already stored"));
      }
      if (rc != SQLITE_DONE) return conn.Error(rc, kOp);
    }
  }
  if (!batch.nodes.empty()) {
    ASSIGN_OR_RETURN(
        Stmt stmt,
        Stmt::Prepare(conn, "INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)",
                      kOp));
    for (const LogNodeRow& n : batch.nodes) {
      stmt.Reset();
      sqlite3_bind_int(stmt.get(), 1, n.level);
      sqlite3_bind_int64(stmt.get(), 2, static_cast<int64_t>(n.index));
      BindBlob(stmt.get(), 3, n.hash);
      const int rc = sqlite3_step(stmt.get());
      if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        return absl::DataLossError(absl::StrCat("append log: node (", n.level, ", ",
                                                n.index, ") is already stored"));
      }
      if (rc != SQLITE_DONE) return conn.Error(rc, kOp);
    }
  }
  {
    ASSIGN_OR_RETURN(
        Stmt stmt,
        Stmt::Prepare(conn, "UPDATE log_frontier SET size = ?, hashes = ? WHERE id = 1",
                      kOp));
    sqlite3_bind_int64(stmt.get(), 1, static_cast<int64_t>(batch.frontier.size));
    BindBlob(stmt.get(), 2, batch.frontier.hashes);
    const int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_DONE) return conn.Error(rc, kOp);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteLogBatch(Connection& conn, LogBatchBuilder build) {
  ASSIGN_OR_RETURN(const LogFrontierRow stored, ReadFrontierRow(conn, kAppendOp));
  ASSIGN_OR_RETURN(const LogBatch batch, build(stored));
  return WriteBatch(conn, stored, batch);
}

namespace {

class SqliteLogStore final : public LogStore {
 public:
  explicit SqliteLogStore(ConnectionPool& pool) : pool_(pool) {}

  absl::Status Append(const LogBatch& batch) override {
    absl::MutexLock write(&pool_.write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kImmediate));
    ASSIGN_OR_RETURN(const LogFrontierRow stored, ReadFrontierRow(*conn, kAppendOp));
    RETURN_IF_ERROR(WriteBatch(*conn, stored, batch));
    return txn->Commit();
  }

  absl::StatusOr<LogFrontierRow> ReadFrontier() override {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    return ReadFrontierRow(*conn, "read log frontier");
  }

  absl::StatusOr<std::vector<LogEntryRow>> ReadEntries(uint64_t begin,
                                                       uint64_t end) override {
    constexpr absl::string_view kOp = "read log entries";
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kDeferred));
    ASSIGN_OR_RETURN(LogFrontierRow frontier, ReadFrontierRow(*conn, kOp));
    if (begin > end || end > frontier.size) {
      return absl::OutOfRangeError(absl::StrCat("read log entries: [", begin, ", ", end,
                                                ") is not within the log of ",
                                                frontier.size, " entries"));
    }
    std::vector<LogEntryRow> out;
    if (begin == end) return out;
    out.reserve(end - begin);
    ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(*conn,
                                              "SELECT idx, data, leaf_hash FROM "
                                              "log_entries WHERE idx >= ? AND idx < ? "
                                              "ORDER BY idx",
                                              kOp));
    sqlite3_bind_int64(stmt.get(), 1, static_cast<int64_t>(begin));
    sqlite3_bind_int64(stmt.get(), 2, static_cast<int64_t>(end));
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      const uint64_t idx = static_cast<uint64_t>(sqlite3_column_int64(stmt.get(), 0));
      if (idx != begin + out.size()) break;
      out.push_back(LogEntryRow{ColumnBlob(stmt.get(), 1), ColumnBlob(stmt.get(), 2)});
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return conn->Error(rc, kOp);
    if (out.size() != end - begin) {
      return absl::DataLossError(
          absl::StrCat("read log entries: entry ", begin + out.size(), " is missing"));
    }
    return out;
  }

  absl::StatusOr<std::vector<std::string>> ReadNodes(
      absl::Span<const LogNodeKey> nodes) override {
    constexpr absl::string_view kOp = "read log nodes";
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kDeferred));
    ASSIGN_OR_RETURN(LogFrontierRow frontier, ReadFrontierRow(*conn, kOp));
    for (const LogNodeKey& n : nodes) {
      if (!Complete(n.level, n.index, frontier.size)) {
        return absl::OutOfRangeError(absl::StrCat("read log nodes: node (", n.level, ", ",
                                                  n.index, ") is not in the log of ",
                                                  frontier.size, " entries"));
      }
    }
    std::vector<std::string> out;
    out.reserve(nodes.size());
    ASSIGN_OR_RETURN(
        Stmt leaf,
        Stmt::Prepare(*conn, "SELECT leaf_hash FROM log_entries WHERE idx = ?", kOp));
    ASSIGN_OR_RETURN(
        Stmt interior,
        Stmt::Prepare(*conn, "SELECT hash FROM log_nodes WHERE level = ? AND idx = ?",
                      kOp));
    for (const LogNodeKey& n : nodes) {
      sqlite3_stmt* stmt;
      if (n.level == 0) {
        leaf.Reset();
        stmt = leaf.get();
        sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(n.index));
      } else {
        interior.Reset();
        stmt = interior.get();
        sqlite3_bind_int(stmt, 1, n.level);
        sqlite3_bind_int64(stmt, 2, static_cast<int64_t>(n.index));
      }
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) {
        return absl::DataLossError(absl::StrCat("read log nodes: node (", n.level, ", ",
                                                n.index, ") is missing"));
      }
      if (rc != SQLITE_ROW) return conn->Error(rc, kOp);
      out.push_back(ColumnBlob(stmt, 0));
    }
    return out;
  }

  absl::StatusOr<std::vector<std::string>> ReadNodeRange(int level, uint64_t begin,
                                                         uint64_t end) override {
    constexpr absl::string_view kOp = "read log node range";
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kDeferred));
    ASSIGN_OR_RETURN(LogFrontierRow frontier, ReadFrontierRow(*conn, kOp));
    if (level < 0 || level > kMaxLogLevel || begin > end ||
        (end > begin && !Complete(level, end - 1, frontier.size))) {
      return absl::OutOfRangeError(
          absl::StrCat("read log node range: level ", level, " [", begin, ", ", end,
                       ") is not complete in the log of ", frontier.size, " entries"));
    }
    std::vector<std::string> out;
    if (begin == end) return out;
    out.reserve(end - begin);
    ASSIGN_OR_RETURN(
        Stmt stmt,
        Stmt::Prepare(*conn,
                      level == 0
                          ? "SELECT idx, leaf_hash FROM log_entries WHERE idx >= ? "
                            "AND idx < ? ORDER BY idx"
                          : "SELECT idx, hash FROM log_nodes WHERE level = ?3 "
                            "AND idx >= ?1 AND idx < ?2 ORDER BY idx",
                      kOp));
    sqlite3_bind_int64(stmt.get(), 1, static_cast<int64_t>(begin));
    sqlite3_bind_int64(stmt.get(), 2, static_cast<int64_t>(end));
    if (level > 0) sqlite3_bind_int(stmt.get(), 3, level);
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      const uint64_t idx = static_cast<uint64_t>(sqlite3_column_int64(stmt.get(), 0));
      if (idx != begin + out.size()) break;
      out.push_back(ColumnBlob(stmt.get(), 1));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return conn->Error(rc, kOp);
    if (out.size() != end - begin) {
      return absl::DataLossError(absl::StrCat("read log node range: node (", level, ", ",
                                              begin + out.size(), ") is missing"));
    }
    return out;
  }

  absl::Status PutCheckpoint(const LogCheckpointRow& checkpoint) override {
    constexpr absl::string_view kOp = "put log checkpoint";
    if (checkpoint.note.empty() || checkpoint.note.size() > INT_MAX) {
      return absl::InvalidArgumentError(
          "put log checkpoint: the note is empty or too long");
    }
    if (checkpoint.size >= kMaxLogSize) {
      return absl::InvalidArgumentError("put log checkpoint: size out of range");
    }
    absl::MutexLock write(&pool_.write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(*conn,
                                              "INSERT INTO log_checkpoints (size, note, "
                                              "created_us) VALUES (?, ?, ?)",
                                              kOp));
    sqlite3_bind_int64(stmt.get(), 1, static_cast<int64_t>(checkpoint.size));
    BindBlob(stmt.get(), 2, checkpoint.note);
    sqlite3_bind_int64(stmt.get(), 3, checkpoint.created_us);
    const int rc = sqlite3_step(stmt.get());
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return absl::AlreadyExistsError(absl::StrCat(
          "put log checkpoint: a checkpoint of size ", checkpoint.size, " is stored"));
    }
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    return absl::OkStatus();
  }

  absl::Status PutNextCheckpoint(const LogCheckpointRow& checkpoint,
                                 std::optional<uint64_t> previous) override {
    constexpr absl::string_view kOp = "put next log checkpoint";
    if (checkpoint.note.empty() || checkpoint.note.size() > INT_MAX) {
      return absl::InvalidArgumentError(
          "put log checkpoint: the note is empty or too long");
    }
    if (checkpoint.size >= kMaxLogSize ||
        (previous.has_value() && checkpoint.size <= *previous)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "put log checkpoint: size ", checkpoint.size, " does not follow checkpoint ",
          previous.has_value() ? absl::StrCat(*previous) : std::string("(none)")));
    }
    absl::MutexLock write(&pool_.write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    // Batches commit with synchronous=NORMAL: durable when the process dies,
    // not when the power goes. A signed checkpoint is published, so it and
    // the entries it covers must survive a power loss too, or the log could
    // sign a different tree of the same size after a restart. A FULL commit
    // syncs the WAL, which holds every earlier commit as well.
    RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous = FULL;", kOp));
    absl::Cleanup normal = [&conn] {
      (void)conn->Exec("PRAGMA synchronous = NORMAL;", "restore synchronous");
    };
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kImmediate));
    {
      ASSIGN_OR_RETURN(
          Stmt latest,
          Stmt::Prepare(*conn, "SELECT MAX(size) FROM log_checkpoints", kOp));
      const int rc = sqlite3_step(latest.get());
      if (rc != SQLITE_ROW) return conn->Error(rc, kOp);
      std::optional<uint64_t> stored;
      if (sqlite3_column_type(latest.get(), 0) != SQLITE_NULL) {
        stored = static_cast<uint64_t>(sqlite3_column_int64(latest.get(), 0));
      }
      if (stored != previous) {
        return absl::AbortedError(absl::StrCat(
            "put log checkpoint: the latest checkpoint is now ",
            stored.has_value() ? absl::StrCat(*stored) : std::string("(none)"), ", not ",
            previous.has_value() ? absl::StrCat(*previous) : std::string("(none)")));
      }
    }
    ASSIGN_OR_RETURN(LogFrontierRow frontier, ReadFrontierRow(*conn, kOp));
    if (checkpoint.size > frontier.size) {
      return absl::FailedPreconditionError(
          absl::StrCat("put log checkpoint: size ", checkpoint.size,
                       " is beyond the stored log of ", frontier.size, " entries"));
    }
    ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(*conn,
                                              "INSERT INTO log_checkpoints (size, note, "
                                              "created_us) VALUES (?, ?, ?)",
                                              kOp));
    sqlite3_bind_int64(stmt.get(), 1, static_cast<int64_t>(checkpoint.size));
    BindBlob(stmt.get(), 2, checkpoint.note);
    sqlite3_bind_int64(stmt.get(), 3, checkpoint.created_us);
    const int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    return txn->Commit();
  }

  absl::StatusOr<std::optional<LogCheckpointRow>> LatestCheckpoint() override {
    return QueryCheckpoint(
        "SELECT size, note, created_us FROM log_checkpoints ORDER BY size DESC LIMIT 1",
        std::nullopt);
  }

  absl::StatusOr<std::optional<LogCheckpointRow>> GetCheckpoint(uint64_t size) override {
    if (size >= kMaxLogSize) return std::nullopt;
    return QueryCheckpoint(
        "SELECT size, note, created_us FROM log_checkpoints WHERE size = ?", size);
  }

 private:
  absl::StatusOr<std::optional<LogCheckpointRow>> QueryCheckpoint(
      const char* sql, std::optional<uint64_t> size) {
    constexpr absl::string_view kOp = "read log checkpoint";
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(*conn, sql, kOp));
    if (size.has_value()) sqlite3_bind_int64(stmt.get(), 1, static_cast<int64_t>(*size));
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return conn->Error(rc, kOp);
    LogCheckpointRow row;
    row.size = static_cast<uint64_t>(sqlite3_column_int64(stmt.get(), 0));
    row.note = ColumnBlob(stmt.get(), 1);
    row.created_us = sqlite3_column_int64(stmt.get(), 2);
    return row;
  }

  ConnectionPool& pool_;
};

}  // namespace

std::unique_ptr<LogStore> NewSqliteLogStore(ConnectionPool& pool) {
  return std::make_unique<SqliteLogStore>(pool);
}

}  // namespace privacity::store::sqlite_internal
