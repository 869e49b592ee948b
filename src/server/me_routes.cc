#include "server/me_routes.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "auth/jwt.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "nlohmann/json.hpp"
#include "rights/accesses.h"
#include "rights/consent.h"
#include "rights/erasure.h"
#include "rights/subject_data.h"
#include "server/error_mapping.h"
#include "spdlog/spdlog.h"

namespace privacity::server {
namespace {

using nlohmann::json;

constexpr size_t kMaxStreamBytes = 200;
constexpr size_t kMaxIdentifierBytes = 256;
constexpr size_t kMaxCodeBytes = 64;

HttpResponse JsonOk(const json& body) {
  HttpResponse r;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

// A 5xx for a failure of the trust itself: logged without request data.
HttpResponse TrustFailure(std::string_view what, const absl::Status& status) {
  spdlog::error("{} failed: {}", what, std::string(status.message()));
  return ErrorResponse(status);
}

// Parses a citizen body: a JSON object of at most `max_bytes`. Returns the
// object or fills `error` with the 400/413 naming what is wrong.
std::optional<json> ParseBody(const HttpRequest& request, size_t max_bytes,
                              HttpResponse& error) {
  if (request.body.size() > max_bytes) {
    error = ErrorResponse(413, "body-too-large",
                          absl::StrCat("the body is larger than ", max_bytes, " bytes"));
    return std::nullopt;
  }
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    error = ErrorResponse(400, "malformed-json", "the body is not valid JSON");
    return std::nullopt;
  }
  if (!body.is_object()) {
    error = ErrorResponse(400, "invalid-argument", "the body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

// Reads string member `name` (required), at most `max_bytes` long.
std::optional<std::string> StringMember(const json& body, const char* name,
                                        size_t max_bytes, HttpResponse& error) {
  const auto it = body.find(name);
  if (it == body.end()) {
    error = ErrorResponse(400, "invalid-argument",
                          absl::StrCat("member '", name, "' is required"));
    return std::nullopt;
  }
  if (!it->is_string()) {
    error = ErrorResponse(400, "invalid-argument",
                          absl::StrCat("member '", name, "' must be a string"));
    return std::nullopt;
  }
  std::string value = it->get<std::string>();
  if (value.empty() || value.size() > max_bytes) {
    error = ErrorResponse(
        400, "invalid-argument",
        absl::StrCat("member '", name, "' must be 1 to ", max_bytes, " bytes"));
    return std::nullopt;
  }
  return value;
}

// Members other than `allowed` are refused (the names are not echoed).
bool OnlyMembers(const json& body, std::initializer_list<std::string_view> allowed,
                 HttpResponse& error) {
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) {
        absl::StrAppend(&list, list.empty() ? "" : ", ", std::string(a));
      }
      error = ErrorResponse(400, "invalid-argument",
                            absl::StrCat("the body has an unknown member; expected ",
                                         list.empty() ? "none" : list));
      return false;
    }
  }
  return true;
}

json ConsentStateName(const std::optional<store::ConsentState>& state) {
  if (!state.has_value()) return nullptr;
  switch (*state) {
    case store::ConsentState::kGranted:
      return "granted";
    case store::ConsentState::kWithdrawn:
      return "withdrawn";
    case store::ConsentState::kObjected:
      return "objected";
  }
  return nullptr;
}

std::string DayStamp(absl::Time t) {
  return absl::FormatTime("%Y%m%d", t, absl::UTCTimeZone());
}

}  // namespace

// --- Retention ----------------------------------------------------------------

absl::StatusOr<rights::SweepResult> RunRetentionSweep(Trust& trust) {
  AuditRightsLog log(trust.audit());
  return rights::SweepRetention(trust.config(), trust.store(), trust.keyring(),
                                trust.clock(), trust.random(), log);
}

absl::StatusOr<std::optional<rights::SweepResult>> PeriodicSweeper::MaybeSweep() {
  const absl::Time now = trust_.clock().Now();
  if (now < next_due_) return std::optional<rights::SweepResult>();
  ASSIGN_OR_RETURN(rights::SweepResult result, RunRetentionSweep(trust_));
  next_due_ = now + interval_;
  return std::optional<rights::SweepResult>(std::move(result));
}

// --- Citizen service -------------------------------------------------------------

CitizenService::CitizenService(Trust& trust, MeRoutesOptions options,
                               std::unique_ptr<rights::ClaimVerifier> verifier,
                               std::unique_ptr<transform::SubjectIndexer> indexer)
    : trust_(trust),
      options_(options),
      log_(trust.audit()),
      desk_(trust.store().rights(), trust.clock(), trust.random(), log_),
      verifier_(std::move(verifier)),
      indexer_(std::move(indexer)),
      sessions_(trust.clock(), trust.random(), options.sessions) {}

absl::StatusOr<std::unique_ptr<CitizenService>> CitizenService::Create(
    Trust& trust, MeRoutesOptions options) {
  if (options.sessions.lifetime <= absl::ZeroDuration() ||
      options.sessions.max_sessions == 0 || options.max_body_bytes == 0) {
    return absl::InvalidArgumentError(
        "citizen routes: session lifetime, session cap and body limit must be positive");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<rights::ClaimVerifier> verifier,
                   rights::ClaimVerifier::Create(trust.config(), trust.keyring(),
                                                 trust.clock(), options.claim_limits));
  ASSIGN_OR_RETURN(std::unique_ptr<transform::SubjectIndexer> indexer,
                   transform::SubjectIndexer::Create(trust.keyring()));
  return std::unique_ptr<CitizenService>(
      new CitizenService(trust, options, std::move(verifier), std::move(indexer)));
}

absl::StatusOr<rights::IssuedSession> CitizenService::OpenSession(
    absl::Span<const rights::SubjectIdentifier> identifiers) {
  return rights::OpenSessionForIdentifiers(trust_.config(), *indexer_, sessions_,
                                           identifiers);
}

namespace {

// The bearer token of `request`, or nullopt when there is none.
std::optional<std::string> BearerToken(const HttpRequest& request) {
  const std::string header = request.Header("authorization");
  constexpr std::string_view kBearer = "bearer ";
  if (header.size() <= kBearer.size() ||
      !absl::EqualsIgnoreCase(absl::string_view(header).substr(0, kBearer.size()),
                              absl::string_view(kBearer.data(), kBearer.size()))) {
    return std::nullopt;
  }
  return std::string(
      absl::StripAsciiWhitespace(absl::string_view(header).substr(kBearer.size())));
}

}  // namespace

absl::StatusOr<rights::CitizenSession> CitizenService::Authenticate(
    const HttpRequest& request, HttpResponse& error) {
  const std::optional<std::string> token = BearerToken(request);
  if (!token) {
    error = ErrorResponse(401, "unauthenticated",
                          "a citizen token is required: open a session at "
                          "POST /v1/me/session");
    return absl::UnauthenticatedError("no token");
  }
  absl::StatusOr<rights::CitizenSession> session = sessions_.Authenticate(*token);
  if (!session.ok()) {
    error = ErrorResponse(401, "unauthenticated",
                          "unknown or expired citizen token (party tokens are not "
                          "accepted here)");
  }
  return session;
}

HttpResponse CitizenService::SessionCreated(const rights::IssuedSession& issued,
                                            const std::vector<std::string>& streams) {
  HttpResponse r =
      JsonOk({{"token", issued.token},
              {"token_type", "Bearer"},
              {"expires", FormatTimestamp(issued.expires)},
              {"expires_in", absl::ToInt64Seconds(issued.expires - trust_.clock().Now())},
              {"streams", streams}});
  r.status = 201;
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse CitizenService::PostJwtSession(std::string_view jwt) {
  if (options_.oidc == nullptr) {
    return ErrorResponse(401, "unauthenticated",
                         "this city accepts no identity-provider tokens (no 'oidc' "
                         "section): open a session with a claim code");
  }
  absl::StatusOr<std::vector<auth::SubjectIdentifier>> verified =
      options_.oidc->VerifyCitizenJwt(jwt);
  if (!verified.ok()) {
    // The verifier's messages never carry the token or a claim value.
    if (absl::IsPermissionDenied(verified.status())) {
      return ErrorResponse(403, "no-identifiers",
                           std::string(verified.status().message()));
    }
    return ErrorResponse(401, "unauthenticated",
                         std::string(verified.status().message()));
  }
  std::vector<rights::SubjectIdentifier> identifiers;
  std::vector<std::string> streams;
  for (auth::SubjectIdentifier& id : *verified) {
    if (std::find(streams.begin(), streams.end(), id.stream) == streams.end()) {
      streams.push_back(id.stream);
    }
    identifiers.push_back({std::move(id.stream), std::move(id.id)});
  }
  absl::StatusOr<rights::IssuedSession> issued = OpenSession(identifiers);
  if (!issued.ok()) return TrustFailure("opening a citizen session", issued.status());
  return SessionCreated(*issued, streams);
}

HttpResponse CitizenService::PostSession(const RouteRequest& request) {
  // A token from the city's identity provider stands in for a claim code.
  if (std::optional<std::string> bearer = BearerToken(request.http);
      bearer && auth::LooksLikeJwt(*bearer)) {
    return PostJwtSession(*bearer);
  }
  HttpResponse error;
  std::optional<json> body = ParseBody(request.http, options_.max_body_bytes, error);
  if (!body) return error;
  if (!OnlyMembers(*body, {"stream", "id", "code"}, error)) return error;
  std::optional<std::string> stream =
      StringMember(*body, "stream", kMaxStreamBytes, error);
  if (!stream) return error;
  std::optional<std::string> id = StringMember(*body, "id", kMaxIdentifierBytes, error);
  if (!id) return error;
  std::optional<std::string> code = StringMember(*body, "code", kMaxCodeBytes, error);
  if (!code) return error;

  rights::ClaimAttempt attempt{*stream, *id, *code, request.http.remote_address};
  absl::StatusOr<std::string> verified = verifier_->Verify(attempt);
  if (!verified.ok()) {
    const absl::Status& s = verified.status();
    switch (s.code()) {
      case absl::StatusCode::kNotFound:
        return ErrorResponse(404, "unknown-stream",
                             "no stream of this name is configured");
      case absl::StatusCode::kFailedPrecondition:
        return ErrorResponse(422, "no-subjects", "this stream has no data subjects");
      case absl::StatusCode::kInvalidArgument:
        return ErrorResponse(400, "malformed-code", std::string(s.message()));
      case absl::StatusCode::kPermissionDenied:
        return ErrorResponse(403, "wrong-code",
                             "the claim code does not match this identifier");
      case absl::StatusCode::kResourceExhausted: {
        HttpResponse r =
            ErrorResponse(429, "too-many-attempts", std::string(s.message()));
        const int64_t retry = rights::RetryAfterSeconds(s).value_or(60);
        r.headers.emplace_back("Retry-After", absl::StrCat(std::max<int64_t>(1, retry)));
        return r;
      }
      default:
        return TrustFailure("claim verification", s);
    }
  }
  const rights::SubjectIdentifier identifier{*stream, *id};
  absl::StatusOr<rights::IssuedSession> issued = OpenSession({&identifier, 1});
  if (!issued.ok()) {
    if (absl::IsResourceExhausted(issued.status())) {
      HttpResponse r = ErrorResponse(issued.status());
      r.headers.emplace_back("Retry-After", "60");
      return r;
    }
    return TrustFailure("opening a citizen session", issued.status());
  }
  return SessionCreated(*issued, {*stream});
}

HttpResponse CitizenService::DeleteSession(const RouteRequest& request) {
  HttpResponse error;
  if (!Authenticate(request.http, error).ok()) return error;
  sessions_.Revoke(*BearerToken(request.http));
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

HttpResponse CitizenService::GetRecords(const RouteRequest& request) {
  HttpResponse error;
  absl::StatusOr<rights::CitizenSession> session = Authenticate(request.http, error);
  if (!session.ok()) return error;
  absl::StatusOr<rights::SubjectData> data = rights::ServeSubjectData(
      trust_.store(), trust_.keyring(), desk_, session->subject.blind_indexes,
      store::RightsRequestKind::kAccess);
  if (!data.ok()) return TrustFailure("reading a subject's records", data.status());
  HttpResponse r;
  r.body = rights::ExportJson(*data, trust_.clock().Now());
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse CitizenService::GetExport(const RouteRequest& request) {
  HttpResponse error;
  absl::StatusOr<rights::CitizenSession> session = Authenticate(request.http, error);
  if (!session.ok()) return error;
  std::string format = request.Query("format");
  if (format.empty()) format = "json";
  if (format != "json" && format != "csv") {
    return ErrorResponse(400, "invalid-argument",
                         "the query parameter 'format' must be json or csv");
  }
  absl::StatusOr<rights::SubjectData> data = rights::ServeSubjectData(
      trust_.store(), trust_.keyring(), desk_, session->subject.blind_indexes,
      store::RightsRequestKind::kExport);
  if (!data.ok()) return TrustFailure("exporting a subject's records", data.status());
  const absl::Time now = trust_.clock().Now();
  HttpResponse r;
  if (format == "json") {
    r.body = rights::ExportJson(*data, now);
  } else {
    absl::StatusOr<std::vector<rights::CsvFile>> files = rights::ExportCsv(*data);
    if (!files.ok()) return TrustFailure("exporting CSV", files.status());
    r.content_type = "text/csv; charset=utf-8";
    r.body = rights::CsvSections(*files);
  }
  r.headers.emplace_back("Content-Disposition",
                         absl::StrCat("attachment; filename=\"privacity-export-",
                                      DayStamp(now), ".", format, "\""));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse CitizenService::GetAccesses(const RouteRequest& request) {
  HttpResponse error;
  absl::StatusOr<rights::CitizenSession> session = Authenticate(request.http, error);
  if (!session.ok()) return error;
  absl::StatusOr<std::vector<rights::RecordPlace>> places =
      rights::SubjectPlaces(trust_.store(), session->subject.blind_indexes);
  if (!places.ok()) return TrustFailure("finding a subject's records", places.status());
  absl::StatusOr<audit::LogFrontier> head = trust_.audit().storage().ReadFrontier();
  if (!head.ok()) return TrustFailure("reading the log head", head.status());
  absl::StatusOr<std::vector<rights::Access>> accesses =
      rights::ListAccesses(trust_.audit().storage(), head->size, *places);
  if (!accesses.ok()) return TrustFailure("listing accesses", accesses.status());
  json list = json::array();
  for (const rights::Access& a : *accesses) {
    json j = {{"log_index", a.log_index},
              {"time", FormatTimestamp(a.time)},
              {"party", a.party},
              {"purpose", a.purpose},
              {"stream", a.stream},
              {"level", a.level},
              {"from", a.from ? json(FormatTimestamp(*a.from)) : json(nullptr)},
              {"to", a.to ? json(FormatTimestamp(*a.to)) : json(nullptr)},
              {"area", a.area},
              {"rows", a.rows},
              {"records_covered", a.records_covered}};
    if (const config::Party* p = trust_.config().FindParty(a.party); p != nullptr) {
      j["party_name"] = p->name;
    }
    if (const config::Purpose* p = trust_.config().FindPurpose(a.purpose); p != nullptr) {
      j["purpose_description"] = p->description;
    }
    list.push_back(std::move(j));
  }
  HttpResponse r = JsonOk({{"log_size", head->size}, {"accesses", std::move(list)}});
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse CitizenService::GetConsents(const RouteRequest& request) {
  HttpResponse error;
  absl::StatusOr<rights::CitizenSession> session = Authenticate(request.http, error);
  if (!session.ok()) return error;
  absl::StatusOr<std::vector<rights::PurposeState>> states = rights::CurrentConsents(
      trust_.config(), trust_.store(), session->subject.blind_indexes.front());
  if (!states.ok()) return TrustFailure("reading consents", states.status());
  json list = json::array();
  for (const rights::PurposeState& s : *states) {
    const config::Purpose* p = trust_.config().FindPurpose(s.purpose);
    list.push_back(
        {{"purpose", s.purpose},
         {"description", p != nullptr ? json(p->description) : json(nullptr)},
         {"legal_basis", std::string(config::ToString(s.legal_basis))},
         {"mandatory", s.mandatory},
         {"state", ConsentStateName(s.state)},
         {"since", s.since ? json(FormatTimestamp(*s.since)) : json(nullptr)}});
  }
  HttpResponse r = JsonOk({{"consents", std::move(list)}});
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse CitizenService::PutConsent(const RouteRequest& request) {
  HttpResponse error;
  absl::StatusOr<rights::CitizenSession> session = Authenticate(request.http, error);
  if (!session.ok()) return error;
  const std::string& purpose = request.Param("purpose");
  if (trust_.config().FindPurpose(purpose) == nullptr) {
    return ErrorResponse(404, "unknown-purpose", "no purpose of this name is declared");
  }
  std::optional<json> body = ParseBody(request.http, options_.max_body_bytes, error);
  if (!body) return error;
  if (!OnlyMembers(*body, {"action"}, error)) return error;
  std::optional<std::string> action_name = StringMember(*body, "action", 16, error);
  if (!action_name) return error;
  std::optional<rights::ConsentAction> action = rights::ParseConsentAction(*action_name);
  if (!action) {
    return ErrorResponse(400, "invalid-argument",
                         "member 'action' must be grant, withdraw or object");
  }
  json request_ids = json::array();
  uint64_t log_index = 0;
  std::optional<rights::ConsentResult> last;
  for (const std::string& bi : session->subject.blind_indexes) {
    absl::StatusOr<rights::ConsentResult> changed = rights::ChangeConsent(
        trust_.config(), trust_.store(), desk_, trust_.clock(), bi,
        rights::ConsentChange{.purpose = purpose, .action = *action, .source = "portal"});
    if (!changed.ok()) {
      if (absl::IsFailedPrecondition(changed.status())) {
        return ErrorResponse(422, "consent-not-applicable",
                             std::string(changed.status().message()));
      }
      return TrustFailure("changing consent", changed.status());
    }
    request_ids.push_back(changed->request_id);
    log_index = changed->log_index;
    last = *std::move(changed);
  }
  return JsonOk({{"purpose", purpose},
                 {"action", std::string(rights::ToString(*action))},
                 {"state", ConsentStateName(last->event.state)},
                 {"time", FormatTimestamp(last->event.time)},
                 {"request_ids", request_ids},
                 {"log_index", log_index}});
}

HttpResponse CitizenService::PostErasure(const RouteRequest& request) {
  HttpResponse error;
  absl::StatusOr<rights::CitizenSession> session = Authenticate(request.http, error);
  if (!session.ok()) return error;
  // No options yet: the body is empty or {}.
  if (!absl::StripAsciiWhitespace(request.http.body).empty()) {
    std::optional<json> body = ParseBody(request.http, options_.max_body_bytes, error);
    if (!body) return error;
    if (!OnlyMembers(*body, {}, error)) return error;
  }
  absl::StatusOr<rights::ErasureReceipt> receipt =
      rights::EraseSubject(trust_.store(), trust_.keyring(), desk_, trust_.clock(),
                           session->subject.blind_indexes);
  if (!receipt.ok()) return TrustFailure("erasure", receipt.status());
  // Nothing is left to see: every session of this person ends.
  for (const std::string& bi : session->subject.blind_indexes) {
    sessions_.RevokeSubject(bi);
  }
  return JsonOk(json::parse(rights::ErasureReceiptJson(*receipt)));
}

absl::StatusOr<std::shared_ptr<CitizenService>> RegisterMeRoutes(
    Router& router, Trust& trust, MeRoutesOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<CitizenService> created,
                   CitizenService::Create(trust, options));
  std::shared_ptr<CitizenService> service = std::move(created);
  auto bind = [service](HttpResponse (CitizenService::*fn)(const RouteRequest&)) {
    return [service, fn](const RouteRequest& r) { return ((*service).*fn)(r); };
  };
  // Open to the party authenticator: each handler checks the citizen token.
  constexpr RouteAccess kCitizen = RouteAccess::kOpen;
  RETURN_IF_ERROR(
      router.Add("POST", "/v1/me/session", bind(&CitizenService::PostSession), kCitizen));
  RETURN_IF_ERROR(router.Add("DELETE", "/v1/me/session",
                             bind(&CitizenService::DeleteSession), kCitizen));
  RETURN_IF_ERROR(
      router.Add("GET", "/v1/me/records", bind(&CitizenService::GetRecords), kCitizen));
  RETURN_IF_ERROR(
      router.Add("GET", "/v1/me/export", bind(&CitizenService::GetExport), kCitizen));
  RETURN_IF_ERROR(
      router.Add("GET", "/v1/me/accesses", bind(&CitizenService::GetAccesses), kCitizen));
  RETURN_IF_ERROR(
      router.Add("GET", "/v1/me/consents", bind(&CitizenService::GetConsents), kCitizen));
  RETURN_IF_ERROR(router.Add("PUT", "/v1/me/consents/{purpose}",
                             bind(&CitizenService::PutConsent), kCitizen));
  RETURN_IF_ERROR(
      router.Add("POST", "/v1/me/erasure", bind(&CitizenService::PostErasure), kCitizen));
  return service;
}

}  // namespace privacity::server
