#include "server/record_access.h"

#include "transform/pipeline.h"

namespace privacity::server {

absl::StatusOr<bool> PayloadOpener::KeyExists(const store::StoredRecord& record) {
  if (record.key_id == 0 || data_keys_.contains(record.key_id)) return true;
  auto key = keyring_.GetById(record.key_id);
  if (absl::IsNotFound(key.status())) return false;
  if (!key.ok()) return key.status();
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Aead> aead, crypto::Aead::Create(key->key));
  data_keys_.emplace(record.key_id, std::move(aead));
  return true;
}

absl::StatusOr<std::optional<std::string>> PayloadOpener::Open(
    const store::StoredRecord& record) {
  if (record.key_id == 0) return record.payload;
  auto it = data_keys_.find(record.key_id);
  if (it == data_keys_.end()) {
    auto key = keyring_.GetById(record.key_id);
    if (absl::IsNotFound(key.status())) return std::nullopt;
    if (!key.ok()) return key.status();
    ASSIGN_OR_RETURN(std::unique_ptr<crypto::Aead> aead, crypto::Aead::Create(key->key));
    it = data_keys_.emplace(record.key_id, std::move(aead)).first;
  }
  ASSIGN_OR_RETURN(std::string plaintext,
                   it->second->Open(record.payload, transform::PayloadAssociatedData(
                                                        stream_.id, record.id)));
  return plaintext;
}

}  // namespace privacity::server
