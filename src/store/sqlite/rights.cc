// The SQLite RightsStore: rows of `rights_requests` (schema migration 2) and
// the subject-key lookup erasure needs. Rights traffic is light, so its
// statements are prepared per call rather than cached on the connection.
#include <sqlite3.h>

#include <climits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "crypto/key_store.h"
#include "store/rights_store.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/sqlite_store.h"

namespace privacity::store {

const char* ToString(RightsRequestKind kind) {
  switch (kind) {
    case RightsRequestKind::kAccess:
      return "access";
    case RightsRequestKind::kExport:
      return "export";
    case RightsRequestKind::kConsent:
      return "consent";
    case RightsRequestKind::kObjection:
      return "objection";
    case RightsRequestKind::kErasure:
      return "erasure";
  }
  return "unknown";
}

const char* ToString(RightsRequestStatus status) {
  switch (status) {
    case RightsRequestStatus::kOpen:
      return "open";
    case RightsRequestStatus::kCompleted:
      return "completed";
    case RightsRequestStatus::kRefused:
      return "refused";
  }
  return "unknown";
}

std::optional<RightsRequestKind> ParseRightsRequestKind(const std::string& name) {
  for (RightsRequestKind k : {RightsRequestKind::kAccess, RightsRequestKind::kExport,
                              RightsRequestKind::kConsent, RightsRequestKind::kObjection,
                              RightsRequestKind::kErasure}) {
    if (name == ToString(k)) return k;
  }
  return std::nullopt;
}

std::optional<RightsRequestStatus> ParseRightsRequestStatus(const std::string& name) {
  for (RightsRequestStatus s :
       {RightsRequestStatus::kOpen, RightsRequestStatus::kCompleted,
        RightsRequestStatus::kRefused}) {
    if (name == ToString(s)) return s;
  }
  return std::nullopt;
}

namespace sqlite_internal {
namespace {

// A statement prepared for one call, finalized when the scope ends.
class OneShot {
 public:
  static absl::StatusOr<OneShot> Prepare(Connection& conn, const char* sql,
                                         absl::string_view op) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(conn.db(), sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return conn.Error(rc, op);
    }
    return OneShot(stmt);
  }
  OneShot(OneShot&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  OneShot& operator=(OneShot&&) = delete;
  ~OneShot() { sqlite3_finalize(stmt_); }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  explicit OneShot(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite3_stmt* stmt_;
};

int BindText(sqlite3_stmt* stmt, int col, const std::string& s) {
  return sqlite3_bind_text(stmt, col, s.data(), static_cast<int>(s.size()),
                           SQLITE_STATIC);
}
int BindBlob(sqlite3_stmt* stmt, int col, const std::string& s) {
  return sqlite3_bind_blob(stmt, col, s.data(), static_cast<int>(s.size()),
                           SQLITE_STATIC);
}
std::string ColumnBytes(sqlite3_stmt* stmt, int col) {
  const void* data = sqlite3_column_blob(stmt, col);
  const int size = sqlite3_column_bytes(stmt, col);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

absl::Status CheckSize(const std::string& s, absl::string_view op,
                       absl::string_view field) {
  if (s.size() > INT_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", field, " is too long"));
  }
  return absl::OkStatus();
}

constexpr char kColumns[] =
    "id, kind, status, blind_index, created_us, deadline_us, completed_us, detail";

absl::StatusOr<RightsRequest> ReadRequest(Connection& conn, sqlite3_stmt* stmt) {
  RightsRequest r;
  r.id = ColumnBytes(stmt, 0);
  const std::string kind = ColumnBytes(stmt, 1);
  const std::string status = ColumnBytes(stmt, 2);
  const std::optional<RightsRequestKind> k = ParseRightsRequestKind(kind);
  const std::optional<RightsRequestStatus> s = ParseRightsRequestStatus(status);
  if (!k.has_value() || !s.has_value()) {
    return absl::DataLossError(absl::StrCat(
        "sqlite store ", conn.path(), ": rights request has an unknown kind or status"));
  }
  r.kind = *k;
  r.status = *s;
  r.blind_index = ColumnBytes(stmt, 3);
  r.created = absl::FromUnixMicros(sqlite3_column_int64(stmt, 4));
  r.deadline = absl::FromUnixMicros(sqlite3_column_int64(stmt, 5));
  if (sqlite3_column_type(stmt, 6) != SQLITE_NULL) {
    r.completed = absl::FromUnixMicros(sqlite3_column_int64(stmt, 6));
  }
  r.detail = ColumnBytes(stmt, 7);
  return r;
}

class SqliteRightsStore final : public RightsStore {
 public:
  explicit SqliteRightsStore(ConnectionPool& pool) : pool_(pool) {}

  absl::Status InsertRequest(const RightsRequest& request) override {
    constexpr absl::string_view kOp = "insert rights request";
    if (request.id.empty())
      return absl::InvalidArgumentError("insert rights request: empty id");
    RETURN_IF_ERROR(CheckSize(request.id, kOp, "id"));
    RETURN_IF_ERROR(CheckSize(request.blind_index, kOp, "blind index"));
    RETURN_IF_ERROR(CheckSize(request.detail, kOp, "detail"));
    const std::string kind = ToString(request.kind);
    const std::string status = ToString(request.status);
    absl::MutexLock write(&pool_.write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(
        OneShot stmt,
        OneShot::Prepare(
            *conn,
            "INSERT INTO rights_requests (id, kind, status, blind_index, "
            "created_us, deadline_us, completed_us, detail) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING",
            kOp));
    sqlite3_stmt* s = stmt.get();
    int rc = BindText(s, 1, request.id) | BindText(s, 2, kind) | BindText(s, 3, status) |
             (request.blind_index.empty() ? sqlite3_bind_null(s, 4)
                                          : BindBlob(s, 4, request.blind_index)) |
             sqlite3_bind_int64(s, 5, absl::ToUnixMicros(request.created)) |
             sqlite3_bind_int64(s, 6, absl::ToUnixMicros(request.deadline)) |
             (request.completed.has_value()
                  ? sqlite3_bind_int64(s, 7, absl::ToUnixMicros(*request.completed))
                  : sqlite3_bind_null(s, 7)) |
             BindText(s, 8, request.detail);
    if (rc != SQLITE_OK) return conn->Error(rc, kOp);
    rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    if (sqlite3_changes(conn->db()) == 0) {
      return absl::AlreadyExistsError("insert rights request: the id is already taken");
    }
    return absl::OkStatus();
  }

  absl::Status CloseRequest(const std::string& id, RightsRequestStatus status,
                            absl::Time completed, const std::string& detail) override {
    constexpr absl::string_view kOp = "close rights request";
    RETURN_IF_ERROR(CheckSize(id, kOp, "id"));
    RETURN_IF_ERROR(CheckSize(detail, kOp, "detail"));
    if (status == RightsRequestStatus::kOpen) {
      return absl::InvalidArgumentError(
          "close rights request: the new status must not be open");
    }
    const std::string status_name = ToString(status);
    const std::string open_name = ToString(RightsRequestStatus::kOpen);
    absl::MutexLock write(&pool_.write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    {
      ASSIGN_OR_RETURN(OneShot stmt,
                       OneShot::Prepare(*conn,
                                        "UPDATE rights_requests SET status = ?2, "
                                        "completed_us = ?3, detail = ?4 "
                                        "WHERE id = ?1 AND status = ?5",
                                        kOp));
      sqlite3_stmt* s = stmt.get();
      int rc = BindText(s, 1, id) | BindText(s, 2, status_name) |
               sqlite3_bind_int64(s, 3, absl::ToUnixMicros(completed)) |
               BindText(s, 4, detail) | BindText(s, 5, open_name);
      if (rc != SQLITE_OK) return conn->Error(rc, kOp);
      rc = sqlite3_step(s);
      if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
      if (sqlite3_changes(conn->db()) == 1) return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(RightsRequest existing, Get(*conn, id));
    return absl::FailedPreconditionError(absl::StrCat("close rights request ", id,
                                                      ": the request is already ",
                                                      ToString(existing.status)));
  }

  absl::StatusOr<RightsRequest> GetRequest(const std::string& id) override {
    RETURN_IF_ERROR(CheckSize(id, "get rights request", "id"));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    return Get(*conn, id);
  }

  absl::StatusOr<std::vector<RightsRequest>> ListRequests(
      const RightsRequestFilter& filter) override {
    constexpr absl::string_view kOp = "list rights requests";
    const std::string sql =
        absl::StrCat("SELECT ", kColumns, " FROM rights_requests",
                     filter.status.has_value() ? " WHERE status = ?1" : "",
                     " ORDER BY created_us, id", filter.limit > 0 ? " LIMIT ?2" : "");
    const std::string status =
        filter.status.has_value() ? ToString(*filter.status) : std::string();
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(OneShot stmt, OneShot::Prepare(*conn, sql.c_str(), kOp));
    if (filter.status.has_value()) BindText(stmt.get(), 1, status);
    if (filter.limit > 0) sqlite3_bind_int64(stmt.get(), 2, filter.limit);
    std::vector<RightsRequest> out;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      ASSIGN_OR_RETURN(RightsRequest r, ReadRequest(*conn, stmt.get()));
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    return out;
  }

  absl::StatusOr<int64_t> UnlinkSubject(const std::string& blind_index) override {
    constexpr absl::string_view kOp = "unlink rights requests";
    if (blind_index.empty()) {
      return absl::InvalidArgumentError("unlink rights requests: blind index is empty");
    }
    RETURN_IF_ERROR(CheckSize(blind_index, kOp, "blind index"));
    absl::MutexLock write(&pool_.write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(
        OneShot stmt,
        OneShot::Prepare(
            *conn, "UPDATE rights_requests SET blind_index = NULL WHERE blind_index = ?1",
            kOp));
    BindBlob(stmt.get(), 1, blind_index);
    const int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    return static_cast<int64_t>(sqlite3_changes(conn->db()));
  }

  absl::StatusOr<std::vector<int64_t>> ListSubjectKeyIds(
      const std::string& blind_index) override {
    constexpr absl::string_view kOp = "list subject keys";
    if (blind_index.empty()) {
      return absl::InvalidArgumentError("list subject keys: blind index is empty");
    }
    RETURN_IF_ERROR(CheckSize(blind_index, kOp, "blind index"));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(
        OneShot stmt,
        OneShot::Prepare(*conn,
                         "SELECT id FROM keys WHERE kind = ?1 AND subject = ?2 "
                         "ORDER BY id",
                         kOp));
    sqlite3_bind_int(stmt.get(), 1, static_cast<int>(crypto::KeyKind::kSubjectDek));
    BindBlob(stmt.get(), 2, blind_index);
    std::vector<int64_t> ids;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      ids.push_back(sqlite3_column_int64(stmt.get(), 0));
    }
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    return ids;
  }

 private:
  absl::StatusOr<RightsRequest> Get(Connection& conn, const std::string& id) {
    constexpr absl::string_view kOp = "get rights request";
    const std::string sql =
        absl::StrCat("SELECT ", kColumns, " FROM rights_requests WHERE id = ?1");
    ASSIGN_OR_RETURN(OneShot stmt, OneShot::Prepare(conn, sql.c_str(), kOp));
    BindText(stmt.get(), 1, id);
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) {
      return absl::NotFoundError(absl::StrCat("rights request ", id, " not found"));
    }
    if (rc != SQLITE_ROW) return conn.Error(rc, kOp);
    return ReadRequest(conn, stmt.get());
  }

  ConnectionPool& pool_;
};

}  // namespace

std::unique_ptr<RightsStore> NewSqliteRightsStore(ConnectionPool& pool) {
  return std::make_unique<SqliteRightsStore>(pool);
}

}  // namespace sqlite_internal
}  // namespace privacity::store
