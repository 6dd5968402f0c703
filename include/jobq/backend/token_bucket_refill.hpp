#pragma once
// For backend authors. Token-bucket arithmetic for rate limits: pure functions, no clock, no
// I/O. The store keeps a bucket per rate-limited scope and updates it inside the claim
// transaction, so the limit holds across every worker process.

#include "jobq/clock.hpp"
#include "jobq/rate_limit.hpp"
#include "jobq/token_bucket.hpp"

namespace jobq {

/// A new bucket: full (capacity tokens) at `now`.
TokenBucket full_bucket(const RateLimit& rate, Timestamp now);

/// The bucket at `now`: tokens grow by limit/period per unit of time since `at`, capped at
/// the capacity. A `now` before `at` (clocks of two hosts) adds nothing and keeps `at`.
TokenBucket refill(const TokenBucket& bucket, const RateLimit& rate, Timestamp now);

/// When a bucket refilled to `bucket.at` will next hold at least one whole token; `bucket.at`
/// when it already does.
Timestamp next_token_at(const TokenBucket& bucket, const RateLimit& rate);

/// A bucket after a change of its rate at run time: refilled under the old rate to `now`,
/// then clamped to the new capacity (lowering a limit does not leave a burst behind).
TokenBucket rebucket(const TokenBucket& bucket, const RateLimit& old_rate,
                     const RateLimit& new_rate, Timestamp now);

}  // namespace jobq
