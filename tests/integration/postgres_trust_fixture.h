// The fixture of the PostgreSQL trust tests: the demo city with its store
// in a fresh test database, and nodes (Trust instances, each with its own
// store connections, as separate processes would have) on one data dir.
// Skips, saying why, without PRIVACITY_TEST_POSTGRES_URL.
#ifndef PRIVACITY_TESTS_INTEGRATION_POSTGRES_TRUST_FIXTURE_H_
#define PRIVACITY_TESTS_INTEGRATION_POSTGRES_TRUST_FIXTURE_H_

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "audit/log.h"
#include "audit/store_log_storage.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "dp/accountant.h"
#include "dp/noise.h"
#include "gtest/gtest.h"
#include "ingest/ingester.h"
#include "rights/erasure.h"
#include "rights/requests.h"
#include "server/aggregate_view.h"
#include "server/trust.h"
#include "store/postgres_test_util.h"
#include "transform/pipeline.h"

namespace privacity::testing {

namespace fs = std::filesystem;
using store::testing::TestDatabase;

inline const fs::path kDemo = fs::path(PRIVACITY_SOURCE_DIR) / "examples" / "demo-city";

class PostgresqlTrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!store::testing::TestPostgresUrl().has_value()) {
      GTEST_SKIP() << store::testing::PostgresSkipReason();
    }
    char tmpl[] = "/tmp/privacity-pg-trust-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto db = TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    auto config = config::LoadConfigFile((kDemo / "city.yaml").string());
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *std::move(config);
  }
  void TearDown() override {
    nodes_.clear();
    db_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  config::CityConfig PgConfig() const {
    config::CityConfig c = config_;
    c.store = db_->uri();
    return c;
  }

  // Opens another node on the initialised data dir.
  server::Trust& AddNode(const config::CityConfig& config) {
    auto trust = server::Trust::Open(config, dir_, clock_, random_);
    EXPECT_TRUE(trust.ok()) << trust.status();
    nodes_.push_back(*std::move(trust));
    return *nodes_.back();
  }

  ingest::IngestSummary Ingest(server::Trust& trust, const std::string& stream,
                               const std::string& file,
                               std::vector<uint64_t>* leaves = nullptr) {
    ingest::FileIngestOptions options;
    options.ingest.log_ingest = [&trust, stream, leaves](const ingest::IngestSummary& s,
                                                         const std::string& digest,
                                                         ingest::LastBatchWriter write) {
      absl::StatusOr<uint64_t> leaf =
          trust.audit().AppendIngest(stream, s.accepted, s.rejected, digest, write);
      if (leaf.ok() && leaves != nullptr) leaves->push_back(*leaf);
      return leaf.status();
    };
    auto summary = ingest::IngestFile(*trust.config().FindStream(stream), trust.store(),
                                      trust.keyring(), trust.random(), trust.clock(),
                                      (kDemo / "data" / file).string(), options);
    EXPECT_TRUE(summary.ok()) << summary.status();
    return summary.ok() ? *summary : ingest::IngestSummary{};
  }

  void Consent(server::Trust& trust, const std::string& meter) {
    auto indexer = transform::SubjectIndexer::Create(trust.keyring());
    ASSERT_TRUE(indexer.ok());
    store::ConsentEvent e;
    e.blind_index = (*indexer)->BlindIndex(meter);
    e.purpose = "research";
    e.state = store::ConsentState::kGranted;
    e.time = clock_.Now();
    e.source = "portal";
    ASSERT_TRUE(trust.store().AppendConsentEvent(e).ok());
  }

  server::AggregateRequest MeanKwh(int days, double epsilon) {
    server::AggregateRequest r;
    r.party = "uni-research";
    r.purpose = "research";
    r.stream = "energy.meter_readings";
    r.metric = dp::Metric::kMean;
    r.value = "energy_kwh";
    r.group_by = {"time:1d"};
    r.from = absl::FromCivil(absl::CivilDay(2013, 1, 1), absl::UTCTimeZone());
    r.to = absl::FromCivil(absl::CivilDay(2013, 1, 1 + days), absl::UTCTimeZone());
    r.epsilon = epsilon;
    r.max_partitions = 14;
    r.max_records_per_partition = 48;
    return r;
  }

  static void ExpectLogVerifies(server::Trust& trust) {
    audit::StoreLogStorage storage(trust.store().log());
    absl::Status s = audit::VerifyStorage(storage);
    EXPECT_TRUE(s.ok()) << s;
  }

  std::string dir_;
  std::unique_ptr<TestDatabase> db_;
  config::CityConfig config_;
  ManualClock clock_{absl::FromUnixSeconds(1767225600)};  // 2026-01-01
  CryptoRandom random_;
  std::vector<std::unique_ptr<server::Trust>> nodes_;
};

}  // namespace privacity::testing

#endif  // PRIVACITY_TESTS_INTEGRATION_POSTGRES_TRUST_FIXTURE_H_
