#include "store/sqlite/schema.h"

#include <iterator>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace privacity::store::sqlite_internal {
namespace {

// Page size for a new file (see docs/storage.md for the measurements):
// records are ~150-300 bytes, ingest appends in large batches, and bigger
// pages mean fewer page splits and fewer WAL frame headers per row.
constexpr int kPageSize = 16384;

// kMigrations[i] takes the schema from version i to version i + 1.
// Append only; never edit an entry once it has been released.
constexpr const char* kMigrations[] = {
    // 0 -> 1: the initial schema.
    R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE sequences (
  name TEXT PRIMARY KEY NOT NULL,
  next_value INTEGER NOT NULL CHECK (next_value >= 1)
) WITHOUT ROWID;
INSERT INTO sequences (name, next_value) VALUES ('records', 1);

CREATE TABLE records (
  id INTEGER PRIMARY KEY,
  stream TEXT NOT NULL,
  time_us INTEGER NOT NULL,
  cell INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  blind_index BLOB,
  key_id INTEGER NOT NULL,
  payload BLOB NOT NULL,
  batch INTEGER NOT NULL
);
CREATE INDEX records_by_stream_time ON records (stream, time_us);
CREATE INDEX records_by_blind_index ON records (blind_index)
  WHERE blind_index IS NOT NULL;

CREATE TABLE keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind INTEGER NOT NULL CHECK (kind >= 1),
  scope TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  subject BLOB NOT NULL,
  wrapped BLOB NOT NULL,
  created_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX keys_by_name ON keys (kind, scope, epoch, subject);

CREATE TABLE consent_events (
  id INTEGER PRIMARY KEY,
  blind_index BLOB NOT NULL,
  purpose TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('granted', 'withdrawn', 'objected')),
  time_us INTEGER NOT NULL,
  source TEXT NOT NULL
);
CREATE INDEX consent_events_by_subject ON consent_events (blind_index, time_us);

CREATE TABLE budget_charges (
  id INTEGER PRIMARY KEY,
  agreement TEXT NOT NULL,
  period INTEGER NOT NULL,
  query_key TEXT NOT NULL,
  epsilon REAL NOT NULL CHECK (epsilon >= 0),
  delta REAL NOT NULL CHECK (delta >= 0),
  time_us INTEGER NOT NULL,
  result BLOB NOT NULL
);
CREATE UNIQUE INDEX budget_charges_by_query
  ON budget_charges (agreement, period, query_key);
)sql",
    // 1 -> 2: bearer tokens, the transparency log, and rights requests.
    R"sql(
CREATE TABLE tokens (
  id INTEGER PRIMARY KEY,
  token_hash BLOB NOT NULL UNIQUE,
  party TEXT NOT NULL,
  stream TEXT NOT NULL DEFAULT '',
  label TEXT NOT NULL DEFAULT '',
  created_us INTEGER NOT NULL,
  revoked_us INTEGER
);

CREATE TABLE log_entries (
  idx INTEGER PRIMARY KEY CHECK (idx >= 0),
  data BLOB NOT NULL,
  leaf_hash BLOB NOT NULL
);

CREATE TABLE log_nodes (
  level INTEGER NOT NULL CHECK (level >= 1),
  idx INTEGER NOT NULL CHECK (idx >= 0),
  hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TABLE log_frontier (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size INTEGER NOT NULL,
  hashes BLOB NOT NULL
);
INSERT INTO log_frontier (id, size, hashes) VALUES (1, 0, x'');

CREATE TABLE log_checkpoints (
  size INTEGER PRIMARY KEY,
  note BLOB NOT NULL,
  created_us INTEGER NOT NULL
);

CREATE TABLE rights_requests (
  id TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  blind_index BLOB,
  created_us INTEGER NOT NULL,
  deadline_us INTEGER NOT NULL,
  completed_us INTEGER,
  detail TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX rights_requests_by_subject ON rights_requests (blind_index);
)sql",
    // 2 -> 3: ingest dedupe keys (keyed digests of delivered messages).
    R"sql(
CREATE TABLE ingest_keys (
  stream TEXT NOT NULL,
  digest BLOB NOT NULL,
  time_us INTEGER NOT NULL,
  PRIMARY KEY (stream, digest)
) WITHOUT ROWID;
CREATE INDEX ingest_keys_by_time ON ingest_keys (time_us);
)sql",
    // 3 -> 4: zCDP in the DP ledger (rho and the delta it is converted at),
    // and published DP releases.
    R"sql(
ALTER TABLE budget_charges ADD COLUMN rho REAL NOT NULL DEFAULT 0 CHECK (rho >= 0);
ALTER TABLE budget_charges ADD COLUMN rho_delta REAL NOT NULL DEFAULT 0
  CHECK (rho_delta >= 0);

CREATE TABLE releases (
  id TEXT PRIMARY KEY NOT NULL,
  agreement TEXT NOT NULL,
  stream TEXT NOT NULL,
  title TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  summary BLOB NOT NULL,
  body BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX releases_by_created ON releases (created_us);
)sql",
    // 4 -> 5: erasure finds a subject's data keys by an index, not a scan
    // of every key.
    R"sql(
CREATE INDEX keys_by_subject ON keys (subject, kind);
)sql",
    // 5 -> 6: a subject's records are found through its data keys. An index
    // on the blind index puts each subject's new entries in a place of its
    // own, so a commit of N subjects' records dirtied N index pages (each
    // written to the WAL) once the index outgrew N pages: 6.7 times slower
    // per-request ingest at 800,000 records (docs/BENCHMARKS.md). Data key
    // ids grow with time, so the current epoch's entries share the index's
    // tail.
    R"sql(
DROP INDEX records_by_blind_index;
CREATE INDEX records_by_key ON records (key_id) WHERE blind_index IS NOT NULL;
)sql",
    // 6 -> 7: the same lookup without the index's write cost. The index on
    // key_id still took each commit's entries to as many places as it held
    // subjects once the current epoch's entries outgrew that many pages (HTTP
    // ingest fell from 126,000 to 54,000 records/s over the first 800,000
    // records). A subject's records are now listed in two tables:
    // subject_records_recent, where each commit appends its entries at the
    // end (a rowid table: no index to keep in order), and subject_records,
    // ordered by key, into which the recent entries are moved in one sorted
    // pass every 65,536 entries (docs/storage.md).
    // The existing entries are copied in records_by_key's order, read from
    // that index before it is dropped (no sort).
    R"sql(
CREATE TABLE subject_records (
  key_id INTEGER NOT NULL,
  record_id INTEGER NOT NULL,
  PRIMARY KEY (key_id, record_id)
) WITHOUT ROWID;
CREATE TABLE subject_records_recent (
  key_id INTEGER NOT NULL,
  record_id INTEGER NOT NULL
);
INSERT INTO subject_records (key_id, record_id)
  SELECT key_id, id FROM records WHERE blind_index IS NOT NULL ORDER BY key_id, id;
DROP INDEX records_by_key;
)sql",
    // 7 -> 8: the ordered list in runs. Moving the recent entries into one
    // list ordered by key wrote a page for each key they named: with more
    // subjects than entries moved (a city's meters), a page per entry,
    // which is the index's cost again. Each move is now a run of its own,
    // appended after the last (docs/storage.md): it writes about one page
    // per thousand entries. A lookup seeks each run. The existing entries
    // become run 1, copied in their order.
    R"sql(
CREATE TABLE subject_record_runs (
  run INTEGER NOT NULL,
  key_id INTEGER NOT NULL,
  record_id INTEGER NOT NULL,
  PRIMARY KEY (run, key_id, record_id)
) WITHOUT ROWID;
INSERT INTO subject_record_runs (run, key_id, record_id)
  SELECT 1, key_id, record_id FROM subject_records ORDER BY key_id, record_id;
DROP TABLE subject_records;
ALTER TABLE subject_record_runs RENAME TO subject_records;
)sql",
};

absl::Status CheckVersion(Connection& conn, int64_t version) {
  if (version > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(
        absl::StrCat("sqlite store ", conn.path(), ": schema version ", version,
                     " is newer than this build supports (", LatestSchemaVersion(),
                     "); upgrade privacity"));
  }
  if (version < 0) {
    return absl::DataLossError(
        absl::StrCat("sqlite store ", conn.path(), ": invalid schema version ", version));
  }
  return absl::OkStatus();
}

absl::Status CheckApplicationId(Connection& conn) {
  ASSIGN_OR_RETURN(int64_t app_id,
                   conn.QueryInt("PRAGMA application_id", "read application id"));
  if (app_id != 0 && app_id != kApplicationId) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sqlite store ", conn.path(), ": not a privacity store (application_id)"));
  }
  return absl::OkStatus();
}

absl::Status EnableWal(Connection& conn) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(conn.db(), "PRAGMA journal_mode = WAL", -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return conn.Error(rc, "enable WAL");
  rc = sqlite3_step(stmt);
  std::string mode;
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    if (text != nullptr) mode = reinterpret_cast<const char*>(text);
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW) return conn.Error(rc, "enable WAL");
  if (absl::AsciiStrToLower(mode) != "wal") {
    return absl::FailedPreconditionError(absl::StrCat(
        "sqlite store ", conn.path(),
        ": the file system does not support WAL mode (journal mode ", mode, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

absl::Status PrepareAndMigrate(Connection& conn) {
  // Refuse a newer or foreign file before writing anything to it.
  ASSIGN_OR_RETURN(int64_t version,
                   conn.QueryInt("PRAGMA user_version", "read schema version"));
  RETURN_IF_ERROR(CheckVersion(conn, version));
  RETURN_IF_ERROR(CheckApplicationId(conn));

  // Only takes effect on a file that has no page yet.
  RETURN_IF_ERROR(
      conn.Exec(absl::StrCat("PRAGMA page_size = ", kPageSize).c_str(), "set page size"));
  RETURN_IF_ERROR(EnableWal(conn));
  if (version == LatestSchemaVersion()) return absl::OkStatus();

  ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                   Transaction::Begin(conn, TransactionMode::kImmediate));
  // Another process may have migrated while we waited for the lock.
  ASSIGN_OR_RETURN(version, conn.QueryInt("PRAGMA user_version", "read schema version"));
  RETURN_IF_ERROR(CheckVersion(conn, version));
  RETURN_IF_ERROR(CheckApplicationId(conn));
  if (version == 0) {
    ASSIGN_OR_RETURN(int64_t objects, conn.QueryInt("SELECT count(*) FROM sqlite_schema",
                                                    "inspect schema"));
    if (objects != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("sqlite store ", conn.path(),
                       ": not a privacity store (tables without a schema version)"));
    }
  }
  for (int64_t v = version; v < LatestSchemaVersion(); ++v) {
    RETURN_IF_ERROR(
        conn.Exec(kMigrations[v], absl::StrCat("migrate to version ", v + 1)));
  }
  RETURN_IF_ERROR(
      conn.Exec(absl::StrCat("PRAGMA application_id = ", kApplicationId, ";",
                             "PRAGMA user_version = ", LatestSchemaVersion(), ";")
                    .c_str(),
                "record schema version"));
  return txn->Commit();
}

}  // namespace privacity::store::sqlite_internal
