// Public releases: differentially private tables the controller publishes
// for everyone (hourly pedestrians per cell, daily energy use per district),
// charged to the budget of the public party's agreement for the stream and
// served at /public/releases as JSON, CSV and GeoJSON with their epsilon,
// delta, bounds and method (docs/dp.md, "Public releases").
//
// A release is an aggregate query (server/aggregate_view.h) asked at the
// public access level by the party "public": the same decision, bounding,
// exact noise and atomic charge. Its id is derived from the charge (the
// agreement, the budget period and the canonical query), so publishing the
// identical query again in the same period returns the release already
// published, at no cost. Every new release appends a `release` leaf of kind
// `dp_public` to the transparency log.
#ifndef PRIVACITY_SERVER_RELEASE_VIEW_H_
#define PRIVACITY_SERVER_RELEASE_VIEW_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "dp/noise.h"
#include "nlohmann/json.hpp"
#include "server/aggregate_view.h"
#include "server/trust.h"

namespace privacity::server {

// At most this many characters in a release title.
inline constexpr size_t kMaxReleaseTitle = 200;

struct ReleaseSpec {
  std::string title;
  // The query; its party is always "public". An empty purpose means the
  // first purpose of the public agreement for the stream.
  AggregateRequest query;
};

// Parses one spec: an aggregate request body (server/aggregate_view.h) with
// "stream" and "title" required and "purpose" optional, e.g.
//   {"title":"Daily pedestrians per cell","stream":"footfall.counts",
//    "metric":"sum","value":"count","lower":0,"upper":3000,
//    "group_by":["time:1d","cell:14"],"from":"2014-01-01T00:00:00Z",
//    "to":"2014-01-07T00:00:00Z","epsilon":1.0}
// InvalidArgument names the key and the reason; never echoes values.
absl::StatusOr<ReleaseSpec> ParseReleaseSpec(std::string_view body);

// A spec file: one spec object, or an array of them.
absl::StatusOr<std::vector<ReleaseSpec>> ParseReleaseSpecs(std::string_view body);

struct PublishedRelease {
  std::string id;
  nlohmann::ordered_json summary;  // as listed at /public/releases
  nlohmann::ordered_json body;     // summary plus "columns" and "rows"
  bool existing = false;           // the identical release was already published
};

// Publishes `spec`: decides for the public party at the public level,
// computes the release with exact noise from trust.random(), charges the
// public agreement's budget, stores the release and logs it. A denial is
// PermissionDenied naming the reason code; over budget is
// ResourceExhausted naming what remains; a bad query is InvalidArgument.
absl::StatusOr<PublishedRelease> PublishRelease(Trust& trust, const ReleaseSpec& spec);

// The same with the noise given (tests: dp::ZeroNoiseForTestingNotPrivate).
// Never use a non-private source outside tests.
absl::StatusOr<PublishedRelease> PublishReleaseWithNoise(Trust& trust,
                                                         const ReleaseSpec& spec,
                                                         dp::NoiseSource& noise);

// Every published release's summary, oldest first.
absl::StatusOr<nlohmann::ordered_json> ListReleases(Trust& trust);

// The body of release `id`; NotFound when there is none.
absl::StatusOr<nlohmann::ordered_json> GetRelease(Trust& trust, const std::string& id);

// A release body as CSV: "# key: value" lines with the title, stream,
// epsilon, delta, bounds and method, then a header row (the key columns and
// the value column; one column per quantile) and the rows. RFC 4180 quoting.
std::string ReleaseCsv(const nlohmann::ordered_json& body);

// A release body as a GeoJSON FeatureCollection: one feature per row, the
// row's S2 cell (its first cell:LEVEL column) as a Polygon of the cell's
// four vertices, with the row and the cell's centroid as properties; rows
// without a cell have a null geometry. The release's metadata (epsilon,
// delta, bounds, method, ...) are members of the collection.
nlohmann::ordered_json ReleaseGeoJson(const nlohmann::ordered_json& body);

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_RELEASE_VIEW_H_
