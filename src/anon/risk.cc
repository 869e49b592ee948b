#include "anon/risk.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace privacity::anon {

absl::StatusOr<RiskSummary> ComputeRisk(absl::Span<const int64_t> class_sizes,
                                        absl::Span<const int64_t> population_sizes) {
  const bool population = !population_sizes.empty();
  if (population && population_sizes.size() != class_sizes.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("risk: ", class_sizes.size(), " classes but ",
                     population_sizes.size(), " population sizes"));
  }
  RiskSummary out;
  out.population = population;
  int64_t smallest = 0;
  int64_t smallest_population = 0;
  int64_t uniques = 0;
  double linked = 0;  // sum of f / F
  int64_t bad_population = 0;
  for (size_t i = 0; i < class_sizes.size(); ++i) {
    const int64_t f = class_sizes[i];
    if (f <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("risk: class ", i, " has size ", f));
    }
    const int64_t big_f = population ? population_sizes[i] : f;
    if (big_f < f) {
      ++bad_population;
      continue;
    }
    out.records += f;
    ++out.classes;
    if (f == 1) ++uniques;
    smallest = smallest == 0 ? f : std::min(smallest, f);
    smallest_population =
        smallest_population == 0 ? big_f : std::min(smallest_population, big_f);
    linked += static_cast<double>(f) / static_cast<double>(big_f);
  }
  if (bad_population > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the population table has fewer records than the input in ", bad_population,
        " equivalence classes; it must contain every input record"));
  }
  if (out.records == 0) return out;
  const double n = static_cast<double>(out.records);
  out.prosecutor_average = static_cast<double>(out.classes) / n;
  out.prosecutor_max = 1.0 / static_cast<double>(smallest);
  out.journalist_average = linked / n;
  out.journalist_max = 1.0 / static_cast<double>(smallest_population);
  out.marketer = linked / n;
  out.unique_share = static_cast<double>(uniques) / n;
  return out;
}

}  // namespace privacity::anon
