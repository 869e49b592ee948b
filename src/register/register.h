// The sensor register: every sensor the city runs or proposes, with
// DTPR-style elements (purpose, accountable organisation, data type,
// processing, access) DERIVED from its stream's policy in city.yaml, never
// written by hand, so the public description cannot drift from what the
// trust enforces.
//
// Sensors come from city.yaml and from controllers (POST
// /v1/admin/sensors). A sensor with `comments_until` is proposed: citizens
// may comment or object until then, and it is live only afterwards.
// Comments are kept in the store (meta "register.comments.<sensor>") for
// the controller; only their count is public. Added sensors are kept in
// meta "register.sensors". See docs/register.md.
#ifndef PRIVACITY_REGISTER_REGISTER_H_
#define PRIVACITY_REGISTER_REGISTER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "config/model.h"
#include "nlohmann/json.hpp"
#include "store/store.h"

namespace privacity::registry {

inline constexpr size_t kMaxCommentBytes = 2000;
inline constexpr size_t kMaxCommentsPerSensor = 10000;

enum class SensorOrigin { kConfig, kAdmin };
enum class SensorStatus { kProposed, kLive };
enum class CommentKind { kComment, kObjection };

// The DTPR-style elements of a stream, derived from the config. Serialised
// by ToJson; the member names are part of the public API (docs/register.md).
struct DtprElements {
  struct PurposeElement {
    std::string id;
    std::string description;
    std::string legal_basis;
  };
  struct AccessElement {
    std::string agreement;
    std::string party;
    std::string party_name;
    std::string level;  // public, aggregate, extract, records
    std::vector<std::string> purposes;
    std::vector<std::string> fields;  // released fields (records, extract)
  };
  std::vector<PurposeElement> purposes;
  std::string accountable;             // the city's controller
  std::string contact;                 // the DPO
  std::string data_type;               // "personal" or "non-personal"
  std::vector<std::string> collected;  // "name (category)" of stored fields
  std::vector<std::string> dropped;    // declared fields dropped at ingest
  // Processing.
  std::vector<std::string> pseudonymised;  // fields replaced by pseudonyms
  std::optional<absl::Duration> pseudonym_epoch;
  std::vector<std::string> generalised;  // "field: time_bucket 15m", ...
  bool sealed = false;                   // payloads encrypted per subject
  bool aggregated = false;               // an aggregate or public agreement
  bool differential_privacy = false;     // ... with a DP budget
  std::optional<int> k_anonymity;        // the smallest k of extract agreements
  absl::Duration retention;
  absl::Duration linkability;
  std::vector<AccessElement> access;
};

DtprElements DeriveDtpr(const config::CityConfig& config, const config::Stream& stream);
nlohmann::json ToJson(const DtprElements& d);

struct RegisterEntry {
  config::Sensor sensor;
  SensorOrigin origin = SensorOrigin::kConfig;
  SensorStatus status = SensorStatus::kLive;
  int64_t comments = 0;  // comments and objections received
  int64_t objections = 0;
};

struct Comment {
  absl::Time time;
  CommentKind kind = CommentKind::kComment;
  std::string text;
};

// A sensor to add. Validated by SensorRegister::Add.
struct SensorProposal {
  std::string id;
  std::string stream;
  std::string name;
  std::optional<double> latitude;
  std::optional<double> longitude;
  std::string owner;
  std::string contact;
  std::optional<absl::Time> comments_until;
};

// Parses a JSON body {"id","stream","name","lat","lon","owner","contact",
// "comments_until"} into a proposal. InvalidArgument naming the member.
absl::StatusOr<SensorProposal> ParseProposal(std::string_view body);

class SensorRegister {
 public:
  // REQUIRES: every argument outlives the register.
  SensorRegister(const config::CityConfig& config, store::Store& store, Clock& clock)
      : config_(config), store_(store), clock_(clock) {}

  // Every sensor: city.yaml's first, then the added ones in order.
  absl::StatusOr<std::vector<RegisterEntry>> List();
  absl::StatusOr<RegisterEntry> Find(const std::string& id);

  // Adds a sensor. InvalidArgument for a bad id (1 to 64 of [A-Za-z0-9._-]),
  // an unknown stream, coordinates out of range or given alone, an empty or
  // over-long name, or a comment period already over; AlreadyExists for a
  // taken id. Nothing is written on error.
  absl::StatusOr<RegisterEntry> Add(const SensorProposal& proposal);

  // Stores a citizen's comment. NotFound for an unknown sensor;
  // FailedPrecondition when the sensor is not open for comments (live);
  // InvalidArgument for empty text, text over kMaxCommentBytes or not valid
  // UTF-8, or control characters other than newline and tab.
  // ResourceExhausted when the sensor holds kMaxCommentsPerSensor.
  absl::StatusOr<RegisterEntry> AddComment(const std::string& sensor, CommentKind kind,
                                           const std::string& text);

  // The comments on `sensor`, oldest first (for the controller).
  absl::StatusOr<std::vector<Comment>> Comments(const std::string& sensor);

 private:
  absl::StatusOr<std::vector<config::Sensor>> AddedLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<Comment>> CommentsLocked(const std::string& sensor)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<RegisterEntry> EntryLocked(const config::Sensor& sensor,
                                            SensorOrigin origin)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const config::CityConfig& config_;
  store::Store& store_;
  Clock& clock_;
  absl::Mutex mu_;
};

std::string_view ToString(SensorStatus s);
std::string_view ToString(CommentKind k);

// The register as JSON {"sensors":[...]} or as a GeoJSON FeatureCollection
// (sensors without coordinates have a null geometry).
nlohmann::json RegisterJson(const config::CityConfig& config,
                            const std::vector<RegisterEntry>& entries);
nlohmann::json RegisterGeoJson(const config::CityConfig& config,
                               const std::vector<RegisterEntry>& entries);

}  // namespace privacity::registry

#endif  // PRIVACITY_REGISTER_REGISTER_H_
