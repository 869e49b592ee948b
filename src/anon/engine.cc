#include "anon/engine.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace privacity::anon::internal {
namespace {

constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

size_t TableCapacity(size_t items) {
  size_t cap = 16;
  while (cap < items * 2) cap <<= 1;
  return cap;
}

}  // namespace

SensitiveDistribution MakeSensitiveDistribution(absl::Span<const int64_t> counts) {
  SensitiveDistribution d;
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  d.q.resize(counts.size());
  d.cumulative.resize(counts.size());
  d.cum_prefix.assign(counts.size() + 1, 0);
  int64_t running = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    d.q[i] = total > 0 ? static_cast<double>(counts[i]) / static_cast<double>(total) : 0;
    running += counts[i];
    d.cumulative[i] =
        total > 0 ? static_cast<double>(running) / static_cast<double>(total) : 0;
    d.cum_prefix[i + 1] = d.cum_prefix[i] + d.cumulative[i];
  }
  return d;
}

double EqualDistanceEmd(absl::Span<const uint32_t> values,
                        absl::Span<const uint32_t> counts,
                        const SensitiveDistribution& overall) {
  double total = 0;
  for (uint32_t c : counts) total += c;
  if (total == 0) return 0;
  // 1/2 sum |p - q|, where values absent from the class contribute q.
  double sum = 1.0;
  for (size_t i = 0; i < values.size(); ++i) {
    const double p = counts[i] / total;
    const double q = overall.q[values[i]];
    sum += std::abs(p - q) - q;
  }
  return std::clamp(sum / 2, 0.0, 1.0);
}

double OrderedDistanceEmd(absl::Span<const uint32_t> values,
                          absl::Span<const uint32_t> counts,
                          const SensitiveDistribution& overall) {
  const size_t m = overall.size();
  if (m <= 1) return 0;
  int64_t total = 0;
  for (uint32_t c : counts) total += c;
  if (total == 0) return 0;
  const double* cum = overall.cumulative.data();
  const double* prefix = overall.cum_prefix.data();
  // Sum over i in [s, e) of |c - cumulative[i]|; cumulative is ascending.
  auto segment = [&](size_t s, size_t e, double c) {
    e = std::min(e, m - 1);
    if (s >= e) return 0.0;
    const size_t t = static_cast<size_t>(std::upper_bound(cum + s, cum + e, c) - cum);
    return c * static_cast<double>(t - s) - (prefix[t] - prefix[s]) +
           (prefix[e] - prefix[t]) - c * static_cast<double>(e - t);
  };
  double sum = 0;
  size_t start = 0;
  int64_t running = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    sum += segment(start, values[i],
                   static_cast<double>(running) / static_cast<double>(total));
    running += counts[i];
    start = values[i];
  }
  sum += segment(start, m - 1, static_cast<double>(running) / static_cast<double>(total));
  return std::clamp(sum / static_cast<double>(m - 1), 0.0, 1.0);
}

double Entropy(absl::Span<const uint32_t> counts) {
  double total = 0;
  double sum = 0;
  for (uint32_t c : counts) {
    if (c == 0) continue;
    total += c;
    sum += c * std::log(static_cast<double>(c));
  }
  if (total == 0) return 0;
  return std::log(total) - sum / total;
}

EncodedData EncodeData(absl::Span<const Hierarchy* const> hierarchies,
                       std::vector<uint32_t> tuples, std::vector<uint32_t> sensitive,
                       uint32_t sensitive_domain) {
  EncodedData d;
  d.num_qis = hierarchies.size();
  d.num_records = d.num_qis == 0 ? 0 : tuples.size() / d.num_qis;
  d.tuples = std::move(tuples);
  const size_t n = d.num_records;
  const size_t m = d.num_qis;
  const double dn = static_cast<double>(n);
  d.columns.resize(m);
  for (size_t j = 0; j < m; ++j) {
    const Hierarchy& h = *hierarchies[j];
    EncodedColumn& col = d.columns[j];
    col.depth = h.depth();
    col.domain = static_cast<uint32_t>(h.size());
    std::vector<int64_t> raw_freq(col.domain, 0);
    for (size_t r = 0; r < n; ++r) ++raw_freq[d.tuples[r * m + j]];
    for (int level = 0; level < col.depth; ++level) {
      const std::vector<uint32_t>& map = h.codes(level);
      const uint32_t card = h.cardinality(level);
      col.level_map.push_back(map);
      col.cardinality.push_back(card);
      std::vector<int64_t> gen_freq(card, 0);
      for (uint32_t raw = 0; raw < col.domain; ++raw) gen_freq[map[raw]] += raw_freq[raw];
      uint32_t present = 0;
      std::vector<double> nue_extra(card, 0);
      std::vector<double> loss_extra(card, 0);
      std::vector<double> loss_cost(card, 0);
      for (uint32_t c = 0; c < card; ++c) {
        if (gen_freq[c] > 0) {
          ++present;
          nue_extra[c] = std::log2(dn / static_cast<double>(gen_freq[c]));
        }
        loss_cost[c] = col.domain > 1 ? static_cast<double>(h.leaves(level, c) - 1) /
                                            static_cast<double>(col.domain - 1)
                                      : 0.0;
        loss_extra[c] = 1.0 - loss_cost[c];
      }
      double nue = 0;
      double loss = 0;
      for (uint32_t raw = 0; raw < col.domain; ++raw) {
        if (raw_freq[raw] == 0) continue;
        const double f = static_cast<double>(raw_freq[raw]);
        nue += f * std::log2(static_cast<double>(gen_freq[map[raw]]) / f);
        loss += f * loss_cost[map[raw]];
      }
      col.data_cardinality.push_back(present);
      col.nue_total.push_back(nue);
      col.nue_suppressed.push_back(std::move(nue_extra));
      col.loss_total.push_back(loss);
      col.loss_suppressed.push_back(std::move(loss_extra));
      col.precision.push_back(col.depth > 1 ? static_cast<double>(level) / (col.depth - 1)
                                            : 0.0);
    }
  }
  if (!sensitive.empty()) {
    d.has_sensitive = true;
    std::vector<int64_t> counts(sensitive_domain, 0);
    for (uint32_t s : sensitive) ++counts[s];
    d.overall = MakeSensitiveDistribution(counts);
    d.sensitive = std::move(sensitive);
  }
  return d;
}

size_t ClassSet::MemoryBytes() const {
  return sizeof(uint32_t) * (rep.capacity() + count.capacity() + hist_start.capacity() +
                             hist_value.capacity() + hist_count.capacity());
}

ClassSet RecordClasses(const EncodedData& data, bool histograms) {
  ClassSet out;
  const size_t n = data.num_records;
  out.rep.resize(n);
  out.count.assign(n, 1);
  for (size_t r = 0; r < n; ++r) out.rep[r] = static_cast<uint32_t>(r);
  if (histograms) {
    out.has_histograms = true;
    out.hist_start.resize(n + 1);
    for (size_t r = 0; r <= n; ++r) out.hist_start[r] = static_cast<uint32_t>(r);
    out.hist_value = data.sensitive;
    out.hist_count.assign(n, 1);
  }
  return out;
}

void Grouper::Group(const EncodedData& data, const ClassSet& src,
                    absl::Span<const int> levels, ClassSet& out,
                    std::vector<uint32_t>* assignment) {
  const size_t m = data.num_qis;
  const size_t ns = src.size();
  // Columns with one value at their level add nothing to the key.
  std::vector<size_t> cols;
  std::vector<const uint32_t*> maps;
  std::vector<uint64_t> mult;
  bool packed = true;
  uint64_t radix = 1;
  for (size_t j = 0; j < m; ++j) {
    const uint64_t card = data.columns[j].cardinality[levels[j]];
    if (card <= 1) continue;
    cols.push_back(j);
    maps.push_back(data.columns[j].level_map[levels[j]].data());
    mult.push_back(radix);
    if (radix > std::numeric_limits<uint64_t>::max() / card) {
      packed = false;
    } else {
      radix *= card;
    }
  }
  const size_t active = cols.size();
  const size_t cap = TableCapacity(ns);
  const size_t mask = cap - 1;
  slots_.assign(cap, kEmpty);
  keys_.resize(cap);
  assign_.resize(ns);
  out.rep.clear();
  out.count.clear();
  const uint32_t* tuples = data.tuples.data();
  if (packed) {
    for (size_t c = 0; c < ns; ++c) {
      const uint32_t* t = tuples + static_cast<size_t>(src.rep[c]) * m;
      uint64_t key = 0;
      for (size_t a = 0; a < active; ++a) {
        key += static_cast<uint64_t>(maps[a][t[cols[a]]]) * mult[a];
      }
      size_t i = Mix(key) & mask;
      uint32_t id;
      while (true) {
        const uint32_t s = slots_[i];
        if (s == kEmpty) {
          id = static_cast<uint32_t>(out.rep.size());
          slots_[i] = id;
          keys_[i] = key;
          out.rep.push_back(src.rep[c]);
          out.count.push_back(0);
          break;
        }
        if (keys_[i] == key) {
          id = s;
          break;
        }
        i = (i + 1) & mask;
      }
      out.count[id] += src.count[c];
      assign_[c] = id;
    }
  } else {
    gen_.clear();
    std::vector<uint32_t> g(active);
    for (size_t c = 0; c < ns; ++c) {
      const uint32_t* t = tuples + static_cast<size_t>(src.rep[c]) * m;
      uint64_t h = 0x9e3779b97f4a7c15ULL;
      for (size_t a = 0; a < active; ++a) {
        g[a] = maps[a][t[cols[a]]];
        h = Mix(h ^ g[a]) + a;
      }
      size_t i = h & mask;
      uint32_t id;
      while (true) {
        const uint32_t s = slots_[i];
        if (s == kEmpty) {
          id = static_cast<uint32_t>(out.rep.size());
          slots_[i] = id;
          keys_[i] = h;
          out.rep.push_back(src.rep[c]);
          out.count.push_back(0);
          gen_.insert(gen_.end(), g.begin(), g.end());
          break;
        }
        if (keys_[i] == h && std::equal(g.begin(), g.end(), gen_.begin() + s * active)) {
          id = s;
          break;
        }
        i = (i + 1) & mask;
      }
      out.count[id] += src.count[c];
      assign_[c] = id;
    }
  }
  const size_t nout = out.rep.size();
  out.has_histograms = src.has_histograms;
  out.hist_start.assign(1, 0);
  out.hist_value.clear();
  out.hist_count.clear();
  if (src.has_histograms) {
    // Bucket the source classes by their new class, then merge histograms.
    bucket_start_.assign(nout + 1, 0);
    for (size_t c = 0; c < ns; ++c) ++bucket_start_[assign_[c] + 1];
    for (size_t i = 0; i < nout; ++i) bucket_start_[i + 1] += bucket_start_[i];
    order_.resize(ns);
    std::vector<uint32_t> fill(bucket_start_.begin(), bucket_start_.end() - 1);
    for (size_t c = 0; c < ns; ++c) order_[fill[assign_[c]]++] = static_cast<uint32_t>(c);
    dense_.assign(data.overall.size(), 0);
    out.hist_start.reserve(nout + 1);
    for (size_t id = 0; id < nout; ++id) {
      touched_.clear();
      for (uint32_t b = bucket_start_[id]; b < bucket_start_[id + 1]; ++b) {
        const uint32_t c = order_[b];
        for (uint32_t e = src.hist_start[c]; e < src.hist_start[c + 1]; ++e) {
          const uint32_t v = src.hist_value[e];
          if (dense_[v] == 0) touched_.push_back(v);
          dense_[v] += src.hist_count[e];
        }
      }
      std::sort(touched_.begin(), touched_.end());
      for (uint32_t v : touched_) {
        out.hist_value.push_back(v);
        out.hist_count.push_back(dense_[v]);
        dense_[v] = 0;
      }
      out.hist_start.push_back(static_cast<uint32_t>(out.hist_value.size()));
    }
  }
  if (assignment != nullptr) assignment->assign(assign_.begin(), assign_.end());
}

void ClassVerdicts(const EncodedData& data, const ClassSet& classes,
                   const ModelSpec& model, std::vector<ClassVerdict>& out) {
  const size_t nc = classes.size();
  out.assign(nc, ClassVerdict::kPasses);
  const double log_l = model.l_kind == ModelSpec::L::kEntropy ? std::log(model.l) : 0;
  for (size_t c = 0; c < nc; ++c) {
    if (static_cast<int64_t>(classes.count[c]) < model.k) {
      out[c] = ClassVerdict::kFailsMonotone;
      continue;
    }
    if (!model.NeedsHistograms()) continue;
    const uint32_t begin = classes.hist_start[c];
    const uint32_t end = classes.hist_start[c + 1];
    const absl::Span<const uint32_t> values(classes.hist_value.data() + begin,
                                            end - begin);
    const absl::Span<const uint32_t> counts(classes.hist_count.data() + begin,
                                            end - begin);
    if (model.l_kind == ModelSpec::L::kDistinct &&
        static_cast<double>(end - begin) < model.l) {
      out[c] = ClassVerdict::kFailsMonotone;
      continue;
    }
    if (model.l_kind == ModelSpec::L::kEntropy && Entropy(counts) < log_l - 1e-12) {
      out[c] = ClassVerdict::kFailsOther;
      continue;
    }
    if (model.t_kind == ModelSpec::T::kEqual &&
        EqualDistanceEmd(values, counts, data.overall) > model.t + 1e-12) {
      out[c] = ClassVerdict::kFailsOther;
      continue;
    }
    if (model.t_kind == ModelSpec::T::kOrdered &&
        OrderedDistanceEmd(values, counts, data.overall) > model.t + 1e-12) {
      out[c] = ClassVerdict::kFailsOther;
    }
  }
}

double LowerBound(const EncodedData& data, absl::Span<const int> levels,
                  UtilityMetric metric) {
  const size_t m = data.num_qis;
  const double n = static_cast<double>(data.num_records);
  switch (metric) {
    case UtilityMetric::kNonUniformEntropy: {
      double sum = 0;
      for (size_t j = 0; j < m; ++j) sum += data.columns[j].nue_total[levels[j]];
      return sum;
    }
    case UtilityMetric::kLoss: {
      double sum = 0;
      for (size_t j = 0; j < m; ++j) sum += data.columns[j].loss_total[levels[j]];
      return sum / (n * static_cast<double>(m));
    }
    case UtilityMetric::kPrecision: {
      double sum = 0;
      for (size_t j = 0; j < m; ++j) sum += data.columns[j].precision[levels[j]];
      return sum / static_cast<double>(m);
    }
    case UtilityMetric::kDiscernibility:
    case UtilityMetric::kAverageClassSize: {
      // At most min(n, product of present values) classes; by Cauchy-Schwarz
      // the sum of squared sizes is at least n^2 / classes.
      double classes = 1;
      for (size_t j = 0; j < m; ++j) {
        classes *= data.columns[j].data_cardinality[levels[j]];
        if (classes >= n) break;
      }
      classes = std::max(1.0, std::min(classes, n));
      const double slack = 1 - 1e-12;  // keep the bound below rounding
      return (metric == UtilityMetric::kDiscernibility ? n * n : n) / classes * slack;
    }
  }
  return 0;
}

Evaluation Evaluate(const EncodedData& data, const ClassSet& classes,
                    absl::Span<const int> levels, const ModelSpec& model,
                    UtilityMetric metric) {
  std::vector<ClassVerdict> verdicts;
  ClassVerdicts(data, classes, model, verdicts);
  Evaluation e;
  const size_t m = data.num_qis;
  const int64_t n = static_cast<int64_t>(data.num_records);
  int64_t monotone_suppressed = 0;
  int64_t sum_squares_kept = 0;
  int64_t sum_squares_all = 0;
  double extra = 0;  // per-cell loss added by suppression
  e.classes = static_cast<int64_t>(classes.size());
  for (size_t c = 0; c < classes.size(); ++c) {
    const int64_t size = classes.count[c];
    sum_squares_all += size * size;
    if (verdicts[c] == ClassVerdict::kPasses) {
      ++e.kept_classes;
      sum_squares_kept += size * size;
      continue;
    }
    e.suppressed += size;
    if (verdicts[c] == ClassVerdict::kFailsMonotone) monotone_suppressed += size;
    const uint32_t* t = data.tuples.data() + static_cast<size_t>(classes.rep[c]) * m;
    double cells = 0;
    switch (metric) {
      case UtilityMetric::kNonUniformEntropy:
        for (size_t j = 0; j < m; ++j) {
          const EncodedColumn& col = data.columns[j];
          cells += col.nue_suppressed[levels[j]][col.level_map[levels[j]][t[j]]];
        }
        break;
      case UtilityMetric::kLoss:
        for (size_t j = 0; j < m; ++j) {
          const EncodedColumn& col = data.columns[j];
          cells += col.loss_suppressed[levels[j]][col.level_map[levels[j]][t[j]]];
        }
        break;
      case UtilityMetric::kPrecision:
        for (size_t j = 0; j < m; ++j)
          cells += 1.0 - data.columns[j].precision[levels[j]];
        break;
      default:
        break;
    }
    extra += static_cast<double>(size) * cells;
  }
  e.anonymous = e.suppressed <= model.max_suppressed;
  e.monotone_failure = monotone_suppressed > model.max_suppressed;
  const double dn = static_cast<double>(n);
  const double cells = dn * static_cast<double>(m);
  const double g0 = LowerBound(data, levels, metric);
  switch (metric) {
    case UtilityMetric::kNonUniformEntropy:
      e.bound = g0;
      e.metric = g0 + extra;
      break;
    case UtilityMetric::kLoss:
    case UtilityMetric::kPrecision:
      e.bound = g0;
      e.metric = g0 + extra / cells;
      break;
    case UtilityMetric::kDiscernibility:
      e.bound = static_cast<double>(sum_squares_all);
      e.metric = static_cast<double>(sum_squares_kept + e.suppressed * n);
      break;
    case UtilityMetric::kAverageClassSize:
      e.bound = e.classes > 0 ? dn / static_cast<double>(e.classes) : 0;
      e.metric = dn / static_cast<double>(std::max<int64_t>(
                          1, e.kept_classes + (e.suppressed > 0 ? 1 : 0)));
      break;
  }
  return e;
}

Lattice::Lattice(std::vector<int> heights) : heights_(std::move(heights)) {
  strides_.resize(heights_.size());
  uint64_t size = 1;
  for (size_t j = 0; j < heights_.size(); ++j) {
    strides_[j] = static_cast<uint32_t>(size);
    size *= static_cast<uint64_t>(heights_[j]);
  }
  size_ = static_cast<uint32_t>(size);
}

uint32_t Lattice::Index(absl::Span<const int> levels) const {
  uint32_t index = 0;
  for (size_t j = 0; j < heights_.size(); ++j) {
    index += static_cast<uint32_t>(levels[j]) * strides_[j];
  }
  return index;
}

void Lattice::Levels(uint32_t node, std::vector<int>& out) const {
  out.resize(heights_.size());
  for (size_t j = 0; j < heights_.size(); ++j) out[j] = Level(node, j);
}

}  // namespace privacity::anon::internal
