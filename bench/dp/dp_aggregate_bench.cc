// A DP count grouped by day over 1M synthetic records (10,000 subjects over
// 30 days: bounding, public time domain, exact discrete Laplace noise from
// the CSPRNG), against the same GROUP BY computed without noise or bounding,
// in the same run. Both read the same in-memory records; the store scan and
// payload opening, common to both, are left out.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "common/random.h"
#include "dp/aggregate.h"

namespace privacity::dp {
namespace {

constexpr int64_t kRecords = 1'000'000;
constexpr int64_t kSubjects = 10'000;
constexpr int64_t kDays = 30;
const absl::Time kStart = absl::FromUnixSeconds(1'356'998'400);  // 2013-01-01

struct Synthetic {
  std::vector<std::string> subjects;
  std::vector<int64_t> time_us;
  std::vector<uint32_t> subject_of;
};

const Synthetic& Data() {
  static const Synthetic* data = [] {
    auto* d = new Synthetic;
    InsecureDeterministicRandomForTesting random(1);
    for (int64_t s = 0; s < kSubjects; ++s) d->subjects.push_back(random.Bytes(32));
    for (int64_t i = 0; i < kRecords; ++i) {
      d->subject_of.push_back(static_cast<uint32_t>(random.NextUint64() % kSubjects));
      d->time_us.push_back(
          absl::ToUnixMicros(kStart) +
          static_cast<int64_t>(random.NextUint64() % (kDays * 86'400'000'000)));
    }
    return d;
  }();
  return *data;
}

config::Stream BenchStream() {
  config::Stream s;
  s.id = "bench.readings";
  s.subject_field = "meter";
  s.time_field = "time";
  s.fields = {config::Field{.name = "meter"},
              config::Field{.name = "time", .type = config::FieldType::kTime}};
  return s;
}

void BM_DpCountByDay(benchmark::State& state) {
  const Synthetic& d = Data();
  const config::Stream stream = BenchStream();
  const nlohmann::json payload = nlohmann::json::object();
  CryptoRandom random;
  for (auto _ : state) {
    AggregateSpec spec;
    spec.metric = Metric::kCount;
    spec.group_by = {GroupBy{
        .kind = GroupBy::Kind::kTime, .bucket = absl::Hours(24), .spec = "time:1d"}};
    spec.from = kStart;
    spec.to = kStart + absl::Hours(24 * kDays);
    spec.epsilon = 1;
    spec.max_partitions = 30;
    spec.max_records_per_partition = 10;
    auto agg = Aggregator::Create(stream, spec);
    if (!agg.ok()) {
      state.SkipWithError("create failed");
      return;
    }
    for (int64_t i = 0; i < kRecords; ++i) {
      (void)(*agg)->Add(d.subjects[d.subject_of[i]], d.time_us[i], 0, payload);
    }
    ExactNoise noise(random);
    auto r = (*agg)->Release(noise);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_DpCountByDay)->Unit(benchmark::kMillisecond);

// Baseline: the same GROUP BY day, no bounding, no noise.
void BM_PlainGroupByDay(benchmark::State& state) {
  const Synthetic& d = Data();
  for (auto _ : state) {
    absl::flat_hash_map<int64_t, int64_t> counts;
    for (int64_t i = 0; i < kRecords; ++i) ++counts[d.time_us[i] / 86'400'000'000];
    benchmark::DoNotOptimize(counts);
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_PlainGroupByDay)->Unit(benchmark::kMillisecond);

// Baseline that also keys by subject (what any per-subject bounding must at
// least touch): GROUP BY subject, day.
void BM_PlainGroupBySubjectDay(benchmark::State& state) {
  const Synthetic& d = Data();
  for (auto _ : state) {
    absl::flat_hash_map<std::pair<std::string_view, int64_t>, int64_t> counts;
    for (int64_t i = 0; i < kRecords; ++i) {
      ++counts[{d.subjects[d.subject_of[i]], d.time_us[i] / 86'400'000'000}];
    }
    benchmark::DoNotOptimize(counts);
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_PlainGroupBySubjectDay)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace privacity::dp

BENCHMARK_MAIN();
