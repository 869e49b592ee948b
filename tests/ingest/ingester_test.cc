// The ingester's last transaction: the last batch, the dedupe claims and
// the transparency log's leaf commit together, or none of them does.
#include "ingest/ingester.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "gtest/gtest.h"
#include "readings_config.h"
#include "store/log_store.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace privacity::ingest {
namespace {

using testing::kReadingsConfig;

// SHA-256 over the rows as stored, as docs/log_format.md specifies the
// ingest digest's per-batch hash; written here independently of the
// ingester's own code.
std::string RowsDigest(const std::vector<store::StoredRecord>& rows) {
  std::string bytes;
  auto be = [&bytes](uint64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) bytes.push_back(static_cast<char>(v >> (8 * i)));
  };
  for (const store::StoredRecord& r : rows) {
    be(static_cast<uint64_t>(r.id), 8);
    be(static_cast<uint64_t>(r.time_us), 8);
    be(r.cell, 8);
    be(static_cast<uint64_t>(r.epoch), 8);
    be(static_cast<uint64_t>(r.key_id), 8);
    for (const std::string* s : {&r.stream, &r.blind_index, &r.payload}) {
      be(s->size(), 4);
      bytes += *s;
    }
  }
  return crypto::Sha256(bytes);
}

class IngesterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto config = config::ParseConfig(kReadingsConfig, "test.yaml", "");
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *std::move(config);
    auto store =
        store::OpenStore(absl::StrCat("sqlite:", dir_.path(), "/i.db"), dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto keyring = crypto::Keyring::Create(master_, store_->keys(), random_, clock_);
    ASSERT_TRUE(keyring.ok()) << keyring.status();
    keyring_ = *std::move(keyring);
  }

  const config::Stream& stream() const { return *config_.FindStream("energy.readings"); }

  // `good` readings of distinct meters, then `bad` ones without a meter.
  static std::string Body(int good, int bad) {
    std::string body;
    for (int i = 0; i < good; ++i) {
      absl::StrAppend(&body, R"({"meter":"M)", i,
                      R"(","time":"2026-11-02T10:00:00Z","kwh":1.5})", "\n");
    }
    for (int i = 0; i < bad; ++i) {
      absl::StrAppend(&body, R"({"time":"2026-11-02T10:00:00Z","kwh":1.5})", "\n");
    }
    return body;
  }

  // A one-entry log batch at `index` (the store keeps bytes; it does not
  // check what the hashes mean).
  static store::LogBatch LeafAt(uint64_t index) {
    store::LogBatch b;
    b.first_index = index;
    b.entries.push_back(store::LogEntryRow{"ingest leaf", std::string(32, 'e')});
    b.frontier.size = index + 1;
    b.frontier.hashes = std::string(32, 'f');
    return b;
  }

  // Builds the leaf at the stored size, as the audit trail does.
  static absl::StatusOr<store::LogBatch> Leaf(const store::LogFrontierRow& stored) {
    return LeafAt(stored.size);
  }

  uint64_t LogSize() { return store_->log().ReadFrontier().value().size; }

  std::vector<store::StoredRecord> Stored() {
    std::vector<store::StoredRecord> out;
    EXPECT_TRUE(store_
                    ->ScanRecords(store::RecordQuery{.stream = "energy.readings"},
                                  [&](const store::StoredRecord& r) {
                                    out.push_back(r);
                                    return absl::OkStatus();
                                  })
                    .ok());
    return out;
  }

  absl::StatusOr<IngestSummary> Ingest(const std::string& body, IngestLogger log) {
    IngestOptions options;
    options.batch_size = 4;
    options.log_ingest = std::move(log);
    return IngestBuffer(stream(), *store_, *keyring_, random_, body, InputFormat::kNdjson,
                        options);
  }

  store::testing::TempDir dir_;
  config::CityConfig config_;
  crypto::SecretBytes master_{std::string(32, '\x05')};
  InsecureDeterministicRandomForTesting random_{7};
  ManualClock clock_{absl::FromUnixSeconds(1790000000)};
  store::StorePtr store_;
  std::unique_ptr<crypto::Keyring> keyring_;
};

TEST_F(IngesterTest, TheLastBatchCommitsWithTheLeafThatLogsTheIngest) {
  const uint64_t log_size = LogSize();
  int calls = 0;
  std::string logged_digest;
  auto summary = Ingest(
      Body(10, 1),
      [&](const IngestSummary& s, const std::string& digest, LastBatchWriter write) {
        ++calls;
        EXPECT_EQ(s.accepted, 10);
        EXPECT_EQ(s.rejected, 1);
        logged_digest = digest;
        return write(Leaf);
      });
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(LogSize(), log_size + 1);
  // Batches of 4, 4 and 2 in id order; the digest covers all three.
  const std::vector<store::StoredRecord> rows = Stored();
  ASSERT_EQ(rows.size(), 10u);
  std::string batch_digests;
  for (size_t begin = 0; begin < rows.size(); begin += 4) {
    batch_digests += RowsDigest(std::vector<store::StoredRecord>(
        rows.begin() + begin, rows.begin() + std::min(begin + 4, rows.size())));
  }
  EXPECT_EQ(logged_digest, crypto::Sha256(batch_digests));
}

TEST_F(IngesterTest, ALeafThatCannotBeAppendedTakesTheLastBatchWithIt) {
  const uint64_t log_size = LogSize();
  // A leaf that does not start at the stored size: Aborted in the store.
  auto summary = Ingest(
      Body(10, 0), [&](const IngestSummary&, const std::string&, LastBatchWriter write) {
        return write([](const store::LogFrontierRow& stored) {
          return absl::StatusOr<store::LogBatch>(LeafAt(stored.size + 5));
        });
      });
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kAborted);
  EXPECT_NE(summary.status().message().find("energy.readings"), std::string::npos)
      << summary.status();
  // The two full batches were committed on their own; the last two records,
  // which the missing leaf would have logged, were not.
  EXPECT_EQ(Stored().size(), 8u);
  EXPECT_EQ(LogSize(), log_size);
}

TEST_F(IngesterTest, AnIngestOfRejectedRecordsOnlyIsStillLogged) {
  const uint64_t log_size = LogSize();
  std::string logged_digest;
  auto summary = Ingest(Body(0, 3), [&](const IngestSummary& s, const std::string& digest,
                                        LastBatchWriter write) {
    EXPECT_EQ(s.accepted, 0);
    EXPECT_EQ(s.rejected, 3);
    logged_digest = digest;
    return write(Leaf);
  });
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(LogSize(), log_size + 1);
  EXPECT_TRUE(Stored().empty());
  EXPECT_EQ(logged_digest, crypto::Sha256("")) << "no batch was stored";
}

}  // namespace
}  // namespace privacity::ingest
