#include "server/records_view.h"

#include <limits>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "crypto/crypto.h"
#include "nlohmann/json.hpp"
#include "server/record_access.h"
#include "transform/field_transform.h"
#include "transform/pipeline.h"

namespace privacity::server {
namespace {

using json = nlohmann::ordered_json;

// Coarsens one released value to the agreement's granularity.
void Coarsen(const config::Field& field, const policy::Obligations& ob, json& value) {
  if (field.type == config::FieldType::kTime && ob.time_granularity.has_value() &&
      value.is_string()) {
    auto t = ParseTimestamp(value.get<std::string>());
    if (t.ok()) value = FormatTimestamp(transform::CoarsenTime(*t, *ob.time_granularity));
    return;
  }
  if (field.type != config::FieldType::kPoint || !ob.cell_level.has_value()) return;
  if (value.is_string()) {  // stored as a cell token
    auto cell = transform::CellFromToken(value.get<std::string>());
    if (cell.ok())
      value = transform::CellToken(transform::CoarsenCell(*cell, *ob.cell_level));
  } else if (value.is_object() && value.contains("lat") && value.contains("lon") &&
             value["lat"].is_number() && value["lon"].is_number()) {
    const transform::GeoPoint p{value["lat"].get<double>(), value["lon"].get<double>()};
    value = transform::CellToken(transform::CellOf(p, *ob.cell_level));
  }
}

constexpr char kCursorVersion = 1;
constexpr size_t kCursorBinding = 16;

// SHA-256 over the query, each part length-prefixed so no two queries
// share an encoding.
std::string QueryBinding(const policy::AccessRequest& request) {
  std::string text = "privacity.records-cursor.v1";
  auto add = [&text](std::string_view part) {
    absl::StrAppend(&text, part.size(), ":");
    text.append(part.data(), part.size());
  };
  add(request.party);
  add(request.stream);
  add(request.purpose);
  add(request.from ? absl::StrCat(absl::ToUnixMicros(*request.from)) : "-");
  add(request.to ? absl::StrCat(absl::ToUnixMicros(*request.to)) : "-");
  for (const std::string& f : request.fields) add(f);
  return crypto::Sha256(text).substr(0, kCursorBinding);
}

}  // namespace

std::string EncodeRecordsCursor(const policy::AccessRequest& request, int64_t last_id) {
  std::string bytes(1, kCursorVersion);
  const uint64_t id = static_cast<uint64_t>(last_id);
  for (int shift = 56; shift >= 0; shift -= 8) {
    bytes.push_back(static_cast<char>((id >> shift) & 0xff));
  }
  bytes += QueryBinding(request);
  std::string out;
  absl::WebSafeBase64Escape(bytes, &out);  // unpadded
  return out;
}

absl::StatusOr<int64_t> DecodeRecordsCursor(const policy::AccessRequest& request,
                                            std::string_view cursor) {
  const absl::Status invalid = absl::InvalidArgumentError(
      "the cursor is not one this server gave for this query (same stream, purpose, "
      "from, to and fields); start again without it");
  std::string bytes;
  if (cursor.size() > 64 ||
      !absl::WebSafeBase64Unescape(absl::string_view(cursor.data(), cursor.size()),
                                   &bytes) ||
      bytes.size() != 1 + 8 + kCursorBinding || bytes[0] != kCursorVersion) {
    return invalid;
  }
  if (!crypto::ConstantTimeEquals(bytes.substr(9), QueryBinding(request))) return invalid;
  uint64_t id = 0;
  for (int i = 1; i <= 8; ++i) id = (id << 8) | static_cast<unsigned char>(bytes[i]);
  if (id > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return invalid;
  return static_cast<int64_t>(id);
}

absl::Status ReleaseRows(Trust& trust, const policy::AccessRequest& request,
                         const policy::Obligations& ob, const RecordsReadOptions& options,
                         RecordsReadResult& result, const RowSink& emit) {
  const config::Stream* stream = trust.config().FindStream(request.stream);
  if (stream == nullptr) return absl::InternalError("permitted stream is not configured");

  store::RecordQuery query;
  query.stream = stream->id;
  if (request.from) query.from_us = absl::ToUnixMicros(*request.from);
  if (request.to) query.to_us = absl::ToUnixMicros(*request.to);
  query.after_id = options.after_id;
  // One extra row tells whether another page exists.
  query.limit = options.limit > 0 ? options.limit + 1 : 0;

  ConsentCache consent(trust.store(), request.purpose);
  PayloadOpener opener(trust.keyring(), *stream);
  int64_t seen = 0;
  const absl::Status scan =
      trust.store().ScanRecords(query, [&](const store::StoredRecord& r) -> absl::Status {
        if (options.limit > 0 && seen == options.limit) {
          result.more = true;
          return absl::CancelledError("page full");
        }
        ++seen;
        result.last_id = r.id;
        ASSIGN_OR_RETURN(const bool withheld, Withheld(*stream, ob, r, consent));
        if (withheld) {
          ++result.withheld;
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(std::optional<std::string> plaintext, opener.Open(r));
        if (!plaintext.has_value()) return absl::OkStatus();  // erased subject
        json stored = json::parse(*plaintext, nullptr, /*allow_exceptions=*/false);
        if (!stored.is_object()) {
          return absl::DataLossError(
              absl::StrCat("record ", r.id, " has a corrupt payload"));
        }
        json row = json::object();
        row["id"] = r.id;
        for (const std::string& name : ob.fields) {
          auto it = stored.find(name);
          if (it == stored.end()) continue;
          const config::Field* field = stream->FindField(name);
          if (field == nullptr) continue;
          json value = *it;
          Coarsen(*field, ob, value);
          row[name] = std::move(value);
        }
        ++result.rows;
        return emit(row);
      });
  if (!scan.ok() && !(result.more && absl::IsCancelled(scan))) return scan;
  return absl::OkStatus();
}

absl::StatusOr<RecordsReadResult> ReadRecords(
    Trust& trust, const policy::AccessRequest& request, const RecordsReadOptions& options,
    const std::function<absl::Status(const std::string& row)>& emit) {
  RecordsReadResult result;
  if (request.level != config::AccessLevel::kRecords) {
    return absl::InvalidArgumentError("a records read must ask for the records level");
  }
  result.decision = policy::Decide(trust.config(), request, trust.clock().Now());
  if (!result.decision.permitted()) {
    // Every decision is a leaf of the transparency log, denials included.
    RETURN_IF_ERROR(trust.audit()
                        .AppendDecision(trust.config(), request, result.decision, 0)
                        .status());
    return result;
  }
  const absl::Status released =
      ReleaseRows(trust, request, result.decision.obligations, options, result,
                  [&](const nlohmann::ordered_json& row) { return emit(row.dump()); });
  // Logged even when the scan failed part way: rows may already have left.
  RETURN_IF_ERROR(
      trust.audit()
          .AppendDecision(trust.config(), request, result.decision, result.rows)
          .status());
  RETURN_IF_ERROR(released);
  return result;
}

}  // namespace privacity::server
