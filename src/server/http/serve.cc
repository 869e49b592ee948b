#include "server/http/serve.h"

#include <memory>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "ingest/mqtt/mqtt_subscriber.h"
#include "server/audit_trail.h"
#include "server/dpia_routes.h"
#include "server/me_routes.h"
#include "server/static_files.h"
#include "spdlog/spdlog.h"

namespace privacity::server {

namespace {
constexpr absl::Duration kCheckpointInterval = absl::Seconds(5);
constexpr absl::Duration kDpiaPoll = absl::Minutes(1);
}  // namespace

absl::Status ServeUntilSignal(Trust& trust, const HttpServerOptions& options,
                              const std::function<void(int port)>& on_listening,
                              RetentionSweeps sweeps) {
  ASSIGN_OR_RETURN(std::unique_ptr<TerminationSignals> signals,
                   TerminationSignals::Install());
  ASSIGN_OR_RETURN(std::unique_ptr<ApiService> api,
                   ApiService::Create(trust, ApiOptions{}));
  std::unique_ptr<StaticFiles> web;
  if (!options.web_dir.empty()) {
    ASSIGN_OR_RETURN(web, StaticFiles::Open(options.web_dir));
    spdlog::info("serving the portal from {}", web->root());
  }
  // MQTT feeds, when city.yaml names a broker: each stored batch gets its
  // ingest leaf and is counted like an HTTP batch.
  std::unique_ptr<ingest::MqttSubscriber> mqtt;
  if (trust.config().mqtt.has_value()) {
    ingest::MqttSubscriberOptions mqtt_options;
    mqtt_options.log_ingest = [&trust](const config::Stream& stream) {
      return trust.audit().LoggerFor(stream.id);
    };
    mqtt_options.on_committed = [&api](const config::Stream& stream,
                                       const ingest::IngestSummary& summary) {
      api->metrics().RecordIngest(stream.id, summary.accepted, summary.rejected);
    };
    ASSIGN_OR_RETURN(mqtt, ingest::MqttSubscriber::Create(
                               trust.config(), trust.store(), trust.keyring(),
                               trust.random(), trust.clock(), std::move(mqtt_options)));
    api->metrics().AddSource([&mqtt] { return mqtt->MetricsText(); });
  }
  ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> server,
                   HttpServer::Start(options, [&api, &web](const HttpRequest& request) {
                     if (web != nullptr && StaticFiles::Handles(request)) {
                       return web->Serve(request);
                     }
                     return api->Handle(request);
                   }));
  if (mqtt != nullptr) RETURN_IF_ERROR(mqtt->Start());
  if (on_listening) on_listening(server->port());
  // A new checkpoint is signed every few seconds while the log grows; the
  // retention sweeper runs at start and then hourly (by the trust's clock).
  // At each tick, idle ingest pipelines drop their cached keys if a key was
  // destroyed or renamed (by any node) since they last checked.
  absl::Mutex mu;
  bool stopping = false;
  PeriodicSweeper sweeper(trust, kRetentionSweepInterval);
  std::thread checkpointer([&] {
    absl::MutexLock lock(&mu);
    while (!mu.AwaitWithTimeout(absl::Condition(&stopping), kCheckpointInterval)) {
      mu.Unlock();
      if (absl::Status s = sweeps == RetentionSweeps::kRun ? sweeper.MaybeSweep().status()
                                                           : absl::OkStatus();
          !s.ok()) {
        spdlog::error("retention sweep failed: {}", std::string(s.message()));
      }
      if (absl::Status s = trust.pipelines().DropStaleKeys(); !s.ok()) {
        spdlog::error("checking cached keys failed: {}", std::string(s.message()));
      }
      absl::StatusOr<std::string> signed_note = trust.audit().Checkpoint();
      if (!signed_note.ok()) {
        spdlog::error("signing a checkpoint failed: {}",
                      std::string(signed_note.status().message()));
      }
      mu.Lock();
    }
  });
  // The DPIA re-runs every dpia.interval (by the trust's clock).
  std::thread dpia_scheduler([&] {
    absl::MutexLock lock(&mu);
    do {
      mu.Unlock();
      if (absl::StatusOr<bool> ran = api->dpia().RunIfDue(); !ran.ok()) {
        spdlog::error("scheduled DPIA failed: {}", std::string(ran.status().message()));
      }
      mu.Lock();
    } while (!mu.AwaitWithTimeout(absl::Condition(&stopping), kDpiaPoll));
  });
  const int signal = signals->Wait();
  spdlog::info("signal {} received: finishing requests in flight", signal);
  server->Shutdown();
  if (mqtt != nullptr) {
    // Everything received is stored before the trust closes.
    if (absl::Status s = mqtt->Stop(); !s.ok()) {
      spdlog::error("mqtt: stopping: {}", std::string(s.message()));
    }
  }
  {
    absl::MutexLock lock(&mu);
    stopping = true;
  }
  checkpointer.join();
  dpia_scheduler.join();
  // The last requests' leaves are covered by a final checkpoint.
  if (absl::Status s = trust.audit().Checkpoint().status(); !s.ok()) {
    spdlog::error("signing the final checkpoint failed: {}", std::string(s.message()));
  }
  spdlog::info("server stopped");
  return absl::OkStatus();
}

}  // namespace privacity::server
