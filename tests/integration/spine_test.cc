// End to end on the demo city: ingest every excerpt, then check what reached
// the disk and what each party can read.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_split.h"
#include "audit/checkpoint.h"
#include "audit/leaves.h"
#include "audit/log.h"
#include "audit/tiles.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/time_util.h"
#include "config/loader.h"
#include "gtest/gtest.h"
#include "ingest/ingester.h"
#include "nlohmann/json.hpp"
#include "policy/decision.h"
#include "server/records_view.h"
#include "server/trust.h"
#include "store/postgres_test_util.h"
#include "transform/field_transform.h"
#include "transform/pipeline.h"

namespace privacity {
namespace {

namespace fs = std::filesystem;

const fs::path kDemo = fs::path(PRIVACITY_SOURCE_DIR) / "examples" / "demo-city";

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Occurrences of `needle` not embedded in a longer number or token.
int CountStandalone(const std::string& haystack, const std::string& needle) {
  int n = 0;
  auto is_word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.';
  };
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1)) {
    const bool left = pos > 0 && is_word(haystack[pos - 1]);
    const bool right =
        pos + needle.size() < haystack.size() && is_word(haystack[pos + needle.size()]);
    if (!left && !right) ++n;
  }
  return n;
}

// Runs on each store backend: "sqlite", and "postgresql" when a test
// server is configured (store/postgres_test_util.h).
class SpineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      if (!store::testing::TestPostgresUrl().has_value()) {
        GTEST_SKIP() << store::testing::PostgresSkipReason();
      }
      auto db = store::testing::TestDatabase::Create();
      ASSERT_TRUE(db.ok()) << db.status();
      db_ = *std::move(db);
    }
    char tmpl[] = "/tmp/privacity-spine-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto config = LoadConfig();
    ASSERT_TRUE(config.ok()) << config.status();
    ASSERT_TRUE(server::Trust::Initialize(*config, dir_, clock_, random_).ok());
    auto trust = server::Trust::Open(*config, dir_, clock_, random_);
    ASSERT_TRUE(trust.ok()) << trust.status();
    trust_ = std::move(*trust);
  }
  void TearDown() override {
    trust_.reset();
    db_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // The demo config, its store in the test database on PostgreSQL.
  absl::StatusOr<config::CityConfig> LoadConfig() {
    auto config = config::LoadConfigFile((kDemo / "city.yaml").string());
    if (config.ok() && db_ != nullptr) config->store = db_->uri();
    return config;
  }

  // Everything the store holds as bytes: its files (SQLite, with the WAL),
  // or every table's rows (PostgreSQL, whose files are the server's).
  std::string StoredBytes() {
    std::string bytes;
    for (const std::string& f : trust_->store().Files()) {
      if (fs::exists(f)) bytes += ReadAll(f);
    }
    if (db_ == nullptr) return bytes;
    PGconn* conn = PQconnectdb(db_->uri().c_str());
    EXPECT_EQ(PQstatus(conn), CONNECTION_OK);
    PGresult* tables = PQexec(conn,
                              "SELECT tablename FROM pg_tables "
                              "WHERE schemaname = current_schema()");
    for (int i = 0; i < PQntuples(tables); ++i) {
      const std::string sql = std::string("COPY (SELECT * FROM ") +
                              PQgetvalue(tables, i, 0) + ") TO STDOUT (FORMAT binary)";
      PQclear(PQexec(conn, sql.c_str()));
      char* buf = nullptr;
      int n;
      while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
        bytes.append(buf, static_cast<size_t>(n));
        PQfreemem(buf);
      }
      while (PGresult* r = PQgetResult(conn)) PQclear(r);
    }
    PQclear(tables);
    PQfinish(conn);
    return bytes;
  }

  ingest::IngestSummary Ingest(const std::string& stream, const std::string& path) {
    // As the CLI does: one transparency-log leaf per ingest call.
    ingest::FileIngestOptions options;
    options.ingest.log_ingest = trust_->audit().LoggerFor(stream);
    auto summary =
        ingest::IngestFile(*trust_->config().FindStream(stream), trust_->store(),
                           trust_->keyring(), random_, clock_, path, options);
    EXPECT_TRUE(summary.ok()) << summary.status();
    return summary.ok() ? *summary : ingest::IngestSummary{};
  }

  void LoadDemo() {
    EXPECT_EQ(Ingest("energy.meter_readings",
                     (kDemo / "data/energy.meter_readings.csv").string())
                  .accepted,
              3360);
    EXPECT_EQ(
        Ingest("mobility.trips", (kDemo / "data/mobility.trips.csv").string()).accepted,
        1500);
    EXPECT_EQ(Ingest("footfall.counts", (kDemo / "data/footfall.counts.ndjson").string())
                  .accepted,
              5376);
    EXPECT_EQ(
        Ingest("traffic.anpr", (kDemo / "data/traffic.anpr.ndjson").string()).accepted,
        2000);
  }

  struct Read {
    server::RecordsReadResult result;
    std::vector<nlohmann::json> rows;
  };
  Read ReadAs(const std::string& party, const std::string& purpose,
              const std::string& stream, std::vector<std::string> fields = {}) {
    policy::AccessRequest request{.party = party,
                                  .purpose = purpose,
                                  .stream = stream,
                                  .level = config::AccessLevel::kRecords,
                                  .fields = std::move(fields)};
    Read read;
    auto result = server::ReadRecords(*trust_, request, {}, [&](const std::string& row) {
      read.rows.push_back(nlohmann::json::parse(row));
      return absl::OkStatus();
    });
    EXPECT_TRUE(result.ok()) << result.status();
    if (result.ok()) read.result = *result;
    return read;
  }

  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = (fs::path(dir_) / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::unique_ptr<store::testing::TestDatabase> db_;
  std::string dir_;
  ManualClock clock_{absl::FromUnixSeconds(1767225600)};  // 2026-01-01
  CryptoRandom random_;
  std::unique_ptr<server::Trust> trust_;
};

TEST_P(SpineTest, NoRawIdentifierReachesTheDatabaseFiles) {
  LoadDemo();
  std::set<std::string> identifiers;
  for (const std::string& line : std::vector<std::string>(
           absl::StrSplit(ReadAll(kDemo / "data/energy.meter_readings.csv"), '\n'))) {
    if (line.starts_with("MAC")) identifiers.insert(line.substr(0, line.find(',')));
  }
  bool header = true;
  for (const std::string& line : std::vector<std::string>(
           absl::StrSplit(ReadAll(kDemo / "data/mobility.trips.csv"), '\n'))) {
    std::vector<std::string> cols = absl::StrSplit(line, ',');
    if (header || cols.size() < 12) {
      header = false;
      continue;
    }
    identifiers.insert(cols[11]);  // Bike ID
  }
  for (const std::string& line : std::vector<std::string>(absl::StrSplit(
           ReadAll(kDemo / "data/traffic.anpr.ndjson"), '\n', absl::SkipEmpty()))) {
    const std::string plate = nlohmann::json::parse(line)["plate"];
    identifiers.insert(plate);
    identifiers.insert(transform::NormalizeIdentifier(plate));
  }
  ASSERT_GT(identifiers.size(), 300u);
  // Scan while the store is open, so the WAL still holds recent pages.
  const std::string bytes = StoredBytes();
  ASSERT_GT(bytes.size(), 100000u);
  for (const std::string& id : identifiers) {
    EXPECT_EQ(CountStandalone(bytes, id), 0) << "raw identifier found on disk";
  }
  // Payload values of personal streams are sealed: the note text and the
  // camera names of the ANPR stream never appear in clear.
  EXPECT_EQ(bytes.find("ANPR-00017-V_ANPR-05037"), std::string::npos);
  EXPECT_EQ(bytes.find("meter_id"), std::string::npos);
  // The footfall stream has no personal data and is stored plain.
  EXPECT_NE(bytes.find("Bourke Street Mall"), std::string::npos);
}

TEST_P(SpineTest, PartyReadsOnlyGrantedFieldsCoarsenedAsAgreed) {
  LoadDemo();
  Read energy = ReadAs("energy-utility", "grid-planning", "energy.meter_readings");
  ASSERT_TRUE(energy.result.decision.permitted());
  ASSERT_EQ(energy.rows.size(), 3360u);
  std::set<std::string> pseudonyms;
  for (const auto& row : energy.rows) {
    std::set<std::string> keys;
    for (auto it = row.begin(); it != row.end(); ++it) keys.insert(it.key());
    EXPECT_EQ(keys, (std::set<std::string>{"id", "meter_id", "time", "energy_kwh"}));
    // time_granularity 1h: no half hours leave the trust.
    const std::string t = row["time"];
    EXPECT_TRUE(t.ends_with(":00:00Z")) << t;
    pseudonyms.insert(row["meter_id"]);
  }
  // Five meters over two weeks in 30-day epochs: five pseudonyms.
  EXPECT_EQ(pseudonyms.size(), 5u);

  Read trips = ReadAs("transport-dept", "traffic-management", "mobility.trips");
  ASSERT_TRUE(trips.result.decision.permitted());
  ASSERT_EQ(trips.rows.size(), 1500u);
  for (const auto& row : trips.rows) {
    EXPECT_FALSE(row.contains("birth_year"));
    EXPECT_FALSE(row.contains("gender"));
    auto cell = transform::CellFromToken(row["start_station"].get<std::string>());
    ASSERT_TRUE(cell.ok());
    EXPECT_EQ(transform::CellLevel(*cell), 14);  // stored at 16, released at 14
  }
}

TEST_P(SpineTest, EachDenialIsReportedWithItsReason) {
  LoadDemo();
  struct Case {
    std::string party, purpose, stream;
    std::vector<std::string> fields;
    policy::DenyReason reason;
  };
  const std::vector<Case> cases = {
      {"nobody",
       "traffic-management",
       "traffic.anpr",
       {},
       policy::DenyReason::kUnknownParty},
      {"transport-dept",
       "traffic-management",
       "no.such",
       {},
       policy::DenyReason::kUnknownStream},
      {"energy-utility",
       "marketing",
       "energy.meter_readings",
       {},
       policy::DenyReason::kPurposeProhibited},
      {"transport-dept",
       "research",
       "traffic.anpr",
       {},
       policy::DenyReason::kPurposeNotServedByStream},
      {"uni-research",
       "traffic-management",
       "traffic.anpr",
       {},
       policy::DenyReason::kNoAgreement},
      {"energy-utility",
       "billing",
       "energy.meter_readings",
       {},
       policy::DenyReason::kPurposeNotGranted},
      {"uni-research",
       "research",
       "energy.meter_readings",
       {},
       policy::DenyReason::kLevelNotGranted},
      {"transport-dept",
       "traffic-management",
       "traffic.anpr",
       {"note"},
       policy::DenyReason::kFieldNotGranted},
  };
  for (const Case& c : cases) {
    Read r = ReadAs(c.party, c.purpose, c.stream, c.fields);
    EXPECT_FALSE(r.result.decision.permitted()) << c.party << " " << c.purpose;
    EXPECT_EQ(r.result.decision.reason, c.reason)
        << c.party << " " << c.purpose << ": "
        << policy::ReasonCode(r.result.decision.reason);
    EXPECT_TRUE(r.rows.empty());
  }
  clock_.Set(*ParseTimestamp("2031-01-01T00:00:00Z"));
  EXPECT_EQ(ReadAs("transport-dept", "traffic-management", "traffic.anpr")
                .result.decision.reason,
            policy::DenyReason::kAgreementExpired);
  clock_.Set(*ParseTimestamp("2019-06-01T00:00:00Z"));
  EXPECT_EQ(ReadAs("transport-dept", "traffic-management", "traffic.anpr")
                .result.decision.reason,
            policy::DenyReason::kAgreementNotYetValid);
}

TEST_P(SpineTest, ObjectorsAreWithheldAtOnce) {
  LoadDemo();
  auto indexer = transform::SubjectIndexer::Create(trust_->keyring());
  ASSERT_TRUE(indexer.ok());
  ASSERT_TRUE(trust_->store()
                  .AppendConsentEvent(store::ConsentEvent{
                      .blind_index = (*indexer)->BlindIndex("MAC000002"),
                      .purpose = "grid-planning",
                      .state = store::ConsentState::kObjected,
                      .time = clock_.Now(),
                      .source = "test"})
                  .ok());
  Read energy = ReadAs("energy-utility", "grid-planning", "energy.meter_readings");
  EXPECT_EQ(energy.rows.size(), 3360u - 672u);
  EXPECT_EQ(energy.result.withheld, 672);
}

TEST_P(SpineTest, BadFilesKeepGoodRecordsAndNameTheProblem) {
  const std::string good1 =
      R"({"plate":"AB-123-C","camera_id":"cam1","time":"2024-03-04T06:19:26Z","location":{"lat":52.3,"lon":4.9},"lane":1,"heading":90})";
  const std::string good2 =
      R"({"plate":"XY-987-Z","camera_id":"cam2","time":"2024-03-04T07:00:00Z","location":{"lat":52.3,"lon":4.9},"lane":2,"heading":180})";
  std::string content = good1 + "\n";
  content +=
      "{\"plate\":\"AB-1\xff\xfe\",\"camera_id\":\"c\",\"time\":\"2024-03-04T06:00:00Z\"}"
      "\n";  // line 2: invalid UTF-8
  content +=
      R"({"plate":"AB-123-C","camera_id":"cam1","time":"2024-03-04T06:00:00Z","lane":"two"})"
      "\n";  // 3: wrong type
  content += R"({"camera_id":"cam1","time":"2024-03-04T06:00:00Z"})"
             "\n";                                                    // 4: no subject
  content += "{\"plate\":\"" + std::string(10 << 20, 'A') + "\"}\n";  // 5: 10 MB line
  content += good2 + "\n";
  auto summary = ingest::IngestFile(
      *trust_->config().FindStream("traffic.anpr"), trust_->store(), trust_->keyring(),
      random_, clock_, Write("bad.ndjson", content), ingest::FileIngestOptions{});
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->accepted, 2);
  EXPECT_EQ(summary->rejected, 4);
  ASSERT_EQ(summary->errors.size(), 4u);
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {2, "UTF-8"}, {3, "lane"}, {4, "plate"}, {5, "longer"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(summary->errors[i].line, expected[i].first);
    EXPECT_NE(summary->errors[i].message.find(expected[i].second), std::string::npos)
        << summary->errors[i].message;
    EXPECT_EQ(summary->errors[i].message.find("AB-1"), std::string::npos);
  }
  auto count = trust_->store().CountRecords("traffic.anpr");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2);

  auto empty = ingest::IngestFile(*trust_->config().FindStream("traffic.anpr"),
                                  trust_->store(), trust_->keyring(), random_, clock_,
                                  Write("empty.ndjson", ""), ingest::FileIngestOptions{});
  EXPECT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("empty"), std::string::npos) << empty.status();

  // CSV: wrong type and a ragged row.
  const std::string csv =
      "LCLid,tstp,energy(kWh/hh)\n"
      "MAC000100,2013-01-01 00:00:00, 0.5 \n"
      "MAC000100,2013-01-01 00:30:00,lots\n"
      "MAC000100,2013-01-01 01:00:00\n"
      ",2013-01-01 01:30:00,0.1\n"
      "MAC000100,2013-01-01 02:00:00,0.25\n";
  auto csv_summary =
      ingest::IngestFile(*trust_->config().FindStream("energy.meter_readings"),
                         trust_->store(), trust_->keyring(), random_, clock_,
                         Write("bad.csv", csv), ingest::FileIngestOptions{});
  ASSERT_TRUE(csv_summary.ok()) << csv_summary.status();
  EXPECT_EQ(csv_summary->accepted, 2);
  ASSERT_EQ(csv_summary->errors.size(), 3u);
  EXPECT_EQ(csv_summary->errors[0].line, 3);
  EXPECT_EQ(csv_summary->errors[1].line, 4);
  EXPECT_EQ(csv_summary->errors[2].line, 5);
  EXPECT_NE(ingest::SummaryJson(*csv_summary).find(R"("accepted":2,"rejected":3)"),
            std::string::npos);
}

TEST_P(SpineTest, ReopenedTrustReadsWhatWasStored) {
  LoadDemo();
  trust_.reset();
  auto config = LoadConfig();
  ASSERT_TRUE(config.ok());
  auto trust = server::Trust::Open(*config, dir_, clock_, random_);
  ASSERT_TRUE(trust.ok()) << trust.status();
  trust_ = std::move(*trust);
  EXPECT_EQ(ReadAs("transport-dept", "traffic-management", "traffic.anpr").rows.size(),
            2000u);
  EXPECT_TRUE(
      absl::IsAlreadyExists(server::Trust::Initialize(*config, dir_, clock_, random_)));
}

TEST_P(SpineTest, TransparencyLogRecordsIngestsAndDecisionsWithoutPersonalData) {
  int key_leaves = 0;
  auto log_entries = [&] {
    key_leaves = 0;
    EXPECT_TRUE(trust_->audit().log().Reload().ok());
    auto entries =
        trust_->audit().storage().ReadEntries(0, trust_->audit().log().head().size);
    EXPECT_TRUE(entries.ok()) << entries.status();
    std::vector<nlohmann::json> out;
    for (const audit::LogEntry& e : entries.value_or(std::vector<audit::LogEntry>{})) {
      auto leaf = audit::ParseLeaf(e.data);
      EXPECT_TRUE(leaf.ok()) << leaf.status();
      // Key events of ingests (epoch pseudonym keys, counts of subject data
      // keys) are checked apart, below.
      const nlohmann::json j = leaf.value_or(nlohmann::json());
      if (j.value("type", "") == "key_count" ||
          (j.value("type", "") == "key_event" && j.value("kind", "") == "pseudonym")) {
        ++key_leaves;
        continue;
      }
      out.push_back(j);
    }
    return out;
  };
  // Initialisation: the config and the four trust-wide keys.
  const size_t initial = log_entries().size();
  EXPECT_EQ(initial, 5u);

  LoadDemo();
  std::vector<nlohmann::json> leaves = log_entries();
  ASSERT_EQ(leaves.size(), initial + 4);
  const std::vector<std::pair<std::string, int>> ingested = {
      {"energy.meter_readings", 3360},
      {"mobility.trips", 1500},
      {"footfall.counts", 5376},
      {"traffic.anpr", 2000}};
  std::set<std::string> digests;
  for (size_t i = 0; i < ingested.size(); ++i) {
    const nlohmann::json& leaf = leaves[initial + i];
    EXPECT_EQ(leaf["type"], "ingest_batch");
    EXPECT_EQ(leaf["stream"], ingested[i].first);
    EXPECT_EQ(leaf["accepted"], ingested[i].second);
    digests.insert(leaf["digest"].get<std::string>());
  }
  EXPECT_EQ(digests.size(), 4u);

  // One decision leaf per read, permits and denials alike.
  EXPECT_EQ(ReadAs("transport-dept", "traffic-management", "traffic.anpr").rows.size(),
            2000u);
  EXPECT_FALSE(ReadAs("energy-utility", "marketing", "energy.meter_readings")
                   .result.decision.permitted());
  leaves = log_entries();
  ASSERT_EQ(leaves.size(), initial + 6);
  EXPECT_EQ(leaves[initial + 4]["type"], "decision");
  EXPECT_EQ(leaves[initial + 4]["result"], "permit");
  EXPECT_EQ(leaves[initial + 4]["party"], "transport-dept");
  EXPECT_EQ(leaves[initial + 4]["rows"], 2000);
  EXPECT_EQ(leaves[initial + 5]["result"], "deny");
  EXPECT_EQ(leaves[initial + 5]["reason"], "purpose-prohibited");
  EXPECT_EQ(leaves[initial + 5]["rows"], 0);

  // No identifier of the demo data is in any leaf.
  std::string bytes;
  for (const nlohmann::json& leaf : leaves) bytes += leaf.dump();
  int checked = 0;
  for (const std::string& line : std::vector<std::string>(
           absl::StrSplit(ReadAll(kDemo / "data/energy.meter_readings.csv"), '\n'))) {
    if (!line.starts_with("MAC")) continue;
    EXPECT_EQ(bytes.find(line.substr(0, line.find(','))), std::string::npos);
    ++checked;
  }
  for (const std::string& line : std::vector<std::string>(absl::StrSplit(
           ReadAll(kDemo / "data/traffic.anpr.ndjson"), '\n', absl::SkipEmpty()))) {
    const std::string plate = nlohmann::json::parse(line)["plate"];
    EXPECT_EQ(bytes.find(plate), std::string::npos);
    EXPECT_EQ(bytes.find(transform::NormalizeIdentifier(plate)), std::string::npos);
    ++checked;
  }
  EXPECT_GT(checked, 2000);

  // The log verifies and a checkpoint covers all of it.
  EXPECT_TRUE(audit::VerifyStorage(trust_->audit().storage()).ok());
  auto note = trust_->audit().Checkpoint();
  ASSERT_TRUE(note.ok()) << note.status();
  auto checkpoint =
      audit::OpenCheckpoint(*note, trust_->audit().verifier(), trust_->audit().origin());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->size, initial + 6 + key_leaves);
  EXPECT_GT(key_leaves, 0);
  audit::StorageTileSource tiles(trust_->audit().storage(), checkpoint->size);
  EXPECT_TRUE(audit::VerifyTiles(tiles, checkpoint->size, checkpoint->root, {}).ok());
}

TEST_P(SpineTest, RefusesAMasterKeyReadableByOthers) {
  trust_.reset();
  fs::permissions(fs::path(dir_) / server::kMasterKeyFile, fs::perms::group_read,
                  fs::perm_options::add);
  auto config = LoadConfig();
  ASSERT_TRUE(config.ok());
  auto trust = server::Trust::Open(*config, dir_, clock_, random_);
  EXPECT_FALSE(trust.ok());
  EXPECT_NE(trust.status().message().find("chmod 600"), std::string::npos)
      << trust.status();
}

INSTANTIATE_TEST_SUITE_P(Backends, SpineTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace privacity
