// Promoter (promoter.hpp): due scheduled/retryable jobs -> available, queues woken.

#include "promoter.hpp"

#include "jobq/backend/notifier.hpp"
#include "jobq/backend/store.hpp"

namespace jobq::scheduler_detail {

Promoter::Promoter(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

MaintenanceReport Promoter::run_once() {
    MaintenanceReport report;
    report.promoted = store_.promote_due(clock_.now());
    if (report.promoted > 0) store_.notifier().notify("");  // empty: every queue
    return report;
}

}  // namespace jobq::scheduler_detail
