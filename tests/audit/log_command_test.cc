// `privacity log ...` as the binary runs it: the real command registration
// (src/cli/log_command.cc) on a CLI11 app.
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "audit/checkpoint.h"
#include "audit/test_util.h"
#include "cli/commands.h"
#include "crypto/keyring.h"
#include "gtest/gtest.h"
#include "server/http/http_server.h"
#include "server/routes.h"
#include "spdlog/spdlog.h"
#include "trust_fixture.h"

namespace privacity::cli {
namespace {

using audit::Checkpoint;
using audit::Hash;
using audit::NoteSigner;
using audit::SignCheckpoint;

struct CommandRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

CommandRun RunLog(const std::string& args) {
  CLI::App app("privacity");
  CommandRun run;
  AddLogCommand(app, run.exit_code);
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  try {
    app.parse(args, /*program_name_included=*/false);
  } catch (const CLI::ParseError& e) {
    run.exit_code = app.exit(e) == 0 ? 0 : 2;
  }
  run.out = ::testing::internal::GetCapturedStdout();
  run.err = ::testing::internal::GetCapturedStderr();
  return run;
}

std::string Vector(const std::string& relative) {
  return (audit::testing::EmbeddedMerkleDir() / relative).string();
}

TEST(LogCommand, CheckProofExitCodes) {
  CommandRun ok = RunLog("log check-proof " + Vector("inclusion/4/happy-path.json"));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "inclusion proof holds\n");

  CommandRun fails = RunLog("log check-proof " + Vector("inclusion/1/wrong-leaf.json"));
  EXPECT_EQ(fails.exit_code, 1);
  EXPECT_EQ(fails.out.rfind("inclusion proof does not hold: ", 0), 0u) << fails.out;

  EXPECT_EQ(RunLog("log check-proof " + Vector("consistency/3-7.json")).exit_code, 0);
  EXPECT_EQ(
      RunLog("log check-proof " + Vector("consistency/6-8-wrong-root1.json")).exit_code,
      1);

  CommandRun missing = RunLog("log check-proof /nonexistent/proof.json");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("malformed proof: cannot open the file"), std::string::npos)
      << missing.err;
  CommandRun not_json = RunLog("log check-proof " + Vector("SOURCES.md"));
  EXPECT_EQ(not_json.exit_code, 2);
  EXPECT_EQ(std::count(not_json.err.begin(), not_json.err.end(), '\n'), 1);
}

TEST(LogCommand, EveryEmbeddedVector) {
  for (const auto& dir : {"inclusion", "consistency"}) {
    for (const auto& file :
         audit::testing::JsonFilesUnder(audit::testing::EmbeddedMerkleDir() / dir)) {
      // Paths with brackets are fine: CLI11 splits on spaces only.
      const bool want_err = audit::testing::ReadJson(file)["wantErr"].get<bool>();
      EXPECT_EQ(RunLog("log check-proof \"" + file.string() + "\"").exit_code,
                want_err ? 1 : 0)
          << file;
    }
  }
}

// verify, prove and checkpoint on a trust initialised from the demo city.
class LogCommandOnTrust : public audit::testing::TrustFixture {
 protected:
  std::string Args() const {
    return " --config " + audit::testing::DemoCityYaml() + " --data-dir " + dir_;
  }
  std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string path = (std::filesystem::path(dir_) / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
};

TEST_F(LogCommandOnTrust, VerifyNeedsACheckpoint) {
  CommandRun run = RunLog("log verify" + Args());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("no checkpoint"), std::string::npos) << run.out;
  EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 1);
}

TEST_F(LogCommandOnTrust, CheckpointVerifyProveAndCheckProof) {
  CommandRun first = RunLog("log checkpoint" + Args());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("demo-city/privacity-log\n5\n"), std::string::npos)
      << first.out;
  const std::string since = WriteFile("first.checkpoint", first.out);

  AppendFiller(40);
  CommandRun second = RunLog("log checkpoint" + Args());
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("\n45\n"), std::string::npos) << second.out;

  CommandRun verify = RunLog("log verify" + Args() + " --since " + since);
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(verify.out.rfind("log verifies: 45 entries", 0), 0u) << verify.out;

  // prove > p.json && check-proof p.json
  for (const std::string& extra : {std::string(" --index 0"), std::string(" --index 44"),
                                   std::string(" --index 2 --size 5")}) {
    CommandRun prove = RunLog("log prove" + Args() + extra);
    ASSERT_EQ(prove.exit_code, 0) << prove.err;
    const std::string proof = WriteFile("p.json", prove.out);
    CommandRun check = RunLog("log check-proof " + proof);
    EXPECT_EQ(check.exit_code, 0) << extra << ": " << check.out << check.err;
  }
  EXPECT_EQ(RunLog("log prove" + Args() + " --index 45").exit_code, 1);

  // A checkpoint from another log (signed by another key) is refused.
  const std::string forged = WriteFile(
      "forged.checkpoint",
      "demo-city/privacity-log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"
      "\u2014 demo-city/privacity-log "
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
      "AAAAAAAA==\n");
  EXPECT_EQ(RunLog("log verify" + Args() + " --since " + forged).exit_code, 1);
}

TEST_F(LogCommandOnTrust, TamperingWithAStoredEntryFailsVerify) {
  AppendFiller(10);
  ASSERT_EQ(RunLog("log checkpoint" + Args()).exit_code, 0);
  ASSERT_EQ(RunLog("log verify" + Args()).exit_code, 0);
  Sql("UPDATE log_entries SET data = CAST(replace(CAST(data AS TEXT), 'traffic.anpr', "
      "'traffic.xxxx') AS BLOB) WHERE idx = 7");
  CommandRun verify = RunLog("log verify" + Args());
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_EQ(verify.out.rfind("log does not verify: ", 0), 0u) << verify.out;
  EXPECT_NE(verify.out.find("7"), std::string::npos) << verify.out;
  EXPECT_EQ(std::count(verify.out.begin(), verify.out.end(), '\n'), 1);
}

TEST_F(LogCommandOnTrust, TamperingWithAStoredHashFailsVerify) {
  AppendFiller(10);
  ASSERT_EQ(RunLog("log checkpoint" + Args()).exit_code, 0);
  Sql("UPDATE log_nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 1");
  EXPECT_EQ(RunLog("log verify" + Args()).exit_code, 1);
}

// `log verify --url` against the real HTTP server on 127.0.0.1, port 0,
// serving the trust's log.
class LogVerifyUrl : public LogCommandOnTrust {
 protected:
  void SetUp() override {
    LogCommandOnTrust::SetUp();
    if (HasFatalFailure()) return;
    // The server's request log would land in the captured stdout.
    spdlog::set_level(spdlog::level::off);
    // 5 entries from init + 600: two full level-0 tiles, a partial one, and
    // a level-1 tile of two hashes.
    AppendFiller(600);
    ASSERT_TRUE(trust_->audit().Checkpoint().ok());
    auto api = server::ApiService::Create(*trust_, server::ApiOptions{});
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = *std::move(api);
    server::HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    options.shutdown_grace = absl::Seconds(1);
    auto http = server::HttpServer::Start(
        options, [this](const server::HttpRequest& r) { return api_->Handle(r); });
    ASSERT_TRUE(http.ok()) << http.status();
    http_ = *std::move(http);
    url_ = absl::StrCat("http://127.0.0.1:", http_->port());
    key_ = trust_->audit().VerifierKey();
  }
  void TearDown() override {
    http_.reset();
    api_.reset();
    spdlog::set_level(spdlog::level::info);
    LogCommandOnTrust::TearDown();
  }
  CommandRun Verify(const std::string& extra = "") {
    return RunLog("log verify --url " + url_ + " --key " + key_ + extra);
  }
  // A checkpoint signed with the log's own key over any size and root.
  std::string SignedCheckpoint(uint64_t size, const Hash& root) {
    auto seed =
        trust_->keyring().Get(crypto::KeyName{.kind = crypto::KeyKind::kLogSigning});
    EXPECT_TRUE(seed.ok());
    auto signer = NoteSigner::Create(trust_->audit().origin(), seed->key.view());
    EXPECT_TRUE(signer.ok());
    auto note = SignCheckpoint(
        Checkpoint{.origin = trust_->audit().origin(), .size = size, .root = root},
        **signer);
    EXPECT_TRUE(note.ok());
    return *note;
  }

  std::unique_ptr<server::ApiService> api_;
  std::unique_ptr<server::HttpServer> http_;
  std::string url_;
  std::string key_;
};

TEST_F(LogVerifyUrl, AGoodLogVerifies) {
  CommandRun run = Verify();
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out.rfind("log verifies: 605 entries, root ", 0), 0u) << run.out;
  // The same through ".../log/" and against the --data-dir mode's answer.
  CommandRun slash = RunLog("log verify --url " + url_ + "/log/ --key " + key_);
  EXPECT_EQ(slash.exit_code, 0) << slash.out;
  CommandRun local = RunLog("log verify" + Args());
  EXPECT_EQ(local.out, run.out);
}

TEST_F(LogVerifyUrl, ChecksConsistencyWithAnEarlierCheckpoint) {
  const std::string first =
      WriteFile("first.checkpoint", *trust_->audit().LatestCheckpoint());
  AppendFiller(300);
  ASSERT_TRUE(trust_->audit().Checkpoint().ok());
  CommandRun run = Verify(" --since " + first);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out.rfind("log verifies: 905 entries", 0), 0u) << run.out;

  // A checkpoint signed by the log's key over another history of 300
  // entries: the served tree does not extend it.
  Hash other{};
  other[0] = 1;
  const std::string fork = WriteFile("fork.checkpoint", SignedCheckpoint(300, other));
  CommandRun forked = Verify(" --since " + fork);
  EXPECT_EQ(forked.exit_code, 1);
  EXPECT_NE(forked.out.find("does not extend " + fork + " (checkpoint 300)"),
            std::string::npos)
      << forked.out;
  // Larger than the latest: the log shrank.
  const std::string ahead = WriteFile("ahead.checkpoint", SignedCheckpoint(5000, other));
  CommandRun shrunk = Verify(" --since " + ahead);
  EXPECT_EQ(shrunk.exit_code, 1);
  EXPECT_NE(shrunk.out.find("larger than the latest checkpoint 905"), std::string::npos)
      << shrunk.out;
}

TEST_F(LogVerifyUrl, ACorruptedStoredLeafIsFoundAndNamed) {
  Sql("UPDATE log_entries SET data = CAST(replace(CAST(data AS TEXT), 'traffic.anpr', "
      "'traffic.xxxx') AS BLOB) WHERE idx = 300");
  CommandRun run = Verify();
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("entry 300 (tile/entries/001 position 44) does not match its "
                         "leaf hash in tile/0/001"),
            std::string::npos)
      << run.out;
  EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 1);
}

TEST_F(LogVerifyUrl, ACorruptedStoredLeafHashIsFoundAndNamed) {
  Sql("UPDATE log_entries SET leaf_hash = zeroblob(32) WHERE idx = 600");
  CommandRun run = Verify();
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("entry 600 (tile/entries/002.p/93 position 88)"),
            std::string::npos)
      << run.out;
}

TEST_F(LogVerifyUrl, ACorruptedStoredTileHashIsFoundAndNamed) {
  Sql("UPDATE log_nodes SET hash = zeroblob(32) WHERE level = 8 AND idx = 1");
  CommandRun run = Verify();
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("tile/0/001 does not hash to position 1 of tile/1/000.p/2"),
            std::string::npos)
      << run.out;
}

TEST_F(LogVerifyUrl, AConsistencyProofThatDisagreesWithTheTilesIsNamed) {
  const std::string first =
      WriteFile("first.checkpoint", *trust_->audit().LatestCheckpoint());
  AppendFiller(300);
  ASSERT_TRUE(trust_->audit().Checkpoint().ok());
  // Level 9 is in no tile; the proof from 605 to 905 uses node (9, 0).
  Sql("UPDATE log_nodes SET hash = zeroblob(32) WHERE level = 9 AND idx = 0");
  CommandRun run = Verify(" --since " + first);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("consistency proof from 605 to 905 does not verify"),
            std::string::npos)
      << run.out;
}

TEST_F(LogVerifyUrl, TheKeyComesFromTheOperator) {
  CommandRun none = RunLog("log verify --url " + url_);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("--key KEY or --key-file FILE"), std::string::npos) << none.err;

  CommandRun bad = RunLog("log verify --url " + url_ + " --key not-a-key");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("verifier key is malformed"), std::string::npos) << bad.err;

  // Another log's key (same name, another key): the checkpoint does not verify.
  auto other = NoteSigner::Create(trust_->audit().origin(), std::string(32, '\x07'));
  ASSERT_TRUE(other.ok());
  CommandRun wrong =
      RunLog("log verify --url " + url_ + " --key " + (*other)->verifier_key());
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_EQ(wrong.out.rfind("log does not verify: latest checkpoint: ", 0), 0u)
      << wrong.out;

  const std::string file = WriteFile("log.key", key_ + "\n");
  CommandRun from_file = RunLog("log verify --url " + url_ + " --key-file " + file);
  EXPECT_EQ(from_file.exit_code, 0) << from_file.out << from_file.err;

  // --data-dir and --url exclude each other.
  EXPECT_NE(RunLog("log verify --url " + url_ + " --key " + key_ + Args()).exit_code, 0);
}

TEST_F(LogVerifyUrl, TrustOnFirstUsePinsTheKeyWithAWarning) {
  const std::string pinned = (std::filesystem::path(dir_) / "pinned.key").string();
  CommandRun first = RunLog("log verify --url " + url_ + " --key-file " + pinned +
                            " --trust-on-first-use");
  EXPECT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.err.find("WARNING: trusting the key the server sent"),
            std::string::npos)
      << first.err;
  EXPECT_EQ(audit::testing::ReadFileOrDie(pinned), key_ + "\n");
  // Later runs use the pinned key and warn no more.
  CommandRun second = RunLog("log verify --url " + url_ + " --key-file " + pinned +
                             " --trust-on-first-use");
  EXPECT_EQ(second.exit_code, 0);
  EXPECT_EQ(second.err, "");
  // A pinned key that is not the server's fails, whatever the server says.
  auto other = NoteSigner::Create(trust_->audit().origin(), std::string(32, '\x09'));
  ASSERT_TRUE(other.ok());
  std::ofstream(pinned, std::ios::trunc) << (*other)->verifier_key() << "\n";
  CommandRun third = RunLog("log verify --url " + url_ + " --key-file " + pinned +
                            " --trust-on-first-use");
  EXPECT_EQ(third.exit_code, 1);
}

TEST_F(LogVerifyUrl, AnUnreachableServerFails) {
  const std::string url = url_;
  http_.reset();
  CommandRun run = RunLog("log verify --url " + url + " --key " + key_ + " --timeout 5");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("fetching the checkpoint: "), std::string::npos) << run.out;
  CommandRun bad_url = RunLog("log verify --url ftp://x --key " + key_);
  EXPECT_EQ(bad_url.exit_code, 1);
  EXPECT_NE(bad_url.err.find("--url: "), std::string::npos);
}

}  // namespace
}  // namespace privacity::cli
