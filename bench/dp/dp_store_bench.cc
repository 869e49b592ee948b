// DP aggregates over stored records, end to end, against the same
// non-private GROUP BY over the same rows in the same run.
//
// N trip records (S subjects: vehicles; hourly times over 30 days; points in
// the city's declared area, stored as level-13 S2 cells; a distance in
// [0, 50] km) are ingested through the real pipeline (pseudonymized,
// blind-indexed, sealed per subject and epoch) into a SQLite store. Then,
// each repetition:
//   - DP count by hour x cell:13 through RunAggregate (decision, scan,
//     objection check, per-subject bounding L0 = 50 / Linf = 5, the area's
//     public cell domain, exact discrete Laplace noise, atomic charge);
//   - DP sum of distance_km by hour x cell, the same way (payloads opened);
//   - baseline: plain SQLite SELECT .. GROUP BY hour, cell over the records
//     table (no privacy: counts only, payloads are sealed);
//   - baseline: the same store scan without privacy: count per (hour, cell)
//     in a hash map, and for the sum each payload opened and summed.
// Prints medians and ratios as Markdown.
//
//   dp_store_bench [--records=10000000] [--subjects=20000] [--repetitions=3]
//                  [--data_dir=DIR] (kept and reused when it holds the data)
#include <sqlite3.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/time_util.h"
#include "config/loader.h"
#include "ingest/ingester.h"
#include "nlohmann/json.hpp"
#include "server/aggregate_view.h"
#include "server/record_access.h"
#include "server/trust.h"

ABSL_FLAG(int64_t, records, 10'000'000, "records to store");
ABSL_FLAG(int64_t, subjects, 20'000, "distinct vehicles (data subjects)");
ABSL_FLAG(int, repetitions, 3, "repetitions of each measurement");
ABSL_FLAG(std::string, data_dir, "",
          "data directory (default: a temporary one, removed at the end); reused when "
          "it already holds the same number of records");

namespace privacity {
namespace {

namespace fs = std::filesystem;
using Seconds = std::chrono::duration<double>;

constexpr char kStream[] = "bench.trips";
constexpr int64_t kDays = 30;
const absl::Time kStart = absl::FromUnixSeconds(1451606400);  // 2016-01-01

constexpr char kConfig[] = R"yaml(
city:
  name: Bench City
  controller: Bench City Data Office
  contact: dpo@bench.example
  area: {min_lat: 40.70, min_lon: -74.02, max_lat: 40.78, max_lon: -73.94}
purposes:
  - id: research
    description: Research.
    legal_basis: public-task
parties:
  - id: lab
    name: Lab
    kind: researcher
    contact: lab@bench.example
streams:
  - id: bench.trips
    description: Trips.
    subject: vehicle
    time: time
    location: location
    epoch: 30d
    linkability: 60d
    retention: 10y
    purposes: [research]
    fields:
      - name: vehicle
        type: string
        category: subject-identifier
        required: true
        transform: pseudonymize
      - name: time
        type: time
        category: time
        required: true
        transform: {time_bucket: 1h}
      - name: location
        type: point
        category: location
        transform: {cell: 13}
      - name: distance_km
        type: number
        category: measurement
        min: 0
        max: 50
        transform: keep
agreements:
  - id: lab-aggregate
    party: lab
    stream: bench.trips
    level: aggregate
    purposes: [research]
    budget: {epsilon: 1000000, period: 3650d}
)yaml";

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

long PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// CPU time of the whole process (the machine is shared: wall time would
// measure the neighbours). Nothing else runs in the process meanwhile.
template <typename F>
double Time(F&& f) {
  const double start = CpuSeconds();
  f();
  return CpuSeconds() - start;
}

void Die(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, std::string(s.message()).c_str());
  std::exit(1);
}

// Writes records [begin, end) as NDJSON: vehicle i % subjects, times spread
// over the 30 days, points in the area (denser in the middle).
void WriteChunk(const std::string& path, int64_t begin, int64_t end, int64_t subjects) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  InsecureDeterministicRandomForTesting random(static_cast<uint64_t>(begin) + 1);
  for (int64_t i = begin; i < end; ++i) {
    const uint64_t r = random.NextUint64();
    const absl::Time t =
        kStart +
        absl::Seconds(static_cast<int64_t>(r % static_cast<uint64_t>(kDays * 86400)));
    const double u = static_cast<double>(random.NextUint64() % 100000) / 100000.0;
    const double v = static_cast<double>(random.NextUint64() % 100000) / 100000.0;
    const double lat = 40.70 + 0.08 * (u + v) / 2;
    const double lon = -74.02 + 0.08 * u;
    const double km = static_cast<double>(random.NextUint64() % 60000) / 1000.0;
    std::fprintf(f,
                 "{\"vehicle\":\"V%07lld\",\"time\":\"%s\",\"location\":{\"lat\":%.6f,"
                 "\"lon\":%.6f},\"distance_km\":%.3f}\n",
                 static_cast<long long>(i % subjects), FormatTimestamp(t).c_str(), lat,
                 lon, std::min(km, 50.0));
  }
  std::fclose(f);
}

struct Bench {
  std::string dir;
  std::unique_ptr<server::Trust> trust;
  SystemClock clock;
  CryptoRandom random;
};

void Load(Bench& b, int64_t records, int64_t subjects) {
  auto config = config::ParseConfig(kConfig, "bench.yaml", b.dir);
  Die(config.status(), "config");
  const bool fresh = !fs::exists(fs::path(b.dir) / server::kMasterKeyFile);
  if (fresh) Die(server::Trust::Initialize(*config, b.dir, b.clock, b.random), "init");
  auto trust = server::Trust::Open(*config, b.dir, b.clock, b.random);
  Die(trust.status(), "open");
  b.trust = std::move(*trust);
  auto stored = b.trust->store().CountRecords(kStream);
  Die(stored.status(), "count");
  if (*stored == records) {
    std::printf("reusing %lld stored records in %s\n", static_cast<long long>(records),
                b.dir.c_str());
    return;
  }
  if (*stored != 0) {
    std::fprintf(stderr, "%s holds %lld records, not %lld: use another --data_dir\n",
                 b.dir.c_str(), static_cast<long long>(*stored),
                 static_cast<long long>(records));
    std::exit(1);
  }
  constexpr int64_t kChunk = 1'000'000;
  const std::string chunk = (fs::path(b.dir) / "chunk.ndjson").string();
  const double seconds = Time([&] {
    for (int64_t begin = 0; begin < records; begin += kChunk) {
      const int64_t end = std::min(records, begin + kChunk);
      WriteChunk(chunk, begin, end, subjects);
      auto s = ingest::IngestFile(*b.trust->config().FindStream(kStream),
                                  b.trust->store(), b.trust->keyring(), b.random, b.clock,
                                  chunk, ingest::FileIngestOptions{});
      Die(s.status(), "ingest");
      if (s->accepted != end - begin) {
        std::fprintf(stderr, "ingest rejected records\n");
        std::exit(1);
      }
      std::fprintf(stderr, "\rstored %lld / %lld", static_cast<long long>(end),
                   static_cast<long long>(records));
    }
  });
  fs::remove(chunk);
  std::fprintf(stderr, "\n");
  std::printf("stored %lld records in %.1f s\n", static_cast<long long>(records),
              seconds);
}

server::AggregateRequest Query(dp::Metric metric, int rep) {
  server::AggregateRequest r;
  r.party = "lab";
  r.purpose = "research";
  r.stream = kStream;
  r.metric = metric;
  r.group_by = {"time:1h", "cell:13"};
  r.from = kStart;
  r.to = kStart + absl::Hours(24 * kDays);
  if (metric == dp::Metric::kSum) r.value = "distance_km";
  // A different epsilon each time: an identical query would be cached.
  r.epsilon = 1.0 + rep / 1000.0;
  r.max_partitions = 50;
  r.max_records_per_partition = 5;
  return r;
}

double SqliteGroupBy(const std::string& db_path, int64_t& groups) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "open %s failed\n", db_path.c_str());
    std::exit(1);
  }
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT time_us / 3600000000 AS h, cell, count(*) FROM records "
                     "WHERE stream = ?1 AND time_us >= ?2 AND time_us < ?3 "
                     "GROUP BY h, cell",
                     -1, &st, nullptr);
  sqlite3_bind_text(st, 1, kStream, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, absl::ToUnixMicros(kStart));
  sqlite3_bind_int64(st, 3, absl::ToUnixMicros(kStart + absl::Hours(24 * kDays)));
  groups = 0;
  const double t = Time([&] {
    while (sqlite3_step(st) == SQLITE_ROW) ++groups;
  });
  sqlite3_finalize(st);
  sqlite3_close(db);
  return t;
}

struct Key {
  int64_t hour;
  uint64_t cell;
  bool operator==(const Key& o) const { return hour == o.hour && cell == o.cell; }
  template <typename H>
  friend H AbslHashValue(H h, const Key& k) {
    return H::combine(std::move(h), k.hour, k.cell);
  }
};

// The same store scan, no privacy: GROUP BY hour, cell in a hash map;
// with `sum`, every payload opened and its distance summed.
double PlainScan(Bench& b, bool sum, int64_t& groups) {
  store::RecordQuery q;
  q.stream = kStream;
  q.from_us = absl::ToUnixMicros(kStart);
  q.to_us = absl::ToUnixMicros(kStart + absl::Hours(24 * kDays));
  const config::Stream& stream = *b.trust->config().FindStream(kStream);
  absl::flat_hash_map<Key, double> totals;
  server::PayloadOpener opener(b.trust->keyring(), stream);
  const double t = Time([&] {
    Die(b.trust->store().ScanRecords(
            q,
            [&](const store::StoredRecord& r) -> absl::Status {
              double& cell = totals[Key{r.time_us / 3'600'000'000, r.cell}];
              if (!sum) {
                cell += 1;
                return absl::OkStatus();
              }
              auto plain = opener.Open(r);
              if (!plain.ok()) return plain.status();
              if (!plain->has_value()) return absl::OkStatus();
              const nlohmann::json p = nlohmann::json::parse(**plain, nullptr, false);
              auto it = p.find("distance_km");
              if (it != p.end() && it->is_number()) cell += it->get<double>();
              return absl::OkStatus();
            }),
        "scan");
  });
  groups = static_cast<int64_t>(totals.size());
  return t;
}

double Dp(Bench& b, dp::Metric metric, int rep, int64_t& rows) {
  absl::StatusOr<server::AggregateResult> r;
  const double t = Time([&] { r = server::RunAggregate(*b.trust, Query(metric, rep)); });
  Die(r.status(), "aggregate");
  if (!r->decision.permitted()) {
    std::fprintf(stderr, "denied: %s\n", r->decision.detail.c_str());
    std::exit(1);
  }
  rows = static_cast<int64_t>(r->answer["rows"].size());
  return t;
}

int Main() {
  const int64_t records = absl::GetFlag(FLAGS_records);
  const int64_t subjects = absl::GetFlag(FLAGS_subjects);
  const int reps = std::max(1, absl::GetFlag(FLAGS_repetitions));
  Bench b;
  b.dir = absl::GetFlag(FLAGS_data_dir);
  const bool temporary = b.dir.empty();
  if (temporary) {
    char tmpl[] = "/tmp/privacity-dp-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return 1;
    b.dir = tmpl;
  }
  fs::create_directories(b.dir);
  Load(b, records, subjects);
  const std::string db = (fs::path(b.dir) / "privacity.db").string();

  std::vector<double> dp_count, dp_sum, sql_count, scan_count, scan_sum;
  int64_t rows_count = 0, rows_sum = 0, g_sql = 0, g_scan = 0, g_sum = 0;
  for (int rep = 0; rep < reps; ++rep) {
    sql_count.push_back(SqliteGroupBy(db, g_sql));
    scan_count.push_back(PlainScan(b, /*sum=*/false, g_scan));
    dp_count.push_back(Dp(b, dp::Metric::kCount, rep, rows_count));
    scan_sum.push_back(PlainScan(b, /*sum=*/true, g_sum));
    dp_sum.push_back(Dp(b, dp::Metric::kSum, rep, rows_sum));
    std::fprintf(stderr, "repetition %d done\n", rep + 1);
  }
  const double mc = Median(dp_count), ms = Median(dp_sum), sq = Median(sql_count),
               pc = Median(scan_count), ps = Median(scan_sum);
  std::printf(
      "\n%lld records, %lld subjects, %d repetitions (medians), peak RSS %ld MB\n",
      static_cast<long long>(records), static_cast<long long>(subjects), reps,
      PeakRssMb());
  std::printf(
      "groups with data: %lld (SQLite), %lld (scan); DP rows released: %lld "
      "(count), %lld (sum; public domain: every hour x area cell)\n\n",
      static_cast<long long>(g_sql), static_cast<long long>(g_scan),
      static_cast<long long>(rows_count), static_cast<long long>(rows_sum));
  std::printf("| path | CPU time (s) | DP / this |\n|---|---|---|\n");
  std::printf("| DP count by hour x cell (RunAggregate) | %.2f | |\n", mc);
  std::printf("| plain SQLite GROUP BY hour, cell (count) | %.2f | %.2f |\n", sq,
              mc / sq);
  std::printf("| same store scan, no privacy (count) | %.2f | %.2f |\n", pc, mc / pc);
  std::printf("| DP sum of distance by hour x cell (RunAggregate) | %.2f | |\n", ms);
  std::printf("| same store scan + open + parse, no privacy (sum) | %.2f | %.2f |\n", ps,
              ms / ps);
  b.trust.reset();
  if (temporary) fs::remove_all(b.dir);
  return 0;
}

}  // namespace
}  // namespace privacity

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return privacity::Main();
}
