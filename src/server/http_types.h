// Transport-independent HTTP request and response, so route handlers can be
// written and tested without the network. The Boost.Beast server
// (server/http/) converts to and from these; nothing outside it includes
// Beast.
#ifndef PRIVACITY_SERVER_HTTP_TYPES_H_
#define PRIVACITY_SERVER_HTTP_TYPES_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace privacity::server {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // decoded path, without the query string
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string remote_address;  // for rate limiting; never logged with data

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_HTTP_TYPES_H_
