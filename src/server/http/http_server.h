// The HTTP/1.1 server: Boost.Beast over Asio, plain or TLS (OpenSSL). It
// turns each request into a server::HttpRequest, calls the handler on one of
// its worker threads, and writes the HttpResponse back. Beast stays inside
// http_server.cc; nothing else includes it.
//
// Connections are kept alive between requests. Limits: the body
// (max_body_bytes, 413), the header block (max_header_bytes, 431), and the
// idle or read time (idle_timeout; the connection is closed). A request
// whose target is not a valid percent-encoded path and query, or whose path
// decodes to control characters, is answered 400 without reaching the
// handler.
#ifndef PRIVACITY_SERVER_HTTP_HTTP_SERVER_H_
#define PRIVACITY_SERVER_HTTP_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/http_types.h"

namespace privacity::server {

struct HttpServerOptions {
  // "HOST:PORT"; HOST an IPv4 address, "[IPv6]" or "localhost"; PORT 0
  // picks a free port (see HttpServer::port()).
  std::string listen = "127.0.0.1:8080";
  // TLS when both are set (PEM files); neither means plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  size_t max_body_bytes = size_t{16} << 20;
  size_t max_header_bytes = size_t{8} << 10;
  absl::Duration idle_timeout = absl::Seconds(30);
  // How long Shutdown() waits for requests in flight before closing anyway.
  absl::Duration shutdown_grace = absl::Seconds(30);
  int threads = 0;  // 0 = one per hardware thread
  // The portal's static files (server/static_files.h); empty: none.
  std::string web_dir;
};

// Called concurrently from the worker threads; must be thread-safe and
// must not throw (an exception becomes a 500).
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  // Binds, listens and starts the worker threads. InvalidArgument for a
  // malformed address or unreadable TLS files; Unavailable when the address
  // cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpServerOptions& options, HttpHandler handler);
  ~HttpServer();  // Shutdown()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the real one when 0 was asked).
  int port() const;

  // Graceful stop: stops accepting, closes idle connections, lets requests
  // in flight finish (their responses carry Connection: close), then stops
  // the threads. Waits at most options.shutdown_grace for the requests.
  // Idempotent.
  void Shutdown();

  class Impl;  // private to http_server.cc

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Splits "HOST:PORT". InvalidArgument naming what is wrong.
absl::StatusOr<std::pair<std::string, int>> ParseListenAddress(std::string_view listen);

// SIGINT and SIGTERM delivered to a waiting thread instead of killing the
// process. Install() blocks both signals in the calling thread, so call it
// before any thread is started (threads inherit the mask); Wait() returns
// the signal that arrived.
class TerminationSignals {
 public:
  static absl::StatusOr<std::unique_ptr<TerminationSignals>> Install();
  int Wait();

 private:
  TerminationSignals() = default;
};

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_HTTP_HTTP_SERVER_H_
