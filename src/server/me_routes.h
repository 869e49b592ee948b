// The citizen API (/v1/me/...) and the rights glue over a Trust: the
// transparency-log sink for rights leaves and the retention sweeper that
// `privacity serve` runs periodically and `privacity subject sweep` once.
//
//   POST   /v1/me/session            {"stream","id","code"} -> citizen token
//   DELETE /v1/me/session            ends the session
//   GET    /v1/me/records            the subject's records, opened for them
//   GET    /v1/me/export?format=json|csv   the same as a download
//   GET    /v1/me/accesses           decisions that may have covered them
//   GET    /v1/me/consents           the current state per purpose
//   PUT    /v1/me/consents/{purpose} {"action":"grant"|"withdraw"|"object"}
//   POST   /v1/me/erasure            erasure receipt
//
// These routes are registered as open to the party authenticator and check
// the citizen token themselves: a party token ("pvt_") is refused here and a
// citizen token ("pvc_") is refused on party routes. Details and errors:
// docs/http.md and docs/rights.md.
#ifndef PRIVACITY_SERVER_ME_ROUTES_H_
#define PRIVACITY_SERVER_ME_ROUTES_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "auth/oidc.h"
#include "rights/claim.h"
#include "rights/requests.h"
#include "rights/retention.h"
#include "rights/rights_log.h"
#include "rights/session.h"
#include "server/audit_trail.h"
#include "server/routes.h"
#include "server/trust.h"

namespace privacity::server {

// Rights leaves go to the trust's transparency log.
class AuditRightsLog final : public rights::RightsLog {
 public:
  // REQUIRES: `trail` outlives this.
  explicit AuditRightsLog(AuditTrail& trail) : trail_(trail) {}
  absl::StatusOr<uint64_t> Append(const audit::RightsActionLeaf& leaf) override {
    return trail_.Append(leaf);
  }
  absl::StatusOr<uint64_t> Append(const audit::RetentionLeaf& leaf) override {
    return trail_.Append(leaf);
  }

 private:
  AuditTrail& trail_;
};

// One retention sweep over the trust (rights/retention.h), its leaves in
// the trust's log.
absl::StatusOr<rights::SweepResult> RunRetentionSweep(Trust& trust);

// Runs RunRetentionSweep when due: at the first call, then every
// `interval` by the trust's clock. Not thread-safe (one caller: the
// server's background loop).
class PeriodicSweeper {
 public:
  // REQUIRES: `trust` outlives the sweeper; interval > 0.
  PeriodicSweeper(Trust& trust, absl::Duration interval)
      : trust_(trust), interval_(interval) {}

  // The sweep's result when one ran, nullopt when none was due. After a
  // failed sweep the next call retries.
  absl::StatusOr<std::optional<rights::SweepResult>> MaybeSweep();

 private:
  Trust& trust_;
  const absl::Duration interval_;
  absl::Time next_due_ = absl::InfinitePast();
};

inline constexpr absl::Duration kRetentionSweepInterval = absl::Hours(1);

struct MeRoutesOptions {
  rights::FailureLimitOptions claim_limits;
  rights::SessionOptions sessions;
  size_t max_body_bytes = 4096;  // citizen bodies are tiny
  // Verifies citizen JWTs at POST /v1/me/session; null when the city has no
  // oidc section (then only claim codes open sessions).
  const auth::OidcVerifier* oidc = nullptr;
};

class CitizenService {
 public:
  // REQUIRES: `trust` outlives the service.
  static absl::StatusOr<std::unique_ptr<CitizenService>> Create(Trust& trust,
                                                                MeRoutesOptions options);

  // The seam every proof of identity ends in (claim code here; a verified
  // JWT's identifiers claim later): a session for these identifiers.
  absl::StatusOr<rights::IssuedSession> OpenSession(
      absl::Span<const rights::SubjectIdentifier> identifiers);

  rights::SessionManager& sessions() { return sessions_; }

  HttpResponse PostSession(const RouteRequest& request);
  HttpResponse DeleteSession(const RouteRequest& request);
  HttpResponse GetRecords(const RouteRequest& request);
  HttpResponse GetExport(const RouteRequest& request);
  HttpResponse GetAccesses(const RouteRequest& request);
  HttpResponse GetConsents(const RouteRequest& request);
  HttpResponse PutConsent(const RouteRequest& request);
  HttpResponse PostErasure(const RouteRequest& request);

 private:
  CitizenService(Trust& trust, MeRoutesOptions options,
                 std::unique_ptr<rights::ClaimVerifier> verifier,
                 std::unique_ptr<transform::SubjectIndexer> indexer);
  // The citizen session of the request's bearer token, or the 401 to send.
  absl::StatusOr<rights::CitizenSession> Authenticate(const HttpRequest& request,
                                                      HttpResponse& error);
  // POST /v1/me/session with a JWT bearer instead of a claim code.
  HttpResponse PostJwtSession(std::string_view jwt);
  // The 201 answer for a new session covering `streams`.
  HttpResponse SessionCreated(const rights::IssuedSession& issued,
                              const std::vector<std::string>& streams);

  Trust& trust_;
  const MeRoutesOptions options_;
  AuditRightsLog log_;
  rights::RequestsDesk desk_;
  std::unique_ptr<rights::ClaimVerifier> verifier_;
  std::unique_ptr<transform::SubjectIndexer> indexer_;
  rights::SessionManager sessions_;
};

// Registers the /v1/me routes on `router`. The service is shared by the
// handlers (and returned, for tests and the JWT seam).
absl::StatusOr<std::shared_ptr<CitizenService>> RegisterMeRoutes(
    Router& router, Trust& trust, MeRoutesOptions options = {});

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_ME_ROUTES_H_
