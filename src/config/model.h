// The city.yaml model: what the loader produces and every other module reads.
// Plain structs, validated by the loader (config/loader.h) before any other
// module sees them: a CityConfig that exists has passed every check in
// docs/config.md.
#ifndef PRIVACITY_CONFIG_MODEL_H_
#define PRIVACITY_CONFIG_MODEL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace privacity::config {

// Where an element was written in city.yaml (1-based), for error messages.
struct SourceLocation {
  int line = 0;
  int column = 0;
};

enum class LegalBasis {
  kConsent,
  kContract,
  kLegalObligation,
  kVitalInterest,
  kPublicTask,
  kLegitimateInterest,
};

struct Purpose {
  std::string id;  // "research"
  std::string description;
  LegalBasis legal_basis = LegalBasis::kPublicTask;
  bool prohibited = false;  // forbidden city-wide, e.g. marketing
  // A mandatory purpose (e.g. legal-obligation billing) ignores objections.
  bool mandatory = false;
  SourceLocation location;
};

enum class FieldType { kString, kInt, kNumber, kBool, kTime, kPoint, kEnum };

enum class FieldCategory {
  kDirectIdentifier,
  kSubjectIdentifier,
  kQuasiIdentifier,
  kLocation,
  kTime,
  kMeasurement,
  kSensitive,
  kFreeText,
  kOther,
};

enum class TransformKind {
  kDrop,
  kKeep,
  kPseudonymize,
  kTimeBucket,
  kCell,
  kRound,
  kClamp,
  kTruncate,
  kMap,
  kRedact,
};

enum class RedactPattern { kPlate, kEmail, kPhone, kMac };

// One transform step. Only the members of its kind are meaningful.
struct Transform {
  TransformKind kind = TransformKind::kKeep;
  absl::Duration bucket;      // kTimeBucket
  int cell_level = 0;         // kCell: S2 level 0..30
  double step = 0;            // kRound: > 0
  std::optional<double> min;  // kClamp: bottom coding
  std::optional<double> max;  // kClamp: top coding
  int length = 0;             // kTruncate: characters (code points) kept
  // kMap: raw value -> generalised value, from an ARX-style hierarchy CSV
  // (';'-separated rows, raw value first) at column `level`.
  std::string table_path;  // as written, relative to city.yaml
  int level = 1;
  std::map<std::string, std::string> table;  // loaded by the loader
  std::vector<RedactPattern> patterns;       // kRedact
  SourceLocation location;
};

struct Field {
  std::string name;
  FieldType type = FieldType::kString;
  FieldCategory category = FieldCategory::kOther;
  // Input names the value is read from; default {name}. A point read from
  // two columns lists [latitude, longitude].
  std::vector<std::string> source;
  bool required = false;
  std::vector<std::string> values;  // kEnum: the allowed values
  // Declared bounds of a numeric field (used for validation and DP clamping).
  std::optional<double> min;
  std::optional<double> max;
  // Applied in order at ingest. Empty means keep.
  std::vector<Transform> transforms;
  SourceLocation location;

  bool dropped() const {
    return !transforms.empty() && transforms.front().kind == TransformKind::kDrop;
  }
};

// How a stream is fed from the MQTT broker (CityConfig::mqtt;
// docs/config.md#mqtt).
enum class MqttPayloadFormat {
  kJson,    // one JSON object, or a JSON array of objects
  kNdjson,  // one JSON object per line
};

struct MqttFeed {
  std::vector<std::string> topics;  // topic filters (+ and # wildcards)
  int qos = 1;                      // 1 or 2
  MqttPayloadFormat format = MqttPayloadFormat::kJson;
  SourceLocation location;
};

// A declared area (the city's, or a stream's), used as the public partition
// domain of DP releases grouped by cell: a bounding box, or a polygon.
struct Area {
  // The bounding box (of the polygon, when one is given).
  double min_latitude = 0, min_longitude = 0;
  double max_latitude = 0, max_longitude = 0;
  // A simple polygon's vertices as (latitude, longitude) in order, not
  // repeating the first; empty for a plain bounding box.
  std::vector<std::pair<double, double>> polygon;
};

// How NGSI-LD entities of one type become records of a stream
// (docs/config.md#ngsi_ld). Attribute names are matched by their short name
// (the last segment of an expanded IRI); attributes not listed are dropped.
struct NgsiLdMapping {
  std::string entity_type;  // short name, e.g. "Vehicle"
  // attribute short name -> stream field, in the order written
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string id_field;     // the field the entity id goes to; empty: dropped
  std::string observed_at;  // the time field for the observation time
  SourceLocation location;
};

struct Stream {
  std::string id;  // "energy.meter_readings"
  std::string description;
  std::vector<Field> fields;
  // The field naming the data subject; empty for streams with no personal
  // data. When set, records are sealed per subject and epoch.
  std::string subject_field;
  std::string time_field;      // required: the event time
  std::string location_field;  // optional: a point or cell field
  // Pseudonym epoch length: pseudonyms are stable within one epoch.
  absl::Duration epoch = absl::Hours(24);
  // How long records are kept, and how long records of one epoch stay
  // linkable to their subject (epoch key and blind index kept).
  absl::Duration retention = absl::Hours(24 * 365);
  absl::Duration linkability = absl::Hours(24 * 30);
  LegalBasis legal_basis = LegalBasis::kPublicTask;
  std::vector<std::string> purposes;
  std::optional<MqttFeed> mqtt;  // topics this stream is fed from
  // Where the stream's sensors are: the public cell domain of its DP
  // releases (the city's area when absent).
  std::optional<Area> area;
  std::vector<NgsiLdMapping> ngsi_ld;  // entity types read into this stream
  SourceLocation location;

  const Field* FindField(std::string_view name) const {
    for (const Field& f : fields) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }
  bool personal() const { return !subject_field.empty(); }
};

// kController is the data office itself: its tokens may change the sensor
// register (docs/register.md) and publish public releases (docs/dp.md).
enum class PartyKind { kDepartment, kPartner, kResearcher, kPublic, kController };

struct Party {
  std::string id;  // "transport-dept"
  std::string name;
  PartyKind kind = PartyKind::kDepartment;
  std::string contact;
  SourceLocation location;
};

// Access levels, weakest first; a level grants nothing above itself.
enum class AccessLevel { kPublic, kAggregate, kExtract, kRecords };

struct Budget {
  double epsilon = 0;
  double delta = 0;
  absl::Duration period = absl::Hours(24 * 30);
};

struct Agreement {
  std::string id;
  std::string party;
  std::string stream;
  AccessLevel level = AccessLevel::kAggregate;
  std::vector<std::string> purposes;
  std::vector<std::string> fields;  // granted fields (records and extract)
  std::optional<absl::Time> valid_from;
  std::optional<absl::Time> valid_until;
  // Coarsest-allowed granularity: records are coarsened to at least these.
  std::optional<absl::Duration> time_granularity;
  std::optional<int> cell_level;
  int k_threshold = 0;                         // extract: minimum equivalence class size
  std::optional<Budget> budget;                // aggregate: DP budget per period
  std::optional<absl::Duration> delete_after;  // duty, shown publicly
  bool no_onward_sharing = false;              // duty, shown publicly
  SourceLocation location;
};

struct Sensor {
  std::string id;
  std::string stream;
  std::string name;
  std::optional<double> latitude;
  std::optional<double> longitude;
  std::string owner;
  std::string contact;
  // A proposed sensor: the public may comment until then, and it goes live
  // only after it (docs/register.md). Unset: live.
  std::optional<absl::Time> comments_until;
  SourceLocation location;
};

// The scheduled DPIA (docs/register.md): re-run every `interval`; a
// measured share above its threshold is an alert.
struct DpiaSettings {
  int k = 5;                        // classes smaller than k count as at risk
  double unicity_threshold = 0.05;  // p = 2 unicity above this is high risk
  double k_share_threshold = 0.05;  // share of records in classes < k
  absl::Duration interval = absl::Hours(24);
};

struct City {
  std::string name;
  std::string controller;  // the data office
  std::string contact;     // the DPO
  std::optional<Area> area;
};

// OpenID Connect / JWT bearer tokens from the city's identity provider
// (docs/config.md "oidc"). Keys come from a JWKS file (read by the loader)
// or a URL (fetched by `serve`).
struct Oidc {
  std::string issuer;     // the exact "iss"
  std::string audience;   // must be in "aud"
  std::string jwks_file;  // as written, relative to city.yaml
  std::string jwks_json;  // the file's contents, read by the loader
  std::string jwks_url;   // http(s) URL; exactly one of file and URL
  absl::Duration jwks_refresh = absl::Hours(1);
  absl::Duration leeway = absl::Seconds(60);
  // Party tokens: the claim (a top-level name or a dotted path) whose value,
  // a string or a list of strings, maps to exactly one party.
  std::string party_claim;
  std::map<std::string, std::string> parties;  // claim value -> party id
  // Citizen tokens: the claim listing {"stream":..., "id":...} pairs.
  std::string identifiers_claim;
  SourceLocation location;
};

// A token bucket: `rate` requests per second on average, `burst` at once.
struct RateLimit {
  double rate = 0;
  int64_t burst = 0;
};

// Request rate limits (docs/config.md "limits"); absent: no limits.
struct Limits {
  std::optional<RateLimit> per_principal;    // per party, or per sensor token
  std::optional<RateLimit> per_address;      // per client address
  std::map<std::string, RateLimit> parties;  // per-party override of per_principal
  SourceLocation location;
};

// The MQTT broker privacity subscribes to (docs/config.md#mqtt). Secrets
// are not held here: only where to read the password from.
struct MqttBroker {
  std::string uri;            // tcp://host:port or ssl://host:port
  std::string client_id;      // fixed: the broker keeps the session under it
  std::string username;       // empty: no authentication
  std::string password_file;  // as written, relative to city.yaml
  std::string password_env;   // or the name of an environment variable
  // TLS (ssl:// only): CA bundle to verify the broker (empty: the system's),
  // optional client certificate and key.
  std::string ca_file, cert_file, key_file;
  absl::Duration keep_alive = absl::Seconds(30);
  // Micro-batches: messages are stored together once this many arrived or
  // the oldest waited this long.
  int batch_messages = 1000;
  absl::Duration batch_delay = absl::Milliseconds(50);
  // How long the digests of received messages are kept to drop redeliveries.
  absl::Duration dedupe_window = absl::Hours(24 * 7);
  SourceLocation location;
};

struct CityConfig {
  City city;
  // Store URI: "sqlite:" + path relative to the data dir (default), later
  // "postgresql://...".
  std::string store = "sqlite:privacity.db";
  std::vector<Purpose> purposes;
  std::vector<Stream> streams;
  std::vector<Party> parties;
  std::vector<Agreement> agreements;
  std::vector<Sensor> sensors;
  DpiaSettings dpia;
  std::optional<Oidc> oidc;
  std::optional<Limits> limits;
  std::optional<MqttBroker> mqtt;
  std::string source_path;  // the file this was loaded from

  const Stream* FindStream(std::string_view id) const {
    for (const Stream& s : streams) {
      if (s.id == id) return &s;
    }
    return nullptr;
  }
  const Purpose* FindPurpose(std::string_view id) const {
    for (const Purpose& p : purposes) {
      if (p.id == id) return &p;
    }
    return nullptr;
  }
  const Party* FindParty(std::string_view id) const {
    for (const Party& p : parties) {
      if (p.id == id) return &p;
    }
    return nullptr;
  }
};

// Names as written in city.yaml ("subject-identifier", "time_bucket", ...).
std::string_view ToString(LegalBasis v);
std::string_view ToString(FieldType v);
std::string_view ToString(FieldCategory v);
std::string_view ToString(TransformKind v);
std::string_view ToString(RedactPattern v);
std::string_view ToString(PartyKind v);
std::string_view ToString(AccessLevel v);
std::string_view ToString(MqttPayloadFormat v);

// Inverses of ToString: the value a city.yaml name stands for, or nullopt
// when the name is unknown (the names are case-sensitive).
std::optional<LegalBasis> ParseLegalBasis(std::string_view name);
std::optional<FieldType> ParseFieldType(std::string_view name);
std::optional<FieldCategory> ParseFieldCategory(std::string_view name);
std::optional<TransformKind> ParseTransformKind(std::string_view name);
std::optional<RedactPattern> ParseRedactPattern(std::string_view name);
std::optional<PartyKind> ParsePartyKind(std::string_view name);
std::optional<AccessLevel> ParseAccessLevel(std::string_view name);

}  // namespace privacity::config

#endif  // PRIVACITY_CONFIG_MODEL_H_
