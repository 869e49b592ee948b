// The PostgreSQL TokenStore over the `tokens` table (schema version 2).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "store/postgresql/connection.h"
#include "store/postgresql/postgresql_store.h"
#include "store/token_store.h"

namespace privacity::store::postgresql_internal {
namespace {

constexpr size_t kHashSize = 32;
constexpr size_t kMaxText = 4096;

constexpr char kSelect[] =
    "SELECT id, token_hash, party, stream, label, created_us, revoked_us FROM tokens";

TokenRecord ReadToken(const Result& r, int row) {
  TokenRecord t;
  t.id = r.Int64(row, 0);
  t.token_hash = r.Bytes(row, 1);
  t.party = r.Bytes(row, 2);
  t.stream = r.Bytes(row, 3);
  t.label = r.Bytes(row, 4);
  t.created_us = r.Int64(row, 5);
  if (!r.IsNull(row, 6)) t.revoked_us = r.Int64(row, 6);
  return t;
}

class PgTokenStore final : public TokenStore {
 public:
  explicit PgTokenStore(ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<int64_t> InsertToken(const TokenRecord& token) override {
    constexpr absl::string_view kOp = "insert token";
    if (token.token_hash.size() != kHashSize) {
      return absl::InvalidArgumentError("insert token: hash must be 32 bytes");
    }
    if (token.party.empty()) {
      return absl::InvalidArgumentError("insert token: party is empty");
    }
    if (token.party.size() > kMaxText || token.stream.size() > kMaxText ||
        token.label.size() > kMaxText) {
      return absl::InvalidArgumentError("insert token: party, stream or label too long");
    }
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Result r,
                     conn->Exec("INSERT INTO tokens (token_hash, party, stream, "
                                "label, created_us) VALUES ($1, $2, $3, $4, $5) "
                                "ON CONFLICT (token_hash) DO NOTHING RETURNING id",
                                Params()
                                    .Bytes(token.token_hash)
                                    .Text(token.party)
                                    .Text(token.stream)
                                    .Text(token.label)
                                    .Int64(token.created_us),
                                kOp));
    if (r.rows() == 0) {
      return absl::AlreadyExistsError("insert token: a token with this hash exists");
    }
    return r.Int64(0, 0);
  }

  absl::StatusOr<std::optional<TokenRecord>> FindTokenByHash(
      const std::string& token_hash) override {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Result r,
                     conn->Exec(absl::StrCat(kSelect, " WHERE token_hash = $1").c_str(),
                                Params().Bytes(token_hash), "find token"));
    if (r.rows() == 0) return std::nullopt;
    return ReadToken(r, 0);
  }

  absl::Status RevokeToken(int64_t id, int64_t revoked_us) override {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Result r,
                     conn->Exec("UPDATE tokens SET revoked_us = COALESCE(revoked_us, $1) "
                                "WHERE id = $2",
                                Params().Int64(revoked_us).Int64(id), "revoke token"));
    if (r.Affected() == 0) {
      return absl::NotFoundError(absl::StrCat("token ", id, " not found"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<TokenRecord>> ListTokens() override {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Result r, conn->Exec(absl::StrCat(kSelect, " ORDER BY id").c_str(),
                                          "list tokens"));
    std::vector<TokenRecord> out;
    out.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) out.push_back(ReadToken(r, i));
    return out;
  }

 private:
  ConnectionPool& pool_;
};

}  // namespace

std::unique_ptr<TokenStore> NewPostgresqlTokenStore(ConnectionPool& pool) {
  return std::make_unique<PgTokenStore>(pool);
}

}  // namespace privacity::store::postgresql_internal
