// A fresh trust over the demo city in a temporary data dir, for the server
// tests. Time is a ManualClock, randomness deterministic.
#ifndef PRIVACITY_TESTS_SERVER_DEMO_TRUST_H_
#define PRIVACITY_TESTS_SERVER_DEMO_TRUST_H_

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "gtest/gtest.h"
#include "server/auth.h"
#include "server/trust.h"

namespace privacity::server {

class DemoTrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/privacity-server-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    const std::filesystem::path city = std::filesystem::path(PRIVACITY_SOURCE_DIR) /
                                       "examples" / "demo-city" / "city.yaml";
    auto config = config::LoadConfigFile(city.string());
    ASSERT_TRUE(config.ok()) << config.status();
    ASSERT_TRUE(Trust::Initialize(*config, dir_, clock_, random_).ok());
    auto trust = Trust::Open(*config, dir_, clock_, random_);
    ASSERT_TRUE(trust.ok()) << trust.status();
    trust_ = std::move(*trust);
  }
  void TearDown() override {
    trust_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string Issue(const std::string& party, const std::string& stream = "") {
    auto issued = IssueToken(trust_->config(), trust_->store().tokens(), clock_, random_,
                             party, stream, "test");
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? issued->token : std::string();
  }

  ManualClock clock_{absl::FromUnixSeconds(1767225600)};  // 2026-01-01
  InsecureDeterministicRandomForTesting random_{7};
  std::string dir_;
  std::unique_ptr<Trust> trust_;
};

// Three half-hourly meter readings of one meter in the stream's CSV column
// names, as NDJSON.
inline std::string MeterNdjson(int n, const std::string& meter = "MAC000002") {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += "{\"LCLid\":\"" + meter + "\",\"tstp\":\"2025-06-01T0" +
           std::to_string(i % 10) + ":00:00Z\",\"energy(kWh/hh)\":0." +
           std::to_string(100 + i) + "}\n";
  }
  return out;
}

}  // namespace privacity::server

#endif  // PRIVACITY_TESTS_SERVER_DEMO_TRUST_H_
