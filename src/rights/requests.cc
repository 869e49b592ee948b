#include "rights/requests.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/encoding.h"
#include "common/status_macros.h"

namespace privacity::rights {
namespace {

constexpr size_t kRequestIdBytes = 16;

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<store::RightsRequest> RequestsDesk::Open(store::RightsRequestKind kind,
                                                        const std::string& blind_index,
                                                        const std::string& detail) {
  store::RightsRequest request;
  request.id = absl::StrCat("rq-", Base32Encode(random_.Bytes(kRequestIdBytes)));
  request.kind = kind;
  request.status = store::RightsRequestStatus::kOpen;
  request.blind_index = blind_index;
  request.created = clock_.Now();
  request.deadline = request.created + kRequestDeadline;
  request.detail = detail;
  RETURN_IF_ERROR(store_.InsertRequest(request));
  return request;
}

absl::Status RequestsDesk::Complete(const std::string& id, const std::string& detail) {
  return store_.CloseRequest(id, store::RightsRequestStatus::kCompleted, clock_.Now(),
                             detail);
}

absl::Status RequestsDesk::Refuse(const std::string& id, const std::string& reason) {
  return store_.CloseRequest(id, store::RightsRequestStatus::kRefused, clock_.Now(),
                             reason);
}

absl::StatusOr<store::RightsRequest> RequestsDesk::Record(store::RightsRequestKind kind,
                                                          const std::string& blind_index,
                                                          const std::string& detail) {
  ASSIGN_OR_RETURN(store::RightsRequest request, Open(kind, blind_index, detail));
  RETURN_IF_ERROR(Complete(request.id, detail));
  request.status = store::RightsRequestStatus::kCompleted;
  request.completed = clock_.Now();
  return request;
}

absl::StatusOr<std::vector<store::RightsRequest>> RequestsDesk::List(
    const store::RightsRequestFilter& filter) {
  return store_.ListRequests(filter);
}

std::string FormatRequestsTable(const std::vector<store::RightsRequest>& requests,
                                absl::Time now) {
  std::string out =
      absl::StrFormat("%-29s %-9s %-9s %-20s %-20s %-20s %s\n", "ID", "KIND", "STATUS",
                      "CREATED", "DEADLINE", "COMPLETED", "DETAIL");
  for (const store::RightsRequest& r : requests) {
    std::string completed = r.completed.has_value() ? FormatUtc(*r.completed) : "-";
    std::string status = store::ToString(r.status);
    if (r.status == store::RightsRequestStatus::kOpen && now > r.deadline) {
      status = "OVERDUE";
    }
    absl::StrAppendFormat(&out, "%-29s %-9s %-9s %-20s %-20s %-20s %s\n", r.id,
                          store::ToString(r.kind), status, FormatUtc(r.created),
                          FormatUtc(r.deadline), completed,
                          r.detail.empty() ? "-" : r.detail);
  }
  return out;
}

}  // namespace privacity::rights
