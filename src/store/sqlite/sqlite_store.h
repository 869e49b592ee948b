// Private to the store module: the SQLite backend of Store. Callers use
// OpenStore("sqlite:PATH", data_dir) from store/store.h.
#ifndef PRIVACITY_STORE_SQLITE_SQLITE_STORE_H_
#define PRIVACITY_STORE_SQLITE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "store/rights_store.h"
#include "store/store.h"

namespace privacity::store::sqlite_internal {

class Connection;
class ConnectionPool;

// Opens the SQLite store at `path`, creating the file with mode 0600 when
// it does not exist (its directory must), and migrating its schema.
absl::StatusOr<StorePtr> OpenSqliteStore(const std::string& path);

// The RightsStore over `pool` (src/store/sqlite/rights.cc).
// REQUIRES: `pool` outlives it.
std::unique_ptr<RightsStore> NewSqliteRightsStore(ConnectionPool& pool);

// The token table over `pool` (sqlite/tokens.cc). REQUIRES: `pool` outlives it.
std::unique_ptr<TokenStore> NewSqliteTokenStore(ConnectionPool& pool);

// The transparency log tables over `pool` (sqlite/log.cc).
// REQUIRES: `pool` outlives it.
std::unique_ptr<LogStore> NewSqliteLogStore(ConnectionPool& pool);

// Reads the log's frontier, and writes the batch `build` makes for it to the
// log tables as LogStore::Append does (the same checks and errors), inside
// the write transaction the caller holds open on `conn` and commits: how
// records and their ingest leaf commit together.
absl::Status WriteLogBatch(Connection& conn, LogBatchBuilder build);

// Published DP releases over `pool` (sqlite/releases.cc).
// REQUIRES: `pool` outlives it.
std::unique_ptr<ReleaseStore> NewSqliteReleaseStore(ConnectionPool& pool);

}  // namespace privacity::store::sqlite_internal

#endif  // PRIVACITY_STORE_SQLITE_SQLITE_STORE_H_
