// A trust over the demo city in a temporary directory, for the rights tests.
#ifndef PRIVACITY_TESTS_RIGHTS_RIGHTS_TEST_UTIL_H_
#define PRIVACITY_TESTS_RIGHTS_RIGHTS_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "gtest/gtest.h"
#include "ingest/ingester.h"
#include "rights/requests.h"
#include "rights/rights_log.h"
#include "server/trust.h"
#include "transform/pipeline.h"

namespace privacity::rights::testing {

inline const std::filesystem::path kDemo =
    std::filesystem::path(PRIVACITY_SOURCE_DIR) / "examples" / "demo-city";

inline std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class DemoTrustTest : public ::testing::Test {
 protected:
  // Lets a test change the config before the trust opens.
  virtual void AdjustConfig(config::CityConfig& config) {}

  void SetUp() override {
    char tmpl[] = "/tmp/privacity-rights-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto config = config::LoadConfigFile((kDemo / "city.yaml").string());
    ASSERT_TRUE(config.ok()) << config.status();
    AdjustConfig(*config);
    ASSERT_TRUE(server::Trust::Initialize(*config, dir_, clock_, random_).ok());
    auto trust = server::Trust::Open(*config, dir_, clock_, random_);
    ASSERT_TRUE(trust.ok()) << trust.status();
    trust_ = std::move(*trust);
    auto indexer = transform::SubjectIndexer::Create(trust_->keyring());
    ASSERT_TRUE(indexer.ok()) << indexer.status();
    indexer_ = std::move(*indexer);
    desk_ =
        std::make_unique<RequestsDesk>(trust_->store().rights(), clock_, random_, log_);
  }
  void TearDown() override {
    desk_.reset();
    trust_.reset();
    std::filesystem::remove_all(dir_);
  }

  int64_t Ingest(const std::string& stream, const std::string& file) {
    auto summary = ingest::IngestFile(
        *trust_->config().FindStream(stream), trust_->store(), trust_->keyring(), random_,
        clock_, (kDemo / "data" / file).string(), ingest::FileIngestOptions{});
    EXPECT_TRUE(summary.ok()) << summary.status();
    return summary.ok() ? summary->accepted : -1;
  }
  int64_t IngestMeters() {
    return Ingest("energy.meter_readings", "energy.meter_readings.csv");
  }
  int64_t IngestTrips() { return Ingest("mobility.trips", "mobility.trips.csv"); }

  std::string Bi(const std::string& id) const { return indexer_->BlindIndex(id); }

  std::string dir_;
  // 2016-01-10, a few days after the demo trips.
  ManualClock clock_{absl::FromUnixSeconds(1452384000)};
  InsecureDeterministicRandomForTesting random_{42};
  std::unique_ptr<server::Trust> trust_;
  std::unique_ptr<transform::SubjectIndexer> indexer_;
  MemoryRightsLog log_;  // the rights leaves the desk appended
  std::unique_ptr<RequestsDesk> desk_;
};

}  // namespace privacity::rights::testing

#endif  // PRIVACITY_TESTS_RIGHTS_RIGHTS_TEST_UTIL_H_
