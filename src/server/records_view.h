// The records-level view: pseudonymised rows of one stream, released as an
// agreement allows. Decide first; on a permit, scan the store, open each
// sealed payload with its subject's data key, apply consent and objection,
// keep only the granted fields and coarsen them to the agreement's
// granularity. Each row is one JSON object:
//   {"id":N,"<field>":value,...}
// where a subject field carries the pseudonym of the record's own epoch.
#ifndef PRIVACITY_SERVER_RECORDS_VIEW_H_
#define PRIVACITY_SERVER_RECORDS_VIEW_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "policy/decision.h"
#include "server/trust.h"

namespace privacity::server {

struct RecordsReadOptions {
  int64_t after_id = 0;  // cursor: rows with id > after_id
  int64_t limit = 0;     // 0 = no limit
};

struct RecordsReadResult {
  policy::Decision decision;
  int64_t rows = 0;      // rows released
  int64_t withheld = 0;  // rows left out for consent or objection
  int64_t last_id = 0;   // cursor for the next page
  bool more = false;     // the limit stopped the scan early
};

// Decides `request` (its level must be kRecords) and, when permitted, calls
// `emit` with each released row as a JSON object. A denial is not an error:
// it is returned in the result's decision. Errors are failures of the trust
// (store, keys) or of `emit`.
absl::StatusOr<RecordsReadResult> ReadRecords(
    Trust& trust, const policy::AccessRequest& request, const RecordsReadOptions& options,
    const std::function<absl::Status(const std::string& row)>& emit);

// Page cursors of a records read: opaque to clients, bound to the query.
// A cursor is base64url(0x01 || last scanned row id, 8 bytes big-endian ||
// the first 16 bytes of SHA-256 over the query: party, stream, purpose,
// from, to and fields). It carries no personal data and grants nothing:
// every page is decided afresh; the binding only stops a cursor from being
// replayed onto another stream, party, purpose, window or field list.
std::string EncodeRecordsCursor(const policy::AccessRequest& request, int64_t last_id);
// The row id to continue after. InvalidArgument when `cursor` is not one
// this function's inverse made for the same query.
absl::StatusOr<int64_t> DecodeRecordsCursor(const policy::AccessRequest& request,
                                            std::string_view cursor);

// Receives each released row.
using RowSink = std::function<absl::Status(const nlohmann::ordered_json& row)>;

// The rows a permit allows, without deciding (the caller decided): opens
// each payload, applies consent and objection, keeps only `ob.fields`,
// coarsened as `ob` says. Updates the counters and cursor of `result`.
absl::Status ReleaseRows(Trust& trust, const policy::AccessRequest& request,
                         const policy::Obligations& ob, const RecordsReadOptions& options,
                         RecordsReadResult& result, const RowSink& emit);

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_RECORDS_VIEW_H_
