// The PostgreSQL ReleaseStore over the `releases` table (schema version 3).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "store/postgresql/connection.h"
#include "store/postgresql/postgresql_store.h"
#include "store/store.h"

namespace privacity::store::postgresql_internal {
namespace {

constexpr size_t kMaxText = 1024;
constexpr size_t kMaxBody = size_t{256} << 20;

ReleaseRow Read(const Result& r, int row, bool with_body) {
  ReleaseRow out;
  out.id = r.Bytes(row, 0);
  out.agreement = r.Bytes(row, 1);
  out.stream = r.Bytes(row, 2);
  out.title = r.Bytes(row, 3);
  out.created = absl::FromUnixMicros(r.Int64(row, 4));
  out.summary = r.Bytes(row, 5);
  if (with_body) out.body = r.Bytes(row, 6);
  return out;
}

class PgReleaseStore final : public ReleaseStore {
 public:
  explicit PgReleaseStore(ConnectionPool& pool) : pool_(pool) {}

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
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Result res,
                     conn->Exec("INSERT INTO releases (id, agreement, stream, title, "
                                "created_us, summary, body) VALUES ($1, $2, $3, $4, $5, "
                                "$6, $7) ON CONFLICT (id) DO NOTHING RETURNING id",
                                Params()
                                    .Text(r.id)
                                    .Text(r.agreement)
                                    .Text(r.stream)
                                    .Text(r.title)
                                    .Int64(absl::ToUnixMicros(r.created))
                                    .Bytes(r.summary)
                                    .Bytes(r.body),
                                kOp));
    if (res.rows() == 0) {
      return absl::AlreadyExistsError("insert release: a release with this id exists");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<ReleaseRow>> FindRelease(const std::string& id) override {
    if (id.empty() || id.size() > kMaxText) return std::nullopt;
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(
        Result r, conn->Exec("SELECT id, agreement, stream, title, created_us, summary, "
                             "body FROM releases WHERE id = $1",
                             Params().Text(id), "find release"));
    if (r.rows() == 0) return std::nullopt;
    return Read(r, 0, /*with_body=*/true);
  }

  absl::StatusOr<std::vector<ReleaseRow>> ListReleases() override {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(
        Result r, conn->Exec("SELECT id, agreement, stream, title, created_us, summary "
                             "FROM releases ORDER BY created_us, id",
                             Params(), "list releases"));
    std::vector<ReleaseRow> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(Read(r, i, /*with_body=*/false));
    return out;
  }

 private:
  ConnectionPool& pool_;
};

}  // namespace

std::unique_ptr<ReleaseStore> NewPostgresqlReleaseStore(ConnectionPool& pool) {
  return std::make_unique<PgReleaseStore>(pool);
}

}  // namespace privacity::store::postgresql_internal
