#include "rights/erasure.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "rights/consent.h"

namespace privacity::rights {

absl::StatusOr<ErasureReceipt> EraseSubject(store::Store& store, crypto::Keyring& keyring,
                                            RequestsDesk& desk, Clock& clock,
                                            const std::vector<std::string>& blind_indexes,
                                            const ErasureOptions& options) {
  if (blind_indexes.empty()) {
    return absl::InvalidArgumentError("erasure: no blind index given");
  }
  for (const std::string& bi : blind_indexes) {
    if (bi.empty()) return absl::InvalidArgumentError("erasure: blind index is empty");
  }
  ASSIGN_OR_RETURN(LoggedRequest request,
                   desk.Open(store::RightsRequestKind::kErasure, blind_indexes.front()));
  ErasureReceipt receipt;
  receipt.request_id = request.request.id;
  // Cached DP answers that counted the subject are recomputed from now on.
  RETURN_IF_ERROR(store.PutMeta(kErasureVersionKey, receipt.request_id));

  std::map<std::string, int64_t> per_stream;
  for (const std::string& blind_index : blind_indexes) {
    // Counts per stream, before the rows go.
    ASSIGN_OR_RETURN(std::vector<store::StoredRecord> records,
                     store.FindRecordsBySubject(blind_index));
    for (const store::StoredRecord& r : records) ++per_stream[r.stream];
  }
  // The rows go first: a store may find a subject's records through its
  // data keys (store.h). Then the keys: from there on nothing sealed under
  // them can be read, including a record an ingest stored meanwhile.
  for (const std::string& blind_index : blind_indexes) {
    ASSIGN_OR_RETURN(const int64_t erased, store.DeleteRecordsBySubject(blind_index));
    receipt.records_erased += erased;
  }
  for (const std::string& blind_index : blind_indexes) {
    ASSIGN_OR_RETURN(std::vector<int64_t> key_ids,
                     store.rights().ListSubjectKeyIds(blind_index));
    for (int64_t id : key_ids) {
      const absl::Status destroyed = keyring.Destroy(id);
      if (destroyed.ok()) {
        ++receipt.keys_destroyed;
      } else if (!absl::IsNotFound(destroyed)) {  // NotFound: a racing erasure took it
        return destroyed;
      }
    }
  }
  for (const std::string& blind_index : blind_indexes) {
    ASSIGN_OR_RETURN(std::vector<store::ConsentEvent> history,
                     store.ConsentHistory(blind_index));
    receipt.consent_events_erased += static_cast<int64_t>(history.size());
    RETURN_IF_ERROR(store.DeleteConsentHistory(blind_index));
    RETURN_IF_ERROR(store.rights().UnlinkSubject(blind_index).status());
  }
  for (const auto& [stream, count] : per_stream) {
    receipt.streams.push_back(StreamErasure{stream, count});
  }
  receipt.time = clock.Now();
  RequestFacts facts;
  facts.records = receipt.records_erased;
  facts.keys_destroyed = receipt.keys_destroyed;
  ASSIGN_OR_RETURN(receipt.log_index,
                   desk.Complete(receipt.request_id,
                                 absl::StrCat(receipt.records_erased, " records, ",
                                              receipt.keys_destroyed, " keys"),
                                 facts));

  for (int attempt = 0; attempt < options.compact_attempts; ++attempt) {
    const absl::Status compacted = store.Compact();
    if (compacted.ok()) {
      receipt.compacted = true;
      break;
    }
    if (!absl::IsUnavailable(compacted)) return compacted;
  }
  return receipt;
}

absl::StatusOr<ErasureReceipt> EraseSubject(store::Store& store, crypto::Keyring& keyring,
                                            RequestsDesk& desk, Clock& clock,
                                            const std::string& blind_index,
                                            const ErasureOptions& options) {
  return EraseSubject(store, keyring, desk, clock, std::vector<std::string>{blind_index},
                      options);
}

std::string ErasureReceiptJson(const ErasureReceipt& receipt) {
  nlohmann::ordered_json j;
  j["kind"] = "erasure";
  j["request_id"] = receipt.request_id;
  j["time"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", receipt.time, absl::UTCTimeZone());
  nlohmann::ordered_json streams = nlohmann::ordered_json::array();
  for (const StreamErasure& s : receipt.streams) {
    streams.push_back({{"stream", s.stream}, {"records", s.records}});
  }
  j["streams"] = std::move(streams);
  j["records_erased"] = receipt.records_erased;
  j["keys_destroyed"] = receipt.keys_destroyed;
  j["consent_events_erased"] = receipt.consent_events_erased;
  j["compacted"] = receipt.compacted;
  j["log_index"] = receipt.log_index;
  return j.dump();
}

}  // namespace privacity::rights
