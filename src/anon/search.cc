// The lattice search. Two phases:
//
// 1. Classification (only when the model is monotone): Flash (Kohlmayer et
//    al. 2012). Nodes are visited level by level in a fixed order; from each
//    untagged node a path is built upwards through untagged successors and
//    binary-searched for its lowest satisfying node. Every check tags the
//    node's successors (satisfied) or predecessors (not satisfied), so all
//    nodes end up classified with few checks. Non-satisfying nodes go on a
//    heap whose successors are explored next.
// 2. Optimisation: candidate nodes in ascending LowerBound() order. The
//    first candidate whose bound reaches the best metric so far ends the
//    search; a checked node whose class-based bound reaches it prunes all
//    its successors.
//
// Classes of a node are computed by rolling up the classes of the least
// costly cached node below it (or of the raw level).
#include <algorithm>
#include <limits>
#include <memory>
#include <queue>

#include "absl/container/flat_hash_map.h"
#include "anon/engine.h"

namespace privacity::anon::internal {
namespace {

// kNotSatisfied implies the same for every predecessor (tags propagate);
// kFailed marks a node that fails on its own (non-monotone models).
enum State : uint8_t { kUnknown = 0, kSatisfied = 1, kNotSatisfied = 2, kFailed = 3 };

// Recently computed classes, to roll up from.
class SnapshotCache {
 public:
  explicit SnapshotCache(const ClassSet& bottom) : bottom_(bottom) {}

  // The cached classes with the fewest entries at levels no more general
  // than `levels` (the raw level when none is cached).
  const ClassSet& Source(absl::Span<const int> levels) {
    Entry* best = nullptr;
    for (auto& e : entries_) {
      if (best != nullptr && e->classes.size() >= best->classes.size()) continue;
      bool below = true;
      for (size_t j = 0; j < levels.size(); ++j) {
        if (e->levels[j] > levels[j]) {
          below = false;
          break;
        }
      }
      if (below) best = e.get();
    }
    if (best == nullptr) return bottom_;
    best->last_use = ++clock_;
    return best->classes;
  }

  // An empty class set, reusing the buffers of the last evicted one (large
  // fresh allocations cost page faults on every evaluation).
  ClassSet TakeSpare() {
    ClassSet out = std::move(spare_);
    spare_ = ClassSet();
    return out;
  }

  void Insert(absl::Span<const int> levels, ClassSet classes) {
    // Barely smaller than the raw level: not worth the memory.
    if (classes.size() * 4 > bottom_.size() * 3) {
      spare_ = std::move(classes);
      return;
    }
    auto e = std::make_unique<Entry>();
    e->levels.assign(levels.begin(), levels.end());
    e->classes = std::move(classes);
    e->last_use = ++clock_;
    bytes_ += e->classes.MemoryBytes();
    entries_.push_back(std::move(e));
    while (entries_.size() > kMaxEntries || (bytes_ > kMaxBytes && entries_.size() > 1)) {
      auto oldest = std::min_element(
          entries_.begin(), entries_.end(),
          [](const auto& a, const auto& b) { return a->last_use < b->last_use; });
      bytes_ -= (*oldest)->classes.MemoryBytes();
      spare_ = std::move((*oldest)->classes);
      entries_.erase(oldest);
    }
  }

 private:
  static constexpr size_t kMaxEntries = 1024;
  static constexpr size_t kMaxBytes = size_t{32} << 20;
  struct Entry {
    std::vector<int> levels;
    ClassSet classes;
    uint64_t last_use = 0;
  };
  const ClassSet& bottom_;
  std::vector<std::unique_ptr<Entry>> entries_;
  ClassSet spare_;
  size_t bytes_ = 0;
  uint64_t clock_ = 0;
};

class Search {
 public:
  Search(const EncodedData& data, const ClassSet& bottom, const ModelSpec& model,
         UtilityMetric metric, std::vector<int> heights)
      : data_(data),
        model_(model),
        metric_(metric),
        lattice_(std::move(heights)),
        cache_(bottom),
        state_(lattice_.size(), kUnknown),
        pruned_(lattice_.size(), 0) {}

  absl::StatusOr<SearchOutcome> Run() {
    ComputeOrder();
    if (model_.Monotone()) Classify();
    return Optimise();
  }

 private:
  // Flash's visiting order: by sum of levels, then by sum of relative
  // levels (favouring generalisation of columns with tall hierarchies).
  void ComputeOrder() {
    const uint32_t n = lattice_.size();
    std::vector<uint32_t> nodes(n);
    std::vector<std::pair<int, double>> key(n);
    for (uint32_t v = 0; v < n; ++v) {
      nodes[v] = v;
      int sum = 0;
      double relative = 0;
      for (size_t j = 0; j < lattice_.dims(); ++j) {
        const int l = lattice_.Level(v, j);
        sum += l;
        if (lattice_.height(j) > 1)
          relative += static_cast<double>(l) / (lattice_.height(j) - 1);
      }
      key[v] = {sum, relative};
    }
    std::stable_sort(nodes.begin(), nodes.end(),
                     [&](uint32_t a, uint32_t b) { return key[a] < key[b]; });
    order_ = std::move(nodes);
    rank_.resize(n);
    for (uint32_t i = 0; i < n; ++i) rank_[order_[i]] = i;
  }

  template <typename F>
  void ForEachSuccessor(uint32_t v, F f) const {
    for (size_t j = 0; j < lattice_.dims(); ++j) {
      if (lattice_.Level(v, j) + 1 < lattice_.height(j)) f(v + lattice_.stride(j));
    }
  }
  template <typename F>
  void ForEachPredecessor(uint32_t v, F f) const {
    for (size_t j = 0; j < lattice_.dims(); ++j) {
      if (lattice_.Level(v, j) > 0) f(v - lattice_.stride(j));
    }
  }

  void Tag(uint32_t v, State s) {
    if (state_[v] == s) return;
    state_[v] = s;
    stack_.assign(1, v);
    while (!stack_.empty()) {
      const uint32_t u = stack_.back();
      stack_.pop_back();
      auto visit = [&](uint32_t w) {
        if (state_[w] != s) {
          state_[w] = s;
          stack_.push_back(w);
        }
      };
      if (s == kSatisfied) {
        ForEachSuccessor(u, visit);
      } else {
        ForEachPredecessor(u, visit);
      }
    }
  }

  void PruneSuccessors(uint32_t v) {
    stack_.assign(1, v);
    while (!stack_.empty()) {
      const uint32_t u = stack_.back();
      stack_.pop_back();
      ForEachSuccessor(u, [&](uint32_t w) {
        if (!pruned_[w]) {
          pruned_[w] = 1;
          stack_.push_back(w);
        }
      });
    }
  }

  // Computes the classes of `v`, evaluates it and tags what follows.
  const Evaluation& Check(uint32_t v) {
    lattice_.Levels(v, levels_);
    const ClassSet& source = cache_.Source(levels_);
    ClassSet classes = cache_.TakeSpare();
    grouper_.Group(data_, source, levels_, classes, nullptr);
    const Evaluation e = Evaluate(data_, classes, levels_, model_, metric_);
    cache_.Insert(levels_, std::move(classes));
    ++evaluated_;
    if (model_.Monotone()) {
      Tag(v, e.anonymous ? kSatisfied : kNotSatisfied);
    } else {
      if (e.monotone_failure) {
        Tag(v, kNotSatisfied);
      } else {
        state_[v] = e.anonymous ? kSatisfied : kFailed;
      }
    }
    return evaluations_.insert_or_assign(v, e).first->second;
  }

  // Phase 1.
  void Classify() {
    for (uint32_t v : order_) {
      if (state_[v] != kUnknown) continue;
      CheckPath(FindPath(v));
      while (!heap_.empty()) {
        const uint32_t u = heap_.top().second;
        heap_.pop();
        std::vector<uint32_t> next;
        ForEachSuccessor(u, [&](uint32_t w) {
          if (state_[w] == kUnknown) next.push_back(w);
        });
        std::sort(next.begin(), next.end(),
                  [&](uint32_t a, uint32_t b) { return rank_[a] < rank_[b]; });
        for (uint32_t w : next) {
          if (state_[w] == kUnknown) CheckPath(FindPath(w));
        }
      }
    }
  }

  std::vector<uint32_t> FindPath(uint32_t v) const {
    std::vector<uint32_t> path = {v};
    while (true) {
      uint32_t best = std::numeric_limits<uint32_t>::max();
      ForEachSuccessor(path.back(), [&](uint32_t w) {
        if (state_[w] == kUnknown &&
            (best == std::numeric_limits<uint32_t>::max() || rank_[w] < rank_[best])) {
          best = w;
        }
      });
      if (best == std::numeric_limits<uint32_t>::max()) break;
      path.push_back(best);
    }
    return path;
  }

  void CheckPath(const std::vector<uint32_t>& path) {
    int low = 0;
    int high = static_cast<int>(path.size()) - 1;
    while (low <= high) {
      const int mid = low + (high - low) / 2;
      const uint32_t v = path[mid];
      if (state_[v] == kUnknown) Check(v);
      if (state_[v] == kSatisfied) {
        high = mid - 1;
      } else {
        heap_.push({rank_[v], v});
        low = mid + 1;
      }
    }
  }

  // Phase 2.
  absl::StatusOr<SearchOutcome> Optimise() {
    struct Candidate {
      double bound;
      uint32_t rank;
      uint32_t node;
    };
    std::vector<Candidate> candidates;
    for (uint32_t v = 0; v < lattice_.size(); ++v) {
      if (state_[v] == kNotSatisfied) continue;
      lattice_.Levels(v, levels_);
      candidates.push_back({LowerBound(data_, levels_, metric_), rank_[v], v});
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const Candidate& a, const Candidate& b) {
                return a.bound != b.bound ? a.bound < b.bound : a.rank < b.rank;
              });
    // Without suppression these metrics equal their bound on satisfying
    // nodes, so a node known to satisfy needs no grouping.
    const bool bound_is_exact =
        model_.max_suppressed == 0 &&
        (metric_ == UtilityMetric::kNonUniformEntropy ||
         metric_ == UtilityMetric::kLoss || metric_ == UtilityMetric::kPrecision);
    double best = std::numeric_limits<double>::infinity();
    int64_t best_node = -1;
    Evaluation best_eval;
    for (const Candidate& c : candidates) {
      if (c.bound >= best) break;
      if (pruned_[c.node] || state_[c.node] == kNotSatisfied ||
          state_[c.node] == kFailed) {
        continue;
      }
      Evaluation e;
      auto it = evaluations_.find(c.node);
      if (it != evaluations_.end()) {
        e = it->second;
      } else if (bound_is_exact && state_[c.node] == kSatisfied) {
        e.anonymous = true;
        e.metric = c.bound;
        e.bound = c.bound;
      } else {
        e = Check(c.node);
      }
      if (e.anonymous && e.metric < best) {
        best = e.metric;
        best_node = c.node;
        best_eval = e;
      }
      if (e.bound >= best) PruneSuccessors(c.node);
    }
    if (best_node < 0) {
      return absl::FailedPreconditionError(
          "no transformation satisfies the privacy models within the suppression limit");
    }
    SearchOutcome out;
    lattice_.Levels(static_cast<uint32_t>(best_node), out.levels);
    out.evaluation = best_eval;
    out.lattice_nodes = lattice_.size();
    out.evaluated_nodes = evaluated_;
    return out;
  }

  const EncodedData& data_;
  const ModelSpec model_;
  const UtilityMetric metric_;
  Lattice lattice_;
  SnapshotCache cache_;
  Grouper grouper_;
  std::vector<uint8_t> state_;
  std::vector<uint8_t> pruned_;
  std::vector<uint32_t> order_;
  std::vector<uint32_t> rank_;
  absl::flat_hash_map<uint32_t, Evaluation> evaluations_;
  std::priority_queue<std::pair<uint32_t, uint32_t>,
                      std::vector<std::pair<uint32_t, uint32_t>>, std::greater<>>
      heap_;
  std::vector<uint32_t> stack_;
  std::vector<int> levels_;
  int64_t evaluated_ = 0;
};

}  // namespace

absl::StatusOr<SearchOutcome> FindOptimum(const EncodedData& data, const ClassSet& bottom,
                                          const ModelSpec& model, UtilityMetric metric) {
  std::vector<int> heights;
  uint64_t nodes = 1;
  for (const EncodedColumn& col : data.columns) {
    heights.push_back(col.depth);
    nodes *= static_cast<uint64_t>(col.depth);
    if (nodes > static_cast<uint64_t>(kMaxLatticeNodes)) {
      return absl::ResourceExhaustedError(
          "the generalisation lattice has too many nodes; use fewer quasi-identifiers or "
          "shallower hierarchies");
    }
  }
  Search search(data, bottom, model, metric, std::move(heights));
  return search.Run();
}

}  // namespace privacity::anon::internal
