// Token buckets: refill over time, the time of the next token, and a change of rate.

#include <chrono>
#include <cmath>

#include <doctest/doctest.h>

#include "jobq/backend/token_bucket_refill.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using jobq::Duration;
using jobq::RateLimit;
using jobq::Timestamp;
using jobq::TokenBucket;
using jobq::test::reference_time;

namespace {
RateLimit rate(int limit, Duration period, int burst = 0) {
    RateLimit r;
    r.limit = limit;
    r.period = period;
    r.burst = burst;
    return r;
}
}  // namespace

TEST_SUITE_BEGIN("TokenBucket");

TEST_CASE("a new bucket is full at its capacity") {
    const Timestamp now = reference_time();
    CHECK(jobq::full_bucket(rate(50, 1s), now) == TokenBucket{50, now});
    CHECK(jobq::full_bucket(rate(50, 1s, 200), now) == TokenBucket{200, now});
}

TEST_CASE("refill adds limit/period tokens per unit of time") {
    const Timestamp t0 = reference_time();
    const TokenBucket empty{0, t0};
    CHECK(jobq::refill(empty, rate(10, 1s), t0 + 100ms) == TokenBucket{1, t0 + 100ms});
    CHECK(jobq::refill(empty, rate(10, 1s), t0 + 250ms).tokens == doctest::Approx(2.5));
    CHECK(jobq::refill(empty, rate(1, 1s), t0 + 1s).tokens == 1.0);  // exact, not 0.999...
    CHECK(jobq::refill(empty, rate(3, 1min), t0 + 20s).tokens == 1.0);
    CHECK(jobq::refill(empty, rate(1000, 1h), t0 + 3600ms).tokens == 1.0);
}

TEST_CASE("refill caps the bucket at its capacity, however long the gap") {
    const Timestamp t0 = reference_time();
    const TokenBucket b{3, t0};
    CHECK(jobq::refill(b, rate(10, 1s), t0 + 1s) == TokenBucket{10, t0 + 1s});
    CHECK(jobq::refill(b, rate(10, 1s, 25), t0 + 1s).tokens == 13);
    CHECK(jobq::refill(b, rate(10, 1s, 25), t0 + 24h * 365 * 50).tokens == 25);
    CHECK(jobq::refill(b, rate(2'000'000'000, 1us), t0 + 24h * 365 * 100).tokens == 2'000'000'000);
}

TEST_CASE("refill with a clock behind the bucket adds nothing and keeps the bucket's time") {
    const Timestamp t0 = reference_time();
    const TokenBucket b{0.5, t0};
    CHECK(jobq::refill(b, rate(10, 1s), t0 - 5s) == b);
    CHECK(jobq::refill(b, rate(10, 1s), t0) == b);
    // Time lost to a backwards clock is not counted twice when it moves on again.
    CHECK(jobq::refill(jobq::refill(b, rate(10, 1s), t0 - 5s), rate(10, 1s), t0 + 100ms).tokens ==
          doctest::Approx(1.5));
}

TEST_CASE("refill lowers a bucket above its capacity once time moves") {
    const Timestamp t0 = reference_time();
    CHECK(jobq::refill(TokenBucket{100, t0}, rate(10, 1s), t0 + 1us).tokens == 10);
}

TEST_CASE("next_token_at is the bucket's time when it holds a whole token") {
    const Timestamp t0 = reference_time();
    CHECK(jobq::next_token_at(TokenBucket{1, t0}, rate(10, 1s)) == t0);
    CHECK(jobq::next_token_at(TokenBucket{7.5, t0}, rate(10, 1s)) == t0);
}

TEST_CASE("next_token_at is when the missing fraction has grown back") {
    const Timestamp t0 = reference_time();
    CHECK(jobq::next_token_at(TokenBucket{0, t0}, rate(10, 1s)) == t0 + 100ms);
    CHECK(jobq::next_token_at(TokenBucket{0.5, t0}, rate(10, 1s)) == t0 + 50ms);
    CHECK(jobq::next_token_at(TokenBucket{0, t0}, rate(1, 1h)) == t0 + 1h);
    CHECK(jobq::next_token_at(TokenBucket{0, t0}, rate(3, 1s)) == t0 + 333'334us);
}

TEST_CASE("next_token_at never names a time at which the bucket is still short of a token") {
    const Timestamp t0 = reference_time() + 123'457us;
    for (int limit : {1, 3, 7, 9, 13, 50, 97, 1000, 999'983}) {
        for (Duration period : {Duration{1s}, Duration{333ms}, Duration{7min}, Duration{1h},
                                Duration{24h}, Duration{1us}, Duration{17us}}) {
            for (double tokens : {0.0, 0.1, 0.3333333333333333, 0.5, 0.7, 0.9999999, -0.2}) {
                const RateLimit r = rate(limit, period);
                const TokenBucket b{tokens, t0};
                const Timestamp at = jobq::next_token_at(b, r);
                CAPTURE(limit);
                CAPTURE(period.count());
                CAPTURE(tokens);
                REQUIRE(at > t0);
                CHECK(jobq::refill(b, r, at).tokens >= 1.0);
                // ...and it is the first such microsecond.
                CHECK(jobq::refill(b, r, at - 1us).tokens < 1.0);
            }
        }
    }
}

TEST_CASE("next_token_at of a bucket read from another host's future stays at its time") {
    // A bucket written with a clock ahead: next_token_at counts from the bucket's time.
    const Timestamp ahead = reference_time() + 10s;
    CHECK(jobq::next_token_at(TokenBucket{0, ahead}, rate(1, 1s)) == ahead + 1s);
}

TEST_CASE("next_token_at of a very slow rate does not overflow") {
    const Timestamp t0 = reference_time();
    RateLimit r = rate(1, Duration{Duration::max().count() / 2});
    const Timestamp at = jobq::next_token_at(TokenBucket{0, t0}, r);
    CHECK(at > t0);
}

TEST_CASE("rebucket refills under the old rate, then clamps to the new capacity") {
    const Timestamp t0 = reference_time();
    const TokenBucket b{2, t0};
    // 1s at 10/s fills 10 more, capped at the old capacity 10; the new capacity is 5.
    CHECK(jobq::rebucket(b, rate(10, 1s), rate(5, 1s), t0 + 1s) == TokenBucket{5, t0 + 1s});
    // Raising the limit does not hand out the new burst at once.
    CHECK(jobq::rebucket(b, rate(10, 1s), rate(100, 1s), t0 + 100ms) == TokenBucket{3, t0 + 100ms});
    // An empty bucket stays empty under a new rate.
    CHECK(jobq::rebucket(TokenBucket{0.25, t0}, rate(10, 1s), rate(1, 1h), t0).tokens == 0.25);
}

TEST_CASE("rebucket with a clock behind the bucket keeps the bucket's time") {
    const Timestamp t0 = reference_time();
    CHECK(jobq::rebucket(TokenBucket{8, t0}, rate(10, 1s), rate(5, 1s), t0 - 1s) ==
          TokenBucket{5, t0});
}

TEST_SUITE_END();
