// Validation of one input value against its declared field, and the
// transforms applied to it at ingest (config::Transform). Pseudonymize is
// not applied here: it needs keys, and the pipeline (transform/pipeline.h)
// applies it.
#ifndef PRIVACITY_TRANSFORM_FIELD_TRANSFORM_H_
#define PRIVACITY_TRANSFORM_FIELD_TRANSFORM_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/model.h"
#include "transform/value.h"

namespace privacity::transform {

// Reads `field` from `record` (through field.source, default the field's
// name) and checks it against the declared type, enum values and bounds.
// Returns std::monostate when absent and not required. Error messages name
// the field and the reason ("expected a number, got a string"); they never
// quote the value.
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
absl::Time CoarsenTime(absl::Time t, absl::Duration granularity);
// The parent of `cell` at `level`; unchanged if already at or above it.
CellId CoarsenCell(CellId cell, int level);
// The S2 cell containing `point` at `level`.
CellId CellOf(const GeoPoint& point, int level);
// The cell's level and the centroid to display.
int CellLevel(CellId cell);
GeoPoint CellCenter(CellId cell);
// S2 token ("89c25") and back.
std::string CellToken(CellId cell);
absl::StatusOr<CellId> CellFromToken(std::string_view token);

}  // namespace privacity::transform

#endif  // PRIVACITY_TRANSFORM_FIELD_TRANSFORM_H_
