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

audit::RightsAction ActionOf(store::RightsRequestKind kind) {
  switch (kind) {
    case store::RightsRequestKind::kAccess:
      return audit::RightsAction::kAccess;
    case store::RightsRequestKind::kExport:
      return audit::RightsAction::kExport;
    case store::RightsRequestKind::kConsent:
      return audit::RightsAction::kConsent;
    case store::RightsRequestKind::kObjection:
      return audit::RightsAction::kObject;
    case store::RightsRequestKind::kErasure:
      return audit::RightsAction::kErasure;
  }
  return audit::RightsAction::kAccess;
}

store::RightsRequest RequestsDesk::NewRequest(store::RightsRequestKind kind,
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
  return request;
}

absl::StatusOr<uint64_t> RequestsDesk::LogStatus(const std::string& id,
                                                 store::RightsRequestKind kind,
                                                 audit::RightsStatus status,
                                                 const RequestFacts& facts) {
  audit::RightsActionLeaf leaf;
  leaf.time = clock_.Now();
  leaf.request = id;
  leaf.action = facts.action.value_or(ActionOf(kind));
  leaf.status = status;
  leaf.stream = facts.stream;
  leaf.purpose = facts.purpose;
  leaf.records = facts.records;
  leaf.keys_destroyed = facts.keys_destroyed;
  return log_.Append(leaf);
}

absl::StatusOr<LoggedRequest> RequestsDesk::Open(store::RightsRequestKind kind,
                                                 const std::string& blind_index,
                                                 const std::string& detail,
                                                 const RequestFacts& facts) {
  LoggedRequest out;
  out.request = NewRequest(kind, blind_index, detail);
  RETURN_IF_ERROR(store_.InsertRequest(out.request));
  ASSIGN_OR_RETURN(out.log_index, LogStatus(out.request.id, kind,
                                            audit::RightsStatus::kReceived, facts));
  return out;
}

absl::StatusOr<uint64_t> RequestsDesk::Close(const std::string& id,
                                             store::RightsRequestStatus status,
                                             const std::string& detail,
                                             const RequestFacts& facts) {
  ASSIGN_OR_RETURN(store::RightsRequest request, store_.GetRequest(id));
  RETURN_IF_ERROR(store_.CloseRequest(id, status, clock_.Now(), detail));
  return LogStatus(id, request.kind,
                   status == store::RightsRequestStatus::kCompleted
                       ? audit::RightsStatus::kCompleted
                       : audit::RightsStatus::kRefused,
                   facts);
}

absl::StatusOr<uint64_t> RequestsDesk::Complete(const std::string& id,
                                                const std::string& detail,
                                                const RequestFacts& facts) {
  return Close(id, store::RightsRequestStatus::kCompleted, detail, facts);
}

absl::StatusOr<uint64_t> RequestsDesk::Refuse(const std::string& id,
                                              const std::string& reason,
                                              const RequestFacts& facts) {
  return Close(id, store::RightsRequestStatus::kRefused, reason, facts);
}

absl::StatusOr<LoggedRequest> RequestsDesk::Record(store::RightsRequestKind kind,
                                                   const std::string& blind_index,
                                                   const std::string& detail,
                                                   const RequestFacts& facts) {
  LoggedRequest out;
  out.request = NewRequest(kind, blind_index, detail);
  RETURN_IF_ERROR(store_.InsertRequest(out.request));
  const absl::Time now = clock_.Now();
  RETURN_IF_ERROR(store_.CloseRequest(
      out.request.id, store::RightsRequestStatus::kCompleted, now, detail));
  out.request.status = store::RightsRequestStatus::kCompleted;
  out.request.completed = now;
  ASSIGN_OR_RETURN(out.log_index, LogStatus(out.request.id, kind,
                                            audit::RightsStatus::kCompleted, facts));
  return out;
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
