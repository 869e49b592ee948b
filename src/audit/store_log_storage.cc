#include "audit/store_log_storage.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace privacity::audit {
namespace {

absl::StatusOr<Hash> StoredHash(const std::string& bytes, absl::string_view what) {
  auto hash = HashFromBytes(bytes);
  if (!hash.ok()) {
    return absl::DataLossError(absl::StrCat("stored log ", what, " is not 32 bytes"));
  }
  return *hash;
}

absl::StatusOr<std::vector<Hash>> StoredHashes(const std::vector<std::string>& rows,
                                               absl::string_view what) {
  std::vector<Hash> out;
  out.reserve(rows.size());
  for (const std::string& row : rows) {
    ASSIGN_OR_RETURN(Hash h, StoredHash(row, what));
    out.push_back(h);
  }
  return out;
}

}  // namespace

store::LogBatch ToStoreBatch(const LogAppend& batch) {
  store::LogBatch out;
  out.first_index = batch.first_index;
  out.entries.reserve(batch.entries.size());
  for (const LogEntry& e : batch.entries) {
    out.entries.push_back(
        store::LogEntryRow{e.data, std::string(HashBytes(e.leaf_hash))});
  }
  out.nodes.reserve(batch.nodes.size());
  for (const StoredNode& n : batch.nodes) {
    out.nodes.push_back(
        store::LogNodeRow{n.id.level, n.id.index, std::string(HashBytes(n.hash))});
  }
  out.frontier.size = batch.frontier.size;
  out.frontier.hashes.reserve(batch.frontier.hashes.size() * kHashSize);
  for (const Hash& h : batch.frontier.hashes) {
    out.frontier.hashes.append(HashBytes(h).data(), kHashSize);
  }
  return out;
}

absl::Status StoreLogStorage::Append(const LogAppend& batch) {
  return store_.Append(ToStoreBatch(batch));
}

absl::StatusOr<LogFrontier> StoreLogStorage::ReadFrontier() {
  ASSIGN_OR_RETURN(const store::LogFrontierRow row, store_.ReadFrontier());
  return FromStoreFrontier(row);
}

absl::StatusOr<LogFrontier> FromStoreFrontier(const store::LogFrontierRow& row) {
  if (row.hashes.size() % kHashSize != 0) {
    return absl::DataLossError("stored log frontier is not a list of 32-byte hashes");
  }
  LogFrontier out;
  out.size = row.size;
  for (size_t i = 0; i < row.hashes.size(); i += kHashSize) {
    ASSIGN_OR_RETURN(Hash h,
                     HashFromBytes(absl::string_view(row.hashes).substr(i, kHashSize)));
    out.hashes.push_back(h);
  }
  return out;
}

absl::StatusOr<std::vector<LogEntry>> StoreLogStorage::ReadEntries(uint64_t begin,
                                                                   uint64_t end) {
  ASSIGN_OR_RETURN(std::vector<store::LogEntryRow> rows, store_.ReadEntries(begin, end));
  std::vector<LogEntry> out;
  out.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSIGN_OR_RETURN(
        Hash h, StoredHash(rows[i].leaf_hash, absl::StrCat("leaf hash ", begin + i)));
    out.push_back(LogEntry{std::move(rows[i].data), h});
  }
  return out;
}

absl::StatusOr<std::vector<Hash>> StoreLogStorage::ReadNodes(
    absl::Span<const NodeId> ids) {
  std::vector<store::LogNodeKey> keys;
  keys.reserve(ids.size());
  for (const NodeId& id : ids) keys.push_back(store::LogNodeKey{id.level, id.index});
  ASSIGN_OR_RETURN(std::vector<std::string> rows, store_.ReadNodes(keys));
  return StoredHashes(rows, "node hash");
}

absl::StatusOr<std::vector<Hash>> StoreLogStorage::ReadNodeRange(int level,
                                                                 uint64_t begin,
                                                                 uint64_t end) {
  ASSIGN_OR_RETURN(std::vector<std::string> rows,
                   store_.ReadNodeRange(level, begin, end));
  return StoredHashes(rows, absl::StrCat("node hash at level ", level));
}

}  // namespace privacity::audit
