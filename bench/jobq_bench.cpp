// jobq-bench: repeatable workloads on a fresh database, one JSON line per run on stdout.
//
//   jobq-bench --db PATH_OR_URL --workload W --jobs N [--concurrency C] [--batch B]
//              [--interval-us U]
//   jobq-bench --db PATH_OR_URL --workload workflow [--workflows W] [--fanout F]
//              [--concurrency C]
//
// Workloads (what is timed):
//   bulk-enqueue  N jobs through Queue::enqueue_many in batches of B (default 1000)
//   enqueue       N jobs, one Queue::enqueue call each
//                 (both: C client threads, default 1, share the N jobs)
//   process       N no-op jobs are enqueued first (not timed); then one Worker with
//                 concurrency C (default 100) drains them: worker start -> last outcome
//                 committed; the store is then checked to hold N completed jobs
//   latency       a Worker (concurrency C, default 10) idles; N jobs are enqueued one at a
//                 time every U µs (default 2000) from another thread; enqueue call -> handler
//                 start, p50/p95/p99 in ms
//   store-loop    N no-op jobs are enqueued first (not timed); then one thread claims B
//                 (default 100) through Store::claim and completes them through
//                 Store::complete, in turn, until none is left (on a store that completes
//                 with claims, as a worker does: each batch's outcomes ride on the next
//                 claim): the store's own cost of claim+complete, without a worker
//   workflow      W workflows (default 100), each a root -> F children (default 100) -> one
//                 collector that waits for all the children, are enqueued first (not timed;
//                 W * (F + 2) jobs, 10,200 by default: --jobs is not taken, it is implied);
//                 then one Worker with concurrency C (default 100), set up as for `process`,
//                 runs them: worker start -> last outcome committed, jobs/s over all jobs.
//                 Children return a small result that each collector reads at claim time
//                 (JobContext::dependency_results). Also: per-workflow latency, root handler
//                 start -> collector handler end, p50/p95/max in ms. Checked afterwards:
//                 every job completed (none left pending), each collector ran exactly once
//                 and saw all F results, every workflow is `completed` in the store.
//                 Compare with `process --jobs W*(F+2)` (same worker, same C).
//   claim-cost    N available jobs are inserted (untimed; PostgreSQL is then vacuumed and
//                 analyzed, as autovacuum would have); 50 claims of B (default 10) jobs each
//                 are timed, p50/p95 in µs
//
// The database is deleted and created afresh, so runs do not depend on one another: SQLite
// deletes the file and its -wal/-shm; PostgreSQL drops the schema (DROP SCHEMA ... CASCADE) and
// migrates it anew. A SQLite URL may carry ?durability=normal|full. A PostgreSQL URL
// (postgresql://USER@HOST:PORT/DB) may carry ?schema=NAME (default here: jobq_bench, never the
// library's default "jobq", so a bench run cannot drop a real queue by accident) and
// ?pool_size=N (store connections; give at least --concurrency for the client workloads).

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "common/flag_value.hpp"
#include "common/open_store.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/error.hpp"
#include "jobq/job_context.hpp"
#include "jobq/queue.hpp"
#include "jobq/registry.hpp"
#include "jobq/worker.hpp"
#include "jobq/workflow_record.hpp"
#include "jobq/workflow_spec.hpp"

#ifdef JOBQ_TOOLS_HAVE_POSTGRES
#include <pqxx/pqxx>
#endif

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

using jobq::tools::BadArgs;
using jobq::tools::parse_integer_flag;

constexpr std::string_view usage =
    "usage: jobq-bench --db PATH_OR_URL --workload "
    "bulk-enqueue|enqueue|process|store-loop|latency|claim-cost|workflow\n"
    "                  --jobs N [--concurrency C] [--batch B] [--interval-us U]\n"
    "                  [--limits none|idle]\n"
    "                  workflow: [--workflows W] [--fanout F] instead of --jobs (W*(F+2) jobs;\n"
    "                  defaults 100 and 100)\n"
    "--limits idle sets a concurrency cap and a rate limit on the queue and the kind that are\n"
    "far above what the run reaches: the cost of limits that are configured but never bind.\n";

struct Options {
    std::string db;
    std::string workload;
    std::int64_t jobs = 0;
    int concurrency = 0;  // 0: the workload's default
    int batch = 0;        // 0: the workload's default
    int interval_us = 2000;
    std::string limits = "none";  // none | idle
    int workflows = 100;          // workflow only
    int fanout = 100;             // workflow only
};

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            fmt::print("{}", usage);
            std::exit(0);
        }
        if (i + 1 >= argc) throw BadArgs(fmt::format("{}: missing value", flag));
        const std::string_view value = argv[++i];
        if (flag == "--db") {
            o.db = value;
        } else if (flag == "--workload") {
            o.workload = value;
        } else if (flag == "--limits") {
            if (value != "none" && value != "idle") {
                throw BadArgs(fmt::format("--limits: expected none or idle, got '{}'", value));
            }
            o.limits = value;
        } else if (flag == "--jobs") {
            o.jobs = parse_integer_flag(flag, value, 1, std::numeric_limits<std::int64_t>::max());
        } else if (flag == "--concurrency") {
            o.concurrency = static_cast<int>(parse_integer_flag(flag, value, 1));
        } else if (flag == "--batch") {
            o.batch = static_cast<int>(parse_integer_flag(flag, value, 1));
        } else if (flag == "--workflows") {
            o.workflows = static_cast<int>(parse_integer_flag(flag, value, 1));
        } else if (flag == "--fanout") {
            o.fanout = static_cast<int>(parse_integer_flag(
                flag, value, 1, static_cast<std::int64_t>(jobq::max_workflow_jobs) - 2));
        } else if (flag == "--interval-us") {
            o.interval_us = static_cast<int>(parse_integer_flag(flag, value, 0));
        } else {
            throw BadArgs(fmt::format("unknown option '{}'", flag));
        }
    }
    if (o.db.empty()) throw BadArgs("--db is required (the database is deleted and recreated)");
    if (o.workload != "bulk-enqueue" && o.workload != "enqueue" && o.workload != "process" &&
        o.workload != "store-loop" && o.workload != "latency" && o.workload != "claim-cost" &&
        o.workload != "workflow") {
        throw BadArgs(fmt::format("--workload: unknown workload '{}'", o.workload));
    }
    if (o.workload == "workflow") {
        // The shape fixes the count; a --jobs that disagreed with it would mislead.
        if (o.jobs != 0) throw BadArgs("--jobs: workflow takes --workflows and --fanout");
        o.jobs = static_cast<std::int64_t>(o.workflows) * (o.fanout + 2);
    }
    if (o.jobs == 0) throw BadArgs("--jobs is required");
    if (o.batch == 0) {
        o.batch = o.workload == "claim-cost" ? 10 : o.workload == "store-loop" ? 100 : 1000;
    }
    if (o.concurrency == 0) {
        o.concurrency = o.workload == "process" || o.workload == "workflow" ? 100
                        : o.workload == "latency"                           ? 10
                                                                            : 1;
    }
    return o;
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

constexpr const char* default_bench_schema = "jobq_bench";

// The store under test and what every result line says about where it ran.
struct Target {
    std::unique_ptr<jobq::Store> store;
    std::string backend;
    std::string durability;   // sqlite only
    std::string pg_conninfo;  // postgres only: for the bench's own SQL (drop, vacuum)
    std::string pg_schema;
    int pg_pool_size = 0;
};

#ifdef JOBQ_TOOLS_HAVE_POSTGRES
void drop_schema(const std::string& conninfo, const std::string& schema) {
    pqxx::connection connection{conninfo};
    pqxx::nontransaction tx{connection};
    tx.exec0("DROP SCHEMA IF EXISTS " + tx.quote_name(schema) + " CASCADE");
}
#endif

Target open_fresh(const std::string& db) {
    jobq::tools::StoreLocation location = jobq::tools::parse_store_url(db);
    Target t;
    if (location.backend == jobq::tools::Backend::sqlite) {
        for (const char* suffix : {"", "-wal", "-shm"}) {
            std::filesystem::remove(location.sqlite_path + suffix);
        }
        t.backend = "sqlite";
        t.durability =
            location.sqlite_options.durability == jobq::SqliteDurability::full ? "full" : "normal";
    } else {
        t.backend = "postgres";
        if (!location.postgres_schema_given)
            location.postgres_options.schema = default_bench_schema;
        t.pg_conninfo = location.postgres_conninfo;
        t.pg_schema = location.postgres_options.schema;
        t.pg_pool_size = location.postgres_options.pool_size;
#ifdef JOBQ_TOOLS_HAVE_POSTGRES
        drop_schema(t.pg_conninfo, t.pg_schema);
#endif  // else open_store reports that the backend is not built in
    }
    t.store = jobq::tools::open_store(location);
    t.store->migrate();
    return t;
}

// Limits no run comes near: every claim and completion takes the flow-controlled path and
// keeps the counts and buckets, but none ever holds a job back.
void configure_idle_limits(jobq::Store& store) {
    jobq::FlowLimits limits;
    limits.max_running = 1'000'000;
    limits.rate = jobq::RateLimit{1'000'000'000, std::chrono::seconds{1}, 1'000'000'000};
    const jobq::Timestamp now = jobq::system_clock().now();
    store.set_limits(jobq::LimitScope::queue("default"), limits, now);
    store.set_limits(jobq::LimitScope::kind("bench.noop"), limits, now);
}

// After a bulk fill PostgreSQL has no statistics and no visibility map for the new rows until
// autovacuum reaches them, which it would do in the middle of the timed claims. A queue that
// has been running has both, so vacuum and analyze now, untimed. SQLite needs nothing.
void settle_after_fill(const Target& t) {
#ifdef JOBQ_TOOLS_HAVE_POSTGRES
    if (t.backend != "postgres") return;
    pqxx::connection connection{t.pg_conninfo};
    pqxx::nontransaction tx{connection};  // VACUUM cannot run inside a transaction block
    std::vector<std::string> tables;
    for (const pqxx::row& row :
         tx.exec_params("SELECT tablename FROM pg_tables WHERE schemaname = $1", t.pg_schema)) {
        tables.push_back(row[0].as<std::string>());
    }
    for (const std::string& table : tables) {
        tx.exec0("VACUUM (ANALYZE) " + tx.quote_name(t.pg_schema) + "." + tx.quote_name(table));
    }
#else
    (void)t;
#endif
}

// The fields every result line starts with: the workload and where it ran.
nlohmann::json line_head(const Options& o, const Target& t) {
    nlohmann::json j;
    j["workload"] = o.workload;
    j["backend"] = t.backend;
    if (o.limits != "none") j["limits"] = o.limits;
    if (!t.durability.empty()) j["durability"] = t.durability;
    if (!t.pg_schema.empty()) {
        j["schema"] = t.pg_schema;
        j["pool_size"] = t.pg_pool_size;
    }
    return j;
}

nlohmann::json result_line(const Options& o, const Target& t, std::int64_t jobs, double seconds) {
    nlohmann::json j = line_head(o, t);
    j["jobs"] = jobs;
    j["concurrency"] = o.concurrency;
    j["seconds"] = std::round(seconds * 1e4) / 1e4;
    j["jobs_per_sec"] = std::round(static_cast<double>(jobs) / seconds);
    return j;
}

// Splits `total` jobs over `threads` client threads and runs `work(count)` on each, timed from
// the first thread's start to the last one's end.
template <class Work>
double run_clients(std::int64_t total, int threads, Work work) {
    std::vector<std::thread> clients;
    const Clock::time_point start = Clock::now();
    for (int i = 0; i < threads; ++i) {
        const std::int64_t share = total / threads + (i < total % threads ? 1 : 0);
        clients.emplace_back([&work, share] { work(share); });
    }
    for (std::thread& c : clients) c.join();
    return seconds_between(start, Clock::now());
}

nlohmann::json bulk_enqueue(const Options& o, Target& t) {
    jobq::Queue queue{*t.store};
    // The specs are built once: the figure is the library's cost, not the caller's.
    const std::vector<jobq::JobSpec> batch(static_cast<std::size_t>(o.batch),
                                           jobq::JobSpec{"bench.noop"});
    const double s = run_clients(o.jobs, o.concurrency, [&](std::int64_t n) {
        for (std::int64_t done = 0; done < n;) {
            const std::int64_t k = std::min<std::int64_t>(o.batch, n - done);
            queue.enqueue_many(
                std::span<const jobq::JobSpec>(batch.data(), static_cast<std::size_t>(k)));
            done += k;
        }
    });
    nlohmann::json j = result_line(o, t, o.jobs, s);
    j["batch"] = o.batch;
    return j;
}

nlohmann::json enqueue_one_by_one(const Options& o, Target& t) {
    jobq::Queue queue{*t.store};
    const jobq::JobSpec spec{"bench.noop"};
    const double s = run_clients(o.jobs, o.concurrency, [&](std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i) queue.enqueue(spec);
    });
    return result_line(o, t, o.jobs, s);
}

std::int64_t count_in_state(jobq::Store& store, jobq::JobState state) {
    std::int64_t n = 0;
    for (const jobq::QueueStats& q : store.stats(jobq::system_clock().now())) n += q.count(state);
    return n;
}

// An io_context on a thread of its own, for the worker; the main thread drives and measures.
struct IoThread {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
    std::thread thread{[this] {
        io.run();
    }};
    ~IoThread() {
        guard.reset();
        thread.join();
    }
};

// Enqueues o.jobs no-op jobs in batches of 1000, untimed.
void enqueue_noops(const Options& o, Target& t) {
    jobq::Queue queue{*t.store};
    const std::vector<jobq::JobSpec> batch(1000, jobq::JobSpec{"bench.noop"});
    for (std::int64_t done = 0; done < o.jobs;) {
        const std::int64_t k = std::min<std::int64_t>(1000, o.jobs - done);
        queue.enqueue_many(
            std::span<const jobq::JobSpec>(batch.data(), static_cast<std::size_t>(k)));
        done += k;
    }
}

// Runs one Worker with concurrency C over the registry's kinds until o.jobs attempts have
// completed and their outcomes are committed; returns the seconds from worker start to the
// last commit. Throws when an attempt ends otherwise or the store refuses an outcome.
double run_worker(const Options& o, Target& t, jobq::Registry& registry) {
    IoThread runner;

    // The main thread sleeps through the run, so that it takes no CPU from the worker: it
    // wakes when the last handler has returned (or one did not complete), then polls briefly
    // for the last outcome to be committed.
    std::mutex mutex;
    std::condition_variable handlers_done;
    std::int64_t reported = 0;
    std::string failure;
    jobq::WorkerOptions options;
    options.queues = {{"default", o.concurrency}};
    options.on_error = [](const std::string& m) {
        fmt::print(stderr, "jobq-bench: worker: {}\n", m);
    };
    options.on_attempt = [&](const jobq::AttemptReport& r) {
        const std::lock_guard lock(mutex);
        if (r.outcome != "completed" && failure.empty()) {
            failure =
                fmt::format("job {} ended its attempt with '{}': {}", r.id, r.outcome, r.message);
        }
        if (++reported == o.jobs || !failure.empty()) handlers_done.notify_one();
    };
    jobq::Worker worker{runner.io.get_executor(), *t.store, registry, options};

    const Clock::time_point start = Clock::now();
    worker.start();
    {
        std::unique_lock lock(mutex);
        handlers_done.wait(lock, [&] { return reported == o.jobs || !failure.empty(); });
        if (!failure.empty()) throw std::runtime_error(failure);
    }
    // counters().completed moves once the store has committed the outcome.
    for (jobq::WorkerCounters c = worker.counters(); c.completed < o.jobs; c = worker.counters()) {
        if (c.fenced_out > 0) throw std::runtime_error("the store refused an outcome (fenced out)");
        std::this_thread::sleep_for(50us);
    }
    const double s = seconds_between(start, Clock::now());
    worker.stop();
    return s;
}

nlohmann::json process(const Options& o, Target& t) {
    enqueue_noops(o, t);

    jobq::Registry registry;
    registry.add("bench.noop", [](jobq::JobContext&) -> asio::awaitable<void> { co_return; });
    const double s = run_worker(o, t, registry);

    const std::int64_t completed = count_in_state(*t.store, jobq::JobState::completed);
    if (completed != o.jobs) {
        throw std::runtime_error(
            fmt::format("the store holds {} completed jobs, expected {}", completed, o.jobs));
    }
    nlohmann::json j = result_line(o, t, o.jobs, s);
    j["completed_in_store"] = completed;
    return j;
}

nlohmann::json store_loop(const Options& o, Target& t) {
    enqueue_noops(o, t);
    const jobq::Clock& clock = jobq::system_clock();
    // As a worker does: outcomes ride on the next claim when the store completes with claims.
    const bool merges = t.store->completes_with_claims();
    std::vector<jobq::Outcome> outcomes;
    std::int64_t done = 0;
    auto check = [&](const std::vector<bool>& applied) {
        if (std::count(applied.begin(), applied.end(), true) !=
            static_cast<std::ptrdiff_t>(outcomes.size())) {
            throw std::runtime_error("the store refused an outcome");
        }
        done += static_cast<std::int64_t>(outcomes.size());
        outcomes.clear();
    };
    const Clock::time_point start = Clock::now();
    for (;;) {
        jobq::ClaimRequest request;
        request.queues = {{"default", o.batch}};
        request.worker_id = "bench";
        request.now = clock.now();
        request.lease_expires_at = request.now + std::chrono::minutes{5};
        jobq::ClaimResult claimed;
        if (merges && !outcomes.empty()) {
            jobq::CompletedAndClaimed both = t.store->complete_and_claim(outcomes, request);
            check(both.applied);
            claimed = std::move(both.claimed);
        } else {
            claimed = t.store->claim(request);
        }
        const jobq::Timestamp now = clock.now();
        for (const jobq::Job& job : claimed.jobs) {
            jobq::Outcome outcome;
            outcome.id = job.id;
            outcome.attempt = job.attempt;
            outcome.worker_id = request.worker_id;
            outcome.at = now;
            outcomes.push_back(std::move(outcome));
        }
        if (claimed.jobs.empty() || !merges) {
            if (!outcomes.empty()) check(t.store->complete(outcomes));
            if (claimed.jobs.empty()) break;
        }
    }
    const double s = seconds_between(start, Clock::now());
    if (done != o.jobs) {
        throw std::runtime_error(fmt::format("completed {} jobs, expected {}", done, o.jobs));
    }
    nlohmann::json j = result_line(o, t, o.jobs, s);
    j["batch"] = o.batch;
    j["merged"] = merges;
    return j;
}

double percentile(const std::vector<double>& sorted, double p) {
    // Nearest rank: the smallest value with at least p% of the samples at or below it.
    const auto rank =
        static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

nlohmann::json latency(const Options& o, Target& t) {
    std::mutex mutex;
    std::vector<double> samples_ms;
    samples_ms.reserve(static_cast<std::size_t>(o.jobs));

    jobq::Registry registry;
    registry.add("bench.latency", [&](jobq::JobContext& ctx) -> asio::awaitable<void> {
        // steady_clock is one monotonic clock for every thread of the process.
        const auto now = Clock::now().time_since_epoch();
        const auto sent = std::chrono::nanoseconds{ctx.payload().at("t").get<std::int64_t>()};
        const std::lock_guard lock(mutex);
        samples_ms.push_back(std::chrono::duration<double, std::milli>(now - sent).count());
        co_return;
    });
    IoThread runner;
    jobq::WorkerOptions options;
    options.queues = {{"default", o.concurrency}};
    options.on_error = [](const std::string& m) {
        fmt::print(stderr, "jobq-bench: worker: {}\n", m);
    };
    jobq::Worker worker{runner.io.get_executor(), *t.store, registry, options};
    worker.start();
    // Let the worker make its first (empty) claim and go idle: we measure wake-ups, not start-up.
    std::this_thread::sleep_for(200ms);

    jobq::Queue queue{*t.store};
    const Clock::time_point start = Clock::now();
    Clock::time_point next = start;
    for (std::int64_t i = 0; i < o.jobs; ++i) {
        std::this_thread::sleep_until(next);
        const std::int64_t sent = std::chrono::nanoseconds{Clock::now().time_since_epoch()}.count();
        queue.enqueue(jobq::JobSpec{"bench.latency", {{"t", sent}}});
        next += std::chrono::microseconds{o.interval_us};
    }
    const Clock::time_point deadline = Clock::now() + 60s;
    for (;;) {
        {
            const std::lock_guard lock(mutex);
            if (static_cast<std::int64_t>(samples_ms.size()) >= o.jobs) break;
        }
        if (Clock::now() > deadline)
            throw std::runtime_error("latency: jobs did not all run within 60 s");
        std::this_thread::sleep_for(1ms);
    }
    const double s = seconds_between(start, Clock::now());
    worker.stop();

    std::sort(samples_ms.begin(), samples_ms.end());
    auto ms = [](double v) {
        return std::round(v * 1000.0) / 1000.0;
    };
    nlohmann::json j = result_line(o, t, o.jobs, s);
    j["interval_us"] = o.interval_us;
    j["p50_ms"] = ms(percentile(samples_ms, 50));
    j["p95_ms"] = ms(percentile(samples_ms, 95));
    j["p99_ms"] = ms(percentile(samples_ms, 99));
    j["max_ms"] = ms(samples_ms.back());
    return j;
}

// How long one claim takes with --jobs available jobs waiting: PERF.md holds it flat from 1k to
// 1M. The backlog is inserted untimed; then claim_rounds claims of --batch jobs are timed one by
// one (each followed by its completion, untimed), which drains at most a small part of it.
nlohmann::json claim_cost(const Options& o, Target& t) {
    constexpr int claim_rounds = 50;
    if (o.jobs < 2 * claim_rounds * o.batch) {
        throw BadArgs(fmt::format("--jobs: claim-cost needs at least {} jobs for --batch {}",
                                  2 * claim_rounds * o.batch, o.batch));
    }
    jobq::Queue queue{*t.store};
    const std::vector<jobq::JobSpec> chunk(10'000, jobq::JobSpec{"bench.noop"});
    for (std::int64_t done = 0; done < o.jobs;) {
        const std::int64_t k =
            std::min<std::int64_t>(static_cast<std::int64_t>(chunk.size()), o.jobs - done);
        queue.enqueue_many(
            std::span<const jobq::JobSpec>(chunk.data(), static_cast<std::size_t>(k)));
        done += k;
    }
    settle_after_fill(t);
    std::vector<double> samples_us;
    for (int round = 0; round < claim_rounds; ++round) {
        jobq::ClaimRequest request;
        request.queues = {{"default", o.batch}};
        request.worker_id = "claim-cost";
        request.now = jobq::system_clock().now();
        request.lease_expires_at = request.now + std::chrono::minutes{1};
        const Clock::time_point start = Clock::now();
        const std::vector<jobq::Job> jobs = t.store->claim(request).jobs;
        samples_us.push_back(seconds_between(start, Clock::now()) * 1e6);
        std::vector<jobq::Outcome> outcomes;
        for (const jobq::Job& job : jobs) {
            jobq::Outcome out;
            out.id = job.id;
            out.attempt = job.attempt;
            out.worker_id = request.worker_id;
            out.at = request.now;
            outcomes.push_back(std::move(out));
        }
        t.store->complete(outcomes);
    }
    std::sort(samples_us.begin(), samples_us.end());
    nlohmann::json j = line_head(o, t);
    j["available"] = o.jobs;
    j["batch"] = o.batch;
    j["rounds"] = claim_rounds;
    j["claim_p50_us"] = std::round(percentile(samples_us, 50) * 10) / 10;
    j["claim_p95_us"] = std::round(percentile(samples_us, 95) * 10) / 10;
    return j;
}

// W workflows of root -> F children -> collector, enqueued untimed; then one Worker set up as
// in process() runs them all. The children's results reach the collector through the claim
// (Job::upstream), so the claim-time read of dependency results is part of the figure.
nlohmann::json workflow(const Options& o, Target& t) {
    const auto workflows = static_cast<std::size_t>(o.workflows);
    const int fanout = o.fanout;
    {
        jobq::Queue queue{*t.store};
        for (std::size_t w = 0; w < workflows; ++w) {
            jobq::WorkflowSpec spec{fmt::format("bench-{}", w)};
            const nlohmann::json at{{"w", w}};
            spec.add("root", jobq::JobSpec{"bench.wf.root", at});
            std::vector<std::string> children;
            children.reserve(static_cast<std::size_t>(fanout));
            for (int c = 0; c < fanout; ++c) {
                children.push_back(fmt::format("c{}", c));
                spec.add(children.back(), jobq::JobSpec{"bench.wf.child", {{"c", c}}}, {"root"});
            }
            spec.add("collect", jobq::JobSpec{"bench.wf.collect", at}, std::move(children));
            queue.enqueue_workflow(spec);
        }
    }

    // Per workflow (by the payload's "w"): when its root started, when its collector ended,
    // how often the collector ran, and whether it saw every child's result.
    std::mutex times_mutex;
    std::vector<Clock::time_point> root_start(workflows), collect_end(workflows);
    std::vector<int> collector_runs(workflows, 0);
    std::vector<std::string> bad_inputs;
    // The sum of the children's "c" values that a collector must see: 0 + 1 + ... + F-1.
    const std::int64_t expected_sum = static_cast<std::int64_t>(fanout) * (fanout - 1) / 2;

    jobq::Registry registry;
    registry.add("bench.wf.root", [&](jobq::JobContext& ctx) -> asio::awaitable<void> {
        const auto w = ctx.payload().at("w").get<std::size_t>();
        const Clock::time_point now = Clock::now();
        const std::lock_guard lock(times_mutex);
        root_start.at(w) = now;
        co_return;
    });
    registry.add("bench.wf.child", [](jobq::JobContext& ctx) -> asio::awaitable<nlohmann::json> {
        co_return nlohmann::json{{"c", ctx.payload().at("c")}};
    });
    registry.add("bench.wf.collect", [&](jobq::JobContext& ctx) -> asio::awaitable<void> {
        const auto w = ctx.payload().at("w").get<std::size_t>();
        const nlohmann::json results = ctx.dependency_results();
        std::int64_t sum = 0;
        bool whole = results.size() == static_cast<std::size_t>(fanout);
        for (const auto& [name, result] : results.items()) {
            if (!result.is_object() || !result.contains("c")) {
                whole = false;
                break;
            }
            sum += result["c"].get<std::int64_t>();
        }
        const Clock::time_point now = Clock::now();
        const std::lock_guard lock(times_mutex);
        collect_end.at(w) = now;
        ++collector_runs.at(w);
        if ((!whole || sum != expected_sum) && bad_inputs.size() < 5) {
            bad_inputs.push_back(fmt::format("workflow {}: collector saw {} results summing to {}",
                                             w, results.size(), sum));
        }
        co_return;
    });
    const double s = run_worker(o, t, registry);

    // Checked untimed: the handlers' view first, then the store's.
    if (!bad_inputs.empty()) throw std::runtime_error(bad_inputs.front());
    for (std::size_t w = 0; w < workflows; ++w) {
        if (collector_runs[w] != 1) {
            throw std::runtime_error(
                fmt::format("workflow {}: its collector ran {} times", w, collector_runs[w]));
        }
    }
    std::int64_t completed = 0;
    for (const jobq::QueueStats& q : t.store->stats(jobq::system_clock().now())) {
        for (const jobq::JobState state : jobq::all_job_states) {
            const std::int64_t n = q.count(state);
            if (state == jobq::JobState::completed) {
                completed += n;
            } else if (n != 0) {
                throw std::runtime_error(
                    fmt::format("queue {}: {} jobs left {}", q.queue, n, jobq::to_string(state)));
            }
        }
    }
    if (completed != o.jobs) {
        throw std::runtime_error(
            fmt::format("the store holds {} completed jobs, expected {}", completed, o.jobs));
    }
    std::size_t finished_workflows = 0;
    {
        jobq::Queue queue{*t.store};
        jobq::WorkflowFilter filter;
        filter.limit = 500;
        for (;;) {
            const jobq::WorkflowPage page = queue.workflows(filter);
            for (const jobq::WorkflowSummary& w : page.workflows) {
                if (w.state != jobq::WorkflowState::completed) {
                    throw std::runtime_error(
                        fmt::format("workflow {} ended {}", w.name, jobq::to_string(w.state)));
                }
                ++finished_workflows;
            }
            if (!page.next_before_id) break;
            filter.before_id = page.next_before_id;
        }
    }
    if (finished_workflows != workflows) {
        throw std::runtime_error(fmt::format("the store lists {} completed workflows, expected {}",
                                             finished_workflows, workflows));
    }

    std::vector<double> latency_ms;
    latency_ms.reserve(workflows);
    for (std::size_t w = 0; w < workflows; ++w) {
        latency_ms.push_back(
            std::chrono::duration<double, std::milli>(collect_end[w] - root_start[w]).count());
    }
    std::sort(latency_ms.begin(), latency_ms.end());
    auto ms = [](double v) {
        return std::round(v * 10.0) / 10.0;
    };
    nlohmann::json j = result_line(o, t, o.jobs, s);
    j["workflows"] = o.workflows;
    j["fanout"] = o.fanout;
    j["completed_in_store"] = completed;
    j["workflow_p50_ms"] = ms(percentile(latency_ms, 50));
    j["workflow_p95_ms"] = ms(percentile(latency_ms, 95));
    j["workflow_max_ms"] = ms(latency_ms.back());
    return j;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    try {
        o = parse_args(argc, argv);
    } catch (const BadArgs& e) {
        fmt::print(stderr, "jobq-bench: {}\n{}", e.what(), usage);
        return 2;
    }
    try {
        Target target = open_fresh(o.db);
        if (o.limits == "idle") configure_idle_limits(*target.store);
        nlohmann::json line;
        if (o.workload == "bulk-enqueue") {
            line = bulk_enqueue(o, target);
        } else if (o.workload == "enqueue") {
            line = enqueue_one_by_one(o, target);
        } else if (o.workload == "process") {
            line = process(o, target);
        } else if (o.workload == "store-loop") {
            line = store_loop(o, target);
        } else if (o.workload == "claim-cost") {
            line = claim_cost(o, target);
        } else if (o.workload == "workflow") {
            line = workflow(o, target);
        } else {
            line = latency(o, target);
        }
        fmt::print("{}\n", line.dump());
        return 0;
    } catch (const BadArgs& e) {
        fmt::print(stderr, "jobq-bench: {}\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "jobq-bench: {}\n", e.what());
        return 1;
    }
}
