// Connection loss: each case runs its own throwaway server (scripts/pg.sh) and stops or kills
// it under a live PostgresStore. While the server is down a store call fails fast as
// Error(unavailable) — no crash, no hang past connect_timeout; once it is back the same store
// object works again, its notifier hears wake-ups again, and a Worker and Scheduler that rode
// the outage out have lost no job and recorded each job's outcome once.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "jobq/error.hpp"
#include "jobq/job_context.hpp"
#include "jobq/postgres/postgres_store.hpp"
#include "jobq/queue.hpp"
#include "jobq/registry.hpp"
#include "jobq/scheduler.hpp"
#include "jobq/worker.hpp"
#include "pg_fixture.hpp"
#include "private_server.hpp"
#include "wake_log.hpp"

namespace jobq::pgtest {

namespace {

namespace asio = boost::asio;

constexpr auto connect_timeout = std::chrono::milliseconds{2000};
constexpr int pool_size = 4;

PostgresOptions server_options(bool migrate) {
    PostgresOptions o;
    o.schema = "jobq";
    o.pool_size = pool_size;
    o.connect_timeout = connect_timeout;
    o.migrate = migrate;
    return o;
}

/// Runs `call` and requires it to fail as Error(unavailable) within connect_timeout and some
/// slack for a loaded machine.
void require_unavailable(const char* what, const std::function<void()>& call) {
    INFO("store call: " << what);
    const auto start = SteadyClock::now();
    try {
        call();
        FAIL("the call succeeded while the server was down");
    } catch (const Error& e) {
        CHECK_MESSAGE(e.code() == ErrorCode::unavailable,
                      "code " << to_string(e.code()) << ": " << e.what());
    } catch (const doctest::detail::TestFailureException&) {
        throw;
    } catch (const std::exception& e) {
        FAIL("the call threw something other than jobq::Error: " << e.what());
    }
    CHECK(SteadyClock::now() - start < connect_timeout + std::chrono::seconds{10});
}

/// Calls `call` until it succeeds; returns how many times it failed as unavailable first.
/// Fails the test on any other error, or at the deadline.
int failures_until_success(const std::function<void()>& call,
                           SteadyClock::duration deadline = std::chrono::seconds{60}) {
    const auto until = SteadyClock::now() + deadline;
    int failures = 0;
    for (;;) {
        try {
            call();
            return failures;
        } catch (const Error& e) {
            REQUIRE_MESSAGE(e.code() == ErrorCode::unavailable,
                            "code " << to_string(e.code()) << ": " << e.what());
            ++failures;
            if (SteadyClock::now() > until) {
                FAIL("the store still fails " << failures
                                              << " calls after the restart: " << e.what());
            }
            std::this_thread::sleep_for(poll_period);
        }
    }
}

/// Every kind of call a worker, a scheduler and an operator make fails while the server is down.
void require_all_unavailable(PostgresStore& store, JobId known) {
    // More calls than the pool has connections: each dead one is met and dropped, then new
    // ones are tried and refused.
    for (int i = 0; i < 2 * pool_size + 2; ++i) {
        require_unavailable("get", [&] { store.get(known); });
    }
    require_unavailable("insert", [&] { insert_one(store, JobSpec{"pg.down"}); });
    require_unavailable("claim", [&] { claim_now(store, "default", 10, "down"); });
    require_unavailable("heartbeat", [&] {
        HeartbeatRequest req;
        req.jobs = {{known, 1}};
        req.worker_id = "down";
        req.lease_expires_at = system_clock().now();
        store.heartbeat(req);
    });
    require_unavailable("list", [&] { store.list(JobFilter{}); });
    require_unavailable("stats", [&] { store.stats(system_clock().now()); });
    require_unavailable("expired_leases", [&] { store.expired_leases(system_clock().now(), 10); });
    require_unavailable("promote_due", [&] { store.promote_due(system_clock().now()); });
    require_unavailable("schema_version", [&] { store.schema_version(); });
}

// What the handler of the worker test saw: every (job, attempt) it started.
struct StartRecords {
    std::mutex mutex;
    std::vector<std::pair<JobId, int>> starts;
    std::atomic<int> finished{0};

    void add(JobId id, int attempt) {
        std::lock_guard lock(mutex);
        starts.emplace_back(id, attempt);
    }
    std::vector<std::pair<JobId, int>> snapshot() {
        std::lock_guard lock(mutex);
        return starts;
    }
};

// A Worker and a Scheduler on a real clock, their io_context on a thread of their own. Stopping
// waits for every outcome to be written, so the server must be up by then; the destructor
// (reached early only by a failed test) starts it first.
struct Rig {
    PrivateServer& server;
    Store& store;
    Registry& registry;
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
    std::thread io_thread;
    std::atomic<int> worker_errors{0};
    std::atomic<int> scheduler_errors{0};
    std::mutex message_mutex;
    std::string last_worker_error;
    std::unique_ptr<Worker> worker;
    std::unique_ptr<Scheduler> scheduler;
    bool stopped = false;

    Rig(PrivateServer& s, Store& st, Registry& r, WorkerOptions wo, SchedulerOptions so)
        : server(s), store(st), registry(r) {
        wo.on_error = [this](const std::string& m) {
            ++worker_errors;
            std::lock_guard lock(message_mutex);
            last_worker_error = m;
        };
        so.on_error = [this](const std::string&) {
            ++scheduler_errors;
        };
        worker = std::make_unique<Worker>(io.get_executor(), store, registry, std::move(wo));
        scheduler = std::make_unique<Scheduler>(io.get_executor(), store, std::move(so));
        io_thread = std::thread([this] { io.run(); });
        worker->start();
        scheduler->start();
    }

    /// Stops both (once) and ends the io thread.
    void stop() {
        if (stopped) return;
        stopped = true;
        worker->stop();
        scheduler->stop();
        guard.reset();
        io_thread.join();
    }

    ~Rig() {
        server.ensure_running();
        stop();
    }
};

}  // namespace

TEST_SUITE_BEGIN("connection_loss");
TEST_CASE(
    "while the server is down store calls fail as unavailable, and the same store works once "
    "it is back") {
    PrivateServer server;
    PostgresStore store{server.url(), server_options(true)};
    const JobId before = insert_one(store, JobSpec{"pg.before"});

    // Fill the pool: several threads at once each hold a connection.
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < pool_size; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < 20; ++i) store.get(before);
            });
        }
    }

    SUBCASE("after a fast shutdown") {
        server.stop();
        require_all_unavailable(store, before);
        server.start();
    }
    SUBCASE("after an immediate shutdown") {
        server.kill();
        require_all_unavailable(store, before);
        server.start();
    }

    // The same object, not rebuilt: at most one failed call per dead pooled connection.
    const int failures = failures_until_success([&] { store.get(before); });
    MESSAGE(failures << " calls failed after the restart before one succeeded");
    CHECK(failures <= pool_size);
    for (int i = 0; i < 3 * pool_size; ++i) {
        const std::optional<Job> job = store.get(before);
        REQUIRE(job.has_value());  // committed before the stop: still there
        CHECK(job->kind == "pg.before");
    }
    check_round_trip(store, "after_restart");
    CHECK(store.schema_version() >= 1);
}

TEST_CASE("a subscription made before a restart hears wake-ups after it") {
    PrivateServer server;
    PostgresStore listener{server.url(), server_options(true)};
    PostgresStore writer{server.url(), server_options(false)};
    WakeLog wakes{listener.notifier()};
    prime({&wakes}, writer);

    server.stop();
    server.start();

    // The listener has to notice the loss, reconnect and LISTEN again; keep announcing work
    // until it hears some (a NOTIFY before its LISTEN is lost by design).
    const auto start = SteadyClock::now();
    prime_with(
        {&wakes}, "after_restart",
        [&] {
            try {
                insert_one(writer, JobSpec{"pg.ping"}.queue("after_restart"));
            } catch (const Error& e) {
                REQUIRE_MESSAGE(e.code() == ErrorCode::unavailable, e.what());
            }
        },
        std::chrono::seconds{90});
    MESSAGE("the subscription heard wake-ups again " << seconds_since(start)
                                                     << " s after the restart");
}

TEST_CASE("a worker and a scheduler ride out a server restart: every job completes, once") {
    constexpr int total = 2000;
    PrivateServer server;
    PostgresStore store{server.url(), server_options(true)};

    std::vector<JobSpec> specs;
    for (int i = 0; i < total; ++i) specs.push_back(JobSpec{"pg.record", {{"i", i}}});
    std::set<JobId> ids;
    {
        Queue queue{store};
        for (const EnqueueResult& r : queue.enqueue_many(specs)) ids.insert(r.id);
    }
    REQUIRE(ids.size() == total);

    auto records = std::make_shared<StartRecords>();
    Registry registry;
    registry.add("pg.record", [records](JobContext& ctx) -> asio::awaitable<void> {
        records->add(ctx.id(), ctx.attempt());
        // Long enough that the run spans the outage, short enough to finish in seconds.
        asio::steady_timer timer{co_await asio::this_coro::executor, std::chrono::milliseconds{20}};
        co_await timer.async_wait(asio::use_awaitable);
        ++records->finished;
    });

    const RetryPolicy quick =
        RetryPolicy::exponential(std::chrono::milliseconds{100}, 2.0, std::chrono::seconds{2});
    WorkerOptions wo;
    wo.queues = {{"default", 16}};
    wo.lease = std::chrono::seconds{2};
    wo.poll_interval = std::chrono::milliseconds{100};
    wo.shutdown_grace = std::chrono::seconds{10};
    wo.retry = quick;
    SchedulerOptions so;
    so.rescue_interval = std::chrono::milliseconds{500};
    so.promote_interval = std::chrono::milliseconds{100};
    so.retry = quick;

    const auto run_start = SteadyClock::now();
    Rig rig{server, store, registry, wo, so};

    wait_until([&] { return records->finished >= 300; }, "300 handlers to finish");
    const int finished_before_stop = records->finished;
    server.stop();
    const auto outage_start = SteadyClock::now();
    require_unavailable("get during the outage", [&] { store.get(*ids.begin()); });
    // Down for longer than a lease, so leases of running jobs run out meanwhile: after the
    // restart the rescuer and the worker's delayed outcomes meet at the fence.
    wait_until(
        [&] {
            return rig.worker_errors >= 3 &&
                   SteadyClock::now() - outage_start > wo.lease + std::chrono::milliseconds{500};
        },
        "the worker to notice the outage");
    server.start();
    const double outage = seconds_since(outage_start);

    auto completed = [&] {
        try {
            return count_in(store, JobState::completed);
        } catch (const Error& e) {
            REQUIRE_MESSAGE(e.code() == ErrorCode::unavailable, e.what());
            return std::int64_t{-1};  // the store is reconnecting; look again
        }
    };
    wait_until([&] { return completed() == total; }, std::to_string(total) + " completed jobs",
               [&] {
                   std::lock_guard lock(rig.message_mutex);
                   return "completed: " + std::to_string(completed()) +
                          ", last worker error: " + rig.last_worker_error;
               },
               std::chrono::seconds{300});
    const double run_time = seconds_since(run_start);
    rig.stop();
    const WorkerCounters counters = rig.worker->counters();

    // The store: every job once, completed; nothing left in flight.
    const std::vector<Job> jobs = all_jobs(store);
    REQUIRE(jobs.size() == total);
    std::set<JobId> stored;
    int rerun = 0;
    for (const Job& j : jobs) {
        stored.insert(j.id);
        CHECK_MESSAGE(j.state == JobState::completed,
                      "job " << j.id << " is " << to_string(j.state));
        if (j.attempt > 1) ++rerun;
    }
    CHECK(stored == ids);
    for (JobState s :
         {JobState::available, JobState::running, JobState::retryable, JobState::scheduled}) {
        CHECK_MESSAGE(count_in(store, s) == 0, to_string(s));
    }

    // The handlers: no attempt started twice, and the attempt that completed each job ran.
    std::map<std::pair<JobId, int>, int> started;
    for (const auto& key : records->snapshot()) ++started[key];
    for (const auto& [key, n] : started) {
        CHECK_MESSAGE(n == 1, "job " << key.first << " attempt " << key.second << " started " << n
                                     << " times");
    }
    for (const Job& j : jobs) {
        CHECK_MESSAGE(started.count({j.id, j.attempt}) == 1,
                      "job " << j.id << " completed by attempt " << j.attempt
                             << ", which no handler started");
    }

    CHECK(rig.worker_errors > 0);
    MESSAGE(finished_before_stop << " handlers finished before the stop; outage " << outage
                                 << " s; all " << total << " completed after " << run_time << " s; "
                                 << rerun << " jobs needed more than one attempt; "
                                 << rig.worker_errors.load() << " worker and "
                                 << rig.scheduler_errors.load()
                                 << " scheduler store errors; worker completed "
                                 << counters.completed << ", fenced out " << counters.fenced_out);
}

TEST_SUITE_END();  // connection_loss

}  // namespace jobq::pgtest
