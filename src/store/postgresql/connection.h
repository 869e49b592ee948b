// Private to the store module: one libpq connection with its prepared
// statements, a small pool of such connections, binary parameters and
// results, transactions, and a binary COPY writer. Nothing outside
// src/store/postgresql/ includes this.
//
// Every statement is parameterised: values travel as binary parameters,
// never inside SQL text (the only SQL built at run time names partitions,
// from integers). libpq errors become Status values naming the operation,
// the SQLSTATE and the table, column or constraint involved, never a value
// (server messages and details may quote one).
#ifndef PRIVACITY_STORE_POSTGRESQL_CONNECTION_H_
#define PRIVACITY_STORE_POSTGRESQL_CONNECTION_H_

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace privacity::store::postgresql_internal {

// Parameters of one statement, all sent in binary format.
class Params {
 public:
  Params& Int64(int64_t v);
  Params& Int32(int32_t v);
  Params& Float8(double v);
  Params& Bytes(absl::string_view v);  // bytea
  Params& Text(absl::string_view v);   // text (UTF-8, no NUL)
  Params& NullBytes();                 // a NULL bytea
  Params& NullInt64();                 // a NULL bigint
  // One-dimensional arrays without NULLs (int4[], int8[], bytea[], text[]),
  // for statements over many rows at once: unnest($1::bytea[], ...).
  // REQUIRES: every element fits in an int32 length.
  Params& Int32Array(absl::Span<const int32_t> v);
  Params& Int64Array(absl::Span<const int64_t> v);
  Params& BytesArray(absl::Span<const std::string> v);
  Params& TextArray(absl::Span<const std::string> v);

  int size() const { return static_cast<int>(values_.size()); }
  const std::vector<Oid>& types() const { return types_; }
  // Pointers into this object; valid while it lives and is not changed.
  std::vector<const char*> Values() const;
  std::vector<int> Lengths() const;
  std::vector<int> Formats() const { return std::vector<int>(values_.size(), 1); }

 private:
  void Add(Oid type, std::string bytes, bool null);

  std::vector<Oid> types_;
  std::vector<std::string> values_;
  std::vector<bool> null_;
};

// A query result in binary format; cleared when it goes out of scope.
class Result {
 public:
  explicit Result(PGresult* res) : res_(res) {}
  Result(Result&& other) noexcept : res_(std::exchange(other.res_, nullptr)) {}
  Result& operator=(Result&& other) noexcept {
    std::swap(res_, other.res_);
    return *this;
  }
  ~Result() {
    if (res_ != nullptr) PQclear(res_);
  }

  int rows() const { return PQntuples(res_); }
  bool IsNull(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }
  // REQUIRES: the column has the named type (bigint, integer, double
  // precision; bytea or text for Bytes).
  int64_t Int64(int row, int col) const;
  int32_t Int32(int row, int col) const;
  double Float8(int row, int col) const;
  std::string Bytes(int row, int col) const;
  void BytesInto(int row, int col, std::string& out) const;
  // Rows changed by an INSERT, UPDATE or DELETE.
  int64_t Affected() const;

 private:
  PGresult* res_;
};

// The status of a failed call, from the result (when there is one) and the
// connection. Names `op`, the SQLSTATE and the object, never a value.
absl::Status PgError(PGconn* conn, const PGresult* res, absl::string_view op);

// The SQLSTATE of a status made by PgError ("" when none).
std::string SqlStateOf(const absl::Status& status);

class Connection {
 public:
  // Connects with `uri` (a libpq URI or conninfo string).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& uri);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  PGconn* raw() const { return conn_; }

  // Runs `sql` with `params`, preparing it on this connection the first
  // time. Rows come back in binary format.
  absl::StatusOr<Result> Exec(const char* sql, const Params& params,
                              absl::string_view op);
  absl::StatusOr<Result> Exec(const char* sql, absl::string_view op) {
    return Exec(sql, Params(), op);
  }
  // Runs `sql` unprepared (DDL built at run time, statements used once).
  absl::StatusOr<Result> ExecOnce(const std::string& sql, const Params& params,
                                  absl::string_view op);
  // Runs a script of several statements without parameters (migrations).
  absl::Status ExecScript(const char* sql, absl::string_view op);

  // Runs `copy_sql` (COPY ... FROM STDIN (FORMAT binary)) sending `data`.
  // Returns the number of rows copied.
  absl::StatusOr<int64_t> CopyIn(const char* copy_sql, absl::string_view data,
                                 absl::string_view op);

  // True when the connection can be reused: open and not inside a
  // transaction.
  bool Reusable() const;

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}

  PGconn* conn_;
  // SQL text -> prepared statement name.
  absl::flat_hash_map<std::string, std::string> prepared_;
};

// Connections to one database. A caller leases one connection for the
// duration of one store call, so each thread works on its own connection
// and a call made from inside a ScanRecords callback gets another one.
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

  // REQUIRES: `first` is connected with `uri`.
  ConnectionPool(std::string uri, std::unique_ptr<Connection> first);

  absl::StatusOr<Lease> Acquire();

 private:
  void Release(std::unique_ptr<Connection> conn);

  const std::string uri_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
};

enum class TransactionMode {
  kReadCommitted,  // writes; rows are locked explicitly where it matters
  kSnapshot,       // reads that must see one snapshot (REPEATABLE READ)
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

// Builds the body of a binary COPY: a header, rows of fields, a trailer.
class CopyWriter {
 public:
  CopyWriter();
  void BeginRow(int16_t fields);
  void Int64(int64_t v);
  void Int32(int32_t v);
  void Float8(double v);
  void Bytes(absl::string_view v);
  void Null();
  // The finished body (appends the trailer once).
  const std::string& Finish();

 private:
  std::string buf_;
  bool finished_ = false;
};

}  // namespace privacity::store::postgresql_internal

#endif  // PRIVACITY_STORE_POSTGRESQL_CONNECTION_H_
