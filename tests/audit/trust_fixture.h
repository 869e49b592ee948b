// A trust initialised from the demo city in a temporary directory, for the
// tests of the audit trail, the log routes and the log command.
#ifndef PRIVACITY_TESTS_AUDIT_TRUST_FIXTURE_H_
#define PRIVACITY_TESTS_AUDIT_TRUST_FIXTURE_H_

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/time/time.h"
#include "audit/leaves.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "gtest/gtest.h"
#include "server/trust.h"

namespace privacity::audit::testing {

inline std::string DemoCityYaml() {
  return (std::filesystem::path(PRIVACITY_SOURCE_DIR) / "examples" / "demo-city" /
          "city.yaml")
      .string();
}

class TrustFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "privacity-audit-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto config = config::LoadConfigFile(DemoCityYaml());
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *config;
    ASSERT_TRUE(server::Trust::Initialize(config_, dir_, clock_, random_).ok());
    Reopen();
  }
  void TearDown() override {
    trust_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void Reopen() {
    trust_.reset();
    auto trust = server::Trust::Open(config_, dir_, clock_, random_);
    ASSERT_TRUE(trust.ok()) << trust.status();
    trust_ = *std::move(trust);
  }
  std::string DbPath() const {
    return (std::filesystem::path(dir_) / "privacity.db").string();
  }
  // Appends `n` key-event leaves (cheap filler for tree-shape tests).
  void AppendFiller(int n) {
    for (int i = 0; i < n; ++i) {
      KeyEventLeaf leaf{.time = clock_.Now(),
                        .kind = LoggedKeyKind::kPseudonym,
                        .scope = "traffic.anpr",
                        .epoch = i,
                        .key_id = 1000 + i};
      ASSERT_TRUE(trust_->audit().Append(leaf).ok());
    }
  }
  uint64_t LogSize() {
    EXPECT_TRUE(trust_->audit().log().Reload().ok());
    return trust_->audit().log().head().size;
  }
  std::vector<std::string> Entries() {
    const uint64_t size = LogSize();
    auto entries = trust_->audit().storage().ReadEntries(0, size);
    EXPECT_TRUE(entries.ok()) << entries.status();
    std::vector<std::string> out;
    if (entries.ok()) {
      for (const auto& e : *entries) out.push_back(e.data);
    }
    return out;
  }

  ManualClock clock_{absl::FromUnixSeconds(1717000000)};
  InsecureDeterministicRandomForTesting random_{42};
  std::string dir_;
  config::CityConfig config_;
  std::unique_ptr<server::Trust> trust_;
};

}  // namespace privacity::audit::testing

#endif  // PRIVACITY_TESTS_AUDIT_TRUST_FIXTURE_H_
