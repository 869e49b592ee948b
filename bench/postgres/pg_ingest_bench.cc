// Ingest throughput against PostgreSQL with 1, 2 and 3 privacity nodes,
// and in the same run two baselines on the same indexed, partitioned
// records table:
//   raw COPY  the rows privacity stored, copied back in with one binary
//             COPY after a TRUNCATE (the physical limit);
//   pgcrypto  what a city would otherwise build: the raw readings COPYed
//             into a staging table, then one INSERT ... SELECT doing the
//             privacy steps in SQL (hmac() blind index and pseudonym, the
//             time bucket, clamp and round, encrypt() with AES).
// Prints a Markdown table. Run by bench/postgres/run (not in CI).
//
//   pg_ingest_bench --url=postgresql://USER@HOST:PORT/postgres
//                   [--records=300000] [--meters=1000] [--nodes=1,2,3]
#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "ingest/ingester.h"
#include "server/trust.h"

ABSL_FLAG(std::string, url, "", "libpq URI of a role that may create databases");
ABSL_FLAG(int64_t, records, 300000, "records per run (split over the nodes)");
ABSL_FLAG(int64_t, meters, 1000, "distinct meters (subjects)");
ABSL_FLAG(std::string, nodes, "1,2,3", "node counts to measure");

namespace privacity {
namespace {

namespace fs = std::filesystem;
using Seconds = std::chrono::duration<double>;

const fs::path kDemo = fs::path(PRIVACITY_SOURCE_DIR) / "examples" / "demo-city";

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "pg_ingest_bench: %s\n", what.c_str());
  std::exit(1);
}

std::string WithDatabase(const std::string& uri, const std::string& db) {
  const size_t start = uri.find("://") + 3;
  const size_t slash = uri.find('/', start);
  return uri.substr(0, slash) + "/" + db;
}

PGconn* Connect(const std::string& uri) {
  PGconn* c = PQconnectdb(uri.c_str());
  if (PQstatus(c) != CONNECTION_OK) Die(PQerrorMessage(c));
  return c;
}

void Exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    Die(sql + ": " + PQerrorMessage(c));
  PQclear(r);
}

std::string QueryOne(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK) Die(sql + ": " + PQerrorMessage(c));
  std::string out = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  return out;
}

void CopyIn(PGconn* c, const std::string& sql, const std::string& data) {
  PGresult* r = PQexec(c, sql.c_str());
  if (PQresultStatus(r) != PGRES_COPY_IN) Die(sql + ": " + PQerrorMessage(c));
  PQclear(r);
  for (size_t off = 0; off < data.size(); off += 1 << 20) {
    const size_t n = std::min<size_t>(1 << 20, data.size() - off);
    if (PQputCopyData(c, data.data() + off, static_cast<int>(n)) != 1) Die("copy data");
  }
  if (PQputCopyEnd(c, nullptr) != 1) Die("copy end");
  while (PGresult* res = PQgetResult(c)) {
    if (PQresultStatus(res) != PGRES_COMMAND_OK) Die(sql + ": " + PQerrorMessage(c));
    PQclear(res);
  }
}

std::string CopyOut(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  if (PQresultStatus(r) != PGRES_COPY_OUT) Die(sql + ": " + PQerrorMessage(c));
  PQclear(r);
  std::string out;
  char* buf = nullptr;
  int n;
  while ((n = PQgetCopyData(c, &buf, 0)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    PQfreemem(buf);
  }
  while (PGresult* res = PQgetResult(c)) PQclear(res);
  return out;
}

// Node `node` of `nodes` reads records [node, records) step `nodes`:
// half-hourly readings of `meters` meters, as CSV in the demo's columns.
std::string Readings(int64_t records, int64_t meters, int node, int nodes) {
  std::string out = "LCLid,tstp,energy(kWh/hh)\n";
  const absl::Time start = absl::FromUnixSeconds(1356998400);  // 2013-01-01
  for (int64_t i = node; i < records; i += nodes) {
    const absl::Time t = start + absl::Minutes(30) * (i / meters);
    absl::StrAppendFormat(&out, "MAC%06d,%s,%.3f\n", i % meters,
                          absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::UTCTimeZone()),
                          static_cast<double>((i * 7919) % 2000) / 1000.0);
  }
  return out;
}

struct Run {
  int nodes;
  double rows_per_s;
};

int Main() {
  const std::string admin = absl::GetFlag(FLAGS_url);
  if (admin.empty()) Die("--url is required");
  const int64_t records = absl::GetFlag(FLAGS_records);
  const int64_t meters = absl::GetFlag(FLAGS_meters);
  auto config = config::LoadConfigFile((kDemo / "city.yaml").string());
  if (!config.ok()) Die(config.status().ToString());
  const std::string tmp = (fs::temp_directory_path() / "privacity-pg-bench").string();
  PGconn* admin_conn = Connect(admin);

  std::vector<Run> runs;
  std::string db_uri;
  std::string csv_all;
  for (absl::string_view n : absl::StrSplit(absl::GetFlag(FLAGS_nodes), ',')) {
    const int nodes = std::stoi(std::string(n));
    const std::string db = absl::StrCat("privacity_bench_", nodes);
    Exec(admin_conn, absl::StrCat("DROP DATABASE IF EXISTS ", db, " WITH (FORCE)"));
    Exec(admin_conn, absl::StrCat("CREATE DATABASE ", db));
    db_uri = WithDatabase(admin, db);
    const std::string dir = absl::StrCat(tmp, "-", nodes);
    fs::remove_all(dir);
    config::CityConfig c = *config;
    c.store = db_uri;
    SystemClock clock;
    CryptoRandom random;
    if (absl::Status s = server::Trust::Initialize(c, dir, clock, random); !s.ok()) {
      Die(s.ToString());
    }
    std::vector<std::unique_ptr<server::Trust>> trusts;
    std::vector<std::string> files;
    for (int i = 0; i < nodes; ++i) {
      auto t = server::Trust::Open(c, dir, clock, random);
      if (!t.ok()) Die(t.status().ToString());
      trusts.push_back(*std::move(t));
      files.push_back(absl::StrCat(dir, "/input-", i, ".csv"));
      std::FILE* f = std::fopen(files.back().c_str(), "w");
      const std::string csv = Readings(records, meters, i, nodes);
      std::fwrite(csv.data(), 1, csv.size(), f);
      std::fclose(f);
    }
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < nodes; ++i) {
      threads.emplace_back([&, i] {
        server::Trust& t = *trusts[i];
        ingest::FileIngestOptions options;
        options.ingest.log_ingest = t.audit().LoggerFor("energy.meter_readings");
        CryptoRandom node_random;
        auto summary =
            ingest::IngestFile(*t.config().FindStream("energy.meter_readings"), t.store(),
                               t.keyring(), node_random, clock, files[i], options);
        if (!summary.ok()) Die(summary.status().ToString());
      });
    }
    for (auto& t : threads) t.join();
    const double secs = Seconds(std::chrono::steady_clock::now() - start).count();
    runs.push_back({nodes, records / secs});
    std::fprintf(stderr, "%d node(s): %.0f records/s\n", nodes, records / secs);
    trusts.clear();
    fs::remove_all(dir);
  }

  // Baselines on the last run's database and rows.
  PGconn* c = Connect(db_uri);
  const std::string count = QueryOne(c, "SELECT count(*) FROM records");
  if (std::stoll(count) != records) Die("unexpected record count " + count);
  const std::string rows = CopyOut(
      c,
      "COPY (SELECT id, stream_id, time_us, cell, epoch, blind_index, key_id, payload, "
      "batch FROM records) TO STDOUT (FORMAT binary)");
  Exec(c, "TRUNCATE records");
  Exec(c, "CHECKPOINT");
  auto start = std::chrono::steady_clock::now();
  Exec(c, "BEGIN");
  CopyIn(
      c,
      "COPY records (id, stream_id, time_us, cell, epoch, blind_index, key_id, payload, "
      "batch) FROM STDIN (FORMAT binary)",
      rows);
  Exec(c, "COMMIT");
  const double copy_rate =
      records / Seconds(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "raw indexed COPY: %.0f records/s\n", copy_rate);

  // pgcrypto: the same steps in SQL. Keys are random bytes drawn by the
  // server; one AES key for all (a hand-rolled pipeline rarely does more).
  Exec(c, "CREATE EXTENSION IF NOT EXISTS pgcrypto");
  Exec(c, "TRUNCATE records");
  Exec(
      c,
      "CREATE UNLOGGED TABLE staging (meter text, tstp timestamp, kwh double precision)");
  const std::string sid =
      QueryOne(c, "SELECT id FROM streams WHERE name = 'energy.meter_readings'");
  for (int i = 0; i < 1; ++i) csv_all += Readings(records, meters, 0, 1);
  const std::string body = csv_all.substr(csv_all.find('\n') + 1);
  Exec(c, "CHECKPOINT");
  start = std::chrono::steady_clock::now();
  Exec(c, "BEGIN");
  CopyIn(c, "COPY staging FROM STDIN (FORMAT csv)", body);
  Exec(
      c,
      absl::StrCat(
          "WITH k AS (SELECT gen_random_bytes(32) AS bi, gen_random_bytes(32) AS ps, "
          "gen_random_bytes(32) AS aes) "
          "INSERT INTO records (id, stream_id, time_us, cell, epoch, blind_index, "
          "key_id, "
          "payload, batch) SELECT row_number() OVER (), ",
          sid,
          ", t.us, 0, t.us / 2592000000000, hmac(convert_to(s.meter, 'UTF8'), k.bi, "
          "'sha256'), 0, "
          "encrypt(convert_to(json_build_object("
          "'meter_id', 'ps_' || encode(hmac(convert_to(s.meter, 'UTF8'), k.ps, "
          "'sha256'), 'hex'), "
          "'time', t.us, "
          "'energy_kwh', round(least(greatest(s.kwh, 0), 10)::numeric, 3))::text, "
          "'UTF8'), k.aes, 'aes'), 1 "
          "FROM staging s, k, LATERAL (SELECT (extract(epoch FROM date_bin('30 minutes', "
          "s.tstp, timestamp '2000-01-01')) * 1000000)::bigint AS us) t"));
  Exec(c, "COMMIT");
  const double pgcrypto_rate =
      records / Seconds(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "pgcrypto pipeline: %.0f records/s\n", pgcrypto_rate);
  PQfinish(c);
  PQfinish(admin_conn);

  std::printf("| nodes | privacity (records/s) | vs raw indexed COPY | vs pgcrypto |\n");
  std::printf("|---|---|---|---|\n");
  for (const Run& r : runs) {
    std::printf("| %d | %.0f | %.2f | %.2fx |\n", r.nodes, r.rows_per_s,
                r.rows_per_s / copy_rate, r.rows_per_s / pgcrypto_rate);
  }
  std::printf(
      "\nraw indexed COPY: %.0f records/s; pgcrypto pipeline: %.0f records/s "
      "(%lld records, %lld meters)\n",
      copy_rate, pgcrypto_rate, static_cast<long long>(records),
      static_cast<long long>(meters));
  return 0;
}

}  // namespace
}  // namespace privacity

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return privacity::Main();
}
