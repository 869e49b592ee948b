// The HTTP client against the project's own server on 127.0.0.1, port 0,
// plain and TLS (the self-signed fixture in tests/data/server).
#include "server/http/http_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/http/http_server.h"

namespace privacity::server {
namespace {

const std::string kData = PRIVACITY_TEST_DATA "/server/";

struct Fixture {
  std::unique_ptr<HttpServer> server;
  std::string base;  // "http://127.0.0.1:PORT"
};

Fixture StartServer(HttpHandler handler, bool tls = false) {
  HttpServerOptions o;
  o.listen = "127.0.0.1:0";
  o.threads = 2;
  o.shutdown_grace = absl::Seconds(1);
  if (tls) {
    o.tls_cert_file = kData + "cert.pem";
    o.tls_key_file = kData + "key.pem";
  }
  auto server = HttpServer::Start(o, std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status();
  Fixture f;
  f.server = *std::move(server);
  f.base = absl::StrCat(tls ? "https" : "http", "://127.0.0.1:", f.server->port());
  return f;
}

HttpResponse Echo(const HttpRequest& r) {
  HttpResponse response;
  response.content_type = "text/plain";
  response.body =
      absl::StrCat(r.method, " ", r.path, " q=", r.Header("x-probe"), " ",
                   r.query.count("a") ? r.query.at("a") : "", " body=", r.body);
  response.headers.emplace_back("X-Served", "yes");
  return response;
}

TEST(ParseHttpUrlTest, AcceptsHttpAndHttps) {
  auto u = ParseHttpUrl("https://log.example.org/log/checkpoint");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, ParsedUrl::Scheme::kHttps);
  EXPECT_EQ(u->host, "log.example.org");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/log/checkpoint");

  u = ParseHttpUrl("HTTP://127.0.0.1:8080");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/");

  u = ParseHttpUrl("http://[::1]:9/x?y=1#frag");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9);
  EXPECT_EQ(u->target, "/x?y=1");

  u = ParseHttpUrl("http://h?q");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->target, "/?q");
}

TEST(ParseHttpUrlTest, RejectsMalformedUrls) {
  for (const char* bad :
       {"", "log.example.org/x", "ftp://h/", "file:///etc/passwd", "http://", "http:///x",
        "http://user:pw@h/", "http://h:/", "http://h:0/", "http://h:65536/",
        "http://h:8a/", "http://h:+80/", "http://[::1/", "http://[::1]x/", "http://h/a b",
        "http://h/\r\nX: y"}) {
    auto u = ParseHttpUrl(bad);
    EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HttpClientTest, GetsAndPosts) {
  Fixture f = StartServer(Echo);
  HttpClientOptions o;
  o.headers.emplace_back("X-Probe", "p1");
  auto r = HttpGet(f.base + "/some/path?a=b%20c", o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "GET /some/path q=p1 b c body=");
  EXPECT_EQ(r->Header("x-served"), "yes");
  EXPECT_EQ(r->Header("content-type"), "text/plain");

  r = HttpPost(f.base + "/in", "{\"x\":1}", "application/json", {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "POST /in q=  body={\"x\":1}");

  auto body = HttpGetOk(f.base + "/ok", {});
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, "GET /ok q=  body=");
}

TEST(HttpClientTest, ReturnsErrorStatusesAsResponses) {
  Fixture f = StartServer([](const HttpRequest& r) {
    HttpResponse response;
    response.status = r.path == "/missing" ? 404 : 500;
    response.body = "{}";
    return response;
  });
  auto r = HttpGet(f.base + "/missing", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(HttpGetOk(f.base + "/missing", {}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(HttpGetOk(f.base + "/boom", {}).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(HttpClientTest, DoesNotFollowRedirects) {
  int elsewhere_hits = 0;
  Fixture f = StartServer([&](const HttpRequest& r) {
    HttpResponse response;
    if (r.path == "/elsewhere") {
      ++elsewhere_hits;
      return response;
    }
    response.status = 302;
    response.headers.emplace_back("Location", "/elsewhere");
    return response;
  });
  auto r = HttpGet(f.base + "/jwks", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(r->Header("location"), "/elsewhere");
  auto ok = HttpGetOk(f.base + "/jwks", {});
  EXPECT_EQ(ok.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(ok.status().message().find("302"), std::string::npos);
  EXPECT_EQ(elsewhere_hits, 0);
}

TEST(HttpClientTest, CapsTheResponseSize) {
  Fixture f = StartServer([](const HttpRequest&) {
    HttpResponse response;
    response.body = std::string(100000, 'x');
    return response;
  });
  HttpClientOptions o;
  o.max_response_bytes = 1000;
  auto r = HttpGet(f.base + "/big", o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  o.max_response_bytes = 100000;
  r = HttpGet(f.base + "/big", o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body.size(), 100000u);
}

TEST(HttpClientTest, GivesUpAtTheDeadline) {
  absl::Notification release;
  Fixture f = StartServer([&](const HttpRequest&) {
    release.WaitForNotification();
    return HttpResponse{};
  });
  HttpClientOptions o;
  o.timeout = absl::Milliseconds(200);
  auto r = HttpGet(f.base + "/slow", o);
  release.Notify();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
}

// A one-shot raw TCP server that reads the request head and answers with
// `canned` bytes, then closes: for responses our own server never sends.
class CannedServer {
 public:
  explicit CannedServer(std::string canned) : canned_(std::move(canned)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 1);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string head;
      char buf[1024];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      ::send(c, canned_.data(), canned_.size(), MSG_NOSIGNAL);
      ::close(c);
    });
  }
  ~CannedServer() {
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_, "/"); }

 private:
  std::string canned_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(HttpClientTest, RejectsATruncatedBody) {
  CannedServer s("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
  auto r = HttpGet(s.url(), {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

TEST(HttpClientTest, CapsABodyWithoutLength) {
  CannedServer s("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(5000, 'y'));
  HttpClientOptions o;
  o.max_response_bytes = 1000;
  auto r = HttpGet(s.url(), o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
}

TEST(HttpClientTest, CapsAChunkedBody) {
  std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 10; ++i)
    absl::StrAppend(&chunked, "200\r\n", std::string(512, 'z'), "\r\n");
  chunked += "0\r\n\r\n";
  CannedServer s(chunked);
  HttpClientOptions o;
  o.max_response_bytes = 1000;
  auto r = HttpGet(s.url(), o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
}

TEST(HttpClientTest, RejectsAResponseThatIsNotHttp) {
  CannedServer s("SSH-2.0-OpenSSH\r\n\r\n");
  auto r = HttpGet(s.url(), {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

TEST(HttpClientTest, ReportsARefusedConnection) {
  // A port that was bound and released: nothing listens there.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  auto r = HttpGet(absl::StrCat("http://127.0.0.1:", port, "/"), {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_NE(r.status().message().find("connecting"), std::string::npos);
}

TEST(HttpClientTest, RejectsHeadersWithLineBreaks) {
  HttpClientOptions o;
  o.headers.emplace_back("X-A", "v\r\nX-Injected: 1");
  EXPECT_EQ(HttpGet("http://127.0.0.1:1/", o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, VerifiesTlsAgainstTheGivenCaFile) {
  Fixture f = StartServer(Echo, /*tls=*/true);
  HttpClientOptions o;
  o.ca_file = kData + "cert.pem";
  // The certificate names both 127.0.0.1 and localhost.
  auto r = HttpGet(f.base + "/tls", o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "GET /tls q=  body=");
  r = HttpGet(absl::StrCat("https://localhost:", f.server->port(), "/tls"), o);
  ASSERT_TRUE(r.ok()) << r.status();
}

TEST(HttpClientTest, RefusesAnUntrustedCertificate) {
  Fixture f = StartServer(Echo, /*tls=*/true);
  // The system store does not hold the self-signed fixture.
  auto r = HttpGet(f.base + "/tls", {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_NE(r.status().message().find("certificate"), std::string::npos) << r.status();
}

TEST(HttpClientTest, RefusesACertificateForAnotherAddress) {
  // Linux routes all of 127/8 to the loopback; the fixture names 127.0.0.1
  // and localhost only, so a trusted certificate served at 127.0.0.2 must
  // still be refused.
  HttpServerOptions so;
  so.listen = "127.0.0.2:0";
  so.threads = 1;
  so.tls_cert_file = kData + "cert.pem";
  so.tls_key_file = kData + "key.pem";
  auto server = HttpServer::Start(so, Echo);
  if (!server.ok()) GTEST_SKIP() << "cannot listen on 127.0.0.2: " << server.status();
  HttpClientOptions o;
  o.ca_file = kData + "cert.pem";
  auto r = HttpGet(absl::StrCat("https://127.0.0.2:", (*server)->port(), "/"), o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_NE(r.status().message().find("certificate"), std::string::npos) << r.status();
}

TEST(HttpClientTest, ReportsAMissingCaFile) {
  HttpClientOptions o;
  o.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(HttpGet("https://127.0.0.1:1/", o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, PlainHttpToATlsPortFails) {
  Fixture f = StartServer(Echo, /*tls=*/true);
  HttpClientOptions o;
  o.timeout = absl::Seconds(5);
  auto r = HttpGet(absl::StrCat("http://127.0.0.1:", f.server->port(), "/"), o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

}  // namespace
}  // namespace privacity::server
