// Validation of one input value against its declared field, and the
// transforms applied to it at ingest (config::Transform). Pseudonymize is
// not applied here: it needs keys, and the pipeline (transform/pipeline.h)
// applies it.
#ifndef PRIVACITY_TRANSFORM_FIELD_TRANSFORM_H_
#define PRIVACITY_TRANSFORM_FIELD_TRANSFORM_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/model.h"
#include "transform/value.h"

namespace privacity::transform {

// Reads `field` from `record` (through field.source, default the field's
// name) and checks it against the declared type, enum values and bounds.
// Returns std::monostate when absent and not required. Error messages name
// the field and the reason ("expected a number, got a string"); they never
// quote the value.
//
// The value's type follows the field's: string and enum -> std::string,
// int -> int64_t, number -> double, bool -> bool, time -> absl::Time,
// point -> GeoPoint.
//
// JSON inputs (InputRecord::Origin::kJson) must carry the declared JSON
// type; nothing is coerced:
//   string, enum  a JSON string (valid UTF-8; enum: one of field.values)
//   int           an integer, or an integral number
//   number        any number
//   bool          true or false
//   time          an RFC 3339 string (see ParseTimestamp), or integral Unix
//                 seconds
//   point         {"lat":..,"lon":..}, {"latitude":..,"longitude":..} or a
//                 GeoJSON {"type":"Point","coordinates":[lon,lat]}; or two
//                 numbers from two sources [latitude, longitude]
// Text inputs (Origin::kText, e.g. CSV) carry strings, parsed by type:
// trimmed decimal digits for int; trimmed decimal for number (no nan, inf
// or hex); true/false (any case) or 1/0 for bool; a timestamp or integral
// Unix seconds for time; a JSON point or "latitude,longitude" for point;
// string and enum as they are. An empty (or blank) cell of a non-string
// field counts as absent.
//
// Latitude must lie in [-90, 90] and longitude in [-180, 180]. A value of
// an int or number field outside field.min/field.max is an error, unless
// the field has a clamp transform: then it is clamped to those bounds.
absl::StatusOr<Value> ValidateField(const config::Field& field,
                                    const InputRecord& record);

// The compiled transform chain of one field (regular expressions compiled,
// tables loaded). Immutable and thread-safe after Create.
class FieldTransformer {
 public:
  static absl::StatusOr<std::unique_ptr<FieldTransformer>> Create(
      const config::Field& field);
  virtual ~FieldTransformer() = default;

  // Applies every step except drop, keep and pseudonymize, in order.
  // std::monostate passes through unchanged.
  virtual absl::StatusOr<Value> Apply(Value value) const = 0;
};

// Coarsening on the read path (agreements may demand a coarser granularity
// than the one stored).
//
// Floors `t` to a multiple of `granularity` since the Unix epoch (times
// before 1970 floor towards the past). Returns `t` unchanged when
// `granularity` is not positive or `t` is infinite.
absl::Time CoarsenTime(absl::Time t, absl::Duration granularity);

// S2 cells. A CellId may hold any 64 bits; the helpers below treat an
// invalid one as documented rather than asserting.
//
// Whether `cell` is a valid S2 cell (CellId{} is not).
bool IsValidCell(CellId cell);
// The parent of `cell` at `level`; unchanged if already at or above it, or
// invalid. A negative level counts as 0.
CellId CoarsenCell(CellId cell, int level);
// The S2 cell containing `point` at `level` (clamped to 0..30). Returns the
// invalid CellId{} for a non-finite point.
CellId CellOf(const GeoPoint& point, int level);
// The cell's level (0..30), or -1 for an invalid cell.
int CellLevel(CellId cell);
// The cell's centre, to display; {0, 0} for an invalid cell.
GeoPoint CellCenter(CellId cell);
// S2 token ("89c25"): lower-case hex without trailing zeros; "X" for an
// invalid cell.
std::string CellToken(CellId cell);
// Parses a token of 1 to 16 hex digits (either case). InvalidArgument when
// it has other characters or does not name a valid cell ("X", "0", "f").
absl::StatusOr<CellId> CellFromToken(std::string_view token);

}  // namespace privacity::transform

#endif  // PRIVACITY_TRANSFORM_FIELD_TRANSFORM_H_
