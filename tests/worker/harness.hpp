#pragma once
// A Worker on a real SQLite file in a temp directory, driven by a manual clock, with its
// io_context on a thread of its own. Waiting is a bounded poll of the store, never a sleep.

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <doctest/doctest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "jobq/queue.hpp"
#include "jobq/registry.hpp"
#include "jobq/scheduler.hpp"
#include "jobq/sqlite/sqlite_store.hpp"
#include "jobq/worker.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_until.hpp"

namespace jobq::test {

struct Harness {
    TempDir dir;
    SqliteStore store{(dir.path() / "jobs.db").string(), SqliteOptions{.migrate = true}};
    ManualClock clock{std::chrono::floor<Duration>(std::chrono::system_clock::now())};
    Registry registry;
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{
        io.get_executor()};
    std::thread io_thread;
    // After io: destroyed before it, as a Queue must be before the context its handlers run on
    // (its destructor waits for its store calls, which hold their handlers' executors).
    Queue queue{store, clock};
    std::unique_ptr<Worker> worker;

    Harness() : io_thread([this] { io.run(); }) {}
    ~Harness() {
        if (worker && worker->running()) worker->stop();
        worker.reset();
        guard.reset();
        io.stop();
        io_thread.join();
    }

    /// Starts a worker on the harness clock; a fast poll unless the options say otherwise.
    Worker& start(WorkerOptions options = {}) {
        options.clock = &clock;
        worker = std::make_unique<Worker>(io.get_executor(), store, registry, std::move(options));
        worker->start();
        return *worker;
    }

    /// Polls the job until `done` holds; fails the test at the deadline.
    Job wait_for(JobId id, const std::function<bool(const Job&)>& done,
                 std::chrono::steady_clock::duration deadline = default_deadline) {
        const auto until = std::chrono::steady_clock::now() + deadline;
        std::optional<Job> job;
        while (std::chrono::steady_clock::now() < until) {
            job = store.get(id);
            REQUIRE(job.has_value());
            if (done(*job)) return *job;
            std::this_thread::sleep_for(std::chrono::milliseconds{2});  // poll period, not sync
        }
        FAIL("job " << id << " did not reach the expected condition; last state "
                    << (job ? to_string(job->state) : "missing") << ", attempt "
                    << (job ? job->attempt : -1));
        return *job;
    }

    Job wait_for_state(JobId id, JobState state) {
        return wait_for(id, [state](const Job& j) { return j.state == state; });
    }

    /// Waits until the job leaves `running` after attempt `attempt` (its outcome is written).
    Job wait_for_attempt_end(JobId id, int attempt) {
        return wait_for(id, [attempt](const Job& j) {
            return j.attempt >= attempt && j.state != JobState::running;
        });
    }

    /// Waits until a predicate on the whole process holds (bounded).
    void wait_until(const std::function<bool()>& done, const char* what) {
        if (!poll_until(done, default_deadline, std::chrono::milliseconds{2})) {
            FAIL("timed out waiting for " << std::string(what));
        }
    }
};

/// An awaitable handler body that waits (cancellably) for `d`.
inline boost::asio::awaitable<void> pause_for(std::chrono::steady_clock::duration d) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
    co_await t.async_wait(boost::asio::use_awaitable);
}

/// A policy with no jitter, so delays are exact.
inline RetryPolicy exact_policy(Duration base) {
    return RetryPolicy::exponential(base, 2.0, std::chrono::hours{1}, 0.0);
}

}  // namespace jobq::test
