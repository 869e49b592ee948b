// The portal's static files (web/dist, built by Vite), served by `privacity
// serve` and `privacity demo` beside the API. Only GET and HEAD of paths
// outside the API (/v1/, /public/, /log/, /healthz, /metrics,
// /openapi.json) reach it. Paths are confined to the directory: "..",
// backslashes, NUL and symlinks leading out are refused.
#ifndef PRIVACITY_SERVER_STATIC_FILES_H_
#define PRIVACITY_SERVER_STATIC_FILES_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/http_types.h"

namespace privacity::server {

class StaticFiles {
 public:
  // NotFound unless `dir` holds an index.html.
  static absl::StatusOr<std::unique_ptr<StaticFiles>> Open(const std::string& dir);

  // Whether `request` is for the portal rather than the API.
  static bool Handles(const HttpRequest& request);

  // The file, with its content type and cache and security headers: "/"
  // is index.html; hashed assets (assets/) are immutable; 404 when absent.
  HttpResponse Serve(const HttpRequest& request) const;

  const std::string& root() const { return root_; }

 private:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}
  std::string root_;  // canonical
};

// The built portal found from the running binary (<build>/.. or its
// parents' web/dist) or the working directory (web/dist); "" when none.
std::string FindWebDir();

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_STATIC_FILES_H_
