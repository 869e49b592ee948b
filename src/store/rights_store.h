// The requests desk's storage: one row per rights request (access, export,
// consent, objection, erasure), in the `rights_requests` table. Reached
// through Store::rights(). Every method is atomic and thread-safe, like the
// rest of the Store.
//
// A request keeps the subject's blind index only while it needs it: an
// erasure clears it from every request of that subject (UnlinkSubject), so
// the desk never links a closed erasure back to the person.
#ifndef PRIVACITY_STORE_RIGHTS_STORE_H_
#define PRIVACITY_STORE_RIGHTS_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace privacity::store {

enum class RightsRequestKind { kAccess, kExport, kConsent, kObjection, kErasure };
enum class RightsRequestStatus { kOpen, kCompleted, kRefused };

// Names as stored ("access", "completed", ...), and their inverses
// (nullopt for an unknown name).
const char* ToString(RightsRequestKind kind);
const char* ToString(RightsRequestStatus status);
std::optional<RightsRequestKind> ParseRightsRequestKind(const std::string& name);
std::optional<RightsRequestStatus> ParseRightsRequestStatus(const std::string& name);

struct RightsRequest {
  std::string id;  // random, e.g. "rq-..."; unique
  RightsRequestKind kind = RightsRequestKind::kAccess;
  RightsRequestStatus status = RightsRequestStatus::kOpen;
  std::string blind_index;  // empty once unlinked
  absl::Time created;
  absl::Time deadline;
  std::optional<absl::Time> completed;
  // Free text carrying no personal data: a purpose, counts, a reason.
  std::string detail;
};

struct RightsRequestFilter {
  std::optional<RightsRequestStatus> status;  // any when unset
  int64_t limit = 0;                          // 0 = no limit
};

class RightsStore {
 public:
  virtual ~RightsStore() = default;

  // Inserts a new request. InvalidArgument for an empty id;
  // AlreadyExists when the id is taken.
  virtual absl::Status InsertRequest(const RightsRequest& request) = 0;

  // Sets the status, completion time and detail of request `id`.
  // NotFound when absent; FailedPrecondition when it is no longer open.
  virtual absl::Status CloseRequest(const std::string& id, RightsRequestStatus status,
                                    absl::Time completed, const std::string& detail) = 0;

  // NotFound when absent.
  virtual absl::StatusOr<RightsRequest> GetRequest(const std::string& id) = 0;

  // Requests, oldest first (ties by id).
  virtual absl::StatusOr<std::vector<RightsRequest>> ListRequests(
      const RightsRequestFilter& filter) = 0;

  // Clears the blind index of every request of this subject; returns how
  // many were unlinked.
  virtual absl::StatusOr<int64_t> UnlinkSubject(const std::string& blind_index) = 0;

  // Ids of the live subject data keys (crypto::KeyKind::kSubjectDek) named
  // by this blind index, across streams and epochs, including keys of
  // records already unlinked from it. Used by erasure.
  virtual absl::StatusOr<std::vector<int64_t>> ListSubjectKeyIds(
      const std::string& blind_index) = 0;
};

}  // namespace privacity::store

#endif  // PRIVACITY_STORE_RIGHTS_STORE_H_
