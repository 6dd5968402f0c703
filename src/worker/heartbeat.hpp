#pragma once
// Heartbeat: keeps what the worker holds in the store alive. Every lease/3 it renews the
// leases of the running jobs in one store call, together with the worker's record (so
// `jobq workers` and explain see it) whenever that is due, long before it expires. Where the
// store's notifier does not reach other processes (SQLite), it ticks every poll interval while
// jobs run: that is how a cancellation from another process is noticed. The store says why
// each lease it could not renew was lost (LostLease): a cancelled job's handler stops as a
// cancellation, any other's as a lost lease. Once the worker has wound down, the loop ends
// with the lifecycle's last step.
//
// Shares with the other parts (worker_core.hpp): the running jobs (worker_state.hpp); it tells
// the runner of lost leases and asks the lifecycle for the record and the end. Runs on the
// worker's strand.

#include <memory>

#include <boost/asio/awaitable.hpp>

#include "alarm.hpp"
#include "jobq/clock.hpp"

namespace jobq::worker_detail {

class WorkerCore;
struct WorkerState;

class Heartbeat {
  public:
    explicit Heartbeat(WorkerCore& core);

    /// Starts the loop: the first tick (the worker's record) at once.
    void start();
    /// Beats now instead of at the next tick (a handler asked; or the worker wound down, and
    /// the loop ends).
    void beat_now() { alarm_.cancel(); }
    /// A job is about to start: when none ran, the loop may sleep at the idle cadence, longer
    /// than the busy one; bring its next tick closer.
    void before_job_starts();

  private:
    boost::asio::awaitable<void> run(std::shared_ptr<WorkerCore> keep_alive);
    /// One heartbeat: the worker record (when `record`), then the leases of running jobs, in
    /// one blocking call. Returns whether the record was written.
    boost::asio::awaitable<bool> tick(bool record);

    /// Lease renewals run every lease/3.
    Duration idle_every() const;
    /// While jobs run: also every poll interval where cancellations from other processes are
    /// not announced (SQLite).
    Duration busy_every() const;
    Duration every() const;

    WorkerCore& core_;
    WorkerState& state_;
    Alarm alarm_;         // the wait for the next tick
    bool rearm_ = false;  // the alarm was cancelled to change its cadence, not to beat
};

}  // namespace jobq::worker_detail
