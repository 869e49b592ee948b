#include <stdexcept>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/error_mapping.h"
#include "server/routes.h"

namespace privacity::server {
namespace {

HttpResponse Text(std::string body) {
  HttpResponse r;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

HttpRequest Get(std::string path, std::string method = "GET") {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

// Accepts the bearer token "good" as party "p".
absl::StatusOr<Principal> FakeAuth(const HttpRequest& r) {
  if (r.Header("authorization") == "Bearer good") return Principal{1, "p", ""};
  return absl::UnauthenticatedError("no");
}

TEST(RouterTest, MatchesParamsAndPrefersLiterals) {
  Router router(FakeAuth);
  ASSERT_TRUE(
      router
          .Add("GET", "/public/{thing}",
               [](const RouteRequest& r) { return Text("param:" + r.Param("thing")); })
          .ok());
  ASSERT_TRUE(router
                  .Add("GET", "/public/streams",
                       [](const RouteRequest&) { return Text("literal"); })
                  .ok());
  EXPECT_EQ(router.Handle(Get("/public/streams")).response.body, "literal");
  Router::Routed routed = router.Handle(Get("/public/other"));
  EXPECT_EQ(routed.response.body, "param:other");
  EXPECT_EQ(routed.route, "/public/{thing}");
  EXPECT_EQ(router.Handle(Get("/public/")).response.status, 404);
  EXPECT_EQ(router.Handle(Get("/public/a/b")).response.status, 404);
  EXPECT_EQ(router.Handle(Get("")).response.status, 404);
  EXPECT_EQ(router.Handle(Get("/public/a/b")).route, "unmatched");
}

TEST(RouterTest, RestParameterMatchesTheRemainingSegments) {
  Router router(FakeAuth);
  ASSERT_TRUE(router
                  .Add("GET", "/log/tile/{tile...}",
                       [](const RouteRequest& r) { return Text(r.Param("tile")); })
                  .ok());
  EXPECT_EQ(router.Handle(Get("/log/tile/0/x001/234.p/5")).response.body,
            "0/x001/234.p/5");
  EXPECT_EQ(router.Handle(Get("/log/tile/entries/000")).response.body, "entries/000");
  EXPECT_EQ(router.Handle(Get("/log/tile")).response.status, 404);
  EXPECT_FALSE(
      router.Add("GET", "/a/{rest...}/b", [](const RouteRequest&) { return Text(""); })
          .ok());
}

TEST(RouterTest, WrongMethodIs405WithAllow) {
  Router router(FakeAuth);
  ASSERT_TRUE(
      router.Add("GET", "/healthz", [](const RouteRequest&) { return Text("ok"); }).ok());
  ASSERT_TRUE(
      router.Add("PUT", "/healthz", [](const RouteRequest&) { return Text("ok"); }).ok());
  HttpResponse r = router.Handle(Get("/healthz", "POST")).response;
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Allow");
  EXPECT_EQ(r.headers[0].second, "GET, PUT");
}

TEST(RouterTest, RejectsBadPatternsAndDuplicates) {
  Router router(FakeAuth);
  auto h = [](const RouteRequest&) { return Text(""); };
  EXPECT_TRUE(absl::IsInvalidArgument(router.Add("get", "/a", h)));
  EXPECT_TRUE(absl::IsInvalidArgument(router.Add("GET", "a", h)));
  EXPECT_TRUE(absl::IsInvalidArgument(router.Add("GET", "/a//b", h)));
  EXPECT_TRUE(absl::IsInvalidArgument(router.Add("GET", "/a/{}", h)));
  EXPECT_TRUE(absl::IsInvalidArgument(router.Add("GET", "/a/x{y}", h)));
  EXPECT_TRUE(absl::IsInvalidArgument(router.Add("GET", "/a", nullptr)));
  ASSERT_TRUE(router.Add("GET", "/a/{x}", h).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(router.Add("GET", "/a/{y}", h)));
  EXPECT_TRUE(router.Add("POST", "/a/{y}", h).ok());
  EXPECT_EQ(router.Routes().size(), 2u);
}

TEST(RouterTest, TokenRequiredExceptOpenPaths) {
  Router router(FakeAuth);
  auto who = [](const RouteRequest& r) {
    return Text(r.principal == nullptr ? "anyone" : r.principal->party);
  };
  ASSERT_TRUE(router.Add("GET", "/v1/x", who).ok());
  ASSERT_TRUE(router.Add("GET", "/public/x", who).ok());
  ASSERT_TRUE(router.Add("GET", "/log/x", who).ok());
  ASSERT_TRUE(router.Add("GET", "/v1/open", who, RouteAccess::kOpen).ok());
  ASSERT_TRUE(router.Add("GET", "/public/closed", who, RouteAccess::kToken).ok());

  HttpResponse denied = router.Handle(Get("/v1/x")).response;
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(denied.headers.at(0).first, "WWW-Authenticate");
  HttpRequest with = Get("/v1/x");
  with.headers["authorization"] = "Bearer good";
  EXPECT_EQ(router.Handle(with).response.body, "p");
  EXPECT_EQ(router.Handle(Get("/public/x")).response.body, "anyone");
  EXPECT_EQ(router.Handle(Get("/log/x")).response.body, "anyone");
  EXPECT_EQ(router.Handle(Get("/v1/open")).response.body, "anyone");
  EXPECT_EQ(router.Handle(Get("/public/closed")).response.status, 401);

  EXPECT_TRUE(Router::IsOpenPath("/healthz"));
  EXPECT_TRUE(Router::IsOpenPath("/metrics"));
  EXPECT_TRUE(Router::IsOpenPath("/openapi.json"));
  EXPECT_FALSE(Router::IsOpenPath("/publicity"));
  EXPECT_FALSE(Router::IsOpenPath("/v1/streams/{stream}/records"));
}

TEST(RouterTest, HandlerExceptionIs500WithoutDetail) {
  Router router(FakeAuth);
  ASSERT_TRUE(router
                  .Add("GET", "/public/boom",
                       [](const RouteRequest&) -> HttpResponse {
                         throw std::runtime_error("secret detail");
                       })
                  .ok());
  HttpResponse r = router.Handle(Get("/public/boom")).response;
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::accept(r.body));
}

TEST(ErrorMappingTest, MapsEveryCode) {
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kOutOfRange), 400);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kFailedPrecondition), 422);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kDataLoss), 500);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnknown), 500);
}

TEST(ErrorMappingTest, BodyShapeAndNoInternalDetail) {
  HttpResponse r = ErrorResponse(absl::NotFoundError("stream 'x' not found"));
  EXPECT_EQ(r.status, 404);
  nlohmann::json j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"]["code"], "not-found");
  EXPECT_EQ(j["error"]["message"], "stream 'x' not found");
  EXPECT_EQ(j.size(), 1u);

  HttpResponse internal =
      ErrorResponse(absl::InternalError("sqlite store /var/lib/x.db: corrupt"));
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("/var/lib"), std::string::npos);

  HttpResponse auth = ErrorResponse(absl::UnauthenticatedError("no token"));
  EXPECT_EQ(auth.status, 401);
  ASSERT_EQ(auth.headers.size(), 1u);
  EXPECT_EQ(auth.headers[0].second, "Bearer");

  // Invalid UTF-8 is replaced, the body stays valid JSON.
  EXPECT_TRUE(nlohmann::json::accept(ErrorBody("x", "bad \xff\xfe bytes")));
}

}  // namespace
}  // namespace privacity::server
