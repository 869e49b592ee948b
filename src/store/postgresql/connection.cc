#include "store/postgresql/connection.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace privacity::store::postgresql_internal {
namespace {

// Type OIDs of the parameters we send (pg_type.h).
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kByteaOid = 17;
constexpr Oid kTextOid = 25;
constexpr Oid kInt4ArrayOid = 1007;
constexpr Oid kInt8ArrayOid = 1016;
constexpr Oid kByteaArrayOid = 1001;
constexpr Oid kTextArrayOid = 1009;

constexpr char kSqlStatePayload[] = "privacity.store.postgresql/sqlstate";

// Connections kept idle per pool; more are opened when threads need them
// and closed when they come back beyond this.
constexpr size_t kMaxIdle = 8;

void PutBig(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetBig(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// The binary form of a one-dimensional array without NULLs: dimensions,
// a has-null flag, the element type, the length and lower bound of the one
// dimension, then each element as its length and bytes.
template <typename T, typename PutElement>
std::string ArrayBytes(Oid element_type, absl::Span<const T> v, PutElement put) {
  std::string out;
  PutBig(out, v.empty() ? 0 : 1, 4);
  PutBig(out, 0, 4);
  PutBig(out, element_type, 4);
  if (v.empty()) return out;
  PutBig(out, v.size(), 4);
  PutBig(out, 1, 4);
  for (const T& e : v) put(out, e);
  return out;
}

absl::StatusCode CodeFor(absl::string_view state) {
  if (state == "23505") return absl::StatusCode::kAlreadyExists;
  if (state == "40001" || state == "40P01") return absl::StatusCode::kAborted;
  if (state == "55P03" || state == "57014") return absl::StatusCode::kUnavailable;
  if (state.size() < 2) return absl::StatusCode::kUnavailable;  // connection lost
  const absl::string_view cls = state.substr(0, 2);
  if (cls == "08" || cls == "57") return absl::StatusCode::kUnavailable;
  if (cls == "22" || cls == "23") return absl::StatusCode::kInvalidArgument;
  if (cls == "53") return absl::StatusCode::kResourceExhausted;
  if (cls == "28" || state == "42501") {
    return absl::StatusCode::kPermissionDenied;
  }
  if (cls == "XX") return absl::StatusCode::kDataLoss;
  return absl::StatusCode::kInternal;
}

// libpq's connection messages quote host, database and user names; keep
// the sentence, drop the quoted parts.
std::string WithoutQuoted(absl::string_view msg) {
  std::string out;
  bool quoted = false;
  for (char c : msg) {
    if (c == '"') {
      if (!quoted) out += "\"...\"";
      quoted = !quoted;
      continue;
    }
    if (quoted) continue;
    out.push_back(c == '\n' || c == '\t' ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

// --- Params ---------------------------------------------------------------

void Params::Add(Oid type, std::string bytes, bool null) {
  types_.push_back(type);
  values_.push_back(std::move(bytes));
  null_.push_back(null);
}

Params& Params::Int64(int64_t v) {
  std::string b;
  PutBig(b, static_cast<uint64_t>(v), 8);
  Add(kInt8Oid, std::move(b), false);
  return *this;
}

Params& Params::Int32(int32_t v) {
  std::string b;
  PutBig(b, static_cast<uint32_t>(v), 4);
  Add(kInt4Oid, std::move(b), false);
  return *this;
}

Params& Params::Float8(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  std::string b;
  PutBig(b, bits, 8);
  Add(kFloat8Oid, std::move(b), false);
  return *this;
}

Params& Params::Bytes(absl::string_view v) {
  Add(kByteaOid, std::string(v), false);
  return *this;
}

Params& Params::Text(absl::string_view v) {
  Add(kTextOid, std::string(v), false);
  return *this;
}

Params& Params::NullBytes() {
  Add(kByteaOid, "", true);
  return *this;
}

Params& Params::NullInt64() {
  Add(kInt8Oid, "", true);
  return *this;
}

Params& Params::Int32Array(absl::Span<const int32_t> v) {
  Add(kInt4ArrayOid,
      ArrayBytes(kInt4Oid, v,
                 [](std::string& out, int32_t e) {
                   PutBig(out, 4, 4);
                   PutBig(out, static_cast<uint32_t>(e), 4);
                 }),
      false);
  return *this;
}

Params& Params::Int64Array(absl::Span<const int64_t> v) {
  Add(kInt8ArrayOid,
      ArrayBytes(kInt8Oid, v,
                 [](std::string& out, int64_t e) {
                   PutBig(out, 8, 4);
                   PutBig(out, static_cast<uint64_t>(e), 8);
                 }),
      false);
  return *this;
}

namespace {
void PutLengthPrefixed(std::string& out, const std::string& e) {
  PutBig(out, e.size(), 4);
  out.append(e);
}
}  // namespace

Params& Params::BytesArray(absl::Span<const std::string> v) {
  Add(kByteaArrayOid, ArrayBytes(kByteaOid, v, PutLengthPrefixed), false);
  return *this;
}

Params& Params::TextArray(absl::Span<const std::string> v) {
  Add(kTextArrayOid, ArrayBytes(kTextOid, v, PutLengthPrefixed), false);
  return *this;
}

std::vector<const char*> Params::Values() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (size_t i = 0; i < values_.size(); ++i) {
    out.push_back(null_[i] ? nullptr : values_[i].data());
  }
  return out;
}

std::vector<int> Params::Lengths() const {
  std::vector<int> out;
  out.reserve(values_.size());
  for (const std::string& v : values_) out.push_back(static_cast<int>(v.size()));
  return out;
}

// --- Result ---------------------------------------------------------------

int64_t Result::Int64(int row, int col) const {
  if (PQgetlength(res_, row, col) != 8) return 0;
  return static_cast<int64_t>(GetBig(PQgetvalue(res_, row, col), 8));
}

int32_t Result::Int32(int row, int col) const {
  if (PQgetlength(res_, row, col) != 4) return 0;
  return static_cast<int32_t>(GetBig(PQgetvalue(res_, row, col), 4));
}

double Result::Float8(int row, int col) const {
  if (PQgetlength(res_, row, col) != 8) return 0;
  const uint64_t bits = GetBig(PQgetvalue(res_, row, col), 8);
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

std::string Result::Bytes(int row, int col) const {
  std::string out;
  BytesInto(row, col, out);
  return out;
}

void Result::BytesInto(int row, int col, std::string& out) const {
  const int n = PQgetlength(res_, row, col);
  if (n <= 0) {
    out.clear();
    return;
  }
  out.assign(PQgetvalue(res_, row, col), static_cast<size_t>(n));
}

int64_t Result::Affected() const {
  const char* n = PQcmdTuples(res_);
  if (n == nullptr || *n == '\0') return 0;
  int64_t v = 0;
  for (; *n >= '0' && *n <= '9'; ++n) v = v * 10 + (*n - '0');
  return v;
}

// --- Errors ---------------------------------------------------------------

absl::Status PgError(PGconn* conn, const PGresult* res, absl::string_view op) {
  const char* state =
      res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  if (state == nullptr) {
    // No server error: the connection failed or libpq refused the call.
    const std::string msg = conn != nullptr ? WithoutQuoted(PQerrorMessage(conn))
                                            : std::string("no connection");
    const bool lost = conn == nullptr || PQstatus(conn) != CONNECTION_OK;
    return absl::Status(
        lost ? absl::StatusCode::kUnavailable : absl::StatusCode::kInternal,
        absl::StrCat("postgresql store: ", op, ": ", msg));
  }
  std::string where;
  // Object names come from the schema, never from data.
  for (auto [field, label] :
       {std::pair{PG_DIAG_TABLE_NAME, "table"}, std::pair{PG_DIAG_COLUMN_NAME, "column"},
        std::pair{PG_DIAG_CONSTRAINT_NAME, "constraint"}}) {
    const char* v = PQresultErrorField(res, field);
    if (v != nullptr && *v != '\0') absl::StrAppend(&where, ", ", label, " ", v);
  }
  absl::Status status(CodeFor(state),
                      absl::StrCat("postgresql store: ", op, ": server error (SQLSTATE ",
                                   state, where, ")"));
  status.SetPayload(kSqlStatePayload, absl::Cord(state));
  return status;
}

std::string SqlStateOf(const absl::Status& status) {
  auto state = status.GetPayload(kSqlStatePayload);
  return state.has_value() ? std::string(*state) : std::string();
}

// --- Connection -------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& uri) {
  PGconn* conn = PQconnectdb(uri.c_str());
  if (conn == nullptr) {
    return absl::ResourceExhaustedError("postgresql store: connect: out of memory");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status status = absl::UnavailableError(absl::StrCat(
        "postgresql store: cannot connect: ", WithoutQuoted(PQerrorMessage(conn))));
    PQfinish(conn);
    return status;
  }
  std::unique_ptr<Connection> c(new Connection(conn));
  // Quiet NOTICEs (e.g. "relation exists, skipping") instead of printing
  // them on stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  RETURN_IF_ERROR(
      c->ExecScript("SET client_min_messages = warning; SET TIME ZONE 'UTC'; "
                    "SET lock_timeout = '30s'",
                    "configure connection"));
  return c;
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::Reusable() const {
  return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

absl::StatusOr<Result> Connection::Exec(const char* sql, const Params& params,
                                        absl::string_view op) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = absl::StrCat("p", prepared_.size() + 1);
    PGresult* prep =
        PQprepare(conn_, name.c_str(), sql, params.size(), params.types().data());
    Result prep_result(prep);
    if (prep == nullptr || PQresultStatus(prep) != PGRES_COMMAND_OK) {
      return PgError(conn_, prep, op);
    }
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  const std::vector<const char*> values = params.Values();
  const std::vector<int> lengths = params.Lengths();
  const std::vector<int> formats = params.Formats();
  PGresult* res = PQexecPrepared(conn_, it->second.c_str(), params.size(), values.data(),
                                 lengths.data(), formats.data(), /*resultFormat=*/1);
  Result result(res);
  const ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    return PgError(conn_, res, op);
  }
  return result;
}

absl::StatusOr<Result> Connection::ExecOnce(const std::string& sql, const Params& params,
                                            absl::string_view op) {
  const std::vector<const char*> values = params.Values();
  const std::vector<int> lengths = params.Lengths();
  const std::vector<int> formats = params.Formats();
  PGresult* res =
      PQexecParams(conn_, sql.c_str(), params.size(), params.types().data(),
                   values.data(), lengths.data(), formats.data(), /*resultFormat=*/1);
  Result result(res);
  const ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    return PgError(conn_, res, op);
  }
  return result;
}

absl::Status Connection::ExecScript(const char* sql, absl::string_view op) {
  PGresult* res = PQexec(conn_, sql);
  Result result(res);
  const ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return PgError(conn_, res, op);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Connection::CopyIn(const char* copy_sql, absl::string_view data,
                                           absl::string_view op) {
  {
    PGresult* res = PQexec(conn_, copy_sql);
    Result result(res);
    if (res == nullptr || PQresultStatus(res) != PGRES_COPY_IN) {
      return PgError(conn_, res, op);
    }
  }
  // Send in chunks so libpq's buffer stays small.
  constexpr size_t kChunk = 1 << 20;
  bool send_failed = false;
  for (size_t off = 0; off < data.size(); off += kChunk) {
    const size_t n = std::min(kChunk, data.size() - off);
    if (PQputCopyData(conn_, data.data() + off, static_cast<int>(n)) != 1) {
      send_failed = true;
      break;
    }
  }
  if (PQputCopyEnd(conn_, send_failed ? "client error" : nullptr) != 1) {
    return PgError(conn_, nullptr, op);
  }
  absl::Status status = absl::OkStatus();
  int64_t rows = 0;
  while (PGresult* res = PQgetResult(conn_)) {
    Result result(res);
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
      rows = result.Affected();
    } else if (status.ok()) {
      status = PgError(conn_, res, op);
    }
  }
  if (!status.ok()) return status;
  if (send_failed) return PgError(conn_, nullptr, op);
  return rows;
}

// --- Pool -------------------------------------------------------------------

ConnectionPool::ConnectionPool(std::string uri, std::unique_ptr<Connection> first)
    : uri_(std::move(uri)) {
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
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(uri_));
  return Lease(*this, std::move(conn));
}

void ConnectionPool::Release(std::unique_ptr<Connection> conn) {
  // A connection left inside a transaction (a failed ROLLBACK) or broken
  // is closed rather than handed to the next caller.
  if (!conn->Reusable()) return;
  absl::MutexLock lock(&mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(conn));
}

// --- Transaction --------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Transaction>> Transaction::Begin(Connection& conn,
                                                                TransactionMode mode) {
  const char* sql = mode == TransactionMode::kSnapshot
                        ? "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                        : "BEGIN";
  RETURN_IF_ERROR(conn.ExecScript(sql, "begin transaction"));
  return std::unique_ptr<Transaction>(new Transaction(conn));
}

Transaction::~Transaction() {
  if (open_) (void)conn_.ExecScript("ROLLBACK", "rollback");
}

absl::Status Transaction::Commit() {
  open_ = false;
  return conn_.ExecScript("COMMIT", "commit");
}

// --- CopyWriter -----------------------------------------------------------------

CopyWriter::CopyWriter() {
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // 11 bytes with the NUL
  buf_.append(kSignature, 11);
  PutBig(buf_, 0, 4);  // flags
  PutBig(buf_, 0, 4);  // header extension length
}

void CopyWriter::BeginRow(int16_t fields) {
  PutBig(buf_, static_cast<uint16_t>(fields), 2);
}

void CopyWriter::Int64(int64_t v) {
  PutBig(buf_, 8, 4);
  PutBig(buf_, static_cast<uint64_t>(v), 8);
}

void CopyWriter::Int32(int32_t v) {
  PutBig(buf_, 4, 4);
  PutBig(buf_, static_cast<uint32_t>(v), 4);
}

void CopyWriter::Float8(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  PutBig(buf_, 8, 4);
  PutBig(buf_, bits, 8);
}

void CopyWriter::Bytes(absl::string_view v) {
  PutBig(buf_, static_cast<uint32_t>(v.size()), 4);
  buf_.append(v.data(), v.size());
}

void CopyWriter::Null() { PutBig(buf_, 0xffffffffu, 4); }

const std::string& CopyWriter::Finish() {
  if (!finished_) {
    PutBig(buf_, 0xffff, 2);
    finished_ = true;
  }
  return buf_;
}

}  // namespace privacity::store::postgresql_internal
