#include "server/register_routes.h"

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "audit/leaves.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "nlohmann/json.hpp"
#include "register/register.h"
#include "server/error_mapping.h"
#include "spdlog/spdlog.h"

namespace privacity::server {
namespace {

using nlohmann::json;

// Fixed-window counters per remote address and overall. Addresses are
// kept only for the current window, in memory.
class CommentRateLimiter {
 public:
  CommentRateLimiter(Clock& clock, CommentLimits limits)
      : clock_(clock), limits_(limits) {}

  bool Allow(const std::string& address) {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    if (now - window_start_ >= limits_.window) {
      window_start_ = now;
      per_address_.clear();
      total_ = 0;
    }
    if (total_ >= limits_.total) return false;
    int64_t& n = per_address_[address];
    if (n >= limits_.per_address) return false;
    ++n;
    ++total_;
    return true;
  }

 private:
  Clock& clock_;
  const CommentLimits limits_;
  absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::map<std::string, int64_t> per_address_ ABSL_GUARDED_BY(mu_);
  int64_t total_ ABSL_GUARDED_BY(mu_) = 0;
};

HttpResponse Json(const json& j, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

audit::RegisterChangeLeaf Leaf(Clock& clock, const registry::RegisterEntry& e,
                               audit::RegisterAction action) {
  audit::RegisterChangeLeaf leaf;
  leaf.time = clock.Now();
  leaf.action = action;
  leaf.sensor = e.sensor.id;
  leaf.stream = e.sensor.stream;
  leaf.state = e.status == registry::SensorStatus::kProposed
                   ? audit::SensorState::kProposed
                   : audit::SensorState::kLive;
  leaf.comments_until = e.sensor.comments_until;
  return leaf;
}

HttpResponse ForbiddenUnlessController(const Trust& trust, const RouteRequest& r) {
  if (r.principal != nullptr && IsController(trust.config(), *r.principal)) return {};
  return ErrorResponse(403, "controller-required",
                       "only a token of a party of kind controller may do this");
}

}  // namespace

bool IsController(const config::CityConfig& config, const Principal& principal) {
  if (principal.sensor()) return false;
  const config::Party* party = config.FindParty(principal.party);
  return party != nullptr && party->kind == config::PartyKind::kController;
}

absl::Status AddRegisterRoutes(Router& router, Trust& trust, CommentLimits limits) {
  auto reg = std::make_shared<registry::SensorRegister>(trust.config(), trust.store(),
                                                        trust.clock());
  auto limiter = std::make_shared<CommentRateLimiter>(trust.clock(), limits);

  RETURN_IF_ERROR(
      router.Add("GET", "/public/register", [&trust, reg](const RouteRequest& r) {
        const bool geojson =
            r.Query("format") == "geojson" ||
            r.http.Header("accept").find("application/geo+json") != std::string::npos;
        if (!r.Query("format").empty() && r.Query("format") != "geojson" &&
            r.Query("format") != "json") {
          return ErrorResponse(400, "invalid-argument",
                               "the query parameter 'format' must be json or geojson");
        }
        absl::StatusOr<std::vector<registry::RegisterEntry>> entries = reg->List();
        if (!entries.ok()) return ErrorResponse(entries.status());
        if (geojson) {
          HttpResponse resp = Json(registry::RegisterGeoJson(trust.config(), *entries));
          resp.content_type = "application/geo+json";
          return resp;
        }
        return Json(registry::RegisterJson(trust.config(), *entries));
      }));

  RETURN_IF_ERROR(router.Add(
      "POST", "/public/register/{sensor}/comments",
      [&trust, reg, limiter, limits](const RouteRequest& r) {
        if (r.http.body.size() > limits.max_body_bytes) {
          return ErrorResponse(413, "body-too-large",
                               "a comment body is at most 8192 bytes");
        }
        json body = json::parse(r.http.body, nullptr, /*allow_exceptions=*/false);
        if (body.is_discarded() || !body.is_object()) {
          return ErrorResponse(400, "malformed-json",
                               "the body must be a JSON object {\"kind\", \"text\"}");
        }
        registry::CommentKind kind = registry::CommentKind::kComment;
        if (auto it = body.find("kind"); it != body.end()) {
          if (!it->is_string() || (*it != "comment" && *it != "objection")) {
            return ErrorResponse(400, "invalid-argument",
                                 "'kind' must be \"comment\" or \"objection\"");
          }
          if (*it == "objection") kind = registry::CommentKind::kObjection;
        }
        auto text = body.find("text");
        if (text == body.end() || !text->is_string()) {
          return ErrorResponse(400, "invalid-argument", "'text' must be a string");
        }
        if (!limiter->Allow(r.http.remote_address)) {
          HttpResponse resp =
              ErrorResponse(429, "rate-limited", "too many comments; try again later");
          resp.headers.emplace_back("Retry-After", "600");
          return resp;
        }
        absl::StatusOr<registry::RegisterEntry> entry =
            reg->AddComment(r.Param("sensor"), kind, text->get<std::string>());
        if (!entry.ok()) return ErrorResponse(entry.status());
        absl::Status logged =
            trust.audit()
                .Append(Leaf(trust.clock(), *entry, audit::RegisterAction::kComment))
                .status();
        if (!logged.ok()) {
          spdlog::error("logging a register comment failed: {}",
                        std::string(logged.message()));
        }
        return Json({{"sensor", entry->sensor.id},
                     {"received", true},
                     {"comment_count", entry->comments}},
                    201);
      }));

  RETURN_IF_ERROR(
      router.Add("POST", "/v1/admin/sensors", [&trust, reg](const RouteRequest& r) {
        if (HttpResponse denied = ForbiddenUnlessController(trust, r);
            !denied.body.empty()) {
          return denied;
        }
        absl::StatusOr<registry::SensorProposal> proposal =
            registry::ParseProposal(r.http.body);
        if (!proposal.ok()) return ErrorResponse(proposal.status());
        absl::StatusOr<registry::RegisterEntry> entry = reg->Add(*proposal);
        if (!entry.ok()) return ErrorResponse(entry.status());
        // The change is durable in the log before it is acknowledged.
        absl::Status logged =
            trust.audit()
                .Append(Leaf(trust.clock(), *entry, audit::RegisterAction::kAdd))
                .status();
        if (!logged.ok()) return ErrorResponse(logged);
        json all = registry::RegisterJson(trust.config(), {*entry});
        return Json(all["sensors"][0], 201);
      }));

  RETURN_IF_ERROR(router.Add(
      "GET", "/v1/admin/sensors/{sensor}/comments", [&trust, reg](const RouteRequest& r) {
        if (HttpResponse denied = ForbiddenUnlessController(trust, r);
            !denied.body.empty()) {
          return denied;
        }
        absl::StatusOr<std::vector<registry::Comment>> comments =
            reg->Comments(r.Param("sensor"));
        if (!comments.ok()) return ErrorResponse(comments.status());
        json list = json::array();
        for (const registry::Comment& c : *comments) {
          list.push_back({{"time", FormatTimestamp(c.time)},
                          {"kind", std::string(registry::ToString(c.kind))},
                          {"text", c.text}});
        }
        return Json({{"sensor", r.Param("sensor")}, {"comments", list}});
      }));
  return absl::OkStatus();
}

}  // namespace privacity::server
