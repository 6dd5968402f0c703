// The Worker end to end on a real SQLite file: outcomes, retries under a manual clock,
// dead letters and replay, timeouts, graceful stop, cancellation, wake-ups.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <atomic>
#include <map>
#include <future>
#include <stdexcept>
#include <thread>

#include <doctest/doctest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "harness.hpp"
#include "jobq/error.hpp"
#include "jobq/signals.hpp"
#include "stop_check.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using jobq::test::exact_policy;
using jobq::test::Harness;
using jobq::test::pause_for;
using nlohmann::json;

namespace {

struct Email {
    std::string to;
};
void from_json(const json& j, Email& e) {
    j.at("to").get_to(e.to);
}

}  // namespace

TEST_CASE("a job whose handler returns is completed with its result stored") {
    Harness h;
    h.registry.add("echo", [](jobq::JobContext& ctx) -> asio::awaitable<json> {
        co_return json{{"got", ctx.payload().at("x")}};
    });
    const auto id = h.queue.enqueue(jobq::JobSpec{"echo", {{"x", 7}}}).id;
    h.start();
    const jobq::Job job = h.wait_for_state(id, jobq::JobState::completed);
    CHECK(job.result == json{{"got", 7}});
    CHECK(job.attempt == 1);
    CHECK(job.errors.empty());
    CHECK(job.finished_at == h.clock.now());
    CHECK(job.worker_id == h.worker->id());
}

TEST_CASE("a failing job is retried after exactly the policy's delays, then succeeds") {
    Harness h;
    std::atomic<int> calls{0};
    h.registry.add("flaky", [&](jobq::JobContext&) -> asio::awaitable<void> {
        if (++calls <= 2) throw std::runtime_error("boom");
        co_return;
    });
    const jobq::Timestamp t0 = h.clock.now();
    const auto id =
        h.queue.enqueue(jobq::JobSpec{"flaky"}.max_attempts(5).retry_policy(exact_policy(10s))).id;
    h.start({.poll_interval = std::chrono::hours{1}});

    jobq::Job job = h.wait_for_attempt_end(id, 1);
    CHECK(job.state == jobq::JobState::retryable);
    CHECK(job.run_at == t0 + 10s);
    REQUIRE(job.errors.size() == 1);
    CHECK(job.errors[0].attempt == 1);
    CHECK(job.errors[0].kind == "exception");
    CHECK(job.errors[0].message == "boom");

    h.clock.advance(10s);
    h.worker->wake();
    job = h.wait_for_attempt_end(id, 2);
    CHECK(job.state == jobq::JobState::retryable);
    CHECK(job.run_at == t0 + 10s + 20s);  // exponential: base * 2^(attempt-1)

    h.clock.advance(20s);
    h.worker->wake();
    job = h.wait_for_state(id, jobq::JobState::completed);
    CHECK(job.attempt == 3);
    CHECK(job.errors.size() == 2);
    CHECK(calls == 3);
}

TEST_CASE("a job out of attempts lands in the dead-letter queue, and a replay runs it again") {
    Harness h;
    std::atomic<bool> healthy{false};
    h.registry.add("fragile", [&](jobq::JobContext&) -> asio::awaitable<void> {
        if (!healthy) throw std::runtime_error("downstream is down");
        co_return;
    });
    const auto id = h.queue
                        .enqueue(jobq::JobSpec{"fragile"}.max_attempts(2).retry_policy(
                            jobq::RetryPolicy::constant(1s)))
                        .id;
    h.start({.poll_interval = std::chrono::hours{1}});
    h.wait_for_attempt_end(id, 1);
    h.clock.advance(1s);
    h.worker->wake();
    jobq::Job job = h.wait_for_state(id, jobq::JobState::discarded);
    CHECK(job.attempt == 2);
    CHECK(job.errors.size() == 2);
    CHECK(job.finished_at.has_value());
    const jobq::JobPage dead = h.queue.dead_letters();
    REQUIRE(dead.jobs.size() == 1);
    CHECK(dead.jobs[0].id == id);

    healthy = true;
    h.queue.replay(id);  // wakes the in-process worker through the notifier
    job = h.wait_for_state(id, jobq::JobState::completed);
    CHECK(job.attempt == 3);
    CHECK(job.max_attempts == 3);  // one more attempt was granted
    CHECK(h.queue.dead_letters().jobs.empty());
}

TEST_CASE("a handler that outlives its timeout is cancelled and the attempt fails as a timeout") {
    Harness h;
    std::atomic<bool> saw_cancel{false};
    h.registry.add("slow", [&](jobq::JobContext& ctx) -> asio::awaitable<void> {
        try {
            co_await pause_for(1h);
        } catch (...) {
            saw_cancel = ctx.cancel_reason() == jobq::CancelReason::timeout;
            throw;
        }
    });
    const auto id = h.queue.enqueue(jobq::JobSpec{"slow"}.timeout(50ms).max_attempts(1)).id;
    h.start();
    const jobq::Job job = h.wait_for_state(id, jobq::JobState::discarded);
    CHECK(saw_cancel);
    REQUIRE(job.errors.size() == 1);
    CHECK(job.errors[0].kind == "timeout");
    CHECK(job.errors[0].message == "timed out after 50ms");
}

TEST_CASE("a kind's timeout applies to jobs that set none") {
    Harness h;
    h.registry.add("slow",
                   [](jobq::JobContext&) -> asio::awaitable<void> { co_await pause_for(1h); },
                   {.timeout = 30ms});
    const auto id = h.queue.enqueue(jobq::JobSpec{"slow"}.max_attempts(1)).id;
    h.start();
    const jobq::Job job = h.wait_for_state(id, jobq::JobState::discarded);
    REQUIRE(job.errors.size() == 1);
    CHECK(job.errors[0].kind == "timeout");
}

TEST_CASE("a graceful stop lets a running handler finish within the grace period") {
    Harness h;
    std::atomic<bool> started{false};
    h.registry.add("short", [&](jobq::JobContext&) -> asio::awaitable<void> {
        started = true;
        co_await pause_for(200ms);
    });
    const auto id = h.queue.enqueue(jobq::JobSpec{"short"}).id;
    h.start({.shutdown_grace = 60s});
    h.wait_until([&] { return started.load(); }, "the handler to start");
    h.worker->stop();  // returns once every outcome is written
    CHECK_FALSE(h.worker->running());
    CHECK(h.store.get(id)->state == jobq::JobState::completed);
}

TEST_CASE(
    "a graceful stop cancels handlers still running after the grace period so they run again") {
    Harness h;
    std::atomic<int> started{0};
    h.registry.add("long", [&](jobq::JobContext&) -> asio::awaitable<void> {
        if (++started == 1) co_await pause_for(1h);  // only the first run hangs
    });
    const auto id = h.queue.enqueue(jobq::JobSpec{"long"}.max_attempts(3)).id;
    h.start({.shutdown_grace = 50ms});
    h.wait_until([&] { return started.load() == 1; }, "the handler to start");
    h.worker->stop();
    jobq::Job job = *h.store.get(id);
    CHECK(job.state == jobq::JobState::retryable);
    CHECK(job.run_at == h.clock.now());  // at once, not after a backoff
    CHECK(job.attempt == 1);
    CHECK(job.max_attempts == 4);  // the interrupted attempt is refunded
    REQUIRE(job.errors.size() == 1);
    CHECK(job.errors[0].kind == "shutdown");

    h.start();  // a new worker (as after a deploy) finishes it
    job = h.wait_for_state(id, jobq::JobState::completed);
    CHECK(job.attempt == 2);
}

TEST_CASE("a job of an unknown kind fails its attempt and succeeds once a handler is registered") {
    Harness h;
    const auto id =
        h.queue.enqueue(jobq::JobSpec{"later.kind"}.retry_policy(jobq::RetryPolicy::constant(1s)))
            .id;
    h.start({.poll_interval = std::chrono::hours{1}});
    jobq::Job job = h.wait_for_attempt_end(id, 1);
    CHECK(job.state == jobq::JobState::retryable);
    REQUIRE(job.errors.size() == 1);
    CHECK(job.errors[0].kind == "no_handler");
    CHECK(job.errors[0].message == "no handler registered for kind later.kind");

    h.registry.add("later.kind", [](jobq::JobContext&) -> asio::awaitable<void> { co_return; });
    h.clock.advance(1s);
    h.worker->wake();
    job = h.wait_for_state(id, jobq::JobState::completed);
    CHECK(job.attempt == 2);
}

TEST_CASE("a snoozed job runs again later without spending an attempt") {
    Harness h;
    std::atomic<int> calls{0};
    h.registry.add("patient", [&](jobq::JobContext&) -> asio::awaitable<void> {
        if (++calls == 1) throw jobq::Snooze(30s);
        co_return;
    });
    const jobq::Timestamp t0 = h.clock.now();
    const auto id = h.queue.enqueue(jobq::JobSpec{"patient"}.max_attempts(1)).id;
    h.start({.poll_interval = std::chrono::hours{1}});
    jobq::Job job = h.wait_for_attempt_end(id, 1);
    CHECK(job.state == jobq::JobState::scheduled);
    CHECK(job.run_at == t0 + 30s);
    CHECK(job.max_attempts == 2);
    CHECK(job.errors.empty());
    h.clock.advance(30s);
    h.worker->wake();
    job = h.wait_for_state(id, jobq::JobState::completed);
    CHECK(job.attempt == 2);
}

TEST_CASE("RetryAfter, Discard and Cancel signals decide the job's outcome") {
    Harness h;
    h.registry.add("later", [](jobq::JobContext&) -> asio::awaitable<void> {
        throw jobq::RetryAfter(5s, "rate limited upstream");
        co_return;
    });
    h.registry.add("poison", [](jobq::JobContext&) -> asio::awaitable<void> {
        throw jobq::Discard("payload refers to a deleted account");
        co_return;
    });
    h.registry.add("moot",
                   [](jobq::JobContext&) -> json { throw jobq::Cancel("user unsubscribed"); });
    const jobq::Timestamp t0 = h.clock.now();
    const auto later = h.queue.enqueue(jobq::JobSpec{"later"}).id;
    const auto poison = h.queue.enqueue(jobq::JobSpec{"poison"}).id;
    const auto moot = h.queue.enqueue(jobq::JobSpec{"moot"}).id;
    h.start({.poll_interval = std::chrono::hours{1}});

    jobq::Job job = h.wait_for_attempt_end(later, 1);
    CHECK(job.state == jobq::JobState::retryable);
    CHECK(job.run_at == t0 + 5s);
    REQUIRE(job.errors.size() == 1);
    CHECK(job.errors[0].kind == "retry");
    CHECK(job.errors[0].message == "rate limited upstream");

    job = h.wait_for_state(poison, jobq::JobState::discarded);
    CHECK(job.attempt == 1);  // attempts were left, the handler chose the dead-letter queue
    REQUIRE(job.errors.size() == 1);
    CHECK(job.errors[0].kind == "discard");
    CHECK(job.errors[0].message == "payload refers to a deleted account");

    job = h.wait_for_state(moot, jobq::JobState::cancelled);
    REQUIRE(job.errors.size() == 1);
    CHECK(job.errors[0].kind == "cancel");
    CHECK(job.errors[0].message == "user unsubscribed");
}

TEST_CASE("a plain-function handler runs off the executor's thread and its result is stored") {
    Harness h;
    const std::thread::id io_thread = h.io_thread.get_id();
    std::atomic<bool> off_executor{false};
    h.registry.add("cpu", [&](jobq::JobContext& ctx) -> json {
        off_executor = std::this_thread::get_id() != io_thread;
        return ctx.payload().at("n").get<int>() * 2;
    });
    const auto id = h.queue.enqueue(jobq::JobSpec{"cpu", {{"n", 21}}}).id;
    h.start();
    const jobq::Job job = h.wait_for_state(id, jobq::JobState::completed);
    CHECK(off_executor);
    CHECK(job.result == 42);
}

TEST_CASE(
    "a typed handler receives its payload converted, and a payload that does not convert fails the "
    "attempt") {
    Harness h;
    h.registry.add<Email>("email.send", [](Email e, jobq::JobContext&) -> asio::awaitable<json> {
        co_return json(e.to);
    });
    h.registry.add<Email>("email.count",
                          [](const Email& e, jobq::JobContext&) { return e.to.size(); });
    const auto ok = h.queue.enqueue(jobq::JobSpec{"email.send", {{"to", "a@example.com"}}}).id;
    const auto count = h.queue.enqueue(jobq::JobSpec{"email.count", {{"to", "abc"}}}).id;
    const auto bad =
        h.queue.enqueue(jobq::JobSpec{"email.send", {{"recipient", "x"}}}.max_attempts(1)).id;
    h.start();
    CHECK(h.wait_for_state(ok, jobq::JobState::completed).result == "a@example.com");
    CHECK(h.wait_for_state(count, jobq::JobState::completed).result == 3);
    const jobq::Job job = h.wait_for_state(bad, jobq::JobState::discarded);
    REQUIRE(job.errors.size() == 1);
    CHECK(job.errors[0].kind == "exception");
    CHECK(job.errors[0].message.find("to") != std::string::npos);
}

TEST_CASE("cancelling a running job cancels its handler and the job stays cancelled") {
    Harness h;
    std::atomic<bool> started{false};
    std::atomic<bool> told{false};
    h.registry.add("endless", [&](jobq::JobContext& ctx) -> asio::awaitable<void> {
        started = true;
        try {
            co_await pause_for(1h);
        } catch (...) {
            told = ctx.cancel_reason() == jobq::CancelReason::cancelled;
            throw;
        }
    });
    const auto id = h.queue.enqueue(jobq::JobSpec{"endless"}).id;
    h.start({.lease = 300ms});  // the notification or a heartbeat (every 100 ms) tells it
    h.wait_until([&] { return started.load(); }, "the handler to start");
    CHECK(h.queue.cancel(id).state == jobq::JobState::cancelled);
    h.wait_until([&] { return told.load(); }, "the handler to be cancelled");
    h.wait_until([&] { return h.worker->counters().cancelled == 1; }, "the attempt to be counted");
    CHECK(h.worker->counters().fenced_out == 0);  // a cancellation, not a lost lease
    const jobq::Job job = *h.store.get(id);
    CHECK(job.state == jobq::JobState::cancelled);
    CHECK(job.errors.empty());  // the refused outcome wrote nothing
}

TEST_CASE("a running job's lease is renewed by heartbeat, so the rescuer leaves it alone") {
    Harness h;
    std::atomic<bool> started{false};
    std::atomic<bool> release{false};
    h.registry.add("steady", [&](jobq::JobContext&) -> asio::awaitable<void> {
        started = true;
        while (!release) co_await pause_for(5ms);
    });
    const auto id = h.queue.enqueue(jobq::JobSpec{"steady"}).id;
    h.start({.lease = 300ms});
    h.wait_until([&] { return started.load(); }, "the handler to start");
    const jobq::Timestamp first_lease = *h.store.get(id)->lease_expires_at;
    h.clock.advance(1s);  // past the first lease
    h.wait_for(id, [&](const jobq::Job& j) {
        return j.lease_expires_at && *j.lease_expires_at > first_lease + 500ms;
    });
    jobq::Scheduler scheduler(h.io.get_executor(), h.store, {.clock = &h.clock});
    CHECK(scheduler.rescue_once().rescued == 0);
    release = true;
    CHECK(h.wait_for_state(id, jobq::JobState::completed).attempt == 1);
}

TEST_CASE(
    "a job whose lease is taken over while it runs has its handler told, and its outcome "
    "refused") {
    Harness h;
    std::atomic<bool> started{false};
    std::atomic<int> reason{-1};
    h.registry.add("endless", [&](jobq::JobContext& ctx) -> asio::awaitable<void> {
        started = true;
        try {
            co_await pause_for(1h);
        } catch (...) {
            reason = static_cast<int>(ctx.cancel_reason());
            throw;
        }
    });
    const auto id = h.queue.enqueue(jobq::JobSpec{"endless"}).id;
    // No notification says a lease was lost: the check of running jobs every poll interval
    // (SQLite) is how the worker learns it.
    h.start({.lease = 1h, .poll_interval = 20ms});
    h.wait_until([&] { return started.load(); }, "the handler to start");
    const jobq::Job running = *h.store.get(id);
    // What a rescuer in another process would write: the attempt is over, the job waits.
    jobq::Outcome rescue;
    rescue.id = id;
    rescue.attempt = running.attempt;
    rescue.worker_id = running.worker_id;
    rescue.kind = jobq::OutcomeKind::retry;
    rescue.at = h.clock.now();
    rescue.run_at = h.clock.now() + 1h;  // not again during the test
    rescue.error = jobq::AttemptError{running.attempt, h.clock.now(), "lease_expired", "taken"};
    const jobq::Outcome outcomes[] = {rescue};
    REQUIRE(h.store.complete(outcomes) == std::vector<bool>{true});
    h.wait_until([&] { return reason.load() >= 0; }, "the handler to be cancelled");
    CHECK(reason.load() == static_cast<int>(jobq::CancelReason::lease_lost));
    h.wait_until([&] { return h.worker->counters().fenced_out == 1; }, "the refused outcome");
    CHECK(h.worker->counters().cancelled == 0);  // a lost lease, not a cancellation
    const jobq::Job job = *h.store.get(id);
    CHECK(job.state == jobq::JobState::retryable);
    CHECK(job.errors.size() == 1);  // the rescue's; the worker's late outcome wrote nothing
}

TEST_CASE("an idle worker is woken by an enqueue through another store handle in the process") {
    Harness h;
    h.registry.add("ping", [](jobq::JobContext&) -> asio::awaitable<void> { co_return; });
    h.start({.poll_interval = std::chrono::hours{1}});  // polling cannot be what finds the job
    jobq::SqliteStore other((h.dir.path() / "jobs.db").string());
    jobq::Queue other_queue(other, h.clock);
    const auto id = other_queue.enqueue(jobq::JobSpec{"ping"}).id;
    CHECK(h.wait_for_state(id, jobq::JobState::completed).attempt == 1);
}

TEST_CASE("a worker runs at most its queue's concurrency at once and serves only its queues") {
    Harness h;
    std::atomic<int> now_running{0};
    std::atomic<int> peak{0};
    h.registry.add("busy", [&](jobq::JobContext&) -> asio::awaitable<void> {
        const int n = ++now_running;
        int p = peak.load();
        while (n > p && !peak.compare_exchange_weak(p, n)) {
        }
        co_await pause_for(5ms);
        --now_running;
    });
    std::vector<jobq::JobSpec> specs;
    for (int i = 0; i < 40; ++i) specs.push_back(jobq::JobSpec{"busy"}.queue("narrow"));
    const auto ids = h.queue.enqueue_many(specs);
    const auto elsewhere = h.queue.enqueue(jobq::JobSpec{"busy"}.queue("other")).id;
    h.start({.queues = {{"narrow", 3}}});
    for (const auto& r : ids) h.wait_for_state(r.id, jobq::JobState::completed);
    CHECK(peak.load() <= 3);
    CHECK(peak.load() >= 1);
    CHECK(h.store.get(elsewhere)->state == jobq::JobState::available);
}

TEST_CASE("Queue's awaitable forms run on the caller's executor") {
    Harness h;
    auto result = asio::co_spawn(
        h.io,
        [&]() -> asio::awaitable<std::pair<jobq::JobId, std::string>> {
            const auto r = co_await h.queue.async_enqueue(jobq::JobSpec{"async.kind"}.queue("q1"));
            const auto job = co_await h.queue.async_get(r.id);
            co_return std::pair{r.id, job ? job->queue : std::string{}};
        },
        asio::use_future);
    const auto [id, queue] = result.get();
    CHECK(id > 0);
    CHECK(queue == "q1");

    auto bad = asio::co_spawn(
        h.io, [&]() -> asio::awaitable<void> { co_await h.queue.async_enqueue(jobq::JobSpec{""}); },
        asio::use_future);
    CHECK_THROWS_AS(bad.get(), jobq::Error);
}

TEST_CASE("worker options are validated with the offending field named") {
    Harness h;
    auto field_of = [&](jobq::WorkerOptions o) {
        try {
            jobq::Worker w(h.io.get_executor(), h.store, h.registry, std::move(o));
        } catch (const jobq::Error& e) {
            CHECK(e.code() == jobq::ErrorCode::invalid_argument);
            return e.field();
        }
        return std::string{"(accepted)"};
    };
    CHECK(field_of({.queues = {}}) == "queues");
    CHECK(field_of({.queues = {{"a", 0}}}) == "queues");
    CHECK(field_of({.queues = {{"a", 1}, {"a", 2}}}) == "queues");
    CHECK(field_of({.lease = 0s}) == "lease");
    CHECK(field_of({.poll_interval = -1s}) == "poll_interval");
}

TEST_CASE("an on_attempt callback that throws does not stop the worker") {
    Harness h;
    h.registry.add("ok", [](jobq::JobContext&) -> asio::awaitable<void> { co_return; });
    std::vector<jobq::JobSpec> specs(5, jobq::JobSpec{"ok"});
    const auto ids = h.queue.enqueue_many(specs);
    std::atomic<int> reported{0};
    h.start({.queues = {{"default", 1}},
             .on_attempt = [](const jobq::AttemptReport&) { throw std::runtime_error("hook bug"); },
             .on_error =
                 [&](const std::string& m) {
                     if (m.find("hook bug") != std::string::npos) ++reported;
                 }});
    for (const auto& r : ids) h.wait_for_state(r.id, jobq::JobState::completed);
    CHECK(reported.load() == 5);
}

// ---- stop() returns: it never waits on an executor nobody runs -----------------------------

using jobq::test::IoThread;
using jobq::test::require_returns_within;

TEST_CASE("stop() on a worker that was never started returns at once") {
    Harness h;
    IoThread ex;
    jobq::Worker worker(ex.io.get_executor(), h.store, h.registry, {.clock = &h.clock});
    require_returns_within([&] { worker.stop(); }, "stop() without start()");
    CHECK_FALSE(worker.running());
}

TEST_CASE("stop() from another thread while the executor runs returns once the worker stopped") {
    Harness h;
    IoThread ex;
    jobq::Worker worker(ex.io.get_executor(), h.store, h.registry, {.clock = &h.clock});
    worker.start();
    require_returns_within([&] { worker.stop(); }, "stop() while io.run() runs elsewhere");
    CHECK_FALSE(worker.running());
}

TEST_CASE("a second stop() of a worker returns at once") {
    Harness h;
    IoThread ex;
    jobq::Worker worker(ex.io.get_executor(), h.store, h.registry, {.clock = &h.clock});
    worker.start();
    require_returns_within([&] { worker.stop(); }, "the first stop()");
    require_returns_within([&] { worker.stop(); }, "the second stop()");
    CHECK_FALSE(worker.running());
}

TEST_CASE("stop() of a running worker whose io_context was stopped returns at once") {
    Harness h;
    IoThread ex;
    jobq::Worker worker(ex.io.get_executor(), h.store, h.registry, {.clock = &h.clock});
    worker.start();
    ex.halt();  // io.stop(): nothing runs the worker's strand any more
    require_returns_within([&] { worker.stop(); }, "stop() after io.stop()");
    require_returns_within([&] { worker.stop(); }, "a second stop() after io.stop()");
}

TEST_CASE("stop() waiting for a running handler returns when its io_context stops under it") {
    Harness h;
    IoThread ex;
    std::atomic<bool> started{false};
    h.registry.add("hang", [&](jobq::JobContext&) -> asio::awaitable<void> {
        started = true;
        co_await pause_for(1h);
    });
    h.queue.enqueue(jobq::JobSpec{"hang"});
    jobq::Worker worker(ex.io.get_executor(), h.store, h.registry,
                        {.shutdown_grace = 1h, .clock = &h.clock});
    worker.start();
    h.wait_until([&] { return started.load(); }, "the handler to start");
    auto stopping = std::async(std::launch::async, [&] { worker.stop(); });
    // The handler holds the stop for its grace of an hour...
    CHECK(stopping.wait_for(100ms) == std::future_status::timeout);
    ex.halt();  // ...until the application stops the io_context.
    require_returns_within([&] { stopping.get(); }, "stop() after io.stop() while it waited");
}

TEST_CASE("a handler that calls request_stop() lets io.run() return; a later stop() is a no-op") {
    Harness h;
    asio::io_context io;
    std::unique_ptr<jobq::Worker> worker;
    std::atomic<int> ran{0};
    h.registry.add("once", [&](jobq::JobContext&) -> asio::awaitable<void> {
        ++ran;
        worker->request_stop();
        co_return;
    });
    const auto id = h.queue.enqueue(jobq::JobSpec{"once"}).id;
    worker = std::make_unique<jobq::Worker>(io.get_executor(), h.store, h.registry,
                                            jobq::WorkerOptions{.clock = &h.clock});
    worker->start();
    require_returns_within([&] { io.run(); }, "io.run() after request_stop()");
    CHECK(ran.load() == 1);
    CHECK(h.store.get(id)->state == jobq::JobState::completed);
    CHECK_FALSE(worker->running());
    require_returns_within([&] { worker->stop(); }, "stop() after io.run() returned");
}

TEST_CASE("a workflow runs in dependency order and each step reads its dependencies' results") {
    Harness h;
    h.registry.add("wf.extract", [](jobq::JobContext&) -> asio::awaitable<json> {
        co_return json{{"rows", 3}};
    });
    h.registry.add("wf.transform", [](jobq::JobContext& ctx) -> asio::awaitable<json> {
        const int rows = ctx.dependency_result("extract").at("rows").get<int>();
        co_return rows * ctx.payload().at("factor").get<int>();
    });
    h.registry.add("wf.load", [](jobq::JobContext& ctx) -> asio::awaitable<json> {
        CHECK_THROWS_AS(ctx.dependency_result("nope"), jobq::Error);
        co_return ctx.dependency_results();
    });
    const jobq::WorkflowInsert w = h.queue.enqueue_workflow(
        jobq::WorkflowSpec{"etl"}
            .add("load", jobq::JobSpec{"wf.load"}, {"double", "triple"})
            .add("extract", jobq::JobSpec{"wf.extract"})
            .add("double", jobq::JobSpec{"wf.transform", {{"factor", 2}}}, {"extract"})
            .add("triple", jobq::JobSpec{"wf.transform", {{"factor", 3}}}, {"extract"}));
    h.start();
    const jobq::Job load = h.wait_for_state(w.job_ids[0], jobq::JobState::completed);
    CHECK(load.result == json{{"double", 6}, {"triple", 9}});
    const std::optional<jobq::WorkflowRecord> rec = h.queue.workflow(w.id);
    REQUIRE(rec.has_value());
    CHECK(rec->summary.state == jobq::WorkflowState::completed);
    // Each step started only after what it waits for had finished.
    std::map<std::string, jobq::Job> by_step;
    for (const jobq::Job& j : rec->jobs) by_step[j.step] = j;
    CHECK(*by_step["double"].attempted_at >= *by_step["extract"].finished_at);
    CHECK(*by_step["load"].attempted_at >= *by_step["triple"].finished_at);
}
