// The extract level on the demo city: uni-research's k=5 extract of
// mobility.trips for research (a consent-based purpose).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "gtest/gtest.h"
#include "ingest/ingester.h"
#include "server/audit_trail.h"
#include "server/extract_view.h"
#include "server/trust.h"
#include "transform/pipeline.h"

namespace privacity {
namespace {

namespace fs = std::filesystem;

const fs::path kDemo = fs::path(PRIVACITY_SOURCE_DIR) / "examples" / "demo-city";

class ExtractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/privacity-extract-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto config = config::LoadConfigFile((kDemo / "city.yaml").string());
    ASSERT_TRUE(config.ok()) << config.status();
    ASSERT_TRUE(server::Trust::Initialize(*config, dir_, clock_, random_).ok());
    auto trust = server::Trust::Open(*config, dir_, clock_, random_);
    ASSERT_TRUE(trust.ok()) << trust.status();
    trust_ = std::move(*trust);
    const std::string trips = (kDemo / "data/mobility.trips.csv").string();
    auto summary = ingest::IngestFile(*trust_->config().FindStream("mobility.trips"),
                                      trust_->store(), trust_->keyring(), random_, clock_,
                                      trips, ingest::FileIngestOptions{});
    ASSERT_TRUE(summary.ok()) << summary.status();
    ASSERT_EQ(summary->accepted, 1500);
    std::ifstream in(trips);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::vector<std::string> cols = absl::StrSplit(line, ',');
      if (cols.size() > 11) bikes_.insert(cols[11]);
    }
  }
  void TearDown() override {
    trust_.reset();
    fs::remove_all(dir_);
  }

  void GrantResearchConsent(int how_many) {
    auto indexer = transform::SubjectIndexer::Create(trust_->keyring());
    ASSERT_TRUE(indexer.ok());
    int n = 0;
    for (const std::string& bike : bikes_) {
      if (n++ == how_many) break;
      ASSERT_TRUE(trust_->store()
                      .AppendConsentEvent(
                          store::ConsentEvent{.blind_index = (*indexer)->BlindIndex(bike),
                                              .purpose = "research",
                                              .state = store::ConsentState::kGranted,
                                              .time = clock_.Now(),
                                              .source = "test"})
                      .ok());
    }
  }

  policy::AccessRequest Request() {
    return policy::AccessRequest{.party = "uni-research",
                                 .purpose = "research",
                                 .stream = "mobility.trips",
                                 .level = config::AccessLevel::kExtract};
  }

  std::string dir_;
  ManualClock clock_{absl::FromUnixSeconds(1767225600)};
  CryptoRandom random_;
  std::unique_ptr<server::Trust> trust_;
  std::set<std::string> bikes_;
};

TEST_F(ExtractTest, EveryReleasedClassHasAtLeastKRecords) {
  GrantResearchConsent(static_cast<int>(bikes_.size()));
  const uint64_t leaves = trust_->audit().log().head().size;
  auto result = server::BuildExtract(*trust_, Request(), server::ExtractOptions{});
  // The decision is logged (a pending key-count leaf may be written with it).
  EXPECT_GT(trust_->audit().log().head().size, leaves);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->decision.permitted());
  const anon::CsvTable& out = result->extract->output;
  EXPECT_EQ(out.header, (std::vector<std::string>{"start_time", "start_station",
                                                  "user_type", "birth_year", "gender"}));
  ASSERT_GT(out.num_rows(), 0u);
  std::map<std::string, int> classes;
  for (size_t r = 0; r < out.num_rows(); ++r) {
    std::vector<std::string> row;
    for (size_t c = 0; c < out.num_columns(); ++c) row.push_back(out.cell(r, c));
    ++classes[absl::StrJoin(row, "|")];
  }
  for (const auto& [key, size] : classes) EXPECT_GE(size, 5) << key;
  const anon::AnonymizeReport& report = result->extract->report;
  EXPECT_EQ(report.records_in, 1500);
  EXPECT_LE(report.suppressed, 75);  // 5% of 1500
  EXPECT_EQ(report.records_out + report.suppressed, 1500);
  EXPECT_LE(report.risk_after.prosecutor_max, 1.0 / 5 + 1e-12);
}

TEST_F(ExtractTest, OnlySubjectsWhoConsentedAreIncluded) {
  GrantResearchConsent(50);
  auto result = server::BuildExtract(*trust_, Request(), server::ExtractOptions{});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_LT(result->extract->report.records_in, 1500);
  EXPECT_GT(result->extract->report.records_in, 0);
}

TEST_F(ExtractTest, NoConsentMeansNothingToRelease) {
  auto result = server::BuildExtract(*trust_, Request(), server::ExtractOptions{});
  EXPECT_TRUE(absl::IsFailedPrecondition(result.status())) << result.status();
}

TEST_F(ExtractTest, OtherPartiesAndLevelsAreDenied) {
  policy::AccessRequest request = Request();
  request.party = "transport-dept";
  auto denied = server::BuildExtract(*trust_, request, server::ExtractOptions{});
  ASSERT_TRUE(denied.ok());
  EXPECT_FALSE(denied->decision.permitted());
  request = Request();
  request.level = config::AccessLevel::kRecords;
  EXPECT_TRUE(absl::IsInvalidArgument(
      server::BuildExtract(*trust_, request, server::ExtractOptions{}).status()));
}

}  // namespace
}  // namespace privacity
