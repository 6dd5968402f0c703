#include "jobq/backend/token_bucket_refill.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace jobq {

namespace {

bool usable(const RateLimit& rate) {
    return rate.limit > 0 && rate.period > Duration::zero();
}

// Tokens earned over `elapsed` µs. Multiplying before dividing keeps whole results exact
// (1'000'000 µs at 1/s is exactly 1.0), which is what makes "one token per period" hold.
double earned(Duration::rep elapsed, const RateLimit& rate) {
    return static_cast<double>(elapsed) * rate.limit / static_cast<double>(rate.period.count());
}

}  // namespace

TokenBucket full_bucket(const RateLimit& rate, Timestamp now) {
    return TokenBucket{static_cast<double>(rate.capacity()), now};
}

TokenBucket refill(const TokenBucket& bucket, const RateLimit& rate, Timestamp now) {
    if (now <= bucket.at || !usable(rate)) return bucket;
    const double capacity = rate.capacity();
    const double added = earned((now - bucket.at).count(), rate);
    // A bucket already above capacity (a burst lowered without rebucket) is capped too.
    return TokenBucket{std::min(capacity, bucket.tokens + added), now};
}

Timestamp next_token_at(const TokenBucket& bucket, const RateLimit& rate) {
    if (bucket.tokens >= 1.0) return bucket.at;
    if (!usable(rate) || rate.capacity() < 1) return Timestamp::max();
    const double missing = 1.0 - bucket.tokens;
    const double wait = std::ceil(missing * static_cast<double>(rate.period.count()) / rate.limit);
    const double room = static_cast<double>(Timestamp::max().time_since_epoch().count()) -
                        static_cast<double>(bucket.at.time_since_epoch().count());
    if (!(wait < room - 2)) return Timestamp::max();
    Timestamp t = bucket.at + Duration{static_cast<Duration::rep>(wait)};
    // Rounding in the division above can land a microsecond off either way; settle on the
    // first microsecond at which refill really yields a whole token, so a claim at `t` never
    // finds the bucket still dry.
    while (refill(bucket, rate, t).tokens < 1.0) t += Duration{1};
    while (t > bucket.at + Duration{1} && refill(bucket, rate, t - Duration{1}).tokens >= 1.0) {
        t -= Duration{1};
    }
    return t;
}

TokenBucket rebucket(const TokenBucket& bucket, const RateLimit& old_rate,
                     const RateLimit& new_rate, Timestamp now) {
    TokenBucket b = refill(bucket, old_rate, now);
    b.tokens = std::min(b.tokens, static_cast<double>(new_rate.capacity()));
    return b;
}

}  // namespace jobq
