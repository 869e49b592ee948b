// What every view does to a stored record before releasing anything from
// it: check the subject's consent or objection, and open the payload with
// the subject's data key. Shared by the records, extract and aggregate views.
#ifndef PRIVACITY_SERVER_RECORD_ACCESS_H_
#define PRIVACITY_SERVER_RECORD_ACCESS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/status_macros.h"
#include "config/model.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "policy/decision.h"
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

// True when `record` must be withheld under `ob`: the purpose needs consent
// the subject has not granted, or the subject objected. A record no longer
// linked to its subject cannot show consent.
inline absl::StatusOr<bool> Withheld(const config::Stream& stream,
                                     const policy::Obligations& ob,
                                     const store::StoredRecord& record,
                                     ConsentCache& consent) {
  if (!stream.personal() || !(ob.consent_required || ob.exclude_objectors)) return false;
  SubjectConsent state = SubjectConsent::kNone;
  if (!record.blind_index.empty()) {
    ASSIGN_OR_RETURN(state, consent.Get(record.blind_index));
  }
  return (ob.consent_required && state != SubjectConsent::kGranted) ||
         (ob.exclude_objectors && state == SubjectConsent::kObjected);
}

// Opens payloads of one stream, keeping each data key it unwrapped.
class PayloadOpener {
 public:
  // REQUIRES: `keyring` and `stream` outlive the opener.
  PayloadOpener(crypto::Keyring& keyring, const config::Stream& stream)
      : keyring_(keyring), stream_(stream) {}

  // The plaintext of `record`; nullopt when its subject's key was
  // destroyed (erasure: the record is gone).
  absl::StatusOr<std::optional<std::string>> Open(const store::StoredRecord& record);

  // Whether `record`'s data key still exists (always for plain records),
  // without opening the payload: for views that read only its columns.
  absl::StatusOr<bool> KeyExists(const store::StoredRecord& record);

 private:
  crypto::Keyring& keyring_;
  const config::Stream& stream_;
  absl::flat_hash_map<int64_t, std::unique_ptr<crypto::Aead>> data_keys_;
};

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_RECORD_ACCESS_H_
