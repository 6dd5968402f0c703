// Pruner (pruner.hpp): finished jobs and cron history past retention are deleted.

#include "pruner.hpp"

#include <cstdint>
#include <optional>

#include "jobq/backend/store.hpp"

namespace jobq::scheduler_detail {

namespace {

// Bounds one pass so a huge backlog is worked off over several passes, not one long one.
constexpr int max_batches_per_pass = 20;

}  // namespace

Pruner::Pruner(Store& store, const Clock& clock, const Retention& retention)
    : store_(store), clock_(clock), retention_(retention) {}

MaintenanceReport Pruner::run_once() {
    MaintenanceReport report;
    const Timestamp now = clock_.now();
    PruneRequest request;
    auto cutoff = [&](const std::optional<Duration>& keep) -> std::optional<Timestamp> {
        if (!keep) return std::nullopt;
        return now - *keep;
    };
    request.completed_before = cutoff(retention_.completed);
    request.cancelled_before = cutoff(retention_.cancelled);
    request.discarded_before = cutoff(retention_.discarded);
    request.schedule_runs_before = cutoff(retention_.schedule_runs);
    if (!request.completed_before && !request.cancelled_before && !request.discarded_before &&
        !request.schedule_runs_before) {
        return report;
    }
    for (int batch = 0; batch < max_batches_per_pass; ++batch) {
        const std::int64_t n = store_.prune(request);
        report.pruned += n;
        if (n < request.limit) break;
    }
    return report;
}

}  // namespace jobq::scheduler_detail
