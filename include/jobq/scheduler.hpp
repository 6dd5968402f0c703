#pragma once
// Scheduler: the maintenance services — rescuer (expired leases), promoter (due jobs become
// available and their queues are woken), pruner (finished jobs past retention) and the cron
// enqueuer (a job per schedule window). Every pass is fenced or idempotent in the store, so
// several schedulers in several processes are safe: each cron window is enqueued once.

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
#include "jobq/cron_schedule.hpp"
#include "jobq/retry_policy.hpp"

namespace jobq {

class Store;

/// How long finished jobs are kept; unset keeps them forever.
struct Retention {
    std::optional<Duration> completed = std::chrono::hours{24};
    std::optional<Duration> cancelled = std::chrono::hours{24};
    std::optional<Duration> discarded = std::chrono::hours{24 * 7};
    /// Cron history: enqueued and skipped windows.
    std::optional<Duration> schedule_runs = std::chrono::hours{24 * 30};
};

/// Whether a Scheduler makes the store's declared schedules equal to its `cron` list.
enum class CronSync {
    /// Only when `cron` is not empty: a scheduler that declares nothing (a maintenance-only
    /// process, another service on the same store) leaves the declared schedules alone.
    when_declared,
    /// Always, so removing the last declared schedule from the code removes it from the store.
    always,
    /// Never: fire what the store holds, change nothing (e.g. an older build during a deploy).
    never,
};

/// Settings of a Scheduler.
struct SchedulerOptions {
    Duration rescue_interval = std::chrono::seconds{5};
    Duration promote_interval = std::chrono::seconds{1};
    Duration prune_interval = std::chrono::minutes{1};
    /// Schedules declared in code. At start they are upserted into the store (cursor and pause
    /// state of existing ones kept) and declared schedules no longer listed are removed, as
    /// `cron_sync` says. Every scheduler fires every stored schedule, declared or added at
    /// run time (Crontab), each window exactly once across all processes.
    std::vector<CronSchedule> cron;
    CronSync cron_sync = CronSync::when_declared;
    /// How often the stored schedules are read again: run-time changes (Crontab, the CLI)
    /// take effect within this. Windows themselves fire on time, not on this beat.
    Duration cron_interval = std::chrono::seconds{1};
    Retention retention;
    /// Backoff for rescued jobs that set no policy of their own.
    RetryPolicy retry = RetryPolicy{};
    /// Time source; the system clock when null.
    const Clock* clock = nullptr;
    /// Where the services' blocking store calls run: an executor the application owns and
    /// sizes (a boost::asio::thread_pool's, say), run by threads that may block, and running
    /// until the Scheduler is destroyed (a stopped pool never runs what is queued on it).
    /// Empty: a private pool of one thread.
    boost::asio::any_io_executor store_executor;
    /// Called when a store call fails (the pass is tried again next interval); default: stderr.
    std::function<void(const std::string& message)> on_error;
};

/// What one maintenance pass did.
struct MaintenanceReport {
    std::int64_t rescued = 0;    ///< expired leases returned to retryable
    std::int64_t discarded = 0;  ///< expired leases with no attempts left
    std::int64_t promoted = 0;
    std::int64_t pruned = 0;
    std::int64_t cron_enqueued = 0;  ///< cron windows enqueued
    std::int64_t cron_skipped = 0;   ///< cron windows skipped by a misfire policy
    /// Workflows settled by the promoter: past their deadline (unfinished jobs cancelled), or
    /// finished without the completing transaction settling them.
    std::int64_t workflows_settled = 0;
};

/// Runs the maintenance services on an executor. The Store must outlive it.
class Scheduler {
  public:
    Scheduler(boost::asio::any_io_executor executor, Store& store, SchedulerOptions options = {});
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    /// Starts the periodic services. Returns at once.
    void start();
    /// Stops the services after the pass in progress. Returns at once.
    void request_stop();
    /// Stops, as an Asio asynchronous operation with signature void() that completes once every
    /// service has ended. Tokens as Worker::async_stop: none (boost::asio::use_awaitable) for
    /// `co_await scheduler.async_stop()`, use_future, deferred, or a callback `()`.
    template <class Token = boost::asio::use_awaitable_t<>>
    auto async_stop(Token&& token = {}) {
        return boost::asio::async_initiate<Token, void()>(
            [this](auto handler) {
                start_stop(boost::asio::any_completion_handler<void()>(std::move(handler)));
            },
            token);
    }
    /// Stops from a thread that does not run the executor; blocks until stopped.
    /// Returns at once when not running, or when the executor's io_context has stopped (then
    /// the stop is only requested, as by request_stop(): nothing could carry it out).
    void stop();

    /// Runs every service once, now, on the calling thread (blocking store calls).
    MaintenanceReport run_once();

    /// Rescue alone: expired leases -> retryable at now + backoff, or discarded.
    MaintenanceReport rescue_once();

    /// Cron alone: syncs the declared schedules on its first call, then handles every window
    /// due by now (the clock's), as the misfire policies say.
    MaintenanceReport cron_once();

  private:
    // The non-template half of async_stop, compiled in the library.
    void start_stop(boost::asio::any_completion_handler<void()> handler);

    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace jobq
