#include "server/http/serve.h"

#include <memory>

#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace privacity::server {

absl::Status ServeUntilSignal(Trust& trust, const HttpServerOptions& options,
                              const std::function<void(int port)>& on_listening) {
  ASSIGN_OR_RETURN(std::unique_ptr<TerminationSignals> signals,
                   TerminationSignals::Install());
  ASSIGN_OR_RETURN(std::unique_ptr<ApiService> api,
                   ApiService::Create(trust, ApiOptions{}));
  ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> server,
                   HttpServer::Start(options, [&api](const HttpRequest& request) {
                     return api->Handle(request);
                   }));
  if (on_listening) on_listening(server->port());
  const int signal = signals->Wait();
  spdlog::info("signal {} received: finishing requests in flight", signal);
  server->Shutdown();
  spdlog::info("server stopped");
  return absl::OkStatus();
}

}  // namespace privacity::server
