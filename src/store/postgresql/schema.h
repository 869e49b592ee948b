// Private to the store module: the versioned PostgreSQL schema.
//
// Versions mean the same as the SQLite schema's (src/store/sqlite/schema.h):
// version N holds the same tables with the same meaning on both backends, so
// `privacity migrate` can move a store of version N across. The version is
// kept in the one-row table privacity_schema. kMigrations is append-only;
// Open applies the missing migrations in one transaction under an advisory
// lock, so nodes starting together migrate once, and refuses a database whose
// version is newer than this build (docs/storage.md).
#ifndef PRIVACITY_STORE_POSTGRESQL_SCHEMA_H_
#define PRIVACITY_STORE_POSTGRESQL_SCHEMA_H_

#include <cstdint>

#include "absl/status/status.h"
#include "store/postgresql/connection.h"

namespace privacity::store::postgresql_internal {

// The schema version this build creates and understands.
int LatestSchemaVersion();

// Advisory lock keys (pg_advisory_xact_lock's first argument is this
// application's tag, "PRVC", the second one of these).
inline constexpr int32_t kAdvisoryTag = 0x50525643;
inline constexpr int32_t kLockMigrate = 1;
inline constexpr int32_t kLockPartitions = 2;

// Brings the schema to LatestSchemaVersion(). Safe when several nodes open
// the same new database at once.
absl::Status Migrate(Connection& conn);

}  // namespace privacity::store::postgresql_internal

#endif  // PRIVACITY_STORE_POSTGRESQL_SCHEMA_H_
