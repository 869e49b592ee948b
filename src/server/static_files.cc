#include "server/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include "server/error_mapping.h"

namespace privacity::server {
namespace {

namespace fs = std::filesystem;

constexpr uintmax_t kMaxFileBytes = uintmax_t{32} << 20;

// Leaflet and uPlot set inline styles; nothing else is allowed from
// anywhere but this origin (no tile servers, no third parties).
constexpr char kCsp[] =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

std::string_view ContentType(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

absl::StatusOr<std::unique_ptr<StaticFiles>> StaticFiles::Open(const std::string& dir) {
  std::error_code ec;
  const fs::path root = fs::canonical(dir, ec);
  if (ec || !fs::is_regular_file(root / "index.html", ec)) {
    return absl::NotFoundError("the web directory has no index.html (build web/ first)");
  }
  return std::unique_ptr<StaticFiles>(new StaticFiles(root.string()));
}

bool StaticFiles::Handles(const HttpRequest& r) {
  if (r.method != "GET" && r.method != "HEAD") return false;
  const std::string& p = r.path;
  return !(StartsWith(p, "/v1/") || StartsWith(p, "/public/") || StartsWith(p, "/log/") ||
           p == "/v1" || p == "/public" || p == "/log" || p == "/healthz" ||
           p == "/metrics" || p == "/openapi.json");
}

HttpResponse StaticFiles::Serve(const HttpRequest& r) const {
  std::string rel = r.path == "/" || r.path.empty() ? "index.html" : r.path.substr(1);
  if (rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos) {
    return ErrorResponse(400, "bad-path", "the path has a forbidden character");
  }
  const fs::path requested = fs::path(rel).lexically_normal();
  if (requested.empty() || requested.is_absolute() || *requested.begin() == "..") {
    return ErrorResponse(404, "not-found", "no such file");
  }
  std::error_code ec;
  const fs::path full = fs::weakly_canonical(fs::path(root_) / requested, ec);
  const std::string full_s = full.string();
  if (ec || !StartsWith(full_s, root_ + "/") || !fs::is_regular_file(full, ec) ||
      fs::file_size(full, ec) > kMaxFileBytes) {
    return ErrorResponse(404, "not-found", "no such file");
  }
  std::ifstream in(full, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  if (!in.good() && !in.eof())
    return ErrorResponse(500, "internal", "cannot read the file");
  HttpResponse resp;
  resp.content_type = std::string(ContentType(full));
  if (r.method != "HEAD") resp.body = body.str();
  const bool hashed = StartsWith(requested.string(), "assets/");
  resp.headers.emplace_back("Cache-Control",
                            hashed ? "public, max-age=31536000, immutable" : "no-cache");
  resp.headers.emplace_back("Content-Security-Policy", kCsp);
  resp.headers.emplace_back("X-Content-Type-Options", "nosniff");
  resp.headers.emplace_back("Referrer-Policy", "no-referrer");
  return resp;
}

std::string FindWebDir() {
  std::error_code ec;
  const fs::path relative = fs::path("web") / "dist";
  if (fs::is_regular_file(relative / "index.html", ec)) return relative.string();
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (int up = 0; !ec && up < 5 && !dir.empty(); ++up, dir = dir.parent_path()) {
    if (fs::is_regular_file(dir / relative / "index.html", ec))
      return (dir / relative).string();
    // An installed layout: <prefix>/bin/privacity and <prefix>/share/privacity/web.
    if (fs::is_regular_file(dir / "share" / "privacity" / "web" / "index.html", ec)) {
      return (dir / "share" / "privacity" / "web").string();
    }
  }
  return "";
}

}  // namespace privacity::server
