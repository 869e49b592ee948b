#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "store/cell_filter.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/schema.h"

namespace privacity::store::sqlite_internal {
namespace {

// The most ids one ReserveRecordIds call hands out.
constexpr int64_t kMaxReserve = int64_t{1} << 40;

// Ids taken from the shared sequence at a time. Ids left over when the
// store closes are never used: gaps are harmless, ids only need to be
// unique and roughly increasing.
constexpr int64_t kIdBlock = int64_t{1} << 16;

static_assert(static_cast<int>(crypto::KeyKind::kSubjectDek) == 4,
              "the statements unlinking subject lists name data keys by kind 4");

// Entries of subject_records_recent moved into a run of subject_records at
// a time: the recent list is scanned whole by rights requests (about 1 MB
// at most), and each run costs a lookup one seek per data key.
constexpr int64_t kRecentListLimit = int64_t{1} << 16;

// Budget sums are floating point: a charge that exceeds the cap by no more
// than this fraction of the cap (rounding of earlier sums) is allowed.
constexpr double kBudgetRelativeTolerance = 1e-10;

using crypto::KeyKind;
using crypto::KeyName;
using crypto::WrappedKey;

// Binds `s` without copying: the caller keeps it alive until the statement
// is stepped. REQUIRES: s.size() <= INT_MAX (checked by callers).
inline int BindText(sqlite3_stmt* stmt, int col, const std::string& s) {
  return sqlite3_bind_text(stmt, col, s.data(), static_cast<int>(s.size()),
                           SQLITE_STATIC);
}
inline int BindBlob(sqlite3_stmt* stmt, int col, const std::string& s) {
  return sqlite3_bind_blob(stmt, col, s.data(), static_cast<int>(s.size()),
                           SQLITE_STATIC);
}

// Reads a TEXT or BLOB column into `out`, reusing its capacity.
inline void ReadBytes(sqlite3_stmt* stmt, int col, std::string& out) {
  const void* data = sqlite3_column_blob(stmt, col);
  const int size = sqlite3_column_bytes(stmt, col);
  if (data == nullptr || size <= 0) {
    out.clear();
  } else {
    out.assign(static_cast<const char*>(data), static_cast<size_t>(size));
  }
}

inline bool FitsInt(const std::string& s) { return s.size() <= INT_MAX; }

// Column order of every record query (see connection.cc).
void ReadRecord(sqlite3_stmt* stmt, StoredRecord& r) {
  r.id = sqlite3_column_int64(stmt, 0);
  ReadBytes(stmt, 1, r.stream);
  r.time_us = sqlite3_column_int64(stmt, 2);
  r.cell = static_cast<uint64_t>(sqlite3_column_int64(stmt, 3));
  r.epoch = sqlite3_column_int64(stmt, 4);
  ReadBytes(stmt, 5, r.blind_index);
  r.key_id = sqlite3_column_int64(stmt, 6);
  ReadBytes(stmt, 7, r.payload);
  r.batch = sqlite3_column_int64(stmt, 8);
}

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

const char* ConsentStateName(ConsentState s) {
  switch (s) {
    case ConsentState::kGranted:
      return "granted";
    case ConsentState::kWithdrawn:
      return "withdrawn";
    case ConsentState::kObjected:
      return "objected";
  }
  return nullptr;
}

std::optional<ConsentState> ParseConsentState(const std::string& s) {
  if (s == "granted") return ConsentState::kGranted;
  if (s == "withdrawn") return ConsentState::kWithdrawn;
  if (s == "objected") return ConsentState::kObjected;
  return std::nullopt;
}

absl::Status CheckBlindIndex(const std::string& blind_index, absl::string_view op) {
  if (blind_index.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": blind index is empty"));
  }
  if (!FitsInt(blind_index)) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": blind index is too long"));
  }
  return absl::OkStatus();
}

absl::Status CheckName(const std::string& value, absl::string_view op,
                       absl::string_view field) {
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", field, " is empty"));
  }
  if (!FitsInt(value)) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", field, " is too long"));
  }
  return absl::OkStatus();
}

absl::Status CheckKeyName(const KeyName& name, absl::string_view op) {
  if (static_cast<int>(name.kind) < 1) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": invalid key kind"));
  }
  if (!FitsInt(name.scope) || !FitsInt(name.subject)) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": key name is too long"));
  }
  return absl::OkStatus();
}

int BindKeyName(sqlite3_stmt* stmt, const KeyName& name) {
  return sqlite3_bind_int(stmt, 1, static_cast<int>(name.kind)) |
         BindText(stmt, 2, name.scope) | sqlite3_bind_int64(stmt, 3, name.epoch) |
         BindBlob(stmt, 4, name.subject);
}

absl::Status CheckIngestKeys(absl::Span<const IngestKey> keys) {
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].stream.empty() || keys[i].digest.size() != 32) {
      return absl::InvalidArgumentError(absl::StrCat(
          "append records: ingest key ", i, ": needs a stream and a 32-byte digest"));
    }
  }
  return absl::OkStatus();
}

// Steps a statement that returns no row.
absl::Status StepDone(Connection& conn, sqlite3_stmt* stmt, absl::string_view op) {
  const int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) return conn.Error(rc, op);
  return absl::OkStatus();
}

absl::Status BindError(Connection& conn, int rc, absl::string_view op) {
  return conn.Error(rc, absl::StrCat(op, " (bind)"));
}

class SqliteKeyStore final : public crypto::KeyStore {
 public:
  explicit SqliteKeyStore(ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<WrappedKey> InsertKeyIfAbsent(const WrappedKey& key) override {
    ASSIGN_OR_RETURN(std::vector<WrappedKey> stored,
                     InsertKeysIfAbsent(absl::MakeConstSpan(&key, 1)));
    return std::move(stored[0]);
  }

  // All in one write transaction (one commit, one sync for the batch).
  absl::StatusOr<std::vector<WrappedKey>> InsertKeysIfAbsent(
      absl::Span<const WrappedKey> keys) override {
    constexpr absl::string_view kOp = "insert key";
    for (const WrappedKey& key : keys) {
      RETURN_IF_ERROR(CheckKeyName(key.name, kOp));
      if (key.wrapped.empty() || !FitsInt(key.wrapped)) {
        return absl::InvalidArgumentError("insert key: wrapped key is empty or too long");
      }
    }
    std::vector<WrappedKey> out;
    if (keys.empty()) return out;
    out.reserve(keys.size());
    absl::MutexLock write(&pool_.write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kImmediate));
    for (const WrappedKey& key : keys) {
      {
        ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kInsertKey));
        StatementScope scope(stmt);
        const int rc = BindKeyName(stmt, key.name) | BindBlob(stmt, 5, key.wrapped) |
                       sqlite3_bind_int64(stmt, 6, ToMicros(key.created));
        if (rc != SQLITE_OK) return BindError(*conn, rc, kOp);
        RETURN_IF_ERROR(StepDone(*conn, stmt, kOp));
      }
      ASSIGN_OR_RETURN(std::optional<WrappedKey> stored, Find(*conn, key.name));
      if (!stored.has_value()) {
        return absl::InternalError(
            absl::StrCat("sqlite store ", conn->path(), ": inserted key not found"));
      }
      out.push_back(*std::move(stored));
    }
    RETURN_IF_ERROR(txn->Commit());
    return out;
  }

  absl::StatusOr<std::optional<WrappedKey>> FindKey(const KeyName& name) override {
    RETURN_IF_ERROR(CheckKeyName(name, "find key"));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    return Find(*conn, name);
  }

  // One connection and one read transaction (one snapshot) for all names.
  absl::StatusOr<std::vector<std::optional<WrappedKey>>> FindKeys(
      absl::Span<const KeyName> names) override {
    for (const KeyName& name : names) RETURN_IF_ERROR(CheckKeyName(name, "find key"));
    std::vector<std::optional<WrappedKey>> out;
    if (names.empty()) return out;
    out.reserve(names.size());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kDeferred));
    for (const KeyName& name : names) {
      ASSIGN_OR_RETURN(std::optional<WrappedKey> found, Find(*conn, name));
      out.push_back(std::move(found));
    }
    RETURN_IF_ERROR(txn->Commit());
    return out;
  }

  absl::StatusOr<WrappedKey> GetKey(int64_t id) override {
    constexpr absl::string_view kOp = "get key";
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kGetKey));
    StatementScope scope(stmt);
    sqlite3_bind_int64(stmt, 1, id);
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
      return absl::NotFoundError(absl::StrCat("key ", id, " not found"));
    }
    if (rc != SQLITE_ROW) return conn->Error(rc, kOp);
    WrappedKey key;
    key.id = id;
    key.name.kind = static_cast<KeyKind>(sqlite3_column_int(stmt, 0));
    ReadBytes(stmt, 1, key.name.scope);
    key.name.epoch = sqlite3_column_int64(stmt, 2);
    ReadBytes(stmt, 3, key.name.subject);
    ReadBytes(stmt, 4, key.wrapped);
    key.created = FromMicros(sqlite3_column_int64(stmt, 5));
    return key;
  }

  absl::Status DestroyKey(int64_t id) override {
    absl::MutexLock write(&pool_.write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kImmediate));
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kDestroyKey));
      StatementScope scope(stmt);
      sqlite3_bind_int64(stmt, 1, id);
      RETURN_IF_ERROR(StepDone(*conn, stmt, "destroy key"));
    }
    if (sqlite3_changes64(conn->db()) == 0) {
      return absl::NotFoundError(absl::StrCat("key ", id, " not found"));
    }
    RETURN_IF_ERROR(CountKeyChange(*conn));
    return txn->Commit();
  }

  absl::StatusOr<int64_t> KeyChanges() override {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kKeyChanges));
    StatementScope scope(stmt);
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return conn->Error(rc, "read key changes");
    return sqlite3_column_int64(stmt, 0);
  }

  absl::Status RenameKey(int64_t id, const KeyName& name,
                         const std::string& wrapped) override {
    constexpr absl::string_view kOp = "rename key";
    RETURN_IF_ERROR(CheckKeyName(name, kOp));
    if (wrapped.empty() || !FitsInt(wrapped)) {
      return absl::InvalidArgumentError("rename key: wrapped key is empty or too long");
    }
    absl::MutexLock write(&pool_.write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kImmediate));
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(conn->db(),
                                "UPDATE keys SET kind = ?1, scope = ?2, epoch = ?3, "
                                "subject = ?4, wrapped = ?5 WHERE id = ?6",
                                -1, &raw, nullptr);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, &sqlite3_finalize);
    if (rc != SQLITE_OK) return conn->Error(rc, kOp);
    rc = BindKeyName(stmt.get(), name) | BindBlob(stmt.get(), 5, wrapped) |
         sqlite3_bind_int64(stmt.get(), 6, id);
    if (rc != SQLITE_OK) return BindError(*conn, rc, kOp);
    rc = sqlite3_step(stmt.get());
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return absl::AlreadyExistsError(
          absl::StrCat("rename key ", id, ": a live key has that name"));
    }
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    if (sqlite3_changes64(conn->db()) == 0) {
      return absl::NotFoundError(absl::StrCat("key ", id, " not found"));
    }
    RETURN_IF_ERROR(CountKeyChange(*conn));
    return txn->Commit();
  }

  absl::StatusOr<std::vector<WrappedKey>> ListKeysBefore(KeyKind kind,
                                                         const std::string& scope_name,
                                                         int64_t before_epoch) override {
    constexpr absl::string_view kOp = "list keys";
    if (!FitsInt(scope_name)) {
      return absl::InvalidArgumentError("list keys: scope is too long");
    }
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kListKeysBefore));
    StatementScope scope(stmt);
    sqlite3_bind_int(stmt, 1, static_cast<int>(kind));
    BindText(stmt, 2, scope_name);
    sqlite3_bind_int64(stmt, 3, before_epoch);
    std::vector<WrappedKey> keys;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      WrappedKey& key = keys.emplace_back();
      key.id = sqlite3_column_int64(stmt, 0);
      key.name.kind = kind;
      key.name.scope = scope_name;
      key.name.epoch = sqlite3_column_int64(stmt, 1);
      ReadBytes(stmt, 2, key.name.subject);
      ReadBytes(stmt, 3, key.wrapped);
      key.created = FromMicros(sqlite3_column_int64(stmt, 4));
    }
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    return keys;
  }

 private:
  // REQUIRES: a write transaction on `conn`.
  static absl::Status CountKeyChange(Connection& conn) {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn.Get(Sql::kCountKeyChange));
    StatementScope scope(stmt);
    return StepDone(conn, stmt, "count key change");
  }

  absl::StatusOr<std::optional<WrappedKey>> Find(Connection& conn, const KeyName& name) {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn.Get(Sql::kFindKey));
    StatementScope scope(stmt);
    const int bind = BindKeyName(stmt, name);
    if (bind != SQLITE_OK) return BindError(conn, bind, "find key");
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return conn.Error(rc, "find key");
    WrappedKey key;
    key.id = sqlite3_column_int64(stmt, 0);
    key.name = name;
    ReadBytes(stmt, 1, key.wrapped);
    key.created = FromMicros(sqlite3_column_int64(stmt, 2));
    return key;
  }

  ConnectionPool& pool_;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, std::unique_ptr<ConnectionPool> pool)
      : path_(std::move(path)),
        pool_(std::move(pool)),
        keys_(*pool_),
        tokens_(NewSqliteTokenStore(*pool_)),
        rights_(NewSqliteRightsStore(*pool_)),
        log_(NewSqliteLogStore(*pool_)),
        releases_(NewSqliteReleaseStore(*pool_)) {}

  absl::StatusOr<int64_t> ReserveRecordIds(int64_t n) override {
    if (n <= 0 || n > kMaxReserve) {
      return absl::InvalidArgumentError(
          absl::StrCat("reserve record ids: count must be in [1, ", kMaxReserve, "]"));
    }
    // Ids are taken from the database in blocks and handed out from memory,
    // so a reservation rarely waits for a batch being written.
    absl::MutexLock lock(&id_mu_);
    if (block_end_ - block_next_ >= n) {
      const int64_t first = block_next_;
      block_next_ += n;
      return first;
    }
    int64_t take = std::max(n, kIdBlock);
    absl::StatusOr<int64_t> first = ReserveFromDatabase(take);
    if (absl::IsResourceExhausted(first.status()) && take > n) {
      take = n;  // near the end of the id space: take only what is asked
      first = ReserveFromDatabase(take);
    }
    if (!first.ok()) return first.status();
    block_next_ = *first + n;
    block_end_ = *first + take;
    return *first;
  }

  absl::Status AppendRecords(absl::Span<const StoredRecord> records) override {
    return Append(records, {}, nullptr);
  }

  absl::Status AppendRecordsOnce(absl::Span<const StoredRecord> records,
                                 absl::Span<const IngestKey> keys) override {
    RETURN_IF_ERROR(CheckIngestKeys(keys));
    return Append(records, keys, nullptr);
  }

  absl::Status AppendRecordsWithLog(absl::Span<const StoredRecord> records,
                                    absl::Span<const IngestKey> keys,
                                    LogBatchBuilder build) override {
    RETURN_IF_ERROR(CheckIngestKeys(keys));
    return Append(records, keys, &build);
  }

  absl::StatusOr<std::vector<bool>> FindIngestKeys(
      absl::Span<const IngestKey> keys) override {
    constexpr absl::string_view kOp = "find ingest keys";
    std::vector<bool> found(keys.size(), false);
    if (keys.empty()) return found;
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(
        conn->db(), "SELECT 1 FROM ingest_keys WHERE stream = ?1 AND digest = ?2", -1,
        &stmt, nullptr);
    if (rc != SQLITE_OK) return conn->Error(rc, kOp);
    absl::Cleanup finalize = [stmt] { sqlite3_finalize(stmt); };
    // One read transaction, so every lookup sees the same snapshot.
    RETURN_IF_ERROR(conn->Exec("BEGIN", kOp));
    absl::Cleanup end = [&conn] { (void)conn->Exec("COMMIT", "end read"); };
    for (size_t i = 0; i < keys.size(); ++i) {
      sqlite3_reset(stmt);
      if ((BindText(stmt, 1, keys[i].stream) | BindBlob(stmt, 2, keys[i].digest)) !=
          SQLITE_OK) {
        return conn->Error(SQLITE_ERROR, kOp);
      }
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) {
        found[i] = true;
      } else if (rc != SQLITE_DONE) {
        return conn->Error(rc, kOp);
      }
    }
    sqlite3_reset(stmt);
    return found;
  }

  absl::StatusOr<int64_t> DeleteIngestKeysBefore(int64_t before_us) override {
    absl::MutexLock write(&pool_->write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    const std::string sql =
        absl::StrCat("DELETE FROM ingest_keys WHERE time_us < ", before_us);
    RETURN_IF_ERROR(conn->Exec(sql.c_str(), "delete ingest keys"));
    return sqlite3_changes64(conn->db());
  }

 private:
  // Steps `sql` once with the parameters `bind` sets; returns the rows changed.
  template <typename Bind>
  static absl::StatusOr<int64_t> Run(Connection& conn, Sql sql, const Bind& bind,
                                     absl::string_view op) {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn.Get(sql));
    StatementScope scope(stmt);
    if (const int rc = bind(stmt); rc != SQLITE_OK) return BindError(conn, rc, op);
    RETURN_IF_ERROR(StepDone(conn, stmt, op));
    return sqlite3_changes64(conn.db());
  }

  // In one transaction: `lists` and `recent_lists` take the records that
  // `records` is about to change out of the subject lists, then `records`
  // changes them. Each binds ?1 stream and ?2 `value`. Returns the records
  // changed.
  absl::StatusOr<int64_t> RunOnStream(Sql lists, Sql recent_lists, Sql records,
                                      const std::string& stream, int64_t value,
                                      absl::string_view op) {
    absl::MutexLock write(&pool_->write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kImmediate));
    const auto bind = [&](sqlite3_stmt* stmt) {
      return BindText(stmt, 1, stream) | sqlite3_bind_int64(stmt, 2, value);
    };
    RETURN_IF_ERROR(Run(*conn, lists, bind, op).status());
    RETURN_IF_ERROR(Run(*conn, recent_lists, bind, op).status());
    ASSIGN_OR_RETURN(const int64_t changed, Run(*conn, records, bind, op));
    RETURN_IF_ERROR(txn->Commit());
    return changed;
  }

  // Lists each sealed record under its data key, at the end of the recent
  // list; once that list holds kRecentListLimit entries it becomes a new
  // run of the ordered one, sorted (schema.cc, 7 -> 8). Returns the recent list's
  // new length, for recent_listed_ once the transaction commits.
  // REQUIRES: the write transaction of `records`' append on `conn`.
  absl::StatusOr<int64_t> ListSubjectRecords(Connection& conn,
                                             absl::Span<const StoredRecord> records)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool_->write_mu()) {
    constexpr absl::string_view kOp = "append records: list subject records";
    int64_t recent = recent_listed_;
    if (recent < 0) {
      // Read once: other instances append too, so this is this instance's
      // view, which keeps the recent list within a few limits.
      ASSIGN_OR_RETURN(recent,
                       conn.QueryInt("SELECT count(*) FROM subject_records_recent", kOp));
    }
    // One statement per run of consecutive ids (usually the whole batch):
    // every id of a run is in `records`, so the run's id range holds exactly
    // its records, read back from the pages this transaction just wrote.
    for (size_t begin = 0; begin < records.size();) {
      size_t end = begin + 1;
      while (end < records.size() && records[end].id == records[end - 1].id + 1) ++end;
      const int64_t first = records[begin].id;
      const int64_t last = records[end - 1].id;
      ASSIGN_OR_RETURN(const int64_t listed,
                       Run(
                           conn, Sql::kListRecordIds,
                           [first, last](sqlite3_stmt* stmt) {
                             return sqlite3_bind_int64(stmt, 1, first) |
                                    sqlite3_bind_int64(stmt, 2, last);
                           },
                           kOp));
      recent += listed;
      begin = end;
    }
    if (recent < kRecentListLimit) return recent;
    const auto no_params = [](sqlite3_stmt*) { return SQLITE_OK; };
    ASSIGN_OR_RETURN(
        const int64_t run,
        conn.QueryInt("SELECT coalesce(max(run), 0) + 1 FROM subject_records", kOp));
    RETURN_IF_ERROR(
        Run(
            conn, Sql::kMergeRecentRecordIds,
            [run](sqlite3_stmt* stmt) { return sqlite3_bind_int64(stmt, 1, run); }, kOp)
            .status());
    RETURN_IF_ERROR(Run(conn, Sql::kClearRecentRecordIds, no_params, kOp).status());
    return 0;
  }

  // `log`, when set, builds the log batch appended in the same transaction
  // (AppendRecordsWithLog).
  absl::Status Append(absl::Span<const StoredRecord> records,
                      absl::Span<const IngestKey> keys, const LogBatchBuilder* log) {
    constexpr absl::string_view kOp = "append records";
    if (records.empty() && keys.empty() && log == nullptr) return absl::OkStatus();
    int64_t max_id = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      const StoredRecord& r = records[i];
      if (r.id <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("append records: record ", i, ": id must be positive"));
      }
      if (r.stream.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("append records: record ", i, ": stream is empty"));
      }
      if (!FitsInt(r.stream) || !FitsInt(r.blind_index) || !FitsInt(r.payload)) {
        return absl::InvalidArgumentError(
            absl::StrCat("append records: record ", i, ": field too long"));
      }
      max_id = std::max(max_id, r.id);
    }

    absl::MutexLock write(&pool_->write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kImmediate));
    {
      // Ids must come from ReserveRecordIds, or a later reservation would
      // collide with them.
      ASSIGN_OR_RETURN(sqlite3_stmt * next, conn->Get(Sql::kNextRecordId));
      StatementScope scope(next);
      const int rc = sqlite3_step(next);
      if (rc != SQLITE_ROW) return conn->Error(rc, kOp);
      if (max_id >= sqlite3_column_int64(next, 0)) {
        return absl::InvalidArgumentError(
            "append records: record ids were not reserved with ReserveRecordIds");
      }
    }
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kInsertRecord));
      StatementScope scope(stmt);
      for (size_t i = 0; i < records.size(); ++i) {
        const StoredRecord& r = records[i];
        int rc = sqlite3_bind_int64(stmt, 1, r.id) | BindText(stmt, 2, r.stream) |
                 sqlite3_bind_int64(stmt, 3, r.time_us) |
                 sqlite3_bind_int64(stmt, 4, static_cast<int64_t>(r.cell)) |
                 sqlite3_bind_int64(stmt, 5, r.epoch) |
                 (r.blind_index.empty() ? sqlite3_bind_null(stmt, 6)
                                        : BindBlob(stmt, 6, r.blind_index)) |
                 sqlite3_bind_int64(stmt, 7, r.key_id) | BindBlob(stmt, 8, r.payload) |
                 sqlite3_bind_int64(stmt, 9, r.batch);
        if (rc != SQLITE_OK) {
          return BindError(*conn, rc, absl::StrCat("append records: record ", i));
        }
        rc = sqlite3_step(stmt);
        if (rc != SQLITE_DONE) {
          return conn->Error(rc, absl::StrCat("append records: record ", i));
        }
        sqlite3_reset(stmt);
      }
    }
    ASSIGN_OR_RETURN(const int64_t recent_listed, ListSubjectRecords(*conn, records));
    if (!keys.empty()) {
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v2(
          conn->db(),
          "INSERT INTO ingest_keys (stream, digest, time_us) VALUES (?1, ?2, ?3)", -1,
          &stmt, nullptr);
      if (rc != SQLITE_OK) return conn->Error(rc, "claim ingest keys");
      absl::Cleanup finalize = [stmt] { sqlite3_finalize(stmt); };
      for (const IngestKey& key : keys) {
        sqlite3_reset(stmt);
        rc = BindText(stmt, 1, key.stream) | BindBlob(stmt, 2, key.digest) |
             sqlite3_bind_int64(stmt, 3, key.time_us);
        if (rc != SQLITE_OK) return BindError(*conn, rc, "claim ingest keys");
        rc = sqlite3_step(stmt);
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
          return absl::AlreadyExistsError(
              "append records: an ingest key was claimed before");
        }
        if (rc != SQLITE_DONE) return conn->Error(rc, "claim ingest keys");
      }
    }
    if (log != nullptr) RETURN_IF_ERROR(WriteLogBatch(*conn, *log));
    RETURN_IF_ERROR(txn->Commit());
    recent_listed_ = recent_listed;
    return absl::OkStatus();
  }

 public:
  absl::Status ScanRecords(
      const RecordQuery& query,
      const std::function<absl::Status(const StoredRecord&)>& fn) override {
    constexpr absl::string_view kOp = "scan records";
    RETURN_IF_ERROR(CheckName(query.stream, "record query", "stream"));
    if (query.limit < 0) {
      return absl::InvalidArgumentError("record query: limit is negative");
    }
    ASSIGN_OR_RETURN(CellFilter cells, CellFilter::Create(query.cell_ranges));
    // [from, to) as a closed range, so that no sentinel hides a time.
    const int64_t lo = query.from_us.value_or(std::numeric_limits<int64_t>::min());
    int64_t hi = std::numeric_limits<int64_t>::max();
    if (query.to_us.has_value()) {
      if (*query.to_us == std::numeric_limits<int64_t>::min()) return absl::OkStatus();
      hi = *query.to_us - 1;
    }
    if (lo > hi) return absl::OkStatus();

    // With a cell filter the limit counts matching rows, so SQL cannot
    // apply it.
    const bool sql_limit = query.limit > 0 && cells.empty();
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                     conn->Get(sql_limit ? Sql::kScanRecordsLimit : Sql::kScanRecords));
    StatementScope scope(stmt);
    BindText(stmt, 1, query.stream);
    sqlite3_bind_int64(stmt, 2, lo);
    sqlite3_bind_int64(stmt, 3, hi);
    sqlite3_bind_int64(stmt, 4, query.after_id);
    if (sql_limit) sqlite3_bind_int64(stmt, 5, query.limit);

    StoredRecord record;
    int64_t emitted = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (!cells.empty() &&
          !cells.Contains(static_cast<uint64_t>(sqlite3_column_int64(stmt, 3)))) {
        continue;
      }
      ReadRecord(stmt, record);
      RETURN_IF_ERROR(fn(record));
      if (query.limit > 0 && ++emitted >= query.limit) return absl::OkStatus();
    }
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<StoredRecord>> FindRecordsBySubject(
      const std::string& blind_index) override {
    constexpr absl::string_view kOp = "find records by subject";
    RETURN_IF_ERROR(CheckBlindIndex(blind_index, kOp));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kFindRecordsBySubject));
    StatementScope scope(stmt);
    BindBlob(stmt, 1, blind_index);
    sqlite3_bind_int(stmt, 2, static_cast<int>(crypto::KeyKind::kSubjectDek));
    std::vector<StoredRecord> records;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      ReadRecord(stmt, records.emplace_back());
    }
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    return records;
  }

  absl::StatusOr<int64_t> DeleteRecordsBySubject(
      const std::string& blind_index) override {
    constexpr absl::string_view kOp = "delete records by subject";
    RETURN_IF_ERROR(CheckBlindIndex(blind_index, kOp));
    absl::MutexLock write(&pool_->write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kImmediate));
    const auto bind = [&blind_index](sqlite3_stmt* stmt) {
      return BindBlob(stmt, 1, blind_index) |
             sqlite3_bind_int(stmt, 2, static_cast<int>(crypto::KeyKind::kSubjectDek));
    };
    // The records first: they are found through the lists.
    ASSIGN_OR_RETURN(const int64_t deleted,
                     Run(*conn, Sql::kDeleteRecordsBySubject, bind, kOp));
    RETURN_IF_ERROR(Run(*conn, Sql::kDeleteSubjectRecordIds, bind, kOp).status());
    RETURN_IF_ERROR(Run(*conn, Sql::kDeleteRecentSubjectRecordIds, bind, kOp).status());
    RETURN_IF_ERROR(txn->Commit());
    return deleted;
  }

  absl::StatusOr<int64_t> DeleteRecordsBefore(const std::string& stream,
                                              int64_t before_us) override {
    constexpr absl::string_view kOp = "delete records before";
    RETURN_IF_ERROR(CheckName(stream, kOp, "stream"));
    return RunOnStream(Sql::kDeleteRecordIdsBefore, Sql::kDeleteRecentRecordIdsBefore,
                       Sql::kDeleteRecordsBefore, stream, before_us, kOp);
  }

  absl::StatusOr<int64_t> UnlinkRecordsBefore(const std::string& stream,
                                              int64_t before_epoch) override {
    constexpr absl::string_view kOp = "unlink records before";
    RETURN_IF_ERROR(CheckName(stream, kOp, "stream"));
    return RunOnStream(Sql::kUnlinkRecordIdsBefore, Sql::kUnlinkRecentRecordIdsBefore,
                       Sql::kUnlinkRecordsBefore, stream, before_epoch, kOp);
  }

  absl::StatusOr<int64_t> CountRecords(const std::string& stream) override {
    constexpr absl::string_view kOp = "count records";
    RETURN_IF_ERROR(CheckName(stream, kOp, "stream"));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kCountRecords));
    StatementScope scope(stmt);
    BindText(stmt, 1, stream);
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) return conn->Error(rc, kOp);
    return sqlite3_column_int64(stmt, 0);
  }

  crypto::KeyStore& keys() override { return keys_; }
  TokenStore& tokens() override { return *tokens_; }
  RightsStore& rights() override { return *rights_; }
  LogStore& log() override { return *log_; }
  ReleaseStore& releases() override { return *releases_; }

  absl::Status AppendConsentEvent(const ConsentEvent& event) override {
    constexpr absl::string_view kOp = "append consent event";
    RETURN_IF_ERROR(CheckBlindIndex(event.blind_index, kOp));
    RETURN_IF_ERROR(CheckName(event.purpose, kOp, "purpose"));
    if (!FitsInt(event.source)) {
      return absl::InvalidArgumentError("append consent event: source is too long");
    }
    const char* state = ConsentStateName(event.state);
    if (state == nullptr) {
      return absl::InvalidArgumentError("append consent event: invalid state");
    }
    absl::MutexLock write(&pool_->write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kInsertConsent));
    StatementScope scope(stmt);
    BindBlob(stmt, 1, event.blind_index);
    BindText(stmt, 2, event.purpose);
    sqlite3_bind_text(stmt, 3, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, ToMicros(event.time));
    BindText(stmt, 5, event.source);
    return StepDone(*conn, stmt, kOp);
  }

  absl::StatusOr<std::vector<ConsentEvent>> ConsentHistory(
      const std::string& blind_index) override {
    constexpr absl::string_view kOp = "consent history";
    RETURN_IF_ERROR(CheckBlindIndex(blind_index, kOp));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kConsentHistory));
    StatementScope scope(stmt);
    BindBlob(stmt, 1, blind_index);
    std::vector<ConsentEvent> events;
    std::string state;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      ConsentEvent& e = events.emplace_back();
      e.blind_index = blind_index;
      ReadBytes(stmt, 0, e.purpose);
      ReadBytes(stmt, 1, state);
      std::optional<ConsentState> parsed = ParseConsentState(state);
      if (!parsed.has_value()) {
        return absl::DataLossError(
            absl::StrCat("sqlite store ", path_, ": consent event with unknown state"));
      }
      e.state = *parsed;
      e.time = FromMicros(sqlite3_column_int64(stmt, 2));
      ReadBytes(stmt, 3, e.source);
    }
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    return events;
  }

  absl::Status DeleteConsentHistory(const std::string& blind_index) override {
    constexpr absl::string_view kOp = "delete consent history";
    RETURN_IF_ERROR(CheckBlindIndex(blind_index, kOp));
    absl::MutexLock write(&pool_->write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kDeleteConsent));
    StatementScope scope(stmt);
    BindBlob(stmt, 1, blind_index);
    return StepDone(*conn, stmt, kOp);
  }

  absl::StatusOr<BudgetCharge> ChargeBudget(const BudgetCharge& charge,
                                            const BudgetSpent& cap) override {
    constexpr absl::string_view kOp = "charge budget";
    RETURN_IF_ERROR(CheckName(charge.agreement, kOp, "agreement"));
    RETURN_IF_ERROR(CheckName(charge.query_key, kOp, "query key"));
    if (!FitsInt(charge.result)) {
      return absl::InvalidArgumentError("charge budget: result is too long");
    }
    auto valid = [](double v) { return std::isfinite(v) && v >= 0; };
    if (!valid(charge.epsilon) || !valid(charge.delta) || !valid(charge.rho) ||
        !valid(charge.rho_delta)) {
      return absl::InvalidArgumentError(
          "charge budget: epsilon, delta, rho and rho_delta must be finite and "
          "non-negative");
    }
    if (charge.rho_delta >= 1 || (charge.rho > 0 && charge.rho_delta <= 0)) {
      return absl::InvalidArgumentError(
          "charge budget: rho needs a conversion delta in (0, 1)");
    }
    if (!valid(cap.epsilon) || !valid(cap.delta)) {
      return absl::InvalidArgumentError(
          "charge budget: the cap must be finite and non-negative");
    }

    absl::MutexLock write(&pool_->write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    // Check and insert under the write lock, so concurrent charges from
    // any process are serialised.
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kImmediate));
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kFindCharge));
      StatementScope scope(stmt);
      BindText(stmt, 1, charge.agreement);
      sqlite3_bind_int64(stmt, 2, charge.period);
      BindText(stmt, 3, charge.query_key);
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) {
        BudgetCharge cached;
        cached.agreement = charge.agreement;
        cached.period = charge.period;
        cached.query_key = charge.query_key;
        cached.epsilon = sqlite3_column_double(stmt, 0);
        cached.delta = sqlite3_column_double(stmt, 1);
        cached.time = FromMicros(sqlite3_column_int64(stmt, 2));
        ReadBytes(stmt, 3, cached.result);
        cached.rho = sqlite3_column_double(stmt, 4);
        cached.rho_delta = sqlite3_column_double(stmt, 5);
        return cached;  // the transaction rolls back: nothing was written
      }
      if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    }
    BudgetSpent spent;
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kSpentBudget));
      StatementScope scope(stmt);
      BindText(stmt, 1, charge.agreement);
      sqlite3_bind_int64(stmt, 2, charge.period);
      const int rc = sqlite3_step(stmt);
      if (rc != SQLITE_ROW) return conn->Error(rc, kOp);
      spent.epsilon = sqlite3_column_double(stmt, 0);
      spent.delta = sqlite3_column_double(stmt, 1);
      spent.rho = sqlite3_column_double(stmt, 2);
      spent.rho_delta = sqlite3_column_double(stmt, 3);
    }
    const BudgetSpent after{spent.epsilon + charge.epsilon, spent.delta + charge.delta,
                            spent.rho + charge.rho, spent.rho_delta + charge.rho_delta};
    auto fits = [](double total, double cap) {
      return total <= cap * (1 + kBudgetRelativeTolerance);
    };
    if (!fits(after.TotalEpsilon(), cap.epsilon) ||
        !fits(after.TotalDelta(), cap.delta)) {
      // What is left, with rounding dust shown as 0.
      auto remaining = [](double cap, double spent) {
        const double left = cap - spent;
        return left <= cap * kBudgetRelativeTolerance ? 0.0 : left;
      };
      return absl::ResourceExhaustedError(absl::StrFormat(
          "budget of agreement '%s' for period %d exhausted: remaining epsilon %.6g, "
          "delta %.6g; the query needs epsilon %.6g, delta %.6g",
          charge.agreement, charge.period, remaining(cap.epsilon, spent.TotalEpsilon()),
          remaining(cap.delta, spent.TotalDelta()),
          BudgetSpent{charge.epsilon, charge.delta, charge.rho, charge.rho_delta}
              .TotalEpsilon(),
          charge.delta + charge.rho_delta));
    }
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kInsertCharge));
      StatementScope scope(stmt);
      BindText(stmt, 1, charge.agreement);
      sqlite3_bind_int64(stmt, 2, charge.period);
      BindText(stmt, 3, charge.query_key);
      sqlite3_bind_double(stmt, 4, charge.epsilon);
      sqlite3_bind_double(stmt, 5, charge.delta);
      sqlite3_bind_int64(stmt, 6, ToMicros(charge.time));
      BindBlob(stmt, 7, charge.result);
      sqlite3_bind_double(stmt, 8, charge.rho);
      sqlite3_bind_double(stmt, 9, charge.rho_delta);
      RETURN_IF_ERROR(StepDone(*conn, stmt, kOp));
    }
    RETURN_IF_ERROR(txn->Commit());
    return charge;
  }

  absl::StatusOr<BudgetSpent> SpentBudget(const std::string& agreement,
                                          int64_t period) override {
    constexpr absl::string_view kOp = "spent budget";
    RETURN_IF_ERROR(CheckName(agreement, kOp, "agreement"));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kSpentBudget));
    StatementScope scope(stmt);
    BindText(stmt, 1, agreement);
    sqlite3_bind_int64(stmt, 2, period);
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) return conn->Error(rc, kOp);
    return BudgetSpent{sqlite3_column_double(stmt, 0), sqlite3_column_double(stmt, 1),
                       sqlite3_column_double(stmt, 2), sqlite3_column_double(stmt, 3)};
  }

  absl::StatusOr<std::optional<std::string>> GetMeta(const std::string& key) override {
    constexpr absl::string_view kOp = "get meta";
    RETURN_IF_ERROR(CheckName(key, kOp, "key"));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kGetMeta));
    StatementScope scope(stmt);
    BindText(stmt, 1, key);
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return conn->Error(rc, kOp);
    std::string value;
    ReadBytes(stmt, 0, value);
    return value;
  }

  absl::Status PutMeta(const std::string& key, const std::string& value) override {
    constexpr absl::string_view kOp = "put meta";
    RETURN_IF_ERROR(CheckName(key, kOp, "key"));
    if (!FitsInt(value)) return absl::InvalidArgumentError("put meta: value is too long");
    absl::MutexLock write(&pool_->write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kPutMeta));
    StatementScope scope(stmt);
    BindText(stmt, 1, key);
    BindBlob(stmt, 2, value);
    return StepDone(*conn, stmt, kOp);
  }

  absl::Status Compact() override {
    constexpr absl::string_view kOp = "compact";
    absl::MutexLock write(&pool_->write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kCheckpoint));
    StatementScope scope(stmt);
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) return conn->Error(rc, kOp);
    if (sqlite3_column_int(stmt, 0) != 0) {
      return absl::UnavailableError(
          absl::StrCat("sqlite store ", path_,
                       ": compact: the WAL could not be checkpointed because another "
                       "connection is reading or writing; retry"));
    }
    return absl::OkStatus();
  }

  std::vector<std::string> Files() const override {
    return {path_, path_ + "-wal", path_ + "-shm"};
  }

 private:
  // Moves the shared sequence on by `n` and returns the first id taken.
  absl::StatusOr<int64_t> ReserveFromDatabase(int64_t n) {
    constexpr absl::string_view kOp = "reserve record ids";
    absl::MutexLock write(&pool_->write_mu());
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn->Get(Sql::kReserveRecordIds));
    StatementScope scope(stmt);
    sqlite3_bind_int64(stmt, 1, n);
    // A single UPDATE in autocommit mode takes the write lock before it
    // reads, so it is atomic across processes.
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
      return absl::ResourceExhaustedError(
          absl::StrCat("sqlite store ", path_, ": record id space exhausted"));
    }
    if (rc != SQLITE_ROW) return conn->Error(rc, kOp);
    const int64_t first = sqlite3_column_int64(stmt, 0);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) return conn->Error(rc, kOp);
    return first;
  }

  const std::string path_;
  std::unique_ptr<ConnectionPool> pool_;
  SqliteKeyStore keys_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<RightsStore> rights_;
  std::unique_ptr<LogStore> log_;
  std::unique_ptr<ReleaseStore> releases_;
  // Entries in subject_records_recent as this instance counts them (read
  // at its first append, then counted); -1 until read.
  int64_t recent_listed_ ABSL_GUARDED_BY(pool_->write_mu()) = -1;
  absl::Mutex id_mu_;
  // Ids [block_next_, block_end_) are reserved in the database for this
  // instance and not yet handed out.
  int64_t block_next_ ABSL_GUARDED_BY(id_mu_) = 0;
  int64_t block_end_ ABSL_GUARDED_BY(id_mu_) = 0;
};

// Creates the file with mode 0600 unless it exists, so the database and
// its -wal and -shm (which SQLite creates with the same mode) are private.
absl::Status CreatePrivateFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    const std::string msg =
        absl::StrCat("sqlite store ", path, ": cannot create: ", std::strerror(err));
    switch (err) {
      case ENOENT:
      case ENOTDIR:
        return absl::NotFoundError(msg);
      case EACCES:
      case EPERM:
      case EROFS:
        return absl::PermissionDeniedError(msg);
      case EISDIR:
        return absl::InvalidArgumentError(msg);
      default:
        return absl::InternalError(msg);
    }
  }
  ::close(fd);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<StorePtr> OpenSqliteStore(const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError("sqlite store: empty path");
  }
  RETURN_IF_ERROR(CreatePrivateFile(path));
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(path));
  RETURN_IF_ERROR(PrepareAndMigrate(*conn));
  auto pool = std::make_unique<ConnectionPool>(path, std::move(conn));
  return std::make_unique<SqliteStore>(path, std::move(pool));
}

}  // namespace privacity::store::sqlite_internal
