// Rescuer (rescuer.hpp): expired leases -> retryable or discarded, fenced on the lease.

#include "rescuer.hpp"

#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "detail/attempt_outcome.hpp"
#include "jobq/backend/notifier.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/time_format.hpp"

namespace jobq::scheduler_detail {

namespace {

// Bounds one pass so a huge backlog is worked off over several passes, not one long one.
constexpr int rescue_batch = 500;
constexpr int max_batches_per_pass = 20;

}  // namespace

Rescuer::Rescuer(Store& store, const Clock& clock, const RetryPolicy& fallback)
    : store_(store), clock_(clock), fallback_(fallback) {}

MaintenanceReport Rescuer::run_once() {
    MaintenanceReport report;
    const Timestamp now = clock_.now();
    std::set<std::string> woken;
    for (int batch = 0; batch < max_batches_per_pass; ++batch) {
        const std::vector<Job> expired = store_.expired_leases(now, rescue_batch);
        if (expired.empty()) break;
        std::vector<Outcome> outcomes;
        outcomes.reserve(expired.size());
        for (const Job& job : expired) {
            detail::AttemptEnd end;
            end.how = detail::AttemptEnd::How::failure;
            end.error_kind = "lease_expired";
            end.message =
                fmt::format("lease expired at {}: worker {} stopped renewing it",
                            job.lease_expires_at ? format_timestamp(*job.lease_expires_at) : "?",
                            job.worker_id);
            const RetryPolicy& policy = detail::effective_policy(job, nullptr, fallback_);
            Outcome o =
                detail::decide_outcome(job, job.worker_id, end, policy, now, detail::random_unit());
            // Fence on the lease too: a worker that renewed since we looked keeps its job.
            o.only_if_lease_expired_by = now;
            outcomes.push_back(std::move(o));
        }
        const std::vector<bool> applied = store_.complete(outcomes);
        for (std::size_t i = 0; i < outcomes.size(); ++i) {
            if (i >= applied.size() || !applied[i]) continue;
            if (outcomes[i].kind == OutcomeKind::discard) {
                ++report.discarded;
            } else {
                ++report.rescued;
                woken.insert(expired[i].queue);
            }
        }
        if (static_cast<int>(expired.size()) < rescue_batch) break;
    }
    for (const std::string& q : woken) store_.notifier().notify(q);
    return report;
}

}  // namespace jobq::scheduler_detail
