#include "server/routes.h"

#include <algorithm>
#include <exception>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "ingest/ingester.h"
#include "nlohmann/json.hpp"
#include "policy/decision.h"
#include "server/aggregate_view.h"
#include "server/dpia_routes.h"
#include "server/error_mapping.h"
#include "server/log_routes.h"
#include "server/me_routes.h"
#include "server/ngsi_routes.h"
#include "server/oidc_setup.h"
#include "server/records_view.h"
#include "server/register_routes.h"
#include "server/release_routes.h"
#include "spdlog/spdlog.h"

namespace privacity::server {
namespace {

using nlohmann::json;

constexpr char kUnmatched[] = "unmatched";

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

HttpResponse JsonResponse(const json& j, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = Dump(j);
  return r;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  size_t start = 1;
  while (true) {
    const size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(start));
      return out;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

bool IsRest(std::string_view segment) {
  return segment.size() > 5 && segment.front() == '{' && segment.ends_with("...}");
}

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' &&
        c != '.') {
      return false;
    }
  }
  return true;
}

// Methods outside this set are counted and logged as "OTHER", so a client
// cannot grow the metric labels.
std::string_view MethodLabel(std::string_view method) {
  for (std::string_view m :
       {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}) {
    if (method == m) return m;
  }
  return "OTHER";
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::string> Iso(const std::optional<absl::Time>& t) {
  if (!t.has_value()) return std::nullopt;
  return FormatTimestamp(*t);
}

json OptionalString(const std::optional<std::string>& s) {
  return s.has_value() ? json(*s) : json(nullptr);
}

json DescribeTransform(const config::Transform& t) {
  json j = {{"kind", std::string(config::ToString(t.kind))}};
  switch (t.kind) {
    case config::TransformKind::kTimeBucket:
      j["bucket"] = FormatDurationSpec(t.bucket);
      break;
    case config::TransformKind::kCell:
      j["cell_level"] = t.cell_level;
      break;
    case config::TransformKind::kRound:
      j["step"] = t.step;
      break;
    case config::TransformKind::kClamp:
      if (t.min.has_value()) j["min"] = *t.min;
      if (t.max.has_value()) j["max"] = *t.max;
      break;
    case config::TransformKind::kTruncate:
      j["length"] = t.length;
      break;
    case config::TransformKind::kMap:
      j["level"] = t.level;
      break;
    case config::TransformKind::kRedact: {
      json patterns = json::array();
      for (config::RedactPattern p : t.patterns)
        patterns.push_back(std::string(config::ToString(p)));
      j["patterns"] = patterns;
      break;
    }
    default:
      break;
  }
  return j;
}

absl::StatusOr<ingest::InputFormat> BodyFormat(const HttpRequest& request) {
  std::string type = request.Header("content-type");
  type = type.substr(0, type.find(';'));
  absl::AsciiStrToLower(&type);
  absl::StripAsciiWhitespace(&type);
  if (type.empty()) return ingest::InputFormat::kAuto;
  if (type == "application/x-ndjson" || type == "application/ndjson") {
    return ingest::InputFormat::kNdjson;
  }
  if (type == "application/json") return ingest::InputFormat::kJsonArray;
  return absl::InvalidArgumentError(
      "unsupported Content-Type: send application/x-ndjson or application/json");
}

// The 1-based byte offset of the first JSON syntax error in `body` when no
// record of it is JSON at all (every NDJSON line, or the whole array, fails
// to parse); nullopt otherwise. Only called after an ingest accepted
// nothing, so the second parse costs nothing on the good path.
std::optional<size_t> MalformedJsonOffset(std::string_view body,
                                          ingest::InputFormat format) {
  auto first_error = [](std::string_view text) -> std::optional<size_t> {
    try {
      (void)json::parse(text.begin(), text.end());
      return std::nullopt;
    } catch (const json::parse_error& e) {
      return e.byte;
    }
  };
  const size_t start = body.find_first_not_of(" \t\r\n");
  const bool array = format == ingest::InputFormat::kJsonArray ||
                     (format == ingest::InputFormat::kAuto &&
                      start != std::string_view::npos && body[start] == '[');
  if (array) return first_error(body);
  std::optional<size_t> first;
  size_t line_start = 0;
  while (line_start < body.size()) {
    size_t end = body.find('\n', line_start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = body.substr(line_start, end - line_start);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
      std::optional<size_t> error = first_error(line);
      if (!error.has_value())
        return std::nullopt;  // a record parsed: not malformed as a whole
      if (!first.has_value()) first = line_start + *error;
    }
    line_start = end + 1;
  }
  return first;
}

}  // namespace

// --- Router ---------------------------------------------------------------

bool Router::IsOpenPath(std::string_view pattern) {
  return pattern.rfind("/public/", 0) == 0 || pattern.rfind("/log/", 0) == 0 ||
         pattern == "/healthz" || pattern == "/metrics" || pattern == "/openapi.json";
}

absl::Status Router::Add(std::string method, std::string pattern, RouteHandler handler,
                         RouteAccess access) {
  if (method.empty() || !std::all_of(method.begin(), method.end(),
                                     [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return absl::InvalidArgumentError("route: the method must be upper-case letters");
  }
  if (!handler) return absl::InvalidArgumentError("route: no handler");
  std::vector<std::string_view> parts = SplitPath(pattern);
  if (parts.empty())
    return absl::InvalidArgumentError("route: the pattern must start with '/'");
  Route route;
  for (size_t p = 0; p < parts.size(); ++p) {
    const std::string_view part = parts[p];
    if (IsRest(part)) {
      if (p + 1 != parts.size() || !ValidName(part.substr(1, part.size() - 5))) {
        return absl::InvalidArgumentError(
            absl::StrCat("route ", pattern, ": {name...} must be a valid last segment"));
      }
      route.rest = true;
    } else if (IsParam(part)) {
      if (!ValidName(part.substr(1, part.size() - 2))) {
        return absl::InvalidArgumentError(
            absl::StrCat("route ", pattern, ": bad parameter name"));
      }
    } else {
      if (part.empty() || part.find_first_of("{}") != std::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("route ", pattern, ": empty segment or stray brace"));
      }
      ++route.literals;
    }
    route.segments.emplace_back(part);
  }
  for (const Route& r : routes_) {
    if (r.method == method && r.segments.size() == route.segments.size()) {
      bool same = true;
      for (size_t i = 0; same && i < r.segments.size(); ++i) {
        same = IsParam(r.segments[i]) ? IsParam(route.segments[i])
                                      : r.segments[i] == route.segments[i];
      }
      if (same) {
        return absl::AlreadyExistsError(
            absl::StrCat("route ", method, " ", pattern, " is already registered"));
      }
    }
  }
  route.open = access == RouteAccess::kOpen ||
               (access == RouteAccess::kByPath && IsOpenPath(pattern));
  route.method = std::move(method);
  route.pattern = std::move(pattern);
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
  return absl::OkStatus();
}

Router::Routed Router::Handle(const HttpRequest& request) const {
  const std::vector<std::string_view> segments = SplitPath(request.path);
  const Route* best = nullptr;
  std::vector<std::string> allowed;
  for (const Route& route : routes_) {
    if (route.rest ? segments.size() < route.segments.size()
                   : route.segments.size() != segments.size()) {
      continue;
    }
    bool match = true;
    for (size_t i = 0; match && i < route.segments.size(); ++i) {
      match = IsParam(route.segments[i]) ? !segments[i].empty()
                                         : route.segments[i] == segments[i];
    }
    if (!match) continue;
    if (route.method != request.method) {
      allowed.push_back(route.method);
    } else if (best == nullptr || route.literals > best->literals) {
      best = &route;
    }
  }
  if (best == nullptr) {
    if (!allowed.empty()) {
      Routed routed{ErrorResponse(405, "method-not-allowed",
                                  "this path does not accept this method"),
                    kUnmatched};
      routed.response.headers.emplace_back("Allow", absl::StrJoin(allowed, ", "));
      return routed;
    }
    return {ErrorResponse(404, "not-found", "no route matches this path"), kUnmatched};
  }
  PathParams params;
  for (size_t i = 0; i < best->segments.size(); ++i) {
    if (best->rest && i + 1 == best->segments.size()) {
      std::string joined;
      for (size_t k = i; k < segments.size(); ++k) {
        if (k > i) joined.push_back('/');
        joined.append(segments[k].data(), segments[k].size());
      }
      params[best->segments[i].substr(1, best->segments[i].size() - 5)] =
          std::move(joined);
    } else if (IsParam(best->segments[i])) {
      params[best->segments[i].substr(1, best->segments[i].size() - 2)] =
          std::string(segments[i]);
    }
  }
  std::optional<Principal> principal;
  if (!best->open) {
    absl::StatusOr<Principal> who = authenticate_(request);
    if (!who.ok()) {
      if (absl::IsUnauthenticated(who.status()) || absl::IsPermissionDenied(who.status()))
        return {ErrorResponse(who.status()), best->pattern};
      spdlog::error("authentication failed: {}", std::string(who.status().message()));
      return {ErrorResponse(who.status()), best->pattern};
    }
    principal = *std::move(who);
    if (admit_) {
      if (std::optional<HttpResponse> stop = admit_(*principal)) {
        return {*std::move(stop), best->pattern};
      }
    }
  }
  RouteRequest route_request{request, params,
                             principal.has_value() ? &*principal : nullptr};
  try {
    return {best->handler(route_request), best->pattern};
  } catch (const std::exception& e) {
    spdlog::error("handler of {} {} threw: {}", best->method, best->pattern, e.what());
    return {ErrorResponse(absl::InternalError("handler failed")), best->pattern};
  }
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Route& r : routes_) out.emplace_back(r.method, r.pattern);
  return out;
}

// --- ApiService -------------------------------------------------------------

ApiService::ApiService(Trust& trust, ApiOptions options,
                       std::unique_ptr<auth::OidcVerifier> oidc,
                       std::unique_ptr<RequestLimiter> limiter)
    : trust_(trust),
      options_(std::move(options)),
      oidc_(std::move(oidc)),
      limiter_(std::move(limiter)),
      authenticator_(trust.config(), trust.store().tokens(), oidc_.get()),
      router_([this](const HttpRequest& r) { return authenticator_.Authenticate(r); }) {
  router_.SetAdmission([this](const Principal& p) {
    std::optional<HttpResponse> stop = limiter_->AdmitPrincipal(p);
    if (stop.has_value()) metrics_.RecordRateLimited(ToString(LimitScope::kPrincipal));
    return stop;
  });
}

absl::StatusOr<std::unique_ptr<ApiService>> ApiService::Create(Trust& trust,
                                                               ApiOptions options) {
  if (options.default_read_limit < 1 ||
      options.max_read_limit < options.default_read_limit) {
    return absl::InvalidArgumentError(
        "api options: need 1 <= default_read_limit <= max_read_limit");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<auth::OidcVerifier> oidc,
                   MakeOidcVerifier(trust.config(), trust.clock(), options.jwks_keys));
  ASSIGN_OR_RETURN(std::unique_ptr<RequestLimiter> limiter,
                   RequestLimiter::Create(trust.config().limits, trust.clock()));
  std::unique_ptr<ApiService> service(
      new ApiService(trust, std::move(options), std::move(oidc), std::move(limiter)));
  RETURN_IF_ERROR(service->RegisterCoreRoutes());
  return service;
}

absl::Status ApiService::RegisterCoreRoutes() {
  auto bind = [this](HttpResponse (ApiService::*fn)(const RouteRequest&)) {
    return [this, fn](const RouteRequest& r) { return (this->*fn)(r); };
  };
  RETURN_IF_ERROR(router_.Add("POST", "/v1/streams/{stream}/records",
                              bind(&ApiService::PostRecords)));
  RETURN_IF_ERROR(
      router_.Add("GET", "/v1/streams/{stream}/records", bind(&ApiService::GetRecords)));
  RETURN_IF_ERROR(
      router_.Add("GET", "/public/streams", bind(&ApiService::PublicStreams)));
  RETURN_IF_ERROR(
      router_.Add("GET", "/public/agreements", bind(&ApiService::PublicAgreements)));
  // The sensor register (server/register_routes.h) and the DPIA
  // (server/dpia_routes.h).
  RETURN_IF_ERROR(AddRegisterRoutes(router_, trust_));
  dpia_ = std::make_shared<DpiaMonitor>(trust_);
  RETURN_IF_ERROR(AddDpiaRoutes(router_, dpia_));
  RETURN_IF_ERROR(router_.Add("GET", "/healthz", bind(&ApiService::Healthz)));
  RETURN_IF_ERROR(router_.Add("GET", "/metrics", bind(&ApiService::MetricsText)));
  RETURN_IF_ERROR(router_.Add("GET", "/openapi.json", [](const RouteRequest&) {
    HttpResponse r;
    r.body = std::string(OpenApiJson());
    return r;
  }));
  RETURN_IF_ERROR(router_.Add("POST", "/v1/streams/{stream}/aggregate",
                              bind(&ApiService::PostAggregate)));
  // Budgets, public releases and publishing them (server/release_routes.h).
  RETURN_IF_ERROR(RegisterDpRoutes(router_, trust_));
  RETURN_IF_ERROR(RegisterNgsiLdRoutes(router_, trust_, metrics_));
  // The transparency log (C2SP tlog-tiles and proofs), open to anyone.
  auto log = [this](HttpResponse (*fn)(AuditTrail&, const HttpRequest&)) {
    return [this, fn](const RouteRequest& r) { return fn(trust_.audit(), r.http); };
  };
  RETURN_IF_ERROR(router_.Add("GET", "/log/checkpoint", log(&HandleLogCheckpoint)));
  RETURN_IF_ERROR(router_.Add("GET", "/log/key", log(&HandleLogKey)));
  RETURN_IF_ERROR(
      router_.Add("GET", "/log/proof/inclusion", log(&HandleLogInclusionProof)));
  RETURN_IF_ERROR(
      router_.Add("GET", "/log/proof/consistency", log(&HandleLogConsistencyProof)));
  // Tile paths have a variable number of segments (0/x001/x234/067.p/5).
  RETURN_IF_ERROR(router_.Add("GET", "/log/tile/{tile...}", log(&HandleLogTile)));
  // Citizens (/v1/me/...): their own token, their own data.
  MeRoutesOptions me_options;
  me_options.oidc = oidc_.get();
  RETURN_IF_ERROR(RegisterMeRoutes(router_, trust_, me_options).status());
  return absl::OkStatus();
}

HttpResponse ApiService::PostAggregate(const RouteRequest& request) {
  const config::Stream* stream = trust_.config().FindStream(request.Param("stream"));
  if (stream == nullptr) {
    return ErrorResponse(404, "unknown-stream", "no stream of this name is configured");
  }
  if (request.principal->sensor()) {
    return ErrorResponse(
        403, "party-token-required",
        "a sensor token may only push records; queries need a party token");
  }
  absl::StatusOr<AggregateRequest> parsed = ParseAggregateRequest(request.http.body);
  if (!parsed.ok()) return ErrorResponse(parsed.status());
  parsed->party = request.principal->party;
  parsed->stream = stream->id;
  absl::StatusOr<AggregateResult> result = RunAggregate(trust_, *parsed);
  if (!result.ok()) return ErrorResponse(result.status());
  HttpResponse response;
  if (!result->decision.permitted()) {
    return ErrorResponse(403, std::string(policy::ReasonCode(result->decision.reason)),
                         result->decision.detail);
  }
  response.body = result->ToJson().dump();
  return response;
}

HttpResponse ApiService::Handle(const HttpRequest& request) {
  const absl::Time start = trust_.clock().Now();
  Router::Routed routed;
  if (std::optional<HttpResponse> stop = limiter_->AdmitAddress(request)) {
    // Refused before routing: counted under its own bounded route label.
    metrics_.RecordRateLimited(ToString(LimitScope::kAddress));
    routed = {*std::move(stop), "rate_limited"};
  } else {
    routed = router_.Handle(request);
  }
  const absl::Duration latency = trust_.clock().Now() - start;
  const std::string_view method = MethodLabel(request.method);
  metrics_.RecordRequest(method, routed.route, routed.response.status, latency);
  spdlog::info("{} {} {} {:.3f}ms", method, routed.route, routed.response.status,
               absl::ToDoubleMilliseconds(latency));
  return std::move(routed.response);
}

HttpResponse ApiService::PostRecords(const RouteRequest& request) {
  const config::Stream* stream = trust_.config().FindStream(request.Param("stream"));
  if (stream == nullptr) {
    return ErrorResponse(404, "unknown-stream", "no stream of this name is configured");
  }
  if (!request.principal->sensor()) {
    return ErrorResponse(403, "sensor-token-required",
                         "only a sensor token bound to this stream may push records");
  }
  if (request.principal->stream != stream->id) {
    return ErrorResponse(403, "wrong-stream",
                         "this sensor token is bound to another stream");
  }
  absl::StatusOr<ingest::InputFormat> format = BodyFormat(request.http);
  if (!format.ok()) {
    return ErrorResponse(415, "unsupported-media-type",
                         std::string(format.status().message()));
  }
  if (request.http.body.empty()) {
    return ErrorResponse(400, "empty-body", "the request body holds no records");
  }
  absl::StatusOr<ingest::IngestSummary> summary = ingest::IngestBuffer(
      *stream, trust_.store(), trust_.keyring(), trust_.random(), request.http.body,
      *format, trust_.RequestIngestOptions(*stream));
  if (!summary.ok()) {
    if (absl::IsInvalidArgument(summary.status())) {
      return ErrorResponse(400, "malformed-body",
                           std::string(summary.status().message()));
    }
    spdlog::error("ingest into {} failed: {}", stream->id,
                  std::string(summary.status().message()));
    return ErrorResponse(summary.status());
  }
  metrics_.RecordIngest(stream->id, summary->accepted, summary->rejected);
  if (summary->accepted == 0 && summary->rejected > 0) {
    if (std::optional<size_t> offset = MalformedJsonOffset(request.http.body, *format)) {
      return ErrorResponse(
          400, "malformed-json",
          absl::StrCat("the body is not valid JSON (first error at byte ", *offset, ")"));
    }
  }
  HttpResponse response;
  response.status = summary->accepted == 0 && summary->rejected > 0 ? 422 : 200;
  response.body = ingest::SummaryJson(*summary);
  return response;
}

HttpResponse ApiService::GetRecords(const RouteRequest& request) {
  const config::Stream* stream = trust_.config().FindStream(request.Param("stream"));
  if (stream == nullptr) {
    return ErrorResponse(404, "unknown-stream", "no stream of this name is configured");
  }
  if (request.principal->sensor()) {
    return ErrorResponse(
        403, "party-token-required",
        "a sensor token may only push records; reading needs a party token");
  }
  policy::AccessRequest access;
  access.party = request.principal->party;
  access.stream = stream->id;
  access.level = config::AccessLevel::kRecords;
  access.purpose = request.Query("purpose");
  if (access.purpose.empty()) {
    return ErrorResponse(400, "missing-purpose",
                         "the query parameter 'purpose' is required");
  }
  for (const char* name : {"from", "to"}) {
    const std::string text = request.Query(name);
    if (text.empty()) continue;
    absl::StatusOr<absl::Time> t = ParseTimestamp(text);
    if (!t.ok()) {
      return ErrorResponse(
          400, "invalid-argument",
          absl::StrCat("the query parameter '", name, "' is not an RFC 3339 timestamp"));
    }
    (name[0] == 'f' ? access.from : access.to) = *t;
  }
  for (absl::string_view f :
       absl::StrSplit(request.Query("fields"), ',', absl::SkipEmpty())) {
    access.fields.emplace_back(f);
  }
  RecordsReadOptions read;
  read.limit = options_.default_read_limit;
  if (!request.Query("after").empty()) {
    return ErrorResponse(400, "invalid-argument",
                         "the query parameter 'after' is replaced by the opaque 'cursor' "
                         "(from X-Next-Cursor)");
  }
  if (const std::string cursor = request.Query("cursor"); !cursor.empty()) {
    absl::StatusOr<int64_t> after = DecodeRecordsCursor(access, cursor);
    if (!after.ok()) {
      return ErrorResponse(400, "invalid-cursor", std::string(after.status().message()));
    }
    read.after_id = *after;
  }
  if (const std::string limit = request.Query("limit"); !limit.empty()) {
    if (!absl::SimpleAtoi(limit, &read.limit) || read.limit < 1 ||
        read.limit > options_.max_read_limit) {
      return ErrorResponse(
          400, "invalid-argument",
          absl::StrCat("the query parameter 'limit' must be an integer in [1, ",
                       options_.max_read_limit, "]"));
    }
  }
  // NDJSON unless the client asks for JSON only.
  const std::string accept = request.http.Header("accept");
  const bool json_array = accept.find("application/json") != std::string::npos &&
                          accept.find("ndjson") == std::string::npos;
  HttpResponse response;
  response.content_type = json_array ? "application/json" : "application/x-ndjson";
  if (json_array) response.body = "{\"records\":[";
  bool first_row = true;
  absl::StatusOr<RecordsReadResult> result =
      ReadRecords(trust_, access, read, [&](const std::string& row) {
        if (json_array && !first_row) response.body += ',';
        first_row = false;
        response.body += row;
        if (!json_array) response.body += '\n';
        return absl::OkStatus();
      });
  if (!result.ok()) {
    spdlog::error("records read of {} failed: {}", stream->id,
                  std::string(result.status().message()));
    return ErrorResponse(result.status());
  }
  if (!result->decision.permitted()) {
    const std::string_view code = policy::ReasonCode(result->decision.reason);
    return ErrorResponse(403, code, result->decision.detail);
  }
  response.headers.emplace_back("X-Records-Withheld", absl::StrCat(result->withheld));
  std::string next;
  if (result->more) {
    next = EncodeRecordsCursor(access, result->last_id);
    std::map<std::string, std::string> query = request.http.query;
    query["cursor"] = next;
    query["limit"] = absl::StrCat(read.limit);
    std::string link =
        absl::StrCat("/v1/streams/", PercentEncode(stream->id), "/records?");
    bool first = true;
    for (const auto& [k, v] : query) {
      absl::StrAppend(&link, first ? "" : "&", PercentEncode(k), "=", PercentEncode(v));
      first = false;
    }
    response.headers.emplace_back("Link", absl::StrCat("<", link, ">; rel=\"next\""));
    response.headers.emplace_back("X-Next-Cursor", next);
  }
  if (json_array) {
    absl::StrAppend(&response.body, "],\"next_cursor\":",
                    next.empty() ? "null" : absl::StrCat("\"", next, "\""),
                    ",\"withheld\":", result->withheld, "}");
  }
  return response;
}

HttpResponse ApiService::PublicStreams(const RouteRequest&) {
  const config::CityConfig& config = trust_.config();
  json streams = json::array();
  for (const config::Stream& s : config.streams) {
    json fields = json::array();
    for (const config::Field& f : s.fields) {
      json transforms = json::array();
      for (const config::Transform& t : f.transforms)
        transforms.push_back(DescribeTransform(t));
      fields.push_back({{"name", f.name},
                        {"type", std::string(config::ToString(f.type))},
                        {"category", std::string(config::ToString(f.category))},
                        {"stored", !f.dropped()},
                        {"subject", f.name == s.subject_field},
                        {"transforms", transforms}});
    }
    json purposes = json::array();
    for (const std::string& id : s.purposes) {
      json p = {{"id", id}};
      if (const config::Purpose* purpose = config.FindPurpose(id); purpose != nullptr) {
        p["description"] = purpose->description;
        p["legal_basis"] = std::string(config::ToString(purpose->legal_basis));
      }
      purposes.push_back(p);
    }
    streams.push_back({{"id", s.id},
                       {"description", s.description},
                       {"personal", s.personal()},
                       {"subject_field",
                        s.subject_field.empty() ? json(nullptr) : json(s.subject_field)},
                       {"legal_basis", std::string(config::ToString(s.legal_basis))},
                       {"retention", FormatDurationSpec(s.retention)},
                       {"pseudonym_epoch", FormatDurationSpec(s.epoch)},
                       {"linkability", FormatDurationSpec(s.linkability)},
                       {"purposes", purposes},
                       {"fields", fields}});
  }
  return JsonResponse({{"city", config.city.name},
                       {"controller", config.city.controller},
                       {"streams", streams}});
}

HttpResponse ApiService::PublicAgreements(const RouteRequest&) {
  const config::CityConfig& config = trust_.config();
  json agreements = json::array();
  for (const config::Agreement& a : config.agreements) {
    json j = {{"id", a.id},
              {"party", a.party},
              {"stream", a.stream},
              {"level", std::string(config::ToString(a.level))},
              {"purposes", a.purposes},
              {"valid_from", OptionalString(Iso(a.valid_from))},
              {"valid_until", OptionalString(Iso(a.valid_until))}};
    if (const config::Party* p = config.FindParty(a.party); p != nullptr) {
      j["party_name"] = p->name;
    }
    const config::Stream* stream = config.FindStream(a.stream);
    j["fields"] =
        stream != nullptr ? json(policy::ReleasedFields(*stream, a)) : json::array();
    if (a.time_granularity.has_value()) {
      j["time_granularity"] = FormatDurationSpec(*a.time_granularity);
    }
    if (a.cell_level.has_value()) j["cell_level"] = *a.cell_level;
    if (a.k_threshold > 0) j["k"] = a.k_threshold;
    if (a.budget.has_value()) {
      j["budget"] = {{"epsilon", a.budget->epsilon},
                     {"delta", a.budget->delta},
                     {"period", FormatDurationSpec(a.budget->period)}};
    }
    j["duties"] = {{"delete_after", a.delete_after.has_value()
                                        ? json(FormatDurationSpec(*a.delete_after))
                                        : json(nullptr)},
                   {"no_onward_sharing", a.no_onward_sharing}};
    agreements.push_back(j);
  }
  return JsonResponse({{"agreements", agreements}});
}

HttpResponse ApiService::Healthz(const RouteRequest&) {
  absl::StatusOr<std::optional<std::string>> probe =
      trust_.store().GetMeta("health.probe");
  if (!probe.ok()) {
    spdlog::error("health check: store does not answer: {}",
                  std::string(probe.status().message()));
    return ErrorResponse(503, "store-unavailable", "the store does not answer");
  }
  return JsonResponse({{"status", "ok"}});
}

HttpResponse ApiService::MetricsText(const RouteRequest&) {
  std::vector<std::pair<std::string, int64_t>> counts;
  for (const config::Stream& s : trust_.config().streams) {
    absl::StatusOr<int64_t> n = trust_.store().CountRecords(s.id);
    if (!n.ok())
      return ErrorResponse(503, "store-unavailable", "the store does not answer");
    counts.emplace_back(s.id, *n);
  }
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_.Render(counts);
  r.body += dpia_->MetricsText();
  return r;
}

}  // namespace privacity::server
