// Erasure of one subject as the store grows (10^5, 10^6, 10^7 records).
//
// For each size the program fills a fresh SQLite store with synthetic
// records of subjects holding 1,000 records each (one data key per
// subject: 1,000 half-hourly readings fit one 30-day epoch), sealed
// payloads of 96 random bytes, and then erases 5 subjects one by one in
// the steps of rights::EraseSubject, timing them separately:
//   shred     list the subject's data keys and destroy them (from here the
//             payloads are unreadable): what makes erasure effective;
//   physical  delete their records (before the shred: the store finds them
//             through the keys), then the consent, the request and the
//             compaction (WAL checkpoint + truncate, secure_delete pages);
// and, in the same run, the baseline: the same rows in a plain SQLite table
// (WAL, secure_delete on, an index on the subject column) removed by
// DELETE ... WHERE subject = ? and the same WAL checkpoint.
// Prints one line per size with the medians (milliseconds) and the ratio
// of privacity's whole erasure to the baseline.
//
//   erasure_bench [DIR] [SIZES...]     e.g. erasure_bench /var/tmp 100000 1000000
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/random.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "rights/erasure.h"
#include "rights/requests.h"
#include "rights/rights_log.h"
#include "store/store.h"

namespace privacity {
namespace {

constexpr int64_t kRecordsPerSubject = 1000;
constexpr int kErasures = 5;
constexpr int64_t kBatch = 50000;
constexpr size_t kPayloadBytes = 96;

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "erasure_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) Die(absl::StrCat(what, ": ", s.ToString()));
}

void Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    Die(absl::StrCat("sqlite: ", err ? err : "?", " in ", sql));
  }
}

struct SizeResult {
  int64_t records = 0;
  double fill_s = 0;
  std::vector<double> shred, physical, total, baseline;
};

SizeResult RunSize(const std::filesystem::path& dir, int64_t n) {
  SizeResult out;
  out.records = n;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  CryptoRandom random;
  SystemClock clock;
  auto store = store::OpenStore("sqlite:bench.db", dir.string());
  if (!store.ok()) Die(store.status().ToString());
  const crypto::SecretBytes master(random.Bytes(32));
  auto keyring = crypto::Keyring::Create(master, (*store)->keys(), random, clock);
  if (!keyring.ok()) Die(keyring.status().ToString());

  sqlite3* plain = nullptr;
  if (sqlite3_open((dir / "plain.db").c_str(), &plain) != SQLITE_OK) Die("open plain");
  Exec(plain,
       "PRAGMA journal_mode=WAL; PRAGMA secure_delete=ON; PRAGMA synchronous=NORMAL;");
  Exec(plain,
       "CREATE TABLE plain (id INTEGER PRIMARY KEY, subject BLOB NOT NULL, "
       "time_us INTEGER NOT NULL, payload BLOB NOT NULL);"
       "CREATE INDEX plain_by_subject ON plain (subject);");
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(plain, "INSERT INTO plain VALUES (?1, ?2, ?3, ?4)", -1, &insert,
                     nullptr);

  const int64_t subjects = std::max<int64_t>(1, n / kRecordsPerSubject);
  std::vector<std::string> blind(subjects);
  std::vector<int64_t> key_id(subjects);
  for (int64_t s = 0; s < subjects; ++s) {
    blind[s] = random.Bytes(32);
    auto key =
        (*keyring)->GetOrCreate(crypto::KeyName{.kind = crypto::KeyKind::kSubjectDek,
                                                .scope = "bench.stream",
                                                .epoch = 0,
                                                .subject = blind[s]});
    if (!key.ok()) Die(key.status().ToString());
    key_id[s] = key->id;
  }
  const auto fill_start = Clock::now();
  const std::string payload_pool = random.Bytes(1 << 16);
  for (int64_t done = 0; done < n; done += kBatch) {
    const int64_t count = std::min(kBatch, n - done);
    auto first = (*store)->ReserveRecordIds(count);
    if (!first.ok()) Die(first.status().ToString());
    std::vector<store::StoredRecord> batch(count);
    Exec(plain, "BEGIN");
    for (int64_t i = 0; i < count; ++i) {
      const int64_t k = done + i;
      // Subjects interleaved, as readings of many meters arrive together.
      const int64_t s = k % subjects;
      store::StoredRecord& r = batch[i];
      r.id = *first + i;
      r.stream = "bench.stream";
      r.time_us = 1356998400000000 + (k / subjects) * 1800000000;
      r.blind_index = blind[s];
      r.key_id = key_id[s];
      r.payload = payload_pool.substr((k * 131) % (payload_pool.size() - kPayloadBytes),
                                      kPayloadBytes);
      sqlite3_bind_int64(insert, 1, r.id);
      sqlite3_bind_blob(insert, 2, r.blind_index.data(), 32, SQLITE_STATIC);
      sqlite3_bind_int64(insert, 3, r.time_us);
      sqlite3_bind_blob(insert, 4, r.payload.data(), static_cast<int>(r.payload.size()),
                        SQLITE_STATIC);
      if (sqlite3_step(insert) != SQLITE_DONE) Die("plain insert");
      sqlite3_reset(insert);
    }
    Exec(plain, "COMMIT");
    Check((*store)->AppendRecords(batch), "append");
  }
  sqlite3_finalize(insert);
  Check((*store)->Compact(), "compact after fill");
  Exec(plain, "PRAGMA wal_checkpoint(TRUNCATE)");
  out.fill_s = Ms(Clock::now() - fill_start) / 1000;

  rights::MemoryRightsLog log;
  rights::RequestsDesk desk((*store)->rights(), clock, random, log);
  sqlite3_stmt* del = nullptr;
  sqlite3_prepare_v2(plain, "DELETE FROM plain WHERE subject = ?1", -1, &del, nullptr);
  for (int e = 0; e < kErasures && e < subjects; ++e) {
    const int64_t s = (e * 7919) % subjects;
    const std::string& bi = blind[s];
    // privacity, in the steps of EraseSubject: the rows (found through the
    // subject's data keys), the shred, then the rest (consent, desk,
    // compaction), which finds nothing left to delete or destroy.
    const auto t0 = Clock::now();
    auto erased = (*store)->DeleteRecordsBySubject(bi);
    if (!erased.ok()) Die(erased.status().ToString());
    if (*erased != kRecordsPerSubject && n >= kRecordsPerSubject) {
      Die(absl::StrCat("erased ", *erased, " records"));
    }
    const auto t1 = Clock::now();
    auto ids = (*store)->rights().ListSubjectKeyIds(bi);
    if (!ids.ok() || ids->size() != 1) Die("list keys");
    for (int64_t id : *ids) Check((*keyring)->Destroy(id), "destroy");
    const auto t2 = Clock::now();
    auto receipt = rights::EraseSubject(**store, **keyring, desk, clock, bi);
    if (!receipt.ok()) Die(receipt.status().ToString());
    const auto t3 = Clock::now();
    // Baseline.
    sqlite3_bind_blob(del, 1, bi.data(), 32, SQLITE_STATIC);
    if (sqlite3_step(del) != SQLITE_DONE) Die("plain delete");
    sqlite3_reset(del);
    Exec(plain, "PRAGMA wal_checkpoint(TRUNCATE)");
    const auto t4 = Clock::now();
    out.shred.push_back(Ms(t2 - t1));
    out.physical.push_back(Ms(t1 - t0) + Ms(t3 - t2));
    out.total.push_back(Ms(t3 - t0));
    out.baseline.push_back(Ms(t4 - t3));
  }
  sqlite3_finalize(del);
  sqlite3_close(plain);
  store->reset();
  std::filesystem::remove_all(dir);
  return out;
}

}  // namespace
}  // namespace privacity

int main(int argc, char** argv) {
  std::filesystem::path base =
      argc > 1 ? argv[1] : std::filesystem::temp_directory_path();
  std::vector<int64_t> sizes;
  for (int i = 2; i < argc; ++i) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(argv[i], &n) || n < 1)
      privacity::Die("sizes are positive integers");
    sizes.push_back(n);
  }
  if (sizes.empty()) sizes = {100000, 1000000, 10000000};
  const std::filesystem::path dir =
      base / absl::StrCat("privacity-erasure-bench-", ::getpid());
  std::printf("%10s %8s %10s %12s %10s %12s %8s\n", "records", "fill_s", "shred_ms",
              "physical_ms", "total_ms", "baseline_ms", "ratio");
  for (int64_t n : sizes) {
    const privacity::SizeResult r = privacity::RunSize(dir, n);
    const double total = privacity::Median(r.total);
    const double baseline = privacity::Median(r.baseline);
    std::printf("%10lld %8.1f %10.3f %12.3f %10.3f %12.3f %8.2f\n",
                static_cast<long long>(r.records), r.fill_s, privacity::Median(r.shred),
                privacity::Median(r.physical), total, baseline, total / baseline);
    std::fflush(stdout);
  }
  return 0;
}
