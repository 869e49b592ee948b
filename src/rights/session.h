// Citizen sessions: after a citizen proves that identifiers are theirs (a
// claim code, rights/claim.h; later an OIDC/JWT token whose claim lists
// them), they get a short-lived bearer token for their own data only.
//
// Tokens are "pvc_" + 256 random bits in base64url (47 characters), so they
// can never pass for a party token ("pvt_", server/auth.h) nor the other way
// round. They are held in memory only, keyed by their SHA-256 (the map never
// holds a usable token), and the stored hash is compared in constant time.
// A session names its subject by blind indexes only, plus the streams of the
// identifiers it was opened with.
#ifndef PRIVACITY_RIGHTS_SESSION_H_
#define PRIVACITY_RIGHTS_SESSION_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/model.h"
#include "rights/claim.h"
#include "transform/pipeline.h"

namespace privacity::rights {

inline constexpr absl::Duration kCitizenSessionLifetime = absl::Minutes(15);
inline constexpr std::string_view kCitizenTokenPrefix = "pvc_";

// Who a session acts for: one person, by the blind indexes of the
// identifiers they proved (deduplicated, in the order proved).
struct SessionSubject {
  std::vector<std::string> blind_indexes;
  std::vector<std::string> streams;  // streams of the proved identifiers
};

struct CitizenSession {
  SessionSubject subject;
  absl::Time expires;
};

struct IssuedSession {
  std::string token;  // "pvc_..." 47 characters; shown once
  absl::Time expires;
};

struct SessionOptions {
  absl::Duration lifetime = kCitizenSessionLifetime;
  // Live sessions held at most; beyond it expired ones are dropped and, if
  // still full, new sessions are refused (ResourceExhausted).
  size_t max_sessions = 100000;
};

class SessionManager {
 public:
  // REQUIRES: `clock` and `random` outlive the manager; lifetime > 0.
  SessionManager(Clock& clock, RandomSource& random, SessionOptions options = {})
      : clock_(clock), random_(random), options_(options) {}

  // A new token for the subject. InvalidArgument when it has no blind
  // index or an empty one; ResourceExhausted when full.
  absl::StatusOr<IssuedSession> Issue(const SessionSubject& subject);

  // The session of `token`; Unauthenticated when unknown, malformed or
  // expired (an expired session is dropped).
  absl::StatusOr<CitizenSession> Authenticate(std::string_view token);

  // Ends the session (logout). Unknown tokens are ignored.
  void Revoke(std::string_view token);

  // Ends every session naming this blind index (after an erasure).
  void RevokeSubject(const std::string& blind_index);

  // Drops expired sessions; returns how many.
  size_t PruneExpired();

  size_t size() const;

 private:
  Clock& clock_;
  RandomSource& random_;
  const SessionOptions options_;
  mutable absl::Mutex mu_;
  // SHA-256(token) -> session.
  absl::flat_hash_map<std::string, CitizenSession> sessions_ ABSL_GUARDED_BY(mu_);
};

// An identifier whose holder has been verified (by claim code or by a
// trusted token's claim).
struct SubjectIdentifier {
  std::string stream;
  std::string id;  // raw; normalised here, never kept
};

// The seam every way of proving identity ends in: turns verified
// identifiers into a session. NotFound for an unknown stream,
// FailedPrecondition for a stream without subjects, InvalidArgument for an
// empty list or an identifier that normalises to nothing. The identifiers
// themselves are not kept: only their blind indexes.
absl::StatusOr<IssuedSession> OpenSessionForIdentifiers(
    const config::CityConfig& config, const transform::SubjectIndexer& indexer,
    SessionManager& sessions, absl::Span<const SubjectIdentifier> identifiers);

// Verifies the claim (rate-limited, see ClaimVerifier::Verify for errors)
// and issues a session for its subject.
absl::StatusOr<IssuedSession> OpenCitizenSession(ClaimVerifier& verifier,
                                                 SessionManager& sessions,
                                                 const ClaimAttempt& attempt);

}  // namespace privacity::rights

#endif  // PRIVACITY_RIGHTS_SESSION_H_
