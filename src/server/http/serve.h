// Serving the trust over HTTP until the process is told to stop: the one
// entry point of `privacity serve` and `privacity demo`.
#ifndef PRIVACITY_SERVER_HTTP_SERVE_H_
#define PRIVACITY_SERVER_HTTP_SERVE_H_

#include <functional>

#include "absl/status/status.h"
#include "server/http/http_server.h"
#include "server/routes.h"
#include "server/trust.h"

namespace privacity::server {

// Blocks SIGINT and SIGTERM (so call it before starting other threads),
// registers the core routes over `trust`, starts the server, calls
// `on_listening` with the bound port, and waits for SIGINT or SIGTERM. Then
// stops gracefully: no new connections, requests in flight finish. Returns
// OK after a signal; the caller then closes the trust (and its store).
// Whether the retention sweeper runs while serving. The demo city's data is
// historical (2013), so its retention would delete it at once: the demo
// turns sweeps off.
enum class RetentionSweeps { kRun, kOff };

absl::Status ServeUntilSignal(Trust& trust, const HttpServerOptions& options,
                              const std::function<void(int port)>& on_listening,
                              RetentionSweeps sweeps = RetentionSweeps::kRun);

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_HTTP_SERVE_H_
