// `privacity log ...` as the binary runs it: the real command registration
// (src/cli/log_command.cc) on a CLI11 app.
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "CLI/CLI.hpp"
#include "audit/test_util.h"
#include "cli/commands.h"
#include "gtest/gtest.h"
#include "trust_fixture.h"

namespace privacity::cli {
namespace {

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

}  // namespace
}  // namespace privacity::cli
