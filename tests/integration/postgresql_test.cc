// The demo city on PostgreSQL: `privacity migrate` (store::MigrateStore)
// from SQLite, and erasure across nodes.
#include <atomic>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "audit/leaves.h"
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

// Readings of `meters` meters (MAC9xxxxx, none in the demo data) from
// 2013-01-14 23:00 to 2013-01-15 00:30 every half hour: two readings in each
// of two epochs (30-day epochs; one starts at 2013-01-15 00:00 UTC).
std::string ReadingsAcrossAnEpoch(int first_meter, int meters) {
  std::string csv = "LCLid,tstp,energy(kWh/hh)\n";
  for (const char* t : {"2013-01-14 23:00:00", "2013-01-14 23:30:00",
                        "2013-01-15 00:00:00", "2013-01-15 00:30:00"}) {
    for (int m = first_meter; m < first_meter + meters; ++m) {
      absl::StrAppendFormat(&csv, "MAC9%05d,%s,0.%03d\n", m, t, m % 1000);
    }
  }
  return csv;
}

// The subject data keys created according to the log's key_count leaves.
int64_t LoggedDekCreations(server::Trust& trust) {
  EXPECT_TRUE(trust.audit().Checkpoint().ok());  // appends pending counts
  EXPECT_TRUE(trust.audit().log().Reload().ok());
  auto entries = trust.audit().storage().ReadEntries(0, trust.audit().log().head().size);
  EXPECT_TRUE(entries.ok()) << entries.status();
  int64_t created = 0;
  if (!entries.ok()) return -1;
  for (const auto& e : *entries) {
    auto leaf = audit::ParseLeaf(e.data);
    EXPECT_TRUE(leaf.ok()) << leaf.status();
    if (leaf.ok() && (*leaf)["type"] == "key_count" && (*leaf)["action"] == "create" &&
        (*leaf)["stream"] == "energy.meter_readings") {
      created += (*leaf)["count"].get<int64_t>();
    }
  }
  return created;
}

class SealingTest : public PostgresqlTrustTest {
 protected:
  ingest::IngestSummary IngestCsv(server::Trust& trust, const std::string& csv,
                                  size_t batch_size) {
    ingest::IngestOptions options;
    options.batch_size = batch_size;
    options.log_ingest = trust.audit().LoggerFor("energy.meter_readings");
    CryptoRandom random;
    auto summary = ingest::IngestBuffer(
        *trust.config().FindStream("energy.meter_readings"), trust.store(),
        trust.keyring(), random, csv, ingest::InputFormat::kCsv, options);
    EXPECT_TRUE(summary.ok()) << summary.status();
    return summary.ok() ? *summary : ingest::IngestSummary{};
  }

  std::vector<crypto::WrappedKey> DataKeys(server::Trust& trust) {
    return trust.store()
        .keys()
        .ListKeysBefore(crypto::KeyKind::kSubjectDek, "energy.meter_readings",
                        std::numeric_limits<int64_t>::max())
        .value_or(std::vector<crypto::WrappedKey>{});
  }

  std::vector<store::StoredRecord> Records(server::Trust& trust) {
    std::vector<store::StoredRecord> out;
    store::RecordQuery q;
    q.stream = "energy.meter_readings";
    EXPECT_TRUE(trust.store()
                    .ScanRecords(q,
                                 [&](const store::StoredRecord& r) {
                                   out.push_back(r);
                                   return absl::OkStatus();
                                 })
                    .ok());
    return out;
  }

  // Opens every record's payload with the node's keyring; the count opened.
  int64_t OpenAll(server::Trust& trust, const std::vector<store::StoredRecord>& records) {
    std::map<int64_t, std::unique_ptr<crypto::Aead>> aeads;
    int64_t opened = 0;
    for (const store::StoredRecord& r : records) {
      auto it = aeads.find(r.key_id);
      if (it == aeads.end()) {
        auto key = trust.keyring().GetById(r.key_id);
        EXPECT_TRUE(key.ok()) << key.status();
        if (!key.ok()) continue;
        it = aeads.emplace(r.key_id, *crypto::Aead::Create(key->key)).first;
      }
      auto plain = it->second->Open(
          r.payload, transform::PayloadAssociatedData("energy.meter_readings", r.id));
      if (plain.ok() && plain->find("\"energy_kwh\"") != std::string::npos) ++opened;
    }
    return opened;
  }
};

TEST_F(SealingTest, ABatchOfNNewSubjectsCreatesAndReportsExactlyNKeys) {
  ASSERT_TRUE(server::Trust::Initialize(PgConfig(), dir_, clock_, random_).ok());
  server::Trust& node = AddNode(PgConfig());
  // One batch: 37 meters x 2 epochs = 74 new keys.
  ASSERT_EQ(IngestCsv(node, ReadingsAcrossAnEpoch(0, 37), 1000).accepted, 148);
  EXPECT_EQ(DataKeys(node).size(), 74u);
  EXPECT_EQ(LoggedDekCreations(node), 74);
  // The same 37 and 5 more, in batches of 50: 10 new keys.
  ASSERT_EQ(IngestCsv(node, ReadingsAcrossAnEpoch(0, 42), 50).accepted, 168);
  EXPECT_EQ(DataKeys(node).size(), 84u);
  EXPECT_EQ(LoggedDekCreations(node), 84);
  const std::vector<store::StoredRecord> records = Records(node);
  ASSERT_EQ(records.size(), 148u + 168u);
  EXPECT_EQ(OpenAll(node, records), 148 + 168);
}

TEST_F(SealingTest, TwoNodesSealingTheSameNewSubjectsShareOneKeyPerSubjectAndEpoch) {
  ASSERT_TRUE(server::Trust::Initialize(PgConfig(), dir_, clock_, random_).ok());
  server::Trust& a = AddNode(PgConfig());
  server::Trust& b = AddNode(PgConfig());
  constexpr int kMeters = 300;
  const std::string csv = ReadingsAcrossAnEpoch(0, kMeters);
  for (int round = 0; round < 2; ++round) {
    // Both nodes ingest the same new subjects at once, in batches of 100.
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    std::vector<int64_t> accepted(2);
    for (int n = 0; n < 2; ++n) {
      threads.emplace_back([&, n] {
        ready.fetch_add(1);
        while (ready.load() < 2) std::this_thread::yield();
        accepted[n] = IngestCsv(n == 0 ? a : b, csv, 100).accepted;
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(accepted[0], 4 * kMeters);
    EXPECT_EQ(accepted[1], 4 * kMeters);
  }

  // One key per (subject, epoch), used by every record of that pair.
  const std::vector<crypto::WrappedKey> keys = DataKeys(a);
  EXPECT_EQ(keys.size(), 2u * kMeters);
  std::set<int64_t> key_ids;
  for (const crypto::WrappedKey& k : keys) key_ids.insert(k.id);
  const std::vector<store::StoredRecord> records = Records(b);
  ASSERT_EQ(records.size(), 4u * 4 * kMeters);
  std::map<std::pair<std::string, int64_t>, std::set<int64_t>> used;
  for (const store::StoredRecord& r : records) {
    used[{r.blind_index, r.epoch}].insert(r.key_id);
    EXPECT_TRUE(key_ids.contains(r.key_id));
  }
  EXPECT_EQ(used.size(), 2u * kMeters);
  for (const auto& [pair, ids] : used) EXPECT_EQ(ids.size(), 1u);
  // Both nodes open every record.
  EXPECT_EQ(OpenAll(a, records), static_cast<int64_t>(records.size()));
  EXPECT_EQ(OpenAll(b, records), static_cast<int64_t>(records.size()));
  // Each key's creation was reported once, by the node whose key was kept.
  EXPECT_TRUE(b.audit().Checkpoint().ok());
  EXPECT_EQ(LoggedDekCreations(a), 2 * kMeters);
  ExpectLogVerifies(a);
}

}  // namespace
}  // namespace privacity::testing
