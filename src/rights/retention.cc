#include "rights/retention.h"

#include <algorithm>

#include "absl/strings/match.h"
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

// Renames the subject data keys of `stream` with epoch < `before` that
// still name a subject to a random, unlinked name.
absl::StatusOr<int64_t> UnlinkDataKeysBefore(store::Store& store,
                                             crypto::Keyring& keyring,
                                             RandomSource& random,
                                             const std::string& stream, int64_t before) {
  ASSIGN_OR_RETURN(
      std::vector<crypto::WrappedKey> keys,
      store.keys().ListKeysBefore(crypto::KeyKind::kSubjectDek, stream, before));
  int64_t unlinked = 0;
  for (const crypto::WrappedKey& key : keys) {
    if (absl::StartsWith(key.name.subject, kUnlinkedSubjectPrefix)) continue;
    crypto::KeyName name = key.name;
    name.subject = absl::StrCat(kUnlinkedSubjectPrefix, random.Bytes(16));
    const absl::Status renamed = keyring.Rename(key.id, name);
    if (renamed.ok()) {
      ++unlinked;
    } else if (!absl::IsNotFound(renamed)) {  // NotFound: erased meanwhile
      return renamed;
    }
  }
  return unlinked;
}

}  // namespace

absl::StatusOr<SweepResult> SweepRetention(const config::CityConfig& config,
                                           store::Store& store, crypto::Keyring& keyring,
                                           Clock& clock, RandomSource& random,
                                           RightsLog& log) {
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
      ASSIGN_OR_RETURN(receipt.data_keys_unlinked,
                       UnlinkDataKeysBefore(store, keyring, random, stream.id,
                                            receipt.unlinked_before_epoch));
    }
    audit::RetentionLeaf leaf;
    leaf.time = now;
    leaf.stream = stream.id;
    leaf.cutoff = receipt.retention_cutoff;
    leaf.records_deleted = receipt.records_deleted;
    leaf.data_keys_destroyed = receipt.data_keys_destroyed;
    // Epoch numbers before 1970 are negative; the leaf counts from 0.
    leaf.unlinked_before_epoch = std::max<int64_t>(0, receipt.unlinked_before_epoch);
    leaf.pseudonym_keys_destroyed = receipt.pseudonym_keys_destroyed;
    leaf.records_unlinked = receipt.records_unlinked;
    leaf.data_keys_unlinked = receipt.data_keys_unlinked;
    ASSIGN_OR_RETURN(receipt.log_index, log.Append(leaf));
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
  j["data_keys_unlinked"] = r.data_keys_unlinked;
  j["log_index"] = r.log_index;
  return j.dump();
}

}  // namespace privacity::rights
