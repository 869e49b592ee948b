// The HTTP API without the network: a small router (method + path pattern
// with {params} -> handler) and the service that registers the core routes
// over an opened Trust. The Boost.Beast server (server/http/http_server.h)
// only moves HttpRequest/HttpResponse in and out of sockets; everything here
// is tested directly.
//
// Adding a route:
//   RETURN_IF_ERROR(service.router().Add("GET", "/v1/budget",
//       [&](const RouteRequest& r) { ... return response; }));
// Whether a route needs a bearer token follows from its path (see
// Router::IsOpenPath) unless given explicitly.
#ifndef PRIVACITY_SERVER_ROUTES_H_
#define PRIVACITY_SERVER_ROUTES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ingest/ingester.h"
#include "server/auth.h"
#include "server/http_types.h"
#include "server/metrics.h"
#include "server/rate_limit.h"
#include "server/trust.h"

namespace privacity::server {

class DpiaMonitor;  // server/dpia_routes.h

using PathParams = std::map<std::string, std::string>;

// What a handler sees: the request, the values of the pattern's {params},
// and who is asking (null on open routes).
struct RouteRequest {
  const HttpRequest& http;
  const PathParams& params;
  const Principal* principal = nullptr;

  // The value of {name}. REQUIRES: the pattern has {name}.
  const std::string& Param(const std::string& name) const { return params.at(name); }
  // A query parameter, or "" when absent.
  std::string Query(const std::string& name) const {
    auto it = http.query.find(name);
    return it == http.query.end() ? std::string() : it->second;
  }
};

// Handlers return errors as responses (ErrorResponse in error_mapping.h);
// an exception escaping a handler becomes a 500.
using RouteHandler = std::function<HttpResponse(const RouteRequest&)>;

enum class RouteAccess {
  kByPath,  // open when Router::IsOpenPath(pattern), else token required
  kOpen,    // anyone
  kToken,   // a valid bearer token
};

class Router {
 public:
  using AuthenticateFn = std::function<absl::StatusOr<Principal>(const HttpRequest&)>;

  explicit Router(AuthenticateFn authenticate) : authenticate_(std::move(authenticate)) {}

  // Called with the principal after a successful authentication, before
  // the handler; a response it returns (e.g. 429) ends the request. Not
  // thread-safe: set before serving.
  using AdmitFn = std::function<std::optional<HttpResponse>(const Principal&)>;
  void SetAdmission(AdmitFn admit) { admit_ = std::move(admit); }

  // Registers `handler` for `method` (upper case) and `pattern`: a path of
  // '/'-separated segments, each a literal or a whole-segment "{name}"; the
  // last may be "{name...}", matching one or more remaining segments (its
  // value is them joined with '/').
  // InvalidArgument for a malformed pattern, AlreadyExists for a method and
  // pattern registered before. Not thread-safe: register before serving.
  absl::Status Add(std::string method, std::string pattern, RouteHandler handler,
                   RouteAccess access = RouteAccess::kByPath);

  struct Routed {
    HttpResponse response;
    std::string route;  // the matched pattern, "unmatched" when none
  };

  // Finds the route (a literal segment beats a {param}), checks the token
  // when needed (401 with WWW-Authenticate: Bearer), and runs the handler.
  // 404 when no pattern matches, 405 with Allow when only the method
  // differs. Thread-safe once registration is done.
  Routed Handle(const HttpRequest& request) const;

  // Every (method, pattern) registered, in registration order.
  std::vector<std::pair<std::string, std::string>> Routes() const;

  // Paths anyone may call: /public/*, /log/*, /healthz, /metrics,
  // /openapi.json.
  static bool IsOpenPath(std::string_view pattern);

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    int literals = 0;
    bool rest = false;  // the last segment is "{name...}"
    bool open = false;
    RouteHandler handler;
  };

  AuthenticateFn authenticate_;
  AdmitFn admit_;
  std::vector<Route> routes_;
};

struct ApiOptions {
  int64_t default_read_limit = 1000;
  int64_t max_read_limit = 10000;
  // Replaces the JWKS file or URL of city.yaml's oidc section (tests).
  std::shared_ptr<auth::KeySource> jwks_keys;
};

// The core API over one Trust: ingest and records routes, public config
// routes, health, metrics and the OpenAPI document. Requests are logged
// (method, route pattern, status, duration) and counted.
class ApiService {
 public:
  // REQUIRES: `trust` outlives the service.
  static absl::StatusOr<std::unique_ptr<ApiService>> Create(Trust& trust,
                                                            ApiOptions options);

  Router& router() { return router_; }
  Metrics& metrics() { return metrics_; }
  // The scheduled DPIA (server/dpia_routes.h); its gauges are on /metrics.
  DpiaMonitor& dpia() { return *dpia_; }
  // The verifier of OIDC/JWT bearer tokens; null without an oidc section.
  const auth::OidcVerifier* oidc() const { return oidc_.get(); }

  // Thread-safe once routes are registered.
  HttpResponse Handle(const HttpRequest& request);

 private:
  ApiService(Trust& trust, ApiOptions options, std::unique_ptr<auth::OidcVerifier> oidc,
             std::unique_ptr<RequestLimiter> limiter);
  absl::Status RegisterCoreRoutes();

  HttpResponse PostRecords(const RouteRequest& request);
  HttpResponse GetRecords(const RouteRequest& request);
  HttpResponse PostAggregate(const RouteRequest& request);
  HttpResponse PublicStreams(const RouteRequest& request);
  HttpResponse PublicAgreements(const RouteRequest& request);
  HttpResponse Healthz(const RouteRequest& request);
  HttpResponse MetricsText(const RouteRequest& request);

  Trust& trust_;
  ApiOptions options_;
  std::unique_ptr<auth::OidcVerifier> oidc_;
  std::unique_ptr<RequestLimiter> limiter_;
  Authenticator authenticator_;
  Metrics metrics_;
  Router router_;
  std::shared_ptr<DpiaMonitor> dpia_;
};

// The OpenAPI 3 document (docs/openapi.json, embedded at build time).
std::string_view OpenApiJson();

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_ROUTES_H_
