#pragma once
// Completer: writes the outcomes the runner decides, in batches. An outcome waits in a list.
// On a store that completes with claims (Store::completes_with_claims(), SQLite) the producer
// takes the list on its next claim, one transaction for both; otherwise, or when the producer
// has nothing to claim or is stopping, a write starts as soon as none is in flight and takes
// up to complete_batch of them in one store call (one transaction), and whatever arrives
// meanwhile goes in the next. A failed write is kept and tried again after a backoff (the
// heartbeat keeps renewing those jobs' leases meanwhile). Once written, each job leaves the
// running jobs and is counted: completed, retried, snoozed, discarded, cancelled, or fenced
// out when the store refused the outcome because the worker no longer held the job.
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

    /// Queues an outcome to be written: it rides on the producer's next claim when the
    /// producer carries outcomes, or else a write starts when none is in flight.
    void add(Outcome outcome);
    /// True when no outcome waits and no write is in flight.
    bool idle() const { return pending_.empty() && !flushing_; }

    /// Up to complete_batch waiting outcomes, for the producer to write with its claim.
    std::vector<Outcome> take_batch();
    /// Starts a write of the waiting outcomes now, if there are any and none is in flight.
    void flush_pending();
    /// Outcomes a failed claim carried (nothing of them was written): written alone from now.
    void write_alone(std::vector<Outcome> outcomes);
    /// Counts the written `batch` (applied[i]: whether batch[i] passed its fence) and takes its
    /// jobs off the running ones.
    void settle(const std::vector<Outcome>& batch, const std::vector<bool>& applied);

  private:
    boost::asio::awaitable<void> flush(std::shared_ptr<WorkerCore> keep_alive);

    WorkerCore& core_;
    WorkerState& state_;
    std::vector<Outcome> pending_;
    bool flushing_ = false;
};

}  // namespace jobq::worker_detail
