// Private to the store module: one SQLite connection with its cache of
// prepared statements, a pool of such connections, and transaction and
// statement scopes. Nothing outside src/store/sqlite/ includes this.
#ifndef PRIVACITY_STORE_SQLITE_CONNECTION_H_
#define PRIVACITY_STORE_SQLITE_CONNECTION_H_

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace privacity::store::sqlite_internal {

// Every statement the store runs. Each connection prepares a statement the
// first time it is used and keeps it for the connection's lifetime.
enum class Sql : int {
  kBeginDeferred,
  kBeginImmediate,
  kCommit,
  kRollback,
  kNextRecordId,
  kReserveRecordIds,
  kInsertRecord,
  kScanRecords,
  kScanRecordsLimit,
  kFindRecordsBySubject,
  kDeleteRecordsBySubject,
  kDeleteSubjectRecordIds,
  kDeleteRecentSubjectRecordIds,
  kDeleteRecordsBefore,
  kDeleteRecordIdsBefore,
  kDeleteRecentRecordIdsBefore,
  kUnlinkRecordsBefore,
  kUnlinkRecordIdsBefore,
  kUnlinkRecentRecordIdsBefore,
  kListRecordIds,
  kMergeRecentRecordIds,
  kClearRecentRecordIds,
  kCountRecords,
  kInsertKey,
  kFindKey,
  kGetKey,
  kDestroyKey,
  kCountKeyChange,
  kKeyChanges,
  kListKeysBefore,
  kInsertConsent,
  kConsentHistory,
  kDeleteConsent,
  kFindCharge,
  kSpentBudget,
  kInsertCharge,
  kGetMeta,
  kPutMeta,
  kCheckpoint,
  kCount,  // number of statements, not a statement
};

// Turns a SQLite result code into a Status that names the file and the
// operation. SQLite's own messages name tables and columns, never values.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view path,
                         absl::string_view op);

class Connection {
 public:
  // Opens `path` (which must exist) and applies the per-connection settings
  // (busy timeout, synchronous, secure_delete, foreign keys, cache size).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

  // The cached prepared statement for `sql`, in its reset state.
  absl::StatusOr<sqlite3_stmt*> Get(Sql sql);

  // The same for a statement not in Sql, cached by its text (for modules
  // with statements of their own, such as the log). Reset it after use
  // (StatementScope) and do not step it twice at once.
  absl::StatusOr<sqlite3_stmt*> GetByText(const char* sql, absl::string_view op);

  // Runs one or more statements that return no rows we need (pragmas,
  // migrations).
  absl::Status Exec(const char* sql, absl::string_view op);

  // Runs a statement returning a single integer (e.g. a pragma).
  absl::StatusOr<int64_t> QueryInt(const char* sql, absl::string_view op);

  absl::Status Error(int rc, absl::string_view op) const {
    return SqliteError(db_, rc, path_, op);
  }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::array<sqlite3_stmt*, static_cast<size_t>(Sql::kCount)> statements_{};
  absl::flat_hash_map<std::string, sqlite3_stmt*> statements_by_text_;
};

// Resets a cached statement (and forgets its bindings) when the scope ends,
// which also ends the implicit read transaction of a SELECT.
class StatementScope {
 public:
  explicit StatementScope(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StatementScope() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StatementScope(const StatementScope&) = delete;
  StatementScope& operator=(const StatementScope&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

enum class TransactionMode {
  kDeferred,   // reads: takes a snapshot at the first read
  kImmediate,  // writes: takes the write lock at once (waits busy_timeout)
};

// One transaction on a connection; rolled back unless committed.
class Transaction {
 public:
  static absl::StatusOr<std::unique_ptr<Transaction>> Begin(Connection& conn,
                                                            TransactionMode mode);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  absl::Status Commit();

 private:
  explicit Transaction(Connection& conn) : conn_(conn) {}
  Connection& conn_;
  bool open_ = true;
};

// Connections to one database file. A caller leases one connection for the
// duration of one store call, so calls from different threads (or a call
// made from inside a ScanRecords callback) never share a connection.
class ConnectionPool {
 public:
  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<Connection> conn)
        : pool_(&pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_ != nullptr) pool_->Release(std::move(conn_));
    }
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // REQUIRES: `first` is open on `path`.
  ConnectionPool(std::string path, std::unique_ptr<Connection> first);

  absl::StatusOr<Lease> Acquire();
  const std::string& path() const { return path_; }

  // Held by every write of this process for its whole transaction, so
  // writers of one process queue here in order instead of polling SQLite's
  // lock (whose busy handler sleeps in growing steps). Writers of other
  // processes still meet at SQLite's lock. Take it before Acquire().
  absl::Mutex& write_mu() { return write_mu_; }

 private:
  void Release(std::unique_ptr<Connection> conn);

  const std::string path_;
  absl::Mutex write_mu_;
  absl::Mutex mu_;
  // Most recently used last, so a single-threaded caller keeps reusing the
  // connection whose page cache is warm.
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace privacity::store::sqlite_internal

#endif  // PRIVACITY_STORE_SQLITE_CONNECTION_H_
