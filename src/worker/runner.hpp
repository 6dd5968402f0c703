#pragma once
// Runner: runs each claimed job's handler, one coroutine per job on the worker's strand, and
// decides how the attempt ended. It finds the kind's handler in the Registry, arms the job's
// timeout, runs an awaitable handler on the strand or a plain function on the handlers' pool,
// sorts what came out (a result, a signal such as RetryAfter or Cancel, an exception, and
// whether a timeout, a stop, a lost lease or a cancellation asked the handler to stop), and
// turns it into the Outcome the store records (detail/attempt_outcome.hpp decides). It also
// tells running handlers to stop: on a cancellation, a lost lease, or a stop past its grace.
//
// Shares with the other parts (worker_core.hpp): the running jobs and the queues' running
// counts (worker_state.hpp); it hands outcomes to the completer, tells the producer when a slot
// frees up and the heartbeat when the first job starts. Runs on the worker's strand.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "detail/attempt_outcome.hpp"
#include "detail/run_control.hpp"
#include "jobq/job.hpp"
#include "jobq/job_context.hpp"
#include "jobq/registry.hpp"

namespace jobq::worker_detail {

class WorkerCore;
struct WorkerState;

class Runner {
  public:
    explicit Runner(WorkerCore& core);

    /// Starts a claimed job of queue `qi` (index in state.queues).
    void start(Job job, std::size_t qi);
    /// The store cancelled job `id`: if it runs here, its handler is told to stop, and its
    /// attempt ends as a cancellation.
    void on_cancelled(JobId id);
    /// The worker no longer holds job `id` (its lease was lost otherwise than by a
    /// cancellation): if it runs here, its handler is told to stop.
    void on_lease_lost(JobId id);
    /// Tells every running handler to stop, for `reason`.
    void cancel_all(CancelReason reason);

  private:
    /// One job's coroutine; `keep_alive` holds the worker until it ends.
    boost::asio::awaitable<void> run(std::shared_ptr<WorkerCore> keep_alive, Job job,
                                     std::size_t qi, std::shared_ptr<detail::RunControl> control);
    /// An exception after a cancellation request is that request's doing; says which.
    detail::AttemptEnd classify_failure(const JobContext& ctx, std::string what,
                                        const std::optional<Duration>& timeout) const;
    /// The attempt ended as `end`: decides the outcome, reports it, hands it to the completer,
    /// frees the slot.
    void finish(const Job& job, std::size_t qi, detail::AttemptEnd end,
                const Registry::Entry* entry);

    WorkerCore& core_;
    WorkerState& state_;
};

}  // namespace jobq::worker_detail
