// Internal to the anon module: integer encoding of the data, equivalence
// classes, privacy models and utility metrics per lattice node, and the
// lattice search. Callers outside src/anon use anonymizer.h.
#ifndef PRIVACITY_ANON_ENGINE_H_
#define PRIVACITY_ANON_ENGINE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "anon/anonymizer.h"
#include "anon/hierarchy.h"

namespace privacity::anon::internal {

// The privacy models with their parameters resolved.
struct ModelSpec {
  enum class L { kNone, kDistinct, kEntropy };
  enum class T { kNone, kEqual, kOrdered };
  int64_t k = 1;
  L l_kind = L::kNone;
  double l = 1;
  T t_kind = T::kNone;
  double t = 1;
  int64_t max_suppressed = 0;  // records

  bool NeedsHistograms() const { return l_kind != L::kNone || t_kind != T::kNone; }
  // Whether "satisfied within the suppression limit" carries over to every
  // generalisation of a node. k-anonymity and distinct-l are monotone with
  // suppression; entropy-l and t-closeness only without (merging a passing
  // class with a failing one can fail, so suppression can grow).
  bool Monotone() const {
    return max_suppressed == 0 || (l_kind != L::kEntropy && t_kind == T::kNone);
  }
};

// Distribution of the sensitive attribute over the whole input, with the
// prefix sums the ordered-distance EMD needs. Values are numbered 0..m-1 in
// their order.
struct SensitiveDistribution {
  std::vector<double> q;           // q[i] share of value i
  std::vector<double> cumulative;  // cumulative[i] = q[0] + ... + q[i]
  std::vector<double>
      cum_prefix;  // cum_prefix[i] = cumulative[0] + ... + cumulative[i-1]
  size_t size() const { return q.size(); }
};

SensitiveDistribution MakeSensitiveDistribution(absl::Span<const int64_t> counts);

// Earth mover's distance between the class distribution given sparsely by
// (values ascending, counts) and the overall distribution.
double EqualDistanceEmd(absl::Span<const uint32_t> values,
                        absl::Span<const uint32_t> counts,
                        const SensitiveDistribution& overall);
double OrderedDistanceEmd(absl::Span<const uint32_t> values,
                          absl::Span<const uint32_t> counts,
                          const SensitiveDistribution& overall);
// Shannon entropy (natural log) of the counts.
double Entropy(absl::Span<const uint32_t> counts);

struct EncodedColumn {
  int depth = 1;
  uint32_t domain = 0;                           // raw values in the hierarchy
  std::vector<std::vector<uint32_t>> level_map;  // [level][raw code] -> code
  std::vector<uint32_t> cardinality;             // codes per level
  std::vector<uint32_t> data_cardinality;        // codes present in the data
  // Utility tables, per level (and code).
  std::vector<double> nue_total;                    // bits lost by all records
  std::vector<std::vector<double>> nue_suppressed;  // extra bits per suppressed record
  std::vector<double> loss_total;                   // loss summed over records
  std::vector<std::vector<double>> loss_suppressed;
  std::vector<double> precision;  // level / (depth - 1)
};

struct EncodedData {
  size_t num_records = 0;
  size_t num_qis = 0;
  std::vector<EncodedColumn> columns;
  std::vector<uint32_t> tuples;  // raw codes, num_qis per record
  bool has_sensitive = false;
  std::vector<uint32_t> sensitive;  // code per record
  SensitiveDistribution overall;
};

// REQUIRES: hierarchies.size() * num_records == tuples.size(); every
// tuples[r * m + j] < hierarchies[j]->size(); sensitive empty or one code
// per record, each < sensitive_domain.
EncodedData EncodeData(absl::Span<const Hierarchy* const> hierarchies,
                       std::vector<uint32_t> tuples, std::vector<uint32_t> sensitive,
                       uint32_t sensitive_domain);

// Equivalence classes at some node. Each class is named by one of its
// records (whose raw tuple, generalised, is the class's tuple).
struct ClassSet {
  std::vector<uint32_t> rep;
  std::vector<uint32_t> count;
  bool has_histograms = false;
  std::vector<uint32_t> hist_start = {0};  // size() + 1 entries
  std::vector<uint32_t> hist_value;        // ascending within a class
  std::vector<uint32_t> hist_count;

  size_t size() const { return rep.size(); }
  size_t MemoryBytes() const;
};

// One class per record (the input to grouping at the raw level).
ClassSet RecordClasses(const EncodedData& data, bool histograms);

// Groups classes by their generalised tuples, with one open-addressing
// table of reused scratch space. Not thread-safe.
class Grouper {
 public:
  // Fills `out` with the classes of `src` merged at `levels`; when
  // `assignment` is given, stores the index in `out` of each class of
  // `src`. REQUIRES: levels[j] < data.columns[j].depth; `src` was grouped
  // at levels no more general than `levels`.
  void Group(const EncodedData& data, const ClassSet& src, absl::Span<const int> levels,
             ClassSet& out, std::vector<uint32_t>* assignment);

 private:
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> slots_;
  std::vector<uint32_t> assign_;
  std::vector<uint32_t> gen_;
  std::vector<uint32_t> bucket_start_;
  std::vector<uint32_t> order_;
  std::vector<uint32_t> dense_;
  std::vector<uint32_t> touched_;
};

enum class ClassVerdict : uint8_t {
  kPasses = 0,
  kFailsMonotone = 1,  // fails k-anonymity or distinct-l
  kFailsOther = 2,     // passes those, fails entropy-l or t-closeness
};

// REQUIRES: classes.has_histograms when model.NeedsHistograms().
void ClassVerdicts(const EncodedData& data, const ClassSet& classes,
                   const ModelSpec& model, std::vector<ClassVerdict>& out);

struct Evaluation {
  bool anonymous = false;         // failing records <= max_suppressed
  bool monotone_failure = false;  // k/distinct-l failures alone exceed it
  int64_t suppressed = 0;         // records in failing classes
  int64_t classes = 0;            // all classes
  int64_t kept_classes = 0;       // classes that pass
  double metric = 0;              // information loss with suppression
  double bound = 0;               // monotone lower bound from the classes
};

Evaluation Evaluate(const EncodedData& data, const ClassSet& classes,
                    absl::Span<const int> levels, const ModelSpec& model,
                    UtilityMetric metric);

// A lower bound of the metric at `levels` that needs no grouping, never
// decreases under generalisation and never exceeds Evaluate().bound.
double LowerBound(const EncodedData& data, absl::Span<const int> levels,
                  UtilityMetric metric);

// The generalisation lattice: one level per column, numbered in mixed radix
// (column 0 varies fastest).
class Lattice {
 public:
  // REQUIRES: every height >= 1 and their product <= kMaxLatticeNodes.
  explicit Lattice(std::vector<int> heights);
  uint32_t size() const { return size_; }
  size_t dims() const { return heights_.size(); }
  int height(size_t j) const { return heights_[j]; }
  uint32_t stride(size_t j) const { return strides_[j]; }
  uint32_t Index(absl::Span<const int> levels) const;
  void Levels(uint32_t node, std::vector<int>& out) const;
  int Level(uint32_t node, size_t j) const {
    return static_cast<int>(node / strides_[j] % heights_[j]);
  }

 private:
  std::vector<int> heights_;
  std::vector<uint32_t> strides_;
  uint32_t size_ = 1;
};

struct SearchOutcome {
  std::vector<int> levels;
  Evaluation evaluation;
  int64_t lattice_nodes = 0;
  int64_t evaluated_nodes = 0;
};

// The node with the smallest metric among those that satisfy `model`
// within its suppression limit: Flash-style classification with
// predictive tagging when the model is monotone, then a best-first pass in
// order of LowerBound() that prunes by Evaluation::bound. Ties go to the
// node first in that order. FailedPrecondition when no node satisfies.
// REQUIRES: bottom holds the classes at the raw level, with histograms when
// the model needs them.
absl::StatusOr<SearchOutcome> FindOptimum(const EncodedData& data, const ClassSet& bottom,
                                          const ModelSpec& model, UtilityMetric metric);

// The input checked and encoded, with its classes at the raw level.
struct Prepared {
  ModelSpec model;
  EncodedData data;
  std::vector<const Hierarchy*> hierarchies;
  ClassSet bottom;                     // with histograms when the model needs them
  std::vector<uint32_t> record_class;  // each record's class in `bottom`
};

// Validates `options` against `input` (columns, parameters, values missing
// from hierarchies, k larger than the data) and encodes it.
absl::StatusOr<Prepared> Prepare(const CsvTable& input, const AnonymizeOptions& options);

}  // namespace privacity::anon::internal

#endif  // PRIVACITY_ANON_ENGINE_H_
