// Where rights actions leave their transparency-log leaves (audit/leaves.h).
// The server appends them to the trust's log (server/me_routes.h,
// AuditRightsLog); tests and tools keep them in memory. Leaves carry no
// personal data: request ids, kinds, streams, purposes and counts only.
#ifndef PRIVACITY_RIGHTS_RIGHTS_LOG_H_
#define PRIVACITY_RIGHTS_RIGHTS_LOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "audit/leaves.h"

namespace privacity::rights {

class RightsLog {
 public:
  virtual ~RightsLog() = default;
  // Appends the leaf durably and returns its index in the log.
  virtual absl::StatusOr<uint64_t> Append(const audit::RightsActionLeaf& leaf) = 0;
  virtual absl::StatusOr<uint64_t> Append(const audit::RetentionLeaf& leaf) = 0;
};

// Encodes leaves (so invalid ones fail as they would in the real log) and
// keeps their bytes in memory. Thread-safe.
class MemoryRightsLog final : public RightsLog {
 public:
  absl::StatusOr<uint64_t> Append(const audit::RightsActionLeaf& leaf) override;
  absl::StatusOr<uint64_t> Append(const audit::RetentionLeaf& leaf) override;

  std::vector<std::string> leaves() const;

 private:
  absl::StatusOr<uint64_t> Keep(absl::StatusOr<std::string> encoded);

  mutable absl::Mutex mu_;
  std::vector<std::string> leaves_ ABSL_GUARDED_BY(mu_);
};

}  // namespace privacity::rights

#endif  // PRIVACITY_RIGHTS_RIGHTS_LOG_H_
