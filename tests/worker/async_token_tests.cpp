// The async forms as Asio asynchronous operations: every Queue::async_* and the stops of Worker
// and Scheduler with each kind of completion token, errors as the exception_ptr, handlers on
// their own executor, and store calls on the thread pool an application supplies.

#include <atomic>
#include <csignal>
#include <exception>
#include <future>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "harness.hpp"
#include "jobq/error.hpp"
#include "jobq/signals.hpp"
#include "stop_check.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using jobq::test::Harness;
using jobq::test::IoThread;
using jobq::test::require_returns_within;

namespace {

// How a test runs one operation `op(token...)` and gets its answer as T (or its exception):
// one struct per kind of completion token, so each test runs once per kind.

struct ViaCallback {
    template <class T, class Op>
    static T call(Harness&, Op op) {
        std::promise<T> done;
        auto answer = done.get_future();
        if constexpr (std::is_void_v<T>) {
            op([&done](std::exception_ptr error) {
                if (error) {
                    done.set_exception(error);
                } else {
                    done.set_value();
                }
            });
        } else {
            op([&done](std::exception_ptr error, T value) {
                if (error) {
                    done.set_exception(error);
                } else {
                    done.set_value(std::move(value));
                }
            });
        }
        return answer.get();
    }
};

struct ViaFuture {
    template <class T, class Op>
    static T call(Harness&, Op op) {
        std::future<T> answer = op(asio::use_future);
        return answer.get();
    }
};

// In a coroutine, with the token named.
struct ViaUseAwaitable {
    template <class T, class Op>
    static T call(Harness& h, Op op) {
        auto body = [op]() -> asio::awaitable<T> {
            co_return co_await op(asio::use_awaitable);
        };
        return asio::co_spawn(h.io, std::move(body), asio::use_future).get();
    }
};

// In a coroutine, with no token at all: the default.
struct ViaDefaultToken {
    template <class T, class Op>
    static T call(Harness& h, Op op) {
        auto body = [op]() -> asio::awaitable<T> {
            co_return co_await op();
        };
        return asio::co_spawn(h.io, std::move(body), asio::use_future).get();
    }
};

// A deferred operation, launched later with a token of its own.
struct ViaDeferred {
    template <class T, class Op>
    static T call(Harness& h, Op op) {
        auto body = [op]() -> asio::awaitable<T> {
            auto later = op(asio::deferred);
            co_return co_await std::move(later)(asio::use_awaitable);
        };
        return asio::co_spawn(h.io, std::move(body), asio::use_future).get();
    }
};

// The code of the jobq::Error `f` throws; fails the test when it throws none.
template <class F>
jobq::ErrorCode error_code_of(F f) {
    try {
        f();
    } catch (const jobq::Error& e) {
        return e.code();
    }
    FAIL("no jobq::Error was thrown");
    return jobq::ErrorCode::unavailable;
}

// A clock that counts the reads made on a given executor's threads: Queue, Worker and
// Scheduler read the time inside their store calls, so this tells where those calls ran.
class ProbeClock final : public jobq::Clock {
  public:
    ProbeClock(const jobq::Clock& inner, asio::thread_pool& pool) : inner_(inner), pool_(pool) {}
    jobq::Timestamp now() const override {
        (pool_.get_executor().running_in_this_thread() ? on_pool_ : elsewhere_)++;
        return inner_.now();
    }
    int on_pool() const { return on_pool_.load(); }
    int elsewhere() const { return elsewhere_.load(); }

  private:
    const jobq::Clock& inner_;
    asio::thread_pool& pool_;
    mutable std::atomic<int> on_pool_{0};
    mutable std::atomic<int> elsewhere_{0};
};

// Waits for a future at most `deadline`; a hang fails the test instead of stalling the suite.
template <class T>
void require_ready(std::future<T>& f, const char* what,
                   std::chrono::seconds deadline = std::chrono::seconds{60}) {
    REQUIRE_MESSAGE(f.wait_for(deadline) == std::future_status::ready, what);
}

}  // namespace

TEST_CASE_TEMPLATE("every Queue async operation answers as its blocking form, whatever the token",
                   Via, ViaCallback, ViaFuture, ViaUseAwaitable, ViaDefaultToken, ViaDeferred) {
    Harness h;
    h.registry.add("doomed", [](jobq::JobContext&) -> asio::awaitable<void> {
        throw jobq::Discard("not today");
        co_return;
    });
    jobq::Queue& q = h.queue;

    const auto one = Via::template call<jobq::EnqueueResult>(h, [&](auto... token) {
        return q.async_enqueue(jobq::JobSpec{"k"}.queue("tokens"), token...);
    });
    CHECK(one.id > 0);
    CHECK_FALSE(one.duplicate);

    const auto two = Via::template call<std::vector<jobq::EnqueueResult>>(h, [&](auto... token) {
        std::vector<jobq::JobSpec> specs{jobq::JobSpec{"k"}.queue("tokens"),
                                         jobq::JobSpec{"k"}.queue("tokens")};
        return q.async_enqueue_many(std::move(specs), token...);
    });
    REQUIRE(two.size() == 2);
    CHECK(two[1].id > two[0].id);

    const auto got = Via::template call<std::optional<jobq::Job>>(
        h, [&](auto... token) { return q.async_get(one.id, token...); });
    REQUIRE(got.has_value());
    CHECK(got->queue == "tokens");

    const auto page = Via::template call<jobq::JobPage>(h, [&](auto... token) {
        return q.async_list(jobq::JobFilter{.queue = "tokens"}, token...);
    });
    CHECK(page.jobs.size() == 3);

    const auto cancelled = Via::template call<jobq::Job>(
        h, [&](auto... token) { return q.async_cancel(one.id, token...); });
    CHECK(cancelled.state == jobq::JobState::cancelled);

    const auto retried = Via::template call<jobq::Job>(
        h, [&](auto... token) { return q.async_retry(one.id, token...); });
    CHECK(retried.state == jobq::JobState::available);

    Via::template call<void>(h, [&](auto... token) { return q.async_remove(two[1].id, token...); });
    CHECK_FALSE(h.store.get(two[1].id).has_value());

    const auto stats = Via::template call<std::vector<jobq::QueueStats>>(
        h, [&](auto... token) { return q.async_stats(token...); });
    CHECK_FALSE(stats.empty());

    const auto reasons = Via::template call<std::vector<jobq::WaitReasonCount>>(
        h, [&](auto... token) { return q.async_wait_reasons(token...); });
    CHECK_FALSE(reasons.empty());

    const auto why = Via::template call<jobq::WaitExplanation>(
        h, [&](auto... token) { return q.async_explain(two[0].id, token...); });
    CHECK_FALSE(why.text.empty());

    // Two jobs in the dead-letter queue, for the dead-letter operations.
    const auto first = q.enqueue(jobq::JobSpec{"doomed"}.queue("dlq")).id;
    const auto second = q.enqueue(jobq::JobSpec{"doomed"}.queue("dlq")).id;
    h.start({.queues = {{"dlq", 2}}});
    h.wait_for_state(first, jobq::JobState::discarded);
    h.wait_for_state(second, jobq::JobState::discarded);
    h.worker->stop();

    const auto every_dead = Via::template call<jobq::JobPage>(
        h, [&](auto... token) { return q.async_dead_letters(token...); });
    CHECK(every_dead.jobs.size() == 2);
    const auto dead_here = Via::template call<jobq::JobPage>(h, [&](auto... token) {
        return q.async_dead_letters(jobq::JobFilter{.queue = "dlq"}, token...);
    });
    CHECK(dead_here.jobs.size() == 2);

    const auto replayed = Via::template call<jobq::Job>(
        h, [&](auto... token) { return q.async_replay(first, token...); });
    CHECK(replayed.state == jobq::JobState::available);
    const auto replayed_here = Via::template call<std::int64_t>(h, [&](auto... token) {
        return q.async_replay_all(jobq::JobFilter{.queue = "dlq"}, token...);
    });
    CHECK(replayed_here == 1);
    const auto replayed_none = Via::template call<std::int64_t>(
        h, [&](auto... token) { return q.async_replay_all(token...); });
    CHECK(replayed_none == 0);
}

TEST_CASE_TEMPLATE("a failed Queue async operation delivers the blocking form's jobq::Error", Via,
                   ViaCallback, ViaFuture, ViaUseAwaitable, ViaDefaultToken, ViaDeferred) {
    Harness h;
    jobq::Queue& q = h.queue;
    CHECK(error_code_of([&] {
              Via::template call<jobq::Job>(
                  h, [&](auto... token) { return q.async_cancel(424242, token...); });
          }) == jobq::ErrorCode::not_found);
    CHECK(error_code_of([&] {
              Via::template call<void>(
                  h, [&](auto... token) { return q.async_remove(424242, token...); });
          }) == jobq::ErrorCode::not_found);
    CHECK(error_code_of([&] {
              Via::template call<jobq::EnqueueResult>(
                  h, [&](auto... token) { return q.async_enqueue(jobq::JobSpec{""}, token...); });
          }) == jobq::ErrorCode::invalid_argument);
}

TEST_CASE("a callback gets the error as its exception_ptr and a default-constructed value") {
    Harness h;
    std::promise<std::pair<std::exception_ptr, jobq::Job>> done;
    auto answer = done.get_future();
    h.queue.async_retry(424242, [&done](std::exception_ptr error, jobq::Job job) {
        done.set_value({error, std::move(job)});
    });
    require_ready(answer, "the callback to run");
    const auto [error, job] = answer.get();
    REQUIRE(error != nullptr);
    CHECK(error_code_of([&] { std::rethrow_exception(error); }) == jobq::ErrorCode::not_found);
    CHECK(job.id == 0);

    std::promise<std::exception_ptr> ok;
    auto ok_answer = ok.get_future();
    h.queue.async_get(424242, [&ok](std::exception_ptr e, std::optional<jobq::Job> job) {
        ok.set_value(job ? std::make_exception_ptr(std::logic_error("a job")) : e);
    });
    require_ready(ok_answer, "the callback to run");
    CHECK(ok_answer.get() == nullptr);  // no such job is an answer, not an error
}

namespace {

// A payload nested far deeper than any limit: copying it as nlohmann does (recursively) would
// overflow the stack.
nlohmann::json far_too_deep() {
    nlohmann::json deep = nlohmann::json::object();
    nlohmann::json* leaf = &deep;
    for (int i = 0; i < 200'000; ++i) leaf = &((*leaf)["d"] = nlohmann::json::object());
    return deep;
}

}  // namespace

TEST_CASE("a spec too deep to copy is refused through the async path and on a tenant's Queue") {
    Harness h;
    const jobq::JobSpec spec{"k", far_too_deep()};
    // An lvalue: async_enqueue takes its spec by value, so this copies it at the call.
    std::promise<std::exception_ptr> done;
    auto answer = done.get_future();
    h.queue.async_enqueue(
        spec, [&done](std::exception_ptr error, jobq::EnqueueResult) { done.set_value(error); });
    require_ready(answer, "the callback to run");
    const std::exception_ptr error = answer.get();
    REQUIRE(error != nullptr);
    try {
        std::rethrow_exception(error);
    } catch (const jobq::Error& e) {
        CHECK(e.code() == jobq::ErrorCode::invalid_argument);
        CHECK(e.field() == "payload");
    }
    // A tenant-scoped Queue stamps its tenant on a copy of each spec.
    jobq::Queue tenant_queue{h.store, jobq::QueueOptions{.tenant = "acme"}};
    CHECK(error_code_of([&] { tenant_queue.enqueue(spec); }) == jobq::ErrorCode::invalid_argument);
    CHECK(h.store.stats(h.clock.now()).empty());  // nothing written
}

TEST_CASE("destroying a Queue from its own handler on the store's thread fails loudly, not hangs") {
    // A plain callback has no executor of its own, so it runs on the store's thread, inside
    // the call ~Queue would wait for. In a child process: it must abort with a message.
    int out[2];
    REQUIRE(pipe(out) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        dup2(out[1], 2);
        close(out[0]);
        jobq::test::TempDir dir;
        jobq::SqliteStore store{(dir.path() / "jobs.db").string(),
                                jobq::SqliteOptions{.migrate = true}};
        auto queue = std::make_unique<jobq::Queue>(store);
        queue->async_get(1,
                         [&queue](std::exception_ptr, std::optional<jobq::Job>) { queue.reset(); });
        // The abort ends the process; only a hang or a silent return reach the end.
        std::this_thread::sleep_for(20s);
        _exit(3);
    }
    close(out[1]);
    std::string message;
    char buffer[512];
    for (ssize_t n; (n = read(out[0], buffer, sizeof buffer)) > 0;) {
        message.append(buffer, static_cast<std::size_t>(n));
    }
    close(out[0]);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGABRT);
    CHECK(message.find("from a completion handler that ran there") != std::string::npos);
}

TEST_CASE("co_await with the default token takes a builder temporary and no filter at all") {
    // The forms applications write most, inside the co_await expression itself. (A braced
    // aggregate there, such as JobFilter{...}, is what GCC 12 destroys twice: it is named first,
    // as the README says.)
    Harness h;
    auto body = [&]() -> asio::awaitable<std::size_t> {
        const auto r =
            co_await h.queue.async_enqueue(jobq::JobSpec{"tmp"}.queue("tmp").priority(3));
        const jobq::JobFilter here{.queue = "tmp"};
        const auto page = co_await h.queue.async_list(here);
        const auto dead = co_await h.queue.async_dead_letters();
        const auto replayed = co_await h.queue.async_replay_all();
        co_await h.queue.async_remove(r.id);
        co_return page.jobs.size() + dead.jobs.size() + static_cast<std::size_t>(replayed);
    };
    CHECK(asio::co_spawn(h.io, std::move(body), asio::use_future).get() == 1);
}

TEST_CASE("a Queue async handler runs on its associated executor, not on the store's threads") {
    Harness h;
    const auto id = h.queue.enqueue(jobq::JobSpec{"k"}).id;

    auto strand = asio::make_strand(h.io);
    std::promise<bool> on_strand;
    auto answer = on_strand.get_future();
    h.queue.async_get(
        id, asio::bind_executor(strand, [&, strand](std::exception_ptr, std::optional<jobq::Job>) {
            on_strand.set_value(strand.running_in_this_thread());
        }));
    require_ready(answer, "the bound callback to run");
    CHECK(answer.get());

    auto body = [&]() -> asio::awaitable<bool> {
        co_await h.queue.async_get(id);
        co_return h.io.get_executor().running_in_this_thread();
    };
    CHECK(asio::co_spawn(h.io, std::move(body), asio::use_future).get());
}

TEST_CASE("a supplied thread pool runs the Queue's store calls, its own pool none") {
    Harness h;
    asio::thread_pool app_pool{1};
    ProbeClock probe(h.clock, app_pool);
    {
        jobq::Queue queue(h.store, {.clock = &probe, .store_executor = app_pool.get_executor()});
        const auto r = queue.async_enqueue(jobq::JobSpec{"k"}, asio::use_future).get();
        CHECK(queue.async_get(r.id, asio::use_future).get().has_value());
        CHECK(probe.on_pool() >= 1);  // enqueue reads the time inside its store call
        CHECK(probe.elsewhere() == 0);
    }
    ProbeClock other(h.clock, app_pool);
    {
        jobq::Queue queue(h.store, {.clock = &other});  // no store_executor: its private pool
        queue.async_enqueue(jobq::JobSpec{"k"}, asio::use_future).get();
        CHECK(other.on_pool() == 0);
        CHECK(other.elsewhere() >= 1);
    }
    app_pool.join();
}

TEST_CASE("a Queue's first async operations on several threads at once all complete") {
    Harness h;
    const auto id = h.queue.enqueue(jobq::JobSpec{"k"}).id;
    jobq::Queue fresh(h.store, h.clock);  // no pool yet: the first calls race to make it
    std::atomic<bool> go{false};
    std::vector<std::future<std::optional<jobq::Job>>> answers(8);
    std::vector<std::thread> threads;
    for (auto& answer : answers) {
        threads.emplace_back([&] {
            while (!go.load()) std::this_thread::yield();
            answer = fresh.async_get(id, asio::use_future);
        });
    }
    go = true;
    for (auto& t : threads) t.join();
    for (auto& answer : answers) {
        require_ready(answer, "a racing first call");
        CHECK(answer.get().has_value());
    }
}

TEST_CASE("destroying a Queue waits for its store calls in flight on the application's pool") {
    Harness h;
    const auto id = h.queue.enqueue(jobq::JobSpec{"k"}).id;
    asio::thread_pool app_pool{1};
    std::promise<void> gate;
    // The pool's one thread waits at the gate, so the store call queues behind it.
    asio::post(app_pool, [opened = gate.get_future().share()] { opened.wait(); });
    auto queue = std::make_unique<jobq::Queue>(
        h.store, jobq::QueueOptions{.clock = &h.clock, .store_executor = app_pool.get_executor()});
    std::atomic<bool> answered{false};
    queue->async_get(id, [&](std::exception_ptr, std::optional<jobq::Job>) { answered = true; });
    auto destroyed = std::async(std::launch::async, [&] {
        queue.reset();
        return answered.load();  // the destructor returned: the call must be over
    });
    gate.set_value();
    require_ready(destroyed, "the Queue's destructor");
    CHECK(destroyed.get());
    app_pool.join();
}

TEST_CASE("Worker::async_stop completes a callback, a future and a deferred operation") {
    Harness h;
    IoThread ex;
    SUBCASE("a callback, on the worker's executor when it has none of its own") {
        jobq::Worker worker(ex.io.get_executor(), h.store, h.registry, {.clock = &h.clock});
        worker.start();
        std::promise<bool> stopped;
        auto answer = stopped.get_future();
        worker.async_stop(
            [&] { stopped.set_value(ex.io.get_executor().running_in_this_thread()); });
        require_ready(answer, "the stop's callback");
        CHECK(answer.get());
        CHECK_FALSE(worker.running());
    }
    SUBCASE("use_future") {
        jobq::Worker worker(ex.io.get_executor(), h.store, h.registry, {.clock = &h.clock});
        worker.start();
        std::future<void> stopped = worker.async_stop(asio::use_future);
        require_ready(stopped, "the stop's future");
        stopped.get();
        CHECK_FALSE(worker.running());
    }
    SUBCASE("deferred, then awaited") {
        jobq::Worker worker(ex.io.get_executor(), h.store, h.registry, {.clock = &h.clock});
        worker.start();
        auto later = worker.async_stop(asio::deferred);
        CHECK(worker.running());  // a deferred operation starts only when launched
        auto body = [later = std::move(later)]() mutable -> asio::awaitable<void> {
            co_await std::move(later)(asio::use_awaitable);
        };
        auto stopped = asio::co_spawn(ex.io, std::move(body), asio::use_future);
        require_ready(stopped, "the deferred stop");
        stopped.get();
        CHECK_FALSE(worker.running());
    }
    SUBCASE("a callback on a worker that never started completes at once") {
        jobq::Worker worker(ex.io.get_executor(), h.store, h.registry, {.clock = &h.clock});
        std::promise<void> stopped;
        auto answer = stopped.get_future();
        worker.async_stop([&] { stopped.set_value(); });
        require_ready(answer, "the stop's callback");
    }
}

TEST_CASE("Scheduler::async_stop completes a callback and a future") {
    Harness h;
    IoThread ex;
    SUBCASE("a callback") {
        jobq::Scheduler scheduler(ex.io.get_executor(), h.store, {.clock = &h.clock});
        scheduler.start();
        std::promise<void> stopped;
        auto answer = stopped.get_future();
        scheduler.async_stop([&] { stopped.set_value(); });
        require_ready(answer, "the stop's callback");
    }
    SUBCASE("use_future") {
        jobq::Scheduler scheduler(ex.io.get_executor(), h.store, {.clock = &h.clock});
        scheduler.start();
        std::future<void> stopped = scheduler.async_stop(asio::use_future);
        require_ready(stopped, "the stop's future");
    }
}

TEST_CASE("a supplied thread pool runs the Worker's store calls") {
    Harness h;
    asio::thread_pool app_pool{2};
    ProbeClock probe(h.clock, app_pool);
    h.registry.add("k", [](jobq::JobContext&) -> asio::awaitable<void> { co_return; });
    const auto id = h.queue.enqueue(jobq::JobSpec{"k"}).id;
    // Not h.start(): it would put the harness clock back.
    h.worker = std::make_unique<jobq::Worker>(
        h.io.get_executor(), h.store, h.registry,
        jobq::WorkerOptions{.store_executor = app_pool.get_executor(), .clock = &probe});
    h.worker->start();
    h.wait_for_state(id, jobq::JobState::completed);
    h.worker->stop();
    // The claim hands the clock to the store, which reads it under its lock: on the pool.
    CHECK(probe.on_pool() > 0);
    h.worker.reset();
    app_pool.join();
}

TEST_CASE("a supplied thread pool runs the Scheduler's store calls") {
    Harness h;
    asio::thread_pool app_pool{1};
    ProbeClock probe(h.clock, app_pool);
    {
        jobq::Scheduler scheduler(h.io.get_executor(), h.store,
                                  {.clock = &probe, .store_executor = app_pool.get_executor()});
        scheduler.start();
        // Every pass reads the time inside its store call; the first ones run at start.
        h.wait_until([&] { return probe.on_pool() > 0; }, "a maintenance pass on the pool");
        scheduler.stop();
    }
    app_pool.join();
}
