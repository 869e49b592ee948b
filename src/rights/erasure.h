// Erasure by crypto-shredding. In order, each step atomic and safe to
// repeat (a failed erasure is retried by running it again):
//   1. open an erasure request on the desk (a `received` leaf);
//   2. delete the subject's records (a store finds them through the
//      subject's data keys, so before step 3);
//   3. destroy every subject data key named by the blind index (all
//      streams and epochs, including keys of records already unlinked):
//      from here nothing sealed under them is readable, even with the
//      master key; then delete the consent history;
//   4. clear the blind index from all of the subject's requests, change
//      the erasure version (rights/consent.h: cached DP answers are
//      recomputed), and complete the erasure request with counts only (a
//      `completed` leaf, whose index the receipt carries);
//   5. Store::Compact(): checkpoint and truncate the WAL so the freed pages
//      (zeroed by secure_delete) leave no old bytes behind. Compact is
//      retried `compact_attempts` times when another reader holds the WAL
//      (Unavailable); if it still cannot run, the receipt says
//      `compacted: false` and the physical delete finishes at the next
//      Compact (the retention sweeper runs one each sweep). The data is
//      unreadable either way (step 3).
// The receipt carries no personal data, so it can be shown, logged and
// later appended to the transparency log.
#ifndef PRIVACITY_RIGHTS_ERASURE_H_
#define PRIVACITY_RIGHTS_ERASURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/keyring.h"
#include "rights/requests.h"
#include "store/store.h"

namespace privacity::rights {

struct StreamErasure {
  std::string stream;
  int64_t records = 0;
};

struct ErasureReceipt {
  std::string request_id;
  absl::Time time;                     // when the erasure completed
  std::vector<StreamErasure> streams;  // sorted by stream id
  int64_t records_erased = 0;
  int64_t keys_destroyed = 0;
  int64_t consent_events_erased = 0;
  bool compacted = false;  // false: physical delete left to the next Compact
  uint64_t log_index = 0;  // of the `completed` rights_action leaf
};

struct ErasureOptions {
  int compact_attempts = 3;
};

// Erases one subject named by one or more blind indexes (a session may
// hold several identifiers of one person): one request, one receipt.
// InvalidArgument when the list is empty or holds an empty blind index.
// REQUIRES: the references outlive the call.
absl::StatusOr<ErasureReceipt> EraseSubject(store::Store& store, crypto::Keyring& keyring,
                                            RequestsDesk& desk, Clock& clock,
                                            const std::vector<std::string>& blind_indexes,
                                            const ErasureOptions& options = {});
absl::StatusOr<ErasureReceipt> EraseSubject(store::Store& store, crypto::Keyring& keyring,
                                            RequestsDesk& desk, Clock& clock,
                                            const std::string& blind_index,
                                            const ErasureOptions& options = {});

// {"kind":"erasure","request_id":...,"time":"<RFC 3339>","streams":[{"stream":..,
//  "records":N}],"records_erased":N,"keys_destroyed":N,
//  "consent_events_erased":N,"compacted":bool,"log_index":N}
std::string ErasureReceiptJson(const ErasureReceipt& receipt);

}  // namespace privacity::rights

#endif  // PRIVACITY_RIGHTS_ERASURE_H_
