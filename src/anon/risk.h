// Re-identification risk of a table's equivalence classes (records that
// share all quasi-identifier values), after El Emam's attacker models:
//
// - prosecutor: the attacker knows the target is in the table; a record in
//   a class of size f is re-identified with probability 1/f. Average over
//   records = classes / records; maximum = 1 / smallest class.
// - journalist: the attacker links against a population table; a record
//   whose class matches F population records is re-identified with
//   probability 1/F. Without a population table the table is taken as its
//   own population and journalist risk equals prosecutor risk.
// - marketer: the expected share of records re-identified when every
//   record is attacked: sum over classes of f/F, divided by records
//   (classes / records without a population table).
// - unique share: records in classes of size 1, divided by records.
#ifndef PRIVACITY_ANON_RISK_H_
#define PRIVACITY_ANON_RISK_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace privacity::anon {

struct RiskSummary {
  int64_t records = 0;
  int64_t classes = 0;
  double prosecutor_average = 0;
  double prosecutor_max = 0;
  double journalist_average = 0;
  double journalist_max = 0;
  double marketer = 0;
  double unique_share = 0;
  bool population = false;  // journalist and marketer used a population table
};

// `class_sizes` are the sizes (> 0) of the classes. `population_sizes` is
// empty, or gives for each class the number of population records with the
// same quasi-identifier values. An empty table has zero risk. Errors when a
// size is not positive, the spans differ in length, or a population class
// is smaller than its sample class (the population must contain the
// sample).
absl::StatusOr<RiskSummary> ComputeRisk(absl::Span<const int64_t> class_sizes,
                                        absl::Span<const int64_t> population_sizes);

}  // namespace privacity::anon

#endif  // PRIVACITY_ANON_RISK_H_
