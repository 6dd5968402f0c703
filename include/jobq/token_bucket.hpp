#pragma once
// TokenBucket: the state of a rate limit's bucket as a store keeps it (LimitRecord::bucket).
// The arithmetic on it is in <jobq/backend/token_bucket_refill.hpp>.

#include "jobq/clock.hpp"

namespace jobq {

/// A bucket's content at a moment: `tokens` (0 .. capacity, fractional) as of `at`.
struct TokenBucket {
    double tokens = 0;
    Timestamp at{};

    friend bool operator==(const TokenBucket&, const TokenBucket&) = default;
};

}  // namespace jobq
