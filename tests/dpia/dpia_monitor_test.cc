// The scheduled DPIA over a real trust: it re-runs on its interval (by the
// injected clock), and a finer cell level in the config after a restart is a
// rise above the threshold: a dpia_alert leaf and an alert gauge.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "ingest/ingester.h"
#include "nlohmann/json.hpp"
#include "server/demo_trust.h"
#include "server/dpia_routes.h"
#include "server/routes.h"

namespace privacity::server {
namespace {

using nlohmann::json;

// 20 bikes, two trips each at 08:00 and 12:00 on 2025-06-01, from stations
// about 200 m apart: distinct at S2 level 16, one cell at level 8.
std::string Trips() {
  std::string out;
  for (int bike = 0; bike < 20; ++bike) {
    for (int trip = 0; trip < 2; ++trip) {
      const double lat = 40.7200 + 0.002 * bike;
      const double lon = -74.0400 + 0.002 * trip;
      absl::StrAppend(
          &out,
          absl::StrFormat(R"({"Bike ID":"%d","Start Time":"2025-06-01T%02d:00:00Z",)"
                          R"("Start Station Latitude":%.6f,)"
                          R"("Start Station Longitude":%.6f})",
                          30000 + bike, trip == 0 ? 8 : 12, lat, lon),
          "\n");
    }
  }
  return out;
}

class DpiaMonitorTest : public DemoTrustTest {
 protected:
  void Reopen(int cell_level) {
    config::CityConfig config = trust_->config();
    for (config::Agreement& a : config.agreements) {
      if (a.id == "transport-trips-records") a.cell_level = cell_level;
    }
    trust_.reset();
    auto trust = Trust::Open(config, dir_, clock_, random_);
    ASSERT_TRUE(trust.ok()) << trust.status();
    trust_ = std::move(*trust);
  }

  std::vector<json> Alerts() {
    std::vector<json> out;
    EXPECT_TRUE(trust_->audit().log().Reload().ok());
    auto entries =
        trust_->audit().storage().ReadEntries(0, trust_->audit().log().head().size);
    EXPECT_TRUE(entries.ok());
    for (const auto& e : *entries) {
      json leaf = json::parse(e.data);
      if (leaf["type"] == "dpia_alert") out.push_back(leaf);
    }
    return out;
  }
};

TEST_F(DpiaMonitorTest, FinerCellLevelIsARiseAboveTheThreshold) {
  auto ingested = ingest::IngestBuffer(*trust_->config().FindStream("mobility.trips"),
                                       trust_->store(), trust_->keyring(), random_,
                                       Trips(), ingest::InputFormat::kNdjson, {});
  ASSERT_TRUE(ingested.ok()) << ingested.status();
  ASSERT_EQ(ingested->accepted, 40);

  Reopen(8);
  {
    DpiaMonitor monitor(*trust_);
    auto ran = monitor.RunIfDue();
    ASSERT_TRUE(ran.ok()) << ran.status();
    EXPECT_TRUE(*ran);
    EXPECT_FALSE(*monitor.RunIfDue());  // not due again before the interval
    // value(): operator[] on a const json is undefined for a missing key.
    for (const json& a : Alerts()) {
      EXPECT_NE(a.value("agreement", ""), "transport-trips-records");
    }
    EXPECT_NE(
        monitor.MetricsText().find(
            "privacity_dpia_unicity{stream=\"mobility.trips\",view=\"transport-trips-"
            "records\",p=\"2\"} 0\n"),
        std::string::npos)
        << monitor.MetricsText();
  }

  Reopen(16);  // a finer cell level, after a restart
  DpiaMonitor monitor(*trust_);
  ASSERT_TRUE(monitor.RunIfDue().ok());
  bool alerted = false;
  for (const json& a : Alerts()) {
    if (a.value("agreement", "") == "transport-trips-records" &&
        a.value("measure", "") == "unicity_p2") {
      alerted = true;
      EXPECT_EQ(a["value"], "1");
      EXPECT_EQ(a["threshold"], "0.05");
    }
  }
  EXPECT_TRUE(alerted);
  EXPECT_NE(monitor.MetricsText().find(
                "privacity_dpia_alert{stream=\"mobility.trips\",view=\"transport-trips-"
                "records\",measure=\"unicity_p2\"} 1"),
            std::string::npos);
  // No new alert while it stays above; the next run is due after the interval.
  const size_t before = Alerts().size();
  clock_.Advance(trust_->config().dpia.interval);
  auto again = monitor.RunIfDue();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again);
  EXPECT_EQ(Alerts().size(), before);
}

TEST_F(DpiaMonitorTest, RouteServesThreeFormats) {
  auto api = ApiService::Create(*trust_, ApiOptions{});
  ASSERT_TRUE(api.ok());
  HttpRequest r;
  r.method = "GET";
  r.path = "/public/dpia/mobility.trips";
  HttpResponse j = (*api)->Handle(r);
  ASSERT_EQ(j.status, 200) << j.body;
  EXPECT_EQ(json::parse(j.body)["stream"], "mobility.trips");
  EXPECT_TRUE(json::parse(j.body)["measures"][0].contains("unicity_p4"));
  r.query["format"] = "md";
  HttpResponse md = (*api)->Handle(r);
  EXPECT_EQ(md.content_type, "text/markdown; charset=utf-8");
  EXPECT_EQ(md.body.rfind("# DPIA: mobility.trips", 0), 0u);
  r.query.clear();
  r.headers["accept"] = "text/html";
  EXPECT_EQ((*api)->Handle(r).content_type, "text/html; charset=utf-8");
  r.query["format"] = "pdf";
  EXPECT_EQ((*api)->Handle(r).status, 400);
  r.query.clear();
  r.path = "/public/dpia/no.such";
  EXPECT_EQ((*api)->Handle(r).status, 404);
  HttpRequest metrics;
  metrics.method = "GET";
  metrics.path = "/metrics";
  EXPECT_NE((*api)->Handle(metrics).body.find("privacity_dpia_runs_total"),
            std::string::npos);
}

}  // namespace
}  // namespace privacity::server
