#include "server/ngsi_routes.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "server/error_mapping.h"
#include "spdlog/spdlog.h"

namespace privacity::server {
namespace {

using ingest::NgsiLdForm;
using ingest::NgsiLdOperation;

int StatusForCode(const std::string& code) {
  if (code == "body-too-large") return 413;
  if (code == "unsupported-media-type") return 415;
  if (code == "unknown-entity-type") return 422;
  return 400;  // malformed-json, invalid-ngsi-ld
}

// ?options=keyValues (or simplified) and ?format=simplified (or keyValues).
absl::StatusOr<NgsiLdForm> FormOf(const RouteRequest& request) {
  NgsiLdForm form = NgsiLdForm::kAuto;
  for (absl::string_view option :
       absl::StrSplit(request.Query("options"), ',', absl::SkipEmpty())) {
    if (option == "keyValues" || option == "simplified") form = NgsiLdForm::kKeyValues;
    if (option == "concise") {
      return absl::InvalidArgumentError(
          "the concise form is not supported: send normalized or keyValues");
    }
  }
  const std::string format = request.Query("format");
  if (format == "keyValues" || format == "simplified") {
    form = NgsiLdForm::kKeyValues;
  } else if (!format.empty() && format != "normalized") {
    return absl::InvalidArgumentError(
        "the query parameter 'format' must be normalized, simplified or keyValues");
  }
  return form;
}

class NgsiLdRoutes {
 public:
  NgsiLdRoutes(Trust& trust, Metrics& metrics,
               std::unique_ptr<ingest::NgsiLdAdapter> adapter)
      : trust_(trust), metrics_(metrics), adapter_(std::move(adapter)) {}

  HttpResponse Handle(NgsiLdOperation operation, const RouteRequest& request) {
    if (!request.principal->sensor()) {
      return ErrorResponse(403, "sensor-token-required",
                           "only a sensor token may push NGSI-LD entities");
    }
    absl::StatusOr<NgsiLdForm> form = FormOf(request);
    if (!form.ok()) {
      return ErrorResponse(400, "invalid-argument", std::string(form.status().message()));
    }
    ingest::NgsiLdInput input;
    input.operation = operation;
    input.body = request.http.body;
    input.content_type = request.http.Header("content-type");
    input.link = request.http.Header("link");
    input.form = *form;
    absl::StatusOr<ingest::NgsiLdBatch> batch =
        adapter_->Parse(input, trust_.clock().Now());
    if (!batch.ok()) {
      const std::string code = ingest::NgsiLdErrorCode(batch.status());
      if (code.empty()) return ErrorResponse(batch.status());
      return ErrorResponse(StatusForCode(code), code,
                           std::string(batch.status().message()));
    }
    // A sensor token pushes into its own stream only; checked for every
    // entity before anything is written.
    for (const ingest::NgsiLdGroup& group : batch->groups()) {
      if (group.stream->id != request.principal->stream) {
        return ErrorResponse(
            403, "wrong-stream",
            absl::StrCat("entities of type '", group.entity_types.front(),
                         "' go to stream '", group.stream->id,
                         "'; this sensor token is bound to another stream"));
      }
    }
    ingest::IngestSummary total;
    const config::Stream* stream = nullptr;
    for (const ingest::NgsiLdGroup& group : batch->groups()) {
      stream = group.stream;
      absl::StatusOr<ingest::IngestSummary> summary = ingest::IngestNgsiLdGroup(
          group, trust_.store(), trust_.keyring(), trust_.random(),
          trust_.RequestIngestOptions(*group.stream));
      if (!summary.ok()) {
        spdlog::error("NGSI-LD ingest into {} failed: {}", group.stream->id,
                      std::string(summary.status().message()));
        return ErrorResponse(summary.status());
      }
      metrics_.RecordIngest(group.stream->id, summary->accepted, summary->rejected);
      total.accepted += summary->accepted;
      total.rejected += summary->rejected;
      total.errors.insert(total.errors.end(), summary->errors.begin(),
                          summary->errors.end());
    }
    HttpResponse response;
    response.body = ingest::NgsiLdSummaryJson(total);
    if (total.accepted == 0 && total.rejected > 0) {
      response.status = 422;
    } else if (operation == NgsiLdOperation::kCreate) {
      // The trust keeps no entity (and never the raw id): the new record
      // lives in its stream.
      response.status = 201;
      response.headers.emplace_back("Location",
                                    absl::StrCat("/v1/streams/", stream->id, "/records"));
    }
    return response;
  }

 private:
  Trust& trust_;
  Metrics& metrics_;
  std::unique_ptr<ingest::NgsiLdAdapter> adapter_;
};

}  // namespace

absl::Status RegisterNgsiLdRoutes(Router& router, Trust& trust, Metrics& metrics,
                                  ingest::NgsiLdLimits limits) {
  ASSIGN_OR_RETURN(std::unique_ptr<ingest::NgsiLdAdapter> adapter,
                   ingest::NgsiLdAdapter::Create(trust.config(), limits));
  auto routes = std::make_shared<NgsiLdRoutes>(trust, metrics, std::move(adapter));
  auto bind = [routes](NgsiLdOperation op) {
    return [routes, op](const RouteRequest& r) { return routes->Handle(op, r); };
  };
  RETURN_IF_ERROR(router.Add("POST", "/ngsi-ld/v1/entityOperations/upsert",
                             bind(NgsiLdOperation::kUpsert)));
  RETURN_IF_ERROR(
      router.Add("POST", "/ngsi-ld/v1/entities", bind(NgsiLdOperation::kCreate)));
  RETURN_IF_ERROR(
      router.Add("POST", "/ngsi-ld/v1/notify", bind(NgsiLdOperation::kNotify)));
  return absl::OkStatus();
}

}  // namespace privacity::server
