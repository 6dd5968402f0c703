#pragma once
// RateLimit: at most `limit` job starts per `period`, with bursts of up to `burst` starts,
// as a token bucket (token_bucket.hpp).

#include <string>
#include <string_view>

#include "jobq/clock.hpp"

namespace jobq {

struct RateLimit {
    int limit = 0;      ///< starts per period, at least 1
    Duration period{};  ///< positive
    int burst = 0;      ///< bucket size; 0: the same as `limit`

    /// The bucket size in effect: burst, or limit when burst is 0.
    int capacity() const noexcept { return burst > 0 ? burst : limit; }

    /// Throws Error(invalid_argument) naming the field ("rate.limit", "rate.period",
    /// "rate.burst") when a value is out of range: limit < 1, period <= 0, burst < 0.
    void validate() const;

    /// Parses "50/s", "100/10s", "5/1m", "1000/h", "20/500ms", "3/d": a count, a slash, an
    /// optional positive integer and a unit (ms, s, m, h, d). Throws Error(invalid_argument,
    /// field "rate") naming what is wrong: "rate: unknown unit 'x' in \"50/x\" (use ms, s, m,
    /// h or d)", "rate: period must be positive in \"5/0s\"", ... Burst is left 0.
    static RateLimit parse(std::string_view text);
    /// The parse() form: "50/s", "100/10s", "20/500ms" (burst not included).
    std::string to_string() const;

    friend bool operator==(const RateLimit&, const RateLimit&) = default;
};

}  // namespace jobq
