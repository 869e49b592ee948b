// The PostgreSQL RightsStore: rows of `rights_requests` (schema version 2)
// and the subject-key lookup erasure needs.
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "crypto/key_store.h"
#include "store/postgresql/connection.h"
#include "store/postgresql/postgresql_store.h"
#include "store/rights_store.h"

namespace privacity::store::postgresql_internal {
namespace {

constexpr char kSelect[] =
    "SELECT id, kind, status, blind_index, created_us, deadline_us, completed_us, detail "
    "FROM rights_requests";

absl::StatusOr<RightsRequest> ReadRequest(const Result& r, int row) {
  RightsRequest out;
  out.id = r.Bytes(row, 0);
  const std::optional<RightsRequestKind> kind = ParseRightsRequestKind(r.Bytes(row, 1));
  const std::optional<RightsRequestStatus> status =
      ParseRightsRequestStatus(r.Bytes(row, 2));
  if (!kind.has_value() || !status.has_value()) {
    return absl::DataLossError(
        "postgresql store: rights request has an unknown kind or status");
  }
  out.kind = *kind;
  out.status = *status;
  if (!r.IsNull(row, 3)) out.blind_index = r.Bytes(row, 3);
  out.created = absl::FromUnixMicros(r.Int64(row, 4));
  out.deadline = absl::FromUnixMicros(r.Int64(row, 5));
  if (!r.IsNull(row, 6)) out.completed = absl::FromUnixMicros(r.Int64(row, 6));
  out.detail = r.Bytes(row, 7);
  return out;
}

class PgRightsStore final : public RightsStore {
 public:
  explicit PgRightsStore(ConnectionPool& pool) : pool_(pool) {}

  absl::Status InsertRequest(const RightsRequest& request) override {
    if (request.id.empty()) {
      return absl::InvalidArgumentError("insert rights request: empty id");
    }
    Params p;
    p.Text(request.id).Text(ToString(request.kind)).Text(ToString(request.status));
    if (request.blind_index.empty()) {
      p.NullBytes();
    } else {
      p.Bytes(request.blind_index);
    }
    p.Int64(absl::ToUnixMicros(request.created))
        .Int64(absl::ToUnixMicros(request.deadline));
    if (request.completed.has_value()) {
      p.Int64(absl::ToUnixMicros(*request.completed));
    } else {
      p.NullInt64();
    }
    p.Text(request.detail);
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Result r,
                     conn->Exec("INSERT INTO rights_requests (id, kind, status, "
                                "blind_index, created_us, deadline_us, "
                                "completed_us, detail) VALUES ($1, $2, $3, $4, "
                                "$5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
                                p, "insert rights request"));
    if (r.Affected() == 0) {
      return absl::AlreadyExistsError("insert rights request: the id is already taken");
    }
    return absl::OkStatus();
  }

  absl::Status CloseRequest(const std::string& id, RightsRequestStatus status,
                            absl::Time completed, const std::string& detail) override {
    constexpr absl::string_view kOp = "close rights request";
    if (status == RightsRequestStatus::kOpen) {
      return absl::InvalidArgumentError(
          "close rights request: the new status must not be open");
    }
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Result r, conn->Exec("UPDATE rights_requests SET status = $2, "
                                          "completed_us = $3, detail = $4 "
                                          "WHERE id = $1 AND status = $5",
                                          Params()
                                              .Text(id)
                                              .Text(ToString(status))
                                              .Int64(absl::ToUnixMicros(completed))
                                              .Text(detail)
                                              .Text(ToString(RightsRequestStatus::kOpen)),
                                          kOp));
    if (r.Affected() == 1) return absl::OkStatus();
    ASSIGN_OR_RETURN(RightsRequest existing, Get(*conn, id));
    return absl::FailedPreconditionError(absl::StrCat("close rights request ", id,
                                                      ": the request is already ",
                                                      ToString(existing.status)));
  }

  absl::StatusOr<RightsRequest> GetRequest(const std::string& id) override {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    return Get(*conn, id);
  }

  absl::StatusOr<std::vector<RightsRequest>> ListRequests(
      const RightsRequestFilter& filter) override {
    // $1 NULL = any status; $2 NULL = no limit.
    Params p;
    if (filter.status.has_value()) {
      p.Text(ToString(*filter.status));
    } else {
      p.Text("");
    }
    p.Int64(filter.limit > 0 ? filter.limit : std::numeric_limits<int64_t>::max());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Result r, conn->Exec(absl::StrCat(kSelect,
                                                       " WHERE ($1 = '' OR status = $1) "
                                                       "ORDER BY created_us, id LIMIT $2")
                                              .c_str(),
                                          p, "list rights requests"));
    std::vector<RightsRequest> out;
    out.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) {
      ASSIGN_OR_RETURN(RightsRequest req, ReadRequest(r, i));
      out.push_back(std::move(req));
    }
    return out;
  }

  absl::StatusOr<int64_t> UnlinkSubject(const std::string& blind_index) override {
    if (blind_index.empty()) {
      return absl::InvalidArgumentError("unlink rights requests: blind index is empty");
    }
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Result r,
                     conn->Exec("UPDATE rights_requests SET blind_index = NULL "
                                "WHERE blind_index = $1",
                                Params().Bytes(blind_index), "unlink rights requests"));
    return r.Affected();
  }

  absl::StatusOr<std::vector<int64_t>> ListSubjectKeyIds(
      const std::string& blind_index) override {
    if (blind_index.empty()) {
      return absl::InvalidArgumentError("list subject keys: blind index is empty");
    }
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(
        Result r,
        conn->Exec("SELECT id FROM keys WHERE kind = $1 AND subject = $2 ORDER BY id",
                   Params()
                       .Int32(static_cast<int32_t>(crypto::KeyKind::kSubjectDek))
                       .Bytes(blind_index),
                   "list subject keys"));
    std::vector<int64_t> ids;
    ids.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) ids.push_back(r.Int64(i, 0));
    return ids;
  }

 private:
  absl::StatusOr<RightsRequest> Get(Connection& conn, const std::string& id) {
    ASSIGN_OR_RETURN(Result r, conn.Exec(absl::StrCat(kSelect, " WHERE id = $1").c_str(),
                                         Params().Text(id), "get rights request"));
    if (r.rows() == 0) {
      return absl::NotFoundError(absl::StrCat("rights request ", id, " not found"));
    }
    return ReadRequest(r, 0);
  }

  ConnectionPool& pool_;
};

}  // namespace

std::unique_ptr<RightsStore> NewPostgresqlRightsStore(ConnectionPool& pool) {
  return std::make_unique<PgRightsStore>(pool);
}

}  // namespace privacity::store::postgresql_internal
