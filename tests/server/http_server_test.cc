// Through the real server on 127.0.0.1, port 0, with a plain-socket client.
#include "server/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "demo_trust.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/routes.h"

namespace privacity::server {
namespace {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// A minimal HTTP/1.1 client over one connection.
class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  void Send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;  // the server may close early (413)
      off += static_cast<size_t>(n);
    }
  }

  void Request(const std::string& method, const std::string& target,
               const std::string& token = "", const std::string& body = "",
               const std::string& extra_headers = "") {
    std::string req =
        absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: localhost\r\n");
    if (!token.empty()) absl::StrAppend(&req, "Authorization: Bearer ", token, "\r\n");
    if (!body.empty() || method == "POST") {
      absl::StrAppend(&req, "Content-Type: application/x-ndjson\r\nContent-Length: ",
                      body.size(), "\r\n");
    }
    absl::StrAppend(&req, extra_headers, "\r\n", body);
    Send(req);
  }

  // Reads one response; nullopt on EOF or after 10 s.
  std::optional<RawResponse> Read() {
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    RawResponse r;
    std::vector<std::string> lines =
        absl::StrSplit(buffer_.substr(0, header_end), "\r\n");
    std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
    if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &r.status)) {
      return std::nullopt;
    }
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
      r.headers[name] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
    size_t length = 0;
    if (r.headers.count("content-length"))
      absl::SimpleAtoi(r.headers["content-length"], &length);
    buffer_.erase(0, header_end + 4);
    while (buffer_.size() < length) {
      if (!Fill()) return std::nullopt;
    }
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return r;
  }

  // True when the server closed the connection (within 10 s).
  bool ClosedByServer() { return buffer_.empty() && !Fill(); }

 private:
  bool Fill() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) return false;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

class HttpServerTest : public DemoTrustTest {
 protected:
  void SetUp() override {
    DemoTrustTest::SetUp();
    if (HasFatalFailure()) return;
    auto api = ApiService::Create(*trust_, ApiOptions{});
    ASSERT_TRUE(api.ok());
    api_ = std::move(*api);
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.max_body_bytes = 64 << 10;
    options.threads = 2;
    auto server = HttpServer::Start(
        options, [this](const HttpRequest& r) { return api_->Handle(r); });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_GT(server_->port(), 0);
  }
  void TearDown() override {
    server_.reset();
    api_.reset();
    DemoTrustTest::TearDown();
  }

  std::unique_ptr<ApiService> api_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  Client c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Request("GET", "/healthz");
  auto first = c.Read();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(nlohmann::json::parse(first->body)["status"], "ok");
  c.Request("GET", "/metrics");
  auto second = c.Read();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->status, 200);
  EXPECT_NE(second->body.find("privacity_http_requests_total{method=\"GET\",route=\"/"
                              "healthz\",status=\"200\"} 1"),
            std::string::npos)
      << second->body;
  EXPECT_NE(
      second->body.find("privacity_store_records{stream=\"energy.meter_readings\"} 0"),
      std::string::npos);
}

TEST_F(HttpServerTest, OversizedBodyIs413) {
  const std::string token = Issue("energy-utility", "energy.meter_readings");
  Client c(server_->port());
  c.Request("POST", "/v1/streams/energy.meter_readings/records", token,
            std::string(100 << 10, 'x'));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(nlohmann::json::parse(r->body)["error"]["code"], "body-too-large");
  EXPECT_TRUE(c.ClosedByServer());
}

TEST_F(HttpServerTest, OversizedHeadersAre431) {
  Client c(server_->port());
  c.Request("GET", "/healthz", "", "", "X-Big: " + std::string(10 << 10, 'a') + "\r\n");
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 431);
}

TEST_F(HttpServerTest, HostileTargetsAre400) {
  for (const std::string target :
       {"/public/%zz", "/public/%0", "/public/a%00b", "/x?q=%0a", "*"}) {
    Client c(server_->port());
    c.Request("GET", target);
    auto r = c.Read();
    ASSERT_TRUE(r.has_value()) << target;
    EXPECT_EQ(r->status, 400) << target;
    EXPECT_TRUE(nlohmann::json::accept(r->body));
  }
  Client garbage(server_->port());
  garbage.Send("NOT HTTP AT ALL\r\n\r\n");
  auto r = garbage.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
}

TEST_F(HttpServerTest, NoTokenIs401AndSensorOnOtherStreamIs403) {
  Client c(server_->port());
  c.Request("POST", "/v1/streams/energy.meter_readings/records", "", MeterNdjson(1));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->headers["www-authenticate"], "Bearer");

  const std::string anpr = Issue("transport-dept", "traffic.anpr");
  c.Request("POST", "/v1/streams/energy.meter_readings/records", anpr, MeterNdjson(1));
  r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 403);
}

TEST_F(HttpServerTest, IngestedThenReadBackAsParty) {
  const std::string sensor = Issue("energy-utility", "energy.meter_readings");
  const std::string party = Issue("energy-utility");
  Client c(server_->port());
  c.Request("POST", "/v1/streams/energy.meter_readings/records", sensor, MeterNdjson(3));
  auto posted = c.Read();
  ASSERT_TRUE(posted.has_value());
  ASSERT_EQ(posted->status, 200) << posted->body;
  EXPECT_EQ(nlohmann::json::parse(posted->body)["accepted"], 3);

  c.Request("GET",
            "/v1/streams/energy.meter_readings/records?purpose=grid-planning&limit=2",
            party);
  auto page = c.Read();
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->status, 200) << page->body;
  EXPECT_EQ(page->headers["content-type"], "application/x-ndjson");
  EXPECT_EQ(std::count(page->body.begin(), page->body.end(), '\n'), 2);
  ASSERT_FALSE(page->headers["x-next-cursor"].empty());
  const std::string link = page->headers["link"];
  ASSERT_EQ(link.front(), '<');
  const std::string next = link.substr(1, link.find('>') - 1);
  c.Request("GET", next, party);
  auto rest = c.Read();
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(rest->status, 200) << rest->body;
  EXPECT_EQ(std::count(rest->body.begin(), rest->body.end(), '\n'), 1);
  EXPECT_EQ(rest->headers.count("x-next-cursor"), 0u);
}

TEST_F(HttpServerTest, DenialCarriesReasonCode) {
  const std::string party = Issue("transport-dept");
  Client c(server_->port());
  c.Request("GET", "/v1/streams/energy.meter_readings/records?purpose=grid-planning",
            party);
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(nlohmann::json::parse(r->body)["error"]["code"], "no-agreement");
}

TEST(HttpServerStandaloneTest, RejectsBadOptions) {
  auto echo = [](const HttpRequest&) { return HttpResponse{}; };
  HttpServerOptions o;
  o.listen = "127.0.0.1";
  EXPECT_TRUE(absl::IsInvalidArgument(HttpServer::Start(o, echo).status()));
  o.listen = "127.0.0.1:70000";
  EXPECT_TRUE(absl::IsInvalidArgument(HttpServer::Start(o, echo).status()));
  o.listen = "not-an-ip:0";
  EXPECT_TRUE(absl::IsInvalidArgument(HttpServer::Start(o, echo).status()));
  o.listen = "127.0.0.1:0";
  o.tls_cert_file = "/nonexistent/cert.pem";
  o.tls_key_file = "/nonexistent/key.pem";
  EXPECT_TRUE(absl::IsInvalidArgument(HttpServer::Start(o, echo).status()));
  auto parsed = ParseListenAddress("[::1]:8080");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->first, "::1");
  EXPECT_EQ(parsed->second, 8080);
}

TEST(HttpServerStandaloneTest, IdleConnectionIsClosedAfterTimeout) {
  HttpServerOptions o;
  o.listen = "127.0.0.1:0";
  o.idle_timeout = absl::Milliseconds(200);
  auto server = HttpServer::Start(o, [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_TRUE(server.ok());
  Client c((*server)->port());
  ASSERT_TRUE(c.connected());
  EXPECT_TRUE(c.ClosedByServer());
}

TEST(HttpServerStandaloneTest, ShutdownCompletesTheRequestInFlight) {
  absl::Notification started, release;
  HttpServerOptions o;
  o.listen = "127.0.0.1:0";
  auto server = HttpServer::Start(o, [&](const HttpRequest& r) {
    HttpResponse response;
    if (r.path == "/slow") {
      started.Notify();
      release.WaitForNotification();
      response.body = "{\"done\":true}";
    }
    return response;
  });
  ASSERT_TRUE(server.ok());
  const int port = (*server)->port();
  Client idle(port);  // an idle keep-alive connection is closed, not waited for
  Client busy(port);
  busy.Request("GET", "/slow");
  started.WaitForNotification();

  std::thread stopper([&] { (*server)->Shutdown(); });
  EXPECT_TRUE(idle.ClosedByServer());
  release.Notify();
  auto r = busy.Read();
  stopper.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"done\":true}");
  EXPECT_EQ(absl::AsciiStrToLower(r->headers["connection"]), "close");
  Client late(port);
  EXPECT_FALSE(late.connected());
}

TEST(HttpServerStandaloneTest, ServesOverTls) {
  const std::string data = PRIVACITY_TEST_DATA "/server/";
  HttpServerOptions o;
  o.listen = "127.0.0.1:0";
  o.tls_cert_file = data + "cert.pem";
  o.tls_key_file = data + "key.pem";
  auto server = HttpServer::Start(o, [](const HttpRequest& r) {
    HttpResponse response;
    response.body = "{\"path\":\"" + r.path + "\"}";
    return response;
  });
  ASSERT_TRUE(server.ok()) << server.status();
  Client tcp((*server)->port());
  ASSERT_TRUE(tcp.connected());

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_NE(ctx, nullptr);
  ASSERT_EQ(SSL_CTX_load_verify_locations(ctx, o.tls_cert_file.c_str(), nullptr), 1);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, tcp.fd());
  SSL_set1_host(ssl, "localhost");
  ASSERT_EQ(SSL_connect(ssl), 1);
  const std::string request =
      "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(SSL_write(ssl, request.data(), static_cast<int>(request.size())),
            static_cast<int>(request.size()));
  std::string response;
  char buf[4096];
  int n;
  while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
    response.append(buf, static_cast<size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  EXPECT_NE(response.find("{\"path\":\"/healthz\"}"), std::string::npos) << response;

  // Plain HTTP on the TLS port gets no HTTP answer.
  Client plain((*server)->port());
  plain.Request("GET", "/healthz");
  EXPECT_FALSE(plain.Read().has_value());
}

}  // namespace
}  // namespace privacity::server
