// The extract view: k-anonymous microdata of one stream, built on request.
// Decide at the extract level; on a permit, take the record-level rows the
// agreement grants (consent and objection applied, coarsened as agreed),
// generalise the quasi-identifiers (fields of category quasi-identifier,
// time and location) by optimal full-domain generalisation (anon/) until
// every released class holds at least the agreement's k records, within a
// suppression limit, and return the table with its report.
#ifndef PRIVACITY_SERVER_EXTRACT_VIEW_H_
#define PRIVACITY_SERVER_EXTRACT_VIEW_H_

#include <optional>

#include "absl/status/statusor.h"
#include "anon/anonymizer.h"
#include "policy/decision.h"
#include "server/trust.h"

namespace privacity::server {

struct ExtractOptions {
  // Share of records that may be suppressed (removed) to reach k.
  double suppression_limit = 0.05;
  anon::UtilityMetric metric = anon::UtilityMetric::kNonUniformEntropy;
};

struct ExtractResult {
  policy::Decision decision;
  // Set when permitted: the released table (',' separated) and its report.
  std::optional<anon::AnonymizeResult> extract;
};

// Decides `request` (its level must be kExtract) and, when permitted,
// builds the extract. A denial is returned in the decision. FailedPrecondition
// when no generalisation reaches k within the suppression limit (nothing is
// released then).
absl::StatusOr<ExtractResult> BuildExtract(Trust& trust,
                                           const policy::AccessRequest& request,
                                           const ExtractOptions& options);

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_EXTRACT_VIEW_H_
