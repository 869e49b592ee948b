#include "ingest/ingester.h"

#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "crypto/crypto.h"
#include "nlohmann/json.hpp"

namespace privacity::ingest {

namespace {

// SHA-256 over the rows as stored: per row, big-endian id, time_us, cell,
// epoch and key_id, then stream, blind index and payload each prefixed
// with its big-endian uint32 length.
std::string BatchDigest(absl::Span<const store::StoredRecord> batch) {
  size_t size = 0;
  for (const store::StoredRecord& r : batch) {
    size += 5 * 8 + 3 * 4 + r.stream.size() + r.blind_index.size() + r.payload.size();
  }
  std::string bytes;
  bytes.reserve(size);
  auto put = [&bytes](uint64_t v, int width) {
    char be[8];
    for (int i = 0; i < width; ++i) be[i] = static_cast<char>(v >> (8 * (width - 1 - i)));
    bytes.append(be, static_cast<size_t>(width));
  };
  auto put_bytes = [&bytes, &put](const std::string& s) {
    put(static_cast<uint32_t>(s.size()), 4);
    bytes += s;
  };
  for (const store::StoredRecord& r : batch) {
    put(static_cast<uint64_t>(r.id), 8);
    put(static_cast<uint64_t>(r.time_us), 8);
    put(r.cell, 8);
    put(static_cast<uint64_t>(r.epoch), 8);
    put(static_cast<uint64_t>(r.key_id), 8);
    put_bytes(r.stream);
    put_bytes(r.blind_index);
    put_bytes(r.payload);
  }
  return crypto::Sha256(bytes);
}

}  // namespace

// Appends full batches on its own thread, one batch in flight, so the next
// batch is prepared while the previous one is written.
class Ingester::Writer {
 public:
  explicit Writer(store::Store& store) : store_(store), thread_([this] { Run(); }) {}

  ~Writer() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }

  // Waits until the previous batch is written, then hands over `batch`.
  // Returns the error of an earlier batch, if any.
  absl::Status Submit(std::vector<store::StoredRecord> batch) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Writer* w) { return !w->pending_.has_value(); }, this));
    if (!status_.ok()) return status_;
    pending_ = std::move(batch);
    return absl::OkStatus();
  }

  // Waits until everything submitted is written; returns the digests of
  // the batches written (BatchDigest), in order.
  absl::StatusOr<std::string> Drain() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Writer* w) { return !w->pending_.has_value() && !w->busy_; }, this));
    if (!status_.ok()) return status_;
    return batch_digests_;
  }

 private:
  void Run() {
    while (true) {
      std::vector<store::StoredRecord> batch;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](Writer* w) { return w->pending_.has_value() || w->stop_; }, this));
        if (!pending_.has_value()) return;  // stopping with nothing left
        batch = std::move(*pending_);
        pending_.reset();
        busy_ = true;
      }
      absl::Status s =
          !status_ok_snapshot() ? absl::OkStatus() : store_.AppendRecords(batch);
      const std::string digest = s.ok() ? BatchDigest(batch) : std::string();
      absl::MutexLock lock(&mu_);
      busy_ = false;
      if (!s.ok() && status_.ok()) status_ = s;
      if (s.ok()) batch_digests_ += digest;
    }
  }

  bool status_ok_snapshot() {
    absl::MutexLock lock(&mu_);
    return status_.ok();
  }

  store::Store& store_;
  absl::Mutex mu_;
  std::optional<std::vector<store::StoredRecord>> pending_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::string batch_digests_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

Ingester::Ingester(const config::Stream& stream, store::Store& store,
                   IngestOptions options)
    : stream_(stream), store_(store), options_(std::move(options)) {}

Ingester::~Ingester() {
  // The writer stops first: nothing uses the pipeline once it is returned.
  writer_.reset();
  if (options_.pipelines != nullptr) options_.pipelines->Return(std::move(pipeline_));
}

absl::StatusOr<std::unique_ptr<Ingester>> Ingester::Create(const config::Stream& stream,
                                                           store::Store& store,
                                                           crypto::Keyring& keyring,
                                                           RandomSource& random,
                                                           IngestOptions options) {
  if (options.batch_size == 0) {
    return absl::InvalidArgumentError("batch size must be positive");
  }
  std::unique_ptr<Ingester> ingester(new Ingester(stream, store, std::move(options)));
  IngestOptions& o = ingester->options_;
  if (o.pipelines != nullptr) {
    ASSIGN_OR_RETURN(ingester->pipeline_, o.pipelines->Take(stream));
  } else {
    ASSIGN_OR_RETURN(ingester->pipeline_,
                     transform::StreamPipeline::Create(stream, keyring, random));
  }
  ingester->batch_.reserve(o.batch_size);
  return ingester;
}

void Ingester::Reject(int64_t line, std::string message) {
  ++summary_.rejected;
  if (summary_.errors.size() < options_.max_reported_errors) {
    summary_.errors.push_back(RecordError{line, std::move(message)});
  }
}

absl::Status Ingester::Add(const transform::InputRecord& record) {
  if (!keys_checked_) {
    // A key destroyed before this point is not used for the batch.
    RETURN_IF_ERROR(pipeline_->DropCachedKeysIfChanged());
    keys_checked_ = true;
  }
  if (ids_left_ == 0) {
    ASSIGN_OR_RETURN(next_id_,
                     store_.ReserveRecordIds(static_cast<int64_t>(options_.batch_size)));
    ids_left_ = static_cast<int64_t>(options_.batch_size);
  }
  auto prepared = pipeline_->Prepare(record, next_id_);
  if (!prepared.ok()) {
    if (!absl::IsInvalidArgument(prepared.status())) return prepared.status();
    Reject(record.line, std::string(prepared.status().message()));
    return absl::OkStatus();
  }
  ++next_id_;
  --ids_left_;
  batch_.push_back(*std::move(prepared));
  if (batch_.size() >= options_.batch_size) return Flush();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<store::StoredRecord>> Ingester::SealBatch() {
  std::vector<transform::SealedRecord> prepared = std::move(batch_);
  batch_.clear();
  keys_checked_ = false;
  // Sealed before anything leaves this thread; on failure the batch is
  // dropped with its clear payloads, never written.
  RETURN_IF_ERROR(pipeline_->SealAll(absl::MakeSpan(prepared)));
  std::vector<store::StoredRecord> batch(prepared.size());
  for (size_t i = 0; i < prepared.size(); ++i) {
    transform::SealedRecord& in = prepared[i];
    store::StoredRecord& out = batch[i];
    out.id = in.id;
    out.stream = stream_.id;
    out.time_us = in.time_us;
    out.cell = in.cell;
    out.epoch = in.epoch;
    out.blind_index = std::move(in.blind_index);
    out.key_id = in.key_id;
    out.payload = std::move(in.payload);
  }
  summary_.accepted += static_cast<int64_t>(batch.size());
  if (!batch.empty()) ++summary_.batches;
  return batch;
}

absl::Status Ingester::Flush() {
  ASSIGN_OR_RETURN(std::vector<store::StoredRecord> batch, SealBatch());
  batch_.reserve(options_.batch_size);
  if (writer_ == nullptr) writer_ = std::make_unique<Writer>(store_);
  return writer_->Submit(std::move(batch));
}

std::string Ingester::digest() const { return crypto::Sha256(batch_digests_); }

absl::Status Ingester::WriteLastBatch() {
  ASSIGN_OR_RETURN(const std::vector<store::StoredRecord> last, SealBatch());
  const std::vector<store::IngestKey> keys = std::move(claims_);
  claims_.clear();
  if (writer_ != nullptr) {
    ASSIGN_OR_RETURN(batch_digests_, writer_->Drain());
  }
  const bool stores_batch = !last.empty() || !keys.empty();
  if (stores_batch) batch_digests_ += BatchDigest(last);
  if (options_.log_ingest) {
    return options_.log_ingest(summary_, digest(), [&](store::LogBatchBuilder build) {
      return store_.AppendRecordsWithLog(last, keys, build);
    });
  }
  if (!stores_batch) return absl::OkStatus();
  return keys.empty() ? store_.AppendRecords(last) : store_.AppendRecordsOnce(last, keys);
}

absl::Status Ingester::Finish() {
  const absl::Status s = WriteLastBatch();
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("storing records of stream '", stream_.id,
                                               "' failed: ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace privacity::ingest

namespace privacity::ingest {
namespace {

// Counts line breaks, for a progress estimate.
int64_t CountLines(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return 0;
  std::vector<char> buf(1 << 20);
  int64_t lines = 0;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    for (const char* p = buf.data();
         (p = static_cast<const char*>(std::memchr(p, '\n', buf.data() + n - p))) !=
         nullptr;
         ++p) {
      ++lines;
    }
  }
  std::fclose(f);
  return lines;
}

}  // namespace

absl::StatusOr<IngestSummary> IngestFile(const config::Stream& stream,
                                         store::Store& store, crypto::Keyring& keyring,
                                         RandomSource& random, Clock& clock,
                                         const std::string& path,
                                         const FileIngestOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Ingester> ingester,
                   Ingester::Create(stream, store, keyring, random, options.ingest));
  ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader,
                   RecordReader::Create(options.limits));
  IngestProgress progress;
  if (options.on_progress) progress.total_estimate = CountLines(path);
  const absl::Time start = clock.Now();
  absl::Time next_report = start + options.progress_interval;
  auto report = [&](bool force) {
    if (!options.on_progress) return;
    const absl::Time now = clock.Now();
    if (!force && now < next_report) return;
    next_report = now + options.progress_interval;
    progress.elapsed = now - start;
    const double seconds = absl::ToDoubleSeconds(progress.elapsed);
    progress.records_per_second = seconds > 0 ? progress.records / seconds : 0;
    progress.time_left = absl::ZeroDuration();
    if (progress.records_per_second > 0 && progress.total_estimate > progress.records) {
      progress.time_left = absl::Seconds((progress.total_estimate - progress.records) /
                                         progress.records_per_second);
    }
    options.on_progress(progress);
  };
  auto read = reader->ReadFile(
      path, options.format,
      [&](const transform::InputRecord& record) -> absl::Status {
        if ((++progress.records & 1023) == 0) report(false);
        return ingester->Add(record);
      },
      [&](const ReadError& error) -> absl::Status {
        ++progress.records;
        ingester->Reject(error.line, error.message);
        return absl::OkStatus();
      });
  // Whatever was read is stored even when the read ends early.
  const absl::Status finished = ingester->Finish();
  if (!read.ok()) return read.status();
  RETURN_IF_ERROR(finished);
  report(true);
  return ingester->summary();
}

absl::StatusOr<IngestSummary> IngestBuffer(const config::Stream& stream,
                                           store::Store& store, crypto::Keyring& keyring,
                                           RandomSource& random, absl::string_view input,
                                           InputFormat format,
                                           const IngestOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Ingester> ingester,
                   Ingester::Create(stream, store, keyring, random, options));
  ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader,
                   RecordReader::Create(ReaderLimits{}));
  auto read = reader->ReadBuffer(
      input, format,
      [&](const transform::InputRecord& record) { return ingester->Add(record); },
      [&](const ReadError& error) -> absl::Status {
        ingester->Reject(error.line, error.message);
        return absl::OkStatus();
      });
  const absl::Status finished = ingester->Finish();
  if (!read.ok()) return read.status();
  RETURN_IF_ERROR(finished);
  return ingester->summary();
}

std::string SummaryJson(const IngestSummary& summary) {
  nlohmann::ordered_json errors = nlohmann::ordered_json::array();
  for (const RecordError& e : summary.errors) {
    errors.push_back({{"line", e.line}, {"message", e.message}});
  }
  nlohmann::ordered_json j = {
      {"accepted", summary.accepted}, {"rejected", summary.rejected}, {"errors", errors}};
  return j.dump();
}

}  // namespace privacity::ingest
