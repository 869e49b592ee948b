#include "common/rate_limit.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace privacity {
namespace {

// Tokens in a bucket after `elapsed` of refilling from `tokens`.
double Refilled(double tokens, const TokenBucket& bucket, absl::Duration elapsed) {
  if (elapsed <= absl::ZeroDuration()) return tokens;  // the clock went back
  return std::min(bucket.burst, tokens + bucket.rate * absl::ToDoubleSeconds(elapsed));
}

absl::Duration Wait(double missing, const TokenBucket& bucket) {
  return std::max(absl::Milliseconds(1), absl::Seconds(missing / bucket.rate));
}

}  // namespace

absl::Status ValidateTokenBucket(const TokenBucket& bucket) {
  if (!std::isfinite(bucket.rate) || bucket.rate <= 0) {
    return absl::InvalidArgumentError("rate limit: the rate must be a number above 0");
  }
  if (!std::isfinite(bucket.burst) || bucket.burst < 1) {
    return absl::InvalidArgumentError("rate limit: the burst must be at least 1");
  }
  return absl::OkStatus();
}

KeyedTokenBuckets::Decision KeyedTokenBuckets::TryTake(const std::string& key,
                                                       const TokenBucket& bucket,
                                                       double cost) {
  return Apply(key, bucket, cost, Mode::kTake);
}

KeyedTokenBuckets::Decision KeyedTokenBuckets::Peek(const std::string& key,
                                                    const TokenBucket& bucket,
                                                    double cost) {
  return Apply(key, bucket, cost, Mode::kPeek);
}

void KeyedTokenBuckets::Charge(const std::string& key, const TokenBucket& bucket,
                               double cost) {
  Apply(key, bucket, cost, Mode::kCharge);
}

size_t KeyedTokenBuckets::size() const {
  absl::MutexLock lock(&mu_);
  return buckets_.size();
}

void KeyedTokenBuckets::SweepLocked(absl::Time now) {
  // A sweep walks every bucket: at most one per second, so a flood of new
  // keys cannot turn each request into a full scan.
  if (now - last_sweep_ < absl::Seconds(1)) return;
  last_sweep_ = now;
  absl::erase_if(buckets_, [&](const auto& entry) {
    const State& s = entry.second;
    return Refilled(s.tokens, s.bucket, now - s.updated) >= s.bucket.burst;
  });
}

KeyedTokenBuckets::Decision KeyedTokenBuckets::Apply(const std::string& key,
                                                     const TokenBucket& bucket,
                                                     double cost, Mode mode) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (mode == Mode::kPeek) {
      // A new key starts full.
      if (bucket.burst >= cost) return {true, absl::ZeroDuration()};
      return {false, Wait(cost - bucket.burst, bucket)};
    }
    if (buckets_.size() >= max_keys_) SweepLocked(now);
    if (buckets_.size() >= max_keys_) return {false, absl::Seconds(1)};
    it = buckets_.emplace(key, State{bucket.burst, now, bucket}).first;
  }
  State& s = it->second;
  s.tokens = Refilled(s.tokens, bucket, now - s.updated);
  if (now > s.updated) s.updated = now;
  s.bucket = bucket;
  switch (mode) {
    case Mode::kCharge:
      s.tokens = std::max(0.0, s.tokens - cost);
      return {true, absl::ZeroDuration()};
    case Mode::kPeek:
    case Mode::kTake:
      if (s.tokens >= cost) {
        if (mode == Mode::kTake) s.tokens -= cost;
        return {true, absl::ZeroDuration()};
      }
      return {false, Wait(cost - s.tokens, bucket)};
  }
  return {false, absl::Seconds(1)};
}

}  // namespace privacity
