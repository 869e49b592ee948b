// The NGSI-LD ingest routes (FIWARE feeds and context-broker
// subscriptions), over ingest/ngsi_ld.h:
//   POST /ngsi-ld/v1/entityOperations/upsert   an array of entities
//   POST /ngsi-ld/v1/entities                  one entity (201, Location)
//   POST /ngsi-ld/v1/notify                    an Orion-LD notification
// Only a sensor token may call them, and only with entities of the types
// city.yaml maps to the token's stream. Each call is one ingest batch with
// one transparency-log leaf, answered with
//   {"accepted":N,"rejected":M,"errors":[{"entity":I,"message":"..."}]}
// (docs/http.md).
#ifndef PRIVACITY_SERVER_NGSI_ROUTES_H_
#define PRIVACITY_SERVER_NGSI_ROUTES_H_

#include "absl/status/status.h"
#include "ingest/ngsi_ld.h"
#include "server/metrics.h"
#include "server/routes.h"
#include "server/trust.h"

namespace privacity::server {

// REQUIRES: `trust` and `metrics` outlive the router.
absl::Status RegisterNgsiLdRoutes(Router& router, Trust& trust, Metrics& metrics,
                                  ingest::NgsiLdLimits limits = {});

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_NGSI_ROUTES_H_
