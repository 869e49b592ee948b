// Token buckets keyed by a string (a party, a client address, a blind
// index), in memory, with time from a Clock. The one rate limiter of the
// project: the HTTP API's request limits (server/rate_limit.h) and the
// wrong-claim-code throttle (rights/claim.h) both use it.
//
// A bucket holds at most `burst` tokens and gains `rate` tokens per second;
// a new key starts full. Over any interval t a key can spend at most
// burst + rate * t tokens.
//
// Memory is bounded: a bucket that has refilled completely is the same as
// no bucket and is dropped when space is needed. When `max_keys` buckets
// are all partly used, a new key is refused (fail closed) rather than
// evicting someone's history, which would hand out a fresh burst.
#ifndef PRIVACITY_COMMON_RATE_LIMIT_H_
#define PRIVACITY_COMMON_RATE_LIMIT_H_

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace privacity {

struct TokenBucket {
  double rate = 1;   // tokens gained per second; > 0
  double burst = 1;  // capacity; >= 1
};

// OK when `bucket` is usable (finite rate > 0, finite burst >= 1);
// InvalidArgument naming what is wrong otherwise.
absl::Status ValidateTokenBucket(const TokenBucket& bucket);

class KeyedTokenBuckets {
 public:
  struct Decision {
    bool allowed = false;
    // When denied: how long until the tokens asked for are there (at least
    // 1 ms). Zero when allowed.
    absl::Duration retry_after;
  };

  // REQUIRES: `clock` outlives this; max_keys >= 1.
  explicit KeyedTokenBuckets(Clock& clock, size_t max_keys = 100000)
      : clock_(clock), max_keys_(max_keys) {}

  // Takes `cost` tokens from `key`'s bucket when it holds that many.
  // REQUIRES: ValidateTokenBucket(bucket).ok(), 0 < cost.
  Decision TryTake(const std::string& key, const TokenBucket& bucket, double cost = 1);

  // What TryTake would decide, taking nothing.
  Decision Peek(const std::string& key, const TokenBucket& bucket, double cost = 1);

  // Takes `cost` tokens whatever the bucket holds (down to zero at most),
  // e.g. to count a failure after the fact. A new key that finds the table
  // full is not recorded.
  void Charge(const std::string& key, const TokenBucket& bucket, double cost = 1);

  // Buckets currently held.
  size_t size() const;

 private:
  enum class Mode { kTake, kPeek, kCharge };
  struct State {
    double tokens = 0;
    absl::Time updated;
    TokenBucket bucket;  // as last used, to tell when it has refilled
  };
  Decision Apply(const std::string& key, const TokenBucket& bucket, double cost,
                 Mode mode);
  // Drops buckets that have refilled. At most once per second of clock time.
  void SweepLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock& clock_;
  const size_t max_keys_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, State> buckets_ ABSL_GUARDED_BY(mu_);
  absl::Time last_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace privacity

#endif  // PRIVACITY_COMMON_RATE_LIMIT_H_
