// The store backends the conformance suites are parameterised over.
#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "store/postgres_test_util.h"
#include "store/store.h"
#include "store_test_util.h"

namespace privacity::store::testing {

StoreBackend SqliteBackend() {
  return {"sqlite",
          [](const std::string& dir) { return OpenStore("sqlite:store.db", dir); }};
}

StoreBackend PostgresqlBackend() {
  // One database per test directory, created on first open.
  struct Databases {
    absl::Mutex mu;
    std::map<std::string, std::unique_ptr<TestDatabase>> by_dir;
  };
  auto dbs = std::make_shared<Databases>();
  StoreBackend b;
  b.name = "postgresql";
  b.open = [dbs](const std::string& dir) -> absl::StatusOr<StorePtr> {
    std::string uri;
    {
      absl::MutexLock lock(&dbs->mu);
      auto it = dbs->by_dir.find(dir);
      if (it == dbs->by_dir.end()) {
        absl::StatusOr<std::unique_ptr<TestDatabase>> db = TestDatabase::Create();
        if (!db.ok()) return db.status();
        it = dbs->by_dir.emplace(dir, *std::move(db)).first;
      }
      uri = it->second->uri();
    }
    return OpenStore(uri, dir);
  };
  b.skip = [] {
    return TestPostgresUrl().has_value() ? std::string() : PostgresSkipReason();
  };
  b.drop = [dbs](const std::string& dir) {
    absl::MutexLock lock(&dbs->mu);
    dbs->by_dir.erase(dir);
  };
  return b;
}

}  // namespace privacity::store::testing
