#pragma once
// Promoter: the Scheduler's service for due jobs. Scheduled and retryable jobs whose run_at has
// come become available, and every queue is woken, so idle workers (in this process or, with
// PostgreSQL, in others) start them without waiting for their poll.
//
// Blocking; runs on whatever thread calls it. Shares only the Store and the clock.

#include "jobq/clock.hpp"
#include "jobq/scheduler.hpp"

namespace jobq {
class Store;
}

namespace jobq::scheduler_detail {

class Promoter {
  public:
    Promoter(Store& store, const Clock& clock);

    /// One pass: promotes what is due now. Fills MaintenanceReport::promoted.
    MaintenanceReport run_once();

  private:
    Store& store_;
    const Clock& clock_;
};

}  // namespace jobq::scheduler_detail
