// A small blocking HTTP/1.1 client for fetching public documents: a
// transparency log's checkpoint and tiles (`privacity log verify --url`), an
// identity provider's JWKS. Boost.Beast stays inside http_client.cc.
//
// One request per call, on a fresh connection (`Connection: close`):
// - http:// and https:// URLs. For https the server certificate is verified
//   (chain and host name, or IP address for an IP literal) against the
//   system's trust store, or against `ca_file` alone when it is set; TLS 1.2
//   is the minimum.
// - One deadline (`timeout`) bounds the whole call: name resolution,
//   connect, TLS handshake, writing and reading.
// - The response (status line, headers and body) is capped; a larger one is
//   an error, never silently truncated.
// - Redirects are NOT followed: a 3xx comes back as a response like any
//   other, with its Location header, so the caller decides whether a
//   different origin is acceptable.
// Every failure is a Status (no exceptions leave this file):
//   InvalidArgument     the URL or the options are malformed
//   Unavailable         resolution, connection, TLS (including a certificate
//                       that does not verify) or a malformed/truncated response
//   DeadlineExceeded    the deadline passed
//   ResourceExhausted   the response exceeds max_response_bytes
// A response with any status code is OK here; HttpGetOk turns anything but
// 200 into an error.
#ifndef PRIVACITY_SERVER_HTTP_HTTP_CLIENT_H_
#define PRIVACITY_SERVER_HTTP_HTTP_CLIENT_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace privacity::server {

struct HttpClientOptions {
  // Bounds the whole call.
  absl::Duration timeout = absl::Seconds(10);
  // Cap on the response body; the header block is capped at 64 KiB apart.
  size_t max_response_bytes = size_t{8} << 20;
  // PEM file of trusted CA certificates for https. Empty: the system store.
  // When set, ONLY these are trusted (a private CA or a pinned self-signed
  // certificate), the system store is not consulted.
  std::string ca_file;
  // Extra request headers (e.g. Accept, Authorization). Names and values
  // must not hold CR or LF.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  // The value of a header by its lower-case name; empty when absent.
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// GET `url`. See the file comment for the errors.
absl::StatusOr<HttpClientResponse> HttpGet(std::string_view url,
                                           const HttpClientOptions& options);

// POST `body` with the given Content-Type to `url`.
absl::StatusOr<HttpClientResponse> HttpPost(std::string_view url, std::string_view body,
                                            std::string_view content_type,
                                            const HttpClientOptions& options);

// GET `url` and return the body of a 200 response. Any other status is an
// error naming it (NotFound for 404, FailedPrecondition for a redirect,
// Unavailable otherwise).
absl::StatusOr<std::string> HttpGetOk(std::string_view url,
                                      const HttpClientOptions& options);

// The parts of an http(s) URL, as HttpGet understands it. Exposed for tests
// and for callers that build URLs relative to a base.
struct ParsedUrl {
  enum class Scheme { kHttp, kHttps };
  Scheme scheme = Scheme::kHttp;
  std::string host;    // without brackets for IPv6 literals
  int port = 0;        // the scheme's default when the URL names none
  std::string target;  // path and query, starting with '/'
};

// InvalidArgument naming what is wrong: no or another scheme, user info
// ("user@host"), an empty host, a bad port, spaces or control characters.
// A fragment ("#...") is dropped.
absl::StatusOr<ParsedUrl> ParseHttpUrl(std::string_view url);

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_HTTP_HTTP_CLIENT_H_
