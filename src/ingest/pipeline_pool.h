// Stream pipelines kept between ingests, so that the keys a pipeline caches
// (unwrapped pseudonym and data keys) serve many small ingests, such as the
// HTTP server's requests, instead of being looked up and unwrapped again for
// each one.
//
// A pipeline is lent to one ingest at a time. The ingester checks the
// store's key change count before each batch
// (transform::StreamPipeline::DropCachedKeysIfChanged) and DropStaleKeys
// checks the idle pipelines, so a key destroyed or renamed by any process
// sharing the store is not used once the next batch starts, and an idle
// pipeline holds it only until the next DropStaleKeys.
#ifndef PRIVACITY_INGEST_PIPELINE_POOL_H_
#define PRIVACITY_INGEST_PIPELINE_POOL_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/random.h"
#include "config/model.h"
#include "crypto/keyring.h"
#include "transform/pipeline.h"

namespace privacity::ingest {

class PipelinePool {
 public:
  // Keeps at most `max_idle_per_stream` idle pipelines per stream; each may
  // cache up to 16,384 data keys (about 1 KB each with its cipher context).
  // REQUIRES: `keyring` and `random` outlive the pool, and every stream
  // given to Take outlives it too.
  PipelinePool(crypto::Keyring& keyring, RandomSource& random,
               size_t max_idle_per_stream = 2);

  PipelinePool(const PipelinePool&) = delete;
  PipelinePool& operator=(const PipelinePool&) = delete;

  // An idle pipeline of `stream`, or a new one. Its caches are not checked
  // here: the ingester checks them before each batch, the first included.
  absl::StatusOr<std::unique_ptr<transform::StreamPipeline>> Take(
      const config::Stream& stream);
  // Gives back a pipeline from Take, to be lent again (or freed when enough
  // of its stream's are idle).
  void Return(std::unique_ptr<transform::StreamPipeline> pipeline);

  // Drops the cached keys of every idle pipeline when a key was destroyed
  // or renamed since that pipeline last checked. The server calls it every
  // few seconds.
  absl::Status DropStaleKeys();

  // Idle pipelines of all streams, and the unwrapped keys they hold.
  size_t idle() const;
  size_t idle_cached_keys() const;

 private:
  crypto::Keyring& keyring_;
  RandomSource& random_;
  const size_t max_idle_per_stream_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<const config::Stream*,
                      std::vector<std::unique_ptr<transform::StreamPipeline>>>
      idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace privacity::ingest

#endif  // PRIVACITY_INGEST_PIPELINE_POOL_H_
