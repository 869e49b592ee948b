#include "server/http/http_server.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "server/error_mapping.h"
#include "spdlog/spdlog.h"

namespace privacity::server {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and '+' as a space when `plus_is_space`, for query
// strings). nullopt on a truncated or non-hex escape.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

bool HasControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Fills `out` from the request line and headers; a message for a 400
// otherwise (it never echoes the target).
std::optional<std::string> ConvertTarget(std::string_view target, HttpRequest& out) {
  if (target.empty() || target.front() != '/') return "the request target must be a path";
  const size_t q = target.find('?');
  std::optional<std::string> path = PercentDecode(target.substr(0, q), false);
  if (!path.has_value()) return "the path holds a malformed percent escape";
  if (HasControl(*path)) return "the path holds control characters";
  out.path = *std::move(path);
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    std::optional<std::string> key = PercentDecode(part.substr(0, eq), true);
    std::optional<std::string> value = PercentDecode(
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1), true);
    if (!key.has_value() || !value.has_value()) {
      return "the query string holds a malformed percent escape";
    }
    if (HasControl(*key) || HasControl(*value))
      return "the query string holds control characters";
    out.query[*std::move(key)] = *std::move(value);
  }
  return std::nullopt;
}

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void RequestStop() = 0;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(const HttpServerOptions& options, HttpHandler handler, int threads)
      : options_(options),
        handler_(std::move(handler)),
        threads_count_(threads),
        ioc_(threads),
        acceptor_(net::make_strand(ioc_)) {}

  ~Impl() { Shutdown(); }

  absl::Status Listen(const std::string& host, int port) {
    beast::error_code ec;
    net::ip::address address;
    if (host == "localhost") {
      address = net::ip::address_v4::loopback();
    } else {
      address = net::ip::make_address(host, ec);
      if (ec)
        return absl::InvalidArgumentError(
            "listen address: the host is not an IP address");
    }
    const tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options_.listen, ": ", ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    return absl::OkStatus();
  }

  absl::Status SetUpTls() {
    if (options_.tls_cert_file.empty() && options_.tls_key_file.empty())
      return absl::OkStatus();
    if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
      return absl::InvalidArgumentError("TLS needs both a certificate and a key file");
    }
    ssl_.emplace(ssl::context::tls_server);
    beast::error_code ec;
    ssl_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                      ec);
    if (!ec) ssl_->use_certificate_chain_file(options_.tls_cert_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load the TLS certificate ", options_.tls_cert_file));
    }
    ssl_->use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load the TLS key ", options_.tls_key_file));
    }
    return absl::OkStatus();
  }

  void Run() {
    DoAccept();
    for (int i = 0; i < threads_count_; ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
  }

  void Shutdown() {
    if (shut_down_.exchange(true)) return;
    stopping_.store(true);
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      absl::MutexLock lock(&mu_);
      for (auto& [id, weak] : sessions_) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) s->RequestStop();
    live.clear();
    {
      absl::MutexLock lock(&mu_);
      auto drained = [this]()
                         ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return sessions_.empty(); };
      if (!mu_.AwaitWithTimeout(absl::Condition(&drained), options_.shutdown_grace)) {
        spdlog::warn("shutdown: {} connections still open after the grace period",
                     sessions_.size());
      }
    }
    ioc_.stop();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  int port() const { return port_; }
  const HttpServerOptions& options() const { return options_; }
  bool stopping() const { return stopping_.load(); }

  HttpResponse Call(const HttpRequest& request) {
    try {
      return handler_(request);
    } catch (const std::exception& e) {
      spdlog::error("request handler threw: {}", e.what());
      return ErrorResponse(500, "internal", "internal error");
    }
  }

  uint64_t Register(std::weak_ptr<SessionBase> session) {
    absl::MutexLock lock(&mu_);
    const uint64_t id = next_session_++;
    sessions_.emplace(id, std::move(session));
    return id;
  }
  void Unregister(uint64_t id) {
    absl::MutexLock lock(&mu_);
    sessions_.erase(id);
  }

 private:
  void DoAccept();

  // Declared first so that sessions destroyed with ioc_ can still
  // unregister.
  absl::Mutex mu_;
  std::unordered_map<uint64_t, std::weak_ptr<SessionBase>> sessions_ ABSL_GUARDED_BY(mu_);
  uint64_t next_session_ ABSL_GUARDED_BY(mu_) = 1;
  const HttpServerOptions options_;
  HttpHandler handler_;
  const int threads_count_;
  std::optional<ssl::context> ssl_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> shut_down_{false};
  int port_ = 0;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
};

namespace {

// One connection. Stream is beast::tcp_stream or an ssl_stream over it. All
// handlers run on the connection's strand.
template <class Stream>
class Session final : public SessionBase,
                      public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(HttpServer::Impl& server, std::string remote, Args&&... args)
      : server_(server),
        remote_(std::move(remote)),
        stream_(std::forward<Args>(args)...) {}

  ~Session() override { server_.Unregister(id_); }

  void Start() {
    id_ = server_.Register(this->weak_from_this());
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->Lowest().expires_after(self->Timeout());
        self->stream_.async_handshake(ssl::stream_base::server,
                                      [self](beast::error_code ec) {
                                        if (ec) return self->Close();
                                        self->DoRead();
                                      });
      } else {
        self->DoRead();
      }
    });
  }

  void RequestStop() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->stop_requested_ = true;
      if (self->idle_) {
        beast::error_code ec;
        self->Lowest().socket().cancel(ec);
      }
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  std::chrono::nanoseconds Timeout() const {
    return absl::ToChronoNanoseconds(server_.options().idle_timeout);
  }

  void DoRead() {
    if (stop_requested_ || server_.stopping()) return Close();
    idle_ = true;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.options().max_header_bytes));
    parser_->body_limit(server_.options().max_body_bytes);
    Lowest().expires_after(Timeout());
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](
                                beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  bool SendLimitError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      Reply(ErrorResponse(413, "body-too-large",
                          absl::StrCat("the request body exceeds ",
                                       server_.options().max_body_bytes, " bytes")),
            11, false);
      return true;
    }
    if (ec == http::error::header_limit) {
      Reply(ErrorResponse(431, "headers-too-large",
                          absl::StrCat("the request headers exceed ",
                                       server_.options().max_header_bytes, " bytes")),
            11, false);
      return true;
    }
    return false;
  }

  void OnHeader(beast::error_code ec) {
    idle_ = false;
    if (ec) {
      if (SendLimitError(ec)) return;
      if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
          ec == beast::error::timeout || ec == net::error::eof ||
          ec == net::error::connection_reset) {
        return Close();
      }
      return Reply(ErrorResponse(400, "bad-request", "the request is not valid HTTP/1.1"),
                   11, false);
    }
    Lowest().expires_after(Timeout());
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       self->OnRead(ec);
                     });
  }

  void OnRead(beast::error_code ec) {
    if (ec) {
      if (SendLimitError(ec)) return;
      if (ec == beast::error::timeout || ec == net::error::eof ||
          ec == http::error::end_of_stream || ec == net::error::connection_reset ||
          ec == net::error::operation_aborted) {
        return Close();
      }
      return Reply(ErrorResponse(400, "bad-request", "the request is not valid HTTP/1.1"),
                   11, false);
    }
    http::request<http::string_body> req = parser_->release();
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    HttpRequest request;
    request.method = std::string(req.method_string());
    const beast::string_view target = req.target();
    if (std::optional<std::string> bad =
            ConvertTarget(std::string_view(target.data(), target.size()), request)) {
      return Reply(ErrorResponse(400, "bad-target", *bad), version, false);
    }
    for (const auto& field : req) {
      std::string name(field.name_string());
      absl::AsciiStrToLower(&name);
      std::string& slot = request.headers[name];
      if (!slot.empty()) slot += ", ";
      slot.append(field.value().data(), field.value().size());
    }
    request.body = std::move(req.body());
    request.remote_address = remote_;
    Reply(server_.Call(request), version, keep_alive);
  }

  void Reply(HttpResponse response, unsigned version, bool keep_alive) {
    keep_alive = keep_alive && !stop_requested_ && !server_.stopping();
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version);
    res->result(static_cast<unsigned>(response.status));
    res->set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) res->insert(name, value);
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    Lowest().expires_after(Timeout());
    http::async_write(
        stream_, *res,
        [self = this->shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
          if (ec || !keep_alive) return self->Close();
          self->DoRead();
        });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ec;
        self->Lowest().socket().close(ec);
      });
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      stream_.socket().close(ec);
    }
  }

  HttpServer::Impl& server_;
  const std::string remote_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  uint64_t id_ = 0;
  bool idle_ = false;
  bool stop_requested_ = false;
  bool closed_ = false;
};

}  // namespace

void HttpServer::Impl::DoAccept() {
  acceptor_.async_accept(
      net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
        if (!acceptor_.is_open() || stopping_.load()) return;
        if (ec) {
          spdlog::warn("accept failed: {}", ec.message());
        } else {
          beast::error_code ignored;
          const tcp::endpoint remote = socket.remote_endpoint(ignored);
          std::string address = ignored ? std::string() : remote.address().to_string();
          if (ssl_.has_value()) {
            std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
                *this, std::move(address), std::move(socket), *ssl_)
                ->Start();
          } else {
            std::make_shared<Session<beast::tcp_stream>>(*this, std::move(address),
                                                         std::move(socket))
                ->Start();
          }
        }
        DoAccept();
      });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Shutdown(); }
int HttpServer::port() const { return impl_->port(); }
void HttpServer::Shutdown() { impl_->Shutdown(); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpServerOptions& options, HttpHandler handler) {
  if (!handler) return absl::InvalidArgumentError("http server: no handler");
  if (options.max_body_bytes == 0 || options.max_header_bytes < 256 ||
      options.max_header_bytes > UINT32_MAX ||
      options.idle_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "http server: limits must be positive (header limit at least 256 bytes)");
  }
  absl::StatusOr<std::pair<std::string, int>> address =
      ParseListenAddress(options.listen);
  if (!address.ok()) return address.status();
  int threads = options.threads;
  if (threads <= 0)
    threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto impl = std::make_unique<Impl>(options, std::move(handler), threads);
  RETURN_IF_ERROR(impl->SetUpTls());
  RETURN_IF_ERROR(impl->Listen(address->first, address->second));
  impl->Run();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

absl::StatusOr<std::pair<std::string, int>> ParseListenAddress(std::string_view listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError("listen address: expected HOST:PORT");
  }
  std::string host(listen.substr(0, colon));
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return absl::InvalidArgumentError("listen address: unterminated [IPv6] host");
    }
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  const std::string_view port_text = listen.substr(colon + 1);
  if (!absl::SimpleAtoi(absl::string_view(port_text.data(), port_text.size()), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError("listen address: the port must be in [0, 65535]");
  }
  return std::make_pair(host, port);
}

absl::StatusOr<std::unique_ptr<TerminationSignals>> TerminationSignals::Install() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
    return absl::InternalError("cannot block SIGINT and SIGTERM");
  }
  return std::unique_ptr<TerminationSignals>(new TerminationSignals());
}

int TerminationSignals::Wait() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int signal = 0;
  while (sigwait(&set, &signal) != 0) {
  }
  return signal;
}

}  // namespace privacity::server
