#include "detail/attempt_outcome.hpp"

#include <algorithm>
#include <random>

namespace jobq::detail {

const RetryPolicy& effective_policy(const Job& job, const RetryPolicy* kind_policy,
                                    const RetryPolicy& fallback) {
    if (job.retry_policy) return *job.retry_policy;
    if (kind_policy) return *kind_policy;
    return fallback;
}

Outcome decide_outcome(const Job& job, const std::string& worker_id, const AttemptEnd& end,
                       const RetryPolicy& policy, Timestamp now, double random01) {
    using How = AttemptEnd::How;
    Outcome o;
    o.id = job.id;
    o.attempt = job.attempt;
    o.worker_id = worker_id;
    o.workflow_id = job.workflow_id;
    o.at = now;
    auto error = [&](std::string kind) {
        return AttemptError{job.attempt, now, std::move(kind), end.message};
    };
    const bool out_of_attempts = job.attempt >= job.max_attempts;
    switch (end.how) {
        case How::success:
            o.kind = OutcomeKind::complete;
            if (!end.result.is_null()) o.result = end.result.dump();
            break;
        case How::snooze:
            o.kind = OutcomeKind::snooze;
            o.run_at = now + std::max(end.delay, Duration::zero());
            o.refund_attempt = true;
            break;
        case How::discard:
            o.kind = OutcomeKind::discard;
            o.error = error("discard");
            break;
        case How::cancel:
            o.kind = OutcomeKind::cancel;
            o.error = error("cancel");
            break;
        case How::shutdown:
            // A deploy or restart is not the job's fault: run again at once, attempt refunded.
            o.kind = OutcomeKind::retry;
            o.run_at = now;
            o.refund_attempt = true;
            o.error = error("shutdown");
            break;
        case How::retry_after:
        case How::failure: {
            o.error = error(end.how == How::retry_after ? "retry" : end.error_kind);
            if (out_of_attempts) {
                o.kind = OutcomeKind::discard;
            } else {
                o.kind = OutcomeKind::retry;
                const Duration delay = end.how == How::retry_after
                                           ? std::max(end.delay, Duration::zero())
                                           : policy.delay(job.attempt, random01);
                o.run_at = now + delay;
            }
            break;
        }
    }
    return o;
}

double random_unit() {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>{0.0, 1.0}(engine);
}

}  // namespace jobq::detail
