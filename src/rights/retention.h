// The retention sweeper. For each stream, at time `now` from the clock:
//   retention    records with time < now - retention are deleted, and the
//                subject data keys of epochs wholly before that cut-off are
//                destroyed (their records are gone);
//   linkability  for epochs that ended at least `linkability` ago
//                (epoch < floor((now - linkability) / epoch length)), the
//                pseudonym keys are destroyed, so their pseudonyms can never
//                be recomputed; the records' blind indexes are cleared, so
//                rights requests no longer find them; and the subject data
//                keys of those epochs are renamed in place from the blind
//                index to a random name (kUnlinkedSubjectPrefix + 16 random
//                bytes), re-wrapped under it, so no key row names the
//                subject either. The records still open by key id.
// Then Store::Compact() makes the deletions physical (skipped, and said so
// in the result, when another reader holds the WAL; the next sweep retries).
// Each stream's receipt is appended to the transparency log as a
// `retention_sweep` leaf (counts and cut-offs only).
#ifndef PRIVACITY_RIGHTS_RETENTION_H_
#define PRIVACITY_RIGHTS_RETENTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/model.h"
#include "crypto/keyring.h"
#include "rights/rights_log.h"
#include "store/store.h"

namespace privacity::rights {

struct RetentionReceipt {
  std::string stream;
  absl::Time retention_cutoff;  // records before this were deleted
  int64_t records_deleted = 0;
  int64_t data_keys_destroyed = 0;    // subject data keys of deleted epochs
  int64_t unlinked_before_epoch = 0;  // epochs below this are unlinkable
  int64_t pseudonym_keys_destroyed = 0;
  int64_t records_unlinked = 0;
  int64_t data_keys_unlinked = 0;  // renamed away from the blind index
  uint64_t log_index = 0;          // of its retention_sweep leaf
};

// The subject name of data keys past the linkability window starts with
// this (a blind index is 32 bytes of HMAC output; this prefix and 16 random
// bytes make 25 bytes, so the two never collide).
inline constexpr char kUnlinkedSubjectPrefix[] = "unlinked:";

struct SweepResult {
  absl::Time time;
  std::vector<RetentionReceipt> streams;  // in config order
  bool compacted = false;
};

// REQUIRES: the references outlive the call.
absl::StatusOr<SweepResult> SweepRetention(const config::CityConfig& config,
                                           store::Store& store, crypto::Keyring& keyring,
                                           Clock& clock, RandomSource& random,
                                           RightsLog& log);

// {"kind":"retention","stream":..,"retention_cutoff":"<RFC 3339>",
//  "records_deleted":N,"data_keys_destroyed":N,"unlinked_before_epoch":N,
//  "pseudonym_keys_destroyed":N,"records_unlinked":N,"data_keys_unlinked":N,
//  "log_index":N}
std::string RetentionReceiptJson(const RetentionReceipt& receipt);

}  // namespace privacity::rights

#endif  // PRIVACITY_RIGHTS_RETENTION_H_
