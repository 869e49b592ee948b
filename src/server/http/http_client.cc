#include "server/http/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace privacity::server {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

constexpr size_t kMaxHeaderBytes = size_t{64} << 10;

bool HasControlOrSpace(std::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool HasCrLf(std::string_view s) {
  return s.find('\r') != std::string_view::npos || s.find('\n') != std::string_view::npos;
}

// For error messages: scheme, host, port and path, never the query (it may
// carry a token).
std::string Redacted(const ParsedUrl& url) {
  const size_t q = url.target.find('?');
  return absl::StrCat(url.scheme == ParsedUrl::Scheme::kHttps ? "https" : "http", "://",
                      url.host.find(':') != std::string::npos
                          ? absl::StrCat("[", url.host, "]")
                          : url.host,
                      ":", url.port, url.target.substr(0, q));
}

// Runs one request over an established-on-demand stream. Everything is
// asynchronous on a private io_context so one timer can bound it all; the
// calling thread runs the context until the chain ends.
class Exchange {
 public:
  Exchange(const ParsedUrl& url, const HttpClientOptions& options)
      : url_(url), options_(options), resolver_(ioc_), timer_(ioc_) {}

  absl::StatusOr<HttpClientResponse> Run(http::request<http::string_body> request) {
    request_ = std::move(request);
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(kMaxHeaderBytes));
    parser_->body_limit(options_.max_response_bytes);

    if (url_.scheme == ParsedUrl::Scheme::kHttps)
      RETURN_IF_ERROR(SetUpTls());
    else
      plain_.emplace(ioc_);

    const auto deadline =
        std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(options_.timeout);
    timer_.expires_at(deadline);
    timer_.async_wait([this](beast::error_code ec) {
      if (ec) return;  // cancelled: the exchange ended first
      timed_out_ = true;
      resolver_.cancel();
      beast::error_code ignored;
      if (plain_.has_value()) plain_->socket().close(ignored);
      if (tls_ != nullptr) beast::get_lowest_layer(*tls_).socket().close(ignored);
    });
    resolver_.async_resolve(url_.host, std::to_string(url_.port),
                            [this](beast::error_code ec, tcp::resolver::results_type r) {
                              OnResolve(ec, std::move(r));
                            });
    ioc_.run();
    if (!status_.ok()) return status_;
    HttpClientResponse out;
    auto& message = parser_->get();
    out.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      std::string name = absl::AsciiStrToLower(
          absl::string_view(field.name_string().data(), field.name_string().size()));
      std::string value(field.value().data(), field.value().size());
      auto [it, inserted] = out.headers.emplace(std::move(name), value);
      if (!inserted) absl::StrAppend(&it->second, ", ", value);
    }
    out.body = std::move(message.body());
    return out;
  }

 private:
  absl::Status SetUpTls() {
    ssl_ctx_.emplace(ssl::context::tls_client);
    beast::error_code ec;
    ssl_ctx_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                              ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                              ssl::context::no_tlsv1_1,
                          ec);
    if (options_.ca_file.empty()) {
      ssl_ctx_->set_default_verify_paths(ec);
      if (ec) return absl::InternalError("cannot load the system's trusted certificates");
    } else {
      ssl_ctx_->load_verify_file(options_.ca_file, ec);
      if (ec) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot load the CA file ", options_.ca_file));
      }
    }
    ssl_ctx_->set_verify_mode(ssl::verify_peer, ec);
    tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, *ssl_ctx_);
    SSL* handle = tls_->native_handle();
    beast::error_code addr_ec;
    net::ip::make_address(url_.host, addr_ec);
    if (!addr_ec) {
      // An IP literal: the certificate must name the address; no SNI.
      if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), url_.host.c_str()) != 1) {
        return absl::InvalidArgumentError("https: the IP address cannot be checked");
      }
    } else {
      if (SSL_set_tlsext_host_name(handle, url_.host.c_str()) != 1 ||
          SSL_set1_host(handle, url_.host.c_str()) != 1) {
        return absl::InvalidArgumentError("https: the host name cannot be checked");
      }
    }
    return absl::OkStatus();
  }

  tcp::socket& Socket() {
    return plain_.has_value() ? plain_->socket()
                              : beast::get_lowest_layer(*tls_).socket();
  }

  void Finish(absl::Status status) {
    if (status_.ok()) status_ = std::move(status);
    timer_.cancel();
    beast::error_code ignored;
    Socket().close(ignored);
  }

  // The error for a failed step; the deadline wins over the abort it caused.
  absl::Status StepError(std::string_view step, beast::error_code ec) {
    if (timed_out_) {
      return absl::DeadlineExceededError(absl::StrCat(
          Redacted(url_), ": no complete response within ",
          absl::FormatDuration(options_.timeout), " (while ", std::string(step), ")"));
    }
    return absl::UnavailableError(
        absl::StrCat(Redacted(url_), ": ", std::string(step), " failed: ", ec.message()));
  }

  void OnResolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return Finish(StepError("resolving the host", ec));
    auto on_connect = [this](beast::error_code ec, const tcp::endpoint&) {
      OnConnect(ec);
    };
    if (plain_.has_value()) {
      plain_->async_connect(results, on_connect);
    } else {
      beast::get_lowest_layer(*tls_).async_connect(results, on_connect);
    }
  }

  void OnConnect(beast::error_code ec) {
    if (ec) return Finish(StepError("connecting", ec));
    if (plain_.has_value()) return Write(*plain_);
    tls_->async_handshake(ssl::stream_base::client, [this](beast::error_code ec) {
      if (ec) {
        const long verify = SSL_get_verify_result(tls_->native_handle());
        if (!timed_out_ && verify != X509_V_OK) {
          return Finish(absl::UnavailableError(
              absl::StrCat(Redacted(url_), ": the server's certificate does not verify: ",
                           X509_verify_cert_error_string(verify))));
        }
        return Finish(StepError("the TLS handshake", ec));
      }
      Write(*tls_);
    });
  }

  template <typename Stream>
  void Write(Stream& stream) {
    http::async_write(stream, request_, [this, &stream](beast::error_code ec, size_t) {
      if (ec) return Finish(StepError("sending the request", ec));
      // The header first: Boost 1.74's response parser can miss its own
      // body limit when the body arrives with the header, so the declared
      // Content-Length is checked here too.
      http::async_read_header(
          stream, buffer_, *parser_, [this, &stream](beast::error_code ec, size_t) {
            if (!ec && parser_->content_length().has_value() &&
                *parser_->content_length() > options_.max_response_bytes) {
              ec = http::error::body_limit;
            }
            if (ec) return OnRead(ec);
            http::async_read(stream, buffer_, *parser_,
                             [this](beast::error_code ec, size_t) { OnRead(ec); });
          });
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Finish(absl::ResourceExhaustedError(
          absl::StrCat(Redacted(url_), ": the response body exceeds ",
                       options_.max_response_bytes, " bytes")));
    }
    if (ec == http::error::header_limit) {
      return Finish(absl::ResourceExhaustedError(absl::StrCat(
          Redacted(url_), ": the response headers exceed ", kMaxHeaderBytes, " bytes")));
    }
    if (ec) return Finish(StepError("reading the response", ec));
    Finish(absl::OkStatus());
  }

  const ParsedUrl& url_;
  const HttpClientOptions& options_;
  net::io_context ioc_;
  tcp::resolver resolver_;
  net::steady_timer timer_;
  std::optional<ssl::context> ssl_ctx_;
  std::optional<beast::tcp_stream> plain_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool timed_out_ = false;
  absl::Status status_;
};

absl::StatusOr<HttpClientResponse> Fetch(std::string_view url, http::verb method,
                                         std::string_view body,
                                         std::string_view content_type,
                                         const HttpClientOptions& options) {
  ASSIGN_OR_RETURN(const ParsedUrl parsed, ParseHttpUrl(url));
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the HTTP client timeout must be positive");
  }
  http::request<http::string_body> request(method, parsed.target, 11);
  const bool default_port =
      parsed.port == (parsed.scheme == ParsedUrl::Scheme::kHttps ? 443 : 80);
  std::string host = parsed.host.find(':') != std::string::npos
                         ? absl::StrCat("[", parsed.host, "]")
                         : parsed.host;
  if (!default_port) absl::StrAppend(&host, ":", parsed.port);
  request.set(http::field::host, host);
  request.set(http::field::user_agent, "privacity");
  request.set(http::field::connection, "close");
  for (const auto& [name, value] : options.headers) {
    if (name.empty() || HasControlOrSpace(name) || HasCrLf(value)) {
      return absl::InvalidArgumentError(
          "an extra HTTP header has an empty name, or control characters");
    }
    request.set(name, value);
  }
  if (method == http::verb::post) {
    if (HasCrLf(content_type)) {
      return absl::InvalidArgumentError("the Content-Type holds a line break");
    }
    request.set(http::field::content_type, std::string(content_type));
    request.body() = std::string(body);
    request.prepare_payload();
  }
  try {
    Exchange exchange(parsed, options);
    return exchange.Run(std::move(request));
  } catch (const std::exception& e) {
    // Asio reports some resource failures (e.g. no file descriptors) by
    // throwing; nothing may escape.
    return absl::UnavailableError(
        absl::StrCat(Redacted(parsed), ": the HTTP client failed: ", e.what()));
  }
}

}  // namespace

absl::StatusOr<ParsedUrl> ParseHttpUrl(std::string_view url) {
  ParsedUrl out;
  std::string_view rest;
  const size_t colon = url.find("://");
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError("the URL must start with http:// or https://");
  }
  const std::string scheme = absl::AsciiStrToLower(std::string(url.substr(0, colon)));
  if (scheme == "http") {
    out.scheme = ParsedUrl::Scheme::kHttp;
    out.port = 80;
  } else if (scheme == "https") {
    out.scheme = ParsedUrl::Scheme::kHttps;
    out.port = 443;
  } else {
    return absl::InvalidArgumentError("the URL scheme must be http or https");
  }
  rest = url.substr(colon + 3);
  if (const size_t hash = rest.find('#'); hash != std::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  if (HasControlOrSpace(rest)) {
    return absl::InvalidArgumentError("the URL holds spaces or control characters");
  }
  const size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  std::string target = slash == std::string_view::npos ? std::string("/")
                                                       : std::string(rest.substr(slash));
  if (target.front() == '?') target.insert(target.begin(), '/');
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "the URL must not carry user information (user@host)");
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("the URL's IPv6 address lacks its closing ']'");
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return absl::InvalidArgumentError(
            "the URL has characters after the IPv6 address");
      }
      port = after.substr(1);
      if (port.empty()) return absl::InvalidArgumentError("the URL's port is empty");
    }
  } else if (const size_t c = authority.rfind(':'); c != std::string_view::npos) {
    host = authority.substr(0, c);
    port = authority.substr(c + 1);
    if (port.empty()) return absl::InvalidArgumentError("the URL's port is empty");
  }
  if (host.empty()) return absl::InvalidArgumentError("the URL has no host");
  if (!port.empty()) {
    int value = 0;
    if (port.size() > 5 || !absl::SimpleAtoi(std::string(port), &value) || value < 1 ||
        value > 65535 || !absl::ascii_isdigit(static_cast<unsigned char>(port.front()))) {
      return absl::InvalidArgumentError(
          "the URL's port must be a number from 1 to 65535");
    }
    out.port = value;
  }
  out.host = std::string(host);
  out.target = std::move(target);
  return out;
}

absl::StatusOr<HttpClientResponse> HttpGet(std::string_view url,
                                           const HttpClientOptions& options) {
  return Fetch(url, http::verb::get, {}, {}, options);
}

absl::StatusOr<HttpClientResponse> HttpPost(std::string_view url, std::string_view body,
                                            std::string_view content_type,
                                            const HttpClientOptions& options) {
  return Fetch(url, http::verb::post, body, content_type, options);
}

absl::StatusOr<std::string> HttpGetOk(std::string_view url,
                                      const HttpClientOptions& options) {
  ASSIGN_OR_RETURN(HttpClientResponse response, HttpGet(url, options));
  if (response.status == 200) return std::move(response.body);
  ASSIGN_OR_RETURN(const ParsedUrl parsed, ParseHttpUrl(url));
  const std::string what =
      absl::StrCat(Redacted(parsed), " answered HTTP ", response.status);
  if (response.status == 404) return absl::NotFoundError(what);
  if (response.status >= 300 && response.status < 400) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " (a redirect; redirects are not followed)"));
  }
  return absl::UnavailableError(what);
}

}  // namespace privacity::server
