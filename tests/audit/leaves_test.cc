#include "audit/leaves.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "audit/note.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace privacity::audit {
namespace {

// 2024-05-01T12:00:00Z plus 700 ms: leaves keep whole seconds.
absl::Time T() { return absl::FromUnixMillis(1714564800700); }

TEST(Leaves, IngestBatch) {
  const Hash digest = Sha256Digest("stored batch");
  IngestBatchLeaf leaf{T(), "energy.meter_readings", "gw-12", 7, 100, 3, digest};
  EXPECT_EQ(
      *EncodeLeaf(leaf),
      absl::StrCat(R"({"accepted":100,"batch":7,"digest":")", HashToHex(digest),
                   R"(","rejected":3,"sensor":"gw-12","stream":"energy.meter_readings",)",
                   R"("time":"2024-05-01T12:00:00Z","type":"ingest_batch","v":1})"));
  leaf.sensor = "";
  EXPECT_EQ(EncodeLeaf(leaf)->find("sensor"), std::string::npos);
  leaf.accepted = -1;
  EXPECT_FALSE(EncodeLeaf(leaf).ok());
}

TEST(Leaves, Decision) {
  DecisionLeaf leaf;
  leaf.time = T();
  leaf.party = "transport-dept";
  leaf.purpose = "traffic-planning";
  leaf.stream = "mobility.trips";
  leaf.level = AccessLevel::kAggregate;
  leaf.fields = {"start_cell", "duration", "start_cell"};
  leaf.from = absl::FromUnixSeconds(1714521600);
  leaf.to = absl::FromUnixSeconds(1714608000);
  leaf.area = {"89c25", "89c24"};
  leaf.result = DecisionResult::kPermit;
  leaf.rows = 24;
  EXPECT_EQ(
      *EncodeLeaf(leaf),
      R"({"area":["89c24","89c25"],"fields":["duration","start_cell"],)"
      R"("from":"2024-05-01T00:00:00Z","level":"aggregate","party":"transport-dept",)"
      R"("purpose":"traffic-planning","result":"permit","rows":24,)"
      R"("stream":"mobility.trips","time":"2024-05-01T12:00:00Z",)"
      R"("to":"2024-05-02T00:00:00Z","type":"decision","v":1})");
  DecisionLeaf deny;
  deny.time = T();
  deny.party = "ad-partner";
  deny.purpose = "marketing";
  deny.stream = "footfall.counts";
  deny.level = AccessLevel::kRecords;
  deny.result = DecisionResult::kDeny;
  deny.reason = "purpose_prohibited";
  EXPECT_EQ(*EncodeLeaf(deny),
            R"({"area":[],"fields":[],"level":"records","party":"ad-partner",)"
            R"("purpose":"marketing","reason":"purpose_prohibited","result":"deny",)"
            R"("rows":0,"stream":"footfall.counts","time":"2024-05-01T12:00:00Z",)"
            R"("type":"decision","v":1})");
}

TEST(Leaves, Release) {
  const Hash digest = Sha256Digest("csv bytes");
  ReleaseLeaf leaf{T(),
                   "footfall-hourly-2024-05-01",
                   "footfall.counts",
                   "public",
                   ReleaseKind::kDpAggregate,
                   0.5,
                   1e-6,
                   2400,
                   digest};
  EXPECT_EQ(*EncodeLeaf(leaf),
            absl::StrCat(R"({"delta":"1e-06","digest":")", HashToHex(digest),
                         R"(","epsilon":"0.5","kind":"dp_aggregate","party":"public",)",
                         R"("release":"footfall-hourly-2024-05-01","rows":2400,)",
                         R"("stream":"footfall.counts","time":"2024-05-01T12:00:00Z",)",
                         R"("type":"release","v":1})"));
  leaf.kind = ReleaseKind::kDpPublic;
  EXPECT_NE(EncodeLeaf(leaf)->find(R"("kind":"dp_public")"), std::string::npos);
  leaf.epsilon = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(EncodeLeaf(leaf).ok());
  leaf.epsilon = -1;
  EXPECT_FALSE(EncodeLeaf(leaf).ok());
}

TEST(Leaves, RightsAction) {
  RightsActionLeaf leaf{T(),
                        "req-5hx2k9",
                        RightsAction::kErasure,
                        RightsStatus::kCompleted,
                        "energy.meter_readings",
                        "",
                        1488,
                        3};
  EXPECT_EQ(
      *EncodeLeaf(leaf),
      R"({"action":"erasure","keys_destroyed":3,"records":1488,)"
      R"("request":"req-5hx2k9","status":"completed","stream":"energy.meter_readings",)"
      R"("time":"2024-05-01T12:00:00Z","type":"rights_action","v":1})");
}

TEST(Leaves, ConfigChange) {
  ConfigChangeLeaf leaf{T(),
                        Sha256Digest("new"),
                        Sha256Digest("old"),
                        {"streams.footfall.counts.retention", "agreements.a1"}};
  EXPECT_EQ(
      *EncodeLeaf(leaf),
      absl::StrCat(R"({"changed":["agreements.a1","streams.footfall.counts.retention"],)",
                   R"("digest":")", HashToHex(Sha256Digest("new")), R"(","previous":")",
                   HashToHex(Sha256Digest("old")),
                   R"(","time":"2024-05-01T12:00:00Z","type":"config_change","v":1})"));
}

TEST(Leaves, KeyEvent) {
  KeyEventLeaf leaf{
      T(), KeyAction::kDestroy, LoggedKeyKind::kPseudonym, "mobility.trips", 2841, 77,
      ""};
  EXPECT_EQ(
      *EncodeLeaf(leaf),
      R"({"action":"destroy","epoch":2841,"key_id":77,"kind":"pseudonym",)"
      R"("scope":"mobility.trips","time":"2024-05-01T12:00:00Z","type":"key_event","v":1})");
  auto signer = *NoteSigner::Create("city.example/log", std::string(32, '\x07'));
  KeyEventLeaf signing{T(), KeyAction::kCreate,    LoggedKeyKind::kLogSigning, "", 0,
                       5,   signer->verifier_key()};
  auto bytes = EncodeLeaf(signing);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_NE(bytes->find(signer->verifier_key()), std::string::npos);
  signing.verifier_key = "not a key";
  EXPECT_FALSE(EncodeLeaf(signing).ok());
  leaf.verifier_key = signer->verifier_key();  // only for log signing keys
  EXPECT_FALSE(EncodeLeaf(leaf).ok());
}

TEST(Leaves, TokensKeepFreeTextOut) {
  IngestBatchLeaf leaf{T(), "energy.meter_readings", "", 1, 1, 0, {}};
  for (const std::string& bad :
       {std::string(""), std::string("has space"), std::string("name@example.com"),
        std::string("caf\u00e9"), std::string(201, 'a'), std::string("a\nb")}) {
    leaf.stream = bad;
    const auto s = EncodeLeaf(leaf);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.status().message().find("'stream'"), std::string::npos);
    if (!bad.empty()) {
      EXPECT_EQ(s.status().message().find(bad), std::string::npos);
    }
  }
  leaf.stream = std::string(200, 'a');
  EXPECT_TRUE(EncodeLeaf(leaf).ok());
}

TEST(Leaves, ParseLeaf) {
  const std::string bytes = *EncodeLeaf(RightsActionLeaf{
      T(), "r1", RightsAction::kExport, RightsStatus::kReceived, "", "", 0, 0});
  auto parsed = ParseLeaf(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ((*parsed)["type"], "rights_action");
  // A newer leaf type is still a leaf.
  EXPECT_TRUE(
      ParseLeaf(R"({"time":"2024-05-01T12:00:00Z","type":"future_event","v":1})").ok());
  for (const char* bad : {
           R"([1])",
           R"({"time":"2024-05-01T12:00:00Z","type":"x","v":2})",
           R"({"time":"2024-05-01T12:00:00Z","v":1})",
           R"({"type":"x","v":1})",
           R"({"time":"2024-05-01T12:00:00Z","type":"","v":1})",
           R"({"v":1, "type":"x","time":"t"})",
       }) {
    EXPECT_FALSE(ParseLeaf(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace privacity::audit
