// The pipeline pool and ingests through it: keys cached across ingests, and
// never used or kept once destroyed.
#include "ingest/pipeline_pool.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "crypto/key_store.h"
#include "crypto/keyring.h"
#include "gtest/gtest.h"
#include "ingest/ingester.h"
#include "readings_config.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace privacity::ingest {
namespace {

using testing::kReadingsConfig;

// The store's key table, counting the lookups the keyring makes and able to
// fail the key change count.
class CountingKeyStore final : public crypto::KeyStore {
 public:
  explicit CountingKeyStore(crypto::KeyStore& inner) : inner_(inner) {}
  absl::StatusOr<crypto::WrappedKey> InsertKeyIfAbsent(
      const crypto::WrappedKey& key) override {
    return inner_.InsertKeyIfAbsent(key);
  }
  absl::StatusOr<std::vector<crypto::WrappedKey>> InsertKeysIfAbsent(
      absl::Span<const crypto::WrappedKey> keys) override {
    return inner_.InsertKeysIfAbsent(keys);
  }
  absl::StatusOr<std::optional<crypto::WrappedKey>> FindKey(
      const crypto::KeyName& name) override {
    ++lookups;
    return inner_.FindKey(name);
  }
  absl::StatusOr<std::vector<std::optional<crypto::WrappedKey>>> FindKeys(
      absl::Span<const crypto::KeyName> names) override {
    ++lookups;
    return inner_.FindKeys(names);
  }
  absl::StatusOr<crypto::WrappedKey> GetKey(int64_t id) override {
    return inner_.GetKey(id);
  }
  absl::Status DestroyKey(int64_t id) override { return inner_.DestroyKey(id); }
  absl::StatusOr<int64_t> KeyChanges() override {
    if (fail_key_changes) return absl::UnavailableError("the store is down");
    return inner_.KeyChanges();
  }
  absl::StatusOr<std::vector<crypto::WrappedKey>> ListKeysBefore(
      crypto::KeyKind kind, const std::string& scope, int64_t before) override {
    return inner_.ListKeysBefore(kind, scope, before);
  }

  int lookups = 0;
  bool fail_key_changes = false;

 private:
  crypto::KeyStore& inner_;
};

class PipelinePoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto config = config::ParseConfig(kReadingsConfig, "test.yaml", "");
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *std::move(config);
    auto store =
        store::OpenStore(absl::StrCat("sqlite:", dir_.path(), "/p.db"), dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    keys_ = std::make_unique<CountingKeyStore>(store_->keys());
    auto keyring = crypto::Keyring::Create(master_, *keys_, random_, clock_);
    ASSERT_TRUE(keyring.ok()) << keyring.status();
    keyring_ = *std::move(keyring);
    pool_ = std::make_unique<PipelinePool>(*keyring_, random_);
  }

  const config::Stream& stream() const { return *config_.FindStream("energy.readings"); }

  // One reading per meter, all on one day, as one request body.
  IngestSummary Ingest(const std::vector<std::string>& meters, int hour) {
    std::string body;
    for (const std::string& m : meters) {
      absl::StrAppend(&body, R"({"meter":")", m, R"(","time":"2026-11-0)", 1 + hour / 24,
                      "T", hour % 24 < 10 ? "0" : "", hour % 24, R"(:00:00Z","kwh":1.5})",
                      "\n");
    }
    IngestOptions options;
    options.pipelines = pool_.get();
    auto summary = IngestBuffer(stream(), *store_, *keyring_, random_, body,
                                InputFormat::kNdjson, options);
    EXPECT_TRUE(summary.ok()) << summary.status();
    return summary.ok() ? *summary : IngestSummary{};
  }

  // The data key id of each stored record after `after_id`, by record id.
  std::map<int64_t, int64_t> KeysOfRecordsAfter(int64_t after_id) {
    std::map<int64_t, int64_t> out;
    store::RecordQuery query{.stream = "energy.readings", .after_id = after_id};
    EXPECT_TRUE(store_
                    ->ScanRecords(query,
                                  [&](const store::StoredRecord& r) {
                                    out[r.id] = r.key_id;
                                    return absl::OkStatus();
                                  })
                    .ok());
    return out;
  }

  store::testing::TempDir dir_;
  config::CityConfig config_;
  crypto::SecretBytes master_{std::string(32, '\x05')};
  InsecureDeterministicRandomForTesting random_{7};
  ManualClock clock_{absl::FromUnixSeconds(1790000000)};
  store::StorePtr store_;
  std::unique_ptr<CountingKeyStore> keys_;
  std::unique_ptr<crypto::Keyring> keyring_;
  std::unique_ptr<PipelinePool> pool_;
};

TEST_F(PipelinePoolTest, LendsEachPipelineToOneIngestAtATime) {
  auto a = pool_->Take(stream());
  auto b = pool_->Take(stream());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->get(), b->get());
  const std::set<transform::StreamPipeline*> lent = {a->get(), b->get()};
  pool_->Return(*std::move(a));
  pool_->Return(*std::move(b));
  EXPECT_EQ(pool_->idle(), 2u);
  auto again = pool_->Take(stream());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(lent.contains(again->get())) << "an idle pipeline is lent again";
  EXPECT_EQ(pool_->idle(), 1u);

  PipelinePool small(*keyring_, random_, /*max_idle_per_stream=*/1);
  auto c = small.Take(stream());
  auto d = small.Take(stream());
  ASSERT_TRUE(c.ok() && d.ok());
  small.Return(*std::move(c));
  small.Return(*std::move(d));
  EXPECT_EQ(small.idle(), 1u) << "a pipeline past the limit is freed";
}

TEST_F(PipelinePoolTest, IngestsThroughThePoolReuseTheKeysItCached) {
  const std::vector<std::string> meters = {"M1", "M2", "M3"};
  EXPECT_EQ(Ingest(meters, 1).accepted, 3);
  const int lookups = keys_->lookups;
  EXPECT_EQ(pool_->idle(), 1u);
  EXPECT_GT(pool_->idle_cached_keys(), 0u);
  EXPECT_EQ(Ingest(meters, 2).accepted, 3);
  EXPECT_EQ(keys_->lookups, lookups) << "the second request found every key cached";
  EXPECT_EQ(pool_->idle(), 1u);
  // Every record opens under the key it names.
  for (const auto& [id, key_id] : KeysOfRecordsAfter(0)) {
    EXPECT_TRUE(keyring_->GetById(key_id).ok()) << "record " << id;
  }
}

TEST_F(PipelinePoolTest, AKeyDestroyedBetweenIngestsIsNeverUsedAgain) {
  Ingest({"M1", "M2"}, 1);
  const std::map<int64_t, int64_t> before = KeysOfRecordsAfter(0);
  ASSERT_EQ(before.size(), 2u);
  const int64_t last_id = before.rbegin()->first;
  std::set<int64_t> old_keys;
  for (const auto& [id, key_id] : before) old_keys.insert(key_id);

  // Another process erases M1 and M2: their data keys are destroyed
  // through its own keyring, straight on the store.
  auto other = crypto::Keyring::Create(master_, store_->keys(), random_, clock_);
  ASSERT_TRUE(other.ok());
  for (int64_t key_id : old_keys) ASSERT_TRUE((*other)->Destroy(key_id).ok());

  Ingest({"M1", "M2"}, 2);
  const std::map<int64_t, int64_t> after = KeysOfRecordsAfter(last_id);
  ASSERT_EQ(after.size(), 2u);
  for (const auto& [id, key_id] : after) {
    EXPECT_FALSE(old_keys.contains(key_id)) << "record " << id << " under a shredded key";
    EXPECT_TRUE(keyring_->GetById(key_id).ok()) << "record " << id;
  }
}

TEST_F(PipelinePoolTest, DropStaleKeysFreesIdleKeysOnceAKeyIsDestroyed) {
  Ingest({"M1", "M2"}, 1);
  const size_t cached = pool_->idle_cached_keys();
  ASSERT_GT(cached, 0u);
  ASSERT_TRUE(pool_->DropStaleKeys().ok());
  EXPECT_EQ(pool_->idle_cached_keys(), cached) << "nothing was destroyed";

  const int64_t key_id = KeysOfRecordsAfter(0).begin()->second;
  ASSERT_TRUE(store_->keys().DestroyKey(key_id).ok());
  ASSERT_TRUE(pool_->DropStaleKeys().ok());
  EXPECT_EQ(pool_->idle_cached_keys(), 0u);
  EXPECT_EQ(pool_->idle(), 1u);
}

TEST_F(PipelinePoolTest, PipelinesWhoseKeysCannotBeCheckedAreFreed) {
  Ingest({"M1"}, 1);
  ASSERT_EQ(pool_->idle(), 1u);
  keys_->fail_key_changes = true;
  EXPECT_EQ(pool_->DropStaleKeys().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(pool_->idle(), 0u);
  // Nor does an ingest go ahead on keys it cannot check.
  IngestOptions options;
  options.pipelines = pool_.get();
  auto summary = IngestBuffer(stream(), *store_, *keyring_, random_,
                              R"({"meter":"M1","time":"2026-11-01T03:00:00Z","kwh":1})",
                              InputFormat::kNdjson, options);
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(KeysOfRecordsAfter(0).size(), 1u) << "nothing more was stored";
}

}  // namespace
}  // namespace privacity::ingest
