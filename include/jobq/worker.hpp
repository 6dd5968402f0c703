#pragma once
// Worker: fetches jobs from its queues, runs their handlers on an Asio executor, and records
// outcomes — fetching in batches up to free capacity, completing in batches, renewing leases
// by heartbeat. Idle, it waits on the store's notifier (and a slow poll for other processes).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "jobq/clock.hpp"
#include "jobq/job.hpp"
#include "jobq/retry_policy.hpp"

namespace jobq {

class Store;
class Registry;

/// One queue a worker serves and how many of its jobs may run at once.
struct QueueConfig {
    std::string name;
    int concurrency = 10;
    /// Share of the worker's slots when WorkerOptions::max_running binds (1..100).
    int weight = 1;
};

/// What happened to one attempt, reported to WorkerOptions::on_attempt.
struct AttemptReport {
    JobId id = 0;
    std::string kind;
    int attempt = 0;
    std::string outcome;  ///< "completed", "retry", "snooze", "discard", "cancel"
    std::string message;  ///< error message, empty on success
    std::string queue;
    std::string tenant;             ///< empty when the job has none
    std::vector<std::string> tags;  ///< the job's tags (failure notifications read them)
};

/// Settings of a Worker.
struct WorkerOptions {
    std::vector<QueueConfig> queues = {{"default", 10}};
    /// At most this many handlers at once over all queues; 0: the sum of the queues'
    /// concurrency. When it binds, free slots go to the queues with work by weight.
    int max_running = 0;
    /// Identity in the store (fences answers); default "<host>:<pid>:<random>".
    std::string id;
    /// Lease of a running job; renewed every lease/3 while the handler runs.
    Duration lease = std::chrono::seconds{30};
    /// How often an idle worker looks for work that no wake-up announced (other processes).
    Duration poll_interval = std::chrono::seconds{1};
    /// On stop: how long running handlers may finish before they are cancelled.
    Duration shutdown_grace = std::chrono::seconds{15};
    /// Outcomes are written in batches of at most this many. A write starts as soon as none
    /// is in flight; outcomes that arrive meanwhile wait and go together in the next one.
    int complete_batch = 512;
    /// Threads for plain-function handlers; 0: the total concurrency, at most 64.
    int blocking_threads = 0;
    /// Where the worker's blocking store calls (claim, complete, heartbeat) run: an executor
    /// the application owns and sizes (a boost::asio::thread_pool's, say), run by threads that
    /// may block, and running until the Worker is destroyed (a stopped pool never runs what is
    /// queued on it). Empty: a private pool of two threads.
    boost::asio::any_io_executor store_executor;
    /// Backoff for kinds and jobs that set none.
    RetryPolicy retry = RetryPolicy{};
    /// Time source; the system clock when null.
    const Clock* clock = nullptr;
    /// Called on the worker's executor after each attempt's outcome is decided.
    std::function<void(const AttemptReport&)> on_attempt;
    /// Called when a store call fails (the worker backs off and tries again, losing nothing);
    /// default: a line on stderr.
    std::function<void(const std::string& message)> on_error;
};

/// Counters of a worker since it started.
struct WorkerCounters {
    std::int64_t claimed = 0;
    std::int64_t completed = 0;
    std::int64_t retried = 0;
    std::int64_t snoozed = 0;
    std::int64_t discarded = 0;
    std::int64_t cancelled = 0;
    std::int64_t fenced_out = 0;  ///< outcomes the store refused: the lease was lost
    std::int64_t throttled = 0;   ///< claims a rate limit held back
    std::int64_t running = 0;
};

/// Runs jobs from a Store. Store and Registry must outlive it; so must the executor's
/// context until the worker has stopped.
class Worker {
  public:
    /// Validates the options (throws Error naming the bad one); does not start.
    Worker(boost::asio::any_io_executor executor, Store& store, Registry& registry,
           WorkerOptions options = {});
    /// Must not be destroyed while running: stop it first (the destructor requests a stop).
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Starts fetching and running jobs. Returns at once.
    void start();
    /// Begins a graceful stop: no new fetches; running handlers get `shutdown_grace`, then are
    /// cancelled and recorded so they run again. Returns at once.
    void request_stop();
    /// Graceful stop as an Asio asynchronous operation with signature void(): it completes once
    /// every outcome is written. The token decides the shape: none (boost::asio::use_awaitable)
    /// for `co_await worker.async_stop()`, boost::asio::use_future, boost::asio::deferred, or a
    /// callback `()`. The handler runs on its associated executor; one with none, such as a
    /// plain lambda, on the worker's executor.
    template <class Token = boost::asio::use_awaitable_t<>>
    auto async_stop(Token&& token = {}) {
        return boost::asio::async_initiate<Token, void()>(
            [this](auto handler) {
                start_stop(boost::asio::any_completion_handler<void()>(std::move(handler)));
            },
            token);
    }
    /// Graceful stop from a thread that does not run the executor; blocks until stopped.
    /// Returns at once when not running, or when the executor's io_context has stopped (then
    /// the stop is only requested, as by request_stop(): nothing could carry it out).
    void stop();
    /// True between start() and the end of a stop.
    bool running() const noexcept;
    /// Looks for work now (as a wake-up from the notifier would).
    void wake();
    /// This worker's identity in the store.
    const std::string& id() const noexcept;
    /// Snapshot of the counters (thread-safe).
    WorkerCounters counters() const;

  private:
    // The non-template half of async_stop, compiled in the library.
    void start_stop(boost::asio::any_completion_handler<void()> handler);

    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace jobq
