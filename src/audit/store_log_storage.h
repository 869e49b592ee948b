// audit::LogStorage over the store's durable log tables (store/log_store.h):
// what the server's log is kept in. It converts between the audit module's
// typed hashes and the store's plain bytes, rejecting any stored hash that
// is not 32 bytes (DataLoss), and maps nothing else: the store already
// gives the Aborted / OutOfRange contract LogStorage asks for.
#ifndef PRIVACITY_AUDIT_STORE_LOG_STORAGE_H_
#define PRIVACITY_AUDIT_STORE_LOG_STORAGE_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "audit/log_storage.h"
#include "audit/merkle.h"
#include "store/log_store.h"

namespace privacity::audit {

// Between the audit module's and the store's forms, for StoreLogStorage and
// for writers that store a batch with other rows
// (store::Store::AppendRecordsWithLog). DataLoss when the stored frontier's
// hashes are not a list of 32-byte hashes.
store::LogBatch ToStoreBatch(const LogAppend& batch);
absl::StatusOr<LogFrontier> FromStoreFrontier(const store::LogFrontierRow& row);

class StoreLogStorage final : public LogStorage {
 public:
  // REQUIRES: `store` outlives this.
  explicit StoreLogStorage(store::LogStore& store) : store_(store) {}

  absl::Status Append(const LogAppend& batch) override;
  absl::StatusOr<LogFrontier> ReadFrontier() override;
  absl::StatusOr<std::vector<LogEntry>> ReadEntries(uint64_t begin,
                                                    uint64_t end) override;
  absl::StatusOr<std::vector<Hash>> ReadNodes(absl::Span<const NodeId> ids) override;
  absl::StatusOr<std::vector<Hash>> ReadNodeRange(int level, uint64_t begin,
                                                  uint64_t end) override;

  store::LogStore& store() { return store_; }

 private:
  store::LogStore& store_;
};

}  // namespace privacity::audit

#endif  // PRIVACITY_AUDIT_STORE_LOG_STORAGE_H_
