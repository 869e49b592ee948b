// `privacity log ...` as the binary runs it: the real command registration
// (src/cli/log_command.cc) on a CLI11 app.
#include <filesystem>
#include <string>

#include "CLI/CLI.hpp"
#include "audit/test_util.h"
#include "cli/commands.h"
#include "gtest/gtest.h"

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

TEST(LogCommand, VerifyAndProveAreNotYetAvailable) {
  CommandRun verify = RunLog("log verify --data-dir /tmp/x");
  EXPECT_EQ(verify.exit_code, 2);
  EXPECT_NE(verify.err.find("not yet available"), std::string::npos);
  EXPECT_EQ(RunLog("log prove --index 3").exit_code, 2);
}

}  // namespace
}  // namespace privacity::cli
