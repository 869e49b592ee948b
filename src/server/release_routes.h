// HTTP routes of differential privacy beyond the aggregate query itself:
//   GET  /v1/budget                 the calling party's budgets this period
//   POST /v1/admin/releases         publish a public release (controller only)
//   GET  /public/releases           every public release (summaries)
//   GET  /public/releases/{id}      one release: JSON, or CSV / GeoJSON by
//                                   suffix (.csv, .geojson, .json) or
//                                   ?format=csv|geojson|json
// Only a token of a party declared with `kind: controller` may publish;
// reading releases is open to anyone. docs/http.md describes the bodies.
#ifndef PRIVACITY_SERVER_RELEASE_ROUTES_H_
#define PRIVACITY_SERVER_RELEASE_ROUTES_H_

#include "absl/status/status.h"
#include "server/routes.h"
#include "server/trust.h"

namespace privacity::server {

// Registers the routes above on `router`.
// REQUIRES: `trust` outlives the router.
absl::Status RegisterDpRoutes(Router& router, Trust& trust);

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_RELEASE_ROUTES_H_
