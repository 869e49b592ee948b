#include "server/release_routes.h"

#include <string>

#include "common/status_macros.h"
#include "config/model.h"
#include "nlohmann/json.hpp"
#include "server/aggregate_view.h"
#include "server/error_mapping.h"
#include "server/release_view.h"

namespace privacity::server {
namespace {

using json = nlohmann::ordered_json;

// Largest release spec body accepted.
constexpr size_t kMaxSpecBody = 64 * 1024;

HttpResponse Json(const json& body, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

HttpResponse GetBudget(Trust& trust, const RouteRequest& request) {
  if (request.principal->sensor()) {
    return ErrorResponse(403, "party-token-required",
                         "a sensor token has no budget; use a party token");
  }
  absl::StatusOr<json> overview = BudgetOverview(trust, request.principal->party);
  if (!overview.ok()) return ErrorResponse(overview.status());
  return Json(*overview);
}

HttpResponse PostRelease(Trust& trust, const RouteRequest& request) {
  const config::Party* party = trust.config().FindParty(request.principal->party);
  if (request.principal->sensor() || party == nullptr ||
      party->kind != config::PartyKind::kController) {
    return ErrorResponse(
        403, "controller-required",
        "only a token of a party of kind controller may publish releases");
  }
  if (request.http.body.size() > kMaxSpecBody) {
    return ErrorResponse(413, "body-too-large", "a release spec is at most 64 KiB");
  }
  absl::StatusOr<ReleaseSpec> spec = ParseReleaseSpec(request.http.body);
  if (!spec.ok()) return ErrorResponse(spec.status());
  if (trust.config().FindStream(spec->query.stream) == nullptr) {
    return ErrorResponse(404, "unknown-stream", "no stream of this name is configured");
  }
  absl::StatusOr<PublishedRelease> published = PublishRelease(trust, *spec);
  if (!published.ok()) return ErrorResponse(published.status());
  json out = published->summary;
  out["existing"] = published->existing;
  out["links"] = {{"json", "/public/releases/" + published->id},
                  {"csv", "/public/releases/" + published->id + ".csv"},
                  {"geojson", "/public/releases/" + published->id + ".geojson"}};
  return Json(out, published->existing ? 200 : 201);
}

HttpResponse GetReleases(Trust& trust, const RouteRequest&) {
  absl::StatusOr<json> list = ListReleases(trust);
  if (!list.ok()) return ErrorResponse(list.status());
  return Json(*list);
}

HttpResponse GetOneRelease(Trust& trust, const RouteRequest& request) {
  std::string id = request.Param("id");
  std::string format = request.Query("format");
  for (const char* ext : {"csv", "geojson", "json"}) {
    const std::string suffix = std::string(".") + ext;
    if (EndsWith(id, suffix)) {
      if (!format.empty() && format != ext) {
        return ErrorResponse(400, "invalid-argument",
                             "the path suffix and ?format= name different formats");
      }
      id.resize(id.size() - suffix.size());
      format = ext;
      break;
    }
  }
  if (format.empty()) format = "json";
  if (format != "json" && format != "csv" && format != "geojson") {
    return ErrorResponse(400, "invalid-argument", "format must be json, csv or geojson");
  }
  absl::StatusOr<json> body = GetRelease(trust, id);
  if (!body.ok()) return ErrorResponse(body.status());
  HttpResponse r;
  if (format == "csv") {
    r.content_type = "text/csv; charset=utf-8";
    r.body = ReleaseCsv(*body);
  } else if (format == "geojson") {
    r.content_type = "application/geo+json";
    r.body = ReleaseGeoJson(*body).dump();
  } else {
    r.body = body->dump();
  }
  return r;
}

}  // namespace

absl::Status RegisterDpRoutes(Router& router, Trust& trust) {
  auto bind = [&trust](HttpResponse (*fn)(Trust&, const RouteRequest&)) {
    return [&trust, fn](const RouteRequest& r) { return fn(trust, r); };
  };
  RETURN_IF_ERROR(router.Add("GET", "/v1/budget", bind(&GetBudget)));
  RETURN_IF_ERROR(router.Add("POST", "/v1/admin/releases", bind(&PostRelease)));
  RETURN_IF_ERROR(router.Add("GET", "/public/releases", bind(&GetReleases)));
  RETURN_IF_ERROR(router.Add("GET", "/public/releases/{id}", bind(&GetOneRelease)));
  return absl::OkStatus();
}

}  // namespace privacity::server
