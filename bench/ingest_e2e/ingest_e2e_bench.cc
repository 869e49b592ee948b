// End-to-end ingest benchmark: N smart-meter-like records from NDJSON
// through parse, validate, transform, pseudonymize, seal and store, against
// the baseline of a plain SQLite insert of the same resulting rows into a
// table with the same schema, indexes and settings, in batches of the same
// size. Prints a Markdown table of medians and the ratio.
//
//   ingest_e2e_bench [--records=1000000] [--meters=1000] [--repetitions=3]
#include <sqlite3.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/time_util.h"
#include "config/loader.h"
#include "ingest/ingester.h"
#include "server/trust.h"

ABSL_FLAG(int64_t, records, 1000000, "records to ingest");
ABSL_FLAG(int64_t, meters, 1000, "distinct meters (subjects)");
ABSL_FLAG(int, repetitions, 3, "repetitions of each measurement");

namespace privacity {
namespace {

namespace fs = std::filesystem;
using Seconds = std::chrono::duration<double>;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

long PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

// Readings every 30 minutes from `meters` meters, in time order, as a feed
// delivers them.
void WriteInput(const std::string& path, int64_t records, int64_t meters) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  const absl::Time start = absl::FromUnixSeconds(1356998400);  // 2013-01-01
  for (int64_t i = 0; i < records; ++i) {
    const absl::Time t = start + absl::Minutes(30) * (i / meters);
    std::fprintf(f, "{\"LCLid\":\"MAC%06lld\",\"tstp\":\"%s\",\"energy(kWh/hh)\":%.3f}\n",
                 static_cast<long long>(i % meters),
                 absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::UTCTimeZone()).c_str(),
                 static_cast<double>((i * 7919) % 2000) / 1000.0);
  }
  std::fclose(f);
}

void Check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

struct Row {
  int64_t id, time_us, cell, epoch, key_id, batch;
  std::string stream, blind_index, payload;
};

// The rows privacity stored, and the DDL of its records table and indexes.
void LoadRows(const std::string& db_path, std::vector<Row>& rows,
              std::vector<std::string>& ddl) {
  sqlite3* db;
  Check(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), nullptr,
        "open");
  sqlite3_stmt* st;
  Check(sqlite3_prepare_v2(
            db,
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'records' AND sql "
            "IS NOT NULL ORDER BY type DESC",
            -1, &st, nullptr),
        db, "schema");
  while (sqlite3_step(st) == SQLITE_ROW)
    ddl.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  Check(sqlite3_prepare_v2(
            db,
            "SELECT id, stream, time_us, cell, epoch, blind_index, key_id, payload, "
            "batch FROM records ORDER BY id",
            -1, &st, nullptr),
        db, "select");
  while (sqlite3_step(st) == SQLITE_ROW) {
    Row r;
    r.id = sqlite3_column_int64(st, 0);
    r.stream = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    r.time_us = sqlite3_column_int64(st, 2);
    r.cell = sqlite3_column_int64(st, 3);
    r.epoch = sqlite3_column_int64(st, 4);
    r.blind_index.assign(static_cast<const char*>(sqlite3_column_blob(st, 5)),
                         sqlite3_column_bytes(st, 5));
    r.key_id = sqlite3_column_int64(st, 6);
    r.payload.assign(static_cast<const char*>(sqlite3_column_blob(st, 7)),
                     sqlite3_column_bytes(st, 7));
    r.batch = sqlite3_column_int64(st, 8);
    rows.push_back(std::move(r));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
}

// Plain batched insert of `rows` into a fresh table of the same schema.
double PlainInsert(const std::string& path, const std::vector<Row>& rows,
                   const std::vector<std::string>& ddl, size_t batch) {
  fs::remove(path);
  sqlite3* db;
  Check(sqlite3_open(path.c_str(), &db), nullptr, "open");
  Check(sqlite3_exec(
            db,
            "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = "
            "NORMAL; PRAGMA cache_size = -65536;",
            nullptr, nullptr, nullptr),
        db, "pragmas");
  for (const std::string& s : ddl)
    Check(sqlite3_exec(db, s.c_str(), nullptr, nullptr, nullptr), db, "ddl");
  sqlite3_stmt* ins;
  Check(sqlite3_prepare_v2(
            db,
            "INSERT INTO records (id, stream, time_us, cell, epoch, blind_index, "
            "key_id, payload, batch) VALUES (?,?,?,?,?,?,?,?,?)",
            -1, &ins, nullptr),
        db, "prepare");
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < rows.size(); i += batch) {
    Check(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
    for (size_t j = i; j < std::min(rows.size(), i + batch); ++j) {
      const Row& r = rows[j];
      sqlite3_bind_int64(ins, 1, r.id);
      sqlite3_bind_text(ins, 2, r.stream.data(), static_cast<int>(r.stream.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(ins, 3, r.time_us);
      sqlite3_bind_int64(ins, 4, r.cell);
      sqlite3_bind_int64(ins, 5, r.epoch);
      sqlite3_bind_blob(ins, 6, r.blind_index.data(),
                        static_cast<int>(r.blind_index.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins, 7, r.key_id);
      sqlite3_bind_blob(ins, 8, r.payload.data(), static_cast<int>(r.payload.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(ins, 9, r.batch);
      Check(sqlite3_step(ins), db, "insert");
      sqlite3_reset(ins);
    }
    Check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  }
  const double seconds = Seconds(std::chrono::steady_clock::now() - start).count();
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return seconds;
}

int Main() {
  const int64_t records = absl::GetFlag(FLAGS_records);
  const int64_t meters = absl::GetFlag(FLAGS_meters);
  const int reps = std::max(1, absl::GetFlag(FLAGS_repetitions));
  char tmpl[] = "/tmp/privacity-bench-XXXXXX";
  const fs::path dir = ::mkdtemp(tmpl);
  const std::string input = (dir / "readings.ndjson").string();
  WriteInput(input, records, meters);

  auto config = config::LoadConfigFile(
      (fs::path(PRIVACITY_SOURCE_DIR) / "examples/demo-city/city.yaml").string());
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  const config::Stream& stream = *config->FindStream("energy.meter_readings");
  SystemClock clock;
  CryptoRandom random;
  ingest::FileIngestOptions options;

  std::vector<double> e2e;
  std::string last_db;
  for (int rep = 0; rep < reps; ++rep) {
    const std::string data_dir = (dir / absl::StrFormat("trust-%d", rep)).string();
    if (!server::Trust::Initialize(*config, data_dir, clock, random).ok()) return 1;
    auto trust = server::Trust::Open(*config, data_dir, clock, random);
    if (!trust.ok()) return 1;
    const auto start = std::chrono::steady_clock::now();
    auto summary = ingest::IngestFile(stream, (*trust)->store(), (*trust)->keyring(),
                                      random, clock, input, options);
    const double seconds = Seconds(std::chrono::steady_clock::now() - start).count();
    if (!summary.ok() || summary->accepted != records) {
      std::fprintf(stderr, "ingest failed\n");
      return 1;
    }
    e2e.push_back(seconds);
    last_db = (fs::path(data_dir) / "privacity.db").string();
    if (rep + 1 < reps) fs::remove_all(data_dir);
  }
  const long e2e_rss = PeakRssMb();

  std::vector<Row> rows;
  std::vector<std::string> ddl;
  LoadRows(last_db, rows, ddl);
  std::vector<double> plain;
  for (int rep = 0; rep < reps; ++rep) {
    plain.push_back(
        PlainInsert((dir / "plain.db").string(), rows, ddl, options.ingest.batch_size));
  }
  const double e2e_rate = records / Median(e2e);
  const double plain_rate = records / Median(plain);
  std::printf("| measurement | median time (s) | records/s |\n|---|---|---|\n");
  std::printf("| privacity ingest (NDJSON -> sealed rows) | %.2f | %.0f |\n", Median(e2e),
              e2e_rate);
  std::printf("| plain SQLite insert of the same rows | %.2f | %.0f |\n", Median(plain),
              plain_rate);
  std::printf("\nratio (privacity / plain): %.2f\n", e2e_rate / plain_rate);
  std::printf("peak RSS during privacity ingest: %ld MB\n", e2e_rss);
  std::printf("records: %lld, meters: %lld, repetitions: %d\n",
              static_cast<long long>(records), static_cast<long long>(meters), reps);
  fs::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace privacity

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return privacity::Main();
}
