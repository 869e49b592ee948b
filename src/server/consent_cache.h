// The consent state of subjects for one purpose, read once per subject per
// request: the latest event for the purpose wins.
#ifndef PRIVACITY_SERVER_CONSENT_CACHE_H_
#define PRIVACITY_SERVER_CONSENT_CACHE_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/status_macros.h"
#include "store/store.h"

namespace privacity::server {

enum class SubjectConsent { kNone, kGranted, kWithdrawn, kObjected };

class ConsentCache {
 public:
  // REQUIRES: `store` outlives the cache.
  ConsentCache(store::Store& store, std::string purpose)
      : store_(store), purpose_(std::move(purpose)) {}

  absl::StatusOr<SubjectConsent> Get(const std::string& blind_index) {
    auto it = cache_.find(blind_index);
    if (it != cache_.end()) return it->second;
    ASSIGN_OR_RETURN(std::vector<store::ConsentEvent> history,
                     store_.ConsentHistory(blind_index));
    SubjectConsent state = SubjectConsent::kNone;
    absl::Time latest = absl::InfinitePast();
    for (const store::ConsentEvent& e : history) {
      if (e.purpose != purpose_ || e.time < latest) continue;
      latest = e.time;
      switch (e.state) {
        case store::ConsentState::kGranted:
          state = SubjectConsent::kGranted;
          break;
        case store::ConsentState::kWithdrawn:
          state = SubjectConsent::kWithdrawn;
          break;
        case store::ConsentState::kObjected:
          state = SubjectConsent::kObjected;
          break;
      }
    }
    cache_.emplace(blind_index, state);
    return state;
  }

 private:
  store::Store& store_;
  std::string purpose_;
  absl::flat_hash_map<std::string, SubjectConsent> cache_;
};

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_CONSENT_CACHE_H_
