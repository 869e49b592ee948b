#include "dp/aggregate.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "s2/s2cell.h"
#include "s2/s2cell_id.h"
#include "s2/s2latlng.h"
#include "s2/s2latlng_rect.h"
#include "s2/s2loop.h"
#include "s2/s2region_coverer.h"

namespace privacity::dp {
namespace {

using u128 = unsigned __int128;
using json = nlohmann::ordered_json;

constexpr char kKeySeparator = '\x1f';
constexpr int64_t kMaxBound = 1'000'000;
constexpr uint64_t kMaxRationalPart = uint64_t{1} << 62;

// The noise of one noised quantity, calibrated once per release.
struct NoiseParams {
  Mechanism mechanism = Mechanism::kLaplace;
  Rational scale;  // Laplace scale b, or Gaussian sigma^2

  absl::StatusOr<int64_t> Draw(NoiseSource& noise) const {
    return mechanism == Mechanism::kLaplace ? noise.DiscreteLaplace(scale)
                                            : noise.DiscreteGaussian(scale);
  }
};

// num/den as a Rational no smaller than it (rounded up when too large).
absl::StatusOr<Rational> RationalAtLeast(u128 num, u128 den) {
  if (num < kMaxRationalPart && den < kMaxRationalPart) {
    return Rational{static_cast<uint64_t>(num), static_cast<uint64_t>(den)};
  }
  const u128 up = num / den + 1;
  if (up >= kMaxRationalPart) return absl::InvalidArgumentError("noise scale too large");
  return Rational{static_cast<uint64_t>(up), 1};
}

// Laplace: b = l1 / epsilon with epsilon rounded down. Gaussian: sigma^2 =
// l2sq / (2 rho) with rho rounded down.
absl::StatusOr<NoiseParams> Calibrate(Mechanism mechanism, u128 l1, u128 l2sq,
                                      double epsilon, double rho) {
  NoiseParams p;
  p.mechanism = mechanism;
  if (mechanism == Mechanism::kLaplace) {
    ASSIGN_OR_RETURN(Rational eps, RationalAtMost(epsilon));
    ASSIGN_OR_RETURN(p.scale, RationalAtLeast(l1 * eps.den, eps.num));
  } else {
    ASSIGN_OR_RETURN(Rational r, RationalAtMost(rho));
    ASSIGN_OR_RETURN(p.scale,
                     RationalAtLeast(l2sq * r.den, static_cast<u128>(2) * r.num));
  }
  return p;
}

// Every cell of `level` covering `area`, in id order. InvalidArgument when
// there would be more than kMaxPublicPartitions.
absl::StatusOr<std::vector<S2CellId>> CoverArea(const config::Area& area, int level,
                                                const std::string& spec) {
  std::unique_ptr<S2Region> region;
  if (area.polygon.empty()) {
    region = std::make_unique<S2LatLngRect>(
        S2LatLng::FromDegrees(area.min_latitude, area.min_longitude),
        S2LatLng::FromDegrees(area.max_latitude, area.max_longitude));
  } else {
    std::vector<S2Point> points;
    for (const auto& [lat, lon] : area.polygon) {
      points.push_back(S2LatLng::FromDegrees(lat, lon).ToPoint());
    }
    auto loop = std::make_unique<S2Loop>(points, S2Debug::DISABLE);
    if (!loop->IsValid()) {
      return absl::InvalidArgumentError("the declared area is not a simple polygon");
    }
    loop->Normalize();  // the smaller of the two regions it bounds
    region = std::move(loop);
  }
  // Estimate first: a covering of millions of cells is refused, not built.
  const double area_sr = region->GetRectBound().Area();
  if (area_sr / S2Cell::AverageArea(level) > 4.0 * kMaxPublicPartitions) {
    return absl::InvalidArgumentError(
        absl::StrCat("group_by \"", spec, "\": the declared area has more than ",
                     kMaxPublicPartitions, " cells at this level; use a coarser one"));
  }
  S2RegionCoverer::Options options;
  options.set_fixed_level(level);
  options.set_max_cells(static_cast<int>(kMaxPublicPartitions) + 1);
  S2RegionCoverer coverer(options);
  std::vector<S2CellId> covering;
  coverer.GetCovering(*region, &covering);
  std::vector<S2CellId> cells;
  for (const S2CellId& c : covering) {
    if (c.level() == level) {
      cells.push_back(c);
      continue;
    }
    for (S2CellId d = c.child_begin(level); d != c.child_end(level); d = d.next()) {
      cells.push_back(d);
    }
  }
  if (static_cast<int64_t>(cells.size()) > kMaxPublicPartitions) {
    return absl::InvalidArgumentError(
        absl::StrCat("group_by \"", spec, "\": the declared area has more than ",
                     kMaxPublicPartitions, " cells at this level; use a coarser one"));
  }
  std::sort(cells.begin(), cells.end());
  cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
  return cells;
}

std::string JoinKey(const std::vector<std::string>& parts) {
  std::string key;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) key.push_back(kKeySeparator);
    key += parts[i];
  }
  return key;
}

double RoundFixed(double v) {
  return std::round(v * kFixedPointScale) / kFixedPointScale;
}

}  // namespace

std::string_view ToString(Metric m) {
  switch (m) {
    case Metric::kCount:
      return "count";
    case Metric::kDistinctSubjects:
      return "distinct_subjects";
    case Metric::kSum:
      return "sum";
    case Metric::kMean:
      return "mean";
    case Metric::kQuantiles:
      return "quantiles";
    case Metric::kHistogram:
      return "histogram";
  }
  return "count";
}

std::optional<Metric> ParseMetric(std::string_view name) {
  for (Metric m : {Metric::kCount, Metric::kDistinctSubjects, Metric::kSum, Metric::kMean,
                   Metric::kQuantiles, Metric::kHistogram}) {
    if (ToString(m) == name) return m;
  }
  return std::nullopt;
}

absl::StatusOr<GroupBy> ParseGroupBy(std::string_view spec,
                                     const config::Stream& stream) {
  GroupBy g;
  g.spec = std::string(spec);
  if (spec.substr(0, 5) == "time:") {
    g.kind = GroupBy::Kind::kTime;
    auto d = ParseDurationSpec(absl::string_view(spec.data() + 5, spec.size() - 5));
    if (!d.ok() || *d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "group_by \"", g.spec, "\": not a duration (e.g. time:1h, time:1d)"));
    }
    g.bucket = *d;
    return g;
  }
  if (spec.substr(0, 5) == "cell:") {
    g.kind = GroupBy::Kind::kCell;
    if (!absl::SimpleAtoi(absl::string_view(spec.data() + 5, spec.size() - 5),
                          &g.cell_level) ||
        g.cell_level < 0 || g.cell_level > S2CellId::kMaxLevel) {
      return absl::InvalidArgumentError(absl::StrCat(
          "group_by \"", g.spec, "\": cell level must be an integer in 0-30"));
    }
    if (stream.location_field.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("group_by \"", g.spec, "\": stream ",
                                                     stream.id, " has no location"));
    }
    return g;
  }
  g.kind = GroupBy::Kind::kField;
  g.field = g.spec;
  const config::Field* f = stream.FindField(spec);
  if (f == nullptr || f->dropped()) {
    return absl::InvalidArgumentError(
        absl::StrCat("group_by \"", g.spec, "\": unknown field of stream ", stream.id));
  }
  if (f->type != config::FieldType::kEnum) {
    return absl::InvalidArgumentError(
        absl::StrCat("group_by \"", g.spec,
                     "\": only enum fields, time:DURATION or cell:LEVEL group"));
  }
  return g;
}

json AggregateRelease::ToJson() const {
  json out = json::object();
  json cols = json::array();
  for (const std::string& c : key_columns) cols.push_back(c);
  cols.push_back(value_column);
  out["columns"] = std::move(cols);
  json rows_json = json::array();
  for (const AggregateRow& row : rows) {
    json r = json::object();
    for (size_t i = 0; i < key_columns.size() && i < row.key.size(); ++i) {
      r[key_columns[i]] = row.key[i];
    }
    r[value_column] = row.value;
    rows_json.push_back(std::move(r));
  }
  out["rows"] = std::move(rows_json);
  out["partition_selection"] = partition_selection;
  return out;
}

absl::StatusOr<std::unique_ptr<Aggregator>> Aggregator::Create(
    const config::Stream& stream, AggregateSpec spec) {
  std::unique_ptr<Aggregator> a(new Aggregator(stream, std::move(spec)));
  RETURN_IF_ERROR(a->Init());
  return a;
}

absl::Status Aggregator::Init() {
  AggregateSpec& s = spec_;
  if (!std::isfinite(s.epsilon) || s.epsilon <= 0) {
    return absl::InvalidArgumentError("epsilon must be a positive number");
  }
  if (!std::isfinite(s.delta) || s.delta < 0 || s.delta >= 1) {
    return absl::InvalidArgumentError("delta must be in [0, 1)");
  }
  if (s.max_partitions < 1 || s.max_partitions > kMaxBound) {
    return absl::InvalidArgumentError("max_partitions must be in [1, 1000000]");
  }
  if (s.max_records_per_partition < 1 || s.max_records_per_partition > kMaxBound) {
    return absl::InvalidArgumentError(
        "max_records_per_partition must be in [1, 1000000]");
  }
  if (s.from && s.to && *s.from >= *s.to) {
    return absl::InvalidArgumentError("from must be before to");
  }
  const bool numeric = s.metric == Metric::kSum || s.metric == Metric::kMean ||
                       s.metric == Metric::kQuantiles;
  if (numeric || s.metric == Metric::kHistogram) {
    if (s.value_field.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metric ", std::string(ToString(s.metric)), " needs a value field"));
    }
    value_field_ = stream_.FindField(s.value_field);
    if (value_field_ == nullptr || value_field_->dropped()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "value \"", s.value_field, "\": unknown field of stream ", stream_.id));
    }
  } else if (!s.value_field.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metric ", std::string(ToString(s.metric)), " takes no value field"));
  }
  if (numeric) {
    if (value_field_->type != config::FieldType::kNumber &&
        value_field_->type != config::FieldType::kInt) {
      return absl::InvalidArgumentError(
          absl::StrCat("value \"", s.value_field, "\": not a numeric field"));
    }
    const std::optional<double> lo = s.lower ? s.lower : value_field_->min;
    const std::optional<double> hi = s.upper ? s.upper : value_field_->max;
    if (!lo || !hi) {
      return absl::InvalidArgumentError(absl::StrCat(
          "value \"", s.value_field, "\": no declared bounds; give lower and upper"));
    }
    if (!std::isfinite(*lo) || !std::isfinite(*hi) || *lo >= *hi) {
      return absl::InvalidArgumentError("lower must be below upper");
    }
    if ((value_field_->min && *lo < *value_field_->min) ||
        (value_field_->max && *hi > *value_field_->max)) {
      return absl::InvalidArgumentError(
          absl::StrCat("value \"", s.value_field,
                       "\": bounds must lie within the field's declared min/max"));
    }
    if (std::fabs(*lo) > 1e12 || std::fabs(*hi) > 1e12) {
      return absl::InvalidArgumentError("bounds too large for fixed point");
    }
    lower_ = *lo;
    upper_ = *hi;
    lower_fp_ = std::llround(lower_ * kFixedPointScale);
    upper_fp_ = std::llround(upper_ * kFixedPointScale);
  } else if (s.metric == Metric::kHistogram) {
    if (value_field_->type != config::FieldType::kEnum) {
      return absl::InvalidArgumentError(
          absl::StrCat("value \"", s.value_field, "\": a histogram needs an enum field"));
    }
    if (s.lower || s.upper)
      return absl::InvalidArgumentError("a histogram takes no bounds");
  }
  if (s.metric == Metric::kQuantiles) {
    if (s.quantiles.empty())
      return absl::InvalidArgumentError("quantiles must not be empty");
    for (double q : s.quantiles) {
      if (!(q >= 0 && q <= 1))
        return absl::InvalidArgumentError("quantiles must be in [0, 1]");
    }
    if (s.quantile_bins < 2 || s.quantile_bins > 4096) {
      return absl::InvalidArgumentError("quantile_bins must be in [2, 4096]");
    }
  }

  // Output columns and whether the partition domain is public.
  public_domain_ = true;
  cell_domains_.assign(s.group_by.size(), {});
  cell_domain_ids_.assign(s.group_by.size(), {});
  bucket_us_.assign(s.group_by.size(), 1);
  int64_t domain = 1;
  for (const GroupBy& g : s.group_by) {
    key_columns_.push_back(g.spec);
    switch (g.kind) {
      case GroupBy::Kind::kTime:
        bucket_us_[&g - s.group_by.data()] =
            std::max<int64_t>(1, absl::ToInt64Microseconds(g.bucket));
        if (!s.from || !s.to) {
          public_domain_ = false;
        } else {
          domain *= 1 + (*s.to - FloorTime(*s.from, g.bucket)) / g.bucket;
        }
        break;
      case GroupBy::Kind::kCell:
        if (!s.cell_area) {
          public_domain_ = false;
        } else {
          ASSIGN_OR_RETURN(std::vector<S2CellId> cells,
                           CoverArea(*s.cell_area, g.cell_level, g.spec));
          auto& tokens = cell_domains_[&g - s.group_by.data()];
          auto& ids = cell_domain_ids_[&g - s.group_by.data()];
          for (const S2CellId& c : cells) {
            tokens.push_back(c.ToToken());
            ids.insert(c.id());
          }
          domain *= std::max<int64_t>(1, static_cast<int64_t>(cells.size()));
        }
        break;
      case GroupBy::Kind::kField: {
        const config::Field* f = stream_.FindField(g.field);
        domain *= std::max<int64_t>(1, f == nullptr ? 1 : f->values.size());
        break;
      }
    }
    if (domain > kMaxPublicPartitions) domain = kMaxPublicPartitions + 1;
  }
  if (s.metric == Metric::kHistogram) {
    key_columns_.push_back(s.value_field);
    domain *= std::max<int64_t>(1, value_field_->values.size());
  }
  if (public_domain_ && domain > kMaxPublicPartitions) {
    return absl::InvalidArgumentError(absl::StrCat("the grouping has more than ",
                                                   kMaxPublicPartitions,
                                                   " partitions; use coarser buckets"));
  }
  if (s.mechanism == Mechanism::kGaussian && s.delta <= 0) {
    return absl::InvalidArgumentError("gaussian noise needs delta > 0");
  }
  if (!public_domain_ && s.delta <= 0) {
    return absl::InvalidArgumentError(
        "grouping without a public domain (cells without a declared area, or time "
        "without from and to) needs "
        "delta > 0 "
        "for partition selection");
  }
  // Selection takes half of epsilon (pure) and delta (all of it under
  // Laplace, half under Gaussian); the values take the rest: Laplace as
  // pure epsilon, Gaussian as the largest rho converting within it.
  const double value_eps = public_domain_ ? s.epsilon : s.epsilon / 2;
  loss_ = PrivacyLoss{};
  if (!public_domain_) {
    loss_.epsilon = s.epsilon / 2;
    loss_.delta = s.mechanism == Mechanism::kGaussian ? s.delta / 2 : s.delta;
  }
  if (s.mechanism == Mechanism::kLaplace) {
    loss_.epsilon += value_eps;
  } else {
    loss_.rho_delta = public_domain_ ? s.delta : s.delta / 2;
    ASSIGN_OR_RETURN(loss_.rho, RhoFromEpsilonDelta(value_eps, loss_.rho_delta));
  }
  return absl::OkStatus();
}

absl::Status Aggregator::Add(std::string_view contributor, int64_t time_us, uint64_t cell,
                             const nlohmann::json& payload) {
  const absl::Time t = absl::FromUnixMicros(time_us);
  if ((spec_.from && t < *spec_.from) || (spec_.to && t >= *spec_.to))
    return absl::OkStatus();
  // The partition key in binary (8 bytes per time bucket or cell, length
  // and bytes per field value), built in a reused buffer: most records fall
  // in an existing partition, and only a new one is formatted for display.
  std::string& key = scratch_key_;
  key.clear();
  auto push_u64 = [&](uint64_t v) { key.append(reinterpret_cast<const char*>(&v), 8); };
  auto push_text = [&](const std::string& v) {
    push_u64(v.size());
    key.append(v);
  };
  for (size_t gi = 0; gi < spec_.group_by.size(); ++gi) {
    const GroupBy& g = spec_.group_by[gi];
    switch (g.kind) {
      case GroupBy::Kind::kTime: {
        const int64_t b = bucket_us_[gi];
        int64_t start = time_us - time_us % b;
        if (time_us % b < 0) start -= b;  // floor before 1970
        push_u64(static_cast<uint64_t>(start));
        break;
      }
      case GroupBy::Kind::kCell: {
        const S2CellId id(cell);
        if (cell == 0 || !id.is_valid()) return absl::OkStatus();
        if (id.level() < g.cell_level) {
          return absl::InvalidArgumentError(
              absl::StrCat("group_by \"", g.spec,
                           "\": finer than the stored cells of stream ", stream_.id));
        }
        const S2CellId parent = id.parent(g.cell_level);
        // Outside the declared area: not part of the public domain.
        if (!cell_domain_ids_[gi].empty() && !cell_domain_ids_[gi].contains(parent.id()))
          return absl::OkStatus();
        push_u64(parent.id());
        break;
      }
      case GroupBy::Kind::kField: {
        auto it = payload.find(g.field);
        if (it == payload.end() || !it->is_string()) return absl::OkStatus();
        push_text(it->get_ref<const std::string&>());
        break;
      }
    }
  }
  int64_t value = 0;
  if (spec_.metric == Metric::kHistogram) {
    auto it = payload.find(spec_.value_field);
    if (it == payload.end() || !it->is_string()) return absl::OkStatus();
    push_text(it->get_ref<const std::string&>());
  } else if (value_field_ != nullptr) {
    auto it = payload.find(spec_.value_field);
    if (it == payload.end() || !it->is_number()) return absl::OkStatus();
    const double v = std::clamp(it->get<double>(), lower_, upper_);
    if (spec_.metric == Metric::kQuantiles) {
      const double width = (upper_ - lower_) / static_cast<double>(spec_.quantile_bins);
      value = std::min<int64_t>(spec_.quantile_bins - 1,
                                static_cast<int64_t>(std::floor((v - lower_) / width)));
    } else {
      value =
          std::clamp<int64_t>(std::llround(v * kFixedPointScale), lower_fp_, upper_fp_);
    }
  }
  uint32_t pid;
  auto pit = partition_ids_.find(absl::string_view(key));
  if (pit == partition_ids_.end()) {
    pid = static_cast<uint32_t>(partitions_.size());
    partitions_.push_back(DisplayKey(key));
    partition_ids_.emplace(key, pid);
  } else {
    pid = pit->second;
  }
  uint32_t cid;
  if (contributor.empty()) {
    cid = next_contributor_++;
  } else {
    const absl::string_view c(contributor.data(), contributor.size());
    auto cit = contributor_ids_.find(c);
    if (cit == contributor_ids_.end()) {
      cid = next_contributor_++;
      contributor_ids_.emplace(std::string(contributor), cid);
    } else {
      cid = cit->second;
    }
  }
  entries_.push_back(Entry{cid, pid, value});
  return absl::OkStatus();
}

std::vector<std::string> Aggregator::DisplayKey(std::string_view key) const {
  std::vector<std::string> parts;
  size_t at = 0;
  auto u64 = [&] {
    uint64_t v = 0;
    std::memcpy(&v, key.data() + at, 8);
    at += 8;
    return v;
  };
  auto text = [&] {
    const size_t n = u64();
    std::string v(key.substr(at, n));
    at += n;
    return v;
  };
  for (const GroupBy& g : spec_.group_by) {
    switch (g.kind) {
      case GroupBy::Kind::kTime:
        parts.push_back(
            FormatTimestamp(absl::FromUnixMicros(static_cast<int64_t>(u64()))));
        break;
      case GroupBy::Kind::kCell:
        parts.push_back(S2CellId(u64()).ToToken());
        break;
      case GroupBy::Kind::kField:
        parts.push_back(text());
        break;
    }
  }
  if (spec_.metric == Metric::kHistogram) parts.push_back(text());
  return parts;
}

absl::StatusOr<AggregateRelease> Aggregator::Release(NoiseSource& noise) {
  if (released_) return absl::FailedPreconditionError("an aggregator releases once");
  released_ = true;
  const AggregateSpec& s = spec_;
  const int64_t l0 = s.max_partitions;
  const int64_t linf = s.max_records_per_partition;
  AggregateRelease out;
  out.key_columns = key_columns_;
  out.value_column =
      std::string(ToString(s.metric == Metric::kHistogram ? Metric::kCount : s.metric));
  out.loss = loss_;
  out.partition_selection = !public_domain_;

  // 1. Contribution bounding, per contributor.
  // Order by (contributor, partition): a counting sort on the dense
  // contributor ids, then a small sort within each contributor.
  {
    std::vector<size_t> start(static_cast<size_t>(next_contributor_) + 1, 0);
    for (const Entry& en : entries_) ++start[en.contributor + 1];
    for (size_t c = 1; c < start.size(); ++c) start[c] += start[c - 1];
    std::vector<Entry> sorted(entries_.size());
    std::vector<size_t> next(start.begin(), start.end() - 1);
    for (const Entry& en : entries_) sorted[next[en.contributor]++] = en;
    for (size_t c = 0; c + 1 < start.size(); ++c) {
      std::sort(sorted.begin() + start[c], sorted.begin() + start[c + 1],
                [](const Entry& a, const Entry& b) { return a.partition < b.partition; });
    }
    entries_ = std::move(sorted);
  }
  std::vector<char> keep(entries_.size(), 1);
  std::vector<size_t> order;
  for (size_t b = 0; b < entries_.size();) {
    size_t e = b;
    int64_t parts = 0, run = 0, max_run = 0;
    uint32_t last = std::numeric_limits<uint32_t>::max();
    while (e < entries_.size() && entries_[e].contributor == entries_[b].contributor) {
      if (entries_[e].partition != last) {
        ++parts;
        run = 0;
        last = entries_[e].partition;
      }
      max_run = std::max(max_run, ++run);
      ++e;
    }
    if (parts > l0 || max_run > linf) {
      // First-k in a uniformly random order (Fisher-Yates).
      order.clear();
      for (size_t i = b; i < e; ++i) order.push_back(i);
      for (size_t i = order.size() - 1; i > 0; --i) {
        std::swap(order[i], order[noise.UniformBelow(i + 1)]);
      }
      std::vector<std::pair<uint32_t, int64_t>> chosen;  // partition, records kept
      for (size_t idx : order) {
        auto it = std::find_if(chosen.begin(), chosen.end(), [&](const auto& c) {
          return c.first == entries_[idx].partition;
        });
        if (it == chosen.end()) {
          if (static_cast<int64_t>(chosen.size()) < l0) {
            chosen.emplace_back(entries_[idx].partition, 1);
            continue;
          }
        } else if (it->second < linf) {
          ++it->second;
          continue;
        }
        keep[idx] = 0;
        ++out.dropped_by_bounding;
      }
    }
    b = e;
  }

  // 2. Exact aggregates per partition.
  const size_t np = partitions_.size();
  std::vector<int64_t> count(np, 0), distinct(np, 0), sum(np, 0);
  std::vector<std::vector<int64_t>> bins;
  if (s.metric == Metric::kQuantiles)
    bins.assign(np, std::vector<int64_t>(s.quantile_bins, 0));
  bool any_kept = false;
  uint32_t last_c = 0, last_p = 0;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (!keep[i]) continue;
    const Entry& en = entries_[i];
    ++count[en.partition];
    sum[en.partition] += en.value;
    if (!bins.empty()) ++bins[en.partition][en.value];
    // Entries are sorted by (contributor, partition): count the first kept
    // entry of each pair.
    if (!any_kept || en.contributor != last_c || en.partition != last_p)
      ++distinct[en.partition];
    any_kept = true;
    last_c = en.contributor;
    last_p = en.partition;
  }

  // 3. Which partitions are released, and the budget left for values.
  // What the values get (see Init): Laplace epsilon, or Gaussian rho.
  const double eps = public_domain_ ? s.epsilon : s.epsilon / 2;
  const double rho = loss_.rho;
  std::vector<std::pair<std::vector<std::string>, int64_t>> released;  // key, id or -1
  if (public_domain_) {
    std::vector<std::vector<std::string>> dims;
    for (const GroupBy& g : s.group_by) {
      std::vector<std::string> values;
      if (g.kind == GroupBy::Kind::kTime) {
        for (absl::Time t = FloorTime(*s.from, g.bucket); t < *s.to; t += g.bucket) {
          values.push_back(FormatTimestamp(t));
        }
      } else if (g.kind == GroupBy::Kind::kCell) {
        values = cell_domains_[&g - s.group_by.data()];
      } else {
        values = stream_.FindField(g.field)->values;
      }
      dims.push_back(std::move(values));
    }
    if (s.metric == Metric::kHistogram) dims.push_back(value_field_->values);
    std::vector<std::vector<std::string>> keys = {{}};
    for (const auto& dim : dims) {
      std::vector<std::vector<std::string>> next;
      for (const auto& k : keys) {
        for (const std::string& v : dim) {
          next.push_back(k);
          next.back().push_back(v);
        }
      }
      keys = std::move(next);
    }
    absl::flat_hash_map<std::string, uint32_t> by_display;
    for (size_t p = 0; p < np; ++p) by_display.emplace(JoinKey(partitions_[p]), p);
    for (auto& k : keys) {
      auto it = by_display.find(JoinKey(k));
      released.emplace_back(std::move(k), it == by_display.end()
                                              ? int64_t{-1}
                                              : static_cast<int64_t>(it->second));
    }
  } else {
    // Thresholding on noisy distinct-contributor counts (see docs/dp.md):
    // half of epsilon, and delta (half of it under Gaussian noise).
    const double sel_eps = s.epsilon / 2;
    const double sel_delta = loss_.delta;
    ASSIGN_OR_RETURN(NoiseParams sel, Calibrate(Mechanism::kLaplace,
                                                static_cast<u128>(l0), 0, sel_eps, 0));
    const double b =
        static_cast<double>(sel.scale.num) / static_cast<double>(sel.scale.den);
    // P(Laplace >= k) <= exp(-k/b) <= sel_delta / L0 for k below; +1 guards
    // floating rounding.
    const int64_t threshold = 2 + static_cast<int64_t>(std::ceil(
                                      b * std::log(static_cast<double>(l0) / sel_delta)));
    std::map<std::vector<std::string>, int64_t> kept;
    for (size_t p = 0; p < np; ++p) {
      if (distinct[p] == 0) continue;
      ASSIGN_OR_RETURN(int64_t z, sel.Draw(noise));
      if (distinct[p] + z >= threshold)
        kept.emplace(partitions_[p], static_cast<int64_t>(p));
    }
    for (auto& [k, id] : kept) released.emplace_back(k, id);
  }

  // 4. Noise on the values.
  const u128 L0 = static_cast<u128>(l0), LINF = static_cast<u128>(linf);
  const u128 m =
      static_cast<u128>(std::max(std::llabs(lower_fp_), std::llabs(upper_fp_)));
  auto noisy = [&](const NoiseParams& p, int64_t exact) -> absl::StatusOr<int64_t> {
    ASSIGN_OR_RETURN(int64_t z, p.Draw(noise));
    return exact + z;
  };
  auto at = [](const std::vector<int64_t>& v, int64_t id) { return id < 0 ? 0 : v[id]; };
  switch (s.metric) {
    case Metric::kCount:
    case Metric::kHistogram:
    case Metric::kDistinctSubjects: {
      const bool d = s.metric == Metric::kDistinctSubjects;
      ASSIGN_OR_RETURN(NoiseParams p, Calibrate(s.mechanism, d ? L0 : L0 * LINF,
                                                d ? L0 : L0 * LINF * LINF, eps, rho));
      for (auto& [key, id] : released) {
        ASSIGN_OR_RETURN(int64_t v, noisy(p, at(d ? distinct : count, id)));
        out.rows.push_back({key, json(std::max<int64_t>(0, v))});
      }
      break;
    }
    case Metric::kSum: {
      ASSIGN_OR_RETURN(NoiseParams p, Calibrate(s.mechanism, L0 * LINF * m,
                                                L0 * LINF * LINF * m * m, eps, rho));
      for (auto& [key, id] : released) {
        ASSIGN_OR_RETURN(int64_t v, noisy(p, at(sum, id)));
        out.rows.push_back(
            {key, json(RoundFixed(static_cast<double>(v) / kFixedPointScale))});
      }
      break;
    }
    case Metric::kMean: {
      ASSIGN_OR_RETURN(NoiseParams ps,
                       Calibrate(s.mechanism, L0 * LINF * m, L0 * LINF * LINF * m * m,
                                 eps / 2, rho / 2));
      ASSIGN_OR_RETURN(NoiseParams pc, Calibrate(s.mechanism, L0 * LINF, L0 * LINF * LINF,
                                                 eps / 2, rho / 2));
      for (auto& [key, id] : released) {
        ASSIGN_OR_RETURN(int64_t sv, noisy(ps, at(sum, id)));
        ASSIGN_OR_RETURN(int64_t cv, noisy(pc, at(count, id)));
        const double mean = std::clamp(static_cast<double>(sv) / kFixedPointScale /
                                           static_cast<double>(std::max<int64_t>(1, cv)),
                                       lower_, upper_);
        out.rows.push_back({key, json(RoundFixed(mean))});
      }
      break;
    }
    case Metric::kQuantiles: {
      ASSIGN_OR_RETURN(NoiseParams p,
                       Calibrate(s.mechanism, L0 * LINF, L0 * LINF * LINF, eps, rho));
      const double width = (upper_ - lower_) / static_cast<double>(s.quantile_bins);
      for (auto& [key, id] : released) {
        std::vector<int64_t> h(s.quantile_bins, 0);
        int64_t total = 0;
        for (int64_t i = 0; i < s.quantile_bins; ++i) {
          ASSIGN_OR_RETURN(int64_t v, noisy(p, id < 0 ? 0 : bins[id][i]));
          h[i] = std::max<int64_t>(0, v);
          total += h[i];
        }
        json qs = json::object();
        for (double q : s.quantiles) {
          std::string name = absl::StrCat(q);
          if (total == 0) {
            qs[name] = nullptr;
            continue;
          }
          const double target = q * static_cast<double>(total);
          int64_t cum = 0, bin = s.quantile_bins - 1;
          for (int64_t i = 0; i < s.quantile_bins; ++i) {
            cum += h[i];
            if (static_cast<double>(cum) >= target && cum > 0) {
              bin = i;
              break;
            }
          }
          qs[name] = RoundFixed(lower_ + (static_cast<double>(bin) + 0.5) * width);
        }
        out.rows.push_back({key, std::move(qs)});
      }
      break;
    }
  }
  return out;
}

}  // namespace privacity::dp
