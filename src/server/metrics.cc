#include "server/metrics.h"

#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace privacity::server {
namespace {

// Label values are escaped as the text format asks (\\, \", \n).
std::string Label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double v) { return absl::StrFormat("%.9g", v); }

}  // namespace

void Metrics::RecordRequest(std::string_view method, std::string_view route, int status,
                            absl::Duration latency) {
  const double seconds = absl::ToDoubleSeconds(latency);
  absl::MutexLock lock(&mu_);
  ++requests_[{std::string(method), std::string(route), status}];
  Histogram& h = latency_[std::string(route)];
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::RecordIngest(std::string_view stream, int64_t accepted, int64_t rejected) {
  absl::MutexLock lock(&mu_);
  auto& counts = ingest_[std::string(stream)];
  counts.first += accepted;
  counts.second += rejected;
}

void Metrics::RecordRateLimited(std::string_view scope) {
  absl::MutexLock lock(&mu_);
  ++rate_limited_[std::string(scope)];
}

std::string Metrics::Render(
    const std::vector<std::pair<std::string, int64_t>>& store_records) const {
  std::string out;
  absl::MutexLock lock(&mu_);
  out +=
      "# HELP privacity_http_requests_total HTTP requests by method, route and status.\n"
      "# TYPE privacity_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [method, route, status] = key;
    absl::StrAppend(&out, "privacity_http_requests_total{method=\"", Label(method),
                    "\",route=\"", Label(route), "\",status=\"", status, "\"} ", n, "\n");
  }
  out +=
      "# HELP privacity_http_request_duration_seconds HTTP request latency by route.\n"
      "# TYPE privacity_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    int64_t cumulative = 0;
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      absl::StrAppend(&out, "privacity_http_request_duration_seconds_bucket{route=\"",
                      Label(route), "\",le=\"", Number(kLatencyBuckets[i]), "\"} ",
                      cumulative, "\n");
    }
    absl::StrAppend(&out, "privacity_http_request_duration_seconds_bucket{route=\"",
                    Label(route), "\",le=\"+Inf\"} ", h.count, "\n");
    absl::StrAppend(&out, "privacity_http_request_duration_seconds_sum{route=\"",
                    Label(route), "\"} ", Number(h.sum), "\n");
    absl::StrAppend(&out, "privacity_http_request_duration_seconds_count{route=\"",
                    Label(route), "\"} ", h.count, "\n");
  }
  out +=
      "# HELP privacity_ingest_records_total Records received over HTTP by stream and "
      "outcome.\n"
      "# TYPE privacity_ingest_records_total counter\n";
  for (const auto& [stream, counts] : ingest_) {
    absl::StrAppend(&out, "privacity_ingest_records_total{stream=\"", Label(stream),
                    "\",outcome=\"accepted\"} ", counts.first, "\n");
    absl::StrAppend(&out, "privacity_ingest_records_total{stream=\"", Label(stream),
                    "\",outcome=\"rejected\"} ", counts.second, "\n");
  }
  out +=
      "# HELP privacity_http_rate_limited_total Requests refused with 429 by limit "
      "scope.\n"
      "# TYPE privacity_http_rate_limited_total counter\n";
  for (const char* scope : {"address", "principal"}) {
    auto it = rate_limited_.find(std::string(scope));
    absl::StrAppend(&out, "privacity_http_rate_limited_total{scope=\"", scope, "\"} ",
                    it == rate_limited_.end() ? 0 : it->second, "\n");
  }
  out +=
      "# HELP privacity_store_records Records kept in the store by stream.\n"
      "# TYPE privacity_store_records gauge\n";
  for (const auto& [stream, n] : store_records) {
    absl::StrAppend(&out, "privacity_store_records{stream=\"", Label(stream), "\"} ", n,
                    "\n");
  }
  for (const auto& source : sources_) out += source();
  return out;
}

}  // namespace privacity::server
