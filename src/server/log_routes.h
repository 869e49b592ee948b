// The transparency log over HTTP, as transport-independent handlers (one
// per route) so the HTTP server registers each in one line:
//   GET /log/checkpoint                      the latest signed checkpoint
//   GET /log/key                             the note verifier key
//   GET /log/tile/<L>/<N>[.p/<W>]            hash tiles   (C2SP tlog-tiles)
//   GET /log/tile/entries/<N>[.p/<W>]        entry bundles
//   GET /log/proof/inclusion?index=I[&size=N]
//   GET /log/proof/consistency?from=M&to=N
// Tiles and proofs default to the tree of the latest checkpoint, so what a
// client fetches always matches a signed head. Full tiles never change and
// are served with immutable-cache headers. Errors are JSON
// {"error":"<reason>"} with 400 (bad parameters), 404 (no such tile, no
// checkpoint yet) or 500.
#ifndef PRIVACITY_SERVER_LOG_ROUTES_H_
#define PRIVACITY_SERVER_LOG_ROUTES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "audit/log_storage.h"
#include "server/audit_trail.h"
#include "server/http_types.h"

namespace privacity::server {

HttpResponse HandleLogCheckpoint(AuditTrail& trail, const HttpRequest& request);
HttpResponse HandleLogKey(AuditTrail& trail, const HttpRequest& request);
// request.path is "/log/tile/..." (or "tile/...").
HttpResponse HandleLogTile(AuditTrail& trail, const HttpRequest& request);
HttpResponse HandleLogInclusionProof(AuditTrail& trail, const HttpRequest& request);
HttpResponse HandleLogConsistencyProof(AuditTrail& trail, const HttpRequest& request);

// The proofs as JSON in the layout `privacity log check-proof` reads
// (audit/proof_check.h), from `storage`:
//   {"leafIdx":I,"treeSize":N,"root":"..","leafHash":"..","proof":[..]}
//   {"size1":M,"size2":N,"root1":"..","root2":"..","proof":[..]}
// Hashes in standard base64. InvalidArgument / OutOfRange for an index or
// size beyond the stored log.
absl::StatusOr<std::string> InclusionProofJson(audit::LogStorage& storage, uint64_t index,
                                               uint64_t tree_size);
absl::StatusOr<std::string> ConsistencyProofJson(audit::LogStorage& storage,
                                                 uint64_t size1, uint64_t size2);

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_LOG_ROUTES_H_
