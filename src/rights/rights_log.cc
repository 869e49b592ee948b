#include "rights/rights_log.h"

#include "common/status_macros.h"

namespace privacity::rights {

absl::StatusOr<uint64_t> MemoryRightsLog::Append(const audit::RightsActionLeaf& leaf) {
  return Keep(audit::EncodeLeaf(leaf));
}

absl::StatusOr<uint64_t> MemoryRightsLog::Append(const audit::RetentionLeaf& leaf) {
  return Keep(audit::EncodeLeaf(leaf));
}

absl::StatusOr<uint64_t> MemoryRightsLog::Keep(absl::StatusOr<std::string> encoded) {
  ASSIGN_OR_RETURN(std::string bytes, std::move(encoded));
  absl::MutexLock lock(&mu_);
  leaves_.push_back(std::move(bytes));
  return leaves_.size() - 1;
}

std::vector<std::string> MemoryRightsLog::leaves() const {
  absl::MutexLock lock(&mu_);
  return leaves_;
}

}  // namespace privacity::rights
