#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "demo_trust.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/metrics.h"
#include "server/routes.h"

namespace privacity::server {
namespace {

using ApiDocTest = DemoTrustTest;

TEST_F(ApiDocTest, OpenApiPathsMatchTheRegisteredRoutes) {
  auto api = ApiService::Create(*trust_, ApiOptions{});
  ASSERT_TRUE(api.ok());
  std::set<std::pair<std::string, std::string>> routes;
  for (auto [method, pattern] : (*api)->router().Routes()) {
    absl::AsciiStrToLower(&method);
    routes.emplace(method, pattern);
  }
  const std::filesystem::path file =
      std::filesystem::path(PRIVACITY_SOURCE_DIR) / "docs" / "openapi.json";
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  ASSERT_FALSE(ss.str().empty()) << file;
  nlohmann::json doc = nlohmann::json::parse(ss.str());
  EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.", 0), 0u);
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) documented.emplace(method, path);
  }
  EXPECT_EQ(documented, routes);

  // The served document is the file.
  HttpRequest get;
  get.method = "GET";
  get.path = "/openapi.json";
  HttpResponse served = (*api)->Handle(get);
  ASSERT_EQ(served.status, 200);
  EXPECT_EQ(nlohmann::json::parse(served.body), doc);
}

TEST(MetricsTest, RendersCountersAndCumulativeHistogram) {
  Metrics m;
  m.RecordRequest("GET", "/healthz", 200, absl::Microseconds(200));
  m.RecordRequest("GET", "/healthz", 200, absl::Milliseconds(20));
  m.RecordRequest("GET", "/healthz", 503, absl::Seconds(10));
  m.RecordIngest("s", 5, 1);
  m.RecordIngest("s", 2, 0);
  m.RecordRequest("GET", "we\"ird\\", 404, absl::ZeroDuration());
  const std::string t = m.Render({{"s", 42}});
  EXPECT_NE(t.find("privacity_http_requests_total{method=\"GET\",route=\"/"
                   "healthz\",status=\"200\"} 2\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("status=\"503\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("privacity_http_request_duration_seconds_bucket{route=\"/"
                   "healthz\",le=\"0.0005\"} 1\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("privacity_http_request_duration_seconds_bucket{route=\"/"
                   "healthz\",le=\"0.025\"} 2\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("privacity_http_request_duration_seconds_bucket{route=\"/"
                   "healthz\",le=\"2.5\"} 2\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("privacity_http_request_duration_seconds_bucket{route=\"/"
                   "healthz\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(
      t.find("privacity_http_request_duration_seconds_count{route=\"/healthz\"} 3\n"),
      std::string::npos);
  EXPECT_NE(t.find("outcome=\"accepted\"} 7\n"), std::string::npos);
  EXPECT_NE(t.find("outcome=\"rejected\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("privacity_store_records{stream=\"s\"} 42\n"), std::string::npos);
  EXPECT_NE(t.find("route=\"we\\\"ird\\\\\""), std::string::npos) << t;
}

}  // namespace
}  // namespace privacity::server
