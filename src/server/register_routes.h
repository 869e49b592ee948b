// The sensor register over HTTP (register/register.h, docs/register.md):
//   GET  /public/register                    JSON, or GeoJSON with
//                                            ?format=geojson or Accept:
//                                            application/geo+json
//   POST /public/register/{sensor}/comments  a citizen's comment or
//                                            objection on a proposed sensor
//   POST /v1/admin/sensors                   a controller adds a sensor
//   GET  /v1/admin/sensors/{sensor}/comments a controller reads comments
// A controller is a party token of a party of kind "controller".
#ifndef PRIVACITY_SERVER_REGISTER_ROUTES_H_
#define PRIVACITY_SERVER_REGISTER_ROUTES_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/auth.h"
#include "server/routes.h"
#include "server/trust.h"

namespace privacity::server {

struct CommentLimits {
  // Comments accepted per remote address per window, and from everyone.
  int64_t per_address = 5;
  int64_t total = 200;
  absl::Duration window = absl::Minutes(10);
  size_t max_body_bytes = 8192;
};

// True when `principal` may change the register: a party token (not a
// sensor token) of a party whose kind is controller.
bool IsController(const config::CityConfig& config, const Principal& principal);

// Registers the four routes on `router`. REQUIRES: `trust` outlives the
// router.
absl::Status AddRegisterRoutes(Router& router, Trust& trust, CommentLimits limits = {});

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_REGISTER_ROUTES_H_
