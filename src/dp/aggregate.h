// Differentially private aggregates over one stream, with the contribution
// bounding done here and never left to the caller.
//
// Usage: describe the query (AggregateSpec), create an Aggregator for the
// stream (which validates the query against the stream's declaration and
// knows the privacy cost before seeing any data), Add() each record the
// caller is allowed to aggregate, then Release() once with a NoiseSource.
//
// Unit of privacy: one data subject (its blind index) for streams with a
// subject field; one record for streams without one (footfall counts: each
// record is its own contributor). Records of a personal stream whose blind
// index was cleared (past the linkability window) are each their own
// contributor too.
//
// Bounding, per contributor: at most `max_partitions` (L0) partitions and at
// most `max_records_per_partition` (Linf) records in each; when a
// contributor has more, the records kept are the first ones in a uniformly
// random order drawn from the NoiseSource. Values are clamped to
// [lower, upper], which must lie within the field's declared min/max, and
// are summed in fixed point (kFixedPointScale units), so every sum is an
// integer query with integer sensitivity. docs/dp.md lists the
// sensitivities.
#ifndef PRIVACITY_DP_AGGREGATE_H_
#define PRIVACITY_DP_AGGREGATE_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/model.h"
#include "dp/accountant.h"
#include "dp/noise.h"
#include "nlohmann/json.hpp"

namespace privacity::dp {

// Values are summed as integers in units of 1/kFixedPointScale.
inline constexpr int64_t kFixedPointScale = 1000;
// Largest public partition domain enumerated (time buckets x enum values).
inline constexpr int64_t kMaxPublicPartitions = 200'000;

enum class Metric { kCount, kDistinctSubjects, kSum, kMean, kQuantiles, kHistogram };

// "count", "distinct_subjects", "sum", "mean", "quantiles", "histogram".
std::string_view ToString(Metric m);
std::optional<Metric> ParseMetric(std::string_view name);

// One grouping dimension: "time:1h" / "time:1d" (any duration spec),
// "cell:LEVEL" (S2 level 0-30), or the name of an enum field.
struct GroupBy {
  enum class Kind { kTime, kCell, kField };
  Kind kind = Kind::kTime;
  absl::Duration bucket;  // kTime
  int cell_level = 0;     // kCell
  std::string field;      // kField
  std::string spec;       // as written; the column name in the output
};

// Parses one group_by entry against `stream`. InvalidArgument names the
// entry and why (bad duration, level out of range, unknown or non-enum
// field, stream without location for cells).
absl::StatusOr<GroupBy> ParseGroupBy(std::string_view spec, const config::Stream& stream);

struct AggregateSpec {
  Metric metric = Metric::kCount;
  Mechanism mechanism = Mechanism::kLaplace;
  std::vector<GroupBy> group_by;
  std::optional<absl::Time> from;  // inclusive
  std::optional<absl::Time> to;    // exclusive
  // The declared area (the stream's, else the city's): when set, cell
  // groupings release every cell of the level covering it (public domain,
  // empty cells included); records in cells outside it are not counted.
  // When absent, cells are chosen by DP partition selection.
  std::optional<config::Area> cell_area;
  // sum, mean, quantiles: a numeric field; histogram: an enum field.
  std::string value_field;
  // Clamping bounds; default the field's declared min/max. Must lie within
  // them.
  std::optional<double> lower;
  std::optional<double> upper;
  std::vector<double> quantiles = {0.5};  // each in [0, 1]
  int64_t quantile_bins = 64;             // resolution of quantiles
  double epsilon = 0;
  double delta = 0;                       // Gaussian noise and DP partition selection
  int64_t max_partitions = 1;             // L0
  int64_t max_records_per_partition = 1;  // Linf
};

// One released row: the partition key (one string per output column before
// the value) and the released value(s).
struct AggregateRow {
  std::vector<std::string> key;
  nlohmann::ordered_json value;
};

struct AggregateRelease {
  std::vector<std::string> key_columns;  // group_by specs (+ histogram field)
  std::string value_column;              // metric name
  std::vector<AggregateRow> rows;        // in key order
  PrivacyLoss loss;                      // what the release costs
  bool partition_selection = false;      // partitions were chosen with DP
  int64_t dropped_by_bounding = 0;       // records over L0/Linf (not released)

  // {"columns":[...],"rows":[{"<col>":key,...,"<metric>":value},...], ...}
  // The caller adds budget information.
  nlohmann::ordered_json ToJson() const;
};

class Aggregator {
 public:
  // Validates `spec` against `stream`: metric needs, value field type,
  // bounds within the declared ones, epsilon > 0, delta in [0, 1), delta > 0
  // for Gaussian noise and for groupings without a public domain (cells
  // without a declared area, or time without from and to), L0 and Linf in
  // [1, 10^6], the public domain not larger than kMaxPublicPartitions.
  // REQUIRES: `stream` outlives the aggregator.
  static absl::StatusOr<std::unique_ptr<Aggregator>> Create(const config::Stream& stream,
                                                            AggregateSpec spec);

  // The cost of Release(), known before any data is seen.
  PrivacyLoss loss() const { return loss_; }
  const AggregateSpec& spec() const { return spec_; }
  // Whether Add reads the payload (a measured field or a field grouping);
  // when not, callers may pass an empty object instead of opening it.
  bool needs_payload() const {
    return value_field_ != nullptr ||
           std::any_of(spec_.group_by.begin(), spec_.group_by.end(),
                       [](const GroupBy& g) { return g.kind == GroupBy::Kind::kField; });
  }

  // Adds one record. `contributor` is the subject's blind index; empty for
  // streams without a subject or unlinked records (then the record is its
  // own contributor). `payload` is the opened record. Records outside
  // [from, to), without the grouped or measured field, or without a cell
  // when grouping by cell, are not counted. InvalidArgument when the record
  // has a cell coarser than a requested cell level.
  absl::Status Add(std::string_view contributor, int64_t time_us, uint64_t cell,
                   const nlohmann::json& payload);

  // Bounds contributions, selects partitions, adds noise. Call once.
  absl::StatusOr<AggregateRelease> Release(NoiseSource& noise);

 private:
  struct Entry {
    uint32_t contributor;
    uint32_t partition;
    int64_t value;  // fixed-point value, or quantile bin
  };

  Aggregator(const config::Stream& stream, AggregateSpec spec)
      : stream_(stream), spec_(std::move(spec)) {}
  absl::Status Init();
  // The display strings of a binary partition key built by Add.
  std::vector<std::string> DisplayKey(std::string_view key) const;

  const config::Stream& stream_;
  AggregateSpec spec_;
  PrivacyLoss loss_;
  bool public_domain_ = false;
  const config::Field* value_field_ = nullptr;
  int64_t lower_fp_ = 0, upper_fp_ = 0;  // clamping bounds, fixed point
  double lower_ = 0, upper_ = 0;
  std::vector<std::string> key_columns_;
  std::vector<Entry> entries_;
  std::vector<std::vector<std::string>> partitions_;          // id -> key
  absl::flat_hash_map<std::string, uint32_t> partition_ids_;  // binary key -> id
  absl::flat_hash_map<std::string, uint32_t> contributor_ids_;
  // Public cell domains, by group_by index (empty when not a cell
  // grouping): the tokens in id order, and the ids for membership.
  std::vector<std::vector<std::string>> cell_domains_;
  std::vector<absl::flat_hash_set<uint64_t>> cell_domain_ids_;
  // Time bucket lengths in us, by group_by index (1 when not time).
  std::vector<int64_t> bucket_us_;
  std::string scratch_key_;
  uint32_t next_contributor_ = 0;
  bool released_ = false;
};

}  // namespace privacity::dp

#endif  // PRIVACITY_DP_AGGREGATE_H_
