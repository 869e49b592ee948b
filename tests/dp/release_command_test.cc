// `privacity release` as the binary registers it (src/cli/release_command.cc)
// on a CLI11 app, over a demo trust with the footfall excerpt stored.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "gtest/gtest.h"
#include "ingest/ingester.h"
#include "nlohmann/json.hpp"
#include "server/trust.h"

namespace privacity::cli {
namespace {

namespace fs = std::filesystem;
const fs::path kDemo = fs::path(PRIVACITY_SOURCE_DIR) / "examples" / "demo-city";

struct CommandRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class ReleaseCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/privacity-dp-relcmd-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto config = config::LoadConfigFile((kDemo / "city.yaml").string());
    ASSERT_TRUE(config.ok()) << config.status();
    SystemClock clock;
    CryptoRandom random;
    ASSERT_TRUE(server::Trust::Initialize(*config, dir_, clock, random).ok());
    auto trust = server::Trust::Open(*config, dir_, clock, random);
    ASSERT_TRUE(trust.ok()) << trust.status();
    auto summary =
        ingest::IngestFile(*(*trust)->config().FindStream("footfall.counts"),
                           (*trust)->store(), (*trust)->keyring(), random, clock,
                           (kDemo / "data" / "footfall.counts.ndjson").string(),
                           ingest::FileIngestOptions{});
    ASSERT_TRUE(summary.ok()) << summary.status();
  }
  void TearDown() override { fs::remove_all(dir_); }

  CommandRun Run(const std::string& args) {
    CLI::App app("privacity");
    CommandRun run;
    AddReleaseCommand(app, run.exit_code);
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    try {
      app.parse("release --config " + (kDemo / "city.yaml").string() + " --data-dir " +
                    dir_ + " " + args,
                /*program_name_included=*/false);
    } catch (const CLI::ParseError& e) {
      run.exit_code = app.exit(e) == 0 ? 0 : 2;
    }
    run.out = ::testing::internal::GetCapturedStdout();
    run.err = ::testing::internal::GetCapturedStderr();
    return run;
  }

  std::string dir_;
};

TEST_F(ReleaseCommandTest, PublishesTheDemoSpecsOnce) {
  const std::string spec = "--spec " + (kDemo / "releases.json").string();
  CommandRun first = Run(spec);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::vector<std::string> lines = absl::StrSplit(first.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << first.out;
  const auto a = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(a["stream"], "footfall.counts");
  EXPECT_EQ(a["existing"], false);
  EXPECT_EQ(a["epsilon"], 1.0);
  EXPECT_EQ(a["method"]["partitions"], "public-domain");
  // Again: the same releases, nothing charged.
  CommandRun again = Run(spec);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  std::vector<std::string> lines2 = absl::StrSplit(again.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines2.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(lines2[0])["id"], a["id"]);
  EXPECT_EQ(nlohmann::json::parse(lines2[0])["existing"], true);
  // 1.5 of 2.0 spent: a release at 0.6 is refused, naming what remains.
  CommandRun over =
      Run("--title T --stream footfall.counts --metric count --group-by time:1d "
          "--from 2014-01-01T00:00:00Z --to 2014-01-03T00:00:00Z --epsilon 0.6");
  EXPECT_NE(over.exit_code, 0);
  EXPECT_NE(over.err.find("remaining epsilon 0.5"), std::string::npos) << over.err;
  CommandRun flags =
      Run("--title T --stream footfall.counts --metric count --group-by time:1d "
          "--from 2014-01-01T00:00:00Z --to 2014-01-03T00:00:00Z --epsilon 0.4");
  ASSERT_EQ(flags.exit_code, 0) << flags.err;
  EXPECT_EQ(nlohmann::json::parse(flags.out)["rows_count"], 2);
}

TEST_F(ReleaseCommandTest, BadInvocationsSayWhy) {
  CommandRun none = Run("");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("--spec FILE"), std::string::npos) << none.err;
  CommandRun both = Run("--spec x.json --stream footfall.counts");
  EXPECT_NE(both.exit_code, 0);
  EXPECT_NE(both.err.find("cannot be combined"), std::string::npos) << both.err;
  CommandRun missing = Run("--spec /nonexistent/spec.json");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("cannot read"), std::string::npos) << missing.err;
  const std::string bad = dir_ + "/bad.json";
  std::ofstream(bad) << R"([{"title":"t","stream":"footfall.counts","metric":"median",)"
                        R"("epsilon":1}])";
  CommandRun invalid = Run("--spec " + bad);
  EXPECT_NE(invalid.exit_code, 0);
  EXPECT_NE(invalid.err.find("\"metric\""), std::string::npos) << invalid.err;
}

}  // namespace
}  // namespace privacity::cli
