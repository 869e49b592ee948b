// server::AuditTrail: the leaves the trust appends, and checkpoints.
#include "server/audit_trail.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
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

TEST_F(AuditTrailTest, TwoSignersRacingStoreOnlyACheckedChain) {
  // Two trusts on one data dir, as two `serve` processes: each appends and
  // signs as fast as it can.
  auto other = server::Trust::Open(config_, dir_, clock_, random_);
  ASSERT_TRUE(other.ok()) << other.status();
  server::Trust* trusts[] = {trust_.get(), other->get()};
  // A checkpoint before the race, so the chain checked below has at least
  // two links however the threads are scheduled.
  ASSERT_TRUE(trust_->audit().Checkpoint().ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (server::Trust* t : trusts) {
    threads.emplace_back([t, &failures, this] {
      for (int i = 0; i < 25; ++i) {
        KeyEventLeaf leaf{.time = clock_.Now(), .scope = "traffic.anpr", .epoch = i};
        const absl::Status s = t->audit().Append(leaf).status();
        if (!s.ok()) {
          ++failures;
          ADD_FAILURE() << s;
        }
      }
    });
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 25; ++i) {
        const absl::Status s = t->audit().Checkpoint().status();
        if (!s.ok()) {
          ++failures;
          ADD_FAILURE() << s;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(trust_->audit().Checkpoint().ok());

  // Every stored checkpoint is the log's root at its size, and each is
  // consistent with the one before.
  const uint64_t size = LogSize();
  EXPECT_EQ(size, 55u);
  auto verifier = NoteVerifier::FromVerifierKey(trust_->audit().VerifierKey());
  ASSERT_TRUE(verifier.ok());
  std::optional<Checkpoint> previous;
  int stored = 0;
  for (uint64_t n = 0; n <= size; ++n) {
    auto row = trust_->store().log().GetCheckpoint(n);
    ASSERT_TRUE(row.ok());
    if (!row->has_value()) continue;
    ++stored;
    auto c = OpenCheckpoint((*row)->note, **verifier, trust_->audit().origin());
    ASSERT_TRUE(c.ok()) << c.status();
    auto root = trust_->audit().log().RootAt(n);
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(c->root, *root) << n;
    if (previous.has_value()) {
      auto proof = trust_->audit().log().ConsistencyProof(previous->size, n);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(
          VerifyConsistency(previous->size, n, *proof, previous->root, c->root).ok());
    }
    previous = *c;
  }
  EXPECT_GE(stored, 2);
  EXPECT_EQ(previous->size, size);
}

// Parsed leaves from index `from` on.
std::vector<nlohmann::json> LeavesFrom(const std::vector<std::string>& entries,
                                       size_t from) {
  std::vector<nlohmann::json> out;
  for (size_t i = from; i < entries.size(); ++i) out.push_back(*ParseLeaf(entries[i]));
  return out;
}

TEST_F(AuditTrailTest, KeyEventsAreLoggedAndSubjectKeysOnlyCounted) {
  crypto::Keyring& keyring = trust_->keyring();
  const size_t start = LogSize();
  // A pseudonym key: its own leaf, before GetOrCreate returns.
  auto pseudonym = keyring.GetOrCreate(
      {.kind = crypto::KeyKind::kPseudonym, .scope = "traffic.anpr", .epoch = 3});
  ASSERT_TRUE(pseudonym.ok());
  auto leaves = LeavesFrom(Entries(), start);
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0]["type"], "key_event");
  EXPECT_EQ(leaves[0]["action"], "create");
  EXPECT_EQ(leaves[0]["kind"], "pseudonym");
  EXPECT_EQ(leaves[0]["scope"], "traffic.anpr");
  EXPECT_EQ(leaves[0]["epoch"], 3);
  EXPECT_EQ(leaves[0]["key_id"], pseudonym->id);
  // Getting it again is no event.
  ASSERT_TRUE(
      keyring
          .GetOrCreate(
              {.kind = crypto::KeyKind::kPseudonym, .scope = "traffic.anpr", .epoch = 3})
          .ok());
  EXPECT_EQ(LogSize(), start + 1);

  // Three subject data keys of two subjects: no leaf yet...
  const std::string subject_a(32, 'A'), subject_b(32, 'B');
  std::vector<int64_t> ids;
  for (const auto& [subject, epoch] : std::vector<std::pair<std::string, int64_t>>{
           {subject_a, 7}, {subject_b, 7}, {subject_a, 8}}) {
    auto dek = keyring.GetOrCreate({.kind = crypto::KeyKind::kSubjectDek,
                                    .scope = "energy.meter_readings",
                                    .epoch = epoch,
                                    .subject = subject});
    ASSERT_TRUE(dek.ok()) << dek.status();
    ids.push_back(dek->id);
  }
  EXPECT_EQ(LogSize(), start + 1);
  // ...they are counted in the batch of the next leaf, per stream and epoch.
  auto leaf_only = [this](store::LogBatchBuilder build) {
    return trust_->store().AppendRecordsWithLog({}, {}, build);
  };
  ASSERT_TRUE(
      trust_->audit()
          .AppendIngest("energy.meter_readings", 3, 0, std::string(32, '\0'), leaf_only)
          .ok());
  leaves = LeavesFrom(Entries(), start + 1);
  ASSERT_EQ(leaves.size(), 3u);
  EXPECT_EQ(leaves[0]["type"], "ingest_batch");
  EXPECT_EQ(
      leaves[1].dump(),
      R"({"action":"create","count":2,"epoch":7,"kind":"subject_dek",)"
      R"("stream":"energy.meter_readings","time":"2024-05-29T16:26:40Z","type":"key_count","v":1})");
  EXPECT_EQ(leaves[2]["epoch"], 8);
  EXPECT_EQ(leaves[2]["count"], 1);

  // Erasing subject A destroys two keys: counted per stream, without epochs;
  // the next checkpoint appends the count.
  ASSERT_TRUE(keyring.Destroy(ids[0]).ok());
  ASSERT_TRUE(keyring.Destroy(ids[2]).ok());
  EXPECT_EQ(keyring.Destroy(ids[2]).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(trust_->audit().Checkpoint().ok());
  leaves = LeavesFrom(Entries(), start + 4);
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0]["type"], "key_count");
  EXPECT_EQ(leaves[0]["action"], "destroy");
  EXPECT_EQ(leaves[0]["count"], 2);
  EXPECT_FALSE(leaves[0].contains("epoch"));

  // Destroying the pseudonym key (retention) is its own event.
  ASSERT_TRUE(keyring.Destroy(pseudonym->id).ok());
  leaves = LeavesFrom(Entries(), start + 5);
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0]["action"], "destroy");
  EXPECT_EQ(leaves[0]["kind"], "pseudonym");
  EXPECT_EQ(leaves[0]["key_id"], pseudonym->id);

  // Nothing in the log names a subject, in any encoding.
  for (const std::string& entry : Entries()) {
    for (const std::string& subject : {subject_a, subject_b}) {
      EXPECT_EQ(entry.find(subject), std::string::npos);
      EXPECT_EQ(entry.find(absl::BytesToHexString(subject)), std::string::npos);
      EXPECT_EQ(entry.find(absl::Base64Escape(subject).substr(0, 20)), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace privacity::audit
