// Promoter (promoter.hpp): due scheduled/retryable jobs -> available, queues woken.

#include "promoter.hpp"

#include "jobq/backend/notifier.hpp"
#include "jobq/backend/store.hpp"

namespace jobq::scheduler_detail {

Promoter::Promoter(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

MaintenanceReport Promoter::run_once() {
    MaintenanceReport report;
    const Timestamp now = clock_.now();
    report.promoted = store_.promote_due(now);
    if (report.promoted > 0) store_.notifier().notify("");  // empty: every queue
    // Workflow deadlines fall due like run_at does; and a workflow whose last two jobs ended
    // in two transactions at once, each seeing the other still running, is settled here.
    report.workflows_settled = store_.settle_workflows(now, 1000);
    return report;
}

}  // namespace jobq::scheduler_detail
