#include "transform/pipeline.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "crypto/in_memory_key_store.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_util.h"

namespace privacity::transform {
namespace {

using testing::Int;
using testing::JsonRecord;
using testing::Num;
using testing::Str;

constexpr char kConfig[] = R"(
city: {name: Test City, controller: Office, contact: dpo@test.example}
purposes:
  - {id: planning, legal_basis: public-task}
streams:
  - id: energy.readings
    subject: meter
    time: time
    epoch: 1d
    linkability: 2d
    purposes: [planning]
    fields:
      - {name: meter, type: string, category: subject-identifier, required: true, transform: pseudonymize}
      - {name: time, type: time, category: time, required: true, transform: {time_bucket: 1h}}
      - {name: kwh, type: number, category: measurement, min: 0, max: 10, transform: {round: 0.01}}
      - {name: account, type: string, category: direct-identifier, transform: drop}
  - id: footfall
    time: time
    purposes: [planning]
    fields:
      - {name: time, type: time, category: time, required: true}
      - {name: count, type: int, category: measurement}
parties: []
agreements: []
)";

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = config::ParseConfig(kConfig, "test.yaml", "");
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = std::move(*config);
    master_ = crypto::SecretBytes(std::string(32, '\x07'));
    NewKeyring();
  }

  void NewKeyring() {
    auto keyring = crypto::Keyring::Create(master_, keys_, random_, clock_);
    ASSERT_TRUE(keyring.ok()) << keyring.status();
    keyring_ = std::move(*keyring);
  }

  std::unique_ptr<StreamPipeline> Pipeline(const std::string& stream) {
    auto p = StreamPipeline::Create(*config_.FindStream(stream), *keyring_, random_);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? std::move(*p) : nullptr;
  }

  // Opens a sealed record with the data key it names.
  nlohmann::json Open(const SealedRecord& r, const std::string& stream) {
    auto key = keyring_->GetById(r.key_id);
    EXPECT_TRUE(key.ok()) << key.status();
    auto aead = crypto::Aead::Create(key->key);
    auto plain = (*aead)->Open(r.payload, PayloadAssociatedData(stream, r.id));
    EXPECT_TRUE(plain.ok()) << plain.status();
    return nlohmann::json::parse(*plain);
  }

  SealedRecord Reading(StreamPipeline& p, std::string_view meter, std::string_view time,
                       int64_t id) {
    auto r = p.Process(JsonRecord({{"meter", Str(meter)},
                                   {"time", Str(time)},
                                   {"kwh", Num(0.2345)},
                                   {"account", Str("NL91ABNA0417164300")},
                                   {"undeclared", Str("secret")}}),
                       id);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : SealedRecord{};
  }

  config::CityConfig config_;
  crypto::SecretBytes master_;
  crypto::testing::InMemoryKeyStore keys_;
  InsecureDeterministicRandomForTesting random_{42};
  ManualClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<crypto::Keyring> keyring_;
};

TEST_F(PipelineTest, SealsMinimisedPayloadWithoutRawIdentifier) {
  auto p = Pipeline("energy.readings");
  SealedRecord r = Reading(*p, "MAC000002", "2013-01-01T00:30:00Z", 7);
  EXPECT_EQ(r.id, 7);
  EXPECT_EQ(r.time_us, absl::ToUnixMicros(absl::FromUnixSeconds(1356998400)));
  EXPECT_EQ(r.blind_index.size(), 32u);
  EXPECT_NE(r.key_id, 0);
  EXPECT_EQ(r.payload.find("MAC000002"), std::string::npos);
  nlohmann::json payload = Open(r, "energy.readings");
  EXPECT_EQ(payload["time"], "2013-01-01T00:00:00Z");
  EXPECT_DOUBLE_EQ(payload["kwh"].get<double>(), 0.23);
  EXPECT_TRUE(payload["meter"].get<std::string>().starts_with("ps_"));
  EXPECT_FALSE(payload.contains("account"));     // drop
  EXPECT_FALSE(payload.contains("undeclared"));  // minimised at the door
}

TEST_F(PipelineTest, SealedPayloadIsBoundToStreamAndRecordId) {
  auto p = Pipeline("energy.readings");
  SealedRecord r = Reading(*p, "MAC000002", "2013-01-01T00:30:00Z", 7);
  auto key = keyring_->GetById(r.key_id);
  ASSERT_TRUE(key.ok());
  auto aead = crypto::Aead::Create(key->key);
  EXPECT_FALSE(
      (*aead)->Open(r.payload, PayloadAssociatedData("energy.readings", 8)).ok());
  EXPECT_FALSE((*aead)->Open(r.payload, PayloadAssociatedData("other", 7)).ok());
}

TEST_F(PipelineTest, PseudonymsStableWithinEpochAndDifferentAcrossEpochs) {
  auto p = Pipeline("energy.readings");
  SealedRecord a = Reading(*p, "MAC000002", "2013-01-01T00:30:00Z", 1);
  SealedRecord b =
      Reading(*p, "mac-000002", "2013-01-01T23:00:00Z", 2);  // same id, normalised
  SealedRecord c = Reading(*p, "MAC000002", "2013-01-02T00:00:00Z", 3);  // next epoch
  SealedRecord d = Reading(*p, "MAC000003", "2013-01-01T00:30:00Z", 4);
  const std::string pa = Open(a, "energy.readings")["meter"];
  EXPECT_EQ(pa, Open(b, "energy.readings")["meter"]);
  EXPECT_NE(pa, Open(c, "energy.readings")["meter"]);
  EXPECT_NE(pa, Open(d, "energy.readings")["meter"]);
  // The blind index is epoch-independent; the data key is per epoch.
  EXPECT_EQ(a.blind_index, c.blind_index);
  EXPECT_EQ(a.key_id, b.key_id);
  EXPECT_NE(a.key_id, c.key_id);
  EXPECT_NE(a.key_id, d.key_id);
}

TEST_F(PipelineTest, DestroyedEpochKeyMakesPseudonymsUnrecomputable) {
  std::string before;
  int64_t epoch;
  {
    auto p = Pipeline("energy.readings");
    SealedRecord r = Reading(*p, "MAC000002", "2013-01-01T00:30:00Z", 1);
    before = Open(r, "energy.readings")["meter"];
    epoch = r.epoch;
  }
  const crypto::KeyName name{
      .kind = crypto::KeyKind::kPseudonym, .scope = "energy.readings", .epoch = epoch};
  auto key = keyring_->Get(name);
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(keyring_->Destroy(key->id).ok());
  // Even a fresh keyring with the same master key cannot get it back.
  NewKeyring();
  EXPECT_TRUE(absl::IsNotFound(keyring_->Get(name).status()));
  // Processing the same identifier in the same epoch now yields an
  // unrelated pseudonym: the old one cannot be recomputed.
  auto p = Pipeline("energy.readings");
  SealedRecord again = Reading(*p, "MAC000002", "2013-01-01T00:30:00Z", 2);
  EXPECT_NE(before, Open(again, "energy.readings")["meter"]);
}

TEST_F(PipelineTest, StreamWithoutSubjectIsStoredPlain) {
  auto p = Pipeline("footfall");
  auto r = p->Process(
      JsonRecord({{"time", Str("2014-01-01T10:00:00Z")}, {"count", Int(12)}}), 5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->key_id, 0);
  EXPECT_TRUE(r->blind_index.empty());
  EXPECT_EQ(r->payload, R"({"time":"2014-01-01T10:00:00Z","count":12})");
}

TEST_F(PipelineTest, BadRecordsAreInvalidArgumentNamingTheFieldNotTheValue) {
  auto p = Pipeline("energy.readings");
  struct Case {
    InputRecord record;
    std::string field;
  };
  std::vector<Case> cases;
  cases.push_back(
      {JsonRecord({{"time", Str("2013-01-01T00:00:00Z")}, {"kwh", Num(1)}}), "meter"});
  cases.push_back(
      {JsonRecord({{"meter", Str("MAC9")}, {"time", Str("yesterday")}}), "time"});
  cases.push_back({JsonRecord({{"meter", Str("MAC9")},
                               {"time", Str("2013-01-01T00:00:00Z")},
                               {"kwh", Str("0.5")}}),
                   "kwh"});
  cases.push_back({JsonRecord({{"meter", Str("MAC9")},
                               {"time", Str("2013-01-01T00:00:00Z")},
                               {"kwh", Num(99)}}),
                   "kwh"});
  cases.push_back(
      {JsonRecord({{"meter", Str(" - ")}, {"time", Str("2013-01-01T00:00:00Z")}}),
       "meter"});
  for (const Case& c : cases) {
    auto r = p->Process(c.record, 1);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
    EXPECT_NE(r.status().message().find(c.field), std::string::npos) << r.status();
    EXPECT_EQ(r.status().message().find("MAC9"), std::string::npos) << r.status();
  }
}

// Counts the subject data keys the keyring reports as created.
class CreationCounter final : public crypto::KeyEventListener {
 public:
  absl::Status OnKeyEvent(Event event, const crypto::KeyName& name, int64_t) override {
    if (event == Event::kCreated && name.kind == crypto::KeyKind::kSubjectDek) ++count;
    return absl::OkStatus();
  }
  int count = 0;
};

TEST_F(PipelineTest, SealAllFetchesABatchsKeysAtOnceAndCreatesOnePerNewSubjectAndEpoch) {
  auto p = Pipeline("energy.readings");
  CreationCounter created;
  keyring_->SetListener(&created);
  // 10 meters over two days (two epochs): 20 new (subject, epoch) pairs.
  auto prepare = [&](int meters, int first_meter, int64_t first_id) {
    std::vector<SealedRecord> batch;
    for (int hour = 0; hour < 48; hour += 6) {
      for (int m = first_meter; m < first_meter + meters; ++m) {
        const std::string meter = absl::StrCat("MAC", m);
        const std::string time =
            absl::StrCat("2013-01-0", 1 + hour / 24, "T", hour % 24 < 10 ? "0" : "",
                         hour % 24, ":00:00Z");
        auto r = p->Prepare(
            JsonRecord({{"meter", Str(meter)}, {"time", Str(time)}, {"kwh", Num(1)}}),
            first_id + static_cast<int64_t>(batch.size()));
        EXPECT_TRUE(r.ok()) << r.status();
        if (r.ok()) batch.push_back(*std::move(r));
      }
    }
    return batch;
  };
  std::vector<SealedRecord> batch = prepare(10, 0, 1);
  ASSERT_EQ(batch.size(), 80u);
  // Prepared, not sealed: the payload is the record's JSON, with pseudonyms.
  EXPECT_EQ(batch[0].key_id, 0);
  EXPECT_EQ(nlohmann::json::parse(batch[0].payload)["kwh"], 1.0);
  EXPECT_EQ(batch[0].payload.find("MAC0"), std::string::npos);
  const int finds_before = keys_.find_batches();
  ASSERT_TRUE(p->SealAll(absl::MakeSpan(batch)).ok());
  EXPECT_EQ(keys_.find_batches(), finds_before + 1);
  EXPECT_EQ(keys_.insert_batches(), 1);
  EXPECT_EQ(created.count, 20);
  EXPECT_EQ(keys_.CountKind(crypto::KeyKind::kSubjectDek), 20u);
  // One key per (subject, epoch), and every record opens with its own.
  std::map<std::pair<std::string, int64_t>, int64_t> key_of;
  for (const SealedRecord& r : batch) {
    ASSERT_NE(r.key_id, 0);
    auto [it, fresh] = key_of.emplace(std::pair{r.blind_index, r.epoch}, r.key_id);
    EXPECT_EQ(it->second, r.key_id);
    EXPECT_EQ(Open(r, "energy.readings")["kwh"], 1.0);
  }
  EXPECT_EQ(key_of.size(), 20u);
  std::set<int64_t> ids;
  for (const auto& [name, id] : key_of) ids.insert(id);
  EXPECT_EQ(ids.size(), 20u);

  // A batch of known subjects and 5 new ones: one lookup, 10 new keys.
  std::vector<SealedRecord> next = prepare(15, 0, 1000);
  ASSERT_TRUE(p->SealAll(absl::MakeSpan(next)).ok());
  EXPECT_EQ(keys_.find_batches(), finds_before + 2);
  EXPECT_EQ(keys_.insert_batches(), 2);
  EXPECT_EQ(created.count, 30);
  for (const SealedRecord& r : next) {
    auto it = key_of.find(std::pair{r.blind_index, r.epoch});
    if (it != key_of.end()) {
      EXPECT_EQ(r.key_id, it->second);
    }
  }
  // All cached now: the store is not asked at all.
  std::vector<SealedRecord> cached = prepare(15, 0, 2000);
  ASSERT_TRUE(p->SealAll(absl::MakeSpan(cached)).ok());
  EXPECT_EQ(keys_.find_batches(), finds_before + 2);

  // Another pipeline (an empty cache) finds all 30 in one lookup, creates none.
  auto other = Pipeline("energy.readings");
  p = std::move(other);
  std::vector<SealedRecord> again = prepare(15, 0, 3000);
  ASSERT_TRUE(p->SealAll(absl::MakeSpan(again)).ok());
  EXPECT_EQ(keys_.find_batches(), finds_before + 3);
  EXPECT_EQ(keys_.insert_batches(), 2);
  EXPECT_EQ(created.count, 30);
  keyring_->SetListener(nullptr);
}

TEST_F(PipelineTest, CachedKeysAreDroppedOnceAKeyIsDestroyedAnywhere) {
  auto p = Pipeline("energy.readings");
  const SealedRecord first = Reading(*p, "MAC000002", "2013-01-01T00:30:00Z", 1);
  const std::string pseudonym = Open(first, "energy.readings")["meter"];

  // Nothing changed: the check keeps the cache, and the store is not asked.
  const int finds = keys_.find_batches();
  ASSERT_TRUE(p->DropCachedKeysIfChanged().ok());
  EXPECT_EQ(Reading(*p, "MAC000002", "2013-01-01T01:30:00Z", 2).key_id, first.key_id);
  EXPECT_EQ(keys_.find_batches(), finds);

  // Another process (its own keyring on the same store) shreds the
  // subject's data key and the epoch's pseudonym key.
  auto other = crypto::Keyring::Create(master_, keys_, random_, clock_);
  ASSERT_TRUE(other.ok());
  auto pseudonym_key = (*other)->Get(crypto::KeyName{.kind = crypto::KeyKind::kPseudonym,
                                                     .scope = "energy.readings",
                                                     .epoch = first.epoch});
  ASSERT_TRUE(pseudonym_key.ok());
  ASSERT_TRUE((*other)->Destroy(first.key_id).ok());
  ASSERT_TRUE((*other)->Destroy(pseudonym_key->id).ok());

  // Until the check, the pipeline's cache still holds both keys: that is
  // why the ingester checks before every batch.
  EXPECT_EQ(Reading(*p, "MAC000002", "2013-01-01T02:30:00Z", 3).key_id, first.key_id);
  ASSERT_TRUE(p->DropCachedKeysIfChanged().ok());
  const SealedRecord after = Reading(*p, "MAC000002", "2013-01-01T03:30:00Z", 4);
  EXPECT_NE(after.key_id, first.key_id);
  EXPECT_TRUE(keyring_->GetById(after.key_id).ok()) << "sealed under a live key";
  EXPECT_NE(Open(after, "energy.readings")["meter"], pseudonym) << "a new pseudonym key";
}

TEST_F(PipelineTest, SealAllRefusesARecordThatWasAlreadySealed) {
  auto p = Pipeline("energy.readings");
  SealedRecord r = Reading(*p, "MAC000002", "2013-01-01T00:30:00Z", 7);
  const std::string sealed = r.payload;
  EXPECT_EQ(p->SealAll(absl::MakeSpan(&r, 1)).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(r.payload, sealed);
}

TEST(NormalizeIdentifier, FoldsCaseSpacesAndDashes) {
  EXPECT_EQ(NormalizeIdentifier(" ab-12 c "), "AB12C");
  EXPECT_EQ(NormalizeIdentifier("AB12C"), "AB12C");
}

}  // namespace
}  // namespace privacity::transform
