// The DPIA (dpia/dpia.h) over the trust's stored data: the record source
// that opens stored payloads, the monitor that re-runs every stream's DPIA
// on a schedule and raises alerts (on /metrics and as dpia_alert leaves),
// and GET /public/dpia/{stream} in Markdown, HTML or JSON.
#ifndef PRIVACITY_SERVER_DPIA_ROUTES_H_
#define PRIVACITY_SERVER_DPIA_ROUTES_H_

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "dpia/dpia.h"
#include "server/routes.h"
#include "server/trust.h"

namespace privacity::server {

// Stored records of a stream with their payloads opened; records whose
// subject was erased are skipped.
class StoreRecordSource final : public dpia::RecordSource {
 public:
  // REQUIRES: `trust` outlives the source.
  explicit StoreRecordSource(Trust& trust) : trust_(trust) {}
  absl::Status Scan(
      const config::Stream& stream,
      const std::function<absl::Status(const dpia::StoredView&)>& fn) override;

 private:
  Trust& trust_;
};

enum class DpiaFormat { kJson, kMarkdown, kHtml };

// Runs DPIAs and keeps the latest report of each stream. Thread-safe.
class DpiaMonitor {
 public:
  // REQUIRES: `trust` outlives the monitor.
  explicit DpiaMonitor(Trust& trust) : trust_(trust) {}

  // The report of `stream`, re-run when the kept one is older than
  // `max_age` (by the trust's clock). NotFound for an unknown stream.
  absl::StatusOr<dpia::DpiaReport> Report(const std::string& stream,
                                          absl::Duration max_age);

  // Re-runs every stream's DPIA when the config's dpia.interval has passed
  // since the last run (always the first time). For each view, a p = 2
  // unicity or a k-share that rises above its threshold (from at or below
  // it, or from no earlier measure) appends a dpia_alert leaf. The last
  // measures are kept in store meta "dpia.last", so a rise across a restart
  // (say, a finer cell level in city.yaml) is caught too. Returns whether
  // it ran.
  absl::StatusOr<bool> RunIfDue();

  // Gauges for /metrics: privacity_dpia_unicity, privacity_dpia_k_share,
  // privacity_dpia_alert (1 while above the threshold), privacity_dpia_runs_total.
  std::string MetricsText() const;

 private:
  absl::StatusOr<dpia::DpiaReport> RunLocked(const config::Stream& stream)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Trust& trust_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::pair<absl::Time, dpia::DpiaReport>> reports_
      ABSL_GUARDED_BY(mu_);
  // (stream, view, measure) -> last value and whether it was above.
  std::map<std::tuple<std::string, std::string, std::string>, std::pair<double, bool>>
      last_ ABSL_GUARDED_BY(mu_);
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Time> last_run_ ABSL_GUARDED_BY(mu_);
  int64_t runs_ ABSL_GUARDED_BY(mu_) = 0;
};

// Renders a report.
std::string RenderDpia(const dpia::DpiaReport& report, DpiaFormat format);

// GET /public/dpia/{stream}: ?format=md|html|json, else by Accept
// (text/html, text/markdown), else JSON. Reports are at most 10 minutes
// old.
absl::Status AddDpiaRoutes(Router& router, std::shared_ptr<DpiaMonitor> monitor);

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_DPIA_ROUTES_H_
