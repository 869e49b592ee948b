#include "ingest/pipeline_pool.h"

#include <utility>

namespace privacity::ingest {

PipelinePool::PipelinePool(crypto::Keyring& keyring, RandomSource& random,
                           size_t max_idle_per_stream)
    : keyring_(keyring), random_(random), max_idle_per_stream_(max_idle_per_stream) {}

absl::StatusOr<std::unique_ptr<transform::StreamPipeline>> PipelinePool::Take(
    const config::Stream& stream) {
  std::unique_ptr<transform::StreamPipeline> pipeline;
  {
    absl::MutexLock lock(&mu_);
    auto it = idle_.find(&stream);
    if (it != idle_.end() && !it->second.empty()) {
      pipeline = std::move(it->second.back());
      it->second.pop_back();
    }
  }
  if (pipeline == nullptr) {
    return transform::StreamPipeline::Create(stream, keyring_, random_);
  }
  return pipeline;
}

void PipelinePool::Return(std::unique_ptr<transform::StreamPipeline> pipeline) {
  if (pipeline == nullptr) return;
  absl::MutexLock lock(&mu_);
  std::vector<std::unique_ptr<transform::StreamPipeline>>& idle =
      idle_[&pipeline->stream()];
  if (idle.size() < max_idle_per_stream_) idle.push_back(std::move(pipeline));
}

absl::Status PipelinePool::DropStaleKeys() {
  absl::MutexLock lock(&mu_);
  absl::Status status;
  for (auto& [stream, pipelines] : idle_) {
    for (std::unique_ptr<transform::StreamPipeline>& pipeline : pipelines) {
      status = pipeline->DropCachedKeysIfChanged();
      if (!status.ok()) break;
    }
    if (!status.ok()) break;
  }
  // Keys that could not be checked do not stay in memory.
  if (!status.ok()) idle_.clear();
  return status;
}

size_t PipelinePool::idle() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [stream, pipelines] : idle_) n += pipelines.size();
  return n;
}

size_t PipelinePool::idle_cached_keys() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [stream, pipelines] : idle_) {
    for (const auto& pipeline : pipelines) n += pipeline->cached_keys();
  }
  return n;
}

}  // namespace privacity::ingest
