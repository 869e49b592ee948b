// NGSI-LD ingest: entities from FIWARE feeds and context-broker
// subscriptions become input records of the streams city.yaml maps them to
// (a stream's `ngsi_ld` mappings, docs/config.md), then go through the same
// Ingester as any other record.
//
// Bodies:
//   kUpsert  a JSON array of entities   (POST /ngsi-ld/v1/entityOperations/upsert)
//   kCreate  one entity object           (POST /ngsi-ld/v1/entities)
//   kNotify  an Orion-LD notification    (POST /ngsi-ld/v1/notify)
//            {"id","type":"Notification","subscriptionId","notifiedAt","data":[...]}
//
// Attribute values are read in the normalized form ({"type":"Property",
// "value":..}, GeoProperty, Relationship with "object", LanguageProperty
// with "languageMap", multi-instance arrays by their default instance) or in
// the keyValues (simplified) form. Without NgsiLdForm::kKeyValues the form is
// detected per attribute: an object whose "type" is an NGSI-LD attribute type
// is normalized, anything else is a simplified value (a notification does not
// say which form its subscription asked for).
//
// @context: with Content-Type application/json it may come in a Link header
// (rel="http://www.w3.org/ns/json-ld#context") and must not be in the body;
// with application/ld+json it must be in the body (in each entity, or once in
// a notification) and no context Link header may be sent. Contexts are never
// fetched; inline term definitions ({"speed": "https://.../speed"}) are
// applied. Entity types and attribute names are then matched by their short
// name: the last segment (after '#', '/' or ':') of the expanded IRI, so
// "speed", "https://smartdatamodels.org/dataModel.Transportation/speed" and
// "sdm:speed" all match a mapping's `speed`.
//
// Only mapped attributes are read; everything else is dropped at the door.
// The entity id goes to the mapping's id_field (or nowhere). The time field
// gets the mapped time attribute, else the first observedAt of a mapped
// attribute, else the notification's notifiedAt, else the time of receipt.
// A date-time without a UTC offset is read as UTC. A GeoProperty given as a
// LineString, Polygon or other geometry becomes the mean of its positions.
//
// Errors never quote payload values: they name entity positions (1-based),
// entity types and attribute names.
#ifndef PRIVACITY_INGEST_NGSI_LD_H_
#define PRIVACITY_INGEST_NGSI_LD_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/random.h"
#include "config/model.h"
#include "crypto/keyring.h"
#include "ingest/ingester.h"
#include "store/store.h"
#include "transform/value.h"

namespace privacity::ingest {

enum class NgsiLdOperation { kUpsert, kCreate, kNotify };

enum class NgsiLdForm {
  kAuto,       // detected per attribute (see above)
  kKeyValues,  // ?options=keyValues or ?format=simplified: every value simplified
};

struct NgsiLdLimits {
  size_t max_body_bytes = 4 << 20;
  size_t max_entities = 1000;
  size_t max_depth = 32;  // nesting of objects and arrays
};

struct NgsiLdInput {
  NgsiLdOperation operation = NgsiLdOperation::kUpsert;
  absl::string_view body;
  std::string content_type;  // the Content-Type header; "" means application/json
  std::string link;          // the Link header, "" when absent
  NgsiLdForm form = NgsiLdForm::kAuto;
};

// The stable error code a failed Parse carries (its Status payload), one of
// "malformed-json" (InvalidArgument; the message names the byte offset),
// "invalid-ngsi-ld" (InvalidArgument), "body-too-large" (ResourceExhausted),
// "unsupported-media-type" (InvalidArgument), "unknown-entity-type"
// (NotFound; the message names the type). "" for other statuses.
std::string NgsiLdErrorCode(const absl::Status& status);

// The entities of one request that map to one stream.
struct NgsiLdGroup {
  const config::Stream* stream = nullptr;
  std::vector<std::string> entity_types;  // distinct short names, as seen
  // Good records and per-entity errors; `line` is the entity's 1-based
  // position in the request.
  std::vector<transform::InputRecord> records;
  std::vector<RecordError> errors;
};

// A parsed request. Records point into it: keep it alive while they are used.
class NgsiLdBatch {
 public:
  NgsiLdBatch();
  ~NgsiLdBatch();
  NgsiLdBatch(NgsiLdBatch&&) noexcept;
  NgsiLdBatch& operator=(NgsiLdBatch&&) noexcept;

  int64_t entities() const { return entities_; }
  // In order of the first entity of each stream.
  const std::vector<NgsiLdGroup>& groups() const { return groups_; }

 private:
  friend class NgsiLdAdapter;
  struct Storage;
  std::unique_ptr<Storage> storage_;
  int64_t entities_ = 0;
  std::vector<NgsiLdGroup> groups_;
};

// Maps entity types to streams. Thread-safe once created.
class NgsiLdAdapter {
 public:
  // REQUIRES: `config` outlives the adapter. InvalidArgument when a limit is
  // zero; the mappings themselves were checked by the config loader.
  static absl::StatusOr<std::unique_ptr<NgsiLdAdapter>> Create(
      const config::CityConfig& config, NgsiLdLimits limits);

  // The stream entities of `type` (a short name or IRI) go to, or null.
  const config::Stream* StreamFor(std::string_view type) const;

  // Parses and maps one request. A failure of the request as a whole (see
  // NgsiLdErrorCode) maps nothing; problems of single entities' attributes
  // are per-entity errors in the batch. `received` is the fallback time.
  absl::StatusOr<NgsiLdBatch> Parse(const NgsiLdInput& input, absl::Time received) const;

 private:
  struct TypeMapping {
    const config::Stream* stream;
    const config::NgsiLdMapping* mapping;
  };
  NgsiLdAdapter(const config::CityConfig& config, NgsiLdLimits limits);

  const config::CityConfig& config_;
  NgsiLdLimits limits_;
  std::vector<std::pair<std::string, TypeMapping>> types_;  // by short name
};

// Ingests one group through the Ingester (the same pipeline, batching and
// log leaf as IngestBuffer), rejecting its per-entity errors in
// entity order.
absl::StatusOr<IngestSummary> IngestNgsiLdGroup(const NgsiLdGroup& group,
                                                store::Store& store,
                                                crypto::Keyring& keyring,
                                                RandomSource& random,
                                                const IngestOptions& options);

// {"accepted":N,"rejected":M,"errors":[{"entity":I,"message":"..."}...]}
std::string NgsiLdSummaryJson(const IngestSummary& summary);

}  // namespace privacity::ingest

#endif  // PRIVACITY_INGEST_NGSI_LD_H_
