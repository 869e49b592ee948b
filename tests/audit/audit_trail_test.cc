// server::AuditTrail: the leaves the trust appends, and checkpoints.
#include "server/audit_trail.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "audit/checkpoint.h"
#include "audit/leaves.h"
#include "audit/log.h"
#include "audit/note.h"
#include "crypto/keyring.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "policy/decision.h"
#include "trust_fixture.h"

namespace privacity::audit {
namespace {

using testing::TrustFixture;

class AuditTrailTest : public TrustFixture {};

TEST(LogOriginTest, IsAValidKeyNameFromTheCityName) {
  EXPECT_EQ(server::LogOrigin({.name = "Demo City"}), "demo-city/privacity-log");
  EXPECT_EQ(server::LogOrigin({.name = "  Sint-Niklaas + Co. "}),
            "sint-niklaas-co./privacity-log");
  EXPECT_EQ(server::LogOrigin({.name = "\xc3\x89vry"}), "vry/privacity-log");
  EXPECT_EQ(server::LogOrigin({.name = "+++"}), "privacity-log");
  for (const char* name : {"Demo City", "a\tb+c", ""}) {
    EXPECT_TRUE(ValidateKeyName(server::LogOrigin({.name = name})).ok()) << name;
  }
}

TEST_F(AuditTrailTest, InitialisationLogsTheConfigAndTheTrustWideKeys) {
  const std::vector<std::string> entries = Entries();
  ASSERT_EQ(entries.size(), 5u);
  std::vector<std::string> types;
  for (const std::string& e : entries) {
    auto leaf = ParseLeaf(e);
    ASSERT_TRUE(leaf.ok()) << leaf.status();
    types.push_back(
        (*leaf)["type"].get<std::string>() +
        ((*leaf).contains("kind") ? ":" + (*leaf)["kind"].get<std::string>() : ""));
  }
  EXPECT_EQ(types[0], "config_change");
  EXPECT_EQ(types[1], "key_event:master");
  EXPECT_EQ(types[2], "key_event:index");
  EXPECT_EQ(types[3], "key_event:claim");
  EXPECT_EQ(types[4], "key_event:log_signing");
  // The log signing key event publishes the verifier key.
  EXPECT_NE(entries[4].find(trust_->audit().VerifierKey()), std::string::npos);

  // Reopening with the same config logs nothing new.
  Reopen();
  EXPECT_EQ(LogSize(), 5u);
  // A changed config is logged, naming the digest it replaced.
  const std::string before = *ParseLeaf(entries[0])->find("digest");
  config_.agreements.pop_back();
  Reopen();
  const std::vector<std::string> after = Entries();
  ASSERT_EQ(after.size(), 6u);
  auto change = ParseLeaf(after[5]);
  ASSERT_TRUE(change.ok());
  EXPECT_EQ((*change)["type"], "config_change");
  EXPECT_EQ((*change)["previous"], before);
  EXPECT_NE((*change)["digest"], before);
}

TEST_F(AuditTrailTest, DecisionLeavesNeverCarryRequestText) {
  policy::AccessRequest request{.party = "someone@example.org",
                                .purpose = "free text purpose",
                                .stream = "traffic.anpr",
                                .level = config::AccessLevel::kRecords,
                                .fields = {"plate", "lane"}};
  const policy::Decision deny = policy::Decide(trust_->config(), request, clock_.Now());
  ASSERT_FALSE(deny.permitted());
  auto index = trust_->audit().AppendDecision(trust_->config(), request, deny, 0);
  ASSERT_TRUE(index.ok()) << index.status();
  const std::string entry = Entries()[*index];
  auto leaf = ParseLeaf(entry);
  ASSERT_TRUE(leaf.ok());
  EXPECT_EQ((*leaf)["type"], "decision");
  EXPECT_EQ((*leaf)["result"], "deny");
  EXPECT_EQ((*leaf)["reason"], "unknown-party");
  EXPECT_EQ((*leaf)["party"], "-");
  EXPECT_EQ((*leaf)["purpose"], "-");
  EXPECT_EQ((*leaf)["stream"], "traffic.anpr");
  EXPECT_EQ(entry.find("someone"), std::string::npos);
  EXPECT_EQ(entry.find("free text"), std::string::npos);
}

TEST_F(AuditTrailTest, CheckpointsAreSignedOnlyWhenTheLogGrew) {
  auto first = trust_->audit().Checkpoint();
  ASSERT_TRUE(first.ok()) << first.status();
  auto verifier = NoteVerifier::FromVerifierKey(trust_->audit().VerifierKey());
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  auto c1 = OpenCheckpoint(*first, **verifier, trust_->audit().origin());
  ASSERT_TRUE(c1.ok()) << c1.status();
  EXPECT_EQ(c1->size, 5u);
  EXPECT_EQ(c1->origin, "demo-city/privacity-log") << trust_->config().city.name;

  // No growth: the same note.
  auto again = trust_->audit().Checkpoint();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);

  AppendFiller(3);
  auto second = trust_->audit().Checkpoint();
  ASSERT_TRUE(second.ok()) << second.status();
  auto c2 = OpenCheckpoint(*second, **verifier, trust_->audit().origin());
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->size, 8u);
  auto proof = trust_->audit().log().ConsistencyProof(c1->size, c2->size);
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(VerifyConsistency(c1->size, c2->size, *proof, c1->root, c2->root).ok());
  auto latest = trust_->audit().LatestCheckpoint();
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(*latest, *second);

  // Another process (a second trust on the same data dir) sees the same key
  // and signs the same note for the same tree.
  auto other = server::Trust::Open(config_, dir_, clock_, random_);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ((*other)->audit().VerifierKey(), trust_->audit().VerifierKey());
  auto from_other = (*other)->audit().Checkpoint();
  ASSERT_TRUE(from_other.ok());
  EXPECT_EQ(*from_other, *second);
}

TEST_F(AuditTrailTest, RefusesToSignWhenTheLogDisagreesWithTheLatestCheckpoint) {
  AppendFiller(2);
  // A checkpoint with the log's own key but another root, as if the stored
  // tree had been rewritten after it was signed.
  auto key = trust_->keyring().Get(crypto::KeyName{.kind = crypto::KeyKind::kLogSigning});
  ASSERT_TRUE(key.ok());
  auto signer = NoteSigner::Create(trust_->audit().origin(), key->key.view());
  ASSERT_TRUE(signer.ok());
  Checkpoint forged{.origin = trust_->audit().origin(), .size = 6, .root = Hash{}};
  auto note = SignCheckpoint(forged, **signer);
  ASSERT_TRUE(note.ok());
  ASSERT_TRUE(trust_->store()
                  .log()
                  .PutCheckpoint({.size = 6, .note = *note, .created_us = 1})
                  .ok());
  AppendFiller(1);
  EXPECT_EQ(trust_->audit().Checkpoint().status().code(), absl::StatusCode::kDataLoss);
  // Nothing was signed past it.
  auto latest = trust_->store().log().LatestCheckpoint();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->size, 6u);

  // A checkpoint larger than the stored log is refused too.
  forged.size = 100;
  auto beyond = SignCheckpoint(forged, **signer);
  ASSERT_TRUE(trust_->store()
                  .log()
                  .PutCheckpoint({.size = 100, .note = *beyond, .created_us = 2})
                  .ok());
  EXPECT_EQ(trust_->audit().Checkpoint().status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace privacity::audit
