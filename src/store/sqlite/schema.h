// Private to the store module: the versioned SQLite schema.
//
// The version lives in PRAGMA user_version. kMigrations is an ordered,
// append-only list: migration i takes the schema from version i to i + 1.
// A released migration is never edited; a change is a new migration. Open
// applies the missing ones in one IMMEDIATE transaction and refuses a file
// whose version is newer than this build (see docs/storage.md).
#ifndef PRIVACITY_STORE_SQLITE_SCHEMA_H_
#define PRIVACITY_STORE_SQLITE_SCHEMA_H_

#include "absl/status/status.h"
#include "store/sqlite/connection.h"

namespace privacity::store::sqlite_internal {

// The schema version this build creates and understands.
int LatestSchemaVersion();

// PRAGMA application_id of a privacity store ("PRVC").
inline constexpr int kApplicationId = 0x50525643;

// Puts the file in WAL mode (choosing the page size first when the file is
// new), then brings the schema to LatestSchemaVersion(). Safe when several
// processes open the same new file at once.
absl::Status PrepareAndMigrate(Connection& conn);

}  // namespace privacity::store::sqlite_internal

#endif  // PRIVACITY_STORE_SQLITE_SCHEMA_H_
