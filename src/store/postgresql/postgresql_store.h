// Private to the store module: the PostgreSQL backend of Store. Callers use
// OpenStore("postgresql://...", data_dir) from store/store.h.
#ifndef PRIVACITY_STORE_POSTGRESQL_POSTGRESQL_STORE_H_
#define PRIVACITY_STORE_POSTGRESQL_POSTGRESQL_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "store/log_store.h"
#include "store/rights_store.h"
#include "store/store.h"
#include "store/token_store.h"

namespace privacity::store::postgresql_internal {

class Connection;
class ConnectionPool;

// Connects to the database named by `uri` and brings its schema to the
// latest version. Several nodes may open the same database at once.
absl::StatusOr<StorePtr> OpenPostgresqlStore(const std::string& uri);

// The sub-stores over `pool` (postgresql/{tokens,rights,log}.cc).
// REQUIRES: `pool` outlives them.
std::unique_ptr<TokenStore> NewPostgresqlTokenStore(ConnectionPool& pool);
std::unique_ptr<RightsStore> NewPostgresqlRightsStore(ConnectionPool& pool);
std::unique_ptr<LogStore> NewPostgresqlLogStore(ConnectionPool& pool);

// Locks and reads the log's frontier row, and writes the batch `build` makes
// for it to the log tables as LogStore::Append does (the same checks and
// errors), inside the READ COMMITTED transaction the caller holds open on
// `conn` and commits. The row stays locked until that commit, so callers
// write it last.
absl::Status WriteLogBatch(Connection& conn, LogBatchBuilder build);

// Published DP releases over `pool` (postgresql/releases.cc).
std::unique_ptr<ReleaseStore> NewPostgresqlReleaseStore(ConnectionPool& pool);

}  // namespace privacity::store::postgresql_internal

#endif  // PRIVACITY_STORE_POSTGRESQL_POSTGRESQL_STORE_H_
