// The demo city on PostgreSQL: `privacity migrate` (store::MigrateStore)
// from SQLite, and erasure across nodes.
#include <memory>
#include <string>

#include "postgres_trust_fixture.h"
#include "rights/rights_log.h"

namespace privacity::testing {
namespace {

TEST_F(PostgresqlTrustTest, MigrateMovesASqliteTrustThatKeepsWorking) {
  ASSERT_TRUE(server::Trust::Initialize(config_, dir_, clock_, random_).ok());
  nlohmann::ordered_json answer_before;
  store::LogFrontierRow frontier_before;
  std::string checkpoint_before;
  {
    server::Trust& sqlite = AddNode(config_);
    ASSERT_EQ(
        Ingest(sqlite, "energy.meter_readings", "energy.meter_readings.csv").accepted,
        3360);
    ASSERT_EQ(Ingest(sqlite, "footfall.counts", "footfall.counts.ndjson").accepted, 5376);
    Consent(sqlite, "MAC000002");
    Consent(sqlite, "MAC000003");
    // An ingest dedupe key (schema version 3) comes across too.
    ASSERT_TRUE(sqlite.store()
                    .AppendRecordsOnce({}, {store::IngestKey{"footfall.counts",
                                                             std::string(32, 'k'), 1}})
                    .ok());
    dp::ZeroNoiseForTestingNotPrivate zero(random_);
    auto r = server::RunAggregateWithNoise(sqlite, MeanKwh(14, 0.2), zero);
    ASSERT_TRUE(r.ok()) << r.status();
    answer_before = r->answer;
    auto cp = sqlite.audit().Checkpoint();
    ASSERT_TRUE(cp.ok()) << cp.status();
    checkpoint_before = *cp;
    frontier_before = *sqlite.store().log().ReadFrontier();
    nodes_.clear();
  }

  auto summary = store::MigrateStore(config_.store, db_->uri(), dir_);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->tables[0].first, "records");
  EXPECT_EQ(summary->tables[0].second, 3360 + 5376);
  // A second run refuses the now non-empty target.
  EXPECT_EQ(store::MigrateStore(config_.store, db_->uri(), dir_).status().code(),
            absl::StatusCode::kFailedPrecondition);

  server::Trust& pg = AddNode(PgConfig());
  EXPECT_EQ(pg.store().CountRecords("energy.meter_readings").value_or(-1), 3360);
  EXPECT_EQ(pg.store().CountRecords("footfall.counts").value_or(-1), 5376);
  EXPECT_EQ(
      pg.store()
          .FindIngestKeys({store::IngestKey{"footfall.counts", std::string(32, 'k'), 0}})
          .value_or(std::vector<bool>{}),
      std::vector<bool>{true});
  ExpectLogVerifies(pg);
  auto latest = pg.audit().LatestCheckpoint();
  ASSERT_TRUE(latest.ok()) << latest.status();
  // Opening with a new store URI logged a config change: the log grew from
  // the migrated one, whose checkpoint is kept.
  auto kept = pg.store().log().GetCheckpoint(frontier_before.size);
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->note, checkpoint_before);
  auto proof = audit::ConsistencyProof(
      *std::make_unique<audit::StoreLogStorage>(pg.store().log()), frontier_before.size,
      pg.store().log().ReadFrontier()->size);
  EXPECT_TRUE(proof.ok()) << proof.status();
  // Consent and sealed payloads came across with their keys: the same
  // query (a new epsilon, so not the cached answer) gives the same answer.
  dp::ZeroNoiseForTestingNotPrivate zero(random_);
  auto r = server::RunAggregateWithNoise(pg, MeanKwh(14, 0.3), zero);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->cached);
  EXPECT_EQ(r->answer["rows"], answer_before["rows"]);
  EXPECT_FALSE(r->answer["rows"].empty());
}

TEST_F(PostgresqlTrustTest, ErasureOnOneNodeTakesEffectOnTheOthersAtOnce) {
  ASSERT_TRUE(server::Trust::Initialize(PgConfig(), dir_, clock_, random_).ok());
  server::Trust& a = AddNode(PgConfig());
  server::Trust& b = AddNode(PgConfig());
  ASSERT_EQ(Ingest(a, "energy.meter_readings", "energy.meter_readings.csv").accepted,
            3360);
  auto indexer = transform::SubjectIndexer::Create(b.keyring());
  ASSERT_TRUE(indexer.ok());
  const std::string bi = (*indexer)->BlindIndex("MAC000002");
  // Node b sees the subject's records and keys before.
  auto before = b.store().FindRecordsBySubject(bi);
  ASSERT_TRUE(before.ok());
  ASSERT_FALSE(before->empty());
  auto keys = b.store().rights().ListSubjectKeyIds(bi);
  ASSERT_TRUE(keys.ok());
  ASSERT_FALSE(keys->empty());
  for (int64_t id : *keys) ASSERT_TRUE(b.store().keys().GetKey(id).ok());

  rights::MemoryRightsLog rights_log;
  rights::RequestsDesk desk(a.store().rights(), clock_, random_, rights_log);
  auto receipt = rights::EraseSubject(a.store(), a.keyring(), desk, clock_, bi);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->records_erased, static_cast<int64_t>(before->size()));

  // At once on node b: no records, no keys, and b's keyring cannot fetch them.
  EXPECT_TRUE(b.store().FindRecordsBySubject(bi)->empty());
  for (int64_t id : *keys) {
    EXPECT_EQ(b.store().keys().GetKey(id).status().code(), absl::StatusCode::kNotFound);
  }
  EXPECT_TRUE(b.store().rights().ListSubjectKeyIds(bi)->empty());
  EXPECT_EQ(b.store().CountRecords("energy.meter_readings").value_or(-1),
            3360 - static_cast<int64_t>(before->size()));
}

}  // namespace
}  // namespace privacity::testing
