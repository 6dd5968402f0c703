#pragma once
// FlowLimits: the limits set on one scope (limit_scope.hpp). Every field is optional; an unset
// field does not limit.

#include <cstdint>
#include <optional>

#include "jobq/rate_limit.hpp"

namespace jobq {

struct LimitScope;

/// Highest tenant weight; weights are small integers, a share of claims, not a percentage.
inline constexpr int max_weight = 100;

struct FlowLimits {
    /// At most this many jobs of the scope run at once across every worker process (>= 1).
    std::optional<int> max_running;
    /// At most rate.limit job starts per rate.period across every worker process.
    std::optional<RateLimit> rate;
    /// Tenant scope only: at most this many queued jobs (pending, scheduled, available,
    /// retryable); an enqueue over it throws QuotaExceeded (>= 0).
    std::optional<std::int64_t> max_queued;
    /// Tenant scope only: this tenant's share when claims rotate across tenants (1..100).
    int weight = 1;

    /// Throws Error(invalid_argument) naming the field ("max_running", "rate.period",
    /// "max_queued", "weight", ...): a value out of range, or max_queued/weight other than 1 on
    /// a scope that is not a tenant.
    void validate(const LimitScope& scope) const;

    friend bool operator==(const FlowLimits&, const FlowLimits&) = default;
};

}  // namespace jobq
