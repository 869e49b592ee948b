// The one place where a Status becomes an HTTP status and a JSON error body:
//   {"error":{"code":"<code>","message":"<message>"}}
// Messages come from Statuses, which by the project's rules name files,
// lines, fields and reasons but never values; server errors (5xx) carry a
// generic message only, so no path or internal detail leaves the trust.
#ifndef PRIVACITY_SERVER_ERROR_MAPPING_H_
#define PRIVACITY_SERVER_ERROR_MAPPING_H_

#include <string_view>

#include "absl/status/status.h"
#include "server/http_types.h"

namespace privacity::server {

// 400 InvalidArgument, OutOfRange; 401 Unauthenticated; 403 PermissionDenied;
// 404 NotFound; 409 AlreadyExists, Aborted; 422 FailedPrecondition;
// 429 ResourceExhausted; 503 Unavailable, DeadlineExceeded, Cancelled;
// 500 everything else.
int HttpStatusFor(absl::StatusCode code);

// A stable, lower-case, dash-separated code for `code` ("invalid-argument").
std::string_view ErrorCodeFor(absl::StatusCode code);

// The error body {"error":{"code":...,"message":...}}. Invalid UTF-8 in
// either string is replaced, never passed through.
std::string ErrorBody(std::string_view code, std::string_view message);

// A JSON error response with an explicit status and code (e.g. 413
// "body-too-large", or 403 with a policy reason code).
HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message);

// The response for a non-OK `status`: mapped status and code, and the
// status message (a generic one for 5xx). A 401 also carries
// `WWW-Authenticate: Bearer`.
// REQUIRES: !status.ok().
HttpResponse ErrorResponse(const absl::Status& status);

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_ERROR_MAPPING_H_
