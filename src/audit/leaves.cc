#include "audit/leaves.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "audit/canonical_json.h"
#include "audit/log.h"
#include "audit/note.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace privacity::audit {
namespace {

using nlohmann::json;

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == ':' || c == '/' || c == '-';
}

absl::Status CheckToken(absl::string_view value, absl::string_view member) {
  if (value.empty() || value.size() > kMaxTokenSize ||
      !std::all_of(value.begin(), value.end(), IsTokenChar)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf member '", member, "' must be 1 to 200 characters of [A-Za-z0-9._:/-]"));
  }
  return absl::OkStatus();
}

absl::Status CheckCount(int64_t value, absl::string_view member) {
  if (value < 0 || value > kMaxCanonicalInteger) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf member '", member, "' must be a count from 0 to 2^53-1"));
  }
  return absl::OkStatus();
}

// A token list, sorted and without duplicates, so equal sets give equal
// leaves.
absl::StatusOr<json> TokenSet(const std::vector<std::string>& values,
                              absl::string_view member) {
  std::vector<std::string> sorted = values;
  for (const std::string& v : sorted) RETURN_IF_ERROR(CheckToken(v, member));
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  return json(sorted);
}

std::string LeafTime(absl::Time t) {
  const absl::Time floored = absl::FromUnixSeconds(absl::ToUnixSeconds(t));
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", floored, absl::UTCTimeZone());
}

absl::StatusOr<std::string> ShortestDecimal(double v, absl::string_view member) {
  if (!std::isfinite(v) || v < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf member '", member, "' must be finite and >= 0"));
  }
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  if (r.ec != std::errc()) return absl::InternalError("cannot format a double");
  return std::string(buf, r.ptr);
}

json Envelope(absl::string_view type, absl::Time time) {
  json leaf = json::object();
  leaf["v"] = kLeafVersion;
  leaf["type"] = std::string(type);
  leaf["time"] = LeafTime(time);
  return leaf;
}

absl::StatusOr<std::string> Finish(const json& leaf) {
  ASSIGN_OR_RETURN(std::string bytes, CanonicalJson(leaf));
  if (bytes.size() > kMaxEntrySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf is ", bytes.size(), " bytes; the limit is ", kMaxEntrySize));
  }
  return bytes;
}

const char* Name(AccessLevel v) {
  switch (v) {
    case AccessLevel::kPublic:
      return "public";
    case AccessLevel::kAggregate:
      return "aggregate";
    case AccessLevel::kExtract:
      return "extract";
    case AccessLevel::kRecords:
      return "records";
  }
  return "unknown";
}

const char* Name(ReleaseKind v) {
  switch (v) {
    case ReleaseKind::kDpAggregate:
      return "dp_aggregate";
    case ReleaseKind::kExtract:
      return "extract";
    case ReleaseKind::kDpPublic:
      return "dp_public";
  }
  return "unknown";
}

const char* Name(RightsAction v) {
  switch (v) {
    case RightsAction::kAccess:
      return "access";
    case RightsAction::kExport:
      return "export";
    case RightsAction::kConsent:
      return "consent";
    case RightsAction::kWithdraw:
      return "withdraw";
    case RightsAction::kObject:
      return "object";
    case RightsAction::kErasure:
      return "erasure";
  }
  return "unknown";
}

const char* Name(RightsStatus v) {
  switch (v) {
    case RightsStatus::kReceived:
      return "received";
    case RightsStatus::kCompleted:
      return "completed";
    case RightsStatus::kRefused:
      return "refused";
  }
  return "unknown";
}

const char* Name(KeyAction v) {
  switch (v) {
    case KeyAction::kCreate:
      return "create";
    case KeyAction::kDestroy:
      return "destroy";
    case KeyAction::kRotate:
      return "rotate";
  }
  return "unknown";
}

const char* Name(LoggedKeyKind v) {
  switch (v) {
    case LoggedKeyKind::kMaster:
      return "master";
    case LoggedKeyKind::kIndex:
      return "index";
    case LoggedKeyKind::kClaim:
      return "claim";
    case LoggedKeyKind::kPseudonym:
      return "pseudonym";
    case LoggedKeyKind::kLogSigning:
      return "log_signing";
    case LoggedKeyKind::kOther:
      return "other";
  }
  return "unknown";
}

}  // namespace

absl::StatusOr<std::string> EncodeLeaf(const IngestBatchLeaf& leaf) {
  RETURN_IF_ERROR(CheckToken(leaf.stream, "stream"));
  RETURN_IF_ERROR(CheckCount(leaf.batch, "batch"));
  RETURN_IF_ERROR(CheckCount(leaf.accepted, "accepted"));
  RETURN_IF_ERROR(CheckCount(leaf.rejected, "rejected"));
  json j = Envelope("ingest_batch", leaf.time);
  j["stream"] = leaf.stream;
  if (!leaf.sensor.empty()) {
    RETURN_IF_ERROR(CheckToken(leaf.sensor, "sensor"));
    j["sensor"] = leaf.sensor;
  }
  j["batch"] = leaf.batch;
  j["accepted"] = leaf.accepted;
  j["rejected"] = leaf.rejected;
  j["digest"] = HashToHex(leaf.digest);
  return Finish(j);
}

absl::StatusOr<std::string> EncodeLeaf(const DecisionLeaf& leaf) {
  RETURN_IF_ERROR(CheckToken(leaf.party, "party"));
  RETURN_IF_ERROR(CheckToken(leaf.purpose, "purpose"));
  RETURN_IF_ERROR(CheckToken(leaf.stream, "stream"));
  RETURN_IF_ERROR(CheckCount(leaf.rows, "rows"));
  json j = Envelope("decision", leaf.time);
  j["party"] = leaf.party;
  j["purpose"] = leaf.purpose;
  j["stream"] = leaf.stream;
  j["level"] = Name(leaf.level);
  ASSIGN_OR_RETURN(j["fields"], TokenSet(leaf.fields, "fields"));
  if (leaf.from) j["from"] = LeafTime(*leaf.from);
  if (leaf.to) j["to"] = LeafTime(*leaf.to);
  ASSIGN_OR_RETURN(j["area"], TokenSet(leaf.area, "area"));
  j["result"] = leaf.result == DecisionResult::kPermit ? "permit" : "deny";
  if (!leaf.reason.empty()) {
    RETURN_IF_ERROR(CheckToken(leaf.reason, "reason"));
    j["reason"] = leaf.reason;
  }
  j["rows"] = leaf.rows;
  return Finish(j);
}

absl::StatusOr<std::string> EncodeLeaf(const ReleaseLeaf& leaf) {
  RETURN_IF_ERROR(CheckToken(leaf.release, "release"));
  RETURN_IF_ERROR(CheckToken(leaf.stream, "stream"));
  RETURN_IF_ERROR(CheckToken(leaf.party, "party"));
  RETURN_IF_ERROR(CheckCount(leaf.rows, "rows"));
  json j = Envelope("release", leaf.time);
  j["release"] = leaf.release;
  j["stream"] = leaf.stream;
  j["party"] = leaf.party;
  j["kind"] = Name(leaf.kind);
  ASSIGN_OR_RETURN(j["epsilon"], ShortestDecimal(leaf.epsilon, "epsilon"));
  ASSIGN_OR_RETURN(j["delta"], ShortestDecimal(leaf.delta, "delta"));
  j["rows"] = leaf.rows;
  j["digest"] = HashToHex(leaf.digest);
  return Finish(j);
}

absl::StatusOr<std::string> EncodeLeaf(const RightsActionLeaf& leaf) {
  RETURN_IF_ERROR(CheckToken(leaf.request, "request"));
  RETURN_IF_ERROR(CheckCount(leaf.records, "records"));
  RETURN_IF_ERROR(CheckCount(leaf.keys_destroyed, "keys_destroyed"));
  json j = Envelope("rights_action", leaf.time);
  j["request"] = leaf.request;
  j["action"] = Name(leaf.action);
  j["status"] = Name(leaf.status);
  if (!leaf.stream.empty()) {
    RETURN_IF_ERROR(CheckToken(leaf.stream, "stream"));
    j["stream"] = leaf.stream;
  }
  if (!leaf.purpose.empty()) {
    RETURN_IF_ERROR(CheckToken(leaf.purpose, "purpose"));
    j["purpose"] = leaf.purpose;
  }
  j["records"] = leaf.records;
  j["keys_destroyed"] = leaf.keys_destroyed;
  return Finish(j);
}

absl::StatusOr<std::string> EncodeLeaf(const RetentionLeaf& leaf) {
  RETURN_IF_ERROR(CheckToken(leaf.stream, "stream"));
  RETURN_IF_ERROR(CheckCount(leaf.records_deleted, "records_deleted"));
  RETURN_IF_ERROR(CheckCount(leaf.data_keys_destroyed, "data_keys_destroyed"));
  RETURN_IF_ERROR(CheckCount(leaf.unlinked_before_epoch, "unlinked_before_epoch"));
  RETURN_IF_ERROR(CheckCount(leaf.pseudonym_keys_destroyed, "pseudonym_keys_destroyed"));
  RETURN_IF_ERROR(CheckCount(leaf.records_unlinked, "records_unlinked"));
  RETURN_IF_ERROR(CheckCount(leaf.data_keys_unlinked, "data_keys_unlinked"));
  json j = Envelope("retention_sweep", leaf.time);
  j["stream"] = leaf.stream;
  j["cutoff"] = LeafTime(leaf.cutoff);
  j["records_deleted"] = leaf.records_deleted;
  j["data_keys_destroyed"] = leaf.data_keys_destroyed;
  j["unlinked_before_epoch"] = leaf.unlinked_before_epoch;
  j["pseudonym_keys_destroyed"] = leaf.pseudonym_keys_destroyed;
  j["records_unlinked"] = leaf.records_unlinked;
  j["data_keys_unlinked"] = leaf.data_keys_unlinked;
  return Finish(j);
}

absl::StatusOr<std::string> EncodeLeaf(const ConfigChangeLeaf& leaf) {
  json j = Envelope("config_change", leaf.time);
  j["digest"] = HashToHex(leaf.digest);
  if (leaf.previous) j["previous"] = HashToHex(*leaf.previous);
  ASSIGN_OR_RETURN(j["changed"], TokenSet(leaf.changed, "changed"));
  return Finish(j);
}

absl::StatusOr<std::string> EncodeLeaf(const KeyEventLeaf& leaf) {
  RETURN_IF_ERROR(CheckCount(leaf.epoch, "epoch"));
  RETURN_IF_ERROR(CheckCount(leaf.key_id, "key_id"));
  json j = Envelope("key_event", leaf.time);
  j["action"] = Name(leaf.action);
  j["kind"] = Name(leaf.kind);
  if (!leaf.scope.empty()) {
    RETURN_IF_ERROR(CheckToken(leaf.scope, "scope"));
    j["scope"] = leaf.scope;
  }
  j["epoch"] = leaf.epoch;
  j["key_id"] = leaf.key_id;
  if (!leaf.verifier_key.empty()) {
    if (leaf.kind != LoggedKeyKind::kLogSigning) {
      return absl::InvalidArgumentError(
          "leaf member 'verifier_key' is only for log signing keys");
    }
    if (absl::Status s = NoteVerifier::FromVerifierKey(leaf.verifier_key).status();
        !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("leaf member 'verifier_key': ", s.message()));
    }
    j["verifier_key"] = leaf.verifier_key;
  }
  return Finish(j);
}

absl::StatusOr<std::string> EncodeLeaf(const RegisterChangeLeaf& leaf) {
  RETURN_IF_ERROR(CheckToken(leaf.sensor, "sensor"));
  RETURN_IF_ERROR(CheckToken(leaf.stream, "stream"));
  json j = Envelope("register_change", leaf.time);
  j["action"] = leaf.action == RegisterAction::kAdd ? "add" : "comment";
  j["sensor"] = leaf.sensor;
  j["stream"] = leaf.stream;
  j["state"] = leaf.state == SensorState::kProposed ? "proposed" : "live";
  if (leaf.comments_until) j["comments_until"] = LeafTime(*leaf.comments_until);
  return Finish(j);
}

absl::StatusOr<std::string> EncodeLeaf(const DpiaAlertLeaf& leaf) {
  RETURN_IF_ERROR(CheckToken(leaf.stream, "stream"));
  RETURN_IF_ERROR(CheckToken(leaf.measure, "measure"));
  json j = Envelope("dpia_alert", leaf.time);
  j["stream"] = leaf.stream;
  j["measure"] = leaf.measure;
  if (!leaf.agreement.empty()) {
    RETURN_IF_ERROR(CheckToken(leaf.agreement, "agreement"));
    j["agreement"] = leaf.agreement;
  }
  ASSIGN_OR_RETURN(j["value"], ShortestDecimal(leaf.value, "value"));
  ASSIGN_OR_RETURN(j["threshold"], ShortestDecimal(leaf.threshold, "threshold"));
  return Finish(j);
}

absl::StatusOr<std::string> EncodeLeaf(const KeyCountLeaf& leaf) {
  if (leaf.action == KeyAction::kRotate) {
    return absl::InvalidArgumentError("leaf member 'action' must be create or destroy");
  }
  if (leaf.count < 1) {
    return absl::InvalidArgumentError("leaf member 'count' must be at least 1");
  }
  RETURN_IF_ERROR(CheckCount(leaf.count, "count"));
  RETURN_IF_ERROR(CheckToken(leaf.stream, "stream"));
  if (leaf.epoch.has_value() && leaf.action != KeyAction::kCreate) {
    return absl::InvalidArgumentError("leaf member 'epoch' is only for created keys");
  }
  json j = Envelope("key_count", leaf.time);
  j["action"] = Name(leaf.action);
  j["kind"] = "subject_dek";
  j["stream"] = leaf.stream;
  if (leaf.epoch.has_value()) {
    RETURN_IF_ERROR(CheckCount(*leaf.epoch, "epoch"));
    j["epoch"] = *leaf.epoch;
  }
  j["count"] = leaf.count;
  return Finish(j);
}

absl::StatusOr<nlohmann::json> ParseLeaf(absl::string_view leaf) {
  ASSIGN_OR_RETURN(json j, ParseCanonicalJson(leaf));
  if (!j.is_object()) return absl::InvalidArgumentError("leaf is not a JSON object");
  const auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() != kLeafVersion) {
    return absl::InvalidArgumentError("leaf member 'v' is not 1");
  }
  for (const char* member : {"type", "time"}) {
    const auto it = j.find(member);
    if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("leaf member '", member, "' is missing or not a string"));
    }
  }
  return j;
}

}  // namespace privacity::audit
