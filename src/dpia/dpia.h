// The data protection impact assessment (DPIA) of one stream, from the
// config and from the stored data (docs/register.md, "DPIA"):
//
// - the inventory: fields and categories, the subjects, purposes and legal
//   bases, recipients (agreements), retention, pseudonym epoch and
//   transforms;
// - rule-based risks, each with a severity and the mitigation in place;
// - re-identification risk measured on the stored data, for the stored
//   view and for each records-level agreement (the record-level views):
//     * the share of records in equivalence classes smaller than k over the
//       view's quasi-identifiers (fields of category quasi-identifier,
//       location and time, coarsened as the view releases them), with the
//       El Emam risk summary of anon/risk.h;
//     * the unicity of traces (de Montjoye et al., "Unique in the Crowd",
//       2013): a trace is the set of (time bucket, S2 cell) points of one
//       pseudonym after the view's generalisation; for each trace with at
//       least p distinct points, p of them are drawn at random, and the
//       trace is unique when no other trace contains all p. Unicity is the
//       share of such traces that are unique, for p = 2 and p = 4.
//   A records-level view whose p = 2 unicity is above the threshold is a
//   high risk naming the agreement, with the finest generalisation that
//   brings it under the threshold, or a DP aggregate when none does.
//
// The module is pure: stored records come through a RecordSource, time as
// an argument and randomness as a RandomSource, so the measures can be
// checked by hand on constructed data.
#ifndef PRIVACITY_DPIA_DPIA_H_
#define PRIVACITY_DPIA_DPIA_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "anon/risk.h"
#include "common/random.h"
#include "config/model.h"
#include "nlohmann/json.hpp"

namespace privacity::dpia {

// One stored record as the DPIA reads it: its payload opened.
struct StoredView {
  int64_t time_us = 0;    // event time as stored
  uint64_t cell = 0;      // S2 cell id of the stream's location; 0 when none
  std::string pseudonym;  // the subject field's pseudonym; empty when none
  nlohmann::json fields;  // the opened payload (an object)
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // Calls `fn` for every readable stored record of `stream`; stops at the
  // first error of `fn` and returns it.
  virtual absl::Status Scan(const config::Stream& stream,
                            const std::function<absl::Status(const StoredView&)>& fn) = 0;
};

// A spatio-temporal generalisation: time buckets and S2 cell level.
struct Generalisation {
  absl::Duration time_bucket = absl::ZeroDuration();  // zero: as stored
  int cell_level = 30;
  bool operator==(const Generalisation&) const = default;
};

struct TracePoint {
  int64_t time_us = 0;
  uint64_t cell = 0;
  bool operator==(const TracePoint&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const TracePoint& p) {
    return H::combine(std::move(h), p.time_us, p.cell);
  }
};

struct UnicityResult {
  int p = 0;
  int64_t traces = 0;    // all traces
  int64_t eligible = 0;  // traces with at least p distinct points
  int64_t unique = 0;    // eligible traces singled out by their p points
  double unicity = 0;    // unique / eligible (0 when none is eligible)
};

// Unicity of `traces` (each a list of points, duplicates allowed) for p
// points. InvalidArgument when p < 1.
absl::StatusOr<UnicityResult> MeasureUnicity(
    const std::vector<std::vector<TracePoint>>& traces, int p, RandomSource& random);

// Coarsens a point: time floored to the bucket (unchanged for zero), cell
// to its parent at the level.
TracePoint Generalise(const TracePoint& point, const Generalisation& g);

struct KShareResult {
  int k = 0;
  std::vector<std::string> quasi_identifiers;
  int64_t records = 0;
  int64_t classes = 0;
  int64_t in_small_classes = 0;  // records in classes of size < k
  double share = 0;              // in_small_classes / records
  anon::RiskSummary risk;
};

// Equivalence classes of `rows` (each the QI values of one record).
absl::StatusOr<KShareResult> MeasureKShare(
    const std::vector<std::vector<std::string>>& rows, int k);

enum class Severity { kLow, kMedium, kHigh };
std::string_view ToString(Severity s);

struct Risk {
  std::string id;  // stable: "linkable-traces", "free-text", ...
  Severity severity = Severity::kLow;
  std::string agreement;  // when the risk is about one agreement
  std::string description;
  std::string mitigation;
};

// The measures of one view: the stored data (agreement empty) or what a
// records-level agreement releases.
struct ViewMeasures {
  std::string agreement;
  Generalisation generalisation;
  bool linkable = false;  // the view releases the pseudonym (traces exist)
  std::optional<UnicityResult> unicity_p2, unicity_p4;
  std::optional<KShareResult> k_share;
  // When p = 2 unicity is above the threshold: the finest generalisation
  // that brings it under, or nullopt with `recommend_dp` set.
  std::optional<Generalisation> recommended;
  std::optional<UnicityResult> recommended_p2;
  bool recommend_dp = false;
};

struct DpiaReport {
  std::string stream;
  absl::Time generated;
  nlohmann::json inventory;  // fields, subjects, purposes, recipients, retention
  std::vector<Risk> risks;
  std::vector<ViewMeasures> views;
  int k = 5;
  double unicity_threshold = 0.05;
  double k_share_threshold = 0.05;
  int64_t records = 0;
};

// Runs the DPIA of `stream`. Generalisations tried for a recommendation
// never go finer than the view's own.
absl::StatusOr<DpiaReport> RunDpia(const config::CityConfig& config,
                                   const config::Stream& stream, RecordSource& source,
                                   RandomSource& random, absl::Time now);

nlohmann::json ToJson(const DpiaReport& report);
std::string ToMarkdown(const DpiaReport& report);
// A standalone HTML page; every config and data string is escaped.
std::string ToHtml(const DpiaReport& report);

}  // namespace privacity::dpia

#endif  // PRIVACITY_DPIA_DPIA_H_
