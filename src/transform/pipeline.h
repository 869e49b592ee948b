// The stream pipeline: one input record in, one sealed record out.
//
//   validate (declared fields only; undeclared ones are dropped)
//   -> transform (per-field chain from the stream's policy)
//   -> pseudonymize (epoch-scoped keyed pseudonyms) and blind-index the subject
//   -> seal (personal streams: AES-256-GCM under the subject's data key for
//      this stream and epoch, associated data = stream and record id)
//
// The raw identifier exists only in memory, inside Process() / Prepare().
#ifndef PRIVACITY_TRANSFORM_PIPELINE_H_
#define PRIVACITY_TRANSFORM_PIPELINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/random.h"
#include "config/model.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "transform/field_transform.h"
#include "transform/value.h"

namespace privacity::transform {

// What the store keeps of one record (see store::StoredRecord).
struct SealedRecord {
  int64_t id = 0;
  int64_t time_us = 0;
  uint64_t cell = 0;
  int64_t epoch = 0;
  std::string blind_index;  // empty for streams without a subject
  int64_t key_id = 0;       // 0 when the payload is plain
  std::string payload;      // sealed bytes, or canonical JSON
};

// Identifiers are compared after normalisation: surrounding and internal
// whitespace and '-' removed, ASCII letters upper-cased ("ab-12 c" and
// "AB12C" are one subject).
std::string NormalizeIdentifier(std::string_view raw);

// Blind indexes of subject identifiers: HMAC-SHA256 under the trust's index
// key. Thread-safe.
class SubjectIndexer {
 public:
  static absl::StatusOr<std::unique_ptr<SubjectIndexer>> Create(crypto::Keyring& keyring);
  std::string BlindIndex(std::string_view raw_identifier) const;

 private:
  explicit SubjectIndexer(std::unique_ptr<crypto::HmacSha256> mac)
      : mac_(std::move(mac)) {}
  std::unique_ptr<crypto::HmacSha256> mac_;
};

// The associated data binding a sealed payload to its stream and record.
std::string PayloadAssociatedData(std::string_view stream, int64_t record_id);

class StreamPipeline {
 public:
  // REQUIRES: `stream`, `keyring` and `random` outlive the pipeline.
  static absl::StatusOr<std::unique_ptr<StreamPipeline>> Create(
      const config::Stream& stream, crypto::Keyring& keyring, RandomSource& random);

  // Processes `input` as record `id`. InvalidArgument names the field and
  // the reason for a bad record (never the value); any other code is a
  // failure of the trust itself (keys, crypto) and must stop the ingest.
  // Not thread-safe: it caches keys; use one pipeline per thread.
  // Equivalent to Prepare followed by SealAll of that one record.
  absl::StatusOr<SealedRecord> Process(const InputRecord& input, int64_t id);

  // Process in two steps, so that a batch's data keys are fetched (and the
  // missing ones created) together rather than one subject at a time:
  //   Prepare validates, transforms and pseudonymizes; on personal streams
  //     the payload it returns is still the canonical JSON in the clear
  //     (key_id 0), and must be sealed by SealAll before it leaves memory.
  //   SealAll seals each record's payload in place under its subject's
  //     data key for its epoch, asking the keyring once for every key the
  //     records need that is not cached (crypto::Keyring::GetOrCreateAll).
  //     Errors are failures of the trust (keys, crypto); on error the
  //     records must be discarded. Nothing to do on streams without a
  //     subject.
  // REQUIRES (SealAll): every record came from Prepare of this pipeline
  // and was not sealed yet.
  absl::StatusOr<SealedRecord> Prepare(const InputRecord& input, int64_t id);
  absl::Status SealAll(absl::Span<SealedRecord> records);

  // The pipeline caches unwrapped keys (pseudonym keys and subjects' data
  // keys) for as long as it lives. This drops them all when a key was
  // destroyed or renamed in the store since the last check (by any process:
  // crypto::KeyStore::KeyChanges), so that a key destroyed before this call
  // is never used after it. Call it before each batch.
  absl::Status DropCachedKeysIfChanged();
  // How many unwrapped keys the pipeline holds.
  size_t cached_keys() const { return pseudonym_keys_.size() + data_keys_.size(); }

  const config::Stream& stream() const { return stream_; }

 private:
  struct FieldPlan {
    const config::Field* field;
    std::unique_ptr<FieldTransformer> transformer;
    bool pseudonymize;
  };
  struct DataKey {
    int64_t key_id;
    std::unique_ptr<crypto::Aead> aead;
  };

  StreamPipeline(const config::Stream& stream, crypto::Keyring& keyring,
                 RandomSource& random, std::unique_ptr<SubjectIndexer> indexer);
  absl::StatusOr<const crypto::HmacSha256*> PseudonymKey(int64_t epoch);
  // Caches the data keys `records` need, fetching the missing ones at once.
  absl::Status LoadSubjectKeys(absl::Span<const SealedRecord> records);

  const config::Stream& stream_;
  crypto::Keyring& keyring_;
  RandomSource& random_;
  std::unique_ptr<SubjectIndexer> indexer_;
  std::vector<FieldPlan> plan_;
  int time_index_ = -1;
  int subject_index_ = -1;
  int location_index_ = -1;
  // The store's key change count when the caches were last checked.
  int64_t key_changes_ = 0;
  // Bounded caches: cleared when they grow past a limit.
  absl::flat_hash_map<int64_t, std::unique_ptr<crypto::HmacSha256>> pseudonym_keys_;
  absl::flat_hash_map<std::string, DataKey> data_keys_;
};

// Appends `value` as JSON to `out` (times as RFC 3339 strings, cells as S2
// tokens, points as {"lat":..,"lon":..}).
void AppendJsonValue(const Value& value, std::string& out);
// Appends a JSON string literal.
void AppendJsonString(std::string_view s, std::string& out);

}  // namespace privacity::transform

#endif  // PRIVACITY_TRANSFORM_PIPELINE_H_
