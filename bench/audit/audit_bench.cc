// Benchmarks of the transparency log core.
//
//   BM_RawSha256          baseline: plain SHA-256 of each leaf, nothing else
//   BM_TreeHashing        the hashing an append does: leaf hash, then the
//                         interior nodes completed (compact range)
//   BM_LogAppend          Log::Append in batches into MemoryLogStorage:
//                         hashing plus building and storing the batch
//   BM_HashingRatio       raw and tree hashing timed back to back in one run
//                         (thread CPU time); reports tree/raw as `ratio`
//   BM_InclusionProof,    proofs assembled from stored nodes in a log of
//   BM_ConsistencyProof   2^20 and 10^7 leaves
//   BM_DurableAppend      1M leaves appended in batches to the SQLite store
//                         (StoreLogStorage): each batch one committed
//                         transaction of entries, nodes and frontier, as the
//                         server does; the same run's raw SHA-256 of those
//                         leaves is reported as `raw_sha256_share`
//   BM_StoreInclusionProof,   proofs read from the SQLite store at 10^6 and
//   BM_StoreConsistencyProof  10^7 leaves (the store is built once per size
//                             in a temporary directory)
//
// Leaves are realistic decision leaves (canonical JSON, about 330 bytes).
// Each hashing benchmark processes 1M leaves per iteration.
#include <stdlib.h>
#include <time.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "audit/compact_range.h"
#include "audit/leaves.h"
#include "audit/log.h"
#include "audit/merkle.h"
#include "audit/store_log_storage.h"
#include "benchmark/benchmark.h"
#include "store/store.h"

namespace privacity::audit {
namespace {

constexpr int64_t kLeaves = 1'000'000;

std::vector<std::string> MakeLeaves(int64_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    DecisionLeaf leaf;
    leaf.time = absl::FromUnixSeconds(1714521600 + i / 10);
    leaf.party = absl::StrCat("party-", i % 17);
    leaf.purpose = "traffic-planning";
    leaf.stream = "mobility.trips";
    leaf.level = AccessLevel::kAggregate;
    leaf.fields = {"start_cell", "end_cell", "duration", "start_time"};
    leaf.from = absl::FromUnixSeconds(1714521600);
    leaf.to = absl::FromUnixSeconds(1714608000);
    leaf.area = {absl::StrCat("89c25", i % 9)};
    leaf.result = i % 5 == 0 ? DecisionResult::kDeny : DecisionResult::kPermit;
    leaf.reason = i % 5 == 0 ? "no_agreement" : "";
    leaf.rows = i % 5 == 0 ? 0 : i % 1000;
    out.push_back(*EncodeLeaf(leaf));
  }
  return out;
}

int64_t TotalBytes(const std::vector<std::string>& leaves) {
  int64_t total = 0;
  for (const std::string& l : leaves) total += static_cast<int64_t>(l.size());
  return total;
}

void RawSha256(const std::vector<std::string>& leaves, TreeHasher& hasher) {
  for (const std::string& leaf : leaves) benchmark::DoNotOptimize(hasher.Sha256(leaf));
}

void TreeHash(const std::vector<std::string>& leaves, TreeHasher& hasher) {
  CompactRange range;
  for (const std::string& leaf : leaves)
    range.Append(hasher.HashLeaf(leaf), hasher, nullptr);
  benchmark::DoNotOptimize(range.Root(hasher));
}

void BM_RawSha256(benchmark::State& state) {
  const std::vector<std::string> leaves = MakeLeaves(kLeaves);
  auto hasher = *TreeHasher::Create();
  for (auto _ : state) RawSha256(leaves, *hasher);
  state.SetItemsProcessed(state.iterations() * kLeaves);
  state.SetBytesProcessed(state.iterations() * TotalBytes(leaves));
}
BENCHMARK(BM_RawSha256)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_TreeHashing(benchmark::State& state) {
  const std::vector<std::string> leaves = MakeLeaves(kLeaves);
  auto hasher = *TreeHasher::Create();
  for (auto _ : state) TreeHash(leaves, *hasher);
  state.SetItemsProcessed(state.iterations() * kLeaves);
  state.SetBytesProcessed(state.iterations() * TotalBytes(leaves));
}
BENCHMARK(BM_TreeHashing)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_LogAppend(benchmark::State& state) {
  const int64_t batch_size = state.range(0);
  const std::vector<std::string> leaves = MakeLeaves(kLeaves);
  for (auto _ : state) {
    state.PauseTiming();
    auto storage = std::make_unique<MemoryLogStorage>();
    auto log = *Log::Open(*storage);
    state.ResumeTiming();
    for (int64_t begin = 0; begin < kLeaves; begin += batch_size) {
      const int64_t end = std::min(kLeaves, begin + batch_size);
      // The caller builds the leaf strings; copying them stands for that.
      std::vector<std::string> batch(leaves.begin() + begin, leaves.begin() + end);
      if (!log->Append(std::move(batch)).ok()) state.SkipWithError("append failed");
    }
    benchmark::DoNotOptimize(log->head());
    state.PauseTiming();
    log.reset();
    storage.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kLeaves);
}
BENCHMARK(BM_LogAppend)
    ->Arg(1)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

// CPU time of this thread: the machine may be shared, and the ratio should
// not depend on what else runs.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void BM_HashingRatio(benchmark::State& state) {
  const std::vector<std::string> leaves = MakeLeaves(kLeaves);
  auto hasher = *TreeHasher::Create();
  double raw_s = 0, tree_s = 0;
  for (auto _ : state) {
    const double t0 = ThreadCpuSeconds();
    RawSha256(leaves, *hasher);
    const double t1 = ThreadCpuSeconds();
    TreeHash(leaves, *hasher);
    const double t2 = ThreadCpuSeconds();
    raw_s += t1 - t0;
    tree_s += t2 - t1;
  }
  const double n = static_cast<double>(state.iterations() * kLeaves);
  state.counters["raw_ns_per_leaf"] = raw_s / n * 1e9;
  state.counters["tree_ns_per_leaf"] = tree_s / n * 1e9;
  state.counters["ratio"] = tree_s / raw_s;
  state.counters["leaf_bytes"] = static_cast<double>(TotalBytes(leaves)) / kLeaves;
}
BENCHMARK(BM_HashingRatio)->Unit(benchmark::kMillisecond)->Iterations(3);

// A log of `size` small leaves, built once per benchmark run.
struct ProofLog {
  std::unique_ptr<MemoryLogStorage> storage = std::make_unique<MemoryLogStorage>();
  std::unique_ptr<Log> log;
  explicit ProofLog(int64_t size) {
    log = *Log::Open(*storage);
    std::vector<std::string> batch;
    for (int64_t i = 0; i < size; ++i) {
      batch.push_back(absl::StrCat(i));
      if (batch.size() == 100000 || i + 1 == size) {
        (void)log->Append(std::move(batch));
        batch.clear();
      }
    }
  }
};

void BM_InclusionProof(benchmark::State& state) {
  ProofLog p(state.range(0));
  const uint64_t size = p.log->head().size;
  uint64_t index = 12345;
  for (auto _ : state) {
    benchmark::DoNotOptimize(p.log->InclusionProof(index, size));
    index = (index * 2654435761u + 1) % size;
  }
}
BENCHMARK(BM_InclusionProof)
    ->Arg(1 << 20)
    ->Arg(10'000'000)
    ->Unit(benchmark::kMicrosecond);

void BM_ConsistencyProof(benchmark::State& state) {
  ProofLog p(state.range(0));
  const uint64_t size = p.log->head().size;
  uint64_t size1 = 12345;
  for (auto _ : state) {
    benchmark::DoNotOptimize(p.log->ConsistencyProof(size1, size));
    size1 = (size1 * 2654435761u + 1) % size + 1;
  }
}
BENCHMARK(BM_ConsistencyProof)
    ->Arg(1 << 20)
    ->Arg(10'000'000)
    ->Unit(benchmark::kMicrosecond);

// A SQLite store in a fresh temporary directory, removed afterwards.
struct TempStore {
  std::string dir;
  store::StorePtr store;
  std::unique_ptr<StoreLogStorage> storage;
  TempStore() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "privacity-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir = tmpl;
    store = *store::OpenStore("sqlite:bench.db", dir);
    storage = std::make_unique<StoreLogStorage>(store->log());
  }
  ~TempStore() {
    storage.reset();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

double WallSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void BM_DurableAppend(benchmark::State& state) {
  const int64_t batch_size = state.range(0);
  const std::vector<std::string> leaves = MakeLeaves(kLeaves);
  auto hasher = *TreeHasher::Create();
  double append_s = 0, raw_s = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto temp = std::make_unique<TempStore>();
    auto log = *Log::Open(*temp->storage);
    state.ResumeTiming();
    const double t0 = WallSeconds();
    for (int64_t begin = 0; begin < kLeaves; begin += batch_size) {
      const int64_t end = std::min(kLeaves, begin + batch_size);
      std::vector<std::string> batch(leaves.begin() + begin, leaves.begin() + end);
      if (!log->Append(std::move(batch)).ok()) state.SkipWithError("append failed");
    }
    const double t1 = WallSeconds();
    RawSha256(leaves, *hasher);
    const double t2 = WallSeconds();
    append_s += t1 - t0;
    raw_s += t2 - t1;
    state.PauseTiming();
    log.reset();
    temp.reset();
    state.ResumeTiming();
  }
  const double n = static_cast<double>(state.iterations() * kLeaves);
  state.counters["leaves_per_s"] = n / append_s;
  state.counters["raw_sha256_share"] = raw_s / append_s;
}
BENCHMARK(BM_DurableAppend)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

// A SQLite-backed log of `size` short leaves, built once per size.
Log& StoreProofLog(int64_t size) {
  static auto* logs =
      new std::map<int64_t,
                   std::pair<std::unique_ptr<TempStore>, std::unique_ptr<Log>>>();
  auto& slot = (*logs)[size];
  if (slot.second == nullptr) {
    slot.first = std::make_unique<TempStore>();
    slot.second = *Log::Open(*slot.first->storage);
    std::vector<std::string> batch;
    for (int64_t i = 0; i < size; ++i) {
      batch.push_back(absl::StrCat(i));
      if (batch.size() == 100000 || i + 1 == size) {
        (void)slot.second->Append(std::move(batch));
        batch.clear();
      }
    }
  }
  return *slot.second;
}

void BM_StoreInclusionProof(benchmark::State& state) {
  Log& log = StoreProofLog(state.range(0));
  const uint64_t size = log.head().size;
  uint64_t index = 12345;
  for (auto _ : state) {
    benchmark::DoNotOptimize(log.InclusionProof(index, size));
    index = (index * 2654435761u + 1) % size;
  }
}
BENCHMARK(BM_StoreInclusionProof)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Unit(benchmark::kMicrosecond);

void BM_StoreConsistencyProof(benchmark::State& state) {
  Log& log = StoreProofLog(state.range(0));
  const uint64_t size = log.head().size;
  uint64_t size1 = 12345;
  for (auto _ : state) {
    benchmark::DoNotOptimize(log.ConsistencyProof(size1, size));
    size1 = (size1 * 2654435761u + 1) % size + 1;
  }
}
BENCHMARK(BM_StoreConsistencyProof)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace privacity::audit

BENCHMARK_MAIN();
