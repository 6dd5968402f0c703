// quickstart: the whole life of a job in one file.
//
// It creates quickstart.db in the current directory, enqueues three jobs — one that succeeds,
// one that fails twice and then succeeds, one that always fails — runs a Worker and a Scheduler
// until all three have settled, and prints what happened to each, and the dead-letter queue.
// Exit status 0 means every job ended as expected.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "jobq/job_context.hpp"
#include "jobq/queue.hpp"
#include "jobq/registry.hpp"
#include "jobq/scheduler.hpp"
#include "jobq/sqlite/sqlite_store.hpp"
#include "jobq/worker.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr const char* db_file = "quickstart.db";

// A fresh start every run: SQLite in WAL mode keeps two side files next to the database.
void remove_old_database() {
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(std::string(db_file) + suffix);
    }
}

void print_job(const jobq::Job& job) {
    fmt::print("  job {} {:<14} {:<10} attempts {}/{}\n", job.id, job.kind,
               jobq::to_string(job.state), job.attempt, job.max_attempts);
    for (const jobq::AttemptError& e : job.errors) {
        fmt::print("      attempt {} failed ({}): {}\n", e.attempt, e.kind, e.message);
    }
}

// A graceful stop: the worker first (it returns once every outcome is written), then the
// scheduler. Afterwards nothing is left to do on the io_context, so io.run() returns.
asio::awaitable<void> shut_down(jobq::Worker& worker, jobq::Scheduler& scheduler) {
    co_await worker.async_stop();
    co_await scheduler.async_stop();
}

}  // namespace

int main() try {
    // 1. A store: one SQLite file. migrate() creates the schema (and is safe to call again).
    remove_old_database();
    jobq::SqliteStore store{db_file};
    store.migrate();

    // 2. Handlers, by job kind. A handler that returns has succeeded; one that throws has
    //    failed this attempt, and the job is retried by its retry policy until it runs out of
    //    attempts and lands in the dead-letter queue (state "discarded").
    jobq::Registry registry;
    registry.add("greet", [](jobq::JobContext& ctx) -> asio::awaitable<void> {
        fmt::print("greet: hello, {}!\n", ctx.payload().at("name").get<std::string>());
        co_return;
    });
    registry.add("flaky", [](jobq::JobContext& ctx) -> asio::awaitable<void> {
        // ctx.attempt() counts this run (1-based), so attempts 1 and 2 fail, 3 succeeds.
        if (ctx.attempt() <= 2) {
            throw std::runtime_error(fmt::format("simulated outage on attempt {}", ctx.attempt()));
        }
        fmt::print("flaky: worked on attempt {}\n", ctx.attempt());
        co_return;
    });
    registry.add("broken", [](jobq::JobContext&) -> asio::awaitable<void> {
        throw std::runtime_error("this job never works");
        co_return;  // makes the lambda a coroutine
    });

    // 3. Enqueue. The default retry policy backs off from one second; a short constant policy
    //    keeps this example quick.
    jobq::Queue queue{store};
    const auto quick_retry = jobq::RetryPolicy::constant(200ms);
    const jobq::JobId greet_id = queue.enqueue(jobq::JobSpec{"greet", {{"name", "world"}}}).id;
    const jobq::JobId flaky_id =
        queue.enqueue(jobq::JobSpec{"flaky"}.max_attempts(5).retry_policy(quick_retry)).id;
    const jobq::JobId broken_id =
        queue.enqueue(jobq::JobSpec{"broken"}.max_attempts(3).retry_policy(quick_retry)).id;

    // 4. Run a Worker (fetches and runs jobs) and a Scheduler (maintenance: promotes retries
    //    that are due, rescues jobs whose worker died, prunes old finished jobs) on one
    //    io_context. on_attempt reports every attempt; we stop once each job has settled.
    asio::io_context io;
    std::map<jobq::JobId, std::string> settled;  // job -> its final outcome
    bool timed_out = false;
    asio::steady_timer deadline{io, 30s};

    jobq::Scheduler scheduler{io.get_executor(), store, {.promote_interval = 100ms}};
    jobq::WorkerOptions options;
    options.queues = {{"default", 5}};
    // The worker's own options stop it, so they reach it through a pointer set just below.
    jobq::Worker* worker_ptr = nullptr;
    bool stopping = false;
    auto stop_everything = [&] {
        if (std::exchange(stopping, true)) return;  // the deadline and the last job may race
        deadline.cancel();
        asio::co_spawn(io, shut_down(*worker_ptr, scheduler), asio::detached);
    };
    options.on_attempt = [&](const jobq::AttemptReport& r) {
        fmt::print("attempt {} of job {} ({}): {}{}\n", r.attempt, r.id, r.kind, r.outcome,
                   r.message.empty() ? "" : " — " + r.message);
        // "completed" and "discard" end a job; "retry" means it will run again.
        if (r.outcome == "completed" || r.outcome == "discard") {
            settled[r.id] = r.outcome;
            if (settled.size() == 3) stop_everything();
        }
    };
    jobq::Worker worker{io.get_executor(), store, registry, options};
    worker_ptr = &worker;

    // Never wait forever: if something goes wrong, stop after the deadline and say so.
    deadline.async_wait([&](boost::system::error_code ec) {
        if (ec) return;  // cancelled: everything settled in time
        timed_out = true;
        stop_everything();
    });

    worker.start();
    scheduler.start();
    io.run();  // returns when the worker and the scheduler have stopped

    // 5. What happened, as the store recorded it.
    fmt::print("\nfinal state of the jobs:\n");
    bool as_expected = !timed_out;
    auto check = [&](jobq::JobId id, jobq::JobState state, int attempts) {
        const std::optional<jobq::Job> job = queue.get(id);
        if (!job) {
            fmt::print("  job {} is missing!\n", id);
            as_expected = false;
            return;
        }
        print_job(*job);
        as_expected = as_expected && job->state == state && job->attempt == attempts;
    };
    check(greet_id, jobq::JobState::completed, 1);
    check(flaky_id, jobq::JobState::completed, 3);
    check(broken_id, jobq::JobState::discarded, 3);

    fmt::print("\ndead-letter queue:\n");
    const jobq::JobPage dead = queue.dead_letters();
    for (const jobq::Job& job : dead.jobs) print_job(job);
    as_expected = as_expected && dead.jobs.size() == 1 && dead.jobs.front().id == broken_id;

    if (timed_out) fmt::print("\nthe jobs did not settle within 30 s\n");
    fmt::print("\n{}\n", as_expected ? "all three jobs ended as expected"
                                     : "some job did not end as expected");
    return as_expected ? 0 : 1;
} catch (const std::exception& e) {
    fmt::print(stderr, "quickstart: {}\n", e.what());
    return 1;
}
