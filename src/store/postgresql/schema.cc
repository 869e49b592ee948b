#include "store/postgresql/schema.h"

#include <iterator>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace privacity::store::postgresql_internal {
namespace {

// kMigrations[i] takes the schema from version i to version i + 1, with the
// same meaning as the SQLite migration i (types mapped: INTEGER -> bigint,
// BLOB -> bytea, REAL -> double precision). What differs is physical:
// records are partitioned, streams get integer ids for that, and budget
// periods get a row to lock. Append only; never edit a released entry.
constexpr const char* kMigrations[] = {
    // 0 -> 1: the initial schema.
    R"sql(
CREATE TABLE meta (
  key text PRIMARY KEY,
  value bytea NOT NULL
);

CREATE TABLE sequences (
  name text PRIMARY KEY,
  next_value bigint NOT NULL CHECK (next_value >= 1)
);
INSERT INTO sequences (name, next_value) VALUES ('records', 1);

-- Streams get small integer ids so that partitions are named and bounded
-- by integers only; a stream's id never changes.
CREATE TABLE streams (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE
);

-- Partitioned by stream (LIST), each stream by time (RANGE, one partition
-- per week of time_us, created on demand and listed in record_partitions).
-- Retention drops whole partitions.
CREATE TABLE records (
  id bigint NOT NULL,
  stream_id integer NOT NULL,
  time_us bigint NOT NULL,
  cell bigint NOT NULL,
  epoch bigint NOT NULL,
  blind_index bytea,
  key_id bigint NOT NULL,
  payload bytea NOT NULL,
  batch bigint NOT NULL
) PARTITION BY LIST (stream_id);
CREATE INDEX records_by_id ON records (id);
CREATE INDEX records_by_blind_index ON records (blind_index)
  WHERE blind_index IS NOT NULL;

CREATE TABLE record_partitions (
  stream_id integer NOT NULL REFERENCES streams (id),
  bucket bigint NOT NULL,
  PRIMARY KEY (stream_id, bucket)
);

CREATE TABLE keys (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind integer NOT NULL CHECK (kind >= 1),
  scope text NOT NULL,
  epoch bigint NOT NULL,
  subject bytea NOT NULL,
  wrapped bytea NOT NULL,
  created_us bigint NOT NULL
);
CREATE UNIQUE INDEX keys_by_name ON keys (kind, scope, epoch, subject);

CREATE TABLE consent_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  blind_index bytea NOT NULL,
  purpose text NOT NULL,
  state text NOT NULL CHECK (state IN ('granted', 'withdrawn', 'objected')),
  time_us bigint NOT NULL,
  source text NOT NULL
);
CREATE INDEX consent_events_by_subject ON consent_events (blind_index, time_us);

-- One row per (agreement, period) that has been charged: locked FOR UPDATE
-- by every charge, so charges from all nodes are serialised per budget.
CREATE TABLE budget_periods (
  agreement text NOT NULL,
  period bigint NOT NULL,
  PRIMARY KEY (agreement, period)
);

CREATE TABLE budget_charges (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  agreement text NOT NULL,
  period bigint NOT NULL,
  query_key text NOT NULL,
  epsilon double precision NOT NULL CHECK (epsilon >= 0),
  delta double precision NOT NULL CHECK (delta >= 0),
  time_us bigint NOT NULL,
  result bytea NOT NULL
);
CREATE UNIQUE INDEX budget_charges_by_query
  ON budget_charges (agreement, period, query_key);
)sql",
    // 1 -> 2: bearer tokens, the transparency log, and rights requests.
    R"sql(
CREATE TABLE tokens (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  token_hash bytea NOT NULL UNIQUE,
  party text NOT NULL,
  stream text NOT NULL DEFAULT '',
  label text NOT NULL DEFAULT '',
  created_us bigint NOT NULL,
  revoked_us bigint
);

CREATE TABLE log_entries (
  idx bigint PRIMARY KEY CHECK (idx >= 0),
  data bytea NOT NULL,
  leaf_hash bytea NOT NULL
);

CREATE TABLE log_nodes (
  level integer NOT NULL CHECK (level >= 1),
  idx bigint NOT NULL CHECK (idx >= 0),
  hash bytea NOT NULL,
  PRIMARY KEY (level, idx)
);

-- The one row every append locks (SELECT ... FOR UPDATE): appends from all
-- nodes are serialised, so the log has one sequence without gaps.
CREATE TABLE log_frontier (
  id integer PRIMARY KEY CHECK (id = 1),
  size bigint NOT NULL,
  hashes bytea NOT NULL
);
INSERT INTO log_frontier (id, size, hashes) VALUES (1, 0, '\x');

CREATE TABLE log_checkpoints (
  size bigint PRIMARY KEY,
  note bytea NOT NULL,
  created_us bigint NOT NULL
);

CREATE TABLE rights_requests (
  id text PRIMARY KEY,
  kind text NOT NULL,
  status text NOT NULL,
  blind_index bytea,
  created_us bigint NOT NULL,
  deadline_us bigint NOT NULL,
  completed_us bigint,
  detail text NOT NULL DEFAULT ''
);
CREATE INDEX rights_requests_by_subject ON rights_requests (blind_index);
)sql",
    // 2 -> 3: ingest dedupe keys (keyed digests of delivered messages). The
    // primary key makes a claim safe across nodes: a second claim of a key
    // waits for the first transaction and fails when it commits.
    R"sql(
CREATE TABLE ingest_keys (
  stream text NOT NULL,
  digest bytea NOT NULL,
  time_us bigint NOT NULL,
  PRIMARY KEY (stream, digest)
);
CREATE INDEX ingest_keys_by_time ON ingest_keys (time_us);
)sql",
    // 3 -> 4: zCDP in the DP ledger, and published DP releases.
    R"sql(
ALTER TABLE budget_charges
  ADD COLUMN rho double precision NOT NULL DEFAULT 0 CHECK (rho >= 0),
  ADD COLUMN rho_delta double precision NOT NULL DEFAULT 0 CHECK (rho_delta >= 0);

CREATE TABLE releases (
  id text PRIMARY KEY,
  agreement text NOT NULL,
  stream text NOT NULL,
  title text NOT NULL,
  created_us bigint NOT NULL,
  summary bytea NOT NULL,
  body bytea NOT NULL
);
CREATE INDEX releases_by_created ON releases (created_us);
)sql",
    // 4 -> 5: erasure finds a subject's data keys by an index, not a scan
    // of every key.
    R"sql(
CREATE INDEX keys_by_subject ON keys (subject, kind);
)sql",
};

constexpr char kApplication[] = "privacity";

// -1 when the version table is absent.
absl::StatusOr<int64_t> StoredVersion(Connection& conn) {
  // pg_class is read with a fresh snapshot; to_regclass() would consult the
  // backend's catalog cache, which an advisory lock does not refresh.
  ASSIGN_OR_RETURN(
      Result present,
      conn.Exec("SELECT count(*) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                "AND c.relname = 'privacity_schema'",
                "read schema version"));
  if (present.Int64(0, 0) == 0) return -1;
  ASSIGN_OR_RETURN(Result row,
                   conn.Exec("SELECT version::bigint, application FROM privacity_schema "
                             "WHERE id = 1",
                             "read schema version"));
  if (row.rows() != 1 || row.Bytes(0, 1) != kApplication) {
    return absl::FailedPreconditionError(
        "postgresql store: not a privacity store (privacity_schema)");
  }
  return row.Int64(0, 0);
}

absl::Status CheckVersion(int64_t version) {
  if (version > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(
        absl::StrCat("postgresql store: schema version ", version,
                     " is newer than this build supports (", LatestSchemaVersion(),
                     "); upgrade privacity"));
  }
  return absl::OkStatus();
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

absl::Status Migrate(Connection& conn) {
  ASSIGN_OR_RETURN(int64_t version, StoredVersion(conn));
  RETURN_IF_ERROR(CheckVersion(version));
  if (version == LatestSchemaVersion()) return absl::OkStatus();

  ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn,
                   Transaction::Begin(conn, TransactionMode::kReadCommitted));
  RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_xact_lock($1, $2)",
                            Params().Int32(kAdvisoryTag).Int32(kLockMigrate),
                            "lock for migration")
                      .status());
  // Another node may have migrated while we waited for the lock.
  ASSIGN_OR_RETURN(version, StoredVersion(conn));
  RETURN_IF_ERROR(CheckVersion(version));
  if (version < 0) {
    ASSIGN_OR_RETURN(Result objects,
                     conn.Exec("SELECT count(*) FROM pg_class c JOIN pg_namespace n "
                               "ON n.oid = c.relnamespace "
                               "WHERE n.nspname = current_schema() "
                               "AND c.relname IN ('records', 'keys', 'meta')",
                               "inspect schema"));
    if (objects.Int64(0, 0) != 0) {
      return absl::FailedPreconditionError(
          "postgresql store: not a privacity store (tables without a schema version)");
    }
    RETURN_IF_ERROR(
        conn.ExecScript("CREATE TABLE privacity_schema ("
                        "  id integer PRIMARY KEY CHECK (id = 1),"
                        "  application text NOT NULL,"
                        "  version integer NOT NULL);"
                        "INSERT INTO privacity_schema (id, application, version) "
                        "VALUES (1, 'privacity', 0)",
                        "create schema version"));
    version = 0;
  }
  for (int64_t v = version; v < LatestSchemaVersion(); ++v) {
    RETURN_IF_ERROR(
        conn.ExecScript(kMigrations[v], absl::StrCat("migrate to version ", v + 1)));
  }
  RETURN_IF_ERROR(conn.Exec("UPDATE privacity_schema SET version = $1 WHERE id = 1",
                            Params().Int32(LatestSchemaVersion()),
                            "record schema version")
                      .status());
  return txn->Commit();
}

}  // namespace privacity::store::postgresql_internal
