// The PostgreSQL Store: records (partitioned by stream and week), keys,
// consent, the budget ledger and meta. Tokens, rights requests and the
// transparency log live in tokens.cc, rights.cc and log.cc.
//
// Several nodes share one database. What must be atomic across them is
// made so in the database, never in process memory: record ids come from a
// row updated in place, budget charges lock their period's row, partitions
// are created under an advisory lock. Caches here hold only facts that
// never change once true (a stream's id) or that are re-checked on failure
// (a partition exists).
#include "store/postgresql/postgresql_store.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <tuple>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "store/cell_filter.h"
#include "store/postgresql/connection.h"
#include "store/postgresql/schema.h"

namespace privacity::store::postgresql_internal {
namespace {

constexpr int64_t kMaxReserve = int64_t{1} << 40;
// Ids taken from the shared sequence at a time (as on SQLite).
constexpr int64_t kIdBlock = int64_t{1} << 16;
constexpr double kBudgetRelativeTolerance = 1e-10;
// Width of a record partition in time: one week of time_us.
constexpr int64_t kPartitionWidthUs = int64_t{7} * 24 * 3600 * 1000000;
// Rows fetched per round trip by a scan.
constexpr int kFetchRows = 2000;

using crypto::KeyKind;
using crypto::KeyName;
using crypto::WrappedKey;

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

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

bool FitsInt(const std::string& s) { return s.size() <= INT_MAX; }

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

absl::Status CheckBlindIndex(const std::string& blind_index, absl::string_view op) {
  return CheckName(blind_index, op, "blind index");
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

Params KeyNameParams(const KeyName& name) {
  Params p;
  p.Int32(static_cast<int32_t>(name.kind))
      .Text(name.scope)
      .Int64(name.epoch)
      .Bytes(name.subject);
  return p;
}

// The partition holding `bucket` of stream `sid`, and its bounds as SQL
// literals (integers, or MINVALUE/MAXVALUE at the ends of the range).
std::string StreamTable(int32_t sid) { return absl::StrCat("records_s", sid); }
std::string BucketTable(int32_t sid, int64_t bucket) {
  // |bucket| <= 2^63 / kPartitionWidthUs, so negating cannot overflow.
  return absl::StrCat("records_s", sid, bucket < 0 ? "_bm" : "_b",
                      bucket < 0 ? -bucket : bucket);
}
std::string Bound(__int128 v) {
  if (v <= std::numeric_limits<int64_t>::min()) return "MINVALUE";
  if (v > std::numeric_limits<int64_t>::max()) return "MAXVALUE";
  return absl::StrCat(static_cast<int64_t>(v));
}

// Counts a key change (KeyStore::KeyChanges) for each row of the CTE `rows`;
// the count is next_value - 1, 0 while the row is absent.
#define PRIVACITY_COUNT_KEY_CHANGE_FROM(rows)                                   \
  "INSERT INTO sequences (name, next_value) SELECT 'key_changes', 2 FROM " rows \
  " ON CONFLICT (name) DO UPDATE SET next_value = sequences.next_value + 1"

class PgKeyStore final : public crypto::KeyStore {
 public:
  explicit PgKeyStore(ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<WrappedKey> InsertKeyIfAbsent(const WrappedKey& key) override {
    constexpr absl::string_view kOp = "insert key";
    RETURN_IF_ERROR(CheckKeyName(key.name, kOp));
    if (key.wrapped.empty() || !FitsInt(key.wrapped)) {
      return absl::InvalidArgumentError("insert key: wrapped key is empty or too long");
    }
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    Params p = KeyNameParams(key.name);
    p.Bytes(key.wrapped).Int64(ToMicros(key.created));
    // ON CONFLICT waits for a concurrent insert of the same name to commit
    // or roll back; the SELECT (a new snapshot) then sees the winner.
    RETURN_IF_ERROR(conn->Exec("INSERT INTO keys (kind, scope, epoch, subject, wrapped, "
                               "created_us) VALUES ($1, $2, $3, $4, $5, $6) "
                               "ON CONFLICT (kind, scope, epoch, subject) DO NOTHING",
                               p, kOp)
                        .status());
    ASSIGN_OR_RETURN(std::optional<WrappedKey> stored, Find(*conn, key.name));
    if (!stored.has_value()) {
      // Destroyed between our insert and our read: insert again.
      return absl::AbortedError("insert key: the key was destroyed concurrently; retry");
    }
    return *std::move(stored);
  }

  absl::StatusOr<std::vector<WrappedKey>> InsertKeysIfAbsent(
      absl::Span<const WrappedKey> keys) override {
    constexpr absl::string_view kOp = "insert keys";
    for (const WrappedKey& key : keys) {
      RETURN_IF_ERROR(CheckKeyName(key.name, kOp));
      if (key.wrapped.empty() || !FitsInt(key.wrapped)) {
        return absl::InvalidArgumentError(
            "insert keys: wrapped key is empty or too long");
      }
    }
    std::vector<WrappedKey> out(keys.size());
    if (keys.empty()) return out;
    NameColumns columns(keys.size());
    std::vector<std::string> wrapped;
    std::vector<int64_t> created;
    wrapped.reserve(keys.size());
    created.reserve(keys.size());
    for (const WrappedKey& key : keys) {
      columns.Add(key.name);
      wrapped.push_back(key.wrapped);
      created.push_back(ToMicros(key.created));
    }
    Params p = columns.ToParams();
    p.BytesArray(wrapped).Int64Array(created);
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    // One statement for the whole batch. Rows go in in name order, so two
    // nodes inserting overlapping batches wait for each other in one order
    // and never deadlock; a name another node inserted first (committed,
    // or waited for) is skipped and read back below with a new snapshot.
    ASSIGN_OR_RETURN(
        Result r,
        conn->Exec("INSERT INTO keys (kind, scope, epoch, subject, wrapped, created_us) "
                   "SELECT * FROM unnest($1::integer[], $2::text[], $3::bigint[], "
                   "$4::bytea[], $5::bytea[], $6::bigint[]) AS t "
                   "ORDER BY 1, 2, 3, 4 "
                   "ON CONFLICT (kind, scope, epoch, subject) DO NOTHING "
                   "RETURNING id, kind, scope, epoch, subject, wrapped, created_us",
                   p, kOp));
    absl::flat_hash_map<NameKey, size_t> row_of;
    row_of.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) {
      row_of.emplace(NameKey{r.Int32(i, 1), r.Bytes(i, 2), r.Int64(i, 3), r.Bytes(i, 4)},
                     static_cast<size_t>(i));
    }
    std::vector<KeyName> losers;
    std::vector<size_t> loser_at;
    for (size_t i = 0; i < keys.size(); ++i) {
      auto it = row_of.find(KeyOf(keys[i].name));
      if (it == row_of.end()) {
        losers.push_back(keys[i].name);
        loser_at.push_back(i);
        continue;
      }
      const int row = static_cast<int>(it->second);
      out[i].id = r.Int64(row, 0);
      out[i].name = keys[i].name;
      out[i].wrapped = r.Bytes(row, 5);
      out[i].created = FromMicros(r.Int64(row, 6));
    }
    if (losers.empty()) return out;
    ASSIGN_OR_RETURN(std::vector<std::optional<WrappedKey>> stored, Find(*conn, losers));
    for (size_t j = 0; j < losers.size(); ++j) {
      if (!stored[j].has_value()) {
        // Destroyed between the other node's insert and our read.
        return absl::AbortedError("insert keys: a key was destroyed concurrently; retry");
      }
      out[loser_at[j]] = *std::move(stored[j]);
    }
    return out;
  }

  absl::StatusOr<std::optional<WrappedKey>> FindKey(const KeyName& name) override {
    RETURN_IF_ERROR(CheckKeyName(name, "find key"));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    return Find(*conn, name);
  }

  absl::StatusOr<std::vector<std::optional<WrappedKey>>> FindKeys(
      absl::Span<const KeyName> names) override {
    for (const KeyName& name : names) RETURN_IF_ERROR(CheckKeyName(name, "find keys"));
    if (names.empty()) return std::vector<std::optional<WrappedKey>>();
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    return Find(*conn, names);
  }

  absl::StatusOr<WrappedKey> GetKey(int64_t id) override {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(Result r, conn->Exec("SELECT kind, scope, epoch, subject, wrapped, "
                                          "created_us FROM keys WHERE id = $1",
                                          Params().Int64(id), "get key"));
    if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("key ", id, " not found"));
    WrappedKey key;
    key.id = id;
    key.name.kind = static_cast<KeyKind>(r.Int32(0, 0));
    key.name.scope = r.Bytes(0, 1);
    key.name.epoch = r.Int64(0, 2);
    key.name.subject = r.Bytes(0, 3);
    key.wrapped = r.Bytes(0, 4);
    key.created = FromMicros(r.Int64(0, 5));
    return key;
  }

  absl::Status DestroyKey(int64_t id) override {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    // One statement, so the key change is counted atomically with it.
    ASSIGN_OR_RETURN(
        Result r,
        conn->Exec("WITH gone AS (DELETE FROM keys WHERE id = $1 RETURNING id), "
                   "counted AS (" PRIVACITY_COUNT_KEY_CHANGE_FROM(
                       "gone") ") SELECT count(*) FROM gone",
                   Params().Int64(id), "destroy key"));
    if (r.Int64(0, 0) == 0)
      return absl::NotFoundError(absl::StrCat("key ", id, " not found"));
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> KeyChanges() override {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(
        Result r,
        conn->Exec("SELECT next_value - 1 FROM sequences WHERE name = 'key_changes'",
                   Params(), "read key changes"));
    return r.rows() == 0 ? 0 : r.Int64(0, 0);
  }

  absl::Status RenameKey(int64_t id, const KeyName& name,
                         const std::string& wrapped) override {
    constexpr absl::string_view kOp = "rename key";
    RETURN_IF_ERROR(CheckKeyName(name, kOp));
    if (wrapped.empty() || !FitsInt(wrapped)) {
      return absl::InvalidArgumentError("rename key: wrapped key is empty or too long");
    }
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    Params p = KeyNameParams(name);
    p.Bytes(wrapped).Int64(id);
    // A unique violation (the name is taken) is AlreadyExists.
    ASSIGN_OR_RETURN(Result r,
                     conn->Exec("WITH moved AS (UPDATE keys SET kind = $1, scope = $2, "
                                "epoch = $3, subject = $4, wrapped = $5 WHERE id = $6 "
                                "RETURNING id), "
                                "counted AS (" PRIVACITY_COUNT_KEY_CHANGE_FROM(
                                    "moved") ") SELECT count(*) FROM moved",
                                p, kOp));
    if (r.Int64(0, 0) == 0)
      return absl::NotFoundError(absl::StrCat("key ", id, " not found"));
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<WrappedKey>> ListKeysBefore(KeyKind kind,
                                                         const std::string& scope,
                                                         int64_t before_epoch) override {
    if (!FitsInt(scope))
      return absl::InvalidArgumentError("list keys: scope is too long");
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Acquire());
    ASSIGN_OR_RETURN(
        Result r,
        conn->Exec(
            "SELECT id, epoch, subject, wrapped, created_us FROM keys "
            "WHERE kind = $1 AND scope = $2 AND epoch < $3 ORDER BY epoch, id",
            Params().Int32(static_cast<int32_t>(kind)).Text(scope).Int64(before_epoch),
            "list keys"));
    std::vector<WrappedKey> keys;
    keys.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) {
      WrappedKey& key = keys.emplace_back();
      key.id = r.Int64(i, 0);
      key.name.kind = kind;
      key.name.scope = scope;
      key.name.epoch = r.Int64(i, 1);
      key.name.subject = r.Bytes(i, 2);
      key.wrapped = r.Bytes(i, 3);
      key.created = FromMicros(r.Int64(i, 4));
    }
    return keys;
  }

 private:
  absl::StatusOr<std::optional<WrappedKey>> Find(Connection& conn, const KeyName& name) {
    ASSIGN_OR_RETURN(Result r, conn.Exec("SELECT id, wrapped, created_us FROM keys "
                                         "WHERE kind = $1 AND scope = $2 AND epoch = $3 "
                                         "AND subject = $4",
                                         KeyNameParams(name), "find key"));
    if (r.rows() == 0) return std::nullopt;
    WrappedKey key;
    key.id = r.Int64(0, 0);
    key.name = name;
    key.wrapped = r.Bytes(0, 1);
    key.created = FromMicros(r.Int64(0, 2));
    return key;
  }

  // The live keys of `names`, in order, in one round trip.
  absl::StatusOr<std::vector<std::optional<WrappedKey>>> Find(
      Connection& conn, absl::Span<const KeyName> names) {
    NameColumns columns(names.size());
    for (const KeyName& name : names) columns.Add(name);
    ASSIGN_OR_RETURN(
        Result r,
        conn.Exec("SELECT t.i, k.id, k.wrapped, k.created_us FROM unnest($1::integer[], "
                  "$2::text[], $3::bigint[], $4::bytea[]) WITH ORDINALITY "
                  "AS t (kind, scope, epoch, subject, i) JOIN keys k ON k.kind = t.kind "
                  "AND k.scope = t.scope AND k.epoch = t.epoch AND k.subject = t.subject",
                  columns.ToParams(), "find keys"));
    std::vector<std::optional<WrappedKey>> out(names.size());
    for (int row = 0; row < r.rows(); ++row) {
      const int64_t i = r.Int64(row, 0) - 1;  // ordinality counts from 1
      if (i < 0 || i >= static_cast<int64_t>(names.size())) {
        return absl::InternalError("find keys: the database answered an unknown row");
      }
      WrappedKey& key = out[i].emplace();
      key.id = r.Int64(row, 1);
      key.name = names[i];
      key.wrapped = r.Bytes(row, 2);
      key.created = FromMicros(r.Int64(row, 3));
    }
    return out;
  }

  // A key name as a hashable value.
  using NameKey = std::tuple<int32_t, std::string, int64_t, std::string>;
  static NameKey KeyOf(const KeyName& name) {
    return NameKey{static_cast<int32_t>(name.kind), name.scope, name.epoch, name.subject};
  }

  // Key names as four parallel arrays, the parameters $1..$4 of an unnest.
  class NameColumns {
   public:
    explicit NameColumns(size_t n) {
      kinds_.reserve(n);
      scopes_.reserve(n);
      epochs_.reserve(n);
      subjects_.reserve(n);
    }
    void Add(const KeyName& name) {
      kinds_.push_back(static_cast<int32_t>(name.kind));
      scopes_.push_back(name.scope);
      epochs_.push_back(name.epoch);
      subjects_.push_back(name.subject);
    }
    Params ToParams() const {
      Params p;
      p.Int32Array(kinds_).TextArray(scopes_).Int64Array(epochs_).BytesArray(subjects_);
      return p;
    }

   private:
    std::vector<int32_t> kinds_;
    std::vector<std::string> scopes_;
    std::vector<int64_t> epochs_;
    std::vector<std::string> subjects_;
  };

  ConnectionPool& pool_;
};

class PgStore final : public Store {
 public:
  explicit PgStore(std::unique_ptr<ConnectionPool> pool)
      : pool_(std::move(pool)),
        keys_(*pool_),
        tokens_(NewPostgresqlTokenStore(*pool_)),
        rights_(NewPostgresqlRightsStore(*pool_)),
        log_(NewPostgresqlLogStore(*pool_)),
        releases_(NewPostgresqlReleaseStore(*pool_)) {}

  absl::StatusOr<int64_t> ReserveRecordIds(int64_t n) override {
    if (n <= 0 || n > kMaxReserve) {
      return absl::InvalidArgumentError(
          absl::StrCat("reserve record ids: count must be in [1, ", kMaxReserve, "]"));
    }
    absl::MutexLock lock(&id_mu_);
    if (block_end_ - block_next_ >= n) {
      const int64_t first = block_next_;
      block_next_ += n;
      return first;
    }
    int64_t take = std::max(n, kIdBlock);
    absl::StatusOr<int64_t> first = ReserveFromDatabase(take);
    if (absl::IsResourceExhausted(first.status()) && take > n) {
      take = n;
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
    // One snapshot for every lookup.
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kSnapshot));
    for (size_t i = 0; i < keys.size(); ++i) {
      ASSIGN_OR_RETURN(
          Result r,
          conn->Exec("SELECT 1 FROM ingest_keys WHERE stream = $1 AND digest = $2",
                     Params().Text(keys[i].stream).Bytes(keys[i].digest), kOp));
      found[i] = r.rows() > 0;
    }
    RETURN_IF_ERROR(txn->Commit());
    return found;
  }

  absl::StatusOr<int64_t> DeleteIngestKeysBefore(int64_t before_us) override {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(Result r,
                     conn->Exec("DELETE FROM ingest_keys WHERE time_us < $1",
                                Params().Int64(before_us), "delete ingest keys"));
    return r.Affected();
  }

 private:
  static absl::Status CheckIngestKeys(absl::Span<const IngestKey> keys) {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].stream.empty() || keys[i].digest.size() != 32 ||
          !FitsInt(keys[i].stream)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "append records: ingest key ", i, ": needs a stream and a 32-byte digest"));
      }
    }
    return absl::OkStatus();
  }

  // `log`, when set, builds the log batch appended in the same transaction
  // (AppendRecordsWithLog).
  absl::Status Append(absl::Span<const StoredRecord> records,
                      absl::Span<const IngestKey> keys, const LogBatchBuilder* log) {
    if (records.empty() && keys.empty() && log == nullptr) return absl::OkStatus();
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
    }
    // A partition dropped by another node's retention sweep since we
    // cached it shows up as "no partition for row": forget and retry once.
    absl::Status status = AppendOnce(records, keys, log);
    if (SqlStateOf(status) == "23514") {
      {
        absl::MutexLock lock(&cache_mu_);
        partitions_.clear();
      }
      status = AppendOnce(records, keys, log);
    }
    return status;
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
    const int64_t lo = query.from_us.value_or(std::numeric_limits<int64_t>::min());
    int64_t hi = std::numeric_limits<int64_t>::max();
    if (query.to_us.has_value()) {
      if (*query.to_us == std::numeric_limits<int64_t>::min()) return absl::OkStatus();
      hi = *query.to_us - 1;
    }
    if (lo > hi) return absl::OkStatus();

    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(std::optional<int32_t> sid, FindStream(*conn, query.stream));
    if (!sid.has_value()) return absl::OkStatus();
    const bool sql_limit = query.limit > 0 && cells.empty();
    Params p;
    p.Int32(*sid).Int64(lo).Int64(hi).Int64(query.after_id);
    if (sql_limit) p.Int64(query.limit);
    // A cursor streams the rows in pages within one snapshot, and can be
    // abandoned when the callback stops.
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kSnapshot));
    RETURN_IF_ERROR(
        conn->ExecOnce(absl::StrCat("DECLARE scan NO SCROLL CURSOR FOR SELECT id, "
                                    "time_us, cell, epoch, blind_index, key_id, "
                                    "payload, batch FROM records WHERE stream_id = $1 "
                                    "AND time_us >= $2 AND time_us <= $3 AND id > $4 "
                                    "ORDER BY id",
                                    sql_limit ? " LIMIT $5" : ""),
                       p, kOp)
            .status());
    StoredRecord record;
    record.stream = query.stream;
    int64_t emitted = 0;
    const std::string fetch = absl::StrCat("FETCH ", kFetchRows, " FROM scan");
    while (true) {
      ASSIGN_OR_RETURN(Result r, conn->Exec(fetch.c_str(), kOp));
      for (int i = 0; i < r.rows(); ++i) {
        const uint64_t cell = static_cast<uint64_t>(r.Int64(i, 2));
        if (!cells.empty() && !cells.Contains(cell)) continue;
        record.id = r.Int64(i, 0);
        record.time_us = r.Int64(i, 1);
        record.cell = cell;
        record.epoch = r.Int64(i, 3);
        r.BytesInto(i, 4, record.blind_index);
        record.key_id = r.Int64(i, 5);
        r.BytesInto(i, 6, record.payload);
        record.batch = r.Int64(i, 7);
        RETURN_IF_ERROR(fn(record));
        if (query.limit > 0 && ++emitted >= query.limit) return absl::OkStatus();
      }
      if (r.rows() < kFetchRows) break;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<StoredRecord>> FindRecordsBySubject(
      const std::string& blind_index) override {
    constexpr absl::string_view kOp = "find records by subject";
    RETURN_IF_ERROR(CheckBlindIndex(blind_index, kOp));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(
        Result r,
        conn->Exec(
            "SELECT r.id, s.name, r.time_us, r.cell, r.epoch, r.blind_index, "
            "r.key_id, r.payload, r.batch FROM records r JOIN streams s "
            "ON s.id = r.stream_id WHERE r.blind_index = $1 AND r.key_id IN "
            "(SELECT id FROM keys WHERE subject = $1 AND kind = $2) ORDER BY r.id",
            Params().Bytes(blind_index).Int32(static_cast<int32_t>(KeyKind::kSubjectDek)),
            kOp));
    std::vector<StoredRecord> out;
    out.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) {
      StoredRecord& rec = out.emplace_back();
      rec.id = r.Int64(i, 0);
      rec.stream = r.Bytes(i, 1);
      rec.time_us = r.Int64(i, 2);
      rec.cell = static_cast<uint64_t>(r.Int64(i, 3));
      rec.epoch = r.Int64(i, 4);
      rec.blind_index = r.Bytes(i, 5);
      rec.key_id = r.Int64(i, 6);
      rec.payload = r.Bytes(i, 7);
      rec.batch = r.Int64(i, 8);
    }
    return out;
  }

  absl::StatusOr<int64_t> DeleteRecordsBySubject(
      const std::string& blind_index) override {
    constexpr absl::string_view kOp = "delete records by subject";
    RETURN_IF_ERROR(CheckBlindIndex(blind_index, kOp));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(Result r, conn->Exec("DELETE FROM records WHERE blind_index = $1",
                                          Params().Bytes(blind_index), kOp));
    return r.Affected();
  }

  absl::StatusOr<int64_t> DeleteRecordsBefore(const std::string& stream,
                                              int64_t before_us) override {
    constexpr absl::string_view kOp = "delete records before";
    RETURN_IF_ERROR(CheckName(stream, kOp, "stream"));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(std::optional<int32_t> sid, FindStream(*conn, stream));
    if (!sid.has_value()) return 0;
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kReadCommitted));
    RETURN_IF_ERROR(LockPartitions(*conn));
    // Whole partitions that end at or before the cut are dropped; the rest
    // of the cut is deleted row by row from the partition it falls in.
    const int64_t last_whole = FloorDiv(before_us, kPartitionWidthUs) - 1;
    ASSIGN_OR_RETURN(Result parts,
                     conn->Exec("SELECT bucket FROM record_partitions "
                                "WHERE stream_id = $1 AND bucket <= $2 ORDER BY bucket",
                                Params().Int32(*sid).Int64(last_whole), kOp));
    int64_t deleted = 0;
    std::vector<int64_t> dropped;
    for (int i = 0; i < parts.rows(); ++i) {
      const int64_t bucket = parts.Int64(i, 0);
      const std::string table = BucketTable(*sid, bucket);
      ASSIGN_OR_RETURN(
          Result n,
          conn->ExecOnce(absl::StrCat("SELECT count(*) FROM ", table), Params(), kOp));
      deleted += n.Int64(0, 0);
      RETURN_IF_ERROR(
          conn->ExecOnce(absl::StrCat("DROP TABLE ", table), Params(), kOp).status());
      RETURN_IF_ERROR(conn->Exec("DELETE FROM record_partitions WHERE stream_id = $1 "
                                 "AND bucket = $2",
                                 Params().Int32(*sid).Int64(bucket), kOp)
                          .status());
      dropped.push_back(bucket);
    }
    ASSIGN_OR_RETURN(
        Result rest,
        conn->Exec("DELETE FROM records WHERE stream_id = $1 AND time_us < $2",
                   Params().Int32(*sid).Int64(before_us), kOp));
    deleted += rest.Affected();
    RETURN_IF_ERROR(txn->Commit());
    absl::MutexLock lock(&cache_mu_);
    for (int64_t b : dropped) partitions_.erase(std::pair{*sid, b});
    return deleted;
  }

  absl::StatusOr<int64_t> UnlinkRecordsBefore(const std::string& stream,
                                              int64_t before_epoch) override {
    constexpr absl::string_view kOp = "unlink records before";
    RETURN_IF_ERROR(CheckName(stream, kOp, "stream"));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(std::optional<int32_t> sid, FindStream(*conn, stream));
    if (!sid.has_value()) return 0;
    ASSIGN_OR_RETURN(
        Result r, conn->Exec("UPDATE records SET blind_index = NULL WHERE stream_id = $1 "
                             "AND epoch < $2 AND blind_index IS NOT NULL",
                             Params().Int32(*sid).Int64(before_epoch), kOp));
    return r.Affected();
  }

  absl::StatusOr<int64_t> CountRecords(const std::string& stream) override {
    constexpr absl::string_view kOp = "count records";
    RETURN_IF_ERROR(CheckName(stream, kOp, "stream"));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(std::optional<int32_t> sid, FindStream(*conn, stream));
    if (!sid.has_value()) return 0;
    ASSIGN_OR_RETURN(Result r,
                     conn->Exec("SELECT count(*) FROM records WHERE stream_id = $1",
                                Params().Int32(*sid), kOp));
    return r.Int64(0, 0);
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
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    return conn
        ->Exec(
            "INSERT INTO consent_events (blind_index, purpose, state, time_us, source) "
            "VALUES ($1, $2, $3, $4, $5)",
            Params()
                .Bytes(event.blind_index)
                .Text(event.purpose)
                .Text(state)
                .Int64(ToMicros(event.time))
                .Text(event.source),
            kOp)
        .status();
  }

  absl::StatusOr<std::vector<ConsentEvent>> ConsentHistory(
      const std::string& blind_index) override {
    constexpr absl::string_view kOp = "consent history";
    RETURN_IF_ERROR(CheckBlindIndex(blind_index, kOp));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(Result r, conn->Exec("SELECT purpose, state, time_us, source FROM "
                                          "consent_events WHERE blind_index = $1 "
                                          "ORDER BY time_us, id",
                                          Params().Bytes(blind_index), kOp));
    std::vector<ConsentEvent> events;
    events.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) {
      ConsentEvent& e = events.emplace_back();
      e.blind_index = blind_index;
      e.purpose = r.Bytes(i, 0);
      std::optional<ConsentState> state = ParseConsentState(r.Bytes(i, 1));
      if (!state.has_value()) {
        return absl::DataLossError("postgresql store: consent event with unknown state");
      }
      e.state = *state;
      e.time = FromMicros(r.Int64(i, 2));
      e.source = r.Bytes(i, 3);
    }
    return events;
  }

  absl::Status DeleteConsentHistory(const std::string& blind_index) override {
    constexpr absl::string_view kOp = "delete consent history";
    RETURN_IF_ERROR(CheckBlindIndex(blind_index, kOp));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    return conn
        ->Exec("DELETE FROM consent_events WHERE blind_index = $1",
               Params().Bytes(blind_index), kOp)
        .status();
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
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kReadCommitted));
    const Params period = Params().Text(charge.agreement).Int64(charge.period);
    // Every charge of this (agreement, period), from any node, takes this
    // row lock first; the reads below then see every earlier charge.
    RETURN_IF_ERROR(conn->Exec("INSERT INTO budget_periods (agreement, period) "
                               "VALUES ($1, $2) ON CONFLICT DO NOTHING",
                               period, kOp)
                        .status());
    RETURN_IF_ERROR(conn->Exec("SELECT 1 FROM budget_periods WHERE agreement = $1 "
                               "AND period = $2 FOR UPDATE",
                               period, kOp)
                        .status());
    {
      ASSIGN_OR_RETURN(
          Result r,
          conn->Exec(
              "SELECT epsilon, delta, time_us, result, rho, rho_delta FROM "
              "budget_charges "
              "WHERE agreement = $1 AND period = $2 AND query_key = $3",
              Params().Text(charge.agreement).Int64(charge.period).Text(charge.query_key),
              kOp));
      if (r.rows() > 0) {
        BudgetCharge cached;
        cached.agreement = charge.agreement;
        cached.period = charge.period;
        cached.query_key = charge.query_key;
        cached.epsilon = r.Float8(0, 0);
        cached.delta = r.Float8(0, 1);
        cached.time = FromMicros(r.Int64(0, 2));
        cached.result = r.Bytes(0, 3);
        cached.rho = r.Float8(0, 4);
        cached.rho_delta = r.Float8(0, 5);
        return cached;  // rolled back: nothing written
      }
    }
    ASSIGN_OR_RETURN(BudgetSpent spent, Spent(*conn, charge.agreement, charge.period));
    const BudgetSpent after{spent.epsilon + charge.epsilon, spent.delta + charge.delta,
                            spent.rho + charge.rho, spent.rho_delta + charge.rho_delta};
    auto fits = [](double total, double cap) {
      return total <= cap * (1 + kBudgetRelativeTolerance);
    };
    if (!fits(after.TotalEpsilon(), cap.epsilon) ||
        !fits(after.TotalDelta(), cap.delta)) {
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
    RETURN_IF_ERROR(
        conn->Exec("INSERT INTO budget_charges (agreement, period, query_key, "
                   "epsilon, delta, time_us, result, rho, rho_delta) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                   Params()
                       .Text(charge.agreement)
                       .Int64(charge.period)
                       .Text(charge.query_key)
                       .Float8(charge.epsilon)
                       .Float8(charge.delta)
                       .Int64(ToMicros(charge.time))
                       .Bytes(charge.result)
                       .Float8(charge.rho)
                       .Float8(charge.rho_delta),
                   kOp)
            .status());
    RETURN_IF_ERROR(txn->Commit());
    return charge;
  }

  absl::StatusOr<BudgetSpent> SpentBudget(const std::string& agreement,
                                          int64_t period) override {
    RETURN_IF_ERROR(CheckName(agreement, "spent budget", "agreement"));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    return Spent(*conn, agreement, period);
  }

  absl::StatusOr<std::optional<std::string>> GetMeta(const std::string& key) override {
    RETURN_IF_ERROR(CheckName(key, "get meta", "key"));
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(Result r, conn->Exec("SELECT value FROM meta WHERE key = $1",
                                          Params().Text(key), "get meta"));
    if (r.rows() == 0) return std::nullopt;
    return r.Bytes(0, 0);
  }

  absl::Status PutMeta(const std::string& key, const std::string& value) override {
    RETURN_IF_ERROR(CheckName(key, "put meta", "key"));
    if (!FitsInt(value)) return absl::InvalidArgumentError("put meta: value is too long");
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    return conn
        ->Exec(
            "INSERT INTO meta (key, value) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            Params().Text(key).Bytes(value), "put meta")
        .status();
  }

  // PostgreSQL has no secure_delete: VACUUM makes the space of deleted rows
  // reusable, and the pages are overwritten as it is reused. What protects
  // erased data is crypto-shredding (the subject's keys are gone) and, for
  // retention, dropping whole partitions (their files are unlinked). So
  // Compact vacuums the small tables that held keys and links to subjects
  // at once, and leaves records, whose vacuum scans every index of every
  // partition, to autovacuum. See docs/storage.md.
  absl::Status Compact() override {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    return conn->ExecScript("VACUUM keys, consent_events, rights_requests", "compact");
  }

  std::vector<std::string> Files() const override { return {}; }

 private:
  absl::StatusOr<int64_t> ReserveFromDatabase(int64_t n) {
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    ASSIGN_OR_RETURN(Result r,
                     conn->Exec("UPDATE sequences SET next_value = next_value + $1 "
                                "WHERE name = 'records' AND "
                                "next_value <= 9223372036854775807 - $1 "
                                "RETURNING next_value - $1",
                                Params().Int64(n), "reserve record ids"));
    if (r.rows() == 0) {
      return absl::ResourceExhaustedError("postgresql store: record id space exhausted");
    }
    return r.Int64(0, 0);
  }

  absl::StatusOr<BudgetSpent> Spent(Connection& conn, const std::string& agreement,
                                    int64_t period) {
    ASSIGN_OR_RETURN(Result r,
                     conn.Exec("SELECT coalesce(sum(epsilon), 0)::float8, "
                               "coalesce(sum(delta), 0)::float8, "
                               "coalesce(sum(rho), 0)::float8, "
                               "coalesce(sum(rho_delta), 0)::float8 FROM "
                               "budget_charges WHERE agreement = $1 AND "
                               "period = $2",
                               Params().Text(agreement).Int64(period), "spent budget"));
    return BudgetSpent{r.Float8(0, 0), r.Float8(0, 1), r.Float8(0, 2), r.Float8(0, 3)};
  }

  absl::Status LockPartitions(Connection& conn) {
    return conn
        .Exec("SELECT pg_advisory_xact_lock($1, $2)",
              Params().Int32(kAdvisoryTag).Int32(kLockPartitions), "lock partitions")
        .status();
  }

  // The id of `stream`, or nullopt when it has never held a record.
  absl::StatusOr<std::optional<int32_t>> FindStream(Connection& conn,
                                                    const std::string& stream) {
    {
      absl::MutexLock lock(&cache_mu_);
      auto it = stream_ids_.find(stream);
      if (it != stream_ids_.end()) return it->second;
    }
    ASSIGN_OR_RETURN(Result r, conn.Exec("SELECT id FROM streams WHERE name = $1",
                                         Params().Text(stream), "find stream"));
    if (r.rows() == 0) return std::nullopt;
    const int32_t id = r.Int32(0, 0);
    absl::MutexLock lock(&cache_mu_);
    stream_ids_[stream] = id;
    return id;
  }

  absl::StatusOr<int32_t> StreamId(Connection& conn, const std::string& stream) {
    ASSIGN_OR_RETURN(std::optional<int32_t> id, FindStream(conn, stream));
    if (id.has_value()) return *id;
    RETURN_IF_ERROR(conn.Exec("INSERT INTO streams (name) VALUES ($1) "
                              "ON CONFLICT (name) DO NOTHING",
                              Params().Text(stream), "add stream")
                        .status());
    ASSIGN_OR_RETURN(id, FindStream(conn, stream));
    if (!id.has_value()) return absl::InternalError("postgresql store: stream not added");
    return *id;
  }

  // Creates the partition of (sid, bucket) unless it exists, in its own
  // transaction. Tables are created apart and attached, which locks the
  // parent only against other schema changes, not against ingest or reads.
  absl::Status EnsurePartition(Connection& conn, int32_t sid, int64_t bucket) {
    constexpr absl::string_view kOp = "create record partition";
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(conn, TransactionMode::kReadCommitted));
    RETURN_IF_ERROR(LockPartitions(conn));
    ASSIGN_OR_RETURN(Result known, conn.Exec("SELECT 1 FROM record_partitions WHERE "
                                             "stream_id = $1 AND bucket = $2",
                                             Params().Int32(sid).Int64(bucket), kOp));
    if (known.rows() == 0) {
      const std::string parent = StreamTable(sid);
      // pg_class with a fresh snapshot: the catalog cache is not refreshed
      // by the advisory lock, so to_regclass() could miss another node's table.
      ASSIGN_OR_RETURN(Result has_parent,
                       conn.Exec("SELECT count(*) FROM pg_class c JOIN pg_namespace n "
                                 "ON n.oid = c.relnamespace WHERE n.nspname = "
                                 "current_schema() AND c.relname = $1",
                                 Params().Text(parent), kOp));
      if (has_parent.Int64(0, 0) == 0) {
        RETURN_IF_ERROR(
            conn.ExecScript(absl::StrCat("CREATE TABLE ", parent,
                                         " (LIKE records) PARTITION BY RANGE (time_us); "
                                         "ALTER TABLE records ATTACH PARTITION ",
                                         parent, " FOR VALUES IN (", sid, ")")
                                .c_str(),
                            kOp));
      }
      const std::string table = BucketTable(sid, bucket);
      const __int128 lo = static_cast<__int128>(bucket) * kPartitionWidthUs;
      RETURN_IF_ERROR(conn.ExecScript(
          absl::StrCat("CREATE TABLE ", table, " (LIKE records); ALTER TABLE ", parent,
                       " ATTACH PARTITION ", table, " FOR VALUES FROM (", Bound(lo),
                       ") TO (", Bound(lo + kPartitionWidthUs), ")")
              .c_str(),
          kOp));
      RETURN_IF_ERROR(conn.Exec("INSERT INTO record_partitions (stream_id, bucket) "
                                "VALUES ($1, $2)",
                                Params().Int32(sid).Int64(bucket), kOp)
                          .status());
    }
    RETURN_IF_ERROR(txn->Commit());
    absl::MutexLock lock(&cache_mu_);
    partitions_.insert(std::pair{sid, bucket});
    return absl::OkStatus();
  }

  absl::Status AppendOnce(absl::Span<const StoredRecord> records,
                          absl::Span<const IngestKey> keys, const LogBatchBuilder* log) {
    constexpr absl::string_view kOp = "append records";
    ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
    // Stream ids and partitions first, each in its own short transaction.
    std::vector<int32_t> sids(records.size());
    absl::flat_hash_set<std::pair<int32_t, int64_t>> needed;
    int64_t min_id = std::numeric_limits<int64_t>::max();
    int64_t max_id = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      if (i > 0 && records[i].stream == records[i - 1].stream) {
        sids[i] = sids[i - 1];
      } else {
        ASSIGN_OR_RETURN(sids[i], StreamId(*conn, records[i].stream));
      }
      needed.insert(std::pair{sids[i], FloorDiv(records[i].time_us, kPartitionWidthUs)});
      min_id = std::min(min_id, records[i].id);
      max_id = std::max(max_id, records[i].id);
    }
    for (const auto& [sid, bucket] : needed) {
      bool known;
      {
        absl::MutexLock lock(&cache_mu_);
        known = partitions_.contains(std::pair{sid, bucket});
      }
      if (!known) RETURN_IF_ERROR(EnsurePartition(*conn, sid, bucket));
    }

    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                     Transaction::Begin(*conn, TransactionMode::kReadCommitted));
    {
      ASSIGN_OR_RETURN(
          Result next,
          conn->Exec("SELECT next_value FROM sequences WHERE name = 'records'", kOp));
      if (next.rows() != 1 || max_id >= next.Int64(0, 0)) {
        return absl::InvalidArgumentError(
            "append records: record ids were not reserved with ReserveRecordIds");
      }
    }
    {
      // The id index is not unique (a partitioned table cannot have a
      // unique index without its partition keys), so duplicates are looked
      // for in the batch's id range.
      ASSIGN_OR_RETURN(Result taken,
                       conn->Exec("SELECT id FROM records WHERE id >= $1 AND id <= $2",
                                  Params().Int64(min_id).Int64(max_id), kOp));
      if (taken.rows() > 0) {
        absl::flat_hash_set<int64_t> stored;
        for (int i = 0; i < taken.rows(); ++i) stored.insert(taken.Int64(i, 0));
        for (const StoredRecord& r : records) {
          if (stored.contains(r.id)) {
            return absl::AlreadyExistsError(
                absl::StrCat("append records: record id ", r.id, " is already stored"));
          }
        }
      }
    }
    absl::flat_hash_set<int64_t> seen;
    seen.reserve(records.size());
    CopyWriter copy;
    for (size_t i = 0; i < records.size(); ++i) {
      const StoredRecord& r = records[i];
      if (!seen.insert(r.id).second) {
        return absl::AlreadyExistsError(
            absl::StrCat("append records: record id ", r.id, " appears twice"));
      }
      copy.BeginRow(9);
      copy.Int64(r.id);
      copy.Int32(sids[i]);
      copy.Int64(r.time_us);
      copy.Int64(static_cast<int64_t>(r.cell));
      copy.Int64(r.epoch);
      if (r.blind_index.empty()) {
        copy.Null();
      } else {
        copy.Bytes(r.blind_index);
      }
      copy.Int64(r.key_id);
      copy.Bytes(r.payload);
      copy.Int64(r.batch);
    }
    if (!records.empty()) {
      RETURN_IF_ERROR(conn->CopyIn("COPY records (id, stream_id, time_us, cell, epoch, "
                                   "blind_index, key_id, payload, batch) FROM STDIN "
                                   "(FORMAT binary)",
                                   copy.Finish(), kOp)
                          .status());
    }
    if (!keys.empty()) {
      // In the records' transaction: both are written or neither. A key
      // claimed by another node waits for that node's commit, then
      // violates the primary key.
      CopyWriter key_copy;
      for (const IngestKey& key : keys) {
        key_copy.BeginRow(3);
        key_copy.Bytes(key.stream);  // text's binary form is its bytes
        key_copy.Bytes(key.digest);
        key_copy.Int64(key.time_us);
      }
      absl::Status claimed =
          conn->CopyIn(
                  "COPY ingest_keys (stream, digest, time_us) FROM STDIN "
                  "(FORMAT binary)",
                  key_copy.Finish(), "claim ingest keys")
              .status();
      if (absl::IsAlreadyExists(claimed)) {
        return absl::AlreadyExistsError(
            "append records: an ingest key was claimed before");
      }
      RETURN_IF_ERROR(claimed);
    }
    // Last: it locks the log's frontier row until the commit.
    if (log != nullptr) RETURN_IF_ERROR(WriteLogBatch(*conn, *log));
    return txn->Commit();
  }

  std::unique_ptr<ConnectionPool> pool_;
  PgKeyStore keys_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<RightsStore> rights_;
  std::unique_ptr<LogStore> log_;
  std::unique_ptr<ReleaseStore> releases_;

  absl::Mutex id_mu_;
  int64_t block_next_ ABSL_GUARDED_BY(id_mu_) = 0;
  int64_t block_end_ ABSL_GUARDED_BY(id_mu_) = 0;

  absl::Mutex cache_mu_;
  // A stream's id never changes once assigned.
  absl::flat_hash_map<std::string, int32_t> stream_ids_ ABSL_GUARDED_BY(cache_mu_);
  // Partitions this instance created or found; another node's retention
  // may drop one, which AppendRecords notices and repairs.
  absl::flat_hash_set<std::pair<int32_t, int64_t>> partitions_ ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace

absl::StatusOr<StorePtr> OpenPostgresqlStore(const std::string& uri) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(uri));
  RETURN_IF_ERROR(Migrate(*conn));
  auto pool = std::make_unique<ConnectionPool>(uri, std::move(conn));
  return std::make_unique<PgStore>(std::move(pool));
}

}  // namespace privacity::store::postgresql_internal
