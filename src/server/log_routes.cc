#include "server/log_routes.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "audit/checkpoint.h"
#include "audit/log.h"
#include "audit/merkle.h"
#include "audit/tiles.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace privacity::server {
namespace {

using json = nlohmann::ordered_json;

constexpr char kImmutable[] = "public, max-age=31536000, immutable";
constexpr char kNoCache[] = "no-cache";

HttpResponse ErrorResponse(const absl::Status& status) {
  HttpResponse response;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      response.status = 400;
      break;
    case absl::StatusCode::kNotFound:
      response.status = 404;
      break;
    default:
      response.status = 500;
      break;
  }
  // Log errors name sizes, indexes and tile paths only, never leaf content.
  response.body = json{{"error", std::string(status.message())}}.dump();
  response.headers.emplace_back("Cache-Control", kNoCache);
  return response;
}

HttpResponse TextResponse(std::string body, std::string content_type,
                          const char* cache_control) {
  HttpResponse response;
  response.content_type = std::move(content_type);
  response.body = std::move(body);
  response.headers.emplace_back("Cache-Control", cache_control);
  return response;
}

absl::Status CheckGet(const HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    return absl::InvalidArgumentError("log routes accept GET only");
  }
  return absl::OkStatus();
}

// The query parameter `name` as a decimal integer; nullopt when absent.
absl::StatusOr<std::optional<uint64_t>> QueryNumber(const HttpRequest& request,
                                                    const std::string& name) {
  auto it = request.query.find(name);
  if (it == request.query.end()) return std::nullopt;
  uint64_t value = 0;
  if (it->second.empty() || !absl::SimpleAtoi(it->second, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("query parameter '", name, "' must be a non-negative integer"));
  }
  return value;
}

// The size of the latest signed checkpoint: what tiles and proofs refer to
// by default.
absl::StatusOr<uint64_t> CheckpointSize(AuditTrail& trail) {
  ASSIGN_OR_RETURN(std::string note, trail.LatestCheckpoint());
  ASSIGN_OR_RETURN(audit::Checkpoint checkpoint,
                   audit::OpenCheckpoint(note, trail.verifier(), trail.origin()));
  return checkpoint.size;
}

absl::StatusOr<HttpResponse> Tile(AuditTrail& trail, const HttpRequest& request) {
  RETURN_IF_ERROR(CheckGet(request));
  absl::string_view path = request.path;
  if (absl::StartsWith(path, "/log/")) path.remove_prefix(5);
  ASSIGN_OR_RETURN(audit::TileId tile, audit::ParseTilePath(path));
  ASSIGN_OR_RETURN(uint64_t size, CheckpointSize(trail));
  ASSIGN_OR_RETURN(std::string bytes, audit::ReadTile(trail.storage(), size, tile));
  return TextResponse(std::move(bytes), "application/octet-stream",
                      tile.full() ? kImmutable : kNoCache);
}

absl::StatusOr<HttpResponse> Inclusion(AuditTrail& trail, const HttpRequest& request) {
  RETURN_IF_ERROR(CheckGet(request));
  ASSIGN_OR_RETURN(std::optional<uint64_t> index, QueryNumber(request, "index"));
  if (!index.has_value()) {
    return absl::InvalidArgumentError("query parameter 'index' is required");
  }
  ASSIGN_OR_RETURN(std::optional<uint64_t> size, QueryNumber(request, "size"));
  if (!size.has_value()) {
    ASSIGN_OR_RETURN(size, CheckpointSize(trail));
  }
  ASSIGN_OR_RETURN(std::string body, InclusionProofJson(trail.storage(), *index, *size));
  return TextResponse(std::move(body), "application/json", kNoCache);
}

absl::StatusOr<HttpResponse> Consistency(AuditTrail& trail, const HttpRequest& request) {
  RETURN_IF_ERROR(CheckGet(request));
  ASSIGN_OR_RETURN(std::optional<uint64_t> from, QueryNumber(request, "from"));
  if (!from.has_value())
    return absl::InvalidArgumentError("query parameter 'from' is required");
  ASSIGN_OR_RETURN(std::optional<uint64_t> to, QueryNumber(request, "to"));
  if (!to.has_value()) {
    ASSIGN_OR_RETURN(to, CheckpointSize(trail));
  }
  ASSIGN_OR_RETURN(std::string body, ConsistencyProofJson(trail.storage(), *from, *to));
  return TextResponse(std::move(body), "application/json", kNoCache);
}

HttpResponse Respond(const absl::StatusOr<HttpResponse>& response) {
  return response.ok() ? *response : ErrorResponse(response.status());
}

json Base64List(const std::vector<audit::Hash>& hashes) {
  json out = json::array();
  for (const audit::Hash& h : hashes) out.push_back(audit::HashToBase64(h));
  return out;
}

}  // namespace

absl::StatusOr<std::string> InclusionProofJson(audit::LogStorage& storage, uint64_t index,
                                               uint64_t tree_size) {
  if (index >= tree_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("index ", index, " is not below the tree size ", tree_size));
  }
  ASSIGN_OR_RETURN(std::vector<audit::Hash> proof,
                   audit::InclusionProof(storage, index, tree_size));
  ASSIGN_OR_RETURN(audit::Hash root, audit::RootAt(storage, tree_size));
  ASSIGN_OR_RETURN(audit::Hash leaf_hash, audit::LeafHashAt(storage, index));
  json out = json::object();
  out["leafIdx"] = index;
  out["treeSize"] = tree_size;
  out["root"] = audit::HashToBase64(root);
  out["leafHash"] = audit::HashToBase64(leaf_hash);
  out["proof"] = Base64List(proof);
  return out.dump();
}

absl::StatusOr<std::string> ConsistencyProofJson(audit::LogStorage& storage,
                                                 uint64_t size1, uint64_t size2) {
  if (size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat("size ", size1, " is larger than size ", size2));
  }
  ASSIGN_OR_RETURN(std::vector<audit::Hash> proof,
                   audit::ConsistencyProof(storage, size1, size2));
  ASSIGN_OR_RETURN(audit::Hash root1, audit::RootAt(storage, size1));
  ASSIGN_OR_RETURN(audit::Hash root2, audit::RootAt(storage, size2));
  json out = json::object();
  out["size1"] = size1;
  out["size2"] = size2;
  out["root1"] = audit::HashToBase64(root1);
  out["root2"] = audit::HashToBase64(root2);
  out["proof"] = Base64List(proof);
  return out.dump();
}

HttpResponse HandleLogCheckpoint(AuditTrail& trail, const HttpRequest& request) {
  if (absl::Status s = CheckGet(request); !s.ok()) return ErrorResponse(s);
  absl::StatusOr<std::string> note = trail.LatestCheckpoint();
  if (!note.ok()) return ErrorResponse(note.status());
  return TextResponse(*std::move(note), "text/plain; charset=utf-8", kNoCache);
}

HttpResponse HandleLogKey(AuditTrail& trail, const HttpRequest& request) {
  if (absl::Status s = CheckGet(request); !s.ok()) return ErrorResponse(s);
  return TextResponse(absl::StrCat(trail.VerifierKey(), "\n"),
                      "text/plain; charset=utf-8", kNoCache);
}

HttpResponse HandleLogTile(AuditTrail& trail, const HttpRequest& request) {
  return Respond(Tile(trail, request));
}

HttpResponse HandleLogInclusionProof(AuditTrail& trail, const HttpRequest& request) {
  return Respond(Inclusion(trail, request));
}

HttpResponse HandleLogConsistencyProof(AuditTrail& trail, const HttpRequest& request) {
  return Respond(Consistency(trail, request));
}

}  // namespace privacity::server
