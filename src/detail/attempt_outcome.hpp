#pragma once
// The policy that turns how an attempt ended into the Outcome the store applies. Pure: time
// and randomness come in as parameters, so it is tested without a worker or a clock.

#include <string>

#include <nlohmann/json.hpp>

#include "jobq/backend/store.hpp"
#include "jobq/job.hpp"
#include "jobq/retry_policy.hpp"

namespace jobq::detail {

/// How one attempt ended, as the worker (or the rescuer) observed it.
struct AttemptEnd {
    enum class How {
        success,      ///< handler returned; `result` holds its JSON (null when none)
        failure,      ///< exception, timeout, missing handler, expired lease: retry by policy
        retry_after,  ///< RetryAfter signal: retry after `delay`
        snooze,       ///< Snooze signal: run after `delay`, attempt refunded
        discard,      ///< Discard signal
        cancel,       ///< Cancel signal
        shutdown,     ///< worker stopped: run again at once, attempt refunded
    };
    How how = How::success;
    nlohmann::json result;
    std::string error_kind;  ///< for failures: "exception", "timeout", "no_handler", ...
    std::string message;
    Duration delay{};
};

/// The policy in force for a job: its own, else its kind's, else the fallback.
const RetryPolicy& effective_policy(const Job& job, const RetryPolicy* kind_policy,
                                    const RetryPolicy& fallback);

/// The outcome to record for `job` (as claimed by `worker_id`) after `end`, at `now`.
/// Failures spend an attempt: out of attempts they discard, else retry after the policy's
/// delay for this attempt (jitter drawn from `random01`).
Outcome decide_outcome(const Job& job, const std::string& worker_id, const AttemptEnd& end,
                       const RetryPolicy& policy, Timestamp now, double random01);

/// A uniform draw from [0, 1) for jitter; thread-safe.
double random_unit();

}  // namespace jobq::detail
