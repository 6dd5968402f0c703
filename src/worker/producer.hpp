#pragma once
// Producer: the worker's claim loop. While the worker runs, it asks the store for as many jobs
// of each queue as the queue has free slots (and, when max_running binds, the free slots over
// all queues shared out by weight), hands each claimed job to the runner, and sleeps when no
// queue may have work: until a wake-up (a notification, a slot coming free, Worker::wake), the
// next due job it knows of, a rate limit's next token, or the poll interval.
//
// Shares with the other parts (worker_core.hpp): the queues' running counts and whether each
// may have work (worker_state.hpp); it calls the runner to start jobs and the lifecycle when it
// ends. Runs on the worker's strand.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "alarm.hpp"
#include "jobq/clock.hpp"

namespace jobq::worker_detail {

class WorkerCore;
struct WorkerState;

class Producer {
  public:
    explicit Producer(WorkerCore& core);

    /// Starts the claim loop; it ends once the worker is no longer running.
    void start();
    /// True once the claim loop has ended.
    bool done() const { return done_; }

    /// The store's notifier says `queue` ("" : every queue) has new work.
    void on_notify(const std::string& queue);
    /// Looks for work in every queue now (Worker::wake).
    void wake_all();
    /// A handler of queue `qi` finished: claim again now if that slot may be used.
    void slot_freed(std::size_t qi);
    /// Ends the idle wait now (the worker is stopping).
    void wake_up() { wake_.cancel(); }
    /// One of the worker's own jobs runs again at `at` (a retry or snooze it decided): wake
    /// then without asking the store.
    void note_due(Timestamp at);
    /// Whether outcomes ride on the next claim (the store completes with claims and the claim
    /// loop runs); otherwise the completer writes them alone.
    bool carries_outcomes() const;
    /// The completer holds outcomes: write them, with a claim when there is one to make.
    void outcomes_ready() { wake_.cancel(); }

  private:
    boost::asio::awaitable<void> run(std::shared_ptr<WorkerCore> keep_alive);
    /// How many jobs to ask of each queue that may have work (index in state.queues, limit).
    std::vector<std::pair<std::size_t, int>> claim_shares() const;
    /// Sleeps until a wake-up, the next due job, a rate limit's token or the poll interval.
    boost::asio::awaitable<void> idle_wait();
    /// Asks the store when the next scheduled or retryable job of the worker's queues is due.
    boost::asio::awaitable<void> refresh_next_due();

    WorkerCore& core_;
    WorkerState& state_;
    Alarm wake_;  // the idle wait; cancelled to wake the loop
    bool done_ = false;
    bool backing_off_ = false;  // waiting after a failed claim
    const bool merges_;         // the store completes with claims (Store::completes_with_claims)
    std::optional<Timestamp> next_due_;         // earliest scheduled/retryable run_at known
    std::optional<Timestamp> throttled_until_;  // a rate limit's next token, from a claim
    Timestamp last_claim_at_{};                 // a claim at t already saw everything due by t
};

}  // namespace jobq::worker_detail
