// The Scheduler's services on a real SQLite file: rescue of expired leases, promotion of due
// jobs, pruning by retention; and that two schedulers never record one rescue twice.

#include <thread>

#include <doctest/doctest.h>

#include "harness.hpp"
#include "jobq/error.hpp"
#include "stop_check.hpp"

using namespace std::chrono_literals;
using jobq::test::exact_policy;
using jobq::test::Harness;

namespace {

// Claims the job as a worker that then "dies": nothing renews its lease.
jobq::Job claim_as_dead_worker(Harness& h, jobq::Duration lease) {
    jobq::ClaimRequest request;
    request.queues = {{"default", 1}};
    request.worker_id = "dead-worker";
    request.now = h.clock.now();
    request.lease_expires_at = request.now + lease;
    auto jobs = h.store.claim(request).jobs;
    REQUIRE(jobs.size() == 1);
    return jobs.front();
}

}  // namespace

TEST_CASE("the rescuer returns a job whose lease expired to retryable with a lease_expired error") {
    Harness h;
    const auto id = h.queue.enqueue(jobq::JobSpec{"k"}.max_attempts(3)).id;
    claim_as_dead_worker(h, 1s);
    jobq::Scheduler scheduler(h.io.get_executor(), h.store,
                              {.retry = exact_policy(5s), .clock = &h.clock});
    CHECK(scheduler.rescue_once().rescued == 0);  // the lease has not run out yet

    h.clock.advance(2s);
    const jobq::MaintenanceReport report = scheduler.rescue_once();
    CHECK(report.rescued == 1);
    CHECK(report.discarded == 0);
    const jobq::Job job = *h.store.get(id);
    CHECK(job.state == jobq::JobState::retryable);
    CHECK(job.run_at == h.clock.now() + 5s);
    CHECK_FALSE(job.lease_expires_at.has_value());
    REQUIRE(job.errors.size() == 1);
    CHECK(job.errors[0].kind == "lease_expired");
    CHECK(job.errors[0].attempt == 1);
    CHECK(job.errors[0].message.find("dead-worker") != std::string::npos);
}

TEST_CASE("an expired lease on a job with no attempts left discards it") {
    Harness h;
    const auto id = h.queue.enqueue(jobq::JobSpec{"k"}.max_attempts(1)).id;
    claim_as_dead_worker(h, 1s);
    h.clock.advance(2s);
    jobq::Scheduler scheduler(h.io.get_executor(), h.store, {.clock = &h.clock});
    const jobq::MaintenanceReport report = scheduler.rescue_once();
    CHECK(report.discarded == 1);
    CHECK(h.store.get(id)->state == jobq::JobState::discarded);
}

TEST_CASE("a late answer from the worker that lost its lease changes nothing") {
    Harness h;
    const auto id = h.queue.enqueue(jobq::JobSpec{"k"}).id;
    const jobq::Job claimed = claim_as_dead_worker(h, 1s);
    h.clock.advance(2s);
    jobq::Scheduler scheduler(h.io.get_executor(), h.store, {.clock = &h.clock});
    REQUIRE(scheduler.rescue_once().rescued == 1);

    jobq::Outcome late;
    late.id = id;
    late.attempt = claimed.attempt;
    late.worker_id = "dead-worker";
    late.kind = jobq::OutcomeKind::complete;
    late.at = h.clock.now();
    const jobq::Outcome outcomes[] = {late};
    CHECK(h.store.complete(outcomes) == std::vector<bool>{false});
    CHECK(h.store.get(id)->state == jobq::JobState::retryable);
}

TEST_CASE("two schedulers rescuing the same expired lease record it once") {
    Harness h;
    const auto id = h.queue.enqueue(jobq::JobSpec{"k"}).id;
    claim_as_dead_worker(h, 1s);
    h.clock.advance(2s);
    jobq::SqliteStore second((h.dir.path() / "jobs.db").string());
    jobq::Scheduler a(h.io.get_executor(), h.store, {.clock = &h.clock});
    jobq::Scheduler b(h.io.get_executor(), second, {.clock = &h.clock});
    std::int64_t rescued_a = 0, rescued_b = 0;
    std::thread ta([&] { rescued_a = a.rescue_once().rescued; });
    std::thread tb([&] { rescued_b = b.rescue_once().rescued; });
    ta.join();
    tb.join();
    CHECK(rescued_a + rescued_b == 1);
    CHECK(h.store.get(id)->errors.size() == 1);
}

TEST_CASE("the promoter makes due scheduled jobs available and leaves future ones") {
    Harness h;
    const auto due = h.queue.enqueue(jobq::JobSpec{"k"}.delay(10s)).id;
    const auto later = h.queue.enqueue(jobq::JobSpec{"k"}.delay(1h)).id;
    h.clock.advance(10s);
    jobq::Scheduler scheduler(h.io.get_executor(), h.store, {.clock = &h.clock});
    CHECK(scheduler.run_once().promoted == 1);
    CHECK(h.store.get(due)->state == jobq::JobState::available);
    CHECK(h.store.get(later)->state == jobq::JobState::scheduled);
}

TEST_CASE("the pruner deletes finished jobs past their retention and keeps the rest") {
    Harness h;
    h.registry.add("ok", [](jobq::JobContext&) -> boost::asio::awaitable<void> { co_return; });
    const auto old_job = h.queue.enqueue(jobq::JobSpec{"ok"}).id;
    h.start();
    h.wait_for_state(old_job, jobq::JobState::completed);
    h.worker->stop();
    h.clock.advance(2h);
    const auto unfinished = h.queue.enqueue(jobq::JobSpec{"ok"}).id;

    jobq::Scheduler scheduler(h.io.get_executor(), h.store,
                              {.retention = {.completed = 1h}, .clock = &h.clock});
    CHECK(scheduler.run_once().pruned == 1);
    CHECK_FALSE(h.store.get(old_job).has_value());
    CHECK(h.store.get(unfinished).has_value());
}

TEST_CASE("a started scheduler rescues on its own and stops when asked") {
    Harness h;
    const auto id = h.queue.enqueue(jobq::JobSpec{"k"}).id;
    claim_as_dead_worker(h, 1s);
    h.clock.advance(2s);
    jobq::Scheduler scheduler(h.io.get_executor(), h.store,
                              {.rescue_interval = 20ms, .clock = &h.clock});
    scheduler.start();
    h.wait_for_state(id, jobq::JobState::retryable);
    scheduler.stop();
}

TEST_CASE("scheduler options are validated with the offending field named") {
    Harness h;
    try {
        jobq::Scheduler s(h.io.get_executor(), h.store, {.rescue_interval = 0s});
        FAIL("accepted a zero interval");
    } catch (const jobq::Error& e) {
        CHECK(e.field() == "rescue_interval");
    }
}

TEST_CASE("stopping a stopped worker or scheduler again returns at once, run loop or not") {
    Harness h;
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    std::thread runner([&] { io.run(); });
    jobq::Worker worker(io.get_executor(), h.store, h.registry, {.clock = &h.clock});
    jobq::Scheduler scheduler(io.get_executor(), h.store, {.clock = &h.clock});
    worker.start();
    scheduler.start();
    worker.stop();
    scheduler.stop();
    guard.reset();
    io.stop();
    runner.join();
    // Nobody runs `io` any more: a stop that posted to its strand would wait for ever.
    worker.stop();
    scheduler.stop();
    CHECK_FALSE(worker.running());
}

// ---- stop() returns: it never waits on an executor nobody runs -----------------------------

using jobq::test::IoThread;
using jobq::test::require_returns_within;

TEST_CASE("stop() on a scheduler that was never started returns at once") {
    Harness h;
    IoThread ex;
    jobq::Scheduler scheduler(ex.io.get_executor(), h.store, {.clock = &h.clock});
    require_returns_within([&] { scheduler.stop(); }, "stop() without start()");
}

TEST_CASE("stop() from another thread while the executor runs returns once the scheduler stopped") {
    Harness h;
    IoThread ex;
    jobq::Scheduler scheduler(ex.io.get_executor(), h.store, {.clock = &h.clock});
    scheduler.start();
    require_returns_within([&] { scheduler.stop(); }, "stop() while io.run() runs elsewhere");
}

TEST_CASE("a second stop() of a scheduler returns at once") {
    Harness h;
    IoThread ex;
    jobq::Scheduler scheduler(ex.io.get_executor(), h.store, {.clock = &h.clock});
    scheduler.start();
    require_returns_within([&] { scheduler.stop(); }, "the first stop()");
    require_returns_within([&] { scheduler.stop(); }, "the second stop()");
}

TEST_CASE("stop() of a running scheduler whose io_context was stopped returns at once") {
    Harness h;
    IoThread ex;
    jobq::Scheduler scheduler(ex.io.get_executor(), h.store, {.clock = &h.clock});
    scheduler.start();
    ex.halt();  // io.stop(): nothing runs the scheduler's strand any more
    require_returns_within([&] { scheduler.stop(); }, "stop() after io.stop()");
    require_returns_within([&] { scheduler.stop(); }, "a second stop() after io.stop()");
}

TEST_CASE("a scheduler's request_stop() lets io.run() return; a later stop() is a no-op") {
    Harness h;
    boost::asio::io_context io;
    jobq::Scheduler scheduler(io.get_executor(), h.store, {.clock = &h.clock});
    scheduler.start();
    scheduler.request_stop();
    require_returns_within([&] { io.run(); }, "io.run() after request_stop()");
    require_returns_within([&] { scheduler.stop(); }, "stop() after io.run() returned");
}
