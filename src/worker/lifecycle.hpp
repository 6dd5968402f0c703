#pragma once
// Lifecycle: a worker's start and graceful stop, and its record in the store. start() listens
// to the store's notifier (new work for the producer, cancellations for the runner) and starts
// the producer's and the heartbeat's loops. A stop ends the claims at once, gives running
// handlers shutdown_grace to finish (then cancels them, so their jobs run again), and waits
// until every outcome is written; then the heartbeat's last step removes the worker's record
// (after its own last write, so the record cannot reappear) and the stop completes.
//
// Shares with the other parts (worker_core.hpp): the phase and the running handlers
// (worker_state.hpp); it asks the producer and the completer whether they are done. Runs on
// the worker's strand, except where a member says otherwise.

#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "alarm.hpp"
#include "jobq/backend/notifier.hpp"
#include "jobq/clock.hpp"
#include "jobq/worker_record.hpp"

namespace jobq::worker_detail {

class WorkerCore;
struct WorkerState;

class Lifecycle {
  public:
    explicit Lifecycle(WorkerCore& core);

    /// Starts the worker (any thread; once: throws Error(invalid_state) on a second call).
    void start();
    /// Begins a graceful stop (nothing when not running).
    void begin_stop();
    /// Once stopping and nothing is left to run or write: marks the worker wound down and
    /// wakes the heartbeat, whose loop then ends with finish(). Called by every part whose
    /// work may have been the last.
    void maybe_finish_stop();
    /// True once stopping and nothing was left to run or write.
    bool wound_down() const { return wound_down_; }
    /// The heartbeat's last step: removes the worker's record, then completes the stop.
    boost::asio::awaitable<void> finish();
    /// Runs `fn` on the strand once the worker has stopped (at once if it has, or never ran).
    void when_stopped(std::function<void()> fn);

    /// The worker's record as of `now`, for the heartbeat to write.
    WorkerRecord record(Timestamp now) const;
    /// Stops listening to the store's notifier (the worker is going away).
    void unsubscribe();

  private:
    WorkerCore& core_;
    WorkerState& state_;
    Alarm grace_;  // the end of shutdown_grace
    bool wound_down_ = false;
    Timestamp started_at_{};
    Subscription work_subscription_;
    Subscription cancel_subscription_;
    std::vector<std::function<void()>> stop_waiters_;
};

}  // namespace jobq::worker_detail
