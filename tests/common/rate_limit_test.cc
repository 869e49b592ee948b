#include "common/rate_limit.h"

#include "gtest/gtest.h"

namespace privacity {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1767225600);

TEST(TokenBucketTest, ValidatesSettings) {
  EXPECT_TRUE(ValidateTokenBucket({1, 1}).ok());
  EXPECT_TRUE(ValidateTokenBucket({0.01, 500}).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateTokenBucket({0, 5})));
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateTokenBucket({-1, 5})));
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateTokenBucket({1, 0.5})));
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateTokenBucket({1.0 / 0.0, 5})));
}

TEST(KeyedTokenBucketsTest, BurstThenRefillAtTheRate) {
  ManualClock clock(kStart);
  KeyedTokenBuckets buckets(clock);
  const TokenBucket b{2, 5};  // 2 per second, 5 at once
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(buckets.TryTake("a", b).allowed) << i;
  KeyedTokenBuckets::Decision d = buckets.TryTake("a", b);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, absl::Milliseconds(500));
  // Other keys have their own bucket.
  EXPECT_TRUE(buckets.TryTake("b", b).allowed);
  clock.Advance(absl::Milliseconds(499));
  EXPECT_FALSE(buckets.TryTake("a", b).allowed);
  clock.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(buckets.TryTake("a", b).allowed);
  EXPECT_FALSE(buckets.TryTake("a", b).allowed);
  // Never more than the burst, however long the wait.
  clock.Advance(absl::Hours(1));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(buckets.TryTake("a", b).allowed) << i;
  EXPECT_FALSE(buckets.TryTake("a", b).allowed);
}

TEST(KeyedTokenBucketsTest, PeekTakesNothingAndChargeCountsAfterTheFact) {
  ManualClock clock(kStart);
  KeyedTokenBuckets buckets(clock);
  const TokenBucket b{1.0 / 60, 3};  // 3 at once, one more per minute
  EXPECT_TRUE(buckets.Peek("k", b).allowed);
  EXPECT_EQ(buckets.size(), 0u);  // peeking a new key stores nothing
  for (int i = 0; i < 3; ++i) buckets.Charge("k", b);
  KeyedTokenBuckets::Decision d = buckets.Peek("k", b);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, absl::Minutes(1));
  buckets.Charge("k", b);  // does not go below zero
  clock.Advance(absl::Minutes(1));
  EXPECT_TRUE(buckets.Peek("k", b).allowed);
  EXPECT_TRUE(buckets.Peek("k", b).allowed);
  EXPECT_FALSE(buckets.Peek("k", b, 2).allowed);
}

TEST(KeyedTokenBucketsTest, FailsClosedWhenFullAndDropsRefilledBuckets) {
  ManualClock clock(kStart);
  KeyedTokenBuckets buckets(clock, /*max_keys=*/2);
  const TokenBucket b{1, 2};
  EXPECT_TRUE(buckets.TryTake("a", b).allowed);
  EXPECT_TRUE(buckets.TryTake("b", b).allowed);
  KeyedTokenBuckets::Decision d = buckets.TryTake("c", b);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, absl::Seconds(1));
  buckets.Charge("c", b);  // not recorded either
  // After a second "a" and "b" are full again: the same as absent.
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(buckets.TryTake("c", b).allowed);
  EXPECT_EQ(buckets.size(), 1u);
}

TEST(KeyedTokenBucketsTest, AClockGoingBackRefillsNothing) {
  ManualClock clock(kStart);
  KeyedTokenBuckets buckets(clock);
  const TokenBucket b{1, 1};
  EXPECT_TRUE(buckets.TryTake("a", b).allowed);
  clock.Set(kStart - absl::Hours(1));
  EXPECT_FALSE(buckets.TryTake("a", b).allowed);
  clock.Set(kStart + absl::Seconds(1));
  EXPECT_TRUE(buckets.TryTake("a", b).allowed);
}

}  // namespace
}  // namespace privacity
