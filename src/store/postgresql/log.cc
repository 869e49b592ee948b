// The PostgreSQL LogStore over log_entries, log_nodes, log_frontier and
// log_checkpoints (schema version 2).
//
// One sequence across nodes: every append locks the single log_frontier
// row (SELECT ... FOR UPDATE) before checking that the batch starts at the
// stored size, so appends from all nodes are serialised and a batch built
// against an old frontier is Aborted (the audit module re-reads and
// retries). Reads run in one REPEATABLE READ snapshot, so the size they
// check against and the rows they return agree.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "store/log_batch_check.h"
#include "store/log_store.h"
#include "store/postgresql/connection.h"
#include "store/postgresql/postgresql_store.h"

namespace privacity::store::postgresql_internal {
namespace {

absl::StatusOr<LogFrontierRow> ReadFrontierRow(Connection& conn, absl::string_view op,
                                               bool for_update) {
  ASSIGN_OR_RETURN(
      Result r,
      conn.Exec(for_update ? "SELECT size, hashes FROM log_frontier "
                             "WHERE id = 1 FOR UPDATE"
                           : "SELECT size, hashes FROM log_frontier WHERE id = 1",
                op));
  if (r.rows() == 0) {
    return absl::DataLossError(absl::StrCat(op, ": the log frontier row is missing"));
  }
  const int64_t size = r.Int64(0, 0);
  if (size < 0) {
    return absl::DataLossError(absl::StrCat(op, ": the stored log size is negative"));
  }
  return LogFrontierRow{static_cast<uint64_t>(size), r.Bytes(0, 1)};
}

constexpr absl::string_view kAppendOp = "append log";

// Writes `batch` in the caller's transaction on `conn`, where the log's
// frontier row was locked and read as `stored`.
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
    CopyWriter copy;
    for (size_t i = 0; i < batch.entries.size(); ++i) {
      copy.BeginRow(3);
      copy.Int64(static_cast<int64_t>(batch.first_index + i));
      copy.Bytes(batch.entries[i].data);
      copy.Bytes(batch.entries[i].leaf_hash);
    }
    absl::StatusOr<int64_t> n =
        conn.CopyIn("COPY log_entries (idx, data, leaf_hash) FROM STDIN (FORMAT binary)",
                    copy.Finish(), kOp);
    if (absl::IsAlreadyExists(n.status())) {
      return absl::DataLossError("append log: an entry of the batch is already stored");
    }
    RETURN_IF_ERROR(n.status());
  }
  if (!batch.nodes.empty()) {
    CopyWriter copy;
    for (const LogNodeRow& n : batch.nodes) {
      copy.BeginRow(3);
      copy.Int32(n.level);
      copy.Int64(static_cast<int64_t>(n.index));
      copy.Bytes(n.hash);
    }
    absl::StatusOr<int64_t> n =
        conn.CopyIn("COPY log_nodes (level, idx, hash) FROM STDIN (FORMAT binary)",
                    copy.Finish(), kOp);
    if (absl::IsAlreadyExists(n.status())) {
      return absl::DataLossError("append log: a node of the batch is already stored");
    }
    RETURN_IF_ERROR(n.status());
  }
  RETURN_IF_ERROR(conn.Exec("UPDATE log_frontier SET size = $1, hashes = $2 WHERE id = 1",
                            Params()
                                .Int64(static_cast<int64_t>(batch.frontier.size))
                                .Bytes(batch.frontier.hashes),
                            kOp)
                      .status());
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteLogBatch(Connection& conn, LogBatchBuilder build) {
  ASSIGN_OR_RETURN(const LogFrontierRow stored,
                   ReadFrontierRow(conn, kAppendOp, /*for_update=*/true));
  ASSIGN_OR_RETURN(const LogBatch batch, build(stored));
  return WriteBatch(conn, stored, batch);
}

namespace {

class PgLogStore final : public LogStore {
 public:
  explicit PgLogStore(ConnectionPool& pool) : pool_(pool) {}

  absl::Status Append(const LogBatch& batch) override {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kReadCommitted));
    ASSIGN_OR_RETURN(const LogFrontierRow stored,
                     ReadFrontierRow(*conn, kAppendOp, /*for_update=*/true));
    RETURN_IF_ERROR(WriteBatch(*conn, stored, batch));
    return txn->Commit();
  }

  absl::StatusOr<LogFrontierRow> ReadFrontier() override {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    return ReadFrontierRow(*conn, "read log frontier", false);
  }

  absl::StatusOr<std::vector<LogEntryRow>> ReadEntries(uint64_t begin,
                                                       uint64_t end) override {
    constexpr absl::string_view kOp = "read log entries";
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kSnapshot));
    ASSIGN_OR_RETURN(LogFrontierRow frontier, ReadFrontierRow(*conn, kOp, false));
    if (begin > end || end > frontier.size) {
      return absl::OutOfRangeError(absl::StrCat("read log entries: [", begin, ", ", end,
                                                ") is not within the log of ",
                                                frontier.size, " entries"));
    }
    std::vector<LogEntryRow> out;
    if (begin == end) return out;
    ASSIGN_OR_RETURN(
        Result r,
        conn->Exec(
            "SELECT idx, data, leaf_hash FROM log_entries "
            "WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            Params().Int64(static_cast<int64_t>(begin)).Int64(static_cast<int64_t>(end)),
            kOp));
    out.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) {
      if (static_cast<uint64_t>(r.Int64(i, 0)) != begin + out.size()) break;
      out.push_back(LogEntryRow{r.Bytes(i, 1), r.Bytes(i, 2)});
    }
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
                     Transaction::Begin(*conn, TransactionMode::kSnapshot));
    ASSIGN_OR_RETURN(LogFrontierRow frontier, ReadFrontierRow(*conn, kOp, false));
    for (const LogNodeKey& n : nodes) {
      if (!Complete(n.level, n.index, frontier.size)) {
        return absl::OutOfRangeError(absl::StrCat("read log nodes: node (", n.level, ", ",
                                                  n.index, ") is not in the log of ",
                                                  frontier.size, " entries"));
      }
    }
    std::vector<std::string> out;
    out.reserve(nodes.size());
    for (const LogNodeKey& n : nodes) {
      absl::StatusOr<Result> r =
          n.level == 0
              ? conn->Exec("SELECT leaf_hash FROM log_entries WHERE idx = $1",
                           Params().Int64(static_cast<int64_t>(n.index)), kOp)
              : conn->Exec("SELECT hash FROM log_nodes WHERE level = $1 AND idx = $2",
                           Params().Int32(n.level).Int64(static_cast<int64_t>(n.index)),
                           kOp);
      RETURN_IF_ERROR(r.status());
      if (r->rows() == 0) {
        return absl::DataLossError(absl::StrCat("read log nodes: node (", n.level, ", ",
                                                n.index, ") is missing"));
      }
      out.push_back(r->Bytes(0, 0));
    }
    return out;
  }

  absl::StatusOr<std::vector<std::string>> ReadNodeRange(int level, uint64_t begin,
                                                         uint64_t end) override {
    constexpr absl::string_view kOp = "read log node range";
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kSnapshot));
    ASSIGN_OR_RETURN(LogFrontierRow frontier, ReadFrontierRow(*conn, kOp, false));
    if (level < 0 || level > kMaxLogLevel || begin > end ||
        (end > begin && !Complete(level, end - 1, frontier.size))) {
      return absl::OutOfRangeError(
          absl::StrCat("read log node range: level ", level, " [", begin, ", ", end,
                       ") is not complete in the log of ", frontier.size, " entries"));
    }
    std::vector<std::string> out;
    if (begin == end) return out;
    absl::StatusOr<Result> r =
        level == 0 ? conn->Exec(
                         "SELECT idx, leaf_hash FROM log_entries WHERE idx >= $1 "
                         "AND idx < $2 ORDER BY idx",
                         Params()
                             .Int64(static_cast<int64_t>(begin))
                             .Int64(static_cast<int64_t>(end)),
                         kOp)
                   : conn->Exec(
                         "SELECT idx, hash FROM log_nodes WHERE level = $3 "
                         "AND idx >= $1 AND idx < $2 ORDER BY idx",
                         Params()
                             .Int64(static_cast<int64_t>(begin))
                             .Int64(static_cast<int64_t>(end))
                             .Int32(level),
                         kOp);
    RETURN_IF_ERROR(r.status());
    out.reserve(r->rows());
    for (int i = 0; i < r->rows(); ++i) {
      if (static_cast<uint64_t>(r->Int64(i, 0)) != begin + out.size()) break;
      out.push_back(r->Bytes(i, 1));
    }
    if (out.size() != end - begin) {
      return absl::DataLossError(absl::StrCat("read log node range: node (", level, ", ",
                                              begin + out.size(), ") is missing"));
    }
    return out;
  }

  absl::Status PutCheckpoint(const LogCheckpointRow& checkpoint) override {
    if (checkpoint.note.empty()) {
      return absl::InvalidArgumentError(
          "put log checkpoint: the note is empty or too long");
    }
    if (checkpoint.size >= kMaxLogSize) {
      return absl::InvalidArgumentError("put log checkpoint: size out of range");
    }
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Result r,
                     conn->Exec("INSERT INTO log_checkpoints (size, note, "
                                "created_us) VALUES ($1, $2, $3) "
                                "ON CONFLICT (size) DO NOTHING",
                                Params()
                                    .Int64(static_cast<int64_t>(checkpoint.size))
                                    .Bytes(checkpoint.note)
                                    .Int64(checkpoint.created_us),
                                "put log checkpoint"));
    if (r.Affected() == 0) {
      return absl::AlreadyExistsError(absl::StrCat(
          "put log checkpoint: a checkpoint of size ", checkpoint.size, " is stored"));
    }
    return absl::OkStatus();
  }

  absl::Status PutNextCheckpoint(const LogCheckpointRow& checkpoint,
                                 std::optional<uint64_t> previous) override {
    constexpr absl::string_view kOp = "put next log checkpoint";
    if (checkpoint.note.empty()) {
      return absl::InvalidArgumentError(
          "put log checkpoint: the note is empty or too long");
    }
    if (checkpoint.size >= kMaxLogSize ||
        (previous.has_value() && checkpoint.size <= *previous)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "put log checkpoint: size ", checkpoint.size, " does not follow checkpoint ",
          previous.has_value() ? absl::StrCat(*previous) : std::string("(none)")));
    }
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kReadCommitted));
    // The frontier row lock serialises this with appends and other signers;
    // what is read after it is committed and current.
    ASSIGN_OR_RETURN(LogFrontierRow frontier, ReadFrontierRow(*conn, kOp, true));
    ASSIGN_OR_RETURN(
        Result latest,
        conn->Exec("SELECT COALESCE(MAX(size), -1) FROM log_checkpoints", Params(), kOp));
    const int64_t stored_size = latest.Int64(0, 0);
    std::optional<uint64_t> stored;
    if (stored_size >= 0) stored = static_cast<uint64_t>(stored_size);
    if (stored != previous) {
      return absl::AbortedError(absl::StrCat(
          "put log checkpoint: the latest checkpoint is now ",
          stored.has_value() ? absl::StrCat(*stored) : std::string("(none)"), ", not ",
          previous.has_value() ? absl::StrCat(*previous) : std::string("(none)")));
    }
    if (checkpoint.size > frontier.size) {
      return absl::FailedPreconditionError(
          absl::StrCat("put log checkpoint: size ", checkpoint.size,
                       " is beyond the stored log of ", frontier.size, " entries"));
    }
    RETURN_IF_ERROR(conn->Exec("INSERT INTO log_checkpoints (size, note, created_us) "
                               "VALUES ($1, $2, $3)",
                               Params()
                                   .Int64(static_cast<int64_t>(checkpoint.size))
                                   .Bytes(checkpoint.note)
                                   .Int64(checkpoint.created_us),
                               kOp)
                        .status());
    return txn->Commit();
  }

  absl::StatusOr<std::optional<LogCheckpointRow>> LatestCheckpoint() override {
    return Query(
        "SELECT size, note, created_us FROM log_checkpoints "
        "ORDER BY size DESC LIMIT 1",
        Params());
  }

  absl::StatusOr<std::optional<LogCheckpointRow>> GetCheckpoint(uint64_t size) override {
    if (size >= kMaxLogSize) return std::nullopt;
    return Query("SELECT size, note, created_us FROM log_checkpoints WHERE size = $1",
                 Params().Int64(static_cast<int64_t>(size)));
  }

 private:
  absl::StatusOr<std::optional<LogCheckpointRow>> Query(const char* sql,
                                                        const Params& params) {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Result r, conn->Exec(sql, params, "read log checkpoint"));
    if (r.rows() == 0) return std::nullopt;
    return LogCheckpointRow{static_cast<uint64_t>(r.Int64(0, 0)), r.Bytes(0, 1),
                            r.Int64(0, 2)};
  }

  ConnectionPool& pool_;
};

}  // namespace

std::unique_ptr<LogStore> NewPostgresqlLogStore(ConnectionPool& pool) {
  return std::make_unique<PgLogStore>(pool);
}

}  // namespace privacity::store::postgresql_internal
