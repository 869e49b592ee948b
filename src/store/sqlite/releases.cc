// The SQLite ReleaseStore over the `releases` table (schema migration 3).
// Releases are published rarely; statements are prepared per call.
#include <sqlite3.h>

#include <climits>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace privacity::store::sqlite_internal {
namespace {

constexpr size_t kMaxText = 1024;
constexpr size_t kMaxBody = size_t{256} << 20;

class Statement {
 public:
  static absl::StatusOr<Statement> Prepare(Connection& conn, const char* sql,
                                           absl::string_view op) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(conn.db(), sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return conn.Error(rc, op);
    return Statement(stmt);
  }
  Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite3_stmt* stmt_;
};

void Bind(sqlite3_stmt* stmt, int col, const std::string& s) {
  sqlite3_bind_text(stmt, col, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}

std::string Column(sqlite3_stmt* stmt, int col) {
  const void* data = sqlite3_column_blob(stmt, col);
  const int size = sqlite3_column_bytes(stmt, col);
  if (data == nullptr || size <= 0) return "";
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

ReleaseRow Read(sqlite3_stmt* stmt, bool with_body) {
  ReleaseRow r;
  r.id = Column(stmt, 0);
  r.agreement = Column(stmt, 1);
  r.stream = Column(stmt, 2);
  r.title = Column(stmt, 3);
  r.created = absl::FromUnixMicros(sqlite3_column_int64(stmt, 4));
  r.summary = Column(stmt, 5);
  if (with_body) r.body = Column(stmt, 6);
  return r;
}

class SqliteReleaseStore final : public ReleaseStore {
 public:
  explicit SqliteReleaseStore(ConnectionPool& pool) : pool_(pool) {}

  absl::Status InsertRelease(const ReleaseRow& r) override {
    constexpr absl::string_view kOp = "insert release";
    if (r.id.empty() || r.stream.empty() || r.title.empty() || r.agreement.empty()) {
      return absl::InvalidArgumentError(
          "insert release: id, agreement, stream and title must not be empty");
    }
    if (r.id.size() > kMaxText || r.stream.size() > kMaxText ||
        r.title.size() > kMaxText || r.agreement.size() > kMaxText) {
      return absl::InvalidArgumentError(
          "insert release: id, agreement, stream or title too long");
    }
    if (r.summary.size() > kMaxBody || r.body.size() > kMaxBody) {
      return absl::InvalidArgumentError("insert release: body too large");
    }
    absl::MutexLock write(&pool_.write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Statement stmt,
                     Statement::Prepare(*conn,
                                        "INSERT INTO releases (id, agreement, stream, "
                                        "title, created_us, summary, body) VALUES "
                                        "(?, ?, ?, ?, ?, ?, ?)",
                                        kOp));
    Bind(stmt.get(), 1, r.id);
    Bind(stmt.get(), 2, r.agreement);
    Bind(stmt.get(), 3, r.stream);
    Bind(stmt.get(), 4, r.title);
    sqlite3_bind_int64(stmt.get(), 5, absl::ToUnixMicros(r.created));
    sqlite3_bind_blob(stmt.get(), 6, r.summary.data(), static_cast<int>(r.summary.size()),
                      SQLITE_STATIC);
    sqlite3_bind_blob(stmt.get(), 7, r.body.data(), static_cast<int>(r.body.size()),
                      SQLITE_STATIC);
    const int rc = sqlite3_step(stmt.get());
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return absl::AlreadyExistsError("insert release: a release with this id exists");
    }
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<ReleaseRow>> FindRelease(const std::string& id) override {
    constexpr absl::string_view kOp = "find release";
    if (id.empty() || id.size() > kMaxText) return std::nullopt;
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(
        Statement stmt,
        Statement::Prepare(*conn,
                           "SELECT id, agreement, stream, title, created_us, "
                           "summary, body FROM releases WHERE id = ?",
                           kOp));
    Bind(stmt.get(), 1, id);
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return conn->Error(rc, kOp);
    return Read(stmt.get(), /*with_body=*/true);
  }

  absl::StatusOr<std::vector<ReleaseRow>> ListReleases() override {
    constexpr absl::string_view kOp = "list releases";
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(
        Statement stmt,
        Statement::Prepare(*conn,
                           "SELECT id, agreement, stream, title, created_us, "
                           "summary FROM releases ORDER BY created_us, id",
                           kOp));
    std::vector<ReleaseRow> out;
    while (true) {
      const int rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return conn->Error(rc, kOp);
      out.push_back(Read(stmt.get(), /*with_body=*/false));
    }
    return out;
  }

 private:
  ConnectionPool& pool_;
};

}  // namespace

std::unique_ptr<ReleaseStore> NewSqliteReleaseStore(ConnectionPool& pool) {
  return std::make_unique<SqliteReleaseStore>(pool);
}

}  // namespace privacity::store::sqlite_internal
