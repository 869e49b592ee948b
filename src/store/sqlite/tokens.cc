// The SQLite TokenStore over the `tokens` table (schema migration 2).
// Token calls are rare next to record writes, so statements are prepared
// per call rather than cached on the connection.
#include <sqlite3.h>

#include <climits>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/sqlite_store.h"
#include "store/token_store.h"

namespace privacity::store::sqlite_internal {
namespace {

constexpr size_t kHashSize = 32;
constexpr size_t kMaxText = 4096;

// A statement prepared for one call, finalised when the scope ends.
class OwnedStatement {
 public:
  static absl::StatusOr<OwnedStatement> Prepare(Connection& conn, const char* sql,
                                                absl::string_view op) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(conn.db(), sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return conn.Error(rc, op);
    return OwnedStatement(stmt);
  }
  OwnedStatement(OwnedStatement&& other) noexcept
      : stmt_(std::exchange(other.stmt_, nullptr)) {}
  OwnedStatement& operator=(OwnedStatement&&) = delete;
  ~OwnedStatement() { sqlite3_finalize(stmt_); }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  explicit OwnedStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite3_stmt* stmt_;
};

int BindText(sqlite3_stmt* stmt, int col, const std::string& s) {
  return sqlite3_bind_text(stmt, col, s.data(), static_cast<int>(s.size()),
                           SQLITE_STATIC);
}

std::string ColumnText(sqlite3_stmt* stmt, int col) {
  const void* data = sqlite3_column_blob(stmt, col);
  const int size = sqlite3_column_bytes(stmt, col);
  if (data == nullptr || size <= 0) return "";
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

constexpr char kColumns[] =
    "id, token_hash, party, stream, label, created_us, revoked_us FROM tokens";

TokenRecord ReadToken(sqlite3_stmt* stmt) {
  TokenRecord t;
  t.id = sqlite3_column_int64(stmt, 0);
  t.token_hash = ColumnText(stmt, 1);
  t.party = ColumnText(stmt, 2);
  t.stream = ColumnText(stmt, 3);
  t.label = ColumnText(stmt, 4);
  t.created_us = sqlite3_column_int64(stmt, 5);
  if (sqlite3_column_type(stmt, 6) != SQLITE_NULL)
    t.revoked_us = sqlite3_column_int64(stmt, 6);
  return t;
}

class SqliteTokenStore final : public TokenStore {
 public:
  explicit SqliteTokenStore(ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<int64_t> InsertToken(const TokenRecord& token) override {
    constexpr absl::string_view kOp = "insert token";
    if (token.token_hash.size() != kHashSize) {
      return absl::InvalidArgumentError("insert token: hash must be 32 bytes");
    }
    if (token.party.empty())
      return absl::InvalidArgumentError("insert token: party is empty");
    if (token.party.size() > kMaxText || token.stream.size() > kMaxText ||
        token.label.size() > kMaxText) {
      return absl::InvalidArgumentError("insert token: party, stream or label too long");
    }
    absl::MutexLock write(&pool_.write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(
        OwnedStatement stmt,
        OwnedStatement::Prepare(*conn,
                                "INSERT INTO tokens (token_hash, party, stream, "
                                "label, created_us) VALUES (?, ?, ?, ?, ?)",
                                kOp));
    sqlite3_bind_blob(stmt.get(), 1, token.token_hash.data(),
                      static_cast<int>(token.token_hash.size()), SQLITE_STATIC);
    BindText(stmt.get(), 2, token.party);
    BindText(stmt.get(), 3, token.stream);
    BindText(stmt.get(), 4, token.label);
    sqlite3_bind_int64(stmt.get(), 5, token.created_us);
    const int rc = sqlite3_step(stmt.get());
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return absl::AlreadyExistsError("insert token: a token with this hash exists");
    }
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    return sqlite3_last_insert_rowid(conn->db());
  }

  absl::StatusOr<std::optional<TokenRecord>> FindTokenByHash(
      const std::string& token_hash) override {
    constexpr absl::string_view kOp = "find token";
    if (token_hash.size() != kHashSize) return std::nullopt;
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    const std::string sql = absl::StrCat("SELECT ", kColumns, " WHERE token_hash = ?");
    ASSIGN_OR_RETURN(OwnedStatement stmt,
                     OwnedStatement::Prepare(*conn, sql.c_str(), kOp));
    sqlite3_bind_blob(stmt.get(), 1, token_hash.data(),
                      static_cast<int>(token_hash.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return conn->Error(rc, kOp);
    return ReadToken(stmt.get());
  }

  absl::Status RevokeToken(int64_t id, int64_t revoked_us) override {
    constexpr absl::string_view kOp = "revoke token";
    absl::MutexLock write(&pool_.write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(
        OwnedStatement stmt,
        OwnedStatement::Prepare(
            *conn, "UPDATE tokens SET revoked_us = COALESCE(revoked_us, ?) WHERE id = ?",
            kOp));
    sqlite3_bind_int64(stmt.get(), 1, revoked_us);
    sqlite3_bind_int64(stmt.get(), 2, id);
    const int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    if (sqlite3_changes(conn->db()) == 0) {
      return absl::NotFoundError(absl::StrCat("token ", id, " not found"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<TokenRecord>> ListTokens() override {
    constexpr absl::string_view kOp = "list tokens";
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    const std::string sql = absl::StrCat("SELECT ", kColumns, " ORDER BY id");
    ASSIGN_OR_RETURN(OwnedStatement stmt,
                     OwnedStatement::Prepare(*conn, sql.c_str(), kOp));
    std::vector<TokenRecord> out;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW)
      out.push_back(ReadToken(stmt.get()));
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    return out;
  }

 private:
  ConnectionPool& pool_;
};

}  // namespace

std::unique_ptr<TokenStore> NewSqliteTokenStore(ConnectionPool& pool) {
  return std::make_unique<SqliteTokenStore>(pool);
}

}  // namespace privacity::store::sqlite_internal
