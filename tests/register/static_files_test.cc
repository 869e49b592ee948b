// The portal's static files: confined to their directory, API paths left
// to the API, content types and security headers.
#include "server/static_files.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace privacity::server {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/privacity-web-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    fs::create_directories(base_ / "dist" / "assets");
    std::ofstream(base_ / "dist" / "index.html")
        << "<!doctype html><title>portal</title>";
    std::ofstream(base_ / "dist" / "assets" / "app-1234.js") << "console.log(1)";
    std::ofstream(base_ / "secret.txt") << "outside";
    fs::create_symlink(base_ / "secret.txt", base_ / "dist" / "link.txt");
    auto web = StaticFiles::Open((base_ / "dist").string());
    ASSERT_TRUE(web.ok()) << web.status();
    web_ = std::move(*web);
  }
  void TearDown() override { fs::remove_all(base_); }

  HttpResponse Get(const std::string& path) {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    return web_->Serve(r);
  }
  static std::string Header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  fs::path base_;
  std::unique_ptr<StaticFiles> web_;
};

TEST_F(StaticFilesTest, ServesIndexAndAssets) {
  HttpResponse index = Get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("portal"), std::string::npos);
  EXPECT_EQ(Header(index, "Cache-Control"), "no-cache");
  EXPECT_NE(Header(index, "Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  HttpResponse js = Get("/assets/app-1234.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(Header(js, "Cache-Control").find("immutable"), std::string::npos);
}

TEST_F(StaticFilesTest, NothingOutsideTheDirectory) {
  EXPECT_EQ(Get("/../secret.txt").status, 404);
  EXPECT_EQ(Get("/assets/../../secret.txt").status, 404);
  EXPECT_EQ(Get("/link.txt").status, 404);  // a symlink leading out
  EXPECT_EQ(Get("/assets").status, 404);    // a directory
  EXPECT_EQ(Get("/missing.js").status, 404);
  EXPECT_EQ(Get(std::string("/index.html\0x", 13)).status, 400);
  EXPECT_EQ(Get("/a\\b").status, 400);
}

TEST_F(StaticFilesTest, ApiPathsAreNotStatic) {
  HttpRequest r;
  r.method = "GET";
  for (const char* api : {"/v1/me/records", "/public/register", "/log/checkpoint",
                          "/healthz", "/metrics", "/openapi.json"}) {
    r.path = api;
    EXPECT_FALSE(StaticFiles::Handles(r)) << api;
  }
  r.path = "/assets/app.js";
  EXPECT_TRUE(StaticFiles::Handles(r));
  r.method = "POST";
  EXPECT_FALSE(StaticFiles::Handles(r));
  EXPECT_FALSE(StaticFiles::Open((base_ / "nowhere").string()).ok());
}

}  // namespace
}  // namespace privacity::server
