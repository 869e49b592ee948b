// Citizen sessions: after a citizen proves an identifier (a claim code,
// rights/claim.h), they get a short-lived bearer token for their own data.
// Tokens are 256 random bits, held in memory only, keyed by their SHA-256
// (so the map never holds a usable token) and checked in constant time.
// A session names the subject by blind index only. JWT/OIDC comes later.
#ifndef PRIVACITY_RIGHTS_SESSION_H_
#define PRIVACITY_RIGHTS_SESSION_H_

#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/random.h"
#include "rights/claim.h"

namespace privacity::rights {

inline constexpr absl::Duration kCitizenSessionLifetime = absl::Minutes(15);

struct CitizenSession {
  std::string blind_index;
  absl::Time expires;
};

struct IssuedSession {
  std::string token;  // base64url, 43 characters; shown once
  absl::Time expires;
};

class SessionManager {
 public:
  // REQUIRES: `clock` and `random` outlive the manager; lifetime > 0.
  SessionManager(Clock& clock, RandomSource& random,
                 absl::Duration lifetime = kCitizenSessionLifetime)
      : clock_(clock), random_(random), lifetime_(lifetime) {}

  // A new token for the subject. InvalidArgument for an empty blind index.
  absl::StatusOr<IssuedSession> Issue(const std::string& blind_index);

  // The session of `token`; Unauthenticated when unknown, malformed or
  // expired (an expired session is dropped).
  absl::StatusOr<CitizenSession> Authenticate(std::string_view token);

  // Ends the session (logout). Unknown tokens are ignored.
  void Revoke(std::string_view token);

  // Ends every session of the subject (after an erasure).
  void RevokeSubject(const std::string& blind_index);

  // Drops expired sessions; returns how many. Call now and then.
  size_t PruneExpired();

  size_t size() const;

 private:
  Clock& clock_;
  RandomSource& random_;
  const absl::Duration lifetime_;
  mutable absl::Mutex mu_;
  // SHA-256(token) -> session.
  absl::flat_hash_map<std::string, CitizenSession> sessions_ ABSL_GUARDED_BY(mu_);
};

// Verifies the claim (rate-limited, see ClaimVerifier::Verify for errors)
// and issues a session for its subject.
absl::StatusOr<IssuedSession> OpenCitizenSession(ClaimVerifier& verifier,
                                                 SessionManager& sessions,
                                                 const ClaimAttempt& attempt);

}  // namespace privacity::rights

#endif  // PRIVACITY_RIGHTS_SESSION_H_
