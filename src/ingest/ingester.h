// Ingest of one stream: input records in, sealed records stored.
//
// Records pass through the stream pipeline (transform/pipeline.h) on the
// caller's thread. Full batches are appended to the store by a writer
// thread, so parsing and sealing overlap with the database write; the last
// batch is written by Finish, with the ingest's transparency-log leaf in
// the same transaction (IngestOptions::log_ingest). A batch
// is sealed as a whole when it is full, its subjects' data keys fetched and
// created together (one or two round trips to the key store per batch,
// not per subject). Each batch is one transaction: a record is stored
// whole or not at all, and a bad record never stops its good neighbours.
#ifndef PRIVACITY_INGEST_INGESTER_H_
#define PRIVACITY_INGEST_INGESTER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/model.h"
#include "crypto/keyring.h"
#include "ingest/pipeline_pool.h"
#include "ingest/record_reader.h"
#include "store/store.h"
#include "transform/pipeline.h"
#include "transform/value.h"

namespace privacity::ingest {

struct RecordError {
  int64_t line = 0;
  std::string message;  // names the field and reason; never a value
};

struct IngestSummary {
  int64_t accepted = 0;
  int64_t rejected = 0;
  std::vector<RecordError> errors;  // the first max_reported_errors
  int64_t batches = 0;
};

// Stores the ingest's last batch in one transaction with the transparency
// log's batch that `build` makes for the log as stored in that transaction
// (store::Store::AppendRecordsWithLog).
using LastBatchWriter = absl::FunctionRef<absl::Status(store::LogBatchBuilder build)>;

// Logs an ingest (IngestOptions::log_ingest). `digest` is SHA-256 over the
// SHA-256 of each stored batch in order, each over its rows as stored
// (sealed; docs/log_format.md), so it holds no raw input. It appends the
// ingest's leaf through `write`.
using IngestLogger = std::function<absl::Status(
    const IngestSummary& summary, const std::string& digest, LastBatchWriter write)>;

struct IngestOptions {
  size_t batch_size = 8192;
  size_t max_reported_errors = 100;
  // When set, Finish writes the last batch (possibly empty) in one
  // transaction with the transparency log's ingest leaf, through this: an
  // ingest's records and the leaf that logs them are durable together, or
  // the last batch is not stored and Finish fails.
  IngestLogger log_ingest;
  // When set, the ingest borrows its stream pipeline (and the keys it has
  // cached) from here and gives it back at the end, instead of building one.
  PipelinePool* pipelines = nullptr;
};

class Ingester {
 public:
  // REQUIRES: every argument outlives the ingester.
  static absl::StatusOr<std::unique_ptr<Ingester>> Create(const config::Stream& stream,
                                                          store::Store& store,
                                                          crypto::Keyring& keyring,
                                                          RandomSource& random,
                                                          IngestOptions options);
  ~Ingester();

  // Processes one record. A bad record is counted and reported, and OK is
  // returned; an error means the trust itself failed (store, keys) and the
  // ingest must stop.
  absl::Status Add(const transform::InputRecord& record);
  // Counts a record the reader could not parse.
  void Reject(int64_t line, std::string message);
  // Claims a dedupe key (store::IngestKey) in the transaction of the last
  // batch, written by Finish even when no record was accepted: the records
  // and the claim are durable together or not at all (ingest/mqtt).
  void Claim(store::IngestKey key) { claims_.push_back(std::move(key)); }
  // Waits for the batches being written, then writes the last one (with the
  // claims and the log leaf, IngestOptions::log_ingest) on this thread.
  // Call once, at the end.
  absl::Status Finish();

  const IngestSummary& summary() const { return summary_; }
  // The digest of what was stored (see IngestLogger).
  // REQUIRES: Finish() returned OK.
  std::string digest() const;

 private:
  class Writer;
  Ingester(const config::Stream& stream, store::Store& store, IngestOptions options);
  // Seals what Add buffered and counts it as accepted.
  absl::StatusOr<std::vector<store::StoredRecord>> SealBatch();
  // Hands a full batch to the writer thread (started by the first one).
  absl::Status Flush();
  absl::Status WriteLastBatch();

  const config::Stream& stream_;
  store::Store& store_;
  IngestOptions options_;
  std::unique_ptr<transform::StreamPipeline> pipeline_;  // back to the pool at the end
  bool keys_checked_ = false;                            // for the batch being built
  std::unique_ptr<Writer> writer_;                       // only once a batch fills up
  std::string batch_digests_;  // of the batches stored, in order
  // Prepared, not yet sealed (payloads in the clear, in memory only).
  std::vector<transform::SealedRecord> batch_;
  int64_t next_id_ = 0;
  int64_t ids_left_ = 0;
  IngestSummary summary_;
  std::vector<store::IngestKey> claims_;
};

struct IngestProgress {
  int64_t records = 0;         // records read so far (good and bad)
  int64_t total_estimate = 0;  // line count of the input, 0 if unknown
  double records_per_second = 0;
  absl::Duration elapsed;
  absl::Duration time_left;  // estimate; zero if unknown
};

struct FileIngestOptions {
  InputFormat format = InputFormat::kAuto;
  IngestOptions ingest;
  ReaderLimits limits;
  // Called about every `progress_interval` of `clock` time while reading.
  std::function<void(const IngestProgress&)> on_progress;
  absl::Duration progress_interval = absl::Milliseconds(500);
};

// Reads `path` and ingests every record into `stream`. Returns the summary
// (bad records are counted and reported in it); an error means the input
// as a whole could not be read (unreadable, empty, unknown format) or the
// trust failed, and names the file but no record content.
absl::StatusOr<IngestSummary> IngestFile(const config::Stream& stream,
                                         store::Store& store, crypto::Keyring& keyring,
                                         RandomSource& random, Clock& clock,
                                         const std::string& path,
                                         const FileIngestOptions& options);

// The same for an in-memory input (an HTTP request body).
absl::StatusOr<IngestSummary> IngestBuffer(const config::Stream& stream,
                                           store::Store& store, crypto::Keyring& keyring,
                                           RandomSource& random, absl::string_view input,
                                           InputFormat format,
                                           const IngestOptions& options);

// {"accepted":N,"rejected":M,"errors":[{"line":L,"message":"..."}...]}
std::string SummaryJson(const IngestSummary& summary);

}  // namespace privacity::ingest

#endif  // PRIVACITY_INGEST_INGESTER_H_
