#pragma once
// Completer: writes the outcomes the runner decides, in batches. An outcome waits in a list;
// a write starts as soon as none is in flight and takes up to complete_batch of them in one
// store call (one transaction), and whatever arrives meanwhile goes in the next. A failed
// write is kept and tried again after a backoff (the heartbeat keeps renewing those jobs'
// leases meanwhile). Once written, each job leaves the running jobs and is counted: completed,
// retried, snoozed, discarded, cancelled, or fenced out when the store refused the outcome
// because the worker no longer held the job.
//
// Shares with the other parts (worker_core.hpp): the running jobs and the counters
// (worker_state.hpp); it tells the lifecycle when the last write is done. Runs on the worker's
// strand.

#include <memory>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "jobq/backend/store.hpp"

namespace jobq::worker_detail {

class WorkerCore;
struct WorkerState;

class Completer {
  public:
    explicit Completer(WorkerCore& core);

    /// Queues an outcome to be written (and starts a write when none is in flight).
    void add(Outcome outcome);
    /// True when no outcome waits and no write is in flight.
    bool idle() const { return pending_.empty() && !flushing_; }

  private:
    boost::asio::awaitable<void> flush(std::shared_ptr<WorkerCore> keep_alive);
    /// Counts the written `batch` (applied[i]: whether batch[i] passed its fence) and takes its
    /// jobs off the running ones.
    void settle(const std::vector<Outcome>& batch, const std::vector<bool>& applied);

    WorkerCore& core_;
    WorkerState& state_;
    std::vector<Outcome> pending_;
    bool flushing_ = false;
};

}  // namespace jobq::worker_detail
