#pragma once
// Rescuer: the Scheduler's service for expired leases. A running job whose worker stopped
// renewing its lease (it died, hung, or lost the store) goes back to retryable with a failed
// attempt ("lease_expired"), or to the dead-letter queue when its attempts are spent, and its
// queue is woken. Each outcome is fenced on the expired lease too, so a worker that renewed
// since the rescuer looked keeps its job, and several rescuers in several processes record
// each rescue once.
//
// Blocking; runs on whatever thread calls it (the Scheduler's pool, or run_once's caller).
// Shares only the Store, the clock and the Scheduler's fallback retry policy.

#include "jobq/clock.hpp"
#include "jobq/retry_policy.hpp"
#include "jobq/scheduler.hpp"

namespace jobq {
class Store;
}

namespace jobq::scheduler_detail {

class Rescuer {
  public:
    /// `fallback`: the backoff of rescued jobs that set no policy of their own.
    Rescuer(Store& store, const Clock& clock, const RetryPolicy& fallback);

    /// One pass: rescues the leases expired by now, in batches, up to a bound per pass.
    /// Fills MaintenanceReport::rescued and ::discarded.
    MaintenanceReport run_once();

  private:
    Store& store_;
    const Clock& clock_;
    const RetryPolicy& fallback_;
};

}  // namespace jobq::scheduler_detail
