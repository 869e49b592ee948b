#include "server/dpia_routes.h"

#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "audit/leaves.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "server/error_mapping.h"
#include "server/record_access.h"
#include "spdlog/spdlog.h"

namespace privacity::server {
namespace {

using nlohmann::json;

constexpr absl::Duration kRouteMaxAge = absl::Minutes(10);
constexpr char kLastKey[] = "dpia.last";

std::string ViewLabel(const dpia::ViewMeasures& v) {
  return v.agreement.empty() ? "stored" : v.agreement;
}

}  // namespace

absl::Status StoreRecordSource::Scan(
    const config::Stream& stream,
    const std::function<absl::Status(const dpia::StoredView&)>& fn) {
  PayloadOpener opener(trust_.keyring(), stream);
  store::RecordQuery query;
  query.stream = stream.id;
  return trust_.store().ScanRecords(
      query, [&](const store::StoredRecord& r) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<std::string> plaintext, opener.Open(r));
        if (!plaintext.has_value()) return absl::OkStatus();  // erased subject
        dpia::StoredView view;
        view.time_us = r.time_us;
        view.cell = r.cell;
        view.fields = json::parse(*plaintext, nullptr, /*allow_exceptions=*/false);
        if (!view.fields.is_object()) {
          return absl::DataLossError(
              absl::StrCat("record ", r.id, " has a corrupt payload"));
        }
        if (stream.personal()) {
          auto it = view.fields.find(stream.subject_field);
          if (it != view.fields.end() && it->is_string())
            view.pseudonym = it->get<std::string>();
        }
        return fn(view);
      });
}

absl::StatusOr<dpia::DpiaReport> DpiaMonitor::RunLocked(const config::Stream& stream) {
  StoreRecordSource source(trust_);
  ASSIGN_OR_RETURN(dpia::DpiaReport report,
                   dpia::RunDpia(trust_.config(), stream, source, trust_.random(),
                                 trust_.clock().Now()));
  reports_[stream.id] = {trust_.clock().Now(), report};
  return report;
}

absl::StatusOr<dpia::DpiaReport> DpiaMonitor::Report(const std::string& stream_id,
                                                     absl::Duration max_age) {
  const config::Stream* stream = trust_.config().FindStream(stream_id);
  if (stream == nullptr)
    return absl::NotFoundError("no stream of this name is configured");
  absl::MutexLock lock(&mu_);
  auto it = reports_.find(stream_id);
  if (it != reports_.end() && trust_.clock().Now() - it->second.first <= max_age) {
    return it->second.second;
  }
  return RunLocked(*stream);
}

absl::StatusOr<bool> DpiaMonitor::RunIfDue() {
  absl::MutexLock lock(&mu_);
  const config::CityConfig& config = trust_.config();
  const absl::Time now = trust_.clock().Now();
  if (last_run_.has_value() && now - *last_run_ < config.dpia.interval) return false;
  last_run_ = now;
  ++runs_;
  if (!loaded_) {
    ASSIGN_OR_RETURN(std::optional<std::string> stored, trust_.store().GetMeta(kLastKey));
    if (stored.has_value()) {
      const json j = json::parse(*stored, nullptr, /*allow_exceptions=*/false);
      if (j.is_array()) {
        for (const json& e : j) {
          if (!e.is_array() || e.size() != 5 || !e[0].is_string() || !e[1].is_string() ||
              !e[2].is_string() || !e[3].is_number() || !e[4].is_boolean()) {
            continue;
          }
          last_[{e[0], e[1], e[2]}] = {e[3].get<double>(), e[4].get<bool>()};
        }
      }
    }
    loaded_ = true;
  }
  for (const config::Stream& stream : config.streams) {
    ASSIGN_OR_RETURN(dpia::DpiaReport report, RunLocked(stream));
    for (const dpia::ViewMeasures& v : report.views) {
      std::vector<std::tuple<std::string, double, double>> measures;
      if (v.unicity_p2) {
        measures.emplace_back("unicity_p2", v.unicity_p2->unicity,
                              config.dpia.unicity_threshold);
      }
      if (v.k_share) {
        measures.emplace_back("k_share", v.k_share->share, config.dpia.k_share_threshold);
      }
      for (const auto& [measure, value, threshold] : measures) {
        const auto key = std::make_tuple(stream.id, ViewLabel(v), measure);
        auto prev = last_.find(key);
        const bool above = value > threshold;
        const bool rose = above && (prev == last_.end() || !prev->second.second);
        last_[key] = {value, above};
        if (!rose) continue;
        audit::DpiaAlertLeaf leaf;
        leaf.time = now;
        leaf.stream = stream.id;
        leaf.measure = measure;
        leaf.agreement = v.agreement;
        leaf.value = value;
        leaf.threshold = threshold;
        RETURN_IF_ERROR(trust_.audit().Append(leaf).status());
        spdlog::warn("dpia: {} of {} ({}) rose above its threshold", measure, stream.id,
                     ViewLabel(v));
      }
    }
  }
  json stored = json::array();
  for (const auto& [key, value] : last_) {
    stored.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), value.first,
                      value.second});
  }
  RETURN_IF_ERROR(trust_.store().PutMeta(kLastKey, stored.dump()));
  return true;
}

std::string DpiaMonitor::MetricsText() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  absl::StrAppend(&out, "# HELP privacity_dpia_runs_total Scheduled DPIA runs.\n",
                  "# TYPE privacity_dpia_runs_total counter\n",
                  "privacity_dpia_runs_total ", runs_, "\n");
  absl::StrAppend(
      &out,
      "# HELP privacity_dpia_unicity Share of traces singled out by p points.\n"
      "# TYPE privacity_dpia_unicity gauge\n");
  for (const auto& [stream, entry] : reports_) {
    for (const dpia::ViewMeasures& v : entry.second.views) {
      for (const auto* u : {&v.unicity_p2, &v.unicity_p4}) {
        if (!u->has_value()) continue;
        absl::StrAppend(&out, "privacity_dpia_unicity{stream=\"", stream, "\",view=\"",
                        ViewLabel(v), "\",p=\"", (*u)->p, "\"} ",
                        absl::StrFormat("%.6g", (*u)->unicity), "\n");
      }
    }
  }
  absl::StrAppend(
      &out,
      "# HELP privacity_dpia_k_share Share of records in classes smaller than k.\n"
      "# TYPE privacity_dpia_k_share gauge\n");
  for (const auto& [stream, entry] : reports_) {
    for (const dpia::ViewMeasures& v : entry.second.views) {
      if (!v.k_share) continue;
      absl::StrAppend(&out, "privacity_dpia_k_share{stream=\"", stream, "\",view=\"",
                      ViewLabel(v), "\"} ", absl::StrFormat("%.6g", v.k_share->share),
                      "\n");
    }
  }
  absl::StrAppend(
      &out,
      "# HELP privacity_dpia_alert 1 while a scheduled DPIA measure is above its "
      "threshold.\n# TYPE privacity_dpia_alert gauge\n");
  for (const auto& [key, value] : last_) {
    const auto& [stream, view, measure] = key;
    absl::StrAppend(&out, "privacity_dpia_alert{stream=\"", stream, "\",view=\"", view,
                    "\",measure=\"", measure, "\"} ", value.second ? 1 : 0, "\n");
  }
  return out;
}

std::string RenderDpia(const dpia::DpiaReport& report, DpiaFormat format) {
  switch (format) {
    case DpiaFormat::kMarkdown:
      return dpia::ToMarkdown(report);
    case DpiaFormat::kHtml:
      return dpia::ToHtml(report);
    case DpiaFormat::kJson:
      break;
  }
  return dpia::ToJson(report).dump(2, ' ', false, json::error_handler_t::replace);
}

absl::Status AddDpiaRoutes(Router& router, std::shared_ptr<DpiaMonitor> monitor) {
  return router.Add("GET", "/public/dpia/{stream}", [monitor](const RouteRequest& r) {
    DpiaFormat format = DpiaFormat::kJson;
    const std::string q = r.Query("format");
    const std::string accept = r.http.Header("accept");
    if (q == "md" || q == "markdown") {
      format = DpiaFormat::kMarkdown;
    } else if (q == "html") {
      format = DpiaFormat::kHtml;
    } else if (!q.empty() && q != "json") {
      return ErrorResponse(400, "invalid-argument",
                           "the query parameter 'format' must be md, html or json");
    } else if (q.empty() && accept.find("text/html") != std::string::npos) {
      format = DpiaFormat::kHtml;
    } else if (q.empty() && accept.find("text/markdown") != std::string::npos) {
      format = DpiaFormat::kMarkdown;
    }
    absl::StatusOr<dpia::DpiaReport> report =
        monitor->Report(r.Param("stream"), kRouteMaxAge);
    if (!report.ok()) {
      if (absl::IsNotFound(report.status())) {
        return ErrorResponse(404, "unknown-stream",
                             "no stream of this name is configured");
      }
      spdlog::error("dpia failed: {}", std::string(report.status().message()));
      return ErrorResponse(report.status());
    }
    HttpResponse resp;
    resp.body = RenderDpia(*report, format);
    resp.content_type = format == DpiaFormat::kHtml       ? "text/html; charset=utf-8"
                        : format == DpiaFormat::kMarkdown ? "text/markdown; charset=utf-8"
                                                          : "application/json";
    return resp;
  });
}

}  // namespace privacity::server
