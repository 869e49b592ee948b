// The sensor register: DTPR elements derived from the policy, proposed
// sensors and their comment period, validation of added sensors and of
// comments.
#include "register/register.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>

#include "audit/leaves.h"
#include "common/clock.h"
#include "config/loader.h"
#include "gtest/gtest.h"
#include "store/store.h"

namespace privacity::registry {
namespace {

class RegisterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/privacity-register-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto config = config::LoadConfigFile(
        (std::filesystem::path(PRIVACITY_SOURCE_DIR) / "examples/demo-city/city.yaml")
            .string());
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *std::move(config);
    auto store = store::OpenStore("sqlite:test.db", dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    reg_ = std::make_unique<SensorRegister>(config_, *store_, clock_);
  }
  void TearDown() override {
    reg_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  SensorProposal Proposal(const std::string& id) {
    SensorProposal p;
    p.id = id;
    p.stream = "traffic.anpr";
    p.name = "ANPR camera Ring Road";
    p.latitude = 52.37;
    p.longitude = 4.9;
    p.owner = "Demo City Transport Department";
    p.comments_until = clock_.Now() + absl::Hours(24 * 30);
    return p;
  }

  size_t Count() {
    auto all = reg_->List();
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? all->size() : 0;
  }

  ManualClock clock_{absl::FromUnixSeconds(1767225600)};  // 2026-01-01
  std::string dir_;
  config::CityConfig config_;
  store::StorePtr store_;
  std::unique_ptr<SensorRegister> reg_;
};

TEST_F(RegisterTest, DtprOfPersonalStreamIsDerivedFromItsPolicy) {
  const DtprElements d =
      DeriveDtpr(config_, *config_.FindStream("energy.meter_readings"));
  EXPECT_EQ(d.data_type, "personal");
  EXPECT_EQ(d.accountable, "Demo City Data Office");
  EXPECT_EQ(d.pseudonymised, std::vector<std::string>{"meter_id"});
  ASSERT_TRUE(d.pseudonym_epoch.has_value());
  EXPECT_EQ(*d.pseudonym_epoch, absl::Hours(24 * 30));
  EXPECT_TRUE(d.sealed);
  EXPECT_TRUE(d.aggregated);            // research-meter-aggregate
  EXPECT_TRUE(d.differential_privacy);  // ... with a budget
  EXPECT_FALSE(d.k_anonymity.has_value());
  EXPECT_EQ(d.retention, absl::Hours(24 * 365 * 2));
  ASSERT_EQ(d.purposes.size(), 3u);
  EXPECT_EQ(d.purposes[2].id, "billing");
  EXPECT_EQ(d.purposes[2].legal_basis, "contract");
  ASSERT_EQ(d.access.size(), 2u);
  EXPECT_EQ(d.access[0].agreement, "utility-meter-records");
  EXPECT_EQ(d.access[0].level, "records");
  EXPECT_EQ(d.access[0].party_name, "Demo Energy Networks");
  EXPECT_EQ(d.access[0].fields,
            (std::vector<std::string>{"meter_id", "time", "energy_kwh"}));
}

TEST_F(RegisterTest, DtprFollowsAPolicyChange) {
  const config::Stream& trips = *config_.FindStream("mobility.trips");
  EXPECT_EQ(DeriveDtpr(config_, trips).k_anonymity, 5);
  for (config::Agreement& a : config_.agreements) {
    if (a.id == "research-trips-extract") a.k_threshold = 11;
  }
  EXPECT_EQ(DeriveDtpr(config_, trips).k_anonymity, 11);
  const DtprElements footfall =
      DeriveDtpr(config_, *config_.FindStream("footfall.counts"));
  EXPECT_EQ(footfall.data_type, "non-personal");
  EXPECT_TRUE(footfall.pseudonymised.empty());
  EXPECT_FALSE(footfall.sealed);
  EXPECT_EQ(ToJson(footfall)["processing"]["generalised"][0], "time: time_bucket 1h");
}

TEST_F(RegisterTest, ProposedSensorGoesLiveOnlyAfterItsPeriod) {
  auto entry = reg_->Find("footfall-proposed-station-sq");
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->status, SensorStatus::kProposed);
  EXPECT_EQ(reg_->Find("footfall-22")->status, SensorStatus::kLive);
  clock_.Advance(absl::Hours(24 * 365 * 6));  // past 2030-12-31
  EXPECT_EQ(reg_->Find("footfall-proposed-station-sq")->status, SensorStatus::kLive);
}

TEST_F(RegisterTest, AddedSensorIsListedWithItsPeriod) {
  const size_t before = Count();
  auto added = reg_->Add(Proposal("anpr-ring-road"));
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->origin, SensorOrigin::kAdmin);
  EXPECT_EQ(added->status, SensorStatus::kProposed);
  EXPECT_EQ(Count(), before + 1);
  // A second register over the same store sees it (another process).
  SensorRegister other(config_, *store_, clock_);
  auto found = other.Find("anpr-ring-road");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->sensor.latitude, 52.37);
  EXPECT_EQ(reg_->Add(Proposal("anpr-ring-road")).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(reg_->Add(Proposal("footfall-22")).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(RegisterTest, BadProposalsAreRefusedAndWriteNothing) {
  const size_t before = Count();
  auto expect_invalid = [this](SensorProposal p, const std::string& what) {
    absl::Status s = reg_->Add(p).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << what;
    EXPECT_NE(s.message().find(what), absl::string_view::npos) << s;
  };
  SensorProposal p = Proposal("");
  expect_invalid(p, "'id'");
  p = Proposal("bad id/with slash");
  expect_invalid(p, "'id'");
  p = Proposal("x");
  p.stream = "no.such.stream";
  expect_invalid(p, "'stream'");
  p = Proposal("x");
  p.longitude.reset();
  expect_invalid(p, "'lat' and 'lon'");
  p = Proposal("x");
  p.latitude = 91;
  expect_invalid(p, "'lat'");
  p = Proposal("x");
  p.name = "evil\x1b[2Jname";
  expect_invalid(p, "'name'");
  p = Proposal("x");
  p.name = "\xff\xfe";
  expect_invalid(p, "'name'");
  p = Proposal("x");
  p.name = "";
  expect_invalid(p, "'name'");
  p = Proposal("x");
  p.comments_until = clock_.Now() - absl::Seconds(1);
  expect_invalid(p, "'comments_until'");
  EXPECT_EQ(Count(), before);
}

TEST_F(RegisterTest, ParseProposalNamesTheBadMember) {
  EXPECT_EQ(ParseProposal("{").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProposal("[]").status().code(), absl::StatusCode::kInvalidArgument);
  auto missing = ParseProposal(R"({"id":"a","name":"n"})");
  EXPECT_NE(missing.status().message().find("'stream'"), absl::string_view::npos);
  auto type = ParseProposal(R"({"id":"a","stream":"s","name":"n","lat":"north"})");
  EXPECT_NE(type.status().message().find("'lat'"), absl::string_view::npos);
  auto unknown = ParseProposal(R"({"id":"a","stream":"s","name":"n","x":1})");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  auto date = ParseProposal(
      R"({"id":"a","stream":"s","name":"n","comments_until":"2026-02-01"})");
  ASSERT_TRUE(date.ok()) << date.status();
  EXPECT_EQ(*date->comments_until, absl::FromUnixSeconds(1769990400));  // end of day
}

TEST_F(RegisterTest, CommentsAreStoredAndCountedOnlyWhileProposed) {
  const std::string id = "footfall-proposed-station-sq";
  auto first = reg_->AddComment(id, CommentKind::kComment, "Please <b>not</b> here");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->comments, 1);
  auto second = reg_->AddComment(id, CommentKind::kObjection, "I object.\nTwo lines.");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->comments, 2);
  EXPECT_EQ(second->objections, 1);
  auto comments = reg_->Comments(id);
  ASSERT_TRUE(comments.ok()) << comments.status();
  ASSERT_EQ(comments->size(), 2u);
  EXPECT_EQ((*comments)[0].text, "Please <b>not</b> here");
  EXPECT_EQ((*comments)[1].kind, CommentKind::kObjection);

  EXPECT_EQ(reg_->AddComment("footfall-22", CommentKind::kComment, "hi").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(reg_->AddComment("nope", CommentKind::kComment, "hi").status().code(),
            absl::StatusCode::kNotFound);
  for (const std::string& bad :
       {std::string(), std::string(kMaxCommentBytes + 1, 'a'), std::string("a\x00b", 3),
        std::string("\xc3\x28"), std::string("bell\x07")}) {
    EXPECT_EQ(reg_->AddComment(id, CommentKind::kComment, bad).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(reg_->Find(id)->comments, 2);
  clock_.Advance(absl::Hours(24 * 365 * 6));
  EXPECT_EQ(reg_->AddComment(id, CommentKind::kComment, "late").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(reg_->Find(id)->comments, 2);  // the count stays public
}

TEST_F(RegisterTest, GeoJsonHasPointsAndNullGeometries) {
  auto all = reg_->List();
  ASSERT_TRUE(all.ok());
  nlohmann::json g = RegisterGeoJson(config_, *all);
  EXPECT_EQ(g["type"], "FeatureCollection");
  bool null_geometry = false;
  for (const auto& f : g["features"]) {
    if (f["id"] == "footfall-22") {
      EXPECT_EQ(f["geometry"]["type"], "Point");
      EXPECT_DOUBLE_EQ(f["geometry"]["coordinates"][0].get<double>(), 144.965068228214);
      EXPECT_EQ(f["properties"]["dtpr"]["data_type"]["kind"], "non-personal");
    }
    if (f["id"] == "smart-meter-fleet") null_geometry = f["geometry"].is_null();
  }
  EXPECT_TRUE(null_geometry);
}

}  // namespace
}  // namespace privacity::registry

namespace privacity::registry {
namespace {

TEST(RegisterLeafTest, EncodesTokensOnly) {
  audit::RegisterChangeLeaf leaf;
  leaf.time = absl::FromUnixSeconds(1767225600);
  leaf.action = audit::RegisterAction::kComment;
  leaf.sensor = "footfall-proposed-station-sq";
  leaf.stream = "footfall.counts";
  leaf.state = audit::SensorState::kProposed;
  leaf.comments_until = absl::FromUnixSeconds(1924992000);
  auto encoded = audit::EncodeLeaf(leaf);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(*encoded, R"({"action":"comment","comments_until":"2031-01-01T00:00:00Z",)"
                      R"("sensor":"footfall-proposed-station-sq","state":"proposed",)"
                      R"("stream":"footfall.counts","time":"2026-01-01T00:00:00Z",)"
                      R"("type":"register_change","v":1})");
  leaf.sensor = "has space";
  EXPECT_EQ(audit::EncodeLeaf(leaf).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace privacity::registry

namespace privacity::registry {
namespace {

TEST(RegisterCellTest, SensorsCarryTheCellTheirStreamBlursTo) {
  auto config = config::LoadConfigFile(
      (std::filesystem::path(PRIVACITY_SOURCE_DIR) / "examples/demo-city/city.yaml")
          .string());
  ASSERT_TRUE(config.ok());
  RegisterEntry footfall;
  footfall.sensor = config->sensors[0];  // footfall-22, cell level 17
  RegisterEntry meter;
  meter.sensor =
      *std::find_if(config->sensors.begin(), config->sensors.end(),
                    [](const config::Sensor& s) { return s.id == "smart-meter-fleet"; });
  const nlohmann::json j = RegisterJson(*config, {footfall, meter});
  const nlohmann::json& cell = j["sensors"][0]["cell"];
  EXPECT_EQ(cell["level"], 17);
  ASSERT_EQ(cell["polygon"].size(), 5u);  // closed ring
  // The sensor lies inside its cell's bounding box.
  double min_lon = 180, max_lon = -180, min_lat = 90, max_lat = -90;
  for (const auto& v : cell["polygon"]) {
    min_lon = std::min(min_lon, v[0].get<double>());
    max_lon = std::max(max_lon, v[0].get<double>());
    min_lat = std::min(min_lat, v[1].get<double>());
    max_lat = std::max(max_lat, v[1].get<double>());
  }
  EXPECT_LE(min_lon, 144.965068228214);
  EXPECT_GE(max_lon, 144.965068228214);
  EXPECT_LE(min_lat, -37.8178644478193);
  EXPECT_GE(max_lat, -37.8178644478193);
  EXPECT_LT(max_lat - min_lat, 0.01);
  EXPECT_TRUE(j["sensors"][1]["cell"].is_null());  // no position
}

}  // namespace
}  // namespace privacity::registry
