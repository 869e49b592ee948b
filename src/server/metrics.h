// Counters of the HTTP API, rendered in the Prometheus text format
// (version 0.0.4). Labels are route patterns, status codes and stream ids
// from the config: bounded sets that never carry request values.
#ifndef PRIVACITY_SERVER_METRICS_H_
#define PRIVACITY_SERVER_METRICS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace privacity::server {

// Upper bounds (seconds) of the request latency histogram buckets.
inline constexpr std::array<double, 10> kLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5};

class Metrics {
 public:
  // Thread-safe. `route` is the matched route pattern ("unmatched" when
  // none matched).
  void RecordRequest(std::string_view method, std::string_view route, int status,
                     absl::Duration latency);
  void RecordIngest(std::string_view stream, int64_t accepted, int64_t rejected);
  // A request refused with 429; `scope` is "address" or "principal".
  void RecordRateLimited(std::string_view scope);

  // Text appended to every Render (another source's counters, such as the
  // MQTT subscriber's). Call before serving; not thread-safe.
  void AddSource(std::function<std::string()> render) {
    sources_.push_back(std::move(render));
  }

  // The exposition text. `store_records` are (stream, stored record count)
  // pairs read from the store by the caller.
  std::string Render(
      const std::vector<std::pair<std::string, int64_t>>& store_records) const;

 private:
  struct Histogram {
    std::array<int64_t, kLatencyBuckets.size()> buckets{};  // non-cumulative
    int64_t count = 0;
    double sum = 0;
  };
  mutable absl::Mutex mu_;
  // (method, route, status) -> requests
  std::map<std::tuple<std::string, std::string, int>, int64_t> requests_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, Histogram> latency_ ABSL_GUARDED_BY(mu_);  // by route
  std::map<std::string, std::pair<int64_t, int64_t>> ingest_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> rate_limited_ ABSL_GUARDED_BY(mu_);  // by scope
  std::vector<std::function<std::string()>> sources_;
};

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_METRICS_H_
