// Flow control end to end on a real SQLite file: cancellation reaching a running handler (in
// this process and from another), tenant-scoped clients, FlowControl, pause and resume,
// max_running split by weight, worker records, and explain on real cases.

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "harness.hpp"
#include "jobq/error.hpp"
#include "jobq/flow_control.hpp"

extern char** environ;

namespace asio = boost::asio;
using namespace std::chrono_literals;
using jobq::test::Harness;
using jobq::test::pause_for;
using nlohmann::json;

namespace {

// Runs the peer program (another process on the same database file) and returns its exit code.
int run_peer(const std::vector<std::string>& args) {
    std::vector<std::string> all{JOBQ_WORKER_TEST_PEER};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

jobq::ErrorCode code_of(const std::function<void()>& f, std::string* field = nullptr) {
    try {
        f();
    } catch (const jobq::Error& e) {
        if (field) *field = e.field();
        return e.code();
    }
    FAIL("no jobq::Error was thrown");
    return jobq::ErrorCode::storage;
}

// The most handlers seen running at once, per queue and in total.
struct Peaks {
    std::mutex mutex;
    std::map<std::string, int> now, peak;
    int total = 0, total_peak = 0;

    void enter(const std::string& queue) {
        std::lock_guard lock(mutex);
        peak[queue] = std::max(peak[queue], ++now[queue]);
        total_peak = std::max(total_peak, ++total);
    }
    void leave(const std::string& queue) {
        std::lock_guard lock(mutex);
        --now[queue];
        --total;
    }
    int peak_of(const std::string& queue) {
        std::lock_guard lock(mutex);
        return peak[queue];
    }
    int running_of(const std::string& queue) {
        std::lock_guard lock(mutex);
        return now[queue];
    }
};

}  // namespace

// ---- cancellation of a running job ------------------------------------------------------------

TEST_CASE(
    "cancelling a running job from a Queue in the same process cancels its handler as cancelled") {
    Harness h;
    std::atomic<bool> started{false};
    std::atomic<int> reason{-1};
    std::mutex reports_mutex;
    std::vector<jobq::AttemptReport> reports;
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
    // Leases and polls far away: only the cancellation's notification can reach the handler.
    h.start({.lease = 1h, .poll_interval = 1h, .on_attempt = [&](const jobq::AttemptReport& r) {
                 std::lock_guard lock(reports_mutex);
                 reports.push_back(r);
             }});
    h.wait_until([&] { return started.load(); }, "the handler to start");
    CHECK(h.queue.cancel(id).state == jobq::JobState::cancelled);
    h.wait_until([&] { return reason.load() >= 0; }, "the handler to be cancelled");
    CHECK(reason.load() == static_cast<int>(jobq::CancelReason::cancelled));
    h.wait_until([&] { return h.worker->counters().cancelled == 1; }, "the attempt to be counted");
    const jobq::WorkerCounters c = h.worker->counters();
    CHECK(c.fenced_out == 0);
    CHECK(c.running == 0);
    const jobq::Job job = *h.store.get(id);
    CHECK(job.state == jobq::JobState::cancelled);
    CHECK(job.errors.empty());  // the store cancelled it; the handler's outcome wrote nothing
    std::lock_guard lock(reports_mutex);
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].id == id);
    CHECK(reports[0].outcome == "cancel");
}

TEST_CASE("a handler that ignores a cancellation and returns success leaves its job cancelled") {
    Harness h;
    std::atomic<bool> started{false};
    std::atomic<bool> noticed{false};
    h.registry.add("stubborn", [&](jobq::JobContext& ctx) -> json {
        started = true;
        const auto until = std::chrono::steady_clock::now() + jobq::test::default_deadline;
        while (!ctx.cancel_requested() && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(1ms);  // a blocking handler polls, as documented
        }
        noticed = ctx.cancel_reason() == jobq::CancelReason::cancelled;
        return json{{"done", true}};  // and finishes anyway
    });
    const auto id = h.queue.enqueue(jobq::JobSpec{"stubborn"}).id;
    h.start({.lease = 1h, .poll_interval = 1h});
    h.wait_until([&] { return started.load(); }, "the handler to start");
    h.queue.cancel(id);
    h.wait_until([&] { return h.worker->counters().cancelled == 1; }, "the attempt to end");
    CHECK(noticed);
    CHECK(h.worker->counters().completed == 0);
    CHECK(h.worker->counters().fenced_out == 0);
    const jobq::Job job = *h.store.get(id);
    CHECK(job.state == jobq::JobState::cancelled);
    CHECK(job.result.is_null());
    CHECK(job.errors.empty());
}

TEST_CASE("a cancellation by another process is noticed by the next check of running jobs") {
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
    // SQLite's notifier stays in its process: a short poll interval is how the worker hears of
    // it (the lease alone would take 20 minutes).
    h.start({.lease = 1h, .poll_interval = 20ms});
    h.wait_until([&] { return started.load(); }, "the handler to start");
    REQUIRE(run_peer({"cancel", (h.dir.path() / "jobs.db").string(), std::to_string(id)}) == 0);
    h.wait_until([&] { return reason.load() >= 0; }, "the handler to be cancelled");
    CHECK(reason.load() == static_cast<int>(jobq::CancelReason::cancelled));
    h.wait_until([&] { return h.worker->counters().cancelled == 1; }, "the attempt to be counted");
    CHECK(h.worker->counters().fenced_out == 0);
    CHECK(h.store.get(id)->state == jobq::JobState::cancelled);
}

// ---- tenant-scoped clients ----------------------------------------------------------------

TEST_CASE("a tenant-scoped Queue cannot see, change or explain another tenant's job") {
    Harness h;
    jobq::Queue acme(h.store, {.tenant = "acme", .clock = &h.clock});
    const auto theirs = h.queue.enqueue(jobq::JobSpec{"report"}.tenant("globex")).id;
    const auto ours = acme.enqueue(jobq::JobSpec{"report"}).id;
    CHECK(acme.tenant() == "acme");
    CHECK(h.store.get(ours)->tenant == "acme");  // stamped

    CHECK_FALSE(acme.get(theirs).has_value());
    CHECK(acme.get(ours).has_value());
    CHECK(code_of([&] { acme.cancel(theirs); }) == jobq::ErrorCode::not_found);
    CHECK(code_of([&] { acme.retry(theirs); }) == jobq::ErrorCode::not_found);
    CHECK(code_of([&] { acme.remove(theirs); }) == jobq::ErrorCode::not_found);
    CHECK(code_of([&] { acme.replay(theirs); }) == jobq::ErrorCode::not_found);
    CHECK(code_of([&] { acme.explain(theirs); }) == jobq::ErrorCode::not_found);
    CHECK(h.store.get(theirs)->state == jobq::JobState::available);  // untouched

    const jobq::JobPage page = acme.list({});
    REQUIRE(page.jobs.size() == 1);
    CHECK(page.jobs[0].id == ours);
    std::string field;
    CHECK(code_of([&] { acme.list({.tenant = "globex"}); }, &field) ==
          jobq::ErrorCode::invalid_argument);
    CHECK(field == "tenant");
    CHECK(code_of([&] { acme.replay_all({.tenant = "globex"}); }, &field) ==
          jobq::ErrorCode::invalid_argument);
    CHECK(code_of([&] { acme.stats(); }) == jobq::ErrorCode::invalid_state);
    CHECK(code_of([&] { acme.wait_reasons(); }) == jobq::ErrorCode::invalid_state);

    CHECK(acme.cancel(ours).state == jobq::JobState::cancelled);
}

TEST_CASE("a tenant-scoped Queue rejects a job for another tenant and writes nothing") {
    Harness h;
    jobq::Queue acme(h.store, {.tenant = "acme", .clock = &h.clock});
    const std::vector<jobq::JobSpec> specs{jobq::JobSpec{"a"}, jobq::JobSpec{"b"}.tenant("globex")};
    std::string field;
    CHECK(code_of([&] { acme.enqueue_many(specs); }, &field) == jobq::ErrorCode::invalid_argument);
    CHECK(field == "tenant");
    CHECK(h.queue.list({}).jobs.empty());
    CHECK(acme.enqueue(jobq::JobSpec{"c"}.tenant("acme")).id > 0);  // its own name is fine
    CHECK(code_of([] {
              jobq::test::TempDir d;
              jobq::SqliteStore s((d.path() / "x.db").string(), {.migrate = true});
              jobq::Queue bad(s, {.tenant = "two words"});
          }) == jobq::ErrorCode::invalid_argument);
}

TEST_CASE("a tenant's unique keys are its own when a scoped Queue stamps the tenant") {
    Harness h;
    jobq::Queue acme(h.store, {.tenant = "acme", .clock = &h.clock});
    jobq::Queue globex(h.store, {.tenant = "globex", .clock = &h.clock});
    const auto a = acme.enqueue(jobq::JobSpec{"sync"}.unique_key("nightly"));
    const auto b = globex.enqueue(jobq::JobSpec{"sync"}.unique_key("nightly"));
    const auto again = acme.enqueue(jobq::JobSpec{"sync"}.unique_key("nightly"));
    CHECK(a.id != b.id);
    CHECK(again.id == a.id);
}

// ---- FlowControl ----------------------------------------------------------------------------

TEST_CASE("FlowControl rejects bad limits and names, naming the field and writing nothing") {
    Harness h;
    jobq::FlowControl flow(h.store, h.clock);
    std::string field;
    CHECK(code_of([&] { flow.set(jobq::LimitScope::queue("two words"), {.max_running = 1}); },
                  &field) == jobq::ErrorCode::invalid_argument);
    CHECK(field == "scope");
    CHECK(code_of([&] { flow.set(jobq::LimitScope::queue("mail"), {.max_running = 0}); }, &field) ==
          jobq::ErrorCode::invalid_argument);
    CHECK(field == "max_running");
    CHECK(code_of([&] { flow.set(jobq::LimitScope::kind("mail.send"), {.max_queued = 5}); },
                  &field) == jobq::ErrorCode::invalid_argument);
    CHECK(field == "max_queued");
    CHECK(code_of(
              [&] {
                  flow.set(jobq::LimitScope::tenant("acme"),
                           {.rate = jobq::RateLimit{.limit = 0, .period = 1s}});
              },
              &field) == jobq::ErrorCode::invalid_argument);
    CHECK(field == "rate.limit");
    CHECK(code_of([&] { flow.pause(""); }, &field) == jobq::ErrorCode::invalid_argument);
    CHECK(field == "queue");
    CHECK(code_of([&] { flow.resume("a\tb"); }, &field) == jobq::ErrorCode::invalid_argument);
    CHECK(field == "queue");
    CHECK(flow.list().empty());

    const jobq::LimitRecord r = flow.set(jobq::LimitScope::queue("mail"), {.max_running = 2});
    CHECK(r.scope == jobq::LimitScope::queue("mail"));
    CHECK(r.limits.max_running == 2);
    CHECK(flow.get(jobq::LimitScope::queue("mail")) == r);
    CHECK(flow.list().size() == 1);
    CHECK(flow.remove(jobq::LimitScope::queue("mail")));
    CHECK_FALSE(flow.remove(jobq::LimitScope::queue("mail")));
    CHECK(flow.list().empty());
}

TEST_CASE("FlowControl lists every queue with its jobs, row and workers") {
    Harness h;
    jobq::FlowControl flow(h.store, h.clock);
    h.queue.enqueue(jobq::JobSpec{"x"}.queue("jobs_only"));
    flow.set(jobq::LimitScope::queue("row_only"), {.max_running = 3});
    CHECK(flow.pause("paused_only"));
    CHECK_FALSE(flow.pause("paused_only"));
    h.start({.queues = {{"worker_only", 1}}, .poll_interval = 1h});
    h.wait_until([&] { return !flow.workers().empty(); }, "the worker's record");

    const std::vector<jobq::QueueInfo> queues = flow.queues();
    std::vector<std::string> names;
    for (const jobq::QueueInfo& q : queues) names.push_back(q.name);
    CHECK(names == std::vector<std::string>{"jobs_only", "paused_only", "row_only", "worker_only"});
    CHECK(queues[0].stats.count(jobq::JobState::available) == 1);
    CHECK_FALSE(queues[0].limits.has_value());
    CHECK(queues[1].paused);
    REQUIRE(queues[2].limits.has_value());
    CHECK(queues[2].limits->limits.max_running == 3);
    CHECK_FALSE(queues[2].paused);
    CHECK(queues[2].stats.queue == "row_only");
    CHECK(queues[3].workers == std::vector<std::string>{h.worker->id()});
}

// ---- pause, caps, weights -------------------------------------------------------------------

TEST_CASE("pausing a queue stops new starts in a running worker and resuming restarts them") {
    Harness h;
    jobq::FlowControl flow(h.store, h.clock);
    std::atomic<int> ran{0};
    h.registry.add("ping", [&](jobq::JobContext&) -> asio::awaitable<void> {
        ++ran;
        co_return;
    });
    // Polls far away: wake-ups from enqueue and resume are what move the worker.
    h.start({.queues = {{"held", 2}, {"open", 2}}, .poll_interval = 1h});
    const auto before = h.queue.enqueue(jobq::JobSpec{"ping"}.queue("held")).id;
    h.wait_for_state(before, jobq::JobState::completed);

    CHECK(flow.pause("held"));
    const auto held = h.queue.enqueue(jobq::JobSpec{"ping"}.queue("held")).id;
    // Enqueued after: the worker has looked at both queues once this one has run.
    const auto marker = h.queue.enqueue(jobq::JobSpec{"ping"}.queue("open")).id;
    h.wait_for_state(marker, jobq::JobState::completed);
    CHECK(h.store.get(held)->state == jobq::JobState::available);
    CHECK(h.queue.explain(held).reason == jobq::WaitReason::queue_paused);

    CHECK(flow.resume("held"));
    CHECK_FALSE(flow.resume("held"));
    CHECK(h.wait_for_state(held, jobq::JobState::completed).attempt == 1);
    CHECK(ran.load() == 3);
}

TEST_CASE(
    "a queue's max_running holds across the worker's slots, and each completion starts the next") {
    Harness h;
    jobq::FlowControl flow(h.store, h.clock);
    flow.set(jobq::LimitScope::queue("capped"), {.max_running = 2});
    Peaks peaks;
    h.registry.add("work", [&](jobq::JobContext&) -> asio::awaitable<void> {
        peaks.enter("capped");
        co_await pause_for(2ms);
        peaks.leave("capped");
    });
    std::vector<jobq::JobSpec> specs(12, jobq::JobSpec{"work"}.queue("capped"));
    const auto ids = h.queue.enqueue_many(specs);
    // Ten free slots and a one-hour poll: only the store's wake-ups on completion keep it going.
    h.start({.queues = {{"capped", 10}}, .poll_interval = 1h});
    for (const auto& r : ids) h.wait_for_state(r.id, jobq::JobState::completed);
    CHECK(peaks.peak_of("capped") == 2);
    CHECK(flow.get(jobq::LimitScope::queue("capped"))->running == 0);
}

TEST_CASE("max_running shares a worker's slots among its queues by weight") {
    Harness h;
    std::atomic<bool> release{false};
    Peaks peaks;
    h.registry.add("hold", [&](jobq::JobContext& ctx) -> asio::awaitable<void> {
        peaks.enter(ctx.job().queue);
        while (!release) co_await pause_for(2ms);
        peaks.leave(ctx.job().queue);
    });
    std::vector<jobq::JobSpec> specs;
    for (int i = 0; i < 10; ++i) {
        specs.push_back(jobq::JobSpec{"hold"}.queue("heavy"));
        specs.push_back(jobq::JobSpec{"hold"}.queue("light"));
    }
    const auto ids = h.queue.enqueue_many(specs);
    h.start({.queues = {{"heavy", 10, 3}, {"light", 10, 1}}, .max_running = 4});
    h.wait_until([&] { return peaks.running_of("heavy") + peaks.running_of("light") == 4; },
                 "four handlers to run");
    CHECK(peaks.running_of("heavy") == 3);
    CHECK(peaks.running_of("light") == 1);
    release = true;
    for (const auto& r : ids) h.wait_for_state(r.id, jobq::JobState::completed);
    CHECK(peaks.total_peak == 4);
}

TEST_CASE("max_running and queue weights are validated with the field named") {
    Harness h;
    auto field_of = [&](jobq::WorkerOptions o) {
        std::string field = "(accepted)";
        code_of([&] { jobq::Worker w(h.io.get_executor(), h.store, h.registry, std::move(o)); },
                &field);
        return field;
    };
    CHECK(field_of({.max_running = -1}) == "max_running");
    CHECK(field_of({.queues = {{"a", 1, 0}}}) == "queues");
    CHECK(field_of({.queues = {{"a", 1, 101}}}) == "queues");
    jobq::Worker ok(h.io.get_executor(), h.store, h.registry,
                    {.queues = {{"a", 1, 100}, {"b", 2, 1}}, .max_running = 0});
}

TEST_CASE("a rate-limited queue starts what its bucket allows and counts the claims held back") {
    Harness h;
    jobq::FlowControl flow(h.store, h.clock);
    flow.set(jobq::LimitScope::queue("slow"), {.rate = jobq::RateLimit{.limit = 1, .period = 1h}});
    h.registry.add("ping", [](jobq::JobContext&) -> asio::awaitable<void> { co_return; });
    const auto first = h.queue.enqueue(jobq::JobSpec{"ping"}.queue("slow")).id;
    const auto second = h.queue.enqueue(jobq::JobSpec{"ping"}.queue("slow")).id;
    h.start({.queues = {{"slow", 5}}, .poll_interval = 1h});
    h.wait_for_state(first, jobq::JobState::completed);
    h.wait_until([&] { return h.worker->counters().throttled >= 1; }, "a throttled claim");
    CHECK(h.store.get(second)->state == jobq::JobState::available);
    const jobq::WaitExplanation why = h.queue.explain(second);
    CHECK(why.reason == jobq::WaitReason::rate_limited);
    CHECK(why.until.has_value());
}

// ---- worker records and explain ------------------------------------------------------------

TEST_CASE("a worker's record appears while it runs and disappears when it stops") {
    Harness h;
    jobq::FlowControl flow(h.store, h.clock);
    CHECK(flow.workers().empty());
    h.start({.queues = {{"mail", 1}, {"reports", 2}}, .poll_interval = 1h});
    h.wait_until([&] { return !flow.workers().empty(); }, "the worker's record");
    const std::vector<jobq::WorkerRecord> workers = flow.workers();
    REQUIRE(workers.size() == 1);
    CHECK(workers[0].id == h.worker->id());
    CHECK(workers[0].queues == std::vector<std::string>{"mail", "reports"});
    CHECK(workers[0].seen_at == h.clock.now());
    CHECK(workers[0].expires_at == h.clock.now() + std::chrono::seconds{30});
    h.worker->stop();
    CHECK(flow.workers().empty());
}

TEST_CASE("explain says why a job waits: no worker, queued behind others, paused, running") {
    Harness h;
    jobq::FlowControl flow(h.store, h.clock);
    const auto orphan = h.queue.enqueue(jobq::JobSpec{"x"}.queue("nobody")).id;
    jobq::WaitExplanation why = h.queue.explain(orphan);
    CHECK(why.reason == jobq::WaitReason::no_worker);
    CHECK(code_of([&] { h.queue.explain(orphan + 1000); }) == jobq::ErrorCode::not_found);

    std::atomic<bool> release{false};
    std::atomic<bool> started{false};
    h.registry.add("hold", [&](jobq::JobContext&) -> asio::awaitable<void> {
        started = true;
        while (!release) co_await pause_for(2ms);
    });
    const auto first = h.queue.enqueue(jobq::JobSpec{"hold"}.queue("one")).id;
    h.start({.queues = {{"one", 1}}, .poll_interval = 1h});
    h.wait_until([&] { return started.load(); }, "the first job to run");
    h.wait_until([&] { return !flow.workers().empty(); }, "the worker's record");
    const auto second = h.queue.enqueue(jobq::JobSpec{"hold"}.queue("one")).id;
    const auto third = h.queue.enqueue(jobq::JobSpec{"hold"}.queue("one")).id;

    CHECK(h.queue.explain(first).reason == jobq::WaitReason::running);
    CHECK(h.queue.explain(second).reason == jobq::WaitReason::ready);
    why = h.queue.explain(third);
    CHECK(why.reason == jobq::WaitReason::queued);
    CHECK(why.ahead == 1);

    CHECK(flow.pause("one"));
    why = h.queue.explain(third);
    CHECK(why.reason == jobq::WaitReason::queue_paused);
    CHECK(why.scope == jobq::LimitScope::queue("one"));

    const std::vector<jobq::WaitReasonCount> counts = h.queue.wait_reasons();
    CHECK(std::find(counts.begin(), counts.end(),
                    jobq::WaitReasonCount{"one", jobq::WaitReason::queue_paused, 2}) !=
          counts.end());
    CHECK(std::find(counts.begin(), counts.end(),
                    jobq::WaitReasonCount{"nobody", jobq::WaitReason::no_worker, 1}) !=
          counts.end());

    flow.resume("one");
    release = true;
    h.wait_for_state(third, jobq::JobState::completed);
    CHECK(h.queue.explain(third).reason == jobq::WaitReason::finished);
}
