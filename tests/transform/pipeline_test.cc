#include "transform/pipeline.h"

#include <memory>
#include <string>

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

TEST(NormalizeIdentifier, FoldsCaseSpacesAndDashes) {
  EXPECT_EQ(NormalizeIdentifier(" ab-12 c "), "AB12C");
  EXPECT_EQ(NormalizeIdentifier("AB12C"), "AB12C");
}

}  // namespace
}  // namespace privacity::transform
