#pragma once
// Pruner: the Scheduler's service for finished jobs. Completed, cancelled and discarded jobs,
// and cron history entries, older than the Retention allows are deleted, in short batches so
// that no transaction holds the store for long.
//
// Blocking; runs on whatever thread calls it. Shares only the Store, the clock and the
// Scheduler's Retention.

#include "jobq/clock.hpp"
#include "jobq/scheduler.hpp"

namespace jobq {
class Store;
}

namespace jobq::scheduler_detail {

class Pruner {
  public:
    Pruner(Store& store, const Clock& clock, const Retention& retention);

    /// One pass: prunes what is past retention now, up to a bound per pass. Fills
    /// MaintenanceReport::pruned.
    MaintenanceReport run_once();

  private:
    Store& store_;
    const Clock& clock_;
    const Retention& retention_;
};

}  // namespace jobq::scheduler_detail
