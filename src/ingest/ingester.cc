#include "ingest/ingester.h"

#include <optional>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"

namespace privacity::ingest {

// Appends batches on its own thread, one batch in flight, so the next batch
// is prepared while the previous one is written.
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
    mu_.Await(absl::Condition(+[](Writer* w) { return !w->pending_.has_value(); }, this));
    if (!status_.ok()) return status_;
    pending_ = std::move(batch);
    return absl::OkStatus();
  }

  // Waits until everything submitted is written.
  absl::Status Drain() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(+[](Writer* w) { return !w->pending_.has_value() && !w->busy_; },
                              this));
    return status_;
  }

 private:
  void Run() {
    while (true) {
      std::vector<store::StoredRecord> batch;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(+[](Writer* w) { return w->pending_.has_value() || w->stop_; },
                                  this));
        if (!pending_.has_value()) return;  // stopping with nothing left
        batch = std::move(*pending_);
        pending_.reset();
        busy_ = true;
      }
      absl::Status s = status_ok_snapshot() ? store_.AppendRecords(batch) : absl::OkStatus();
      absl::MutexLock lock(&mu_);
      busy_ = false;
      if (!s.ok() && status_.ok()) status_ = s;
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
  std::thread thread_;
};

Ingester::Ingester(const config::Stream& stream, store::Store& store, IngestOptions options)
    : stream_(stream), store_(store), options_(options) {}

Ingester::~Ingester() = default;

absl::StatusOr<std::unique_ptr<Ingester>> Ingester::Create(const config::Stream& stream,
                                                           store::Store& store,
                                                           crypto::Keyring& keyring,
                                                           RandomSource& random,
                                                           IngestOptions options) {
  if (options.batch_size == 0) {
    return absl::InvalidArgumentError("batch size must be positive");
  }
  std::unique_ptr<Ingester> ingester(new Ingester(stream, store, options));
  ASSIGN_OR_RETURN(ingester->pipeline_,
                   transform::StreamPipeline::Create(stream, keyring, random));
  ingester->writer_ = std::make_unique<Writer>(store);
  ingester->batch_.reserve(options.batch_size);
  return ingester;
}

void Ingester::Reject(int64_t line, std::string message) {
  ++summary_.rejected;
  if (summary_.errors.size() < options_.max_reported_errors) {
    summary_.errors.push_back(RecordError{line, std::move(message)});
  }
}

absl::Status Ingester::Add(const transform::InputRecord& record) {
  if (ids_left_ == 0) {
    ASSIGN_OR_RETURN(next_id_, store_.ReserveRecordIds(static_cast<int64_t>(options_.batch_size)));
    ids_left_ = static_cast<int64_t>(options_.batch_size);
  }
  auto sealed = pipeline_->Process(record, next_id_);
  if (!sealed.ok()) {
    if (!absl::IsInvalidArgument(sealed.status())) return sealed.status();
    Reject(record.line, std::string(sealed.status().message()));
    return absl::OkStatus();
  }
  ++next_id_;
  --ids_left_;
  store::StoredRecord& out = batch_.emplace_back();
  out.id = sealed->id;
  out.stream = stream_.id;
  out.time_us = sealed->time_us;
  out.cell = sealed->cell;
  out.epoch = sealed->epoch;
  out.blind_index = std::move(sealed->blind_index);
  out.key_id = sealed->key_id;
  out.payload = std::move(sealed->payload);
  if (batch_.size() >= options_.batch_size) return Flush();
  return absl::OkStatus();
}

absl::Status Ingester::Flush() {
  if (batch_.empty()) return absl::OkStatus();
  const int64_t n = static_cast<int64_t>(batch_.size());
  std::vector<store::StoredRecord> batch;
  batch.reserve(options_.batch_size);
  batch.swap(batch_);
  RETURN_IF_ERROR(writer_->Submit(std::move(batch)));
  summary_.accepted += n;
  ++summary_.batches;
  return absl::OkStatus();
}

absl::Status Ingester::Finish() {
  RETURN_IF_ERROR(Flush());
  const absl::Status s = writer_->Drain();
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("storing records of stream '", stream_.id,
                                               "' failed: ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace privacity::ingest
