// The requests desk: every rights request (access, export, consent,
// objection, erasure) gets a random id, a kind, a status and a deadline of
// 30 days (GDPR Art. 12(3)), kept in the store (store/rights_store.h). The
// controller lists them without identifiers; an erasure clears the blind
// index from all of the subject's requests.
//
// Every status change leaves a `rights_action` leaf in the transparency log
// (rights/rights_log.h): `received` when a request is opened, `completed` or
// `refused` when it is closed; a request served on the spot (Record) leaves
// one `completed` leaf. Leaves name the request id, the action, and what the
// caller adds in RequestFacts (stream, purpose, counts), never the subject.
#ifndef PRIVACITY_RIGHTS_REQUESTS_H_
#define PRIVACITY_RIGHTS_REQUESTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "audit/leaves.h"
#include "common/clock.h"
#include "common/random.h"
#include "rights/rights_log.h"
#include "store/rights_store.h"

namespace privacity::rights {

inline constexpr absl::Duration kRequestDeadline = absl::Hours(24 * 30);

// What a request's leaf says besides its id and status.
struct RequestFacts {
  // The leaf's action; by default the kind's (access, export, consent,
  // object, erasure). A consent withdrawal passes kWithdraw.
  std::optional<audit::RightsAction> action;
  std::string stream;   // when the request concerns one stream
  std::string purpose;  // consent, withdraw, object
  int64_t records = 0;
  int64_t keys_destroyed = 0;
};

struct LoggedRequest {
  store::RightsRequest request;
  uint64_t log_index = 0;  // of the leaf of its latest status
};

class RequestsDesk {
 public:
  // REQUIRES: all four outlive the desk.
  RequestsDesk(store::RightsStore& store, Clock& clock, RandomSource& random,
               RightsLog& log)
      : store_(store), clock_(clock), random_(random), log_(log) {}

  // Opens a request: id "rq-" + 26 base32 characters (128 random bits),
  // created now, due in 30 days; logs it as received. `detail` must carry
  // no personal data.
  absl::StatusOr<LoggedRequest> Open(store::RightsRequestKind kind,
                                     const std::string& blind_index,
                                     const std::string& detail = "",
                                     const RequestFacts& facts = {});

  // Closes an open request as completed or refused, now, and logs it.
  // Returns the leaf's index.
  absl::StatusOr<uint64_t> Complete(const std::string& id, const std::string& detail,
                                    const RequestFacts& facts = {});
  absl::StatusOr<uint64_t> Refuse(const std::string& id, const std::string& reason,
                                  const RequestFacts& facts = {});

  // Opens and completes at once (requests served on the spot); one leaf.
  absl::StatusOr<LoggedRequest> Record(store::RightsRequestKind kind,
                                       const std::string& blind_index,
                                       const std::string& detail,
                                       const RequestFacts& facts = {});

  absl::StatusOr<std::vector<store::RightsRequest>> List(
      const store::RightsRequestFilter& filter = {});

  store::RightsStore& store() { return store_; }
  RightsLog& log() { return log_; }
  RandomSource& random() { return random_; }

 private:
  store::RightsRequest NewRequest(store::RightsRequestKind kind,
                                  const std::string& blind_index,
                                  const std::string& detail);
  absl::StatusOr<uint64_t> LogStatus(const std::string& id, store::RightsRequestKind kind,
                                     audit::RightsStatus status,
                                     const RequestFacts& facts);
  absl::StatusOr<uint64_t> Close(const std::string& id, store::RightsRequestStatus status,
                                 const std::string& detail, const RequestFacts& facts);

  store::RightsStore& store_;
  Clock& clock_;
  RandomSource& random_;
  RightsLog& log_;
};

// The leaf action of a request kind (consent requests default to consent).
audit::RightsAction ActionOf(store::RightsRequestKind kind);

// One line per request for the controller: id, kind, status, created,
// deadline, completed, overdue flag, detail. Never the blind index.
std::string FormatRequestsTable(const std::vector<store::RightsRequest>& requests,
                                absl::Time now);

}  // namespace privacity::rights

#endif  // PRIVACITY_RIGHTS_REQUESTS_H_
