#include "rights/retention.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "nlohmann/json.hpp"

namespace privacity::rights {
namespace {

// Destroys the live keys of `kind` in `stream` with epoch < `before`.
absl::StatusOr<int64_t> DestroyKeysBefore(store::Store& store, crypto::Keyring& keyring,
                                          crypto::KeyKind kind, const std::string& stream,
                                          int64_t before) {
  ASSIGN_OR_RETURN(std::vector<crypto::WrappedKey> keys,
                   store.keys().ListKeysBefore(kind, stream, before));
  int64_t destroyed = 0;
  for (const crypto::WrappedKey& key : keys) {
    const absl::Status s = keyring.Destroy(key.id);
    if (s.ok()) {
      ++destroyed;
    } else if (!absl::IsNotFound(s)) {
      return s;
    }
  }
  return destroyed;
}

}  // namespace

absl::StatusOr<SweepResult> SweepRetention(const config::CityConfig& config,
                                           store::Store& store, crypto::Keyring& keyring,
                                           Clock& clock) {
  SweepResult result;
  result.time = clock.Now();
  const absl::Time now = result.time;
  for (const config::Stream& stream : config.streams) {
    if (stream.epoch <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("retention: stream ", stream.id,
                                                     ": epoch length must be positive"));
    }
    RetentionReceipt receipt;
    receipt.stream = stream.id;
    receipt.retention_cutoff = now - stream.retention;
    ASSIGN_OR_RETURN(receipt.records_deleted,
                     store.DeleteRecordsBefore(
                         stream.id, absl::ToUnixMicros(receipt.retention_cutoff)));
    // Epochs wholly before the retention cut-off hold no records any more.
    const int64_t retained_epoch = EpochNumber(receipt.retention_cutoff, stream.epoch);
    if (stream.personal()) {
      ASSIGN_OR_RETURN(receipt.data_keys_destroyed,
                       DestroyKeysBefore(store, keyring, crypto::KeyKind::kSubjectDek,
                                         stream.id, retained_epoch));
    }
    receipt.unlinked_before_epoch = EpochNumber(now - stream.linkability, stream.epoch);
    ASSIGN_OR_RETURN(receipt.pseudonym_keys_destroyed,
                     DestroyKeysBefore(store, keyring, crypto::KeyKind::kPseudonym,
                                       stream.id, receipt.unlinked_before_epoch));
    if (stream.personal()) {
      ASSIGN_OR_RETURN(
          receipt.records_unlinked,
          store.UnlinkRecordsBefore(stream.id, receipt.unlinked_before_epoch));
    }
    result.streams.push_back(std::move(receipt));
  }
  const absl::Status compacted = store.Compact();
  if (compacted.ok()) {
    result.compacted = true;
  } else if (!absl::IsUnavailable(compacted)) {
    return compacted;
  }
  return result;
}

std::string RetentionReceiptJson(const RetentionReceipt& r) {
  nlohmann::ordered_json j;
  j["kind"] = "retention";
  j["stream"] = r.stream;
  j["retention_cutoff"] =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", r.retention_cutoff, absl::UTCTimeZone());
  j["records_deleted"] = r.records_deleted;
  j["data_keys_destroyed"] = r.data_keys_destroyed;
  j["unlinked_before_epoch"] = r.unlinked_before_epoch;
  j["pseudonym_keys_destroyed"] = r.pseudonym_keys_destroyed;
  j["records_unlinked"] = r.records_unlinked;
  return j.dump();
}

}  // namespace privacity::rights
