// Which parties, for which purposes, accessed data covering a subject,
// derived from the `decision` leaves of the transparency log (the log holds
// no personal data, so the match is made here, for the subject alone).
//
// A decision leaf covers the subject when all of these hold:
//   - it permitted access (`result` = permit) and released something
//     (`rows` > 0);
//   - its stream is one where the subject has a record, and one such record
//     lies in the leaf's window: time >= `from` (when given), time < `to`
//     (when given), and time <= the leaf's `time` (a record whose event came
//     after the access cannot have been read; ingest times are not stored,
//     so this is the closest bound);
//   - when the leaf names an area, that record's S2 cell lies inside one of
//     its cell tokens.
// So a listed access is one that could have read the subject's data. It may
// still have left them out (a consent-based purpose they never granted, an
// objection, or a page of rows not including theirs); the listing says
// "may have covered", never "did not". Records already erased or unlinked
// are not the subject's any more and are not matched.
#ifndef PRIVACITY_RIGHTS_ACCESSES_H_
#define PRIVACITY_RIGHTS_ACCESSES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "audit/log_storage.h"
#include "store/store.h"

namespace privacity::rights {

// Where and when one of the subject's records lies.
struct RecordPlace {
  std::string stream;
  int64_t time_us = 0;
  uint64_t cell = 0;  // S2 cell id; 0 when none
};

struct Access {
  uint64_t log_index = 0;
  absl::Time time;  // of the decision
  std::string party;
  std::string purpose;
  std::string stream;
  std::string level;  // records, extract, aggregate, public
  std::optional<absl::Time> from;
  std::optional<absl::Time> to;
  std::vector<std::string> area;  // S2 cell tokens; empty = no area limit
  int64_t rows = 0;               // rows released in all (not only theirs)
  int64_t records_covered = 0;    // the subject's records in window and area
};

// The places of the subject's records (all blind indexes), for matching.
absl::StatusOr<std::vector<RecordPlace>> SubjectPlaces(
    store::Store& store, const std::vector<std::string>& blind_indexes);

// Scans the first `size` entries of the log and returns the decisions that
// cover one of `places`, oldest first. Leaves that do not parse as leaves
// are DataLoss (the log is the trust's own).
absl::StatusOr<std::vector<Access>> ListAccesses(audit::LogStorage& log, uint64_t size,
                                                 const std::vector<RecordPlace>& places);

// True when S2 cell `cell` lies inside the cell named by `token` (a
// Google S2 cell token: the id in hex without trailing zeros). False for a
// malformed token.
bool CellTokenContains(const std::string& token, uint64_t cell);

}  // namespace privacity::rights

#endif  // PRIVACITY_RIGHTS_ACCESSES_H_
