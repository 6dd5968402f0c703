#pragma once
// How long a failed job waits before its next attempt.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "jobq/clock.hpp"

namespace jobq {

/// Backoff between attempts. A value type; the built-in shapes serialise with the job so any
/// worker process applies the same policy; a custom callable lives in the process that set it.
class RetryPolicy {
  public:
    /// Which formula the policy uses.
    enum class Shape { exponential, linear, constant, custom };
    /// The signature of a custom policy: attempt that just failed (1-based) -> delay.
    using CustomFn = std::function<Duration(int attempt)>;

    /// The default: exponential from 1 s, doubling, capped at 1 h, ±10% jitter.
    RetryPolicy() = default;

    /// base * factor^(attempt-1), capped at `cap`, then spread by ±jitter (a fraction, 0..1).
    static RetryPolicy exponential(Duration base, double factor = 2.0,
                                   Duration cap = std::chrono::hours{1}, double jitter = 0.1);
    /// step * attempt, capped at `cap`.
    static RetryPolicy linear(Duration step, Duration cap = std::chrono::hours{1});
    /// The same delay after every attempt.
    static RetryPolicy constant(Duration delay);
    /// Any function of the attempt number; not stored with a job, so set it on a kind.
    static RetryPolicy custom(CustomFn fn);

    /// The delay after `attempt` (1-based) failed. `random01` in [0,1) drives the jitter, so
    /// the function is pure: tests pass a fixed value.
    Duration delay(int attempt, double random01) const;

    /// The formula in use.
    Shape shape() const noexcept { return shape_; }
    Duration base() const noexcept { return base_; }
    double factor() const noexcept { return factor_; }
    Duration cap() const noexcept { return cap_; }
    double jitter() const noexcept { return jitter_; }

    /// Serialised form, e.g. {"shape":"exponential","base_us":1000000,...}. Throws for custom.
    nlohmann::json to_json() const;
    /// Parses the serialised form; throws Error(invalid_argument) naming the bad field.
    static RetryPolicy from_json(const nlohmann::json& j);

    friend bool operator==(const RetryPolicy& a, const RetryPolicy& b);

  private:
    Shape shape_ = Shape::exponential;
    Duration base_ = std::chrono::seconds{1};
    double factor_ = 2.0;
    Duration cap_ = std::chrono::hours{1};
    double jitter_ = 0.1;
    std::shared_ptr<const CustomFn> custom_;
};

}  // namespace jobq
