// The requests desk: every rights request (access, export, consent,
// objection, erasure) gets a random id, a kind, a status and a deadline of
// 30 days (GDPR Art. 12(3)), kept in the store (store/rights_store.h). The
// controller lists them without identifiers; an erasure clears the blind
// index from all of the subject's requests.
#ifndef PRIVACITY_RIGHTS_REQUESTS_H_
#define PRIVACITY_RIGHTS_REQUESTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/random.h"
#include "store/rights_store.h"

namespace privacity::rights {

inline constexpr absl::Duration kRequestDeadline = absl::Hours(24 * 30);

class RequestsDesk {
 public:
  // REQUIRES: all three outlive the desk.
  RequestsDesk(store::RightsStore& store, Clock& clock, RandomSource& random)
      : store_(store), clock_(clock), random_(random) {}

  // Opens a request: id "rq-" + 26 base32 characters (128 random bits),
  // created now, due in 30 days. `detail` must carry no personal data.
  absl::StatusOr<store::RightsRequest> Open(store::RightsRequestKind kind,
                                            const std::string& blind_index,
                                            const std::string& detail = "");

  // Closes an open request as completed or refused, now.
  absl::Status Complete(const std::string& id, const std::string& detail);
  absl::Status Refuse(const std::string& id, const std::string& reason);

  // Opens and completes at once (requests served on the spot).
  absl::StatusOr<store::RightsRequest> Record(store::RightsRequestKind kind,
                                              const std::string& blind_index,
                                              const std::string& detail);

  absl::StatusOr<std::vector<store::RightsRequest>> List(
      const store::RightsRequestFilter& filter = {});

  store::RightsStore& store() { return store_; }

 private:
  store::RightsStore& store_;
  Clock& clock_;
  RandomSource& random_;
};

// One line per request for the controller: id, kind, status, created,
// deadline, completed, overdue flag, detail. Never the blind index.
std::string FormatRequestsTable(const std::vector<store::RightsRequest>& requests,
                                absl::Time now);

}  // namespace privacity::rights

#endif  // PRIVACITY_RIGHTS_REQUESTS_H_
